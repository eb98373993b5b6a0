"""FloatAdd against NumPy, bit for bit, streaming one operand pair per cycle.

float16, float32 and float64 use NumPy arithmetic of the same type; bfloat16 adds in float32
and rounds to bfloat16 (nearest even; the double rounding is innocuous as 24 >= 2 * 8 + 2).
A NaN result must be exactly the canonical quiet NaN.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from amaranth.sim import Simulator
from hypothesis import given, settings
from hypothesis import strategies as st

from allo_rtl.hw.fp._add import FloatAdd, cut_points, default_latency
from allo_rtl.hw.fp._format import BFLOAT16, FLOAT16, FLOAT32, FLOAT64, FloatFormat

_NP = {FLOAT16: (np.float16, np.uint16), FLOAT32: (np.float32, np.uint32)}
_NP[FLOAT64] = (np.float64, np.uint64)


def flush(fmt: FloatFormat, raw: int) -> int:
    """A subnormal encoding replaced by the zero of its sign."""
    if (raw >> fmt.man_bits) & fmt.exp_max == 0:
        return raw & (1 << (fmt.width - 1))
    return raw


def is_nan(fmt: FloatFormat, raw: int) -> bool:
    return (raw >> fmt.man_bits) & fmt.exp_max == fmt.exp_max and raw & ((1 << fmt.man_bits) - 1)


def _bf16_bits(x: np.ndarray) -> list[int]:
    """float32 values rounded to bfloat16 (nearest even) encodings; NaN stays a NaN."""
    out = []
    for bits in x.view(np.uint32).tolist():
        if (bits & 0x7F800000) == 0x7F800000:
            out.append(bits >> 16 | (0x40 if bits & 0x7FFFFF else 0))
        else:
            out.append((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16)
    return out


def reference_add(fmt: FloatFormat, cases, ftz: bool = False) -> list[int]:
    """NumPy's ``a + b`` / ``a - b`` encodings for ``cases`` of ``(a, b, sub)``."""
    if ftz:
        cases = [(flush(fmt, a), flush(fmt, b), s) for a, b, s in cases]
    a = [c[0] for c in cases]
    b = [c[1] for c in cases]
    sub = np.array([c[2] for c in cases], dtype=bool)
    if fmt == BFLOAT16:
        fa = (np.array(a, np.uint32) << 16).view(np.float32)
        fb = (np.array(b, np.uint32) << 16).view(np.float32)
    else:
        ftype, utype = _NP[fmt]
        fa, fb = np.array(a, utype).view(ftype), np.array(b, utype).view(ftype)
    with np.errstate(all="ignore"):
        out = np.where(sub, fa - fb, fa + fb)
    bits = _bf16_bits(out) if fmt == BFLOAT16 else out.view(_NP[fmt][1]).tolist()
    return [flush(fmt, r) if ftz else r for r in bits]


def specials(fmt: FloatFormat) -> list[int]:
    """Zeros, subnormal and normal boundaries, largest finite, infinities, NaNs (both signs)."""
    m, one = fmt.man_bits, fmt.bias << fmt.man_bits
    mask = (1 << m) - 1
    pos = [0, 1, 2, mask, 1 << m, (1 << m) | 1, one, one | 1, one | mask, one + (1 << m)]
    pos += [((fmt.exp_max - 1) << m) | mask, ((fmt.exp_max - 1) << m), fmt.inf(), fmt.qnan()]
    pos += [fmt.inf() | 1, ((fmt.bias + fmt.man_bits + 1) << m), (1 << m) - 2]
    return pos + [x | (1 << (fmt.width - 1)) for x in pos]


def operands(fmt: FloatFormat, rng: random.Random, count: int) -> list[tuple[int, int, int]]:
    """``count`` operand triples ``(a, b, sub)``: random encodings, nearby exponents (partial
    and total cancellation, rounding ties, carries), overflow and underflow edges."""
    w, m = fmt.width, fmt.man_bits
    sp = specials(fmt)
    cases = []
    while len(cases) < count:
        kind = rng.randrange(7)
        a = rng.getrandbits(w)
        sub = rng.getrandbits(1)
        if kind == 0:
            b = rng.getrandbits(w)
        elif kind == 1:  # special values against anything
            a, b = rng.choice(sp), rng.choice(sp + [rng.getrandbits(w)])
        elif kind == 2:  # exponents within p + 3: alignment, guard and sticky, ties
            shift = rng.randint(-(m + 4), m + 4)
            field = min(max(((a >> m) & fmt.exp_max) + shift, 0), fmt.exp_max - 1)
            b = (rng.getrandbits(1) << (w - 1)) | (field << m) | _mantissa(rng, m)
        elif kind == 3:  # exact or near cancellation
            b = a ^ (rng.getrandbits(1) << (w - 1))
            b = max(0, min(b + rng.randint(-2, 2), (1 << w) - 1))
        elif kind == 4:  # tiny operands: subnormal sums and differences
            a = (rng.getrandbits(1) << (w - 1)) | rng.getrandbits(m + 2)
            b = (rng.getrandbits(1) << (w - 1)) | rng.getrandbits(m + 2)
        elif kind == 5:  # huge operands: overflow
            top = (fmt.exp_max - 1 - rng.randrange(2)) << m
            a = (rng.getrandbits(1) << (w - 1)) | top | _mantissa(rng, m)
            b = (rng.getrandbits(1) << (w - 1)) | (top - (rng.randrange(m + 3) << m))
            b |= _mantissa(rng, m)
        else:  # a == b up to the sign: doubling or exact zero
            b = a ^ (rng.getrandbits(1) << (w - 1))
        if rng.getrandbits(1):
            a, b = b, a
        cases.append((a, b, sub))
    return cases


