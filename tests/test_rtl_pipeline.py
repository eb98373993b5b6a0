"""Pipelined and unrolled loops in RTL (Amaranth simulator): results equal to NumPy computed
independently, achieved initiation intervals, and the reasons for a larger II."""

import warnings

import numpy as np
import pytest
from amaranth_harness import run

import allo_rtl as allo
from allo_rtl.ir.types import int8, int16, int32
from allo_rtl.lowering import build_report, lower, target_model

N = 32


def pipelines(s):
    """The pipelines of the user's loops (array fill loops are pipelined too)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", allo.ScheduleWarning)  # tested where the run is
        fsmd = lower(s.module)
    return [p for p in fsmd.pipelines if "_init." not in p.name]


def rand(rng, shape, lo=-100, hi=100, dtype=np.int32):
    return rng.integers(lo, hi, shape).astype(dtype)


def vadd(A: int32[N], B: int32[N]) -> int32[N]:
    C: int32[N] = 0
    for i in range(N):
        C[i] = A[i] + B[i]
    return C


def dot(A: int32[N], B: int32[N]) -> int32:
    acc: int32 = 0
    for i in range(N):
        acc += A[i] * B[i]
    return acc


def gemm_acc(A: int32[8, 8], B: int32[8, 8]) -> int32[8, 8]:
    C: int32[8, 8] = 0
    for i, j in allo.grid(8, 8, name="C"):
        acc: int32 = 0
        for k in allo.reduction(8):
            acc += A[i, k] * B[k, j]
        C[i, j] = acc
    return C


def gemm_inplace(A: int32[8, 8], B: int32[8, 8]) -> int32[8, 8]:
    C: int32[8, 8] = 0
    for i, j in allo.grid(8, 8, name="C"):
        for k in allo.reduction(8):
            C[i, j] += A[i, k] * B[k, j]
    return C


def test_vector_add_at_ii_1():
    rng = np.random.default_rng(1)
    A, B = rand(rng, N), rand(rng, N)
    s = allo.customize(vadd)
    s.pipeline("i")
    got, cycles = run(s, A, B)
    np.testing.assert_array_equal(got, A + B)
    (p,) = pipelines(s)
    assert (p.ii, p.requested_ii, p.trips, p.reasons) == (1, 1, N, ())
    assert cycles <= N + 4  # the C = 0 fill is dead: the loop writes every element


def test_dot_product_at_ii_1():
    rng = np.random.default_rng(2)
    A, B = rand(rng, N), rand(rng, N)
    s = allo.customize(dot)
    s.pipeline("i")
    got, cycles = run(s, A, B)
    assert got == int(np.dot(A.astype(np.int64), B.astype(np.int64)))
    assert pipelines(s)[0].ii == 1
    assert cycles <= N + 6


@pytest.mark.parametrize("kernel", [gemm_acc, gemm_inplace])
def test_gemm_flattened_at_ii_1(kernel):
    rng = np.random.default_rng(3)
    A, B = rand(rng, (8, 8)), rand(rng, (8, 8))
    s = allo.customize(kernel)
    s.pipeline("k")
    got, cycles = run(s, A, B)
    np.testing.assert_array_equal(got, A.astype(np.int64) @ B.astype(np.int64))
    (p,) = pipelines(s)
    assert [lv.var.name for lv in p.levels] == ["i", "j", "k"]  # flattened with i and j
    assert p.ii == 1
    fill = 64 if kernel is gemm_inplace else 0  # `+=` reads C, so its zero fill stays
    assert cycles <= fill + 512 + 6


def two_reads(A: int32[N]) -> int32[N]:
    B: int32[N] = 0
    for i in range(N - 1):
        B[i] = A[i] + A[i + 1]
    return B


def test_two_reads_of_one_port_need_ii_2():
    rng = np.random.default_rng(4)
    A = rand(rng, N)
    s = allo.customize(two_reads)
    s.pipeline("i")
    with pytest.warns(allo.ScheduleWarning) as record:
        got, _ = run(s, A)
    line = two_reads.__code__.co_firstlineno + 2
    assert str(record[0].message) == (
        f"{__file__}:{line}:5: loop S_i_0.i is pipelined at II=2, not the requested II=1: "
        "array `A` has one read port and 2 reads per iteration"
    )
    want = np.zeros(N, np.int32)
    want[:-1] = A[:-1] + A[1:]
    np.testing.assert_array_equal(got, want)
    (p,) = pipelines(s)
    assert (p.ii, p.requested_ii) == (2, 1)
    assert p.reasons == ("II<2: array `A` has one read port and 2 reads per iteration",)


def horner(A: int32[N], x: int32) -> int32:
    acc: int32 = 0
    for i in range(N):
        acc = acc * x + A[i]
    return acc


def test_recurrence_through_a_multiply_needs_ii_2():
    rng = np.random.default_rng(5)
    A = rand(rng, N, -3, 3)
    s = allo.customize(horner)
    s.pipeline("i")
    with pytest.warns(allo.ScheduleWarning, match="pipelined at II=2"):
        got, _ = run(s, A, 3)
    want = 0
    for a in A:
        want = ((want * 3 + int(a) + 2**31) % 2**32) - 2**31
    assert got == want
    (p,) = pipelines(s)
    assert p.ii == 2
    assert p.reasons == (
        "II=1: `acc` is read in cycle 0 of an iteration and written in cycle 1; "
        "the next iteration needs it 2 cycles after the read",
    )


def prefix(A: int32[N]):
    for i in range(N - 1):
        A[i + 1] = A[i] * 3 + 1


def test_memory_recurrence_is_kept():
    rng = np.random.default_rng(6)
    A = rand(rng, N)
    s = allo.customize(prefix)
    s.pipeline("i")
    got_args = A.copy()
    with pytest.warns(allo.ScheduleWarning, match="read again 1 iteration"):
        run(s, got_args)
    want = A.astype(np.int64)
    for i in range(N - 1):
        want[i + 1] = (want[i] * 3 + 1 + 2**31) % 2**32 - 2**31
    np.testing.assert_array_equal(got_args, want.astype(np.int32))
    (p,) = pipelines(s)
    assert p.ii > 1
    assert any("array `A`" in r and "read again 1 iteration(s) later" in r for r in p.reasons)


def clipped(A: int16[N], lim: int16) -> int16[N]:
    B: int16[N] = 0
    for i in range(N):
        v: int16 = A[i]
        if v > lim:
            v = lim
        elif v < -lim:
            v = -lim
        B[i] = v
    return B


def test_branches_in_a_pipelined_loop_become_guards():
    rng = np.random.default_rng(7)
    A = rand(rng, N, -500, 500, np.int16)
    s = allo.customize(clipped)
    s.pipeline("i")
    got, cycles = run(s, A, 200)
    np.testing.assert_array_equal(got, np.clip(A, -200, 200))
    assert pipelines(s)[0].ii == 1
    assert cycles <= N + 4


def row_sums(A: int8[N, 4]) -> int32[N]:
    S: int32[N] = 0
    for i in range(N):
        acc: int32 = 0
        for k in range(4):
            acc += A[i, k]
        S[i] = acc
    return S


def test_inner_loops_of_a_pipelined_loop_are_unrolled():
    rng = np.random.default_rng(8)
    A = rand(rng, (N, 4), dtype=np.int8)
    s = allo.customize(row_sums)
    s.pipeline("i")
    with pytest.warns(allo.ScheduleWarning, match="4 reads per iteration"):
        got, _ = run(s, A)
    np.testing.assert_array_equal(got, A.astype(np.int32).sum(axis=1))
    (p,) = pipelines(s)
    assert [lv.var.name for lv in p.levels] == ["i"]
    assert p.ii == 4  # four reads of A per iteration on one read port


def scale(A: int32[10], k: int32) -> int32[10]:
    B: int32[10] = 0
    for i in range(10):
        B[i] = A[i] * k
    return B


@pytest.mark.parametrize("factor", [0, 2, 3, 4, 10, 11])
def test_unroll_keeps_results(factor):
    rng = np.random.default_rng(9)
    A = rand(rng, 10)
    s = allo.customize(scale)
    s.unroll("i", factor)
    got, _ = run(s, A, -7)
    np.testing.assert_array_equal(got, A * -7)


def test_unrolled_and_pipelined_loop():
    rng = np.random.default_rng(10)
    A, B = rand(rng, N), rand(rng, N)
    s = allo.customize(vadd)
    s.unroll("i", 2)
    s.pipeline("i")
    with pytest.warns(allo.ScheduleWarning, match="2 reads per iteration"):
        got, _ = run(s, A, B)
    np.testing.assert_array_equal(got, A + B)
    (p,) = pipelines(s)
    assert p.trips == N // 2
    assert p.ii == 2  # two reads of A and of B per iteration, one port each (no partition)


def test_report_lists_loops_and_arrays():
    s = allo.customize(gemm_acc)
    s.pipeline("k")
    report = build_report(lower(s.module))  # what mod.report() shows, without elaborating
    (loop,) = report.loops
    assert (loop.name, loop.trips, loop.requested_ii, loop.achieved_ii) == ("C.k", 512, 1, 1)
    assert loop.latency == 511 + loop.depth
    assert loop.flattened == ("i", "j")
    assert [(a.name, a.storage) for a in report.arrays] == [
        ("A", "external (shell memory)"),
        ("B", "external (shell memory)"),
        ("C", "external (shell memory)"),
    ]
    text = str(report)
    assert "C.k" in text and "flattened with i, j" in text


def poly(A: int32[N], x: int32) -> int32[N]:
    B: int32[N] = 0
    for i in range(N):
        a: int32 = A[i]
        B[i] = ((((a + x) ^ (a - x)) + ((a | x) - (a & x))) ^ (a + 3)) + ((a - 5) ^ (x + 7))
    return B


def poly_ref(A, x):
    a = A.astype(np.int64)
    v = ((((a + x) ^ (a - x)) + ((a | x) - (a & x))) ^ (a + 3)) + ((a - 5) ^ (x + 7))
    return ((v + 2**31) % 2**32 - 2**31).astype(np.int32)


@pytest.mark.parametrize(("family", "clock", "registers"), [
    ("generic", 50, 0), ("generic", 400, 1), ("ice40", 48, 1), ("ecp5", 250, 1),
])  # fmt: skip
def test_clock_budget_inserts_pipeline_registers(family, clock, registers):
    rng = np.random.default_rng(11)
    A = rand(rng, N, -(2**30), 2**30)
    s = allo.customize(poly)
    s.pipeline("i")
    fsmd = lower(s.module, target_model(family, clock))
    (p,) = [p for p in fsmd.pipelines if "_init." not in p.name]
    regs = [op for op in p.ops if op.kind == "reg"]
    assert bool(regs) == bool(registers)
    assert p.ii == 1
    got, _ = run_model(s, family, clock, A, 9)
    np.testing.assert_array_equal(got, poly_ref(A, 9))


@pytest.mark.parametrize(("clock", "late"), [(100, True), (50, False)])
def test_ecp5_block_ram_data_are_registered_before_logic_at_100_mhz(clock, late):
    """DP16KD read data arrive about 7 ns into the cycle (clock-to-output and routing): at
    100 MHz the add of a vector add takes them from a pipeline register (a vector add was
    77 MHz without it, 113.5 with it, out of context); at 50 MHz they are used directly."""
    s = allo.customize(vadd)
    s.pipeline("i")
    fsmd = lower(s.module, target_model("ecp5", clock))
    (p,) = [p for p in fsmd.pipelines if "_init." not in p.name]
    loads = {op.sym for op in p.ops if op.kind == "load"}
    regs = [op for op in p.ops if op.kind == "reg"]
    assert sorted(r.value.sym.name for r in regs) == (sorted(s.name for s in loads) if late else [])
    assert p.ii == 1
    A, B = np.arange(N, dtype=np.int32) * 9 - 50, np.arange(N, dtype=np.int32) * -4
    got, _ = run_model(s, "ecp5", clock, A, B)
    np.testing.assert_array_equal(got, A + B)


def run_model(s, family, clock, *args):
    """The harness run of ``s`` lowered for a target family and clock."""
    import amaranth_harness

    original = amaranth_harness.lower
    amaranth_harness.lower = lambda module: original(module, target_model(family, clock))
    try:
        return run(s, *args)
    finally:
        amaranth_harness.lower = original


def test_unknown_family_and_bad_clock_are_build_errors():
    s = allo.customize(vadd)
    with pytest.raises(
        allo.BuildError, match="unknown target family 'xc7'; families: generic, ice40, ecp5"
    ):
        s.build(target="amaranth", family="xc7")
    with pytest.raises(allo.BuildError, match="clock_mhz must be a positive number of MHz, not 0"):
        s.build(target="amaranth", clock_mhz=0)


def repeated(A: int32[8], n: int32) -> int32[8]:
    C: int32[8] = 0
    for _r in range(n):
        for j in range(8):
            C[j] = C[j] + A[j]
    return C


def test_a_pipeline_runs_again_in_every_iteration_of_a_sequential_loop():
    """The outer loop has a run-time bound (not flattened): its latch runs in the
    pipeline's last cycle and the pipeline starts over in the next one."""
    A = np.arange(8, dtype=np.int32) + 1
    s = allo.customize(repeated)
    s.pipeline("j")
    got, cycles = run(s, A, 3)
    np.testing.assert_array_equal(got, 3 * A)
    assert cycles <= 8 + 3 * (8 + 3) + 4


