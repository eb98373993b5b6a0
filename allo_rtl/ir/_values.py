"""Value-level semantics of scalar types (docs/semantics.md), on Python numbers.

Integer-like values are raw Python ints (value times ``2**fracs``); float values are Python
floats already rounded to their format. The frontend uses these functions to fold constants and
the NumPy target calls them at run time, so both agree by construction.
"""

from __future__ import annotations

import math

from .types import AlloType, Float

__all__ = [
    "FLOAT_FORMATS",
    "convert",
    "float_to_raw",
    "raw_to_float",
    "round_float",
    "wrap",
]

# (mantissa bits, exponent bits) per float format width/mantissa
FLOAT_FORMATS = {"float16": (10, 5), "bfloat16": (7, 8), "float32": (23, 8), "float64": (52, 11)}


def wrap(raw: int, t: AlloType) -> int:
    """Keep the low ``t.bits`` bits of ``raw`` and reinterpret them in ``t``."""
    mask = (1 << t.bits) - 1
    raw &= mask
    if t.signed and raw >> (t.bits - 1):
        raw -= 1 << t.bits
    return raw


def round_exact(num: int, shift: int, mantissa: int, exponent: int) -> float:
    """Round ``num * 2**-shift`` to nearest even in the binary format given, as a Python float."""
    if num == 0:
        return 0.0
    sign = -1.0 if num < 0 else 1.0
    a = abs(num)
    bias = (1 << (exponent - 1)) - 1
    e = a.bit_length() - 1 - shift
    q = max(e, 1 - bias) - mantissa  # exponent of the last mantissa bit
    k = -shift - q
    if k >= 0:
        m = a << k
    else:
        m, rem = a >> -k, a & ((1 << -k) - 1)
        half = 1 << (-k - 1)
        if rem > half or (rem == half and m & 1):
            m += 1
    if m and m.bit_length() + q > bias + 1:
        return sign * math.inf
    return sign * math.ldexp(m, q)


def round_float(x: float, t: Float) -> float:
    """Round a Python float to the format ``t`` (nearest even); NaN and infinities pass."""
    if t.bits == 64 or math.isnan(x) or math.isinf(x):
        return x
    num, den = x.as_integer_ratio()
    result = round_exact(num, den.bit_length() - 1, t.mantissa, t.exponent)
    return math.copysign(result, x) if result == 0 else result


def raw_to_float(raw: int, src: AlloType, t: Float) -> float:
    """Convert an integer-like raw value of type ``src`` to float format ``t`` (nearest even)."""
    return round_exact(raw, src.fracs, t.mantissa, t.exponent)


def float_to_raw(x: float, t: AlloType) -> int:
    """Convert a float to integer-like ``t``: truncate toward zero, saturate, NaN gives 0."""
    if math.isnan(x):
        return 0
    if math.isinf(x):
        return t.max_raw if x > 0 else t.min_raw
    # exact: x is an integer multiple of a power of two (math.ldexp overflows past 1e308)
    num, den = x.as_integer_ratio()
    scaled = abs(num) * (1 << t.fracs) // den
    return min(max(scaled if num >= 0 else -scaled, t.min_raw), t.max_raw)


def convert(value: int | float, src: AlloType, dst: AlloType) -> int | float:
    """Convert a value of type ``src`` to type ``dst`` (docs/semantics.md, Conversion)."""
    if isinstance(dst, Float):
        if isinstance(src, Float):
            return round_float(float(value), dst)
        return raw_to_float(int(value), src, dst)
    if isinstance(src, Float):
        return float_to_raw(float(value), dst)
    shift = dst.fracs - src.fracs
    raw = int(value) << shift if shift >= 0 else int(value) >> -shift
    return wrap(raw, dst)
