"""Dataflow regions (``allo_rtl.dataflow``) on the Verilator target: every kernel instance a
concurrent task, every stream a FIFO. Each design runs on the NumPy target and in Verilator on
the same inputs; both must equal NumPy results computed independently of the code under test.

Also: pipelined producers and consumers overlap (busy cycles), the output-stationary systolic
array, deadlocks detected in hardware (named like the NumPy target names them), a plain kernel
calling a region, bank-port conflicts between tasks, instances over a block-partitioned array,
repeated calls and guarded gets and puts in pipelined loops. Compiled simulators are cached in
pytest's cache directory (as in tests/test_rtl_verilator.py), so a rerun does not recompile.
"""

# Streams are declared in a region (`s: Stream[int32, 4]`) and used by the kernels nested in it;
# an annotation without a value binds no name for pyflakes, so it reports every use as undefined.
# ruff: noqa: F821

import gc
import os
import warnings

import numpy as np
import pytest
import test_dataflow_numpy as dfn
from amaranth.hdl import UnusedElaboratable
from errhelp import Markers

import allo_rtl as allo
import allo_rtl.dataflow as df
from allo_rtl.ir.types import Stream, int32

FILE = __file__
_MARKS = Markers(FILE)
DEADLOCK_HINT = dfn.DEADLOCK_HINT


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
# Helpers

_modules: dict = {}


def built(design, schedule=None):
    """(NumPy module, Verilator module) of ``design`` with ``schedule(s)`` applied, built once
    per test process."""
    key = (design, schedule)
    if key not in _modules:
        s = df.customize(design) if isinstance(design, df.Region) else allo.customize(design)
        if schedule is not None:
            schedule(s)
        _modules[key] = built_or_raise(lambda: (s.build(), s.build(target="verilator")))
    return _modules[key]


def built_or_raise(build):
    """``build()``; if it raises an AlloRTLError, the parts of the failed build (never
    elaborated) are collected without warnings before the error is raised again."""
    try:
        return build()
    except allo.AlloRTLError as e:
        error = e.with_traceback(None)  # its frames hold the parts
    error.__context__ = error.__cause__ = None
    forget_failed_build()
    raise error


