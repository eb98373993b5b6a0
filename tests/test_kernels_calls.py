"""Kernels calling kernels: arrays by reference, array and scalar returns, repeated calls,
call chains, and the wrap-around of call arguments and returns (docs/semantics.md)."""

import warnings

import numpy as np

import allo_rtl as allo
from allo_rtl.ir.types import float32, index, int8, int32


def run(kernel, *args):
    mod = allo.customize(kernel).build()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        return mod(*args)


def check(out, ref):
    ref = np.asarray(ref)
    assert isinstance(out, np.ndarray), type(out)
    assert out.dtype == ref.dtype, (out.dtype, ref.dtype)
    assert out.shape == ref.shape, (out.shape, ref.shape)
    np.testing.assert_array_equal(out, ref)


def wrap(x, bits):
    x = int(x) & ((1 << bits) - 1)
    return x - (1 << bits) if x >> (bits - 1) else x


def arr(values, dtype):
    return np.array([int(v) for v in values], dtype=dtype)


N = 16
M, K = 6, 9


# ------------------------------------------------------------------------------------------
# Arrays by reference


def fill_seq(A: int32[N], start: int32):
    for i in range(N):
        A[i] = start + i


def call_fill(B: int32[N]) -> int32[N]:
    C: int32[N] = 0
    fill_seq(C, 5)
    for i in range(N):
        C[i] += B[i]
    return C


def test_callee_writes_caller_local_array():
    rng = np.random.default_rng(300)
    B = rng.integers(-1000, 1000, N, dtype=np.int32)
    check(run(call_fill, B), B + 5 + np.arange(N, dtype=np.int32))


def double_in_place(A: int32[N]):
    for i in range(N):
        A[i] = A[i] * 2


def quad_in_place(A: int32[N]):
    double_in_place(A)
    double_in_place(A)
    A[0] = A[0] + 1


def test_in_place_callee_on_caller_argument():
    rng = np.random.default_rng(301)
    A = rng.integers(-1000, 1000, N, dtype=np.int32)
    expect = A * 4
    expect[0] += 1
    assert run(quad_in_place, A) is None
    np.testing.assert_array_equal(A, expect)


# ------------------------------------------------------------------------------------------
# Array returns


def vec_add(A: int32[N], B: int32[N]) -> int32[N]:
    C: int32[N] = 0
    for i in range(N):
        C[i] = A[i] + B[i]
    return C


def add3(A: int32[N], B: int32[N], C: int32[N]) -> int32[N]:
    T = vec_add(A, B)
    R: int32[N] = vec_add(T, C)
    return R


def test_callee_returns_array_two_calls():
    rng = np.random.default_rng(302)
    A, B, C = (rng.integers(-1000, 1000, N, dtype=np.int32) for _ in range(3))
    check(run(add3, A, B, C), A + B + C)


def make_ramp(s: int32) -> int32[N]:
    R: int32[N] = 0
    for i in range(N):
        R[i] = s + i
    return R


def two_ramps(A: int32[N]) -> int32[N]:
    X = make_ramp(10)
    Y = make_ramp(100)
    Z: int32[N] = 0
    for i in range(N):
        Z[i] = X[i] * Y[i] + A[i]
    return Z


def test_returned_arrays_are_fresh():
    # the second call must not overwrite the array returned by the first one
    rng = np.random.default_rng(303)
    A = rng.integers(-1000, 1000, N, dtype=np.int32)
    r = np.arange(N, dtype=np.int32)
    check(run(two_ramps, A), (10 + r) * (100 + r) + A)


# ------------------------------------------------------------------------------------------
# Scalar returns


def sq(x: int32) -> int32:
    return x * x


def poly(A: int32[N]) -> int32[N]:
    B: int32[N] = 0
    for i in range(N):
        B[i] = sq(A[i]) + 2 * sq(A[i] + 1) - 3
    return B


def test_callee_scalar_return_in_expression():
    rng = np.random.default_rng(304)
    A = rng.integers(-30000, 30000, N, dtype=np.int32)
    ref = arr(
        [wrap(wrap(a * a, 32) + 2 * wrap((a + 1) ** 2, 32) - 3, 32) for a in map(int, A)],
        np.int32,
    )
    check(run(poly, A), ref)


