"""Floating-point kernels compared with independent NumPy computations (docs/semantics.md).

Every float operation rounds once to its result type, so a reference that performs the same
operations in the same order and in the same NumPy dtype is bit-exact; reductions are
therefore written as sequential loops over np.float32 / np.float16 values.
"""

import warnings

import numpy as np
import pytest

import allo_rtl as allo
from allo_rtl.ir.types import (
    bfloat16,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    uint8,
    uint64,
)

# The references overflow to inf on purpose in a few tests.
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")

# ------------------------------------------------------------------------------------------
# Helpers (independent of allo_rtl)


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


def to_bf16(x):
    """Round float32 values to bfloat16 (nearest even), returned as float32."""
    x = np.asarray(x, dtype=np.float32)
    u = x.view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(np.float32)


def f32(rng, shape, lo=-10.0, hi=10.0):
    return rng.uniform(lo, hi, shape).astype(np.float32)


N = 16
M, K, P = 8, 12, 5
HR, WR = 6, 10

# ------------------------------------------------------------------------------------------
# float32


def vadd_f32(A: float32[N], B: float32[N]) -> float32[N]:
    C: float32[N] = 0.0
    for i in range(N):
        C[i] = A[i] + B[i]
    return C


def test_vadd_float32():
    rng = np.random.default_rng(100)
    A, B = f32(rng, N), f32(rng, N)
    A[0], B[0] = 3.4e38, 3.4e38  # overflows to inf
    check(run(vadd_f32, A, B), A + B)


def gemm_f32(A: float32[M, K], B: float32[K, P]) -> float32[M, P]:
    C: float32[M, P] = 0.0
    for i, j in allo.grid(M, P, name="C"):
        for k in allo.reduction(K):
            C[i, j] += A[i, k] * B[k, j]
    return C


def test_gemm_float32_sequential_bit_exact():
    rng = np.random.default_rng(101)
    A, B = f32(rng, (M, K)), f32(rng, (K, P))
    ref = np.zeros((M, P), np.float32)
    for k in range(K):  # same order as the kernel: one float32 rounding per * and +
        ref = ref + A[:, k : k + 1] * B[k : k + 1, :]
    check(run(gemm_f32, A, B), ref)


def gemm_f32_sq(A: float32[16, 16], B: float32[16, 16]) -> float32[16, 16]:
    C: float32[16, 16] = 0
    for i, j in allo.grid(16, 16):
        acc: float32 = 0.0
        for k in range(16):
            acc += A[i, k] * B[k, j]
        C[i, j] = acc
    return C


def test_gemm_float32_scalar_accumulator():
    rng = np.random.default_rng(102)
    A, B = f32(rng, (16, 16)), f32(rng, (16, 16))
    ref = np.zeros((16, 16), np.float32)
    for k in range(16):
        ref = ref + A[:, k : k + 1] * B[k : k + 1, :]
    check(run(gemm_f32_sq, A, B), ref)


def stencil3_f32(A: float32[N]) -> float32[N]:
    B: float32[N] = 0.0
    B[0] = A[0]
    B[N - 1] = A[N - 1]
    for i in range(1, N - 1):
        B[i] = (A[i - 1] + A[i] + A[i + 1]) / 3.0
    return B


def test_stencil3_float32():
    rng = np.random.default_rng(103)
    A = f32(rng, N)
    ref = A.copy()
    ref[1:-1] = ((A[:-2] + A[1:-1]) + A[2:]) / np.float32(3.0)
    check(run(stencil3_f32, A), ref)


def dot_f32(A: float32[N], B: float32[N]) -> float32:
    s: float32 = 0.0
    for i in range(N):
        s += A[i] * B[i]
    return s


def test_dot_float32_sequential():
    rng = np.random.default_rng(104)
    A, B = f32(rng, N), f32(rng, N)
    s = np.float32(0.0)
    for a, b in zip(A, B):
        s = np.float32(s + np.float32(a * b))
    out = run(dot_f32, A, B)
    assert type(out) is float
    assert out == float(s)
    # order matters: 1e8 + 1 + ... + 1 - 1e8 is 0 in sequential float32
    A2 = np.ones(N, np.float32)
    A2[0], A2[-1] = 1e8, -1e8
    assert run(dot_f32, A2, np.ones(N, np.float32)) == 0.0


