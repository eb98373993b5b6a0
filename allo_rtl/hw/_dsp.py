"""Multiplies of two non-constant values in Amaranth, as their :class:`MulPlan` says: one
``*`` (a ``$mul`` cell for DSP blocks), the two-cycle split multiply of ``_multiply.py``, or
partial products summed in logic (lowering/_dsp.py explains the choices; multiplies by
constants are sums of shifted copies, ``_datapath.const_product``).

Every builder returns the low ``bits`` bits of the exact product of its operands' raw values,
reinterpreted as signed when an operand is signed; :func:`planned_product` extends that to the
multiply's IR type. Bits above ``bits`` are only meaningful when ``bits`` is the full width of
the exact product; the lowering keeps ``bits`` at least as large as every user reads.
"""

from __future__ import annotations

from collections.abc import Callable

from amaranth.hdl import Cat, Const, Module, Signal, Value

from ..ir._nodes import Binary, Expr
from ..ir.types import Int, UInt
from ..lowering import PipeOp
from ..lowering._dsp import MulPlan, MulShape, mul_operands
from ._datapath import Datapath, exact, extend, fit
from ._multiply import registered_product

__all__ = ["dsp_product", "logic_product", "pipeline_product", "planned_product"]

Register = Callable[[Value, str], Value]


def _operand(v: Value, width: int, signed: bool) -> Value:
    """``v`` extended by its own signedness or cut to ``width`` bits, read as ``signed``."""
    v = extend(v, width)[:width]
    return v.as_signed() if signed else v.as_unsigned()


def dsp_product(a: Value, b: Value, shape: MulShape) -> Value:
    """One ``$mul`` cell of ``shape`` (the cell yosys maps to DSP blocks)."""
    x = _operand(a, shape.a_bits, shape.signed)
    y = _operand(b, shape.b_bits, shape.signed)
    return _kept(x * y, shape.bits, a.shape().signed or b.shape().signed)


def _kept(product: Value, bits: int, signed: bool) -> Value:
    low = product[:bits] if len(product) > bits else product
    return low.as_signed() if signed else low.as_unsigned()


def logic_product(
    a: Value,
    b: Value,
    bits: int,
    cuts: tuple[int, ...] = (),
    register: Register | None = None,
) -> Value:
    """The low ``bits`` bits of ``a * b`` without a ``$mul`` cell: the narrower operand ``m``
    gates one shifted copy of the other per bit (the copy of ``m``'s sign bit is subtracted
    when ``m`` is signed), summed in a balanced tree of adders. After tree level ``k`` in
    ``cuts`` (0: the gated copies) the partial sums pass through ``register``."""
    signed = a.shape().signed or b.shape().signed
    x, m = (a, b) if len(b) <= len(a) else (b, a)
    wide = extend(x, bits)[:bits].as_unsigned()
    terms = []  # (value of width bits - offset, offset, subtracted)
    for i in range(min(len(m), bits)):
        copy = wide[: bits - i] & m[i].replicate(bits - i)
        terms.append((copy, i, m.shape().signed and i == len(m) - 1))
    level = 0
    while True:
        if level in cuts and register is not None:
            terms = [(register(v, f"pp{level}_{n}"), o, s) for n, (v, o, s) in enumerate(terms)]
        if len(terms) == 1:
            break
        terms = [_add(terms[n], terms[n + 1], bits) if n + 1 < len(terms) else terms[n]
                 for n in range(0, len(terms), 2)]  # fmt: skip
        level += 1
    value, offset, minus = terms[0]
    if minus:  # a one-bit signed multiplier: -x or 0
        value = (-exact(value))[: bits - offset]
    low = Cat(Const(0, offset), value)[:bits] if offset else value
    return low.as_signed() if signed else low.as_unsigned()


def _add(
    first: tuple[Value, int, bool], second: tuple[Value, int, bool], bits: int
) -> tuple[Value, int, bool]:
    """The sum of two partial sums, ``first`` at the lower (or equal) offset; the low bits
    of ``first`` below ``second``'s offset pass through without an adder."""
    (v1, o1, _), (v2, o2, minus) = first, second
    k = o2 - o1
    high = v1[k:] - v2 if minus else v1[k:] + v2
    total = Cat(v1[:k], high[: bits - o2]) if k else high[: bits - o2]
    return total, o1, False


def planned_product(
    dp: Datapath, e: Expr, plan: MulPlan, register: Register | None = None
) -> Value:
    """The product ``e`` (a ``mul``) built as ``plan`` says, as a value of ``e.type``:
    combinational, but for the registers of a pipelined logic tree (``plan.cuts``, through
    ``register``)."""
    assert isinstance(e, Binary) and e.op == "mul"
    lhs, rhs = mul_operands(e)
    a, b = dp(lhs), dp(rhs)
    if plan.logic:
        product = logic_product(a, b, plan.bits, plan.cuts, register)
    else:
        product = dsp_product(a, b, plan.shape)
    return dp.wire(fit(product, e.type), "mul")


def pipeline_product(m: Module, dp: Datapath, op: PipeOp, name: str) -> Value:
    """The registered product of pipeline operation ``op`` (a ``mul`` with a plan), valid
    ``op.latency`` cycles after its operands."""
    plan, e = op.plan, op.value
    assert plan is not None and isinstance(e, Binary)

    def register(value: Value, suffix: str) -> Value:
        reg = Signal(value.shape(), name=f"{name}_{suffix}")
        m.d.sync += reg.eq(value)
        return reg

    if not plan.logic and op.latency >= 2:  # DSP blocks for pieces, registered, then added
        lhs, rhs = mul_operands(e)
        signed = lhs.type.signed or rhs.type.signed
        kept = Int(plan.bits) if signed else UInt(plan.bits)
        value = registered_product(m, dp(lhs), dp(rhs), kept, name, op.latency)
        return fit(value, e.type)
    value = planned_product(dp, e, plan, register)
    for stage in range(op.latency - len(plan.cuts)):  # the output register(s)
        value = register(value, f"r{stage}")
    return value
