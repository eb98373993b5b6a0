"""Conversions: integer / fixed point -> float, float -> integer / fixed point, float -> float.

Semantics (docs/semantics.md, "Floating point"; the software reference is
``allo_rtl.ir._values.convert``):

- :class:`IntToFloat` reads ``a`` as a ``src_bits``-bit two's complement (``signed``) or
  unsigned raw value with ``fracs`` fraction bits (``Int``/``UInt``: ``fracs`` 0;
  ``Fixed``/``UFixed``) and rounds its value once to ``fmt``, to nearest even; results beyond
  the format's range are infinities, results below the normal range are subnormal (or zero).
  Zero gives ``+0``.
- :class:`FloatToInt` truncates the value of ``a`` toward zero at ``fracs`` fraction bits and
  saturates to the ``dst_bits``-bit signed / unsigned range: values beyond it (infinities
  included) give its minimum or maximum, NaN gives 0.
- :class:`FloatToFloat` converts between formats: exactly when the destination holds every
  source value (source subnormals become normal numbers), otherwise rounded to nearest even
  with overflow to infinity and subnormal results. NaN gives the canonical quiet NaN. With
  ``ftz=True`` subnormal inputs read as zero, and a subnormal result (of the conversion with
  gradual underflow) becomes zero of its sign.

Stage layout. Each unit is a chain of *steps*, each about one shifter or one adder deep, so
that float32 units meet 120 MHz on ECP5. Shift amounts and range tests are computed from the
exponent field or the leading-zero count directly (constant comparisons beside one adder), and
bits below a result's rounding position are reduced to a sticky bit beside the shifter:

- IntToFloat: [magnitude (negate; signed only)] [leading-zero count] [normalizing shift]
  [subnormal shift, only when ``fracs`` allows subnormal results] [round and pack];
- FloatToInt: [shift amount] [right shift] [negate and saturate] (unsigned: the last two in
  one step);
- FloatToFloat, equal exponent widths: [round with one add on the encoding] (or wiring);
  wider exponent: [unpack, leading-zero count] [normalizing shift, pack] ([round], when the
  fraction narrows); narrower exponent: [unpack, shift amount] [subnormal shift] [round and
  pack] (ftz: [unpack] [round and pack]).

Out of context on an ECP5-85F (nextpnr, three seeds, default latencies in brackets):
int32 -> float32 [4] 149-155 MHz, int64 -> float32 [4] 136-143, float32 -> int32 [3] 166-172,
float32 -> float16 [3] 156-161, float32 -> bfloat16 [1] 157-164, float16 -> float32 [2]
182-208, float32 -> float64 [2] 165-176, float16 -> bfloat16 [3] 138-164; float64 units:
uint64 -> float64 [3] 124-125, float64 -> int64 [3] 137-139, float64 -> float32 [3] 103-134.

The default ``latency`` is the number of steps: one register after each, so the result comes
straight from a register. A smaller ``latency`` merges neighbouring steps into one stage (0:
combinational); a larger one adds registers after the last step. ``valid_in`` is delayed by
the same registers into ``valid_out``.
"""

from __future__ import annotations

from collections.abc import Callable

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ._format import FloatFormat
from ._round import Unpacked, round_pack_biased, unpack

__all__ = [
    "FloatToFloat",
    "FloatToInt",
    "IntToFloat",
    "delayed",
    "refused",
    "stage_cuts",
    "staged",
]

State = dict[str, Value]
Step = Callable[[Module, State], State]


# --- pipelines ----------------------------------------------------------------------------


def refused(unit: wiring.Component, message: str) -> ValueError:
    """The error of a unit refusing its parameters (``unit`` is marked used: a unit that was
    never built is no forgotten one)."""
    unit._MustUse__silence = True  # type: ignore[attr-defined]
    return ValueError(message)


def delayed(m: Module, value: Value, cycles: int, name: str) -> Value:
    """``value`` after ``cycles`` registers (``value`` itself for 0)."""
    for n in range(cycles):
        reg = Signal(Value.cast(value).shape(), name=f"{name}_d{n}")
        m.d.sync += reg.eq(value)
        value = reg
    return value


def stage_cuts(steps: int, latency: int) -> list[int]:
    """Registers after each of ``steps`` steps for ``latency`` registers in all: one after the
    last step (when ``latency >= 1``), the others spread over the step boundaries, any
    surplus after the last step."""
    cuts = [0] * steps
    if latency <= 0:
        return cuts
    inner = min(latency - 1, steps - 1)
    for k in range(inner):
        cuts[round((k + 1) * steps / (inner + 1)) - 1] += 1
    cuts[-1] += latency - inner
    return cuts


