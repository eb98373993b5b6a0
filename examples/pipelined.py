"""Pipelined kernels of the acceptance figures (benchmarks/pipeline_cycles.py measures them).

Each ``schedule_*`` function customizes one kernel and returns the schedule.
"""

import allo_rtl as allo
from allo_rtl.ir.types import int8, int32

N = 1024
M = 16


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


def gemm16(A: int32[M, M], B: int32[M, M]) -> int32[M, M]:
    C: int32[M, M] = 0
    for i, j in allo.grid(M, M, name="C"):
        acc: int32 = 0
        for k in allo.reduction(M):
            acc += A[i, k] * B[k, j]
        C[i, j] = acc
    return C


def schedule_vadd() -> allo.Schedule:
    s = allo.customize(vadd)
    s.pipeline("i")
    return s


def schedule_dot() -> allo.Schedule:
    s = allo.customize(dot)
    s.pipeline("i")
    return s


def schedule_gemm16() -> allo.Schedule:
    s = allo.customize(gemm16)
    s.pipeline("k")  # flattened with i and j: one multiply-accumulate per cycle
    return s


K = 32


def gemm32(A: int32[K, K], B: int32[K, K]) -> int32[K, K]:
    C: int32[K, K] = 0
    for i, j in allo.grid(K, K, name="C"):
        for k in allo.reduction(K):
            C[i, j] += A[i, k] * B[k, j]
    return C


def schedule_gemm32_rowwise() -> allo.Schedule:
    """Allo's row-wise product: reorder k outside j, a row buffer for C, pipeline j."""
    s = allo.customize(gemm32)
    s.reorder("k", "j")
    s.buffer_at(s.C, axis="i")
    s.pipeline("j")
    return s


H = W = 32


def blur(A: int32[H, W]) -> int32[H - 2, W - 2]:
    B: int32[H - 2, W - 2] = 0
    for y, x in allo.grid(H - 2, W - 2, name="B"):
        B[y, x] = (
            A[y, x] + A[y, x + 1] + A[y, x + 2]
            + A[y + 1, x] + A[y + 1, x + 1] + A[y + 1, x + 2]
            + A[y + 2, x] + A[y + 2, x + 1] + A[y + 2, x + 2]
        )  # fmt: skip
    return B


def schedule_blur() -> allo.Schedule:
    """Line buffer (reuse along y), window (reuse along x), pipeline x."""
    s, _ = _blur_buffers()
    return s


def _blur_buffers() -> tuple[allo.Schedule, allo.BufferHandle]:
    s = allo.customize(blur)
    lb = s.reuse_at(s.A, "y")
    wb = s.reuse_at(lb, "x")
    s.partition(lb, allo.Partition.Complete, dim=1)  # one bank per buffered row
    s.partition(wb, allo.Partition.Complete)  # the 3x3 window in registers
    s.pipeline("x")
    return s, lb


def schedule_blur_unrolled(factor: int = 2) -> allo.Schedule:
    """The blur with x unrolled by ``factor``: ``factor`` outputs per cycle, A, B and the line
    buffer cyclic by ``factor`` along x (one read of each bank of A per cycle, every element
    still read once). The unrolled window shifts write each window register once per cycle
    (the overwritten shifts are dropped), so x stays at II=1."""
    s, lb = _blur_buffers()
    for target, dim in ((s.A, 2), (s.B, 2), (lb, 2)):
        s.partition(target, allo.Partition.Cyclic, dim=dim, factor=factor)
    s.unroll("x", factor)
    return s


def schedule_gemm32_unrolled(factor: int = 4) -> allo.Schedule:
    """The row-wise product with j unrolled by ``factor``: ``factor`` multiply-accumulates per
    cycle on ``factor`` banks of B, C and the row buffer."""
    return _rowwise_unrolled(allo.customize(gemm32), factor)


def _rowwise_unrolled(s: allo.Schedule, factor: int) -> allo.Schedule:
    """Row-wise product (k outside j, a row buffer for C), j unrolled by ``factor`` on cyclic
    partitions of B, C and the buffer, every j loop pipelined."""
    s.reorder("k", "j")
    buf = s.buffer_at(s.C, axis="i")
    for target, dim in ((s.B, 2), (s.C, 2), (buf, 1)):
        s.partition(target, allo.Partition.Cyclic, dim=dim, factor=factor)
    for loop in ("j", "j_init", "j_back"):
        s.unroll(loop, factor)
        s.pipeline(loop)
    return s


def gemm16_int8(A: int8[M, M], B: int8[M, M]) -> int32[M, M]:
    C: int32[M, M] = 0
    for i, j in allo.grid(M, M, name="C"):
        for k in allo.reduction(M):
            C[i, j] += A[i, k] * B[k, j]
    return C


def schedule_gemm16_int8_unrolled(factor: int = 8) -> allo.Schedule:
    """int8 x int8 -> int32 GEMM, row-wise, j unrolled by ``factor``: ``factor`` 8x8
    multiplies per cycle (on the iCEBreaker, one SB_MAC16 each: all 8 with factor 8)."""
    return _rowwise_unrolled(allo.customize(gemm16_int8), factor)


T = 32


def triangle(A: int32[T, T]) -> int32[T]:
    """Row sums of the upper triangle: the inner loop's bounds depend on the row."""
    S: int32[T] = 0
    for i in range(T):
        acc: int32 = 0
        for j in range(i, T):
            acc += A[i, j]
        S[i] = acc
    return S


def schedule_triangle(rewind: bool = True) -> allo.Schedule:
    """j pipelined; with ``rewind`` the rows run as one stream of iterations (the nest is
    flattened, j's bounds computed for each row), else each row fills and drains."""
    s = allo.customize(triangle)
    s.pipeline("j", rewind=rewind)
    return s