def divide_f32(A: float32[N], B: float32[N]) -> (float32[N], float32[N]):
    C: float32[N] = 0.0
    D: float32[N] = 0.0
    for i in range(N):
        C[i] = A[i] / B[i]
        D[i] = A[i] - B[i] * 0.1
    return C, D


def test_float32_division_and_literal():
    rng = np.random.default_rng(105)
    A, B = f32(rng, N), f32(rng, N)
    C, D = run(divide_f32, A, B)
    check(C, A / B)
    check(D, A - B * np.float32(0.1))


# ------------------------------------------------------------------------------------------
# float16, bfloat16, float64


def f16_ops(A: float16[N], B: float16[N]) -> (float16[N], float16[N], float16[N]):
    C: float16[N] = 0.0
    D: float16[N] = 0.0
    E: float16[N] = 0.0
    for i in range(N):
        C[i] = A[i] + B[i]
        D[i] = A[i] * B[i]
        E[i] = A[i] * 0.1 + B[i]
    return C, D, E


def test_float16_add_mul():
    rng = np.random.default_rng(106)
    A = rng.uniform(-300, 300, N).astype(np.float16)
    B = rng.uniform(-300, 300, N).astype(np.float16)
    A[0], B[0] = 60000, 60000  # float16 overflow to inf
    C, D, E = run(f16_ops, A, B)
    check(C, A + B)
    check(D, A * B)
    # the literal takes the float16 type of the other operand
    check(E, A * np.float16(0.1) + B)


def f16_sum(A: float16[N]) -> float16:
    s: float16 = 0.0
    for i in range(N):
        s += A[i]
    return s


def test_float16_sequential_sum():
    rng = np.random.default_rng(107)
    A = rng.uniform(0, 400, N).astype(np.float16)
    s = np.float16(0.0)
    for a in A:
        s = np.float16(s + a)
    out = run(f16_sum, A)
    assert type(out) is float
    assert out == float(s)


def bf16_ops(A: bfloat16[N], B: bfloat16[N]) -> (bfloat16[N], bfloat16[N], bfloat16[N]):
    C: bfloat16[N] = 0.0
    D: bfloat16[N] = 0.0
    E: bfloat16[N] = 0.0
    for i in range(N):
        C[i] = A[i] + B[i]
        D[i] = A[i] * B[i]
        E[i] = E[i] + A[i] - B[i]
    return C, D, E


def test_bfloat16_add_mul():
    rng = np.random.default_rng(108)
    A = to_bf16(rng.uniform(-100, 100, N))
    B = to_bf16(rng.uniform(-100, 100, N))
    A[0], B[0] = 1.0, to_bf16(2.0**-8)  # tie: 1 + 2**-8 rounds to even (1.0)
    A[1], B[1] = 1.0, to_bf16(3 * 2.0**-9)  # rounds up
    C, D, E = run(bf16_ops, A, B)
    check(C, to_bf16(A + B))
    check(D, to_bf16(A * B))
    check(E, to_bf16(to_bf16(np.float32(0) + A) - B))
    assert C[0] == 1.0 and C[1] == np.float32(1.0078125)


def axpy_f64(a: float64, X: float64[N], Y: float64[N]) -> float64[N]:
    Z: float64[N] = 0.0
    for i in range(N):
        Z[i] = a * X[i] + Y[i] * 0.1
    return Z


def test_float64_axpy_literal_is_double():
    rng = np.random.default_rng(109)
    X, Y = rng.normal(size=N), rng.normal(size=N)
    out = run(axpy_f64, 1.0 / 3.0, X, Y)
    # a float literal next to a float64 operand is the double closest to 0.1
    check(out, (1.0 / 3.0) * X + Y * 0.1)


def dot_f64(A: float64[N], B: float64[N]) -> float64:
    s: float64 = 0.0
    for i in range(N):
        s += A[i] * B[i]
    return s


