"""``reuse_at(array, loop)``: keep the elements of ``array`` that consecutive iterations of
``loop`` read again in a reuse buffer (a line buffer or a window), so that a stencil reads every
input element from memory once (Allo's ``reuse_at``).

``array`` must be read, and not written, inside ``loop``; ``loop`` must have constant bounds and
step 1. Exactly one dimension ``d`` of ``array`` is indexed by the loop variable ``y``, as
``s * y + offset`` with one stride ``s > 0`` and offsets ``m .. M`` (constants and loops inside
``loop``, with constant bounds). The buffer keeps ``M - m + 1`` indices of dimension ``d`` and,
of every other dimension, the indices the loop body reaches in one iteration (a dimension fixed
during the whole loop is dropped). The rewrite, as in Allo:

- ``loop`` iterates over the input indices ``s * lo + m .. s * (hi - 1) + M`` instead of the
  output ones;
- each iteration first shifts the buffer by one along ``d`` and loads the new elements
  ``array[..., y, ...]`` (the only reads of ``array``), in loops ``<j>_shift`` over the other
  buffer dimensions (``<j>``: the loop that indexes the dimension), marked ``spatial``;
- the original body runs under the guard ``y >= s * lo + M`` (and ``(y - M) % s == 0``), with
  ``y`` replaced by ``(y - M) // s`` and the reads of ``array`` by reads of the buffer.

The buffer is named ``<band>_reuse_<n>`` as in Allo, where ``n`` counts the (non-reduction)
loops of the band around ``loop``; it is declared before the loop nest as ``scratch``: the
guard only lets the body run once the buffer holds elements loaded in this run, so the values
shifted through it before are never used, and the hardware leaves out a zero fill. Reusing the
buffer again at an inner loop (``WB = s.reuse_at(LB, "x")``) turns it into a window. When the
inner loop then has the same bounds as the previous shift loop, the two are merged (again as in
Allo), so each element is loaded into the line buffer and moved into the window in one pass.

Before (3x3 box filter, reads every element of ``A`` up to 9 times)::

    for y in range(0, 8):  # S_y_x_0.y grid
        for x in range(0, 8):  # S_y_x_0.x grid
            v: int32 = 0
            for r in range(0, 3):  # S_y_x_0.r reduction
                for c in range(0, 3):  # S_y_x_0.c reduction
                    v = int32((v + A[(y + r), (x + c)]))
            B[y, x] = v

After ``LB = reuse_at("A", "y")`` (``S_y_x_0_reuse_0: int32[3, 10]``, written ``LB`` here)::

    for y in range(0, 10):  # S_y_x_0.y grid
        for x_shift in range(0, 10):  # S_y_x_0.x_shift range spatial=True
            LB[0, x_shift] = LB[1, x_shift]
            LB[1, x_shift] = LB[2, x_shift]
            LB[2, x_shift] = A[y, x_shift]
        if (y >= 2):
            for x in range(0, 8):  # S_y_x_0.x grid
                v: int32 = 0
                for r in range(0, 3):  # S_y_x_0.r reduction
                    for c in range(0, 3):  # S_y_x_0.c reduction
                        v = int32((v + LB[r, (x + c)]))
                B[(y - 2), x] = v

After ``WB = reuse_at(LB, "x")`` too (``S_y_x_0_reuse_1: int32[3, 3]``, ``WB``)::

    for y in range(0, 10):  # S_y_x_0.y grid
        for x in range(0, 10):  # S_y_x_0.x grid
            LB[0, x] = LB[1, x]
            LB[1, x] = LB[2, x]
            LB[2, x] = A[y, x]
            if (y >= 2):
                for r_shift in range(0, 3):  # S_y_x_0.r_shift range spatial=True
                    WB[r_shift, 0] = WB[r_shift, 1]
                    WB[r_shift, 1] = WB[r_shift, 2]
                    WB[r_shift, 2] = LB[r_shift, x]
                if (x >= 2):
                    v: int32 = 0
                    for r in range(0, 3):  # S_y_x_0.r reduction
                        for c in range(0, 3):  # S_y_x_0.c reduction
                            v = int32((v + WB[r, c]))
                    B[(y - 2), (x - 2)] = v
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .._errors import Loc
from ..ir._nodes import (
    Alloc,
    ArrayRef,
    Binary,
    Call,
    Const,
    Expr,
    For,
    Function,
    If,
    Load,
    Module,
    Stmt,
    Store,
    Sym,
    Var,
    walk,
)
from ..ir._rewrite import rename, substitute, transform
from ..ir.types import ArrayType, index
from ..ir.types import bool as bool_
from ._access import (
    Affine,
    accesses,
    affine_of,
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
    scalars_written,
    unique_name,
    var_types,
)
from ._attrs import trip_count
from ._common import (
    ArrayRefName,
    LoopName,
    fail,
    find_array,
    find_loop,
    map_stmts,
    replace_function,
    replace_loop,
)

__all__ = ["reuse_at"]

_SPATIAL = ("spatial", True)


@dataclass(frozen=True)
class _Plan:
    """Dimension ``dim`` read as ``stride * y + m .. M`` (plus ``slices[dim][0]``); per array
    dimension ``(outer, lo, hi)``; the dimensions the buffer keeps and their shift-loop names."""

    dim: int
    stride: int
    m: int
    big_m: int
    slices: list[tuple[Affine, int, int]]
    kept: list[int]
    names: dict[int, str]
    inner: dict[Sym, tuple[int, int] | None]

    @property
    def distance(self) -> int:
        return self.big_m - self.m

    @property
    def shape(self) -> tuple[int, ...]:
        ext = {d: hi - lo + 1 for d, (_, lo, hi) in enumerate(self.slices)}
        return tuple(self.distance + 1 if d == self.dim else ext[d] for d in self.kept)


def _reads(loop: For, sym: Sym, ref: LoopName, loc: Loc | None) -> list[Load]:
    """The reads of ``sym`` in ``loop``, after checking the loop and that it only reads."""
    if not (isinstance(loop.lo, Const) and isinstance(loop.hi, Const) and loop.step == 1):
        raise fail(f"reuse_at needs loop `{ref}` with constant bounds and step 1", loc, loop.loc)
    if not trip_count(loop):
        raise fail(f"loop `{ref}` never runs: there is nothing to reuse", loc, loop.loc)
    check_accessible(loop, sym, "reuse", loc)
    accs = accesses(loop.body, sym)
    for a in accs:
        if isinstance(a, Store):
            raise fail(
                f"cannot reuse {sym.name} at loop `{ref}`: the loop writes {sym.name}", loc, a.loc
            )
    if not accs:
        raise fail(f"loop `{ref}` does not read {sym.name}: there is nothing to reuse", loc)
    return accs  # type: ignore[return-value]


def _reuse_dim(forms: list, loop: For, name: str, ref: LoopName, loc: Loc | None) -> int:
    """The one dimension the loop variable indexes, with one positive stride."""
    dims = {d for f in forms for d, form in enumerate(f) if form.coef(loop.var)}
    if not dims:
        raise fail(
            f"{name} is not indexed by loop `{ref}`: there is nothing to reuse",
            loc,
            hint=f"reuse at the loop whose variable indexes {name}",
        )
    if len(dims) > 1:
        raise fail(f"loop `{ref}` indexes more than one dimension of {name}", loc)
    dim = dims.pop()
    strides = sorted({f[dim].coef(loop.var) for f in forms})
    if len(strides) > 1 or strides[0] < 0:
        raise fail(
            f"{name} must be indexed by `{loop.var.name}` with one positive stride, not "
            f"{' and '.join(map(str, strides))}",
            loc,
        )
    return dim


def _plan(sym: Sym, rank: int, loop: For, ref: LoopName, loc: Loc | None) -> _Plan:
    """Analyse the reads of ``sym`` in ``loop``: what the reuse buffer holds."""
    reads = _reads(loop, sym, ref, loc)
    forms = index_forms(reads, loc)  # type: ignore[arg-type]
    dim = _reuse_dim(forms, loop, sym.name, ref, loc)
    inner = loop_ranges(loop.body)
    at_y = {**inner, loop.var: (0, 0)}  # the offsets: the index with `y` = 0
    slices = [
        dim_slice(reads, forms, d, loop, at_y if d == dim else inner, loc) for d in range(rank)
    ]  # type: ignore[arg-type]
    _, m, big_m = slices[dim]
    if big_m == m:
        raise fail(
            f"no reuse: each iteration of loop `{ref}` reads {sym.name} at a single index of "
            f"dimension {dim + 1}",
            loc,
            hint=f"reuse_at needs reads like {sym.name}[y] and {sym.name}[y + 1]",
        )
    kept = [d for d, (_, lo, hi) in enumerate(slices) if d == dim or hi > lo]
    names = dict(zip(kept, dim_names(loop, forms, kept)))
    stride = forms[0][dim].coef(loop.var)
    return _Plan(dim, stride, m, big_m, slices, kept, names, inner)  # type: ignore[arg-type]


def _shift(fn: Function, plan: _Plan, sym: Sym, buf: Sym, dtype: Any, loop: For) -> tuple:
    """The statements shifting the buffer along the reuse dimension and loading new elements."""
    loc, types = loop.loc, var_types(fn)
    window = [d for d in plan.kept if d != plan.dim]

    def body(ws: list[Sym]) -> tuple[Stmt, ...]:
        at = dict(zip(window, ws))

        def buf_idx(k: int) -> tuple[Expr, ...]:
            return tuple(
                Const(k, index, loc) if d == plan.dim else Var(at[d], index, loc) for d in plan.kept
            )

        def arr_idx() -> tuple[Expr, ...]:
            out = []
            for d, (outer, lo, _) in enumerate(plan.slices):
                own = loop.var if d == plan.dim else at.get(d)
                start = 0 if d == plan.dim else lo
                out.append(
                    index_expr(outer + Affine(((own, 1),) if own else (), start), types, loc)
                )
            return tuple(out)

        stmts: list[Stmt] = [
            Store(buf, buf_idx(k), Load(buf, buf_idx(k + 1), dtype, loc), loc)
            for k in range(plan.distance)
        ]
        stmts.append(Store(buf, buf_idx(plan.distance), Load(sym, arr_idx(), dtype, loc), loc))
        return tuple(stmts)

    names = fresh_loop_names(fn, [f"{plan.names[d]}_shift" for d in window])
    extents = [plan.shape[plan.kept.index(d)] for d in window]
    return copy_nest(list(zip(names, extents)), body, loop, every=(_SPATIAL,))


def _guarded(plan: _Plan, body: tuple, sym: Sym, buf: Sym, loop: For, types: Any) -> If:
    """``body`` reading the buffer, run once the buffer holds an output's inputs."""

    def swap(n: Any) -> Any:
        if not isinstance(n, Load) or n.buf != sym:
            return n
        idx = buffer_indices(n, plan.inner, plan.slices, plan.kept, types)
        return replace(n, buf=buf, indices=idx)

    y, s, big_m = Var(loop.var, index, loop.loc), plan.stride, plan.big_m
    first = int(loop.lo.value) * s + big_m  # type: ignore[union-attr]
    shifted = index_expr(Affine(((loop.var, 1),), -big_m), types, loop.loc)
    cond: Expr = Binary("ge", y, Const(first, index, loop.loc), bool_, loop.loc)
    if s > 1:
        phase = Binary("mod", shifted, Const(s, index, loop.loc), index, loop.loc)
        aligned = Binary("eq", phase, Const(0, index, loop.loc), bool_, loop.loc)
        cond = Binary("land", cond, aligned, bool_, loop.loc)
        shifted = Binary("floordiv", shifted, Const(s, index, loop.loc), index, loop.loc)
    body = substitute(transform(body, swap), {loop.var: shifted})
    return If(cond, body, (), loop.loc)


