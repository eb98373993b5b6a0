"""``split(loop, factor)``: tile a loop into an outer loop over tiles and an inner loop of
``factor`` iterations, named ``i.outer`` and ``i.inner`` in the same band (Allo's names).

With constant bounds both loops are normalised (they count from 0, as in Allo) and the loop
variable becomes ``lo + step * (outer * factor + inner)``. When ``factor`` does not divide the
trip count, the iterations past the end are skipped by a guard on the reconstructed index; the
guard sits around the innermost body of the perfect nest below the loop, so the nest stays
perfect for ``reorder`` and ``fuse``. The loop nest itself keeps its statements in order, so
no dependence can change: a split is always legal.

Before::

    for i in range(0, 10):  # S_i_0.i grid
        for j in range(0, 4):  # S_i_0.j grid
            B[i, j] = A[i, j]

After ``split("i", 4)``::

    for i.outer in range(0, 3):  # S_i_0.i.outer grid
        for i.inner in range(0, 4):  # S_i_0.i.inner grid
            for j in range(0, 4):  # S_i_0.j grid
                if ((i.outer * 4) + i.inner) < 10:
                    B[((i.outer * 4) + i.inner), j] = A[((i.outer * 4) + i.inner), j]

With bounds that are not constants the outer loop keeps them and strides by ``step * factor``
(``for i.outer in range(lo, n, 4)``), the variable is ``outer + inner * step`` and the guard
``< n`` is always there; the upper bound must then not depend on anything the loop changes.
"""

from __future__ import annotations

from dataclasses import replace

from .._errors import Loc
from ..ir._nodes import Expr, For, If, Module, Stmt, Sym, Var
from ..ir._rewrite import substitute
from ..ir.types import index
from ._attrs import trip_count
from ._common import LoopName, fail, find_loop, replace_function, replace_loop
from ._nest import attrs_text, iconst, iop, mentioned, nodes, written

__all__ = ["split"]


def split(module: Module, loop: LoopName, factor: int, loc: Loc | None = None) -> Module:
    """``module`` with ``loop`` split into ``loop.outer`` and ``loop.inner`` (``factor``
    iterations per tile)."""
    fn, target = find_loop(module, loop, loc)
    if not isinstance(factor, int) or isinstance(factor, bool) or factor <= 0:
        raise fail(f"split factor must be a positive integer, not {factor!r}", loc)
    if factor > index.max_raw:
        raise fail(f"split factor {factor} is larger than an index holds ({index.max_raw})", loc)
    if target.attrs:
        raise fail(
            f"cannot split loop `{loop}`: it is already annotated ({attrs_text(target)})",
            loc,
            target.loc,
            hint="split the loop first, then annotate the new loops",
        )
    outer_var, inner_var = Sym(f"{target.name}.outer"), Sym(f"{target.name}.inner")
    outer = Var(outer_var, index, target.loc)
    inner = Var(inner_var, index, target.loc)
    if trip_count(target) is None:
        _check_bound(target, loop, loc)
        header, value, guard = _dynamic(target, factor, outer, inner)
    else:
        header, value, guard = _constant(target, factor, outer, inner)
    body = substitute(target.body, {target.var: value})
    if guard is not None:
        body = _guarded(body, guard, {outer_var, inner_var})
    new_inner = replace(
        target,
        var=inner_var,
        lo=iconst(0, target.loc),
        hi=iconst(factor, target.loc),
        step=1,
        body=body,
        name=f"{target.name}.inner",
    )
    new_outer = replace(header, var=outer_var, body=(new_inner,), name=f"{target.name}.outer")
    return replace_function(module, replace_loop(fn, target, new_outer))


def _constant(target: For, factor: int, outer: Var, inner: Var) -> tuple[For, Expr, Expr | None]:
    """Normalised loops: ``outer`` counts tiles from 0, the variable is rebuilt from both."""
    loc, trips = target.loc, trip_count(target) or 0
    tiles = -(-trips // factor)
    lo, hi = int(target.lo.value), int(target.hi.value)  # type: ignore[union-attr]
    counter = iop("add", iop("mul", outer, iconst(factor, loc), loc), inner, loc)
    value = iop("add", iop("mul", counter, iconst(target.step, loc), loc), iconst(lo, loc), loc)
    header = replace(target, lo=iconst(0, loc), hi=iconst(tiles, loc), step=1)
    if trips % factor == 0:
        return header, value, None
    last = lo + target.step * (tiles * factor - 1)  # the largest padded iteration
    if index.min_raw <= last <= index.max_raw:
        guard = iop("lt" if target.step > 0 else "gt", value, iconst(hi, loc), loc)
    else:  # the reconstructed index would wrap: compare the counter instead
        guard = iop("lt", counter, iconst(trips, loc), loc)
    return header, value, guard


def _dynamic(target: For, factor: int, outer: Var, inner: Var) -> tuple[For, Expr, Expr]:
    """Bounds kept: ``outer`` strides by ``step * factor``, a guard ends the last tile."""
    loc = target.loc
    value = iop("add", outer, iop("mul", inner, iconst(target.step, loc), loc), loc)
    guard = iop("lt" if target.step > 0 else "gt", value, target.hi, loc)
    return replace(target, step=target.step * factor), value, guard


def _check_bound(target: For, loop: LoopName, loc: Loc | None) -> None:
    """The guard re-reads the upper bound in every iteration: it must not change."""
    changed = mentioned(target.hi) & written(target.body)
    if changed:
        names = ", ".join(sorted(f"`{s.name}`" for s in changed))
        raise fail(
            f"cannot split loop `{loop}`: its upper bound reads {names}, which the loop body "
            "changes",
            loc,
            target.loc,
            hint="copy the bound into a variable before the loop",
        )


def _guarded(body: tuple[Stmt, ...], guard: Expr, new_vars: set[Sym]) -> tuple[Stmt, ...]:
    """``body`` under ``if guard``, the guard sunk through the perfectly nested loops whose
    bounds do not use the split loop."""
    if len(body) == 1 and isinstance(body[0], For):
        inner = body[0]
        uses = {n.sym for n in nodes((inner.lo, inner.hi)) if isinstance(n, Var)}
        if not uses & new_vars:
            return (replace(inner, body=_guarded(inner.body, guard, new_vars)),)
    loc = guard.loc  # type: ignore[union-attr]
    return (If(guard, body, (), loc),)
