"""Floating-point multiply ``a * b`` (:class:`FloatMul`), built from the steps of
``_stages.py`` with the rounding tail of ``_round.py`` (:func:`~._round.tail_steps`).

Semantics: IEEE 754 multiplication in any :class:`FloatFormat`, round to nearest even,
subnormal inputs and results, signed zeros; ``inf * 0`` and every NaN operand give the
canonical quiet NaN. With ``ftz=True`` subnormal inputs read as zeros and subnormal results
become zeros (both of their own sign; a product that rounds up to the smallest normal number
stays), and the normalisation of a subnormal operand disappears.

Algorithm (``p = man_bits + 1`` significand bits), one :class:`Step` per line::

    unpack   flags; x = the subnormal operand if there is one (else b), y = the other;
             leading zeros of both significands (in parallel), x's count selected;
             c = the biased exponent of a product in [1, 2), minus 1, from the raw fields
    shift    x's significand shifted left by its leading zeros, c lowered by as much
    product  one ``*`` per pair of DSP-sized (18-bit) pieces of x and y: ONE ``*`` for
             float16 and bfloat16, four for float32, nine for float64, placed side by
             side where they do not overlap (float32: the two diagonal products form one
             term, the adder tree has three); meanwhile what c decides
             (:func:`_exponent_flags`): a subnormal result and its right shift, overflow,
             and the exponent field with the special results folded in
    sum<k>   the levels of an adder tree over those terms, narrowest first (none for one
             piece)
    denorm   the product's top p+2 bits (the significand and guard bit for either position
             of its top bit) shifted right into subnormal position, all levels but the
             last; a sticky bit of the bits below and of those shifted out
    round    the last level (the shift's bit 0, or the top bit: the normalisation), the
             increment (nearest, ties to even), then ONE addition rounds and packs:
             fraction and exponent field side by side, plus the exponent's last bits (the
             hidden bit and the top bit's weight) and the increment, whose carry reaches
             the next binade, the smallest normal number or infinity by itself

With ``ftz`` there is no ``unpack`` and ``shift``: the DSP blocks take the operands' fractions
as they come (hidden bit 1: a subnormal operand makes the result zero or NaN anyway), the
first adder level (or a ``flags`` step) takes c's decisions, and ``window`` replaces
``denorm``: the significand shifted right by the top bit, a result below half the smallest
normal number flushed, one just below it (its fraction all ones) rounded up to it.

The pieces are explicit because yosys splits a wider ``*`` into the same MULT18X18D blocks
itself and adds their products in the same cycle, without registers (ECP5 DSP registers are
not inferred): a float32 product then takes 12.5 ns (80 MHz), the blocks alone 8.4 ns.

When both operands are subnormal the product lies below half the smallest subnormal (every
format with ``bias >= man_bits + 2``: float16, bfloat16, float32, float64) and rounds to zero;
other formats normalise both operands.

Stages: ``latency`` registers go between the steps (the last one after the last step, so the
result comes from a register) where they minimise the longest estimated register-to-register
delay (``_stages.register_counts``); the default latency is the smallest whose every stage
fits ``_stages.BUDGET_NS`` (120 MHz on ECP5; the step delays are estimates calibrated with
nextpnr).
Default latencies: float16 5, bfloat16 5, float32 7, float64 8 (``ftz``: 4, 4, 5, 6): one
register per step, so the DSP blocks take their operands from a register and give their
products to one, and the step after them has room for the routing from the DSP column
(:data:`DSP_OUT_NS`). Any latency works, 0 included.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from amaranth.hdl import Cat, Const, Mux, Value

from ._format import FloatFormat
from ._round import (
    Unpacked,
    exp_width,
    field,
    leading_zeros,
    resize,
    shift_left,
    shift_right_sticky,
    unpack,
)
from ._stages import LUT_NS, State, Step, _Unit, carry_ns, flags_ns, levels, lzc_ns

__all__ = ["FloatMul"]

DSP_NS = 6.0  # through a MULT18X18D without its registers, with its routing
#: Routing from a MULT18X18D's outputs to the logic of the next stage: charged to that stage,
#: it keeps the registers after the DSP blocks free to sit next to them (with a long stage
#: after them nextpnr places them by that stage's logic, and the block's path fails).
DSP_OUT_NS = 2.0
DSP_WIDTH = 18  # operand bits of one DSP block


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
        pieces = sorted(((i, j) for i in cuts for j in cuts), key=sum)
        self.rows = product_rows(pieces, self.p)
        self.plan = adder_plan([row_span(row, self.p) for row in self.rows])
        self.k = (self.p + 2).bit_length()  # bits of the subnormal shift amount

    def steps(self) -> list[Step]:
        fmt, p = self.fmt, self.p
        if self.ftz:  # the DSP blocks take the operands as they come, the flags run beside
            steps = [Step("product", DSP_NS, self.product)]
        else:
            unpack_ns = max(flags_ns(fmt.man_bits), lzc_ns(p) + LUT_NS)
            steps = [Step("unpack", unpack_ns, self.unpack)]
            steps.append(Step("shift", LUT_NS * levels(p), self.shift))
            steps.append(Step("product", DSP_NS, self.product))
        # the step after the product: _exponent_flags there with ftz, the DSP output routing
        later_ns = DSP_OUT_NS + (3 * LUT_NS if self.ftz else 0.0)
        for groups, spans in self.plan:
            width = max(_chain(spans, group) for group in groups)
            run = partial(self.add_level, groups=groups, spans=spans)
            steps.append(Step(f"sum{len(steps)}", carry_ns(width) + later_ns, run))
            later_ns = 0.0
        round_ns = carry_ns(fmt.width - 1)
        if self.ftz:
            if not self.plan:  # the exponent's decisions in a step of their own
                steps.append(Step("flags", later_ns, self.flags))
            steps.append(Step("window", 5 * LUT_NS, self.window))
            return steps + [Step("round", round_ns, self.round)]
        steps.append(Step("denorm", later_ns + LUT_NS * (self.k + 1), self.denorm))
        return steps + [Step("round", 3 * LUT_NS + round_ns, self.round)]

    def unpack(self, s: State) -> State:
        """Flags; ``x`` the operand to normalise (a subnormal one), ``y`` the other, the
        leading zeros of ``x``; ``c``: the biased exponent of a product in [1, 2), minus 1."""
        fmt = self.fmt
        ua, ub = unpack(fmt, s["a"]), unpack(fmt, s["b"])
        out = _flags(fmt, ua, ub)
        out["c"] = resize(field(fmt, s["a"]) + field(fmt, s["b"]) - (fmt.bias + 1), exp_width(fmt))
        lza, lzb = leading_zeros(ua.sig), leading_zeros(ub.sig)
        if self.normalize_both:
            out["x"], out["y"], out["lz"], out["lzy"] = ua.sig, ub.sig, lza, lzb
        else:
            # both subnormal: the product rounds to zero (module docstring)
            out["zero"] = out["zero"] | (ua.is_subnormal & ub.is_subnormal)
            swap = fmt.exponent(s["a"]) == 0  # a zero a gives a zero product anyway
            out["x"], out["y"] = Mux(swap, ua.sig, ub.sig), Mux(swap, ub.sig, ua.sig)
            out["lz"] = Mux(swap, lza, lzb)
        return out

    def shift(self, s: State) -> State:
        """The significands normalised (``x``; both for ``normalize_both``)."""
        s = dict(s)
        lz = s.pop("lz")
        s["x"] = shift_left(s["x"], lz)
        if self.normalize_both:
            lzy = s.pop("lzy")
            s["y"], lz = shift_left(s["y"], lzy), lz + lzy
        s["c"] = resize(s["c"] - lz, exp_width(self.fmt))
        return s

    def product(self, s: State) -> State:
        """The partial products, one ``*`` per pair of DSP-sized pieces, packed into rows
        (:func:`product_rows`); beside them the exponent's decisions (:func:`_exponent_flags`),
        or with ``ftz`` the operands' flags and exponent sum (the decisions follow a step
        later)."""
        fmt = self.fmt
        if self.ftz:
            a, b = s["a"], s["b"]
            s = _flags(fmt, unpack(fmt, a, ftz=True), unpack(fmt, b, ftz=True))
            # a subnormal operand makes the result special: its hidden bit does not matter
            x, y = Cat(fmt.fraction(a), Const(1, 1)), Cat(fmt.fraction(b), Const(1, 1))
            c = resize(field(fmt, a) + field(fmt, b) - (fmt.bias + 1), exp_width(fmt))
        else:
            s = dict(s)
            x, y, c = s.pop("x"), s.pop("y"), s.pop("c")
        for k, row in enumerate(self.rows):
            s[f"t{k}"] = Cat(*_row_parts(x, y, row, self.p))
        if len(self.rows) == 1:
            s["product"] = s.pop("t0")[: 2 * self.p]
        s["c"] = c
        if not self.ftz:  # else in the next step: c is a carry chain after the inputs
            self.exponent_flags(s)
        return s

    def flags(self, s: State) -> State:
        """:func:`_exponent_flags` alone (``ftz`` with a single partial product)."""
        s = dict(s)
        self.exponent_flags(s)
        return s

    def exponent_flags(self, s: State) -> None:
        """Replace ``c`` in ``s`` by :func:`_exponent_flags` (once)."""
        if "c" in s:
            s.update(_exponent_flags(self.fmt, s, s.pop("c"), self.k, self.ftz))

    def add_level(
        self, s: State, groups: list[tuple[int, ...]], spans: list[tuple[int, int]]
    ) -> State:
        """One level of the adder tree: the terms ``t<k>`` (bit ranges ``spans``) summed in
        ``groups`` of one or two, which become the next level's terms."""
        s = dict(s)
        self.exponent_flags(s)
        terms = [(spans[k][0], s.pop(f"t{k}")) for k in range(len(spans))]
        for n, group in enumerate(groups):
            pair = [terms[k] for k in group]
            s[f"t{n}"] = add_weighted(*pair[0], *pair[1]) if len(pair) == 2 else pair[0][1]
        if len(groups) == 1:
            s["product"] = s.pop("t0")[: 2 * self.p]
        return s

    def _window(self, s: State) -> tuple[Value, Value, Value]:
        """``(top, window, sticky)``: the product's top bit, its top ``p + 2`` bits (the
        significand and guard bit for either value of ``top``) and whether a bit below is set."""
        p = self.p
        self.exponent_flags(s)
        prod = s.pop("product")
        return prod[2 * p - 1], prod[p - 2 : 2 * p], prod[: p - 2] != 0

    def window(self, s: State) -> State:
        """With ``ftz``: the significand shifted right by the top bit, and the addends of the
        rounding addition (:func:`_round_inputs`)."""
        s = dict(s)
        top, window, sticky = self._window(s)
        sig = Mux(top, window[1:], window[:-1])
        s["hidden"] = top & s.pop("m1")  # a small exponent is normal only as 1.x * 2**1
        m = self.fmt.man_bits  # whether the fraction is all ones, beside the shift
        s["ones"] = Mux(top, window[2 : m + 2].all(), window[1 : m + 1].all())
        return _round_inputs(self.fmt, s, sig, sticky | (top & window[0]), top, True)

    def denorm(self, s: State) -> State:
        """Without ``ftz``: the significand shifted right into subnormal position, all but the
        last level of the shifter (whose select ``sel``, the amount's bit 0 or else the top
        bit, waits for :meth:`round`); a zero or special result clears it."""
        s = dict(s)
        top, window, sticky = self._window(s)
        small, amount = s["small"], s.pop("amount")
        gone = s["zero"] | s["inf"]
        shifted, lost = shift_right_sticky(
            window, Cat(Const(0, 1), amount[1:] & small.replicate(self.k - 1))
        )
        s["w"] = shifted & (~gone).replicate(len(shifted))
        s["sticky"] = (sticky | lost) & ~gone
        s["sel"], s["top"] = Mux(small, amount[0], top), top
        return s

    def round(self, s: State) -> State:
        """Round and pack in one addition (:func:`_round_word`); without ``ftz`` first the last
        level of the subnormal shift."""
        s = dict(s)
        if not self.ftz:
            w, sel, p = s.pop("w"), s.pop("sel"), self.p
            sig = Mux(sel, w[1 : p + 2], w[: p + 1])
            s["hidden"] = sig[p]
            sticky = s.pop("sticky") | (sel & w[0])
            s = _round_inputs(self.fmt, s, sig, sticky, s.pop("top"), False)
        return {"result": _round_word(self.fmt, s)}


