"""What every primitive needs: finding loops and arrays by the names users write, replacing
them in an immutable module, and raising :class:`ScheduleError` at the user's schedule call.

Loops are named as in Allo: ``"j"`` (searched in the function), ``"S_i_0.j"`` (band and loop),
optionally prefixed by the function, ``"gemm:j"``; a ``LoopHandle`` carries all three.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from .._errors import Loc, ScheduleError
from ..ir._nodes import Alloc, For, Function, If, Module, Stmt, Sym, While, walk
from ..ir.types import ArrayType

__all__ = [
    "ArrayRefName",
    "LoopName",
    "find_array",
    "find_loop",
    "fail",
    "map_stmts",
    "replace_function",
    "replace_loop",
]


@dataclass(frozen=True)
class LoopName:
    """A loop as the user named it: function (``None``: the top one), band (``None``: any)
    and loop name (``"j"``, ``"i.outer"``)."""

    func: str | None
    band: str | None
    name: str

    def __str__(self) -> str:
        band = f"{self.band}." if self.band else ""
        return f"{self.func + ':' if self.func else ''}{band}{self.name}"


@dataclass(frozen=True)
class ArrayRefName:
    """An array as the user named it: function (``None``: the top one) and array name."""

    func: str | None
    name: str

    def __str__(self) -> str:
        return f"{self.func + ':' if self.func else ''}{self.name}"


def fail(message: str, loc: Loc | None, kernel: Loc | None = None, hint: str | None = None):
    """A :class:`ScheduleError` at the schedule call ``loc`` that also shows the kernel line."""
    if kernel is not None:
        shown = kernel.source_line().strip()
        message += f" (kernel line {kernel.line}" + (f": `{shown}`)" if shown else ")")
    return ScheduleError(message, loc, hint)


def function_of(module: Module, func: str | None, loc: Loc | None) -> Function:
    if func is None:
        return module.top_func
    for fn in module.funcs:
        if fn.sym.name == func:
            return fn
    names = ", ".join(fn.sym.name for fn in module.funcs)
    raise fail(f"no function `{func}`; functions: {names}", loc)


def loops_of(fn: Function) -> Iterator[For]:
    return (n for n in walk(fn) if isinstance(n, For))


def find_loop(module: Module, ref: LoopName, loc: Loc | None) -> tuple[Function, For]:
    """The one loop ``ref`` names; unknown or ambiguous names list the candidates."""
    fn = function_of(module, ref.func, loc)
    loops = list(loops_of(fn))
    hits = [f for f in loops if f.name == ref.name and ref.band in (None, f.band)]
    if len(hits) == 1:
        return fn, hits[0]
    if not hits:
        known = ", ".join(f"{f.band}.{f.name}" for f in loops) or "none"
        raise fail(f"{fn.sym.name} has no loop `{ref}`; loops: {known}", loc)
    where = ", ".join(f"{f.band}.{f.name} (line {f.loc.line})" for f in hits)
    raise fail(
        f"loop name `{ref}` is ambiguous in {fn.sym.name}: {where}",
        loc,
        hint=f"name the band too, e.g. `{hits[0].band}.{hits[0].name}`",
    )


def find_array(
    module: Module, ref: ArrayRefName, loc: Loc | None
) -> tuple[Function, Sym, ArrayType]:
    """The array parameter or local array ``ref`` names."""
    fn = function_of(module, ref.func, loc)
    arrays = [(p.sym, p.type) for p in fn.params if isinstance(p.type, ArrayType)]
    arrays += [(n.sym, n.type) for n in walk(fn) if isinstance(n, Alloc)]
    for sym, t in arrays:
        if sym.name == ref.name:
            return fn, sym, t  # type: ignore[return-value]
    known = ", ".join(s.name for s, _ in arrays) or "none"
    raise fail(f"{fn.sym.name} has no array `{ref.name}`; arrays: {known}", loc)


def map_stmts(stmts: tuple[Stmt, ...], fn: Callable[[Stmt], Any]) -> tuple[Stmt, ...]:
    """``stmts`` with ``fn`` applied to every statement, outermost first; ``fn`` returns a
    statement or a tuple of statements to splice in (its result is not visited again)."""
    out: list[Stmt] = []
    for s in stmts:
        new = fn(s)
        if new is not s:
            out.extend(new if isinstance(new, tuple) else (new,))
            continue
        if isinstance(s, (For, While)):
            s = replace(s, body=map_stmts(s.body, fn))
        elif isinstance(s, If):
            s = replace(s, then=map_stmts(s.then, fn), orelse=map_stmts(s.orelse, fn))
        out.append(s)
    return tuple(out)


def replace_loop(fn: Function, loop: For, new: Stmt | tuple[Stmt, ...]) -> Function:
    """``fn`` with the loop ``loop`` (found by identity) replaced by ``new``."""
    return replace(fn, body=map_stmts(fn.body, lambda s: new if s is loop else s))


def replace_function(module: Module, fn: Function) -> Module:
    """``module`` with the function of the same symbol replaced by ``fn``."""
    return replace(module, funcs=tuple(fn if f.sym == fn.sym else f for f in module.funcs))
