"""Exact constants of the math units, computed with Python integers (no floating point).

Every function returns ``round(value * 2**bits)`` for a real ``value``: the series are summed
in fixed point with ``_GUARD`` extra bits (each term truncated, so the sum is off by at most
a few units of ``2**-(bits + _GUARD)``) and then rounded to nearest, so the result is the
correctly rounded constant except in ties closer than ``2**-_GUARD`` units (immaterial here).
Arguments of ``exp``, ``ln``, ``sin`` and ``cos`` are exact rationals ``p / q``.
"""

from __future__ import annotations

__all__ = [
    "fx_cos",
    "fx_div",
    "fx_inv_ln",
    "fx_exp",
    "fx_ln",
    "fx_ln2",
    "fx_ln10",
    "fx_log",
    "fx_pi",
    "fx_sin",
]

_GUARD = 64


def _round(v: int, extra: int) -> int:
    """``v / 2**extra`` rounded to nearest (ties away from zero, never met)."""
    return (v + (1 << (extra - 1))) >> extra


def fx_div(p: int, q: int, bits: int) -> int:
    """``round(p / q * 2**bits)``."""
    return _round((p << (bits + _GUARD)) // q, _GUARD)


def _atanh(p: int, q: int, prec: int) -> int:
    """``atanh(p / q) * 2**prec`` (truncated terms), ``|p / q| < 1``, ``q > 0``."""
    if p < 0:
        return -_atanh(-p, q, prec)
    total, k = 0, 0
    power = (p << prec) // q  # (p/q)**(2k+1) * 2**prec
    while power:
        total += power // (2 * k + 1)
        power = power * p * p // (q * q)
        k += 1
    return total


def _atan(p: int, q: int, prec: int) -> int:
    total, k = 0, 0
    power = (p << prec) // q
    while power:
        term = power // (2 * k + 1)
        total += -term if k % 2 else term
        power = power * p * p // (q * q)
        k += 1
    return total


def _ln(p: int, q: int, prec: int) -> int:
    """``ln(p / q) * 2**prec`` for ``p, q > 0``: ``2 atanh((p - q) / (p + q))``."""
    return 2 * _atanh(p - q, p + q, prec)


def fx_ln(p: int, q: int, bits: int) -> int:
    """``round(ln(p / q) * 2**bits)``."""
    return _round(_ln(p, q, bits + _GUARD), _GUARD)


def fx_ln2(bits: int) -> int:
    return fx_ln(2, 1, bits)


def fx_ln10(bits: int) -> int:
    return fx_ln(10, 1, bits)


def fx_pi(bits: int) -> int:
    """``round(pi * 2**bits)`` (Machin: ``pi = 16 atan(1/5) - 4 atan(1/239)``)."""
    prec = bits + _GUARD
    return _round(16 * _atan(1, 5, prec) - 4 * _atan(1, 239, prec), _GUARD)


def _taylor(p: int, q: int, prec: int, start: int, step_sign: int) -> int:
    """``sum_k step_sign**k * x**(start + 2k) / (start + 2k)!`` (``x = p / q``) when
    ``start`` is 0 or 1; the plain exponential series when ``step_sign`` is 0."""
    if step_sign == 0:
        total, term, n = 0, 1 << prec, 0
        while term:
            total += term
            n += 1
            term = term * p // (q * n)
        return total
    term = (1 << prec) if start == 0 else (p << prec) // q
    total, n, k = 0, start, 0
    while term:
        total += term if k % 2 == 0 else -term
        term = term * p * p // (q * q * (n + 1) * (n + 2))
        n += 2
        k += 1
    return total


def fx_exp(p: int, q: int, bits: int) -> int:
    """``round(exp(p / q) * 2**bits)`` for ``|p / q| <= 1``."""
    if p < 0:
        prec = bits + _GUARD
        return _round((1 << (2 * prec)) // _taylor(-p, q, prec, 0, 0), _GUARD)
    return _round(_taylor(p, q, bits + _GUARD, 0, 0), _GUARD)


def fx_sin(p: int, q: int, bits: int) -> int:
    """``round(sin(p / q) * 2**bits)`` for ``|p / q| <= 1``."""
    if p < 0:
        return -fx_sin(-p, q, bits)
    return _round(_taylor(p, q, bits + _GUARD, 1, 1), _GUARD)


def fx_cos(p: int, q: int, bits: int) -> int:
    """``round(cos(p / q) * 2**bits)`` for ``|p / q| <= 1``."""
    return _round(_taylor(abs(p), q, bits + _GUARD, 0, 1), _GUARD)


def fx_log(p: int, q: int, base: int, bits: int) -> int:
    """``round(log_base(p / q) * 2**bits)`` for ``base`` 0 (meaning e), 2 or 10."""
    prec = bits + _GUARD
    num = _ln(p, q, prec + _GUARD)
    if base == 0:
        return _round(num, 2 * _GUARD)
    den = _ln(base, 1, _GUARD + 8)
    return _round(num // den, _GUARD - 8)


def fx_inv_ln(k: int, base: int, bits: int) -> int:
    """``round(1 / (k * ln(base)) * 2**bits)`` (``base`` 0 meaning e: ``1 / k``)."""
    if base == 0:
        return fx_div(1, k, bits)
    return _round((1 << (2 * bits + 2 * _GUARD)) // (k * _ln(base, 1, bits + _GUARD)), _GUARD)