def _flags(fmt: FloatFormat, ua: Unpacked, ub: Unpacked) -> State:
    """The special cases of a product from the unpacked operands: ``sign``, ``nan``, ``big``
    (a NaN or infinite result) and ``zero`` (an operand zero)."""
    nan = ua.is_nan | ub.is_nan | (ua.is_inf & ub.is_zero) | (ua.is_zero & ub.is_inf)
    return {
        "sign": ua.sign ^ ub.sign,
        "nan": nan,
        "big": nan | ua.is_inf | ub.is_inf,
        "zero": ua.is_zero | ub.is_zero,
    }


def _exponent_flags(fmt: FloatFormat, s: State, c: Value, k: int, ftz: bool) -> State:
    """What the exponent ``c`` (the product's biased exponent minus 1 when its top bit is at
    ``2p - 2``) decides, beside the multiplication: ``small`` (``c < 0``: a subnormal result
    unless the top bit carries it to 1), ``amount`` (``-c``: the right shift into subnormal
    position, ``k`` bits, all ones when larger), ``edge`` (``c = exp_max - 2``: a set top bit
    overflows), ``e_base`` (the exponent field less the hidden bit: ``c``, 0 for a zero or
    small result, ``exp_max - 1`` for an infinite or NaN result or an overflow), ``inf``
    (those results), ``zero`` (a zero result), ``sign`` (0 for a NaN). With ``ftz``, ``m1``
    (``c = -1``) and ``gone0``/``gone1`` (flushed to zero for top bit 0/1: ``c <= -2``/``-3``)
    instead of ``amount``."""
    e = fmt.exp_bits
    small = c[-1]
    inf = s.pop("big") | ge_const(c, fmt.exp_max - 1)
    zero = s.pop("zero") & ~inf
    out = {
        "small": small,
        "edge": c == fmt.exp_max - 2,
        "e_base": Mux(inf, fmt.exp_max - 1, Mux(zero | small, 0, c[:e])),
        "inf": inf,
        "zero": zero,
        "sign": s.pop("sign") & ~s["nan"],
    }
    if ftz:
        m1, m2 = c == -1, c == -2
        out["m1"], out["gone0"], out["gone1"] = m1, small & ~m1, small & ~m1 & ~m2
    else:
        fits = c[k:].all() & (c[:k] != 0)  # -c < 2**k
        out["amount"] = (Const(0, k) - c[:k])[:k] | (~fits).replicate(k)
    return out


