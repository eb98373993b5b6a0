"""One description, two backends: the math units' datapaths as Amaranth and as a NumPy model.

Each math unit (``_m_exp.py`` and its siblings) is written once, as a list of *stage
functions* ``f(ops, st) -> st`` over a dict ``st`` of named integer values. The values are
plain two's complement integers of unbounded width (Amaranth arithmetic widens exactly, and
so does Python's), fixed-point numbers with a scale the code states in comments. Whatever
needs a backend goes through ``ops``:

- :class:`HwOps` builds Amaranth expressions in a ``Module`` and puts pipeline registers
  between stages (``cut``);
- :class:`NpOps` evaluates the same functions on NumPy object arrays of Python integers, a
  bit-exact model of the hardware that sweeps a million inputs in seconds (the Amaranth
  simulator runs these units at a few hundred to two thousand cycles per second). The tests
  check the two agree bit for bit on every input they simulate.

``+ - * << >>`` (by a constant), comparisons and ``& | ~`` on 1-bit conditions are written as
operators; constants are Python ints. Multiplies of two variables go through :func:`mul_hi`
(partial products of at most 18x18 bits, one DSP block each, recorded for
:meth:`HwOps.dsp_blocks`); multiplies by constants through :meth:`HwOps.cmul` (a sum of
shifted copies, no DSP block).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..._errors import BuildError
from ...lowering._dsp import dsp_blocks
from ._format import FLOAT32, FloatFormat
from ._round import leading_zeros, round_pack, unpack

__all__ = ["HwOps", "MathUnit", "NpOps", "Ops", "Stage", "csd", "cut_points", "mul_hi"]

Ops = Any  # HwOps or NpOps (duck-typed: the stage functions use the same methods)
Stage = Callable[[Ops, dict], dict]

_CHUNK = 16  # bits per leading-zero counter (see HwOps.lzc)
_TOP, _LIMB = 18, 17  # a DSP block multiplies 18x18 signed: top limbs 18 signed, others 17
_NARROW = 4  # unsigned limbs this narrow multiply in logic


def csd(k: int) -> list[tuple[int, int]]:
    """``(shift, +-1)`` digits of ``k > 0`` in canonical signed-digit form."""
    out, shift = [], 0
    while k:
        if k & 1:
            d = 2 - (k & 3)
            out.append((shift, d))
            k -= d
        k >>= 1
        shift += 1
    return out


def _ext(v: Value, width: int) -> Value:
    """``v`` sign- or zero-extended to at least ``width`` bits (same numeric value)."""
    v = Value.cast(v)
    if len(v) >= width:
        return v
    pad = v[-1].replicate(width - len(v)) if v.shape().signed else Const(0, width - len(v))
    value = Cat(v, pad)
    return value.as_signed() if v.shape().signed else value


class HwOps:
    """The Amaranth backend: expressions in ``m``, registers between stages.

    The operands and results of the shifters, leading-zero counters, tables and the rounding
    become named combinational signals (:meth:`wire`), and so do the values crossing a stage
    boundary without a register: the netlist is the same, but Amaranth's simulator, which
    expands expression trees without sharing, stays linear in their size (a logarithmic
    shifter reads its input twice per level). Each stage is a submodule of its own (``m`` is
    switched by the caller), so the simulator re-evaluates only the stages whose inputs
    changed."""

    def __init__(self, m: Module) -> None:
        self.m = m
        self.products: list[tuple[int, bool, int, bool]] = []
        self._count = 0

    def wire(self, v: Any, name: str = "w") -> Any:
        """``v`` as a combinational signal (signals and constants as they are)."""
        if isinstance(v, (int, Signal, Const)):
            return v
        v = Value.cast(v)
        self._count += 1
        sig = Signal(v.shape(), name=f"{name}{self._count}")
        self.m.d.comb += sig.eq(v)
        return sig

    def mux(self, c: Value, a: Any, b: Any) -> Value:
        return Mux(c, a, b)

    def mul(self, a: Value, b: Value) -> Value:
        a, b = Value.cast(a), Value.cast(b)
        self.products.append((len(a), a.shape().signed, len(b), b.shape().signed))
        return a * b

    def cmul(self, v: Value, k: int) -> Value:
        """``v * k`` as a sum of shifted copies of ``v`` (one per canonical signed digit)."""
        if k == 0:
            return Const(0, 1)
        x = Value.cast(self.wire(v, "cmul_in"))
        if not x.shape().signed:
            x = Cat(x, Const(0, 1)).as_signed()
        terms = [(x << s if s else x) if d > 0 else -(x << s) for s, d in csd(abs(k))]
        while len(terms) > 1:
            terms = [sum(terms[i : i + 2]) for i in range(0, len(terms), 2)]
        return terms[0] if k > 0 else -terms[0]

    def bits(self, v: Value, lo: int, n: int) -> Value:
        """Bits ``lo .. lo + n - 1`` of ``v`` (two's complement), unsigned."""
        return _ext(v, lo + n)[lo : lo + n]

    def sbits(self, v: Value, lo: int, n: int) -> Value:
        return self.bits(v, lo, n).as_signed()

    def shr(self, v: Value, amount: Value) -> Value:
        """``floor(v / 2**amount)``, ``amount`` an unsigned variable."""
        return Value.cast(v) >> amount

    def shl(self, v: Value, amount: Value, width: int) -> Value:
        """``(v << amount) mod 2**width`` for ``v >= 0``, unsigned."""
        shifted = Value.cast(self.bits(v, 0, width)) << self.wire(amount, "shl_by")
        return self.wire(shifted[:width], "shl")

    def lzc(self, v: Value, width: int) -> Value:
        """Leading zeros of ``0 <= v < 2**width`` in ``width`` bits: ``leading_zeros`` of
        16-bit chunks and a priority choice among them (as a tree it is the same hardware;
        Amaranth's simulator would expand one wide tree into megabytes of code)."""
        v = self.wire(self.bits(v, 0, width), "lzc_in")
        count: Any = width
        for lo in range(0, width, _CHUNK):  # the lowest chunk first, the top one decides last
            chunk = v[lo : min(lo + _CHUNK, width)]
            inner = self.wire(leading_zeros(chunk), "lzc_part")
            count = Mux(chunk != 0, inner + (width - lo - len(chunk)), count)
        return self.wire(count, "lzc")

    def table(self, index: Value, values: list[int]) -> Value:
        bits = max(x.bit_length() for x in values) + 1
        shape = signed(bits) if min(values) < 0 else unsigned(bits - 1 or 1)
        return self.wire(Array([Const(x, shape) for x in values])[self.wire(index)], "tab")

    def round_pack(
        self, fmt: FloatFormat, sign: Value, exp: Value, sig: Value, width: int
    ) -> Value:
        """``round_pack`` of the ``width``-bit significand ``sig`` (top bit set, or zero)."""
        sign, exp = self.wire(sign, "rp_sign"), self.wire(exp, "rp_exp")
        sig = self.bits(self.wire(sig, "rp_sig"), 0, width)
        return round_pack(fmt, sign, exp, sig, Const(0, 1))

    def unpack(self, fmt: FloatFormat, v: Value) -> dict[str, Value]:
        u = unpack(fmt, self.wire(v))
        fields = dict(sign=u.sign, exp=u.exp, sig=u.sig, zero=u.is_zero, inf=u.is_inf)
        fields["nan"] = u.is_nan
        return {k: self.wire(x, k) for k, x in fields.items()}

    def cut(self, st: dict, name: str) -> dict:
        """Every value of ``st`` through a register (constants stay constants)."""
        out = {}
        for key, v in st.items():
            if isinstance(v, int):
                out[key] = v
                continue
            v = Value.cast(v)
            reg = Signal(v.shape(), name=f"{name}_{key}")
            self.m.d.sync += reg.eq(v)
            out[key] = reg
        return out

    def join(self, st: dict, name: str) -> dict:
        """A stage boundary without a register: every value of ``st`` as a named wire."""
        return {key: self.wire(v, f"{name}_{key}") for key, v in st.items()}

    def dsp_blocks(self, family: str) -> int:
        """DSP blocks of the recorded variable multiplies (yosys's ``mul2dsp`` mapping)."""
        total = 0
        for wa, sa, wb, sb in self.products:
            s = sa or sb
            wa, wb = wa + (s and not sa), wb + (s and not sb)
            total += dsp_blocks(family, wa, wb, wa + wb, s)
        return total


def _obj(x: Any) -> Any:
    if isinstance(x, np.ndarray) and x.dtype != object:
        return x.astype(object)
    return x


class NpOps:
    """The NumPy backend: every value an object array of Python ints (or an int)."""

    def mux(self, c: Any, a: Any, b: Any) -> Any:
        return _obj(np.where(c, a, b))

    def mul(self, a: Any, b: Any) -> Any:
        return _obj(a) * _obj(b)

    def cmul(self, v: Any, k: int) -> Any:
        return _obj(v) * k

    def bits(self, v: Any, lo: int, n: int) -> Any:
        return (_obj(v) >> lo) & ((1 << n) - 1)

    def sbits(self, v: Any, lo: int, n: int) -> Any:
        half = 1 << (n - 1)
        return ((_obj(v) >> lo) + half & ((1 << n) - 1)) - half

    def shr(self, v: Any, amount: Any) -> Any:
        return _obj(v) >> _obj(amount)

    def shl(self, v: Any, amount: Any, width: int) -> Any:
        return (_obj(v) << _obj(amount)) & ((1 << width) - 1)

    def lzc(self, v: Any, width: int) -> Any:
        return width - _BIT_LENGTH(_obj(v))

    def table(self, index: Any, values: list[int]) -> Any:
        """``values[index]`` (an index past the end reads the last entry, as Amaranth's Array)."""
        index = np.minimum(np.asarray(index).astype(np.int64), len(values) - 1)
        return np.array(values, dtype=object)[index]

    def round_pack(self, fmt: FloatFormat, sign: Any, exp: Any, sig: Any, width: int) -> Any:
        return _np_round_pack(fmt, sign, exp, sig, width)

    def unpack(self, fmt: FloatFormat, v: Any) -> dict[str, Any]:
        v = _obj(v)
        field = (v >> fmt.man_bits) & fmt.exp_max
        frac = v & ((1 << fmt.man_bits) - 1)
        denormal = field == 0
        special = field == fmt.exp_max
        return dict(
            sign=((v >> (fmt.width - 1)) & 1) == 1,
            exp=self.mux(denormal, 1, field) - fmt.bias,
            sig=self.mux(denormal, 0, 1 << fmt.man_bits) + frac,
            zero=denormal & (frac == 0),
            inf=special & (frac == 0),
            nan=special & (frac != 0),
        )

    def cut(self, st: dict, name: str) -> dict:
        return st

    def join(self, st: dict, name: str) -> dict:
        return st


_BIT_LENGTH = np.frompyfunc(int.bit_length, 1, 1)


def _np_round_pack(fmt: FloatFormat, sign: Any, exp: Any, sig: Any, width: int) -> Any:
    """NumPy model of ``round_pack`` (exact value ``sig / 2**(width-1) * 2**exp``)."""
    p = fmt.man_bits + 1
    sig, exp = _obj(sig), _obj(exp)
    if width < p + 2:
        sig, width = sig << (p + 2 - width), p + 2
    biased = exp + fmt.bias
    below = np.maximum(1 - biased, 0)
    shift = _obj(np.minimum(width - p + below, width + 1))
    mant = sig >> shift
    rem = sig - (mant << shift)
    half = _obj(1) << (shift - 1)
    up = (rem > half) | ((rem == half) & (mant % 2 == 1))
    mant = mant + np.where(up, 1, 0)
    total = _obj(np.where(biased >= 1, (biased - 1) << fmt.man_bits, 0)) + mant
    inf = fmt.exp_max << fmt.man_bits
    total = _obj(np.where(total >= inf, inf, total))
    total = _obj(np.where(sig == 0, 0, total))
    return total + (_obj(sign) << (fmt.width - 1))


def limbs(width: int) -> list[tuple[int, int, bool]]:
    """``(lo, bits, signed)`` pieces of a signed ``width``-bit operand, the top one first:
    18 signed bits, then 17-bit unsigned limbs downwards."""
    top = min(width, _TOP)
    out = [(width - top, top, True)]
    lo = width - top
    while lo > 0:
        n = min(_LIMB, lo)
        out.append((lo - n, n, False))
        lo -= n
    return out


def _shift_add(ops: Ops, narrow: Any, bits: int, other: Any) -> Any:
    """``narrow * other`` for an unsigned ``narrow`` of ``bits`` bits, in logic: one gated
    shifted copy of ``other`` per bit (a DSP block would be wasted on it)."""
    total: Any = 0
    for i in range(bits):
        total = total + ops.mux(ops.bits(narrow, i, 1) != 0, other << i, 0)
    return total


def mul_hi(
    ops: Ops,
    a: Any,
    wa: int,
    b: Any,
    wb: int,
    drop: int,
    *,
    keep: int | None = None,
    pieces: set[tuple[int, int]] | None = None,
) -> Any:
    """About ``(a * b) >> drop`` for signed ``a`` and ``b`` of ``wa`` and ``wb`` bits, as a
    sum of limb products (:func:`limbs`; one DSP block each, or shift-and-add logic for an
    unsigned limb of at most ``_NARROW`` bits). A product whose bits all lie
    below ``2**keep`` (default ``drop - 1``: under half a unit of the result) is left out, or,
    with ``pieces``, every product ``(i, j)`` (limb ``i`` of ``a``, ``j`` of ``b``) not listed.
    Left-out products are non-negative (both limbs unsigned), so the result is the floor of the
    exact quotient minus the left-out sum (over ``2**drop``). ``a is b`` squares (each cross
    product computed once, doubled)."""
    keep = drop - 1 if keep is None else keep
    square = a is b and wa == wb
    total: Any = 0
    for i, (alo, an, asg) in enumerate(limbs(wa)):
        for j, (blo, bn, bsg) in enumerate(limbs(wb)):
            if square and j < i:
                continue
            if pieces is not None and (i, j) not in pieces:
                continue
            if pieces is None and (an - asg) + (bn - bsg) + alo + blo <= keep:
                continue
            pa = ops.sbits(a, alo, an) if asg else ops.bits(a, alo, an)
            pb = ops.sbits(b, blo, bn) if bsg else ops.bits(b, blo, bn)
            shift = alo + blo + (1 if square and j > i else 0)
            if not asg and an <= _NARROW:
                product = _shift_add(ops, pa, an, pb)
            elif not bsg and bn <= _NARROW:
                product = _shift_add(ops, pb, bn, pa)
            else:
                product = ops.mul(pa, pb)
            total = total + (product << shift)
    return total >> drop


def check_format(fmt: FloatFormat, unit: str) -> None:
    """The math datapaths are sized for float32: formats up to 8 exponent and 23 fraction
    bits (float16, bfloat16, float32) round straight from them."""
    if fmt.exp_bits > 8 or fmt.man_bits > 23:
        raise BuildError(
            f"{unit}: {fmt.name} is not supported (the datapath is sized for float32; formats "
            "with at most 8 exponent and 23 fraction bits are)"
        )


def cut_points(stages: int, latency: int) -> tuple[frozenset[int], int]:
    """Where ``latency`` registers go in a datapath of ``stages`` stage functions: the stage
    indices followed by a register (the last one always, when ``latency >= 1``, so the result
    comes from a register; the others spread evenly) and the extra output registers when
    ``latency`` exceeds ``stages``."""
    if latency <= 0:
        return frozenset(), 0
    inner = min(latency - 1, stages - 1)
    cuts = {stages - 1} | {round(i * stages / (inner + 1)) - 1 for i in range(1, inner + 1)}
    return frozenset(cuts), latency - len(cuts)


class MathUnit(wiring.Component):
    """A math function unit: ``result = f(a)`` (or ``f(a, b)``) ``latency`` cycles later.

    Subclasses give ``ARGS`` (the operand port names) and :meth:`build_stages`. ``latency``
    defaults to one register per stage function; 0 makes the unit combinational; fewer
    registers than stages merge neighbouring stages. A stage is one step of the algorithm
    (about one multiply, or one wide add, shift or leading-zero count); the boundaries are
    not timed against a device. :meth:`model` evaluates the same datapath bit-exactly on
    NumPy arrays of encodings; :meth:`dsp_blocks` counts the DSP blocks of its multiplies.
    """

    ARGS: tuple[str, ...] = ("a",)

    def __init__(self, fmt: FloatFormat = FLOAT32, *, latency: int | None = None) -> None:
        check_format(fmt, type(self).__name__)
        self.fmt = fmt
        self.stages = self.build_stages()
        latency = len(self.stages) if latency is None else latency
        if latency < 0:
            raise ValueError(f"{type(self).__name__}: latency must be >= 0, got {latency}")
        self.latency = latency
        members = {name: In(fmt.width) for name in self.ARGS}
        members.update(valid_in=In(1), result=Out(fmt.width), valid_out=Out(1))
        super().__init__(members)

    def build_stages(self) -> list[Stage]:
        raise NotImplementedError

    def _run(self, ops: Ops, st: dict, cuts: frozenset[int], m: Module | None = None) -> Any:
        for n, stage in enumerate(self.stages):
            if m is not None:  # one submodule per stage
                ops.m = Module()
                m.submodules[f"stage{n}"] = ops.m
            st = stage(ops, st)
            st = ops.cut(st, f"s{n}") if n in cuts else ops.join(st, f"s{n}")
        return st["result"]

    def elaborate(self, platform: object) -> Module:
        m = Module()
        cuts, extra = cut_points(len(self.stages), self.latency)
        result = self._run(HwOps(m), {n: getattr(self, n) for n in self.ARGS}, cuts, m)
        valid = self.valid_in
        for n in range(extra):
            st = HwOps(m).cut({"result": result}, f"out{n}")
            result = st["result"]
        for n in range(self.latency):
            reg = Signal(name=f"valid_d{n}")
            m.d.sync += reg.eq(valid)
            valid = reg
        m.d.comb += [self.result.eq(result), self.valid_out.eq(valid)]
        return m

    def model(self, *args: Any) -> np.ndarray:
        """The unit's results (encodings, ``uint64``) for arrays of operand encodings."""
        self._MustUse__used = True  # used as a model: no "never elaborated" warning
        st = {n: np.asarray(x, dtype=np.uint64).astype(object) for n, x in zip(self.ARGS, args)}
        result = self._run(NpOps(), st, frozenset())
        shape = np.broadcast(*[st[n] for n in self.ARGS]).shape
        return np.broadcast_to(np.asarray(result, dtype=object), shape).astype(np.uint64)

    def dsp_blocks(self, family: str = "ecp5") -> int:
        """DSP blocks yosys gives the unit's multiplies on ``family`` (ecp5, ice40, generic)."""
        m = Module()
        m._MustUse__used = self._MustUse__used = True  # a scratch netlist, never simulated
        ops = HwOps(m)
        self._run(ops, {n: Signal(self.fmt.width) for n in self.ARGS}, frozenset())
        return ops.dsp_blocks(family)
