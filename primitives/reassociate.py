"""``reassociate(loop, factor=4)``: the float sums carried by ``loop`` become ``factor``
interleaved partial sums, added together after the loop.

A running float sum ``acc = acc + e`` makes each iteration wait for the previous addition: a
pipelined loop runs at an II of the float adder's latency. With ``factor`` partial sums
(registers: the new array is completely partitioned), iteration ``i`` adds to partial sum
``i % factor``, which the iteration ``factor`` before it wrote, so the loop reaches II=1 once
``factor`` exceeds the adder's latency (float32: 3 cycles on the generic family, so
``factor=4``; 6 on the ECP5 at 100 MHz, so ``factor=8``).

This changes the order of the float additions, so the result differs from the original in
the last bits (it is as accurate, and ``allclose``); both targets compute the new order, so
the NumPy target and the RTL still agree bit for bit. It is an explicit opt-in for that
reason. Only scalar float variables updated once per iteration by ``acc = acc + e`` (or
``acc += e``), with ``e`` not reading ``acc`` and ``acc`` used nowhere else in the loop, are
rewritten; the loop must count by a constant step.

Before::

    acc: float32 = 0.0
    for i in range(0, 1024):  # S_i_0.i range pipeline=1
        acc = acc + A[i] * B[i]

After ``reassociate("i", 4)``::

    acc: float32 = 0.0
    acc_part: float32[4] = 0.0  # acc_part: partition[complete]
    for i in range(0, 1024):  # S_i_0.i range pipeline=1
        acc_part[i & 3] = acc_part[i & 3] + A[i] * B[i]
    acc = acc + acc_part[0]
    acc = acc + acc_part[1]
    acc = acc + acc_part[2]
    acc = acc + acc_part[3]
"""

from __future__ import annotations

from dataclasses import replace

from .._errors import Loc
from ..ir._nodes import (
    Alloc,
    Assign,
    Binary,
    Const,
    Expr,
    For,
    Layout,
    Load,
    Module,
    Stmt,
    Store,
    Sym,
    Var,
)
from ..ir.types import ArrayType, index
from ._common import LoopName, fail, find_loop, replace_function, replace_loop
from ._nest import iconst, iop, mentioned, written

__all__ = ["reassociate"]


def reassociate(module: Module, loop: LoopName, factor: int = 4, loc: Loc | None = None) -> Module:
    """``module`` with the float sums of ``loop`` split into ``factor`` partial sums."""
    fn, target = find_loop(module, loop, loc)
    if not isinstance(factor, int) or isinstance(factor, bool) or factor < 2:
        raise fail(f"reassociate needs a factor of at least 2 partial sums, not {factor!r}", loc)
    sums = [s for s in target.body if _sum_of(s, target) is not None]
    if not sums:
        raise fail(
            f"loop `{loop}` carries no float sum to reassociate",
            loc,
            target.loc,
            hint="reassociate applies to `acc += e` on a float variable declared before the loop",
        )
    before: list[Stmt] = []
    after: list[Stmt] = []
    layouts = list(fn.layouts)
    body = target.body
    for stmt in sums:
        acc, e = _sum_of(stmt, target)  # type: ignore[misc]
        part = Sym(f"{acc.name}_part")
        t = ArrayType(stmt.value.type, (factor,))  # type: ignore[attr-defined]
        loc_s = stmt.loc
        before.append(Alloc(part, t, Const(0.0, t.dtype, loc_s), loc_s))
        layouts.append((part, Layout(("complete",), (0,), (loc,))))
        slot = _slot(target, factor)
        old = Load(part, (slot,), t.dtype, loc_s)
        new = Store(part, (slot,), Binary("add", old, e, t.dtype, loc_s), loc_s)
        body = tuple(new if s is stmt else s for s in body)
        for k in range(factor):
            part_k = Load(part, (iconst(k, loc_s),), t.dtype, loc_s)
            total = Binary("add", Var(acc, t.dtype, loc_s), part_k, t.dtype, loc_s)
            after.append(Assign(acc, total, loc_s))
    new_loop = replace(target, body=body)
    fn = replace_loop(fn, target, (*before, new_loop, *after))
    return replace_function(module, replace(fn, layouts=tuple(layouts)))


def _slot(loop: For, factor: int) -> Expr:
    """``((i - lo) // step) % factor`` (``& (factor - 1)`` for a power of two): the partial
    sum of the current iteration."""
    var = Var(loop.var, index, loop.loc)
    count = iop("sub", var, loop.lo, loop.loc)
    if loop.step != 1:
        count = iop("floordiv", count, iconst(loop.step, loop.loc), loop.loc)
    if factor & (factor - 1) == 0:
        return iop("and", count, iconst(factor - 1, loop.loc), loop.loc)
    return iop("mod", count, iconst(factor, loop.loc), loop.loc)


def _sum_of(stmt: Stmt, loop: For) -> tuple[Sym, Expr] | None:
    """(``acc``, ``e``) when ``stmt`` is ``acc = acc + e`` on a float ``acc`` that the rest of
    ``loop`` neither reads nor writes."""
    if not isinstance(stmt, Assign) or not stmt.value.type.is_float:
        return None
    v = stmt.value
    if not isinstance(v, Binary) or v.op != "add":
        return None
    for mine, other in ((v.lhs, v.rhs), (v.rhs, v.lhs)):
        if isinstance(mine, Var) and mine.sym == stmt.sym and stmt.sym not in mentioned(other):
            rest = [s for s in loop.body if s is not stmt]
            if all(stmt.sym not in mentioned(s) | written(s) for s in rest):
                return stmt.sym, other
    return None
