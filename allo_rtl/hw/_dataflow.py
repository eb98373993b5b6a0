"""Dataflow regions in hardware: kernel instances that run at once, with FIFOs between them.

The region's controller starts every task in one cycle and waits in one state until all have
finished. Each stream is an ``amaranth.lib.fifo.SyncFIFO`` of the declared depth, connected
with ``amaranth.lib.stream`` interfaces from the producing task's output stream port to the
consuming task's input stream port (a value put in one cycle can be taken in the next). Tasks
drive the region's arrays directly, one task per bank port: two tasks that read (or write) the
same bank are refused, with a hint to partition the array so each has its own.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from amaranth.hdl import Cat, Module, Shape, Signal, Value
from amaranth.lib import fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from .._errors import LoweringError
from ..ir._nodes import Sym
from ..lowering import Fsmd, ReadPort, StreamPort, WaitCall, WaitDataflow, WritePort
from ._info import WatchEntry

__all__ = [
    "bank_usage", "can_stall", "make_fifos", "stream_member", "watch_layout", "wire_dataflow",
]  # fmt: skip


def stream_member(sp: StreamPort) -> Any:
    """The port of a stream parameter: an output stream for puts, an input stream for gets."""
    sig = stream.Signature(sp.type.dtype.bits)
    return Out(sig) if sp.direction == "put" else In(sig)


def can_stall(fsmd: Fsmd) -> bool:
    """Whether ``fsmd`` can wait on a stream: it has stream ports, runs a dataflow region, or
    calls a kernel that can."""
    callees = dict(fsmd.callees)
    if fsmd.streams:
        return True
    for st in fsmd.states:
        if isinstance(st.next, WaitDataflow):
            return True
        if isinstance(st.next, WaitCall) and can_stall(callees[st.next.instance]):
            return True
    return False


def watch_layout(fsmd: Fsmd) -> tuple[WatchEntry, ...]:
    """The fields of the ``watch`` output of ``fsmd``: its regions' tasks and FIFOs, then
    those of the kernels it calls (prefixed with the instance name)."""
    entries: list[WatchEntry] = []
    offset = 0

    def add(entry: WatchEntry) -> None:
        nonlocal offset
        entries.append(WatchEntry(entry.name, entry.kind, offset, entry.width, entry.depth,
                                  entry.gets, entry.puts))  # fmt: skip
        offset += entry.width

    callees = dict(fsmd.callees)
    for st in fsmd.states:
        if not isinstance(st.next, WaitDataflow):
            continue
        for task in st.next.tasks:
            dirs = {sp.name: sp.direction for sp in callees[task.instance].streams}
            gets = tuple(sym.name for port, sym in task.streams if dirs[port] == "get")
            puts = tuple(sym.name for port, sym in task.streams if dirs[port] == "put")
            add(WatchEntry(task.instance, "task", 0, 2, 0, gets, puts))
        for sym, t in st.next.streams:
            add(WatchEntry(sym.name, "fifo", 0, Shape.cast(range(t.depth + 1)).width, t.depth))
    for name, sub in fsmd.callees:
        for e in watch_layout(sub):
            gets = tuple(f"{name}.{g}" for g in e.gets)
            puts = tuple(f"{name}.{p}" for p in e.puts)
            add(WatchEntry(f"{name}.{e.name}", e.kind, 0, e.width, e.depth, gets, puts))
    return tuple(entries)


def bank_usage(fsmd: Fsmd) -> dict[str, tuple[set[int], set[int]]]:
    """Per external array port group of ``fsmd``: the banks it (or a kernel it calls) reads
    and the banks it writes."""
    mems = {m.sym: m for m in fsmd.memories}
    use: dict[Sym, tuple[set[int], set[int]]] = {s: (set(), set()) for s in mems}
    callees = dict(fsmd.callees)

    def mark(sym: Sym, bank: int | None, write: int) -> None:
        use[sym][write].update(range(mems[sym].banks) if bank is None else (bank,))

    def merge(sub: Fsmd, arrays: tuple[tuple[str, Sym], ...]) -> None:
        inner = bank_usage(sub)
        for port, buf in arrays:
            for write in (0, 1):
                use[buf][write].update(inner[port][write])

    for st in fsmd.states:
        for a in st.actions:
            if isinstance(a, (ReadPort, WritePort)):
                mark(a.buf, a.bank, int(isinstance(a, WritePort)))
        if isinstance(st.next, WaitCall):
            merge(callees[st.next.instance], st.next.arrays)
        elif isinstance(st.next, WaitDataflow):
            for task in st.next.tasks:
                merge(callees[task.instance], task.arrays)
    for p in fsmd.pipelines:
        for op in p.ops:
            if op.kind in ("load", "store"):
                mark(op.buf, op.bank, int(op.kind == "store"))  # type: ignore[arg-type]
    return {m.port: use[m.sym] for m in fsmd.memories if m.port is not None}


def make_fifos(m: Module, kernel: Any, wait: WaitDataflow, instances: dict) -> None:
    """The FIFOs of region ``wait``, connected to the tasks' stream ports."""
    for sym, buf in zip((sym for sym, _ in wait.streams), _fifos(m, wait, instances)):
        kernel._watch[sym.name] = buf.level