def _axis(path: list[Stmt], loop: For) -> int:
    """Allo's number of a loop in its band: the non-reduction loops around it."""
    return sum(
        1
        for s in path
        if isinstance(s, For)
        and s.band == loop.band
        and s.kind != "reduction"
        and _SPATIAL not in s.attrs
    )


def reuse_at(
    module: Module, array: ArrayRefName, loop: LoopName, loc: Loc | None = None
) -> tuple[Module, str]:
    """``module`` with the reads of ``array`` in ``loop`` served from a new reuse buffer; also
    the name of the buffer."""
    fn, sym, t = find_array(module, array, loc)
    loop_fn, target = find_loop(module, loop, loc)
    same_function(fn, loop_fn, sym.name, loop, loc)
    path = ancestors(fn.body, target) or []
    plan = _plan(sym, len(t.shape), target, loop, loc)
    buf = Sym(unique_name(fn, f"{target.band}_reuse_{_axis(path, target)}"))
    types = var_types(fn)
    lo = int(target.lo.value) * plan.stride + plan.m  # type: ignore[union-attr]
    hi = int(target.hi.value - 1) * plan.stride + plan.big_m + 1  # type: ignore[union-attr]
    shift = _shift(fn, plan, sym, buf, t.dtype, target)
    guarded = _guarded(plan, target.body, sym, buf, target, types)
    new = replace(
        target,
        lo=Const(lo, index, target.lo.loc),
        hi=Const(hi, index, target.hi.loc),
        body=(*shift, guarded),
    )
    fn = declare_before(
        fn,
        [*path, target],
        Alloc(buf, ArrayType(t.dtype, plan.shape), None, target.loc, scratch=True),
    )
    fn = _merge(replace_loop(fn, target, new), new)
    return replace_function(module, fn), buf.name