def _round_inputs(
    fmt: FloatFormat, s: State, sig: Value, sticky: Value, top: Value, ftz: bool
) -> State:
    """The addends of :func:`_round_word` from the significand ``sig`` (``p + 1`` bits:
    hidden bit, fraction, guard bit; ``sticky`` below), the product's ``top`` bit, ``hidden``
    (the bit in the hidden position after a subnormal shift) and :func:`_exponent_flags`:
    ``frac`` (zero for a special or flushed result, a NaN's quiet bit), ``e_base``, ``b``
    (2 bits: 1 + top for a normal exponent, the hidden bit for a small one, 1 for infinity and
    NaN, 0 for zero) and ``inc``, the rounding increment (nearest even; with ``ftz`` forced to
    1 for a result just below the smallest normal number that rounds to it at subnormal
    precision)."""
    m = fmt.man_bits
    frac, guard = sig[1 : m + 1], sig[0]
    small, inf, zero, hidden = s.pop("small"), s.pop("inf"), s.pop("zero"), s.pop("hidden")
    kill = s.pop("edge") & top  # overflow by the top bit
    if ftz:  # (else the denormalisation cleared the significand of a special result)
        kill = kill | zero | inf
    inc = guard & (sticky | frac[0])
    if ftz:
        gone = Mux(top, s.pop("gone1"), s.pop("gone0"))  # below half the smallest normal
        edge = small & ~gone & ~hidden  # rounds to the smallest normal number or to zero
        ones = s.pop("ones")
        kill = kill | gone | (edge & ~ones)
        inc = inc | (edge & ones)
    b0 = inf | (~zero & Mux(small, hidden, ~top))
    b1 = ~inf & ~zero & ~small & top
    frac = Mux(kill, 0, frac) | Cat(Const(0, m - 1), s.pop("nan"))
    return {**s, "frac": frac, "b": Cat(b0, b1), "inc": inc & ~kill}