def wire_dataflow(
    m: Module, kernel: Any, wait: WaitDataflow, state: str, then: str, instances: dict
) -> None:
    """The array connections and completion of ``wait``, inside the controller's ``state``
    (it goes to ``then`` when every task has finished)."""
    _completion(m, kernel, wait, instances, then, state)
    owners: dict[tuple[Sym, int, int], str] = {}
    for task in wait.tasks:
        inst = instances[task.instance]
        usage = bank_usage(inst.fsmd)
        for port, buf in task.arrays:
            reads, writes = usage[port]
            one = SimpleNamespace(arrays=((port, buf),))
            for bank, (group, (read, write)) in enumerate(
                kernel._callee_banks(inst, one, kernel._ports)
            ):
                if bank in reads:
                    _claim(owners, buf, bank, 0, task.instance, inst)
                    kernel._drivers.value(read.addr, state, group.rd_addr)
                    kernel._drivers.enable(read.en, state, group.rd_en)
                if bank in writes:
                    _claim(owners, buf, bank, 1, task.instance, inst)
                    kernel._drivers.value(write.addr, state, group.wr_addr)
                    kernel._drivers.value(write.data, state, group.wr_data)
                    kernel._drivers.enable(write.en, state, group.wr_en)


def _claim(owners: dict, buf: Sym, bank: int, write: int, name: str, inst: Any) -> None:
    key = (buf, bank, write)
    other = owners.setdefault(key, name)
    if other != name:
        what = "write" if write else "read"
        where = f" bank {bank}" if bank else ""
        raise LoweringError(
            f"dataflow tasks `{other}` and `{name}` both {what} array `{buf.name}`{where}, which "
            f"has one {what} port; RTL targets give each bank port to one task",
            inst.fsmd.loc,
            f"partition `{buf.name}` (s.partition) so that each task uses banks of its own",
        )


def _identifier(name: str) -> str:
    return re.sub(r"\W+", "_", name).strip("_")


def _fifos(m: Module, wait: WaitDataflow, instances: dict) -> list[fifo.SyncFIFO]:
    ends: dict[Sym, dict[str, Any]] = {sym: {} for sym, _ in wait.streams}
    for task in wait.tasks:
        inst = instances[task.instance]
        ports = {sp.name: sp for sp in inst.fsmd.streams}
        for port, sym in task.streams:
            ends[sym][ports[port].direction] = getattr(inst, port)
    out = []
    for sym, t in wait.streams:
        buf = fifo.SyncFIFO(width=t.dtype.bits, depth=t.depth)
        m.submodules[f"fifo_{_identifier(sym.name)}"] = buf
        wiring.connect(m, ends[sym]["put"], buf.w_stream)
        wiring.connect(m, buf.r_stream, ends[sym]["get"])
        out.append(buf)
    return out


def _completion(
    m: Module, kernel: Any, wait: WaitDataflow, instances: dict, then: str, state: str
) -> None:
    """Each task's ``done`` pulse is remembered until all tasks are done. When every unfinished
    task waits on a stream in the same cycle, nothing can change any more: the region is
    deadlocked, and says so on the kernel's ``stalled`` output."""
    finished: list[Signal] = []
    every: Value = Value.cast(1)
    blocked: Value = Value.cast(1)
    fields = []
    for task in wait.tasks:
        inst = instances[task.instance]
        flag = Signal(name=f"{task.instance}_finished")
        with m.If(inst.done):
            m.d.sync += flag.eq(1)
        finished.append(flag)
        every = every & (flag | inst.done)
        waits = inst.stalled if hasattr(inst, "stalled") else Value.cast(0)
        blocked = blocked & (flag | inst.done | waits)
        fields.append((flag, waits))
    with m.If(every):
        m.d.sync += [f.eq(0) for f in finished]
        m.next = then
    for task, (flag, waits) in zip(wait.tasks, fields):
        kernel._watch[task.instance] = Cat(flag, waits)
    kernel._stall_terms.append((state, blocked & ~every))
