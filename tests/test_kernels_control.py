"""Control-flow kernels (if/elif/else, while, ternary, boolean logic, computed loop bounds)
compared with independent pure-Python computations (docs/semantics.md)."""

import math
import warnings

import numpy as np

import allo_rtl as allo
from allo_rtl.ir.types import (
    bool,  # noqa: A004  (Allo's bool is UInt(1); shadows the builtin in this file)
    float32,
    int8,
    int32,
    int64,
    uint8,
    uint32,
)


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


def arr(values, dtype):
    return np.array([int(v) for v in values], dtype=dtype)


N = 16
M, K = 6, 9


# ------------------------------------------------------------------------------------------
# if / elif / else


def classify(A: int32[N]) -> int32[N]:
    B: int32[N] = 0
    for i in range(N):
        if A[i] > 10:
            B[i] = 2
        elif A[i] < -10:
            B[i] = 0
        elif A[i] == 0:
            B[i] = 5
        else:
            B[i] = 1
    return B


def test_if_elif_else():
    rng = np.random.default_rng(200)
    A = rng.integers(-20, 21, N, dtype=np.int32)
    A[:5] = [0, 10, 11, -10, -11]

    def ref(a):
        if a > 10:
            return 2
        if a < -10:
            return 0
        if a == 0:
            return 5
        return 1

    check(run(classify, A), arr([ref(int(a)) for a in A], np.int32))


def quadrants(A: int32[M, K], B: int32[M, K]) -> int32[4]:
    C: int32[4] = 0
    for i, j in allo.grid(M, K):
        if A[i, j] >= 0:
            if B[i, j] >= 0:
                C[0] += 1
            else:
                C[1] += 1
        else:
            if B[i, j] >= 0:
                C[2] += 1
            else:
                C[3] += 1
    return C


def test_nested_if_inside_loops():
    rng = np.random.default_rng(201)
    A = rng.integers(-5, 5, (M, K), dtype=np.int32)
    B = rng.integers(-5, 5, (M, K), dtype=np.int32)
    ref = [
        np.sum((A >= 0) & (B >= 0)),
        np.sum((A >= 0) & (B < 0)),
        np.sum((A < 0) & (B >= 0)),
        np.sum((A < 0) & (B < 0)),
    ]
    check(run(quadrants, A, B), arr(ref, np.int32))


def scalar_if(a: int32, b: int32) -> int32:
    r: int32 = 0
    if a == 0:
        r = 1
    elif a == 1:
        r = 2
        if b == 2:
            r = 3
    else:
        r = 4
    return r


def test_scalar_nested_if():
    for a in (0, 1, 2, -7):
        for b in (0, 2, 5):
            want = 1 if a == 0 else ((3 if b == 2 else 2) if a == 1 else 4)
            out = run(scalar_if, a, b)
            assert type(out) is int and out == want, (a, b, out)


# ------------------------------------------------------------------------------------------
# while loops


def gcd_arr(A: int32[N], B: int32[N]) -> int32[N]:
    G: int32[N] = 0
    for i in range(N):
        a: int32 = A[i]
        b: int32 = B[i]
        while b != 0:
            t: int32 = b
            b = a % b
            a = t
        G[i] = a
    return G


def test_while_gcd():
    rng = np.random.default_rng(202)
    A = rng.integers(1, 10**6, N, dtype=np.int32)
    B = rng.integers(1, 10**6, N, dtype=np.int32)
    A[0], B[0] = 48, 18
    A[1], B[1] = 17, 0
    A[2], B[2] = 1024, 4096
    check(
        run(gcd_arr, A, B),
        arr([math.gcd(int(a), int(b)) for a, b in zip(A, B)], np.int32),
    )


def collatz(A: int32[N]) -> int32[N]:
    S: int32[N] = 0
    for i in range(N):
        n: int32 = A[i]
        steps: int32 = 0
        while n != 1 and steps < 1000:  # the cap only keeps a broken build from hanging
            if n % 2 == 0:
                n = n / 2
            else:
                n = 3 * n + 1
            steps += 1
        S[i] = steps
    return S


def test_while_collatz_steps():
    rng = np.random.default_rng(203)
    A = rng.integers(1, 60, N, dtype=np.int32)
    A[0], A[1] = 27, 1

    def steps(n):
        c = 0
        while n != 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            c += 1
        return c

    out = run(collatz, A)
    check(out, arr([steps(int(a)) for a in A], np.int32))
    assert out[0] == 111 and out[1] == 0


