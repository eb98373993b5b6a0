"""FloatFMA against an exact reference: ``a * b + c`` in ``Fraction`` arithmetic, rounded once
by ``exact_encode`` (integer arithmetic, independent of the hardware helpers)."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fp_add import _mantissa, check, flush, is_nan, simulate, specials
from test_fp_round import decode, exact_encode

from allo_rtl.hw.fp._fma import FloatFMA, default_latency
from allo_rtl.hw.fp._format import BFLOAT16, FLOAT16, FLOAT32, FLOAT64, FloatFormat


def _is_inf(fmt: FloatFormat, raw: int) -> bool:
    return (raw & ((1 << (fmt.width - 1)) - 1)) == fmt.inf()


def reference_fma(fmt: FloatFormat, a: int, b: int, c: int, ftz: bool = False) -> int:
    """The encoding of ``round(a * b + c)`` (IEEE 754 fusedMultiplyAdd, nearest even)."""
    if ftz:
        a, b, c = flush(fmt, a), flush(fmt, b), flush(fmt, c)
    top = fmt.width - 1
    sa, sb, sc = a >> top, b >> top, c >> top
    sp = sa ^ sb
    if any(is_nan(fmt, x) for x in (a, b, c)):
        return fmt.qnan()
    zero = [x & ((1 << top) - 1) == 0 for x in (a, b, c)]
    inf = [_is_inf(fmt, x) for x in (a, b, c)]
    if (inf[0] and zero[1]) or (zero[0] and inf[1]):
        return fmt.qnan()
    if inf[0] or inf[1]:
        return fmt.qnan() if inf[2] and sc != sp else fmt.inf(sp)
    if inf[2]:
        return fmt.inf(sc)
    q = decode(fmt, a) * decode(fmt, b) + decode(fmt, c)
    # an exact zero: the common sign of the product and c, else +0
    zero_sign = sp & sc if (zero[0] or zero[1]) and zero[2] else 0
    return exact_encode(fmt, q, zero_sign=zero_sign, ftz=ftz)


def _random_finite(fmt: FloatFormat, rng: random.Random, exp: int) -> int:
    """A random finite encoding with biased exponent ``exp`` clamped into ``[0, exp_max)``."""
    exp = min(max(exp, 0), fmt.exp_max - 1)
    return (
        (rng.getrandbits(1) << (fmt.width - 1))
        | (exp << fmt.man_bits)
        | _mantissa(rng, fmt.man_bits)
    )


def _floor_log2(q: Fraction) -> int:
    q = abs(q)
    e = q.numerator.bit_length() - q.denominator.bit_length()
    return e - 1 if Fraction(2) ** e > q else e


def operands(fmt: FloatFormat, rng: random.Random, count: int) -> list[tuple[int, int, int]]:
    """``count`` triples: random encodings, specials, and products meeting ``c`` at every
    alignment (cancellation, c far above or below, subnormal factors, under- and overflow)."""
    w, m, bias, p = fmt.width, fmt.man_bits, fmt.bias, fmt.man_bits + 1
    sp = specials(fmt)
    cases = []
    while len(cases) < count:
        kind = rng.randrange(8)
        if kind == 0:
            a, b, c = (rng.getrandbits(w) for _ in range(3))
        elif kind == 1:
            a, b, c = (rng.choice(sp + [rng.getrandbits(w)]) for _ in range(3))
        elif kind in (2, 3):  # c within a few product widths of a * b
            ea = rng.randint(1, fmt.exp_max - 1)
            eb = rng.randint(max(1, bias - ea - 40), min(fmt.exp_max - 1, 3 * bias - ea))
            a, b = _random_finite(fmt, rng, ea), _random_finite(fmt, rng, eb)
            if kind == 2:  # near cancellation: c close to -a * b
                pe = reference_fma(fmt, a, b, 0) ^ (1 << (w - 1))
                c = max(0, min(pe + rng.randint(-3, 3), (1 << w) - 1))
                c = c if (c >> m) & fmt.exp_max != fmt.exp_max else pe
            else:
                c = _random_finite(fmt, rng, ea + eb - bias + rng.randint(-3 * p - 6, 3 * p + 6))
        elif kind == 4:  # a subnormal (or tiny) factor
            a = (rng.getrandbits(1) << (w - 1)) | rng.getrandbits(m)
            b = _random_finite(fmt, rng, rng.randint(bias, fmt.exp_max - 1))
            c = _random_finite(fmt, rng, rng.randint(0, 2 * bias))
        elif kind == 6:  # c a power of two (or just above) a few bits above the product
            a = _random_finite(fmt, rng, rng.randint(bias - bias // 2, bias + bias // 2))
            b = _random_finite(fmt, rng, rng.randint(bias - bias // 2, bias + bias // 2))
            e = _floor_log2(decode(fmt, a) * decode(fmt, b)) + p + rng.randint(-2, 3)
            sign = (a ^ b) >> (w - 1) ^ rng.randrange(4) // 3  # mostly opposite signs
            field = min(max(e + bias, 1), fmt.exp_max - 1)
            c = (sign ^ 1) << (w - 1) | (field << m) | rng.choice([0, 0, 1, 2])
        elif kind == 7:  # a subnormal factor with few bits; c's low bits beyond the product
            a = (rng.getrandbits(1) << (w - 1)) | max(1, rng.getrandbits(rng.randint(1, 4)))
            b = _random_finite(fmt, rng, rng.randint(bias + m, fmt.exp_max - 1))
            q = decode(fmt, a) * decode(fmt, b) * Fraction(rng.randint(17, 250), 1000)
            c = exact_encode(fmt, -q if rng.randrange(4) else q)
        else:  # tiny or huge results
            big = rng.getrandbits(1)
            lo, hi = (bias + bias // 2, fmt.exp_max - 1) if big else (0, bias // 2)
            a = _random_finite(fmt, rng, rng.randint(lo, hi))
            b = _random_finite(fmt, rng, rng.randint(lo, hi))
            c = _random_finite(fmt, rng, rng.randint(0, fmt.exp_max - 1))
        if rng.getrandbits(1):
            a, b = b, a
        cases.append((a, b, c))
    return cases


def run_fma(fmt: FloatFormat, cases, latency=None, ftz=False) -> None:
    dut = FloatFMA(fmt, latency=latency, ftz=ftz)
    got = simulate(dut, cases, lambda t: {"a": t[0], "b": t[1], "c": t[2]})
    check(fmt, cases, got, [reference_fma(fmt, *t, ftz=ftz) for t in cases])


def special_triples(fmt: FloatFormat, rng: random.Random, count: int):
    sp = specials(fmt)
    return [tuple(rng.choice(sp) for _ in range(3)) for _ in range(count)]


def test_reference_fma_self_check():
    f = FLOAT32
    one, two, neg = 0x3F800000, 0x40000000, 0x80000000
    assert reference_fma(f, one, one, one) == two
    assert reference_fma(f, one, neg, neg) == neg  # (-0) + (-0)
    assert reference_fma(f, one, one, one | neg) == 0  # 1 - 1 = +0
    assert reference_fma(f, f.inf(), 0, one) == f.qnan()
    # one rounding: (1 + 2**-23)**2 - 1 keeps the 2**-46 term a double rounding loses
    x = 0x3F800001
    assert reference_fma(f, x, x, one | neg) == exact_encode(f, Fraction(2**24 + 1, 2**46))


def test_fma_directed():
    """Cases where a window without room below the product, or without a gap above it,
    rounds wrongly: 2**-24 * 2**15 - 1029 * 2**-22 = 7163 * 2**-22 rounds up (not to even);
    0.75 * 2**-11 - 1 rounds to -(1 - 2**-11) (the product is not merely sticky)."""
    f = FLOAT16
    cases = [(0x0001, 0x7800, 0x8C05), (0x3A00, 0x1000, 0xBC00), (0x1000, 0x3A00, 0xBC00)]
    want = [exact_encode(f, Fraction(7164, 2**22))] + [0xBBFF] * 2
    assert [reference_fma(f, *t) for t in cases] == want
    run_fma(f, cases)


@pytest.mark.parametrize("fmt", [FLOAT16, BFLOAT16, FLOAT32], ids=lambda f: f.name)
def test_fma_default_latency(fmt):
    rng = random.Random(fmt.width + 7)
    run_fma(fmt, special_triples(fmt, rng, 300) + operands(fmt, rng, 1200))


@pytest.mark.parametrize("latency", range(default_latency(FLOAT16) + 1))
def test_fma_latencies(latency):
    rng = random.Random(100 + latency)
    run_fma(FLOAT16, operands(FLOAT16, rng, 250), latency=latency)


@pytest.mark.parametrize("fmt", [FLOAT16, FLOAT32], ids=lambda f: f.name)
def test_fma_ftz(fmt):
    rng = random.Random(fmt.width + 8)
    run_fma(fmt, special_triples(fmt, rng, 100) + operands(fmt, rng, 500), ftz=True)


def test_fma_float64():
    rng = random.Random(64)
    run_fma(FLOAT64, special_triples(FLOAT64, rng, 60) + operands(FLOAT64, rng, 300))


# ---------------------------------------------------------------- Hypothesis, float32

_SIGN32, _MAG32 = 1 << 31, (1 << 31) - 1
_fraction23 = st.one_of(
    st.integers(0, (1 << 23) - 1),
    st.sampled_from([0, 1, 3, 1 << 22, (1 << 22) | 1, (1 << 23) - 2, (1 << 23) - 1]),
)
_sign = st.integers(0, 1)
_raw32 = st.one_of(
    st.integers(0, (1 << 32) - 1),
    st.sampled_from(specials(FLOAT32)),
    st.builds(lambda s, f: s << 31 | f, _sign, st.integers(0, (1 << 23) - 1)),  # subnormal
)
# finite factors whose products are mostly normal, some subnormal or overflowing
_moderate32 = st.builds(
    lambda s, e, f: s << 31 | e << 23 | f, _sign, st.integers(127 - 70, 127 + 70), _fraction23
)


@st.composite
def _fma_triples(draw) -> tuple[int, int, int]:
    """Independent operands, or ``c`` against the rounded product ``a * b`` (of
    ``reference_fma``): its negation a few ulps off (cancellation), or the same exponent
    give or take 60 (c far above, aligned with, or only sticky below the product)."""
    kind = draw(st.sampled_from(["any", "cancel", "align"]))
    if kind == "any":
        return draw(_raw32), draw(_raw32), draw(_raw32)
    a, b = draw(st.one_of(_moderate32, _raw32)), draw(_moderate32)
    p = reference_fma(FLOAT32, a, b, 0)
    if kind == "cancel":
        mag = min(max((p & _MAG32) + draw(st.integers(-3, 3)), 0), FLOAT32.inf())
        return a, b, (p ^ _SIGN32) & _SIGN32 | mag
    exp = min(max((p & _MAG32) >> 23, 1) + draw(st.integers(-60, 60)), 254)
    return a, b, draw(_sign) << 31 | max(exp, 0) << 23 | draw(_fraction23)


@settings(max_examples=5, deadline=None)
@given(st.lists(_fma_triples(), min_size=1, max_size=100))
def test_fma_float32_hypothesis(cases):
    run_fma(FLOAT32, cases)
