"""``s.dataflow(loop)``: the kernel calls of a loop body run as tasks whose iterations overlap,
with the arrays of the body double-buffered (ping-pong) on the RTL targets. Results against
NumPy computed independently; cycles from the RTL simulation (Amaranth's simulator, and one
Verilator run)."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth_harness import run
from errhelp import Markers
from primhelp import lowering_error as build_error
from primhelp import schedule_errors

import allo_rtl as allo
from allo_rtl import ScheduleError
from allo_rtl.ir.types import int32

MARKS = Markers(__file__)
schedule_error = schedule_errors(MARKS)

T, N = 4, 16


def produce(A: int32[T, N], B: int32[N], t: int32):
    for i in range(N):
        B[i] = A[t, i] * 2


def consume(B: int32[N], C: int32[T, N], t: int32):
    for i in range(N):
        C[t, i] = B[N - 1 - i] + t


def two(A: int32[T, N], C: int32[T, N]):
    for t in range(T):
        B: int32[N] = 0
        produce(A, B, t)
        consume(B, C, t)


def two_want(A):
    return A[:, ::-1] * 2 + np.arange(T, dtype=np.int32)[:, None]


def schedule_two(dataflow: bool) -> allo.Schedule:
    s = allo.customize(two)
    s.pipeline("produce:i")
    s.pipeline("consume:i")
    if dataflow:
        s.dataflow("t")
    return s


def inputs():
    return np.arange(T * N, dtype=np.int32).reshape(T, N) * 7 - 100


def test_ping_pong_buffer_overlaps_iterations():
    A = inputs()
    cycles = {}
    for dataflow in (False, True):
        s = schedule_two(dataflow)
        C, R = np.zeros((T, N), np.int32), np.zeros((T, N), np.int32)
        s.build()(A.copy(), R)
        np.testing.assert_array_equal(R, two_want(A))
        _, cycles[dataflow] = run(s, A, C)
        np.testing.assert_array_equal(C, two_want(A))
    # sequential: T * (produce + consume); overlapped: about (T + 1) stages of one kernel
    assert cycles[True] <= 0.7 * cycles[False], cycles
    assert cycles[True] <= (T + 1) * (N + 6), cycles


def test_dataflow_loop_ir():
    from allo_rtl.lowering import lower

    names = [m.sym.name for m in lower(schedule_two(True).module).memories]
    assert "B" in names and "B_pong" in names  # the ping-pong copy
    text = str(schedule_two(True).module)
    assert "for t in range(0, 4):  # S_t_0.t range dataflow=True" in text
    assert "produce(A, B, int32(t))  # after consume (iteration -2)" in text
    assert "consume(B, C, int32(t))  # after produce" in text


def scale(A: int32[T, N], B: int32[N], t: int32):
    for i in range(N):
        B[i] = A[t, i] * 3


def reverse(B: int32[N], D: int32[N]):
    for i in range(N):
        D[i] = B[N - 1 - i] - 7


def store(D: int32[N], C: int32[T, N], t: int32):
    for i in range(N):
        C[t, i] = D[i] + t


def chain(A: int32[T, N], C: int32[T, N]):
    for t in range(T):
        B: int32[N] = 0
        D: int32[N] = 0
        scale(A, B, t)
        reverse(B, D)
        store(D, C, t)


@pytest.mark.parametrize("variant", ["sequential", "dataflow", "dataflow and stream"])
def test_three_stages_with_two_buffers_or_a_stream(variant):
    A = inputs()
    want = (A * 3)[:, ::-1] - 7 + np.arange(T, dtype=np.int32)[:, None]
    s = allo.customize(chain)
    for f in ("scale", "reverse", "store"):
        s.pipeline(f"{f}:i")
    if variant == "dataflow and stream":
        s.to("D", "store")  # the calls are in a loop body: the stream is declared there
    if variant != "sequential":
        s.dataflow("t")
    C, R = np.zeros((T, N), np.int32), np.zeros((T, N), np.int32)
    s.build()(A.copy(), R)
    np.testing.assert_array_equal(R, want)
    _, cycles = run(s, A, C)
    np.testing.assert_array_equal(C, want)
    bound = {
        "sequential": None,
        "dataflow": (T + 2) * (N + 6),
        "dataflow and stream": (T + 1) * (N + 8),
    }
    if bound[variant] is not None:
        assert cycles <= bound[variant], cycles


def keep(A: int32[T, N], S: int32[T, N], t: int32):
    for i in range(N):
        S[t, i] = A[t, i] + 1


def use(S: int32[T, N], C: int32[T, N], t: int32):
    for i in range(N):
        C[t, i] = S[t, i] * 5


def shared(A: int32[T, N], C: int32[T, N]):
    S: int32[T, N] = 0
    for t in range(T):
        keep(A, S, t)
        use(S, C, t)


def test_an_array_declared_outside_the_loop_keeps_iterations_apart():
    A = inputs()
    s = allo.customize(shared)
    s.dataflow("t")
    assert "keep(A, S, int32(t))  # after use (iteration -1)" in str(s.module)
    C = np.zeros((T, N), np.int32)
    run(s, A, C)
    np.testing.assert_array_equal(C, (A + 1) * 5)


def test_dataflow_loop_on_verilator():
    A = inputs()
    mod = schedule_two(True).build(target="verilator")
    C = np.zeros((T, N), np.int32)
    mod(A, C)
    np.testing.assert_array_equal(C, two_want(A))
    assert mod.cycles <= (T + 1) * (N + 6)


# -------------------------------------------------------------------------------------- errors


def mixed(A: int32[T, N], C: int32[T, N]):
    for t in range(T):
        B: int32[N] = 0
        produce(A, B, t)
        C[t, 0] = 1  # ERR:mixed_store
        consume(B, C, t)


def test_a_statement_in_the_loop_body_is_refused():
    s = allo.customize(mixed)
    with pytest.raises(ScheduleError) as info:
        s.dataflow("t")  # ERR:mixed
    assert str(info.value) == schedule_error(
        "mixed",
        "dataflow: the body of loop `t` may hold only kernel calls and the arrays passed "
        "between them, not a store statement",
        "mixed_store",
        "move the computation into a kernel called from the loop",
    )


def single(A: int32[T, N], B: int32[N]):
    for t in range(T):  # ERR:single_loop
        produce(A, B, t)


def test_a_loop_with_one_call_is_refused():
    s = allo.customize(single)
    with pytest.raises(ScheduleError) as info:
        s.dataflow("t")  # ERR:single
    assert str(info.value) == schedule_error(
        "single",
        "dataflow: loop `t` calls fewer than two kernels; there is nothing to overlap",
        "single_loop",
    )


def accumulate(B: int32[N], A: int32[T, N], t: int32):
    for i in range(N):
        B[i] = B[i] + A[t, i]


def partial_writer(A: int32[T, N], C: int32[T, N]):
    for t in range(T):  # ERR:partial_loop
        B: int32[N] = 0
        accumulate(B, A, t)
        consume(B, C, t)


def lowering_error(s):
    """The LoweringError of building ``s`` for the RTL (Amaranth's simulator)."""
    return build_error(lambda: run(s, inputs(), np.zeros((T, N), np.int32)))


def test_a_buffer_read_before_it_is_written_is_refused_on_rtl():
    s = allo.customize(partial_writer)
    s.dataflow("t")
    A = inputs()
    C = np.zeros((T, N), np.int32)
    s.build()(A, C)  # the NumPy target clears B each iteration
    np.testing.assert_array_equal(C, A[:, ::-1] + np.arange(T, dtype=np.int32)[:, None])
    assert lowering_error(s) == MARKS.expected(
        "partial_loop",
        "for",
        "dataflow loop `t`: the first kernel that takes `B` reads it before writing all of "
        "it; RTL targets double-buffer the arrays of a dataflow loop's body and do not clear "
        "them each iteration",
        "write every element of `B` first in that kernel, or declare `B` before the loop",
    )


def test_a_value_left_in_a_stream_of_a_dataflow_loop_is_an_error():
    """The hardware FIFO serves every iteration, so what one iteration leaves in it would reach
    the next: the NumPy target refuses it. (A `to` stream is always balanced; this one is
    unbalanced by hand in the IR: `reverse` puts every value twice.)"""
    from dataclasses import replace

    from allo_rtl.ir._nodes import For, walk

    s = allo.customize(chain)
    s.to("D", "store")
    s.dataflow("t")
    A, C = inputs(), np.zeros((T, N), np.int32)
    s.build()(A, C)  # balanced: fine
    fn = s.module.func(next(f.sym for f in s.module.funcs if f.sym.name == "reverse"))
    loop = next(n for n in walk(fn) if isinstance(n, For))
    twice = replace(
        fn, body=tuple(replace(b, body=b.body * 2) if b is loop else b for b in fn.body)
    )
    s.module = replace(s.module, funcs=tuple(twice if f is fn else f for f in s.module.funcs))
    with pytest.raises(allo.StreamError, match="an iteration of the dataflow loop in `chain` "
                       r"finished with values left in `D` \(16\)"):  # fmt: skip
        s.build()(A, C)