def _signals(m: Module, state: State, name: str, domain: str) -> State:
    """Each value of ``state`` through a signal of domain ``domain``."""
    out = {}
    for key, value in state.items():
        value = Value.cast(value)
        sig = Signal(value.shape(), name=f"{name}_{key}")
        m.d[domain] += sig.eq(value)
        out[key] = sig
    return out


def staged(m: Module, steps: list[Step], state: State, latency: int, name: str) -> State:
    """Run ``state`` through ``steps`` with ``latency`` registers placed by
    :func:`stage_cuts`; returns the final state. Each step is a submodule whose outputs are
    signals: Amaranth's Python simulator then evaluates each step once per change of its
    inputs, instead of copying a step's expressions into every use in the next."""
    for n, (step, cuts) in enumerate(zip(steps, stage_cuts(len(steps), latency))):
        sub = m.submodules[f"{name}{n}"] = Module()
        state = _signals(sub, step(sub, state), f"{name}{n}", "comb")
        for k in range(cuts):
            state = _signals(sub, state, f"{name}{n}_r{k}", "sync")
    return state


def _then(first: Step, second: Step) -> Step:
    """One step doing ``first`` then ``second`` (in submodules of their own)."""

    def step(m: Module, st: State) -> State:
        m.submodules.first = m1 = Module()
        m.submodules.second = m2 = Module()
        return second(m2, _signals(m1, first(m1, st), "then", "comb"))

    return step


# --- bit-level helpers ----------------------------------------------------------------------
# These build the logic of ``_round``'s ``leading_zeros`` and ``shift_right_sticky`` (and of
# ``shift_left``: a plain ``<<`` below) from expressions that use each operand once per level;
# those of ``_round`` repeat the level below two or three times, which Amaranth's Python
# simulator evaluates as written, exponentially in the number of levels. Yosys maps the
# variable shifts (``$shl``, ``$shr``) to the same logarithmic shifters.


def _leading_zeros(v: Value) -> Value:
    """Leading zero bits of ``v`` (``len(v)`` for 0): a tree of ``log2(len(v))`` levels, each
    node choosing its upper or lower half's count by whether the upper half is zero."""
    v = Value.cast(v)
    n = len(v)
    k = (n - 1).bit_length()
    padded = Cat(Const((1 << ((1 << k) - n)) - 1, (1 << k) - n), v)  # ones: count <= n

    def count(bits: Value) -> Value:  # of a nonzero power-of-two width
        if len(bits) == 1:
            return Const(0, 0)
        half = len(bits) // 2
        upper_zero = bits[half:] == 0
        return Cat(Mux(upper_zero, count(bits[:half]), count(bits[half:])), upper_zero)

    return Mux(padded == 0, n, count(padded))


def _shift_right_sticky(v: Value, amount: Value) -> tuple[Value, Value]:
    """``(v >> amount, sticky)``, ``sticky`` 1 when a 1 bit was shifted out."""
    v = Value.cast(v)
    ones = Const((1 << len(v)) - 1, len(v))
    lost = v & ~(ones << amount)[: len(v)]
    return v >> amount, lost != 0


def _pad_low(sig: Value, width: int) -> Value:
    return Cat(Const(0, width - len(sig)), sig) if len(sig) < width else sig


def _compress(sig: Value, width: int) -> tuple[Value, Value]:
    """``sig`` cut to its top ``width`` bits (or padded below) and the OR of the cut bits."""
    sig = Value.cast(sig)
    if len(sig) <= width:
        return _pad_low(sig, width), Const(0, 1)
    return sig[len(sig) - width :], sig[: len(sig) - width] != 0


def _tiny_shift(fmt: FloatFormat, x: Value, c: int, s: int, ftz: bool) -> State:
    """For the biased exponent ``exp = c + s * x`` (``x`` unsigned, ``s`` = +-1): ``tiny``
    (``exp < 1``) and ``amount``, the right shift into subnormal position (0 unless tiny),
    clamped where only sticky bits remain; with ``ftz`` the shift is one bit at most and
    ``flush`` marks ``exp < 0`` (zero, however rounded). Constant comparisons of ``x`` and
    one adder, beside the computation of ``exp``."""

    def below(k: int) -> Value:  # exp < k
        return x < k - c if s > 0 else x > c - k

    tiny = below(1)
    if ftz:
        return {"tiny": tiny, "amount": tiny, "flush": below(0)}
    limit = fmt.man_bits + 3  # shifting the p + 2 kept bits further leaves only sticky bits
    distance = (1 - c) - x if s > 0 else x - (c - 1)
    amount = Mux(tiny, Mux(below(1 - limit), limit, distance), 0)[: limit.bit_length()]
    return {"tiny": tiny, "amount": amount}