# ---------------------------------------------------------------- merging with a shift loop


def _same_bounds(a: For, b: For) -> bool:
    consts = (a.lo, a.hi, b.lo, b.hi)
    return all(isinstance(c, Const) for c in consts) and (
        (a.lo.value, a.hi.value, a.step) == (b.lo.value, b.hi.value, b.step)  # type: ignore[union-attr]
    )


def _column(stmts: tuple, var: Sym) -> dict[Sym, int] | None:
    """For the arrays stored under ``stmts``: the index position holding exactly ``var`` in
    every store (``None`` if some store has none, or they disagree)."""
    out: dict[Sym, int] = {}
    for st in (n for s in stmts for n in walk(s) if isinstance(n, Store)):
        pos = [k for k, i in enumerate(st.indices) if isinstance(i, Var) and i.sym == var]
        if not pos or out.setdefault(st.buf, pos[0]) != pos[0]:
            return None
    return out


def _mergeable(prev: For, guard: If, loop: For) -> bool:
    """Whether the shift loop ``prev`` can run interleaved with ``loop`` (the only statement
    of ``guard``, which follows ``prev``): iteration ``x`` of ``prev`` writes column ``x`` of
    its arrays; iteration ``x`` of ``loop`` reads them only at columns ``x - k`` (``k >= 0``
    a constant: complete once iteration ``x`` of ``prev`` ran) and writes nothing ``prev``
    uses, and ``guard`` reads nothing ``loop`` changes."""
    if guard.then[0] is not loop or _SPATIAL not in prev.attrs or not _same_bounds(prev, loop):
        return False
    columns = _column(prev.body, prev.var)
    nodes = [n for s in loop.body for n in walk(s)]
    prev_arrays = {n.buf for s in prev.body for n in walk(s) if isinstance(n, (Load, Store))}
    written = {n.buf for n in nodes if isinstance(n, Store)}
    written |= {
        a.sym for n in nodes if isinstance(n, Call) for a in n.args if isinstance(a, ArrayRef)
    }
    if columns is None or written & prev_arrays or scalars_written(prev.body):
        return False
    if any(isinstance(n, Load) for n in walk(guard.cond)):
        return False
    if {n.sym for n in walk(guard.cond) if isinstance(n, Var)} & scalars_written(loop.body):
        return False
    for n in nodes:  # column `x - k`, k >= 0: written by iteration x - k of `prev`
        if isinstance(n, Load) and n.buf in columns:
            form = affine_of(n.indices[columns[n.buf]])
            if form is None or form.terms != ((loop.var, 1),) or form.const > 0:
                return False
    return True


