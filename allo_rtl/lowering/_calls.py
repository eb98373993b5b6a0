"""IR-level helpers for lowering kernel calls.

A call that passes one array to two parameters, ``f(A, A)``, calls a specialisation of the
callee in which the second parameter is the first (one port group, so the callee's scheduler
sees that both names share the memory's ports)::

    def f(X: int32[8], Y: int32[8]):         def f_Y_is_X(X: int32[8]):
        Y[0] = X[1]                  ->          X[0] = X[1]

A kernel that returns one of its argument arrays returns it through that argument's port group
(the caller receives a copy of the final contents, as on the NumPy target).
"""

from __future__ import annotations

from dataclasses import replace

from ..ir._nodes import ArrayRef, Expr, Function, Param, Return, Sym
from ..ir._rewrite import rename

__all__ = ["returned_params", "unalias"]


def unalias(callee: Function, args: tuple[Expr, ...]) -> tuple[Function, tuple[Expr, ...]]:
    """``callee`` specialised so that no array is passed twice, and the remaining arguments."""
    first: dict[Sym, int] = {}
    mapping: dict[Sym, Sym] = {}
    keep: list[int] = []
    for n, arg in enumerate(args):
        if isinstance(arg, ArrayRef) and arg.sym in first:
            mapping[callee.params[n].sym] = callee.params[first[arg.sym]].sym
            continue
        if isinstance(arg, ArrayRef):
            first[arg.sym] = n
        keep.append(n)
    if not mapping:
        return callee, args
    suffix = "_".join(f"{a.name}_is_{b.name}" for a, b in mapping.items())
    params: tuple[Param, ...] = tuple(callee.params[n] for n in keep)
    body = rename(callee.body, mapping)
    special = replace(callee, sym=Sym(f"{callee.sym.name}_{suffix}"), params=params, body=body)
    return special, tuple(args[n] for n in keep)


def returned_params(fn: Function) -> dict[int, int]:
    """``{k: j}`` for each returned value ``k`` that is the argument array of parameter ``j``."""
    last = fn.body[-1] if fn.body else None
    if not isinstance(last, Return):
        return {}
    position = {p.sym: j for j, p in enumerate(fn.params)}
    return {
        k: position[v.sym]
        for k, v in enumerate(last.values)
        if isinstance(v, ArrayRef) and v.sym in position
    }
