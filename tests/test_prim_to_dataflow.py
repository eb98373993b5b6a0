"""``s.to(array, dst, depth)`` and ``s.dataflow(func)``: printed IR, results equal to NumPy
computed independently (NumPy target and Verilator), the 2mm acceptance figure, bank-port
conflicts of concurrent tasks, depths, exact ScheduleError messages and composition with
``pipeline``.

Compiled simulators go to pytest's cache directory (as in tests/test_dataflow_rtl.py), so a
rerun does not recompile; each design is built once per test process.
"""

# Local arrays are declared without a value (`T: int32[4]`) and passed to the kernels called
# next; an annotation without a value binds no name for pyflakes, so it reports every use as
# undefined.
# ruff: noqa: F821

from __future__ import annotations

import os

import numpy as np
import pytest
from errhelp import Markers
from primhelp import assert_ir, schedule_errors
from primhelp import lowering_error as build_error

import allo_rtl as allo
from allo_rtl import ScheduleError
from allo_rtl.ir import verify
from allo_rtl.ir.types import int32

MARKS = Markers(__file__)
schedule_error = schedule_errors(MARKS)


@pytest.fixture(scope="module", autouse=True)
def rtl_cache(request, tmp_path_factory):
    """Compiled simulators go to pytest's cache directory unless ALLO_RTL_CACHE is set."""
    with pytest.MonkeyPatch.context() as mp:
        if not os.environ.get("ALLO_RTL_CACHE"):
            cache = getattr(request.config, "cache", None)
            where = cache.mkdir("allo_rtl_sim") if cache else tmp_path_factory.mktemp("sim")
            mp.setenv("ALLO_RTL_CACHE", str(where))
        yield


# --------------------------------------------------------------------------------------------
# Kernels

# The example of primitives/to.py


def produce(A: int32[4], T: int32[4]):  # ERR:produce_def
    for i in range(0, 4):
        T[i] = A[i] + 1  # ERR:produce_store


def consume(T: int32[4], C: int32[4]):
    for i in range(0, 4):
        C[i] = T[i] * 2  # ERR:consume_load


def pc_top(A: int32[4], C: int32[4]):
    T: int32[4]
    produce(A, T)
    consume(T, C)


# The example of primitives/dataflow.py (f, g, h) and /tmp/df/seqdf.py (h shares no array)

DN = 8


def f(A: int32[DN], B: int32[DN]):
    for i in range(DN):
        B[i] = A[i] + 1


def g(B: int32[DN], C: int32[DN]):
    for i in range(DN):
        C[i] = B[i] * 3


def h(A: int32[DN], E: int32[DN]):  # ERR:h_def
    for i in range(DN):
        E[i] = A[i] - 5


def fgh_top(A: int32[DN], C: int32[DN], E: int32[DN]):
    B: int32[DN]
    f(A, B)
    g(B, C)
    h(A, E)


def g_scaled(B: int32[DN], C: int32[DN], k: int32):
    for i in range(DN):
        C[i] = B[i] * k


def h_alone(E: int32[DN]):
    for i in range(DN):
        E[i] = i * 3


def seq_top(A: int32[DN], C: int32[DN], E: int32[DN], k: int32):
    B: int32[DN]
    f(A, B)
    g_scaled(B, C, k + 1)
    h_alone(E)


# A fork: fk_f writes B, fk_g and fk_h both read it


def fk_f(A: int32[DN], B: int32[DN]):
    for i in range(DN):
        B[i] = A[i] * 7 - 2


def fk_g(B: int32[DN], C: int32[DN]):
    for i in range(DN):
        C[i] = B[i] + 10


def fk_h(B: int32[DN], E: int32[DN]):  # ERR:fk_h_def
    for i in range(DN):
        E[i] = B[i] * B[i]


def fork_top(A: int32[DN], C: int32[DN], E: int32[DN]):
    B: int32[DN]
    fk_f(A, B)
    fk_g(B, C)
    fk_h(B, E)


def fk_h_after_g(B: int32[DN], C: int32[DN], E: int32[DN]):
    for i in range(DN):
        E[i] = B[i] - C[i]


def fork_ordered_top(A: int32[DN], C: int32[DN], E: int32[DN]):
    B: int32[DN]
    fk_f(A, B)
    fk_g(B, C)
    fk_h_after_g(B, C, E)