def _siblings(fn: Function, path: list[Stmt], stmt: Stmt) -> tuple[Stmt, ...]:
    """The statement list holding ``stmt``, whose enclosing statements are ``path``."""
    if not path:
        return fn.body
    holder = path[-1]
    lists = (holder.then, holder.orelse) if isinstance(holder, If) else (holder.body,)  # type: ignore[union-attr]
    return next(b for b in lists if any(s is stmt for s in b))


def _merge(fn: Function, loop: For) -> Function:
    """``fn`` with ``[shift, if g: loop]`` turned into ``for x: shift(x); if g: body(x)``."""
    path = ancestors(fn.body, loop) or []
    guard = path[-1] if path else None
    if not isinstance(guard, If) or len(guard.then) != 1 or guard.orelse:
        return fn
    stmts = _siblings(fn, path[:-1], guard)
    pos = next(k for k, s in enumerate(stmts) if s is guard)
    prev = stmts[pos - 1] if pos else None
    if not isinstance(prev, For) or not _mergeable(prev, guard, loop):
        return fn
    body = (*rename(prev.body, {prev.var: loop.var}), If(guard.cond, loop.body, (), guard.loc))
    merged = (*stmts[: pos - 1], replace(loop, body=body), *stmts[pos + 1 :])
    if len(path) == 1:
        return replace(fn, body=merged)
    holder = path[-2]
    if isinstance(holder, If):
        field = "then" if any(s is guard for s in holder.then) else "orelse"
        new = replace(holder, **{field: merged})
    else:
        new = replace(holder, body=merged)
    return replace(fn, body=map_stmts(fn.body, lambda s: new if s is holder else s))
