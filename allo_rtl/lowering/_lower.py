"""Kernel IR -> FSMD: a statically scheduled controller over the IR's datapath expressions.

Statements run one after another. Within a statement, the loads are list-scheduled on the
arrays' read ports (one read per port per cycle, one cycle of read latency, loads whose indices
need other loads wait for their data); the arithmetic is combinational in the last cycle, where
the statement commits (register update, memory write or branch). A loop costs one cycle to enter;
its latch (increment and test) runs in the body's last cycle when that is a statement or a
pipeline's last cycle, and in a cycle of its own after an inner sequential loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .._errors import InternalError, Loc, ScheduleWarning, warn_user
from ..ir._fold import loop_range, trip_count
from ..ir._nodes import (
    Alloc,
    ArrayRef,
    Assign,
    Binary,
    Call,
    Const,
    ConstArray,
    Decl,
    Expr,
    For,
    Function,
    If,
    Load,
    Module,
    Return,
    Store,
    StreamGet,
    Sym,
    Var,
    While,
    children,
    walk,
)
from ..ir._rewrite import map_operands
from ..ir._visitor import StmtVisitor
from ..ir.types import AlloType, ArrayType, StreamType, UInt, index
from ._banks import Residues, static_bank
from ._budget import plan_design
from ._calls import returned_params, unalias
from ._dsp import check_budget
from ._float import UnitKey, float_check, sequential_unit, unit_key, unit_operands
from ._fsmd import (
    Branch,
    CallStart,
    Fsmd,
    Goto,
    Memory,
    Pipeline,
    ReadPort,
    RunPipeline,
    SetReg,
    State,
    UnitIssue,
    WaitCall,
    WritePort,
)
from ._pipeline import build_pipeline, pipeline_nest
from ._prepare import fill, prepare
from ._promote import promote_nest
from ._streams import StreamLowering, stream_ports
from ._timing import TargetModel, cut_points, is_product, target_model
from ._unroll import expand_unrolls

__all__ = ["lower"]

_BOOL = UInt(1)


@dataclass
class _Cycle:
    actions: list[Any] = field(default_factory=list)
    port_data: list[tuple[Sym, Sym, int | None]] = field(default_factory=list)
    unit_data: list[tuple[Sym, UnitKey]] = field(default_factory=list)


def _timed(node: Any, model: TargetModel) -> bool:
    """Operations that take cycles: loads (port latency), multiplies (registered) and unit
    operations (float operations, integer division on a real family: ``_float.py``)."""
    return isinstance(node, Load) or is_product(node) or unit_key(node, model) is not None


def _operands(node: Any) -> tuple[Expr, ...]:
    return node.indices if isinstance(node, Load) else tuple(children(node))


def _latency(node: Any, model: TargetModel) -> int:
    key = sequential_unit(node, model)
    return 1 if key is None else key.cycles


def _timed_postorder(
    exprs: list[Expr] | tuple[Expr, ...], cuts: set, model: TargetModel
) -> list[Any]:
    """Distinct timed operations of ``exprs`` (and the registered ``cuts``), each after the
    ones in its operands."""
    out: list[Any] = []

    def visit(node: Any) -> None:
        for child in children(node):
            visit(child)
        if (_timed(node, model) or node in cuts) and node not in out:
            out.append(node)

    for e in exprs:
        visit(e)
    return out


def _top_timed(exprs: list[Expr] | tuple[Expr, ...], cuts: set, model: TargetModel) -> list[Any]:
    """Timed operations of ``exprs`` that are not inside another timed operation."""
    out: list[Any] = []

    def visit(node: Any) -> None:
        if _timed(node, model) or node in cuts:
            if node not in out:
                out.append(node)
            return
        for child in children(node):
            visit(child)

    for e in exprs:
        visit(e)
    return out


def _temp_name(op: Any, model: TargetModel) -> str:
    if isinstance(op, Load):
        return f"{op.buf.name}_rd"
    key = unit_key(op, model)
    if key is not None:
        return key.name
    return "product" if _timed(op, model) else "stage"


def _substitute_operands(op: Expr, temps: dict[Any, Sym]) -> Expr:
    """``op`` with its operands (not itself) over the temporaries."""
    return map_operands(op, lambda child: _substitute(child, temps))


def _substitute(expr: Expr, temps: dict[Any, Sym]) -> Expr:
    """``expr`` with every timed operation replaced by (a variable of) its temporary."""
    if expr in temps:
        return Var(temps[expr], expr.type, expr.loc)
    return _substitute_operands(expr, temps)


class _Lowering(StreamLowering, StmtVisitor):
    def __init__(self, fn: Function, module: Module, cache: dict[str, Fsmd]) -> None:
        self.fn = fn
        self.module = module
        self.cache = cache
        self.callees: list[tuple[str, Fsmd]] = []
        self.states: list[State | None] = []
        self.registers: dict[Sym, AlloType] = {}
        self.results: list[tuple[str, Sym, AlloType]] = []
        self.pipelines: list[Pipeline] = []
        self.loops: list[tuple[str, int, int | None]] = []
        self.memories: dict[Sym, Memory] = {}
        self.residues: Residues = {}
        self.succ = -1

    # -- states ----------------------------------------------------------------------------
    def reserve(self, n: int = 1) -> list[int]:
        ids = list(range(len(self.states), len(self.states) + n))
        self.states.extend([None] * n)
        return ids

    def emit(
        self,
        cycles: list[_Cycle],
        nxt: Goto | Branch | None,
        loc: Loc,
        ids: list[int] | None = None,
    ) -> int:
        ids = ids or self.reserve(len(cycles))
        for k, cycle in enumerate(cycles):
            step = nxt if k == len(cycles) - 1 else Goto(ids[k + 1])
            self.states[ids[k]] = State(
                tuple(cycle.actions), step, tuple(cycle.port_data), loc, tuple(cycle.unit_data)
            )
        return ids[0]

    def stage(self, exprs: list[Expr]) -> tuple[list[_Cycle], list[Expr]]:
        """List-schedule the timed operations of ``exprs`` (loads: one read per port and
        cycle, data the next cycle; multiplies: result registered); return the cycles and
        ``exprs`` rewritten over the temporaries that hold those results."""
        cuts = cut_points(exprs, self.model)
        ops = _timed_postorder(exprs, cuts, self.model)
        issue: dict[Any, int] = {}
        ready: dict[Any, int] = {}
        busy: set[tuple[Sym, int, int]] = set()
        for op in ops:
            cycle = max((ready[d] for d in _top_timed(_operands(op), cuts, self.model)), default=0)
            while not busy.isdisjoint(self.resources(op, cycle)):
                cycle += 1
            busy |= self.resources(op, cycle)
            issue[op], ready[op] = cycle, cycle + _latency(op, self.model)
        final = max(ready.values(), default=0)
        needed: dict[Any, set[int]] = {op: set() for op in ops}
        for op in ops:
            for dep in _top_timed(_operands(op), cuts, self.model):
                needed[dep].add(issue[op])
        for op in _top_timed(exprs, cuts, self.model):
            needed[op].add(final)
        for op in ops:  # issue loads as late as their first use allows (saves a latch)
            movable = isinstance(op, Load) and not _top_timed(op.indices, cuts, self.model)
            if movable and min(needed[op]) - 1 > issue[op]:
                late = min(needed[op]) - 1
                if busy.isdisjoint(self.ports(op, late)):
                    busy -= self.ports(op, issue[op])
                    busy |= self.ports(op, late)
                    issue[op], ready[op] = late, late + 1
        cycles = [_Cycle() for _ in range(final + 1)]
        temps = {op: Sym(_temp_name(op, self.model)) for op in ops}
        for op in ops:
            sym = temps[op]
            if isinstance(op, Load):
                idx = tuple(_substitute(i, temps) for i in op.indices)
                cycles[issue[op]].actions.append(ReadPort(op.buf, idx, self.bank(op.buf, idx)))
                cycles[ready[op]].port_data.append((sym, op.buf, self.bank(op.buf, idx)))
            elif unit_key(op, self.model) is not None:
                key, operands = sequential_unit(op, self.model), _substitute_operands(op, temps)
                sub = getattr(op, "op", None) == "sub"
                issued = UnitIssue(key, unit_operands(operands), sub)  # type: ignore[arg-type]
                cycles[issue[op]].actions.append(issued)
                cycles[ready[op]].unit_data.append((sym, key))  # type: ignore[arg-type]
            if isinstance(op, Load) or unit_key(op, self.model) is not None:
                if any(c > ready[op] for c in needed[op]):  # keep the data for later cycles
                    self.registers[sym] = op.type
                    cycles[ready[op]].actions.append(SetReg(sym, Var(sym, op.type, op.loc)))
            else:  # a product, or logic registered to meet the clock (cut_points)
                self.registers[sym] = op.type
                cycles[issue[op]].actions.append(SetReg(sym, _substitute_operands(op, temps)))
        return cycles, [_substitute(e, temps) for e in exprs]

    def bank(self, buf: Sym, indices: tuple[Expr, ...]) -> int | None:
        mem = self.memories[buf]
        return static_bank(indices, mem.type, mem.layout, self.residues)

    def resources(self, op: Any, cycle: int) -> set[Any]:
        """What ``op`` occupies in ``cycle``: a load its read ports, a float operation the
        issue slot of the kernel's unit of its kind (one unit of each kind per kernel)."""
        if isinstance(op, Load):
            return self.ports(op, cycle)
        key = sequential_unit(op, self.model)
        return set() if key is None else {(key, cycle)}

    def ports(self, op: Load, cycle: int) -> set[tuple[Sym, int, int]]:
        """The read ports a load uses: its bank's, or every bank's when that varies."""
        bank = self.bank(op.buf, op.indices)
        banks = range(self.memories[op.buf].banks) if bank is None else (bank,)
        return {(op.buf, b, cycle) for b in banks}

    def block(self, stmts: tuple, succ: int) -> int:
        entry = succ
        for stmt in reversed(stmts):
            self.succ = entry
            entry = self.visit(stmt)
        return entry

    # -- statements ------------------------------------------------------------------------
    def visit_Decl(self, s: Decl) -> int:
        self.registers[s.sym] = s.type
        if s.init is None:
            return self.succ
        return self.assign(s.sym, s.init, s.loc)

    def visit_Assign(self, s: Assign) -> int:
        return self.assign(s.sym, s.value, s.loc)

    def assign(self, sym: Sym, value: Expr, loc: Loc) -> int:
        if isinstance(value, StreamGet):
            return self.get_stream(sym, value, loc)
        cycles, (v,) = self.stage([value])
        cycles[-1].actions.append(SetReg(sym, v))
        return self.emit(cycles, Goto(self.succ), loc)

    def visit_Store(self, s: Store) -> int:
        cycles, exprs = self.stage([*s.indices, s.value])
        idx = tuple(exprs[:-1])
        cycles[-1].actions.append(WritePort(s.buf, idx, exprs[-1], self.bank(s.buf, idx)))
        return self.emit(cycles, Goto(self.succ), s.loc)

    def visit_Alloc(self, s: Alloc) -> int:
        return self.succ  # initialisation was expanded into loops by `prepare`

    def visit_If(self, s: If) -> int:
        succ = self.succ
        then = self.block(s.then, succ)
        orelse = self.block(s.orelse, succ)
        cycles, (cond,) = self.stage([s.cond])
        return self.emit(cycles, Branch(cond, then, orelse), s.loc)

    def visit_While(self, s: While) -> int:
        succ = self.succ
        cycles, (cond,) = self.stage([s.cond])
        ids = self.reserve(len(cycles))
        body = self.block(s.body, ids[0])
        return self.emit(cycles, Branch(cond, body, succ), s.loc, ids)

    def visit_For(self, s: For) -> int:
        values = loop_range(s)
        if values is not None:  # constant bounds written as expressions, e.g. `N - 1`
            s = replace(
                s, lo=Const(values.start, index, s.lo.loc), hi=Const(values.stop, index, s.hi.loc)
            )
        if dict(s.attrs).get("dataflow"):
            return self.dataflow_loop(s)
        nest = pipeline_nest(s)
        if nest is not None:
            return self.pipeline(nest, s)
        self.loops.append((f"{s.band}.{s.name}", s.loc.line if s.loc else 0, trip_count(s)))
        if values is not None:
            ends = (values[0], values[-1]) if values else ()
            self.residues[s.var] = (abs(s.step), values.start % abs(s.step), *ends)
        succ = self.succ
        self.registers[s.var] = _counter_type(s)
        hi = s.hi
        cycles, (lo, hi_now) = self.stage([s.lo, s.hi])
        if not isinstance(s.hi, Const):
            bound = Sym(f"{s.var.name}_hi")
            self.registers[bound] = index
            cycles[-1].actions.append(SetReg(bound, hi_now))
            hi = Var(bound, index, s.loc)
        cmp = "lt" if s.step > 0 else "gt"
        (latch,) = self.reserve()
        body = self.block(s.body, latch)
        var = Var(s.var, index, s.loc)
        nxt = Binary("add", var, Const(s.step, index, s.loc), index, s.loc)
        self.states[latch] = State(
            (SetReg(s.var, nxt),), Branch(Binary(cmp, nxt, hi, _BOOL, s.loc), body, succ), (), s.loc
        )
        self.merge_latch(latch)
        cycles[-1].actions.append(SetReg(s.var, lo))
        enter = Binary(cmp, lo, hi_now, _BOOL, s.loc)
        return self.emit(cycles, Branch(enter, body, succ), s.loc)

    def pipeline(self, nest: list, s: For) -> int:
        nest, before, after = promote_nest(nest)
        for stmt in (*before, *(n for _, b, a in nest for n in (*b, *a))):
            if isinstance(stmt, Decl):
                self.registers[stmt.sym] = stmt.type
        p = build_pipeline(nest, _counter_type, self.memories, self.residues, self.model)
        for op in p.ops:
            if op.kind == "set":
                self.registers[op.sym] = op.type  # type: ignore[index]
        self.pipelines.append(p)
        if p.ii > p.requested_ii and not p.generated:
            warn_user(_ii_warning(p), ScheduleWarning)
        then = self.block(after, self.succ)
        (state,) = self.reserve()
        self.states[state] = State((), RunPipeline(len(self.pipelines) - 1, then), (), s.loc)
        return self.block(before, state)

    def merge_latch(self, latch: int) -> None:
        """Fold the latch (increment and test) into the body's last state(s), saving a cycle
        per iteration. The actions of a state commit together, so the body still sees the old
        loop variable; the latch's reads happen in that same cycle, after no other change."""
        body_ends = [
            n for n, st in enumerate(self.states) if st is not None and st.next == Goto(latch)
        ]
        latch_state = self.states[latch]
        assert latch_state is not None
        for n in body_ends:
            if n == latch:
                continue
            st = self.states[n]
            assert st is not None
            self.states[n] = replace(
                st, actions=st.actions + latch_state.actions, next=latch_state.next
            )
        for n, st in enumerate(self.states):  # a body ending in a pipeline: latch on its exit
            run = st.next if st is not None else None
            if isinstance(run, RunPipeline) and run.then == latch and not run.exit:
                exit_actions = tuple(a for a in latch_state.actions if isinstance(a, SetReg))
                if len(exit_actions) == len(latch_state.actions):
                    nxt = RunPipeline(run.index, latch_state.next, exit_actions)  # type: ignore[arg-type]
                    self.states[n] = replace(st, next=nxt)  # type: ignore[arg-type]

    def visit_Call(self, s: Call) -> int:
        callee, args = unalias(self.module.func(s.callee), s.args)
        sub = _lower_function(callee, self.module, self.cache)
        instance = f"{callee.sym.name}_{len(self.callees)}"
        self.callees.append((instance, sub))
        scalars: list[tuple[str, Expr]] = []
        arrays: list[tuple[str, Sym]] = []
        for arg, port in zip(args, sub.param_ports):
            if isinstance(arg, ArrayRef):
                arrays.append((port, arg.sym))
            else:
                scalars.append((port, arg))
        results: list[tuple[Sym, str]] = []
        copies = returned_params(callee)
        for k, (sym, t, port) in enumerate(zip(s.results, callee.returns, sub.result_ports)):
            if k in copies:
                continue  # the caller copies the argument array after the call
            if isinstance(t, ArrayType):
                arrays.append((port, sym))
            else:
                results.append((sym, port))
        after = self.succ
        for k, j in copies.items():
            arg, t = args[j], callee.returns[k]
            after = self.block(fill(Alloc(s.results[k], t, arg, s.loc)), after)  # type: ignore[arg-type]
        cycles, values = self.stage([v for _, v in scalars])
        start = CallStart(instance, sub.name, tuple((p, v) for (p, _), v in zip(scalars, values)))
        cycles[-1].actions.append(start)
        (wait,) = self.reserve()
        done = WaitCall(instance, tuple(arrays), tuple(results), after)
        self.states[wait] = State((), done, (), s.loc)
        return self.emit(cycles, Goto(wait), s.loc)

    def visit_Return(self, s: Return) -> int:
        scalars = [(n, v) for n, v in enumerate(s.values) if not isinstance(v, ArrayRef)]
        if not scalars:
            return self.succ
        cycles, values = self.stage([v for _, v in scalars])
        names = result_ports(self.fn)
        for (n, original), value in zip(scalars, values):
            sym = Sym(names[n])
            self.registers[sym] = original.type
            self.results.append((names[n], sym, original.type))
            cycles[-1].actions.append(SetReg(sym, value))
        return self.emit(cycles, Goto(self.succ), s.loc)


