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
from ..ir._nodes import (
    ArrayRef,
    Dataflow,
    Function,
    StreamGet,
    StreamPut,
    StreamRef,
    Sym,
    Var,
    walk,
)  # fmt: skip
from ..ir.types import StreamType
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