# 2mm as /tmp/df/mm2.py: gemm1 streams T row by row to gemm2


def make_2mm(N):
    def gemm1(A: int32[N, N], B: int32[N, N], T: int32[N, N]):
        for i, j in allo.grid(N, N, name="row"):
            acc: int32 = 0
            for k in range(N):
                acc += A[i, k] * B[k, j]
            T[i, j] = acc

    def gemm2(T: int32[N, N], C: int32[N, N], D: int32[N, N]):
        row: int32[N] = 0
        for i in range(N):
            for k in range(N):
                row[k] = T[i, k]
            for j in range(N):
                acc: int32 = 0
                for k2 in range(N):
                    acc += row[k2] * C[k2, j]
                D[i, j] = acc

    def top(A: int32[N, N], B: int32[N, N], C: int32[N, N], D: int32[N, N]):
        T: int32[N, N]
        gemm1(A, B, T)
        gemm2(T, C, D)

    return top


# 2-D producer / consumers


def put2d(A: int32[4, 4], T: int32[4, 4]):
    for i, j in allo.grid(4, 4):
        T[i, j] = A[i, j] * 2 + 1


def get2d(T: int32[4, 4], C: int32[4, 4]):
    for i, j in allo.grid(4, 4):
        C[i, j] = T[i, j] - 3


def top2d(A: int32[4, 4], C: int32[4, 4]):
    T: int32[4, 4]
    put2d(A, T)
    get2d(T, C)


# Kernels the primitives refuse


def put_twice(A: int32[4], T: int32[4]):
    for i in range(4):
        T[i] = A[i]  # ERR:twice
    for i in range(4):
        T[i] = A[i] + 1


def twice_top(A: int32[4], C: int32[4]):
    T: int32[4]
    put_twice(A, T)
    consume(T, C)


def gemm_acc(A: int32[4, 4], B: int32[4, 4], T: int32[4, 4]):
    for i, j in allo.grid(4, 4):
        for k in range(4):
            T[i, j] += A[i, k] * B[k, j]  # ERR:acc


def acc_top(A: int32[4, 4], B: int32[4, 4], C: int32[4, 4]):
    T: int32[4, 4]
    gemm_acc(A, B, T)
    get2d(T, C)


def gemm_last(A: int32[4, 4], B: int32[4, 4], T: int32[4, 4]):
    for i, j in allo.grid(4, 4):
        for k in range(4):
            T[i, j] = A[i, k] * B[k, j]  # ERR:extra


def extra_top(A: int32[4, 4], B: int32[4, 4], C: int32[4, 4]):
    T: int32[4, 4]
    gemm_last(A, B, T)
    get2d(T, C)


def get_cols(T: int32[4, 4], C: int32[4, 4]):
    for j in range(4):
        for i in range(4):
            C[i, j] = T[i, j]  # ERR:cols


def cols_top(A: int32[4, 4], C: int32[4, 4]):
    T: int32[4, 4]
    put2d(A, T)
    get_cols(T, C)


def consume_again(T: int32[4], E: int32[4]):
    for i in range(4):
        E[i] = T[i] + 9


def three_top(A: int32[4], C: int32[4], E: int32[4]):
    T: int32[4]
    produce(A, T)
    consume(T, C)
    consume_again(T, E)


def self_top(A: int32[4], C: int32[4]):
    T: int32[4]
    produce(A, T)
    consume(T, C)
    C[0] = T[3]  # ERR:self


def called_twice_top(A: int32[4], C: int32[4], D: int32[4]):
    T: int32[4]
    produce(A, T)  # ERR:call_produce
    consume(T, C)
    produce(A, D)


def gap_top(A: int32[4], C: int32[4], D: int32[4]):
    T: int32[4]
    produce(A, T)
    D[0] = 7
    consume(T, C)  # ERR:gap


def first(A: int32[4]) -> int32:
    return A[0]


def copy1(A: int32[4], C: int32[4]):
    C[1] = A[1]


def returns_top(A: int32[4], C: int32[4]):
    copy1(A, C)
    first(A)  # ERR:returns
    copy1(A, C)


# The writer's store inside an `if` that holds another statement too


def put_in_if(A: int32[4], T: int32[4], C: int32[4]):
    for i in range(4):
        if i >= 0:
            C[i] = A[i] * 3
            T[i] = A[i] + 1