def test_float64_dot_sequential():
    rng = np.random.default_rng(110)
    A, B = rng.normal(size=N), rng.normal(size=N)
    s = 0.0
    for a, b in zip(A, B):
        s = s + a * b
    out = run(dot_f64, A, B)
    assert type(out) is float and out == s


# ------------------------------------------------------------------------------------------
# Math functions and **


def math_f32(A: float32[N]) -> (float32[N], float32[N], float32[N], float32[N]):
    E: float32[N] = 0.0
    L: float32[N] = 0.0
    S: float32[N] = 0.0
    T: float32[N] = 0.0
    for i in range(N):
        E[i] = allo.exp(A[i])
        L[i] = allo.log(A[i])
        S[i] = allo.sqrt(A[i])
        T[i] = allo.tanh(A[i])
    return E, L, S, T


def test_exp_log_sqrt_tanh_float32():
    rng = np.random.default_rng(111)
    A = f32(rng, N, 0.01, 8.0)
    E, L, S, T = run(math_f32, A)
    # semantics: the math functions use NumPy's function for the result type
    check(E, np.exp(A))
    check(L, np.log(A))
    check(S, np.sqrt(A))
    check(T, np.tanh(A))


def math_more(A: float32[N], D: float64[N]) -> (float32[N], float32[N], float64[N], float64[N]):
    X: float32[N] = 0.0
    Y: float32[N] = 0.0
    U: float64[N] = 0.0
    V: float64[N] = 0.0
    for i in range(N):
        X[i] = allo.sin(A[i]) + allo.cos(A[i])
        Y[i] = allo.log2(A[i]) - allo.log10(A[i])
        U[i] = allo.exp(D[i])
        V[i] = allo.log(D[i])
    return X, Y, U, V


def test_sin_cos_log2_log10_and_float64_math():
    rng = np.random.default_rng(112)
    A = f32(rng, N, 0.1, 6.0)
    D = rng.uniform(0.1, 20.0, N)
    X, Y, U, V = run(math_more, A, D)
    check(X, np.sin(A) + np.cos(A))
    check(Y, np.log2(A) - np.log10(A))
    check(U, np.exp(D))
    check(V, np.log(D))


def power_k(
    A: float32[N], B: float32[N], Iv: int32[N], L: int64[N]
) -> (
    float32[N],
    float32[N],
    float32[N],
    float64[N],
):
    P1: float32[N] = 0.0
    P2: float32[N] = 0.0
    P3: float32[N] = 0.0
    P4: float64[N] = 0.0
    for i in range(N):
        P1[i] = A[i] ** B[i]
        P2[i] = Iv[i] ** 2
        P3[i] = A[i] ** 0.5
        P4[i] = L[i] ** 3
    return P1, P2, P3, P4


def test_power():
    rng = np.random.default_rng(113)
    A = f32(rng, N, 0.1, 4.0)
    B = f32(rng, N, -3.0, 3.0)
    Iv = rng.integers(-5000, 5000, N, dtype=np.int32)
    L = rng.integers(-(2**40), 2**40, N, dtype=np.int64)
    P1, P2, P3, P4 = run(power_k, A, B, Iv, L)
    check(P1, np.power(A, B))
    # int ** int is computed in float32 (<= 32-bit operands) / float64 (wider)
    check(P2, np.power(Iv.astype(np.float32), np.float32(2)))
    check(P3, np.power(A, np.float32(0.5)))
    check(P4, np.power(L.astype(np.float64), np.float64(3)))


# ------------------------------------------------------------------------------------------
# Conversions and mixed arithmetic


def int_to_float(A: int32[N], B: int64[N]) -> (float32[N], float32[N], float64[N], float32[N]):
    X: float32[N] = 0.0
    Y: float32[N] = 0.0
    Z: float64[N] = 0.0
    Q: float32[N] = 0.0
    for i in range(N):
        X[i] = float(A[i])
        Y[i] = A[i]
        Z[i] = B[i]
        Q[i] = B[i]
    return X, Y, Z, Q


