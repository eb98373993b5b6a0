"""The operator latency and delay model of a target family, and the clock it must meet.

Delays are estimates in nanoseconds of the combinational logic an IR operator becomes on the
family's fabric (a LUT level, a carry chain of the operand width); the pipeline scheduler chains
operators in one cycle only while the estimated path stays within the clock period (minus a
margin for routing and register setup), and inserts a pipeline register where it would not.
Multiplies run on DSP blocks with a registered output (one cycle); on ``ice40`` and ``ecp5`` two
cycles when the operands are wider than one DSP block: the partial products of 16-bit pieces
are registered, then added (the ``generic`` family keeps one). On the real families a
multiply's operands are registered first unless they come straight from registers (the DSP's
input register), because block RAM read data arrive late in the cycle (its clock-to-output
time, ``bram_ns``). Index arithmetic is not cut: addresses stay combinational. A multiply
left without DSP blocks by the ``dsp_budget`` is an adder tree of partial products: a LUT,
then per level a carry chain and three LUT delays (routing, calibrated with nextpnr), with
registers between levels where the clock needs them (``_dsp.logic_cuts``); its latency is
those registers and the output register.

=========  ========  ==============  ===========  ====================  =============
family     LUT (ns)  carry (ns/bit)  BRAM (ns)    DSP operand width     default clock
=========  ========  ==============  ===========  ====================  =============
generic    0.5       0.03            0.5          18                    100 MHz
ice40      3.0       0.30            2.5          16 (SB_MAC16)         48 MHz
ecp5       1.2       0.04            7.0          18 (MULT18X18D)       100 MHz
=========  ========  ==============  ===========  ====================  =============

The BRAM figures are nextpnr's clock-to-output of an unregistered SB_RAM40_4K / DP16KD port;
on ECP5 with the routing out of the block RAM column: 5.6-5.8 ns clock-to-output plus 1.1-2.1
ns to the first LUT (a pipelined vector add, BRAM -> 32-bit adder -> register, was 77 MHz with
5.0). A pipeline registers read data before logic when the two would not fit the clock. FIFO
read data (dataflow streams) keep the earlier figure (``fifo_ns``). The ECP5 LUT figure
includes its routing too: nextpnr shows 0.24 ns per LUT and 0.6-2.5 ns of routing between
LUTs; with 0.6 ns a pipelined blur with x unrolled by 2 reached 84.4 MHz, with 1.2 ns
106.5 MHz (out of context on the ECP5-85F, 100 MHz asked).
The iCE40 LUT figure includes its typical routing (nextpnr: 0.6-1.3 ns logic plus 1.8-3.4 ns
routing per level on the UP5K) and the carry figure is nextpnr's 0.28 ns per bit plus routing
between carry columns; they were fitted to the critical paths of pipelined GEMM kernels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._errors import BuildError
from ..ir._nodes import (
    Binary,
    BitGet,
    BitReverse,
    BitSet,
    BitSlice,
    BitSliceSet,
    Cast,
    Const,
    Expr,
    Load,
    Select,
    Unary,
    Var,
    children,
)
from ._float import unit_key

__all__ = ["MUL_TILE", "TargetModel", "cut_points", "is_product", "target_model"]

_FAMILIES = {  # LUT, carry per bit, DSP width, default clock, block RAM clock-to-output
    "generic": (0.5, 0.03, 18, 100.0, 0.5),
    "ice40": (3.0, 0.30, 16, 48.0, 2.5),
    "ecp5": (1.2, 0.04, 18, 100.0, 7.0),
}
_FIFO_NS = {"generic": 0.5, "ice40": 2.5, "ecp5": 5.0}  # FIFO read data, then a hold mux
MUL_TILE = 16  # bits of the pieces a wide multiply is split into (one DSP block each)
_MARGIN = 0.7  # share of the period the estimated logic may use (routing, setup, clock skew)


@dataclass(frozen=True)
class TargetModel:
    """What the scheduler knows about the target: family, clock and operator delays."""

    family: str
    clock_mhz: float
    lut_ns: float
    carry_ns: float
    dsp_width: int
    bram_ns: float = 0.5
    fifo_ns: float = 0.5

    @property
    def registered_mul_operands(self) -> bool:
        """Multiplies take their operands from registers (the DSP input register)."""
        return self.family != "generic"

    @property
    def dual_port_bram(self) -> bool:
        """Block RAMs have two read-write ports (ECP5 DP16KD); else one read and one write
        port (iCE40 SB_RAM40_4K, and the generic model)."""
        return self.family == "ecp5"

    @property
    def budget_ns(self) -> float:
        """Estimated logic delay allowed between two registers."""
        return 1000.0 / self.clock_mhz * _MARGIN

    def mul_latency(self, bits: int) -> int:
        """Cycles of a multiply whose operands have ``bits`` bits: the registered DSP output,
        and on a real family one more cycle to add the partial products of wide operands."""
        return 1 if self.family == "generic" or bits <= self.dsp_width else 2

    def delay(self, e: Expr, known: dict[Any, float], memo: dict | None = None) -> float:
        """Estimated delay of ``e`` from its inputs; ``known`` gives the delays of operands
        computed before (registers and read data are 0). ``memo`` (id -> (node, delay)),
        kept by a caller whose ``known`` only grows, computes each shared subtree once
        (forwarded values make expressions DAGs: a plain recursion visits a shared subtree
        once per path to it)."""
        if isinstance(e, (Const, Var)):
            return known.get(getattr(e, "sym", None), 0.0)
        hit = memo.get(id(e)) if memo is not None else None
        if hit is not None and hit[0] is e:
            return hit[1]
        own = self._own(e)
        d = own + max((self.delay(c, known, memo) for c in children(e)), default=0.0)
        if memo is not None:
            memo[id(e)] = (e, d)
        return d

    def _own(self, e: Expr) -> float:
        bits = getattr(e, "type", None)
        # IR types widen exactly (a sum of two int32 is 33 bits); yosys trims the unused
        # bits, so no path is modelled wider than 32
        width = min(32, bits.bits if bits is not None else 32)
        if isinstance(e, Binary) and e.op in ("lt", "le", "gt", "ge", "eq", "ne"):
            width = min(32, max(e.lhs.type.bits, e.rhs.type.bits))  # the compared operands
        if isinstance(e, (Cast, BitSlice, BitReverse)):
            return 0.0
        if isinstance(e, Binary):
            if e.op in ("add", "sub", "lt", "le", "gt", "ge", "eq", "ne", "min", "max"):
                return self.lut_ns + self.carry_ns * width
            if e.op in ("div", "floordiv", "mod"):
                return width * (self.lut_ns + self.carry_ns * width)
            if e.op in ("shl", "shr") and not isinstance(e.rhs, Const):
                return self.lut_ns * max(1, width.bit_length())
            if e.op == "mul":  # by a constant: wiring for a power of two, else an adder
                k = e.rhs if isinstance(e.rhs, Const) else e.lhs
                power = (
                    isinstance(k, Const)
                    and int(k.value) > 0
                    and not int(k.value) & (int(k.value) - 1)
                )
                return 0.0 if power else self.lut_ns + self.carry_ns * width
            return 0.0 if e.op in ("shl", "shr") else self.lut_ns
        if isinstance(e, (Unary, Select, BitGet, BitSet, BitSliceSet)):
            return self.lut_ns + (self.carry_ns * width if getattr(e, "op", "") == "neg" else 0)
        return self.lut_ns


def is_product(e: Expr) -> bool:
    """A multiply of two non-constant values: a DSP block (or logic) with a registered
    output, scheduled as a timed operation everywhere."""
    return (
        isinstance(e, Binary)
        and e.op == "mul"
        and not e.type.is_float  # a float multiply is an operator unit (_float.py)
        and not isinstance(e.lhs, Const)
        and not isinstance(e.rhs, Const)
    )


def _inner(e: Expr) -> Expr | None:
    """The operand of a multiply to register: ``e`` without widening casts (the DSP planner
    sees the narrow value), or ``None`` for block RAM data, which are read straight."""
    while isinstance(e, Cast) and e.type.bits >= e.operand.type.bits:
        e = e.operand
    return None if isinstance(e, (Load, Const, Var)) else e


def cut_points(exprs: list[Expr] | tuple[Expr, ...], model: TargetModel) -> set[Expr]:
    """Subexpressions of a sequential statement to register so that no cycle's logic exceeds
    the clock budget: where an operator's estimated path would be too long, its operands that
    carry logic are registered (each adds a cycle). Block RAM data arrive ``bram_ns`` into the
    cycle; multiplies register their result (and, on the real families, take registered
    operands, except block RAM data). Addresses are not cut, and a single operator longer
    than the budget (a divider) stays combinational."""
    cuts: set[Expr] = set()

    def arrival(e: Expr) -> float:
        if isinstance(e, (Const, Var)):
            return 0.0
        if isinstance(e, Load):
            return model.bram_ns
        kids = list(children(e))
        times = [arrival(c) for c in kids]
        if is_product(e) or unit_key(e, model) is not None:  # registered results
            if model.registered_mul_operands:
                inner = (_inner(c) for c, t in zip(kids, times) if t > 0)
                cuts.update(x for x in inner if x is not None)
            return 0.0
        own = model._own(e)
        if own + max(times, default=0.0) <= model.budget_ns:
            return own + max(times, default=0.0)
        cuts.update(c for c, t in zip(kids, times) if t > 0 and not isinstance(c, Load))
        late = [t for c, t in zip(kids, times) if isinstance(c, Load)]
        return own + max(late, default=0.0)

    for e in exprs:
        arrival(e)
    return cuts


def target_model(family: str = "generic", clock_mhz: float | None = None) -> TargetModel:
    """The model of ``family`` (``"generic"``, ``"ice40"``, ``"ecp5"``) at ``clock_mhz``
    (default: the family's usual clock)."""
    if family not in _FAMILIES:
        raise BuildError(f"unknown target family {family!r}; families: {', '.join(_FAMILIES)}")
    lut, carry, dsp, default, bram = _FAMILIES[family]
    clock = default if clock_mhz is None else float(clock_mhz)
    if not clock > 0:
        raise BuildError(f"clock_mhz must be a positive number of MHz, not {clock_mhz!r}")
    return TargetModel(family, clock, lut, carry, dsp, bram, _FIFO_NS[family])
