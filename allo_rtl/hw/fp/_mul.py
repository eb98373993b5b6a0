"""Floating-point multiply ``a * b`` (:class:`FloatMul`), and the pipeline machinery the
arithmetic units of this package share (:class:`Step`, :func:`build_stages`, the rounding
tail :func:`tail_steps`).

Semantics: IEEE 754 multiplication in any :class:`FloatFormat`, round to nearest even,
subnormal inputs and results, signed zeros; ``inf * 0`` and every NaN operand give the
canonical quiet NaN. With ``ftz=True`` subnormal inputs read as zeros and subnormal results
become zeros (both of their own sign; a product that rounds up to the smallest normal number
stays), and the normalisation of a subnormal operand disappears.

Algorithm (``p = man_bits + 1`` significand bits), one :class:`Step` per line::

    unpack   flags; x = the subnormal operand if there is one (else b), y = the other;
             leading zeros of both significands (in parallel), x's count selected;
             biased exponent of the product (for a product below 2) from the raw fields
    shift    x's significand shifted left by its leading zeros       (not with ftz)
    product  one ``*`` per pair of DSP-sized (18-bit) pieces of x and y: ONE ``*`` for
             float16 and bfloat16, four for float32, nine for float64; meanwhile the
             subnormal shift amounts for both positions of the product's top bit, with
             the special results folded in (:func:`exponent_tail`)
    sum<k>   the levels of an adder tree over the partial products (none for one piece)
    narrow   the 2p-bit product has its top bit at 2p-1 or 2p-2: the p+1 bits from there
             and a sticky bit of the rest; the matching shift amount
    denorm   shift into subnormal position (``_round.shift_right_sticky``)
    round    ``_round.round_pack_biased`` (a NaN gets its quiet bit)

The pieces are explicit because yosys splits a wider ``*`` into the same MULT18X18D blocks
itself and adds their products in the same cycle, without registers (ECP5 DSP registers are
not inferred): a float32 product then takes 12.5 ns (80 MHz), the blocks alone 8.4 ns.

When both operands are subnormal the product lies below half the smallest subnormal (every
format with ``bias >= man_bits + 2``: float16, bfloat16, float32, float64) and rounds to zero;
other formats normalise both operands.

Stages: ``latency`` registers go between the steps (the last one after the last step, so the
result comes from a register) where they minimise the longest estimated register-to-register
delay (:func:`register_counts`); the default latency is the smallest whose every stage fits
:data:`BUDGET_NS` (120 MHz on ECP5; the step delays are estimates calibrated with nextpnr).
Default latencies: float16 6, bfloat16 6, float32 7, float64 9 (``ftz``: 4, 4, 5, 8); float32
is unpack | shift | product | sum | sum + narrow | denorm | round, so the DSP blocks take their
operands from a register and give their products to one. Any latency works, 0 included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ._format import FloatFormat
from ._round import leading_zeros, round_pack_biased, shift_left, shift_right_sticky, unpack

__all__ = [
    "BUDGET_NS",
    "FloatMul",
    "Step",
    "build_stages",
    "default_latency",
    "register_counts",
    "tail_steps",
]

#: Estimated logic delay (ns) one pipeline stage may hold: a 120 MHz period (8.33 ns) on ECP5
#: less about 2 ns of clock-to-output, setup and routing into the stage (nextpnr, 85F -6).
BUDGET_NS = 6.0
LUT_NS = 0.9  # one LUT level and its routing
DSP_NS = 6.0  # through a MULT18X18D without its registers, with its routing
DSP_WIDTH = 18  # operand bits of one DSP block

State = dict[str, Value]


def carry_ns(width: int) -> float:
    """Estimated delay of a ``width``-bit add or compare on a carry chain."""
    return 1.3 + 0.04 * width


def levels(n: int) -> int:
    """``ceil(log2(n))``: the depth of a balanced tree over ``n`` leaves."""
    return max(n - 1, 0).bit_length()


@dataclass(frozen=True)
class Step:
    """A combinational piece of a unit's datapath: ``run`` maps the values live before it to
    the values live after it (``valid`` is carried by :func:`build_stages`)."""

    name: str
    delay: float
    run: Callable[[State], State]


def register_counts(delays: Sequence[float], latency: int, budget: float = BUDGET_NS) -> list[int]:
    """How many registers follow each step: ``latency`` in all, the last step always followed
    by one. The registers split the steps into stages whose largest delay is as small as it
    can be; among such splits, the one with the least total delay beyond ``budget``."""
    n = len(delays)
    if latency <= 0:
        return [0] * n
    if latency >= n:
        return [1] * (n - 1) + [latency - n + 1]
    prefix = [0.0]
    for d in delays:
        prefix.append(prefix[-1] + d)
    limit, _ = _partition(prefix, latency, lambda d: d, max)

    def excess(d: float) -> float:
        return max(0.0, d - budget) if d <= limit + 1e-9 else float("inf")

    _, cuts = _partition(prefix, latency, excess, lambda a, b: a + b)
    counts = [0] * n
    for j in cuts:
        counts[j - 1] = 1
    return counts


def _partition(
    prefix: list[float],
    groups: int,
    cost: Callable[[float], float],
    combine: Callable[[float, float], float],
) -> tuple[float, tuple[int, ...]]:
    """The split of the steps (``prefix``: running sums of their delays) into ``groups``
    runs that minimises ``combine`` over the runs' ``cost`` (of their delay): (the minimum,
    the end positions of the runs)."""
    n = len(prefix) - 1
    best: dict[int, tuple[float, tuple[int, ...]]] = {0: (0.0, ())}
    for k in range(1, groups + 1):
        best = {
            j: min(
                (combine(value, cost(prefix[j] - prefix[i])), cuts + (j,))
                for i, (value, cuts) in best.items()
                if i < j
            )
            for j in range(k, n - groups + k + 1)
        }
    return best[n]


def default_latency(delays: Sequence[float], budget: float = BUDGET_NS) -> int:
    """The fewest stages whose delays each fit ``budget`` (a longer step is a stage alone)."""
    stages, current = 0, None
    for d in delays:
        if current is None or current + d > budget:
            stages, current = stages + 1, d
        else:
            current += d
    return stages


def build_stages(
    m: Module, steps: Sequence[Step], state: State, valid: Value, latency: int
) -> tuple[State, Value]:
    """Run ``steps`` on ``state`` with ``latency`` registers placed by :func:`register_counts`;
    ``valid`` goes through the same registers. Returns the final state and valid."""
    counts = register_counts([s.delay for s in steps], latency)
    for step, count in zip(steps, counts):
        # one submodule per step, its outputs named wires or registers: the simulator then
        # evaluates each step once per change of its inputs, and shared subexpressions once
        sub = m.submodules[step.name] = Module()
        state = step.run(state)
        if count == 0:
            state = {key: _signal(sub.d.comb, v, f"{key}_{step.name}") for key, v in state.items()}
        for k in range(count):
            suffix = f"{step.name}{k}" if count > 1 else step.name
            state = {key: _signal(sub.d.sync, v, f"{key}_{suffix}") for key, v in state.items()}
            valid = _signal(sub.d.sync, valid, f"valid_{suffix}")
    return state, valid


def _signal(domain, v: Value, name: str) -> Signal:
    sig = Signal(Value.cast(v).shape(), name=name)
    domain += sig.eq(v)
    return sig


class _Unit(wiring.Component):
    """A unit of ``steps``: ports ``a`` (and ``b``), ``valid_in``, ``result``, ``valid_out``;
    ``latency`` (``None``: :attr:`default`) registers."""

    def __init__(self, steps: list[Step], width: int, operands: str, latency: int | None):
        self.steps = steps
        self.default = default_latency([s.delay for s in steps])
        self.latency = self.default if latency is None else latency
        if self.latency < 0:
            self._MustUse__silence = True  # never built: no "unused elaboratable" warning
            raise ValueError(f"{type(self).__name__}: latency {self.latency} < 0")
        ports = {name: In(width) for name in operands}
        super().__init__({**ports, "valid_in": In(1), "result": Out(width), "valid_out": Out(1)})
        self.operands = operands

    def elaborate(self, platform: object) -> Module:
        m = Module()
        state = {name: getattr(self, name) for name in self.operands}
        out, valid = build_stages(m, self.steps, state, self.valid_in, self.latency)
        m.d.comb += [self.result.eq(out["result"]), self.valid_out.eq(valid)]
        return m


class FloatMul(_Unit):
    """``result = a * b`` in ``fmt``, ``latency`` cycles after the operands (module docstring).

    ``latency=None`` takes :attr:`default`; any latency from 0 (combinational) up gives the
    same results."""

    def __init__(self, fmt: FloatFormat, *, latency: int | None = None, ftz: bool = False):
        self.fmt, self.ftz = fmt, ftz
        super().__init__(_MulSteps(fmt, ftz).steps(), fmt.width, "ab", latency)


class _MulSteps:
    """The steps of :class:`FloatMul` for one format."""

    def __init__(self, fmt: FloatFormat, ftz: bool) -> None:
        self.fmt, self.ftz, self.p = fmt, ftz, fmt.man_bits + 1
        self.normalize_both = fmt.bias < fmt.man_bits + 2
        cuts = range(0, self.p, DSP_WIDTH)
        self.pieces = sorted(((i, j) for i in cuts for j in cuts), key=sum)

    def steps(self) -> list[Step]:
        fmt, p = self.fmt, self.p
        flags_ns = LUT_NS * (levels(fmt.man_bits) // 2 + 2)
        steps = [Step("unpack", flags_ns + (0 if self.ftz else lzc_ns(p)), self.unpack)]
        if not self.ftz:
            steps.append(Step("shift", LUT_NS * levels(p), self.shift))
        steps.append(Step("product", DSP_NS, self.product))
        weights = [i + j for i, j in self.pieces]
        while len(weights) > 1:
            run = partial(self.add_level, weights=list(weights))
            width = 2 * p - min(weights[1:])
            steps.append(Step(f"sum{len(steps)}", carry_ns(width), run))
            weights = [min(weights[k : k + 2]) for k in range(0, len(weights), 2)]
        steps.append(Step("narrow", 2 * LUT_NS, self.narrow))
        return steps + tail_steps(fmt, self.ftz, p + 1)

    def unpack(self, s: State) -> State:
        fmt, ftz = self.fmt, self.ftz
        ua, ub = unpack(fmt, s["a"], ftz=ftz), unpack(fmt, s["b"], ftz=ftz)
        swap = ua.is_subnormal  # x: the operand to normalise (b when a is not subnormal)
        # both subnormal: the product rounds to zero (module docstring) unless normalize_both
        tiny = Const(0) if self.normalize_both else ua.is_subnormal & ub.is_subnormal
        s = {
            "sign": ua.sign ^ ub.sign,
            "nan": ua.is_nan | ub.is_nan | (ua.is_inf & ub.is_zero) | (ua.is_zero & ub.is_inf),
            "inf": ua.is_inf | ub.is_inf,
            "zero": ua.is_zero | ub.is_zero | tiny,
            "x": significand(fmt, s["a"]) if ftz else Mux(swap, ua.sig, ub.sig),
            "y": significand(fmt, s["b"]) if ftz else Mux(swap, ub.sig, ua.sig),
            # biased exponent of the product when it lies in [1, 2)
            "biased": resize(field(fmt, s["a"]) + field(fmt, s["b"]) - fmt.bias, exp_width(fmt)),
        }
        if not ftz:
            s["lzx"] = Mux(swap, leading_zeros(ua.sig), leading_zeros(ub.sig))
            if self.normalize_both:
                s["lzy"] = Mux(swap, leading_zeros(ub.sig), leading_zeros(ua.sig))
        return s

    def shift(self, s: State) -> State:
        s = dict(s)
        lz = s.pop("lzx")
        s["x"] = shift_left(s["x"], lz)
        if self.normalize_both:
            lzy = s.pop("lzy")
            s["y"], lz = shift_left(s["y"], lzy), lz + lzy
        s["biased"] = resize(s["biased"] - lz, exp_width(self.fmt))
        return s

    def product(self, s: State) -> State:
        """The partial products ``t0, t1, ...`` (in order of weight): one ``*`` per pair of
        DSP-sized pieces of the significands. Meanwhile the subnormal shift for both positions
        of the product's top bit."""
        s, fmt = dict(s), self.fmt
        x, y, biased = s.pop("x"), s.pop("y"), s.pop("biased")
        for k, (i, j) in enumerate(self.pieces):
            s[f"t{k}"] = x[i : i + DSP_WIDTH] * y[j : j + DSP_WIDTH]
        if len(self.pieces) == 1:
            s["product"] = s.pop("t0")
        for top, b in enumerate((biased, biased + 1)):
            for key, v in exponent_tail(fmt, s, b, self.p + 1, self.ftz).items():
                s[f"{key}{top}"] = v
        s["sign"], s["big"] = s.pop("sign0"), s.pop("big0")
        del s["sign1"], s["big1"], s["inf"], s["zero"]
        return s

    def add_level(self, s: State, weights: list[int]) -> State:
        """One level of the adder tree over the partial products (terms in weight order)."""
        s = dict(s)
        terms = [(w, s.pop(f"t{k}")) for k, w in enumerate(weights)]
        for k in range(0, len(terms), 2):
            pair = terms[k : k + 2]
            s[f"t{k // 2}"] = add_weighted(*pair[0], *pair[1]) if len(pair) == 2 else pair[0][1]
        if len(terms) <= 2:
            s["product"] = s.pop("t0")[: 2 * self.p]
        return s

    def narrow(self, s: State) -> State:
        s, p = dict(s), self.p
        prod = s.pop("product")
        top = prod[2 * p - 1]
        s["sig"] = Mux(top, prod[p - 1 : 2 * p], prod[p - 2 : 2 * p - 1])
        s["sticky"] = (prod[: p - 2] != 0) | (prod[p - 2] & top)
        for key in ("amount", "biased", "zero"):
            s[key] = Mux(top, s.pop(f"{key}1"), s.pop(f"{key}0"))
        return s


