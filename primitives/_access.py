"""Array access analysis shared by the memory primitives (partition, reshape, buffer_at,
reuse_at): affine index forms, value ranges of loop variables, building index expressions, the
statements enclosing a loop, and the arrays that share one memory through calls.

An index is *affine* when it is a sum of integer variables times constants plus a constant
(``y * 2 + r - 1``). Integer ``+ - *`` never overflow (docs/semantics.md), so the affine form is
the exact value; casts to signed types of 32 bits or more, and ``index``, keep it (an index of a
valid access fits in 32 bits).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from .._errors import Loc
from ..ir._nodes import (
    Alloc,
    ArrayRef,
    Assign,
    Binary,
    Call,
    Cast,
    Const,
    Decl,
    Expr,
    For,
    Function,
    If,
    Load,
    Module,
    Return,
    Stmt,
    Store,
    Sym,
    Var,
    While,
    walk,
)
from ..ir.types import AlloType, ArrayType, Index, Int, index
from ._attrs import trip_count
from ._common import fail, map_stmts

__all__ = [
    "Affine",
    "accesses",
    "affine_of",
    "ancestors",
    "array_names",
    "buffer_indices",
    "check_accessible",
    "copy_nest",
    "declare_before",
    "dim_names",
    "dim_slice",
    "fresh_loop_names",
    "index_expr",
    "index_forms",
    "linked_arrays",
    "loop_ranges",
    "same_function",
    "scalars_written",
    "unique_name",
    "var_types",
]


@dataclass(frozen=True)
class Affine:
    """``sum(coef * var) + const``; ``terms`` are sorted by symbol id, coefficients non-zero."""

    terms: tuple[tuple[Sym, int], ...] = ()
    const: int = 0

    @staticmethod
    def of(coefs: Mapping[Sym, int], const: int = 0) -> Affine:
        items = sorted(((s, c) for s, c in coefs.items() if c), key=lambda t: t[0].uid)
        return Affine(tuple(items), const)

    def coef(self, sym: Sym) -> int:
        return dict(self.terms).get(sym, 0)

    def __add__(self, other: Affine) -> Affine:
        coefs = dict(self.terms)
        for sym, c in other.terms:
            coefs[sym] = coefs.get(sym, 0) + c
        return Affine.of(coefs, self.const + other.const)

    def scale(self, k: int) -> Affine:
        return Affine.of({s: c * k for s, c in self.terms}, self.const * k)

    def split(self, inner: Iterable[Sym]) -> tuple[Affine, Affine]:
        """``(outer, inner)``: the terms of variables not in ``inner``, and those in ``inner``
        plus the constant."""
        keep = set(inner)
        outer = {s: c for s, c in self.terms if s not in keep}
        return Affine.of(outer), Affine.of({s: c for s, c in self.terms if s in keep}, self.const)

    def bounds(self, ranges: Mapping[Sym, tuple[int, int]]) -> tuple[int, int]:
        """The least and greatest value when every variable lies in its (inclusive) range."""
        lo = hi = self.const
        for sym, c in self.terms:
            a, b = c * ranges[sym][0], c * ranges[sym][1]
            lo, hi = lo + min(a, b), hi + max(a, b)
        return lo, hi


def affine_of(e: Expr) -> Affine | None:
    """The affine form of the integer expression ``e``, or ``None`` if it has none."""
    t = getattr(e, "type", None)
    if not isinstance(t, AlloType) or not t.is_integer or t.fracs:
        return None
    if isinstance(e, Const):
        return Affine((), int(e.value))
    if isinstance(e, Var):
        return Affine(((e.sym, 1),), 0)
    if isinstance(e, Cast):
        keeps = isinstance(t, Index) or (isinstance(t, Int) and t.bits >= 32)
        return affine_of(e.operand) if keeps else None
    if not isinstance(e, Binary) or e.op not in ("add", "sub", "mul"):
        return None
    lhs, rhs = affine_of(e.lhs), affine_of(e.rhs)
    if lhs is None or rhs is None:
        return None
    if e.op == "add":
        return lhs + rhs
    if e.op == "sub":
        return lhs + rhs.scale(-1) if t.signed else None
    if not lhs.terms:
        return rhs.scale(lhs.const)
    return lhs.scale(rhs.const) if not rhs.terms else None


def _const(value: int, loc: object) -> Const:
    return Const(value, index, loc)  # type: ignore[arg-type]


def _arith(op: str, lhs: Expr, rhs: Expr, loc: object) -> Expr:
    return Binary(op, lhs, rhs, index, loc)  # type: ignore[arg-type]


def index_expr(form: Affine, types: Mapping[Sym, AlloType], loc: object) -> Expr:
    """An ``index``-typed expression computing ``form`` (variables of other types are cast)."""
    out: Expr | None = None
    for sym, c in form.terms:
        t = types.get(sym, index)
        term: Expr = Var(sym, t, loc)  # type: ignore[arg-type]
        if t != index:
            term = Cast(term, index, loc)  # type: ignore[arg-type]
        k = abs(c) if out is not None else c
        if k != 1:
            term = _arith("mul", term, _const(k, loc), loc)
        out = term if out is None else _arith("add" if c > 0 else "sub", out, term, loc)
    if out is None:
        return _const(form.const, loc)
    if form.const:
        op = "add" if form.const > 0 else "sub"
        out = _arith(op, out, _const(abs(form.const), loc), loc)
    return out


def var_types(node: object) -> dict[Sym, AlloType]:
    """The type of every scalar variable read under ``node`` (loop variables are ``index``)."""
    types: dict[Sym, AlloType] = {n.sym: n.type for n in walk(node) if isinstance(n, Var)}
    types.update({n.var: index for n in walk(node) if isinstance(n, For)})
    return types


def loop_ranges(stmts: Iterable[Stmt]) -> dict[Sym, tuple[int, int] | None]:
    """Every loop variable under ``stmts``: its least and greatest value when the loop has
    constant bounds and runs at least once, else ``None``."""
    out: dict[Sym, tuple[int, int] | None] = {}
    for loop in (n for s in stmts for n in walk(s) if isinstance(n, For)):
        trips = trip_count(loop)
        if not trips or not isinstance(loop.lo, Const):
            out[loop.var] = None
            continue
        first, last = int(loop.lo.value), int(loop.lo.value) + loop.step * (trips - 1)
        out[loop.var] = (min(first, last), max(first, last))
    return out


def accesses(stmts: Iterable[Stmt], sym: Sym) -> list[Load | Store]:
    """The loads and stores of array ``sym`` under ``stmts``, in program order."""
    return [n for s in stmts for n in walk(s) if isinstance(n, (Load, Store)) and n.buf == sym]


def scalars_written(stmts: Iterable[Stmt]) -> set[Sym]:
    """Scalars declared or assigned (also as call results) under ``stmts``."""
    out: set[Sym] = set()
    for n in (n for s in stmts for n in walk(s)):
        if isinstance(n, (Decl, Assign)):
            out.add(n.sym)
        elif isinstance(n, Call):
            out.update(n.results)
    return out


def ancestors(stmts: tuple[Stmt, ...], target: Stmt) -> list[Stmt] | None:
    """The statements enclosing ``target`` (found by identity), outermost first; ``None`` if
    ``target`` is not under ``stmts``."""
    for s in stmts:
        if s is target:
            return []
        if isinstance(s, (For, While)):
            bodies: tuple[tuple[Stmt, ...], ...] = (s.body,)
        elif isinstance(s, If):
            bodies = (s.then, s.orelse)
        else:
            continue
        for body in bodies:
            found = ancestors(body, target)
            if found is not None:
                return [s, *found]
    return None


def array_names(fn: Function) -> set[str]:
    """The names of the array parameters and local arrays of ``fn``."""
    names = {p.sym.name for p in fn.params if isinstance(p.type, ArrayType)}
    return names | {n.sym.name for n in walk(fn) if isinstance(n, Alloc)}


def unique_name(fn: Function, base: str) -> str:
    """``base``, or ``base_1``, ``base_2``, ... if ``fn`` already has an array of that name."""
    taken = array_names(fn)
    name, n = base, 0
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


def _returned(fn: Function) -> tuple[Expr, ...]:
    last = fn.body[-1] if fn.body else None
    return last.values if isinstance(last, Return) else ()


def linked_arrays(module: Module, fn: Function, sym: Sym) -> list[tuple[Function, Sym]]:
    """Array ``sym`` of ``fn`` and every array that is the same memory through calls: the
    parameter an array is passed to, the array a caller passes to a parameter, the local that
    receives a returned array and the array a callee returns. Breadth-first from ``sym``."""
    funcs = {f.sym: f for f in module.funcs}
    edges: dict[tuple[Sym, Sym], list[tuple[Sym, Sym]]] = {}

    def link(a: tuple[Sym, Sym], b: tuple[Sym, Sym]) -> None:
        edges.setdefault(a, []).append(b)
        edges.setdefault(b, []).append(a)

    for f in module.funcs:
        for call in (n for n in walk(f) if isinstance(n, Call)):
            callee = funcs[call.callee]
            for arg, param in zip(call.args, callee.params):
                if isinstance(arg, ArrayRef):
                    link((f.sym, arg.sym), (callee.sym, param.sym))
            for res, value in zip(call.results, _returned(callee)):
                if isinstance(value, ArrayRef):
                    link((f.sym, res), (callee.sym, value.sym))
    order, seen = [(fn.sym, sym)], {(fn.sym, sym)}
    for key in order:
        for nxt in edges.get(key, ()):
            if nxt not in seen:
                seen.add(nxt)
                order.append(nxt)
    return [(funcs[f], s) for f, s in order]


def same_function(fn: Function, loop_fn: Function, what: str, loop: object, loc: Loc | None):
    """Fail unless the array and the loop belong to the same function."""
    if fn.sym != loop_fn.sym:
        raise fail(
            f"array {what} belongs to {fn.sym.name}, but loop `{loop}` to {loop_fn.sym.name}",
            loc,
            hint=f"name a loop of {fn.sym.name}, e.g. `{fn.sym.name}:{getattr(loop, 'name', loop)}`",
        )


def check_accessible(loop: For, sym: Sym, verb: str, loc: Loc | None) -> None:
    """Fail if array ``sym`` is declared inside ``loop`` or passed to a call there."""
    for n in (n for s in loop.body for n in walk(s)):
        if isinstance(n, Alloc) and n.sym == sym:
            raise fail(f"cannot {verb} {sym.name}: it is declared inside loop `{loop.name}`", loc)
        if isinstance(n, Call) and any(isinstance(a, ArrayRef) and a.sym == sym for a in n.args):
            raise fail(
                f"cannot {verb} {sym.name} at loop `{loop.name}`: it is passed to "
                f"{n.callee.name} inside the loop",
                loc,
                n.loc,
            )


def index_forms(accs: list[Load | Store], loc: Loc | None) -> list[tuple[Affine, ...]]:
    """The affine forms of the indices of every access; fail on an index without one."""
    out = []
    for a in accs:
        forms = tuple(affine_of(i) for i in a.indices)
        if any(f is None for f in forms):
            raise fail(
                f"cannot analyse an index of {a.buf.name}: the indices must be sums of "
                "variables times constants",
                loc,
                a.loc,
            )
        out.append(forms)
    return out  # type: ignore[return-value]


def dim_slice(
    accs: list[Load | Store],
    forms: list[tuple[Affine, ...]],
    dim: int,
    loop: For,
    inner: Mapping[Sym, tuple[int, int] | None],
    loc: Loc | None,
) -> tuple[Affine, int, int]:
    """Dimension ``dim`` of the accesses ``accs`` (with index ``forms``) inside ``loop``:
    ``(outer, lo, hi)`` where every index is ``outer`` (the same in every access, no variable
    of a loop inside ``loop``) plus an inner part ranging over ``lo .. hi``."""
    written = scalars_written(loop.body)
    outer0: Affine | None = None
    lo, hi = None, None
    for a, f in zip(accs, forms):
        outer, part = f[dim].split(inner)
        for sym, _ in outer.terms:
            if sym in written:
                raise fail(
                    f"an index of {a.buf.name} uses `{sym.name}`, which changes inside loop "
                    f"`{loop.name}`",
                    loc,
                    a.loc,
                )
        if outer0 is not None and outer != outer0:
            raise fail(
                f"the accesses of {a.buf.name} inside loop `{loop.name}` differ along dimension "
                f"{dim + 1} by more than the loops inside it",
                loc,
                a.loc,
            )
        outer0 = outer
        for sym, _ in part.terms:
            if inner[sym] is None:
                raise fail(
                    f"loop `{sym.name}` inside `{loop.name}` must have constant bounds (and run)",
                    loc,
                    a.loc,
                )
        a_lo, a_hi = part.bounds(inner)  # type: ignore[arg-type]
        lo = a_lo if lo is None else min(lo, a_lo)
        hi = a_hi if hi is None else max(hi, a_hi)
    return outer0, lo, hi  # type: ignore[return-value]


def declare_before(fn: Function, path: list[Stmt], alloc: Alloc) -> Function:
    """``fn`` with ``alloc`` inserted before the outermost loop of ``path`` (the statements
    enclosing a loop, and the loop, outermost first) that is in the band of the last one."""
    band = path[-1].band  # type: ignore[union-attr]
    root = next(s for s in path if isinstance(s, For) and s.band == band)
    return replace(fn, body=map_stmts(fn.body, lambda s: (alloc, s) if s is root else s))


def fresh_loop_names(fn: Function, bases: list[str]) -> list[str]:
    """``bases`` made distinct from each other and from the loop names of ``fn`` (``x_shift``,
    then ``x_shift_1``, ...), so that new loops can be named in later primitives."""
    taken = {n.name for n in walk(fn) if isinstance(n, For)}
    out = []
    for base in bases:
        name, n = base, 0
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        out.append(name)
    return out


def copy_nest(
    dims: list[tuple[str, int]],
    make_body: Callable[[list[Sym]], tuple[Stmt, ...]],
    template: For,
    innermost: tuple[tuple[str, object], ...] = (),
    every: tuple[tuple[str, object], ...] = (),
) -> tuple[Stmt, ...]:
    """Loops ``for <name> in range(0, <extent>)`` (variables named like the loops), nested in
    the order of ``dims`` around ``make_body(variables)``, in the band of ``template``. The
    attributes ``every`` go on each loop, ``innermost`` also on the innermost one."""
    syms = [Sym(name) for name, _ in dims]
    body = make_body(syms)
    for n in reversed(range(len(dims))):
        name, extent = dims[n]
        lo, hi = Const(0, index, template.loc), Const(extent, index, template.loc)
        attrs = tuple(
            sorted({**dict(every), **dict(innermost if n == len(dims) - 1 else ())}.items())
        )
        body = (For(syms[n], lo, hi, 1, body, name, template.band, "range", attrs, template.loc),)
    return body


def dim_names(loop: For, forms: list[tuple[Affine, ...]], dims: Iterable[int]) -> list[str]:
    """For each dimension in ``dims``: the name of the first loop inside ``loop`` whose
    variable indexes it in the accesses with index ``forms`` (``dim<n>`` if none does)."""
    loops = {n.var: n.name for s in loop.body for n in walk(s) if isinstance(n, For)}
    names = []
    for d in dims:
        found = (loops[s] for f in forms for s, _ in f[d].terms if s in loops)
        names.append(next(found, f"dim{d + 1}"))
    return names


def buffer_indices(
    access: Load | Store,
    inner: Mapping[Sym, object],
    slices: list[tuple[Affine, int, int]],
    kept: list[int],
    types: Mapping[Sym, AlloType],
) -> tuple[Expr, ...]:
    """The indices into a buffer that holds, for each dimension ``d`` in ``kept``, the indices
    ``outer + lo ..`` of ``slices[d] = (outer, lo, hi)``, of the element ``access`` reaches: the
    part of its index that varies with the loops ``inner``, minus ``lo`` (``[0]`` if no
    dimension is kept)."""
    forms = index_forms([access], None)[0]
    parts = [forms[d].split(inner)[1] + Affine((), -slices[d][1]) for d in kept]
    idx = tuple(index_expr(p, types, access.loc) for p in parts)
    return idx or (Const(0, index, access.loc),)
