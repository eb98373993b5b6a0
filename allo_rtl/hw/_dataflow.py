"""Dataflow regions in hardware: kernel instances that run at once, with FIFOs between them.

The region's controller starts every task in one cycle and waits in one state until all have
finished. Each stream is an ``amaranth.lib.fifo.SyncFIFO`` of the declared depth, connected
with ``amaranth.lib.stream`` interfaces from the producing task's output stream port to the
consuming task's input stream port (a value put in one cycle can be taken in the next). Tasks
drive the region's arrays directly, one task per bank port: two tasks that read (or write) the
same bank are refused, with a hint to partition the array so each has its own.
"""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any

from amaranth.hdl import Cat, Const, Module, ResetInserter, Shape, Signal, Value
from amaranth.lib import fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from .._errors import LoweringError
from ..ir._nodes import Sym, identifier
from ..lowering import Fsmd, ReadPort, StreamPort, WaitCall, WaitDataflow, WritePort
from ._info import WatchEntry

__all__ = [
    "array_use", "bank_usage", "can_stall", "make_fifos", "stream_member", "sub_calls",
    "watch_layout", "wire_dataflow",
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
            bits = Shape.cast(range(t.depth + 1)).width  # level, then the high-water mark
            add(WatchEntry(sym.name, "fifo", 0, 2 * bits, t.depth))
    for name, sub in fsmd.callees:
        for e in watch_layout(sub):
            gets = tuple(f"{name}.{g}" for g in e.gets)
            puts = tuple(f"{name}.{p}" for p in e.puts)
            add(WatchEntry(f"{name}.{e.name}", e.kind, 0, e.width, e.depth, gets, puts))
    return tuple(entries)


def sub_calls(nxt: Any) -> list[Any]:
    """The kernel instances a state waits for, with the arrays they drive: a ``WaitCall``, or
    the tasks of a ``WaitDataflow``."""
    if isinstance(nxt, WaitCall):
        return [nxt]
    return list(nxt.tasks) if isinstance(nxt, WaitDataflow) else []


def bank_usage(fsmd: Fsmd) -> dict[str, tuple[set[int], set[int]]]:
    """Per external array port group of ``fsmd``: the banks it (or a kernel it calls) reads
    and the banks it writes."""
    use = array_use(fsmd)
    return {m.port: use[m.sym] for m in fsmd.memories if m.port is not None}


def array_use(fsmd: Fsmd) -> dict[Sym, tuple[set[int], set[int]]]:
    """Per array of ``fsmd`` (local or external): the banks it (or a kernel it calls) reads
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
        for call in sub_calls(st.next):
            merge(callees[call.instance], call.arrays)
    for p in fsmd.pipelines:
        for op in p.ops:
            if op.kind in ("load", "store"):
                mark(op.buf, op.bank, int(op.kind == "store"))  # type: ignore[arg-type]
    return use


def make_fifos(m: Module, kernel: Any, wait: WaitDataflow, instances: dict) -> None:
    """The FIFOs of region ``wait``, connected to the tasks' stream ports; each watch field is
    the FIFO's level and its highest level since reset. The FIFOs are held empty while the
    controller is not in the region's state (``kernel._region_active``, driven by
    :func:`wire_dataflow`): values a run leaves in a stream do not reach the next run, as on
    the NumPy target."""
    active = kernel._region_active[id(wait)] = Signal(
        name=f"region{len(kernel._region_active)}_active"
    )
    for sym, buf in zip((sym for sym, _ in wait.streams), _fifos(m, wait, instances, active)):
        high = Signal.like(buf.level, name=f"fifo_{identifier(sym.name)}_high_water")
        with m.If(buf.level > high):
            m.d.sync += high.eq(buf.level)
        kernel._watch[sym.name] = Cat(buf.level, high)


def wire_dataflow(
    m: Module, kernel: Any, wait: WaitDataflow, state: str, then: str, instances: dict,
    datapath: Any,
) -> None:  # fmt: skip
    """The starts, array connections and completion of ``wait``, inside the controller's
    ``state`` (it goes to ``then`` when every task has finished). In a dataflow loop a copy of
    a double-buffered array is driven by the tasks whose current iteration has its parity
    (the others use the other copy); tasks that share any other array never overlap."""
    m.d.comb += kernel._region_active[id(wait)].eq(1)  # in the region's state
    if wait.trips is None:
        _completion(m, kernel, wait, instances, then, state, datapath)
    else:
        _loop_completion(m, kernel, wait, instances, then, state, datapath)
    order = _order(wait)
    for (buf, bank, write), users in _bank_users(kernel, wait, instances).items():
        for a, b in itertools.combinations(users, 2):
            if b not in order[a] and a not in order[b] and not _exclusive(wait, a, b):
                other, inst = wait.tasks[a].instance, instances[wait.tasks[b].instance]
                _conflict(buf, bank, write, other, inst, kernel)
        for n in users:
            task = wait.tasks[n]
            inst = instances[task.instance]
            port = next(p for p, b in task.arrays if b == buf)
            one = SimpleNamespace(arrays=((port, buf),))
            group, (read, wport) = kernel._callee_banks(inst, one, kernel._ports)[bank]
            mine = _copy_gate(kernel, task, buf)
            cond = state if len(users) == 1 else (state, inst.busy & mine)  # one is busy
            if write:
                kernel._drivers.value(wport.addr, cond, group.wr_addr)
                kernel._drivers.value(wport.data, cond, group.wr_data)
                kernel._drivers.enable(wport.en, None, group.wr_en & mine)  # 0 while idle
            else:
                kernel._drivers.value(read.addr, cond, group.rd_addr)
                kernel._drivers.enable(read.en, None, group.rd_en & mine)


def _copy_gate(kernel: Any, task: Any, buf: Sym) -> Value:
    """1 when ``task`` may drive array ``buf`` now: always, except for a copy of a
    double-buffered array, which the task drives in the iterations of that copy's parity."""
    parity = dict(task.copies).get(buf)
    if parity is None:
        return Const(1, 1)
    odd = kernel._regs[task.counter][0]
    return odd if parity else ~odd