def dot(A: int32[N], B: int32[N]) -> int32:
    s: int32 = 0
    for i in range(N):
        s += A[i] * B[i]
    return s


def dot_diff(A: int32[N], B: int32[N]) -> int32:
    return dot(A, B) - dot(B, B)


def test_two_calls_same_scalar_kernel():
    rng = np.random.default_rng(305)
    A = rng.integers(-100, 100, N, dtype=np.int32)
    B = rng.integers(-100, 100, N, dtype=np.int32)
    out = run(dot_diff, A, B)
    assert type(out) is int
    assert out == int(A @ B) - int(B @ B)


def row_dot(A: int32[M, K], x: int32[K], r: index) -> int32:
    s: int32 = 0
    for j in range(K):
        s += A[r, j] * x[j]
    return s


def matvec_call(A: int32[M, K], x: int32[K]) -> int32[M]:
    y: int32[M] = 0
    for i in range(M):
        y[i] = row_dot(A, x, i)
    return y


def test_call_in_loop_with_index_argument():
    rng = np.random.default_rng(306)
    A = rng.integers(-100, 100, (M, K), dtype=np.int32)
    x = rng.integers(-100, 100, K, dtype=np.int32)
    check(run(matvec_call, A, x), A @ x)


# ------------------------------------------------------------------------------------------
# Wrap-around at call boundaries


def ident8(x: int8) -> int32:
    return x


def inc8(x: int32) -> int8:
    return x + 1


def narrow_calls(A: int32[N]) -> (int32[N], int32[N]):
    B: int32[N] = 0
    C: int32[N] = 0
    for i in range(N):
        B[i] = ident8(A[i])
        C[i] = inc8(A[i])
    return B, C


def test_call_argument_and_return_wrap():
    rng = np.random.default_rng(307)
    A = rng.integers(-1000, 1000, N, dtype=np.int32)
    A[0], A[1] = 127, 200
    B, C = run(narrow_calls, A)
    check(B, arr([wrap(a, 8) for a in A], np.int32))
    check(C, arr([wrap(int(a) + 1, 8) for a in A], np.int32))
    assert B[1] == -56 and C[0] == -128


# ------------------------------------------------------------------------------------------
# Three-level chain, floats, nested definitions


def level3(x: int32) -> int32:
    return x * 3 + 1


def level2(A: int32[N], B: int32[N]):
    for i in range(N):
        B[i] = level3(A[i]) - A[i]


def level1(A: int32[N]) -> int32[N]:
    B: int32[N] = 0
    level2(A, B)
    for i in range(N):
        B[i] = B[i] * 2
    return B


def test_three_level_call_chain():
    rng = np.random.default_rng(308)
    A = rng.integers(-1000, 1000, N, dtype=np.int32)
    check(run(level1, A), ((A * 3 + 1) - A) * 2)


def fma_like(a: float32, b: float32, c: float32) -> float32:
    return a * b + c


def axpb(X: float32[N], Y: float32[N]) -> float32[N]:
    Z: float32[N] = 0.0
    for i in range(N):
        Z[i] = fma_like(X[i], Y[i], 0.5) - fma_like(Y[i], Y[i], X[i])
    return Z


def test_float_scalar_callee():
    rng = np.random.default_rng(309)
    X = rng.uniform(-5, 5, N).astype(np.float32)
    Y = rng.uniform(-5, 5, N).astype(np.float32)
    # two roundings per call (no fused multiply-add)
    check(run(axpb, X, Y), (X * Y + np.float32(0.5)) - (Y * Y + X))


def test_nested_kernels_with_closure_sizes():
    L = 12
    shift = 3

    def scale_row(A: int32[L], f: int32) -> int32[L]:
        B: int32[L] = 0
        for i in range(L):
            B[i] = A[i] * f + shift
        return B

    def top(A: int32[L]) -> int32[L]:
        B = scale_row(A, 2)
        C = scale_row(B, -1)
        for i in range(L):
            C[i] += L
        return C

    rng = np.random.default_rng(310)
    A = rng.integers(-1000, 1000, L, dtype=np.int32)
    check(run(top, A), ((A * 2 + shift) * -1 + shift) + L)


