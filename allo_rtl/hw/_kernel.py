"""FSMD -> an ``amaranth.lib.wiring.Component`` with the interface of docs/interface.md.

Registers are ``Signal``s named after the kernel's variables; local arrays are
``amaranth.lib.memory.Memory`` instances (yosys maps them to block RAM); the controller is an
Amaranth FSM whose states are named after the source lines they execute.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .._errors import LoweringError
from ..ir._nodes import Sym
from ..ir.types import ArrayType
from ..lowering import (
    Branch,
    CallStart,
    Fsmd,
    GetStream,
    Goto,
    PutStream,
    ReadPort,
    Report,
    RunPipeline,
    SetReg,
    UnitIssue,
    UnitKey,
    WaitCall,
    WaitDataflow,
    WritePort,
    build_report,
)
from ._banks import ArrayPorts, bank_names
from ._dataflow import (
    array_use,
    can_stall,
    make_fifos,
    stream_member,
    sub_calls,
    watch_layout,
    wire_dataflow,
)  # fmt: skip
from ._datapath import Datapath, shape_of
from ._dsp import planned_product
from ._info import ArrayPortInfo, KernelInfo, ScalarPortInfo
from ._pipeline import PipelineLogic
from ._ports import PortDrivers
from ._units import make_unit, unit_inputs

__all__ = ["KernelComponent", "array_port_signature"]


def array_port_signature(t: ArrayType, depth: int | None = None) -> wiring.Signature:
    """The port group of one array, or of one bank of ``depth`` elements (docs/interface.md)."""
    abits = max(1, ((t.size if depth is None else depth) - 1).bit_length())
    width = t.dtype.bits
    return wiring.Signature(
        {
            "rd_addr": Out(abits),
            "rd_en": Out(1),
            "rd_data": In(width),
            "wr_addr": Out(abits),
            "wr_data": Out(width),
            "wr_en": Out(1),
        }
    )


class KernelComponent(wiring.Component):
    """A generated kernel. ``info`` describes its ports for the shell and the testbenches."""

    def __init__(self, fsmd: Fsmd) -> None:
        self.fsmd = fsmd
        members: dict[str, object] = {"start": In(1), "busy": Out(1), "done": Out(1)}
        for name, _, t in fsmd.scalar_params:
            members[name] = In(shape_of(t))
        for name, _, t in fsmd.results:
            members[name] = Out(shape_of(t))
        for mem in fsmd.memories:
            if mem.port is not None:
                depth = mem.type.size // mem.banks
                for name in bank_names(mem.port, mem.layout, mem.type):
                    members[name] = Out(array_port_signature(mem.type, depth))
        for sp in fsmd.streams:
            members[sp.name] = stream_member(sp)
        self.watch_fields = watch_layout(fsmd)
        if can_stall(fsmd):
            members["stalled"] = Out(1)  # waits on a stream (or a region is deadlocked)
        if self.watch_fields:
            members["watch"] = Out(sum(e.width for e in self.watch_fields))
        super().__init__(wiring.Signature(members))
        self.info = _info(fsmd, self.watch_fields, "stalled" in members)

    def report(self) -> Report:
        """Per loop: trips, requested and achieved II, depth, latency; per array: storage."""
        return build_report(self.fsmd)

    def elaborate(self, platform: object) -> Module:
        m = Module()
        regs = {sym: Signal(shape_of(t), name=sym.name) for sym, t in self.fsmd.registers}
        ports = self._ports = self._memories(m)
        self._regs = regs
        bound: dict[Sym, Value] = {}

        def lookup(sym: Sym) -> Value:
            return bound[sym] if sym in bound else regs[sym]

        datapath = Datapath(lookup)
        fsmd = self.fsmd
        self._watch: dict[str, Value] = {}
        self._stall_terms: list[tuple[object, Value]] = []
        self._region_active: dict[int, Signal] = {}  # per dataflow state (hw/_dataflow.py)
        self._instances = self._callees(m, ports)
        self._units = self._make_units(m)
        names = [f"s{n}_line{s.loc.line if s.loc else 0}" for n, s in enumerate(fsmd.states)]
        self._drivers = PortDrivers()
        self._streams = {sp.sym: getattr(self, sp.name) for sp in fsmd.streams}
        self._pipes = [
            PipelineLogic(p, n, regs, ports, self._drivers, self._streams)
            for n, p in enumerate(fsmd.pipelines)
        ]
        m.d.comb += self.busy.eq(0)
        with m.FSM(name="control") as fsm:
            with m.State("IDLE"):
                with m.If(self.start):
                    self._on_start(m, regs)
                    m.next = names[fsmd.entry]
            for n, state in enumerate(fsmd.states):
                with m.State(names[n]):
                    bound.clear()
                    datapath.forget()  # the read data bound below are this state's
                    for temp, buf, bank in state.port_data:
                        bound[temp] = ports[buf].read_data(m, bank)
                    for temp, key in state.unit_data:
                        bound[temp] = self._units[key].result
                    self._state = names[n]
                    for action in state.actions:
                        self._action(m, action, regs, ports, datapath)
                    self._next(m, state.next, names, datapath)
        m.d.comb += self.busy.eq(~fsm.ongoing("IDLE"))
        for n, state in enumerate(fsmd.states):
            if isinstance(state.next, RunPipeline):
                pipe = self._pipes[state.next.index]
                pipe.elaborate(m, fsm.ongoing(names[n]))
                self._stall_terms.append((names[n], pipe.stalled))

        def resolve(cond: Any) -> Value:  # a state, (a state, a condition) or a condition
            if isinstance(cond, tuple):
                return fsm.ongoing(cond[0]) & cond[1]
            return fsm.ongoing(cond) if isinstance(cond, str) else cond

        self._drivers.emit(m, resolve)
        self._outputs(m, resolve)
        m.d.comb += datapath.assignments
        for name, sym, _ in fsmd.results:
            m.d.comb += getattr(self, name).eq(regs[sym])
        return m

    def _outputs(self, m: Module, resolve: Any) -> None:
        """``stalled`` (any waiting state is active and waits) and ``watch``."""
        if hasattr(self, "stalled"):
            terms = [resolve(cond) & value for cond, value in self._stall_terms]
            m.d.comb += self.stalled.eq(_any(terms))
        if self.watch_fields:
            for name, inst in self._instances.items():
                for e in getattr(inst, "watch_fields", ()):
                    value = inst.watch[e.offset : e.offset + e.width]
                    self._watch[f"{name}.{e.name}"] = value
            m.d.comb += self.watch.eq(Cat(*(self._watch[e.name] for e in self.watch_fields)))

    def _memories(self, m: Module) -> dict[Sym, ArrayPorts]:
        """The bank ports of every array, by symbol."""
        ports: dict[Sym, ArrayPorts] = {}
        for mem in self.fsmd.memories:
            arr = ports[mem.sym] = ArrayPorts(mem.sym.name, mem.type, mem.layout)
            if mem.port is None:
                arr.local(m, mem.init, mem.dual)
            else:
                names = bank_names(mem.port, mem.layout, mem.type)
                arr.external([getattr(self, name) for name in names])
        return ports

    def _make_units(self, m: Module) -> dict[UnitKey, wiring.Component]:
        """One operator unit per kind of float operation of the sequential states; the inputs
        the states drive (``_unit_inputs``): its ports, or registers in front of them."""
        units: dict[UnitKey, wiring.Component] = {}
        self._unit_inputs: dict[UnitKey, list[Value]] = {}
        for state in self.fsmd.states:
            for action in state.actions:
                key = action.unit if isinstance(action, UnitIssue) else None
                if key is None or key in units:
                    continue
                unit = units[key] = m.submodules[key.name] = make_unit(key)
                ports = [*unit_inputs(unit, key), unit.valid_in]
                ports += [unit.sub] if key.op == "add" else []
                if key.inputs_registered:
                    front = [Signal.like(p, name=f"{key.name}_{p.name}_next") for p in ports]
                    m.d.sync += [p.eq(f) for p, f in zip(ports, front)]
                    ports = front
                self._unit_inputs[key] = ports
        return units

    def _callees(self, m: Module, ports: dict) -> dict[str, KernelComponent]:
        """One sub-kernel per call site; its read data always see the caller's arrays."""
        instances = {}
        for name, sub in self.fsmd.callees:
            instances[name] = m.submodules[name] = KernelComponent(sub)
        for state in self.fsmd.states:
            if isinstance(state.next, WaitDataflow):
                make_fifos(m, self, state.next, instances)
            for call in sub_calls(state.next):
                self._read_data(m, instances[call.instance], call, ports)
        return instances

    def _read_data(self, m: Module, inst: KernelComponent, call: Any, ports: dict) -> None:
        """The callee's read data from the caller's banks; for a double-buffered array of a
        dataflow loop, from the copy of the task's current iteration (``Task.copies``)."""
        parity = dict(getattr(call, "copies", ()))
        sources: dict[int, tuple[Any, dict]] = {}
        for port, buf in call.arrays:
            one = SimpleNamespace(arrays=((port, buf),))
            for group, (read, _) in self._callee_banks(inst, one, ports):
                sources.setdefault(id(group), (group, {}))[1][parity.get(buf)] = read.data
        for group, data in sources.values():
            if len(data) == 2:
                m.d.comb += group.rd_data.eq(Mux(self._regs[call.counter][0], data[1], data[0]))
            else:
                (value,) = data.values()
                m.d.comb += group.rd_data.eq(value)

    def _callee_banks(self, inst: KernelComponent, wait: WaitCall, ports: dict) -> list:
        """(callee port group, caller bank ports) for every array the call passes."""
        out = []
        for port, buf in wait.arrays:
            mem = next(mm for mm in inst.fsmd.memories if mm.port == port)
            names = bank_names(port, mem.layout, mem.type)
            if len(names) != len(ports[buf].banks):
                raise LoweringError(
                    f"`{buf.name}` is passed to `{inst.fsmd.name}` with {len(ports[buf].banks)} "
                    f"bank(s) but the parameter has {len(names)}",
                    inst.fsmd.loc,
                    "partition the array and the parameter the same way",
                )
            out += [(getattr(inst, n), bank) for n, bank in zip(names, ports[buf].banks)]
        return out

    def _on_start(self, m: Module, regs: dict[Sym, Signal]) -> None:
        params = {sym for _, sym, _ in self.fsmd.scalar_params}
        for name, sym, _ in self.fsmd.scalar_params:
            m.d.sync += regs[sym].eq(getattr(self, name))
        for sym, reg in regs.items():
            if sym not in params:
                m.d.sync += reg.eq(0)

    def _action(self, m: Module, action: object, regs, ports, datapath: Datapath) -> None:
        if isinstance(action, SetReg):
            if action.plan is not None:  # a multiply: DSP blocks or logic (lowering/_dsp.py)
                value = planned_product(datapath, action.value, action.plan)
            else:
                value = datapath(action.value)
            m.d.sync += regs[action.sym].eq(value)
        elif isinstance(action, ReadPort):
            ports[action.buf].read(m, self._drivers, self._state, action, datapath)
        elif isinstance(action, CallStart):
            inst = self._instances[action.instance]
            m.d.comb += inst.start.eq(1)
            for port, value in action.scalars:
                m.d.comb += getattr(inst, port).eq(datapath(value))
        elif isinstance(action, WritePort):
            ports[action.buf].write(self._drivers, self._state, action, datapath)
        elif isinstance(action, UnitIssue):
            ports = self._unit_inputs[action.unit]  # operands, valid_in (and sub)
            for port, value in zip(ports, action.operands):
                self._drivers.value(port, self._state, datapath(value))
            self._drivers.enable(ports[len(action.operands)], self._state)
            if action.unit.op == "add":
                self._drivers.enable(ports[-1], self._state, int(action.sub))

    def _next(self, m: Module, nxt: object, names: list[str], datapath: Datapath) -> None:
        if nxt is None:
            m.d.comb += self.done.eq(1)
            m.next = "IDLE"
        elif isinstance(nxt, Goto):
            m.next = names[nxt.target]
        elif isinstance(nxt, WaitCall):
            self._wait(m, nxt, names)
        elif isinstance(nxt, WaitDataflow):
            wire_dataflow(m, self, nxt, self._state, names[nxt.then], self._instances, datapath)
        elif isinstance(nxt, GetStream):
            port = self._streams[nxt.stream]
            self._drivers.enable(port.ready, self._state)
            self._stall_terms.append((self._state, ~port.valid))
            with m.If(port.valid):
                m.d.sync += self._regs[nxt.sym].eq(port.payload)
                m.next = names[nxt.then]
        elif isinstance(nxt, PutStream):
            port = self._streams[nxt.stream]
            self._drivers.value(port.payload, self._state, datapath(nxt.value))
            self._drivers.enable(port.valid, self._state)
            self._stall_terms.append((self._state, ~port.ready))
            with m.If(port.ready):
                m.next = names[nxt.then]
        elif isinstance(nxt, RunPipeline):
            with m.If(self._pipes[nxt.index].done):
                for action in nxt.exit:
                    m.d.sync += self._regs[action.sym].eq(datapath(action.value))
                if isinstance(nxt.then, int):
                    m.next = names[nxt.then]
                else:
                    self._next(m, nxt.then, names, datapath)
        elif isinstance(nxt, Branch):
            with m.If(datapath(nxt.cond)):
                m.next = names[nxt.then]
            with m.Else():
                m.next = names[nxt.orelse]

    def _wait(self, m: Module, nxt: WaitCall, names: list[str]) -> None:
        inst = self._instances[nxt.instance]
        if hasattr(inst, "stalled"):
            self._stall_terms.append((self._state, inst.stalled))
        d, state = self._drivers, self._state
        for group, (read, write) in self._callee_banks(inst, nxt, self._ports):
            d.value(read.addr, state, group.rd_addr)
            d.enable(read.en, None, group.rd_en)  # 0 while the callee is idle
            d.value(write.addr, state, group.wr_addr)
            d.value(write.data, state, group.wr_data)
            d.enable(write.en, None, group.wr_en)
        with m.If(inst.done):
            for sym, port in nxt.results:
                m.d.sync += self._regs[sym].eq(getattr(inst, port))
            m.next = names[nxt.then]