def copies(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def run_both(design, args, want, schedule=None):
    """Run ``design`` on the NumPy target and in Verilator on copies of ``args``; the array
    arguments afterwards must equal ``want`` (one entry per argument, ``None``: unchecked
    scalar) on both, bit for bit and with the declared dtypes. Returns the Verilator module."""
    ref, mod = built(design, schedule)
    ref_args, rtl_args = copies(args), copies(args)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # inputs carry the declared dtypes
        ref(*ref_args)
        mod(*rtl_args)
    for n, (got_ref, got_rtl, w, a) in enumerate(zip(ref_args, rtl_args, want, args)):
        if not isinstance(a, np.ndarray):
            continue
        assert got_rtl.dtype == a.dtype and got_ref.dtype == a.dtype, f"argument {n}"
        np.testing.assert_array_equal(got_ref, w, err_msg=f"NumPy target, argument {n}")
        np.testing.assert_array_equal(got_rtl, w, err_msg=f"Verilator, argument {n}")
    assert isinstance(mod.cycles, int) and mod.cycles > 0
    return mod


def rand_i32(rng, shape, lo=-1000, hi=1000):
    return rng.integers(lo, hi, shape).astype(np.int32)


def i64(a):
    return np.asarray(a).astype(np.int64)


def forget_failed_build():
    """A build that raised leaves parts never elaborated: collect them without warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)
        gc.collect()


# --------------------------------------------------------------------------------------------
# 1. Producer -> consumer: pipelined loops overlap through the FIFO

M, N = dfn.M, dfn.N  # 16 x 16


def _pipeline_pc(s):
    s.pipeline("producer:j")
    s.pipeline("consumer:j")


def test_producer_consumer_pipelined_overlaps():
    rng = np.random.default_rng(101)
    A = rand_i32(rng, (M, N), -(2**31), 2**31 - 1)
    A[0, :3] = [-(2**31), 2**31 - 1, -1]  # A + 1 wraps at the top
    want_B = (i64(A) + 1 + 2**31) % 2**32 - 2**31
    mod = run_both(dfn.pc, [A, np.zeros((M, N), np.int32)], [A, want_B], _pipeline_pc)
    # run one after the other, the two loops of M * N = 256 iterations take >= 512 cycles;
    # overlapped through the depth-4 FIFO at II 1 they take little more than one loop
    assert mod.cycles < 1.3 * M * N + 20
    assert set(mod.fifo_high_water) == {"pipe"}
    assert 1 <= mod.fifo_high_water["pipe"] <= 4


def test_producer_consumer_unpipelined():
    rng = np.random.default_rng(102)
    A = rand_i32(rng, (M, N))
    mod = run_both(dfn.pc, [A, np.zeros((M, N), np.int32)], [A, i64(A) + 1])
    assert mod.cycles > 1.3 * M * N + 20  # the bound above is not met without pipelining


# --------------------------------------------------------------------------------------------
# 2. The int8 output-stationary systolic array (R x C PEs, loaders and drains)

R, C, K = dfn.R, dfn.C, dfn.K  # 4, 4, 64


def _partition_systolic(s):
    s.partition("systolic:A", dim=1)
    s.partition("systolic:B", dim=2)
    s.partition("systolic:Cm", dim=0)


def _pipeline_systolic(s):
    _partition_systolic(s)
    s.pipeline("gemm:k")


def _check_systolic(schedule):
    rng = np.random.default_rng(103)
    A = rng.integers(-128, 128, (R, K)).astype(np.int8)
    B = rng.integers(-128, 128, (K, C)).astype(np.int8)
    Cm = np.full((R, C), 55, np.int32)
    random_cycles = run_both(dfn.systolic, [A, B, Cm], [A, B, i64(A) @ i64(B)], schedule).cycles
    # extreme values: every product is 2**14, every sum K * 2**14
    A = np.full((R, K), -128, np.int8)
    B = np.full((K, C), -128, np.int8)
    mod = run_both(dfn.systolic, [A, B, Cm], [A, B, np.full((R, C), K * 128 * 128)], schedule)
    assert mod.cycles == random_cycles  # no data-dependent timing
    return mod


@pytest.mark.slow
def test_systolic_pipelined():
    mod = _check_systolic(_pipeline_systolic)
    # K values through a wavefront of R + C PEs at II 1
    assert mod.cycles <= K + R + C + 8


@pytest.mark.slow
def test_systolic_unpipelined():
    mod = _check_systolic(_partition_systolic)
    assert mod.cycles > K + R + C + 8


# --------------------------------------------------------------------------------------------
# 3. Deadlock detected in hardware: the region of /tmp/df/dl.py at depths 2 and 1

EN = 8


def make_exchange(depth):
    @df.region()
    def exchange(A: int32[EN], B: int32[EN]):  # ERR:exchange
        s1: Stream[int32, depth]
        s2: Stream[int32, depth]

        @df.kernel(mapping=[1], args=[A])
        def ping(a: int32[EN]):
            for i in range(0, EN, 2):
                s1.put(a[i])
                s1.put(a[i + 1])
                x = s2.get()
                y = s2.get()
                a[i] = x - y

        @df.kernel(mapping=[1], args=[B])
        def pong(b: int32[EN]):
            for i in range(0, EN, 2):
                s2.put(b[i])
                s2.put(b[i + 1])
                u = s1.get()
                v = s1.get()
                b[i] = u - v

    return exchange


exchange_d2 = make_exchange(2)
exchange_d1 = make_exchange(1)


def _exchange_inputs():
    rng = np.random.default_rng(104)
    return rand_i32(rng, EN), rand_i32(rng, EN)


def test_exchange_completes_at_depth_two():
    A, B = _exchange_inputs()
    want_A, want_B = i64(A), i64(B)
    want_A[0::2] = i64(B)[0::2] - i64(B)[1::2]
    want_B[0::2] = i64(A)[0::2] - i64(A)[1::2]
    run_both(exchange_d2, [A, B], [want_A, want_B])


def deadlock_message(design, args, target):
    mod = df.build(design, target=target)
    with pytest.raises(allo.DeadlockError) as excinfo:
        mod(*copies(args))
    assert type(excinfo.value) is allo.DeadlockError
    assert isinstance(excinfo.value, allo.AlloRTLError)
    return mod, str(excinfo.value)


def test_exchange_deadlocks_at_depth_one_on_both_targets():
    A, B = _exchange_inputs()
    waiting = (
        "  ping waits to put into `s1` (full: 1 of depth 1)\n"
        "  pong waits to put into `s2` (full: 1 of depth 1)"
    )
    _, numpy_msg = deadlock_message(exchange_d1, [A, B], "numpy")
    assert numpy_msg == _MARKS.expected(
        "exchange",
        "def",
        "dataflow region `exchange` deadlocked: every unfinished kernel waits on a stream\n"
        + waiting,
        DEADLOCK_HINT,
    )
    mod, rtl_msg = deadlock_message(exchange_d1, [A, B], "verilator")
    head, *lines = rtl_msg.split("\n")
    line = _MARKS.line("exchange")
    prefix = f"{FILE}:{line}:5: exchange on verilator: a dataflow region deadlocked after "
    suffix = " cycles: every unfinished kernel waits on a stream"
    assert head.startswith(prefix) and head.endswith(suffix), head
    assert head[len(prefix) : -len(suffix)].isdigit(), head
    assert "\n".join(lines[:2]) == waiting  # the same tasks and streams as the NumPy target
    assert "\n".join(lines[2:]) == "\n".join(numpy_msg.split("\n")[3:])  # source, caret, hint
    # the hardware stops at once: ping and pong each put one value, then wait
    assert int(head[len(prefix) : -len(suffix)]) < 20
    # a second call deadlocks the same way (no state survives the first)
    with pytest.raises(allo.DeadlockError) as again:
        mod(*copies([A, B]))
    assert str(again.value) == rtl_msg


def test_ring_deadlock_names_every_instance_and_grid_element():
    # three instances each reading their own element of A: partitioned for the RTL ports
    args = [np.zeros(3, np.int32)]
    ref = df.build(dfn.ring)
    with pytest.raises(allo.DeadlockError) as numpy_err:
        ref(*copies(args))
    s = df.customize(dfn.ring)
    s.partition("ring:A")
    mod = s.build(target="verilator")
    with pytest.raises(allo.DeadlockError) as rtl_err:
        mod(*copies(args))
    numpy_lines = str(numpy_err.value).split("\n")
    rtl_lines = str(rtl_err.value).split("\n")
    assert rtl_lines[1:] == numpy_lines[1:]
    assert rtl_lines[1:4] == [f"  node_{n} waits to get from `fifo[{n}]` (empty)" for n in range(3)]


def test_starved_consumer_deadlock_then_recovery():
    A = np.array([5, 6, 7, 8], np.int32)
    _, numpy_msg = deadlock_message(dfn.starved, [3, A, np.zeros(4, np.int32)], "numpy")
    mod, rtl_msg = deadlock_message(dfn.starved, [3, A, np.zeros(4, np.int32)], "verilator")
    # the producer has finished: only the consumer is listed, as on the NumPy target
    assert rtl_msg.split("\n")[1:] == numpy_msg.split("\n")[1:]
    assert rtl_msg.split("\n")[1] == "  consumer waits to get from `s` (empty)"
    # the same module runs correctly afterwards: no stale values or stuck tasks survive
    run_both(dfn.starved, [4, A, np.zeros(4, np.int32)], [None, A, A])


def test_deadlock_inside_a_called_region():
    _, numpy_msg = deadlock_message(dfn.outer_deadlock, [np.zeros(1, np.int32)], "numpy")
    _, rtl_msg = deadlock_message(dfn.outer_deadlock, [np.zeros(1, np.int32)], "verilator")
    assert "  only waits to put into `s` (full: 1 of depth 1)" in numpy_msg.split("\n")
    # the RTL names the nested task and stream by their path from the top region
    assert (
        "  driver.inner_deadlock_0.only waits to put into `driver.inner_deadlock_0.s` "
        "(full: 1 of depth 1)"
    ) in rtl_msg.split("\n")


# --------------------------------------------------------------------------------------------
# 4. Hierarchy: a plain kernel that calls a region (twice), a region kernel calling a region


def test_plain_kernel_calls_a_region_twice():
    A = np.array([1, -2, 3, 100], np.int32)
    run_both(dfn.calls_doubler_twice, [A], [i64(A) * 4])


def test_region_kernel_calls_a_streaming_region():
    # the inner producer puts 6 values through a depth-2 stream: its kernels must overlap
    want = sum(i * i for i in range(dfn._COUNT))
    run_both(dfn.outer_streaming, [np.zeros(1, np.int32)], [[want]])


# --------------------------------------------------------------------------------------------
# 5. Two concurrent tasks on one bank port: refused; partitioned, each has its own

HN = 8


@df.region()
def evens_odds(A: int32[HN], B: int32[HN // 2], C: int32[HN // 2]):
    @df.kernel(mapping=[1], args=[A, B])
    def even(a: int32[HN], b: int32[HN // 2]):
        for i in range(HN // 2):
            b[i] = a[2 * i] + 1

    @df.kernel(mapping=[1], args=[A, C])
    def odd(a: int32[HN], c: int32[HN // 2]):  # ERR:odd
        for i in range(HN // 2):
            c[i] = a[2 * i + 1] * 2


def test_two_tasks_reading_one_bank_is_a_lowering_error():
    with pytest.raises(allo.LoweringError) as excinfo:
        built_or_raise(lambda: df.build(evens_odds, target="verilator"))
    assert type(excinfo.value) is allo.LoweringError
    assert str(excinfo.value) == _MARKS.expected(
        "odd",
        "def",
        "dataflow tasks `even` and `odd` both read array `A`, which has one read port, while "
        "running at the same time",
        "partition `A` (s.partition) so that each task uses banks of its own",
    )


def _partition_evens_odds(s):
    s.partition("evens_odds:A", allo.Partition.Cyclic, dim=1, factor=2)


def test_two_tasks_reading_their_own_banks_after_partitioning():
    A = rand_i32(np.random.default_rng(105), HN)
    want_B = i64(A)[0::2] + 1
    want_C = i64(A)[1::2] * 2
    args = [A, np.zeros(HN // 2, np.int32), np.zeros(HN // 2, np.int32)]
    run_both(evens_odds, args, [A, want_B, want_C], _partition_evens_odds)


# --------------------------------------------------------------------------------------------
# 6. Two instances of one kernel (mapping=[2]), each on its half of the rows

ROWS, COLS = 8, 4


@df.region()
def row_blocks(A: int32[ROWS, COLS], B: int32[ROWS, COLS]):
    @df.kernel(mapping=[2], args=[A, B])
    def work(local_A: int32[ROWS, COLS], local_B: int32[ROWS, COLS]):
        p = df.get_pid()
        for r in range(p * (ROWS // 2), (p + 1) * (ROWS // 2)):
            for c in range(COLS):
                local_B[r, c] = local_A[r, c] * (p + 2) - c


@df.region()
def row_blocks_unrolled(A: int32[ROWS, COLS], B: int32[ROWS, COLS]):
    @df.kernel(mapping=[2], args=[A, B])
    def work(local_A: int32[ROWS, COLS], local_B: int32[ROWS, COLS]):
        p = df.get_pid()
        for r in allo.meta_for(p * (ROWS // 2), (p + 1) * (ROWS // 2)):
            for c in range(COLS):
                local_B[r, c] = local_A[r, c] * (p + 2) - c


@df.region()
def row_interleaved(A: int32[ROWS, COLS], B: int32[ROWS, COLS]):
    @df.kernel(mapping=[2], args=[A, B])
    def work(local_A: int32[ROWS, COLS], local_B: int32[ROWS, COLS]):
        p = df.get_pid()
        for r in range(p, ROWS, 2):
            for c in range(COLS):
                local_B[r, c] = local_A[r, c] * (p + 2) - c


def _partition_rows(region, kind):
    def schedule(s):
        s.partition(f"{region}:A", kind, dim=1, factor=2)
        s.partition(f"{region}:B", kind, dim=1, factor=2)

    return schedule


_BLOCK_ROWS = _partition_rows("row_blocks", allo.Partition.Block)
_BLOCK_ROWS_UNROLLED = _partition_rows("row_blocks_unrolled", allo.Partition.Block)
_CYCLIC_ROWS = _partition_rows("row_interleaved", allo.Partition.Cyclic)


def _check_rows(design, schedule, part):
    A = rand_i32(np.random.default_rng(106), (ROWS, COLS))
    want = i64(A) * (part[:, None] + 2) - np.arange(COLS)
    args = [A, np.full((ROWS, COLS), 9, np.int32)]
    run_both(design, args, [A, want], schedule)
    names = {f.sym.name for f in df.customize(design).module.funcs}
    assert names == {design.__name__, "work_0", "work_1"}


def test_two_instances_on_row_blocks_block_partition():
    """Each instance's row loop stays in one block, so each task has banks of its own."""
    _check_rows(row_blocks, _BLOCK_ROWS, np.arange(ROWS) // (ROWS // 2))


def test_two_instances_on_row_blocks_block_partition_unrolled_rows():
    # the same split with the row loop unrolled: constant row indices, static banks
    _check_rows(row_blocks_unrolled, _BLOCK_ROWS_UNROLLED, np.arange(ROWS) // (ROWS // 2))


def test_two_instances_on_interleaved_rows_cyclic_partition():
    _check_rows(row_interleaved, _CYCLIC_ROWS, np.arange(ROWS) % 2)


# --------------------------------------------------------------------------------------------
# 7. A built module called again: streams and task state start afresh


def test_called_twice_with_different_data():
    rng = np.random.default_rng(107)
    for _ in range(2):
        A = rand_i32(rng, (M, N))
        run_both(dfn.pc, [A, np.full((M, N), 77, np.int32)], [A, i64(A) + 1], _pipeline_pc)


def test_value_left_in_a_stream_is_gone_on_the_next_call():
    # the producer puts 3 values, the consumer takes 2: the third must not reach the next call
    B = np.zeros(4, np.int32)
    for A in (np.array([1, 2, 3, 4], np.int32), np.array([10, 20, 30, 40], np.int32)):
        run_both(dfn.leftover, [A, B], [A, [A[0], A[1], 0, 0]])


def calls_leftover_twice(A: int32[4], B: int32[4]):
    for r in range(2):  # noqa: B007 - one instance of the region, run twice
        dfn.leftover(A, B)


def test_value_left_in_a_stream_is_gone_when_a_kernel_runs_the_region_again():
    # within one call of the kernel: the region's FIFOs are cleared between its two runs
    A = np.array([7, 8, 9, 10], np.int32)
    run_both(calls_leftover_twice, [A, np.zeros(4, np.int32)], [A, [7, 8, 0, 0]])


def test_scalar_arguments_change_between_calls():
    A = rand_i32(np.random.default_rng(108), 8)
    for n in (2, 6, 0, 8):
        want = np.where(np.arange(8) < n, A, 0)
        run_both(dfn.counted, [n, A, np.zeros(8, np.int32)], [None, A, want])


# --------------------------------------------------------------------------------------------
# 8. Guarded gets and puts in pipelined loops

GN = 32


@df.region()
def guarded(F: int32[GN], G: int32[GN], A: int32[GN], B: int32[GN]):
    s: Stream[int32, 2]

    @df.kernel(mapping=[1], args=[F, A])
    def producer(f: int32[GN], a: int32[GN]):
        for i in range(GN):
            if f[i] != 0:
                s.put(a[i] * 3)

    @df.kernel(mapping=[1], args=[G, B])
    def consumer(g: int32[GN], b: int32[GN]):
        for i in range(GN):
            v: int32 = -1
            if g[i] != 0:
                v = s.get() + i
            b[i] = v


def _pipeline_guarded(s):
    s.pipeline("producer:i")
    s.pipeline("consumer:i")


@pytest.mark.parametrize("pipelined", [True, False], ids=["pipelined", "unpipelined"])
def test_guarded_get_and_put(pipelined):
    rng = np.random.default_rng(109)
    A = rand_i32(rng, GN)
    masks = [
        rng.integers(0, 2, GN).astype(np.int32),
        np.ones(GN, np.int32),
        np.zeros(GN, np.int32),
        (np.arange(GN) % 5 == 4).astype(np.int32),  # long runs of nothing
        (np.arange(GN) % 5 != 4).astype(np.int32),
    ]
    for mask in masks:
        want = np.where(mask != 0, i64(A) * 3 + np.arange(GN), -1)
        args = [mask, mask.copy(), A, np.zeros(GN, np.int32)]
        mod = run_both(
            guarded, args, [mask, mask, A, want], _pipeline_guarded if pipelined else None
        )
        if pipelined:
            assert mod.cycles <= GN + 10  # II 1, the gets guarded or not


@df.region()
def guarded_by_index(A: int32[GN], B: int32[GN]):
    s: Stream[int32, 1]

    @df.kernel(mapping=[1], args=[A])
    def producer(a: int32[GN]):
        for i in range(GN):
            if i % 3 == 0:
                s.put(a[i])
            elif i % 3 == 1:
                s.put(-a[i])

    @df.kernel(mapping=[1], args=[B])
    def consumer(b: int32[GN]):
        for i in range(GN):
            if i % 3 != 2:
                b[i] = s.get()


def _pipeline_guarded_by_index(s):
    s.pipeline("producer:i")
    s.pipeline("consumer:i")


# two puts in exclusive branches count as two transfers per iteration: the producer's loop
# runs at II 2 (a ScheduleWarning says so); the results must be right all the same
@pytest.mark.filterwarnings("ignore::allo_rtl.ScheduleWarning")
def test_puts_in_two_branches_and_guarded_get_pipelined_depth_one():
    A = rand_i32(np.random.default_rng(110), GN)
    i = np.arange(GN)
    want = np.where(i % 3 == 0, A, np.where(i % 3 == 1, -i64(A), 0))
    run_both(guarded_by_index, [A, np.zeros(GN, np.int32)], [A, want], _pipeline_guarded_by_index)


# --------------------------------------------------------------------------------------------
# Products put into a stream


@df.region()
def put_product(A: int32[GN], D: int32[GN], B: int32[GN]):
    s: Stream[int32, 2]

    @df.kernel(mapping=[1], args=[A, D])
    def producer(a: int32[GN], d: int32[GN]):
        for i in range(GN):
            s.put(a[i] * d[i] + 1)

    @df.kernel(mapping=[1], args=[B])
    def consumer(b: int32[GN]):
        for i in range(GN):
            b[i] = s.get()


@df.region()
def put_product_via_local(A: int32[GN], D: int32[GN], B: int32[GN]):
    s: Stream[int32, 2]

    @df.kernel(mapping=[1], args=[A, D])
    def producer(a: int32[GN], d: int32[GN]):
        for i in range(GN):
            v: int32 = a[i] * d[i] + 1
            s.put(v)

    @df.kernel(mapping=[1], args=[B])
    def consumer(b: int32[GN]):
        for i in range(GN):
            b[i] = s.get()


def _put_product_case():
    rng = np.random.default_rng(112)
    A, D = rand_i32(rng, GN), rand_i32(rng, GN)
    want = i64(A) * i64(D) + 1
    return [A, D, np.zeros(GN, np.int32)], [A, D, want]


def test_put_of_a_product():
    """The product's bits were not demanded by the put (lowering/_budget.py), so it was 0."""
    run_both(put_product, *_put_product_case())


def test_put_of_a_product_assigned_to_a_local_first():
    run_both(put_product_via_local, *_put_product_case())


# --------------------------------------------------------------------------------------------
# 9. The integer regions of tests/test_dataflow_numpy.py whose arrays no two concurrent tasks
# share, on both targets (the floating-point ones and those needing a partition are left out)


def _wrap_int8(a):
    return (i64(a) + 128) % 256 - 128


def _case_pc_double(rng):
    A = rand_i32(rng, (M, N))
    return [A, np.zeros((M, N), np.int32)], [A, 3 * i64(A) + i64(A) + 1]


def _case_two_gets(rng):
    A = rand_i32(rng, 8)
    return [A, np.zeros(4, np.int32)], [A, i64(A)[0::2] - 2 * i64(A)[1::2]]


def _case_chain3(rng):
    A = rand_i32(rng, (M, N))
    ii, jj = np.indices((M, N))
    return [A, np.zeros((M, N), np.int32)], [A, 2 * i64(A) - jj + 100 * ii]


def _case_narrowing(rng):
    A = np.array([300, -200, 127, 128, -129, 0, 255, -1], np.int32)
    return [A, np.zeros(8, np.int32)], [A, _wrap_int8(A)]


def _case_with_scalar(rng):
    A = rand_i32(rng, 8)
    return [-3, A, np.zeros(8, np.int32)], [None, A, i64(A) * -3 - 3]


def _case_put_sites(rng):
    A = rand_i32(rng, 8)
    return [A, np.zeros(8, np.int32)], [A, np.where(A > 0, i64(A), -i64(A) * 10)]


def _case_counted_by_stream(rng):
    A = np.array([5, 0, 0, 0, 0, 0, 0, 0], np.int32)
    i = np.arange(8)
    return [A, np.zeros(8, np.int32)], [A, np.where(i < 5, i + 1, 0)]


def _case_self_feeding(rng):
    A = rand_i32(rng, 4)
    return [A], [i64(A) * 3 - 1]


def _case_drain_bare_get(rng):
    A = rand_i32(rng, 4)
    return [A, np.full(4, -7, np.int32)], [A, [*i64(A)[1:], -7]]


def _case_meta_for_decl(rng):
    A = rand_i32(rng, 4)
    return [A, np.zeros(4, np.int32)], [A, i64(A) * 2 + np.arange(4)]


def _case_burst(rng):
    A = rand_i32(rng, 8)
    return [A, np.zeros(8, np.int32)], [A, A]


def _case_ping_pong(rng):
    A = rand_i32(rng, 8)
    return [A, np.zeros(8, np.int32)], [A, i64(A) * 2]


def _case_exchange_d2(rng):
    A, B = rand_i32(rng, 2), rand_i32(rng, 2)
    return [A, B], [B, A]


def _case_starved_complete(rng):
    A = rand_i32(rng, 4)
    return [4, A, np.zeros(4, np.int32)], [None, A, A]


def _case_doubler(rng):
    A = rand_i32(rng, 4)
    return [A], [i64(A) * 2]


def _param(region, case, marks=()):
    return pytest.param(region, case, id=region.__name__, marks=marks)


DIFFERENTIAL = [
    _param(dfn.pc_double, _case_pc_double),
    _param(dfn.two_gets_in_one_expr, _case_two_gets),
    _param(dfn.chain3, _case_chain3),
    _param(dfn.narrowing, _case_narrowing),
    _param(dfn.with_scalar, _case_with_scalar),
    _param(dfn.put_sites, _case_put_sites),
    _param(dfn.counted_by_stream, _case_counted_by_stream),
    _param(dfn.self_feeding, _case_self_feeding),
    _param(dfn.drain_bare_get, _case_drain_bare_get),
    _param(dfn.meta_for_decl, _case_meta_for_decl),
    _param(dfn.burst_depth1, _case_burst),
    _param(dfn.burst_consumer_first, _case_burst),
    _param(dfn.ping_pong, _case_ping_pong),
    _param(dfn.exchange_d2, _case_exchange_d2),
    _param(dfn.starved, _case_starved_complete),
    _param(dfn.doubler, _case_doubler),
    # covered above: pc, counted, leftover, outer_streaming, calls_doubler_twice, ring,
    # exchange_d1, outer_deadlock; need a partition (tasks share an array): row_slices,
    # pid_2d, fan_out, elif_chain, nested_meta, pid_single; floating point: float_stream,
    # meta_for_bounds (`10 ** (y + z)` is a float64 power, refused by the RTL targets)
]


@pytest.mark.parametrize(("region", "case"), DIFFERENTIAL)
def test_numpy_suite_region_on_verilator(region, case):
    args, want = case(np.random.default_rng(111))
    run_both(region, args, want)
