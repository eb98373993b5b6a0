"""Speed of the NumPy target (the reference executor), in innermost-loop iterations per second.

Run: .venv/bin/python benchmarks/reference_speed.py
Target (issue 2): >= 1 million innermost iterations per second on one core for int32 GEMM
64x64x64. Baselines on the same machine: the same loop nest written by hand in plain Python
(the fastest an interpreter-level reference can be) and vectorised NumPy (no per-element work).
"""

from __future__ import annotations

import time

import numpy as np

import allo_rtl as allo
from allo_rtl.ir.types import float32, int32

N = 64
L = 1 << 16  # stencil length


def gemm(A: int32[N, N], B: int32[N, N]) -> int32[N, N]:
    C: int32[N, N] = 0
    for i, j in allo.grid(N, N, name="C"):
        for k in allo.reduction(N):
            C[i, j] += A[i, k] * B[k, j]
    return C


def stencil3(A: float32[L]) -> float32[L]:
    B: float32[L] = 0.0
    for i in range(1, L - 1):
        B[i] = (A[i - 1] + A[i] + A[i + 1]) * 0.333333
    return B


def _best(fn, *args, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    return best


def _python_gemm(A, B):
    a, b = A.tolist(), B.tolist()
    c = [[0] * N for _ in range(N)]
    for i in range(N):
        for j in range(N):
            acc = 0
            for k in range(N):
                acc += a[i][k] * b[k][j]
            c[i][j] = ((acc + 2**31) & 0xFFFFFFFF) - 2**31
    return c


def _numpy_gemm(A, B):
    return (A.astype(np.int64) @ B.astype(np.int64)).astype(np.int32)


def _numpy_stencil(A):
    B = np.zeros_like(A)
    B[1:-1] = (A[:-2] + A[1:-1] + A[2:]) * np.float32(0.333333)
    return B


def main() -> None:
    rng = np.random.default_rng(1)
    A = rng.integers(-(2**31), 2**31, (N, N), dtype=np.int32)
    B = rng.integers(-(2**31), 2**31, (N, N), dtype=np.int32)
    mod = allo.customize(gemm).build()
    assert np.array_equal(mod(A, B), _numpy_gemm(A, B))
    iters = N**3
    rows = [
        ("allo_rtl numpy target", iters / _best(mod, A, B)),
        ("hand-written Python loops", iters / _best(_python_gemm, A, B)),
        ("vectorised NumPy", iters / _best(_numpy_gemm, A, B)),
    ]
    print(f"int32 GEMM {N}x{N}x{N}: innermost iterations per second (target >= 1.0e6)")
    for name, rate in rows:
        print(f"  {name:28s} {rate:12.3e}")
    print(f"  target met: {rows[0][1] >= 1e6}")

    X = rng.uniform(-1, 1, L).astype(np.float32)
    smod = allo.customize(stencil3).build()
    assert np.array_equal(smod(X), _numpy_stencil(X))
    print(f"float32 3-point stencil N={L}: innermost iterations per second")
    print(f"  {'allo_rtl numpy target':28s} {(L - 2) / _best(smod, X):12.3e}")
    print(f"  {'vectorised NumPy':28s} {(L - 2) / _best(_numpy_stencil, X):12.3e}")


if __name__ == "__main__":
    main()
