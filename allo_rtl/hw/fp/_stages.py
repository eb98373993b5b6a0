"""Pipeline machinery of the arithmetic units: combinational :class:`Step` objects with
estimated delays, registers placed between them (:func:`register_counts`,
:func:`build_stages`) and the plain unit component (:class:`_Unit`).

A unit is a list of steps; ``latency`` registers go where they minimise the longest estimated
register-to-register delay (the last one after the last step, so the result comes from a
register), and a unit's default latency is the fewest stages that each fit
:data:`BUDGET_NS`. The delays are estimates for the ECP5 calibrated with nextpnr.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from amaranth.hdl import Module, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = [
    "BUDGET_NS",
    "FANOUT_NS",
    "LUT_NS",
    "State",
    "Step",
    "build_stages",
    "carry_ns",
    "default_latency",
    "flags_ns",
    "levels",
    "lzc_ns",
    "register_counts",
]

#: Estimated logic delay (ns) one pipeline stage may hold: a 120 MHz period (8.33 ns) on ECP5
#: less about 2 ns of clock-to-output, setup and routing into the stage (nextpnr, 85F -6).
BUDGET_NS = 6.0
LUT_NS = 0.9  # one LUT level and its routing
FANOUT_NS = 2.2  # a recurrence step's decision routed to every bit of the next carry chain

State = dict[str, Value]


def carry_ns(width: int) -> float:
    """Estimated delay of a ``width``-bit add or compare on a carry chain."""
    return 1.3 + 0.04 * width


def flags_ns(man_bits: int) -> float:
    """Estimated delay of an operand's class flags (zero, infinity, NaN: a fraction of
    ``man_bits`` bits compared with zero)."""
    return LUT_NS * (levels(man_bits) // 2 + 2)


def levels(n: int) -> int:
    """``ceil(log2(n))``: the depth of a balanced tree over ``n`` leaves."""
    return max(n - 1, 0).bit_length()


def lzc_ns(width: int) -> float:
    """Estimated delay of ``_round.leading_zeros`` over ``width`` bits."""
    return 0.7 * levels(width) + LUT_NS


@dataclass(frozen=True)
class Step:
    """A combinational piece of a unit's datapath: ``run`` maps the values live before it to
    the values live after it (``valid`` is carried by :func:`build_stages`)."""

    name: str
    delay: float
    run: Callable[[State], State]


def register_counts(delays: Sequence[float], latency: int, budget: float = BUDGET_NS) -> list[int]:
    """How many registers follow each step: ``latency`` in all, the last step always followed
    by one. The registers split the steps into stages whose largest delay is as small as it
    can be; among such splits, the one with the least total delay beyond ``budget``."""
    n = len(delays)
    if latency <= 0:
        return [0] * n
    if latency >= n:
        return [1] * (n - 1) + [latency - n + 1]
    prefix = [0.0]
    for d in delays:
        prefix.append(prefix[-1] + d)
    limit, _ = _partition(prefix, latency, lambda d: d, max)

    def excess(d: float) -> float:
        return max(0.0, d - budget) if d <= limit + 1e-9 else float("inf")

    _, cuts = _partition(prefix, latency, excess, lambda a, b: a + b)
    counts = [0] * n
    for j in cuts:
        counts[j - 1] = 1
    return counts


def _partition(
    prefix: list[float],
    groups: int,
    cost: Callable[[float], float],
    combine: Callable[[float, float], float],
) -> tuple[float, tuple[int, ...]]:
    """The split of the steps (``prefix``: running sums of their delays) into ``groups``
    runs that minimises ``combine`` over the runs' ``cost`` (of their delay): (the minimum,
    the end positions of the runs)."""
    n = len(prefix) - 1
    best: dict[int, tuple[float, tuple[int, ...]]] = {0: (0.0, ())}
    for k in range(1, groups + 1):
        best = {
            j: min(
                (combine(value, cost(prefix[j] - prefix[i])), cuts + (j,))
                for i, (value, cuts) in best.items()
                if i < j
            )
            for j in range(k, n - groups + k + 1)
        }
    return best[n]


def default_latency(delays: Sequence[float], budget: float = BUDGET_NS) -> int:
    """The fewest stages whose delays each fit ``budget`` (a longer step is a stage alone)."""
    stages, current = 0, None
    for d in delays:
        if current is None or current + d > budget:
            stages, current = stages + 1, d
        else:
            current += d
    return stages


def build_stages(
    m: Module, steps: Sequence[Step], state: State, valid: Value, latency: int
) -> tuple[State, Value]:
    """Run ``steps`` on ``state`` with ``latency`` registers placed by :func:`register_counts`;
    ``valid`` goes through the same registers. Returns the final state and valid."""
    counts = register_counts([s.delay for s in steps], latency)
    for step, count in zip(steps, counts):
        # one submodule per step, its outputs named wires or registers: the simulator then
        # evaluates each step once per change of its inputs, and shared subexpressions once
        sub = m.submodules[step.name] = Module()
        state = step.run(state)
        if count == 0:
            state = {key: _signal(sub.d.comb, v, f"{key}_{step.name}") for key, v in state.items()}
        for k in range(count):
            suffix = f"{step.name}{k}" if count > 1 else step.name
            state = {key: _signal(sub.d.sync, v, f"{key}_{suffix}") for key, v in state.items()}
            valid = _signal(sub.d.sync, valid, f"valid_{suffix}")
    return state, valid


def _signal(domain, v: Value, name: str) -> Signal:
    sig = Signal(Value.cast(v).shape(), name=name)
    domain += sig.eq(v)
    return sig


class _Unit(wiring.Component):
    """A unit of ``steps``: ports ``a`` (and ``b``), ``valid_in``, ``result``, ``valid_out``;
    ``latency`` (``None``: :attr:`default`) registers."""

    def __init__(self, steps: list[Step], width: int, operands: str, latency: int | None):
        self.steps = steps
        self.default = default_latency([s.delay for s in steps])
        self.latency = self.default if latency is None else latency
        if self.latency < 0:
            self._MustUse__silence = True  # never built: no "unused elaboratable" warning
            raise ValueError(f"{type(self).__name__}: latency {self.latency} < 0")
        ports = {name: In(width) for name in operands}
        super().__init__({**ports, "valid_in": In(1), "result": Out(width), "valid_out": Out(1)})
        self.operands = operands

    def elaborate(self, platform: object) -> Module:
        m = Module()
        state = {name: getattr(self, name) for name in self.operands}
        out, valid = build_stages(m, self.steps, state, self.valid_in, self.latency)
        m.d.comb += [self.result.eq(out["result"]), self.valid_out.eq(valid)]
        return m
