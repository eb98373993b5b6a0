"""Independent reference model of allo_rtl's integer and fixed-point semantics.

Written from docs/semantics.md (and Allo's ``allo/ir/typing_rule.py`` for the fixed-point
division result types), without importing anything from ``allo_rtl``. The tests compare the
NumPy executor against this model.

A value is represented by its *raw* integer ``r`` together with a type ``T``; the value is
``r / 2**T.frac``. Every function returns raw values that lie in the range of their type.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

__all__ = [
    "BINOPS",
    "BOOL",
    "CMPOPS",
    "INT32",
    "Fixed",
    "Int",
    "T",
    "UFixed",
    "UInt",
    "binop",
    "c_div",
    "c_rem",
    "convert",
    "float_to_raw",
    "floor_div",
    "get_bit",
    "get_slice",
    "literal_type",
    "raw_to_py",
    "result_type",
    "reverse_bits",
    "set_bit",
    "set_slice",
    "unary_type",
    "unop",
    "wrap",
]

# --------------------------------------------------------------------------------------------
# Types


@dataclass(frozen=True)
class T:
    """An integer-like type: ``Int``/``UInt`` (``fixed=False``) or ``Fixed``/``UFixed``.

    ``fixed`` records the type *class* (Allo picks its typing rules by class, so ``Fixed(8, 0)``
    and ``Int(8)`` are different types even though they hold the same values).
    """

    signed: bool
    width: int
    frac: int = 0
    fixed: bool = False

    def __post_init__(self):
        if not 1 <= self.width <= 4096:
            raise ValueError(f"width {self.width} out of 1..4096")
        if not 0 <= self.frac <= self.width:
            raise ValueError(f"frac {self.frac} out of 0..{self.width}")
        if self.frac and not self.fixed:
            raise ValueError("integer types have no fraction bits")

    @property
    def int_bits(self) -> int:
        return self.width - self.frac

    @property
    def lo(self) -> int:
        """Smallest raw value."""
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def hi(self) -> int:
        """Largest raw value."""
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    def contains(self, raw: int) -> bool:
        return self.lo <= raw <= self.hi

    def value(self, raw: int) -> Fraction:
        return Fraction(raw, 1 << self.frac)

    @property
    def cls(self) -> str:
        return ("" if self.signed else "U") + ("Fixed" if self.fixed else "Int")

    def src(self) -> str:
        """Python source that spells this type in a kernel."""
        if self.fixed:
            return f"{self.cls}({self.width}, {self.frac})"
        return f"{self.cls}({self.width})"

    def __str__(self) -> str:
        return self.src()

    __repr__ = __str__


def Int(w: int) -> T:
    return T(True, w)


def UInt(w: int) -> T:
    return T(False, w)


def Fixed(w: int, f: int) -> T:
    return T(True, w, f, True)


def UFixed(w: int, f: int) -> T:
    return T(False, w, f, True)


BOOL = UInt(1)
INT32 = Int(32)


def literal_type(v: int) -> T:
    """An integer literal is int32 when it fits, otherwise the narrowest Int(n) holding it."""
    if INT32.contains(v):
        return INT32
    n = 1
    while not Int(n).contains(v):
        n += 1
    return Int(n)


# --------------------------------------------------------------------------------------------
# Conversion


def wrap(raw: int, t: T) -> int:
    """Keep the low ``t.width`` bits of ``raw`` and reinterpret them in ``t``."""
    m = raw & ((1 << t.width) - 1)
    if t.signed and m >> (t.width - 1):
        m -= 1 << t.width
    return m


def _align(raw: int, src_frac: int, dst_frac: int) -> int:
    """Change the fraction bits of a raw value: shift left, or right with floor."""
    if dst_frac >= src_frac:
        return raw << (dst_frac - src_frac)
    return raw >> (src_frac - dst_frac)


def convert(raw: int, src: T, dst: T) -> int:
    """Conversion of an integer-like value to an integer-like type (align, then wrap)."""
    return wrap(_align(raw, src.frac, dst.frac), dst)


def float_to_raw(x: float, t: T) -> int:
    """Float to integer-like: truncate toward zero at the fraction bits, saturate, NaN -> 0."""
    if math.isnan(x):
        return 0
    if x in (float("inf"), float("-inf")):
        return t.hi if x > 0 else t.lo
    q = Fraction(x) * (1 << t.frac)
    r = int(q)  # int() of a Fraction truncates toward zero
    return min(max(r, t.lo), t.hi)


def raw_to_py(raw: int, t: T):
    """What a built kernel returns for a scalar of type ``t``: int, or float (the value)."""
    if t.fixed:
        return float(t.value(raw))
    return raw


# --------------------------------------------------------------------------------------------
# Integer helpers


def c_div(a: int, b: int) -> int:
    """Quotient truncated toward zero (b != 0)."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def c_rem(a: int, b: int) -> int:
    """C remainder: sign of the dividend, a == c_div(a, b) * b + c_rem(a, b)."""
    return a - c_div(a, b) * b