def _denormal_step(m: Module, st: State) -> State:
    """Shift ``sig`` right by ``amount`` into subnormal position (``exp`` becomes 1 when
    ``tiny``, shifted-out bits join ``sticky``; ``flush`` makes an exact zero)."""
    sig = st["sig"]
    if "flush" in st:
        sig = Mux(st["flush"], 0, sig)
    shifted, lost = _shift_right_sticky(sig, st["amount"])
    sticky = (st["sticky"] & ~st["flush"]) if "flush" in st else st["sticky"]
    keep = {k: v for k, v in st.items() if k not in ("tiny", "amount", "flush")}
    return {**keep, "exp": Mux(st["tiny"], 1, st["exp"]), "sig": shifted, "sticky": sticky | lost}


def _round_step(fmt: FloatFormat, *, ftz: bool = False) -> Step:
    """``round_pack_biased`` of ``sign``, biased ``exp``, ``sig`` and ``sticky``, then
    ``special`` (when present) overriding the result."""

    def step(m: Module, st: State) -> State:
        packed = round_pack_biased(fmt, st["sign"], st["exp"], st["sig"], st["sticky"], ftz=ftz)
        if "special" in st:
            packed = Mux(st["use_special"], st["special"], packed)
        return {"result": packed}

    return step


# --- units ----------------------------------------------------------------------------------


class _Converter(wiring.Component):
    """A unit ``result = f(a)`` built from the steps :meth:`_steps` returns."""

    def __init__(self, src_width: int, dst_width: int, latency: int | None) -> None:
        self.steps = self._steps()
        self.latency = len(self.steps) if latency is None else latency
        if self.latency < 0:
            raise refused(self, f"{type(self).__name__}: latency must be >= 0, got {latency}")
        super().__init__(
            {
                "a": In(src_width),
                "valid_in": In(1),
                "result": Out(dst_width),
                "valid_out": Out(1),
            }
        )

    def _steps(self) -> list[Step]:
        raise NotImplementedError

    def elaborate(self, platform: object) -> Module:
        m = Module()
        out = staged(m, self.steps, {"a": self.a}, self.latency, "s")
        m.d.comb += [
            self.result.eq(out["result"]),
            self.valid_out.eq(delayed(m, self.valid_in, self.latency, "valid")),
        ]
        return m


class IntToFloat(_Converter):
    """``src_bits``-bit integer / fixed-point raw value -> ``fmt``, rounded to nearest even."""

    def __init__(
        self,
        src_bits: int,
        signed: bool,
        fmt: FloatFormat,
        *,
        fracs: int = 0,
        latency: int | None = None,
    ) -> None:
        if src_bits < 1 or fracs < 0:
            raise refused(self, "IntToFloat: needs src_bits >= 1 and fracs >= 0")
        self.src_bits, self.signed, self.fmt, self.fracs = src_bits, signed, fmt, fracs
        self.subnormal = -fracs < 1 - fmt.bias  # the smallest nonzero value is subnormal
        super().__init__(src_bits, fmt.width, latency)

    def _steps(self) -> list[Step]:
        if self.signed:
            steps = [self._magnitude, self._count]
        else:
            steps = [_then(self._magnitude, self._count)]  # no negation: one step
        steps.append(self._shift)
        if self.subnormal:
            steps.append(_denormal_step)
        return [*steps, _round_step(self.fmt)]

    def _magnitude(self, m: Module, st: State) -> State:
        a, n = st["a"], self.src_bits
        if not self.signed:
            return {"sign": Const(0, 1), "mag": a}
        sign = a[n - 1]
        return {"sign": sign, "mag": Mux(sign, -a, a)[:n]}

    def _count(self, m: Module, st: State) -> State:
        return {**st, "lz": _leading_zeros(st["mag"])}

    def _shift(self, m: Module, st: State) -> State:
        """Normalize: the leading one to the top; the bits that land below the guard bit
        reduced to ``sticky`` beside the shifter (from the count, not the shifted value)."""
        n, fmt, mag, lz = self.src_bits, self.fmt, st["mag"], st["lz"]
        width = fmt.man_bits + 3  # significand, guard bit and one more
        low = n - width
        sig = (mag << lz)[:n]
        if low > 0:  # bit i of mag lands at i + lz: below the kept bits when i < low - lz
            dropped = Const((1 << low) - 1, low) >> lz  # a decoder of lz
            sticky = (mag[:low] & dropped) != 0
            sig = sig[low:]
        else:
            sig, sticky = _pad_low(sig, width), Const(0, 1)
        top = n - 1 - self.fracs + fmt.bias  # the biased exponent of bit n - 1
        zero = lz == n  # an exact zero for round_pack_biased: exponent 1, significand 0
        out = {"sign": st["sign"], "sig": sig, "sticky": sticky, "exp": Mux(zero, 1, top - lz)}
        if self.subnormal:
            out.update(_tiny_shift(fmt, lz, top, -1, ftz=False))
        return out