def _mantissa(rng: random.Random, m: int) -> int:
    """Random fraction bits, often with long runs of ones or zeros (carries and ties)."""
    kind = rng.randrange(4)
    if kind == 0:
        return (1 << m) - 1 - rng.getrandbits(2)
    if kind == 1:
        return rng.getrandbits(2) << rng.randrange(m - 1)
    return rng.getrandbits(m)


def simulate(dut, cases, inputs) -> list[int]:
    """Stream ``cases`` into ``dut`` (``inputs(case)`` maps port names to values), one per
    cycle with a random ``valid_in`` pattern; returns the results, checking ``valid_out``."""
    lat = dut.latency
    rng = random.Random(len(cases))
    valids = [rng.getrandbits(1) for _ in cases]
    results = [None] * len(cases)
    sim = Simulator(dut)
    if lat:
        sim.add_clock(1e-6)

    async def bench(ctx):
        for i in range(len(cases) + lat):
            if i < len(cases):
                for port, value in inputs(cases[i]).items():
                    ctx.set(getattr(dut, port), value)
                ctx.set(dut.valid_in, valids[i])
            if i >= lat:
                results[i - lat] = ctx.get(dut.result)
                assert ctx.get(dut.valid_out) == valids[i - lat]
            if lat:
                await ctx.tick()
            else:
                await ctx.delay(1e-6)

    sim.add_testbench(bench)
    sim.run()
    return results


def check(fmt: FloatFormat, cases, got, want) -> None:
    bad = []
    for case, g, w in zip(cases, got, want):
        ok = g == fmt.qnan() if is_nan(fmt, w) else g == w
        if not ok:
            bad.append(f"{[hex(x) for x in case]}: got {g:#x}, want {w:#x}")
    assert not bad, f"{len(bad)} of {len(cases)} wrong:\n" + "\n".join(bad[:10])


def run_add(fmt: FloatFormat, cases, latency=None, ftz=False) -> None:
    dut = FloatAdd(fmt, latency=latency, ftz=ftz)
    got = simulate(dut, cases, lambda c: {"a": c[0], "b": c[1], "sub": c[2]})
    check(fmt, cases, got, reference_add(fmt, cases, ftz))


def all_special_pairs(fmt: FloatFormat) -> list[tuple[int, int, int]]:
    sp = specials(fmt)
    return [(a, b, s) for a in sp for b in sp for s in (0, 1)]


@pytest.mark.parametrize("fmt", [FLOAT16, BFLOAT16, FLOAT32], ids=lambda f: f.name)
def test_add_default_latency(fmt):
    rng = random.Random(fmt.width)
    run_add(fmt, all_special_pairs(fmt)[::2] + operands(fmt, rng, 1200))


@pytest.mark.parametrize("latency", range(default_latency(FLOAT32) + 1))
def test_add_latencies(latency):
    rng = random.Random(latency)
    run_add(FLOAT32, operands(FLOAT32, rng, 300), latency=latency)


@pytest.mark.parametrize("fmt", [FLOAT16, BFLOAT16, FLOAT32], ids=lambda f: f.name)
def test_add_ftz(fmt):
    rng = random.Random(fmt.width + 1)
    run_add(fmt, all_special_pairs(fmt)[1::5] + operands(fmt, rng, 500), ftz=True)


def test_add_float64():
    rng = random.Random(64)
    run_add(FLOAT64, all_special_pairs(FLOAT64)[::5] + operands(FLOAT64, rng, 300))


