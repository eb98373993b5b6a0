"""Every primitive in a schedule that reaches its initiation interval, with RTL results equal
to NumPy's (Amaranth simulator): the achieved-II test of each primitive."""

import warnings

import numpy as np
from amaranth_harness import run

import allo_rtl as allo
from allo_rtl.ir.types import int32
from allo_rtl.lowering import lower

M = 8


def gemm(A: int32[M, M], B: int32[M, M]) -> int32[M, M]:
    C: int32[M, M] = 0
    for i, j in allo.grid(M, M, name="C"):
        for k in allo.reduction(M):
            C[i, j] += A[i, k] * B[k, j]
    return C


def scaled(A: int32[M, M]) -> int32[M, M]:
    B: int32[M, M] = 0
    for i, j in allo.grid(M, M, name="B"):
        B[i, j] = A[i, j] * 3 + 1
    return B


def inputs(seed):
    rng = np.random.default_rng(seed)
    return [rng.integers(-50, 50, (M, M)).astype(np.int32) for _ in range(2)]


def iis(s):
    """Achieved IIs of the user's pipelines (fills left out), outermost first."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", allo.ScheduleWarning)  # a missed II fails the test
        fsmd = lower(s.module)
    return [p.ii for p in fsmd.pipelines if "_init." not in p.name or p.name.startswith("C.")]


def check_gemm(s, seed=0):
    A, B = inputs(seed)
    got, cycles = run(s, A, B)
    np.testing.assert_array_equal(got, A.astype(np.int64) @ B)
    return cycles


def test_reorder_then_pipeline():
    s = allo.customize(gemm)
    s.reorder("k", "j")
    s.pipeline("j")  # C[i, j] at distance M: no recurrence
    assert 1 in iis(s) and set(iis(s)) == {1}
    assert check_gemm(s) <= 64 + M**3 + 8


def test_split_then_pipeline_the_inner_loop():
    s = allo.customize(scaled)
    s.split("j", 4)
    s.pipeline("j.inner")
    assert set(iis(s)) == {1}
    (A, _) = inputs(1)
    got, cycles = run(s, A)
    np.testing.assert_array_equal(got, A * 3 + 1)
    assert cycles <= 2 * M * M + 4  # the fill of B (kept: indices no longer plain) + M*M


def test_fuse_then_pipeline():
    s = allo.customize(scaled)
    fused = s.fuse("i", "j")
    s.pipeline(fused)
    assert set(iis(s)) == {1}
    (A, _) = inputs(2)
    got, cycles = run(s, A)
    np.testing.assert_array_equal(got, A * 3 + 1)
    assert cycles <= 2 * M * M + 4  # the fill of B (kept: indices are // and %) + M*M


def test_buffer_at_then_pipeline():
    s = allo.customize(gemm)
    s.reorder("k", "j")
    s.buffer_at(s.C, axis="i")
    s.pipeline("j")
    assert set(iis(s)) == {1}
    check_gemm(s, 3)


def test_unroll_and_partition_then_pipeline():
    s = allo.customize(gemm)
    s.reorder("k", "j")
    buf = s.buffer_at(s.C, axis="i")
    s.partition(s.B, allo.Partition.Cyclic, dim=2, factor=2)
    s.partition(buf, allo.Partition.Cyclic, dim=1, factor=2)
    s.unroll("j", 2)
    s.pipeline("j")
    assert set(iis(s)) == {1}
    check_gemm(s, 4)


def blur(A: int32[M, M]) -> int32[M - 2, M - 2]:
    B: int32[M - 2, M - 2] = 0
    for y, x in allo.grid(M - 2, M - 2, name="B"):
        B[y, x] = A[y, x] + A[y + 1, x + 1] * 2 + A[y + 2, x + 2] + A[y, x + 2] - A[y + 2, x]
    return B


def test_reuse_at_and_partition_then_pipeline():
    s = allo.customize(blur)
    lb = s.reuse_at(s.A, "y")
    wb = s.reuse_at(lb, "x")
    s.partition(lb, allo.Partition.Complete, dim=1)
    s.partition(wb, allo.Partition.Complete)
    s.pipeline("x")
    assert set(iis(s)) == {1}
    (A, _) = inputs(5)
    got, cycles = run(s, A)
    a = A.astype(np.int64)
    want = a[:-2, :-2] + a[1:-1, 1:-1] * 2 + a[2:, 2:] + a[:-2, 2:] - a[2:, :-2]
    np.testing.assert_array_equal(got, want)
    assert cycles <= M * M + 3 * M + 9 + 4  # one input element per cycle, plus buffer fills


def producer_consumer(A: int32[M]) -> int32[M]:
    T: int32[M] = 0
    for i in range(M):
        T[i] = A[i] + 1
    B: int32[M] = 0
    for j in range(M):
        B[j] = T[j] * 2
    return B


def test_compute_at_then_pipeline():
    s = allo.customize(producer_consumer)
    s.compute_at("i", "j")
    s.pipeline("j")
    assert set(iis(s)) == {1}
    A = np.arange(M, dtype=np.int32) - 3
    got, _ = run(s, A)
    np.testing.assert_array_equal(got, (A + 1) * 2)
