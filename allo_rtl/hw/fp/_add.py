"""Floating-point addition and subtraction: :class:`FloatAdd` (``a + b``, or ``a - b``).

The result is the IEEE 754 sum rounded to nearest, ties to even, with subnormals, signed zeros
and infinities: an exact zero sum is ``+0`` unless both addends are ``-0`` (``x + (-x) = +0``,
``-0 + -0 = -0``); ``inf - inf`` and any NaN operand give the canonical quiet NaN
``fmt.qnan()``; overflow gives the infinity of the result's sign. With ``ftz=True`` subnormal
operands read as zeros of their sign and subnormal results become zeros of their sign.

Datapath: one significand adder and two shifters, in the steps of
:attr:`FloatAdd.STEPS` (``p = man_bits + 1``):

1. ``swap``: order the operands by magnitude (one compare of the encodings without their
   signs), so ``|x| >= |y|``; the exponent difference is computed both ways beside it.
2. ``align``: shift ``y``'s significand right by the difference into ``p + 3`` bits (guard,
   round, and a sticky bit ORed into the last bit, which keeps the sum correctly rounded).
3. ``add``: add or subtract the significands (``p + 4`` bits, never negative).
4. ``count``: the leading zeros of the sum; the normalising shift is that count but stops
   where the exponent reaches 1 (a tiny result lands in subnormal position, exactly): a 1
   ORed into the sum at that position, decoded from the exponent in ``align``, stops it.
5. ``normalize``: shift left, and the result exponent.
6. ``round``: round the significand to ``p`` bits, nearest even.
7. ``pack``: exponent field, overflow to infinity, ftz, and the special results (NaN,
   infinity, exact zero) in place of the packed value.

A unit of latency ``L`` has ``L`` registers: the last holds ``result``, the others cut between
steps (:func:`cut_points`, preferring the boundaries in :attr:`FloatAdd.CUT_ORDER`); a latency
below the number of steps merges steps (same results), one above it adds output registers.
The default (:func:`default_latency`) registers every step for float32 and wider (7: float32
then runs at 120 MHz and more on an ECP5 of speed grade 6) and merges steps for the narrower
formats (float16 6, bfloat16 5).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ._format import FloatFormat
from ._round import (
    add_sub,
    leading_zeros,
    pack_rounded,
    round_significand,
    shift_amount,
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
    """Registers of a :class:`FloatAdd` of ``fmt`` when not given: one per step (7) from
    float32's precision up, 6 up to float16's (normalize and round share a cycle), 5 up to
    bfloat16's (add and count share one too): each reaches 120 MHz on an ECP5 of speed grade
    6 (float64 with 7: about 100 MHz)."""
    p = fmt.man_bits + 1
    return 5 if p <= 8 else 6 if p <= 11 else len(FloatAdd.STEPS)


class FloatAdd(wiring.Component):
    """``result = a + b`` (``a - b`` when ``sub``) in ``fmt``, ``latency`` cycles later.

    Ports: ``a``, ``b`` (``fmt.width``), ``sub``, ``valid_in`` in; ``result``, ``valid_out``
    out. ``latency=None`` takes :func:`default_latency`; 0 is combinational."""

    STEPS = ("swap", "align", "add", "count", "normalize", "round", "pack")
    CUT_ORDER = (3, 1, 0, 5, 2, 4)  # inner registers: after count, align, swap, round, ...

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

    def _swap(self, m: Module, v: dict[str, Value]) -> dict[str, Value]:
        fmt = self.fmt
        mag, n = fmt.width - 1, fmt.man_bits + 4  # n: the alignment shifter's width
        a, b = v["a"], wire(m, Cat(v["b"][:mag], v["b"][mag] ^ v["sub"]), "add_b")
        ua, ub = unpack(fmt, a, ftz=self.ftz), unpack(fmt, b, ftz=self.ftz)
        swap = wire(m, a[:mag] < b[:mag], "add_swap")  # x is the larger magnitude
        fa, fb = fmt.exponent(a), fmt.exponent(b)
        za, zb = wire(m, fa == 0, "add_za"), wire(m, fb == 0, "add_zb")  # exponent 1 really
        # exp x - exp y beside the compare, from the raw fields (subnormals count as 1), each
        # candidate narrowed for the shifter: the difference, a field - 1, or 0
        dab = Mux(zb, Mux(za, 0, shift_amount(fa - 1, n)), shift_amount(fa - fb, n))
        dba = Mux(za, Mux(zb, 0, shift_amount(fb - 1, n)), shift_amount(fb - fa, n))
        opposite = ua.sign ^ ub.sign
        return {
            "valid": v["valid"],
            "sign": Mux(swap, ub.sign, ua.sign),
            "sub": opposite,
            "exp": Mux(swap, Cat(fb[0] | zb, fb[1:]), Cat(fa[0] | za, fa[1:])),  # biased, >= 1
            "diff": Mux(swap, dba, dab),
            "x": Mux(swap, ub.sig, ua.sig),
            "y": Mux(swap, ua.sig, ub.sig),
            "nan": ua.is_nan | ub.is_nan | (ua.is_inf & ub.is_inf & opposite),
            "inf": ua.is_inf | ub.is_inf,  # with the larger magnitude's sign
        }

    def _align(self, m: Module, v: dict[str, Value]) -> dict[str, Value]:
        y, lost = shift_right_sticky(Cat(Const(0, 3), v["y"]), v["diff"], m=m)
        keep = ("valid", "sign", "sub", "exp", "x", "nan", "inf")
        return {**_keep(v, *keep), "y": y | lost, **_limit_decode(v["exp"], self.fmt.man_bits + 5)}

    def _add(self, m: Module, v: dict[str, Value]) -> dict[str, Value]:
        x = Cat(Const(0, 3), v["x"])
        total = add_sub(x, v["y"], v["sub"], len(x) + 1)  # never negative
        keep = ("valid", "sign", "sub", "exp", "nan", "inf", "lim_ok", "lim_lo", "lim_hi")
        return {**_keep(v, *keep), "sum": total}

    def _count(self, m: Module, v: dict[str, Value]) -> dict[str, Value]:
        total = v["sum"]
        return {
            **_keep(v, "valid", "sign", "exp", "nan", "inf", "sum"),
            # min(leading zeros, exp): the shift stops where the exponent reaches 1
            "shift": leading_zeros(wire(m, total | _limit(v, len(total)), "add_limited")),
            # an exact zero: +0, or -0 when both addends are -0
            "zero": total == 0,
            "zero_sign": v["sign"] & ~v["sub"],
        }

    def _normalize(self, m: Module, v: dict[str, Value]) -> dict[str, Value]:
        return {
            **_keep(v, "valid", "sign", "nan", "inf", "zero", "zero_sign"),
            "sig": shift_left(v["sum"], v["shift"], m=m),
            "exp": v["exp"] + 1 - v["shift"],  # >= 1
        }

    def _round(self, m: Module, v: dict[str, Value]) -> dict[str, Value]:
        keep = ("valid", "sign", "exp", "nan", "inf", "zero", "zero_sign")
        return {**_keep(v, *keep), "rounded": round_significand(self.fmt, v["sig"], Const(0, 1))}

    def _pack(self, m: Module, v: dict[str, Value]) -> dict[str, Value]:
        fmt = self.fmt
        packed = pack_rounded(fmt, v["sign"], v["exp"], v["rounded"], ftz=self.ftz)
        special = Mux(
            v["nan"],
            fmt.qnan(),
            Mux(
                v["inf"],
                Cat(Const(fmt.inf(), fmt.width - 1), v["sign"]),
                Cat(Const(0, fmt.width - 1), v["zero_sign"]),
            ),
        )
        result = Mux(v["nan"] | v["inf"] | v["zero"], special, wire(m, packed, "add_packed"))
        return {"valid": v["valid"], "result": result}


def _limit_decode(exp: Value, n: int) -> dict[str, Value]:
    """``exp`` (unsigned) predecoded for :func:`_limit`: two one-hot halves of its low bits and
    ``lim_ok``, its higher bits all 0 (a decoder in one step maps badly onto 4-input LUTs)."""
    k = (n - 1).bit_length()
    h = k // 2
    lo, hi = exp[:h], exp[h:k]
    return {
        "lim_ok": exp[k:] == 0 if len(exp) > k else Const(1, 1),
        "lim_lo": Cat(*(lo == i for i in range(1 << h))),
        "lim_hi": Cat(*(hi == i for i in range(1 << (k - h)))),
    }


def _limit(v: dict[str, Value], n: int) -> Value:
    """``n`` bits with a single 1 at ``n - 1 - exp`` (none when ``exp >= n``), from the
    predecoded ``exp`` in ``v``: ORed into the sum, it stops the leading-zero count at ``exp``."""
    h = (len(v["lim_lo"]) - 1).bit_length()
    ones = [v["lim_ok"] & v["lim_lo"][e & ((1 << h) - 1)] & v["lim_hi"][e >> h] for e in range(n)]
    return Cat(*reversed(ones))


def _keep(v: dict[str, Value], *keys: str) -> dict[str, Value]:
    return {key: v[key] for key in keys}