def test_add_ieee_identities():
    f = FLOAT32
    one, neg = 0x3F800000, 0x80000000
    cases = [(one, one, 1), (one | neg, one, 0), (neg, neg, 0), (neg, 0, 1), (0, neg, 0)]
    cases += [(f.inf(), f.inf(), 1), (f.inf(1), f.inf(), 0), (f.inf(), 0x7F7FFFFF, 1)]
    got = simulate(FloatAdd(f), cases, lambda c: {"a": c[0], "b": c[1], "sub": c[2]})
    assert got == [0, 0, neg, neg, 0, f.qnan(), f.qnan(), f.inf()]


def edge_cases(fmt: FloatFormat) -> list[tuple[int, int, int]]:
    """Operand triples at the edges of the datapath: exact cancellation at every exponent
    (a zero sum above the normalising shift's reach), the smallest normal number against
    subnormals (subnormal results, flushed operands and results with ``ftz``), carries into
    the smallest normal number, the next binade and infinity, and shifts by every amount."""
    m, top = fmt.man_bits, fmt.exp_max
    sign, mask, low = 1 << (fmt.width - 1), (1 << m) - 1, 1 << m
    big = ((top - 1) << m) | mask  # the largest finite value
    cases = []
    for field in range(0, top, max(1, top // 40)):
        x = (field << m) | (0x5A5A5A5A5A5A5A5A & mask)
        cases += [(x, x, 1), (x | sign, x, 0), (x, x, 0), (x, x | sign, 1)]
    for sub in (1, 2, 3, 1 << (m - 1), mask, mask - 1):
        cases += [(low, sub, 1), (low, sub, 0), (low | 1, sub, 1), (sub, low | sign, 0)]
        cases += [(mask, sub, 0), (sub, sub, 0), (sub, sub - 1, 1), (low + mask, sub, 0)]
    cases += [(low | 1, low, 1), (low + 1, 1, 1), ((2 << m) | 1, low | 1, 1)]
    cases += [(big, big, 0), (big, big - low, 0), (big | sign, big | sign, 0), (big, low, 0)]
    cases += [(big, (top - 2 - m) << m, 0), (big, ((top - 2 - m) << m) | 1, 0)]
    one = fmt.bias << m
    for shift in range(m + 6):
        y = max(one - (shift << m), 0) | mask
        cases += [(one | mask, y, 0), (one | mask, y, 1), (one, y, 1), (one + 1, y, 1)]
    return cases


@pytest.mark.parametrize("ftz", [False, True])
@pytest.mark.parametrize("fmt", [FLOAT16, BFLOAT16, FLOAT32, FLOAT64], ids=lambda f: f.name)
def test_add_edges(fmt, ftz):
    cases = edge_cases(fmt)
    cases += [(b, a, s) for a, b, s in cases]
    run_add(fmt, cases, latency=0, ftz=ftz)
    if fmt == FLOAT32:
        run_add(fmt, cases, ftz=ftz)


def test_cut_points():
    assert cut_points(4, 0) == [0, 0, 0, 0]
    assert cut_points(4, 1) == [0, 0, 0, 1]
    assert cut_points(4, 3, (2, 0)) == [1, 0, 1, 1]
    assert cut_points(4, 3) == [1, 1, 0, 1]
    assert cut_points(4, 4) == [1, 1, 1, 1]
    assert cut_points(4, 6) == [1, 1, 1, 3]
    steps = len(FloatAdd.STEPS)
    for latency in range(steps + 2):
        cuts = cut_points(steps, latency, FloatAdd.CUT_ORDER)
        assert sum(cuts) == latency and max(cuts[:-1]) <= 1


# an operand near the other one (cancellation), or anywhere: raw encodings, specials, any sign
_near = st.integers(-(1 << 8), 1 << 8)
_raw32 = st.one_of(
    st.integers(0, (1 << 32) - 1),
    st.sampled_from(specials(FLOAT32)),
    st.builds(lambda s, f: s << 31 | f, st.integers(0, 1), st.integers(0, (1 << 23) - 1)),
)


@settings(max_examples=5, deadline=None)
@given(
    st.lists(
        st.tuples(_raw32, st.one_of(_raw32, _near), st.integers(0, 1), st.booleans()),
        min_size=1,
        max_size=100,
    ),
    st.booleans(),
)
def test_add_float32_hypothesis(draws, ftz):
    """Random sums and differences against NumPy; an operand drawn as a small offset is the
    other operand plus that many ulps, with either sign (cancellation and ties)."""
    cases = []
    for a, b, sub, flip in draws:
        if -(1 << 8) <= b <= 1 << 8 and b not in specials(FLOAT32):
            b = (a + b) % (1 << 32)
        cases.append((a, b ^ (flip << 31), sub))
    run_add(FLOAT32, cases, latency=2, ftz=ftz)