def significand(fmt: FloatFormat, v: Value) -> Value:
    """The significand of encoding ``v`` with its hidden bit, as it is: what the units read with
    ``ftz``, where a subnormal operand makes the result special (zero, infinite or NaN) and its
    significand does not matter, so it needs no gate (``_round.unpack`` gates it to 0)."""
    return Cat(fmt.fraction(v), fmt.exponent(v) != 0)


def field(fmt: FloatFormat, v: Value) -> Value:
    """The biased exponent field of encoding ``v``, 1 for zeros and subnormals (unsigned)."""
    e = fmt.exponent(v)
    return Cat(e[0] | (e == 0), e[1:])


def exp_width(fmt: FloatFormat) -> int:
    """Bits of a signed (biased or unbiased) exponent that holds the sum or difference of two
    normalised operand exponents (down to ``1 - bias - man_bits``) with room to spare."""
    return (2 * (fmt.exp_max + fmt.man_bits + 2)).bit_length() + 1


def lzc_ns(width: int) -> float:
    """Estimated delay of ``_round.leading_zeros`` over ``width`` bits."""
    return 0.7 * levels(width) + LUT_NS


def resize(v: Value, width: int) -> Value:
    """``v`` as a signed value of ``width`` bits, extended by its own signedness or cut (the
    caller knows it fits)."""
    v = Value.cast(v)
    if not v.shape().signed:
        v = Cat(v, Const(0, 1))
    v = v.as_signed()
    if len(v) >= width:
        return v[:width].as_signed()
    return Cat(v, v[-1].replicate(width - len(v))).as_signed()


