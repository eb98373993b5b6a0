"""Wide multiplies as registered partial products (the two-cycle multiply of the real families).

A product wider than one DSP block is built from pieces of ``MUL_TILE`` bits: every pair of
pieces whose weight lies below the result width gives one small product (one DSP block),
registered in the first cycle; the second cycle adds them. Only the low ``W`` bits of the
product are computed (``W`` the result type's width), so an ``int32 x int32 -> int32`` multiply
takes three 16x16 products, not four::

    a = a1 * 2**16 + a0,  b = b1 * 2**16 + b0      (a0, b0 unsigned; a1, b1 signed)
    a * b mod 2**32 = a0*b0 + ((a0*b1 + a1*b0) mod 2**16) * 2**16

A piece is taken as unsigned when only its low ``MUL_TILE`` bits matter for the kept bits of
its product, which keeps every piece within a 16x16 DSP block.
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal, Value

from ..ir.types import AlloType
from ..lowering._timing import MUL_TILE
from ._datapath import exact, fit

__all__ = ["registered_product"]


def _pieces(v: Value, width: int) -> list[tuple[int, Value, bool]]:
    """``(shift, piece, is_top)`` of signed ``v``, for the pieces below bit ``width``."""
    out = []
    for shift in range(0, min(len(v), width), MUL_TILE):
        top = shift + MUL_TILE >= len(v)
        out.append((shift, v[shift : shift + MUL_TILE], top))
    return out


def _piece(piece: Value, top: bool, keep: int) -> Value:
    """The piece as the product needs it: signed if it is the top piece of a signed value
    and bits above ``MUL_TILE`` of the product are kept."""
    return piece.as_signed() if top and keep > MUL_TILE else piece


def registered_product(
    m: Module, a: Value, b: Value, t: AlloType, name: str, latency: int
) -> Value:
    """``fit(a * b, t)`` after ``latency`` (>= 2) cycles: partial products registered, then
    summed into a register (further cycles add plain registers)."""
    width = t.bits
    terms = []
    for sa, pa, top_a in _pieces(exact(a), width):
        for sb, pb, top_b in _pieces(exact(b), width):
            shift = sa + sb
            if shift >= width:
                continue
            keep = width - shift
            product = _piece(pa, top_a, keep) * _piece(pb, top_b, keep)
            if len(product) > keep:
                product = product[:keep]
            reg = Signal(product.shape(), name=f"{name}_pp{len(terms)}")
            m.d.sync += reg.eq(product)
            terms.append((shift, reg))
    total = sum((exact(reg) << shift for shift, reg in terms), Value.cast(0))
    value = Signal(fit(total, t).shape(), name=f"{name}_r1")
    m.d.sync += value.eq(fit(total, t))
    for stage in range(2, latency):
        reg = Signal.like(value, name=f"{name}_r{stage}")
        m.d.sync += reg.eq(value)
        value = reg
    return value
