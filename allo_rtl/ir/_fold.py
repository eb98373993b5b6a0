"""Constant folding of integer expressions (loop bounds written as ``N - 1``)."""

from __future__ import annotations

from ._nodes import Binary, Cast, Const, Expr, For, Sym, Var
from ._values import wrap

__all__ = ["affine_var", "const_int", "loop_range", "trip_count"]

_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "shl": lambda a, b: a << b if 0 <= b < 64 else None,
    # division conventions (C, floor, by zero) agree for a >= 0, b > 0: fold only those
    "floordiv": lambda a, b: a // b if a >= 0 and b > 0 else None,
    "div": lambda a, b: a // b if a >= 0 and b > 0 else None,
    "mod": lambda a, b: a % b if a >= 0 and b > 0 else None,
}


def const_int(e: Expr) -> int | None:
    """The value of integer expression ``e`` when it is built from constants only, else
    ``None``. Folding wraps to each node's type, exactly as evaluation would."""
    if isinstance(e, Const):
        return int(e.value) if e.type.is_integer_like and not e.type.fracs else None
    if isinstance(e, Cast) and e.type.is_integer_like and not e.type.fracs:
        inner = const_int(e.operand)
        return None if inner is None else wrap(inner, e.type)
    if isinstance(e, Binary) and e.op in _OPS and e.type.is_integer_like and not e.type.fracs:
        a, b = const_int(e.lhs), const_int(e.rhs)
        if a is None or b is None:
            return None
        value = _OPS[e.op](a, b)
        return None if value is None else wrap(value, e.type)
    return None


def loop_range(loop: For) -> range | None:
    """The values of ``loop``'s variable when both bounds are constant, else ``None``."""
    lo, hi = const_int(loop.lo), const_int(loop.hi)
    if lo is None or hi is None:
        return None
    return range(lo, hi, loop.step)


def trip_count(loop: For) -> int | None:
    """The number of iterations of ``loop`` when its bounds are constant, else ``None``."""
    values = loop_range(loop)
    return None if values is None else len(values)


def affine_var(e: Expr) -> tuple[Sym, int, int] | None:
    """``(v, a, c)`` when ``e`` is ``a * v + c`` for a variable ``v`` and constants."""
    while isinstance(e, Cast):
        e = e.operand
    if isinstance(e, Var):
        return e.sym, 1, 0
    if isinstance(e, Binary) and e.op in ("add", "sub", "mul"):
        for var_side, const_side in ((e.lhs, e.rhs), (e.rhs, e.lhs)):
            k = const_int(const_side)
            inner = affine_var(var_side)
            if k is None or inner is None or (e.op == "sub" and var_side is e.rhs):
                continue
            v, a, c = inner
            if e.op == "mul":
                return v, a * k, c * k
            return v, a, c + (k if e.op == "add" else -k)
    return None
