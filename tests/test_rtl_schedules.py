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


def blur_schedule(unroll: int = 1) -> allo.Schedule:
    """Line buffer and window (registers), x pipelined; x unrolled by ``unroll`` on cyclic
    partitions of A, B and the line buffer."""
    s = allo.customize(blur)
    lb = s.reuse_at(s.A, "y")
    wb = s.reuse_at(lb, "x")
    s.partition(lb, allo.Partition.Complete, dim=1)
    s.partition(wb, allo.Partition.Complete)
    if unroll > 1:
        for target in (s.A, s.B, lb):
            s.partition(target, allo.Partition.Cyclic, dim=2, factor=unroll)
        s.unroll("x", unroll)
    s.pipeline("x")
    return s


def ref_blur(A):
    a = A.astype(np.int64)
    return a[:-2, :-2] + a[1:-1, 1:-1] * 2 + a[2:, 2:] + a[:-2, 2:] - a[2:, :-2]


def test_reuse_at_and_partition_then_pipeline():
    s = blur_schedule()
    assert set(iis(s)) == {1}
    (A, _) = inputs(5)
    got, cycles = run(s, A)
    np.testing.assert_array_equal(got, ref_blur(A))
    assert cycles <= M * M + 6  # one input element per cycle (the buffers are not filled)


def test_reuse_at_with_the_stencil_loop_unrolled_keeps_ii_1():
    # x unrolled by 2: each copy shifts the window; the first copy's shifts are overwritten by
    # the second's, so every window register is written once per iteration (one write port)
    s = blur_schedule(unroll=2)
    assert iis(s) == [1]
    (A, _) = inputs(9)
    got, cycles = run(s, A)
    np.testing.assert_array_equal(got, ref_blur(A))
    assert cycles <= M * M // 2 + 8  # two input elements per cycle


def shifts(A: int32[M]) -> int32[M]:
    B: int32[M] = 0
    w: int32[3] = 0
    for i in range(M):
        w[0] = w[1]
        w[1] = w[2]
        w[2] = A[i]
        B[i] = w[0] + w[1] * 2 + w[2] * 3
    return B


def test_overwritten_register_stores_are_dropped_in_an_unrolled_pipeline():
    s = allo.customize(shifts)
    s.partition(s.w, allo.Partition.Complete)
    for target in (s.A, s.B):
        s.partition(target, allo.Partition.Cyclic, dim=1, factor=4)
    s.unroll("i", 4)
    s.pipeline("i")
    assert iis(s) == [1]  # 4 shifts per iteration, one write of each register
    (A, _) = inputs(3)
    got, _ = run(s, A[0])
    a = np.concatenate([[0, 0], A[0].astype(np.int64)])
    np.testing.assert_array_equal(got, a[:-2] + a[1:-1] * 2 + a[2:] * 3)


def blur_twice(A: int32[M, M], A2: int32[M, M]) -> int32[M - 2, M - 2]:
    B1 = blur(A)
    B2 = blur(A2)
    C: int32[M - 2, M - 2] = 0
    for y, x in allo.grid(M - 2, M - 2, name="C"):
        C[y, x] = B1[y, x] * 3 + B2[y, x]
    return C


def test_reuse_buffers_are_not_filled_and_stale_contents_do_not_matter():
    # the reuse buffers are scratch: no fill loop before the stencil, so the second call of
    # the one blur instance starts with the first call's rows in its line buffer
    s = allo.customize(blur_twice)
    s.compose(blur_schedule())
    fsmd = lower(s.module)
    ((_, callee),) = {f.name: (n, f) for n, f in fsmd.callees}.values()
    assert [p.name for p in callee.pipelines] == ["B.x"]  # no B_reuse_*_init fill loops
    (A, A2) = inputs(7)
    got, _ = run(s, A, A2)
    np.testing.assert_array_equal(got, ref_blur(A) * 3 + ref_blur(A2))


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
