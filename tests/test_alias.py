"""Exact iteration distances of array accesses in flattened pipelines (lowering/_alias.py),
and what they buy: recurrences through memory at their true distance."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth_harness import run

import allo_rtl as allo
from allo_rtl._errors import Loc
from allo_rtl.ir._nodes import Binary, Const, Sym, Var
from allo_rtl.ir.types import index, int32
from allo_rtl.lowering import lower
from allo_rtl.lowering._alias import UNDECIDED, min_distance
from allo_rtl.lowering._fsmd import Level

LOC = Loc("t.py", 1, 1)
SI, SJ, SK, SX = Sym("i"), Sym("j"), Sym("k"), Sym("x")


def v(sym):
    return Var(sym, index, LOC)


def c(n):
    return Const(n, index, LOC)


def add(a, b):
    return Binary("add", a, b, index, LOC)


def mul(k, a):
    return Binary("mul", c(k), a, index, LOC)


ONE = (Level(SI, 0, 1, 32, index),)
TWO = (Level(SI, 0, 1, 4, index), Level(SJ, 0, 1, 8, index))


@pytest.mark.parametrize(
    ("x", "y", "levels", "want"),
    [
        ((mul(2, v(SI)),), (add(mul(2, v(SI)), c(1)),), ONE, None),  # even vs odd elements
        ((v(SI),), (add(v(SI), c(-3)),), ONE, 3),  # A[i] written, A[i - 3] read
        ((v(SI),), (add(v(SI), c(3)),), ONE, None),  # A[i + 3] reads ahead: never later
        ((v(SI),), (v(SI),), ONE, None),  # the same element only in the same iteration
        ((v(SI), v(SJ)), (add(v(SI), c(-1)), v(SJ)), TWO, 8),  # one row later: 8 iterations
        ((v(SJ),), (v(SJ),), TWO, 8),  # same j in the next i
        ((add(v(SK), v(SI)),), (add(v(SK), add(v(SI), c(-2))),), ONE, 2),  # k: invariant
        ((add(v(SK), v(SI)),), (add(mul(2, v(SK)), v(SI)),), ONE, UNDECIDED),  # k's coefficients
        ((add(v(SX), v(SI)),), (add(v(SX), v(SI)),), ONE, UNDECIDED),  # x changes
        ((v(SI),), (add(v(SI), c(-40)),), ONE, None),  # beyond the loop: never
    ],
)
def test_min_distance(x, y, levels, want):
    assert min_distance(x, y, levels, {SX}, 64) == want


def test_distance_beyond_the_limit_is_none():
    assert min_distance((v(SI),), (add(v(SI), c(-20)),), ONE, set(), 16) is None
    assert min_distance((v(SI),), (add(v(SI), c(-20)),), ONE, set(), 20) == 20


M = 64


def lag3(A: int32[M]) -> int32[M]:
    T: int32[M] = 0
    for i in range(3, M):
        T[i] = T[i - 3] + A[i]
    return T


def lag1(A: int32[M]) -> int32[M]:
    T: int32[M] = 0
    for i in range(1, M):
        T[i] = T[i - 1] * 3 + A[i]
    return T


def _ref(A, lag, scale):
    T = np.zeros(M, np.int64)
    for i in range(lag, M):
        T[i] = (T[i - lag] * scale + A[i]) & 0xFFFFFFFF
    return T.astype(np.uint32).view(np.int32)


@pytest.mark.parametrize(("fn", "lag", "scale", "ii"), [(lag3, 3, 1, 1), (lag1, 1, 3, 2)])
def test_recurrence_through_memory_at_its_distance(fn, lag, scale, ii):
    """T[i] = T[i - 3] + A[i] runs at II=1 (the read is 3 iterations after the write; it
    was assumed 1 before, II=2); T[i - 1] is a true distance-1 recurrence and keeps a larger
    II (the load's cycle, then the add and the store, before the next iteration's load)."""
    s = allo.customize(fn)
    s.pipeline("i")
    with pytest.warns(allo.ScheduleWarning) if ii > 1 else _no_warning():
        (p,) = [p for p in lower(s.module).pipelines if p.name == "S_i_0.i"]
    assert p.ii == ii
    A = np.arange(M, dtype=np.int32) * 5 - 77
    got, _ = run(s, A)
    np.testing.assert_array_equal(got, _ref(A, lag, scale))


def _no_warning():
    import warnings
    from contextlib import contextmanager

    @contextmanager
    def scope():
        with warnings.catch_warnings():
            warnings.simplefilter("error", allo.ScheduleWarning)
            yield

    return scope()