def floor_div(a: int, b: int) -> int:
    return a // b


def _trunc(q: Fraction) -> int:
    return int(q)


def _floor(q: Fraction) -> int:
    return q.numerator // q.denominator


# --------------------------------------------------------------------------------------------
# Result types

BINOPS = ("+", "-", "*", "/", "//", "%", "<<", ">>", "&", "|", "^", "min", "max")
CMPOPS = ("<", "<=", ">", ">=", "==", "!=")


def _ibits(t: T, other: T) -> int:
    """Integer bits of ``t`` in a common type with ``other``: unsigned meeting signed gets +1."""
    return t.int_bits + (1 if (not t.signed and other.signed) else 0)


def _make(signed: bool, width: int, frac: int, fixed: bool) -> T:
    return T(signed, width, frac, fixed)


def _common(t1: T, t2: T, extra: int) -> T:
    ib = max(_ibits(t1, t2), _ibits(t2, t1)) + extra
    f = max(t1.frac, t2.frac)
    return _make(t1.signed or t2.signed, ib + f, f, t1.fixed or t2.fixed)


def _div_type(t1: T, t2: T) -> T:
    w1, w2, f1, f2 = t1.width, t2.width, t1.frac, t2.frac
    if not t1.fixed and not t2.fixed:
        # the type of a; UInt divided by Int gives Int of the same width
        return Int(w1) if (t2.signed and not t1.signed) else t1
    # Allo's fixed-point division rules (allo/ir/typing_rule.py, div_rule), verbatim.
    table = {
        ("Int", "Fixed"): (True, w1 + w2, w1 - f2),
        ("Int", "UFixed"): (True, w1 + w2 + 1, w1 - f2),
        ("UInt", "Fixed"): (True, w1 + w2, w1 - f2),
        ("UInt", "UFixed"): (False, w1 + w2, w1 - f2),
        ("Fixed", "Int"): (True, w1 + w2, w2 + f1),
        ("Fixed", "UInt"): (True, w1 + w2 + 1, w2 + f1),
        ("Fixed", "Fixed"): (True, w1 + w2, w2 - f2 + f1),
        ("Fixed", "UFixed"): (True, w1 + w2 + 1, w2 - f2 + f1),
        ("UFixed", "Int"): (True, w1 + w2 + 1, w2 + f1),
        ("UFixed", "UInt"): (False, w1 + w2, w2 + f1),
        ("UFixed", "Fixed"): (True, w1 + w2, w2 - f2 + f1),
        ("UFixed", "UFixed"): (False, w1 + w2, w2 - f2 + f1),
    }
    signed, w, f = table[(t1.cls, t2.cls)]
    return T(signed, w, f, True)  # raises ValueError if Allo's rule gives an invalid type


def result_type(op: str, t1: T, t2: T) -> T:
    """Static result type of ``t1 op t2`` (``op`` in BINOPS or CMPOPS)."""
    if op in ("+", "-"):
        return _common(t1, t2, 1)
    if op == "*":
        return _make(
            t1.signed or t2.signed,
            t1.width + t2.width,
            t1.frac + t2.frac,
            t1.fixed or t2.fixed,
        )
    if op in ("/", "//"):
        return _div_type(t1, t2)
    if op in ("%", "min", "max"):
        return _common(t1, t2, 0)
    if op in ("<<", ">>"):
        if t2.fixed:
            raise TypeError("shift amount must be an integer")
        return t1
    if op in ("&", "|", "^"):
        if t1.fixed or t2.fixed:
            raise TypeError("bitwise operations need integers")
        return T(t1.signed or t2.signed, max(t1.width, t2.width))
    if op in CMPOPS:
        return BOOL
    raise ValueError(f"unknown binary op {op!r}")


def unary_type(op: str, t: T) -> T:
    if op in ("-", "~"):
        if op == "~" and t.fixed:
            raise TypeError("~ needs an integer")
        # UInt(n) becomes Int(n); every other type is kept (UFixed stays UFixed, as in Allo)
        return t if t.fixed else Int(t.width)
    if op == "int":
        return INT32
    raise ValueError(f"unknown unary op {op!r}")


