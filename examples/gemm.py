"""The default example: int32 GEMM in Allo's syntax, with an independent NumPy reference."""

import numpy as np

import allo_rtl as allo
from allo_rtl.ir.types import int32

M, N, K = 32, 32, 32


def gemm(A: int32[M, K], B: int32[K, N]) -> int32[M, N]:
    C: int32[M, N] = 0
    for i, j in allo.grid(M, N, name="C"):
        for k in allo.reduction(K):
            C[i, j] += A[i, k] * B[k, j]
    return C


def reference(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """What `gemm` must compute: int32 matrix product with 32-bit wrap-around."""
    return (A.astype(np.int64) @ B.astype(np.int64)).astype(np.int32)
