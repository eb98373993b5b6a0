"""``s.reshape``: a new shape with the same elements in row-major order. Local arrays are
re-indexed in place; as in Allo, reshaping an argument or returned array of the top kernel
changes its call interface, and arrays shared through calls are reshaped together."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from amaranth_harness import run

import allo_rtl as allo
from allo_rtl import Partition, ScheduleError
from allo_rtl.ir.types import int32

TABLE = np.arange(12, dtype=np.int32).reshape(3, 4)


def copy2d(A: int32[32, 32]) -> int32[32, 32]:
    B: int32[32, 32] = 0
    for i, j in allo.grid(32, 32):
        B[i, j] = A[i, j] + 1
    return B


def two_stage(A: int32[10, 10]) -> int32[10, 10]:
    B: int32[10, 10] = 0
    for x, y in allo.grid(10, 10):
        B[x, y] = A[x, y] * 3
    C: int32[10, 10] = 0
    for xx, yy in allo.grid(10, 10):
        C[xx, yy] = B[xx, yy] - B[9 - xx, yy]
    return C


def flat(A: int32[24]) -> int32[24]:
    B: int32[24] = 0
    for i in range(24):
        B[i] = A[i] * 2 + A[23 - i]
    return B


def rom(A: int32[3, 4]) -> int32[3, 4]:
    T: int32[3, 4] = TABLE
    B: int32[3, 4] = 0
    for i, j in allo.grid(3, 4):
        B[i, j] = A[i, j] + T[i, j]
    return B


def double(X: int32[4, 6]):
    for i, j in allo.grid(4, 6):
        X[i, j] *= 2


def calls(A: int32[4, 6]) -> int32[4, 6]:
    L: int32[4, 6] = 0
    for i, j in allo.grid(4, 6):
        L[i, j] = A[i, j] + 1
    double(L)
    return L


def copies(A: int32[4, 4]) -> int32[4, 4]:
    B: int32[4, 4] = A
    return B


def rand(*shape, seed=0):
    return np.random.default_rng(seed).integers(-1000, 1000, size=shape).astype(np.int32)


# ------------------------------------------------------------------------------ re-indexing


def test_split_a_dimension_of_an_argument():
    s = allo.customize(copy2d)
    s.reshape(s.A, (32, 4, 8))
    assert str(s).splitlines()[0] == "def copy2d(A: int32[32, 4, 8]) -> int32[32, 32]:"
    assert "B[i, j] = int32((A[i, (j // 8), (j % 8)] + 1))" in str(s)
    A = rand(32, 32)
    np.testing.assert_array_equal(s.build()(A.reshape(32, 4, 8)), A + 1)


def test_merge_dimensions_of_the_result():
    s = allo.customize(copy2d)
    s.reshape(s.B, 1024)  # an int is a 1-D shape, as in Allo
    assert str(s) == textwrap.dedent("""\
        def copy2d(A: int32[32, 32]) -> int32[1024]:
            B: int32[1024] = 0
            for i in range(0, 32):  # S_i_j_0.i grid
                for j in range(0, 32):  # S_i_j_0.j grid
                    B[((i * 32) + j)] = int32((A[i, j] + 1))
            return B
        """)
    A = rand(32, 32)
    np.testing.assert_array_equal(s.build()(A), (A + 1).ravel())


def test_local_array_split_twice_keeps_results():
    s = allo.customize(two_stage)
    s.reshape(s.B, (2, 5, 2, 5))  # Allo's test_reshape
    text = str(s)
    assert "B: int32[2, 5, 2, 5] = 0" in text
    assert "B[(x // 5), (x % 5), (y // 5), (y % 5)] = int32((A[x, y] * 3))" in text
    A = rand(10, 10, seed=1)
    want = A * 3 - (A * 3)[::-1, :]
    np.testing.assert_array_equal(s.build()(A), want)


def test_unaligned_shapes_go_through_the_linear_position():
    s = allo.customize(two_stage)
    s.reshape(s.B, (4, 25))
    assert "B[(((x * 10) + y) // 25), (((x * 10) + y) % 25)] = int32((A[x, y] * 3))" in str(s)
    A = rand(10, 10, seed=2)
    np.testing.assert_array_equal(s.build()(A), A * 3 - (A * 3)[::-1, :])


def test_1d_to_3d_and_back():
    s = allo.customize(flat)
    s.reshape(s.B, (2, 3, 4))
    assert "B[(i // 12), ((i // 4) % 3), (i % 4)] = " in str(s)
    s.reshape(s.B, (24,))
    assert "B[((((i // 12) * 12) + (((i // 4) % 3) * 4)) + (i % 4))] = " in str(s)
    A = rand(24, seed=3)
    np.testing.assert_array_equal(s.build()(A), A * 2 + A[::-1])


def test_constant_array_data_is_reshaped():
    s = allo.customize(rom)
    s.reshape(s.T, (12,))
    s.reshape(s.A, (2, 6))
    assert "T: int32[12] = const[12]" in str(s)
    A = rand(3, 4, seed=4)
    np.testing.assert_array_equal(s.build()(A.reshape(2, 6)), A + TABLE)


def test_same_shape_is_a_no_op():
    s = allo.customize(copy2d)
    before = s.module
    s.reshape(s.B, (32, 32))
    assert s.module is before


def test_arrays_shared_through_calls_are_reshaped_together():
    s = allo.customize(calls)
    s.reshape(s.L, (24,))
    assert str(s) == textwrap.dedent("""\
        def double(X: int32[24]):
            for i in range(0, 4):  # S_i_j_0.i grid
                for j in range(0, 6):  # S_i_j_0.j grid
                    X[((i * 6) + j)] = int32((X[((i * 6) + j)] * 2))

        def calls(A: int32[4, 6]) -> int32[24]:
            L: int32[24] = 0
            for i in range(0, 4):  # S_i_j_0.i grid
                for j in range(0, 6):  # S_i_j_0.j grid
                    L[((i * 6) + j)] = int32((A[i, j] + 1))
            double(L)
            return L
        """)
    A = rand(4, 6, seed=5)
    np.testing.assert_array_equal(s.build()(A), ((A + 1) * 2).ravel())


# ------------------------------------------------------------------------------ errors


def test_element_count_must_match():
    s = allo.customize(copy2d)
    with pytest.raises(ScheduleError) as e:
        s.reshape(s.A, (32, 31))
    assert e.value.message == (
        "cannot reshape A (int32[32, 32], 1024 elements) to (32, 31) (992 elements): the "
        "number of elements must stay the same"
    )


@pytest.mark.parametrize("shape", [(0, 1024), (-32, -32), (32.0, 32)])
def test_shape_must_be_positive_integers(shape):
    s = allo.customize(copy2d)
    with pytest.raises(ScheduleError) as e:
        s.reshape(s.A, shape)
    assert e.value.message == f"the new shape of A must be positive integers, not {shape!r}"


def test_partitioned_array_is_rejected():
    s = allo.customize(calls)
    s.partition("double:X", Partition.Cyclic, dim=2, factor=2)
    with pytest.raises(ScheduleError) as e:
        s.reshape(s.L, (24,))
    assert (
        e.value.message
        == "cannot reshape L of calls: it is partitioned (partition[none, cyclic(2)])"
    )
    assert e.value.hint == "reshape the array first, then partition it"


def test_copied_array_is_rejected():
    s = allo.customize(copies)
    with pytest.raises(ScheduleError) as e:
        s.reshape(s.A, (16,))
    assert e.value.message.startswith(
        "cannot reshape A of copies: `B` is initialised as a copy of `A`, which needs equal "
        "shapes (kernel line "
    )


# ------------------------------------------------------------------------------ RTL


@pytest.mark.parametrize(
    ("kernel", "steps", "args", "want"),
    [
        (
            two_stage,
            [("B", (2, 5, 2, 5))],
            (rand(10, 10, seed=6),),
            lambda A: A * 3 - (A * 3)[::-1, :],
        ),
        (
            flat,
            [("B", (2, 12)), ("A", (4, 6))],
            (rand(4, 6, seed=7),),
            lambda A: (A.ravel() * 2 + A.ravel()[::-1]).reshape(2, 12),
        ),
    ],
)
def test_rtl_matches_numpy(kernel, steps, args, want):
    s = allo.customize(kernel)
    for name, shape in steps:
        s.reshape(name, shape)
    np.testing.assert_array_equal(s.build()(*[a.copy() for a in args]), want(*args))
    got, _ = run(s, *args)
    np.testing.assert_array_equal(got, want(*args))
