"""Pipelined loop nests -> modulo-scheduled :class:`Pipeline` controllers.

A loop marked ``pipeline`` is flattened with the loops around it that form a semi-perfect nest
(constant bounds; a body of straight-line statements, one loop, straight-line statements): the
nest runs as one stream of iterations, one issued every II cycles by odometer counters. The
statements before an inner loop run in the iteration where every inner counter is at its first
value, those after it where they are at their last value (guards), so consecutive outer
iterations overlap the pipeline's fill and drain. With ``rewind``, an innermost loop with
run-time bounds is flattened too when its bounds are affine in the outer loops' variables and
no run is empty (``_rewound``); its first and last iterations are then tests against those
bounds.

The body (inner loops already unrolled) is executed symbolically: scalars become expressions
over the iteration's values, loads and multiplies become timed operations (a load's data and a
product arrive one cycle later), ``if`` becomes guards. Operations are modulo-scheduled as soon
as their operands allow, on one read and one write port per array per II-slot; the smallest II
that satisfies the loop-carried dependences (scalars kept in registers, and memory accesses at a
known iteration distance) is chosen, and the reasons an II was rejected are kept for reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from .._errors import LoweringError
from ..ir._fold import const_int, loop_range, trip_count
from ..ir._nodes import (
    EXPR_TYPES,
    Alloc,
    Assign,
    Binary,
    Cast,
    Const,
    Decl,
    Expr,
    For,
    If,
    Load,
    Select,
    Stmt,
    Store,
    StreamGet,
    StreamPut,
    Sym,
    Unary,
    Var,
    children,
    read_vars,
    walk,
)
from ..ir._rewrite import map_operands, shape_key
from ..ir.types import UInt, index
from ..primitives._access import affine_of
from ._banks import static_bank
from ._float import unit_key
from ._fsmd import Level, Pipeline, PipeOp
from ._timing import is_product
from ._unroll import straight

__all__ = ["build_pipeline", "pipeline_nest"]

_BOOL = UInt(1)
_MAX_II = 64


def pipeline_nest(loop: For) -> list[tuple[For, tuple, tuple]] | None:
    """The semi-perfect nest from ``loop`` down to a pipelined loop, as (loop, before, after)
    per level, or ``None`` when ``loop`` does not start one."""
    trips = trip_count(loop)
    if trips is None or trips < 1:
        return [(loop, (), ())] if dict(loop.attrs).get("pipeline") and trips is None else None
    if dict(loop.attrs).get("pipeline"):
        return [(loop, (), ())]
    loops = [n for n, s in enumerate(loop.body) if isinstance(s, For)]
    if len(loops) != 1:
        return None
    n = loops[0]
    before, inner, after = loop.body[:n], loop.body[n], loop.body[n + 1 :]
    if not (straight(before) and straight(after)):
        return None
    rest = pipeline_nest(inner)  # type: ignore[arg-type]
    if rest is None:
        return None
    nest = [(loop, before, after), *rest]
    if trip_count(rest[-1][0]) is None and not _rewound(nest):
        return None
    return nest


def _rewound(nest: list[tuple[For, tuple, tuple]]) -> bool:
    """Whether the nest may be flattened although its pipelined loop has run-time bounds:
    the loop asks for ``rewind``, its bounds are affine in the variables of the loops around
    it in the nest (constant bounds), and every run has at least one iteration (so the
    statements pinned to its first and last iteration run once per outer iteration), e.g.
    ``for i in range(N): for j in range(i, N)``."""
    inner = nest[-1][0]
    if not dict(inner.attrs).get("rewind") or inner.step == 0:
        return False
    ranges = {}
    for loop, _, _ in nest[:-1]:
        values = loop_range(loop)
        if not values:
            return False
        ranges[loop.var] = (min(values[0], values[-1]), max(values[0], values[-1]))
    lo, hi = affine_of(inner.lo), affine_of(inner.hi)
    if lo is None or hi is None or any(s not in ranges for s, _ in (*lo.terms, *hi.terms)):
        return False
    width = hi + lo.scale(-1) if inner.step > 0 else lo + hi.scale(-1)
    return width.bounds(ranges)[0] >= 1


@dataclass
class _Builder:
    """Symbolic execution of one iteration of the flattened body."""

    levels: list[Level]
    memories: dict = field(default_factory=dict)
    residues: dict = field(default_factory=dict)
    model: Any = None  # the TargetModel: delays and multiply latency
    ops: list[PipeOp] = field(default_factory=list)
    env: dict[Sym, Expr] = field(default_factory=dict)
    temps: dict[Sym, Any] = field(default_factory=dict)  # temp -> producing op
    delays: dict = field(default_factory=dict)  # temp -> delay of its value (ns)
    in_index: bool = False  # rewriting an address: no pipeline registers
    known: dict[tuple, Expr] = field(default_factory=dict)  # (array, index key) -> value
    indices: dict[tuple, tuple] = field(default_factory=dict)  # (array, index key) -> indices
    pin: str | None = None
    memo: dict = field(default_factory=dict)  # (what, id(node)) -> (node, result)
    delay_memo: dict = field(default_factory=dict)  # id(node) -> (node, delay), for model.delay

    def rewrite(self, e: Expr) -> Expr:
        if isinstance(e, Var):
            return self.env.get(e.sym, e)
        if isinstance(e, Load):
            return self.load(e)
        if _wraps_product(e):  # int32(c + a * b): only the low 32 bits of a * b are needed
            e = _narrow(e.operand, e.type)  # type: ignore[attr-defined]
        e = map_operands(e, self.rewrite)
        value = const_int(e) if not isinstance(e, Const) else None
        if value is not None:  # folded, so that equal addresses compare equal
            return Const(value, e.type, e.loc)
        if is_product(e):
            if self.model is not None and self.model.registered_mul_operands:
                e = replace(e, lhs=self.registered(e.lhs), rhs=self.registered(e.rhs))
            return self.timed("mul", e, None, (), None)
        if (
            unit_key(e, self.model) is not None
        ):  # operands from registers: a unit's first stage is long
            if self.model is not None and self.model.registered_mul_operands:
                e = map_operands(e, self.unit_operand)
            return self.timed("unit", e, None, (), None)
        return self.within_clock(e)

    def within_clock(self, e: Expr) -> Expr:
        """``e``, with pipeline registers on its operands when its estimated delay would
        exceed the clock budget. Operands that read a register carried from the previous
        iteration (``acc`` in ``acc + x``) are not registered whole, which would lengthen the
        recurrence; the registers go on their parts that do not read it (the guard ``k == 0``
        of ``select(k == 0, 0, acc)``)."""
        if self.model is None or self.in_index:
            return e
        if self.delay(e) <= self.model.budget_ns:
            return e
        return self.cut(e)

    def delay(self, e: Expr) -> float:
        return self.model.delay(e, self.delays, self.delay_memo)

    def memoised(self, what: str, e: Expr, compute: Any) -> Any:
        """``compute(e)``, once per node and ``what``: forwarded values make expressions
        DAGs that share subtrees, which a plain recursion would visit once per path."""
        hit = self.memo.get((what, id(e)))
        if hit is not None and hit[0] is e:
            return hit[1]
        out = compute(e)
        self.memo[(what, id(e))] = (e, out)
        return out

    def cut(self, e: Expr) -> Expr:
        return self.memoised("cut", e, self._cut)

    def _cut(self, e: Expr) -> Expr:
        changes: dict[str, Any] = {}
        for f in fields(e):  # type: ignore[arg-type]
            child = getattr(e, f.name)
            if isinstance(child, Var) and self.late(child):
                changes[f.name] = self.timed("reg", child, None, (), None)
            elif isinstance(child, EXPR_TYPES) and not isinstance(child, (Const, Var)):
                # a part that reads the carried value stays in the cycle (registering it would
                # lengthen the recurrence and raise the II); its other parts are registered
                if self.carried(child):
                    changes[f.name] = self.cut(child)
                else:
                    changes[f.name] = self.timed("reg", child, None, (), None)
        return replace(e, **changes) if changes else e

    def carried(self, e: Expr) -> bool:
        """``e`` reads a scalar register of the loop (not a value of this iteration)."""
        return self.memoised("carried", e, self._carried)

    def _carried(self, e: Expr) -> bool:
        if isinstance(e, Var):
            return e.sym not in self.temps and e.sym not in {lv.var for lv in self.levels}
        return any(self.carried(c) for c in children(e))

    def registered(self, e: Expr) -> Expr:
        """``e`` from a register: itself if it has no logic delay, else a pipeline register."""
        if self.in_index or self.delay(e) == 0:
            return e
        if isinstance(e, Cast) and e.type.bits >= e.operand.type.bits:
            return replace(e, operand=self.registered(e.operand))  # register the narrow value
        return self.timed("reg", e, None, (), None)

    def unit_operand(self, e: Expr) -> Expr:
        """An operand of a unit from a register, except the parts that read a value carried
        from the previous iteration (``acc`` in ``select(k == 0, 0, acc)``): registering those
        would lengthen the recurrence by a cycle (and stop its forwarding)."""
        if self.carried(e) and not isinstance(e, (Const, Var)):
            return self.cut(e)
        return self.registered(e)

    def write_data(self, value: Expr) -> Expr:
        """A store's value; read data stored elsewhere (as a reuse buffer does) come from a
        pipeline register when they are ``late`` for the write multiplexer in front of the
        memory or register."""
        if self.model is None or not isinstance(value, Var) or not self.late(value):
            return value
        return self.timed("reg", value, None, (), None)

    def late(self, v: Var) -> bool:
        """Read data that leave no room for even one LUT in their cycle (ECP5 block RAM at
        100 MHz: 7 ns of a 7 ns budget); they are registered before any logic."""
        return self.delays.get(v.sym, 0.0) + self.model.lut_ns > self.model.budget_ns

    def index(self, indices: tuple[Expr, ...]) -> tuple[Expr, ...]:
        outer, self.in_index = self.in_index, True
        try:
            return tuple(self.rewrite(i) for i in indices)
        finally:
            self.in_index = outer

    def load(self, e: Load) -> Expr:
        """The element's value: known from an earlier load or store of this iteration (store
        to load forwarding), else a new load."""
        idx = self.index(e.indices)
        key = (e.buf, shape_key(idx))
        if key not in self.known:
            self.known[key] = self.timed("load", e, e.buf, idx, None)
            self.indices[key] = idx
        return self.known[key]

    def distinct(self, buf: Sym, a: tuple, b: tuple) -> bool:
        """Whether indices ``a`` and ``b`` of ``buf`` never address the same element."""
        ba, bb = self.bank(buf, a), self.bank(buf, b)
        if ba is not None and bb is not None and ba != bb:
            return True
        return any(
            isinstance(x, Const) and isinstance(y, Const) and x.value != y.value
            for x, y in zip(a, b)
        )

    def stored(self, buf: Sym, idx: tuple, value: Expr, guard: Expr | None) -> None:
        key = (buf, shape_key(idx))
        old = self.known.get(key)
        for other in [k for k in self.known if k[0] == buf and k != key]:
            if not self.distinct(buf, self.indices[other], idx):
                del self.known[other]
        self.indices[key] = idx
        if guard is None:
            self.known[key] = value
        elif old is not None:
            self.known[key] = Select(guard, value, old, value.type, value.loc)
        else:
            self.known.pop(key, None)

    def bank(self, buf: Sym, idx: tuple) -> int | None:
        mem = self.memories[buf]
        return static_bank(idx, mem.type, mem.layout, self.residues)

    def timed(self, kind: str, e: Expr, buf: Sym | None, idx: tuple, guard: Expr | None) -> Var:
        sym = Sym(f"{kind}{len(self.ops)}")
        value = e if kind in ("mul", "reg", "unit") else None
        bank = self.bank(buf, idx) if buf is not None else 0
        latency = 0 if buf is not None and self.memories[buf].registers else 1
        if kind == "mul" and self.model is not None:
            bits = max(e.lhs.type.bits, e.rhs.type.bits)  # type: ignore[attr-defined]
            latency = self.model.mul_latency(bits)
        unit = unit_key(e, self.model) if kind == "unit" else None
        if unit is not None:
            latency = unit.latency
        if kind == "load" and latency and self.model is not None:
            self.delays[sym] = self.model.bram_ns  # block RAM clock-to-output
        op = PipeOp(
            kind, sym, buf, idx, value, guard, e.type, self.pin, e.loc, bank, latency, unit=unit
        )
        self.ops.append(op)
        self.temps[sym] = op
        return Var(sym, e.type, e.loc)

    def block(self, stmts: tuple[Stmt, ...], guard: Expr | None) -> None:
        for s in stmts:
            self.stmt(s, guard)

    def stream(
        self, kind: str, stream: Sym, value: Expr | None, t: Any, guard: Any, loc: Any
    ) -> Var:
        """A stream transfer: ``get`` (its value, available in its own cycle) or ``put``."""
        sym = Sym(f"{kind}{len(self.ops)}")
        op = PipeOp(kind, sym, None, (), value, guard, t, self.pin, loc, 0, 0, stream=stream)
        self.ops.append(op)
        self.temps[sym] = op
        if kind == "get" and self.model is not None:  # a FIFO's read data, then a hold mux
            self.delays[sym] = self.model.fifo_ns
        return Var(sym, t, loc)

    def stmt(self, s: Stmt, guard: Expr | None) -> None:
        if isinstance(s, StreamPut):
            value = self.rewrite(s.value)
            self.stream("put", s.stream, value, value.type, guard, s.loc)
        elif isinstance(s, (Assign, Decl)):
            if isinstance(s, Decl) and s.init is None:
                return
            init = s.value if isinstance(s, Assign) else s.init
            if isinstance(init, StreamGet):
                value = self.stream("get", init.stream, None, init.type, guard, init.loc)
            else:
                value = self.rewrite(init)  # type: ignore[arg-type]
            if guard is not None:
                value = Select(
                    guard,
                    value,
                    self.env.get(s.sym, Var(s.sym, value.type, s.loc)),
                    value.type,
                    s.loc,
                )
            self.env[s.sym] = value
        elif isinstance(s, Store):
            idx = self.index(s.indices)
            value = self.write_data(self.rewrite(s.value))
            bank = self.bank(s.buf, idx)
            if guard is not None and self.memories[s.buf].registers:
                # a register is read for free: its value before the store is known, so later
                # reads are forwarded (``guard ? value : old``) and do not keep the store alive
                self.load(Load(s.buf, s.indices, value.type, s.loc))
            op = PipeOp("store", None, s.buf, idx, value, guard, None, self.pin, s.loc, bank)
            self.ops.append(op)
            self.stored(s.buf, idx, value, guard)
        elif isinstance(s, If):
            cond = self.rewrite(s.cond)
            neg = Unary("not", cond, _BOOL, s.loc)
            self.block(s.then, cond if guard is None else _and(guard, cond))
            self.block(s.orelse, neg if guard is None else _and(guard, neg))
        elif isinstance(s, Alloc):
            return
        else:
            raise LoweringError(
                f"{type(s).__name__.lower()} statements are not supported inside a pipelined loop",
                s.loc,
                "move it out of the pipelined loop nest",
            )


def _const(e: Expr) -> bool:
    return isinstance(e, Const)


def _and(a: Expr, b: Expr) -> Expr:
    return Binary("land", a, b, _BOOL, a.loc)


def _pin_guard(levels: list[Level], which: str, loc: Any) -> Expr:
    guard: Expr | None = None
    for lv in levels:
        var = Var(lv.var, index, loc)
        if lv.trips is None:  # a rewound level: its run-time bounds
            test = _run_time_pin(lv, var, which, loc)
        else:
            value = lv.lo if which == "first" else lv.lo + (lv.trips - 1) * lv.step
            test = Binary("eq", var, Const(value, index, loc), _BOOL, loc)
        guard = test if guard is None else _and(guard, test)
    assert guard is not None
    return guard


def _run_time_pin(lv: Level, var: Var, which: str, loc: Any) -> Expr:
    """``var == lo`` (first iteration), or ``var + step >= hi`` (``<=`` for a negative step:
    the last one) of a level with run-time bounds."""
    if which == "first":
        lo = lv.lo_expr if lv.lo_expr is not None else Const(lv.lo, index, loc)
        return Binary("eq", var, _as_index(lo), _BOOL, loc)
    step = Const(lv.step, index, loc)
    nxt = Binary("add", var, step, index, loc)
    return Binary("ge" if lv.step > 0 else "le", nxt, _as_index(lv.hi_expr), _BOOL, loc)


def _as_index(e: Any) -> Expr:
    return e if e.type == index else Cast(e, index, e.loc)


def _level(loop: For, counter_type: Any) -> Level:
    """The level of ``loop``; run-time bounds are read when the pipeline starts."""
    values = loop_range(loop)
    if values is not None:
        return Level(loop.var, values.start, loop.step, len(values), counter_type(loop))
    for bound in (loop.lo, loop.hi):
        if any(isinstance(n, Load) for n in walk(bound)):
            raise LoweringError(
                f"the bounds of pipelined loop `{loop.name}` read an array",
                loop.loc,
                "read the bound into a scalar before the loop",
            )
    lo = const_int(loop.lo)
    lo_expr = None if lo is not None else loop.lo
    return Level(loop.var, lo or 0, loop.step, None, index, lo_expr, loop.hi)


def build_pipeline(
    nest: list[tuple[For, tuple, tuple]],
    counter_type: Any,
    memories: dict,
    residues: dict,
    model: Any = None,
) -> Pipeline:
    """Flatten, execute symbolically and modulo-schedule the nest."""
    levels = [_level(loop, counter_type) for loop, _, _ in nest]
    known = {
        lv.var: (abs(lv.step), lv.lo % abs(lv.step))
        + ((lv.lo, lv.lo + (lv.trips - 1) * lv.step) if lv.trips else ())
        for lv in levels
        if lv.lo_expr is None
    }
    residues = {**residues, **known}
    b = _Builder(levels, memories, residues, model)
    for depth, (loop, before, _) in enumerate(nest):
        if before:
            b.pin = "first"
            b.block(before, _pin_guard(levels[depth + 1 :], "first", loop.loc))
    b.pin = None
    b.block(nest[-1][0].body, None)
    for depth in reversed(range(len(nest))):
        loop, _, after = nest[depth]
        if after:
            b.pin = "last"
            b.block(after, _pin_guard(levels[depth + 1 :], "last", loop.loc))
    for sym, value in b.env.items():
        b.ops.append(PipeOp("set", sym, None, (), value, None, value.type, None, value.loc))
    b.ops = _live(_without_dead_stores(b.ops, b))
    inner = nest[-1][0]
    requested = int(dict(inner.attrs).get("pipeline", 1))
    from ._modulo import modulo_schedule

    banks = {sym: mem.banks for sym, mem in memories.items()}
    dual = frozenset(sym for sym, mem in memories.items() if mem.dual)
    return modulo_schedule(b.ops, levels, requested, inner, banks, dual)


def _covers(later: PipeOp, op: PipeOp) -> bool:
    """Whether store ``later`` writes whenever store ``op`` does (same element assumed)."""
    if later.pin != op.pin:
        return False
    return later.guard is None or (
        op.guard is not None and shape_key(later.guard) == shape_key(op.guard)
    )


def _without_dead_stores(ops: list[PipeOp], b: _Builder) -> list[PipeOp]:
    """``ops`` without the stores that a later store of the iteration overwrites with no
    memory read of the element in between (the reads after a store are forwarded from its
    value). An unrolled shift register (``w[0] = w[1]; w[1] = w[2]; w[2] = x`` twice) then
    writes each element once per iteration, so one write port per bank keeps II=1."""
    dead: set[int] = set()
    for n, op in enumerate(ops):
        if op.kind != "store":
            continue
        key = shape_key(op.indices)
        for later in ops[n + 1 :]:
            if later.buf != op.buf:
                continue
            if later.kind == "load" and not b.distinct(op.buf, later.indices, op.indices):
                break
            if later.kind == "store" and shape_key(later.indices) == key and _covers(later, op):
                dead.add(n)
                break
    return [op for n, op in enumerate(ops) if n not in dead]


def _live(ops: list[PipeOp]) -> list[PipeOp]:
    """``ops`` without loads and computations whose value no remaining operation uses."""
    while True:
        used = read_vars(p for op in ops for p in (op.value, op.guard, *op.indices))
        keep = [op for op in ops if op.kind not in _PURE or op.sym in used]
        if len(keep) == len(ops):
            return ops
        ops = keep


_PURE = frozenset({"load", "mul", "reg", "unit"})


def _plain(t: Any) -> bool:
    return not t.is_float and not t.fracs


def _has_product(e: Expr) -> bool:
    if isinstance(e, Cast):
        return _has_product(e.operand)
    if not isinstance(e, Binary) or e.op not in ("add", "sub", "mul"):
        return False
    if e.op == "mul" and not _const(e.lhs) and not _const(e.rhs):
        return True
    return _has_product(e.lhs) or _has_product(e.rhs)


def _wraps_product(e: Expr) -> bool:
    """``e`` narrows an integer sum or product of products (``int32(c + a * b)``)."""
    return (
        isinstance(e, Cast)
        and _plain(e.type)
        and _plain(e.operand.type)
        and e.type.bits < e.operand.type.bits
        and _has_product(e.operand)
    )


def _narrow(e: Expr, t: Any) -> Expr:
    """``e`` computed modulo ``2**t.bits`` as type ``t``: the low bits of sums, differences and
    products depend only on the low bits of their operands."""
    if isinstance(e, Binary) and e.op in ("add", "sub", "mul") and _plain(e.type):
        return replace(e, lhs=_narrow(e.lhs, t), rhs=_narrow(e.rhs, t), type=t)
    if isinstance(e, Cast) and _plain(e.operand.type) and e.operand.type.bits >= t.bits:
        return _narrow(e.operand, t)
    if e.type == t:
        return e
    return Cast(e, t, e.loc)
