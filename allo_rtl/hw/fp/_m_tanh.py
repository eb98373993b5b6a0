"""``tanh(x)``: an odd series below ``2**-6``, ``2 / (1 + exp(-2|x|)) - 1`` above, ``+-1`` from 16.

Algorithm (fixed point; ``_m_ops.py`` explains the two backends), on ``a = |x|``, sign restored:

- ``a < 2**-6``: ``tanh(x) = x (1 + d)``, ``d = -u/3 + 2u**2/15`` with ``u = x**2`` (the next
  term ``17 u**3 / 315`` is below ``2**-40``); ``x`` is normalised first, so subnormal inputs
  and the relative accuracy of tiny results are exact (``tanh(x) = x`` when ``u`` vanishes).
- ``2**-6 <= a < 16``: ``q = exp(-2a)`` by the shared exp core (``_m_exp.py``), then
  ``R = 1 / (1 + q)`` from a 128-entry table ``y0 ~ 1 / D`` on the top bits of ``D = 1 + q``
  and the series ``y0 (1 + e + e**2 + e**3 + e**4)``, ``e = 1 - D y0``, ``|e| < 2**-7.6``
  (truncation ``e**5 < 2**-38``); ``tanh(a) = 2R - 1`` (``q R = 1 - R``: no multiply). The
  cancellation in ``2R - 1`` costs at most 6 bits at ``a = 2**-6``.
- ``a >= 16``: ``+-1`` (``tanh`` rounds to 1 from about 9.01 in float32).

The significand is accurate to about ``2**-31`` relative in the worst case (``a`` just above
``2**-6``), ``2**-36`` elsewhere, and is rounded once to the output format. Measured
(``benchmarks/float_math_ulp.py``: every 1024th float32 pattern with ``|x| <= 20`` plus
65,536-pattern sweeps around ``2**-6``, ``2**-4`` and 9, 2.4 million inputs): at most
**0.5066 ulp** from the exact value (just above ``2**-6``); 455 results differ from the
correctly rounded one, by 1 ulp; at most 1 ulp from NumPy's float32 ``np.tanh``.

Special values: ``tanh(+-0) = +-0``, ``tanh(+-inf) = +-1``, ``tanh(NaN) = NaN`` (canonical).
DSP blocks (ECP5, 18x18): 20 (exp core 6, reciprocal 8, small-argument series 6).
"""

from __future__ import annotations

from ._m_const import fx_div
from ._m_exp import FE, exp_stages, fixed_argument
from ._m_ops import MathUnit, Ops, Stage, mul_hi

__all__ = ["FloatTanh"]