def isqrt_k(A: int32[N]) -> int32[N]:
    R: int32[N] = 0
    for i in range(N):
        x: int32 = A[i]
        lo: int32 = 0
        hi: int32 = 46341
        while lo < hi:
            mid: int32 = (lo + hi + 1) / 2
            if mid * mid <= x:
                lo = mid
            else:
                hi = mid - 1
        R[i] = lo
    return R


def test_while_binary_search_isqrt():
    rng = np.random.default_rng(204)
    A = rng.integers(0, 2**31, N, dtype=np.int64).astype(np.int32)
    A[:4] = [0, 1, 2**31 - 1, 46340 * 46340]
    check(run(isqrt_k, A), arr([math.isqrt(int(a)) for a in A], np.int32))


def digit_sum(A: int32[N]) -> int32[N]:
    D: int32[N] = 0
    for i in range(N):
        x: int32 = A[i]
        s: int32 = 0
        while x > 0:
            s += x % 10
            x = x / 10
        D[i] = s
    return D


def test_while_digit_sum():
    rng = np.random.default_rng(205)
    A = rng.integers(0, 2**31, N, dtype=np.int64).astype(np.int32)
    A[0], A[1] = 0, 999999999
    check(run(digit_sum, A), arr([sum(map(int, str(int(a)))) for a in A], np.int32))


def leading_positive(A: int32[N]) -> int32:
    i: int32 = 0
    while i < N and A[i] > 0:
        i += 1
    return i


def test_while_compound_condition():
    rng = np.random.default_rng(206)
    for stop in (0, 5, N - 1):
        A = rng.integers(1, 100, N, dtype=np.int32)
        A[stop] = -3  # a sentinel, so A[i] is never read out of range
        assert run(leading_positive, A) == stop


# ------------------------------------------------------------------------------------------
# ternary and boolean logic


def ternary(A: int32[N], B: int32[N], C8: int8[N], U8: uint8[N]) -> (int32[N], int32[N], int32[N]):
    X: int32[N] = 0
    Y: int32[N] = 0
    Z: int32[N] = 0
    for i in range(N):
        X[i] = A[i] if A[i] > B[i] else B[i]
        Y[i] = 1 if A[i] % 2 == 0 else -1
        Z[i] = C8[i] if A[i] < 0 else U8[i]
    return X, Y, Z


def test_ternary():
    rng = np.random.default_rng(207)
    A = rng.integers(-100, 100, N, dtype=np.int32)
    B = rng.integers(-100, 100, N, dtype=np.int32)
    C8 = rng.integers(-128, 128, N, dtype=np.int8)
    U8 = rng.integers(0, 256, N, dtype=np.uint8)
    A[0], U8[0] = 5, 255  # common type of int8 and uint8 keeps 255
    A[1], C8[1] = -5, -128
    X, Y, Z = run(ternary, A, B, C8, U8)
    check(X, np.maximum(A, B))
    check(Y, arr([1 if int(a) % 2 == 0 else -1 for a in A], np.int32))
    check(Z, arr([int(c) if a < 0 else int(u) for a, c, u in zip(A, C8, U8)], np.int32))
    assert Z[0] == 255 and Z[1] == -128


def logic(A: int32[N], B: int32[N]) -> int32[N]:
    C: int32[N] = 0
    for i in range(N):
        if (A[i] > 0 and B[i] > 0) or not (A[i] != B[i]):
            C[i] = 1
        elif A[i] < 0 or B[i] < -50:
            C[i] = 2
        else:
            C[i] = 3
    return C


def test_and_or_not():
    rng = np.random.default_rng(208)
    A = rng.integers(-100, 100, N, dtype=np.int32)
    B = rng.integers(-100, 100, N, dtype=np.int32)
    A[0], B[0] = -7, -7
    A[1], B[1] = 0, -60
    A[2], B[2] = 0, 5

    def ref(a, b):
        if (a > 0 and b > 0) or not (a != b):
            return 1
        if a < 0 or b < -50:
            return 2
        return 3

    out = run(logic, A, B)
    check(out, arr([ref(int(a), int(b)) for a, b in zip(A, B)], np.int32))
    assert list(out[:3]) == [1, 2, 3]


def flags(A: int32[N], B: int32[N]) -> (bool[N], int32[N]):
    F: bool[N] = 0
    C: int32[N] = 0
    for i in range(N):
        f: bool = A[i] > B[i]
        g: bool = A[i] == 0
        F[i] = f
        C[i] = f + g * 2
    return F, C


def test_bool_variables():
    rng = np.random.default_rng(209)
    A = rng.integers(-3, 3, N, dtype=np.int32)
    B = rng.integers(-3, 3, N, dtype=np.int32)
    F, C = run(flags, A, B)
    check(F, (A > B).astype(np.uint8))  # bool = UInt(1) -> uint8 arrays
    check(C, ((A > B).astype(np.int32) + 2 * (A == 0)).astype(np.int32))


