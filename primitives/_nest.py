"""Loop-nest helpers shared by split, reorder, fuse and compute_at: perfect nests, where a loop
sits in a function, which symbols a piece of IR reads and writes, and ``index`` arithmetic built
the way the frontend builds it (``index op index`` is ``index``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .._errors import Loc
from ..ir._nodes import (
    Alloc,
    ArrayRef,
    Assign,
    Binary,
    Call,
    Const,
    Decl,
    Expr,
    For,
    If,
    Load,
    Stmt,
    Store,
    Sym,
    Var,
    While,
    walk,
)
from ..ir.types import UInt, index

__all__ = [
    "attrs_text",
    "iconst",
    "iop",
    "loop_path",
    "mentioned",
    "nodes",
    "perfect_chain",
    "range_text",
    "written",
]


def iconst(value: int, loc: Loc) -> Const:
    """The ``index`` constant ``value``."""
    return Const(value, index, loc)


def iop(op: str, lhs: Expr, rhs: Expr, loc: Loc) -> Expr:
    """``lhs op rhs`` on ``index`` operands (comparisons give ``bool``); adding 0 and
    multiplying by 1 are left out."""
    if op in ("add", "sub") and isinstance(rhs, Const) and rhs.value == 0:
        return lhs
    if op == "add" and isinstance(lhs, Const) and lhs.value == 0:
        return rhs
    if op in ("mul", "floordiv") and isinstance(rhs, Const) and rhs.value == 1:
        return lhs
    result = UInt(1) if op in ("lt", "le", "gt", "ge", "eq", "ne") else index
    return Binary(op, lhs, rhs, result, loc)


def perfect_chain(loop: For) -> list[For]:
    """``loop`` and the loops perfectly nested in it: each one's body is the next loop only."""
    chain = [loop]
    while len(chain[-1].body) == 1 and isinstance(chain[-1].body[0], For):
        chain.append(chain[-1].body[0])
    return chain


def loop_path(stmts: Iterable[Stmt], target: For) -> list[Stmt] | None:
    """The statements enclosing ``target`` (found by identity), outermost first, ending with
    ``target``; ``None`` if it is not in ``stmts``."""
    for s in stmts:
        if s is target:
            return [s]
        inner: list[Stmt] = []
        if isinstance(s, (For, While)):
            inner = list(s.body)
        elif isinstance(s, If):
            inner = [*s.then, *s.orelse]
        found = loop_path(inner, target) if inner else None
        if found is not None:
            return [s, *found]
    return None


def nodes(tree: object) -> Iterator[object]:
    """Every IR node in ``tree``: a node, or a (nested) tuple of nodes."""
    if isinstance(tree, tuple):
        for item in tree:
            yield from nodes(item)
    elif tree is not None:
        yield from walk(tree)


def written(node: object) -> set[Sym]:
    """The scalars and arrays ``node`` may write (call arguments passed by reference too)."""
    out: set[Sym] = set()
    for n in nodes(node):
        if isinstance(n, (Assign, Alloc)) or (isinstance(n, Decl) and n.init is not None):
            out.add(n.sym)
        elif isinstance(n, Store):
            out.add(n.buf)
        elif isinstance(n, Call):
            out.update(n.results)
            out.update(a.sym for a in n.args if isinstance(a, ArrayRef))
    return out


def mentioned(node: object) -> set[Sym]:
    """Every scalar and array ``node`` reads or writes."""
    out = written(node)
    for n in nodes(node):
        if isinstance(n, (Var, ArrayRef)):
            out.add(n.sym)
        elif isinstance(n, Load):
            out.add(n.buf)
    return out


def range_text(loop: For) -> str:
    """``range(0, 10)`` for constant bounds, ``non-constant bounds`` otherwise."""
    if isinstance(loop.lo, Const) and isinstance(loop.hi, Const):
        step = "" if loop.step == 1 else f", {loop.step}"
        return f"range({loop.lo.value}, {loop.hi.value}{step})"
    return "non-constant bounds"


def attrs_text(loop: For) -> str:
    """The annotations of ``loop`` as the printer shows them: ``pipeline=1 rewind=True``."""
    return " ".join(f"{k}={v!r}" for k, v in loop.attrs)
