"""Floating-point square root ``sqrt(a)`` (:class:`FloatSqrt`), correctly rounded, pipelined.

Semantics: IEEE 754 square root in any :class:`FloatFormat`, round to nearest even:
``sqrt(+-0) = +-0``, ``sqrt(+inf) = +inf``, a negative nonzero operand (``-inf`` included) and
every NaN give the canonical quiet NaN, subnormal operands are exact inputs. Results are never
subnormal and never overflow. With ``ftz=True`` subnormal operands read as zeros of their sign.

Algorithm (``p = man_bits + 1`` significand bits): the significand is normalised (leading zero
count, then a left shift; not with ``ftz``) to ``sig`` in ``[2**(p-1), 2**p)`` with exponent
``e``; when ``e`` is odd the significand doubles, so ``M = sig << (e & 1)`` lies in
``[1, 4) * 2**(p-1)`` and the result exponent is ``e >> 1``. The ``p + 1``-bit integer square
root ``q = isqrt(M << (p + 1))`` (``p`` result bits and a guard bit, the first always 1) comes
digit by digit from the top, two radicand bits per result bit, by a *non-restoring* recurrence
on a signed partial remainder ``r`` (``-(2 q + 1) <= r <= 2 q``)::

    r = 4 r + next two bits - (4 q + 1)  if r >= 0  else  4 r + next two bits + (4 q + 3)
    q = 2 q + (new r >= 0)

Both cases are one adder (the ``q`` bits conditionally inverted); the ``k``-th step is only
``k + 3`` bits wide, so the whole root costs about half a divider of the same format. The
true remainder (``r``, or ``r + 2 q + 1`` when ``r < 0``) is nonzero exactly when bits below
the guard bit are: the sticky bit of round to nearest even. The rounding tail is
``_round.tail_steps``; for the IEEE formats (every format whose halved smallest exponent is still
normal) results are never subnormal and it has no subnormal shifter.

Stages: unpack (with the leading zero count) | shift | first | ``q1 ... qp`` | sticky | round,
registered as ``_stages.build_stages`` places them; the default latency fits each stage in a
120 MHz ECP5 cycle (the narrow first steps two to a stage, the rest one): float16 12,
bfloat16 9, float32 25, float64 54. Latency 0 is one combinational unit; throughput is one
root per cycle at any latency.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Mux

from ._format import FloatFormat
from ._round import (
    exp_width,
    exponent_tail,
    field,
    leading_zeros,
    resize,
    shift_left,
    significand,
    tail_steps,
    unpack,
)
from ._stages import FANOUT_NS, LUT_NS, State, Step, _Unit, carry_ns, flags_ns, levels, lzc_ns

__all__ = ["FloatSqrt"]


class FloatSqrt(_Unit):
    """``result = sqrt(a)`` in ``fmt``, ``latency`` cycles after the operand (module docstring).

    ``latency=None`` takes :attr:`default`; every latency from 0 gives the same results."""

    def __init__(self, fmt: FloatFormat, *, latency: int | None = None, ftz: bool = False):
        self.fmt, self.ftz = fmt, ftz
        super().__init__(_SqrtSteps(fmt, ftz).steps(), fmt.width, "a", latency)


class _SqrtSteps:
    """The steps of :class:`FloatSqrt` for one format."""

    def __init__(self, fmt: FloatFormat, ftz: bool) -> None:
        self.fmt, self.ftz = fmt, ftz
        self.p = fmt.man_bits + 1
        # the smallest result exponent, halved from the smallest normalised operand's
        self.always_normal = (1 - fmt.bias - fmt.man_bits) // 2 + fmt.bias >= 1

    def steps(self) -> list[Step]:
        fmt, p = self.fmt, self.p
        unpack_ns = flags_ns(fmt.man_bits) + (0 if self.ftz else lzc_ns(p))
        steps = [Step("unpack", unpack_ns, self.unpack)]
        if not self.ftz:
            steps.append(Step("shift", LUT_NS * levels(p), self.shift))
        steps.append(Step("first", carry_ns(fmt.exp_bits) + LUT_NS, self.first))
        digit_ns = [carry_ns(i + 3) + FANOUT_NS * min(1.0, (i + 3) / 16) for i in range(1, p + 1)]
        steps += [Step(f"q{i}", digit_ns[i - 1], self.iterate) for i in range(1, p + 1)]
        sticky_ns = carry_ns(p + 3) + LUT_NS * (levels(p) // 2)
        return steps + tail_steps(
            fmt,
            self.ftz,
            p + 1,
            shift=not self.always_normal,
            before=self.sticky,
            before_ns=sticky_ns,
        )

    def unpack(self, s: State) -> State:
        fmt = self.fmt
        ua = unpack(fmt, s["a"], ftz=self.ftz)
        s = {
            "sign": ua.sign,
            "nan": ua.is_nan | (ua.sign & ~ua.is_zero),
            "inf": ua.is_inf,
            "zero": ua.is_zero,
            "sig": significand(fmt, s["a"]) if self.ftz else ua.sig,
            # the operand's unbiased exponent plus twice the bias: even and odd alike
            "exp": resize(field(fmt, s["a"]) + fmt.bias, exp_width(fmt)),
        }
        if not self.ftz:
            s["lz"] = leading_zeros(ua.sig)
        return s

    def shift(self, s: State) -> State:
        s = dict(s)
        lz = s.pop("lz")
        s["sig"] = shift_left(s["sig"], lz)
        s["exp"] = resize(s["exp"] - lz, exp_width(self.fmt))
        return s

    def first(self, s: State) -> State:
        """Halve the exponent; the first root bit is 1, from the top two radicand bits."""
        s, p, fmt = dict(s), self.p, self.fmt
        sig, exp = s.pop("sig"), s.pop("exp")
        odd = exp[0]
        radicand = Mux(odd, Cat(Const(0, 1), sig), Cat(sig, Const(0, 1)))  # p + 1 bits
        biased = exp >> 1  # (e + 2 bias) // 2 = e // 2 + bias
        s.update(exponent_tail(fmt, s, biased, p + 1, self.ftz, shift=not self.always_normal))
        del s["inf"]
        s["r"] = (radicand[p - 1 :] - 1)[:3]  # 3-bit signed remainder: 0, 1 or 2
        s["q"] = Const(1, 1)
        s["rest"] = radicand[: p - 1]  # the radicand bits still to come, then zeros
        return s

    def iterate(self, s: State) -> State:
        """One non-restoring step: the next root bit from the next two radicand bits."""
        s = dict(s)
        r, q, rest = s["r"], s["q"], s["rest"]
        width = len(r) + 1
        pair = rest[-2:] if len(rest) >= 2 else Cat(Const(0, 2 - len(rest)), rest)
        s["rest"] = rest[:-2] if len(rest) >= 2 else Const(0, 0)
        neg = r[-1]
        # 4 r + pair - (4 q + 1) when r >= 0, else 4 r + pair + (4 q + 3), modulo 2**width
        term = Cat(Const(0b11, 2), Cat(q, Const(0, 1)) ^ (~neg).replicate(len(q) + 1))
        s["r"] = (Cat(pair, r) + term)[:width]
        s["q"] = Cat(~s["r"][-1], q)
        return s

    def sticky(self, s: State) -> State:
        """The root and guard bits, and whether the true remainder is nonzero."""
        s = dict(s)
        r, q = s.pop("r"), s.pop("q")
        del s["rest"]
        s["sticky"] = Mux(r[-1], (r + Cat(Const(1, 1), q))[: len(r)] != 0, r != 0)
        s["sig"] = q
        return s