def add_weighted(wa: int, a: Value, wb: int, b: Value) -> Value:
    """``a * 2**wa + b * 2**wb`` as a value of weight ``min(wa, wb)``; the low bits of the lower
    term pass by the adder."""
    if wa > wb:
        wa, a, wb, b = wb, b, wa, a
    low = wb - wa
    if low >= len(a):
        return Cat(a, Const(0, low - len(a)), b)
    return Cat(a[:low], a[low:] + b)


def exponent_tail(
    fmt: FloatFormat, s: State, biased: Value, width: int, ftz: bool, shift: bool = True
) -> State:
    """The exponent half of ``_round.round_pack`` for a ``width``-bit significand whose top bit
    weighs ``2**(biased - bias)``, and the special results folded into the rounding's inputs,
    computed early, beside slower logic. From the flags of ``s`` (``sign``, ``nan``, ``inf``,
    ``zero``): ``amount``, the right shift into subnormal position (``width``, everything, for
    a zero result; absent with ``shift=False``); ``biased`` as ``round_pack_biased`` takes it
    (at least 1; an overflowing exponent for NaN and infinite results, ``big``); ``zero``, a
    zero result (also one that ``ftz`` flushes whatever the rounding: below half the smallest
    normal); ``sign`` (0 for a NaN). The caller drops ``inf``; :func:`tail_steps` does the
    rest."""
    small = biased < 1
    big = s["nan"] | s["inf"]
    zero = (s["zero"] | (biased < 0 if ftz else 0)) & ~big
    out = {
        "biased": Mux(big, fmt.exp_max + 1, Mux(small | zero, 1, biased))[: exp_width(fmt)],
        "zero": zero,
        "big": big,
        "sign": s["sign"] & ~s["nan"],
    }
    if shift and ftz:
        out["amount"] = small
    elif shift:
        amount = Mux(small, Mux(biased < 1 - width, width, 1 - biased), 0)
        out["amount"] = Mux(zero, width, amount)[: width.bit_length()]
    return out


