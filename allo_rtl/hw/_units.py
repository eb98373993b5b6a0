"""Operator units of a kernel's float operations (``lowering/_float.py`` chooses them).

:func:`make_unit` builds the ``allo_rtl.hw.fp`` component of a :class:`UnitKey` with the
latency the schedule assumed; :func:`unit_inputs` lists its operand ports in the order of
``_float.unit_operands``. Comparisons, ``min``/``max``, negation and ``abs`` of floats are not
units: :func:`float_compare` and :func:`float_minmax` build them combinationally for the
datapath.
"""

from __future__ import annotations

from amaranth.hdl import Value
from amaranth.lib import wiring

from .._errors import LoweringError
from ..ir.types import AlloType
from ..lowering import UnitKey
from .fp import format_of
from .fp._add import FloatAdd
from .fp._compare import float_min_max, float_order
from .fp._convert import FloatToFloat, FloatToInt, IntToFloat
from .fp._math import MATH_UNITS
from .fp._mul import FloatMul

__all__ = ["float_compare", "float_minmax", "make_unit", "unit_inputs"]


def make_unit(key: UnitKey) -> wiring.Component:
    """The unit that computes ``key``'s operations in ``key.latency`` cycles."""
    if key.op == "add":
        return FloatAdd(format_of(key.dst), latency=key.latency)
    if key.op == "mul":
        return FloatMul(format_of(key.dst), latency=key.latency)
    if key.op == "div":
        from .fp._div import FloatDiv

        return FloatDiv(format_of(key.dst), latency=key.latency)
    if key.op == "sqrt":
        from .fp._sqrt import FloatSqrt

        return FloatSqrt(format_of(key.dst), latency=key.latency)
    if key.op == "cvt":
        return _converter(key.src, key.dst, key.latency)
    if key.op in MATH_UNITS:
        return MATH_UNITS[key.op](format_of(key.dst), latency=key.latency)
    if key.op in ("idiv", "ifloordiv", "imod"):
        from ._divide import IntDivide

        return IntDivide(key.op[1:], key.src, key.rhs, key.dst, key.latency)  # type: ignore[arg-type]
    raise LoweringError(f"internal: no operator unit for {key.op}")


def _converter(src: AlloType, dst: AlloType, latency: int) -> wiring.Component:
    if src.is_float and dst.is_float:
        return FloatToFloat(format_of(src), format_of(dst), latency=latency)
    if dst.is_float:
        return IntToFloat(src.bits, src.signed, format_of(dst), fracs=src.fracs, latency=latency)
    return FloatToInt(format_of(src), dst.bits, dst.signed, fracs=dst.fracs, latency=latency)


def unit_inputs(unit: wiring.Component, key: UnitKey) -> list[Value]:
    """The operand ports of ``unit``, in the order of the operation's operands."""
    if key.op in ("add", "mul", "div", "power", "idiv", "ifloordiv", "imod"):
        return [unit.a, unit.b]  # type: ignore[attr-defined]
    return [unit.a]  # type: ignore[attr-defined]


def float_compare(op: str, t: AlloType, a: Value, b: Value) -> Value:
    """``a op b`` for two values of float type ``t``: IEEE 754 (unordered: only ``ne``)."""
    order = float_order(format_of(t), a, b)
    table = {
        "lt": order.lt,
        "le": order.lt | order.eq,
        "gt": order.gt,
        "ge": order.gt | order.eq,
        "eq": order.eq,
        "ne": ~order.eq,
    }
    return table[op]


def float_minmax(op: str, t: AlloType, a: Value, b: Value) -> Value:
    """``np.minimum`` / ``np.maximum`` of two values of float type ``t``, bit for bit (a NaN
    operand gives the canonical quiet NaN)."""
    low, high = float_min_max(format_of(t), a, b)
    return low if op == "min" else high