def _round_word(fmt: FloatFormat, s: State) -> Value:
    """Round and pack in one addition: the fraction ``frac`` and the exponent field, which is
    ``e_base`` plus ``b`` (the hidden bit and the top bit's weight), plus the increment
    ``inc``, whose carry moves the result into the next binade or to infinity by itself; the
    ``sign`` above."""
    word = Cat(s["frac"], s["e_base"]) + Cat(Const(0, fmt.man_bits), s["b"]) + s["inc"]
    return Cat(word[: fmt.width - 1], s["sign"])


def product_rows(pieces: Sequence[tuple[int, int]], p: int) -> list[list[tuple[int, int]]]:
    """The partial products of ``pieces`` (``(i, j)``: the DSP-sized pieces of the two
    ``p``-bit significands from bits ``i`` and ``j`` on, in order of weight) in rows whose
    products do not overlap (first fit): each row is one term of the adder tree."""
    rows: list[list[tuple[int, int]]] = []
    for piece in pieces:
        for row in rows:
            if row_span(row, p)[1] <= sum(piece):
                row.append(piece)
                break
        else:
            rows.append([piece])
    return rows


def row_span(row: Sequence[tuple[int, int]], p: int) -> tuple[int, int]:
    """The bit range ``(low, high)`` of a row of partial products."""
    i, j = row[-1]
    return sum(row[0]), i + j + _piece(i, p) + _piece(j, p)


