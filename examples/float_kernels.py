"""float32 kernels of issue 7's figures (benchmarks/float_kernels.py measures them).

Each ``schedule_*`` function customizes one kernel and returns the schedule. All of them are
strict (the float additions happen in program order) except the ``*_reassociated`` ones; the
RTL gives the NumPy target's bits in every case.
"""

import allo_rtl as allo
from allo_rtl.ir.types import float32

N = 1024
M = 16


def dot(A: float32[N], B: float32[N]) -> float32:
    acc: float32 = 0.0
    for i in range(N):
        acc += A[i] * B[i]
    return acc


def gemm16(A: float32[M, M], B: float32[M, M]) -> float32[M, M]:
    C: float32[M, M] = 0.0
    for i, j in allo.grid(M, M, name="C"):
        for k in allo.reduction(M):
            C[i, j] += A[i, k] * B[k, j]
    return C


def gemm16_acc(A: float32[M, M], B: float32[M, M]) -> float32[M, M]:
    """``gemm16`` with each dot product in a scalar (what ``reassociate`` splits)."""
    C: float32[M, M] = 0.0
    for i, j in allo.grid(M, M, name="C"):
        acc: float32 = 0.0
        for k in allo.reduction(M):
            acc += A[i, k] * B[k, j]
        C[i, j] = acc
    return C


def schedule_dot() -> allo.Schedule:
    """One multiply-add per iteration; the running sum limits the II to the adder latency."""
    s = allo.customize(dot)
    s.pipeline("i")
    return s


def schedule_dot_reassociated(factor: int = 4) -> allo.Schedule:
    """The opt-in: ``factor`` interleaved partial sums (primitives/reassociate.py) give II=1
    once ``factor`` exceeds the adder's latency (3 on the generic target, 6 on the ECP5 at
    100 MHz); the result is allclose to, not bit-equal with, the strict sum."""
    s = allo.customize(dot)
    s.pipeline("i")
    s.reassociate("i", factor)
    return s


def schedule_gemm16_inner() -> allo.Schedule:
    """The k loop pipelined (flattened with i and j): each C[i, j] is a running sum, so the
    II is the adder latency, as for the dot product."""
    s = allo.customize(gemm16)
    s.pipeline("k")
    return s


def schedule_gemm16_rowwise() -> allo.Schedule:
    """Allo's row-wise product: k outside j, a row buffer for C, j pipelined. Consecutive
    iterations update different elements of the row, so the adder's latency is hidden and the
    II is 1 while every sum keeps its order."""
    s = allo.customize(gemm16)
    s.reorder("k", "j")
    s.buffer_at(s.C, axis="i")
    s.pipeline("j")
    return s


def schedule_gemm16_reassociated(factor: int = 8) -> allo.Schedule:
    """k pipelined with ``factor`` interleaved partial sums per dot product: II=1 once the
    factor exceeds the adder's latency (6 stages on the ECP5 at 100 MHz), but every C[i, j]
    then pays the pipeline's fill and the sum of the partial sums (the nest is not perfect):
    for 16 terms the row-wise schedule is the better one."""
    s = allo.customize(gemm16_acc)
    s.pipeline("k")
    s.reassociate("k", factor)
    return s


def reference(A, B):
    """C = A @ B with float32 sums in k order (the order of the kernel)."""
    import numpy as np

    C = np.zeros((A.shape[0], B.shape[1]), dtype=np.float32)
    for k in range(A.shape[1]):
        C += np.outer(A[:, k], B[k, :]).astype(np.float32)
    return C


def reference_reassociated(A, B, factor: int = 8):
    """``schedule_gemm16_reassociated``'s order: partial sum ``k % factor`` of each C[i, j],
    then the partial sums added in order to 0."""
    import numpy as np

    C = np.zeros((A.shape[0], B.shape[1]), dtype=np.float32)
    for i in range(A.shape[0]):
        for j in range(B.shape[1]):
            part = [np.float32(0)] * factor
            for k in range(A.shape[1]):
                part[k % factor] = np.float32(part[k % factor] + np.float32(A[i, k] * B[k, j]))
            acc = np.float32(0)
            for p in part:
                acc = np.float32(acc + p)
            C[i, j] = acc
    return C
