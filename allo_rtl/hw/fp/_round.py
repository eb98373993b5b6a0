"""Shared combinational helpers of the floating-point units: unpack, normalize, round, pack;
and the rounding tail of the pipelined units (:func:`exponent_tail`, :func:`tail_steps`).

Every function here builds combinational logic only; the units place their pipeline registers
around the calls. Most return a plain Amaranth expression; the shifters optionally take the
unit's ``Module`` to name each of their steps as a signal (:func:`wire`), which keeps Amaranth's
simulator fast (it copies a shared subexpression into every use and re-runs a module's whole
combinational code once per link of a chain of its signals).

Conventions: an *unbiased* exponent ``e`` and a significand ``sig`` of ``n`` bits denote the
value ``sig / 2**(n - 1) * 2**e``, i.e. the top bit of ``sig`` weighs ``2**e``. Exponents are
signed Values; Amaranth widens arithmetic, so no intermediate overflows.

Rounding is IEEE 754 round to nearest, ties to even, with gradual underflow (subnormal
results) unless ``ftz``. With ``ftz=True`` a result is computed as without it and a subnormal
result is then replaced by the zero of the same sign (a value that rounds up to the smallest
normal number stays that number). Overflow gives the infinity of the result's sign (always the
case under round to nearest).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value

from ._format import FloatFormat
from ._stages import LUT_NS, State, Step, carry_ns

__all__ = [
    "Denormalized",
    "Unpacked",
    "add_sub",
    "denormalize",
    "exp_width",
    "exponent_tail",
    "field",
    "leading_zeros",
    "normalize",
    "pack_rounded",
    "resize",
    "round_pack",
    "round_pack_biased",
    "round_significand",
    "shift_amount",
    "shift_left",
    "shift_right_sticky",
    "significand",
    "tail_steps",
    "unpack",
    "wire",
]


def _lzc_tree(v: Value) -> tuple[Value, Value]:
    """``(all_zero, count)`` for ``v`` of a power-of-two width ``2**k``: ``count`` (``k`` bits)
    is the leading-zero count whenever ``all_zero`` is 0."""
    if len(v) == 1:
        return ~v[0], Const(0, 0)
    half = len(v) // 2
    zh, ch = _lzc_tree(v[half:])
    zl, cl = _lzc_tree(v[:half])
    return zh & zl, Cat(Mux(zh, cl, ch), zh)


def leading_zeros(v: Value) -> Value:
    """The number of leading zero bits of ``v`` (``len(v)`` when ``v == 0``), unsigned, as a
    balanced tree of ``log2(len(v))`` levels."""
    v = Value.cast(v)
    n = len(v)
    if n == 0:
        return Const(0, 1)
    k = (n - 1).bit_length()
    padded = Cat(Const((1 << ((1 << k) - n)) - 1, (1 << k) - n), v)  # ones below: count <= n
    zero, count = _lzc_tree(padded)
    return Mux(zero, n, count)


def shift_amount(amount: Value, n: int) -> Value:
    """``amount`` narrowed to ``n.bit_length()`` bits for a shifter of ``n`` bits: any higher
    bit set gives all ones, a shift by at least ``n`` like the original. (Doing this a pipeline
    stage ahead keeps the logic out of every mux of the shifter.)"""
    amount = Value.cast(amount)
    k = n.bit_length()
    if len(amount) <= k:
        return amount
    return amount[:k] | (amount[k:] != 0).replicate(k)


def _shift_steps(amount: Value, n: int) -> list[tuple[int, Value]]:
    """``(step, bit)`` pairs of a logarithmic shifter of ``n`` bits by ``amount``, largest step
    first (``amount`` narrowed by :func:`shift_amount`)."""
    amount = shift_amount(amount, n)
    return [(1 << j, amount[j]) for j in reversed(range(len(amount)))]


def shift_left(v: Value, amount: Value, *, m: Module | None = None) -> Value:
    """``v << amount`` truncated to ``len(v)`` bits; ``amount`` unsigned, any width. With a
    module ``m`` every step of the shifter is a combinational signal of ``m`` (the same logic;
    the simulator then shares each step instead of copying it into both mux inputs)."""
    v = Value.cast(v)
    n = len(v)
    for step, bit in _shift_steps(amount, n):
        v = _net(m, Mux(bit, Cat(Const(0, min(step, n)), v[: max(n - step, 0)]), v), "shl")
    return v


def shift_right_sticky(v: Value, amount: Value, *, m: Module | None = None) -> tuple[Value, Value]:
    """``(v >> amount, sticky)``: the logical right shift (same width as ``v``) and a 1-bit
    ``sticky``, 1 exactly when a 1 bit was shifted out. ``amount`` is unsigned, any width.
    Every step of the shifter ORs the bits it drops into ``sticky``; ``m`` as for
    :func:`shift_left`."""
    v = Value.cast(v)
    n = len(v)
    sticky = Const(0, 1)
    for step, bit in _shift_steps(amount, n):
        sticky = sticky | (bit & (v[: min(step, n)] != 0))
        v = _net(m, Mux(bit, Cat(v[step:], Const(0, min(step, n))), v), "shr")
    return v, sticky


def add_sub(x: Value, y: Value, sub: Value, width: int) -> Value:
    """``x - y`` when ``sub`` else ``x + y``, modulo ``2**width``, as one adder (``y`` inverted
    and a carry in when subtracting; a ``Mux`` of a sum and a difference would build two).
    ``x`` and ``y`` are unsigned, at most ``width`` bits."""
    y = Value.cast(y)
    inverted = Cat(y, Const(0, width - len(y))) ^ Value.cast(sub).replicate(width)
    return (Value.cast(x) + inverted + sub)[:width]


def _net(m: Module | None, value: Value, name: str) -> Value:
    """``value`` itself without a module, else :func:`wire`."""
    return value if m is None else wire(m, value, name)


def wire(m: Module, value: Value, name: str) -> Signal:
    """A signal ``name`` driven combinationally by ``value``, in a submodule of ``m`` of its own.

    The same logic either way; for Amaranth's simulator the signal shares ``value`` instead of
    copying it into every use, and its own small fragment is re-evaluated only when its inputs
    change (one fragment for many chained signals would be re-run once per link)."""
    value = Value.cast(value)
    sig = Signal(value.shape(), name=name)
    sub = Module()
    sub.d.comb += sig.eq(value)
    m.submodules += sub
    return sig


def normalize(sig: Value, exp: Value) -> tuple[Value, Value]:
    """``(sig << lz, exp - lz)`` with ``lz = leading_zeros(sig)``: the shifted significand has
    the width of ``sig`` and its top bit set (``sig == 0`` stays 0, and the exponent then drops
    by ``len(sig)``); the exponent is signed and one bit wider than needed, so it never
    overflows. The value ``sig / 2**(len(sig)-1) * 2**exp`` is unchanged for nonzero ``sig``."""
    sig = Value.cast(sig)
    lz = leading_zeros(sig)
    return shift_left(sig, lz), Value.cast(exp) - lz


class Unpacked(NamedTuple):
    """An encoded value split into fields (see :func:`unpack`)."""

    sign: Value
    exp: Value
    sig: Value
    is_zero: Value
    is_inf: Value
    is_nan: Value
    is_subnormal: Value


def unpack(fmt: FloatFormat, v: Value, *, ftz: bool = False) -> Unpacked:
    """Split the ``fmt.width``-bit encoding ``v``: ``sign`` (1 bit); ``exp`` the unbiased
    exponent, signed ``exp_bits + 1`` bits (biased exponent minus bias; zeros and subnormals
    get ``1 - bias``); ``sig`` the ``man_bits + 1``-bit significand with the hidden bit (1 for
    normal numbers, 0 for zeros and subnormals), so a finite value is
    ``(-1)**sign * sig / 2**man_bits * 2**exp``; flags ``is_zero``, ``is_inf``, ``is_nan``,
    ``is_subnormal``. With ``ftz`` a subnormal reads as the zero of its sign: ``sig`` 0,
    ``is_zero`` 1, ``is_subnormal`` 0. Infinities and NaNs keep hidden bit 1 and their
    fraction, exponent ``exp_max - bias``."""
    v = Value.cast(v)
    field, frac = fmt.exponent(v), fmt.fraction(v)
    denormal = field == 0
    frac_zero = frac == 0
    special = field == fmt.exp_max
    exp = (Mux(denormal, 1, field) - fmt.bias)[: fmt.exp_bits + 1].as_signed()
    flushed = denormal if ftz else Const(0, 1)
    sig = Mux(flushed, 0, Cat(frac, ~denormal))
    return Unpacked(
        sign=fmt.sign(v),
        exp=exp,
        sig=sig,
        is_zero=denormal & (frac_zero | flushed),
        is_inf=special & frac_zero,
        is_nan=special & ~frac_zero,
        is_subnormal=denormal & ~frac_zero & ~flushed,
    )


def _pad_low(sig: Value, width: int) -> Value:
    """``sig`` with zero bits appended below until it is at least ``width`` bits wide."""
    sig = Value.cast(sig)
    return Cat(Const(0, width - len(sig)), sig) if len(sig) < width else sig


def round_significand(fmt: FloatFormat, sig: Value, sticky: Value) -> Value:
    """The top ``man_bits + 1`` bits of ``sig`` rounded to nearest even, as ``man_bits + 2``
    bits: the bits below them and ``sticky`` (a positive amount below ``sig``'s last bit) decide
    the rounding; a set top bit means the carry-out (the significand became 2.0)."""
    p = fmt.man_bits + 1
    sig = _pad_low(sig, p + 2)
    w = len(sig)
    mant = sig[w - p :]
    guard = sig[w - p - 1]
    rest = (sig[: w - p - 1] != 0) | sticky
    return mant + (guard & (rest | mant[0]))


def pack_rounded(
    fmt: FloatFormat, sign: Value, biased_exp: Value, rounded: Value, *, ftz: bool = False
) -> Value:
    """The ``fmt.width``-bit encoding of ``(-1)**sign * rounded / 2**man_bits *
    2**(biased_exp - bias)`` for ``rounded`` from :func:`round_significand` (``rounded >>
    man_bits`` is 0 only for a subnormal or zero with ``biased_exp == 1``, 1 for a normal
    number, 2 for a carry-out with a zero fraction); overflow gives infinity, ``ftz`` flushes a
    subnormal to zero. Precondition: ``biased_exp >= 1`` (signed or unsigned, any width)."""
    # the exponent field is biased_exp - 1 + hi: the candidates and overflow tests depend on
    # biased_exp alone, so they run beside the rounding increment
    b, hi, e = Value.cast(biased_exp), rounded[fmt.man_bits :], fmt.exp_bits
    field = Mux(hi[1], b + 1, Mux(hi[0], b, 0))[:e]
    # b >= exp_max - 1 and b >= exp_max (b >= 1) as bit tests: no carry chains after the sum
    huge = b[e:] != 0 if len(b) > e else Const(0, 1)
    overflow = huge | Mux(hi[1], b[1:e].all(), hi[0] & b[:e].all())
    magnitude = Mux(overflow, fmt.exp_max << fmt.man_bits, Cat(rounded[: fmt.man_bits], field))
    if ftz:
        magnitude = Mux(hi == 0, 0, magnitude)
    return Cat(magnitude[: fmt.width - 1], sign)


def round_pack_biased(
    fmt: FloatFormat,
    sign: Value,
    biased_exp: Value,
    sig: Value,
    sticky: Value,
    *,
    ftz: bool = False,
) -> Value:
    """Round and encode, for callers that already placed a tiny result in subnormal position.

    The exact value is ``(-1)**sign * (sig / 2**(len(sig)-1) + tiny) * 2**(biased_exp - bias)``
    with ``tiny`` a positive amount below ``sig``'s last bit when ``sticky`` is 1 (0 otherwise).
    Preconditions: ``biased_exp >= 1`` (signed or unsigned, any width); ``sig``'s top bit is 1,
    or ``biased_exp == 1`` (then the value is subnormal or, with ``sig == 0`` and
    ``sticky == 0``, an exact zero of ``sign``).
    Returns the ``fmt.width``-bit encoding, rounded to nearest even (a carry may reach the next
    binade or the smallest normal number; overflow gives infinity; ``ftz`` flushes a subnormal
    result to zero). The same as :func:`round_significand` then :func:`pack_rounded`."""
    rounded = round_significand(fmt, sig, sticky)
    return pack_rounded(fmt, sign, biased_exp, rounded, ftz=ftz)


class Denormalized(NamedTuple):
    """A value prepared for :func:`round_pack_biased` (see :func:`denormalize`)."""

    biased_exp: Value
    sig: Value
    sticky: Value
    nonzero: Value


def denormalize(
    fmt: FloatFormat, exp: Value, sig: Value, sticky: Value, *, ftz: bool = False
) -> Denormalized:
    """The first half of :func:`round_pack` (same arguments and preconditions): ``biased_exp``
    (``exp + bias``, at least 1), ``sig`` padded below to ``man_bits + 3`` bits and, for a
    result below the normal range, shifted right into subnormal position, ``sticky`` with the
    bits shifted out, and ``nonzero``: 0 when the result is the zero of the sign (``sig == 0``;
    with ``ftz`` also a value below half the smallest normal number)."""
    p = fmt.man_bits + 1
    sig = _pad_low(sig, p + 2)
    biased = Value.cast(exp) + fmt.bias
    tiny = biased < 1
    nonzero = sig[-1]
    if ftz:  # only [min_normal / 2, min_normal) may round up to min_normal; the rest flushes
        amount = tiny
        nonzero = nonzero & (biased >= 0)
    else:
        limit = p + 1  # shifting further leaves only sticky bits, like shifting by p + 1
        amount = Mux(tiny, Mux(biased < 1 - limit, limit, 1 - biased), 0)[: limit.bit_length()]
    shifted, lost = shift_right_sticky(sig, amount)
    return Denormalized(Mux(tiny, 1, biased), shifted, sticky | lost, nonzero)


def round_pack(
    fmt: FloatFormat, sign: Value, exp: Value, sig: Value, sticky: Value, *, ftz: bool = False
) -> Value:
    """The ``fmt.width``-bit encoding of the exact value
    ``(-1)**sign * (sig / 2**(len(sig)-1) + tiny) * 2**exp`` rounded to nearest even, where
    ``tiny`` is a positive amount below ``sig``'s last bit when ``sticky`` is 1 (0 otherwise).

    Preconditions: ``sig`` (any width >= 1) has its top bit set, or ``sig == 0`` and
    ``sticky == 0`` (an exact zero with the given ``sign``); ``exp`` is the unbiased exponent,
    a signed Value of any width. Results below the normal range are shifted into subnormal
    position (the shifted-out bits join the sticky bit) and then rounded, which may carry into
    the smallest normal number; a rounding carry-out moves to the next binade; overflow gives
    the infinity of ``sign``. With ``ftz`` a subnormal result becomes the zero of ``sign``.
    (:func:`denormalize`, then :func:`round_pack_biased`.)"""
    d = denormalize(fmt, exp, sig, sticky, ftz=ftz)
    packed = round_pack_biased(fmt, sign, d.biased_exp, d.sig, d.sticky, ftz=ftz)
    return Mux(d.nonzero, packed, Cat(Const(0, fmt.width - 1), sign))


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
