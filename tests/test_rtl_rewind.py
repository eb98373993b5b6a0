"""``pipeline(loop, rewind=True)`` on a loop with run-time bounds: the nest around it is
flattened (the bounds are read again for each outer iteration), so consecutive runs overlap
the pipeline's fill and drain; without ``rewind`` each run fills and drains."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from amaranth_harness import run
from test_rtl_pipeline import N, triangle  # N = 16; row sums of the upper triangle

import allo_rtl as allo
from allo_rtl.ir.types import int32
from allo_rtl.lowering import lower


def backwards(A: int32[N, N]) -> int32[N, N]:
    B: int32[N, N] = 0
    for k in range(2):
        for i in range(N):
            for j in range(N - 1, i - 1, -1):  # a negative step, bounds from i
                B[i, j] = A[i, j] * (k + 2) - j
    return B


def column_sums(A: int32[N, N]) -> int32[N]:
    C: int32[N] = 0
    for i in range(N):
        for j in range(i, N):  # C[j] is read and written again in the next rows
            C[j] += A[i, j]
    return C


def tail(A: int32[N, N], n: int32) -> int32[N]:
    S: int32[N] = 0
    for i in range(N):
        acc: int32 = 0
        for j in range(i, n):  # may be empty: not flattened
            acc += A[i, j]
        S[i] = acc
    return S


def _inputs(seed=3):
    return np.random.default_rng(seed).integers(-1000, 1000, (N, N)).astype(np.int32)


def _schedule(fn, rewind):
    s = allo.customize(fn)
    s.pipeline("j", rewind=rewind)
    return s


def _pipeline(s):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", allo.ScheduleWarning)
        (p,) = [p for p in lower(s.module).pipelines if "_init." not in p.name]
    return p


def test_triangular_nest_runs_as_one_stream():
    A = _inputs()
    want = np.array([A[i, i:].astype(np.int64).sum() for i in range(N)]).astype(np.int32)
    cycles = {}
    for rewind in (False, True):
        s = _schedule(triangle, rewind)
        got, cycles[rewind] = run(s, A)
        np.testing.assert_array_equal(got, want)
    p = _pipeline(_schedule(triangle, True))
    assert ([lv.var.name for lv in p.levels], p.ii, p.trips) == (["i", "j"], 1, None)
    iterations = N * (N + 1) // 2
    assert cycles[True] <= iterations + 4  # fill and drain once
    assert cycles[False] >= iterations + 2 * N  # per row


def test_negative_step_and_an_outer_constant_level():
    A = _inputs(4)
    s = _schedule(backwards, True)
    assert [lv.var.name for lv in _pipeline(s).levels] == ["k", "i", "j"]
    got, _ = run(s, A)
    want = np.zeros((N, N), np.int64)
    for i in range(N):
        for j in range(i, N):
            want[i, j] = int(A[i, j]) * 3 - j
    np.testing.assert_array_equal(got, want.astype(np.int32))


def test_a_dependence_across_runs_is_kept():
    """C[j] is written in one row and read in the next, as soon as one iteration later (the
    last rows are short): the flattened pipeline keeps that order (II 2) and is exact."""
    A = _inputs(5)
    s = _schedule(column_sums, True)
    p = _pipeline(s)
    assert len(p.levels) == 2 and p.ii >= 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", allo.ScheduleWarning)
        got, _ = run(s, A)
    want = np.array([A[: j + 1, j].astype(np.int64).sum() for j in range(N)]).astype(np.int32)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("n", [N, 5, 0])
def test_possibly_empty_runs_are_not_flattened(n):
    A = _inputs(6)
    s = _schedule(tail, True)
    assert [lv.var.name for lv in _pipeline(s).levels] == ["j"]
    got, _ = run(s, A, n)
    want = [A[i, i:n].astype(np.int64).sum() for i in range(N)]
    np.testing.assert_array_equal(got, np.array(want).astype(np.int32))
