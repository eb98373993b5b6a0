"""``sin(x)`` and ``cos(x)``: exact reduction by pi/2 over the whole range, one polynomial.

Algorithm (fixed point; ``_m_ops.py`` explains the two backends), on ``|x| = m 2**(e - 23)``:

1. Reduction (``|x| >= 0.5``), Payne-Hanek style: a 129-entry table, indexed by ``e``, holds
   the 94 bits of ``2/pi`` that matter for that exponent (``floor(2/pi * 2**(e + 69)) mod
   2**94``); ``m`` times that window, modulo ``2**94``, is ``y = |x| 2/pi mod 4`` to 66
   fraction bits (error below ``2**-66``). ``n = round(y) mod 4`` is the quadrant and
   ``f = y - round(y)``, ``|f| <= 1/2``. Over all float32 inputs ``|f| >= 2**-29.86``
   (an exhaustive search, at ``|x| = 0xf9be45 * 2**72``), so ``f`` keeps at least 36
   significant bits: the reduction is exact to ``2**-36`` relative for every finite input.
   Below 0.5, ``r = |x|`` and ``n = 0``.
2. ``r = f pi/2`` as a normalised significand and exponent; ``u = r**2`` in fixed point.
3. ``sin(r) = r P_s(u)``, ``cos(r) = P_c(u)`` with the Taylor polynomials of degree 5 and 6
   in ``u`` (truncation below ``2**-36``), one Horner datapath whose coefficients are chosen
   per input (``cos`` of the quadrant's odd cases is ``sin``), each product only as wide as
   its weight needs; the last product is ``r P_s(u)`` or ``1 * P_c(u)``.
4. Sign from the quadrant, the sign of ``f`` and (``sin``) of ``x``; rounded once.

The significand is accurate to about ``2**-35`` relative, for every finite input.
Measured (``benchmarks/float_math_ulp.py``: every 1024th finite float32 pattern, the whole
range, plus 65,536-pattern sweeps around pi/2, pi, 2 pi and ``13176795``, and the hardest
reductions, 4.4 million inputs): at most **0.5005 ulp** (``sin``, 716 results not correctly
rounded) and **0.5006 ulp** (``cos``, 682) from the exact value; at most 1 ulp from NumPy's
float32 functions.

Special values: ``sin(+-0) = +-0``, ``cos(+-0) = 1``, ``sin``/``cos`` of an infinity or NaN is
the canonical NaN. DSP blocks (ECP5, 18x18): 31 (reduction 11, square 3, Horner 13, final 4).
"""

from __future__ import annotations

from math import log2

from ._m_const import fx_div, fx_pi
from ._m_ops import MathUnit, Ops, Stage, mul_hi

__all__ = ["FloatCos", "FloatSin"]

F = 66  # fraction bits of y = |x| 2/pi mod 4
GW = 26  # guard bits of the product m * window (m < 2**24: the window's truncation stays below 1)
WB = F + GW + 2  # bits of a window
EMIN, EMAX = -1, 127  # exponents that are reduced
FR = 36  # fraction bits of the significand of r (in [1, 2))
FU = 38  # fraction bits of u = r**2
FO = 40  # fraction bits of the output significand


def _windows() -> list[int]:
    """``floor(2/pi * 2**(e - 23 + F + GW)) mod 2**WB`` for ``e = EMIN .. EMAX``."""
    bits = EMAX - 23 + F + GW + 64
    two_over_pi = (1 << (2 * bits + 1)) // fx_pi(bits)  # 2/pi * 2**bits, truncated
    return [
        (two_over_pi >> (bits - (e - 23 + F + GW))) & ((1 << WB) - 1) for e in range(EMIN, EMAX + 1)
    ]


_WINDOWS = _windows()
_PIO2 = fx_pi(37)  # pi/2 to 38 fraction bits

