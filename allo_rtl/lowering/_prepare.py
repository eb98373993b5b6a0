"""IR -> IR preparation for lowering: array initialisation becomes explicit loops.

Before::

    B: int32[4, 8] = 0

After (the fill runs every time the declaration executes, as the semantics require)::

    B: int32[4, 8]
    for B_i0 in range(0, 4):
        for B_i1 in range(0, 8):
            B[B_i0, B_i1] = 0

A copy ``B: int32[4, 8] = A`` becomes the same nest with ``B[...] = A[...]``. A constant
initialiser stays (the array becomes a ROM) when the kernel never writes the array.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .._errors import LoweringError
from ..ir._nodes import (
    Alloc,
    ArrayRef,
    Const,
    ConstArray,
    For,
    Function,
    If,
    Load,
    Store,
    Sym,
    Var,
    While,
    walk,
)
from ..ir.types import index

__all__ = ["prepare"]


def _fill(alloc: Alloc) -> tuple[Any, ...]:
    loc = alloc.loc
    ivs = [Sym(f"{alloc.sym.name}_i{d}") for d in range(len(alloc.type.shape))]
    idx = tuple(Var(v, index, loc) for v in ivs)
    if isinstance(alloc.init, ArrayRef):
        value: Any = Load(alloc.init.sym, idx, alloc.init.type.dtype, loc)
    elif alloc.init is None:
        zero = 0.0 if alloc.type.dtype.is_float else 0
        value = Const(zero, alloc.type.dtype, loc)
    else:
        value = alloc.init
    body: tuple[Any, ...] = (Store(alloc.sym, idx, value, loc),)
    for iv, dim in reversed(list(zip(ivs, alloc.type.shape))):
        body = (
            For(iv, Const(0, index, loc), Const(dim, index, loc), 1, body,
                iv.name, f"{alloc.sym.name}_init", "range", (), loc),
        )  # fmt: skip
    return body


def _stmts(stmts: tuple[Any, ...], written: set[Sym]) -> tuple[Any, ...]:
    out: list[Any] = []
    for s in stmts:
        if isinstance(s, Alloc) and isinstance(s.init, ConstArray):
            if s.sym in written:
                raise LoweringError(
                    f"`{s.sym.name}` is initialised from a constant array and also written; "
                    "such arrays are not lowered to RTL yet",
                    s.loc,
                    "copy the constants into a second array that the kernel writes",
                )
            out.append(s)
        elif isinstance(s, Alloc):
            out.append(replace(s, init=None))
            out.extend(_fill(s))
        elif isinstance(s, For):
            out.append(replace(s, body=_stmts(s.body, written)))
        elif isinstance(s, While):
            out.append(replace(s, body=_stmts(s.body, written)))
        elif isinstance(s, If):
            out.append(replace(s, then=_stmts(s.then, written), orelse=_stmts(s.orelse, written)))
        else:
            out.append(s)
    return tuple(out)


def prepare(fn: Function) -> Function:
    """``fn`` with array initialisers expanded into loops (see the module docstring)."""
    written = {n.buf for n in walk(fn) if isinstance(n, Store)}
    return replace(fn, body=_stmts(fn.body, written))
