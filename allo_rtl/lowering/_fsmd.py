"""The lowering's output: a finite-state machine with datapath (FSMD), still over IR expressions.

Each state lasts one clock cycle. In a state the datapath evaluates IR expressions over the
registers (every scalar variable, loop variable and temporary is a register) and over the
read data of memory ports that were addressed in the previous cycle (``port_data``), then at the
clock edge commits the state's actions together and moves to the next state.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from .._errors import Loc
from ..ir._nodes import Expr, Layout, Sym
from ..ir.types import AlloType, ArrayType, StreamType
from ._dsp import DspUse, MulPlan
from ._float import UnitKey

__all__ = [
    "Branch", "CallStart", "Fsmd", "GetStream", "Goto", "Level", "Memory", "PipeOp", "Pipeline",
    "PutStream", "ReadPort", "RunPipeline", "SetReg", "State", "StreamPort", "Task", "UnitIssue",
    "WaitCall", "WaitDataflow", "WritePort",
]  # fmt: skip


@dataclass(frozen=True)
class SetReg:
    """``sym <= value`` at the end of the cycle; ``plan`` says how a multiply ``value`` (of
    two non-constant operands) is built."""

    sym: Sym
    value: Expr
    plan: MulPlan | None = None


@dataclass(frozen=True)
class UnitIssue:
    """Present ``operands`` to the kernel's operator unit ``unit`` (``sub``: an add unit
    subtracts); the result is read ``unit.latency`` cycles later (``State.unit_data``)."""

    unit: UnitKey
    operands: tuple[Expr, ...]
    sub: bool = False


@dataclass(frozen=True)
class ReadPort:
    """Present ``buf[indices]`` to the read port; the data arrive in the next cycle.

    ``bank`` is the bank of a partitioned array the element lives in (0 for one memory), or
    ``None`` when it is only known at run time."""

    buf: Sym
    indices: tuple[Expr, ...]
    bank: int | None = 0


@dataclass(frozen=True)
class WritePort:
    """Write ``value`` to ``buf[indices]`` at the end of the cycle."""

    buf: Sym
    indices: tuple[Expr, ...]
    value: Expr
    bank: int | None = 0


@dataclass(frozen=True)
class CallStart:
    """Pulse ``start`` of sub-kernel instance ``instance`` with its scalar inputs."""

    instance: str
    callee: str
    scalars: tuple[tuple[str, Expr], ...]  # callee input port, value


@dataclass(frozen=True)
class WaitCall:
    """Stay in this state until ``instance`` is done, then latch its scalar results and go on.

    While waiting, the instance drives the ports of the caller's arrays it was given.
    """

    instance: str
    arrays: tuple[tuple[str, Sym], ...]  # callee port group, caller array
    results: tuple[tuple[Sym, str], ...]  # caller register, callee output port
    then: int


@dataclass(frozen=True)
class GetStream:
    """Stay in this state until stream port ``stream`` has data, then take it into register
    ``sym`` and go to ``then``."""

    stream: Sym
    sym: Sym
    then: int


@dataclass(frozen=True)
class PutStream:
    """Offer ``value`` on stream port ``stream``; stay until it is taken, then go to ``then``.
    The state has no other actions, so waiting repeats nothing."""

    stream: Sym
    value: Expr
    then: int


@dataclass(frozen=True)
class Task:
    """One kernel instance of a dataflow region: the caller's arrays it drives and the
    region streams its stream ports connect to (callee port, region stream). A task with
    ``after`` starts (``start``, its scalar inputs read from registers) when those tasks have
    finished; the others start together in the state before the wait."""

    instance: str
    arrays: tuple[tuple[str, Sym], ...]
    streams: tuple[tuple[str, Sym], ...]
    after: tuple[int, ...] = ()  # tasks that must finish before this one starts
    start: CallStart | None = None  # the start of a task that waits for others (``after``)
    # in a dataflow loop: the register counting the iterations the task has finished, the
    # copies of double-buffered arrays (array, the parity of the iterations that use it) and
    # the later tasks whose iteration ``i - lag`` must have finished before iteration ``i``
    counter: Sym | None = None
    copies: tuple[tuple[Sym, int], ...] = ()
    carried: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class WaitDataflow:
    """Stay until every task (all started in this state's predecessor) has finished, then go
    to ``then``. ``streams`` are the region's FIFOs. A dataflow loop (``trips`` not ``None``)
    starts every task here, each ``trips`` times, as its own counter and the others allow
    (``Task.counter``, ``Task.carried``), and stays until all have finished them."""

    tasks: tuple[Task, ...]
    streams: tuple[tuple[Sym, StreamType], ...]
    then: int
    trips: int | None = None


@dataclass(frozen=True)
class StreamPort:
    """A stream parameter of a kernel: port ``name``; ``direction`` is ``"get"`` (an input
    stream) or ``"put"`` (an output stream)."""

    name: str
    sym: Sym
    type: StreamType
    direction: str


@dataclass(frozen=True)
class Goto:
    target: int


@dataclass(frozen=True)
class Branch:
    """Go to ``then`` if ``cond`` (a ``bool`` expression) holds in this cycle, else ``orelse``."""

    cond: Expr
    then: int
    orelse: int


@dataclass(frozen=True)
class Level:
    """One loop of a flattened pipelined nest: ``var`` runs ``lo, lo + step, ...`` (``trips``
    values), held in a counter register of type ``type``."""

    var: Sym
    lo: int
    step: int
    trips: int | None  # None: run-time bounds ``lo_expr``, ``hi_expr`` (read at the start)
    type: AlloType
    lo_expr: Expr | None = None
    hi_expr: Expr | None = None


@dataclass(frozen=True)
class PipeOp:
    """A timed operation of a pipeline iteration.

    ``kind``: ``"load"`` (``buf[indices]`` read, data in ``sym`` one cycle later), ``"mul"``
    (``value`` registered into ``sym`` after ``latency`` cycles), ``"unit"`` (``value``, a
    float operation, computed by an operator unit of its own (``_float.unit_key``), in ``sym``
    ``latency`` cycles later), ``"reg"`` (``value``
    registered, one cycle: a pipeline register that keeps paths within the clock), ``"store"`` (``buf[indices] = value``),
    ``"set"`` (register ``sym`` gets ``value``: a scalar carried to the next iteration or out of
    the loop), ``"get"`` / ``"put"`` (a stream transfer, see ``stream``; the pipeline stalls
    until every transfer of the cycle has happened). ``guard`` (or ``None``) enables a store. ``pin`` marks statements flattened from
    around an inner loop (``"first"``/``"last"`` inner iteration), used by dependence analysis.
    """

    kind: str
    sym: Sym | None
    buf: Sym | None
    indices: tuple[Expr, ...]
    value: Expr | None
    guard: Expr | None
    type: AlloType | None
    pin: str | None
    loc: Loc | None
    bank: int | None = 0
    latency: int = 1  # cycles from a load or multiply to its value (0: a register bank)
    plan: MulPlan | None = None  # how a "mul" is built (DSP blocks or logic)
    stream: Sym | None = None  # the stream of a "get" (value in ``sym``) or "put" (``value``)
    unit: UnitKey | None = None  # the operator unit of a "unit" (its latency is ``latency``)


@dataclass(frozen=True)
class Pipeline:
    """A modulo-scheduled loop nest: an iteration issues every ``ii`` cycles (``levels`` are
    the flattened loops, outermost first); operation ``ops[n]`` runs ``times[n]`` cycles after
    its iteration issued; the last one ends ``depth`` cycles after the issue."""

    name: str
    levels: tuple[Level, ...]
    ops: tuple[PipeOp, ...]
    times: tuple[int, ...]
    ii: int
    requested_ii: int
    depth: int
    reasons: tuple[str, ...]  # why smaller IIs were infeasible
    loc: Loc | None
    ports: tuple[int, ...] = ()  # port of a dual-port memory each access uses (0 or 1)
    generated: bool = False  # made by the compiler (a fill, unrolled copies), not requested

    @property
    def trips(self) -> int | None:
        """Iterations of the flattened nest (``None``: known at run time only)."""
        total = 1
        for lv in self.levels:
            if lv.trips is None:
                return None
            total *= lv.trips
        return total


@dataclass(frozen=True)
class RunPipeline:
    """Run ``pipelines[index]`` of the FSMD to completion; in its last cycle also commit
    ``exit`` (a folded loop latch) and go to ``then`` (a state, or a branch)."""

    index: int
    then: int | Branch
    exit: tuple[SetReg, ...] = ()


@dataclass(frozen=True)
class State:
    """One cycle. ``port_data`` binds temporaries to the read data of an array's port
    (array, bank or ``None`` for the bank the previous cycle's read chose); ``unit_data`` binds
    temporaries to the result of an operator unit (issued ``latency`` cycles before)."""

    actions: tuple[SetReg | ReadPort | WritePort | CallStart | UnitIssue, ...]
    next: Goto | Branch | WaitCall | RunPipeline | GetStream | PutStream | WaitDataflow | None
    # next None: the run ends after this cycle
    port_data: tuple[tuple[Sym, Sym, int | None], ...]
    loc: Loc | None
    unit_data: tuple[tuple[Sym, UnitKey], ...] = ()


@dataclass(frozen=True)
class Memory:
    """An array the kernel accesses: a local memory, or an external port group ``port``."""

    sym: Sym
    type: ArrayType
    port: str | None  # external port group name, or None for a memory inside the kernel
    init: np.ndarray | None  # raw contents of a read-only local memory
    layout: Layout | None = None  # banks of a partitioned array
    dual: bool = False  # true dual-port banks (two read-write ports: ECP5 DP16KD)

    @property
    def banks(self) -> int:
        return 1 if self.layout is None else prod(self.layout.bank_shape(self.type.shape))

    @property
    def registers(self) -> bool:
        """A local array whose every bank holds one element (a complete partition, or one
        element): it is a set of registers, read without latency inside pipelines. Argument
        arrays stay memories in the shell."""
        return self.port is None and self.banks == self.type.size


@dataclass(frozen=True)
class Fsmd:
    """A lowered kernel: states (``entry`` first), registers, memories and its interface.

    ``scalar_params`` and ``results`` map registers to the ports named in docs/interface.md.
    """

    name: str
    states: tuple[State, ...]
    entry: int
    registers: tuple[tuple[Sym, AlloType], ...]
    memories: tuple[Memory, ...]
    scalar_params: tuple[tuple[str, Sym, AlloType], ...]
    results: tuple[tuple[str, Sym, AlloType], ...]
    array_params: tuple[tuple[int, Memory], ...]
    array_results: tuple[tuple[int, Memory], ...]
    loc: Loc
    callees: tuple[tuple[str, Fsmd], ...] = ()  # instance name, lowered callee
    pipelines: tuple[Pipeline, ...] = ()
    sequential_loops: tuple[tuple[str, int, int | None], ...] = ()  # name, line, trips
    param_ports: tuple[str, ...] = ()  # port (group) name of each parameter, in order
    result_ports: tuple[str, ...] = ()  # port (group) name of each returned value, in order
    dsp: DspUse | None = None  # the DSP blocks of the design (top kernel only)
    streams: tuple[StreamPort, ...] = ()  # stream parameters (dataflow kernel instances)