def prefix_sum(A: int32[N], lo: int32, n: int32) -> int32:
    acc: int32 = 0
    for i in range(lo, n):
        acc += A[i] * 2
    return acc


@pytest.mark.parametrize(("lo", "n"), [(0, N), (3, 17), (5, 5), (9, 2), (0, 1)])
def test_pipelined_loop_with_run_time_bounds(lo, n):
    A = np.arange(N, dtype=np.int32) * 3 - 11
    s = allo.customize(prefix_sum)
    s.pipeline("i")
    got, cycles = run(s, A, lo, n)
    assert got == int(sum(2 * int(a) for a in A[lo:n]))
    (p,) = pipelines(s)
    assert (p.ii, p.trips) == (1, None)
    assert cycles <= max(0, n - lo) + 6


def triangle(A: int32[N, N]) -> int32[N]:
    S: int32[N] = 0
    for i in range(N):
        acc: int32 = 0
        for j in range(i, N):
            acc += A[i, j]
        S[i] = acc
    return S


def test_pipelined_inner_loop_of_a_triangular_nest():
    rng = np.random.default_rng(12)
    A = rand(rng, (N, N))
    s = allo.customize(triangle)
    s.pipeline("j")
    got, cycles = run(s, A)
    want = np.array([A[i, i:].astype(np.int64).sum() for i in range(N)], dtype=np.int64)
    np.testing.assert_array_equal(got, want.astype(np.int32))
    assert cycles <= N * (N + 1) // 2 + 6 * N