def swap_scale(A: int32[N], B: int32[N], f: int32):
    for i in range(N):
        t: int32 = A[i]
        A[i] = B[i] * f
        B[i] = t * f


def swap_twice(A: int32[N], B: int32[N]) -> int32[N]:
    swap_scale(A, B, 2)
    swap_scale(A, B, 3)
    D: int32[N] = 0
    for i in range(N):
        D[i] = A[i] - B[i]
    return D


def test_callee_mutates_two_caller_arguments():
    rng = np.random.default_rng(311)
    A = rng.integers(-1000, 1000, N, dtype=np.int32)
    B = rng.integers(-1000, 1000, N, dtype=np.int32)
    A0, B0 = A.copy(), B.copy()
    D = run(swap_twice, A, B)
    np.testing.assert_array_equal(A, A0 * 6)
    np.testing.assert_array_equal(B, B0 * 6)
    check(D, A0 * 6 - B0 * 6)


# ------------------------------------------------------------------------------------------
# Tuple returns from callees, calls inside while loops


def sum_diff(a: int32, b: int32) -> (int32, int32):
    return a + b, a - b


def use_tuple(A: int32[N], B: int32[N]) -> (int32[N], int32[N]):
    S: int32[N] = 0
    D: int32[N] = 0
    for i in range(N):
        s, d = sum_diff(A[i], B[i])
        S[i] = s * 2
        D[i] = d
    return S, D


def test_callee_tuple_return():
    rng = np.random.default_rng(312)
    A = rng.integers(-1000, 1000, N, dtype=np.int32)
    B = rng.integers(-1000, 1000, N, dtype=np.int32)
    S, D = run(use_tuple, A, B)
    check(S, (A + B) * 2)
    check(D, A - B)


def halve(x: int32) -> int32:
    return x / 2


def steps_to_zero(A: int32[N]) -> int32[N]:
    R: int32[N] = 0
    for i in range(N):
        x: int32 = A[i]
        c: int32 = 0
        while x != 0 and c < 64:  # C division reaches 0; the cap only guards against hangs
            x = halve(x)
            c += 1
        R[i] = c
    return R


def test_call_inside_while_loop():
    rng = np.random.default_rng(313)
    A = rng.integers(-(2**31), 2**31, N, dtype=np.int64).astype(np.int32)
    A[0], A[1] = 0, -1

    def ref(x):
        c = 0
        while x != 0:
            x = -(-x // 2) if x < 0 else x // 2  # truncation toward zero
            c += 1
        return c

    check(run(steps_to_zero, A), arr([ref(int(a)) for a in A], np.int32))


def bump(x: int32) -> int32:
    x = x + 1
    return x * 10


def by_value(A: int32[N]) -> (int32[N], int32[N]):
    B: int32[N] = 0
    C: int32[N] = 0
    for i in range(N):
        v: int32 = A[i]
        B[i] = bump(v)
        C[i] = v  # the callee's assignment to its parameter is not visible here
    return B, C


def test_scalar_arguments_are_passed_by_value():
    rng = np.random.default_rng(314)
    A = rng.integers(-1000, 1000, N, dtype=np.int32)
    B, C = run(by_value, A)
    check(B, (A + 1) * 10)
    check(C, A)


def aliased(A: int32[N]) -> int32[N]:
    swap_scale(A, A, 2)  # both parameters refer to the same array
    S = vec_add(A, A)
    return S


def test_same_array_passed_twice():
    rng = np.random.default_rng(315)
    A = rng.integers(-1000, 1000, N, dtype=np.int32)
    A0 = A.copy()
    # by reference: A[i] = A[i] * 2, then A[i] = t * 2 with t the old A[i]
    S = run(aliased, A)
    np.testing.assert_array_equal(A, A0 * 2)
    check(S, A0 * 4)