FD = 38  # fraction bits of the reciprocal datapath
YB = 10  # fraction bits of the reciprocal table
FS = 40  # fraction bits of the small-argument datapath and of the output significand
_RECIP = [((1 << (YB + 8)) + (257 + 2 * i) // 2) // (257 + 2 * i) for i in range(128)]
_THIRD = fx_div(1, 3, 30)
_TWO_FIFTEENTHS = fx_div(2, 15, 30)


def _both(f: Stage, g: Stage) -> Stage:
    """One stage doing ``f`` and ``g`` side by side (they use disjoint keys)."""
    return lambda ops, st: g(ops, f(ops, st))


def _small_square(ops: Ops, st: dict) -> dict:
    """``m2 = m**2`` (28 fraction bits; ``m`` in ``[1, 2)`` with 23)."""
    st = dict(st)
    st["m2"] = mul_hi(ops, st["m"], 25, st["m"], 25, 18)
    return st


def _small_u(ops: Ops, st: dict) -> dict:
    """``u = x**2`` (40 fraction bits; 0 for ``|x| < 2**-26``)."""
    st = dict(st)
    m2, e = st.pop("m2"), st["e"]
    amount = ops.mux(e < -31, 63, -2 * e)  # e <= -7 for the small path: amount >= 14
    st["u"] = ops.shr(m2 << 12, ops.bits(amount, 0, 6))
    return st


def _small_d(ops: Ops, st: dict) -> dict:
    """``d = -u/3 + 2 u**2 / 15`` (40 fraction bits)."""
    st = dict(st)
    u = st.pop("u")
    u24 = u >> 16  # 13 bits signed
    u2 = mul_hi(ops, u24, 13, u24, 13, 8)  # 40 fraction bits
    st["d"] = (ops.cmul(u2, _TWO_FIFTEENTHS) - ops.cmul(u, _THIRD)) >> 30
    return st


def _small_sig(ops: Ops, st: dict) -> dict:
    """``ms = m (1 + d)`` (FS fraction bits, in ``(1 - 2**-13, 2)``)."""
    st = dict(st)
    m, d = st.pop("m"), st.pop("d")
    st["ms"] = (m << (FS - 23)) + mul_hi(ops, m, 25, d, 28, 23)
    return st


def _recip_table(ops: Ops, st: dict) -> dict:
    """``q = exp(-2a) = sig 2**k`` to FE fraction bits, ``D = 1 + q``, ``y0 ~ 1 / D``."""
    st = dict(st)
    sig, k = st.pop("sig"), st.pop("k")
    D = (1 << FE) + ops.shr(sig, ops.bits(-k, 0, 6))  # k in [-46, 0]
    st["D"] = D >> (FE - FD)
    st["y0"] = ops.table(ops.bits(D, FE - 7, 7), _RECIP)
    return st


def _recip_error(ops: Ops, st: dict) -> dict:
    """``e = 1 - D y0`` (FD fraction bits, ``|e| < 2**-7.6``)."""
    st = dict(st)
    D = st.pop("D")
    st["eps"] = (1 << FD) - mul_hi(ops, D, 40, st["y0"], 12, YB, keep=-1)
    return st


def _recip_square(ops: Ops, st: dict) -> dict:
    st = dict(st)
    st["eps2"] = mul_hi(ops, st["eps"], 32, st["eps"], 32, FD)
    return st


def _recip_series(ops: Ops, st: dict) -> dict:
    """``f = e + e**2 + e**2 (e + e**2)``, i.e. ``1 / (1 - e) - 1`` to ``2**-38``."""
    st = dict(st)
    eps, eps2 = st.pop("eps"), st.pop("eps2")
    s = eps + eps2
    st["f"] = s + mul_hi(ops, eps2 >> 6, 18, s >> 14, 18, 18)
    return st


def _recip_result(ops: Ops, st: dict) -> dict:
    """``t = 2R - 1 = tanh(a)`` with ``R = y0 (1 + f)`` (FD fraction bits)."""
    st = dict(st)
    y0, f = st.pop("y0"), st.pop("f")
    R = (y0 << (FD - YB)) + mul_hi(ops, f, 32, y0, 12, YB)
    st["t"] = (R << 1) - (1 << FD)
    return st


class FloatTanh(MathUnit):
    """``result = tanh(a)`` (see the module docstring for the algorithm and its accuracy)."""

    def build_stages(self) -> list[Stage]:
        core = exp_stages()
        small = [_small_square, _small_u, _small_d, _small_sig]
        return [
            self._decode,
            *(_both(c, s) for c, s in zip(core, small)),
            *core[len(small) :],
            _recip_table,
            _recip_error,
            _recip_square,
            _recip_series,
            _recip_result,
            self._normalize,
            self._pack,
        ]

    def _decode(self, ops: Ops, st: dict) -> dict:
        fmt = self.fmt
        u = ops.unpack(fmt, st["a"])
        M, big = fixed_argument(ops, fmt, u, 4)  # |x| < 16
        m24 = u["sig"] << (23 - fmt.man_bits)
        lz = ops.lzc(m24, 24)
        return dict(
            X=-(M << 1),  # -2|x|, FX (40) fraction bits
            m=ops.shl(m24, lz, 24),  # |x| = m 2**e, m in [1, 2) with 23 fraction bits
            e=u["exp"] - lz,
            sign=u["sign"],
            big=big,
            zero=u["zero"],
            nan=u["nan"],
        )

    def _normalize(self, ops: Ops, st: dict) -> dict:
        """The significand (FS + 1 bits, top bit set) and exponent of either path."""
        st = dict(st)
        t, ms, e = st.pop("t"), st.pop("ms"), st.pop("e")
        lz = ops.lzc(t, FD + 1)  # t in [2**-6, 1)
        large = ops.shl(t, lz, FD + 1) << (FS - FD)
        high = ms >= (1 << FS)
        small = e < -6
        st["sig"] = ops.mux(small, ops.mux(high, ms, ms << 1), large)
        st["e"] = ops.mux(small, ops.mux(high, e, e - 1), -lz)
        return st

    def _pack(self, ops: Ops, st: dict) -> dict:
        fmt, sign = self.fmt, st["sign"]
        packed = ops.round_pack(fmt, sign, st["e"], st["sig"], FS + 1)
        one = (sign << (fmt.width - 1)) | (fmt.bias << fmt.man_bits)
        result = ops.mux(st["big"], one, packed)
        result = ops.mux(st["zero"], sign << (fmt.width - 1), result)
        return dict(result=ops.mux(st["nan"], fmt.qnan(), result))