# --------------------------------------------------------------------------------------------
# Values


def binop(op: str, r1: int, t1: T, r2: int, t2: T) -> tuple[int, T]:
    """Evaluate ``a op b`` on raw values; returns (raw result, result type)."""
    assert t1.contains(r1) and t2.contains(r2), (r1, t1, r2, t2)
    rt = result_type(op, t1, t2)
    if op in CMPOPS or op in ("+", "-", "%", "min", "max"):
        f = max(t1.frac, t2.frac)
        a, b = _align(r1, t1.frac, f), _align(r2, t2.frac, f)
        if op in CMPOPS:
            res = {
                "<": a < b,
                "<=": a <= b,
                ">": a > b,
                ">=": a >= b,
                "==": a == b,
                "!=": a != b,
            }[op]
            return int(res), rt
        if op == "+":
            exact = a + b
            assert rt.contains(exact), "a + b must never overflow"
            return exact, rt
        if op == "-":
            return wrap(a - b, rt), rt  # only unsigned - unsigned can wrap
        if op == "%":
            res = a if b == 0 else c_rem(a, b)
            assert rt.contains(res)
            return res, rt
        res = min(a, b) if op == "min" else max(a, b)
        res = _align(res, f, rt.frac)
        assert rt.contains(res)
        return res, rt
    if op == "*":
        exact = r1 * r2
        assert rt.contains(exact), "a * b must never overflow"
        return exact, rt
    if op in ("/", "//"):
        if r2 == 0:
            return wrap(-1, rt), rt  # all ones
        # exact quotient of the values, scaled to the result's fraction bits
        q = Fraction(r1 * (1 << t2.frac) * (1 << rt.frac), r2 * (1 << t1.frac))
        raw = _trunc(q) if op == "/" else _floor(q)
        return wrap(raw, rt), rt
    if op in ("<<", ">>"):
        n = r2 & ((1 << t2.width) - 1)  # the amount is unsigned in its own width
        if op == "<<":
            return (0 if n >= t1.width else wrap(r1 << n, t1)), rt
        return (r1 >> min(n, t1.width)), rt  # arithmetic for signed, logical for unsigned
    if op in ("&", "|", "^"):
        a, b = convert(r1, t1, rt), convert(r2, t2, rt)
        res = {"&": a & b, "|": a | b, "^": a ^ b}[op]
        return wrap(res, rt), rt
    raise ValueError(f"unknown binary op {op!r}")


def unop(op: str, r: int, t: T) -> tuple[int, T]:
    assert t.contains(r), (r, t)
    rt = unary_type(op, t)
    if op == "-":
        return wrap(-r, rt), rt
    if op == "~":
        return wrap(~r, rt), rt
    if op == "int":
        return convert(r, t, INT32), rt
    raise ValueError(op)


# --------------------------------------------------------------------------------------------
# Bit access (on the raw two's complement representation)


def get_bit(raw: int, t: T, i: int) -> int:
    """``x[i]`` for ``i >= 0``: outside the width reads 0, or the sign bit for signed x."""
    assert i >= 0
    return (raw >> i) & 1  # Python ints sign-extend, unsigned raws are non-negative


def get_slice(raw: int, t: T, lo: int, hi: int) -> tuple[int, T]:
    """``x[lo:hi]``: bits lo..hi-1 as UInt(hi - lo)."""
    assert 0 <= lo < hi
    return (raw >> lo) & ((1 << (hi - lo)) - 1), UInt(hi - lo)


def set_slice(raw: int, t: T, lo: int, hi: int, v: int) -> int:
    """``x[lo:hi] = v``: v converted to UInt(hi - lo); bits beyond the width are dropped."""
    assert 0 <= lo < hi
    n = hi - lo
    v &= (1 << n) - 1
    mask = ((1 << n) - 1) << lo
    bits = raw & ((1 << t.width) - 1)
    bits = (bits & ~mask) | (v << lo)
    return wrap(bits, t)


def set_bit(raw: int, t: T, i: int, b: int) -> int:
    """``x[i] = b`` with b converted to bool (its low bit)."""
    return set_slice(raw, t, i, i + 1, b)


def reverse_bits(raw: int, t: T) -> int:
    bits = raw & ((1 << t.width) - 1)
    s = format(bits, f"0{t.width}b")
    return wrap(int(s[::-1], 2), t)