def test_int_to_float_rounds_to_nearest_even():
    rng = np.random.default_rng(114)
    A = rng.integers(-(2**31), 2**31, N, dtype=np.int64).astype(np.int32)
    A[:5] = [16777217, 16777219, 2**31 - 1, -(2**31), -16777219]
    B = rng.integers(-(2**63), 2**63, N, dtype=np.int64)
    B[:5] = [2**53 + 1, 2**53 + 3, 2**63 - 1, 2**24 + 1, 2**62 + 2**38 + 1]
    X, Y, Z, Q = run(int_to_float, A, B)
    # exact rationals rounded once, nearest even (Python's float(int) rounds correctly)
    ref32 = np.array([np.float32(float(int(a))) for a in A], np.float32)
    check(X, ref32)
    check(Y, ref32)
    check(Z, np.array([float(int(b)) for b in B], np.float64))
    assert X[0] == 16777216.0 and X[1] == 16777220.0 and Z[0] == 2.0**53
    # int64 -> float32 in a single rounding (no detour through float64): round by hand;
    # B[4] = 2**62 + 2**38 + 1 rounds up, a double rounding via float64 would give 2**62
    q_ref = []
    for b in B:
        b = int(b)
        if b == 0:
            q_ref.append(0.0)
            continue
        e = abs(b).bit_length() - 24  # keep 24 significant bits
        if e <= 0:
            q_ref.append(float(b))
            continue
        m, r = divmod(abs(b), 1 << e)
        half = 1 << (e - 1)
        if r > half or (r == half and m & 1):
            m += 1
        q_ref.append(float(m << e) * (1 if b > 0 else -1))
    check(Q, np.array(q_ref, np.float32))
    assert Q[4] == np.float32(2.0**62 + 2.0**39)


def float_to_int(A: float32[N]) -> (int32[N], int8[N], uint8[N], int64[N]):
    X: int32[N] = 0
    Y: int8[N] = 0
    Z: uint8[N] = 0
    L: int64[N] = 0
    for i in range(N):
        X[i] = int(A[i])
        Y[i] = A[i]
        Z[i] = A[i]
        L[i] = A[i]
    return X, Y, Z, L


def test_float_to_int_truncates_and_saturates():
    A = np.array(
        [
            2.7,
            -2.7,
            -0.5,
            1e10,
            -1e10,
            np.nan,
            np.inf,
            -np.inf,
            127.9,
            -128.9,
            300.5,
            -1.5,
            255.9,
            0.99,
            -3e9,
            2147483520.0,
        ],
        dtype=np.float32,
    )

    def sat(v, lo, hi):
        if np.isnan(v):
            return 0
        if np.isinf(v):
            return hi if v > 0 else lo
        return max(lo, min(hi, int(np.trunc(float(v)))))

    X, Y, Z, L = run(float_to_int, A)
    check(X, np.array([sat(v, -(2**31), 2**31 - 1) for v in A], np.int32))
    check(Y, np.array([sat(v, -128, 127) for v in A], np.int8))
    check(Z, np.array([sat(v, 0, 255) for v in A], np.uint8))
    check(L, np.array([sat(v, -(2**63), 2**63 - 1) for v in A], np.int64))
    assert list(X[:3]) == [2, -2, 0] and X[3] == 2**31 - 1 and X[5] == 0


def mixed(A: int32[N], X: float32[N], B: int16[N], D: float64[N]) -> (float32[N], float64[N]):
    Y: float32[N] = 0.0
    Z: float64[N] = 0.0
    for i in range(N):
        Y[i] = A[i] * X[i] + B[i]
        Z[i] = A[i] + D[i] * 2
    return Y, Z


def test_mixed_int_float_arithmetic():
    rng = np.random.default_rng(115)
    A = rng.integers(-(2**31), 2**31, N, dtype=np.int64).astype(np.int32)
    X = f32(rng, N)
    B = rng.integers(-(2**15), 2**15, N, dtype=np.int16)
    D = rng.normal(size=N)
    Y, Z = run(mixed, A, X, B, D)
    check(Y, A.astype(np.float32) * X + B.astype(np.float32))
    check(Z, A.astype(np.float64) + D * 2.0)


def relu(A: float32[HR, WR]) -> float32[HR, WR]:
    B: float32[HR, WR] = 0.0
    for i, j in allo.grid(HR, WR):
        B[i, j] = max(A[i, j], 0.0)
    return B