def cmp_exact(U: uint32[N], S: int32[N], X: float32[N]) -> (int32[N], int32[N], int32[N]):
    C: int32[N] = 0
    D: int32[N] = 0
    E: int32[N] = 0
    for i in range(N):
        C[i] = 1 if U[i] > S[i] else 0
        D[i] = 1 if S[i] == U[i] else 0
        E[i] = 1 if S[i] > X[i] else 0
    return C, D, E


def test_comparisons_exact_and_float_converted():
    # integer comparisons compare exact values (no C-style unsigned conversion);
    # with a float operand the integer is first converted to that float type
    rng = np.random.default_rng(210)
    U = rng.integers(0, 2**32, N, dtype=np.uint64).astype(np.uint32)
    S = rng.integers(-(2**31), 2**31, N, dtype=np.int64).astype(np.int32)
    X = rng.uniform(-(2**31), 2**31, N).astype(np.float32)
    U[0], S[0] = 3_000_000_000, -1  # C would say 3e9 > 0xFFFFFFFF is false
    U[1], S[1] = 0xFFFFFFFF, -1  # same bits, different values
    U[2], S[2] = 7, 7
    S[3], X[3] = 16777217, 16777216.0  # 16777217 -> float32 16777216, not greater
    S[4], X[4] = 16777219, 16777218.0  # -> 16777220 > 16777218
    C, D, E = run(cmp_exact, U, S, X)
    check(C, arr([int(u) > int(s) for u, s in zip(U, S)], np.int32))
    check(D, arr([int(u) == int(s) for u, s in zip(U, S)], np.int32))
    check(E, arr([np.float32(s) > x for s, x in zip(S, X)], np.int32))
    assert list(C[:3]) == [1, 1, 0] and list(D[:3]) == [0, 0, 1]
    assert E[3] == 0 and E[4] == 1


def leaky(X: float32[N]) -> float32[N]:
    Y: float32[N] = 0.0
    for i in range(N):
        Y[i] = X[i] if X[i] > 0.0 else X[i] * 0.01
    return Y


def test_float_ternary_leaky_relu():
    rng = np.random.default_rng(211)
    X = rng.normal(size=N).astype(np.float32)
    check(run(leaky, X), np.where(X > 0, X, X * np.float32(0.01)).astype(np.float32))


# ------------------------------------------------------------------------------------------
# search loops, computed bounds, carried scalars


def find_first_last(A: int32[N], x: int32) -> (int32, int32):
    first: int32 = -1
    last: int32 = -1
    for i in range(N):
        if A[i] == x:
            if first == -1:
                first = i
            last = i
    return first, last


def test_search_loop_without_early_exit():
    rng = np.random.default_rng(212)
    A = rng.integers(0, 5, N, dtype=np.int32)
    for x in (0, 3, 4, 99):
        hits = [i for i in range(N) if A[i] == x]
        want = [hits[0], hits[-1]] if hits else [-1, -1]
        assert run(find_first_last, A, x) == want


def argmax2d(A: int32[M, K]) -> (int32, int32, int32):
    best: int32 = A[0, 0]
    bi: int32 = 0
    bj: int32 = 0
    for i, j in allo.grid(M, K):
        if A[i, j] > best:
            best = A[i, j]
            bi = i
            bj = j
    return best, bi, bj


def test_argmax_2d():
    rng = np.random.default_rng(213)
    A = rng.integers(-50, 50, (M, K), dtype=np.int32)
    A[2, 3] = A[4, 1] = 77  # first occurrence wins with strict >
    bi, bj = np.unravel_index(np.argmax(A), A.shape)
    assert run(argmax2d, A) == [int(A.max()), int(bi), int(bj)]


def range_sum(A: int32[N], lo: int32, hi: int32) -> int32:
    s: int32 = 0
    for i in range(lo, hi):
        s += A[i]
    return s


def test_loop_bounds_from_scalar_arguments():
    rng = np.random.default_rng(214)
    A = rng.integers(-1000, 1000, N, dtype=np.int32)
    for lo, hi in ((0, N), (3, 9), (5, 5), (9, 3), (N - 1, N)):
        assert run(range_sum, A, lo, hi) == int(A[lo:hi].sum())


def ragged(A: int32[M, K], L: int32[M]) -> int32[M]:
    S: int32[M] = 0
    for i in range(M):
        for j in range(L[i]):
            S[i] += A[i, j]
        for j in range(i + 1, K, 2):  # noqa: B007  (kernel loop: only the count matters)
            S[i] += 1000
    return S


