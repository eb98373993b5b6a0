"""``power(x, y) = x**y`` as ``2**(y log2|x|)`` with a longer log2 and the IEEE special cases.

Algorithm (fixed point; ``_m_ops.py`` explains the two backends):

1. ``L = log2|x|`` by the reduction of ``_m_log.py`` (``|x| = 2**E M``, ``M`` in
   ``[0.75, 1.5)``, ``z = M R - 1`` exact) with one more series term and wider Horner steps:
   ``q = (1 - z/2 + ... - z**5/6) / ln 2`` (truncation ``2**-44``) to ``2**-41``, so ``L`` is
   accurate to ``2**-40`` absolute and, near ``x = 1`` (where ``L = z q``), ``2**-39``
   relative.
2. ``w = y L`` from the 24-bit significand of ``y`` and the top 40 bits of ``L``; ``w`` in
   fixed point with 40 fraction bits (``|w| >= 512`` saturates to overflow or underflow).
   Over the range where ``x**y`` is finite and non-zero (``|w| < 150``) the error of ``w``
   is below ``2**-31``.
3. ``2**w = exp(w ln 2)`` by the exp core of ``_m_exp.py``; rounded once.

Measured (``benchmarks/float_math_ulp.py``: 2**20 random ``x`` with ``y`` spreading ``x**y``
over the whole float32 range, subnormal results included, 2**18 ``x`` within ``2**-7`` of 1
with ``|y|`` up to ``2**30``, 2**18 negative ``x`` with integer ``y``): at most **0.5038 ulp**
from the exact value (935 of 1.57 million results not correctly rounded); at most 1 ulp from
NumPy's float32 ``np.power``.

Special cases (C99 / NumPy ``np.power``): ``x**0 = 1`` and ``1**y = 1`` for every ``x``,
``y`` (NaN included); otherwise a NaN operand gives NaN; ``x < 0`` to a non-integer finite
power is NaN; ``(-1)**(+-inf) = 1``; ``|x| < 1`` (``> 1``) to ``+inf`` is ``+0`` (``+inf``)
and the reverse for ``-inf``; ``(+-0)**y`` and ``(+-inf)**y`` are zeros or infinities with
the sign of ``x`` for odd integer ``y``; a negative ``x`` to an odd integer power is negative.
DSP blocks (ECP5, 18x18): 27.
"""

from __future__ import annotations

from ._m_const import fx_inv_ln, fx_ln2
from ._m_exp import FE, FX, exp_stages
from ._m_log import FC, FZ, log_reduce, log_tables
from ._m_ops import MathUnit, Ops, Stage, mul_hi

__all__ = ["FloatPow"]

FL = 64  # fraction bits of the fixed-point log2
FW = 40  # fraction bits of w = y log2|x|
_FH = {5: 14, 4: 21, 3: 28, 2: 35, 1: 42}  # fraction bits of the Horner steps h_k (q = h_1)
_C = {k: (-1) ** (k + 1) * fx_inv_ln(k, 2, _FH.get(k, 14)) for k in range(1, 7)}
_LN2 = fx_ln2(48)


def _classify(ops: Ops, fmt: object, v: object) -> dict:
    """Fields of an operand: sign, normalised significand ``m`` (``[1, 2)``, 23 fraction
    bits), exponent ``e`` and the flags."""
    u = ops.unpack(fmt, v)
    m24 = u["sig"] << (23 - fmt.man_bits)
    lz = ops.lzc(m24, 24)
    return dict(m=ops.shl(m24, lz, 24), e=u["exp"] - lz, **{k: u[k] for k in _FLAGS})


_FLAGS = ("sign", "zero", "inf", "nan")


