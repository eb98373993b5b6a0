"""``FloatMul`` against NumPy bit for bit, and the stage placement shared by the arithmetic
units (``allo_rtl.hw.fp._mul``).

Also the shared test helpers of ``test_fp_div.py`` and ``test_fp_sqrt.py``: :func:`stream`
runs a unit in Amaranth's simulator with one operand set per cycle (and a few bubbles), checking
``valid_out`` and reading each result ``latency`` cycles later; :func:`reference` is the NumPy
result (float16, float32 and float64 in their own NumPy type, bfloat16 as a float32 operation
rounded to bfloat16 by ``allo_rtl.reference._runtime.bf16``), a NaN being ``fmt.qnan()``; with
``ftz`` subnormal operands and results become zeros of their sign. Toy formats (``TINY``) go
against the exact reference of ``test_fp_round.py`` instead, every pair of operands.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from fractions import Fraction

import numpy as np
import pytest
from amaranth.sim import Simulator
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fp_round import TINY, decode, exact_encode

from allo_rtl.hw.fp._format import BFLOAT16, FLOAT16, FLOAT32, FLOAT64, FloatFormat
from allo_rtl.hw.fp._mul import FloatMul, adder_plan, product_rows, row_span
from allo_rtl.hw.fp._stages import default_latency, register_counts
from allo_rtl.reference._runtime import bf16

SMALL = FloatFormat(2, 3)  # bias 1: products of two subnormals matter, roots may be subnormal
_NUMPY = {FLOAT16: np.float16, FLOAT32: np.float32, FLOAT64: np.float64, BFLOAT16: np.float32}
_UINT = {16: np.uint16, 32: np.uint32, 64: np.uint64}


# ---------------------------------------------------------------- shared helpers


def quiet(unit):
    """``unit``, built only to read its attributes (no "unused elaboratable" warning)."""
    unit._MustUse__silence = True
    return unit


def stream(dut, operands: dict[str, Sequence[int]], seed: int = 0) -> list[int]:
    """Run ``dut`` on ``operands`` (port name -> values), one set per cycle with a bubble
    (``valid_in`` low, other operands) now and then; check that ``valid_out`` follows
    ``valid_in`` by ``dut.latency`` cycles and return the results of the valid sets."""
    n = len(next(iter(operands.values())))
    rng = random.Random(seed)
    order: list[int | None] = []
    for i in range(n):
        if rng.random() < 0.05:
            order.append(None)
        order.append(i)
    lat, results, valids = dut.latency, [], []
    ports = {name: getattr(dut, name) for name in operands}

    async def bench(ctx):
        for t in range(len(order) + lat):
            i = order[t] if t < len(order) else None
            for name, port in ports.items():
                ctx.set(port, operands[name][i] if i is not None else rng.getrandbits(len(port)))
            ctx.set(dut.valid_in, i is not None)
            if lat:
                await ctx.tick()
            if t + 1 >= lat or not lat:
                valids.append(ctx.get(dut.valid_out))
                results.append(ctx.get(dut.result))

    sim = Simulator(dut)
    if lat:
        sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert valids[: len(order)] == [int(i is not None) for i in order]
    return [r for r, i in zip(results, order) if i is not None]


def encodings(fmt: FloatFormat, values: np.ndarray) -> np.ndarray:
    """NumPy values (bfloat16 values as float32) -> their encodings, NaN as ``fmt.qnan()``."""
    if fmt == BFLOAT16:
        rounded = np.array([bf16(v) for v in values], dtype=np.float32)
        bits = rounded.view(np.uint32).astype(np.uint64) >> 16
    else:
        bits = values.astype(_NUMPY[fmt]).view(_UINT[fmt.width]).astype(np.uint64)
    return np.where(np.isnan(values), fmt.qnan(), bits)


def decoded(fmt: FloatFormat, raws: Sequence[int]) -> np.ndarray:
    """Encodings -> NumPy values (bfloat16 as float32)."""
    bits = np.array(raws, dtype=np.uint64)
    if fmt == BFLOAT16:
        return (bits << 16).astype(np.uint32).view(np.float32)
    return bits.astype(_UINT[fmt.width]).view(_NUMPY[fmt])


def flush(fmt: FloatFormat, raws: np.ndarray) -> np.ndarray:
    """Subnormal encodings replaced by the zero of their sign."""
    raws = np.asarray(raws, dtype=np.uint64)
    sub = (raws >> np.uint64(fmt.man_bits)) & np.uint64(fmt.exp_max) == 0
    return np.where(sub, raws & np.uint64(1 << (fmt.width - 1)), raws)


def reference(fmt: FloatFormat, op: Callable, *operands: Sequence[int], ftz=False) -> list[int]:
    """``op`` (a NumPy ufunc) on the encodings ``operands``, as encodings (module docstring)."""
    raws = [np.asarray(o, dtype=np.uint64) for o in operands]
    if ftz:
        raws = [flush(fmt, r) for r in raws]
    with np.errstate(all="ignore"):
        out = op(*(decoded(fmt, r) for r in raws))
    bits = encodings(fmt, out)
    return [int(b) for b in (flush(fmt, bits) if ftz else bits)]


def exact_reference(fmt: FloatFormat, op: Callable, *operands: int, ftz=False) -> int:
    """``op`` on ``Fraction`` s (``None``: NaN; ``op`` handles zeros, infinities and NaNs
    itself), rounded exactly (``test_fp_round.exact_encode``)."""
    field = [(x >> fmt.man_bits) & fmt.exp_max for x in operands]
    if ftz:
        operands = tuple(
            x & (1 << (fmt.width - 1)) if f == 0 else x for x, f in zip(operands, field)
        )
    result = op(*operands)
    if result is None:
        return fmt.qnan()
    if isinstance(result, int):  # an encoding
        return result
    value, zero_sign = result
    return exact_encode(fmt, value, zero_sign=zero_sign, ftz=ftz)


def assert_same(got: Sequence[int], want: Sequence[int], *operands: Sequence[int]) -> None:
    bad = [i for i, (g, w) in enumerate(zip(got, want)) if g != w]
    assert len(got) == len(want)
    detail = [(" ".join(hex(o[i]) for o in operands), hex(got[i]), hex(want[i])) for i in bad[:8]]
    assert not bad, f"{len(bad)} of {len(got)} wrong (operands, got, want): {detail}"


def special_values(fmt: FloatFormat) -> list[int]:
    """Zeros, subnormal and normal extremes, ones, infinities and NaNs, of both signs."""
    m, top = fmt.man_bits, fmt.exp_max
    one = fmt.bias << m
    magnitudes = [0, 1, 2, 3, (1 << m) - 1, 1 << (m - 1), 1 << m, (1 << m) + 1]
    magnitudes += [(top << m) - 1, (top << m) - 2, (top - 1) << m, one, one + 1, one - 1]
    magnitudes += [one + (1 << (m - 1)), (fmt.bias + 1) << m, top << m]
    nans = [fmt.qnan(), (top << m) | 1, (1 << (fmt.width - 1)) | fmt.qnan()]
    sign = 1 << (fmt.width - 1)
    return magnitudes + [v | sign for v in magnitudes] + nans


def random_values(fmt: FloatFormat, rng: random.Random, count: int) -> list[int]:
    """Encodings with exponents spread evenly, a quarter of them subnormal or near the ends of
    the range, and some with short significands (carries, exact ties)."""
    out = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.15:
            field = 0
        elif kind < 0.3:
            field = rng.choice([1, 2, fmt.exp_max - 2, fmt.exp_max - 1])
        else:
            field = rng.randrange(1, fmt.exp_max)
        frac = rng.getrandbits(fmt.man_bits)
        if rng.random() < 0.2:
            frac &= ~((1 << rng.randrange(fmt.man_bits)) - 1)  # trailing zeros
        out.append((rng.getrandbits(1) << (fmt.width - 1)) | (field << fmt.man_bits) | frac)
    return out


def near(fmt: FloatFormat, target: Fraction) -> list[int]:
    """The positive encodings next to ``target`` (finite, nonzero): the nearest and its two
    neighbours."""
    raw = exact_encode(fmt, target)
    return [r for r in (raw - 1, raw, raw + 1) if 0 < r < fmt.inf()]


def boundaries(fmt: FloatFormat) -> list[Fraction]:
    """Results at the edges: the largest finite value and the overflow threshold, the smallest
    normal value, the largest and smallest subnormal values and half of the smallest."""
    m, bias = fmt.man_bits, fmt.bias
    tiny = Fraction(1, 2 ** (bias - 1 + m))
    biggest = (2 - Fraction(1, 2**m)) * Fraction(2) ** bias
    return [
        biggest,
        biggest + Fraction(2) ** (bias - m - 1),
        Fraction(2) ** (1 - bias),
        Fraction(2) ** (1 - bias) - tiny,
        tiny,
        tiny / 2,
        3 * tiny / 2,
    ]


def pairs_towards(
    fmt: FloatFormat,
    rng: random.Random,
    count: int,
    second: Callable[[Fraction, Fraction], Fraction],
) -> list[tuple[int, int]]:
    """Operand pairs ``(a, b)`` whose exact result lies next to one of :func:`boundaries`:
    ``b`` is every encoding next to ``second(a, target)``, with random signs."""
    out = []
    for _ in range(count):
        a = random_values(fmt, rng, 1)[0] & (fmt.inf() - 1)
        if a >> fmt.man_bits in (0, fmt.exp_max) and rng.random() < 0.7:
            continue
        if a == 0:
            continue
        target = rng.choice(boundaries(fmt))
        b_value = second(decode(fmt, a), target)
        if not (0 < b_value < decode(fmt, fmt.inf() - 1) * 2):
            continue
        sign = 1 << (fmt.width - 1)
        for b in near(fmt, b_value):
            out.append((a | (sign * rng.getrandbits(1)), b | (sign * rng.getrandbits(1))))
    return out


def tie_pairs(fmt: FloatFormat, rng: random.Random, count: int, divide: bool) -> list[tuple]:
    """Pairs ``(a, b)``, ``b`` a power of two, whose exact product (or quotient) lies in the
    subnormal range exactly halfway between two subnormal numbers (``d`` bits below the last
    one, of which only the top one is set), so that rounding has to break a tie."""
    m, emin, out = fmt.man_bits, 1 - fmt.bias, []
    for _ in range(count):
        d = rng.randint(1, m + 1)
        sig = (1 << m) | (rng.getrandbits(m) & ~((1 << d) - 1)) | (1 << (d - 1))
        ea = rng.randint(emin, fmt.bias)
        s = emin - ea - d  # the result a * 2**s is sig / 2**d subnormal steps
        power = -s if divide else s
        if not emin - m <= power <= fmt.bias:
            continue
        b = exact_encode(fmt, Fraction(2) ** power)
        a = ((ea - emin + 1) << m) | (sig & ((1 << m) - 1))
        sign = 1 << (fmt.width - 1)
        out.append((a | sign * rng.getrandbits(1), b | sign * rng.getrandbits(1)))
    return out


def binary_cases(
    fmt: FloatFormat,
    seed: int,
    count: int,
    second: Callable[[Fraction, Fraction], Fraction],
    divide: bool = False,
    specials: int | None = None,
) -> tuple[list[int], list[int]]:
    """Pairs of special values (every pair, or ``specials`` of them), random pairs, pairs
    towards the boundaries and ties in the subnormal range."""
    rng = random.Random(seed)
    special = special_values(fmt)
    pairs = [(a, b) for a in special for b in special]
    if specials is not None:
        pairs = rng.sample(pairs, specials)
    pairs += pairs_towards(fmt, rng, count // 6, second)
    pairs += tie_pairs(fmt, rng, count // 10, divide)
    mixed = random_values(fmt, rng, count) + rng.sample(special * 4, min(count // 4, 100))
    rng.shuffle(mixed)
    pairs += zip(mixed, random_values(fmt, rng, len(mixed)))
    rng.shuffle(pairs)
    return [a for a, _ in pairs], [b for _, b in pairs]


# ---------------------------------------------------------------- exact multiply


def exact_mul(fmt: FloatFormat):
    def op(a: int, b: int):
        fa, fb = decode_special(fmt, a), decode_special(fmt, b)
        if fa is None or fb is None:
            return None
        sign = (a ^ b) >> (fmt.width - 1)
        if isinstance(fa, str) or isinstance(fb, str):  # an infinity
            if fa == 0 or fb == 0:
                return None
            return fmt.inf(sign)
        return fa * fb, sign

    return op


def decode_special(fmt: FloatFormat, raw: int):
    """``None`` for a NaN, ``"inf"`` for an infinity, else the exact value."""
    if (raw >> fmt.man_bits) & fmt.exp_max == fmt.exp_max:
        return None if raw & ((1 << fmt.man_bits) - 1) else "inf"
    return decode(fmt, raw)


# ---------------------------------------------------------------- tests


def _mul_sweep(fmt: FloatFormat, latency: int | None, count: int, seed: int, ftz=False):
    """``count`` random operand pairs and as many others; every pair of special values at the
    default latency, else a sample."""
    specials = None if latency is None and not ftz else 150
    a, b = binary_cases(fmt, seed, count, lambda x, target: target / x, specials=specials)
    assert any(x >> fmt.man_bits & fmt.exp_max == 0 for x in reference(fmt, np.multiply, a, b))
    dut = FloatMul(fmt, latency=latency, ftz=ftz)
    got = stream(dut, {"a": a, "b": b}, seed)
    assert_same(got, reference(fmt, np.multiply, a, b, ftz=ftz), a, b)


@pytest.mark.parametrize("fmt", [FLOAT16, BFLOAT16, FLOAT32], ids=lambda f: f.name)
def test_mul_default_latency(fmt):
    _mul_sweep(fmt, None, 3000, 1)


@pytest.mark.parametrize("latency", [0, 1, 3, 9])
@pytest.mark.parametrize("fmt", [FLOAT16, BFLOAT16, FLOAT32], ids=lambda f: f.name)
def test_mul_latencies(fmt, latency):
    _mul_sweep(fmt, latency, 400, 10 + latency)


@pytest.mark.parametrize("fmt", [FLOAT16, BFLOAT16, FLOAT32], ids=lambda f: f.name)
@pytest.mark.parametrize("latency", [0, None])
def test_mul_ftz(fmt, latency):
    _mul_sweep(fmt, latency, 800, 20, ftz=True)


@pytest.mark.parametrize("ftz", [False, True])
def test_mul_float64(ftz):
    _mul_sweep(FLOAT64, 6, 250, 30, ftz=ftz)


@pytest.mark.parametrize("ftz", [False, True])
@pytest.mark.parametrize("fmt", [TINY, SMALL], ids=["tiny", "small"])
def test_mul_toy_formats_exhaustive(fmt, ftz):
    """Every pair of a 6-bit format (both subnormal operands normalised) against exact
    rounding."""
    values = range(1 << fmt.width)
    a = [x for x in values for _ in values]
    b = [y for _ in values for y in values]
    got = stream(FloatMul(fmt, latency=2, ftz=ftz), {"a": a, "b": b})
    want = [exact_reference(fmt, exact_mul(fmt), x, y, ftz=ftz) for x, y in zip(a, b)]
    assert_same(got, want, a, b)


def edge_products(fmt: FloatFormat) -> tuple[list[int], list[int]]:
    """Pairs at the edges of the rounding addition: products next to the smallest normal
    number (rounding up to it, with ``ftz`` too, or flushed), next to the overflow threshold
    with either position of the product's top bit, subnormal operands normalised as far as the
    exponent allows, and two subnormals; every pair in both orders and with mixed signs."""
    m, top, sign = fmt.man_bits, fmt.exp_max, 1 << (fmt.width - 1)
    mask, low, one = (1 << m) - 1, 1 << m, fmt.bias << m
    big = ((top - 1) << m) | mask
    near_one = [one - 2, one - 1, one, one + 1, one | mask, one | (1 << (m - 1))]
    tiny = [low, low | 1, low >> 1, mask, mask - 1, 1, 3, low << 1]
    large = [big, big - 1, (top - 1) << m, (top - 2) << m, ((top - 2) << m) | mask]
    powers = [(fmt.bias + k) << m for k in (m, m + 1, m + 2, 1, 2)] + [one | mask]
    pairs = [(a, b) for a in near_one for b in tiny + large]
    pairs += [(a, b | mask) for a in tiny for b in powers] + [(a, b) for a in tiny for b in powers]
    pairs += [(a, b) for a in tiny for b in tiny] + [(a, b) for a in large for b in powers]
    pairs += [(b, a | sign) for a, b in pairs]
    return [a for a, _ in pairs], [b for _, b in pairs]


@pytest.mark.parametrize("ftz", [False, True])
@pytest.mark.parametrize("fmt", [FLOAT16, BFLOAT16, FLOAT32, FLOAT64], ids=lambda f: f.name)
def test_mul_edges(fmt, ftz):
    a, b = edge_products(fmt)
    for latency in [0, None] if fmt == FLOAT32 else [0]:
        got = stream(FloatMul(fmt, latency=latency, ftz=ftz), {"a": a, "b": b})
        assert_same(got, reference(fmt, np.multiply, a, b, ftz=ftz), a, b)


_raw32 = st.one_of(
    st.integers(0, (1 << 32) - 1),
    st.sampled_from(special_values(FLOAT32)),
    st.builds(lambda s, f: s << 31 | f, st.integers(0, 1), st.integers(0, (1 << 23) - 1)),
)


@settings(max_examples=5, deadline=None)
@given(st.lists(st.tuples(_raw32, _raw32), min_size=1, max_size=100))
def test_mul_float32_hypothesis(pairs):
    a, b = [x for x, _ in pairs], [y for _, y in pairs]
    got = stream(FloatMul(FLOAT32, latency=2), {"a": a, "b": b})
    assert_same(got, reference(FLOAT32, np.multiply, a, b), a, b)


def test_mul_defaults_and_ports():
    assert [quiet(FloatMul(f)).latency for f in (FLOAT16, BFLOAT16, FLOAT32, FLOAT64)] == [
        5,
        5,
        7,
        8,
    ]
    assert [quiet(FloatMul(f, ftz=True)).latency for f in (FLOAT16, FLOAT32)] == [4, 5]
    assert quiet(FloatMul(FLOAT32, latency=0)).latency == 0
    unit = quiet(FloatMul(BFLOAT16, ftz=True))
    assert unit.default == unit.latency and len(unit.a) == len(unit.result) == 16
    with pytest.raises(ValueError, match="latency"):
        FloatMul(FLOAT32, latency=-1)


def test_register_counts():
    delays = [1.0, 5.0, 1.0, 1.0, 4.0, 2.0]
    assert register_counts(delays, 0) == [0] * 6
    assert register_counts(delays, 6) == [1] * 6
    assert register_counts(delays, 8) == [1] * 5 + [3]
    assert default_latency(delays, budget=6.0) == 3
    for latency in range(1, 6):
        counts = register_counts(delays, latency, budget=6.0)
        assert sum(counts) == latency and counts[-1] == 1
    assert max(_stages(delays, register_counts(delays, 3, budget=6.0))) == 6.0
    assert _stages(delays, register_counts(delays, 2, budget=6.0)) == [7.0, 7.0]
    assert register_counts([3.0, 3.0, 3.0, 3.0], 2) == [0, 1, 0, 1]


def _stages(delays: list[float], counts: list[int]) -> list[float]:
    out, current = [], 0.0
    for d, k in zip(delays, counts):
        current += d
        if k:
            out, current = out + [current], 0.0
    return out


def test_product_rows():
    """Partial products packed into rows without overlap: float32's two diagonal products
    share a row, so its adder tree has three terms (the two cross products added first)."""
    for p, expected_rows in [(24, 3), (53, 5), (11, 1)]:
        cuts = range(0, p, 18)
        pieces = sorted(((i, j) for i in cuts for j in cuts), key=sum)
        rows = product_rows(pieces, p)
        assert sorted(x for row in rows for x in row) == sorted(pieces)
        assert len(rows) == expected_rows
        for row in rows:
            ends = [row_span([piece], p) for piece in row]
            assert all(a[1] <= b[0] for a, b in zip(ends, ends[1:]))
    spans = [row_span(row, 24) for row in product_rows([(0, 0), (0, 18), (18, 0), (18, 18)], 24)]
    assert spans == [(0, 48), (18, 42), (18, 42)]
    assert [groups for groups, _ in adder_plan(spans)] == [[(1, 2), (0,)], [(0, 1)]]
