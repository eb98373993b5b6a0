"""``reshape(array, shape)``: give an array a new shape with the same number of elements. The
elements keep their row-major order, so every access is re-indexed through the row-major
(linear) position of the element.

The shapes are matched in groups of dimensions with equal products (``(32, 32) -> (32, 4, 8)``
is ``32 -> 32`` and ``32 -> 4 x 8``), and each group is re-indexed on its own: a dimension split
in several is indexed with ``//`` and ``%``, merged dimensions with a weighted sum, and an
unchanged dimension keeps its index expression. (Only accesses with in-range indices keep their
element; an out-of-range index may now land inside the array instead of failing.)

As in Allo, the new shape is part of the array's type everywhere:

- an argument array or a returned array of the top kernel changes the kernel's call interface:
  the built kernel takes (or returns) arrays of the new shape, with the same elements in the
  same row-major order (``A.reshape(shape)`` in NumPy);
- an array that is the same memory as arrays of other kernels through calls (passed as an
  argument, received as a returned array) is reshaped in all of them, so the call types agree.

Rejected: a shape with a different number of elements, a partitioned array (reshape first, then
partition: the partition refers to the dimensions), and an array that is copied from or into
another array (``B: int32[4, 4] = A``), whose copy would change meaning.

Before::

    B: int32[4, 8]
    for i in range(0, 4):
        for j in range(0, 8):
            B[i, j] = A[i, j]

After ``reshape("B", (32,))``::

    B: int32[32]
    for i in range(0, 4):
        for j in range(0, 8):
            B[((i * 8) + j)] = A[i, j]
"""

from __future__ import annotations

from dataclasses import replace
from math import prod
from typing import Any

import numpy as np

from .._errors import Loc
from ..ir._nodes import (
    Alloc,
    ArrayRef,
    Binary,
    Cast,
    Const,
    ConstArray,
    Expr,
    Function,
    Load,
    Module,
    Return,
    Store,
    Sym,
    walk,
)
from ..ir._rewrite import transform
from ..ir.types import ArrayType, index
from ._access import linked_arrays
from ._common import ArrayRefName, fail, find_array, replace_function

__all__ = ["reshape"]

Groups = list[tuple[list[int], list[int]]]


def _groups(old: tuple[int, ...], new: tuple[int, ...]) -> Groups:
    """Old and new dimensions in consecutive groups of equal extent products."""
    groups: Groups = []
    i = j = 0
    while i < len(old) and j < len(new):
        dims_old, dims_new, p_old, p_new = [i], [j], old[i], new[j]
        i, j = i + 1, j + 1
        while p_old != p_new:
            if p_old < p_new:
                dims_old.append(i)
                p_old, i = p_old * old[i], i + 1
            else:
                dims_new.append(j)
                p_new, j = p_new * new[j], j + 1
        groups.append((dims_old, dims_new))
    groups[-1][0].extend(range(i, len(old)))  # trailing extents of 1
    groups[-1][1].extend(range(j, len(new)))
    return groups


