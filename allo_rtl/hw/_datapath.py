"""IR expressions -> Amaranth combinational values, with exactly the semantics of
docs/semantics.md (the NumPy target's).

Every value produced for an IR node of type ``t`` has Amaranth shape ``signed(t.bits)`` or
``unsigned(t.bits)`` and holds the raw (two's complement / scaled) value. Arithmetic is computed
exactly in wide enough signed intermediates, then wrapped by truncation to the result type.
Multiplies by constants (and address strides) are sums of shifted copies of the operand, so no
``$mul`` cell reaches yosys and none takes a DSP block; multiplies of two non-constant values
are built by ``_dsp.py`` as their plan says.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from amaranth.hdl import Cat, Const, Mux, Shape, Signal, Value, signed, unsigned

from .._errors import InternalError, LoweringError
from ..ir import _nodes as ir
from ..ir._visitor import ExprVisitor
from ..ir.types import AlloType, ArrayType
from ._units import float_compare, float_minmax
from .fp._m_ops import csd

__all__ = ["Datapath", "const_product", "element_address", "shape_of"]


def shape_of(t: AlloType) -> Shape:
    """The Amaranth shape of raw values of ``t`` (a float's raw value is its IEEE encoding)."""
    return signed(t.bits) if t.signed and not t.is_float else unsigned(t.bits)


def float_bits(value: object, t: AlloType) -> int:
    """The IEEE encoding of ``value`` rounded to float type ``t`` (bfloat16: nearest even)."""
    if t.bits == 64:
        return int(np.float64(value).view(np.uint64))
    if t.bits == 32:
        return int(np.float32(value).view(np.uint32))
    if t.name == "float16":  # type: ignore[attr-defined]
        return int(np.float16(value).view(np.uint16))
    bits = int(np.float32(value).view(np.uint32))  # bfloat16: the top half, rounded
    if bits & 0x7FFFFFFF > 0x7F800000:
        return 0x7FC0
    return (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16


def extend(v: Value, width: int) -> Value:
    """``v`` extended by its own signedness to at least ``width`` bits (never truncated)."""
    if len(v) >= width:
        return v
    n = width - len(v)
    # one multiplexer on the sign bit (`replicate` would copy the whole expression n times)
    pad = Mux(v[-1], Const((1 << n) - 1, n), Const(0, n)) if v.shape().signed else Const(0, n)
    wide = Cat(v, pad)
    return wide.as_signed() if v.shape().signed else wide


def fit(v: Value, t: AlloType) -> Value:
    """``v`` wrapped to the shape of ``t``: extended by its signedness, then truncated."""
    bits = extend(v, t.bits)[: t.bits]
    return bits.as_signed() if t.signed and not t.is_float else bits.as_unsigned()


def exact(v: Value) -> Value:
    """``v`` as a signed value of the same numeric value (one more bit for unsigned ones)."""
    if v.shape().signed:
        return v
    return Cat(v, Const(0, 1)).as_signed()


_NAMES = {
    ir.Cast: "cast",
    ir.Select: "select",
    ir.BitGet: "bit",
    ir.BitSlice: "slice",
    ir.BitSet: "setbit",
    ir.BitSliceSet: "setslice",
    ir.BitReverse: "reverse",
}


def _align(v: Value, shift: int) -> Value:
    if shift >= 0:
        return exact(v) << shift if shift else exact(v)
    return exact(v) >> -shift


class Datapath(ExprVisitor):
    """Compiles IR expressions; ``lookup(sym)`` gives the Amaranth value of a variable.

    The value of every operator node is a named wire (``add3``, ``mul4``, ...): the Verilog
    reads one operation per line, and a value used twice (a sign bit, a divider's operands) is
    computed once. ``assignments`` holds the wires' combinational assignments; the caller adds
    them to its module unconditionally (they depend only on registers and memory read data).
    """

    def __init__(self, lookup: Callable[[ir.Sym], Value], prefix: str = "") -> None:
        self.lookup = lookup
        self.prefix = prefix
        self.assignments: list = []
        # a node object reached twice (expressions are DAGs) is compiled once
        self._memo: dict[int, tuple[ir.Expr, Value]] = {}

    def __call__(self, e: ir.Expr) -> Value:
        return self.visit(e)

    def forget(self) -> None:
        """Drop the compiled nodes (when what ``lookup`` returns changes)."""
        self._memo.clear()

    def visit(self, node: ir.Expr) -> Value:
        if isinstance(node, (ir.Const, ir.Var)):
            return super().visit(node)
        known = self._memo.get(id(node))
        if known is not None and known[0] is node:
            return known[1]
        value = self.wire(super().visit(node), _NAMES.get(type(node)) or node.op)  # type: ignore[attr-defined]
        self._memo[id(node)] = (node, value)
        return value

    def wire(self, value: Value, name: str) -> Value:
        """A signal named ``name`` + a number that carries ``value``."""
        if isinstance(value, (Signal, Const)):
            return value
        sig = Signal(value.shape(), name=f"{self.prefix}{name}{len(self.assignments)}")
        self.assignments.append(sig.eq(value))
        return sig

    def visit_Const(self, e: ir.Const) -> Value:
        if e.type.is_float:
            return Const(float_bits(e.value, e.type), shape_of(e.type))
        return Const(int(e.value), shape_of(e.type))

    def visit_Var(self, e: ir.Var) -> Value:
        return fit(self.lookup(e.sym), e.type)

    def visit_ArrayRef(self, e: ir.ArrayRef) -> Value:
        raise LoweringError("whole arrays cannot be used as values in RTL", e.loc)

    def visit_Load(self, e: ir.Load) -> Value:
        raise LoweringError("internal: unscheduled load", e.loc)

    def visit_Unary(self, e: ir.Unary) -> Value:
        a = self.visit(e.operand)
        if e.type.is_float and e.op in ("neg", "abs"):  # the sign bit, as NumPy (payload kept)
            top = e.type.bits - 1
            return Cat(a[:top], ~a[top]) if e.op == "neg" else Cat(a[:top], Const(0, 1))
        if e.op == "not":
            return fit(~a, e.type)
        if e.op == "invert":
            return fit(~a, e.type)
        if e.op == "neg":
            return fit(-exact(a), e.type)
        return fit(Mux(exact(a) < 0, -exact(a), exact(a)), e.type)  # abs

    def visit_Binary(self, e: ir.Binary) -> Value:
        a, b = self.visit(e.lhs), self.visit(e.rhs)
        t, op = e.type, e.op
        if e.lhs.type.is_float:
            return self.float_binary(e, a, b)
        if op in ("add", "sub"):
            fa, fb = t.fracs - e.lhs.type.fracs, t.fracs - e.rhs.type.fracs
            x, y = _align(a, fa), _align(b, fb)
            return fit(x + y if op == "add" else x - y, t)
        if op == "mul":
            if isinstance(e.rhs, ir.Const):
                return fit(const_product(a, int(e.rhs.value)), t)
            if isinstance(e.lhs, ir.Const):
                return fit(const_product(b, int(e.lhs.value)), t)
            return fit(exact(a) * exact(b), t)
        if op in ("eq", "ne", "lt", "le", "gt", "ge"):
            x, y = exact(a), exact(b)
            cmp = {"eq": x == y, "ne": x != y, "lt": x < y, "le": x <= y, "gt": x > y, "ge": x >= y}
            return fit(cmp[op], t)
        if op in ("and", "land"):
            return fit(a & b, t)
        if op in ("or", "lor"):
            return fit(a | b, t)
        if op == "xor":
            return fit(a ^ b, t)
        if op in ("min", "max"):
            less = exact(a) < exact(b)
            return fit(Mux(less, a, b) if op == "min" else Mux(less, b, a), t)
        if op in ("div", "floordiv", "mod"):
            return self.divide(e, a, b)
        if op in ("shl", "shr"):
            return self.shift(e, a, b)
        raise LoweringError(f"operator {op} is not supported on RTL targets yet", e.loc)

    def float_binary(self, e: ir.Binary, a: Value, b: Value) -> Value:
        """Comparisons and ``min``/``max`` of floats (the arithmetic runs on units)."""
        if e.op in ("eq", "ne", "lt", "le", "gt", "ge"):
            return fit(float_compare(e.op, e.lhs.type, a, b), e.type)
        if e.op in ("min", "max"):
            return float_minmax(e.op, e.type, a, b)
        raise InternalError(f"float `{e.op}` reached the datapath (not on a unit)", e.loc)

    def divide(self, e: ir.Binary, a: Value, b: Value) -> Value:
        """Integer ``/ // %`` as one combinational divider (``_divide.py``; the lowering puts
        divisions by a variable on pipelined units on the real families)."""
        from ._divide import finish, prepare  # _divide builds on this module's helpers

        s = prepare(e.op, a, b, e.lhs.type, e.rhs.type, e.type)
        s = {k: self.wire(v, k) for k, v in s.items()}
        q = self.wire(s["mag_n"] // s["mag_d"], "quot")
        r = self.wire(s["mag_n"] % s["mag_d"], "rem")
        return finish(e.op, s, q, r, e.type)

    def shift(self, e: ir.Binary, a: Value, b: Value) -> Value:
        t = e.type
        bits = t.bits
        amount = b.as_unsigned()
        k = bits.bit_length()
        clamped = Mux(amount >= bits, Const(bits, k), amount[:k])
        if e.op == "shl":
            return fit(Mux(amount >= bits, 0, (a << clamped)[:bits]), t)
        return fit(a >> clamped, t)

    def visit_Cast(self, e: ir.Cast) -> Value:
        src, dst = e.operand.type, e.type
        if src == dst:
            return self.visit(e.operand)
        if src.is_float or dst.is_float:  # conversions run on units
            raise InternalError(f"conversion from {src} to {dst} reached the datapath", e.loc)
        return fit(_align(self.visit(e.operand), dst.fracs - src.fracs), dst)

    def visit_Select(self, e: ir.Select) -> Value:
        return fit(Mux(self.visit(e.cond), self.visit(e.then), self.visit(e.orelse)), e.type)

    def visit_BitGet(self, e: ir.BitGet) -> Value:
        a, i = self.visit(e.operand), self.visit(e.index).as_unsigned()
        width = len(a)
        k = width.bit_length()
        outside = a[-1] if a.shape().signed else Const(0, 1)
        inside = a.bit_select(i[:k], 1) if len(i) >= k else a.bit_select(i, 1)
        return fit(Mux(i >= width, outside, inside), e.type)

    def visit_BitSlice(self, e: ir.BitSlice) -> Value:
        wide = extend(self.visit(e.operand), e.hi)
        return fit(wide[e.lo : e.hi], e.type)

    def visit_BitSet(self, e: ir.BitSet) -> Value:
        a, i, v = self.visit(e.operand), self.visit(e.index).as_unsigned(), self.visit(e.value)
        width = len(a)
        k = width.bit_length()
        pos = i[:k] if len(i) >= k else i
        mask = (Const(1, width) << pos)[:width]
        updated = (a.as_unsigned() & ~mask) | Mux(v[0], mask, 0)
        return fit(Mux(i >= width, a, updated), e.type)

    def visit_BitSliceSet(self, e: ir.BitSliceSet) -> Value:
        a, v = self.visit(e.operand), self.visit(e.value)
        width = len(a)
        lo, hi = min(e.lo, width), min(e.hi, width)
        if lo >= hi:
            return a
        return fit(Cat(a[:lo], v[: hi - lo], a[hi:]), e.type)

    def visit_BitReverse(self, e: ir.BitReverse) -> Value:
        a = self.visit(e.operand)
        return fit(Cat(*[a[n] for n in reversed(range(len(a)))]), e.type)

    def visit_MathCall(self, e: ir.MathCall) -> Value:
        raise LoweringError(f"`{e.func}` is not supported on RTL targets yet", e.loc)

    def visit_StreamRef(self, e: ir.StreamRef) -> Value:
        raise InternalError(f"stream `{e.sym.name}` used as a value", e.loc)

    def visit_StreamGet(self, e: ir.StreamGet) -> Value:
        # the lowering makes every get a controller state or a pipeline operation of its own
        raise InternalError(f"`{e.stream.name}.get()` inside an expression", e.loc)


def element_address(indices: tuple[ir.Expr, ...], t: ArrayType, datapath: Datapath) -> Value:
    """Row-major element address of ``indices`` in an array of type ``t``."""
    abits = max(1, (t.size - 1).bit_length())
    stride, total = 1, None
    for idx, dim in reversed(list(zip(indices, t.shape))):
        term = datapath(idx).as_unsigned()[:abits]
        term = const_product(term, stride) if stride != 1 else term
        total = term if total is None else total + term
        stride *= dim
    assert total is not None, "arrays have at least one dimension"
    return total[:abits]


def const_product(v: Value, k: int) -> Value:
    """The exact product ``v * k`` (signed) as a sum of shifted copies of ``v``, one per
    non-zero digit of ``k`` in canonical signed-digit form, added in a balanced tree."""
    if k == 0:
        return Const(0, 1)
    digits = csd(abs(k))
    sign = -1 if k < 0 else 1
    x = exact(v)
    terms = [(x << shift if shift else x, d * sign) for shift, d in digits]
    while len(terms) > 1:
        nxt = []
        for n in range(0, len(terms) - 1, 2):
            (p, sp), (q, sq) = terms[n], terms[n + 1]
            if sp == sq:
                nxt.append((p + q, sp))
            else:
                nxt.append((p - q if sp > 0 else q - p, 1))
        if len(terms) % 2:
            nxt.append(terms[-1])
        terms = nxt
    value, s = terms[0]
    return value if s > 0 else -value
