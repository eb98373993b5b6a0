"""``buffer_at(array, loop)``: in every iteration of ``loop``, work on a local buffer holding the
part of ``array`` that the iteration accesses, and write it back once at the end of the
iteration (Allo's ``buffer_at``: accumulate in on-chip registers/BRAM, not in the result memory).

The buffer has one dimension per array dimension whose index varies inside the loop, covering
the indices the loop body reaches (the loops inside ``loop`` need constant bounds); the indices
that are fixed during an iteration (those of ``loop`` and of the loops around it) select the
slice. Every iteration of ``loop`` gets, in order:

- an init loop nest ``<j>_init`` loading the slice into the buffer,
- the original body, with every access of ``array`` going to the buffer,
- a write-back loop nest ``<j>_back`` storing the buffer into the slice,

where ``<j>`` is the name of the loop that indexes that buffer dimension (as in Allo, whose new
loops take the name of the first loop inside ``loop``). As in Allo the innermost init and
write-back loops are pipelined (``pipeline=1``). A buffer of one element needs no loops. The
buffer is named ``<array>_buf`` and declared before the loop nest.

Deviation from Allo: Allo's init loop stores zeros, which gives the same results only when the
slice is zero before the loop (a freshly zeroed accumulator). Loading the slice keeps the results
identical in every case, at the cost of one read per buffered element.

Rejected, as in Allo: a loop with no loop inside it (nothing to buffer: "the innermost loop"), a
reduction loop or a loop inside one, and a loop whose body does not write ``array``. Also
rejected: array and loop in different functions, indices that are not affine in loop variables,
an array declared inside the loop or passed to a call inside it.

Before (GEMM as a row-wise product)::

    for i in range(0, 32):  # S_i_0.i range
        for k in range(0, 32):  # S_i_0.k reduction
            for j in range(0, 32):  # S_i_0.j range
                C[i, j] = int32((C[i, j] + (A[i, k] * B[k, j])))

After ``buffer_at("C", "i")``::

    C_buf: int32[32]
    for i in range(0, 32):  # S_i_0.i range
        for j_init in range(0, 32):  # S_i_0.j_init range pipeline=1
            C_buf[j_init] = C[i, j_init]
        for k in range(0, 32):  # S_i_0.k reduction
            for j in range(0, 32):  # S_i_0.j range
                C_buf[j] = int32((C_buf[j] + (A[i, k] * B[k, j])))
        for j_back in range(0, 32):  # S_i_0.j_back range pipeline=1
            C[i, j_back] = C_buf[j_back]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from .._errors import Loc
from ..ir._nodes import Alloc, Const, Expr, For, Function, Load, Module, Stmt, Store, Sym, walk
from ..ir._rewrite import transform
from ..ir.types import AlloType, ArrayType, index
from ._access import (
    Affine,
    accesses,
    ancestors,
    buffer_indices,
    check_accessible,
    copy_nest,
    declare_before,
    dim_names,
    dim_slice,
    fresh_loop_names,
    index_expr,
    index_forms,
    loop_ranges,
    same_function,
    unique_name,
    var_types,
)
from ._common import (
    ArrayRefName,
    LoopName,
    fail,
    find_array,
    find_loop,
    replace_function,
    replace_loop,
)

__all__ = ["buffer_at"]

_PIPELINED = (("pipeline", 1),)


@dataclass(frozen=True)
class _Plan:
    """The buffered slice: per array dimension ``(outer, lo, hi)`` (index ``outer + lo .. outer
    + hi``), the dimensions the buffer keeps, and the names of their copy loops."""

    slices: list[tuple[Affine, int, int]]
    kept: list[int]
    names: list[str]
    inner: Mapping[Sym, tuple[int, int] | None]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.slices[d][2] - self.slices[d][1] + 1 for d in self.kept) or (1,)


def _check_loop(loop: For, path: list[Stmt], ref: LoopName, loc: Loc | None) -> None:
    """Allo's conditions: not inside a reduction loop, not the innermost loop."""
    for outer in [*path, loop]:
        if isinstance(outer, For) and outer.band == loop.band and outer.kind == "reduction":
            raise fail(
                f"cannot buffer inside the reduction loop `{outer.name}`",
                loc,
                hint="buffer at a loop outside the reduction loops",
            )
    if not any(isinstance(n, For) for s in loop.body for n in walk(s)):
        raise fail(
            f"cannot buffer at the innermost loop `{ref}`: it has no loop inside to buffer",
            loc,
            hint="buffer at a loop that contains other loops",
        )


