"""``s.fuse(*loops)``: printed IR, NumPy and RTL equivalence, and exact error messages."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth_harness import run
from errhelp import Markers
from primhelp import assert_ir, schedule_errors

import allo_rtl as allo
from allo_rtl.ir.types import int32

MARKS = Markers(__file__)
RNG = np.random.default_rng(7)
M = 4


schedule_error = schedule_errors(MARKS)


def ints(*shape):
    return RNG.integers(-50, 50, size=shape, dtype=np.int32)


def add2d(A: int32[4, 8]) -> int32[4, 8]:
    B: int32[4, 8] = 0
    for i, j in allo.grid(4, 8):  # ERR:add2d_loop
        B[i, j] = A[i, j] + 1
    return B


def gemm(A: int32[4, 4], B: int32[4, 4]) -> int32[4, 4]:
    C: int32[4, 4] = 0
    for i, j in allo.grid(4, 4, name="C"):  # ERR:gemm_loop
        for k in allo.reduction(4):
            C[i, j] += A[i, k] * B[k, j]
    return C


def strided(A: int32[12, 12]) -> int32[12, 12]:
    for i in range(1, 12, 4):
        for j in range(11, -1, -3):
            A[i, j] = A[i, j] + i - j
    return A


def imperfect(A: int32[4, 4]) -> int32[4]:
    B: int32[4] = 0
    for x in range(4):
        v: int32 = 0  # ERR:imperfect_stmt
        for r in range(4):
            v += A[x, r]
        B[x] = v
    return B


def two_nests(A: int32[4, 4], n: int32) -> int32[4, 4]:
    for i in range(4):
        for j in range(n):  # ERR:two_nests_dynamic
            A[i, j] += 1
    for ii in range(4):
        A[ii, 0] += 1
    return A


# ------------------------------------------------------------------------------------------
# Printed IR


def test_ir_two_loops():
    s = allo.customize(add2d)
    s.fuse("i", "j")
    assert_ir(
        s,
        """
        def add2d(A: int32[4, 8]) -> int32[4, 8]:
            B: int32[4, 8] = 0
            for i_j_fused in range(0, 32):  # S_i_j_0.i_j_fused grid
                B[(i_j_fused // 8), (i_j_fused % 8)] = int32((A[(i_j_fused // 8), (i_j_fused % 8)] + 1))
            return B
        """,
    )


def test_ir_three_loops_of_mixed_kinds():
    s = allo.customize(gemm)
    s.fuse("i", "j", "k")
    assert_ir(
        s,
        """
        def gemm(A: int32[4, 4], B: int32[4, 4]) -> int32[4, 4]:
            C: int32[4, 4] = 0
            for i_j_k_fused in range(0, 64):  # C.i_j_k_fused range
                C[(i_j_k_fused // 16), ((i_j_k_fused // 4) % 4)] = int32((C[(i_j_k_fused // 16), ((i_j_k_fused // 4) % 4)] + (A[(i_j_k_fused // 16), (i_j_k_fused % 4)] * B[(i_j_k_fused % 4), ((i_j_k_fused // 4) % 4)])))
            return C
        """,
    )


def test_ir_inner_loops():
    s = allo.customize(gemm)
    s.fuse("j", "k")
    assert_ir(
        s,
        """
        def gemm(A: int32[4, 4], B: int32[4, 4]) -> int32[4, 4]:
            C: int32[4, 4] = 0
            for i in range(0, 4):  # C.i grid
                for j_k_fused in range(0, 16):  # C.j_k_fused range
                    C[i, (j_k_fused // 4)] = int32((C[i, (j_k_fused // 4)] + (A[i, (j_k_fused % 4)] * B[(j_k_fused % 4), (j_k_fused // 4)])))
            return C
        """,
    )


def test_ir_strided_loops():
    s = allo.customize(strided)
    s.fuse("i", "j")
    assert_ir(
        s,
        """
        def strided(A: int32[12, 12]) -> int32[12, 12]:
            for i_j_fused in range(0, 12):  # S_i_0.i_j_fused range
                A[(((i_j_fused // 4) * 4) + 1), (((i_j_fused % 4) * -3) + 11)] = int32(((A[(((i_j_fused // 4) * 4) + 1), (((i_j_fused % 4) * -3) + 11)] + (((i_j_fused // 4) * 4) + 1)) - (((i_j_fused % 4) * -3) + 11)))
            return A
        """,
    )


def test_ir_after_split():
    s = allo.customize(add2d)
    s.split("j", 3)
    s.fuse("i", "j.outer")
    assert_ir(
        s,
        """
        def add2d(A: int32[4, 8]) -> int32[4, 8]:
            B: int32[4, 8] = 0
            for i_j.outer_fused in range(0, 12):  # S_i_j_0.i_j.outer_fused grid
                for j.inner in range(0, 3):  # S_i_j_0.j.inner grid
                    if ((((i_j.outer_fused % 3) * 3) + j.inner) < 8):
                        B[(i_j.outer_fused // 3), (((i_j.outer_fused % 3) * 3) + j.inner)] = int32((A[(i_j.outer_fused // 3), (((i_j.outer_fused % 3) * 3) + j.inner)] + 1))
            return B
        """,
    )
    assert list(dict(s.get_loops().S_i_j_0)) == ["i_j.outer_fused", "j.inner"]


# ------------------------------------------------------------------------------------------
# NumPy equivalence


def strided_ref(A):
    A = A.copy()
    for i in range(1, 12, 4):
        for j in range(11, -1, -3):
            A[i, j] = A[i, j] + i - j
    return A


@pytest.mark.parametrize("loops", [("i", "j"), ("j", "k"), ("i", "j", "k")])
def test_numpy_gemm(loops):
    s = allo.customize(gemm)
    s.fuse(*loops)
    A, B = ints(M, M), ints(M, M)
    np.testing.assert_array_equal(s.build()(A, B), A @ B)


def test_numpy_strided():
    s = allo.customize(strided)
    s.fuse("i", "j")
    A = ints(12, 12)
    np.testing.assert_array_equal(s.build()(A.copy()), strided_ref(A))


@pytest.mark.parametrize("factor", [1, 3, 4, 5, 9])
def test_numpy_split_reorder_fuse(factor):
    s = allo.customize(gemm)
    s.split("i", factor)
    s.split("j", 3)
    s.reorder("i.outer", "j.outer", "i.inner", "j.inner")
    s.fuse("i.outer", "j.outer")
    s.fuse("i.inner", "j.inner", "k")
    A, B = ints(M, M), ints(M, M)
    np.testing.assert_array_equal(s.build()(A, B), A @ B)


# ------------------------------------------------------------------------------------------
# RTL equivalence (Amaranth simulator)


def test_rtl_gemm_fused():
    s = allo.customize(gemm)
    s.fuse("i", "j")
    A, B = ints(M, M), ints(M, M)
    got, _ = run(s, A, B)
    np.testing.assert_array_equal(got, A @ B)


def test_rtl_strided_after_split():
    s = allo.customize(strided)
    s.split("j", 3)
    s.fuse("i", "j.outer")
    A = ints(12, 12)
    got, _ = run(s, A.copy())
    np.testing.assert_array_equal(got, strided_ref(A))


# ------------------------------------------------------------------------------------------
# Errors


def test_one_loop():
    s = allo.customize(add2d)
    with pytest.raises(allo.ScheduleError) as info:
        s.fuse("i")  # ERR:one
    assert str(info.value) == schedule_error("one", "fuse needs at least two loops, got 1")


def test_loop_named_twice():
    s = allo.customize(add2d)
    with pytest.raises(allo.ScheduleError) as info:
        s.fuse("i", "i")  # ERR:twice
    assert str(info.value) == schedule_error("twice", "cannot fuse: loop `i` is named twice")


def test_not_consecutive():
    s = allo.customize(gemm)
    with pytest.raises(allo.ScheduleError) as info:
        s.fuse("i", "k")  # ERR:gap
    assert str(info.value) == schedule_error(
        "gap",
        "cannot fuse loops `i` and `k`: they are not consecutive, loop `j` lies between them",
        "gemm_loop",
        "fuse consecutive loops only",
    )


def test_inner_listed_first():
    s = allo.customize(add2d)
    with pytest.raises(allo.ScheduleError) as info:
        s.fuse("j", "i")  # ERR:reversed
    assert str(info.value) == schedule_error(
        "reversed",
        "cannot fuse loops `j` and `i`: `i` encloses `j`",
        hint="list the loops from the outermost to the innermost",
    )


def test_imperfect_nest():
    s = allo.customize(imperfect)
    with pytest.raises(allo.ScheduleError) as info:
        s.fuse("x", "r")  # ERR:imperfect
    assert str(info.value) == schedule_error(
        "imperfect",
        "cannot fuse loops `x` and `r`: they are not perfectly nested, the body of `x` holds "
        "other statements",
        "imperfect_stmt",
    )


def test_different_nests():
    s = allo.customize(two_nests)
    with pytest.raises(allo.ScheduleError) as info:
        s.fuse("i", "ii")  # ERR:nests
    assert str(info.value) == schedule_error(
        "nests", "cannot fuse loops `i` and `ii`: they are not in one loop nest"
    )


def test_non_constant_bounds():
    s = allo.customize(two_nests)
    with pytest.raises(allo.ScheduleError) as info:
        s.fuse("i", "j")  # ERR:dynamic
    assert str(info.value) == schedule_error(
        "dynamic", "cannot fuse loop `j`: its bounds are not constants", "two_nests_dynamic"
    )


def test_annotated_loop():
    s = allo.customize(add2d)
    s.unroll("j", 2)
    with pytest.raises(allo.ScheduleError) as info:
        s.fuse("i", "j")  # ERR:annotated
    assert str(info.value) == schedule_error(
        "annotated",
        "cannot fuse loop `j`: it is already annotated (unroll=2)",
        "add2d_loop",
        "fuse the loops first, then annotate the fused loop",
    )
