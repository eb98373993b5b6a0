"""The shared rounding helpers of ``allo_rtl.hw.fp`` against an exact reference.

``exact_encode`` (also used by the FMA tests) rounds a ``Fraction`` to a format with plain
integer arithmetic, independently of the hardware code.
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from amaranth.hdl import Module, Signal, signed
from amaranth.sim import Simulator

from allo_rtl.hw.fp._format import BFLOAT16, FLOAT16, FLOAT32, FloatFormat
from allo_rtl.hw.fp._round import leading_zeros, normalize, round_pack, unpack

TINY = FloatFormat(3, 2)  # a toy format: every rounding case within a few hundred values


def exact_encode(fmt: FloatFormat, q: Fraction, zero_sign: int = 0, ftz: bool = False) -> int:
    """The encoding of ``q`` rounded to ``fmt`` (nearest, ties to even, subnormals, overflow to
    infinity); a zero result takes ``zero_sign`` unless ``q`` itself is nonzero; with ``ftz`` a
    subnormal result becomes the zero of its sign."""
    sign = int(q < 0) if q != 0 else zero_sign
    a = abs(q)
    if a == 0:
        return sign << (fmt.width - 1)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    e = max(e, 1 - fmt.bias)
    n = round(a / Fraction(2) ** (e - fmt.man_bits))  # ties to even
    if n == 1 << (fmt.man_bits + 1):
        e, n = e + 1, n >> 1
    biased = e + fmt.bias if n >> fmt.man_bits else 0
    if biased >= fmt.exp_max:
        return fmt.inf(sign)
    if ftz and biased == 0:
        return sign << (fmt.width - 1)
    return (sign << (fmt.width - 1)) | (biased << fmt.man_bits) | (n & ((1 << fmt.man_bits) - 1))


def decode(fmt: FloatFormat, raw: int) -> Fraction:
    """The exact value of a finite encoding."""
    sign, field, frac = raw >> (fmt.width - 1), (raw >> fmt.man_bits) & fmt.exp_max, raw
    frac &= (1 << fmt.man_bits) - 1
    sig = frac | ((field != 0) << fmt.man_bits)
    value = Fraction(sig) * Fraction(2) ** (max(field, 1) - fmt.bias - fmt.man_bits)
    return -value if sign else value


def _run_comb(m: Module, cases, apply) -> None:
    """Simulate the combinational ``m`` once, calling ``apply(ctx, case)`` for every case."""
    sim = Simulator(m)

    async def bench(ctx):
        for case in cases:
            apply(ctx, case)

    sim.add_testbench(bench)
    sim.run()


def test_exact_encode_self_check():
    assert exact_encode(FLOAT32, Fraction(1, 3)) == 0x3EAAAAAB
    assert exact_encode(FLOAT16, Fraction(65520)) == FLOAT16.inf()
    assert exact_encode(FLOAT16, Fraction(65519)) == 0x7BFF
    assert exact_encode(FLOAT16, Fraction(1, 2**25)) == 0  # tie to even: zero
    assert exact_encode(FLOAT16, Fraction(3, 2**26)) == 1
    assert exact_encode(FLOAT16, -Fraction(1, 2**24), ftz=True) == 0x8000
    for raw in range(1 << 15):
        if (raw >> 10) != 31:
            assert exact_encode(FLOAT16, decode(FLOAT16, raw)) == raw


@pytest.mark.parametrize("width", [1, 2, 5, 8, 16])
def test_leading_zeros(width):
    v = Signal(width)
    m = Module()
    lz = Signal(8)
    m.d.comb += lz.eq(leading_zeros(v))
    values = range(1 << width) if width <= 8 else random.Random(width).sample(range(1 << 16), 300)

    def apply(ctx, x):
        ctx.set(v, x)
        assert ctx.get(lz) == width - x.bit_length()

    _run_comb(m, values, apply)


def test_normalize():
    sig, exp = Signal(11), Signal(signed(6))
    m = Module()
    out_sig, out_exp = Signal(11), Signal(signed(8))
    ns, ne = normalize(sig, exp)
    assert len(ns) == 11 and ne.shape().signed
    m.d.comb += [out_sig.eq(ns), out_exp.eq(ne)]
    rng = random.Random(5)
    cases = [(0, 3), (1, -32), (1 << 10, 31)] + [
        (rng.randrange(1 << rng.randrange(12)), rng.randrange(-32, 32)) for _ in range(200)
    ]

    def apply(ctx, case):
        s, e = case
        ctx.set(sig, s)
        ctx.set(exp, e)
        lz = 11 - s.bit_length()
        assert ctx.get(out_sig) == (s << lz) and ctx.get(out_exp) == e - lz

    _run_comb(m, cases, apply)


def _round_cases(fmt: FloatFormat, n: int, rng: random.Random, count: int):
    """(sign, exp, sig, sticky) with exponents from below the subnormals to beyond overflow."""
    lo, hi = -fmt.bias - fmt.man_bits - 4, fmt.bias + 3
    edges = [lo, 1 - fmt.bias - fmt.man_bits - 1, 1 - fmt.bias - 1, 1 - fmt.bias, fmt.bias]
    cases = [(0, 0, 0, 0), (1, 5, 0, 0), (0, lo - 200, 1 << (n - 1), 1)]
    cases += [(0, hi + 300, (1 << n) - 1, 1)]
    for _ in range(count):
        e = rng.choice(edges + [rng.randint(lo, hi)]) + rng.randint(-1, 1)
        sig = (1 << (n - 1)) | rng.getrandbits(n - 1)
        if rng.random() < 0.3:  # runs of ones or zeros: carries and exact ties
            sig = (
                (1 << n) - 1
                if rng.random() < 0.5
                else 1 << (n - 1) | rng.getrandbits(min(2, n - 1))
            )
        cases.append((rng.getrandbits(1), e, sig, rng.getrandbits(1) & rng.getrandbits(1)))
    return cases


@pytest.mark.parametrize("ftz", [False, True])
@pytest.mark.parametrize(
    ("fmt", "n"),
    [(TINY, 1), (TINY, 3), (TINY, 9), (FLOAT16, 14), (BFLOAT16, 20), (FLOAT32, 60)],
)
def test_round_pack(fmt, n, ftz):
    sign, sig, sticky, exp = Signal(), Signal(n), Signal(), Signal(signed(14))
    out = Signal(fmt.width)
    m = Module()
    m.d.comb += out.eq(round_pack(fmt, sign, exp, sig, sticky, ftz=ftz))
    rng = random.Random(n * 2 + ftz)
    cases = _round_cases(fmt, n, rng, 400 if fmt is TINY else 250)

    def apply(ctx, case):
        s, e, g, st = case
        for signal, value in zip((sign, exp, sig, sticky), case):
            ctx.set(signal, value)
        q = Fraction(g, 1 << (n - 1)) * Fraction(2) ** e
        if st:
            q += Fraction(1, 1 << (n + 2)) * Fraction(2) ** e
        want = exact_encode(fmt, -q if s else q, zero_sign=s, ftz=ftz)
        assert ctx.get(out) == want, (case, hex(ctx.get(out)), hex(want))

    _run_comb(m, cases, apply)


@pytest.mark.parametrize("ftz", [False, True])
@pytest.mark.parametrize("fmt", [TINY, FLOAT16])
def test_unpack(fmt, ftz):
    v = Signal(fmt.width)
    u = unpack(fmt, v, ftz=ftz)
    assert len(u.sig) == fmt.man_bits + 1 and u.exp.shape().signed
    outs = {k: Signal.like(val, name=k) for k, val in u._asdict().items()}
    m = Module()
    m.d.comb += [outs[k].eq(val) for k, val in u._asdict().items()]
    rng = random.Random(fmt.width)
    special = [0, 1, fmt.exp_max << fmt.man_bits, fmt.qnan(), (1 << fmt.man_bits) - 1]
    values = range(1 << fmt.width) if fmt is TINY else special + rng.sample(range(1 << 16), 300)

    def apply(ctx, raw):
        ctx.set(v, raw)
        field, frac = (raw >> fmt.man_bits) & fmt.exp_max, raw & ((1 << fmt.man_bits) - 1)
        sub = field == 0 and frac != 0
        got = {k: ctx.get(s) for k, s in outs.items()}
        assert got["sign"] == raw >> (fmt.width - 1)
        assert got["exp"] == max(field, 1) - fmt.bias
        assert got["sig"] == (0 if ftz and sub else frac | ((field != 0) << fmt.man_bits))
        assert got["is_zero"] == (field == 0 and (frac == 0 or ftz))
        assert got["is_subnormal"] == (sub and not ftz)
        assert got["is_inf"] == (field == fmt.exp_max and frac == 0)
        assert got["is_nan"] == (field == fmt.exp_max and frac != 0)
        if field not in (0, fmt.exp_max) or (sub and not ftz):  # the value it stands for
            q = Fraction(got["sig"], 1 << fmt.man_bits) * Fraction(2) ** got["exp"]
            assert (-q if got["sign"] else q) == decode(fmt, raw)

    _run_comb(m, values, apply)