# Taylor coefficients in u = r**2: sin(r) = r * P_s(u), cos(r) = P_c(u)
_SIN = [(1, 1), (-1, 6), (1, 120), (-1, 5040), (1, 362880), (-1, 39916800), (0, 1)]
_COS = [(1, 1), (-1, 2), (1, 24), (-1, 720), (1, 40320), (-1, 3628800), (1, 479001600)]
# fraction bits of h_k (h_6 = c_6, h_k = c_k + u h_{k+1}, P = h_0)
_FH = [38, 37, 36, 36, 35, 35, 35]


def _levels() -> list[dict]:
    """Per Horner level ``k = 5 .. 0``: the coefficients (both polynomials) and the widths of
    ``u`` (``G`` fraction bits) and of ``h_{k+1}`` for the product ``u h_{k+1}``."""
    hmax = [0.0] * 7
    for k in range(6, -1, -1):
        c = max(abs(_SIN[k][0] / _SIN[k][1]), abs(_COS[k][0] / _COS[k][1]))
        hmax[k] = c + (0.62 * hmax[k + 1] if k < 6 else 0.0)
    out = []
    for k in range(5, -1, -1):
        top = int(log2(hmax[k + 1]))  # hmax <= 2**top (int() rounds toward 0, up here)
        g = min(FU, _FH[k] + top)  # the truncation of u costs 2**-g * hmax <= 2**-FH
        out.append(
            dict(
                k=k,
                g=g,
                hbits=_FH[k + 1] + top + 2,
                drop=g + _FH[k + 1] - _FH[k],
                sin=fx_div(*_SIN[k], _FH[k]),
                cos=fx_div(*_COS[k], _FH[k]),
            )
        )
    return out


_LEVELS = _levels()
_TOP = {"sin": fx_div(*_SIN[6], _FH[6]), "cos": fx_div(*_COS[6], _FH[6])}


def _horner(level: dict) -> Stage:
    """The stage ``h_k = c_k + u h_{k+1}`` (``h_6`` a constant: a constant multiply)."""

    def stage(ops: Ops, st: dict) -> dict:
        st = dict(st)
        u, cos = st["u"], st["want_cos"]
        h = st.pop("h", None)
        uk = u >> (FU - level["g"])
        if h is None:  # h_6: c_6 of either polynomial (0 for sin)
            prod = ops.mux(cos, ops.cmul(uk, _TOP["cos"]), 0) >> level["drop"]
        else:
            prod = mul_hi(ops, uk, level["g"] + 1, h, level["hbits"], level["drop"])
        st["h"] = ops.mux(cos, level["cos"], level["sin"]) + prod
        if level["k"] == 0:
            st.pop("u")
        return st

    return stage


