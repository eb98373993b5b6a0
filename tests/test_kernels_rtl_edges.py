"""Kernels whose RTL lowering needs care: a constant-initialised array that is also written, a
call passing one array to two parameters, and kernels returning one of their argument arrays.

The NumPy target is checked here against values computed by hand; the RTL targets run the same
kernels in tests/test_rtl_differential.py (Amaranth simulator) and test_rtl_verilator.py.
"""

import numpy as np

import allo_rtl as allo
from allo_rtl.ir.types import int8, int32

ROM = np.array([1, 2, 3, 4])
ROM10 = np.array([10, 20, 30, 40])


def written_rom(x: int8) -> int32:
    C: int8[4] = ROM
    C[2] = x
    s: int32 = 0
    for i in range(4):
        s += C[i]
    return s


def rom_in_loop(x: int8) -> int32:
    s: int32 = 0
    for r in range(3):
        C: int8[4] = ROM10
        C[r] = x  # each round starts from the constants again
        for i in range(4):
            s += C[i] * (r + 1)
    return s


def bump(X: int32[8], Y: int32[8]):
    for i in range(7):
        Y[i] = X[i + 1] + 1


def self_shift(A: int32[8]):
    bump(A, A)


def add_into(X: int32[4], Y: int32[4]) -> int32:
    s: int32 = 0
    for i in range(4):
        Y[i] = X[i] + Y[i]
        s += Y[i]
    return s


def doubled(A: int32[4]) -> int32:
    return add_into(A, A)


def increment(A: int32[4]) -> int32[4]:
    for i in range(4):
        A[i] += 1
    return A


def untouched(A: int32[4]) -> int32[4]:
    return A


def pair(A: int32[4], k: int32) -> (int32[4], int32):
    A[0] = k
    return A, k + 1


def uses_increment(A: int32[4]) -> int32:
    B: int32[4] = increment(A)
    B[1] = 100
    s: int32 = 0
    for i in range(4):
        s += A[i] * 1000 + B[i]
    return s


def run(kernel, *args):
    return allo.customize(kernel).build()(*args)


def test_written_rom():
    assert run(written_rom, 9) == 1 + 2 + 9 + 4


def test_rom_is_reinitialised_each_time_its_declaration_runs():
    want = sum((r + 1) * (sum([10, 20, 30, 40]) - [10, 20, 30, 40][r] + 5) for r in range(3))
    assert run(rom_in_loop, 5) == want


def test_call_passing_one_array_twice():
    A = np.arange(8, dtype=np.int32) * 3
    want = A.copy()
    for i in range(7):
        want[i] = want[i + 1] + 1
    run(self_shift, A)
    np.testing.assert_array_equal(A, want)


def test_call_passing_one_array_twice_read_and_written():
    A = np.array([1, 2, 3, 4], dtype=np.int32)
    assert run(doubled, A) == 2 * (1 + 2 + 3 + 4)
    np.testing.assert_array_equal(A, [2, 4, 6, 8])


def test_returned_argument_array():
    A = np.array([5, -1, 0, 7], dtype=np.int32)
    out = run(increment, A)
    np.testing.assert_array_equal(out, [6, 0, 1, 8])
    np.testing.assert_array_equal(A, [6, 0, 1, 8])
    assert out.dtype == np.int32


def test_returned_untouched_argument_array():
    A = np.array([5, -1, 0, 7], dtype=np.int32)
    np.testing.assert_array_equal(run(untouched, A), [5, -1, 0, 7])


def test_returned_argument_array_in_a_tuple():
    A = np.array([5, -1, 0, 7], dtype=np.int32)
    out, k = run(pair, A, 3)
    np.testing.assert_array_equal(out, [3, -1, 0, 7])
    assert k == 4


def test_caller_gets_a_copy_of_a_returned_argument():
    A = np.array([1, 2, 3, 4], dtype=np.int32)
    incremented = A + 1
    B = incremented.copy()
    B[1] = 100
    assert run(uses_increment, A) == int(np.sum(incremented.astype(np.int64) * 1000 + B))


# Regression kernels for the lowering's dead-fill analysis: a covering loop that never runs
# (empty range, or a guard no iteration passes) must not drop the fill of a re-declared array.


def fill_guard_never(A: int32[8]) -> int32[8]:
    out: int32[8] = 0
    for _r in range(2):
        B: int32[8] = 0
        for t in range(2):
            if t >= 5:
                for i in range(8):
                    B[i] = A[i]
        for i in range(8):
            out[i] = out[i] + B[i]
            B[i] = A[i] + 1
    return out


def fill_zero_trip(A: int32[8]) -> int32[8]:
    out: int32[8] = 0
    for _r in range(2):
        B: int32[8] = 0
        for _t in range(3, 3):
            for i in range(8):
                B[i] = A[i]
        for i in range(8):
            out[i] = out[i] + B[i]
            B[i] = A[i] + 1
    return out


def test_fills_stay_when_the_covering_loop_never_runs():
    A = np.arange(8, dtype=np.int32) + 10
    np.testing.assert_array_equal(run(fill_guard_never, A), np.zeros(8, np.int32))
    np.testing.assert_array_equal(run(fill_zero_trip, A), np.zeros(8, np.int32))
