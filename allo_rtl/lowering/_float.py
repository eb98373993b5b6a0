"""Floating-point operations (and integer division) in the lowering: which IR nodes become
operator units, and their latency.

A *unit operation* is an IR node whose value comes from a pipelined operator unit
(``allo_rtl.hw.fp``): float ``+ - * /``, ``sqrt``, conversions to, from and between float
types, and the math functions ``exp``, ``log``, ``log2``, ``log10``, ``tanh``, ``sin``, ``cos``
and ``**`` (float32 and narrower). Its operands are presented in one cycle and its result is read
``latency`` cycles later, straight from the unit's output register; the schedulers treat it
like a multiply on DSP blocks (a timed operation). Comparisons, ``min``/``max``, negation and
``abs`` of floats are small enough to stay combinational in the datapath. On the real families
an integer ``/ // %`` by a value known only at run time is a unit too (``hw/_divide.py``: one
restoring step per quotient bit, registered as the clock needs); the generic family, and
division by a constant, keep one combinational divider.

In sequential code one unit of each :class:`UnitKey` serves every operation of the kernel, one
issue per cycle (``_lower.stage`` books it like a memory port); in a pipeline each operation
has a unit of its own.

Latency. On a real family (``ecp5``, ``ice40``) the add, multiply, divide and square-root
units get as many registers as the target clock needs (:func:`unit_latency`): each unit's
logic delay is derived from its measured out-of-context Fmax at its default latency
(``benchmarks/results/float_units.txt``), ``logic = default * (1000 / fmax - overhead)``, and
spread over the fewest stages that fit 90% of the clock period less the overhead of a stage
(clock-to-output, setup, routing), never more than the unit's default (more registers do not
make it faster). E.g. float32 add on ECP5: 6 stages at 100 MHz, 4 at 66 MHz. The ``generic``
family (simulation, no device) keeps short fixed pipelines that favour cycles
(``_LATENCY``); conversions and math functions have fixed latencies everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from .._errors import LoweringError
from ..ir._nodes import Binary, Cast, Const, Expr, MathCall
from ..ir.types import AlloType

__all__ = [
    "MATH_DSP_BLOCKS",
    "UnitKey",
    "float_check",
    "sequential_unit",
    "unit_key",
    "unit_latency",
    "unit_operands",
]

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
# (default latency of the hw/fp unit, its out-of-context Fmax in MHz at that latency on the
# ECP5-85F and on the iCE40UP5K), measured by benchmarks/float_units.py (seed 1); float64 on
# the iCE40 and float64 div/sqrt were not measured: the float32 figures stand in.
_RATED = {
    ("add", "float16"): (6, 138.6, 54.8),
    ("add", "bfloat16"): (6, 129.1, 46.7),
    ("add", "float32"): (6, 122.8, 44.6),
    ("add", "float64"): (6, 99.4, 44.6),
    ("mul", "float16"): (5, 139.5, 61.2),
    ("mul", "bfloat16"): (5, 140.4, 57.6),
    ("mul", "float32"): (7, 124.7, 42.7),
    ("mul", "float64"): (8, 113.1, 42.7),
    ("div", "float16"): (16, 147.7, 52.3),
    ("div", "bfloat16"): (13, 137.2, 52.8),
    ("div", "float32"): (29, 125.7, 41.1),
    ("div", "float64"): (58, 125.7, 41.1),
    ("sqrt", "float16"): (12, 123.5, 48.4),
    ("sqrt", "bfloat16"): (9, 126.4, 48.7),
    ("sqrt", "float32"): (25, 113.7, 43.0),
    ("sqrt", "float64"): (54, 113.7, 43.0),
}
# clock-to-output, setup and routing of one stage (ns); the share of the period a unit plans for
_OVERHEAD_NS = {"ecp5": 2.3, "ice40": 5.0}
_IN_CONTEXT = 0.9
# The math function units (one datapath sized for float32, also serving float16 and
# bfloat16; no float64): one register per stage of their algorithms (hw/fp/_math.py).
# DSP blocks of each math unit (MULT18X18D on the ECP5, SB_MAC16 on the iCE40), as yosys maps
# its fixed-point products (benchmarks/results/float_units.txt); float16 and bfloat16 use the
# same float32 datapath. The generic family counts the ECP5's.
MATH_DSP_BLOCKS = {
    "exp": (6, 14), "log": (11, 23), "log2": (11, 23), "log10": (11, 19),
    "tanh": (20, 37), "sin": (31, 56), "cos": (31, 56), "power": (27, 52),
}  # fmt: skip
_MATH_LATENCY = {
    "exp": 8, "log": 9, "log2": 9, "log10": 9, "tanh": 13, "sin": 16, "cos": 16, "power": 18,
}  # fmt: skip


@dataclass(frozen=True)
class UnitKey:
    """One kind of unit: ``op`` (``add`` (also subtracts), ``mul``, ``div``, ``sqrt``,
    ``cvt``, or a math function: ``exp``, ``log``, ``log2``, ``log10``, ``tanh``, ``sin``,
    ``cos``, ``power``), the type of its operands ``src`` and of its result ``dst``, and its
    ``latency`` in cycles (the unit's registers; ``cycles`` adds the input register)."""

    op: str
    src: AlloType
    dst: AlloType
    latency: int
    # operands registered in front of the unit (one more cycle): the shared units of
    # sequential code on a real family, whose operands come through a multiplexer by state
    inputs_registered: bool = False
    rhs: AlloType | None = None  # the divisor's type of an integer division

    @property
    def cycles(self) -> int:
        """Cycles from presenting the operands to reading the result."""
        return self.latency + self.inputs_registered

    @property
    def name(self) -> str:
        if self.op == "cvt":
            return f"cvt_{_short(self.src)}_{_short(self.dst)}"
        if self.rhs is not None:
            return f"{self.op}_{_short(self.src)}_{_short(self.rhs)}_{_short(self.dst)}"
        return f"f{self.op}_{_short(self.dst)}"


def _short(t: AlloType) -> str:
    return t.name.replace("(", "").replace(")", "").replace(", ", "_")  # type: ignore[attr-defined]


def unit_key(e: Any, model: Any = None) -> UnitKey | None:
    """The unit that computes ``e`` for the target ``model`` (a ``TargetModel``; ``None``: the
    generic family), or ``None`` when ``e`` is not a unit operation."""
    if isinstance(e, Binary) and e.type.is_float and e.op in ("add", "sub", "mul", "div"):
        op = "add" if e.op == "sub" else e.op
        return UnitKey(op, e.type, e.type, unit_latency(op, e.type, model))
    if isinstance(e, MathCall) and e.func == "sqrt":
        return UnitKey("sqrt", e.type, e.type, unit_latency("sqrt", e.type, model))
    if isinstance(e, MathCall) and e.func in _MATH_LATENCY and e.type.bits <= 32:
        return UnitKey(e.func, e.type, e.type, _MATH_LATENCY[e.func])
    if isinstance(e, Binary) and e.op == "pow" and e.type.is_float and e.type.bits <= 32:
        return UnitKey("power", e.type, e.type, _MATH_LATENCY["power"])
    if _int_division(e) and getattr(model, "family", "generic") in _OVERHEAD_NS:
        op = {"div": "idiv", "floordiv": "ifloordiv", "mod": "imod"}[e.op]
        return UnitKey(op, e.lhs.type, e.type, _divide_latency(e, model), rhs=e.rhs.type)
    if isinstance(e, Cast) and (e.type.is_float or e.operand.type.is_float):
        if e.type == e.operand.type:
            return None
        wide = e.type if e.type.is_float else e.operand.type
        return UnitKey("cvt", e.operand.type, e.type, _latency("cvt", wide))
    return None


def _int_division(e: Any) -> bool:
    """An integer ``/ // %`` by a value known only at run time (a constant divisor stays a
    combinational divider, which yosys simplifies)."""
    return (
        isinstance(e, Binary)
        and e.op in ("div", "floordiv", "mod")
        and not e.type.is_float
        and not e.lhs.type.is_float
        and not e.rhs.type.is_float
        and not isinstance(e.rhs, Const)
    )


def _divide_latency(e: Binary, model: Any) -> int:
    """Registers of an integer divider for ``model``'s clock: as many restoring steps (one per
    quotient bit) per stage as fit the clock, and a stage each for the sign handling before
    and after. A step is a carry chain of the divisor's width, the remainder multiplexer and
    the routing between chains, about 6 ns on the ECP5 (nextpnr: 17.9 ns for three steps of
    an int32 divider), modelled as four LUT delays (with their routing) and the chain."""
    shift = max(0, e.type.fracs - e.lhs.type.fracs + e.rhs.type.fracs)
    n, d = e.lhs.type.bits + 1 + shift, e.rhs.type.bits + 1
    per_bit = 4 * model.lut_ns + model.carry_ns * (d + 2)
    bits_per_stage = max(1, int(model.budget_ns // per_bit))
    return math.ceil(n / bits_per_stage) + 2


def sequential_unit(e: Any, model: Any) -> UnitKey | None:
    """The shared unit of a float operation of sequential code: on a real family its operands
    are registered in front of it (they arrive through a multiplexer by controller state)."""
    key = unit_key(e, model)
    if key is None or not getattr(model, "registered_mul_operands", False):
        return key
    return replace(key, inputs_registered=True)


def _latency(op: str, t: AlloType) -> int:
    return _LATENCY[op][t.name]  # type: ignore[attr-defined]


def unit_latency(op: str, t: AlloType, model: Any = None) -> int:
    """Registers of the ``op`` unit (``add``, ``mul``, ``div``, ``sqrt``, ``cvt``) of type
    ``t`` for the target ``model`` (module docstring)."""
    rated = _RATED.get((op, t.name))  # type: ignore[attr-defined]
    family = getattr(model, "family", "generic")
    if rated is None or family not in _OVERHEAD_NS:
        return _latency(op, t)
    default, ecp5, ice40 = rated
    overhead = _OVERHEAD_NS[family]
    logic = default * (1000.0 / (ecp5 if family == "ecp5" else ice40) - overhead)
    stage = 1000.0 / model.clock_mhz * _IN_CONTEXT - overhead
    if stage <= 0:
        return default
    return max(1, min(default, math.ceil(logic / stage - 1e-9)))


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
