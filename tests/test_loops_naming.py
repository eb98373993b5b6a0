"""Allo's loop-band naming and the schedule handles: ``s.get_loops()``, ``LoopHandle``,
``s.A`` (``BufferHandle``).

A top-level loop statement without ``name=`` is band ``S_<vars>_<n>``, where ``n`` counts the
loop statements of the kernel that finished before it (nested ones included, as Allo's
``LoopScopeGuard`` does); loops nested in a band belong to it and are named by their variable.
"""

from __future__ import annotations

import pytest

import allo_rtl as allo
from allo_rtl import BufferHandle, LoopHandle, ScheduleError
from allo_rtl.ir import For, walk
from allo_rtl.ir.types import int32

M, N, K = 4, 4, 4


def gemm(A: int32[M, K], B: int32[K, N]) -> int32[M, N]:
    C: int32[M, N] = 0
    for i, j in allo.grid(M, N, name="C"):
        for k in allo.reduction(K):
            C[i, j] += A[i, k] * B[k, j]
    return C


def bands(A: int32[8, 8], c: int32):
    for i in range(8):  # S_i_0 (count 1)
        A[i, 0] = 1
    for i in range(8):  # S_i_1, a nest of two loop statements (count 3)
        for j in range(8):
            A[i, j] += 1
    for i in range(8):  # S_i_3 (count 4)
        A[i, i] = 0
    for i, j in allo.grid(8, 8):  # S_i_j_4: one statement (count 5)
        A[i, j] += 2
    for i, j in allo.grid(8, 8, name="C"):  # C, with a nested reduction (count 7)
        for k in allo.reduction(8):
            A[i, j] += k
    for x in allo.reduction(8):  # S_x_7 (count 8)
        A[x, 0] = 0
    for i in range(8):  # S_i_8: loops under an `if` in the band belong to it
        if c > 0:
            for j in range(2):
                A[i, j] = 3
        else:
            for m in range(2):
                A[i, m] = 4


EXPECTED_BANDS = {
    "S_i_0": ["i"],
    "S_i_1": ["i", "j"],
    "S_i_3": ["i"],
    "S_i_j_4": ["i", "j"],
    "C": ["i", "j", "k"],
    "S_x_7": ["x"],
    "S_i_8": ["i", "j", "m"],
}


def scale(A: int32[4], f: int32):
    for i in range(4):
        A[i] = A[i] * f
    for p, q in allo.grid(2, 2, name="Q"):
        A[p * 2 + q] += 1


def top(A: int32[4]):
    for i in range(2):  # noqa: B007 - the callee's loops do not advance the caller's counter
        scale(A, 2)
    for i in range(4):
        A[i] += 1


# ------------------------------------------------------------------------------------------
# Band and loop names in the IR


def _loops(fn):
    return [(n.band, n.name, n.kind) for n in walk(fn) if isinstance(n, For)]


def test_ir_band_names():
    fn = allo.customize(bands).module.top_func
    assert _loops(fn) == [
        ("S_i_0", "i", "range"),
        ("S_i_1", "i", "range"),
        ("S_i_1", "j", "range"),
        ("S_i_3", "i", "range"),
        ("S_i_j_4", "i", "grid"),
        ("S_i_j_4", "j", "grid"),
        ("C", "i", "grid"),
        ("C", "j", "grid"),
        ("C", "k", "reduction"),
        ("S_x_7", "x", "reduction"),
        ("S_i_8", "i", "range"),
        ("S_i_8", "j", "range"),
        ("S_i_8", "m", "range"),
    ]


def test_first_top_level_loop_is_S_i_0():
    def one(A: int32[4]):
        for i in range(4):
            A[i] = 0

    s = allo.customize(one)
    assert [name for name, _ in s.get_loops()] == ["S_i_0"]


def test_counter_counts_nested_loop_statements():
    """After a nest `for i: for j:` (two loop statements) the next top-level loop is S_i_2."""

    def nest_then_loop(A: int32[4, 4]):
        for i in range(4):
            for j in range(4):
                A[i, j] = 0
        for i in range(4):
            A[i, i] = 1

    s = allo.customize(nest_then_loop)
    assert [name for name, _ in s.get_loops()] == ["S_i_0", "S_i_2"]


def test_unnamed_grid_band():
    def g(A: int32[4, 4]):
        for i, j in allo.grid(4, 4):
            A[i, j] = 0

    s = allo.customize(g)
    assert [name for name, _ in s.get_loops()] == ["S_i_j_0"]
    assert [n for n, _ in s.get_loops().S_i_j_0] == ["i", "j"]


def test_named_grid_band():
    s = allo.customize(gemm)
    assert [name for name, _ in s.get_loops()] == ["C"]
    assert _loops(s.top_func) == [("C", "i", "grid"), ("C", "j", "grid"), ("C", "k", "reduction")]


def test_callee_counter_is_its_own():
    s = allo.customize(top)
    assert _loops(s.top_func) == [("S_i_0", "i", "range"), ("S_i_1", "i", "range")]
    assert _loops(s.module.func("scale")) == [
        ("S_i_0", "i", "range"),
        ("Q", "p", "grid"),
        ("Q", "q", "grid"),
    ]


# ------------------------------------------------------------------------------------------
# get_loops and LoopHandle


def test_get_loops_attribute_access():
    s = allo.customize(gemm)
    handle = s.get_loops().C.j
    assert isinstance(handle, LoopHandle)
    assert handle == LoopHandle("gemm", "C", "j")
    assert (handle.func, handle.band, handle.name) == ("gemm", "C", "j")
    assert str(handle) == "gemm:C.j"
    assert str(s.get_loops().C.k) == "gemm:C.k"