class FloatPow(MathUnit):
    """``result = a ** b`` as ``np.power`` (see the module docstring)."""

    ARGS = ("a", "b")

    def build_stages(self) -> list[Stage]:
        self.tables = log_tables(2)
        return [
            self._decode,
            self._reduce,
            self._h4,
            self._h3,
            self._h2,
            self._q,
            self._zq,
            self._sum,
            self._log_normalize,
            self._times_y,
            self._fixed,
            *exp_stages(),
            self._normalize,
            self._pack,
        ]

    def _decode(self, ops: Ops, st: dict) -> dict:
        x = _classify(ops, self.fmt, st["a"])
        y = _classify(ops, self.fmt, st["b"])
        # y's bits from the ones digit down: bit 24 is the ones digit for e in [-1, 23]
        digits = ops.shl(y["m"], ops.bits(y["e"] + 1, 0, 5), 25)
        small, large = y["e"] < -1, y["e"] > 23
        frac = ~large & (small | (ops.bits(digits, 0, 24) != 0))
        out = dict(m=x["m"], e=x["e"], my=y["m"], ey=y["e"], ysign=y["sign"])
        out["yint"] = ~y["nan"] & ~y["inf"] & (y["zero"] | ~frac)
        out["yodd"] = out["yint"] & ~large & ~small & (ops.bits(digits, 24, 1) != 0)
        out.update({f"x{k}": x[k] for k in _FLAGS}, **{f"y{k}": y[k] for k in _FLAGS[1:]})
        out["xunit"] = (x["m"] == 1 << 23) & (x["e"] == 0)  # |x| == 1
        out["xone"] = (x["sign"] == 0) & out["xunit"]
        out["xbelow"] = x["e"] < 0  # |x| < 1 (zero included)
        return out

    def _reduce(self, ops: Ops, st: dict) -> dict:
        return log_reduce(ops, st, self.tables)

    def _h4(self, ops: Ops, st: dict) -> dict:
        z = st["z"]
        h5 = _C[5] + (ops.cmul(z >> (FZ - 14), _C[6]) >> 14)  # 14 fraction bits
        st = dict(st)
        st["h"] = _C[4] + mul_hi(ops, z >> (FZ - 21), 15, h5, 15, 14)  # 21
        return st

    def _h3(self, ops: Ops, st: dict) -> dict:
        st = dict(st)
        st["h"] = _C[3] + mul_hi(ops, st["z"] >> (FZ - 28), 22, st["h"], 21, 21)  # 28
        return st

    def _h2(self, ops: Ops, st: dict) -> dict:
        st = dict(st)
        st["h"] = _C[2] + mul_hi(ops, st["z"], 28, st["h"], 28, 27)  # 35
        return st

    def _q(self, ops: Ops, st: dict) -> dict:
        st = dict(st)
        st["q"] = _C[1] + mul_hi(ops, st["z"], 28, st.pop("h"), 36, 27)  # 42
        return st

    def _zq(self, ops: Ops, st: dict) -> dict:
        """``z q`` to FL fraction bits (exact in the cells near 1, where ``L = z q``)."""
        st = dict(st)
        z, q = st.pop("z"), st.pop("q")
        st["zq"] = mul_hi(ops, z, 28, q, 44, FZ + 42 - FL, keep=FZ + 42 - 47)
        return st

    def _sum(self, ops: Ops, st: dict) -> dict:
        st = dict(st)
        E, logr, zq = st.pop("E"), st.pop("logr"), st.pop("zq")
        st["L"] = (((E << FC) - logr) << (FL - FC)) + zq
        return st

    def _log_normalize(self, ops: Ops, st: dict) -> dict:
        """``|L| = ls 2**(le - 39)``, ``ls`` the top 40 bits (``[2**39, 2**40)``)."""
        st = dict(st)
        L = st.pop("L")
        st["lneg"] = L < 0
        mag = ops.mux(st["lneg"], -L, L)  # < 2**72
        lz = ops.lzc(mag, FL + 8)
        st["ls"] = ops.shl(mag, lz, FL + 8) >> (FL + 8 - 40)
        st["lzero"] = mag == 0  # x = +-1: w = 0 whatever y is
        st["le"] = 7 - lz
        return st

    def _times_y(self, ops: Ops, st: dict) -> dict:
        """``|w| = wp 2**(t - FW)`` with ``wp`` in ``[2**38, 2**40)``."""
        st = dict(st)
        ls, my = st.pop("ls"), st.pop("my")
        st["wp"] = mul_hi(ops, my, 25, ls, 41, 24)
        st["t"] = st.pop("ey") + st.pop("le") + 2
        return st

    def _fixed(self, ops: Ops, st: dict) -> dict:
        """``X = w ln 2`` (FX fraction bits); ``huge`` when ``|w| >= 512``."""
        st = dict(st)
        wp, t = st.pop("wp"), st.pop("t")
        up = ops.shl(wp, ops.bits(ops.mux(t > 0, t, 0), 0, 4), 51)
        down = ops.shr(wp, ops.bits(ops.mux(t < -63, 63, -t), 0, 6))
        W = ops.mux(t > 0, up, down)  # FW fraction bits, < 2**50
        mag = ops.cmul(W, _LN2) >> (48 + FW - FX)
        st["wneg"] = st.pop("lneg") ^ (st["ysign"] != 0)
        st["X"] = ops.mux(st["wneg"], -mag, mag)
        st["huge"] = (t >= 11) & ~st.pop("lzero")  # |w| >= 2**(t - 2) >= 512
        return st

    def _normalize(self, ops: Ops, st: dict) -> dict:
        st = dict(st)
        sig, k = st.pop("sig"), st.pop("k")
        high = sig >= (1 << FE)
        st["pe"] = ops.mux(high, k, k - 1)
        st["pm"] = ops.mux(high, sig, sig << 1)
        return st

    def _pack(self, ops: Ops, st: dict) -> dict:
        fmt, s = self.fmt, st
        neg = s["xsign"] & s["yodd"]
        packed = ops.round_pack(fmt, neg, s["pe"], s["pm"], FE + 1)
        huge = ops.mux(s["wneg"], neg << (fmt.width - 1), fmt.inf() | (neg << (fmt.width - 1)))
        result = ops.mux(s["huge"], huge, packed)
        # x = +-0 or +-inf: a zero or an infinity (the sign of x for odd integer y)
        tiny = s["xzero"] ^ s["ysign"]  # 0**y>0 and inf**y<0 are zeros
        edge = ops.mux(tiny != 0, 0, fmt.inf()) | (neg << (fmt.width - 1))
        result = ops.mux(s["xzero"] | s["xinf"], edge, result)
        # y = +-inf: 1 for |x| == 1, else 0 or inf by |x| < 1 and the sign of y
        yinf = ops.mux(s["xbelow"] ^ s["ysign"], 0, fmt.inf())
        result = ops.mux(s["yinf"], ops.mux(s["xunit"], _one(fmt), yinf), result)
        nan = s["xnan"] | s["ynan"] | (s["xsign"] & ~s["xzero"] & ~s["xinf"] & ~s["yint"])
        result = ops.mux(nan & ~s["yinf"] | s["xnan"] | s["ynan"], fmt.qnan(), result)
        return dict(result=ops.mux(s["yzero"] | s["xone"], _one(fmt), result))


def _one(fmt: object) -> int:
    return fmt.bias << fmt.man_bits