def _plan(sym: Sym, rank: int, loop: For, ref: LoopName, loc: Loc | None) -> _Plan:
    """Analyse the accesses of ``sym`` in ``loop``: the slice one iteration reaches."""
    check_accessible(loop, sym, "buffer", loc)
    accs = accesses(loop.body, sym)
    if not any(isinstance(a, Store) for a in accs):
        raise fail(
            f"loop `{ref}` does not write {sym.name}: buffer_at buffers the results a loop writes",
            loc,
            hint="use reuse_at to keep values that a loop reads again",
        )
    forms = index_forms(accs, loc)
    inner = loop_ranges(loop.body)
    slices = [dim_slice(accs, forms, d, loop, inner, loc) for d in range(rank)]
    kept = [d for d, (_, lo, hi) in enumerate(slices) if hi > lo]
    return _Plan(slices, kept, dim_names(loop, forms, kept), inner)


def _copies(fn: Function, plan: _Plan, sym: Sym, buf: Sym, dtype: AlloType, loop: For) -> tuple:
    """The init and write-back loop nests."""
    types = var_types(fn)

    def idx(form: Affine) -> Expr:
        return index_expr(form, types, loop.loc)

    def array_index(ws: list[Sym]) -> tuple[Expr, ...]:
        at = dict(zip(plan.kept, ws))
        return tuple(
            idx(outer + Affine(((at[d], 1),) if d in at else (), lo))
            for d, (outer, lo, _) in enumerate(plan.slices)
        )

    def buf_index(ws: list[Sym]) -> tuple[Expr, ...]:
        return tuple(idx(Affine(((w, 1),))) for w in ws) or (Const(0, index, loop.loc),)

    def init(ws: list[Sym]) -> tuple[Stmt, ...]:
        value = Load(sym, array_index(ws), dtype, loop.loc)
        return (Store(buf, buf_index(ws), value, loop.loc),)

    def back(ws: list[Sym]) -> tuple[Stmt, ...]:
        value = Load(buf, buf_index(ws), dtype, loop.loc)
        return (Store(sym, array_index(ws), value, loop.loc),)

    inits = fresh_loop_names(fn, [f"{n}_init" for n in plan.names])
    backs = fresh_loop_names(fn, [f"{n}_back" for n in plan.names])
    return (
        copy_nest(list(zip(inits, plan.shape)), init, loop, innermost=_PIPELINED),
        copy_nest(list(zip(backs, plan.shape)), back, loop, innermost=_PIPELINED),
    )


def _redirect(body: tuple, plan: _Plan, sym: Sym, buf: Sym, types: Any) -> tuple:
    """``body`` with every access of ``sym`` going to the buffer ``buf``."""

    def swap(n: Any) -> Any:
        if not isinstance(n, (Load, Store)) or n.buf != sym:
            return n
        idx = buffer_indices(n, plan.inner, plan.slices, plan.kept, types)
        return replace(n, buf=buf, indices=idx)

    return transform(body, swap)


def buffer_at(
    module: Module, array: ArrayRefName, loop: LoopName, loc: Loc | None = None
) -> tuple[Module, str]:
    """``module`` with ``array`` buffered at ``loop``; also the name of the buffer."""
    fn, sym, t = find_array(module, array, loc)
    loop_fn, target = find_loop(module, loop, loc)
    same_function(fn, loop_fn, sym.name, loop, loc)
    path = ancestors(fn.body, target) or []
    _check_loop(target, path, loop, loc)
    plan = _plan(sym, len(t.shape), target, loop, loc)
    buf = Sym(unique_name(fn, f"{sym.name}_buf"))
    inits, backs = _copies(fn, plan, sym, buf, t.dtype, target)
    body = (*inits, *_redirect(target.body, plan, sym, buf, var_types(fn)), *backs)
    alloc = Alloc(buf, ArrayType(t.dtype, plan.shape), None, target.loc)
    fn = declare_before(fn, [*path, target], alloc)
    return replace_function(module, replace_loop(fn, target, replace(target, body=body))), buf.name