def ge_const(v: Value, k: int) -> Value:
    """``v >= k`` for a signed ``v`` and a constant ``k >= 0``, as bit tests (no carry chain)."""
    v = Value.cast(v)
    return ~v[-1] & _ge_bits(v[:-1], k)


def _ge_bits(u: Value, k: int) -> Value:
    """``u >= k`` for an unsigned ``u``, from the top bit down."""
    if k >= 1 << len(u):
        return Const(0, 1)
    if len(u) == 0 or k == 0:
        return Const(1, 1)
    top, rest, half = u[-1], u[:-1], 1 << (len(u) - 1)
    return top & _ge_bits(rest, k - half) if k >= half else top | _ge_bits(rest, k)


def _piece(i: int, p: int) -> int:
    return min(DSP_WIDTH, p - i)


def _row_parts(x: Value, y: Value, row: Sequence[tuple[int, int]], p: int) -> list[Value]:
    """The products of ``row`` with the zero bits between them, lowest first."""
    parts, at = [], sum(row[0])
    for i, j in row:
        parts += [Const(0, i + j - at), x[i : i + DSP_WIDTH] * y[j : j + DSP_WIDTH]]
        at = i + j + _piece(i, p) + _piece(j, p)
    return parts


def adder_plan(spans: list[tuple[int, int]]) -> list[tuple[list[tuple[int, ...]], list]]:
    """The levels of the adder tree over terms with bit ranges ``spans``: per level, the groups
    (one or two term indices; the narrowest terms are paired first, which keeps the carry
    chains short) and the spans of its terms."""
    plan = []
    while len(spans) > 1:
        order = sorted(range(len(spans)), key=lambda k: (spans[k][1] - spans[k][0], k))
        groups = [tuple(order[n : n + 2]) for n in range(0, len(order), 2)]
        plan.append((groups, spans))
        spans = [(min(spans[k][0] for k in g), max(spans[k][1] for k in g)) for g in groups]
    return plan


def _chain(spans: list[tuple[int, int]], group: tuple[int, ...]) -> int:
    """Bits of the carry chain that adds the terms of ``group``."""
    if len(group) < 2:
        return 0
    return max(spans[k][1] for k in group) - max(spans[k][0] for k in group)


def add_weighted(wa: int, a: Value, wb: int, b: Value) -> Value:
    """``a * 2**wa + b * 2**wb`` as a value of weight ``min(wa, wb)``; the low bits of the lower
    term pass by the adder."""
    if wa > wb:
        wa, a, wb, b = wb, b, wa, a
    low = wb - wa
    if low >= len(a):
        return Cat(a, Const(0, low - len(a)), b)
    return Cat(a[:low], a[low:] + b)
