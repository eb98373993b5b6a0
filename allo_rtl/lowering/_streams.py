"""Streams and dataflow regions in the controller (a mixin of the lowering's statement visitor).

``x = s.get()`` is a state of its own that waits for data; ``s.put(v)`` computes ``v`` (loads
first) and offers it in a state that waits until the stream takes it; waiting states do nothing
else, so a stall repeats no work. A :class:`~allo_rtl.ir._nodes.Dataflow` statement starts every
task in one cycle and waits in one state until all have finished; its streams become FIFOs of
the caller and its tasks sub-kernel instances (hw/_kernel.py).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .._errors import LoweringError
from ..ir._fold import loop_range
from ..ir._nodes import (
    Alloc,
    ArrayRef,
    Binary,
    Const,
    Dataflow,
    Expr,
    For,
    Function,
    Load,
    Store,
    StreamGet,
    StreamPut,
    StreamRef,
    Sym,
    Var,
    walk,
)  # fmt: skip
from ..ir._rewrite import substitute
from ..ir.types import StreamType, index
from ._fsmd import (
    CallStart,
    GetStream,
    Goto,
    PutStream,
    SetReg,
    State,
    StreamPort,
    Task,
    WaitDataflow,
)  # fmt: skip

__all__ = ["StreamLowering", "stream_ports"]


class StreamLowering:
    """Mixin of ``_Lowering``: stream transfers and dataflow statements."""

    fn: Function
    succ: int

    def get_stream(self, sym: Sym, get: StreamGet, loc: Any) -> int:
        (state,) = self.reserve()  # type: ignore[attr-defined]
        self.states[state] = State((), GetStream(get.stream, sym, self.succ), (), loc)  # type: ignore[attr-defined]
        return state

    def visit_StreamPut(self, s: StreamPut) -> int:
        cycles, (value,) = self.stage([s.value])  # type: ignore[attr-defined]
        return self.emit(cycles, PutStream(s.stream, value, self.succ), s.loc)  # type: ignore[attr-defined]

    def visit_Dataflow(self, s: Dataflow) -> int:
        tasks, starts = self.tasks(s)
        cycles, values = self.stage([v for *_, sc in starts for _, v in sc])  # type: ignore[attr-defined]
        it = iter(values)
        for n, (instance, name, scalars) in enumerate(starts):
            pairs = tuple((port, next(it)) for port, _ in scalars)
            if not s.after(n):
                cycles[-1].actions.append(CallStart(instance, name, pairs))
                continue
            held = []  # a later start reads its scalar inputs from registers
            for port, value in pairs:
                reg = Sym(f"{instance}_{port}")
                self.registers[reg] = value.type  # type: ignore[attr-defined]
                cycles[-1].actions.append(SetReg(reg, value))
                held.append((port, Var(reg, value.type, value.loc)))
            tasks[n] = replace(tasks[n], start=CallStart(instance, name, tuple(held)))
        (wait,) = self.reserve()  # type: ignore[attr-defined]
        self.states[wait] = State((), WaitDataflow(tuple(tasks), s.streams, self.succ), (), s.loc)  # type: ignore[attr-defined]
        return self.emit(cycles, Goto(wait), s.loc)  # type: ignore[attr-defined]

    def tasks(self, s: Dataflow) -> tuple[list[Task], list[tuple[str, str, list]]]:
        """The kernel instance of each task of ``s`` (lowered), and its start: (instance,
        kernel, [(scalar port, argument)])."""
        from ._lower import _lower_function  # the recursion into callees lives there

        tasks, starts = [], []
        for call in s.tasks:
            callee = self.module.func(call.callee)  # type: ignore[attr-defined]
            sub = _lower_function(callee, self.module, self.cache)  # type: ignore[attr-defined]
            taken = {name for name, _ in self.callees}  # type: ignore[attr-defined]
            instance = callee.sym.name
            if instance in taken:
                instance = f"{instance}_{len(self.callees)}"  # type: ignore[attr-defined]
            self.callees.append((instance, sub))  # type: ignore[attr-defined]
            arrays, streams, scalars = [], [], []
            for arg, port in zip(call.args, sub.param_ports):
                if isinstance(arg, ArrayRef):
                    arrays.append((port, arg.sym))
                elif isinstance(arg, StreamRef):
                    streams.append((port, arg.sym))
                else:
                    scalars.append((port, arg))
            tasks.append(Task(instance, tuple(arrays), tuple(streams), s.after(len(tasks))))
            starts.append((instance, sub.name, scalars))
        return tasks, starts

    def dataflow_loop(self, s: For) -> int:
        """A dataflow loop (``s.dataflow(loop)``): one waiting state in which every task runs
        ``trips`` times, each iteration started as soon as its counter, its dependences and the
        double buffers allow (hw/_dataflow.py); the arrays declared in the body get a second
        copy, ``<name>_pong``, used by the odd iterations (when more than one task takes them:
        a task's own iterations never overlap)."""
        values = loop_range(s)
        flow = next(x for x in s.body if isinstance(x, Dataflow))
        _check_loop(s, values)
        self.loops.append((f"{s.band}.{s.name}", s.loc.line if s.loc else 0, len(values)))  # type: ignore[attr-defined,arg-type]
        pong = {}
        for a in (x for x in s.body if isinstance(x, Alloc)):
            if sum(_passes(call, a.sym) for call in flow.tasks) < 2:
                continue
            pong[a.sym] = Sym(f"{a.sym.name}_pong")
            self.memories[pong[a.sym]] = replace(self.memories[a.sym], sym=pong[a.sym])  # type: ignore[attr-defined]
        tasks, starts = self.tasks(flow)
        out = []
        for n, (task, (instance, name, scalars)) in enumerate(zip(tasks, starts)):
            counter = Sym(f"{instance}_iter")
            self.registers[counter] = index  # type: ignore[attr-defined]
            now = _iteration(s, values, Var(counter, index, s.loc))  # type: ignore[arg-type]
            pairs = tuple((port, substitute(v, {s.var: now})) for port, v in scalars)
            doubled = [(port, b) for port, b in task.arrays if b in pong]
            out.append(replace(
                task,
                arrays=task.arrays + tuple((port, pong[b]) for port, b in doubled),
                start=CallStart(instance, name, pairs),
                counter=counter,
                copies=tuple((b, 0) for _, b in doubled) + tuple((pong[b], 1) for _, b in doubled),
                carried=flow.carried_after(n),
            ))  # fmt: skip
        (wait,) = self.reserve()  # type: ignore[attr-defined]
        nxt = WaitDataflow(tuple(out), flow.streams, self.succ, trips=len(values))  # type: ignore[arg-type]
        self.states[wait] = State((), nxt, (), s.loc)  # type: ignore[attr-defined]
        return wait


def _check_loop(s: For, values: range | None) -> None:
    """The RTL targets' conditions on a dataflow loop: constant bounds, a body of the tasks and
    their buffers only (a fill loop left by ``prepare``: a buffer's initialisation is live),
    scalar task arguments computed without reading arrays (they are evaluated at each start)."""
    if values is None:
        raise LoweringError(
            f"dataflow loop `{s.name}` has bounds known only at run time; RTL targets need "
            "constant bounds",
            s.loc,
            "write the bounds with constants",
        )
    extra = next((x for x in s.body if not isinstance(x, (Alloc, Dataflow))), None)
    if extra is not None:
        buf = next(n.buf for n in walk(extra) if isinstance(n, Store))
        raise LoweringError(
            f"dataflow loop `{s.name}`: the first kernel that takes `{buf.name}` reads it "
            "before writing all of it; RTL targets double-buffer the arrays of a dataflow "
            "loop's body and do not clear them each iteration",
            s.loc,
            f"write every element of `{buf.name}` first in that kernel, or declare "
            f"`{buf.name}` before the loop",
        )
    flow = next(x for x in s.body if isinstance(x, Dataflow))
    for call in flow.tasks:
        if any(isinstance(n, Load) for a in call.args for n in walk(a)):
            raise LoweringError(
                f"dataflow loop `{s.name}`: a scalar argument of `{call.callee.name}` reads an "
                "array; RTL targets compute the arguments of each iteration's start from the "
                "loop variable",
                call.loc,
                "pass the array and read the element inside the kernel",
            )


def _passes(call: Any, sym: Sym) -> bool:
    return any(isinstance(a, ArrayRef) and a.sym == sym for a in call.args)


def _iteration(s: For, values: range, counter: Var) -> Expr:
    """The loop variable's value in iteration ``counter``: ``lo + counter * step``."""
    step = Binary("mul", counter, Const(values.step, index, s.loc), index, s.loc)
    return Binary("add", Const(values.start, index, s.loc), step, index, s.loc)


def stream_ports(fn: Function, ports: tuple[str, ...]) -> tuple[StreamPort, ...]:
    """The stream parameters of ``fn`` with their port names and directions."""
    gets = {n.stream for n in walk(fn) if isinstance(n, StreamGet)}
    puts = {n.stream for n in walk(fn) if isinstance(n, StreamPut)}
    out = []
    for p, port in zip(fn.params, ports):
        if not isinstance(p.type, StreamType):
            continue
        if p.sym in gets and p.sym in puts:
            raise LoweringError(
                f"kernel `{fn.sym.name}` both puts into and gets from stream `{p.sym.name}`; "
                "RTL targets connect a stream's two ends to different kernels",
                p.loc,
                "keep the value in a local variable instead of a stream",
            )
        out.append(StreamPort(port, p.sym, p.type, "get" if p.sym in gets else "put"))
    return tuple(out)
