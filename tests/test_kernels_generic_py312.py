"""Python 3.12 generic kernels (PEP 695 type parameters), instantiated with
``allo.customize(f, instantiate=[...])`` and at call sites ``f[T, M](...)``.

This file is skipped on Python < 3.12 by tests/conftest.py (collect_ignore_glob)."""

import warnings

import numpy as np

import allo_rtl as allo
from allo_rtl.ir.types import float32, int8, int16, int32


def run_schedule(s, *args):
    mod = s.build()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        return mod(*args)


def check(out, ref):
    ref = np.asarray(ref)
    assert isinstance(out, np.ndarray), type(out)
    assert out.dtype == ref.dtype, (out.dtype, ref.dtype)
    assert out.shape == ref.shape, (out.shape, ref.shape)
    np.testing.assert_array_equal(out, ref)


def vadd_g[T: (int32, float32), L: int32](A: "T[L]", B: "T[L]") -> "T[L]":
    C: T[L] = 0
    for i in range(L):
        C[i] = A[i] + B[i]
    return C


def test_generic_vadd_int32_and_float32():
    rng = np.random.default_rng(400)
    A = rng.integers(-(2**31), 2**31, 16, dtype=np.int64).astype(np.int32)
    B = rng.integers(-(2**31), 2**31, 16, dtype=np.int64).astype(np.int32)
    out = run_schedule(allo.customize(vadd_g, instantiate=[int32, 16]), A, B)
    check(out, (A.astype(np.int64) + B).astype(np.int32))  # wraps on store

    X = rng.normal(size=8).astype(np.float32)
    Y = rng.normal(size=8).astype(np.float32)
    check(run_schedule(allo.customize(vadd_g, instantiate=[float32, 8]), X, Y), X + Y)


def gemm_g[T, Acc, M: int32, K: int32, N: int32](A: "T[M, K]", B: "T[K, N]") -> "Acc[M, N]":
    C: Acc[M, N] = 0
    for i, j in allo.grid(M, N, name="C"):
        for k in allo.reduction(K):
            C[i, j] += A[i, k] * B[k, j]
    return C


def test_generic_gemm_mixed_precision():
    rng = np.random.default_rng(401)
    A = rng.integers(-128, 128, (6, 7), dtype=np.int8)
    B = rng.integers(-128, 128, (7, 5), dtype=np.int8)
    s = allo.customize(gemm_g, instantiate=[int8, int32, 6, 7, 5])
    check(run_schedule(s, A, B), A.astype(np.int32) @ B.astype(np.int32))
    # int16 accumulator: every partial sum wraps to 16 bits, the final result is the sum mod 2**16
    s16 = allo.customize(gemm_g, instantiate=[int8, int16, 6, 7, 5])
    check(run_schedule(s16, A, B), (A.astype(np.int64) @ B.astype(np.int64)).astype(np.int16))


def scale_g[T, L: int32](A: "T[L]", f: "T") -> "T[L]":
    B: T[L] = 0
    for i in range(L):
        B[i] = A[i] * f
    return B


def top_calls(A: int32[16], B: int32[16]) -> int32[16]:
    C = vadd_g[int32, 16](A, B)
    D = scale_g[int32, 16](C, 3)
    E = vadd_g[int32, 16](D, A)
    return E


def test_generic_call_sites():
    rng = np.random.default_rng(402)
    A = rng.integers(-1000, 1000, 16, dtype=np.int32)
    B = rng.integers(-1000, 1000, 16, dtype=np.int32)
    check(run_schedule(allo.customize(top_calls), A, B), (A + B) * 3 + A)


def top_calls_float(X: float32[8]) -> float32[8]:
    Y = scale_g[float32, 8](X, 0.5)
    Z = vadd_g[float32, 8](Y, X)
    return Z


def test_generic_call_sites_float32():
    rng = np.random.default_rng(403)
    X = rng.normal(size=8).astype(np.float32)
    check(run_schedule(allo.customize(top_calls_float), X), X * np.float32(0.5) + X)


def sum_g[T, L: int32](A: "T[L]") -> "T":
    s: T = 0
    for i in range(L):
        s += A[i]
    return s


def test_generic_scalar_return_int8_wraps():
    A = np.full(10, 100, dtype=np.int8)
    out = run_schedule(allo.customize(sum_g, instantiate=[int8, 10]), A)
    assert type(out) is int and out == ((1000 + 128) % 256) - 128
