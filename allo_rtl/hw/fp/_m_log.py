"""``log(x)``, ``log2(x)``, ``log10(x)``: one datapath, the base only changes its constants.

Algorithm (fixed point; ``_m_ops.py`` explains the two backends):

1. ``x = 2**e * m`` with ``m`` in ``[1, 2)`` (subnormal inputs normalised by a leading-zero
   count), then ``x = 2**E * M`` with ``M = m / 2``, ``E = e + 1`` when ``m >= 1.5``, so ``M``
   lies in ``[0.75, 1.5)`` (no cancellation between ``E log 2`` and ``log M`` near ``x = 1``).
2. A 96-entry table on the top 7 bits of ``M`` gives ``R ~ 1/M`` (10 fraction bits; exactly 1
   on the two cells around 1) and ``log_b(R)``; ``z = M R - 1`` is exact and ``|z| < 2**-7``.
3. ``log_b(1 + z) = z q(z)``, ``q = (1 - z/2 + z**2/3 - z**3/4 + z**4/5) / ln b`` by Horner
   (truncation error ``z**5/6 < 2**-37`` relative); products of the Horner steps are only as
   wide as their weight needs.
4. ``log_b x = E log_b 2 - log_b R + z q`` summed in 72-bit fixed point (64 fraction bits):
   near ``x = 1`` (``E = 0``, ``R = 1``) the sum is the product ``z q`` alone, kept without
   truncation, so tiny results keep their relative accuracy. The sum is normalised and rounded
   to the output format once.

The result is accurate to about ``2**-35`` relative before the final rounding. Measured
(``benchmarks/float_math_ulp.py``: every 1024th pattern of ``x >= 0``, subnormals included,
plus 65,536-pattern sweeps around 1, 0.75 and in the subnormals, 2.35 million inputs): at most
**0.5002 ulp** (``log``, 14 results not correctly rounded), **0.5002** (``log2``, 13) and
**0.5007** (``log10``, 31) from the exact value. NumPy's own float32 ``log`` and ``log10`` are
up to 3.19 and 3.49 ulp off on AVX-512 machines, so results differ from NumPy's by up to 3 ulp
(``log2``: 2).

Special values (as NumPy): ``log(+-0) = -inf``, ``log(x < 0) = log(-inf) = NaN``,
``log(+inf) = +inf``, ``log(NaN) = NaN`` (canonical), ``log(1) = +0``. ``log2(2**k) = k``
exactly. DSP blocks (ECP5, 18x18): 11.
"""

from __future__ import annotations

from ._m_const import fx_inv_ln, fx_log
from ._m_ops import MathUnit, Ops, Stage, mul_hi

__all__ = ["FloatLog", "FloatLog2", "FloatLog10", "log_reduce", "log_tables"]

FM = 24  # fraction bits of M
RB = 10  # fraction bits of the reciprocal table
FZ = FM + RB  # fraction bits of z (exact)
FC = 44  # fraction bits of E log_b 2 and of the table log_b R
FL = 64  # fraction bits of the sum
CELLS = 96  # cells of 2**-7 over [0.75, 1.5)
NEAR_ONE = (31, 32)  # the cells [1 - 2**-7, 1) and [1, 1 + 2**-7): R = 1