def _ii_warning(p: Pipeline) -> str:
    where = f"{p.loc}: " if p.loc else ""

    def blocks(reason: str) -> bool:  # "II=3: ..." blocks II 3, "II<4: ..." blocks II 1 to 3
        head = reason.split(":", 1)[0]
        bound = int(head[3:])
        return bound == p.ii - 1 if head.startswith("II=") else bound > p.ii - 1

    last = [r for r in p.reasons if blocks(r)] or list(p.reasons[-1:])
    why = "; ".join(r.split(": ", 1)[1] for r in last)
    return (
        f"{where}loop {p.name} is pipelined at II={p.ii}, not the requested "
        f"II={p.requested_ii}: {why}"
    )


def _counter_type(s: For) -> AlloType:
    """The narrowest register for the loop variable: constant bounds give an unsigned counter
    just wide enough for the values the loop body sees (the exit value is never stored)."""
    values = loop_range(s)
    if values is None:
        return index
    if not values:
        return UInt(1)
    if min(values[0], values[-1]) < 0:
        return index
    return UInt(max(1, max(values[0], values[-1]).bit_length()))


_CONTROL_PORTS = frozenset({"start", "busy", "done", "clk", "rst"})


def _fresh(name: str, taken: frozenset[str] | set[str], suffix: str) -> str:
    """``name`` + ``suffix`` (+ a number), avoiding ``taken`` (and ``name`` itself when taken)."""
    out, n = name, 1
    while out in taken:
        out = f"{name}{suffix}" if n == 1 else f"{name}{suffix}{n}"
        n += 1
    return out


