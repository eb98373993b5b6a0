"""``reorder(*loops)``: permute the loops of one perfect loop nest.

As in Allo, the named loops take the positions the named loops occupy, in the order given, and
loops not named keep their positions: in the nest ``i, j, k, l``, ``reorder("l", "i")`` gives
``l, j, k, i``. The named loops must lie in one perfect nest (each loop's body is the next
loop only); loops outside the outermost named one are not touched. A loop carries its bounds,
name, band and annotations with it.

A reorder is refused when it reverses a dependence: two executions of the body that touch the
same array element or scalar, at least one of them writing it, run in one order now and in the
other order after the permutation. The test is exact for affine accesses with constant bounds
(``_dependence.py``): for each pair of accesses it asks whether a pair of iterations exists
that is lexicographically ordered one way in the old loop order and the other way in the new
one. Scalars and arrays that each iteration writes before reading (temporaries declared in the
body, say) and that are not used outside the nest carry no dependence.

Before::

    for i in range(0, 4):  # C.i grid
        for j in range(0, 4):  # C.j grid
            for k in range(0, 4):  # C.k reduction
                C[i, j] = int32((C[i, j] + (A[i, k] * B[k, j])))

After ``reorder("k", "j")``::

    for i in range(0, 4):  # C.i grid
        for k in range(0, 4):  # C.k reduction
            for j in range(0, 4):  # C.j grid
                C[i, j] = int32((C[i, j] + (A[i, k] * B[k, j])))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

from .._errors import Loc, ScheduleError
from ..ir._nodes import For, Function, Module, Stmt
from ._common import LoopName, fail, find_loop, map_stmts, replace_function, replace_loop
from ._dependence import Access, Scope, accesses, conflict, directions, private, scope
from ._intsolver import Lin, System
from ._nest import loop_path, mentioned, perfect_chain, written

__all__ = ["reorder"]


def reorder(module: Module, loops: tuple[LoopName, ...], loc: Loc | None = None) -> Module:
    """``module`` with the named loops of one perfect nest permuted into the given order."""
    if len(loops) < 2:
        raise fail(f"reorder needs at least two loops, got {len(loops)}", loc)
    fn, targets = _resolve(module, loops, loc)
    segment = _segment(fn, targets, loops, loc)
    positions = sorted(next(n for n, s in enumerate(segment) if s is t) for t in targets)
    order = list(range(len(segment)))
    for pos, t in zip(positions, targets):
        order[pos] = next(n for n, s in enumerate(segment) if s is t)
    if order == sorted(order):
        return module
    _check_bounds(segment, order, loc)
    _check_dependences(fn, segment, order, loc)
    nest: Stmt = replace(segment[order[-1]], body=segment[-1].body)
    for n in reversed(order[:-1]):
        nest = replace(segment[n], body=(nest,))
    return replace_function(module, replace_loop(fn, segment[0], nest))


def _resolve(
    module: Module, loops: tuple[LoopName, ...], loc: Loc | None
) -> tuple[Function, list[For]]:
    fn, _ = find_loop(module, loops[0], loc)
    targets: list[For] = []
    for name in loops:
        other_fn, target = find_loop(module, name, loc)
        if other_fn.sym != fn.sym:
            raise fail(f"cannot reorder loops of different functions: `{loops[0]}`, `{name}`", loc)
        if any(target is t for t in targets):
            raise fail(f"cannot reorder: loop `{name}` is named twice", loc)
        targets.append(target)
    return fn, targets


def _segment(
    fn: Function, targets: list[For], loops: tuple[LoopName, ...], loc: Loc | None
) -> list[For]:
    """The perfect nest from the outermost named loop down to the innermost named one."""
    depth = [len(loop_path(fn.body, t) or ()) for t in targets]
    top = targets[depth.index(min(depth))]
    chain = perfect_chain(top)
    for t, name in zip(targets, loops):
        if any(t is c for c in chain):
            continue
        if loop_path(top.body, t) is None:
            raise fail(
                f"cannot reorder: loops `{loops[targets.index(top)]}` and `{name}` are not in "
                "one loop nest",
                loc,
            )
        raise fail(
            f"cannot reorder: loop `{name}` is not perfectly nested in loop "
            f"`{chain[-1].name}`, whose body holds other statements",
            loc,
            chain[-1].loc,
            hint="reorder loops whose bodies hold nothing but the next loop",
        )
    last = max(n for n, c in enumerate(chain) if any(c is t for t in targets))
    return chain[: last + 1]


def _check_bounds(segment: list[For], order: list[int], loc: Loc | None) -> None:
    """Bounds may use only loops that stay outside, and nothing the nest changes."""
    changed = written(segment[-1].body)
    for pos, n in enumerate(order):
        loop = segment[n]
        uses = mentioned((loop.lo, loop.hi))
        for other in segment:
            if other.var in uses and not any(segment[m] is other for m in order[:pos]):
                raise fail(
                    f"cannot reorder: the bounds of loop `{loop.name}` depend on loop "
                    f"`{other.name}`, which would no longer enclose it",
                    loc,
                    loop.loc,
                )
        if uses & changed:
            raise fail(
                f"cannot reorder: the bounds of loop `{loop.name}` read values the loop body "
                "changes",
                loc,
                loop.loc,
            )


def _check_dependences(fn: Function, segment: list[For], order: list[int], loc: Loc | None) -> None:
    body = segment[-1].body
    found = accesses(body, tuple(segment))
    outside = map_stmts(fn.body, lambda s: () if s is segment[0] else s)
    local = private(body) - mentioned(replace(fn, body=outside))
    where = scope(fn, segment[0], written(segment[0]))
    pairs = [(a, b) for a in found for b in found if a.sym == b.sym and (a.write or b.write)]
    pairs.sort(key=lambda p: (not p[0].write, p[1].write))  # flow dependences first
    for a, b in pairs:
        if a.sym not in local:
            for dirs in _reversals(order):
                if conflict(a, b, where, _relation(dirs)) is not False:
                    raise _violation(a, b, segment, order, dirs, where, loc)


def _reversals(order: list[int]) -> Iterator[dict[int, str]]:
    """Partial direction vectors (loop index -> ``<``, ``=``, ``>``; ``a`` runs before ``b``)
    that cover every pair of iterations ordered one way by the old order and the other way by
    ``order``: the first loop that differs in the old order (``k``) has ``<``, the first one
    in the new order has ``>``."""
    for k in range(len(order)):
        for first in range(len(order)):
            q, before = order[first], order[:first]
            if q > k and k not in before:
                dirs = dict.fromkeys([*range(k), *before], "=")
                dirs.update({k: "<", q: ">"})
                yield dirs


def _relation(dirs: dict[int, str]) -> Callable[[System, list[Lin], list[Lin]], None]:
    return lambda system, a, b: directions(system, a, b, dirs)


def _violation(
    a: Access,
    b: Access,
    segment: list[For],
    order: list[int],
    dirs: dict[int, str],
    where: Scope,
    loc: Loc | None,
) -> ScheduleError:
    """The error for a reversed dependence, with its full direction vector where known."""
    dirs = dict(dirs)
    for n in range(len(segment)):
        if n in dirs:
            continue
        for d in "<=>":
            if conflict(a, b, where, _relation({**dirs, n: d})) is not False:
                dirs[n] = d
                break
        else:
            dirs[n] = "*"
    old = ", ".join(s.name for s in segment)
    new = ", ".join(segment[n].name for n in order)
    what = f"scalar `{a.sym.name}`" if a.indices == () else f"`{a.sym.name}`"
    vector = ", ".join(dirs[n] for n in range(len(segment)))
    known = conflict(a, b, where, _relation(dirs)) is True
    if not known:
        message = (
            f"cannot reorder loops ({old}) into ({new}): cannot prove that the {b.kind} of "
            f"{what} at kernel line {b.loc.line} keeps its order with the {a.kind} (the "
            "dependence analysis gave up)"
        )
        return fail(message, loc, a.loc)
    message = (
        f"cannot reorder loops ({old}) into ({new}): the {b.kind} of {what} at kernel line "
        f"{b.loc.line} depends on the {a.kind} in an earlier iteration (direction ({vector}) "
        f"over ({old})), which the new order would run later"
    )
    return fail(message, loc, a.loc)
