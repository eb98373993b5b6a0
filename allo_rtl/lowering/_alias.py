"""Exact iteration distances between two accesses of one array in a flattened pipeline.

The levels ``L_1 .. L_m`` of a flattened nest (constant trip counts, outermost first) run the
iteration with counters ``t = (t_1, .., t_m)`` (``0 <= t_k < trips_k``, loop variable
``lo_k + step_k * t_k``) as number ``n(t) = sum(t_k * W_k)``, ``W_k`` the product of the trip
counts inside ``L_k``. Access ``x`` in iteration ``t`` and access ``y`` in iteration ``u``
touch the same element when their indices are equal; their distance is ``n(u) - n(t)``.

:func:`min_distance` decides, with the exact integer test of ``primitives/_intsolver.py``,
the smallest distance ``d`` in ``1 .. limit`` at which that can happen. Example (one level,
``i`` in ``0 .. 31``)::

    T[2 * i] = ...        # x
    T[2 * i + 1] = ...    # y: 2t = 2u + 1 has no integer solution: never (None)
    A[i] = A[i - 3] + 1   # the load reads what the store wrote 3 iterations earlier: 3

Indices may also use values that are the same in both iterations (registers the pipeline does
not write, such as an outer loop's variable), with equal coefficients on both sides. Anything
else (an index read from memory, a carried scalar, run-time trip counts) is undecided, and the
caller keeps its conservative answer. Guards are ignored: the test over-approximates the
iterations an access runs in, so a distance it finds is a lower bound of the true one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from ..ir._nodes import Expr, Sym
from ..primitives._access import Affine, affine_of
from ..primitives._intsolver import Lin, System, feasible
from ._fsmd import Level

__all__ = ["UNDECIDED", "min_distance"]

UNDECIDED = -1  # the accesses are outside what the exact test handles


def min_distance(
    x: tuple[Expr, ...],
    y: tuple[Expr, ...],
    levels: tuple[Level, ...],
    variant: Collection[Sym],
    limit: int,
) -> int | None:
    """The smallest ``d`` in ``1 .. limit`` such that indices ``y`` in iteration ``n + d``
    may equal indices ``x`` in iteration ``n``; ``None`` if there is none; :data:`UNDECIDED`
    when the test does not apply (``variant``: the values that change from one iteration to
    the next besides the loop variables)."""
    if limit < 1 or not levels or any(lv.trips is None for lv in levels):
        return UNDECIDED
    forms = [affine_of(i) for i in (*x, *y)]
    if len(x) != len(y) or any(f is None for f in forms):
        return UNDECIDED
    pairs = list(zip(forms[: len(x)], forms[len(x) :]))
    build = _system(pairs, levels, set(variant))  # type: ignore[arg-type]
    if build is None:
        return UNDECIDED
    if feasible(build(1, limit)) is False:
        return None
    lo, hi = 1, limit
    while lo < hi:  # the smallest distance: an undecided half counts as feasible
        mid = (lo + hi) // 2
        if feasible(build(lo, mid)) is False:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _system(
    pairs: list[tuple[Affine, Affine]], levels: tuple[Level, ...], variant: set[Sym]
) -> Callable[[int, int], System] | None:
    """A function giving the system "indices equal, distance in ``lo .. hi``"; ``None`` when
    an index uses a changing value other than the loop variables, or invariant values with
    different coefficients on the two sides."""
    where = {lv.var: k for k, lv in enumerate(levels)}
    for fx, fy in pairs:
        rest_x = {s: c for s, c in fx.terms if s not in where}
        rest_y = {s: c for s, c in fy.terms if s not in where}
        if rest_x != rest_y or any(s in variant for s in rest_x):
            return None
    weights = [1] * len(levels)
    for k in range(len(levels) - 2, -1, -1):
        weights[k] = weights[k + 1] * levels[k + 1].trips  # type: ignore[operator]

    def build(lo: int, hi: int) -> System:
        system = System()
        t = [system.var(0, lv.trips - 1) for lv in levels]  # type: ignore[operator]
        u = [system.var(0, lv.trips - 1) for lv in levels]  # type: ignore[operator]
        for fx, fy in pairs:
            system.eq(_lin(fx, t, levels, where) - _lin(fy, u, levels, where))
        distance = Lin()
        for k, w in enumerate(weights):
            distance = distance + (u[k] - t[k]) * w
        system.le(Lin(None, lo) - distance)  # lo <= d
        system.le(distance - hi)  # d <= hi
        return system

    return build


def _lin(form: Affine, counters: list[Lin], levels: tuple[Level, ...], where: dict) -> Lin:
    """``form`` over the counters (the invariant terms, equal on both sides, left out)."""
    out = Lin(None, form.const)
    for sym, c in form.terms:
        k = where.get(sym)
        if k is not None:
            out = out + (counters[k] * levels[k].step + levels[k].lo) * c
    return out