def param_ports(fn: Function) -> tuple[str, ...]:
    """Port names of the parameters (docs/interface.md): the parameter's name, with ``_arg``
    appended when it is a control port name (``start`` -> ``start_arg``)."""
    names = [p.sym.name for p in fn.params]
    taken = _CONTROL_PORTS | set(names)
    return tuple(_fresh(n, taken, "_arg") if n in _CONTROL_PORTS else n for n in names)


def result_ports(fn: Function) -> tuple[str, ...]:
    """Port names of the returned values: ``result`` (``result0``, ``result1``, ... for a
    tuple), with ``_out`` appended when a parameter's port already has that name. A returned
    argument array keeps its parameter's port group."""
    params = param_ports(fn)
    taken = _CONTROL_PORTS | set(params)
    n, aliases = len(fn.returns), returned_params(fn)
    return tuple(
        params[aliases[k]]
        if k in aliases
        else _fresh(f"result{k}" if n > 1 else "result", taken, "_out")
        for k in range(n)
    )


def _check_floats(fn: Function) -> None:
    for node in walk(fn):
        float_check(node)


def _memories(fn: Function) -> tuple[dict[Sym, Memory], list, list]:
    """Every array: parameters and returned locals are external ports, others local memories."""
    memories: dict[Sym, Memory] = {}
    params: list[tuple[int, Memory]] = []
    results: list[tuple[int, Memory]] = []
    returned: dict[Sym, int] = {}
    last = fn.body[-1] if fn.body else None
    if isinstance(last, Return):
        returned = {v.sym: n for n, v in enumerate(last.values) if isinstance(v, ArrayRef)}
    for n, p in enumerate(fn.params):
        if isinstance(p.type, ArrayType):
            memories[p.sym] = Memory(p.sym, p.type, param_ports(fn)[n], None, fn.layout(p.sym))
            params.append((n, memories[p.sym]))
            if p.sym in returned:
                results.append((returned[p.sym], memories[p.sym]))
    for node in walk(fn):
        if isinstance(node, Alloc):
            if node.sym in returned:
                k = returned[node.sym]
                port = result_ports(fn)[k]
                memories[node.sym] = Memory(node.sym, node.type, port, None, fn.layout(node.sym))
                results.append((k, memories[node.sym]))
            else:
                init = node.init.data if isinstance(node.init, ConstArray) else None
                layout = fn.layout(node.sym)
                memories[node.sym] = Memory(node.sym, node.type, None, init, layout)
    return memories, params, results


