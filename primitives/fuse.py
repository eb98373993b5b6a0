"""``fuse(*loops)``: merge consecutive, perfectly nested loops into one loop named
``i_j_fused`` (Allo's name) that runs their iterations in the same order.

The loops are listed from the outermost to the innermost; each one's body must be exactly the
next one, and every bound must be a constant. The fused loop counts from 0 to the product of the
trip counts, and each original variable is recovered with ``//`` and ``%`` on ``index`` values
(the innermost one is ``fused % trips``, the outermost ``fused // (product of the inner
trips)``). The iteration order does not change, so a fuse is always legal.

Before::

    for i in range(0, 4):  # S_i_0.i grid
        for j in range(0, 8):  # S_i_0.j grid
            B[i, j] = A[i, j]

After ``fuse("i", "j")``::

    for i_j_fused in range(0, 32):  # S_i_0.i_j_fused grid
        B[(i_j_fused // 8), (i_j_fused % 8)] = A[(i_j_fused // 8), (i_j_fused % 8)]
"""

from __future__ import annotations

from dataclasses import replace

from .._errors import Loc
from ..ir._nodes import Expr, For, Function, Module, Sym, Var
from ..ir._rewrite import substitute
from ..ir.types import index
from ._attrs import trip_count
from ._common import LoopName, fail, find_loop, replace_function, replace_loop
from ._nest import attrs_text, iconst, iop, loop_path

__all__ = ["fuse"]


def fuse(module: Module, loops: tuple[LoopName, ...], loc: Loc | None = None) -> Module:
    """``module`` with the perfectly nested ``loops`` (outermost first) fused into one."""
    if len(loops) < 2:
        raise fail(f"fuse needs at least two loops, got {len(loops)}", loc)
    fn, first = find_loop(module, loops[0], loc)
    targets = [first]
    for name in loops[1:]:
        other_fn, target = find_loop(module, name, loc)
        if other_fn.sym != fn.sym:
            raise fail(f"cannot fuse loops of different functions: `{loops[0]}`, `{name}`", loc)
        if any(target is t for t in targets):
            raise fail(f"cannot fuse: loop `{name}` is named twice", loc)
        targets.append(target)
    for k in range(len(targets) - 1):
        _check_nested(targets[k], targets[k + 1], loops[k], loops[k + 1], loc)
    trips = [_trips(t, name, loc) for t, name in zip(targets, loops)]
    total = 1
    for t in trips:
        total *= t
    if total > index.max_raw:
        raise fail(
            f"cannot fuse: the fused loop would run {total} iterations, more than an index "
            f"holds ({index.max_raw})",
            loc,
            targets[0].loc,
        )
    return replace_function(module, _fused(fn, targets, trips, total))


def _check_nested(
    outer: For, inner: For, outer_name: LoopName, inner_name: LoopName, loc: Loc | None
) -> None:
    if len(outer.body) == 1 and outer.body[0] is inner:
        return
    if any(s is inner for s in outer.body):
        other = next(s for s in outer.body if s is not inner)
        raise fail(
            f"cannot fuse loops `{outer_name}` and `{inner_name}`: they are not perfectly "
            f"nested, the body of `{outer_name}` holds other statements",
            loc,
            other.loc,
        )
    path = loop_path(outer.body, inner)
    if path is not None:
        between = [s for s in path[:-1] if isinstance(s, For)]
        what = f"loop `{between[0].name}`" if between else "a statement"
        raise fail(
            f"cannot fuse loops `{outer_name}` and `{inner_name}`: they are not consecutive, "
            f"{what} lies between them",
            loc,
            path[0].loc,
            hint="fuse consecutive loops only",
        )
    if loop_path(inner.body, outer) is not None:
        raise fail(
            f"cannot fuse loops `{outer_name}` and `{inner_name}`: `{inner_name}` encloses "
            f"`{outer_name}`",
            loc,
            hint="list the loops from the outermost to the innermost",
        )
    raise fail(
        f"cannot fuse loops `{outer_name}` and `{inner_name}`: they are not in one loop nest",
        loc,
    )


def _trips(loop: For, name: LoopName, loc: Loc | None) -> int:
    trips = trip_count(loop)
    if trips is None:
        raise fail(f"cannot fuse loop `{name}`: its bounds are not constants", loc, loop.loc)
    if loop.attrs:
        raise fail(
            f"cannot fuse loop `{name}`: it is already annotated ({attrs_text(loop)})",
            loc,
            loop.loc,
            hint="fuse the loops first, then annotate the fused loop",
        )
    return trips


def _fused(fn: Function, targets: list[For], trips: list[int], total: int) -> Function:
    first = targets[0]
    loc = first.loc
    name = "_".join(t.name for t in targets) + "_fused"
    var = Sym(name)
    fused = Var(var, index, loc)
    values: dict[Sym, Expr] = {}
    inner_trips = 1
    for n in range(len(targets) - 1, -1, -1):
        loop = targets[n]
        counter = iop("floordiv", fused, iconst(inner_trips, loc), loc)
        if n:
            counter = iop("mod", counter, iconst(trips[n], loc), loc)
        step = iop("mul", counter, iconst(loop.step, loc), loc)
        values[loop.var] = iop("add", step, iconst(int(loop.lo.value), loc), loc)  # type: ignore[union-attr]
        inner_trips *= trips[n]
    kinds = {t.kind for t in targets}
    new = replace(
        first,
        var=var,
        lo=iconst(0, loc),
        hi=iconst(total, loc),
        step=1,
        body=substitute(targets[-1].body, values),
        name=name,
        kind=first.kind if len(kinds) == 1 else "range",
    )
    return replace_loop(fn, first, new)
