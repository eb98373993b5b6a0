"""Floating-point division ``a / b`` (:class:`FloatDiv`), correctly rounded, fully pipelined.

Semantics: IEEE 754 division in any :class:`FloatFormat`, round to nearest even, subnormal
inputs and results, signed zeros: ``x / 0`` is the infinity of sign ``sign(a) ^ sign(b)``,
``0 / 0``, ``inf / inf`` and every NaN operand give the canonical quiet NaN, ``finite / inf``
is a zero and ``inf / finite`` an infinity. With ``ftz=True`` subnormal inputs read as zeros
(so ``x / subnormal`` is infinite) and subnormal results become zeros.

Algorithm (``p = man_bits + 1`` significand bits): both significands are normalised (leading
zero counts, then left shifts; not with ``ftz``) to ``X, D`` in ``[2**(p-1), 2**p)``. When
``X < D`` the dividend doubles and the exponent drops by one, so the quotient ``X / D`` lies in
``[1, 2)``: its first bit is 1, with remainder ``r = X - D``. Then a radix-2 *non-restoring*
recurrence on a signed ``p + 1``-bit partial remainder (``-D <= r < D``) gives ``p`` more bits,
one per step::

    r = 2 r - D  if r >= 0  else  2 r + D      (one adder: D conditionally inverted)
    quotient bit = (new r >= 0)

The ``p + 1`` quotient bits are the significand and a guard bit; the true remainder (``r``, or
``r + D`` when ``r < 0``) is nonzero exactly when bits below are: the sticky bit of round to
nearest even. The rounding tail is ``_round.tail_steps`` (``_round.shift_right_sticky`` into
subnormal position beside the remainder test, then ``_round.round_pack_biased``); the subnormal
shift amount and the special results come from ``_round.exponent_tail`` beside the first step.

Steps: unpack (with both leading zero counts) | shift | first | ``q1 ... qp`` | denorm | round,
registered by ``_stages.build_stages``. Area against latency: a recurrence step is one
``p + 1``-bit adder (float32: 13 CCU2C and about 25 LUT4 for the conditional inversion) and
every pipeline register among them holds ``r``, ``D`` and the quotient bits so far (about 75
flip-flops for float32), so the logic is fixed and the flip-flops grow with the latency. One
step fits a 120 MHz ECP5 cycle (about 5.4 ns with its routing), two do not (about 10 ns), so
the default latency gives every quotient bit a stage of its own: float16 16, bfloat16 13,
float32 29, float64 58 (``ftz`` one less). An explicit smaller latency packs several bits per
stage: fewer flip-flops and cycles, a lower clock (float32, measured: latency 16, two bits per
stage, 81 MHz and 1305 flip-flops instead of 2364; latency 9, 50 MHz); 0 is one combinational
divider. (A radix-4 restoring step, three subtractors and a 4-way select, measured no faster
per two bits than two radix-2 steps on ECP5, with 2.5 times the logic, so it is not offered.)
Throughput is one division per cycle at any latency.
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

__all__ = ["FloatDiv"]


class FloatDiv(_Unit):
    """``result = a / b`` in ``fmt``, ``latency`` cycles after the operands (module docstring).

    ``latency=None`` takes :attr:`default`; every latency from 0 gives the same results."""

    def __init__(self, fmt: FloatFormat, *, latency: int | None = None, ftz: bool = False):
        self.fmt, self.ftz = fmt, ftz
        super().__init__(_DivSteps(fmt, ftz).steps(), fmt.width, "ab", latency)


class _DivSteps:
    """The steps of :class:`FloatDiv` for one format."""

    def __init__(self, fmt: FloatFormat, ftz: bool) -> None:
        self.fmt, self.ftz, self.p = fmt, ftz, fmt.man_bits + 1

    def steps(self) -> list[Step]:
        fmt, p = self.fmt, self.p
        unpack_ns = flags_ns(fmt.man_bits) + (0 if self.ftz else lzc_ns(p))
        steps = [Step("unpack", unpack_ns, self.unpack)]
        if not self.ftz:
            steps.append(Step("shift", LUT_NS * levels(p), self.shift))
        steps.append(Step("first", carry_ns(p + 2) + LUT_NS + FANOUT_NS / 2, self.first))
        digit_ns = carry_ns(p + 1) + FANOUT_NS
        steps += [Step(f"q{i}", digit_ns, self.digit) for i in range(1, p + 1)]
        sticky_ns = carry_ns(p + 1) + LUT_NS * (levels(p) // 2)
        return steps + tail_steps(fmt, self.ftz, p + 1, before=self.sticky, before_ns=sticky_ns)

    def unpack(self, s: State) -> State:
        fmt, ftz = self.fmt, self.ftz
        ua, ub = unpack(fmt, s["a"], ftz=ftz), unpack(fmt, s["b"], ftz=ftz)
        # biased exponent of the quotient when X >= D (and with ftz, beside it, when X < D)
        fa, fb, w = field(fmt, s["a"]), field(fmt, s["b"]), exp_width(fmt)
        s = {
            "sign": ua.sign ^ ub.sign,
            "nan": ua.is_nan | ub.is_nan | (ua.is_zero & ub.is_zero) | (ua.is_inf & ub.is_inf),
            "inf": ua.is_inf | ub.is_zero,
            "zero": ua.is_zero | ub.is_inf,
            "x": significand(fmt, s["a"]) if ftz else ua.sig,
            "d": significand(fmt, s["b"]) if ftz else ub.sig,
            "biased": resize(fa - fb + fmt.bias, w),
        }
        if ftz:
            s["biased_lt"] = resize(fa - fb + (fmt.bias - 1), w)
        else:
            s["lzx"], s["lzd"] = leading_zeros(ua.sig), leading_zeros(ub.sig)
        return s

    def shift(self, s: State) -> State:
        """The significands normalised; the exponent for ``X >= D`` and for ``X < D``."""
        s, w = dict(s), exp_width(self.fmt)
        lzx, lzd = s.pop("lzx"), s.pop("lzd")
        s["x"], s["d"] = shift_left(s["x"], lzx), shift_left(s["d"], lzd)
        delta = Cat(lzd, Const(0, 1)).as_signed() - lzx
        s["biased"], s["biased_lt"] = (
            resize(s["biased"] + delta, w),
            resize(s["biased"] + (delta - 1), w),
        )
        return s

    def first(self, s: State) -> State:
        """The leading quotient bit (always 1): ``r = X - D``, or ``2 X - D`` when ``X < D``."""
        s, p = dict(s), self.p
        x, d = s.pop("x"), s.pop("d")
        once = Cat(x, Const(0, 1)) - d  # p + 1 bits and a borrow
        less = once[p + 1]
        s["r"] = Mux(less, Cat(Const(0, 1), x) - d, once)[: p + 1]
        s["d"] = d[: p - 1]  # D's top bit is 1 (or the result is special)
        s["q"] = Const(1, 1)
        s["biased"] = Mux(less, s.pop("biased_lt"), s["biased"])
        return s

    def _subnormal(self, s: State) -> None:
        """Beside the first digit: the subnormal shift of the final quotient."""
        if "amount" not in s:
            s.update(exponent_tail(self.fmt, s, s.pop("biased"), self.p + 1, self.ftz))
            del s["inf"]

    def digit(self, s: State) -> State:
        """One quotient bit: ``r = 2 r -+ D`` by the sign of ``r``; the bit is ``r >= 0``."""
        s, p = dict(s), self.p
        self._subnormal(s)
        r, d = s["r"], Cat(s["d"], Const(1, 1))
        pos = ~r[p]
        # 2 r + D when r < 0, else 2 r + ~D + 1 (= 2 r - D), modulo 2**(p + 1)
        s["r"] = (Cat(pos, r[:p]) + (Cat(d, Const(0, 1)) ^ pos.replicate(p + 1)))[: p + 1]
        s["q"] = Cat(~s["r"][p], s["q"])
        return s

    def sticky(self, s: State) -> State:
        """The quotient and guard bits, and whether the true remainder is nonzero."""
        s, p = dict(s), self.p
        r, d = s.pop("r"), Cat(s.pop("d"), Const(1, 1))
        # a negative r stands for r + D
        s["sticky"] = Mux(r[p], (r + d)[: p + 1] != 0, r != 0)
        s["sig"] = s.pop("q")
        return s
