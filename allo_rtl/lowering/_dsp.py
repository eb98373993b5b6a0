"""Multiplies on DSP blocks or in logic: how many blocks yosys gives a multiply, and how a
multiply that gets none is built from LUTs.

**DSP blocks.** yosys maps every ``$mul`` cell with its ``mul2dsp`` techmap (``synth_ice40 -dsp``:
``SB_MAC16``, 16x16 operands; ``synth_ecp5``: ``MULT18X18D``, 18x18). A cell with an operand
narrower than 2 bits, or (iCE40 only) a result narrower than 11 bits, stays in logic. A wider
cell is cut into slices of the wider operand (LSB first, full-width slices unsigned, the top
slice keeping the operand's sign), and each slice again along the other operand; every tile is
one block. A tile whose product lands entirely above the result bits is unused and removed, so
an ``int32 x int32 -> int32`` multiply takes three 16x16 blocks, not four.
:func:`dsp_blocks` replays that recursion; ``tests/test_dsp_budget.py`` checks it against yosys.

**The multiply the datapath emits.** A multiply of two operands keeps only the low ``bits``
bits of the product that its users read (``_budget.py`` finds them). Value-preserving widening
casts of an operand are looked through (``int32(a8) * int32(b8)`` multiplies the 8-bit values).
:func:`mul_shape` gives the operands as the ``$mul`` cell sees them: an operand at least
``bits`` wide is cut to ``bits`` bits (only those reach the kept product bits), and an unsigned
operand multiplied by a signed one gains a zero bit (the cell is signed or unsigned as a whole).
Multiplies by constants are sums of shifted copies (``hw/_dsp.py``) and use no DSP block.

**Logic multiplies.** A multiply that gets no DSP block is an array of partial products: one
per bit of the narrower operand (``x`` gated by bit ``i`` of ``m``, shifted by ``i``; the top
one subtracted when ``m`` is signed), truncated to the kept bits and summed in a balanced tree
of adders. Its delay is one LUT for the gating and one adder per tree level; in a pipeline the
tree gets a register after a level wherever the next one would exceed the clock budget
(:func:`logic_cuts`), and its output is registered like a DSP block's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._errors import BuildError, Loc
from ..ir._nodes import Binary, Cast, Expr
from ..ir.types import AlloType

__all__ = [
    "DEVICE_DSP_BLOCKS",
    "DSP_BLOCKS",
    "DspBlock",
    "check_budget",
    "DspUse",
    "MulPlan",
    "MulShape",
    "dsp_blocks",
    "logic_cuts",
    "logic_level_ns",
    "logic_levels",
    "logic_luts",
    "mul_operands",
    "mul_shape",
    "narrow_operand",
    "piece_blocks",
    "shape_blocks",
]


@dataclass(frozen=True)
class DspBlock:
    """A family's multiplier block as yosys's ``mul2dsp`` sees it: the cell name, the largest
    operands of one block, and the smallest operands (and result) worth a block."""

    cell: str
    a_max: int
    b_max: int
    a_min: int = 2
    b_min: int = 2
    y_min: int = 0


DSP_BLOCKS: dict[str, DspBlock] = {
    "ice40": DspBlock("SB_MAC16", 16, 16, 2, 2, 11),
    "ecp5": DspBlock("MULT18X18D", 18, 18, 2, 2, 0),
    "generic": DspBlock("MULT18X18", 18, 18, 2, 2, 0),  # the generic model's 18-bit DSP
}

# DSP blocks per device, as nextpnr reports them (ICESTORM_DSP / MULT18X18D); the budget a
# board flow passes for its device.
DEVICE_DSP_BLOCKS: dict[str, int] = {
    "ice40-up5k": 8,
    "ecp5-12f": 28,
    "ecp5-25f": 28,
    "ecp5-45f": 72,
    "ecp5-85f": 156,
}


def check_budget(budget: object) -> None:
    """Refuse a ``dsp_budget`` that is not ``None`` or a non-negative integer."""
    if budget is None:
        return
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 0:
        raise BuildError(
            f"dsp_budget must be a number of DSP blocks (an integer >= 0) or None, not {budget!r}"
        )


def dsp_blocks(family: str, a_bits: int, b_bits: int, y_bits: int, signed: bool) -> int:
    """DSP blocks yosys uses for one ``$mul`` cell with operands of ``a_bits`` and ``b_bits``
    bits (both ``signed`` or both unsigned) of which ``y_bits`` low product bits are used."""
    if family not in DSP_BLOCKS:
        raise BuildError(f"unknown target family {family!r}; families: {', '.join(DSP_BLOCKS)}")
    blk = DSP_BLOCKS[family]
    y_bits = min(y_bits, a_bits + b_bits)
    return _tiles(blk, (a_bits, signed), (b_bits, signed), y_bits, y_bits, top=True)


def _tiles(
    blk: DspBlock, a: tuple[int, bool], b: tuple[int, bool], y: int, used: int, top: bool
) -> int:
    """Blocks of a (sub-)cell with result width ``y`` of which the low ``used`` bits are read.
    ``top``: the original ``$mul``, whose operands mul2dsp first orders wider-first."""
    if used <= 0:
        return 0
    if top and a[0] < b[0]:
        a, b = b, a
    if a[0] < blk.a_min or b[0] < blk.b_min or y < blk.y_min:
        return 0  # stays a soft multiply
    if a[0] > blk.a_max:
        return _split(blk, a, b, y, used, blk.a_max)
    if b[0] > blk.b_max:
        return _split(blk, b, a, y, used, blk.b_max)
    return 1


def _split(
    blk: DspBlock, wide: tuple[int, bool], other: tuple[int, bool], y: int, used: int, step: int
) -> int:
    """mul2dsp's slicing of operand ``wide`` into ``step``-bit pieces, LSB first."""
    n = (wide[0] - 1) // step
    part_y = min(y, other[0] + step)
    total = 0
    for i in range(n):
        total += _tiles(blk, (step, False), other, part_y, min(part_y, used - i * step), False)
    last = wide[0] - n * step
    last_y = other[0] + last
    total += _tiles(blk, (last, wide[1]), other, last_y, min(last_y, used - n * step), False)
    return total


