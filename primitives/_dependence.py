"""Exact dependence analysis for the loop primitives that change execution order (``reorder``,
``compute_at``).

An :class:`Access` is one read or write of an array element or a scalar in the analysed
statements, with the loops and ``if`` conditions around it. ``conflict(a, b, relate)`` asks
whether some execution of ``a`` and some execution of ``b`` touch the same element while their
loop counters satisfy ``relate`` (e.g. "``b`` runs in a later iteration of ``i`` and an earlier
one of ``j``"). The question becomes a system of integer constraints (``_intsolver``):

- each loop around an access gets a counter ``m`` (``0 .. trips-1`` for constant bounds) and its
  variable is ``lo + step * m``; bounds that are affine in outer loop variables and loop
  invariants become constraints, other bounds leave the counter free (a superset: sound);
- an index or bound is *affine* when built from loop variables, integer constants, ``+ - *`` by
  a constant, negation and integer casts that cannot wrap (checked on the value ranges);
  a non-affine expression that the analysed code cannot change (it reads no variable or array
  written there) is one shared unknown; any other expression is a fresh unknown;
- indices lie within the array's extent (the NumPy target refuses other indices), and affine
  ``if`` conditions (``<``, ``<=``, ``>``, ``>=``, ``==``, ``and``, ``not``) hold on the path.

A scalar is an element without indices; a whole array passed to a call is every element (read
and written). So the answer is exact for affine accesses under constant bounds, and
conservative (reports a possible conflict) otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
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
    ConstArray,
    Decl,
    Expr,
    For,
    Function,
    If,
    Load,
    Return,
    Stmt,
    Store,
    Sym,
    Unary,
    Var,
    While,
    walk,
)
from ..ir._rewrite import transform
from ..ir.types import ArrayType, index
from ._attrs import trip_count
from ._intsolver import Lin, System, feasible
from ._nest import loop_path, mentioned, nodes

__all__ = [
    "Access",
    "Scope",
    "accesses",
    "array_shapes",
    "conflict",
    "directions",
    "private",
    "scope",
]

_NEGATE = {"lt": "ge", "le": "gt", "gt": "le", "ge": "lt", "eq": "ne", "ne": "eq"}


@dataclass(frozen=True)
class Access:
    """One read or write: ``indices`` is ``()`` for a scalar, ``None`` for a whole array."""

    sym: Sym
    indices: tuple[Expr, ...] | None
    write: bool
    loops: tuple[For, ...]
    conds: tuple[tuple[Expr, bool], ...]
    loc: Loc

    @property
    def kind(self) -> str:
        return "write" if self.write else "read"


def array_shapes(fn: Function) -> dict[Sym, tuple[int, ...]]:
    """The shape of every array of ``fn`` (parameters and locals)."""
    shapes = {p.sym: p.type.shape for p in fn.params if isinstance(p.type, ArrayType)}
    shapes.update({n.sym: n.type.shape for n in walk(fn) if isinstance(n, Alloc)})
    return shapes


def accesses(
    stmts: tuple[Stmt, ...], loops: tuple[For, ...] = (), conds: tuple = ()
) -> list[Access]:
    """Every access of ``stmts`` in program order; ``loops`` and ``conds`` enclose them."""
    out: list[Access] = []
    for s in stmts:
        _stmt(s, loops, conds, out)
    return out


def _reads(e: object, loops: tuple[For, ...], conds: tuple, out: list[Access]) -> None:
    loop_vars = {loop.var for loop in loops}
    for n in nodes(e):
        if isinstance(n, Load):
            out.append(Access(n.buf, n.indices, False, loops, conds, n.loc))
        elif isinstance(n, Var) and n.sym not in loop_vars:
            out.append(Access(n.sym, (), False, loops, conds, n.loc))
        elif isinstance(n, ArrayRef):
            out.append(Access(n.sym, None, False, loops, conds, n.loc))


def _stmt(s: Stmt, loops: tuple[For, ...], conds: tuple, out: list[Access]) -> None:
    def write(sym: Sym, indices: tuple[Expr, ...] | None) -> None:
        out.append(Access(sym, indices, True, loops, conds, s.loc))

    if isinstance(s, For):
        _reads((s.lo, s.hi), loops, conds, out)
        out.extend(accesses(s.body, (*loops, s), conds))
    elif isinstance(s, If):
        _reads(s.cond, loops, conds, out)
        out.extend(accesses(s.then, loops, (*conds, (s.cond, True))))
        out.extend(accesses(s.orelse, loops, (*conds, (s.cond, False))))
    elif isinstance(s, While):
        _reads(s.cond, loops, conds, out)
        out.extend(accesses(s.body, loops, conds))
    elif isinstance(s, Store):
        _reads((s.indices, s.value), loops, conds, out)
        write(s.buf, s.indices)
    elif isinstance(s, (Assign, Decl)):
        value = s.value if isinstance(s, Assign) else s.init
        if value is not None:
            _reads(value, loops, conds, out)
            write(s.sym, ())
    elif isinstance(s, Alloc):
        if not isinstance(s.init, ConstArray) and s.init is not None:
            _reads(s.init, loops, conds, out)
        write(s.sym, None)
    elif isinstance(s, Call):
        _reads(tuple(a for a in s.args if not isinstance(a, ArrayRef)), loops, conds, out)
        for a in s.args:
            if isinstance(a, ArrayRef):
                out.append(Access(a.sym, None, False, loops, conds, a.loc))
                write(a.sym, None)
        for r in s.results:
            write(r, ())
    elif isinstance(s, Return):
        _reads(s.values, loops, conds, out)


def private(body: tuple[Stmt, ...]) -> set[Sym]:
    """Scalars and arrays that every execution of ``body`` writes before it reads them (no
    read is upward exposed): their values never flow between executions of ``body``. A store
    writes one element only, so an array is private only after a declaration in ``body``."""
    exposed, _ = _exposed(body)
    return mentioned(body) - exposed


def _exposed(stmts: tuple[Stmt, ...]) -> tuple[set[Sym], set[Sym]]:
    """(symbols ``stmts`` may read before writing them, symbols it surely writes)."""
    exposed: set[Sym] = set()
    done: set[Sym] = set()
    for s in stmts:
        reads, writes = _uses(s)
        exposed |= reads - done
        done |= writes
    return exposed, done


def _uses(s: Stmt) -> tuple[set[Sym], set[Sym]]:
    """The upward-exposed reads and the sure writes of one statement."""
    if isinstance(s, If):
        then, orelse = _exposed(s.then), _exposed(s.orelse)
        return _read(s.cond) | then[0] | orelse[0], then[1] & orelse[1]
    if isinstance(s, (For, While)):
        head = (s.lo, s.hi) if isinstance(s, For) else s.cond
        inner, writes = _exposed(s.body)
        runs = isinstance(s, For) and (trip_count(s) or 0) > 0
        return _read(head) | inner, writes if runs else set()
    if isinstance(s, (Assign, Decl, Alloc)):
        value = s.value if isinstance(s, Assign) else s.init
        if isinstance(s, Decl) and value is None:
            return set(), set()
        return _read(None if isinstance(value, ConstArray) else value), {s.sym}
    if isinstance(s, Store):
        return _read((s.indices, s.value)) | {s.buf}, set()
    if isinstance(s, Call):
        return _read(s.args), set(s.results)
    return _read(s.values) if isinstance(s, Return) else set(), set()


def _read(tree: object) -> set[Sym]:
    out: set[Sym] = set()
    for n in nodes(tree):
        if isinstance(n, (Var, ArrayRef)):
            out.add(n.sym)
        elif isinstance(n, Load):
            out.add(n.buf)
    return out


def directions(system: System, a: list[Lin], b: list[Lin], dirs: dict[int, str]) -> None:
    """Constrain loop counters ``a`` against ``b``: ``"<"`` means ``a[k] < b[k]``."""
    for k, d in dirs.items():
        if d == "=":
            system.eq(a[k] - b[k])
        elif d == "<":
            system.le(a[k] - b[k] + 1)
        elif d == ">":
            system.le(b[k] - a[k] + 1)


@dataclass(frozen=True)
class Scope:
    """What a dependence question holds fixed: the loops around the analysed code (both
    executions run in the same iteration of those), the symbols the analysed code may change,
    and the shapes of the arrays."""

    outer: tuple[For, ...]
    written: frozenset[Sym]
    shapes: dict[Sym, tuple[int, ...]]


def scope(fn: Function, root: Stmt, written: set[Sym]) -> Scope:
    """The scope of code at ``root`` (a statement of ``fn``) that may change ``written``."""
    path = loop_path(fn.body, root) or [root]
    outer = tuple(s for s in path[:-1] if isinstance(s, For))
    return Scope(outer, frozenset(written), array_shapes(fn))


def conflict(
    a: Access, b: Access, scope: Scope, relate: Callable[[System, list[Lin], list[Lin]], None]
) -> bool | None:
    """Whether executions of ``a`` and ``b`` with loop counters related by ``relate`` touch the
    same element (``None``: the analysis gave up, so they may)."""
    model = _Model(scope)
    counters_a, indices_a = model.instance(a)
    counters_b, indices_b = model.instance(b)
    relate(model.system, counters_a, counters_b)
    if indices_a is not None and indices_b is not None:
        for x, y in zip(indices_a, indices_b):
            model.system.eq(x - y)
    return feasible(model.system)


_IMIN, _IMAX = index.min_raw, index.max_raw


class _Model:
    """The integer variables of one dependence question and how IR values map onto them."""

    def __init__(self, scope: Scope) -> None:
        self.system = System()
        self.written = scope.written
        self.shapes = scope.shapes
        self.shared: dict[object, Lin] = {}
        self.outer: dict[Sym, Lin] = {}
        for loop in scope.outer:
            self.bind(loop, self.outer)

    def instance(self, access: Access) -> tuple[list[Lin], list[Lin] | None]:
        """One execution of ``access``: its loop counters and its indices."""
        env = dict(self.outer)
        counters = [self.bind(loop, env) for loop in access.loops]
        for cond, taken in access.conds:
            self.condition(cond, taken, env)
        if access.indices is None:
            return counters, None
        shape = self.shapes.get(access.sym, ())
        return counters, [self.index(e, env, n) for e, n in zip(access.indices, shape)]

    def bind(self, loop: For, env: dict[Sym, Lin]) -> Lin:
        lo, hi = self.lin(loop.lo, env), self.lin(loop.hi, env)
        trips = trip_count(loop)
        if trips is not None:
            if trips == 0:
                self.system.le(Lin(None, 1))  # never runs
            counter = self.system.var(0, max(trips - 1, 0))
            env[loop.var] = counter * loop.step + int(loop.lo.value)  # type: ignore[union-attr]
            return counter
        counter = self.system.var(0, 1 << 32)
        value = (lo if lo is not None else self.system.var(_IMIN, _IMAX)) + counter * loop.step
        self.system.le(value - _IMAX)
        self.system.le(value * -1 + _IMIN)
        if hi is not None:
            self.system.le(value - hi + 1 if loop.step > 0 else hi - value + 1)
        env[loop.var] = value
        return counter

    def index(self, e: Expr, env: dict[Sym, Lin], extent: int) -> Lin:
        form = self.lin(e, env)
        if form is None:
            return self.system.var(0, extent - 1)
        self.system.le(form * -1)
        self.system.le(form - (extent - 1))
        return form

    def condition(self, cond: Expr, taken: bool, env: dict[Sym, Lin]) -> None:
        if isinstance(cond, Unary) and cond.op == "not":
            self.condition(cond.operand, not taken, env)
            return
        if not isinstance(cond, Binary):
            return
        if cond.op == ("land" if taken else "lor"):
            self.condition(cond.lhs, taken, env)
            self.condition(cond.rhs, taken, env)
            return
        op = cond.op if taken else _NEGATE.get(cond.op)
        a, b = self.lin(cond.lhs, env), self.lin(cond.rhs, env)
        if op not in _NEGATE or a is None or b is None:
            return
        if op == "eq":
            self.system.eq(a - b)
        elif op != "ne":
            diff = a - b if op in ("lt", "le") else b - a
            self.system.le(diff + 1 if op in ("lt", "gt") else diff)

    def lin(self, e: Expr, env: dict[Sym, Lin]) -> Lin | None:
        """``e`` as an affine form, a shared unknown if invariant, else ``None``."""
        form = self.affine(e, env)
        if form is not None:
            return form
        if not (getattr(e, "type", None) is not None and e.type.is_integer):
            return None
        if any(
            (isinstance(n, Var) and (n.sym in env or n.sym in self.written))
            or (isinstance(n, Load) and n.buf in self.written)
            for n in walk(e)
        ):
            return None
        key = transform(e, lambda n: replace(n, loc=None))
        if key not in self.shared:
            self.shared[key] = self.system.var(e.type.min_raw, e.type.max_raw)
        return self.shared[key]

    def affine(self, e: Expr, env: dict[Sym, Lin]) -> Lin | None:
        form: Lin | None = None
        if isinstance(e, Const):
            return Lin(None, int(e.value)) if e.type.is_integer else None
        if isinstance(e, Var):
            return env.get(e.sym)
        if isinstance(e, Binary) and e.op in ("add", "sub", "mul"):
            a, b = self.lin(e.lhs, env), self.lin(e.rhs, env)
            if a is None or b is None:
                return None
            if e.op != "mul":
                form = a + b if e.op == "add" else a - b
            elif a.is_const or b.is_const:
                form = b * a.const if a.is_const else a * b.const
        elif isinstance(e, Unary) and e.op == "neg":
            operand = self.lin(e.operand, env)
            form = None if operand is None else operand * -1
        elif isinstance(e, Cast) and e.operand.type.is_integer:
            form = self.lin(e.operand, env)
        if form is None or not e.type.is_integer:
            return None
        lo, hi = self.system.range(form)
        return form if e.type.min_raw <= lo and hi <= e.type.max_raw else None