class FloatToInt(_Converter):
    """``fmt`` -> ``dst_bits``-bit integer / fixed-point raw value: truncation toward zero at
    ``fracs`` fraction bits, saturation, NaN -> 0."""

    def __init__(
        self,
        fmt: FloatFormat,
        dst_bits: int,
        signed: bool,
        *,
        fracs: int = 0,
        latency: int | None = None,
    ) -> None:
        if dst_bits < 1 or not 0 <= fracs <= dst_bits:
            raise refused(self, "FloatToInt: needs dst_bits >= 1, 0 <= fracs <= dst_bits")
        limit = dst_bits - 1 if signed else dst_bits  # no magnitude of 2**limit or more fits
        if 1 - fmt.bias + fracs >= limit:
            raise refused(self, f"FloatToInt: subnormal {fmt.name} values may overflow the target")
        self.fmt, self.dst_bits, self.signed, self.fracs = fmt, dst_bits, signed, fracs
        self.limit = limit
        super().__init__(fmt.width, dst_bits, latency)

    def _steps(self) -> list[Step]:
        if self.signed:
            return [self._decode, self._shift, self._select]
        return [self._decode, _then(self._shift, self._select)]

    def _decode(self, m: Module, st: State) -> State:
        """The right shift that puts the units bit of the raw result at bit 0, and overflow;
        from the exponent field (subnormals read with field 1), with one adder."""
        fmt, n, a = self.fmt, self.dst_bits, st["a"]
        u = unpack(fmt, a)
        field = Mux(fmt.exponent(a) == 0, 1, fmt.exponent(a))
        # the leading bit of a normal number weighs 2**(field - bias + fracs) in the raw
        # result; sig << (n - 1 - man_bits) puts it at bit n - 1, so shift right by
        # n - 1 - (field - bias + fracs), or n (everything out) when that is more
        c = n - 1 - self.fracs + fmt.bias
        amount = Mux(field < c - n, n, c - field)[: n.bit_length()]
        top = n - 1 - fmt.man_bits
        wide = (u.sig << top) if top >= 0 else (u.sig >> -top)
        big = field >= self.limit + fmt.bias - self.fracs
        return {
            "sign": u.sign,
            "nan": u.is_nan,
            "over": u.is_inf | (~u.is_nan & big),
            "wide": wide[:n],
            "amount": amount,
        }

    def _shift(self, m: Module, st: State) -> State:
        keep = {k: st[k] for k in ("sign", "nan", "over")}
        return {**keep, "mag": st["wide"] >> st["amount"]}

    def _select(self, m: Module, st: State) -> State:
        n, sign, mag = self.dst_bits, st["sign"], st["mag"]
        if self.signed:
            low, high = 1 << (n - 1), (1 << (n - 1)) - 1
            value = Mux(sign, -mag, mag)[:n]
        else:
            low, high = 0, (1 << n) - 1
            value = Mux(sign, 0, mag)
        value = Mux(st["over"], Mux(sign, low, high), value)
        return {"result": Mux(st["nan"], 0, value)}


