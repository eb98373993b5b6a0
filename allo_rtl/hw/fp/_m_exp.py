"""``exp(x)``: reduction by ln 2, a 47-entry table of ``exp(j/64)`` and a degree-4 polynomial.

Algorithm (fixed point throughout, ``_m_ops.py`` explains the two backends):

1. ``X = |x| * 2**40`` truncated (``|x| >= 128`` saturates: ``exp`` overflows or underflows
   there in every supported format), with the sign of ``x``.
2. ``k = round(x / ln2)`` from the top bits of ``X`` (a 16-bit constant), then
   ``r = x - k * ln2`` with ``ln2`` to 48 fraction bits (error below ``2**-41`` for
   ``|k| <= 185``), ``|r| <= 0.35``.
3. ``j = round(64 r)``, ``s = r - j / 64`` (``|s| <= 2**-7``);
   ``exp(r) = E[j] * (1 + s + s**2/2 + s**3/6 + s**4/24)`` with ``E[j] = exp(j / 64)`` to 40
   fraction bits (truncation error of the series ``s**5/120 < 2**-41``).
4. ``exp(x) = 2**k * exp(r)``, normalised (``exp(r)`` in ``[0.70, 1.42]``) and rounded to the
   output format once (``round_pack``: subnormal results, overflow to infinity).

The significand is accurate to about ``2**-36`` relative (the products are truncated to
what that needs), so the result is correctly rounded except within about ``2**-12`` ulp of a
rounding boundary. Measured (``benchmarks/float_math_ulp.py``: every 1024th float32 pattern
in ``[-104, 89]`` plus 65,536-pattern sweeps around the overflow and underflow thresholds and
around 0, 2.4 million inputs): at most **0.5001 ulp** from the exact value; 303 results
(0.012 %) differ from the correctly rounded one, by 1 ulp. NumPy's float32 ``np.exp`` is up to
2.29 ulp off on AVX-512 machines, so results differ from it by up to 2 ulp.

Special values: ``exp(NaN)`` is the canonical NaN, ``exp(+inf) = +inf``, ``exp(-inf) = +0``,
``exp(+-0) = 1``. DSP blocks (ECP5, 18x18): 6.
"""

from __future__ import annotations

from ._format import FloatFormat
from ._m_const import fx_div, fx_exp, fx_ln2
from ._m_ops import MathUnit, Ops, Stage, mul_hi

__all__ = ["FloatExp", "exp_stages"]

FX = 40  # fraction bits of the fixed-point argument X
FR = 48  # fraction bits of the reduced argument r
FE = 40  # fraction bits of exp(j/64) and of the significand exp(r)
JMAX = 23  # table index range -JMAX .. JMAX (round(64 r) for |r| <= 0.35 is at most 22)

_INVLN2 = fx_div(1 << 16, fx_ln2(64), 64)  # 1 / ln2 to 16 fraction bits
_LN2 = fx_ln2(FR)
_EXP_TABLE = [fx_exp(j, 64, FE) for j in range(-JMAX, JMAX + 1)]
_SIXTH = fx_div(1, 6, 22)
_TWENTYFOURTH = fx_div(1, 24, 22)


def fixed_argument(ops: Ops, fmt: FloatFormat, u: dict, limit: int) -> tuple:
    """``(M, big)``: ``M = floor(|x| * 2**FX)`` for ``|x| < 2**limit``; ``big`` when
    ``|x| >= 2**limit`` (then ``M`` is meaningless), infinities included."""
    m24 = u["sig"] << (23 - fmt.man_bits)  # |x| = m24 * 2**(exp - 23)
    top = limit - 1  # the largest exponent below the limit
    amount = ops.mux(u["exp"] < top - 63, 63, top - u["exp"])
    M = ops.shr(m24 << (FX - 23 + top), ops.bits(amount, 0, 6))
    return M, u["exp"] > top