def _exclusive(wait: WaitDataflow, a: int, b: int) -> bool:
    """Whether tasks ``a`` < ``b`` of a dataflow loop never run at the same time: ``b`` runs
    iteration ``i`` after ``a`` (a dependence) and ``a`` iteration ``i + 1`` after ``b``'s
    iteration ``i`` (a lag-1 dependence)."""
    if wait.trips is None:
        return False
    return a in _order(wait)[b] and (b, 1) in wait.tasks[a].carried


def _bank_users(kernel: Any, wait: WaitDataflow, instances: dict) -> dict[tuple, list[int]]:
    """(array, bank, 0 read / 1 write) -> the tasks that use that bank port."""
    users: dict[tuple[Sym, int, int], list[int]] = {}
    for n, task in enumerate(wait.tasks):
        inst = instances[task.instance]
        usage = bank_usage(inst.fsmd)
        for port, buf in task.arrays:
            one = SimpleNamespace(arrays=((port, buf),))
            for bank in range(len(kernel._callee_banks(inst, one, kernel._ports))):
                for write in (0, 1):
                    if bank in usage[port][write]:
                        users.setdefault((buf, bank, write), []).append(n)
    return users


def _order(wait: WaitDataflow) -> list[set[int]]:
    """For each task, the tasks that finish before it starts (the closure of ``after``)."""
    before: list[set[int]] = []
    for task in wait.tasks:
        closure = set(task.after)
        for d in task.after:
            closure |= before[d]
        before.append(closure)
    return before


def _conflict(buf: Sym, bank: int, write: int, other: str, inst: Any, kernel: Any) -> None:
    what = "write" if write else "read"
    where = f" bank {bank}" if len(kernel._ports[buf].banks) > 1 else ""
    raise LoweringError(
        f"dataflow tasks `{other}` and `{inst.fsmd.name}` both {what} array `{buf.name}`{where}, "
        f"which has one {what} port, while running at the same time",
        inst.fsmd.loc,
        f"partition `{buf.name}` (s.partition) so that each task uses banks of its own",
    )


def _fifos(m: Module, wait: WaitDataflow, instances: dict, active: Value) -> list[fifo.SyncFIFO]:
    ends: dict[Sym, dict[str, Any]] = {sym: {} for sym, _ in wait.streams}
    for task in wait.tasks:
        inst = instances[task.instance]
        ports = {sp.name: sp for sp in inst.fsmd.streams}
        for port, sym in task.streams:
            ends[sym][ports[port].direction] = getattr(inst, port)
    out = []
    for sym, t in wait.streams:
        buf = fifo.SyncFIFO(width=t.dtype.bits, depth=t.depth)
        m.submodules[f"fifo_{identifier(sym.name)}"] = ResetInserter(~active)(buf)
        wiring.connect(m, ends[sym]["put"], buf.w_stream)
        wiring.connect(m, buf.r_stream, ends[sym]["get"])
        out.append(buf)
    return out