def if_top(A: int32[4], C: int32[4], D: int32[4]):
    T: int32[4]
    put_in_if(A, T, C)
    consume(T, D)


# The writer also writes an array the reader reads: the reader waits for the writer


def put_and_side(A: int32[4], T: int32[4], X: int32[4]):
    for i in range(4):
        T[i] = A[i] + 1
    for i in range(4):
        X[i] = A[i] * 5


def get_and_side(T: int32[4], X: int32[4], D: int32[4]):
    for i in range(4):
        D[i] = T[i] * 2 + X[i]


def side_top(A: int32[4], D: int32[4]):  # ERR:side_def
    T: int32[4]
    X: int32[4]
    put_and_side(A, T, X)  # ERR:side_call
    get_and_side(T, X, D)


# The stream inside a kernel that the top calls


def mid(A: int32[4], C: int32[4]):
    T: int32[4]
    produce(A, T)
    consume(T, C)


def outer(A: int32[4], C: int32[4]):
    mid(A, C)


# A chain of three kernels: two streams


def stage1(A: int32[4, 4], T1: int32[4, 4]):
    for i, j in allo.grid(4, 4):
        T1[i, j] = A[i, j] + i * 4 + j


def stage2(T1: int32[4, 4], T2: int32[4, 4]):
    for i, j in allo.grid(4, 4):
        T2[i, j] = T1[i, j] * 3


def stage3(T2: int32[4, 4], C: int32[4, 4]):
    for i, j in allo.grid(4, 4):
        C[i, j] = T2[i, j] - 1


def chain_top(A: int32[4, 4], C: int32[4, 4]):
    T1: int32[4, 4]
    T2: int32[4, 4]
    stage1(A, T1)
    stage2(T1, T2)
    stage3(T2, C)


# --------------------------------------------------------------------------------------------
# Helpers


def rand(*shape, seed=0, lo=-50, hi=50):
    return np.random.default_rng(seed).integers(lo, hi, size=shape).astype(np.int32)


def i32(x):
    """Wrap int64 results to int32, as the kernels do."""
    return np.asarray(x, np.int64).astype(np.int32)


_built: dict = {}


def built(key, make, target):
    """``make()`` (a schedule) built for ``target``, once per test process."""
    if (key, target) not in _built:
        _built[key, target] = make().build(target=target)
    return _built[key, target]


def lowering_error(s):
    """The LoweringError of building ``s`` for Verilator."""
    return build_error(lambda: s.build(target="verilator"))


def pc_schedule(depth=-1):
    s = allo.customize(pc_top)
    s.to("T", "consume", depth=depth)
    return s


def mm2_schedule(N, flow, depth=None):
    s = allo.customize(make_2mm(N))
    s.pipeline("gemm1:k")
    s.pipeline("gemm2:k2")
    s.pipeline("gemm2:k")
    if flow:
        s.to("T", "gemm2", depth=N if depth is None else depth)
        s.dataflow("top")
    return s


def mm2_inputs(N, seed=0):
    A, B, C = (rand(N, N, seed=seed + n) for n in range(3))
    want = i32(A.astype(np.int64) @ B.astype(np.int64) @ C.astype(np.int64))
    return A, B, C, want


def run_mm2(mod, N, seed=0):
    A, B, C, want = mm2_inputs(N, seed)
    D = np.zeros((N, N), np.int32)
    mod(A, B, C, D)
    np.testing.assert_array_equal(D, want)
    return getattr(mod, "cycles", None)


# --------------------------------------------------------------------------------------------
# 1. Printed IR; every step verifies


def test_ir_after_to_is_the_docstring_example():
    s = allo.customize(pc_top)
    s.to("T", "consume", depth=2)
    assert_ir(
        s,
        """
        def produce(A: int32[4], T: Stream[int32, 2]):
            for i in range(0, 4):  # S_i_0.i range
                T.put(int32((A[i] + 1)))

        def consume(T: Stream[int32, 2], C: int32[4]):
            for i in range(0, 4):  # S_i_0.i range
                T_get: int32 = T.get()
                C[i] = int32((T_get * 2))

        def pc_top(A: int32[4], C: int32[4]):
            dataflow:
                T: Stream[int32, 2]
                produce(A, T)
                consume(T, C)
        """,
    )
    assert verify(s.module) is s.module
    (step,) = s.history
    assert step.primitive == "to" and step.args[1:] == ("consume", 2)