def usage(fsmd: Fsmd) -> dict[Sym, tuple[bool, bool]]:
    """Whether the kernel (or a kernel it calls) reads and writes each of its arrays."""
    return {sym: (bool(r), bool(w)) for sym, (r, w) in array_use(fsmd).items()}


def _any(terms: list[Value]) -> Value:
    out: Value = Const(0, 1)
    for term in terms:
        out = out | term
    return out


def _info(fsmd: Fsmd, watch: tuple = (), stalls: bool = False) -> KernelInfo:
    params, returns = [], []
    used = usage(fsmd)
    returned = {m.sym: k for k, m in fsmd.array_results}
    params_syms = {m.sym for _, m in fsmd.array_params}
    arrays = [
        ArrayPortInfo(m.port, m.type, i, returned.get(m.sym), *used[m.sym], m.layout)
        for i, m in fsmd.array_params
    ]
    arrays += [
        ArrayPortInfo(m.port, m.type, None, k, *used[m.sym], m.layout)
        for k, m in fsmd.array_results
        if m.sym not in params_syms
    ]
    scalar_in = tuple(ScalarPortInfo(n, t) for n, _, t in fsmd.scalar_params)
    scalar_out = tuple(ScalarPortInfo(n, t) for n, _, t in fsmd.results)
    params = list(fsmd.param_ports)  # arrays, scalars and streams, in parameter order
    results = {k: m.port for k, m in fsmd.array_results}
    scalar_results = iter(p.name for p in scalar_out)
    for k in range(len(fsmd.array_results) + len(fsmd.results)):
        returns.append(results[k] if k in results else next(scalar_results))
    return KernelInfo(
        fsmd.name,
        scalar_in,
        scalar_out,
        tuple(arrays),
        tuple(returns),
        tuple(params),
        watch,
        stalls,
    )
