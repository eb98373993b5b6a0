"""Run-time helpers called by the generated reference code (docs/semantics.md).

Integer-like values are raw Python ints; float values are NumPy scalars of their format
(``np.float16``, ``np.float32``, ``np.float64``; bfloat16 values are ``np.float32`` holding a
bfloat16 value). Arrays are nested Python lists.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ..ir import _values
from ..ir.types import AlloType, Float

__all__ = ["HELPERS"]


def wrap(x: int, bits: int, signed: bool) -> int:
    x &= (1 << bits) - 1
    if signed and x >> (bits - 1):
        x -= 1 << bits
    return x


def all_ones(t: AlloType) -> int:
    return -1 if t.signed else t.max_raw


def cdiv(a: int, b: int, t: AlloType) -> int:
    """C division (toward zero); ``a / 0`` is all ones in ``t``."""
    if b == 0:
        return all_ones(t)
    q = abs(a) // abs(b)
    return wrap(-q if (a < 0) != (b < 0) else q, t.bits, t.signed)


def fdiv(a: int, b: int, t: AlloType) -> int:
    """Floor division; ``a // 0`` is all ones in ``t``."""
    if b == 0:
        return all_ones(t)
    return wrap(a // b, t.bits, t.signed)


def cmod(a: int, b: int, t: AlloType) -> int:
    """C remainder (sign of the dividend); ``a % 0`` is ``a``."""
    if b == 0:
        return wrap(a, t.bits, t.signed)
    r = abs(a) % abs(b)
    return wrap(-r if a < 0 else r, t.bits, t.signed)


def fixed_div(a: int, fa: int, b: int, fb: int, t: AlloType, floor: bool) -> int:
    """Quotient of raw fixed-point values, rounded at ``t.fracs`` (toward zero, or floor)."""
    e = t.fracs - fa + fb
    num, den = (a << e, b) if e >= 0 else (a, b << -e)
    return fdiv(num, den, t) if floor else cdiv(num, den, t)


def shift_amount(n: int, bits: int) -> int:
    """A shift amount read as an unsigned number of its own width."""
    return n + (1 << bits) if n < 0 else n


def shl(a: int, n: int, t: AlloType) -> int:
    if n >= t.bits:
        return 0
    return wrap(a << n, t.bits, t.signed)


def get_bit(a: int, i: int) -> int:
    return (a >> min(i, 1 << 16)) & 1


def set_bit(a: int, i: int, b: int, t: AlloType) -> int:
    if not 0 <= i < t.bits:
        return a
    return wrap((a & ~(1 << i)) | (b << i), t.bits, t.signed)


def set_bits(a: int, lo: int, hi: int, v: int, t: AlloType) -> int:
    hi = min(hi, t.bits)
    if lo >= hi:
        return a
    mask = ((1 << (hi - lo)) - 1) << lo
    return wrap((a & ~mask) | ((v << lo) & mask), t.bits, t.signed)


def reverse_bits(a: int, t: AlloType) -> int:
    pattern = format(a & ((1 << t.bits) - 1), f"0{t.bits}b")
    return wrap(int(pattern[::-1], 2), t.bits, t.signed)


def bf16(x: Any) -> np.float32:
    """Round a float32 value to bfloat16 (nearest even), kept as ``np.float32``."""
    bits = int(np.float32(x).view(np.uint32))
    if (bits & 0x7F800000) == 0x7F800000:  # inf or NaN
        return np.float32(x) if bits & 0x007FFFFF == 0 else np.float32(np.nan)
    bits += 0x7FFF + ((bits >> 16) & 1)
    return np.array((bits >> 16) << 16, dtype=np.uint32).view(np.float32)[()]


_SCALAR = {
    "float16": np.float16,
    "bfloat16": np.float32,
    "float32": np.float32,
    "float64": np.float64,
}


def make_float(x: float, t: Float) -> Any:
    """A Python float already rounded to ``t``, as the NumPy scalar that holds ``t`` values."""
    return _SCALAR[t.name](x)


def convert(x: Any, src: AlloType, dst: AlloType) -> Any:
    """General conversion (docs/semantics.md); ``x`` and the result in run-time form."""
    if isinstance(src, Float):
        x = float(x)
    value = _values.convert(x, src, dst)
    return make_float(value, dst) if isinstance(dst, Float) else value  # type: ignore[arg-type]


def fmin(a: Any, b: Any) -> Any:
    return np.minimum(a, b)


def fmax(a: Any, b: Any) -> Any:
    return np.maximum(a, b)


def check_index(i: int, n: int, buf: str, where: str) -> int:
    if not 0 <= i < n:
        raise IndexError(
            f"{where}: index {i} is out of range for a dimension of size {n} of `{buf}`"
        )
    return i


def full(shape: tuple[int, ...], value: Any) -> list[Any]:
    if len(shape) == 1:
        return [value] * shape[0]
    return [full(shape[1:], value) for _ in range(shape[0])]


def copy_into(dst: list[Any], src: list[Any]) -> None:
    if dst and isinstance(dst[0], list):
        for d, s in zip(dst, src):
            copy_into(d, s)
    else:
        dst[:] = src


HELPERS = {
    "_cdiv": cdiv, "_fdiv": fdiv, "_cmod": cmod, "_fixed_div": fixed_div, "_shamt": shift_amount,
    "_shl": shl, "_get_bit": get_bit, "_set_bit": set_bit, "_set_bits": set_bits,
    "_reverse_bits": reverse_bits, "_bf16": bf16, "_convert": convert, "_fmin": fmin,
    "_fmax": fmax, "_check": check_index, "_full": full, "_copy_into": copy_into,
    "_deepcopy": copy.deepcopy, "_wrap": wrap, "_np": np,
}  # fmt: skip