def test_ir_after_dataflow_is_the_docstring_example():
    s = allo.customize(fgh_top)
    s.dataflow("fgh_top")
    text = str(s.module)
    assert text.endswith(
        "def fgh_top(A: int32[8], C: int32[8], E: int32[8]):\n"
        "    B: int32[8]\n"
        "    dataflow:\n"
        "        f(A, B)\n"
        "        g(B, C)  # after f\n"
        "        h(A, E)\n"
    )
    assert "Stream" not in text  # dataflow alone streams nothing
    verify(s.module)


def test_ir_2d_stream_fragments():
    s = allo.customize(top2d)
    s.to("T", "get2d")
    text = str(s.module)
    assert "def put2d(A: int32[4, 4], T: Stream[int32, 16]):" in text
    assert "T.put(int32(((A[i, j] * 2) + 1)))" in text
    assert "T_get: int32 = T.get()" in text
    assert "C[i, j] = int32((T_get - 3))" in text
    assert "    dataflow:\n        T: Stream[int32, 16]\n        put2d(A, T)\n" in text
    assert "T: int32[4, 4]" not in text  # the local array is gone
    verify(s.module)


def test_ir_fork_tasks_wait_for_the_writer_only():
    s = allo.customize(fork_top)
    s.dataflow("fork_top")
    text = str(s.module)
    assert "    dataflow:\n        fk_f(A, B)\n" in text
    assert "        fk_g(B, C)  # after fk_f\n" in text
    assert "        fk_h(B, E)  # after fk_f\n" in text  # not after fk_g: both only read B
    s2 = allo.customize(fork_ordered_top)
    s2.dataflow("fork_ordered_top")
    assert "        fk_h_after_g(B, C, E)  # after fk_f, fk_g\n" in str(s2.module)
    verify(s.module)
    verify(s2.module)


def test_ir_chain_of_two_streams_is_one_region():
    s = allo.customize(chain_top)
    s.to("T1", "stage2", depth=3)
    s.to("T2", "stage3")
    text = str(s.module)
    assert text.endswith(
        "def chain_top(A: int32[4, 4], C: int32[4, 4]):\n"
        "    dataflow:\n"
        "        T2: Stream[int32, 16]\n"
        "        T1: Stream[int32, 3]\n"
        "        stage1(A, T1)\n"
        "        stage2(T1, T2)\n"
        "        stage3(T2, C)\n"
    )
    assert "def stage2(T1: Stream[int32, 3], T2: Stream[int32, 16]):" in text
    verify(s.module)


# --------------------------------------------------------------------------------------------
# 2. Results equal to NumPy computed independently


@pytest.mark.parametrize("target", ["numpy", "verilator"])
def test_to_docstring_example_results(target):
    mod = built("pc2", lambda: pc_schedule(2), target)
    A = rand(4, seed=1)
    C = np.zeros(4, np.int32)
    mod(A, C)
    np.testing.assert_array_equal(C, i32((A.astype(np.int64) + 1) * 2))


def test_dataflow_docstring_example_on_numpy():
    s = allo.customize(fgh_top)
    s.dataflow("fgh_top")
    A = rand(DN, seed=2)
    C, E = np.zeros(DN, np.int32), np.zeros(DN, np.int32)
    s.build()(A, C, E)
    np.testing.assert_array_equal(C, i32((A.astype(np.int64) + 1) * 3))
    np.testing.assert_array_equal(E, i32(A.astype(np.int64) - 5))


def test_dataflow_docstring_example_on_rtl_is_a_bank_conflict_on_a():
    """f and h both read A and share nothing written: they run at the same time on one read
    port of A (documented: concurrent tasks may not share a bank port)."""
    s = allo.customize(fgh_top)
    s.dataflow("fgh_top")
    assert lowering_error(s) == MARKS.expected(
        "h_def",
        "def",
        "dataflow tasks `f` and `h` both read array `A`, which has one read port, while "
        "running at the same time",
        "partition `A` (s.partition) so that each task uses banks of its own",
    )


@pytest.mark.parametrize("target", ["numpy", "verilator"])
def test_dataflow_with_an_independent_task(target):
    def make():
        s = allo.customize(seq_top)
        s.dataflow("seq_top")
        return s

    mod = built("seq", make, target)
    A = rand(DN, seed=3)
    C, E = np.zeros(DN, np.int32), np.zeros(DN, np.int32)
    mod(A, C, E, 4)
    np.testing.assert_array_equal(C, i32((A.astype(np.int64) + 1) * 5))
    np.testing.assert_array_equal(E, np.arange(DN, dtype=np.int32) * 3)