def _op(op: str, lhs: Expr, k: int) -> Expr:
    """``lhs <op> k`` for ``mul``, ``floordiv``, ``mod`` on ``index``, folded where trivial."""
    if k == 1:
        return Const(0, index, lhs.loc) if op == "mod" else lhs  # type: ignore[union-attr]
    if isinstance(lhs, Const):
        value = {"mul": lhs.value * k, "floordiv": lhs.value // k, "mod": lhs.value % k}[op]
        return Const(value, index, lhs.loc)
    return Binary(op, lhs, Const(k, index, lhs.loc), index, lhs.loc)


def _as_index(e: Expr) -> Expr:
    if e.type == index:  # type: ignore[union-attr]
        return e
    if isinstance(e, Const):
        return Const(e.value, index, e.loc)
    return Cast(e, index, e.loc)  # type: ignore[union-attr]


def _reindex(idx: tuple[Expr, ...], old: tuple[int, ...], new: tuple[int, ...]) -> tuple:
    """The indices into shape ``new`` of the element at ``idx`` in shape ``old``."""
    out: list[Expr] = []
    for dims_old, dims_new in _groups(old, new):
        if len(dims_old) == 1 and len(dims_new) == 1:
            out.append(idx[dims_old[0]])
            continue
        linear: Expr | None = None
        for d in dims_old:
            term = _op("mul", _as_index(idx[d]), prod(old[d + 1 : dims_old[-1] + 1]))
            if linear is None:
                linear = term
            elif isinstance(linear, Const) and isinstance(term, Const):
                linear = Const(linear.value + term.value, index, linear.loc)
            else:
                linear = Binary("add", linear, term, index, term.loc)  # type: ignore[union-attr]
        for n, d in enumerate(dims_new):
            part = _op("floordiv", linear, prod(new[d + 1 : dims_new[-1] + 1]))  # type: ignore[arg-type]
            out.append(part if n == 0 else _op("mod", part, new[d]))
    return tuple(out)


def _check(module: Module, fn: Function, sym: Sym, t: ArrayType, shape: Any, loc: Loc | None):
    if not (
        isinstance(shape, tuple)
        and shape
        and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape)
    ):
        raise fail(f"the new shape of {sym.name} must be positive integers, not {shape!r}", loc)
    if prod(shape) != t.size:
        raise fail(
            f"cannot reshape {sym.name} ({t}, {t.size} elements) to {shape} "
            f"({prod(shape)} elements): the number of elements must stay the same",
            loc,
        )
    linked = linked_arrays(module, fn, sym)
    for f, s in linked:
        if f.layout(s) is not None:
            raise fail(
                f"cannot reshape {s.name} of {f.sym.name}: it is partitioned ({f.layout(s)})",
                loc,
                hint="reshape the array first, then partition it",
            )
        for n in walk(f):
            if isinstance(n, Alloc) and isinstance(n.init, ArrayRef) and s in (n.sym, n.init.sym):
                raise fail(
                    f"cannot reshape {s.name} of {f.sym.name}: `{n.sym.name}` is initialised "
                    f"as a copy of `{n.init.sym.name}`, which needs equal shapes",
                    loc,
                    n.loc,
                )
    return linked


def _rewrite(fn: Function, syms: set[Sym], old: ArrayType, new: ArrayType) -> Function:
    """``fn`` with the arrays ``syms`` (of type ``old``) of type ``new``."""

    def swap(n: Any) -> Any:
        if isinstance(n, (Load, Store)) and n.buf in syms:
            return replace(n, indices=_reindex(n.indices, old.shape, new.shape))
        if isinstance(n, ArrayRef) and n.sym in syms:
            return replace(n, type=new)
        if isinstance(n, Alloc) and n.sym in syms:
            init = n.init
            if isinstance(init, ConstArray):
                init = ConstArray(np.array(init.data).reshape(new.shape))
            return replace(n, type=new, init=init)
        return n

    params = tuple(replace(p, type=new) if p.sym in syms else p for p in fn.params)
    body = transform(fn.body, swap)
    returns = fn.returns
    if body and isinstance(body[-1], Return):
        returns = tuple(
            new if isinstance(v, ArrayRef) and v.sym in syms else t
            for v, t in zip(body[-1].values, fn.returns)
        )
    return replace(fn, params=params, body=body, returns=returns)


def reshape(
    module: Module, array: ArrayRefName, shape: tuple[int, ...], loc: Loc | None = None
) -> Module:
    """``module`` with ``array`` (and the arrays linked to it through calls) of shape ``shape``,
    every access re-indexed by row-major position."""
    fn, sym, t = find_array(module, array, loc)
    linked = _check(module, fn, sym, t, shape, loc)
    new = ArrayType(t.dtype, tuple(shape))
    if new == t:
        return module
    for f in module.funcs:
        syms = {s for g, s in linked if g.sym == f.sym}
        if syms:
            module = replace_function(module, _rewrite(f, syms, t, new))
    return module
