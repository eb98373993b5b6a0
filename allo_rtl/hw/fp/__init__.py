"""Floating-point operator units (Amaranth components), parameterised by format.

``_format.py`` states the conventions every unit follows (latency, rounding, NaN); docs/float.md
lists the units with their latencies and sizes.
"""

from ._add import FloatAdd
from ._compare import FloatCompare, FloatMinMax, FloatNegAbs
from ._convert import FloatToFloat, FloatToInt, IntToFloat
from ._div import FloatDiv
from ._fma import FloatFMA
from ._format import BFLOAT16, FLOAT16, FLOAT32, FLOAT64, FloatFormat, format_of
from ._math import (
    MATH_UNITS,
    FloatCos,
    FloatExp,
    FloatLog,
    FloatLog2,
    FloatLog10,
    FloatPow,
    FloatSin,
    FloatTanh,
)
from ._mul import FloatMul
from ._sqrt import FloatSqrt

__all__ = [
    "BFLOAT16", "FLOAT16", "FLOAT32", "FLOAT64", "MATH_UNITS", "FloatAdd", "FloatCompare",
    "FloatCos", "FloatDiv", "FloatExp", "FloatFMA", "FloatFormat", "FloatLog", "FloatLog10",
    "FloatLog2", "FloatMinMax", "FloatMul", "FloatNegAbs", "FloatPow", "FloatSin", "FloatSqrt",
    "FloatTanh", "FloatToFloat", "FloatToInt", "IntToFloat", "format_of",
]  # fmt: skip
