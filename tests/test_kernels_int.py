"""Integer kernels: each one run on the NumPy target and compared, bit for bit, with an
independent NumPy / pure-Python computation written here from docs/semantics.md.

The references never call allo_rtl; wrap-around, C division and the widening rules are
written out explicitly with Python integers.
"""

import warnings

import numpy as np
import pytest

import allo_rtl as allo
from allo_rtl.ir.types import (
    Fixed,
    Int,
    UFixed,
    UInt,
    float32,
    index,
    int8,
    int16,
    int32,
    int64,
    uint8,
    uint16,
    uint32,
    uint64,
)

# ------------------------------------------------------------------------------------------
# Helpers (independent of allo_rtl)


def wrap(x, bits, signed=True):
    """Keep the low ``bits`` bits of the Python int ``x`` (two's complement if signed)."""
    x = int(x) & ((1 << bits) - 1)
    if signed and x >> (bits - 1):
        x -= 1 << bits
    return x


def tdiv(a, b):
    """C (truncating) integer division of Python ints, b != 0."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def cmod(a, b):
    """C remainder: sign of the dividend, a == tdiv(a, b) * b + cmod(a, b)."""
    return a - tdiv(a, b) * b


def rev_bits(x, bits):
    x = int(x) & ((1 << bits) - 1)
    return int(format(x, f"0{bits}b")[::-1], 2)


def arr(values, dtype):
    return np.array([int(v) for v in values], dtype=dtype)


def run(kernel, *args):
    """customize + build (NumPy target) + call; inputs always carry the declared dtype,
    so any dtype-conversion UserWarning is an error."""
    mod = allo.customize(kernel).build()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        return mod(*args)


def check(out, ref):
    """Bit-exact comparison that also checks the documented result dtype."""
    ref = np.asarray(ref)
    assert isinstance(out, np.ndarray), type(out)
    assert out.dtype == ref.dtype, (out.dtype, ref.dtype)
    assert out.shape == ref.shape, (out.shape, ref.shape)
    np.testing.assert_array_equal(out, ref)


def rand_i32(rng, n, lo=-(2**31), hi=2**31):
    return rng.integers(lo, hi, size=n, dtype=np.int64).astype(np.int32)


I32_MIN, I32_MAX = -(2**31), 2**31 - 1

# Sizes, resolved by the frontend from these module globals.
N = 16
M, K, P = 12, 10, 8
H, W = 10, 12
NX, NW = 20, 5
D0, D1, D2 = 4, 5, 6
NB = 16
NH = 64

# Odd-width types (annotations resolve these module-level aliases).
u1 = UInt(1)
u12 = UInt(12)
u24 = UInt(24)
i9 = Int(9)
i24 = Int(24)
i48 = Int(48)
i100 = Int(100)
u100 = UInt(100)
i128 = Int(128)
fx16 = Fixed(16, 8)
fx12_4 = Fixed(12, 4)
fx16_4 = Fixed(16, 4)
ufx8 = UFixed(8, 4)


# ------------------------------------------------------------------------------------------
# Element-wise arithmetic


def vadd(A: int32[N], B: int32[N]) -> int32[N]:
    C: int32[N] = 0
    for i in range(N):
        C[i] = A[i] + B[i]
    return C


def test_vadd_int32_wraps_on_store():
    rng = np.random.default_rng(1)
    A, B = rand_i32(rng, N), rand_i32(rng, N)
    A[0], B[0] = I32_MAX, 1
    A[1], B[1] = I32_MIN, -1
    ref = arr([wrap(int(a) + int(b), 32) for a, b in zip(A, B)], np.int32)
    check(run(vadd, A, B), ref)


def saxpy_int(a: int32, X: int32[N], Y: int32[N]) -> int32[N]:
    Z: int32[N] = 0
    for i in range(N):
        Z[i] = a * X[i] + Y[i]
    return Z


def test_saxpy_int():
    rng = np.random.default_rng(2)
    X, Y = rand_i32(rng, N), rand_i32(rng, N)
    for a in (-7, 3, 123456):
        ref = arr([wrap(a * int(x) + int(y), 32) for x, y in zip(X, Y)], np.int32)
        check(run(saxpy_int, a, X, Y), ref)


def dot_int(A: int32[N], B: int32[N]) -> int32:
    s: int32 = 0
    for i in range(N):
        s += A[i] * B[i]
    return s


def test_dot_int_returns_scalar():
    rng = np.random.default_rng(3)
    # products up to 2**40: the int32 accumulator wraps
    A, B = rand_i32(rng, N, -(2**20), 2**20), rand_i32(rng, N, -(2**20), 2**20)
    out = run(dot_int, A, B)
    assert type(out) is int
    assert out == wrap(sum(int(a) * int(b) for a, b in zip(A, B)), 32)
    small = np.arange(N, dtype=np.int32)
    assert run(dot_int, small, small) == sum(i * i for i in range(N))


def abs_kernel(A: int32[N]) -> int32[N]:
    B: int32[N] = 0
    for i in range(N):
        B[i] = allo.abs(A[i])
    return B


def test_abs():
    rng = np.random.default_rng(4)
    A = rand_i32(rng, N)
    A[:4] = [0, -1, I32_MIN, I32_MAX]
    # |INT_MIN| = 2**31 wraps back to INT_MIN when stored to int32
    ref = arr([wrap(abs(int(a)), 32) for a in A], np.int32)
    check(run(abs_kernel, A), ref)


def mul_wide_literal(A: int32[N]) -> int64[N]:
    B: int64[N] = 0
    for i in range(N):
        B[i] = A[i] * 3000000000 + 0x100000000
    return B


def test_wide_literal_is_not_truncated():
    rng = np.random.default_rng(5)
    A = rand_i32(rng, N, -(10**6), 10**6)
    ref = arr([int(a) * 3000000000 + 2**32 for a in A], np.int64)
    check(run(mul_wide_literal, A), ref)


# ------------------------------------------------------------------------------------------
# Division and modulo


def div_mod_c(A: int32[N], B: int32[N], Q: int32[N], R: int32[N]):
    for i in range(N):
        Q[i] = A[i] / B[i]
        R[i] = A[i] % B[i]


def test_c_division_and_modulo_in_place():
    rng = np.random.default_rng(6)
    A = rand_i32(rng, N, -1000, 1000)
    B = rand_i32(rng, N, 1, 50) * rng.choice(np.array([-1, 1], dtype=np.int32), N)
    special = [
        (-7, 2),
        (7, -2),
        (-7, -2),
        (7, 2),
        (I32_MIN, -1),
        (I32_MIN, 1),
        (0, -5),
        (-1, I32_MIN),
        (I32_MIN, I32_MIN),
        (I32_MAX, -2),
    ]
    for k, (a, b) in enumerate(special):
        A[k], B[k] = a, b
    Q = np.zeros(N, np.int32)
    R = np.zeros(N, np.int32)
    ret = run(div_mod_c, A, B, Q, R)
    assert ret is None
    q_ref = arr([wrap(tdiv(int(a), int(b)), 32) for a, b in zip(A, B)], np.int32)
    r_ref = arr([cmod(int(a), int(b)) for a, b in zip(A, B)], np.int32)
    np.testing.assert_array_equal(Q, q_ref)
    np.testing.assert_array_equal(R, r_ref)
    # spot values: truncation, not flooring
    assert Q[0] == -3 and R[0] == -1
    assert Q[1] == -3 and R[1] == 1
    assert Q[4] == I32_MIN and R[4] == 0


def floor_div(A: int32[N], B: int32[N]) -> int32[N]:
    C: int32[N] = 0
    for i in range(N):
        C[i] = A[i] // B[i]
    return C


def test_floor_division_negative_operands():
    rng = np.random.default_rng(7)
    A = rand_i32(rng, N, -1000, 1000)
    B = rand_i32(rng, N, 1, 30) * rng.choice(np.array([-1, 1], dtype=np.int32), N)
    for k, (a, b) in enumerate([(-7, 2), (7, -2), (-7, -2), (I32_MIN, -1), (-1, 3)]):
        A[k], B[k] = a, b
    ref = arr([wrap(int(a) // int(b), 32) for a, b in zip(A, B)], np.int32)
    out = run(floor_div, A, B)
    check(out, ref)
    assert out[0] == -4 and out[1] == -4 and out[2] == 3 and out[4] == -1


def div_by_zero(A: int32[N], B: int32[N]) -> (int32[N], int32[N], int32[N]):
    Q: int32[N] = 0
    F: int32[N] = 0
    R: int32[N] = 0
    for i in range(N):
        Q[i] = A[i] / B[i]
        F[i] = A[i] // B[i]
        R[i] = A[i] % B[i]
    return Q, F, R


def div_by_zero_u(A: uint32[N], B: uint32[N]) -> (uint32[N], uint32[N]):
    Q: uint32[N] = 0
    R: uint32[N] = 0
    for i in range(N):
        Q[i] = A[i] / B[i]
        R[i] = A[i] % B[i]
    return Q, R


def test_division_by_zero_is_defined():
    rng = np.random.default_rng(8)
    A = rand_i32(rng, N)
    B = np.zeros(N, np.int32)
    B[::2] = 3  # mix zero and non-zero divisors
    Q, F, R = run(div_by_zero, A, B)
    q_ref = arr([-1 if b == 0 else tdiv(int(a), int(b)) for a, b in zip(A, B)], np.int32)
    f_ref = arr([-1 if b == 0 else int(a) // int(b) for a, b in zip(A, B)], np.int32)
    r_ref = arr([int(a) if b == 0 else cmod(int(a), int(b)) for a, b in zip(A, B)], np.int32)
    check(Q, q_ref)
    check(F, f_ref)
    check(R, r_ref)

    U = rng.integers(0, 2**32, N, dtype=np.uint64).astype(np.uint32)
    V = np.zeros(N, np.uint32)
    V[1::2] = 7
    Qu, Ru = run(div_by_zero_u, U, V)
    check(
        Qu,
        arr([2**32 - 1 if v == 0 else int(u) // int(v) for u, v in zip(U, V)], np.uint32),
    )
    check(
        Ru,
        arr([int(u) if v == 0 else int(u) % int(v) for u, v in zip(U, V)], np.uint32),
    )


def div_i8(A: int8[N], B: int8[N]) -> int16[N]:
    C: int16[N] = 0
    for i in range(N):
        C[i] = A[i] / B[i]
    return C


def test_int8_division_result_has_dividend_type():
    # a / b has the type of a: -128 / -1 = 128 wraps to -128 *before* the int16 store
    rng = np.random.default_rng(9)
    A = rng.integers(-128, 128, N, dtype=np.int8)
    B = rng.integers(1, 20, N, dtype=np.int8) * rng.choice(np.array([-1, 1], np.int8), N)
    A[0], B[0] = -128, -1
    A[1], B[1] = -128, 1
    ref = arr([wrap(tdiv(int(a), int(b)), 8) for a, b in zip(A, B)], np.int16)
    out = run(div_i8, A, B)
    check(out, ref)
    assert out[0] == -128


def div_u8_by_i8(A: uint8[N], B: int8[N]) -> int16[N]:
    C: int16[N] = 0
    for i in range(N):
        C[i] = A[i] / B[i]
    return C


def test_uint_divided_by_int_is_signed_same_width():
    # UInt(8) / Int(8) gives Int(8): the exact quotient wraps to 8 signed bits
    rng = np.random.default_rng(10)
    A = rng.integers(0, 256, N, dtype=np.uint8)
    B = rng.integers(1, 5, N, dtype=np.int8) * rng.choice(np.array([-1, 1], np.int8), N)
    A[0], B[0] = 200, 1  # 200 -> Int(8) -56
    A[1], B[1] = 200, -1  # -200 -> 56
    A[2], B[2] = 100, -1
    ref = arr([wrap(tdiv(int(a), int(b)), 8) for a, b in zip(A, B)], np.int16)
    out = run(div_u8_by_i8, A, B)
    check(out, ref)
    assert list(out[:3]) == [-56, 56, -100]


# ------------------------------------------------------------------------------------------
# Shifts


def shifts_i32(A: int32[N], S: int32[N]) -> (int32[N], int32[N]):
    L: int32[N] = 0
    R: int32[N] = 0
    for i in range(N):
        L[i] = A[i] << S[i]
        R[i] = A[i] >> S[i]
    return L, R


def _shl(a, amt, bits):
    return 0 if amt >= bits else wrap(a << amt, bits)


def _sar(a, amt, bits):
    return (-1 if a < 0 else 0) if amt >= bits else a >> amt


def test_shifts_int32_left_wraps_right_arithmetic():
    rng = np.random.default_rng(11)
    A = rand_i32(rng, N)
    A[:4] = [-1, -12345, I32_MIN, 0x40000001]
    S = np.array([0, 1, 31, 3, 32, 33, 40, -1, 5, 17, 30, 2, 8, 31, 1, 16], np.int32)
    L, R = run(shifts_i32, A, S)
    # the amount is read as an unsigned number of its own width: -1 is a huge shift
    amts = [int(s) & 0xFFFFFFFF for s in S]
    check(L, arr([_shl(int(a), s, 32) for a, s in zip(A, amts)], np.int32))
    check(R, arr([_sar(int(a), s, 32) for a, s in zip(A, amts)], np.int32))


def lshr_u32(A: uint32[N], S: uint32[N]) -> uint32[N]:
    B: uint32[N] = 0
    for i in range(N):
        B[i] = A[i] >> S[i]
    return B


def test_logical_right_shift_unsigned():
    rng = np.random.default_rng(12)
    A = rng.integers(2**31, 2**32, N, dtype=np.uint64).astype(np.uint32)  # top bit set
    S = np.array([0, 1, 4, 31, 32, 100, 7, 16, 3, 9, 30, 2, 5, 12, 20, 28], np.uint32)
    ref = arr([int(a) >> int(s) if s < 32 else 0 for a, s in zip(A, S)], np.uint32)
    check(run(lshr_u32, A, S), ref)


def shift_narrow(A: int8[N], U: uint8[N]) -> (int32[N], int32[N], int32[N]):
    X: int32[N] = 0
    Y: int32[N] = 0
    Z: int32[N] = 0
    for i in range(N):
        X[i] = A[i] << 4
        Y[i] = A[i] >> 1
        Z[i] = U[i] << 3
    return X, Y, Z


def test_shift_result_has_operand_type():
    # << wraps to the type of the left operand, even when stored to a wider variable
    rng = np.random.default_rng(13)
    A = rng.integers(-128, 128, N, dtype=np.int8)
    U = rng.integers(0, 256, N, dtype=np.uint8)
    A[0], A[1], U[0] = 100, -1, 255
    X, Y, Z = run(shift_narrow, A, U)
    check(X, arr([wrap(int(a) << 4, 8) for a in A], np.int32))
    check(Y, arr([int(a) >> 1 for a in A], np.int32))
    check(Z, arr([(int(u) << 3) & 0xFF for u in U], np.int32))
    assert X[0] == 64 and Y[1] == -1 and Z[0] == 248


# ------------------------------------------------------------------------------------------
# Bitwise operations and bit access


def bitwise(A: int32[N], B: int32[N]) -> int32[4, N]:
    C: int32[4, N] = 0
    for i in range(N):
        C[0, i] = A[i] & B[i]
        C[1, i] = A[i] | B[i]
        C[2, i] = A[i] ^ B[i]
        C[3, i] = ~A[i]
    return C


def test_bitwise_and_or_xor_invert():
    rng = np.random.default_rng(14)
    A, B = rand_i32(rng, N), rand_i32(rng, N)
    ref = np.stack([A & B, A | B, A ^ B, ~A]).astype(np.int32)
    check(run(bitwise, A, B), ref)


def unsigned_neg_inv(A: uint8[N]) -> (int32[N], int32[N]):
    X: int32[N] = 0
    Y: int32[N] = 0
    for i in range(N):
        X[i] = ~A[i]
        Y[i] = -A[i]
    return X, Y


def test_unary_on_unsigned_gives_signed_same_width():
    # -a and ~a on UInt(8) have type Int(8)
    rng = np.random.default_rng(15)
    A = rng.integers(0, 256, N, dtype=np.uint8)
    A[:4] = [0, 5, 200, 128]
    X, Y = run(unsigned_neg_inv, A)
    check(X, arr([wrap(~int(a), 8) for a in A], np.int32))
    check(Y, arr([wrap(-int(a), 8) for a in A], np.int32))
    assert list(X[:3]) == [-1, -6, 55]
    assert list(Y[:4]) == [0, -5, 56, -128]


def mixed_sign_bitwise(A: uint8[N], B: int8[N], C: uint16[N]) -> (int32[N], int32[N], int32[N]):
    X: int32[N] = 0
    Y: int32[N] = 0
    Z: int32[N] = 0
    for i in range(N):
        X[i] = A[i] & B[i]
        Y[i] = A[i] | B[i]
        Z[i] = A[i] ^ C[i]
    return X, Y, Z


def test_mixed_sign_bitwise_result_type():
    # uint8 & int8 -> Int(8): both operands are converted to Int(8) first
    rng = np.random.default_rng(16)
    A = rng.integers(0, 256, N, dtype=np.uint8)
    B = rng.integers(-128, 128, N, dtype=np.int8)
    C = rng.integers(0, 2**16, N, dtype=np.uint16)
    A[0], B[0] = 200, -1
    X, Y, Z = run(mixed_sign_bitwise, A, B, C)
    check(X, arr([wrap(a, 8) & int(b) for a, b in zip(A, B)], np.int32))
    check(Y, arr([wrap(a, 8) | int(b) for a, b in zip(A, B)], np.int32))
    check(Z, arr([int(a) ^ int(c) for a, c in zip(A, C)], np.int32))
    assert X[0] == -56


def popcount(A: int32[N]) -> int32[N]:
    C: int32[N] = 0
    for i in range(N):
        x: int32 = A[i]
        c: int32 = 0
        for b in range(32):
            c += x[b]
        C[i] = c
    return C


def test_popcount_via_bit_access():
    rng = np.random.default_rng(17)
    A = rand_i32(rng, N)
    A[:3] = [0, -1, I32_MIN]
    ref = arr([(int(a) & 0xFFFFFFFF).bit_count() for a in A], np.int32)
    check(run(popcount, A), ref)


def bit_read_var(A: int32[N], S: int32[N]) -> uint8[N]:
    B: uint8[N] = 0
    for i in range(N):
        B[i] = A[i][S[i]]
    return B


def test_bit_read_with_variable_index_and_out_of_width():
    rng = np.random.default_rng(18)
    A = rand_i32(rng, N)
    A[0], A[1] = -5, 5
    S = rng.integers(0, 32, N, dtype=np.int32)
    S[0], S[1], S[2] = 40, 40, 35  # outside the width: the sign bit
    ref = arr(
        [(int(a) >> int(s)) & 1 if s < 32 else int(a < 0) for a, s in zip(A, S)],
        np.uint8,
    )
    check(run(bit_read_var, A, S), ref)


def chained_bits(A: int32[N], S: int32[N]) -> (uint8[N], uint8[N]):
    X: uint8[N] = 0
    Y: uint8[N] = 0
    for i in range(N):
        X[i] = A[i][3:9][S[i]]
        Y[i] = A[i][8:24][4:12]
    return X, Y


def test_chained_bit_access_on_array_elements():
    rng = np.random.default_rng(19)
    A = rand_i32(rng, N)
    S = rng.integers(0, 8, N, dtype=np.int32)  # 6 and 7 lie outside the 6-bit slice: 0
    u = [int(a) & 0xFFFFFFFF for a in A]
    X = arr([(a >> 3 >> s) & 1 if s < 6 else 0 for a, s in zip(u, S)], np.uint8)
    Y = arr([(a >> 12) & 0xFF for a in u], np.uint8)
    out = run(chained_bits, A, S)
    check(out[0], X)
    check(out[1], Y)


def bit_slices(A: int32[N]) -> (int32[N], int32[N], int32[N]):
    X: int32[N] = 0
    Y: int32[N] = 0
    Z: int32[N] = 0
    for i in range(N):
        X[i] = A[i][4:12]
        Y[i] = A[i][28:32]
        Z[i] = (A[i] + 1)[0:2]
    return X, Y, Z


def test_bit_slice_extract():
    rng = np.random.default_rng(19)
    A = rand_i32(rng, N)
    A[0], A[1] = -1, I32_MAX
    u = [int(a) & 0xFFFFFFFF for a in A]
    X, Y, Z = run(bit_slices, A)
    check(X, arr([(v >> 4) & 0xFF for v in u], np.int32))
    check(Y, arr([v >> 28 for v in u], np.int32))
    # A + 1 is computed wide (no wrap) before taking bits 0..1
    check(Z, arr([(int(a) + 1) & 3 for a in A], np.int32))


def bit_set(A: int32[N], V: u1[N]) -> int32[N]:
    B: int32[N] = 0
    for i in range(N):
        x: int32 = A[i]
        x[0] = 1
        x[31] = 0
        x[5] = V[i]
        B[i] = x
    return B


def test_bit_assignment():
    rng = np.random.default_rng(20)
    A = rand_i32(rng, N)
    A[0] = -1
    V = rng.integers(0, 2, N, dtype=np.uint8)
    V[0] = 0
    ref = []
    for a, v in zip(A, V):
        x = int(a) & 0xFFFFFFFF
        x |= 1
        x &= ~(1 << 31)
        x = (x & ~(1 << 5)) | (int(v) << 5)
        ref.append(wrap(x, 32))
    out = run(bit_set, A, V)
    check(out, arr(ref, np.int32))
    assert out[0] == 0x7FFFFFDF


def slice_set(A: int32[N], V: int32[N]) -> int32[N]:
    B: int32[N] = 0
    for i in range(N):
        x: int32 = A[i]
        x[8:16] = V[i]
        x[28:32] = 9
        B[i] = x
    return B


def test_bit_slice_assignment():
    rng = np.random.default_rng(21)
    A, V = rand_i32(rng, N), rand_i32(rng, N)
    ref = []
    for a, v in zip(A, V):
        x = int(a) & 0xFFFFFFFF
        x = (x & ~0xFF00) | ((int(v) & 0xFF) << 8)
        x = (x & 0x0FFFFFFF) | (9 << 28)
        ref.append(wrap(x, 32))
    check(run(slice_set, A, V), arr(ref, np.int32))


def pack_bits(Bits: u1[N, 16]) -> uint16[N]:
    Pk: uint16[N] = 0
    for i in range(N):
        v: uint16 = 0
        for j in range(16):
            v[j] = Bits[i, j]
        Pk[i] = v
    return Pk


def test_pack_bits_with_variable_bit_assignment():
    rng = np.random.default_rng(22)
    Bits = rng.integers(0, 2, (N, 16), dtype=np.uint8)
    ref = arr([sum(int(b) << j for j, b in enumerate(row)) for row in Bits], np.uint16)
    check(run(pack_bits, Bits), ref)


def reverse_bits(A: uint8[N], B: int16[N]) -> (uint8[N], int16[N]):
    R: uint8[N] = 0
    S: int16[N] = 0
    for i in range(N):
        R[i] = (A[i][0:8]).reverse()
        x: int16 = B[i]
        S[i] = x.reverse()
    return R, S


def test_reverse():
    rng = np.random.default_rng(23)
    A = rng.integers(0, 256, N, dtype=np.uint8)
    B = rng.integers(-(2**15), 2**15, N, dtype=np.int16)
    A[0], B[0], B[1] = 1, 1, -2
    R, S = run(reverse_bits, A, B)
    check(R, arr([rev_bits(a, 8) for a in A], np.uint8))
    check(S, arr([wrap(rev_bits(b, 16), 16) for b in B], np.int16))
    assert R[0] == 128 and S[0] == I32_MIN >> 16 and S[1] == 0x7FFF


# ------------------------------------------------------------------------------------------
# Wrap-around on store and the widening rules


def acc_i8(A: int8[N]) -> int8:
    s: int8 = 0
    for i in range(N):
        s += A[i]
    return s


def acc_i8_array(A: int8[N]) -> int8[4]:
    S: int8[4] = 0
    for i in range(N):
        S[i % 4] = S[i % 4] + A[i]
    return S


def test_int8_accumulation_overflows():
    rng = np.random.default_rng(24)
    A = rng.integers(60, 128, N, dtype=np.int8)  # the sum leaves the int8 range
    out = run(acc_i8, A)
    assert type(out) is int
    assert out == wrap(sum(int(a) for a in A), 8)
    ref = arr([wrap(sum(int(a) for a in A[j::4]), 8) for j in range(4)], np.int8)
    check(run(acc_i8_array, A), ref)


def u8_wrap(A: uint8[N]) -> (uint8[N], uint8[N], uint8[N]):
    B: uint8[N] = 0
    C: uint8[N] = 0
    D: uint8[N] = 0
    for i in range(N):
        B[i] = A[i] + 200
        C[i] = A[i] - 3
        D[i] = A[i] * A[i]
    return B, C, D


def test_uint8_wraparound():
    rng = np.random.default_rng(25)
    A = rng.integers(0, 256, N, dtype=np.uint8)
    A[:3] = [0, 2, 255]
    B, C, D = run(u8_wrap, A)
    check(B, arr([(int(a) + 200) % 256 for a in A], np.uint8))
    check(C, arr([(int(a) - 3) % 256 for a in A], np.uint8))
    check(D, arr([(int(a) * int(a)) % 256 for a in A], np.uint8))


def u8_sub(A: uint8[N], B: uint8[N]) -> (int32[N], i9[N], int32[N]):
    C: int32[N] = 0
    D: i9[N] = 0
    E: int32[N] = 0
    for i in range(N):
        C[i] = A[i] - B[i]
        D[i] = A[i] - B[i]
        E[i] = int(A[i]) - B[i]
    return C, D, E


def test_unsigned_subtraction_is_unsigned_9_bit():
    # UInt(8) - UInt(8) is UInt(9): 3 - 5 = 510; stored to Int(9) it reads -2
    rng = np.random.default_rng(26)
    A = rng.integers(0, 256, N, dtype=np.uint8)
    B = rng.integers(0, 256, N, dtype=np.uint8)
    A[0], B[0] = 3, 5
    C, D, E = run(u8_sub, A, B)
    check(C, arr([(int(a) - int(b)) % 512 for a, b in zip(A, B)], np.int32))
    check(D, arr([wrap(int(a) - int(b), 9) for a, b in zip(A, B)], np.int16))
    check(E, arr([int(a) - int(b) for a, b in zip(A, B)], np.int32))
    assert C[0] == 510 and D[0] == -2 and E[0] == -2


def mul_i64(A: int64[N], B: int64[N]) -> (int64[N], int64[N]):
    C: int64[N] = 0
    D: int64[N] = 0
    for i in range(N):
        C[i] = A[i] * B[i]
        D[i] = (A[i] * B[i]) >> 64
    return C, D


def test_int64_products_and_full_width_product():
    rng = np.random.default_rng(27)
    A = rng.integers(-(2**63), 2**63, N, dtype=np.int64)
    B = rng.integers(-(2**63), 2**63, N, dtype=np.int64)
    A[0], B[0] = -(2**63), -(2**63)
    C, D = run(mul_i64, A, B)
    check(C, arr([wrap(int(a) * int(b), 64) for a, b in zip(A, B)], np.int64))
    # int64 * int64 is Int(128): the high word survives the shift
    check(D, arr([(int(a) * int(b)) >> 64 for a, b in zip(A, B)], np.int64))


def mulhi_i32(A: int32[N], B: int32[N]) -> int32[N]:
    C: int32[N] = 0
    for i in range(N):
        C[i] = (A[i] * B[i]) >> 32
    return C


def test_int32_product_widens_to_64_bits():
    rng = np.random.default_rng(28)
    A, B = rand_i32(rng, N), rand_i32(rng, N)
    ref = arr([(int(a) * int(b)) >> 32 for a, b in zip(A, B)], np.int32)
    check(run(mulhi_i32, A, B), ref)


def odd_u12(A: u12[N], B: u12[N]) -> (u12[N], u24[N]):
    C: u12[N] = 0
    D: u24[N] = 0
    for i in range(N):
        C[i] = A[i] + B[i]
        D[i] = A[i] * B[i]
    return C, D


def test_uint12():
    rng = np.random.default_rng(29)
    A = rng.integers(0, 4096, N, dtype=np.uint16)
    B = rng.integers(0, 4096, N, dtype=np.uint16)
    A[0], B[0] = 4095, 1
    C, D = run(odd_u12, A, B)
    check(C, arr([(int(a) + int(b)) % 4096 for a, b in zip(A, B)], np.uint16))
    check(D, arr([int(a) * int(b) for a, b in zip(A, B)], np.uint32))


def odd_i24(A: i24[N], B: i24[N]) -> (i24[N], i48[N], i24[N]):
    C: i24[N] = 0
    D: i48[N] = 0
    E: i24[N] = 0
    for i in range(N):
        C[i] = A[i] * B[i]
        D[i] = A[i] * B[i]
        E[i] = A[i] + B[i]
    return C, D, E


def test_int24_and_int48():
    rng = np.random.default_rng(30)
    A = rng.integers(-(2**23), 2**23, N, dtype=np.int32)
    B = rng.integers(-(2**23), 2**23, N, dtype=np.int32)
    A[0], B[0] = 2**23 - 1, 1
    C, D, E = run(odd_i24, A, B)
    check(C, arr([wrap(int(a) * int(b), 24) for a, b in zip(A, B)], np.int32))
    check(D, arr([int(a) * int(b) for a, b in zip(A, B)], np.int64))
    check(E, arr([wrap(int(a) + int(b), 24) for a, b in zip(A, B)], np.int32))
    assert E[0] == -(2**23)


def rand_bigints(rng, bits, n):
    out = []
    for _ in range(n):
        v = 0
        for _ in range((bits + 31) // 32):
            v = (v << 32) | int(rng.integers(0, 2**32))
        out.append(wrap(v, bits))
    return out


def obj(values):
    a = np.empty(len(values), dtype=object)
    a[:] = [int(v) for v in values]
    return a


def check_obj(out, ref):
    assert isinstance(out, np.ndarray) and out.dtype == object, getattr(out, "dtype", out)
    assert out.shape == (len(ref),)
    assert [int(v) for v in out] == [int(v) for v in ref]


def add_i100(A: i100[N], B: i100[N]) -> (i100[N], i100[N], int32[N]):
    C: i100[N] = 0
    D: i100[N] = 0
    E: int32[N] = 0
    for i in range(N):
        C[i] = A[i] + B[i]
        D[i] = A[i] - B[i]
        E[i] = A[i] >> 90
    return C, D, E


def test_int100_object_arrays():
    rng = np.random.default_rng(31)
    a, b = rand_bigints(rng, 100, N), rand_bigints(rng, 100, N)
    a[0], b[0] = 2**99 - 1, 1  # wraps to -2**99
    a[1], b[1] = -(2**99), 1
    C, D, E = run(add_i100, obj(a), obj(b))
    check_obj(C, [wrap(x + y, 100) for x, y in zip(a, b)])
    check_obj(D, [wrap(x - y, 100) for x, y in zip(a, b)])
    check(E, arr([x >> 90 for x in a], np.int32))
    assert int(C[0]) == -(2**99)


def mul_i128(A: i128[N], B: i128[N], X: int64[N], Y: int64[N]) -> (i128[N], i128[N], i128[N]):
    C: i128[N] = 0
    D: i128[N] = 0
    E: i128[N] = 0
    for i in range(N):
        C[i] = A[i] * B[i]
        D[i] = (A[i] * B[i]) >> 128
        E[i] = X[i] * Y[i]
    return C, D, E


def test_int128_multiply():
    rng = np.random.default_rng(32)
    a, b = rand_bigints(rng, 128, N), rand_bigints(rng, 128, N)
    X = rng.integers(-(2**63), 2**63, N, dtype=np.int64)
    Y = rng.integers(-(2**63), 2**63, N, dtype=np.int64)
    C, D, E = run(mul_i128, obj(a), obj(b), X, Y)
    check_obj(C, [wrap(x * y, 128) for x, y in zip(a, b)])
    check_obj(D, [(x * y) >> 128 for x, y in zip(a, b)])
    check_obj(E, [int(x) * int(y) for x, y in zip(X, Y)])


# ------------------------------------------------------------------------------------------
# Fixed point


def fx_raw(v, frac):
    """Input conversion: truncation toward zero at ``frac`` fraction bits."""
    return int(np.trunc(v * 2**frac))


def fixed_ops(A: fx16[N], B: fx16[N]) -> (fx16[N], fx16[N], fx16[N]):
    C: fx16[N] = 0
    D: fx16[N] = 0
    E: fx16[N] = 0
    for i in range(N):
        C[i] = A[i] + B[i]
        D[i] = A[i] * B[i]
        E[i] = A[i] - B[i]
    return C, D, E


def test_fixed_16_8_add_mul_truncation():
    rng = np.random.default_rng(33)
    A = rng.uniform(-20, 20, N)
    B = rng.uniform(-20, 20, N)
    A[:4] = [-1.3, 100.0, 1.5, -0.00390625]
    B[:4] = [2.71, 100.0, -1.5, 0.5]
    ra = [fx_raw(v, 8) for v in A]
    rb = [fx_raw(v, 8) for v in B]
    assert ra[0] == -332  # -1.3 * 256 = -332.8 truncates toward zero
    C, D, E = run(fixed_ops, A, B)
    # + and - are exact on raw values, then wrap to 16 bits
    check(C, np.array([wrap(x + y, 16) / 256 for x, y in zip(ra, rb)], np.float64))
    check(E, np.array([wrap(x - y, 16) / 256 for x, y in zip(ra, rb)], np.float64))
    # * is exact in Fixed(32, 16); storing to Fixed(16, 8) drops 8 bits (floor) and wraps
    check(D, np.array([wrap((x * y) >> 8, 16) / 256 for x, y in zip(ra, rb)], np.float64))
    assert C[1] == -56.0  # 200.0 wraps
    assert D[3] == -0.00390625  # floor of -1/512 at 8 fraction bits


def fixed_mixed(A: fx16[N], B: fx12_4[N]) -> (fx16_4[N], int32[N]):
    C: fx16_4[N] = 0
    D: int32[N] = 0
    for i in range(N):
        C[i] = A[i] + B[i]
        D[i] = int(A[i])
    return C, D


def test_fixed_mixed_fraction_bits_and_int_conversion():
    rng = np.random.default_rng(34)
    A = rng.uniform(-60, 60, N)
    B = rng.uniform(-60, 60, N)
    A[0], A[1] = -1.5, 2.75
    ra = [fx_raw(v, 8) for v in A]
    rb = [fx_raw(v, 4) for v in B]
    C, D = run(fixed_mixed, A, B)
    # sum at 8 fraction bits, converted to 4 fraction bits by dropping bits (floor)
    check(
        C,
        np.array([wrap((x + (y << 4)) >> 4, 16) / 16 for x, y in zip(ra, rb)], np.float64),
    )
    # Fixed -> int32 is an integer-like conversion: drop the fraction bits (floor)
    check(D, arr([x >> 8 for x in ra], np.int32))
    assert D[0] == -2 and D[1] == 2


def ufixed_ops(A: ufx8[N], B: ufx8[N]) -> (ufx8[N], ufx8[N]):
    C: ufx8[N] = 0
    D: ufx8[N] = 0
    for i in range(N):
        C[i] = A[i] + B[i]
        D[i] = A[i] * B[i]
    return C, D


def test_ufixed_8_4():
    rng = np.random.default_rng(35)
    A = rng.uniform(0, 15.9, N)
    B = rng.uniform(0, 15.9, N)
    A[0], B[0] = 15.9375, 0.0625
    ra = [fx_raw(v, 4) for v in A]
    rb = [fx_raw(v, 4) for v in B]
    C, D = run(ufixed_ops, A, B)
    check(C, np.array([((x + y) % 256) / 16 for x, y in zip(ra, rb)], np.float64))
    check(D, np.array([(((x * y) >> 4) % 256) / 16 for x, y in zip(ra, rb)], np.float64))
    assert C[0] == 0.0


# ------------------------------------------------------------------------------------------
# Conversions


def int_conv(A: uint32[N], B: int8[N]) -> (int64[N], int64[N], uint8[N]):
    X: int64[N] = 0
    Y: int64[N] = 0
    Z: uint8[N] = 0
    for i in range(N):
        X[i] = int(A[i])
        Y[i] = A[i]
        Z[i] = B[i]
    return X, Y, Z


def test_int_cast_and_conversion_on_store():
    rng = np.random.default_rng(36)
    A = rng.integers(0, 2**32, N, dtype=np.uint64).astype(np.uint32)
    A[0], A[1] = 3_000_000_000, 5
    B = rng.integers(-128, 128, N, dtype=np.int8)
    X, Y, Z = run(int_conv, A, B)
    check(X, arr([wrap(a, 32) for a in A], np.int64))  # int() is int32
    check(Y, arr(A, np.int64))  # plain store keeps the value
    check(Z, arr([int(b) % 256 for b in B], np.uint8))
    assert X[0] == 3_000_000_000 - 2**32


# ------------------------------------------------------------------------------------------
# Linear algebra


def gemm(A: int32[32, 32], B: int32[32, 32]) -> int32[32, 32]:
    C: int32[32, 32] = 0
    for i, j in allo.grid(32, 32, name="C"):
        for k in allo.reduction(32):
            C[i, j] += A[i, k] * B[k, j]
    return C


def test_gemm_int32_32x32():
    rng = np.random.default_rng(37)
    A = rng.integers(-100, 100, (32, 32), dtype=np.int32)
    B = rng.integers(-100, 100, (32, 32), dtype=np.int32)
    check(run(gemm, A, B), (A.astype(np.int64) @ B.astype(np.int64)).astype(np.int32))


@pytest.mark.parametrize("m,k,n", [(16, 16, 16), (8, 12, 5), (1, 7, 3), (13, 1, 9), (4, 9, 1)])
def test_gemm_int32_sizes(m, k, n):
    # Sizes come from the closure; full-range int32 so the accumulator wraps.
    def gemm_mkn(A: int32[m, k], B: int32[k, n]) -> int32[m, n]:
        C: int32[m, n] = 0
        for i, j in allo.grid(m, n, name="C"):
            for r in allo.reduction(k):
                C[i, j] += A[i, r] * B[r, j]
        return C

    rng = np.random.default_rng(38 + m + 100 * n)
    A = rng.integers(-(2**31), 2**31, (m, k), dtype=np.int64).astype(np.int32)
    B = rng.integers(-(2**31), 2**31, (k, n), dtype=np.int64).astype(np.int32)
    # int64 matmul wraps mod 2**64; the low 32 bits are the int32 accumulation
    ref = (A.astype(np.int64) @ B.astype(np.int64)).astype(np.int32)
    check(run(gemm_mkn, A, B), ref)


def gemm_i8(A: int8[M, K], B: int8[K, P]) -> int32[M, P]:
    C: int32[M, P] = 0
    for i, j in allo.grid(M, P, name="C"):
        for k in allo.reduction(K):
            C[i, j] += A[i, k] * B[k, j]
    return C


def test_gemm_int8_inputs_int32_accumulation():
    rng = np.random.default_rng(39)
    A = rng.integers(-128, 128, (M, K), dtype=np.int8)
    B = rng.integers(-128, 128, (K, P), dtype=np.int8)
    A[0, :] = -128
    B[:, 0] = -128
    check(run(gemm_i8, A, B), A.astype(np.int32) @ B.astype(np.int32))


def transpose(A: int32[M, K]) -> int32[K, M]:
    B: int32[K, M] = 0
    for i, j in allo.grid(M, K):
        B[j, i] = A[i, j]
    return B


def test_transpose():
    rng = np.random.default_rng(40)
    A = rand_i32(rng, M * K).reshape(M, K)
    check(run(transpose, A), A.T.copy())


def row_col_sums(A: int16[M, K]) -> (int32[M], int32[K]):
    R: int32[M] = 0
    C: int32[K] = 0
    for i in range(M):
        for j in allo.reduction(K):
            R[i] += A[i, j]
    for j in range(K):
        for i in allo.reduction(M):
            C[j] += A[i, j]
    return R, C


def test_row_and_column_sums():
    rng = np.random.default_rng(41)
    A = rng.integers(-(2**15), 2**15, (M, K), dtype=np.int16)
    R, C = run(row_col_sums, A)
    check(R, A.astype(np.int32).sum(axis=1, dtype=np.int32))
    check(C, A.astype(np.int32).sum(axis=0, dtype=np.int32))


def prefix_sum(A: int32[N]) -> int32[N]:
    S: int32[N] = 0
    S[0] = A[0]
    for i in range(1, N):
        S[i] = S[i - 1] + A[i]
    return S


def test_prefix_sum():
    rng = np.random.default_rng(42)
    A = rand_i32(rng, N, -(10**8), 10**8)
    ref = arr([wrap(sum(int(a) for a in A[: i + 1]), 32) for i in range(N)], np.int32)
    check(run(prefix_sum, A), ref)


def histogram(A: uint8[NH]) -> (int32[NB], int32[NB]):
    Hi: int32[NB] = 0
    Lo: int32[NB] = 0
    for i in range(NH):
        Hi[A[i] >> 4] += 1
        Lo[A[i] & 15] += 1
    return Hi, Lo


def test_histogram_data_dependent_index():
    rng = np.random.default_rng(43)
    A = rng.integers(0, 256, NH, dtype=np.uint8)
    Hi, Lo = run(histogram, A)
    check(Hi, np.bincount(A >> 4, minlength=NB).astype(np.int32))
    check(Lo, np.bincount(A & 15, minlength=NB).astype(np.int32))


def max_min(A: int32[N]) -> (int32, int32):
    mx: int32 = A[0]
    mn: int32 = A[0]
    for i in range(1, N):
        mx = max(mx, A[i])
        mn = min(mn, A[i])
    return mx, mn


def test_max_min_reduction_returns_tuple():
    rng = np.random.default_rng(44)
    A = rand_i32(rng, N)
    out = run(max_min, A)
    assert isinstance(out, list) and len(out) == 2
    assert all(type(v) is int for v in out)
    assert out == [int(A.max()), int(A.min())]


def minmax_mixed(A: int8[N], B: uint8[N]) -> (int16[N], int16[N]):
    X: int16[N] = 0
    Y: int16[N] = 0
    for i in range(N):
        X[i] = max(A[i], B[i])
        Y[i] = min(A[i], B[i])
    return X, Y


def test_min_max_mixed_signedness_exact():
    # common type of int8 and uint8 is Int(9): 200 stays 200, -1 stays -1
    rng = np.random.default_rng(45)
    A = rng.integers(-128, 128, N, dtype=np.int8)
    B = rng.integers(0, 256, N, dtype=np.uint8)
    A[0], B[0] = -1, 200
    X, Y = run(minmax_mixed, A, B)
    check(X, arr([max(int(a), int(b)) for a, b in zip(A, B)], np.int16))
    check(Y, arr([min(int(a), int(b)) for a, b in zip(A, B)], np.int16))


def matvec(A: int32[M, K], x: int32[K]) -> int32[M]:
    y: int32[M] = 0
    for i in range(M):
        for j in allo.reduction(K):
            y[i] += A[i, j] * x[j]
    return y


def test_matvec():
    rng = np.random.default_rng(46)
    A = rng.integers(-1000, 1000, (M, K), dtype=np.int32)
    x = rng.integers(-1000, 1000, K, dtype=np.int32)
    check(run(matvec, A, x), A @ x)


def outer(a: int16[M], b: int16[K]) -> int32[M, K]:
    C: int32[M, K] = 0
    for i, j in allo.grid(M, K):
        C[i, j] = a[i] * b[j]
    return C


def test_outer_product():
    rng = np.random.default_rng(47)
    a = rng.integers(-(2**15), 2**15, M, dtype=np.int16)
    b = rng.integers(-(2**15), 2**15, K, dtype=np.int16)
    check(run(outer, a, b), np.outer(a.astype(np.int32), b.astype(np.int32)))


def tri_sums(A: int32[N, N]) -> (int32[N], int32[N]):
    U: int32[N] = 0
    L: int32[N] = 0
    for i in range(N):
        for j in range(i, N):
            U[i] += A[i, j]
        for j in range(0, i + 1):
            L[i] += A[i, j]
    return U, L


def test_triangular_loops():
    rng = np.random.default_rng(48)
    A = rng.integers(-1000, 1000, (N, N), dtype=np.int32)
    U, L = run(tri_sums, A)
    check(U, np.triu(A).sum(axis=1).astype(np.int32))
    check(L, np.tril(A).sum(axis=1).astype(np.int32))


def trmm(A: int32[N, N], B: int32[N, N]) -> int32[N, N]:
    C: int32[N, N] = 0
    for i in range(N):
        for j in range(N):
            for k in range(i, N):
                C[i, j] += A[i, k] * B[k, j]
    return C


def test_triangular_matmul():
    rng = np.random.default_rng(49)
    A = rng.integers(-50, 50, (N, N), dtype=np.int32)
    B = rng.integers(-50, 50, (N, N), dtype=np.int32)
    check(run(trmm, A, B), np.triu(A) @ B)


def step_loops(A: int32[N]) -> (int32[N], int32[N], int32[N]):
    E: int32[N] = 0
    R: int32[N] = 0
    T: int32[N] = 0
    for i in range(0, N, 2):
        E[i] = A[i] * 2
    for i in range(1, N, 3):
        E[i] = A[i] + 100
    for i in range(N - 1, -1, -1):
        R[N - 1 - i] = A[i]
    for i in range(N - 1, 0, -3):
        T[i] = T[i] + A[i] - 1
    return E, R, T


def test_loops_with_steps():
    rng = np.random.default_rng(50)
    A = rng.integers(-1000, 1000, N, dtype=np.int32)
    E_ref = np.zeros(N, np.int32)
    E_ref[0::2] = A[0::2] * 2
    E_ref[1::3] = A[1::3] + 100
    T_ref = np.zeros(N, np.int32)
    for i in range(N - 1, 0, -3):
        T_ref[i] = A[i] - 1
    E, R, T = run(step_loops, A)
    check(E, E_ref)
    check(R, A[::-1].copy())
    check(T, T_ref)


def sum3d(A: int32[D0, D1, D2]) -> (int32[D0], int64):
    S: int32[D0] = 0
    tot: int64 = 0
    for i in range(D0):
        for j in allo.reduction(D1):
            for k in allo.reduction(D2):
                S[i] += A[i, j, k]
                tot += A[i, j, k] * A[i, j, k]
    return S, tot


def test_nested_reductions_3d():
    rng = np.random.default_rng(51)
    A = rand_i32(rng, D0 * D1 * D2).reshape(D0, D1, D2)
    S, tot = run(sum3d, A)
    S_ref = arr([wrap(sum(int(v) for v in A[i].ravel()), 32) for i in range(D0)], np.int32)
    check(S, S_ref)
    assert tot == wrap(sum(int(v) ** 2 for v in A.ravel()), 64)


# ------------------------------------------------------------------------------------------
# Stencils and convolutions


def stencil3(A: int32[N]) -> int32[N]:
    B: int32[N] = 0
    for i in range(1, N - 1):
        B[i] = A[i - 1] - 2 * A[i] + A[i + 1]
    return B


def test_stencil_1d_3_point():
    rng = np.random.default_rng(52)
    A = rng.integers(-(10**6), 10**6, N, dtype=np.int32)
    ref = np.zeros(N, np.int32)
    ref[1:-1] = A[:-2] - 2 * A[1:-1] + A[2:]
    check(run(stencil3, A), ref)


def jacobi2d(A: int32[H, W]) -> int32[H, W]:
    B: int32[H, W] = 0
    for i, j in allo.grid(H, W):
        B[i, j] = A[i, j]
    for i in range(1, H - 1):
        for j in range(1, W - 1):
            B[i, j] = (A[i - 1, j] + A[i + 1, j] + A[i, j - 1] + A[i, j + 1] + A[i, j]) / 5
    return B


def test_jacobi_2d_with_truncating_division():
    rng = np.random.default_rng(53)
    A = rng.integers(-1000, 1000, (H, W), dtype=np.int32)
    ref = A.copy()
    for i in range(1, H - 1):
        for j in range(1, W - 1):
            s = int(A[i - 1, j]) + int(A[i + 1, j]) + int(A[i, j - 1]) + int(A[i, j + 1])
            ref[i, j] = tdiv(s + int(A[i, j]), 5)
    check(run(jacobi2d, A), ref)


def conv2d(A: int16[H, W], Wt: int16[3, 3]) -> int32[H - 2, W - 2]:
    B: int32[H - 2, W - 2] = 0
    for i, j in allo.grid(H - 2, W - 2):
        for di in allo.reduction(3):
            for dj in allo.reduction(3):
                B[i, j] += A[i + di, j + dj] * Wt[di, dj]
    return B


def test_conv_2d_3x3():
    rng = np.random.default_rng(54)
    A = rng.integers(-(2**15), 2**15, (H, W), dtype=np.int16)
    Wt = rng.integers(-(2**15), 2**15, (3, 3), dtype=np.int16)
    A64, W64 = A.astype(np.int64), Wt.astype(np.int64)
    ref = np.zeros((H - 2, W - 2), np.int64)
    for di in range(3):
        for dj in range(3):
            ref += A64[di : di + H - 2, dj : dj + W - 2] * W64[di, dj]
    check(run(conv2d, A, Wt), ref.astype(np.int32))


def conv1d(X: int16[NX], Wt: int16[NW]) -> int32[NX - NW + 1]:
    Y: int32[NX - NW + 1] = 0
    for i in range(NX - NW + 1):
        for k in allo.reduction(NW):
            Y[i] += X[i + k] * Wt[k]
    return Y


def test_conv_1d():
    rng = np.random.default_rng(55)
    X = rng.integers(-1000, 1000, NX, dtype=np.int16)
    Wt = rng.integers(-1000, 1000, NW, dtype=np.int16)
    ref = np.correlate(X.astype(np.int64), Wt.astype(np.int64), "valid").astype(np.int32)
    check(run(conv1d, X, Wt), ref)


# ------------------------------------------------------------------------------------------
# Local arrays and in-place kernels


def scratch(A: int32[M, K]) -> int32[M]:
    R: int32[M] = 0
    for i in range(M):
        T: int32[K] = 0
        U: int32[K] = 7
        for j in range(K):
            T[j] += A[i, j] * 3
            U[j] += A[i, j]
        for j in range(K):
            R[i] += T[j] + U[j]
    return R


def test_local_arrays_reinitialised_each_iteration():
    rng = np.random.default_rng(56)
    A = rng.integers(-1000, 1000, (M, K), dtype=np.int32)
    # T and U restart from 0 and 7 for every row
    ref = (4 * A.sum(axis=1) + 7 * K).astype(np.int32)
    check(run(scratch, A), ref)


def uninit_locals(A: int32[N]) -> (int32, int32[N]):
    s: int32
    T: int32[N]
    for i in range(N):
        s += T[i] + A[i]  # noqa: F821  (declared above without a value: starts at 0)
        T[i] = s  # noqa: F821
    return s, T  # noqa: F821


def test_locals_without_initialiser_start_at_zero():
    rng = np.random.default_rng(57)
    A = rng.integers(-1000, 1000, N, dtype=np.int32)
    s, T = run(uninit_locals, A)
    assert s == int(A.sum())
    check(T, np.cumsum(A).astype(np.int32))


def scale_in_place(A: int32[M, K], f: int32):
    for i, j in allo.grid(M, K):
        A[i, j] = A[i, j] * f + i - j


def test_in_place_kernel_no_return():
    rng = np.random.default_rng(58)
    A = rng.integers(-1000, 1000, (M, K), dtype=np.int32)
    expect = A * -3 + np.arange(M, dtype=np.int32)[:, None] - np.arange(K, dtype=np.int32)[None, :]
    assert run(scale_in_place, A, -3) is None
    np.testing.assert_array_equal(A, expect)
    assert A.dtype == np.int32


# ------------------------------------------------------------------------------------------
# More edge cases: index arithmetic, uint64, augmented assignment, bounds checks


def index_wrap(A: int32[4]) -> (int64[4], int64[4], int64[4]):
    X: int64[4] = 0
    Y: int64[4] = 0
    Z: int64[4] = 0
    for i in range(46340, 46344):
        X[i - 46340] = i * i  # index * index stays index: wraps at 32 bits
    v: index = 2147483647
    Y[0] = v + 1  # index + int32 literal follows the int rules (Int(34)): exact
    Y[1] = v + v  # index + index wraps
    Y[2] = v * 2
    Y[3] = v << 1  # shift keeps the type of v: wraps
    for i in range(4):
        Z[i] = A[i] * i
    return X, Y, Z


def test_index_arithmetic_wraps_at_32_bits():
    A = np.array([2**31 - 1, -(2**31), 7, -7], np.int32)
    X, Y, Z = run(index_wrap, A)
    check(X, arr([wrap(i * i, 32) for i in range(46340, 46344)], np.int64))
    v = 2**31 - 1
    check(Y, arr([v + 1, wrap(v + v, 32), v * 2, wrap(v << 1, 32)], np.int64))
    check(Z, arr([int(a) * i for i, a in enumerate(A)], np.int64))


def u64_ops(A: uint64[N], B: uint64[N]) -> (uint64[N], uint64[N], uint64[N], int32[N]):
    C: uint64[N] = 0
    D: uint64[N] = 0
    E: uint64[N] = 0
    F: int32[N] = 0
    for i in range(N):
        C[i] = A[i] + B[i]
        D[i] = (A[i] * B[i]) >> 64
        E[i] = A[i] - B[i]
        F[i] = 1 if A[i] > B[i] else 0
    return C, D, E, F


def test_uint64_full_range():
    rng = np.random.default_rng(60)
    A = rng.integers(0, 2**64, N, dtype=np.uint64)
    B = rng.integers(0, 2**64, N, dtype=np.uint64)
    A[0], B[0] = 2**64 - 1, 1
    A[1], B[1] = 2**63 + 1, 2**63  # close values above 2**63: float64 cannot tell them apart
    A[2], B[2] = 2**53 + 1, 2**53
    C, D, E, F = run(u64_ops, A, B)
    a, b = [int(x) for x in A], [int(x) for x in B]
    check(C, np.array([(x + y) % 2**64 for x, y in zip(a, b)], np.uint64))
    check(D, np.array([(x * y) >> 64 for x, y in zip(a, b)], np.uint64))
    # UInt(64) - UInt(64) is UInt(65); the store keeps the low 64 bits
    check(E, np.array([(x - y) % 2**64 for x, y in zip(a, b)], np.uint64))
    check(F, arr([x > y for x, y in zip(a, b)], np.int32))
    assert C[0] == 0 and F[1] == 1 and F[2] == 1


def u64_max() -> uint64:
    v: uint64 = 0
    v = v - 1
    return v


def cmp64(U: uint64[N], S: int64[N]) -> int32[N]:
    C: int32[N] = 0
    for i in range(N):
        if U[i] > S[i]:
            C[i] = 1
        elif U[i] == S[i]:
            C[i] = 2
    return C


def test_uint64_scalar_return_and_64_bit_comparisons():
    out = run(u64_max)
    assert type(out) is int and out == 2**64 - 1
    rng = np.random.default_rng(61)
    U = rng.integers(0, 2**64, N, dtype=np.uint64)
    S = rng.integers(-(2**63), 2**63, N, dtype=np.int64)
    U[0], S[0] = 2**63 - 1, 2**63 - 1
    U[1], S[1] = 2**63, 2**63 - 1  # equal as float64, U is larger
    U[2], S[2] = 2**64 - 1, -1  # same bits
    U[3], S[3] = 2**53 + 1, 2**53
    ref = [1 if int(u) > int(s) else (2 if int(u) == int(s) else 0) for u, s in zip(U, S)]
    out = run(cmp64, U, S)
    check(out, arr(ref, np.int32))
    assert list(out[:4]) == [2, 1, 1, 1]


def aug_ops(A: int32[N], B: int32[N]) -> int32[8, N]:
    R: int32[8, N] = 0
    for i in range(N):
        x: int32 = A[i]
        x += B[i]
        R[0, i] = x
        x -= B[i] * 3
        R[1, i] = x
        x *= B[i]
        R[2, i] = x
        x //= 7
        R[3, i] = x
        x %= 1000
        R[4, i] = x
        x <<= 3
        R[5, i] = x
        x |= B[i]
        x ^= 0x5A5A
        R[6, i] = x
        x >>= 2
        x &= 0xFFF0F
        R[7, i] = x
    return R


def test_augmented_assignment_operators():
    rng = np.random.default_rng(62)
    A = rand_i32(rng, N)
    B = rand_i32(rng, N, -(2**20), 2**20)
    ref = np.zeros((8, N), np.int32)
    for i, (a, b) in enumerate(zip(map(int, A), map(int, B))):
        x = wrap(a + b, 32)
        ref[0, i] = x
        x = wrap(x - 3 * b, 32)
        ref[1, i] = x
        x = wrap(x * b, 32)
        ref[2, i] = x
        x = wrap(x // 7, 32)
        ref[3, i] = x
        x = cmod(x, 1000)
        ref[4, i] = x
        x = wrap(x << 3, 32)
        ref[5, i] = x
        x = wrap((x | b) ^ 0x5A5A, 32)
        ref[6, i] = x
        x = (x >> 2) & 0xFFF0F
        ref[7, i] = x
    check(run(aug_ops, A, B), ref)


def shift_left_oob(A: int32[N]) -> int32[N]:
    B: int32[N] = 0
    for i in range(N):
        B[i + 1] = A[i]
    return B


def read_negative(A: int32[N]) -> int32[N]:
    B: int32[N] = 0
    for i in range(N):
        B[i] = A[i - 1]
    return B


def test_out_of_range_index_raises():
    A = np.arange(N, dtype=np.int32)
    with pytest.raises(IndexError):
        run(shift_left_oob, A)
    # index -1 must not silently read the last element (NumPy negative indexing)
    with pytest.raises(IndexError):
        run(read_negative, A)


def bits_edge(A: int8[N], U: uint8[N]) -> (int32[N], int32[N], int32[N], int32[N]):
    X: int32[N] = 0
    Y: int32[N] = 0
    Z: int32[N] = 0
    Q: int32[N] = 0
    for i in range(N):
        X[i] = A[i][4:12]  # bits 8..11 lie outside the width: sign bits
        Y[i] = U[i][6:10]  # outside an unsigned width: zeros
        x: int8 = A[i]
        x[40] = 1  # a write outside the width has no effect
        x[7] = 0
        Z[i] = x
        Q[i] = A[i] >> U[i]  # amount of the width or more: 0 or -1
    return X, Y, Z, Q


def test_bit_access_outside_width():
    rng = np.random.default_rng(63)
    A = rng.integers(-128, 128, N, dtype=np.int8)
    U = rng.integers(0, 256, N, dtype=np.uint8)
    A[0], A[1], U[0], U[1] = -2, 5, 200, 7
    X, Y, Z, Q = run(bits_edge, A, U)
    check(X, arr([((int(a) & 0xFFF) >> 4) if a < 0 else (int(a) >> 4) for a in A], np.int32))
    check(Y, arr([(int(u) >> 6) & 3 for u in U], np.int32))
    check(Z, arr([int(a) & 0x7F for a in A], np.int32))
    check(Q, arr([_sar(int(a), int(u), 8) for a, u in zip(A, U)], np.int32))
    assert X[0] == 255 and Q[0] == -1


def int1_ops(A: Int(1)[N], B: Int(1)[N]) -> (Int(1)[N], int32[N], int32[N]):
    C: Int(1)[N] = 0
    D: int32[N] = 0
    E: int32[N] = 0
    for i in range(N):
        C[i] = A[i] + B[i]
        D[i] = A[i] + B[i]
        E[i] = A[i] * B[i]
    return C, D, E


def test_int1_direct_type_call_in_annotation():
    A = np.array([0, -1, 0, -1] * 4, np.int8)
    B = np.array([0, 0, -1, -1] * 4, np.int8)
    C, D, E = run(int1_ops, A, B)
    check(C, arr([wrap(int(a) + int(b), 1) for a, b in zip(A, B)], np.int8))
    check(D, arr([int(a) + int(b) for a, b in zip(A, B)], np.int32))
    check(E, arr([int(a) * int(b) for a, b in zip(A, B)], np.int32))
    assert list(C[:4]) == [0, -1, -1, 0] and D[3] == -2 and E[3] == 1


def to_fixed(X: float32[N], A: int32[N]) -> (fx16[N], fx16[N], float32[N], int32[N]):
    F: fx16[N] = 0
    G: fx16[N] = 0
    Y: float32[N] = 0.0
    C: int32[N] = 0
    for i in range(N):
        F[i] = X[i]  # float -> Fixed: truncate toward zero, saturate
        G[i] = A[i]  # int -> Fixed: shift left by 8, keep 16 bits
        Y[i] = F[i] * X[i]  # Fixed * float32 -> float32
        C[i] = 1 if F[i] > A[i] else 0  # exact comparison
    return F, G, Y, C


def test_conversions_to_and_from_fixed():
    rng = np.random.default_rng(64)
    X = rng.uniform(-100, 100, N).astype(np.float32)
    X[:5] = [-1.3, 1000.0, -1000.0, np.nan, 0.001]
    A = rng.integers(-200, 200, N, dtype=np.int32)
    A[:3] = [200, -129, 1]
    F, G, Y, C = run(to_fixed, X, A)

    def f2raw(v):
        if np.isnan(v):
            return 0
        return max(-(2**15), min(2**15 - 1, int(np.trunc(float(v) * 256))))

    rf = [f2raw(v) for v in X]
    check(F, np.array([r / 256 for r in rf], np.float64))
    check(G, np.array([wrap(int(a) << 8, 16) / 256 for a in A], np.float64))
    # the Fixed value converted exactly to float32 (<= 16 significant bits), then one rounding
    check(Y, np.array([np.float32(r / 256) * x for r, x in zip(rf, X)], np.float32))
    check(C, arr([r > int(a) * 256 for r, a in zip(rf, A)], np.int32))
    assert F[0] == -332 / 256 and F[1] == (2**15 - 1) / 256 and F[2] == -128.0
    assert G[0] == -56.0


def mixed_div(U: uint32[N], S: int32[N]) -> (int64[N], int64[N], int64[N]):
    Q: int64[N] = 0
    F: int64[N] = 0
    R: int64[N] = 0
    for i in range(N):
        Q[i] = U[i] / S[i]  # UInt(32) / Int(32) -> Int(32): the exact quotient wraps
        F[i] = U[i] // S[i]
        R[i] = U[i] % S[i]  # Int(33): exact, sign of the dividend
    return Q, F, R


def test_unsigned_by_signed_division_and_modulo():
    rng = np.random.default_rng(65)
    U = rng.integers(0, 2**32, N, dtype=np.uint64).astype(np.uint32)
    S = rng.integers(1, 1000, N, dtype=np.int32) * rng.choice(np.array([-1, 1], np.int32), N)
    U[0], S[0] = 3_000_000_000, -1
    U[1], S[1] = 7, -2
    U[2], S[2] = 2**32 - 1, 1
    Q, F, R = run(mixed_div, U, S)
    u, s = [int(x) for x in U], [int(x) for x in S]
    check(Q, arr([wrap(tdiv(a, b), 32) for a, b in zip(u, s)], np.int64))
    check(F, arr([wrap(a // b, 32) for a, b in zip(u, s)], np.int64))
    check(R, arr([cmod(a, b) for a, b in zip(u, s)], np.int64))
    assert Q[0] == wrap(-3_000_000_000, 32) and F[1] == -4 and R[1] == 1 and Q[2] == -1


def wide_ops(A: i100[N], B: i100[N]) -> (i100[N], i100[N], i100[N], i100[N], int32[N], i100):
    Q: i100[N] = 0
    R: i100[N] = 0
    X: i100[N] = 0
    S: i100[N] = 0
    C: int32[N] = 0
    tot: i100 = 0
    for i in range(N):
        Q[i] = A[i] / B[i]
        R[i] = A[i] % B[i]
        X[i] = (A[i] ^ B[i]) & ~B[i]
        S[i] = (A[i] << 7) >> 3
        C[i] = A[i][99] + A[i][0:4] * 2
        tot += A[i]
    return Q, R, X, S, C, tot


def test_int100_division_bitwise_shift_bits():
    rng = np.random.default_rng(66)
    a = rand_bigints(rng, 100, N)
    b = [v >> int(rng.integers(0, 90)) or 3 for v in rand_bigints(rng, 100, N)]
    a[0], b[0] = -(2**99), -1  # INT_MIN / -1 wraps
    Q, R, X, S, C, tot = run(wide_ops, obj(a), obj(b))
    check_obj(Q, [wrap(tdiv(x, y), 100) for x, y in zip(a, b)])
    check_obj(R, [cmod(x, y) for x, y in zip(a, b)])
    check_obj(X, [(x ^ y) & ~y for x, y in zip(a, b)])
    check_obj(S, [wrap(x << 7, 100) >> 3 for x in a])
    check(C, arr([int(x < 0) + (x & 15) * 2 for x in a], np.int32))
    assert type(tot) is int and tot == wrap(sum(a), 100)


def wide_reverse(A: u100[N]) -> u100[N]:
    B: u100[N] = 0
    for i in range(N):
        x: u100 = A[i]
        B[i] = x.reverse()
    return B


def test_uint100_reverse():
    rng = np.random.default_rng(67)
    a = [v % 2**100 for v in rand_bigints(rng, 100, N)]
    a[0] = 1
    out = run(wide_reverse, obj(a))
    check_obj(out, [rev_bits(x, 100) for x in a])
    assert int(out[0]) == 2**99


def fixed_scalar(a: fx16, A: fx16[N]) -> (fx16[N], fx16):
    B: fx16[N] = 0
    m: fx16 = A[0]
    for i in range(N):
        B[i] = A[i] * a
        m = max(m, A[i])
    return B, m


def test_fixed_scalar_parameter_and_return():
    rng = np.random.default_rng(68)
    A = rng.uniform(-10, 10, N)  # array values are truncated at 8 fraction bits
    a = -588 / 256  # representable (a scalar that is not makes the call warn)
    B, m = run(fixed_scalar, a, A)
    ra = fx_raw(a, 8)
    rA = [fx_raw(v, 8) for v in A]
    check(B, np.array([wrap((ra * x) >> 8, 16) / 256 for x in rA], np.float64))
    assert type(m) is float and m == max(rA) / 256


def test_wrong_dtype_is_converted_with_warning():
    # int64 values wrap to int32; float64 values truncate toward zero and saturate
    A = np.array([2**32 + 5, -(2**31) - 1] + [1] * (N - 2), np.int64)
    B = np.array([2.7, -2.7, 1e20] + [0.0] * (N - 3), np.float64)
    mod = allo.customize(vadd).build()
    with pytest.warns(UserWarning):
        out = mod(A, B)
    ref = arr([wrap(int(a), 32) + int(np.trunc(b)) for a, b in zip(A[:2], B[:2])], np.int32)
    check(out[:2], ref)
    assert out[2] == wrap(1 + (2**31 - 1), 32)


fx32_16 = Fixed(32, 16)


def fixed_div(A: fx16[N], B: fx16[N], n: int32) -> (fx32_16[N], fx16[N], fx16[N]):
    Q: fx32_16[N] = 0
    R: fx16[N] = 0
    S: fx16[N] = 0
    for i in range(N):
        Q[i] = A[i] / B[i]  # Fixed(16, 8) / Fixed(16, 8) is Fixed(32, 16) (Allo's rule)
        R[i] = A[i] / B[i]
        S[i] = A[i] / n  # Fixed(16, 8) / Int(32) is Fixed(48, 40)
    return Q, R, S


def test_fixed_division_truncates_at_result_fraction_bits():
    rng = np.random.default_rng(69)
    A = rng.uniform(-100, 100, N)
    B = rng.uniform(-8, 8, N)
    A[:5] = [1.0, -1.0, -128.0, 5.0, 3.0]
    B[:5] = [3.0, 3.0, -0.00390625, 0.0, -0.5]
    n = -7
    Q, R, S = run(fixed_div, A, B, n)
    ra = [fx_raw(v, 8) for v in A]
    rb = [fx_raw(v, 8) for v in B]
    # quotient truncated toward zero at 16 fraction bits (all ones when dividing by zero)
    q16 = [wrap(tdiv(x << 16, y), 32) if y else -1 for x, y in zip(ra, rb)]
    check(Q, np.array([q / 2**16 for q in q16], np.float64))
    # storing to Fixed(16, 8) then drops 8 bits (floor) and wraps
    check(R, np.array([wrap(q >> 8, 16) / 256 for q in q16], np.float64))
    q40 = [wrap(tdiv(x << 32, n), 48) for x in ra]
    check(S, np.array([wrap(q >> 32, 16) / 256 for q in q40], np.float64))
    assert Q[0] == 21845 / 2**16 and Q[1] == -21845 / 2**16
    assert R[1] == -86 / 256  # trunc at 16 bits, then floor at 8
    assert Q[2] == -32768.0  # 2**31 raw wraps in Fixed(32, 16)
    assert Q[3] == -(2.0**-16)


def index_mixed(U: uint8[4], s: int32) -> (int64[4], int64[4], int64, int32):
    X: int64[4] = 0
    Y: int64[4] = 0
    v: index = -3
    for i in range(4):
        X[i] = U[i] + v  # index counts as unsigned 32-bit: UInt(33), so -3 wraps
        Y[i] = U[i] * i
    w: int64 = v + s  # index + int32 is Int(34): exact
    c: int32 = 0
    a: int32 = 2147483647
    for j in range(a, a + 1):  # noqa: B007  (the bound converts to index: 2**31 wraps)
        c += 1
    return X, Y, w, c


def test_index_in_mixed_arithmetic_and_loop_bound_conversion():
    U = np.array([0, 2, 3, 255], np.uint8)
    X, Y, w, c = run(index_mixed, U, -5)
    check(X, arr([(int(u) - 3) % 2**33 for u in U], np.int64))
    check(Y, arr([int(u) * i for i, u in enumerate(U)], np.int64))
    assert w == -8 and c == 0
    assert X[0] == 2**33 - 3
