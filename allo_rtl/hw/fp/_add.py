"""Floating-point addition and subtraction: :class:`FloatAdd` (``a + b``, or ``a - b``).

The result is the IEEE 754 sum rounded to nearest, ties to even, with subnormals, signed zeros
and infinities: an exact zero sum is ``+0`` unless both addends are ``-0`` (``x + (-x) = +0``,
``-0 + -0 = -0``); ``inf - inf`` and any NaN operand give the canonical quiet NaN
``fmt.qnan()``; overflow gives the infinity of the result's sign. With ``ftz=True`` subnormal
operands read as zeros of their sign and subnormal results become zeros of their sign.

Datapath: one significand adder and two shifters, in the steps of
:attr:`FloatAdd.STEPS` (``p = man_bits + 1``):

1. ``swap``: order the operands by magnitude (one compare of the encodings without their
   signs), so ``|x| >= |y|``; beside it the exponent difference both ways, the larger
   exponent's chosen by the exponents alone (off the compare's path).
2. ``align``: shift ``y``'s significand right by the difference into ``p + 3`` bits (guard,
   round, and a sticky bit ORed into the last bit, which keeps the sum correctly rounded),
   inverted for a subtraction. With ``ftz`` a subnormal ``y`` is shifted out entirely,
   without a sticky bit (a subnormal ``x`` makes ``y`` one too, and the sum a zero).
3. ``add``: add or subtract the significands (``p + 4`` bits, never negative); the first
   level of the leading-zero count (zero flag and count of each group of 4 bits).
4. ``count``: the rest of the leading-zero count; the normalising shift is that count but
   stops where the exponent reaches 1 (a tiny result lands in subnormal position, exactly).
5. ``normalize``: shift left; the rounding increment (nearest, ties to even; the bits below
   the guard bit read before the shift); the exponent field less the hidden bit, and the
   special results (NaN, infinity, overflow, exact zero, ``ftz``) folded into the fraction,
   the exponent and the increment.
6. ``round``: ONE addition rounds and packs: fraction and exponent field side by side, plus
   the hidden bit and the increment, whose carry reaches the next binade, the smallest
   normal number or infinity by itself.

A unit of latency ``L`` has ``L`` registers: the last holds ``result``, the others cut between
steps (:func:`cut_points`, preferring the boundaries in :attr:`FloatAdd.CUT_ORDER`); a latency
below the number of steps merges steps (same results), one above it adds output registers.
The default (:func:`default_latency`) registers every step (6): float16, bfloat16 and float32
then run at 120 MHz and more on an ECP5 of speed grade 6, float64 at about 100 MHz.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ._format import FloatFormat
from ._round import (
    leading_zeros,
    shift_left,
    shift_right_sticky,
    unpack,
    wire,
)

__all__ = ["FloatAdd", "Stage", "cut_points", "default_latency", "run_stages"]

Stage = Callable[[Module, dict[str, Value]], dict[str, Value]]


def cut_points(stages: int, latency: int, order: Sequence[int] = ()) -> list[int]:
    """How many registers follow each of ``stages`` stages for a total of ``latency``: the last
    stage gets one (the output register) when ``latency >= 1``, plus those beyond one per
    stage; the inner boundaries (``i``: after stage ``i``) are taken from ``order`` first, then
    in ascending order."""
    cuts = [0] * stages
    if latency <= 0:
        return cuts
    cuts[-1] = 1 + max(0, latency - stages)
    inner = [i for i in order if 0 <= i < stages - 1]
    inner += [i for i in range(stages - 1) if i not in inner]
    for i in inner[: latency - 1]:
        cuts[i] = 1
    return cuts


def run_stages(
    m: Module, stages: Sequence[Stage], values: dict[str, Value], cuts: Sequence[int], name: str
) -> dict[str, Value]:
    """Apply ``stages`` (``stage(m, values) -> values``) in order; the values a stage passes
    on become signals ``{name}_s{i}_{key}``: registered ``cuts[i]`` times (in series), or
    combinational when ``cuts[i]`` is 0."""
    for i, (stage, count) in enumerate(zip(stages, cuts)):
        values = stage(m, values)
        values = {k: wire(m, v, f"{name}_s{i}_{k}_w") for k, v in values.items()}
        for n in range(count):
            regs = {}
            for key, value in values.items():
                reg = Signal(value.shape(), name=f"{name}_s{i}_{key}" + (f"_{n}" if n else ""))
                m.d.sync += reg.eq(value)
                regs[key] = reg
            values = regs
    return values


def default_latency(fmt: FloatFormat) -> int:
    """Registers of a :class:`FloatAdd` of ``fmt`` when not given: one per step (6), for every
    format (float16, bfloat16 and float32 reach 120 MHz on an ECP5 of speed grade 6, float64
    about 100 MHz)."""
    return len(FloatAdd.STEPS)


class FloatAdd(wiring.Component):
    """``result = a + b`` (``a - b`` when ``sub``) in ``fmt``, ``latency`` cycles later.

    Ports: ``a``, ``b`` (``fmt.width``), ``sub``, ``valid_in`` in; ``result``, ``valid_out``
    out. ``latency=None`` takes :func:`default_latency`; 0 is combinational."""

    STEPS = ("swap", "align", "add", "count", "normalize", "round")
    CUT_ORDER = (3, 1, 0, 4, 2)  # inner registers: after count, align, swap, normalize, add

    def __init__(self, fmt: FloatFormat, *, latency: int | None = None, ftz: bool = False):
        self.fmt = fmt
        self.ftz = ftz
        self.latency = default_latency(fmt) if latency is None else latency
        if self.latency < 0:
            raise ValueError(f"FloatAdd latency must be >= 0, not {self.latency}")
        super().__init__(
            {
                "a": In(fmt.width),
                "b": In(fmt.width),
                "sub": In(1),
                "valid_in": In(1),
                "result": Out(fmt.width),
                "valid_out": Out(1),
            }
        )

    def elaborate(self, platform) -> Module:
        m = Module()
        stages = [getattr(self, f"_{step}") for step in self.STEPS]
        cuts = cut_points(len(stages), self.latency, self.CUT_ORDER)
        inputs = {"a": self.a, "b": self.b, "sub": self.sub, "valid": self.valid_in}
        out = run_stages(m, stages, inputs, cuts, "add")
        m.d.comb += [self.result.eq(out["result"]), self.valid_out.eq(out["valid"])]
        return m

    @property
    def _flags(self) -> tuple[str, ...]:
        """The special cases carried from ``swap`` to ``count``."""
        return ("nan", "inf", "gone") if self.ftz else ("nan", "inf")

    def _swap(self, m: Module, v: dict[str, Value]) -> dict[str, Value]:
        fmt = self.fmt
        mag, k = fmt.width - 1, (fmt.man_bits + 4).bit_length()  # k: bits of the shift
        a, b = v["a"], wire(m, Cat(v["b"][:mag], v["b"][mag] ^ v["sub"]), "add_b")
        ua, ub = unpack(fmt, a), unpack(fmt, b)
        swap = wire(m, a[:mag] < b[:mag], "add_swap")  # x is the larger magnitude
        fa, fb = _field(fmt, a), _field(fmt, b)
        # exp x - exp y both ways beside the compare, narrowed for the shifter; the larger
        # exponent is x's (both the same when they are equal): off the compare's path
        dab, later = fa - fb, wire(m, fa < fb, "add_later")
        dab, dba = _narrow(dab, k), _narrow(fb - fa, k)
        opposite = ua.sign ^ ub.sign
        out = {
            "valid": v["valid"],
            "sign": Mux(swap, ub.sign, ua.sign),
            "sub": opposite,
            "exp": Mux(later, fb, fa),  # biased, >= 1
            "diff": Mux(later, dba, dab),
            "x": Mux(swap, ub.sig, ua.sig),
            "y": Mux(swap, ua.sig, ub.sig),
            "nan": ua.is_nan | ub.is_nan | (ua.is_inf & ub.is_inf & opposite),
            "inf": ua.is_inf | ub.is_inf,  # with the larger magnitude's sign
        }
        if self.ftz:  # a subnormal y is shifted out without a sticky bit (of one subnormal
            # or zero operand, y is that one); two make the sum a zero
            da, db = fmt.exponent(a) == 0, fmt.exponent(b) == 0
            out["flush"] = da | db
            out["diff"] = out["diff"] | out["flush"].replicate(k)
            out["gone"] = da & db
        return out

    def _align(self, m: Module, v: dict[str, Value]) -> dict[str, Value]:
        y, lost = shift_right_sticky(Cat(Const(0, 3), v["y"]), v["diff"], m=m)
        if self.ftz:
            lost = lost & ~v["flush"]
        y = Cat(y | lost, Const(0, 1))
        y = y ^ v["sub"].replicate(len(y))  # inverted for a subtraction (x + ~y + 1)
        return {**_keep(v, "valid", "sign", "sub", "exp", "x", *self._flags), "y": y}

    def _add(self, m: Module, v: dict[str, Value]) -> dict[str, Value]:
        x = Cat(Const(0, 3), v["x"])
        total = wire(m, (x + v["y"] + v["sub"])[: len(v["y"])], "add_sum")  # never negative
        zeros, counts = _lz_groups(total)  # the leading-zero count's first level
        keep = _keep(v, "valid", "sign", "sub", "exp", *self._flags)
        return {**keep, "sum": total, "zeros": zeros, "counts": counts}

    def _count(self, m: Module, v: dict[str, Value]) -> dict[str, Value]:
        total, exp, e = v["sum"], v["exp"], self.fmt.exp_bits
        lz = _lz_combine(v["zeros"], v["counts"], len(total))
        k = len(lz)
        # the shift stops where the exponent reaches 1: a tiny result in subnormal position
        small = exp[k:] == 0 if e > k else Const(1, 1)
        limited = wire(m, small & _less(exp[:k], lz), "add_lim")
        return {
            **_keep(v, "valid", "sign", "exp", "nan", "inf", "sum"),
            "shift": Mux(limited, exp[:k], lz),
            "limited": limited,
            # an exact zero: +0, or -0 when both addends are -0
            "zero": v["zeros"].all() | (v["gone"] if self.ftz else 0),
            "zero_sign": v["sign"] & ~v["sub"],
            # a carry at the largest exponent overflows
            "ovf": total[-1] & (exp == self.fmt.exp_max - 1),
        }

    def _normalize(self, m: Module, v: dict[str, Value]) -> dict[str, Value]:
        fmt, p = self.fmt, self.fmt.man_bits + 1
        total, shift = v["sum"], v["shift"]
        sig = shift_left(total, shift, m=m)  # p + 4 bits
        big = v["nan"] | v["inf"] | v["ovf"]  # NaN or infinity
        kill = big | v["zero"] | (v["limited"] if self.ftz else 0)
        frac, guard = sig[4 : p + 3], sig[3]
        # the bits below the guard bit after the shift, read before it
        rest = (total[0] & (shift <= 2)) | (total[1] & (shift <= 1)) | (total[2] & (shift == 0))
        inc = ~kill & guard & (rest | frac[0])
        return {
            "valid": v["valid"],
            "sign": ~v["nan"] & Mux(v["zero"], v["zero_sign"], v["sign"]),
            "frac": Mux(kill, 0, frac) | Cat(Const(0, fmt.man_bits - 1), v["nan"]),
            # the exponent field less the hidden bit: exp - shift (0 when limited)
            "e1": Mux(big, fmt.exp_max - 1, Mux(v["zero"], 0, v["exp"] - v["shift"])),
            "hidden": big | ~(v["zero"] | v["limited"]),
            "inc": inc,
        }

    def _round(self, m: Module, v: dict[str, Value]) -> dict[str, Value]:
        """Round and pack in one addition: the fraction and the exponent field (``e1`` plus the
        hidden bit), plus the increment, whose carry reaches the next binade, the smallest
        normal number or infinity by itself."""
        fmt = self.fmt
        word = Cat(v["frac"], v["e1"][: fmt.exp_bits]) + Cat(Const(0, fmt.man_bits), v["hidden"])
        word = (word + v["inc"])[: fmt.width - 1]
        return {"valid": v["valid"], "result": Cat(word, v["sign"])}


def _field(fmt: FloatFormat, v: Value) -> Value:
    """The biased exponent field of ``v``, 1 for zeros and subnormals (only bit 0 changes)."""
    e = fmt.exponent(v)
    return Cat(e[0] | (e == 0), e[1:])


def _lz_groups(v: Value) -> tuple[Value, Value]:
    """The first level of a leading-zero count of ``v``: its groups of 4 bits from the top
    (the last one padded with ones below), per group whether its bits of ``v`` are all zero
    (``zeros``, the top group's flag last) and its own count (``counts``, 2 bits each, the
    top group's last)."""
    pad = -len(v) % 4
    flags = [v[max(i - pad, 0) : i + 4 - pad] == 0 for i in range(0, len(v) + pad, 4)]
    v = Cat(Const((1 << pad) - 1, pad), v)
    groups = [v[i : i + 4] for i in range(0, len(v), 4)]
    counts = [Cat(~g[3] & (g[2] | ~g[1]), ~g[3] & ~g[2]) for g in groups]
    return Cat(*flags), Cat(*counts)


def _lz_combine(zeros: Value, counts: Value, n: int) -> Value:
    """The leading zeros of an ``n``-bit value from :func:`_lz_groups`: 4 per zero group
    above the first nonzero one, plus that group's count (``n`` for a zero value)."""
    groups = len(zeros)
    lead = leading_zeros(~zeros)  # zero groups from the top
    own = Array(counts[2 * i : 2 * i + 2] for i in reversed(range(groups)))[lead]
    return Mux(zeros.all(), n, Cat(own, lead))


def _less(a: Value, b: Value) -> Value:
    """``a < b`` for unsigned values of one width, as logic from the top bit down (no carry
    chain: its result would wait for the last bit of ``b``, a leading-zero count's slowest)."""
    if len(a) == 0:
        return Const(0, 1)
    hi_a, hi_b = a[-1], b[-1]
    return (~hi_a & hi_b) | (~(hi_a ^ hi_b) & _less(a[:-1], b[:-1]))


def _narrow(d: Value, k: int) -> Value:
    """A non-negative difference ``d`` as a ``k``-bit shift amount, all ones when larger (a
    negative ``d`` gives any value: it is not selected)."""
    d = Value.cast(d)
    return d[:k] | (d[k:-1] != 0).replicate(k) if len(d) - 1 > k else d[:k]


def _keep(v: dict[str, Value], *keys: str) -> dict[str, Value]:
    return {key: v[key] for key in keys}
