"""Kernels written as Allo's documentation writes them run after changing only the imports.

`import allo` becomes `import allo_rtl as allo`, `from allo.ir.types import ...` becomes
`from allo_rtl.ir.types import ...`; the rest (customize, build, the call) is unchanged, including
Allo's default CPU target name "llvm".
"""

import numpy as np

import allo_rtl as allo
from allo_rtl.ir.types import float32, int32

M, N, K = 16, 12, 8


def gemm_int(A: int32[M, K], B: int32[K, N]) -> int32[M, N]:
    C: int32[M, N] = 0
    for i, j in allo.grid(M, N):
        for k in allo.reduction(K):
            C[i, j] += A[i, k] * B[k, j]
    return C


def gemm_float(A: float32[M, K], B: float32[K, N]) -> float32[M, N]:
    C: float32[M, N] = 0.0
    for i, j in allo.grid(M, N):
        for k in allo.reduction(K):
            C[i, j] += A[i, k] * B[k, j]
    return C


def _float32_gemm(A, B):
    """Sequential float32 accumulation in k order, rounding after every operation."""
    C = np.zeros((M, N), dtype=np.float32)
    for i in range(M):
        for j in range(N):
            acc = np.float32(0)
            for k in range(K):
                acc = np.float32(acc + np.float32(A[i, k] * B[k, j]))
            C[i, j] = acc
    return C


def test_int32_gemm_default_build():
    rng = np.random.default_rng(11)
    A = rng.integers(-100, 100, (M, K), dtype=np.int32)
    B = rng.integers(-100, 100, (K, N), dtype=np.int32)
    s = allo.customize(gemm_int)
    mod = s.build()
    np.testing.assert_array_equal(mod(A, B), A @ B)


def test_float32_gemm_llvm_target_name():
    rng = np.random.default_rng(12)
    A = rng.uniform(-1, 1, (M, K)).astype(np.float32)
    B = rng.uniform(-1, 1, (K, N)).astype(np.float32)
    mod = allo.customize(gemm_float).build(target="llvm")
    np.testing.assert_array_equal(mod(A, B), _float32_gemm(A, B))


def test_unnamed_grid_band_names_follow_allo():
    loops = allo.customize(gemm_int).get_loops()
    assert [name for name, _ in loops] == ["S_i_j_0"]
    assert str(loops.S_i_j_0.k) == "gemm_int:S_i_j_0.k"


def test_sizes_from_the_defining_frame_and_string_annotations():
    L = 6  # used only in annotations: not a closure variable, found in the calling frame

    def scale(A: "int32[L]", f: int32) -> "int32[L]":
        B: int32[L] = 0
        for i in range(6):
            B[i] = A[i] * f
        return B

    A = np.arange(L, dtype=np.int32)
    np.testing.assert_array_equal(allo.customize(scale).build()(A, 3), A * 3)