class FloatSin(MathUnit):
    """``result = sin(a)`` (see the module docstring for the algorithm and its accuracy)."""

    COS = False

    def build_stages(self) -> list[Stage]:
        return [
            self._decode,
            self._reduce,
            self._quadrant,
            self._normalize_f,
            self._r,
            self._square,
            self._u,
            *(_horner(level) for level in _LEVELS),
            self._final,
            self._normalize,
            self._pack,
        ]

    def _decode(self, ops: Ops, st: dict) -> dict:
        fmt = self.fmt
        u = ops.unpack(fmt, st["a"])
        m24 = u["sig"] << (23 - fmt.man_bits)
        lz = ops.lzc(m24, 24)
        e = u["exp"] - lz
        return dict(
            m=ops.shl(m24, lz, 24),  # |x| = m 2**(e - 23), m in [2**23, 2**24)
            e=e,
            window=ops.table(ops.bits(e - EMIN, 0, 8), _WINDOWS),
            reduce=e >= EMIN,
            sign=u["sign"],
            nan=u["nan"] | u["inf"],
        )

    def _reduce(self, ops: Ops, st: dict) -> dict:
        """``y = |x| 2/pi mod 4`` (F fraction bits)."""
        st = dict(st)
        window = st.pop("window")
        st["y"] = ops.bits(mul_hi(ops, st["m"], 25, window, WB + 1, GW), 0, F + 2)
        return st

    def _quadrant(self, ops: Ops, st: dict) -> dict:
        """``n = round(y) mod 4``, ``|f|`` and the sign of ``f = y - round(y)``."""
        st = dict(st)
        t = st.pop("y") + (1 << (F - 1))
        f = ops.bits(t, 0, F) - (1 << (F - 1))
        st["n"] = ops.mux(st["reduce"], ops.bits(t, F, 2), 0)
        st["fneg"] = st["reduce"] & (f < 0)
        st["fmag"] = ops.mux(f < 0, -f, f)
        return st

    def _normalize_f(self, ops: Ops, st: dict) -> dict:
        st = dict(st)
        fmag = st.pop("fmag")
        st["flz"] = ops.lzc(fmag, F)
        st["fn"] = ops.shl(fmag, st["flz"], F) >> (F - 38)  # [1/2, 1), 38 fraction bits
        return st

    def _r(self, ops: Ops, st: dict) -> dict:
        """``|r|`` as ``rs 2**(re - FR)``, ``rs`` in ``[2**FR, 2**(FR+1))``; the case."""
        st = dict(st)
        fn, flz, m, e = st.pop("fn"), st.pop("flz"), st.pop("m"), st.pop("e")
        rr = ops.cmul(fn, _PIO2)  # |f| pi/2 * 2**flz, 76 fraction bits, in [0.78, 1.58)
        high = rr >= (1 << 76)
        reduced = ops.mux(high, rr >> (76 - FR), rr >> (75 - FR))
        st["rs"] = ops.mux(st["reduce"], reduced, m << (FR - 23))
        st["re"] = ops.mux(st["reduce"], ops.mux(high, -flz, -flz - 1), e)
        n = st.pop("n") + (1 if self.COS else 0)
        st["want_cos"] = ops.bits(n, 0, 1) != 0
        negate = (ops.bits(n, 1, 1) != 0) ^ (~st["want_cos"] & st.pop("fneg"))
        st["neg"] = negate if self.COS else negate ^ (st.pop("sign") != 0)
        st.pop("reduce")
        st.pop("sign", None)
        return st

    def _square(self, ops: Ops, st: dict) -> dict:
        st = dict(st)
        st["us"] = mul_hi(ops, st["rs"], FR + 2, st["rs"], FR + 2, FR)  # [1, 4), FR frac
        return st

    def _u(self, ops: Ops, st: dict) -> dict:
        """``u = r**2`` (FU fraction bits; ``re <= -1``)."""
        st = dict(st)
        us, re = st.pop("us"), st["re"]
        amount = ops.mux(re < -31, 63, -2 * re)
        st["u"] = ops.shr(us << (FU - FR), ops.bits(amount, 0, 6))
        return st

    def _final(self, ops: Ops, st: dict) -> dict:
        """``r P_s(u)`` or ``P_c(u)`` (FO fraction bits, in ``[0.7, 2)``)."""
        st = dict(st)
        h, rs = st.pop("h"), st.pop("rs")
        a = ops.mux(st["want_cos"], 1 << FR, rs)
        st["p"] = mul_hi(ops, a, FR + 2, h >> (_FH[0] - 35), 37, FR + 35 - FO)
        st["re"] = ops.mux(st["want_cos"], 0, st["re"])
        st.pop("want_cos")
        return st

    def _normalize(self, ops: Ops, st: dict) -> dict:
        st = dict(st)
        p, re = st.pop("p"), st.pop("re")
        high = p >= (1 << FO)
        st["sig"] = ops.mux(high, p, p << 1)
        st["exp"] = ops.mux(high, re, re - 1)
        return st

    def _pack(self, ops: Ops, st: dict) -> dict:
        fmt = self.fmt
        packed = ops.round_pack(fmt, st["neg"], st["exp"], st["sig"], FO + 1)
        return dict(result=ops.mux(st["nan"], fmt.qnan(), packed))


class FloatCos(FloatSin):
    """``result = cos(a)`` (quadrant shifted by one: ``cos x = sin(|x| + pi/2)``)."""

    COS = True