def test_relu_with_max():
    rng = np.random.default_rng(116)
    A = rng.normal(size=(HR, WR)).astype(np.float32)
    check(run(relu, A), np.maximum(A, np.float32(0.0)))


def softmax(A: float32[HR, WR]) -> float32[HR, WR]:
    B: float32[HR, WR] = 0.0
    for i in range(HR):
        mx: float32 = A[i, 0]
        for j in range(1, WR):
            mx = max(mx, A[i, j])
        s: float32 = 0.0
        for j in range(WR):
            B[i, j] = allo.exp(A[i, j] - mx)
            s += B[i, j]
        for j in range(WR):
            B[i, j] = B[i, j] / s
    return B


def test_softmax_rows():
    rng = np.random.default_rng(117)
    A = rng.normal(scale=3.0, size=(HR, WR)).astype(np.float32)
    ref = np.zeros_like(A)
    for i in range(HR):
        e = np.exp(A[i] - A[i].max())  # float32 throughout
        s = np.float32(0.0)
        for v in e:
            s = np.float32(s + v)
        ref[i] = e / s
    check(run(softmax, A), ref)


def layer_mean_var(A: float32[HR, WR]) -> (float32[HR], float32[HR]):
    mean: float32[HR] = 0.0
    var: float32[HR] = 0.0
    for i in range(HR):
        s: float32 = 0.0
        for j in range(WR):
            s += A[i, j]
        mean[i] = s / WR
        q: float32 = 0.0
        for j in range(WR):
            d: float32 = A[i, j] - mean[i]
            q += d * d
        var[i] = q / WR
    return mean, var


def test_mean_variance_float32():
    rng = np.random.default_rng(118)
    A = rng.normal(size=(HR, WR)).astype(np.float32)
    mean = np.zeros(HR, np.float32)
    var = np.zeros(HR, np.float32)
    for i in range(HR):
        s = np.float32(0)
        for v in A[i]:
            s = np.float32(s + v)
        mean[i] = s / np.float32(WR)  # int32 WR converted to float32
        q = np.float32(0)
        for v in A[i]:
            d = np.float32(v - mean[i])
            q = np.float32(q + d * d)
        var[i] = q / np.float32(WR)
    m, v = run(layer_mean_var, A)
    check(m, mean)
    check(v, var)


def int_relu_float_scale(A: int8[N], s: float32) -> (uint8[N], float32[N]):
    Q: uint8[N] = 0
    F: float32[N] = 0.0
    for i in range(N):
        Q[i] = max(A[i], 0)
        F[i] = A[i] * s
    return Q, F


def test_int8_relu_and_dequantise():
    rng = np.random.default_rng(119)
    A = rng.integers(-128, 128, N, dtype=np.int8)
    s = 0.0123
    Q, F = run(int_relu_float_scale, A, s)
    check(Q, np.maximum(A, 0).astype(np.uint8))
    check(F, A.astype(np.float32) * np.float32(s))


# ------------------------------------------------------------------------------------------
# Conversions between float formats and other edge cases


def float_formats(
    X: float32[N], D: float64[N]
) -> (
    float16[N],
    bfloat16[N],
    float32[N],
    float16[N],
    bfloat16[N],
):
    H: float16[N] = 0.0
    Bf: bfloat16[N] = 0.0
    S: float32[N] = 0.0
    H2: float16[N] = 0.0
    Bf2: bfloat16[N] = 0.0
    for i in range(N):
        H[i] = X[i]
        Bf[i] = X[i]
        S[i] = D[i]
        H2[i] = D[i]
        Bf2[i] = D[i]
    return H, Bf, S, H2, Bf2