class FloatToFloat(_Converter):
    """``src_fmt`` -> ``dst_fmt``, exact or rounded to nearest even (module docstring)."""

    def __init__(
        self,
        src_fmt: FloatFormat,
        dst_fmt: FloatFormat,
        *,
        latency: int | None = None,
        ftz: bool = False,
    ) -> None:
        self.src_fmt, self.dst_fmt, self.ftz = src_fmt, dst_fmt, ftz
        super().__init__(src_fmt.width, dst_fmt.width, latency)

    def _steps(self) -> list[Step]:
        src, dst = self.src_fmt, self.dst_fmt
        if src.exp_bits == dst.exp_bits:
            return [self._same_range]
        if dst.exp_bits > src.exp_bits:
            return self._widening_steps()
        return self._narrowing_steps()

    def _same_range(self, m: Module, st: State) -> State:
        """Equal exponent widths: the encoding is a fixed-point number, so dropping fraction
        bits with an add rounds (a carry into the exponent is the next binade, into the
        all-ones exponent infinity; subnormals round the same way), and appending bits is
        exact. With ``ftz`` a normal input gives a normal result."""
        src, dst, a = self.src_fmt, self.dst_fmt, st["a"]
        mag = a[: src.width - 1]
        if self.ftz:
            mag = Mux(src.exponent(a) == 0, 0, mag)
        k = src.man_bits - dst.man_bits
        if k <= 0:
            out = Cat(Const(0, -k), mag)
        else:
            kept, guard = mag[k:], mag[k - 1]
            rest = mag[: k - 1] != 0 if k > 1 else Const(0, 1)
            out = (kept + (guard & (rest | kept[0])))[: dst.width - 1]
        return {"result": Mux(src.is_nan(a), dst.qnan(), Cat(out, src.sign(a)))}

    def _specials(self, u: Unpacked) -> State:
        """``special``: the result of a zero, infinity or NaN; ``use_special``: the input is one
        of them."""
        dst = self.dst_fmt
        inf_or_zero = Mux(u.is_inf, dst.inf(0), 0)
        special = Mux(u.is_nan, dst.qnan(), Cat(inf_or_zero[: dst.width - 1], u.sign))
        return {"special": special, "use_special": u.is_zero | u.is_inf | u.is_nan}

    def _widening_steps(self) -> list[Step]:
        """Wider exponent: every source value is a normal destination number."""
        src, dst, ftz = self.src_fmt, self.dst_fmt, self.ftz
        if 1 - src.bias - src.man_bits < 1 - dst.bias:
            raise refused(self, f"FloatToFloat: {src.name} subnormals are not normal in {dst.name}")
        exact = dst.man_bits >= src.man_bits

        def count(m: Module, st: State) -> State:
            u = unpack(src, st["a"], ftz=ftz)
            lz = Const(0, 1) if ftz else _leading_zeros(u.sig)  # no subnormals with ftz
            return {**self._specials(u), "sign": u.sign, "exp": u.exp, "sig": u.sig, "lz": lz}

        def shift(m: Module, st: State) -> State:
            sig = (st["sig"] << st["lz"])[: len(st["sig"])]
            exp = st["exp"] - st["lz"] + dst.bias
            keep = {k: st[k] for k in ("special", "use_special", "sign")}
            if not exact:
                return {**keep, "sig": sig, "exp": exp, "sticky": Const(0, 1)}
            frac = Cat(Const(0, dst.man_bits - src.man_bits), sig[: src.man_bits])
            packed = Cat(frac, exp[: dst.exp_bits], st["sign"])
            return {"result": Mux(st["use_special"], st["special"], packed)}

        steps = [_then(count, shift)] if ftz else [count, shift]
        return steps if exact else [*steps, _round_step(dst)]

    def _narrowing_steps(self) -> list[Step]:
        """Narrower exponent: source subnormals round to zero; normal numbers may overflow or
        become subnormal."""
        src, dst, ftz = self.src_fmt, self.dst_fmt, self.ftz
        if 1 - src.bias > -dst.bias - dst.man_bits:
            raise refused(self, f"FloatToFloat: {src.name} subnormals do not round to zero")

        def decode(m: Module, st: State) -> State:
            a = st["a"]
            u = unpack(src, a, ftz=True)  # source subnormals give zero anyway
            field = src.exponent(a)
            shift = dst.bias - src.bias  # biased exponent: field + shift
            sig, sticky = _compress(u.sig, dst.man_bits + 3)
            out = {**self._specials(u), "sign": u.sign, "exp": field + shift}
            out.update(sig=sig, sticky=sticky, **_tiny_shift(dst, field, shift, 1, ftz))
            return out

        last = _round_step(dst, ftz=ftz)
        if ftz:  # a one-bit shift at most: with the rounding
            return [decode, _then(_denormal_step, last)]
        return [decode, _denormal_step, last]
