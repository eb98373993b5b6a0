"""Floating-point comparison, minimum/maximum, negation and absolute value.

Semantics (docs/semantics.md, "Floating point"; Python/IEEE 754 and NumPy on x86-64):

- :class:`FloatCompare` gives the six predicates of IEEE 754 with unordered handling: any
  comparison with a NaN operand is false except ``ne``, which is true; ``-0 == +0``.
  ``unordered`` is set when either operand is a NaN. With ``ftz=True`` subnormal operands
  read as zero of their sign (so they equal zero).
- :class:`FloatMinMax` matches ``np.minimum`` / ``np.maximum`` bit for bit: a NaN operand gives
  a NaN (the canonical quiet NaN, as every unit of this package returns); otherwise the
  smaller / larger operand. Between equal operands (only ``-0`` and ``+0`` differ in
  encoding) NumPy 2.x on x86-64 returns the *second* operand for float32 and float64 (and so
  for bfloat16, which the reference computes in float32) and the *first* for float16;
  ``second_on_tie`` overrides that default.
- :class:`FloatNegAbs` flips / clears the sign bit. A NaN input gives the canonical quiet NaN
  by default, as the package convention (``_format.py``) has every NaN result canonical;
  ``keep_payload=True`` makes both plain sign-bit operations (IEEE 754 ``negate`` / ``abs``
  and NumPy bit for bit, payload and all) with no logic at all.

Stage layout: FloatCompare and FloatMinMax are two steps, [order: a magnitude comparator of
``width - 1`` bits and the sign logic] [predicates / operand selection], placed in ``latency``
stages as the conversions do (``_convert.staged``): 0 (the default) is combinational, 1 is
both steps then a register, 2 a register after each, more add registers at the end. Out of
context on an ECP5-85F (nextpnr, three seeds): float32 FloatCompare at latency 1 140-155 MHz,
float32 FloatMinMax 120-125 MHz at latency 1 and 128-144 MHz at latency 2, float64 FloatCompare
125-131 MHz at latency 1, float64 FloatMinMax 107-114 MHz at latency 2. FloatNegAbs is a
sign-bit operation (with a NaN test) followed by ``latency`` registers. With ``latency >= 1``
results come straight from a register.
"""

from __future__ import annotations

from typing import NamedTuple

from amaranth.hdl import Module, Mux, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ._convert import delayed, refused, staged
from ._format import FLOAT16, FloatFormat

__all__ = [
    "FloatCompare",
    "FloatMinMax",
    "FloatNegAbs",
    "Order",
    "float_abs",
    "float_min_max",
    "float_neg",
    "float_order",
    "numpy_second_on_tie",
]


class Order(NamedTuple):
    """How two floats compare: exactly one of the four is set."""

    unordered: Value
    lt: Value
    eq: Value
    gt: Value


def _magnitude(fmt: FloatFormat, v: Value, ftz: bool) -> Value:
    mag = v[: fmt.width - 1]
    if ftz:
        return Mux(fmt.exponent(v) == 0, 0, mag)
    return mag


def float_order(fmt: FloatFormat, a: Value, b: Value, *, ftz: bool = False) -> Order:
    """Combinational IEEE 754 ordering of ``a`` and ``b`` (encoded in ``fmt``)."""
    sa, sb = fmt.sign(a), fmt.sign(b)
    ma, mb = _magnitude(fmt, a, ftz), _magnitude(fmt, b, ftz)
    unordered = fmt.is_nan(a) | fmt.is_nan(b)
    both_zero = (ma == 0) & (mb == 0)
    mag_eq = ma == mb
    mag_lt = ma < mb
    mag_gt = ~mag_lt & ~mag_eq
    same_sign = sa == sb
    equal = both_zero | (same_sign & mag_eq)
    # a < b: a negative and b positive (not both zero), or same sign and magnitudes ordered
    # the sign's way
    below = (sa & ~sb) | (same_sign & Mux(sa, mag_gt, mag_lt))
    above = (~sa & sb) | (same_sign & Mux(sa, mag_lt, mag_gt))
    ordered = ~unordered
    return Order(
        unordered=unordered,
        lt=ordered & ~equal & below,
        eq=ordered & equal,
        gt=ordered & ~equal & above,
    )


def float_neg(fmt: FloatFormat, v: Value, *, keep_payload: bool = False) -> Value:
    """``-v``: the sign bit flipped (a NaN gives the canonical NaN unless ``keep_payload``)."""
    flipped = v ^ (1 << (fmt.width - 1))
    return flipped if keep_payload else Mux(fmt.is_nan(v), fmt.qnan(), flipped)


def float_abs(fmt: FloatFormat, v: Value, *, keep_payload: bool = False) -> Value:
    """``|v|``: the sign bit cleared (a NaN gives the canonical NaN unless ``keep_payload``)."""
    cleared = v[: fmt.width - 1].as_unsigned()
    return cleared if keep_payload else Mux(fmt.is_nan(v), fmt.qnan(), cleared)