def tail_steps(
    fmt: FloatFormat,
    ftz: bool,
    width: int,
    *,
    shift: bool = True,
    before: Callable[[State], State] | None = None,
    before_ns: float = 0.0,
) -> list[Step]:
    """The rounding tail of a unit, ``_round.round_pack`` in two steps. ``denorm`` runs
    ``before`` (the unit's last computation, e.g. a sticky bit beside the shift) and shifts the
    significand into subnormal position (``shift=False``: the caller's results are never
    subnormal); ``round`` rounds and packs (``_round.round_pack_biased``) and sets the quiet
    bit of a NaN. The state holds ``sig`` (``width`` bits, top bit set or ``biased == 1``),
    ``sticky``, ``nan`` and :func:`exponent_tail`'s values; it becomes ``result``."""

    def denorm(s: State) -> State:
        s = dict(before(s) if before else s)
        zero, big = s.pop("zero"), s.pop("big")
        if not shift or ftz:  # a one-bit shift at most: the gate shares its LUT
            s["sig"] = Mux(zero, 0, s["sig"])
        if shift:
            s["sig"], lost = shift_right_sticky(s["sig"], s.pop("amount"))
            s["sticky"] = s["sticky"] | lost
        # a NaN or infinity (whatever the significand, e.g. 0 * NaN) overflows
        s["sig"] = s["sig"] | Cat(Const(0, width - 1), big)
        s["sticky"] = s["sticky"] & ~zero
        return s

    def pack(s: State) -> State:
        rounded = round_pack_biased(fmt, s["sign"], s["biased"], s["sig"], s["sticky"], ftz=ftz)
        return {"result": rounded | Cat(Const(0, fmt.man_bits - 1), s["nan"])}

    shift_ns = LUT_NS * (1 if ftz else width.bit_length()) if shift else 0.0
    pack_ns = 2 * LUT_NS + carry_ns(fmt.man_bits + 2) + carry_ns(fmt.width)
    return [
        Step("denorm", max(before_ns, shift_ns) + LUT_NS, denorm),
        Step("round", pack_ns, pack),
    ]
