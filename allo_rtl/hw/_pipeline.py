"""A modulo-scheduled :class:`Pipeline` -> Amaranth logic inside a kernel.

While the controller is in the pipeline's state, an iteration issues every II cycles; its
``valid`` bit moves down a shift register one stage per cycle, and an operation scheduled ``t``
cycles after the issue fires when ``valid[t]`` is set. Values are carried from the cycle they
are produced to the cycles that use them by per-value register chains (counter values from the
issue, read data from the cycle after the load, products from the cycle after the multiply).
The state is left in the cycle in which the last iteration's last operation runs.
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Const, EnableInserter, Module, Mux, Signal, Value

from .._errors import InternalError
from ..ir._nodes import Const as Const_
from ..ir._nodes import Sym, Var, read_vars
from ..lowering import Pipeline, unit_instances
from ..lowering._float import unit_operands
from ..lowering._modulo import forwardable
from ._datapath import Datapath, shape_of
from ._dsp import pipeline_product
from ._multiply import registered_product
from ._units import make_unit, unit_inputs

__all__ = ["PipelineLogic"]


def _ends(lv: Any, value: Value, hi: Value) -> Value:
    """Whether the iteration at ``value`` is the last before bound ``hi`` of level ``lv``."""
    nxt = value + lv.step  # one bit wider: no wrap-around
    return (nxt >= hi) if lv.step > 0 else (nxt <= hi)


def _all(terms: list[Value]) -> Value:
    out: Value = Const(1, 1)
    for term in terms:
        out = out & term
    return out


class PipelineLogic:
    """Builds the logic of pipeline ``p``; ``done`` is high in its last cycle."""

    def __init__(
        self,
        p: Pipeline,
        index: int,
        regs: dict[Sym, Signal],
        ports: dict,
        drivers: Any,
        streams: dict | None = None,
    ) -> None:
        self.p, self.regs, self.ports, self.drivers = p, regs, ports, drivers
        self.streams = streams or {}
        self.prefix = f"p{index}_"
        self.done = Signal(name=f"{self.prefix}done")
        self.chains: dict[Sym, dict[int, Value]] = {}
        self.shapes: dict[Sym, Any] = {}

    def elaborate(self, km: Module, run: Value) -> None:
        """Add the pipeline to kernel module ``km``. A pipeline with stream transfers keeps
        its registers in a submodule whose clock enable is ``advance`` (docs/dataflow.md)."""
        p = self.p
        self.km, self.oks, self.gets, self.fires = km, [], [], []
        stalls = any(op.kind in ("get", "put") for op in p.ops)
        m = Module() if stalls else km
        self.advance: Value = Signal(name=f"{self.prefix}advance") if stalls else Const(1, 1)
        valid = [Signal(name=f"{self.prefix}valid{t}") for t in range(p.depth)]
        issue = self._issue(m, run)
        m.d.comb += valid[0].eq(issue)
        for t in range(1, p.depth):
            m.d.sync += valid[t].eq(valid[t - 1])
        for lv in p.levels:
            self.chains[lv.var] = {0: self.current[lv.var]}
            self.shapes[lv.var] = self.counters[lv.var].shape()
        for op in p.ops:
            if op.kind in ("load", "mul", "reg", "unit", "get"):
                self.shapes[op.sym] = shape_of(op.type)  # type: ignore[arg-type]
        self.valid, self.forward = valid, self._forwards()
        self.units: dict[tuple, tuple[Any, list]] = {}
        self.instances = unit_instances(p)
        for n, op in enumerate(p.ops):
            self._op(m, n, op, p.times[n], valid)
        self._drive_units(m)
        pending = Signal(name=f"{self.prefix}pending")
        m.d.comb += pending.eq(0)
        for t in range(p.depth - 1):
            with m.If(valid[t]):
                m.d.comb += pending.eq(1)
        finished = self.all_issued | self.last_issue | self.empty
        m.d.comb += self.done.eq(run & finished & ~pending & self.advance)
        self.stalled: Value = Const(0, 1)  # waits on streams and no transfer happens
        if stalls:
            km.d.comb += self.advance.eq(_all(self.oks))
            moved = Const(0, 1)
            for fire in self.fires:
                moved = moved | fire
            self.stalled = run & ~self.advance & ~moved
            km.submodules[f"{self.prefix}core"] = EnableInserter(self.advance)(m)

    def _issue(self, m: Module, run: Value) -> Value:
        """Odometer counters over the levels, one step per issue; returns the issue signal."""
        p, pre = self.p, self.prefix
        self.counters = {
            lv.var: Signal(shape_of(lv.type), name=f"{pre}{lv.var.name}") for lv in p.levels
        }
        self.all_issued = Signal(name=f"{pre}issued")
        self.last_issue = Signal(name=f"{pre}last_issue")
        issue = Signal(name=f"{pre}issue")
        slot = Signal(range(max(p.ii, 2)), name=f"{pre}slot")
        at_last = self._bounds(m, run)
        m.d.comb += issue.eq(run & ~self.all_issued & (slot == 0) & ~self.empty & ~self.setup)
        with m.If(run & ~self.all_issued & ~self.setup):
            if p.ii > 1:
                with m.If(slot == p.ii - 1):
                    m.d.sync += slot.eq(0)
                with m.Else():
                    m.d.sync += slot.eq(slot + 1)
        m.d.comb += self.last_issue.eq(issue & at_last)
        with m.If(issue):
            with m.If(at_last):
                m.d.sync += self.all_issued.eq(1)
            self._odometer(m)
        # idle, or finishing (the controller may start the pipeline again right away):
        # back to the first iteration; this comes last, so it wins over the odometer
        with m.If(~run | self.done):
            m.d.sync += [self.all_issued.eq(0), slot.eq(0), self.started.eq(0)]
            m.d.sync += [self.counters[lv.var].eq(lv.lo) for lv in p.levels]
        return issue

    def _bounds(self, m: Module, run: Value) -> Value:
        """The counters' values for the issuing iteration (``current``), whether it is the
        last one, and ``empty`` (a run-time range without iterations). A level with run-time
        bounds reads them when the pipeline starts and, under rewound outer levels, again
        for each new outer iteration (``_reload``)."""
        pre = self.prefix
        self.started = Signal(name=f"{pre}started")
        first = run & ~self.started
        with m.If(first):
            m.d.sync += self.started.eq(1)
        self.current, self.empty = {}, Value.cast(0)
        self.row_last: Value = Value.cast(1)
        self.setup: Value = Value.cast(0)  # a cycle without issue while bounds are loaded
        at_last: Value = Value.cast(1)
        dp = Datapath(self._bound_value(self.counters), prefix=f"{pre}bound_")
        for k, lv in enumerate(self.p.levels):
            ctr = self.counters[lv.var]
            if lv.trips is not None:
                self.current[lv.var] = ctr
                at_last = at_last & (ctr == lv.lo + (lv.trips - 1) * lv.step)
                continue
            if k:  # rewound: the bound and the end-of-run test come from registers
                at_last = at_last & self._rewound(m, k, first, dp)
                continue
            lo = ctr if lv.lo_expr is None else Mux(first, dp(lv.lo_expr), ctr)
            self.hi_reg = Signal(shape_of(lv.type), name=f"{pre}{lv.var.name}_hi")
            hi = Mux(first, dp(lv.hi_expr), self.hi_reg)
            with m.If(first):
                m.d.sync += self.hi_reg.eq(hi)
            cur = self.current[lv.var] = Mux(first, lo, ctr) if lv.lo_expr is not None else ctr
            nxt = cur + lv.step  # one bit wider: no wrap-around
            inside = (cur < hi) if lv.step > 0 else (cur > hi)
            self.empty = self.empty | (first & ~inside)
            self.row_last = (nxt >= hi) if lv.step > 0 else (nxt <= hi)
            at_last = at_last & self.row_last
        m.d.comb += dp.assignments
        return at_last

    def _rewound(self, m: Module, k: int, first: Value, dp: Datapath) -> Value:
        """Level ``k``, with run-time bounds inside flattened outer levels: the pipeline's
        first cycle loads its counter, bound and end-of-run flag (no issue in that cycle);
        the odometer loads them for each next run, so the issue logic reads only registers."""
        lv = self.p.levels[k]
        ctr = self.counters[lv.var]
        self.hi_reg = Signal(shape_of(lv.type), name=f"{self.prefix}{lv.var.name}_hi")
        self.row_reg = Signal(name=f"{self.prefix}{lv.var.name}_run_ends")
        lo = dp(lv.lo_expr) if lv.lo_expr is not None else Const(lv.lo)
        hi = dp(lv.hi_expr)
        with m.If(first):
            m.d.sync += [ctr.eq(lo), self.hi_reg.eq(hi), self.row_reg.eq(_ends(lv, lo, hi))]
        self.setup = first
        self.current[lv.var] = ctr
        self.row_last = self.row_reg
        self.reload = self._next_bounds(m, lv, list(self.p.levels[:k]))
        return self.row_reg

    def _bound_value(self, values: dict[Sym, Value]) -> Any:
        """A loop bound's operands: the level counters in ``values``, else registers."""
        return lambda sym: values[sym] if sym in values else self.regs[sym]

    def _next_bounds(self, m: Module, lv: Any, outer: list[Any]) -> tuple[Value, Value]:
        """The first value and the bound of the run-time level ``lv`` for the next values of
        the ``outer`` levels (where the odometer goes when a run of ``lv`` ends)."""
        nxt: dict[Sym, Value] = {}
        carry: Value = Value.cast(1)
        for o in reversed(outer):
            ctr = self.counters[o.var]
            last = ctr == o.lo + (o.trips - 1) * o.step
            nxt[o.var] = Mux(carry, Mux(last, o.lo, ctr + o.step), ctr)
            carry = carry & last
        dp = Datapath(self._bound_value(nxt), prefix=f"{self.prefix}next_")
        lo = dp(lv.lo_expr) if lv.lo_expr is not None else Const(lv.lo)
        hi = dp(lv.hi_expr)
        m.d.comb += dp.assignments
        return lo, hi

    def _odometer(self, m: Module) -> None:
        carry: Value = Value.cast(1)
        levels = self.p.levels
        for k in range(len(levels) - 1, -1, -1):
            lv = levels[k]
            ctr = self.counters[lv.var]
            if lv.trips is None:  # runs until its bound; then the levels around it step
                if k == 0:
                    m.d.sync += ctr.eq(self.current[lv.var] + lv.step)
                    continue
                lo, hi = self.reload
                with m.If(self.row_last):  # the next outer iteration's run (rewind)
                    m.d.sync += [ctr.eq(lo), self.hi_reg.eq(hi), self.row_reg.eq(_ends(lv, lo, hi))]
                with m.Else():
                    nxt = ctr + lv.step
                    m.d.sync += [ctr.eq(nxt), self.row_reg.eq(_ends(lv, nxt, self.hi_reg))]
                carry = self.row_last
                continue
            last = ctr == lv.lo + (lv.trips - 1) * lv.step
            with m.If(carry):
                with m.If(last):
                    m.d.sync += ctr.eq(lv.lo)
                with m.Else():
                    m.d.sync += ctr.eq(ctr + lv.step)
            carry = carry & last

    def _transfer(self, n: int, op: Any, t: int, active: Value, dp: Datapath) -> None:
        """A stream transfer of the operations at stage ``t``: it happens once while the stage
        is held (``fired``), and the pipeline advances when every transfer of the cycle has
        happened. A value got while waiting for the others is held in ``held``."""
        km, port = self.km, self.streams[op.stream]
        name = f"{self.prefix}{op.kind}{n}"
        fired = Signal(name=f"{name}_fired")
        waiting = active & ~fired
        if op.kind == "get":
            self.drivers.enable(port.ready, waiting)
            fire, ok = waiting & port.valid, ~active | fired | port.valid
            held = Signal(shape_of(op.type), name=f"{name}_held")
            with km.If(fire):
                km.d.sync += held.eq(port.payload)
            data = port.payload.as_signed() if op.type.signed else port.payload
            self.chains[op.sym] = {t: Mux(fired, held, data)}
            self.gets.append((t, ok))
        else:
            # the gets before it in the same cycle must have happened: their values are its data
            waiting = waiting & _all([got for when, got in self.gets if when == t])
            self.drivers.value(port.payload, waiting, dp(op.value))
            self.drivers.enable(port.valid, waiting)
            fire, ok = waiting & port.ready, ~active | fired | (waiting & port.ready)
        km.d.sync += fired.eq((fired | fire) & ~self.advance)
        self.oks.append(ok)
        self.fires.append(fire)

    def _unit(self, m: Module, op: Any, n: int) -> tuple[Any, list]:
        """The unit of operation ``n`` and the list of its users so far: (active, input
        values) of each operation it serves."""
        key, instance = op.unit, self.instances[n]
        if (key, instance) not in self.units:
            unit = m.submodules[f"{self.prefix}{op.sym.name}_{key.name}"] = make_unit(key)
            self.units[key, instance] = (unit, [])
        return self.units[key, instance]

    def _drive_units(self, m: Module) -> None:
        """Each unit's operands: those of the user active in this cycle (users of one unit
        issue in distinct slots of the II, so at most one is active), else the last user's."""
        for (key, _), (unit, users) in self.units.items():
            ports = [*unit_inputs(unit, key), *([unit.sub] if key.op == "add" else [])]
            for k, port in enumerate(ports):
                value = users[-1][1][k]
                for active, inputs in reversed(users[:-1]):
                    value = Mux(active, inputs[k], value)
                m.d.comb += port.eq(value)

    def _forwards(self) -> dict[Sym, tuple[int, Signal]]:
        """Carried registers written in stage ``w`` and read ``II`` stages earlier: the read
        belongs to the next iteration, in the cycle of the write, so it takes the value being
        written (the scheduler allows a recurrence of II cycles, ``_modulo.violations``)."""
        p, out = self.p, {}
        for n, op in enumerate(p.ops):
            if forwardable(op, p.ops) and p.times[n] >= p.ii:
                fwd = Signal.like(self.regs[op.sym], name=f"{self.prefix}{op.sym.name}_fwd")
                out[op.sym] = (p.times[n], fwd)
        return out

    def at(self, m: Module, sym: Sym, t: int) -> Value:
        """The value of ``sym`` as the iteration in stage ``t`` sees it."""
        if sym not in self.chains:
            if sym in self.forward and t == self.forward[sym][0] - self.p.ii:
                w, fwd = self.forward[sym]
                return Mux(self.valid[w], fwd, self.regs[sym])
            if sym in self.regs:
                return self.regs[sym]
            raise InternalError(f"pipeline value {sym.name} used before it is produced")
        chain = self.chains[sym]
        if t not in chain:
            if t <= min(chain):
                raise InternalError(f"pipeline value {sym.name} used in cycle {t}, too early")
            reg = Signal(self.shapes[sym], name=f"{self.prefix}{sym.name}_s{t}")
            m.d.sync += reg.eq(self.at(m, sym, t - 1))
            chain[t] = reg
        return chain[t]

    def datapath(self, m: Module, t: int) -> Datapath:
        dp = Datapath(lambda sym: self.at(m, sym, t), prefix=f"{self.prefix}s{t}_")
        self._datapaths.append(dp)
        return dp

    def _ready(self, e: Any, t: int) -> bool:
        """Whether every value ``e`` reads exists in stage ``t`` with the value it has in
        stage ``t + 1`` (counters and other stage-register chains)."""
        return all(s in self.chains and min(self.chains[s]) <= t for s in read_vars([e]))

    def _from_stage_before(self, m: Module, t: int, compute: Any, names: list[str]) -> list:
        """The values ``compute`` builds from a datapath of stage ``t - 1``, registered into
        stage ``t`` (one register each, named ``names``)."""
        prev = self.datapath(m, t - 1)
        values = compute(prev)
        regs = [
            Signal.like(v, name=f"{self.prefix}{name}{len(self._datapaths)}_s{t}")
            for v, name in zip(values, names)
        ]
        m.d.sync += [reg.eq(v) for reg, v in zip(regs, values)]
        m.d.comb += prev.assignments
        return regs

    def _early(self, m: Module, e: Any, t: int) -> Value | None:
        """A store guard ``e`` computed in stage ``t - 1`` and registered into stage ``t``,
        when it takes logic and its inputs exist then (``None`` otherwise): the logic leaves
        the cycle of the write enable it drives."""
        if t < 1 or isinstance(e, (Var, Const_)) or not self._ready(e, t - 1):
            return None
        (reg,) = self._from_stage_before(m, t, lambda dp: [dp(e)], ["guard"])
        return reg

    def _early_address(self, m: Module, op: Any, t: int) -> tuple[Value, Value] | None:
        """(bank, address) of a load or store in stage ``t``, from stage ``t - 1`` through a
        register when computing it takes logic (index arithmetic, or a row-major combination
        with an extent that is not a power of two)."""
        if op.kind not in ("load", "store") or t < 1 or not op.indices:
            return None
        ports = self.ports[op.buf]
        wiring = all(isinstance(i, (Var, Const_)) for i in op.indices) and all(
            e & (e - 1) == 0 for e in ports.extent[1:]
        )
        if wiring or not all(self._ready(i, t - 1) for i in op.indices):
            return None
        split = self._from_stage_before(
            m, t, lambda dp: ports.split(op.indices, dp), ["bank", "addr"]
        )
        return split[0], split[1]

    def _op(self, m: Module, n: int, op: Any, t: int, valid: list[Signal]) -> None:
        # every value is built before any `with m.If`: building adds the stage registers of
        # the values it uses, and those must shift unconditionally
        if not hasattr(self, "_datapaths"):
            self._datapaths: list[Datapath] = []
        dp = self.datapath(m, t)
        at = self._early_address(m, op, t)
        if op.kind == "load":
            ports = self.ports[op.buf]
            port = self.p.ports[n] if self.p.ports else 0
            ports.read(m, self.drivers, valid[t] & self.advance, op, dp, port, at)
            if op.latency == 0 and op.bank is None:  # registers, the element known now
                self.chains[op.sym] = {t: ports.read_now(op, dp, port)}
            else:
                self.chains[op.sym] = {t + op.latency: ports.read_data(m, op.bank, port)}
        elif op.kind == "mul" and op.plan is not None:  # DSP blocks or logic (lowering/_dsp.py)
            product = pipeline_product(m, dp, op, f"{self.prefix}{op.sym.name}")
            self.chains[op.sym] = {t + op.latency: product}
        elif op.kind == "mul" and op.latency >= 2 and not op.value.type.is_float:
            a, b = dp(op.value.lhs), dp(op.value.rhs)
            name = f"{self.prefix}{op.sym.name}"
            product = registered_product(m, a, b, op.value.type, name, op.latency)
            self.chains[op.sym] = {t + op.latency: product}
        elif op.kind == "unit":  # a float operation on an operator unit (shared, _bind.py)
            unit, users = self._unit(m, op, n)
            inputs = [dp(value) for value in unit_operands(op.value)]
            if op.unit.op == "add":  # the adder's `sub` input
                inputs.append(Const(op.value.op == "sub", 1))
            users.append((valid[t], inputs))
            self.chains[op.sym] = {t + op.latency: unit.result}
        elif op.kind in ("mul", "reg"):
            value = dp(op.value)
            for stage in range(op.latency):  # a DSP output register, then more if needed
                reg = Signal(self.shapes[op.sym], name=f"{self.prefix}{op.sym.name}_r{stage}")
                m.d.sync += reg.eq(value)
                value = reg
            self.chains[op.sym] = {t + op.latency: value}
        elif op.kind == "store":
            guard = None if op.guard is None else self._early(m, op.guard, t)
            if guard is None and op.guard is not None:
                guard = dp(op.guard)
            enable = valid[t] if guard is None else valid[t] & guard
            port = self.p.ports[n] if self.p.ports else 0
            self.ports[op.buf].write(self.drivers, enable & self.advance, op, dp, port, at)
        elif op.kind == "set":
            value = dp(op.value)
            if op.sym in self.forward:
                self.km.d.comb += self.forward[op.sym][1].eq(value)
            with self.km.If(valid[t] & self.advance):
                self.km.d.sync += self.regs[op.sym].eq(value)
        elif op.kind in ("get", "put"):
            active = valid[t] if op.guard is None else valid[t] & dp(op.guard)
            self._transfer(n, op, t, active, dp)
        m.d.comb += dp.assignments