@pytest.mark.parametrize("target", ["numpy", "verilator"])
def test_2mm_sequential_and_streamed(target):
    cycles = {}
    for flow in (False, True):
        mod = built(("mm2", 8, flow), lambda flow=flow: mm2_schedule(8, flow), target)
        cycles[flow] = run_mm2(mod, 8, seed=10)
    if target == "verilator":
        assert cycles[True] < cycles[False]


def test_2mm_streamed_cycles_acceptance_n16():
    """Acceptance figure: with the same pipeline schedules, to + dataflow takes at most 0.7 of
    the sequential cycles (N=16)."""
    seq = built(("mm2", 16, False), lambda: mm2_schedule(16, False), "verilator")
    flow = built(("mm2", 16, True), lambda: mm2_schedule(16, True), "verilator")
    c_seq = run_mm2(seq, 16, seed=20)
    c_flow = run_mm2(flow, 16, seed=20)
    assert c_flow <= 0.7 * c_seq, (c_flow, c_seq)


def test_chain_of_two_streams_results():
    s = allo.customize(chain_top)
    s.to("T1", "stage2", depth=3)
    s.to("T2", "stage3")
    A = rand(4, 4, seed=4)
    C = np.zeros((4, 4), np.int32)
    s.build()(A, C)
    ii, jj = np.indices((4, 4))
    np.testing.assert_array_equal(C, i32((A.astype(np.int64) + ii * 4 + jj) * 3 - 1))


def test_to_names_the_array_by_handle_or_in_a_called_kernel():
    s = allo.customize(pc_top)
    s.to(s.T, "consume")
    assert str(s.module) == str(pc_schedule(-1).module)
    s = allo.customize(outer)
    s.to("mid:T", "consume", depth=1)
    text = str(s.module)
    assert (
        "def mid(A: int32[4], C: int32[4]):\n    dataflow:\n        T: Stream[int32, 1]\n" in text
    )
    assert text.endswith("def outer(A: int32[4], C: int32[4]):\n    mid(A, C)\n")
    A = rand(4, seed=16)
    C = np.zeros(4, np.int32)
    s.build()(A, C)
    np.testing.assert_array_equal(C, i32((A.astype(np.int64) + 1) * 2))


# --------------------------------------------------------------------------------------------
# 3. A fork: two readers of one array


def fork_want(A):
    B = A.astype(np.int64) * 7 - 2
    return i32(B + 10), i32(B * B), B


def test_fork_on_numpy():
    s = allo.customize(fork_top)
    s.dataflow("fork_top")
    A = rand(DN, seed=5)
    C, E = np.zeros(DN, np.int32), np.zeros(DN, np.int32)
    s.build()(A, C, E)
    want_C, want_E, _ = fork_want(A)
    np.testing.assert_array_equal(C, want_C)
    np.testing.assert_array_equal(E, want_E)


@pytest.mark.parametrize("partition", [None, "complete", "cyclic"])
def test_fork_readers_at_the_same_time_are_a_bank_conflict(partition):
    """fk_g and fk_h both read every element of B while running at the same time; partitioning
    B does not give them banks of their own."""
    s = allo.customize(fork_top)
    if partition == "complete":
        s.partition("fork_top:B", allo.Partition.Complete)
    elif partition == "cyclic":
        s.partition("fork_top:B", allo.Partition.Cyclic, dim=1, factor=2)
    s.dataflow("fork_top")
    where = "" if partition is None else " bank 0"
    assert lowering_error(s) == MARKS.expected(
        "fk_h_def",
        "def",
        f"dataflow tasks `fk_g` and `fk_h` both read array `B`{where}, which has one read port, "
        "while running at the same time",
        "partition `B` (s.partition) so that each task uses banks of its own",
    )


@pytest.mark.parametrize("target", ["numpy", "verilator"])
def test_fork_readers_ordered_through_another_array_share_the_port(target):
    def make():
        s = allo.customize(fork_ordered_top)
        s.dataflow("fork_ordered_top")
        return s

    mod = built("fork_ordered", make, target)
    A = rand(DN, seed=6)
    C, E = np.zeros(DN, np.int32), np.zeros(DN, np.int32)
    mod(A, C, E)
    want_C, _, B = fork_want(A)
    np.testing.assert_array_equal(C, want_C)
    np.testing.assert_array_equal(E, i32(B - (B + 10)))


