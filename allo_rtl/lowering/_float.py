"""Floating-point operations in the lowering: which IR nodes become operator units, and their
latency.

A *unit operation* is an IR node whose value comes from a pipelined operator unit
(``allo_rtl.hw.fp``): float ``+ - * /``, ``sqrt``, conversions to, from and between float
types, and the math functions ``exp``, ``log``, ``log2``, ``log10``, ``tanh``, ``sin``, ``cos``
and ``**`` (float32 and narrower). Its operands are presented in one cycle and its result is read
``latency`` cycles later, straight from the unit's output register; the schedulers treat it
like a multiply on DSP blocks (a timed operation). Comparisons, ``min``/``max``, negation and
``abs`` of floats are small enough to stay combinational in the datapath.

In sequential code one unit of each :class:`UnitKey` serves every operation of the kernel, one
issue per cycle (``_lower.stage`` books it like a memory port); in a pipeline each operation
has a unit of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._errors import LoweringError
from ..ir._nodes import Binary, Cast, Expr, MathCall
from ..ir.types import AlloType

__all__ = ["UnitKey", "float_check", "unit_key", "unit_operands"]

# Registers of each unit kind per format: enough for the ECP5 at 100-120 MHz (one wide adder or
# shifter per stage); the iCE40 runs at a third of that clock, but takes the same pipelines
# (the units' registers cost little next to their logic, and II=1 loops never wait on them).
_LATENCY = {
    "add": {"float16": 3, "bfloat16": 3, "float32": 3, "float64": 4},
    "mul": {"float16": 3, "bfloat16": 3, "float32": 3, "float64": 4},
    "div": {"float16": 5, "bfloat16": 4, "float32": 9, "float64": 16},
    "sqrt": {"float16": 5, "bfloat16": 4, "float32": 9, "float64": 16},
    "cvt": {"float16": 3, "bfloat16": 3, "float32": 3, "float64": 3},
}
# The math function units (one datapath sized for float32, also serving float16 and
# bfloat16; no float64): one register per stage of their algorithms (hw/fp/_math.py).
_MATH_LATENCY = {
    "exp": 8, "log": 9, "log2": 9, "log10": 9, "tanh": 13, "sin": 16, "cos": 16, "power": 18,
}  # fmt: skip


@dataclass(frozen=True)
class UnitKey:
    """One kind of unit: ``op`` (``add`` (also subtracts), ``mul``, ``div``, ``sqrt``,
    ``cvt``, or a math function: ``exp``, ``log``, ``log2``, ``log10``, ``tanh``, ``sin``,
    ``cos``, ``power``), the type of its operands ``src`` and of its result ``dst``, and its
    ``latency`` in cycles."""

    op: str
    src: AlloType
    dst: AlloType
    latency: int

    @property
    def name(self) -> str:
        if self.op == "cvt":
            return f"cvt_{_short(self.src)}_{_short(self.dst)}"
        return f"f{self.op}_{_short(self.dst)}"


def _short(t: AlloType) -> str:
    return t.name.replace("(", "").replace(")", "").replace(", ", "_")  # type: ignore[attr-defined]


def unit_key(e: Any) -> UnitKey | None:
    """The unit that computes ``e``, or ``None`` when ``e`` is not a unit operation."""
    if isinstance(e, Binary) and e.type.is_float and e.op in ("add", "sub", "mul", "div"):
        op = "add" if e.op == "sub" else e.op
        return UnitKey(op, e.type, e.type, _latency(op, e.type))
    if isinstance(e, MathCall) and e.func == "sqrt":
        return UnitKey("sqrt", e.type, e.type, _latency("sqrt", e.type))
    if isinstance(e, MathCall) and e.func in _MATH_LATENCY and e.type.bits <= 32:
        return UnitKey(e.func, e.type, e.type, _MATH_LATENCY[e.func])
    if isinstance(e, Binary) and e.op == "pow" and e.type.is_float and e.type.bits <= 32:
        return UnitKey("power", e.type, e.type, _MATH_LATENCY["power"])
    if isinstance(e, Cast) and (e.type.is_float or e.operand.type.is_float):
        if e.type == e.operand.type:
            return None
        wide = e.type if e.type.is_float else e.operand.type
        return UnitKey("cvt", e.operand.type, e.type, _latency("cvt", wide))
    return None


def _latency(op: str, t: AlloType) -> int:
    return _LATENCY[op][t.name]  # type: ignore[attr-defined]


def unit_operands(e: Expr) -> tuple[Expr, ...]:
    """The operands a unit operation presents to its unit."""
    if isinstance(e, Binary):
        return (e.lhs, e.rhs)
    if isinstance(e, MathCall):
        return e.args
    if isinstance(e, Cast):
        return (e.operand,)
    raise LoweringError(f"internal: {type(e).__name__} is not a unit operation", e.loc)


def float_check(e: Any) -> None:
    """Refuse the float operations the RTL targets cannot build yet, with the user's line."""
    if isinstance(e, MathCall) and e.func != "sqrt" and unit_key(e) is None:
        what = "float64" if e.func in _MATH_LATENCY else f"`{e.func}`"
        raise LoweringError(
            f"`allo.{e.func}` of {e.type} is not supported on RTL targets yet",
            e.loc,
            f"RTL math units exist for {', '.join(_MATH_LATENCY)} and sqrt of float16, "
            f"bfloat16 and float32 (not {what}); or build for the numpy target",
        )
    floats = isinstance(e, Binary) and (e.lhs.type.is_float or e.rhs.type.is_float)
    if floats and e.op in ("floordiv", "mod", "pow") and unit_key(e) is None:
        sym = {"floordiv": "//", "mod": "%", "pow": "**"}[e.op]
        raise LoweringError(
            f"`{sym}` of {e.type} values is not supported on RTL targets yet",
            e.loc,
            "use + - * /, sqrt and ** of float32 or narrower, or build for the numpy target",
        )