class FloatCompare(wiring.Component):
    """``lt le gt ge eq ne unordered`` of ``a`` and ``b``, ``latency`` cycles later."""

    def __init__(self, fmt: FloatFormat, *, latency: int = 0, ftz: bool = False) -> None:
        if latency < 0:
            raise refused(self, f"FloatCompare: latency must be >= 0, got {latency}")
        self.fmt, self.latency, self.ftz = fmt, latency, ftz
        outs = ("lt", "le", "gt", "ge", "eq", "ne", "unordered", "valid_out")
        members = {"a": In(fmt.width), "b": In(fmt.width), "valid_in": In(1)}
        members.update({name: Out(1) for name in outs})
        super().__init__(members)

    def elaborate(self, platform: object) -> Module:
        m = Module()

        def order(m: Module, st: dict) -> dict:
            return float_order(self.fmt, st["a"], st["b"], ftz=self.ftz)._asdict()

        def predicates(m: Module, st: dict) -> dict:
            lt, eq, gt = st["lt"], st["eq"], st["gt"]
            return {"lt": lt, "le": lt | eq, "gt": gt, "ge": gt | eq, "eq": eq, "ne": ~eq,
                    "unordered": st["unordered"]}  # fmt: skip

        out = staged(m, [order, predicates], {"a": self.a, "b": self.b}, self.latency, "s")
        m.d.comb += [getattr(self, name).eq(value) for name, value in out.items()]
        m.d.comb += self.valid_out.eq(delayed(m, self.valid_in, self.latency, "valid"))
        return m


def numpy_second_on_tie(fmt: FloatFormat) -> bool:
    """Whether ``np.minimum`` / ``np.maximum`` return the second operand of equal operands."""
    return fmt != FLOAT16


def _min_max_order(fmt: FloatFormat, a: Value, b: Value, second_on_tie: bool) -> dict:
    """How ``a`` and ``b`` compare, as the minimum/maximum selection needs it."""
    o = float_order(fmt, a, b)
    tie_a = o.eq if not second_on_tie else 0  # equal operands: which one
    return {"a": a, "b": b, "nan": o.unordered, "min_a": o.lt | tie_a, "max_a": o.gt | tie_a}


def _min_max_select(fmt: FloatFormat, st: dict) -> dict:
    """The minimum and maximum from :func:`_min_max_order` (one LUT per result bit)."""
    a, b, nan, qnan = st["a"], st["b"], st["nan"], fmt.qnan()
    low = Mux(nan, qnan, Mux(st["min_a"], a, b))
    high = Mux(nan, qnan, Mux(st["max_a"], a, b))
    return {"min": low, "max": high}


def float_min_max(
    fmt: FloatFormat, a: Value, b: Value, second_on_tie: bool | None = None
) -> tuple[Value, Value]:
    """Combinational ``(np.minimum(a, b), np.maximum(a, b))``, as :class:`FloatMinMax`."""
    second = numpy_second_on_tie(fmt) if second_on_tie is None else second_on_tie
    out = _min_max_select(fmt, _min_max_order(fmt, a, b, second))
    return out["min"], out["max"]


class FloatMinMax(wiring.Component):
    """``min`` and ``max`` of ``a`` and ``b`` as ``np.minimum`` / ``np.maximum``."""

    def __init__(
        self, fmt: FloatFormat, *, latency: int = 0, second_on_tie: bool | None = None
    ) -> None:
        if latency < 0:
            raise refused(self, f"FloatMinMax: latency must be >= 0, got {latency}")
        self.fmt, self.latency = fmt, latency
        self.second_on_tie = numpy_second_on_tie(fmt) if second_on_tie is None else second_on_tie
        w = fmt.width
        super().__init__(
            {
                "a": In(w),
                "b": In(w),
                "valid_in": In(1),
                "min": Out(w),
                "max": Out(w),
                "valid_out": Out(1),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        fmt, second = self.fmt, self.second_on_tie
        steps = [
            lambda m, st: _min_max_order(fmt, st["a"], st["b"], second),
            lambda m, st: _min_max_select(fmt, st),
        ]
        out = staged(m, steps, {"a": self.a, "b": self.b}, self.latency, "s")
        m.d.comb += [self.min.eq(out["min"]), self.max.eq(out["max"])]
        m.d.comb += self.valid_out.eq(delayed(m, self.valid_in, self.latency, "valid"))
        return m


class FloatNegAbs(wiring.Component):
    """``neg = -a`` and ``abs = |a|`` (see the module docstring for NaN inputs)."""

    def __init__(self, fmt: FloatFormat, *, latency: int = 0, keep_payload: bool = False) -> None:
        if latency < 0:
            raise refused(self, f"FloatNegAbs: latency must be >= 0, got {latency}")
        self.fmt, self.latency, self.keep_payload = fmt, latency, keep_payload
        w = fmt.width
        super().__init__(
            {
                "a": In(w),
                "valid_in": In(1),
                "neg": Out(w),
                "abs": Out(w),
                "valid_out": Out(1),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        keep = self.keep_payload
        neg = float_neg(self.fmt, self.a, keep_payload=keep)
        mag = float_abs(self.fmt, self.a, keep_payload=keep)
        m.d.comb += [
            self.neg.eq(delayed(m, neg, self.latency, "neg")),
            self.abs.eq(delayed(m, mag, self.latency, "abs")),
            self.valid_out.eq(delayed(m, self.valid_in, self.latency, "valid")),
        ]
        return m