def _reciprocals() -> list[int]:
    """``R * 2**RB`` per cell: ``1 / M`` at the cell's midpoint, rounded (1 near ``M = 1``)."""
    out = []
    for idx in range(CELLS):
        if idx in NEAR_ONE:
            out.append(1 << RB)
        else:  # midpoint (96.5 + idx) / 128
            out.append(((2 << (RB + 7)) + (193 + 2 * idx) // 2) // (193 + 2 * idx))
    return out


def log_tables(base: int) -> dict[str, object]:
    """The constants of base ``base`` (0 meaning e): reciprocal and ``log_b R`` tables,
    ``log_b 2`` and the Horner coefficients ``c_k = (-1)**(k+1) / (k ln b)``."""
    recip = _reciprocals()
    c = {k: (-1) ** (k + 1) for k in range(1, 6)}
    return dict(
        recip=recip,
        log_r=[fx_log(r, 1 << RB, base, FC) for r in recip],
        log_2=fx_log(2, 1, base, FC),
        c5=c[5] * fx_inv_ln(5, base, 18),
        c4=c[4] * fx_inv_ln(4, base, 18),
        c3=c[3] * fx_inv_ln(3, base, 25),
        c2=c[2] * fx_inv_ln(2, base, 32),
        c1=c[1] * fx_inv_ln(1, base, 38),
    )


def log_reduce(ops: Ops, st: dict, tables: dict) -> dict:
    """``m`` (``[1, 2)``, 23 fraction bits) and ``e`` -> ``E``, ``z = M R - 1`` (exact, FZ
    fraction bits) and ``logr = log_b R`` (FC fraction bits)."""
    st = dict(st)
    m, e = st.pop("m"), st.pop("e")
    hi = m >= (3 << 22)
    M = ops.mux(hi, m, m << 1)  # [0.75, 1.5), FM fraction bits
    idx = ops.bits((M >> (FM - 7)) - CELLS, 0, 7)
    R = ops.table(idx, tables["recip"])
    st["z"] = mul_hi(ops, M, 26, R, 12, 0) - (1 << FZ)  # exact, |z| < 2**-7
    st["logr"] = ops.table(idx, tables["log_r"])
    st["E"] = e + ops.mux(hi, 1, 0)
    return st


class FloatLog(MathUnit):
    """``result = log(a)`` (natural logarithm; see the module docstring)."""

    BASE = 0  # 0 = e

    def build_stages(self) -> list[Stage]:
        self.tables = log_tables(self.BASE)
        return [
            self._decode,
            self._reduce,
            self._horner3,
            self._horner2,
            self._horner1,
            self._product,
            self._sum,
            self._normalize,
            self._pack,
        ]

    def _decode(self, ops: Ops, st: dict) -> dict:
        fmt = self.fmt
        u = ops.unpack(fmt, st["a"])
        m24 = u["sig"] << (23 - fmt.man_bits)
        lz = ops.lzc(m24, 24)
        return dict(
            m=ops.shl(m24, lz, 24),  # [1, 2) with 23 fraction bits
            e=u["exp"] - lz,
            nan=u["nan"] | (u["sign"] & ~u["zero"]),
            zero=u["zero"],
            inf=u["inf"],
        )

    def _reduce(self, ops: Ops, st: dict) -> dict:
        return log_reduce(ops, st, self.tables)

    def _horner3(self, ops: Ops, st: dict) -> dict:
        t, z = self.tables, st["z"]
        h4 = t["c4"] + (ops.cmul(z >> (FZ - 18), t["c5"]) >> 18)  # 18 fraction bits
        st = dict(st)
        st["h3"] = t["c3"] + mul_hi(ops, z >> (FZ - 20), 14, h4, 18, 13)  # 25 fraction bits
        return st

    def _horner2(self, ops: Ops, st: dict) -> dict:
        st = dict(st)
        h3 = st.pop("h3")
        st["h2"] = self.tables["c2"] + mul_hi(ops, st["z"] >> (FZ - 28), 22, h3, 25, 21)
        return st

    def _horner1(self, ops: Ops, st: dict) -> dict:
        st = dict(st)
        h2 = st.pop("h2")
        st["q"] = self.tables["c1"] + mul_hi(ops, st["z"], 28, h2, 33, 28)  # 38 fraction bits
        return st

    def _product(self, ops: Ops, st: dict) -> dict:
        """``z q`` to 64 fraction bits: every limb product of the top 18 bits of ``z`` (all of
        ``z`` in the cells near 1, where its low 10 bits are 0) and the top limb of ``q``
        with the rest of ``z``; the two left out are below ``2**-40``."""
        st = dict(st)
        z, q = st.pop("z"), st.pop("q")
        pieces = {(0, 0), (0, 1), (0, 2), (1, 0)}
        st["zq"] = mul_hi(ops, z, 28, q >> 3, 37, FZ + 35 - FL, pieces=pieces)
        return st

    def _sum(self, ops: Ops, st: dict) -> dict:
        st = dict(st)
        E, logr, zq = st.pop("E"), st.pop("logr"), st.pop("zq")
        st["S"] = ((ops.cmul(E, self.tables["log_2"]) - logr) << (FL - FC)) + zq
        return st

    def _normalize(self, ops: Ops, st: dict) -> dict:
        st = dict(st)
        S = st.pop("S")
        st["neg"] = S < 0
        mag = ops.mux(st["neg"], -S, S)  # < 2**72
        lz = ops.lzc(mag, FL + 8)
        st["e"] = 7 - lz
        st["m"] = ops.shl(mag, lz, FL + 8)
        return st

    def _pack(self, ops: Ops, st: dict) -> dict:
        fmt = self.fmt
        packed = ops.round_pack(fmt, st["neg"], st["e"], st["m"], FL + 8)
        result = ops.mux(st["inf"], fmt.inf(), packed)
        result = ops.mux(st["zero"], fmt.inf(1), result)
        return dict(result=ops.mux(st["nan"], fmt.qnan(), result))


class FloatLog2(FloatLog):
    """``result = log2(a)``."""

    BASE = 2


class FloatLog10(FloatLog):
    """``result = log10(a)``."""

    BASE = 10