def _block_ram(m: Memory) -> bool:
    """A local memory that becomes block RAM (two read-write ports on the ECP5). Banks of up
    to 16 words stay single-ported (one read, one write): yosys maps those to distributed RAM
    (TRELLIS_DPR16X4, one write port), where a second write port would force flip-flops."""
    return m.port is None and not m.registers and m.type.size // m.banks > 16


def _lower_function(fn: Function, module: Module, cache: dict[str, Any]) -> Fsmd:
    """``cache`` holds the lowered kernels by name and the target model (key ``None``)."""
    name = fn.sym.name
    if name not in cache:
        cache[name] = _lower_one(fn, module, cache)
    return cache[name]


def _lower_one(fn: Function, module: Module, cache: dict[str, Fsmd]) -> Fsmd:
    fn = expand_unrolls(prepare(fn, module))
    _check_floats(fn)
    memories, array_params, array_results = _memories(fn)
    if cache[None].dual_port_bram:  # local block RAMs get two read-write ports
        memories = {sym: replace(m, dual=_block_ram(m)) for sym, m in memories.items()}
    low = _Lowering(fn, module, cache)
    low.memories = memories
    low.model = cache[None]
    (done,) = low.reserve()
    low.states[done] = State((), None, (), fn.loc)
    entry = low.block(fn.body, done)
    scalar_params = []
    for p, port in zip(fn.params, param_ports(fn)):
        if not isinstance(p.type, (ArrayType, StreamType)):
            scalar_params.append((port, p.sym, p.type))
            low.registers[p.sym] = p.type
    if any(state is None for state in low.states):
        raise InternalError("lowering left a state undefined", fn.loc)
    return Fsmd(
        name=fn.sym.name,
        states=tuple(low.states),  # type: ignore[arg-type]
        entry=entry,
        registers=tuple(low.registers.items()),
        memories=tuple(memories.values()),
        scalar_params=tuple(scalar_params),
        results=tuple(low.results),
        array_params=tuple(array_params),
        array_results=tuple(array_results),
        loc=fn.loc,
        callees=tuple(low.callees),
        pipelines=tuple(low.pipelines),
        sequential_loops=tuple(low.loops),
        param_ports=param_ports(fn),
        result_ports=result_ports(fn),
        streams=stream_ports(fn, param_ports(fn)),
    )


def lower(module: Module, model: TargetModel | None = None, dsp_budget: int | None = None) -> Fsmd:
    """Lower the top kernel of ``module`` (and, as sub-FSMDs, the kernels it calls) for the
    target ``model`` (default: the generic family at 100 MHz). Multiplies use at most
    ``dsp_budget`` DSP blocks (``None``: no limit); the others are built from logic, with a
    :class:`ScheduleWarning` (``_budget.py`` gives the rule)."""
    model = model or target_model()
    check_budget(dsp_budget)
    fsmd = _lower_function(module.top_func, module, {None: model})
    fsmd, grown, warning = plan_design(fsmd, model, dsp_budget)
    if warning is not None:
        warn_user(warning, ScheduleWarning)
    for p in grown:
        warn_user(_ii_warning(p), ScheduleWarning)
    return fsmd