def test_loop_bounds_from_data():
    rng = np.random.default_rng(215)
    A = rng.integers(-100, 100, (M, K), dtype=np.int32)
    L = rng.integers(0, K + 1, M, dtype=np.int32)
    L[0], L[1] = 0, K
    ref = [int(A[i, : L[i]].sum()) + 1000 * len(range(i + 1, K, 2)) for i in range(M)]
    check(run(ragged, A, L), arr(ref, np.int32))


def bounds_once(n: int32) -> int32:
    m: int32 = n
    c: int32 = 0
    for i in range(0, m):  # noqa: B007  (kernel loop: only the count matters)
        m = m - 1
        c += 1
    return c * 100 + m


def test_loop_bounds_evaluated_once():
    for n in (0, 1, 7):
        assert run(bounds_once, n) == n * 100 + 0


def carried(A: int32[N]) -> (int32[N], int32):
    B: int32[N] = 0
    acc: int32 = 0
    for i in range(N):
        acc += A[i]
    for i in range(N):
        B[i] = acc - A[i]
    acc = acc * 2
    cnt: int32 = 0
    for i in range(N):
        B[i] += acc
        if B[i] > acc:
            cnt += 1
    return B, cnt


def test_scalars_carried_across_loops():
    rng = np.random.default_rng(216)
    A = rng.integers(-1000, 1000, N, dtype=np.int32)
    tot = int(A.sum())
    B_ref = arr([tot - int(a) + 2 * tot for a in A], np.int32)
    B, cnt = run(carried, A)
    check(B, B_ref)
    assert cnt == int(np.sum(B_ref > 2 * tot))


def count_runs(A: int32[N]) -> int32:
    runs: int32 = 0
    prev: int32 = -1
    for i in range(N):
        if A[i] != prev:
            runs += 1
        prev = A[i]
    return runs


def test_state_machine_count_runs():
    A = np.array([0, 0, 1, 1, 1, 0, 2, 2, 2, 2, 3, 0, 0, 0, 5, 5], np.int32)
    ref = 1 + sum(1 for i in range(1, N) if A[i] != A[i - 1])
    assert run(count_runs, A) == ref


# ------------------------------------------------------------------------------------------
# Sorting, simultaneous assignment, parameters as variables


def bubble_sort(A: int32[N]):
    for i in range(N):
        for j in range(0, N - 1 - i):
            if A[j] > A[j + 1]:
                t: int32 = A[j]
                A[j] = A[j + 1]
                A[j + 1] = t


def test_bubble_sort_in_place():
    rng = np.random.default_rng(217)
    A = rng.integers(-(2**31), 2**31, N, dtype=np.int64).astype(np.int32)
    A[3] = A[7]  # a duplicate
    ref = np.sort(A)
    assert run(bubble_sort, A) is None
    np.testing.assert_array_equal(A, ref)


def fib(n: int32) -> int64:
    a: int64 = 0
    b: int64 = 1
    for i in range(n):  # noqa: B007  (kernel loop: only the count matters)
        a, b = b, a + b
    return a


def test_tuple_assignment_is_simultaneous():
    def ref(n):
        a, b = 0, 1
        for _ in range(n):
            a, b = b, a + b
        x = a & (2**64 - 1)
        return x - 2**64 if x >> 63 else x

    for n in (0, 1, 2, 10, 92, 93):  # fib(93) overflows int64 and wraps
        assert run(fib, n) == ref(n), n


def countdown(n: int32, step: int32) -> int32:
    c = 0
    while n > 0:
        n -= step
        c += 1
    return c * 1000 + n


def test_scalar_parameters_are_variables():
    for n, step in ((10, 3), (0, 5), (9, 3), (-4, 1)):
        c, m = 0, n
        while m > 0:
            m -= step
            c += 1
        assert run(countdown, n, step) == c * 1000 + m


def down_steps(A: int32[N], lo: int32, hi: int32) -> int32[N]:
    B: int32[N] = 0
    k: int32 = 0
    for i in range(hi - 1, lo - 1, -2):
        B[k] = A[i]
        k += 1
    return B


def test_negative_step_with_computed_bounds():
    rng = np.random.default_rng(218)
    A = rng.integers(-1000, 1000, N, dtype=np.int32)
    for lo, hi in ((0, N), (3, 10), (5, 5), (4, 5)):
        vals = [A[i] for i in range(hi - 1, lo - 1, -2)]
        ref = np.zeros(N, np.int32)
        ref[: len(vals)] = vals
        check(run(down_steps, A, lo, hi), ref)
