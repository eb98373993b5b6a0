"""Wide multiplies as registered partial products (the two-cycle multiply of the real families).

A product wider than one DSP block is built from pieces of ``MUL_TILE`` bits: every pair of
pieces whose weight lies below the result width gives one small product (one DSP block),
registered in the first cycle; the second cycle adds them. Only the low ``W`` bits of the
product are computed (``W`` the result type's width), so an ``int32 x int32 -> int32`` multiply
takes three 16x16 products, not four::

    a = a1 * 2**16 + a0,  b = b1 * 2**16 + b0      (a0, b0 unsigned; a1, b1 signed)
    a * b mod 2**32 = a0*b0 + ((a0*b1 + a1*b0) mod 2**16) * 2**16

A piece is taken as unsigned when only its low ``MUL_TILE`` bits matter for the kept bits of
its product, which keeps every piece within a 16x16 DSP block. The pieces are
``lowering._dsp.product_pieces``, which the DSP count uses too.
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal, Value

from ..ir.types import AlloType
from ..lowering._dsp import product_pieces
from ..lowering._timing import MUL_TILE
from ._datapath import exact, fit

__all__ = ["registered_product"]


def registered_product(
    m: Module, a: Value, b: Value, t: AlloType, name: str, latency: int
) -> Value:
    """``fit(a * b, t)`` after ``latency`` (>= 2) cycles: partial products registered, then
    summed into a register (further cycles add plain registers)."""
    width = t.bits
    ea, eb = exact(a), exact(b)
    terms = []
    for p in product_pieces(len(ea), len(eb), width, MUL_TILE):
        pa = ea[p.a_shift : p.a_shift + p.a_bits]
        pb = eb[p.b_shift : p.b_shift + p.b_bits]
        product = (pa.as_signed() if p.a_signed else pa) * (pb.as_signed() if p.b_signed else pb)
        if len(product) > p.keep:
            product = product[: p.keep]
        reg = Signal(product.shape(), name=f"{name}_pp{len(terms)}")
        m.d.sync += reg.eq(product)
        terms.append((p.a_shift + p.b_shift, reg))
    total = sum((exact(reg) << shift for shift, reg in terms), Value.cast(0))
    value = Signal(fit(total, t).shape(), name=f"{name}_r1")
    m.d.sync += value.eq(fit(total, t))
    for stage in range(2, latency):
        reg = Signal.like(value, name=f"{name}_r{stage}")
        m.d.sync += reg.eq(value)
        value = reg
    return value