def test_conversions_between_float_formats():
    rng = np.random.default_rng(120)
    X = rng.normal(scale=100.0, size=N).astype(np.float32)
    X[:3] = [70000.0, 1.0 + 2.0**-11, -(2.0**-30)]
    D = rng.normal(scale=100.0, size=N)
    # single rounding from float64; a detour through float32 would round these differently
    D[0] = 1.0 + 2.0**-8 + 2.0**-30  # bfloat16: just above a tie -> rounds up
    D[1] = 1.0 + 2.0**-11 + 2.0**-40  # float16: just above a tie -> rounds up
    D[2] = 1.0 + 2.0**-24 + 2.0**-50  # float32: just above a tie -> rounds up
    H, Bf, S, H2, Bf2 = run(float_formats, X, D)
    check(H, X.astype(np.float16))
    check(Bf, to_bf16(X))
    check(S, D.astype(np.float32))
    check(H2, D.astype(np.float16))

    def bf16_from_f64(d):
        # exact nearest-even rounding of a double to 8 significant bits
        m, e = np.frexp(d)  # d = m * 2**e, 0.5 <= |m| < 1
        scaled = m * 2.0**8  # 8 significant bits before the point
        r = np.round(scaled)  # round half to even, exact in float64
        return np.float32(np.ldexp(r, e - 8))

    check(Bf2, np.array([bf16_from_f64(d) for d in D], np.float32))
    assert H2[1] == np.float16(1.0 + 2.0**-10) and S[2] == np.float32(1.0 + 2.0**-23)
    assert Bf2[0] == np.float32(1.0 + 2.0**-7)


def int_to_small_floats(A: int32[N], L: int64[N]) -> (float16[N], bfloat16[N], bfloat16[N]):
    H: float16[N] = 0.0
    B: bfloat16[N] = 0.0
    B2: bfloat16[N] = 0.0
    for i in range(N):
        H[i] = A[i]
        B[i] = A[i]
        B2[i] = L[i]
    return H, B, B2


def _round_int(v, sig):
    """Round the Python int ``v`` to ``sig`` significant bits, nearest even."""
    if v == 0:
        return 0
    e = abs(v).bit_length() - sig
    if e <= 0:
        return v
    m, r = divmod(abs(v), 1 << e)
    half = 1 << (e - 1)
    if r > half or (r == half and m & 1):
        m += 1
    return (m << e) * (1 if v > 0 else -1)


def test_int_to_float16_and_bfloat16_single_rounding():
    rng = np.random.default_rng(121)
    A = rng.integers(-60000, 60000, N, dtype=np.int32)
    A[:5] = [2049, 2051, 65519, 65520, -100000]  # ties, largest finite, overflow to inf
    L = rng.integers(-(2**62), 2**62, N, dtype=np.int64)
    L[0] = 2**62 + 2**54 + 1  # above the bf16 tie; via float32 it would be a tie -> 2**62
    L[1] = 257
    H, B, B2 = run(int_to_small_floats, A, L)

    def to_f16(v):
        r = _round_int(int(v), 11)
        return np.float16(np.inf if r > 65504 else (-np.inf if r < -65504 else r))

    check(H, np.array([to_f16(a) for a in A], np.float16))
    check(B, np.array([_round_int(int(a), 8) for a in A], np.float32))
    check(B2, np.array([float(_round_int(int(v), 8)) for v in L], np.float32))
    assert H[0] == 2048 and H[1] == 2052 and H[2] == 65504 and np.isinf(H[3])
    assert B2[0] == np.float32(2.0**62 + 2.0**55) and B2[1] == 256


def fdiv_special(A: float32[N], B: float32[N]) -> float32[N]:
    C: float32[N] = 0.0
    for i in range(N):
        C[i] = A[i] / B[i]
    return C


def test_float_division_by_zero_ieee():
    A = np.array([1.0, -1.0, 0.0, np.inf, -0.0, 2.5] + [3.0] * 10, np.float32)
    B = np.array([0.0, 0.0, 0.0, np.inf, 1.0, -0.0] + [2.0] * 10, np.float32)
    with np.errstate(all="ignore"):
        ref = A / B
    out = run(fdiv_special, A, B)
    check(out, ref)
    assert np.signbit(out[4]) and np.signbit(out[5]) and np.isnan(out[2])


def math_f16(A: float16[N]) -> (float16[N], float16[N]):
    E: float16[N] = 0.0
    S: float16[N] = 0.0
    for i in range(N):
        E[i] = allo.exp(A[i])
        S[i] = allo.sqrt(A[i]) * 0.5
    return E, S