def _completion(
    m: Module, kernel: Any, wait: WaitDataflow, instances: dict, then: str, state: str,
    datapath: Any,
) -> None:  # fmt: skip
    """Each task's ``done`` pulse is remembered until all tasks are done; a task with ``after``
    starts in the cycle its last predecessor finishes. When every unfinished task waits (on a
    stream, or for a predecessor) in the same cycle, nothing can change any more: the region
    is deadlocked, and says so on the kernel's ``stalled`` output."""
    flags = [Signal(name=f"{t.instance}_finished") for t in wait.tasks]
    over = [flag | instances[t.instance].done for flag, t in zip(flags, wait.tasks)]
    every: Value = Value.cast(1)
    for end in over:
        every = every & end
    blocked: Value = Value.cast(1)
    for task, flag, end in zip(wait.tasks, flags, over):
        inst = instances[task.instance]
        with m.If(inst.done):
            m.d.sync += flag.eq(1)
        waits = inst.stalled if hasattr(inst, "stalled") else Value.cast(0)
        if task.start is not None:
            waits = waits | _deferred_start(m, task, inst, over, every, datapath)
        blocked = blocked & (end | waits)
        kernel._watch[task.instance] = Cat(flag, waits)
    with m.If(every):
        m.d.sync += [f.eq(0) for f in flags]
        m.next = then
    kernel._stall_terms.append((state, blocked & ~every))


def _loop_completion(
    m: Module, kernel: Any, wait: WaitDataflow, instances: dict, then: str, state: str,
    datapath: Any,
) -> None:  # fmt: skip
    """The tasks of a dataflow loop: each counts the iterations it has finished
    (``Task.counter``) and starts its next one when it is idle and its dependences allow:
    earlier tasks of the same iteration finished (``after``), later tasks' iteration ``i -
    lag`` finished (``carried``). The state is left when every task has finished all
    ``trips`` iterations; the counters then return to 0. Deadlock: as in ``_completion``."""
    counts = [kernel._regs[t.counter] for t in wait.tasks]
    over = [count == wait.trips for count in counts]
    every: Value = Value.cast(1)
    for end in over:
        every = every & end
    blocked: Value = Value.cast(1)
    for n, task in enumerate(wait.tasks):
        inst = instances[task.instance]
        running = Signal(name=f"{task.instance}_running")
        ready = ~running & ~over[n]
        for d in task.after:
            ready = ready & (counts[d] > counts[n])
        for later, lag in task.carried:
            ready = ready & (counts[later] + lag > counts[n])
        with m.If(ready):
            m.d.sync += running.eq(1)
            m.d.comb += inst.start.eq(1)
            for port, value in task.start.scalars:
                m.d.comb += getattr(inst, port).eq(datapath(value))
        with m.If(inst.done):
            m.d.sync += [running.eq(0), counts[n].eq(counts[n] + 1)]
        waits = inst.stalled if hasattr(inst, "stalled") else Value.cast(0)
        waits = waits | (~running & ~ready & ~over[n])
        blocked = blocked & (over[n] | waits)
        kernel._watch[task.instance] = Cat(over[n], waits)
    with m.If(every):
        m.d.sync += [count.eq(0) for count in counts]
        m.next = then
    kernel._stall_terms.append((state, blocked & ~every))


def _deferred_start(
    m: Module, task: Any, inst: Any, over: list[Value], every: Value, datapath: Any
) -> Value:
    """Start ``task`` once its predecessors are over; returns "still waiting for them"."""
    started = Signal(name=f"{task.instance}_started")
    ready: Value = Value.cast(1)
    for d in task.after:
        ready = ready & over[d]
    with m.If(~started & ready):
        m.d.sync += started.eq(1)
        m.d.comb += inst.start.eq(1)
        for port, value in task.start.scalars:
            m.d.comb += getattr(inst, port).eq(datapath(value))
    with m.If(every):
        m.d.sync += started.eq(0)
    return ~started & ~ready