# --------------------------------------------------------------------------------------------
# 4. Depth


@pytest.mark.parametrize("target", ["numpy", "verilator"])
def test_depth_one_is_still_correct(target):
    mod = built("pc1", lambda: pc_schedule(1), target)
    A = rand(4, seed=7)
    C = np.zeros(4, np.int32)
    mod(A, C)
    np.testing.assert_array_equal(C, i32((A.astype(np.int64) + 1) * 2))


def test_depth_one_2mm_on_numpy():
    run_mm2(mm2_schedule(8, True, depth=1).build(), 8, seed=11)


@pytest.mark.parametrize(("depth", "shown"), [(-1, 4), (1, 1), (4, 4), (9, 9)])
def test_depth_in_the_stream_type(depth, shown):
    text = str(pc_schedule(depth).module)
    assert f"T: Stream[int32, {shown}]" in text
    assert text.count(f"Stream[int32, {shown}]") == 3  # writer, reader, region


@pytest.mark.parametrize("depth", [0, -2, 2.5, True, "4"])
def test_bad_depth(depth):
    s = allo.customize(pc_top)
    with pytest.raises(ScheduleError) as info:
        s.to("T", "consume", depth=depth)  # ERR:bad_depth
    assert str(info.value) == schedule_error(
        "bad_depth", f"to: depth must be a positive integer or -1, not {depth!r}"
    )


def test_shallow_stream_to_a_reader_that_waits_for_the_writer_deadlocks():
    """The reader also reads X, which the writer writes after its puts: it waits for the
    writer, so a stream shallower than the array deadlocks (the full array's depth works)."""
    A = rand(4, seed=8)
    want = i32((A.astype(np.int64) + 1) * 2 + A.astype(np.int64) * 5)
    s = allo.customize(side_top)
    s.to("T", "get_and_side")
    assert "get_and_side(T, X, D)  # after put_and_side" in str(s.module)
    D = np.zeros(4, np.int32)
    s.build()(A, D)
    np.testing.assert_array_equal(D, want)
    s = allo.customize(side_top)
    s.to("T", "get_and_side", depth=2)
    with pytest.raises(allo.DeadlockError) as info:
        s.build()(A, np.zeros(4, np.int32))
    line = MARKS.line("side_call")
    assert str(info.value) == (
        f"{__file__}:{line}:5: dataflow region `side_top` deadlocked: every unfinished kernel "
        "waits on a stream\n"
        "  put_and_side waits to put into `T` (full: 2 of depth 2)\n"
        "    put_and_side(A, T, X)  # ERR:side_call\n"
        "    ^\n"
        "hint: make the full streams deeper (`Stream[T, depth]`) or change the order of puts "
        "and gets"
    )


# --------------------------------------------------------------------------------------------
# 5. Errors


def test_to_a_parameter():
    s = allo.customize(pc_top)
    with pytest.raises(ScheduleError) as info:
        s.to("A", "consume")  # ERR:param
    assert str(info.value) == schedule_error(
        "param",
        "to: `A` is a parameter of `pc_top`; only a local array passed from one kernel call to "
        "another can become a stream",
    )


def test_writer_stores_twice():
    s = allo.customize(twice_top)
    with pytest.raises(ScheduleError) as info:
        s.to("T", "consume")  # ERR:to_twice
    assert str(info.value) == schedule_error(
        "to_twice",
        "to: `put_twice` must write `T` in exactly one place to stream it, but writes it 2 times",
        "twice",
        "keep the values in a local array or scalar and access the parameter once",
    )


def test_writer_accumulates_in_the_array():
    s = allo.customize(acc_top)
    with pytest.raises(ScheduleError) as info:
        s.to("T", "get2d")  # ERR:to_acc
    assert str(info.value) == schedule_error(
        "to_acc",
        "to: `gemm_acc` must write `T` in exactly one place to stream it, but also reads it",
        "acc",
        "keep the values in a local array or scalar and access the parameter once",
    )