def test_float16_math_functions():
    rng = np.random.default_rng(122)
    A = rng.uniform(0.0, 8.0, N).astype(np.float16)
    E, S = run(math_f16, A)
    check(E, np.exp(A))
    check(S, np.sqrt(A) * np.float16(0.5))


def bf16_literal(A: bfloat16[N]) -> bfloat16[N]:
    B: bfloat16[N] = 0.0
    for i in range(N):
        B[i] = A[i] * 0.1 + 1.0
    return B


def test_bfloat16_literal_takes_bfloat16_type():
    rng = np.random.default_rng(123)
    A = to_bf16(rng.uniform(-50, 50, N))
    c = to_bf16(np.float32(0.1))  # the literal rounded to bfloat16
    check(run(bf16_literal, A), to_bf16(to_bf16(A * c) + np.float32(1.0)))


def f64_to_int(D: float64[N]) -> (int64[N], uint64[N], int32[N]):
    L: int64[N] = 0
    U: uint64[N] = 0
    J: int32[N] = 0
    for i in range(N):
        L[i] = D[i]
        U[i] = D[i]
        J[i] = int(D[i])
    return L, U, J


def test_float64_to_64_bit_integers_saturate():
    D = np.array(
        [2.0**63, -(2.0**63), 2.0**63 - 1024, 1e19, -1e19, 2.0**64, 1.5e19, -0.9,
         np.nan, np.inf, -np.inf, 123456789.99, -123456789.99, 2.0**53 + 2, 0.0, -5e9],
        dtype=np.float64,
    )  # fmt: skip

    def sat(v, lo, hi):
        if np.isnan(v):
            return 0
        if np.isinf(v):
            return hi if v > 0 else lo
        return max(lo, min(hi, int(v)))  # int(float) truncates toward zero exactly

    L, U, J = run(f64_to_int, D)
    check(L, np.array([sat(v, -(2**63), 2**63 - 1) for v in D], np.int64))
    check(U, np.array([sat(v, 0, 2**64 - 1) for v in D], np.uint64))
    check(J, np.array([sat(v, -(2**31), 2**31 - 1) for v in D], np.int32))
    assert L[0] == 2**63 - 1 and U[5] == 2**64 - 1 and U[6] == 15 * 10**18


def gemm_bf16(A: bfloat16[M, K], B: bfloat16[K, P]) -> bfloat16[M, P]:
    C: bfloat16[M, P] = 0.0
    for i, j in allo.grid(M, P):
        for k in allo.reduction(K):
            C[i, j] += A[i, k] * B[k, j]
    return C


def test_gemm_bfloat16_sequential():
    rng = np.random.default_rng(124)
    A = to_bf16(rng.uniform(-4, 4, (M, K)))
    B = to_bf16(rng.uniform(-4, 4, (K, P)))
    ref = np.zeros((M, P), np.float32)
    for k in range(K):  # each * and + rounds to bfloat16
        ref = to_bf16(ref + to_bf16(A[:, k : k + 1] * B[k : k + 1, :]))
    check(run(gemm_bf16, A, B), ref)


def abs_power(A: float32[N], B: float32[N]) -> (float32[N], float32[N]):
    X: float32[N] = 0.0
    Y: float32[N] = 0.0
    for i in range(N):
        X[i] = allo.abs(A[i]) + allo.abs(B[i])
        Y[i] = allo.power(allo.abs(A[i]), B[i])
    return X, Y


def test_allo_abs_and_power_on_floats():
    rng = np.random.default_rng(125)
    A, B = f32(rng, N, -5, 5), f32(rng, N, -2, 2)
    X, Y = run(abs_power, A, B)
    check(X, np.abs(A) + np.abs(B))
    check(Y, np.power(np.abs(A), B))


def index_float(X: float32[N]) -> float32[N]:
    Y: float32[N] = 0.0
    for i in range(N):
        Y[i] = i * 0.5 + X[i] / (i + 1)
    return Y


def test_loop_index_in_float_arithmetic():
    rng = np.random.default_rng(126)
    X = f32(rng, N)
    idx = np.arange(N)
    ref = idx.astype(np.float32) * np.float32(0.5) + X / (idx + 1).astype(np.float32)
    check(run(index_float, X), ref)
