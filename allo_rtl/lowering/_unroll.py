"""IR -> IR: replicate the bodies of unrolled loops, and of every loop inside a pipelined one.

A full unroll (``unroll=0``, or any loop inside a loop marked ``pipeline``) replaces the loop by
one copy of its body per iteration, the loop variable replaced by its value::

    for j in range(0, 3):  # unroll=0        C[0] = A[0] + 1
        C[j] = A[j] + 1              ->       C[1] = A[1] + 1
                                              C[2] = A[2] + 1

A partial unroll by ``f`` keeps a loop over groups of ``f`` iterations whose body holds ``f``
copies (``j``, ``j + 1``, ...); when ``f`` does not divide the trip count, the copies past the
end are guarded by ``if j + u < hi``. The copies form one straight-line block, which the
scheduler runs in the same cycles where dependences and ports allow.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .._errors import LoweringError
from ..ir._fold import loop_range, trip_count
from ..ir._nodes import (
    Alloc,
    Assign,
    Binary,
    Const,
    Decl,
    For,
    Function,
    If,
    Stmt,
    Store,
    StreamPut,
    Sym,
    Var,
    While,
)
from ..ir._rewrite import substitute
from ..ir.types import UInt, index

__all__ = ["expand_unrolls", "straight", "trip_count"]

_MAX_COPIES = 4096


def _copy(body: tuple[Stmt, ...], loop: For, value: Any) -> tuple[Stmt, ...]:
    return substitute(body, {loop.var: value})


def _full(loop: For, wrap: bool = True) -> tuple[Stmt, ...]:
    trips = trip_count(loop)
    if trips is None:
        raise LoweringError(
            f"loop `{loop.name}` cannot be unrolled fully: its bounds are not constants",
            loop.loc,
            "unroll it by a factor instead",
        )
    if trips > _MAX_COPIES:
        raise LoweringError(
            f"unrolling loop `{loop.name}` fully would make {trips} copies of its body "
            f"(at most {_MAX_COPIES})",
            loop.loc,
            "unroll by a factor, or pipeline the loop instead",
        )
    out: list[Stmt] = []
    for value in loop_range(loop):  # type: ignore[union-attr]
        out.extend(_copy(loop.body, loop, Const(value, index, loop.loc)))
    return _together(tuple(out), loop) if wrap else tuple(out)


def straight(stmts: tuple[Stmt, ...]) -> bool:
    """Whether ``stmts`` are straight-line code: assignments, stores, stream puts, and ifs of
    those."""
    ok = (Assign, Decl, Store, Alloc, StreamPut)
    return all(
        isinstance(s, ok) or (isinstance(s, If) and straight(s.then + s.orelse)) for s in stmts
    )


def _together(copies: tuple[Stmt, ...], loop: For) -> tuple[Stmt, ...]:
    """Straight-line copies as one block that is scheduled as a whole (a pipeline of one
    iteration), so that copies run in the same cycles where ports and dependences allow."""
    if len(copies) < 2 or not straight(copies):
        return copies
    var, loc = Sym(f"{loop.var.name}_u"), loop.loc
    block = For(var, Const(0, index, loc), Const(1, index, loc), 1, copies,
                f"{loop.name}_unrolled", loop.band, "range",
                (("generated", True), ("pipeline", 1)), loc)  # fmt: skip
    return (block,)


def _partial(loop: For, factor: int) -> tuple[Stmt, ...]:
    trips, loc = trip_count(loop), loop.loc
    var = Var(loop.var, index, loc)
    body: list[Stmt] = []
    for u in range(factor):
        offset = Const(u * loop.step, index, loc)
        value = Binary("add", var, offset, index, loc) if u else var
        copy = _copy(loop.body, loop, value)
        if trips is None or (u and trips % factor):
            cmp = "lt" if loop.step > 0 else "gt"
            guard = Binary(cmp, value, loop.hi, UInt(1), loc)
            copy = (If(guard, copy, (), loc),)
        body.extend(copy)
    attrs = tuple((k, v) for k, v in loop.attrs if k != "unroll")
    if "pipeline" not in dict(attrs):
        body = list(_together(tuple(body), loop))
    return (replace(loop, step=loop.step * factor, body=tuple(body), attrs=attrs),)


def _expand(stmts: tuple[Stmt, ...], inside_pipeline: bool) -> tuple[Stmt, ...]:
    out: list[Stmt] = []
    for s in stmts:
        if isinstance(s, For):
            attrs = dict(s.attrs)
            inner = inside_pipeline or "pipeline" in attrs
            s = replace(s, body=_expand(s.body, inner))
            if inside_pipeline or attrs.get("unroll") == 0:
                out.extend(_full(s, wrap=not inside_pipeline))
                continue
            factor = attrs.get("unroll")
            if factor and trip_count(s) is not None and factor >= trip_count(s):  # type: ignore[operator]
                out.extend(_full(s))  # one group of copies, scheduled together
                continue
            if factor:
                out.extend(_partial(s, int(factor)))  # type: ignore[arg-type]
                continue
        elif isinstance(s, While):
            s = replace(s, body=_expand(s.body, inside_pipeline))
        elif isinstance(s, If):
            s = replace(
                s, then=_expand(s.then, inside_pipeline), orelse=_expand(s.orelse, inside_pipeline)
            )
        out.append(s)
    return tuple(out)


def expand_unrolls(fn: Function) -> Function:
    """``fn`` with unrolled loops (and loops inside pipelined loops) replicated."""
    return replace(fn, body=_expand(fn.body, False))
