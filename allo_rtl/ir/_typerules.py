"""Result types of operations, following Allo's typing rules (docs/semantics.md).

The functions return ``None`` when the operand types are not allowed for the operation; the
frontend turns that into a :class:`KernelTypeError` at the user's line.

In mixed arithmetic Allo counts ``index`` as a 32-bit *unsigned* integer; ``index op index``
stays ``index``.
"""

from __future__ import annotations

from .types import AlloType, Fixed, Float, Index, Int, UFixed, UInt, float32, float64

__all__ = ["binary_result", "common_type", "unary_result"]


def _signed(t: AlloType) -> bool:
    return t.signed and not isinstance(t, Index)


def _is_fixed(t: AlloType) -> bool:
    return isinstance(t, (Fixed, UFixed))


def _make(signed: bool, bits: int, fracs: int, fixed: bool) -> AlloType:
    fracs = max(fracs, 0)
    bits = max(bits, fracs, 1)
    if fixed or fracs:
        return Fixed(bits, fracs) if signed else UFixed(bits, fracs)
    return Int(bits) if signed else UInt(bits)


def _aligned(t1: AlloType, t2: AlloType, extra: int) -> AlloType:
    """Allo's rule for + - % comparisons and selects: both ranges, plus ``extra`` bits."""
    signed = _signed(t1) or _signed(t2)
    ints = [t.bits - t.fracs + (1 if signed and not _signed(t) else 0) for t in (t1, t2)]
    fracs = max(t1.fracs, t2.fracs)
    return _make(signed, max(ints) + fracs + extra, fracs, _is_fixed(t1) or _is_fixed(t2))


def _wider_float(t1: AlloType, t2: AlloType) -> AlloType:
    if isinstance(t1, Float) and isinstance(t2, Float):
        return t1 if t1.bits >= t2.bits else t2
    return t1 if isinstance(t1, Float) else t2


def common_type(t1: AlloType, t2: AlloType) -> AlloType:
    """The type both operands of a comparison, ``min``/``max`` or a select convert to."""
    if t1.is_float or t2.is_float:
        return _wider_float(t1, t2)
    if isinstance(t1, Index) and isinstance(t2, Index):
        return t1
    return _aligned(t1, t2, 0)


def _mul(t1: AlloType, t2: AlloType) -> AlloType:
    signed = _signed(t1) or _signed(t2)
    fixed = _is_fixed(t1) or _is_fixed(t2)
    return _make(signed, t1.bits + t2.bits, t1.fracs + t2.fracs, fixed)


def _div(t1: AlloType, t2: AlloType) -> AlloType:
    s1, s2 = _signed(t1), _signed(t2)
    if not (_is_fixed(t1) or _is_fixed(t2)):
        if isinstance(t1, Index):
            return Int(32) if s2 else t1
        return _make(s1 or s2, t1.bits, 0, False)
    if not _is_fixed(t1):
        extra = 1 if isinstance(t1, Int) and isinstance(t2, UFixed) else 0
        return _make(s1 or s2, t1.bits + t2.bits + extra, t1.bits - t2.fracs, True)
    extra = 1 if (s1 != s2 if not _is_fixed(t2) else (s1 and not s2)) else 0
    fracs = (t2.bits - t2.fracs) + t1.fracs
    return _make(s1 or s2, t1.bits + t2.bits + extra, fracs, True)


def _bitwise(t1: AlloType, t2: AlloType) -> AlloType | None:
    if not (t1.is_integer and t2.is_integer):
        return None
    return _make(_signed(t1) or _signed(t2), max(t1.bits, t2.bits), 0, False)


def _pow(t1: AlloType, t2: AlloType) -> AlloType:
    if t1.is_float and t2.is_float:
        return _wider_float(t1, t2)
    if float64 in (t1, t2) or any(t.is_integer_like and t.bits > 32 for t in (t1, t2)):
        return float64
    return float32


_ARITH = {
    "add": lambda a, b: _aligned(a, b, 1),
    "sub": lambda a, b: _aligned(a, b, 1),
    "mul": _mul,
    "div": _div,
    "floordiv": _div,
    "mod": lambda a, b: _aligned(a, b, 0),
}


def binary_result(op: str, t1: AlloType, t2: AlloType) -> AlloType | None:
    """Result type of ``t1 op t2``, or ``None`` if the operation does not apply."""
    if op == "pow":
        return _pow(t1, t2)
    if op in ("land", "lor") or op in ("eq", "ne", "lt", "le", "gt", "ge"):
        return UInt(1)
    if op in ("min", "max"):
        return common_type(t1, t2)
    if op in ("shl", "shr"):
        ok = t1.is_integer_like and t2.is_integer
        return t1 if ok else None
    if op in ("and", "or", "xor"):
        if isinstance(t1, Index) and isinstance(t2, Index):
            return t1
        return _bitwise(t1, t2)
    if t1.is_float or t2.is_float:
        return _wider_float(t1, t2)
    if isinstance(t1, Index) and isinstance(t2, Index):
        return t1
    return _ARITH[op](t1, t2)


def unary_result(op: str, t: AlloType) -> AlloType | None:
    """Result type of a unary operation, or ``None`` if it does not apply."""
    if op == "not":
        return UInt(1)
    if op == "invert" and not t.is_integer:
        return None
    if op in ("neg", "invert") and isinstance(t, UInt):
        return Int(t.bits)
    return t