def reduce_k(ops: Ops, st: dict) -> dict:
    """``X`` (FX fraction bits, signed) -> ``k = round(X / ln2)`` (approximately)."""
    st = dict(st)
    t = st["X"] >> (FX - 12)
    st["k"] = (ops.cmul(t, _INVLN2) + (1 << 27)) >> 28
    return st


def reduce_r(ops: Ops, st: dict) -> dict:
    """``r = X - k ln2`` (FR fraction bits)."""
    st = dict(st)
    X = st.pop("X")
    st["r"] = (X << (FR - FX)) - ops.cmul(st["k"], _LN2)
    return st


def exp_table(ops: Ops, st: dict) -> dict:
    """``r`` -> ``j = round(64 r)``, ``E = exp(j/64)``, ``s = r - j/64`` and ``s**2``."""
    st = dict(st)
    r = st.pop("r")
    j = (r + (1 << (FR - 7))) >> (FR - 6)
    s = r - (j << (FR - 6))  # |s| <= 2**-7, FR fraction bits
    st["E"] = ops.table(ops.bits(j + JMAX, 0, 6), _EXP_TABLE)
    st["s"] = s >> (FR - 40)  # 40 fraction bits, 34 bits signed
    s33 = s >> (FR - 33)  # 27 bits signed
    st["s2"] = mul_hi(ops, s33, 27, s33, 27, 26)  # s**2, 40 fraction bits
    return st


def exp_poly(ops: Ops, st: dict) -> dict:
    """``pm1 = s + s**2/2 + s**2 (s/6 + s**2/24)`` (40 fraction bits), ``exp(s) - 1``."""
    st = dict(st)
    s, s2 = st.pop("s"), st.pop("s2")
    g = (ops.cmul(s >> 16, _SIXTH) + ops.cmul(s2 >> 16, _TWENTYFOURTH)) >> 16  # 30 frac
    t = mul_hi(ops, s2 >> 10, 18, g >> 4, 18, 16)  # s2 * g, 40 fraction bits
    st["pm1"] = s + (s2 >> 1) + t
    return st


def exp_product(ops: Ops, st: dict) -> dict:
    """``sig = E * (1 + pm1)`` (FE fraction bits), ``exp(r)`` in ``[0.70, 1.42]``."""
    st = dict(st)
    E, pm1 = st.pop("E"), st.pop("pm1")
    st["sig"] = E + mul_hi(ops, E >> (FE - 31), 33, pm1 >> 2, 33, 29, keep=30)
    return st


def exp_stages() -> list[Stage]:
    """The shared core: ``X`` (FX fraction bits, ``|X| < 2**(FX+8)``) -> ``k`` and ``sig``
    with ``exp(X / 2**FX) = 2**k * sig / 2**FE``; other keys of ``st`` pass through."""
    return [reduce_k, reduce_r, exp_table, exp_poly, exp_product]


class FloatExp(MathUnit):
    """``result = exp(a)`` (see the module docstring for the algorithm and its accuracy)."""

    def build_stages(self) -> list[Stage]:
        return [self._decode, *exp_stages(), self._normalize, self._pack]

    def _decode(self, ops: Ops, st: dict) -> dict:
        fmt = self.fmt
        u = ops.unpack(fmt, st["a"])
        M, big = fixed_argument(ops, fmt, u, 7)
        return dict(X=ops.mux(u["sign"], -M, M), sign=u["sign"], big=big, nan=u["nan"])

    def _normalize(self, ops: Ops, st: dict) -> dict:
        st = dict(st)
        sig, k = st.pop("sig"), st.pop("k")
        high = sig >= (1 << FE)
        st["e"] = ops.mux(high, k, k - 1)
        st["m"] = ops.mux(high, sig, sig << 1)  # FE + 1 bits, top bit set
        return st

    def _pack(self, ops: Ops, st: dict) -> dict:
        fmt = self.fmt
        packed = ops.round_pack(fmt, 0, st["e"], st["m"], FE + 1)
        saturated = ops.mux(st["sign"], 0, fmt.inf())
        result = ops.mux(st["big"], saturated, packed)
        return dict(result=ops.mux(st["nan"], fmt.qnan(), result))
