"""Which bank of a partitioned array an access reaches, when that is known at compile time.

A cyclic bank ``(a * i + c) % f`` is static when ``i`` is a loop variable whose values make
``a * i`` congruent modulo ``f`` (``for i in range(0, N, f)``, as an unroll by ``f`` makes it,
or ``a`` a multiple of ``f``); constant indices (full unrolls) give static banks of every kind;
a block bank is static when the loop's first and last values fall in one block (each instance
of a dataflow kernel working on its own rows). Other accesses are dynamic: they address every
bank and use all of their ports in that cycle.
"""

from __future__ import annotations

from ..ir._fold import affine_var, const_int
from ..ir._nodes import Expr, Layout, Sym
from ..ir.types import ArrayType

__all__ = ["Residues", "static_bank"]

# loop variable -> (modulus, residue) or (modulus, residue, smallest, largest value)
Residues = dict[Sym, tuple[int, ...]]


def _dim_bank(layout: Layout, d: int, n: int, idx: Expr, residues: Residues) -> int | None:
    banks = layout.banks(d, n)
    if banks == 1:
        return 0
    value = const_int(idx)
    if value is not None:
        return layout.split(d, n, value)[0] if 0 <= value < n else None
    lin = affine_var(idx)
    # a complete partition is a cyclic one with one bank per index
    if layout.kinds[d] in ("cyclic", "complete") and lin is not None and lin[0] in residues:
        modulus, residue = residues[lin[0]][:2]
        var, a, c = lin
        if (a * modulus) % banks == 0:  # a * v + c = a * residue + c (mod banks) for every v
            return (a * residue + c) % banks
    if layout.kinds[d] == "block" and lin is not None and len(residues.get(lin[0], ())) == 4:
        var, a, c = lin  # the loop's values reach one block when both ends do
        ends = sorted(a * v + c for v in residues[var][2:])
        if 0 <= ends[0] and ends[1] < n:
            first, last = (layout.split(d, n, e)[0] for e in ends)
            return first if first == last else None
    return None


def static_bank(
    indices: tuple[Expr, ...], t: ArrayType, layout: Layout | None, residues: Residues
) -> int | None:
    """The flat bank number of ``t[indices]`` under ``layout``, or ``None`` if it varies."""
    if layout is None:
        return 0
    bank = 0
    for d, (idx, n) in enumerate(zip(indices, t.shape)):
        b = _dim_bank(layout, d, n, idx, residues)
        if b is None:
            return None
        bank = bank * layout.banks(d, n) + b
    return bank