@dataclass(frozen=True)
class MulShape:
    """The ``$mul`` cell of a multiply: operand widths, signedness (of both), kept result bits.

    ``a_bits``/``b_bits`` include the zero bit an unsigned operand gains next to a signed one;
    ``bits`` is at most ``a_bits + b_bits``."""

    a_bits: int
    b_bits: int
    signed: bool
    bits: int


def narrow_operand(e: Expr) -> Expr:
    """``e`` without value-preserving widening casts (``int32(x)`` of an ``int8`` ``x`` is
    ``x``): the value is the same, the multiplier narrower."""
    while isinstance(e, Cast) and _widens(e.operand.type, e.type):
        e = e.operand
    return e


def _widens(src: AlloType, dst: AlloType) -> bool:
    if src.is_float or dst.is_float or src.fracs != dst.fracs:
        return False
    if src.signed and not dst.signed:
        return False
    return dst.bits >= src.bits + (1 if dst.signed and not src.signed else 0)


def mul_operands(e: Binary) -> tuple[Expr, Expr]:
    """The operands a multiply's ``$mul`` cell (or logic multiplier) reads."""
    return narrow_operand(e.lhs), narrow_operand(e.rhs)


def mul_shape(a: AlloType, b: AlloType, bits: int) -> MulShape:
    """The cell multiplying raw values of types ``a`` and ``b`` for the low ``bits`` bits of
    the exact product (see the module docstring)."""
    bits = max(1, min(bits, a.bits + b.bits))
    free_a, free_b = a.bits >= bits, b.bits >= bits
    wa, wb = min(a.bits, bits), min(b.bits, bits)
    if free_a and free_b:
        return MulShape(wa, wb, False, bits)
    if free_a or free_b:
        return MulShape(wa, wb, b.signed if free_a else a.signed, bits)
    if a.signed == b.signed:
        return MulShape(wa, wb, a.signed, bits)
    return MulShape(wa + (not a.signed), wb + (not b.signed), True, bits)


def shape_blocks(family: str, shape: MulShape) -> int:
    """DSP blocks of a multiply emitted as one ``$mul`` cell of ``shape``."""
    return dsp_blocks(family, shape.a_bits, shape.b_bits, shape.bits, shape.signed)


def _exact(bits: int, signed: bool) -> int:
    """Width of ``exact()`` of a raw value: an unsigned one gains a zero bit."""
    return bits if signed else bits + 1


@dataclass(frozen=True)
class Piece:
    """One partial product of a two-cycle multiply: bits ``[shift, shift + bits)`` of each
    exact operand (signed when it is the top piece and more than one tile of product bits is
    kept), and the low ``keep`` bits of their product, weighted ``2**(a_shift + b_shift)``."""

    a_shift: int
    a_bits: int
    a_signed: bool
    b_shift: int
    b_bits: int
    b_signed: bool
    keep: int


def product_pieces(wa: int, wb: int, width: int, tile: int = 16) -> list[Piece]:
    """The partial products of ``a * b mod 2**width`` for exact (signed) operands of ``wa``
    and ``wb`` bits, split into ``tile``-bit pieces; pairs weighted at or above ``width`` are
    left out. ``hw/_multiply.py`` builds these; :func:`piece_blocks` counts their blocks."""
    out = []
    for sa in range(0, min(wa, width), tile):
        for sb in range(0, min(wb, width), tile):
            keep = width - sa - sb
            if keep > 0:
                la, lb = min(tile, wa - sa), min(tile, wb - sb)
                top_a, top_b = sa + tile >= wa, sb + tile >= wb
                out.append(
                    Piece(sa, la, top_a and keep > tile, sb, lb, top_b and keep > tile, keep)
                )
    return out


