"""Binary floating-point formats and the conventions every operator unit follows.

A :class:`FloatFormat` is ``exp_bits`` exponent bits and ``man_bits`` stored fraction bits
(IEEE 754 interchange layout: sign, biased exponent, fraction, most significant bit first).
One parameterised design serves every format: float16 (5, 10), bfloat16 (8, 7), float32
(8, 23) and float64 (11, 52).

Conventions shared by the units of this package (``docs/float.md``):

- Each unit is an ``amaranth.lib.wiring.Component`` and a plain pipeline of ``latency``
  registers: operands presented in cycle ``t`` give the result in cycle ``t + latency``, read
  straight from a register. ``valid_in`` travels alongside as ``valid_out``. Units have no
  enable of their own; a caller that stalls wraps them in ``EnableInserter``. ``latency`` 0
  makes a unit combinational.
- Results are IEEE 754 with round to nearest, ties to even, subnormal inputs and outputs,
  signed zeros and infinities. Every NaN result is the canonical quiet NaN
  (:meth:`FloatFormat.qnan`: sign 0, exponent all ones, top fraction bit 1, the rest 0); NumPy
  returns one of the input NaNs instead, so NaN results compare by class only.
- ``ftz=True`` (where a unit offers it) reads subnormal inputs as zero of the same sign and
  flushes subnormal results to zero of the same sign; it is a trade of accuracy for area and
  is reported as such.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import Const, Value

__all__ = ["BFLOAT16", "FLOAT16", "FLOAT32", "FLOAT64", "FloatFormat", "format_of"]


@dataclass(frozen=True, slots=True)
class FloatFormat:
    """An IEEE 754 style binary format: ``exp_bits`` exponent bits, ``man_bits`` fraction bits."""

    exp_bits: int
    man_bits: int

    def __post_init__(self) -> None:
        if not (2 <= self.exp_bits <= 15 and 1 <= self.man_bits <= 112):
            raise ValueError(
                f"FloatFormat({self.exp_bits}, {self.man_bits}): needs 2 <= exp_bits <= 15 "
                "and 1 <= man_bits <= 112"
            )

    @property
    def width(self) -> int:
        """Bits of an encoded value: sign, exponent and fraction."""
        return 1 + self.exp_bits + self.man_bits

    @property
    def bias(self) -> int:
        return (1 << (self.exp_bits - 1)) - 1

    @property
    def exp_max(self) -> int:
        """The all-ones biased exponent (infinities and NaNs)."""
        return (1 << self.exp_bits) - 1

    @property
    def name(self) -> str:
        return _NAMES.get(
            (self.exp_bits, self.man_bits), f"FloatFormat({self.exp_bits}, {self.man_bits})"
        )

    def qnan(self) -> int:
        """The canonical quiet NaN every unit returns for a NaN result."""
        return (self.exp_max << self.man_bits) | (1 << (self.man_bits - 1))

    def inf(self, sign: int = 0) -> int:
        return (sign << (self.width - 1)) | (self.exp_max << self.man_bits)

    def sign(self, v: Value) -> Value:
        return v[self.width - 1]

    def exponent(self, v: Value) -> Value:
        return v[self.man_bits : self.man_bits + self.exp_bits]

    def fraction(self, v: Value) -> Value:
        return v[: self.man_bits]

    def is_nan(self, v: Value) -> Value:
        return (self.exponent(v) == self.exp_max) & (self.fraction(v) != 0)

    def is_inf(self, v: Value) -> Value:
        return (self.exponent(v) == self.exp_max) & (self.fraction(v) == 0)

    def is_zero(self, v: Value) -> Value:
        return v[: self.width - 1] == 0

    def is_subnormal(self, v: Value) -> Value:
        return (self.exponent(v) == 0) & (self.fraction(v) != 0)

    def const(self, raw: int) -> Const:
        return Const(raw, self.width)


FLOAT16 = FloatFormat(5, 10)
BFLOAT16 = FloatFormat(8, 7)
FLOAT32 = FloatFormat(8, 23)
FLOAT64 = FloatFormat(11, 52)

_NAMES = {(5, 10): "float16", (8, 7): "bfloat16", (8, 23): "float32", (11, 52): "float64"}


def format_of(t: object) -> FloatFormat:
    """The format of an ``allo_rtl`` ``Float`` type (``float32`` -> ``FLOAT32``)."""
    bits, man = getattr(t, "bits", None), getattr(t, "mantissa", None)
    if not isinstance(bits, int) or not isinstance(man, int):
        raise TypeError(f"{t!r} is not a floating-point type")
    return FloatFormat(bits - man - 1, man)
