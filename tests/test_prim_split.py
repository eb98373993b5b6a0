"""``s.split(loop, factor)``: printed IR, NumPy and RTL equivalence, and exact error messages."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth_harness import run
from errhelp import Markers
from primhelp import assert_ir, schedule_errors

import allo_rtl as allo
from allo_rtl.ir.types import int32

MARKS = Markers(__file__)
RNG = np.random.default_rng(2024)


schedule_error = schedule_errors(MARKS)


def add2d(A: int32[10, 4]) -> int32[10, 4]:
    B: int32[10, 4] = 0
    for i, j in allo.grid(10, 4):  # ERR:add2d_loop
        B[i, j] = A[i, j] + 1
    return B


def strided(A: int32[16]) -> int32[16]:
    for i in range(1, 12, 3):
        A[i] = A[i] * 2
    for k in range(15, 2, -4):
        A[k] = A[k] + k
    return A


def dynamic(A: int32[16], n: int32) -> int32[16]:
    for i in range(2, n):
        A[i] = A[i - 1] + A[i]
    return A


def shrinking(A: int32[10], n: int32) -> int32[10]:
    for i in range(n):  # ERR:shrinking_loop
        A[i] = 1
        n = n - 1
    return A


def rowsum(A: int32[10, 10]) -> int32[10]:
    B: int32[10] = 0
    for x in allo.grid(10):
        v: int32 = 0
        for r in allo.reduction(10):
            v += A[x, r]
        B[x] = v
    return B


def ints(*shape):
    return RNG.integers(-100, 100, size=shape, dtype=np.int32)


# ------------------------------------------------------------------------------------------
# Printed IR


def test_ir_perfect_factor():
    s = allo.customize(add2d)
    s.split("i", 5)
    assert_ir(
        s,
        """
        def add2d(A: int32[10, 4]) -> int32[10, 4]:
            B: int32[10, 4] = 0
            for i.outer in range(0, 2):  # S_i_j_0.i.outer grid
                for i.inner in range(0, 5):  # S_i_j_0.i.inner grid
                    for j in range(0, 4):  # S_i_j_0.j grid
                        B[((i.outer * 5) + i.inner), j] = int32((A[((i.outer * 5) + i.inner), j] + 1))
            return B
        """,
    )


def test_ir_imperfect_factor_guards_the_innermost_body():
    s = allo.customize(add2d)
    s.split("i", 4)
    assert_ir(
        s,
        """
        def add2d(A: int32[10, 4]) -> int32[10, 4]:
            B: int32[10, 4] = 0
            for i.outer in range(0, 3):  # S_i_j_0.i.outer grid
                for i.inner in range(0, 4):  # S_i_j_0.i.inner grid
                    for j in range(0, 4):  # S_i_j_0.j grid
                        if (((i.outer * 4) + i.inner) < 10):
                            B[((i.outer * 4) + i.inner), j] = int32((A[((i.outer * 4) + i.inner), j] + 1))
            return B
        """,
    )


def test_ir_split_twice():
    s = allo.customize(add2d)
    s.split("i", 4)
    s.split("i.outer", 2)
    assert_ir(
        s,
        """
        def add2d(A: int32[10, 4]) -> int32[10, 4]:
            B: int32[10, 4] = 0
            for i.outer.outer in range(0, 2):  # S_i_j_0.i.outer.outer grid
                for i.outer.inner in range(0, 2):  # S_i_j_0.i.outer.inner grid
                    for i.inner in range(0, 4):  # S_i_j_0.i.inner grid
                        for j in range(0, 4):  # S_i_j_0.j grid
                            if (((i.outer.outer * 2) + i.outer.inner) < 3):
                                if (((((i.outer.outer * 2) + i.outer.inner) * 4) + i.inner) < 10):
                                    B[((((i.outer.outer * 2) + i.outer.inner) * 4) + i.inner), j] = int32((A[((((i.outer.outer * 2) + i.outer.inner) * 4) + i.inner), j] + 1))
            return B
        """,
    )


def test_ir_strided_and_downward_loops():
    s = allo.customize(strided)
    s.split("i", 2)
    s.split("k", 3)
    assert_ir(
        s,
        """
        def strided(A: int32[16]) -> int32[16]:
            for i.outer in range(0, 2):  # S_i_0.i.outer range
                for i.inner in range(0, 2):  # S_i_0.i.inner range
                    A[((((i.outer * 2) + i.inner) * 3) + 1)] = int32((A[((((i.outer * 2) + i.inner) * 3) + 1)] * 2))
            for k.outer in range(0, 2):  # S_k_1.k.outer range
                for k.inner in range(0, 3):  # S_k_1.k.inner range
                    if (((((k.outer * 3) + k.inner) * -4) + 15) > 2):
                        A[((((k.outer * 3) + k.inner) * -4) + 15)] = int32((A[((((k.outer * 3) + k.inner) * -4) + 15)] + ((((k.outer * 3) + k.inner) * -4) + 15)))
            return A
        """,
    )


def test_ir_non_constant_bounds():
    s = allo.customize(dynamic)
    s.split("i", 4)
    assert_ir(
        s,
        """
        def dynamic(A: int32[16], n: int32) -> int32[16]:
            for i.outer in range(2, index(n), 4):  # S_i_0.i.outer range
                for i.inner in range(0, 4):  # S_i_0.i.inner range
                    if ((i.outer + i.inner) < index(n)):
                        A[(i.outer + i.inner)] = int32((A[((i.outer + i.inner) - 1)] + A[(i.outer + i.inner)]))
            return A
        """,
    )


def test_new_loops_are_addressable_in_the_band():
    s = allo.customize(add2d)
    s.split("i", 4)
    loops = s.get_loops()
    assert list(dict(loops.S_i_j_0)) == ["i.outer", "i.inner", "j"]
    s.split(loops.S_i_j_0["i.inner"], 2)
    assert list(dict(s.get_loops().S_i_j_0)) == [
        "i.outer",
        "i.inner.outer",
        "i.inner.inner",
        "j",
    ]


def test_history_records_the_split():
    s = allo.customize(add2d)
    s.split("j", 2)
    (step,) = s.history
    assert step.primitive == "split" and step.args[1] == 2


# ------------------------------------------------------------------------------------------
# NumPy equivalence


@pytest.mark.parametrize("factor", range(1, 12))
@pytest.mark.parametrize("loop", ["i", "j"])
def test_numpy_add2d(loop, factor):
    s = allo.customize(add2d)
    s.split(loop, factor)
    A = ints(10, 4)
    np.testing.assert_array_equal(s.build()(A), A + 1)


@pytest.mark.parametrize("factor", [1, 2, 3, 5])
def test_numpy_strided(factor):
    s = allo.customize(strided)
    s.split("i", factor)
    s.split("k", factor)
    A = ints(16)
    want = A.copy()
    want[1:12:3] *= 2
    for k in range(15, 2, -4):
        want[k] += k
    np.testing.assert_array_equal(s.build()(A.copy()), want)


@pytest.mark.parametrize("n", [-3, 0, 2, 3, 5, 6, 9, 16])
@pytest.mark.parametrize("factor", [1, 3, 4])
def test_numpy_non_constant_bounds(n, factor):
    s = allo.customize(dynamic)
    s.split("i", factor)
    A = ints(16)
    want = A.copy()
    for i in range(2, n):
        want[i] = want[i - 1] + want[i]
    np.testing.assert_array_equal(s.build()(A.copy(), n), want)


def test_numpy_imperfect_nest():
    s = allo.customize(rowsum)
    s.split("x", 3)
    s.split("r", 4)
    A = ints(10, 10)
    np.testing.assert_array_equal(s.build()(A), A.sum(axis=1))


# ------------------------------------------------------------------------------------------
# RTL equivalence (Amaranth simulator)


def test_rtl_add2d_imperfect_factor():
    s = allo.customize(add2d)
    s.split("i", 4)
    s.split("j", 3)
    A = ints(10, 4)
    got, _ = run(s, A)
    np.testing.assert_array_equal(got, A + 1)


def test_rtl_non_constant_bounds_and_rowsum():
    s = allo.customize(dynamic)
    s.split("i", 3)
    A = ints(16)
    want = A.copy()
    for i in range(2, 13):
        want[i] = want[i - 1] + want[i]
    got, _ = run(s, A.copy(), 13)
    np.testing.assert_array_equal(got, want)
    r = allo.customize(rowsum)
    r.split("x", 4)
    B = ints(10, 10)
    got, _ = run(r, B)
    np.testing.assert_array_equal(got, B.sum(axis=1))


# ------------------------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize("factor", [0, -2, 2.5, True])
def test_bad_factor(factor):
    s = allo.customize(add2d)
    with pytest.raises(allo.ScheduleError) as info:
        s.split("i", factor)  # ERR:bad_factor
    assert str(info.value) == schedule_error(
        "bad_factor", f"split factor must be a positive integer, not {factor!r}"
    )


def test_factor_too_large():
    s = allo.customize(add2d)
    with pytest.raises(allo.ScheduleError) as info:
        s.split("j", 2**31)  # ERR:huge
    assert str(info.value) == schedule_error(
        "huge", "split factor 2147483648 is larger than an index holds (2147483647)"
    )


def test_factor_beyond_the_trip_count():
    s = allo.customize(add2d)
    s.split("j", 1000)
    A = ints(10, 4)
    np.testing.assert_array_equal(s.build()(A), A + 1)


def test_annotated_loop():
    s = allo.customize(add2d)
    s.pipeline("i")
    with pytest.raises(allo.ScheduleError) as info:
        s.split("i", 2)  # ERR:annotated
    assert str(info.value) == schedule_error(
        "annotated",
        "cannot split loop `i`: it is already annotated (pipeline=1)",
        "add2d_loop",
        "split the loop first, then annotate the new loops",
    )


def test_bound_changed_by_the_body():
    s = allo.customize(shrinking)
    with pytest.raises(allo.ScheduleError) as info:
        s.split("i", 2)  # ERR:shrinking
    assert str(info.value) == schedule_error(
        "shrinking",
        "cannot split loop `i`: its upper bound reads `n`, which the loop body changes",
        "shrinking_loop",
        "copy the bound into a variable before the loop",
    )


def test_unknown_loop():
    s = allo.customize(add2d)
    with pytest.raises(allo.ScheduleError) as info:
        s.split("q", 2)  # ERR:unknown
    assert str(info.value) == schedule_error(
        "unknown", "add2d has no loop `q`; loops: S_i_j_0.i, S_i_j_0.j"
    )