def piece_blocks(
    family: str, a: tuple[int, bool], b: tuple[int, bool], width: int, tile: int = 16
) -> int:
    """DSP blocks of a two-cycle multiply (``hw/_multiply.py``) of operands ``a`` and ``b``
    (bits, signed): one small ``$mul`` per :func:`product_pieces` entry."""
    total = 0
    for p in product_pieces(_exact(*a), _exact(*b), width, tile):
        la, lb = p.a_bits, p.b_bits
        y = min(p.keep, la + lb)
        if p.a_signed != p.b_signed:  # the unsigned piece gains a zero bit
            la, lb = la + (not p.a_signed), lb + (not p.b_signed)
        total += dsp_blocks(family, la, lb, y, p.a_signed or p.b_signed)
    return total


@dataclass(frozen=True)
class MulPlan:
    """How one multiply of two non-constant values is built.

    ``bits``: the low product bits computed (every user reads no more); ``shape``: its
    ``$mul`` cell on DSP blocks; ``latency``: cycles to the registered product; ``blocks``:
    the DSP blocks it takes (0 when ``logic``); ``logic``: built from LUTs (partial products
    summed in a tree with registers after the levels in ``cuts``), ``luts`` their estimate."""

    bits: int
    shape: MulShape
    latency: int
    blocks: int
    logic: bool = False
    cuts: tuple[int, ...] = ()
    luts: int = 0
    loc: Loc | None = None


@dataclass(frozen=True)
class DspUse:
    """DSP blocks of a design: ``used`` of ``budget`` (``None``: no budget) ``cell`` blocks
    by ``multiplies`` multiplies, of which ``logic`` are built from about ``luts`` LUTs, and
    ``math_units`` float math function units."""

    cell: str
    used: int
    budget: int | None
    multiplies: int
    logic: int = 0
    luts: int = 0
    math_units: int = 0

    def __str__(self) -> str:
        of = f" of {self.budget}" if self.budget is not None else ""
        text = f"{self.used}{of} {self.cell} for {self.multiplies} multiplies"
        if self.math_units:
            text += f" and {self.math_units} math units"
        if self.logic:
            text += f"; {self.logic} from logic (about {self.luts} LUTs)"
        return text


# ---------------------------------------------------------------------------- logic multiplies


def logic_terms(a: AlloType, b: AlloType, bits: int) -> tuple[int, int]:
    """(partial products, width of the multiplicand) of the logic multiplier: one product per
    bit of the narrower operand below ``bits``."""
    narrow, wide = sorted((a.bits, b.bits))
    return max(1, min(narrow, bits)), min(wide, bits)


def logic_levels(a: AlloType, b: AlloType, bits: int) -> int:
    """Adder levels of the balanced tree that sums the partial products."""
    terms, _ = logic_terms(a, b, bits)
    return (terms - 1).bit_length()


def logic_luts(family: str, a: AlloType, b: AlloType, bits: int) -> int:
    """Estimated LUT4s of a logic multiplier: per bit of every partial product below ``bits``,
    two LUTs on iCE40 (a gated bit and its adder bit do not share a LUT with the carry) and
    one on ECP5 (measured: 8x8->16 bits 137 / 69 LUTs, 32x32->32 bits 1018 / 544)."""
    terms, wide = logic_terms(a, b, bits)
    total = sum(max(0, min(wide, bits - i)) for i in range(terms))
    return total * (2 if family == "ice40" else 1)


# one adder level of a logic multiplier's tree: fixed ns and ns per bit (a LUT, the carry chain
# and the routing of partial sums that fan out across the device), fitted with nextpnr
_TREE_LEVEL = {"generic": (1.5, 0.03), "ice40": (3.6, 0.10), "ecp5": (1.8, 0.04)}


def logic_level_ns(model: Any, bits: int) -> float:
    """Estimated delay of one adder level of the tree (calibrated with nextpnr on the iCE40
    UP5K, where a 16-bit level takes about 6 ns)."""
    fixed, per_bit = _TREE_LEVEL[model.family]
    return fixed + per_bit * min(bits, 32)


def logic_cuts(model: Any, a: AlloType, b: AlloType, bits: int) -> tuple[int, ...]:
    """Tree levels after which the pipelined logic multiplier registers its partial sums, so
    that no stage exceeds ``model.budget_ns`` (the gating LUT is level 0; a level that alone
    exceeds the budget still gets a stage of its own). At 48 MHz on iCE40 a 32x32->32 bits
    multiply gets (1, 3): measured 49.5 MHz, against 25.9 MHz without registers."""
    adder = logic_level_ns(model, bits)
    cuts: list[int] = []
    spent = model.lut_ns
    for level in range(1, logic_levels(a, b, bits) + 1):
        if spent + adder > model.budget_ns:
            cuts.append(level - 1)
            spent = 0.0
        spent += adder
    return tuple(cuts)
