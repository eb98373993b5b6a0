"""Modulo scheduling of one pipeline iteration (see ``_pipeline.py``).

Times are cycles after the iteration issued. A load's data and a product arrive one cycle after
the operation; other arithmetic is combinational in the cycle of its consumer. Each array has
one read and one write port: two accesses of one kind may not share a cycle modulo II. A scalar
written by the iteration is read by the next one ``II`` cycles later, so
``II >= write_time - read_time + 1``; a store and a load of the same address at iteration
distance ``d`` need ``load_time + d * II >= store_time + 1``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .._errors import InternalError
from ..ir._fold import affine_var
from ..ir._nodes import Binary, Const, Expr, For, Sym, Var, read_vars
from ..ir._rewrite import shape_key
from ._alias import UNDECIDED, min_distance
from ._fsmd import Level, Pipeline, PipeOp

__all__ = ["modulo_schedule", "reschedule"]

_MAX_II = 256
_ALIAS_LIMIT = 256


def _operands(op: PipeOp) -> set[Sym]:
    return read_vars([*op.indices, op.value, op.guard])


def _dim_var(e: Expr) -> Sym | None:
    """The loop variable ``v`` when ``e`` is ``a * v + c`` with ``a != 0`` (one-to-one)."""
    lin = affine_var(e)
    return lin[0] if lin is not None and lin[1] != 0 else None


def _may_alias(a: PipeOp, b: PipeOp) -> bool:
    """Whether two accesses of one array may touch the same element in one iteration."""
    if a.bank is not None and b.bank is not None and a.bank != b.bank:
        return False
    if all(isinstance(i, Const) for i in (*a.indices, *b.indices)):
        return shape_key(a.indices) == shape_key(b.indices)
    return True


def _distance(store: PipeOp, load: PipeOp, levels: tuple[Level, ...]) -> int | None:
    """Smallest iteration distance d at which ``load`` (in iteration n + d) may touch the
    element ``store`` (in iteration n) touched (``None``: never); both may be loads or
    stores. Exact for constant indices and for identical indices made of loop variables;
    otherwise 1 (may alias)."""
    if store.bank is not None and load.bank is not None and store.bank != load.bank:
        return None  # different banks never alias
    if shape_key(store.indices) != shape_key(load.indices):
        consts = [isinstance(i, Const) for i in (*store.indices, *load.indices)]
        return None if all(consts) else 1
    period = _period(store.indices, levels)
    if period is not None:
        return period
    dims = {_dim_var(i) for i in store.indices}
    outer = {lv.var for lv in levels[:-1]}
    inner = levels[-1].var
    if inner in dims:
        return None if outer <= dims else (levels[-1].trips or 1)  # run-time trips: 1
    if outer <= dims and (load.pin == "first" or store.pin == "last"):
        return None
    return 1


def _period(indices: tuple[Expr, ...], levels: tuple[Level, ...]) -> int | None:
    """``p`` when the only index is ``v % p`` or ``v & (p - 1)`` of an affine function ``v``
    of the innermost loop variable (the slots of ``reassociate``) and the flattened iterations
    revisit a slot exactly every ``p`` iterations; else ``None``."""
    if len(indices) != 1 or not isinstance(indices[0], Binary):
        return None
    e = indices[0]
    if not isinstance(e.rhs, Const) or e.op not in ("mod", "and"):
        return None
    p = int(e.rhs.value) + (1 if e.op == "and" else 0)
    if p < 1 or (e.op == "and" and p & (p - 1)) or _dim_var(e.lhs) != levels[-1].var:
        return None
    lin = affine_var(e.lhs)
    trips = levels[-1].trips
    if lin is None or abs(lin[1]) != 1:
        return None
    if len(levels) > 1 and (trips is None or trips % p):
        return None
    return p


def forwardable(op: PipeOp, ops: list[PipeOp] | tuple[PipeOp, ...]) -> bool:
    """Whether the value a ``set`` writes is forwarded to a read of the next iteration in the
    cycle of the write: when it is the result of a float unit or multiply (straight from its
    output register, so the forwarding multiplexer is the only logic it adds to the reader's
    path). Then a recurrence through it needs II >= write cycle - read cycle, not one more."""
    if op.kind != "set" or not isinstance(op.value, Var):
        return False
    return any(o.sym == op.value.sym and o.kind in ("unit", "mul") for o in ops)


class _Schedule:
    def __init__(
        self,
        ops: list[PipeOp],
        levels: tuple[Level, ...],
        ii: int,
        banks: dict[Sym, int],
        dual: frozenset[Sym] = frozenset(),
    ) -> None:
        self.ops, self.levels, self.ii, self.banks, self.dual = ops, levels, ii, banks, dual
        self.port_of = [0] * len(ops)  # which port of a dual-port memory an access uses
        self.temps = {
            op.sym: n
            for n, op in enumerate(ops)
            if op.kind in ("load", "mul", "reg", "unit", "get")
        }
        self.streams = [n for n, op in enumerate(ops) if op.kind in ("get", "put")]
        self.sets = {op.sym: n for n, op in enumerate(ops) if op.kind == "set"}
        self.times = [0] * len(ops)
        self.bounds: dict[int, int] = {}  # lower bounds found by resolving recurrences
        self.exact: dict[tuple[int, int], int | None] = {}  # exact distances of op pairs

    def avail(self, sym: Sym) -> int:
        n = self.temps.get(sym)
        return 0 if n is None else self.times[n] + self.ops[n].latency

    def earliest(self, n: int) -> int:
        op = self.ops[n]
        t = max([self.bounds.get(n, 0), *(self.avail(s) for s in _operands(op))])
        for m in range(n):
            other = self.ops[m]
            if other.buf is None or other.buf != op.buf or not _may_alias(other, op):
                continue
            if other.kind == "store":
                t = max(t, self.times[m] + 1)
            elif op.kind == "store":  # a dual-port read would see a write of its cycle
                t = max(t, self.times[m] + (op.buf in self.dual))
        return t

    def place(self) -> None:
        table: set[tuple[Sym, str, int]] = set()
        for n, op in enumerate(self.ops):
            if op.kind == "set":
                continue
            t = self.earliest(n)
            if op.kind in ("load", "store"):
                t, port, keys = self.free_port(table, op, t)
                table |= keys
                self.port_of[n] = port
            elif op.kind in ("get", "put"):  # program order, one transfer per stream and slot
                # not in the issue cycle: the stall logic then starts from registered stage
                # bits, not from the controller's state (a long path to every stage register)
                t = max([t, 1, *(self.times[m] for m in self.streams if m < n)])
                while (op.stream, t % self.ii) in table:
                    t += 1
                table.add((op.stream, t % self.ii))
            self.times[n] = t
        self.place_sets()

    def free_port(self, table: set, op: PipeOp, t: int) -> tuple[int, int, set]:
        """The first cycle from ``t`` with a free port for ``op``: (cycle, port, resources)."""
        while True:
            for port in (0, 1) if op.buf in self.dual else (0,):
                keys = self.ports(op, t, port)
                if table.isdisjoint(keys):
                    return t, port, keys
            t += 1

    def ports(self, op: PipeOp, t: int, port: int = 0) -> set:
        """The (array, port, bank, II-slot) resources ``op`` uses at time ``t``: the read or
        the write port, or read-write port ``port`` of a true dual-port memory."""
        if op.kind == "load" and op.latency == 0:
            return set()  # a register: any number of reads per cycle
        kind = f"rw{port}" if op.buf in self.dual else "r" if op.kind == "load" else "w"
        banks = range(self.banks.get(op.buf, 1)) if op.bank is None else (op.bank,)  # type: ignore[arg-type]
        return {(op.buf, kind, b, t % self.ii) for b in banks}

    def readers(self, sym: Sym) -> list[int]:
        return [n for n, op in enumerate(self.ops) if sym in _operands(op)]

    def place_sets(self) -> None:
        for n in self.sets.values():
            self.times[n] = self.earliest(n)
        changed = True
        while changed:
            changed = False
            for sym, n in self.sets.items():
                t = max([self.times[n], *(self.times[r] for r in self.readers(sym))])
                if t != self.times[n]:
                    self.times[n], changed = t, True

    def violations(self) -> list[tuple[str, int, int]]:
        """(reason, operation to start later, the cycle it must not start before)."""
        out = []
        for sym, n in self.sets.items():
            # a unit's result is forwarded to a read of the next iteration in the same cycle
            slack = 0 if forwardable(self.ops[n], self.ops) else 1
            for r in self.readers(sym):
                if self.times[n] - self.times[r] + slack > self.ii:
                    out.append((
                        f"`{sym.name}` is read in cycle {self.times[r]} of an iteration and "
                        f"written in cycle {self.times[n]}; the next iteration needs it "
                        f"{self.times[n] - self.times[r] + slack} cycles after the read",
                        r, -1,  # starting the read later delays the write as much
                    ))  # fmt: skip
        out += self.memory_order()
        out += self.stream_span()
        return out

    def stream_span(self) -> list[tuple[str, int, int]]:
        """The stream transfers of one iteration lie within II cycles (and in program order,
        see ``place``): then the transfers of overlapping iterations happen in program order
        up to transfers of the same cycle, and the pipeline can deadlock only where the
        sequential loop would (docs/dataflow.md)."""
        if not self.streams:
            return []
        last = max(self.times[n] for n in self.streams)
        out = []
        for n in self.streams:
            if self.times[n] < last - self.ii:
                op = self.ops[n]
                line = op.loc.line if op.loc else "?"
                out.append((
                    f"the stream transfers of an iteration span cycles {self.times[n]} to {last} "
                    f"(line {line}), more than the II",
                    n, last - self.ii,
                ))  # fmt: skip
        return out

    def distance(self, a: int, b: int) -> int | None:
        """``_distance`` of ops ``a`` and ``b``, raised to the exact affine distance where
        that applies (``_alias.py``, searched up to ``_ALIAS_LIMIT``; a dependence further
        apart cannot constrain an iteration shorter than that)."""
        x, y = self.ops[a], self.ops[b]
        d = _distance(x, y, self.levels)
        if d is None or max(self.times) >= _ALIAS_LIMIT:
            return d
        key = (a, b)
        if key not in self.exact:
            variant = {op.sym for op in self.ops if op.sym is not None}
            self.exact[key] = min_distance(x.indices, y.indices, self.levels, variant, _ALIAS_LIMIT)
        exact = self.exact[key]
        if exact == UNDECIDED:
            return d
        return None if exact is None else max(d, exact)

    def memory_order(self) -> list[tuple[str, int, int]]:
        """Accesses of one element in different iterations keep program order: with ``x`` in
        iteration n and ``y`` in iteration n + d, ``y`` must come after a store ``x`` (read
        after write, write after write) and not before a load ``x`` (write after read; on a
        dual-port memory not in its cycle either: a read sees the other port's write)."""
        out = []
        for a, x in enumerate(self.ops):
            for b, y in enumerate(self.ops):
                if x.buf is None or x.buf != y.buf or "store" not in (x.kind, y.kind):
                    continue
                if x.kind not in ("load", "store") or y.kind not in ("load", "store"):
                    continue
                d = self.distance(a, b)
                delta = 1 if x.kind == "store" or x.buf in self.dual else 0
                if d is None or self.times[b] + d * self.ii >= self.times[a] + delta:
                    continue
                line = x.loc.line if x.loc else "?"
                what = "written" if x.kind == "store" else "read"
                again = "read" if y.kind == "load" else "written"
                out.append((
                    f"array `{x.buf.name}` (line {line}) is {what} in cycle {self.times[a]} "  # type: ignore[union-attr]
                    f"and {again} again {d} iteration(s) later in cycle {self.times[b]} of that "
                    "iteration",
                    b, self.times[a] + delta - d * self.ii,
                ))  # fmt: skip
        return out

    def solve(self, rounds: int = 16) -> list[str]:
        """Place the operations, starting loads and reads of carried values later where a
        recurrence asks for it; returns the reasons this II fails (empty: it works)."""
        for _ in range(rounds):
            self.place()
            problems = self.violations()
            if not problems:
                return []
            moved = False
            for _, n, bound in problems:
                if bound > max(self.bounds.get(n, 0), self.times[n]):
                    self.bounds[n], moved = bound, True
            if not moved:
                break
        return list(dict.fromkeys(reason for reason, _, _ in problems))


def _res_mii(
    ops: list[PipeOp], banks: dict[Sym, int], dual: frozenset[Sym]
) -> tuple[int, list[str]]:
    counts: dict[tuple, int] = {}
    for op in ops:
        if op.kind == "store" or (op.kind == "load" and op.latency):
            n = banks.get(op.buf, 1)  # type: ignore[arg-type]
            kind = "access" if op.buf in dual else op.kind
            for b in range(n) if op.bank is None else (op.bank,):
                key = (op.buf, kind, b)
                counts[key] = counts.get(key, 0) + 1
    for op in ops:
        if op.kind in ("get", "put"):
            key = (op.stream, "stream", 0)
            counts[key] = counts.get(key, 0) + 1
    names = {"load": ("one read port", "reads"), "store": ("one write port", "writes")}
    names["stream"] = ("one transfer per cycle", "transfers")
    names["access"] = ("two read-write ports", "accesses")
    reasons = []
    mii = 1
    for (buf, kind, b), k in counts.items():
        need = -(-k // 2) if kind == "access" else k
        mii = max(mii, need)
        if need > 1:
            where = f" bank {b}" if banks.get(buf, 1) > 1 else ""
            ports, what = names[kind]
            thing = "stream" if kind == "stream" else "array"
            reasons.append(
                f"II<{need}: {thing} `{buf.name}`{where} has {ports} and {k} {what} per iteration"
            )
    return mii, reasons


def _search(
    ops: list[PipeOp],
    levels: tuple[Level, ...],
    requested: int,
    banks: dict[Sym, int],
    dual: frozenset[Sym],
    loc: Any,
) -> tuple[_Schedule, int, tuple[str, ...]]:
    """The schedule at the smallest feasible II >= ``requested``, its II and the reasons
    smaller IIs failed."""
    res, res_reasons = _res_mii(ops, banks, dual)
    reasons: list[str] = []
    if res > requested:
        reasons += res_reasons
    for ii in range(max(requested, res), _MAX_II + 1):
        sched = _Schedule(ops, levels, ii, banks, dual)
        problems = sched.solve()
        if not problems:
            return sched, ii, tuple(reasons)
        reasons += [f"II={ii}: {p}" for p in problems]
    raise InternalError(f"no II up to {_MAX_II} satisfies the dependences", loc)


def _depth(sched: _Schedule) -> int:
    return max([1, *(t + 1 for t in sched.times)])


def modulo_schedule(
    ops: list[PipeOp],
    levels: list[Level],
    requested: int,
    loop: For,
    banks: dict[Sym, int],
    dual: frozenset[Sym] = frozenset(),
) -> Pipeline:
    """The schedule with the smallest feasible II >= ``requested``; arrays in ``dual`` are
    true dual-port memories (two read-write ports per bank)."""
    sched, ii, reasons = _search(ops, tuple(levels), requested, banks, dual, loop.loc)
    return Pipeline(
        f"{loop.band}.{loop.name}", tuple(levels), tuple(ops), tuple(sched.times), ii,
        requested, _depth(sched), reasons, loop.loc, tuple(sched.port_of),
        bool(dict(loop.attrs).get("generated")),
    )  # fmt: skip


def reschedule(
    p: Pipeline, ops: list[PipeOp], banks: dict[Sym, int], dual: frozenset[Sym] = frozenset()
) -> Pipeline:
    """``p`` scheduled again with changed operations (a multiply's latency)."""
    sched, ii, reasons = _search(ops, p.levels, p.requested_ii, banks, dual, p.loc)
    return replace(
        p, ops=tuple(ops), times=tuple(sched.times), ii=ii, depth=_depth(sched),
        reasons=reasons, ports=tuple(sched.port_of),
    )  # fmt: skip