def test_writer_stores_inside_an_extra_loop():
    s = allo.customize(extra_top)
    with pytest.raises(ScheduleError) as info:
        s.to("T", "get2d")  # ERR:to_extra
    assert str(info.value) == schedule_error(
        "to_extra",
        "to: `gemm_last` must access `T` once per element in row-major order, at `T[i, j]` "
        "inside exactly the loops range(4), range(4)",
        "extra",
        "accumulate in a scalar (or a local array) and access the parameter once per element, "
        "in order",
    )


def test_reader_in_column_major_order():
    s = allo.customize(cols_top)
    with pytest.raises(ScheduleError) as info:
        s.to("T", "get_cols")  # ERR:to_cols
    assert str(info.value) == schedule_error(
        "to_cols",
        "to: `get_cols` must access `T` once per element in row-major order, at `T[i, j]` "
        "inside exactly the loops range(4), range(4)",
        "cols",
        "accumulate in a scalar (or a local array) and access the parameter once per element, "
        "in order",
    )


def test_dst_is_the_writer():
    s = allo.customize(pc_top)
    with pytest.raises(ScheduleError) as info:
        s.to("T", "produce")  # ERR:dst_writer
    # `consume` is taken for the writer and refused
    assert str(info.value) == schedule_error(
        "dst_writer",
        "to: `consume` must write `T` in exactly one place to stream it, but also reads it",
        "consume_load",
        "keep the values in a local array or scalar and access the parameter once",
    )


def test_dst_does_not_take_the_array():
    s = allo.customize(pc_top)
    with pytest.raises(ScheduleError) as info:
        s.to("T", "g")  # ERR:dst_other
    assert str(info.value) == schedule_error(
        "dst_other",
        "to: `T` must be passed to exactly two calls, one writing it and one of `g` reading "
        "it; it is passed to: produce, consume",
    )


def test_three_calls_take_the_array():
    s = allo.customize(three_top)
    with pytest.raises(ScheduleError) as info:
        s.to("T", "consume")  # ERR:three
    assert str(info.value) == schedule_error(
        "three",
        "to: `T` must be passed to exactly two calls, one writing it and one of `consume` "
        "reading it; it is passed to: produce, consume, consume_again",
    )


def test_the_function_reads_the_array_itself():
    s = allo.customize(self_top)
    with pytest.raises(ScheduleError) as info:
        s.to("T", "consume")  # ERR:to_self
    assert str(info.value) == schedule_error(
        "to_self",
        "to: `self_top` reads or writes `T` itself; a stream can only pass between two kernel "
        "calls",
        "self",
    )


def test_a_callee_called_twice():
    s = allo.customize(called_twice_top)
    with pytest.raises(ScheduleError) as info:
        s.to("T", "consume")  # ERR:to_called_twice
    assert str(info.value) == schedule_error(
        "to_called_twice",
        "to: kernel `produce` is called more than once; its parameter can become a stream only "
        "for a single call",
        "call_produce",
    )


def test_a_statement_between_the_calls():
    s = allo.customize(gap_top)
    with pytest.raises(ScheduleError) as info:
        s.to("T", "consume")  # ERR:to_gap
    assert str(info.value) == schedule_error(
        "to_gap",
        "to: the calls of `produce` and `consume` must be statements of `gap_top` with only "
        "kernel calls between them",
        "gap",
    )


def test_to_with_axis():
    s = allo.customize(pc_top)
    with pytest.raises(ScheduleError) as info:
        s.to("T", "consume", axis=0)  # ERR:axis
    assert str(info.value) == schedule_error(
        "axis",
        "s.to(..., axis=...) is not supported: allo_rtl streams arrays between kernel calls",
        hint="call s.to(array, callee_name, depth=...) without `axis`",
    )
    assert s.history == [] and "Stream" not in str(s.module)


def test_dataflow_on_a_function_without_calls():
    s = allo.customize(pc_top)
    with pytest.raises(ScheduleError) as info:
        s.dataflow("produce")  # ERR:df_nocalls
    assert str(info.value) == schedule_error(
        "df_nocalls",
        "dataflow: `produce` has no two consecutive kernel calls to run as tasks",
        "produce_def",
        "call the kernels one after the other in the function's body",
    )


def test_dataflow_of_a_call_that_returns_a_value():
    s = allo.customize(returns_top)
    with pytest.raises(ScheduleError) as info:
        s.dataflow("returns_top")  # ERR:df_returns
    assert str(info.value) == schedule_error(
        "df_returns",
        "dataflow: the call of `first` returns a value; tasks pass their results through array "
        "arguments",
        "returns",
    )