def test_get_loops_item_access():
    s = allo.customize(bands)
    handle = s.get_loops()["S_i_0"]["i"]
    assert handle == LoopHandle("bands", "S_i_0", "i")
    assert str(handle) == "bands:S_i_0.i"
    assert s.get_loops()["S_i_1"]["j"] == s.get_loops().S_i_1.j
    assert str(s.get_loops()["S_i_8"]["m"]) == "bands:S_i_8.m"


def test_handles_are_values():
    s = allo.customize(gemm)
    a, b = s.get_loops().C.j, s.get_loops().C.j
    assert a == b and hash(a) == hash(b)
    assert a != s.get_loops().C.i
    assert len({a, b, s.get_loops().C.i}) == 2


def test_iteration_over_bands_and_loops():
    s = allo.customize(bands)
    loops = s.get_loops()
    got = {name: [n for n, _ in band] for name, band in loops}
    assert got == EXPECTED_BANDS
    assert list(got) == list(EXPECTED_BANDS)  # program order
    for name, band in loops:
        for loop_name, handle in band:
            assert handle == LoopHandle("bands", name, loop_name)
            assert str(handle) == f"bands:{name}.{loop_name}"


def test_get_loops_of_a_callee():
    s = allo.customize(top)
    loops = s.get_loops("scale")
    assert [name for name, _ in loops] == ["S_i_0", "Q"]
    assert str(loops.Q.q) == "scale:Q.q"
    assert str(loops.S_i_0.i) == "scale:S_i_0.i"
    assert [name for name, _ in s.get_loops()] == ["S_i_0", "S_i_1"]
    assert s.get_loops("top").S_i_1.i == s.get_loops().S_i_1.i


def test_get_loops_of_unknown_function():
    s = allo.customize(top)
    with pytest.raises(ScheduleError, match="no function `nope`; functions: scale, top"):
        s.get_loops("nope")


def test_unknown_band_lists_bands():
    s = allo.customize(bands)
    loops = s.get_loops()
    with pytest.raises(AttributeError) as info:
        loops.S_i_2  # noqa: B018
    message = str(info.value)
    assert "bands has no loop band `S_i_2`" in message
    assert "bands: S_i_0, S_i_1, S_i_3, S_i_j_4, C, S_x_7, S_i_8" in message
    with pytest.raises(AttributeError, match="no loop band `D`"):
        loops["D"]
    assert not hasattr(loops, "D")


def test_unknown_loop_lists_loops():
    s = allo.customize(gemm)
    band = s.get_loops().C
    with pytest.raises(AttributeError) as info:
        band.x  # noqa: B018
    assert str(info.value) == "band C of gemm has no loop `x`; loops: i, j, k"
    with pytest.raises(AttributeError, match="loops: i, j, k"):
        band["x"]
    assert not hasattr(band, "x")


def test_schedule_and_handles_survive_copy_and_pickle():
    import copy
    import pickle

    s = allo.customize(gemm)
    assert str(copy.deepcopy(s)) == str(s)
    assert [n for n, _ in copy.copy(s.get_loops())] == ["C"]
    handle = s.get_loops().C.j
    assert pickle.loads(pickle.dumps(handle)) == handle
    assert copy.deepcopy(s.A) == s.A


@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle"])
def test_loop_band_survives_copy_and_pickle(how):
    import copy
    import pickle

    band = allo.customize(gemm).get_loops().C
    clone = {
        "copy": copy.copy,
        "deepcopy": copy.deepcopy,
        "pickle": lambda b: pickle.loads(pickle.dumps(b)),
    }[how](band)
    assert [n for n, _ in clone] == ["i", "j", "k"]
    assert clone.j == band.j


# ------------------------------------------------------------------------------------------
# Buffer handles


def test_buffer_handles_for_params_and_locals():
    s = allo.customize(gemm)
    assert isinstance(s.A, BufferHandle)
    assert s.A == BufferHandle("gemm", "A")
    assert str(s.A) == "gemm:A"
    assert str(s.B) == "gemm:B"
    assert str(s.C) == "gemm:C"  # a local array


def test_buffer_handle_for_local_array_in_a_loop():
    def k(A: int32[4]):
        for i in range(4):
            T: int32[2] = 0
            T[0] = A[i]
            A[i] = T[0]

    s = allo.customize(k)
    assert str(s.T) == "k:T"


def test_unknown_buffer():
    s = allo.customize(gemm)
    with pytest.raises(AttributeError) as info:
        s.D  # noqa: B018
    assert str(info.value) == "kernel gemm has no array `D`; arrays: A, B, C"
    assert not hasattr(s, "D")


def test_scalar_is_not_a_buffer():
    s = allo.customize(scale)
    with pytest.raises(AttributeError, match="kernel scale has no array `f`; arrays: A"):
        s.f  # noqa: B018


def test_kernel_without_arrays():
    def add(a: int32, b: int32) -> int32:
        return a + b

    s = allo.customize(add)
    with pytest.raises(AttributeError, match="arrays: none"):
        s.a  # noqa: B018
    assert [name for name, _ in s.get_loops()] == []


def test_schedule_attributes_are_not_buffers():
    s = allo.customize(gemm)
    assert s.module.top_func.sym.name == "gemm"
    assert callable(s.get_loops)
    with pytest.raises(AttributeError):
        s._private  # noqa: B018