def test_dataflow_given_a_loop_handle_of_a_loop_without_calls():
    """A loop handle names a dataflow loop (tests/test_dataflow_loop.py); this one computes."""
    s = allo.customize(pc_top)
    loop = s.get_loops("produce").S_i_0.i
    with pytest.raises(ScheduleError) as info:
        s.dataflow(loop)  # ERR:df_loop
    assert str(info.value) == schedule_error(
        "df_loop",
        "dataflow: the body of loop `produce:S_i_0.i` may hold only kernel calls and the "
        "arrays passed between them, not a store statement",
        "produce_store",
        "move the computation into a kernel called from the loop",
    )


def test_writer_store_inside_an_if_is_refused():
    """A store under a condition may not write every element: `to` refuses it (it used to
    replace the whole `if` by the put, dropping the condition and the statement beside it)."""
    s = allo.customize(if_top)
    with pytest.raises(ScheduleError, match="must access `T` once per element in row-major"):
        s.to("T", "consume")


# --------------------------------------------------------------------------------------------
# 6. Composition


def pc_pipelined(order):
    s = allo.customize(pc_top)
    if order == "pipeline_first":
        s.pipeline("produce:i")
        s.pipeline("consume:i")
    s.to("T", "consume", depth=2)
    if order == "pipeline_after":
        s.pipeline("produce:i")
        s.pipeline("consume:i")
    return s


def test_pipeline_before_and_after_to_give_the_same_ir():
    before, after = pc_pipelined("pipeline_first"), pc_pipelined("pipeline_after")
    assert str(before.module) == str(after.module)
    text = str(after.module)
    assert "for i in range(0, 4):  # S_i_0.i range pipeline=1\n        T.put(" in text
    assert "pipeline=1\n        T_get: int32 = T.get()" in text
    verify(after.module)


@pytest.mark.parametrize("target", ["numpy", "verilator"])
def test_pipeline_after_to_results(target):
    mod = built("pc_piped", lambda: pc_pipelined("pipeline_after"), target)
    A = rand(4, seed=12)
    C = np.zeros(4, np.int32)
    mod(A, C)
    np.testing.assert_array_equal(C, i32((A.astype(np.int64) + 1) * 2))


def test_pipeline_before_to_results_on_numpy():
    A = rand(4, seed=13)
    C = np.zeros(4, np.int32)
    pc_pipelined("pipeline_first").build()(A, C)
    np.testing.assert_array_equal(C, i32((A.astype(np.int64) + 1) * 2))


def _mm2_order(N, to_first):
    s = allo.customize(make_2mm(N))
    s.pipeline("gemm1:k")
    s.pipeline("gemm2:k2")
    if to_first:
        s.to("T", "gemm2", depth=N)
        s.dataflow("top")
    else:
        s.dataflow("top")
        s.to("T", "gemm2", depth=N)
    return s


def test_dataflow_before_to_gives_the_same_ir_and_results():
    a, b = _mm2_order(8, True), _mm2_order(8, False)
    assert str(a.module) == str(b.module)
    assert [st.primitive for st in b.history][-2:] == ["dataflow", "to"]
    for s in (a, b):
        run_mm2(s.build(), 8, seed=14)


def test_dataflow_before_to_with_an_independent_third_task():
    def sched(to_first):
        s = allo.customize(seq_top)
        if to_first:
            s.to("B", "g_scaled")
            s.dataflow("seq_top")
        else:
            s.dataflow("seq_top")
            s.to("B", "g_scaled")
        return s

    a, b = sched(True), sched(False)
    assert str(a.module) == str(b.module)
    assert str(a.module).endswith(
        "    dataflow:\n"
        "        B: Stream[int32, 8]\n"
        "        f(A, B)\n"
        "        g_scaled(B, C, int32((k + 1)))\n"
        "        h_alone(E)\n"
    )
    A = rand(DN, seed=15)
    for s in (a, b):
        C, E = np.zeros(DN, np.int32), np.zeros(DN, np.int32)
        s.build()(A, C, E, 2)
        np.testing.assert_array_equal(C, i32((A.astype(np.int64) + 1) * 3))
        np.testing.assert_array_equal(E, np.arange(DN, dtype=np.int32) * 3)
