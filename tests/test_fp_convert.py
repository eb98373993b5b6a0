"""IntToFloat, FloatToInt and FloatToFloat (allo_rtl/hw/fp/_convert.py) against the
software reference ``allo_rtl.ir._values.convert``, bit for bit, in Amaranth's simulator.

Exhaustive: every float16 and bfloat16 input to float32 / float64 / each other / integers /
fixed point, every int16 and uint16 input to float16 and bfloat16. Dense: float32 inputs at,
one float32 ulp around, at and around every tie point of float16 and bfloat16 (narrowing).
Random with boundaries: the wide integer and float conversions. NaN results must be the
canonical quiet NaN.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fp_compare import _raw32, encode, random_bits, simulate, specials, values

from allo_rtl.hw.fp._convert import FloatToFloat, FloatToInt, IntToFloat, stage_cuts
from allo_rtl.hw.fp._format import BFLOAT16, FLOAT16, FLOAT32, FLOAT64, FloatFormat
from allo_rtl.ir._values import convert
from allo_rtl.ir.types import (
    AlloType,
    Fixed,
    Int,
    UFixed,
    UInt,
    bfloat16,
    float16,
    float32,
    float64,
)

TYPE = {FLOAT16: float16, BFLOAT16: bfloat16, FLOAT32: float32, FLOAT64: float64}
ALL16 = list(range(1 << 16))


def int_type(bits: int, signed: bool, fracs: int = 0) -> AlloType:
    if fracs:
        return Fixed(bits, fracs) if signed else UFixed(bits, fracs)
    return Int(bits) if signed else UInt(bits)


def signed_value(raw: int, bits: int, signed: bool) -> int:
    return raw - (1 << bits) if signed and raw >> (bits - 1) else raw


def check(got: list[int], want: list[int], inputs: list[int], what: object) -> None:
    bad = [(hex(x), hex(g), hex(w)) for x, g, w in zip(inputs, got, want) if g != w]
    assert not bad, (what, len(bad), bad[:8])


# --- references -------------------------------------------------------------------------


def ref_to_int(fmt: FloatFormat, t: AlloType, bits: list[int]) -> list[int]:
    mask = (1 << t.bits) - 1
    return [_to_int(float(x), fmt, t) & mask for x in values(fmt, bits)]


def _to_int(x: float, fmt: FloatFormat, t: AlloType) -> int:
    try:
        return convert(x, TYPE[fmt], t)
    except OverflowError:  # _values.float_to_raw: math.ldexp(x, fracs) beyond float64
        return t.max_raw if x > 0 else t.min_raw


def ref_from_int(t: AlloType, fmt: FloatFormat, raws: list[int]) -> list[int]:
    out = []
    for raw in raws:
        value = convert(signed_value(raw, t.bits, t.signed), t, TYPE[fmt])
        out.append(encode(fmt, value))
    return out


def ftz_convert(x: float, src: FloatFormat, dst: FloatFormat) -> float:
    """Flush-to-zero conversion (``_format.py``): subnormal inputs read as zero of their
    sign; a subnormal result of the IEEE conversion becomes zero of its sign (a value that
    rounds up to the smallest normal number stays)."""
    if x != 0 and abs(x) < 2.0 ** (1 - src.bias):
        x = math.copysign(0.0, x)
    result = convert(x, TYPE[src], TYPE[dst])
    if abs(result) < 2.0 ** (1 - dst.bias):
        return math.copysign(0.0, result)
    return result


def ref_float(src: FloatFormat, dst: FloatFormat, bits: list[int], ftz: bool = False) -> list:
    if ftz:
        return [encode(dst, ftz_convert(float(x), src, dst)) for x in values(src, bits)]
    return [encode(dst, convert(float(x), TYPE[src], TYPE[dst])) for x in values(src, bits)]


# --- operand sets -----------------------------------------------------------------------


def int_operands(bits: int, signed: bool, n_random: int, seed: int) -> list[int]:
    """Raw (unsigned) patterns: extremes, every power of two and its neighbours, rounding
    ties and their neighbours for 8, 11, 24 and 53 significant bits, random values of
    random length."""
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    vals = {0, 1, 2, 3, lo, hi, lo + 1, hi - 1}
    for k in range(bits + 1):
        vals.update((1 << k) + d for d in (-1, 0, 1))
    for p in (8, 11, 24, 53):
        for k in range(p, bits):
            for mant in ((1 << p) | 1, (1 << p) | 3, (1 << (p + 1)) - 1):
                base = mant << (k - p)  # mant has p + 1 bits: its last bit a tie
                vals.update((base - 1, base, base + 1))
    rng = np.random.default_rng(seed)
    for length in rng.integers(1, bits + 1, n_random):
        vals.add(int(rng.integers(0, 1 << int(length), dtype=np.uint64)))
    vals |= {-v for v in vals}
    mask = (1 << bits) - 1
    return sorted({v & mask for v in vals if lo <= v <= hi})


def float_operands(fmt: FloatFormat, n_random: int, seed: int, span: int = 70) -> list[int]:
    """Specials, random encodings, and random values of magnitude ``2**-8 .. 2**span`` with
    powers of two, half-way points and their float ulp neighbours up there."""
    vals = set(specials(fmt)) | set(random_bits(fmt, n_random, seed))
    rng = np.random.default_rng(seed + 1)
    xs = [
        math.ldexp(f, int(e))
        for f, e in zip(rng.random(n_random), rng.integers(-8, span, n_random))
    ]
    xs += [math.ldexp(1.0, k) for k in range(-2, span)]
    xs += [math.ldexp(1.0, k) + d for k in range(-2, span) for d in (0.5, -0.5, 1.5)]
    mask = (1 << fmt.width) - 1
    for x in xs:
        for sign in (1.0, -1.0):
            code = encode(fmt, _in_format(fmt, sign * x))
            vals.update({code, (code + 1) & mask, (code - 1) & mask})
    return sorted(vals)


def _in_format(fmt: FloatFormat, x: float) -> float:
    return float(convert(x, float64, TYPE[fmt]))


def neighbourhoods(narrow: FloatFormat) -> list[int]:
    """float32 encodings at, one float32 ulp above and below every finite value of the 16-bit
    format ``narrow``, at every tie point between neighbouring values (the one above the
    largest finite value included) and one ulp around each tie."""
    finite = values(narrow, ALL16)
    finite = finite[np.isfinite(finite)]
    positive = np.unique(np.abs(finite))
    step_top = positive[-1] - positive[-2]
    ties = (positive[:-1] + positive[1:]) / 2
    ties = np.append(ties, positive[-1] + step_top / 2)
    points = np.concatenate([finite, ties, -ties]).astype(np.float32)
    codes = points.view(np.uint32).astype(np.int64)
    around = np.concatenate([codes - 1, codes, codes + 1]) % (1 << 32)
    return [int(c) for c in np.unique(around)]


# --- exhaustive 16-bit sources ----------------------------------------------------------

_F16_TO_INT = [(32, True, 0), (16, True, 0), (8, False, 0), (16, True, 8), (12, False, 4)]
_F16_TO_INT += [(64, True, 40), (24, True, 24)]


def test_float16_source_exhaustive() -> None:
    """Every float16 input to float32, float32 with ftz, float64, bfloat16 and integers
    (int32, int16, uint8) and fixed point (Fixed(16, 8), UFixed(12, 4), Fixed(64, 40) and
    Fixed(24, 24), whose range float16 subnormals reach)."""
    floats = [(FLOAT32, False), (FLOAT32, True), (FLOAT64, False), (BFLOAT16, False)]
    makers = [partial(FloatToFloat, FLOAT16, d, latency=0, ftz=f) for d, f in floats]
    makers += [partial(FloatToInt, FLOAT16, b, s, fracs=f, latency=0) for b, s, f in _F16_TO_INT]
    got = simulate(makers, {"a": ALL16}, ("result",), lanes=2)
    for (dst, ftz), results in zip(floats, got):
        check(results["result"], ref_float(FLOAT16, dst, ALL16, ftz), ALL16, (dst, ftz))
    for (b, s, f), results in zip(_F16_TO_INT, got[len(floats) :]):
        t = int_type(b, s, f)
        check(results["result"], ref_to_int(FLOAT16, t, ALL16), ALL16, t)


def test_bfloat16_source_exhaustive() -> None:
    """Every bfloat16 input to float32 (plain and ftz), float16, float64 and int32."""
    floats = [(FLOAT32, False), (FLOAT32, True), (FLOAT16, False), (FLOAT64, False)]
    makers = [partial(FloatToFloat, BFLOAT16, d, latency=0, ftz=f) for d, f in floats]
    makers.append(partial(FloatToInt, BFLOAT16, 32, True, latency=0))
    got = simulate(makers, {"a": ALL16}, ("result",), lanes=2)
    for (dst, ftz), results in zip(floats, got):
        check(results["result"], ref_float(BFLOAT16, dst, ALL16, ftz), ALL16, (dst, ftz))
    check(got[-1]["result"], ref_to_int(BFLOAT16, Int(32), ALL16), ALL16, "int32")


_FROM16 = [(True, FLOAT16, 0), (False, FLOAT16, 0), (True, BFLOAT16, 0), (False, BFLOAT16, 0)]
_FROM16 += [(True, FLOAT16, 8), (True, FLOAT16, 15), (False, FLOAT16, 16)]


def test_int16_source_exhaustive() -> None:
    """Every int16 / uint16 input to float16 and bfloat16, and Fixed(16, 8), Fixed(16, 15)
    and UFixed(16, 16) to float16 (the last two give subnormal results)."""
    makers = [partial(IntToFloat, 16, s, fmt, fracs=f, latency=0) for s, fmt, f in _FROM16]
    got = simulate(makers, {"a": ALL16}, ("result",), lanes=2)
    for (s, fmt, f), results in zip(_FROM16, got):
        t = int_type(16, s, f)
        check(results["result"], ref_from_int(t, fmt, ALL16), ALL16, (t, fmt))


@pytest.mark.parametrize("narrow", [FLOAT16, BFLOAT16], ids=lambda f: f.name)
def test_float32_narrowing_dense(narrow: FloatFormat) -> None:
    """float32 -> float16 / bfloat16 at, around and between every representable value."""
    codes = neighbourhoods(narrow) + random_bits(FLOAT32, 3000, seed=narrow.man_bits)
    (got,) = simulate(
        [partial(FloatToFloat, FLOAT32, narrow, latency=0)], {"a": codes}, ("result",), lanes=4
    )
    check(got["result"], ref_float(FLOAT32, narrow, codes), codes, narrow)


@pytest.mark.parametrize("narrow", [FLOAT16, BFLOAT16], ids=lambda f: f.name)
def test_float32_narrowing_ftz(narrow: FloatFormat) -> None:
    """ftz: the neighbourhoods of the smallest normal numbers and all subnormals."""
    codes = neighbourhoods(narrow)
    small = values(FLOAT32, codes)
    codes = [c for c, x in zip(codes, small) if abs(x) < 2.0 ** (3 - narrow.bias)]
    codes += specials(FLOAT32) + random_bits(FLOAT32, 1000, seed=5)
    (got,) = simulate(
        [partial(FloatToFloat, FLOAT32, narrow, latency=0, ftz=True)],
        {"a": codes},
        ("result",),
        lanes=4,
    )
    check(got["result"], ref_float(FLOAT32, narrow, codes, ftz=True), codes, narrow)


# --- wide conversions, random with boundaries -------------------------------------------

_FROM_WIDE = [
    (32, True, FLOAT32, 0),
    (32, False, FLOAT32, 0),
    (64, True, FLOAT32, 0),
    (64, False, FLOAT64, 0),
    (64, True, FLOAT64, 0),
    (64, True, FLOAT16, 0),
    (64, False, BFLOAT16, 0),
    (32, True, FLOAT32, 16),
    (64, True, FLOAT16, 60),
    (8, False, FLOAT16, 8),
    (1, True, FLOAT32, 0),
    (1, False, FLOAT32, 0),
]


@pytest.mark.parametrize("bits,signed,fmt,fracs", _FROM_WIDE)
def test_int_to_float_wide(bits: int, signed: bool, fmt: FloatFormat, fracs: int) -> None:
    raws = int_operands(bits, signed, n_random=400, seed=bits + fracs)
    (got,) = simulate(
        [partial(IntToFloat, bits, signed, fmt, fracs=fracs, latency=0)],
        {"a": raws},
        ("result",),
        lanes=4,
    )
    t = int_type(bits, signed, fracs)
    check(got["result"], ref_from_int(t, fmt, raws), raws, (t, fmt))


_TO_WIDE = [
    (FLOAT32, 32, True, 0),
    (FLOAT32, 32, False, 0),
    (FLOAT32, 64, True, 0),
    (FLOAT32, 8, True, 0),
    (FLOAT32, 32, True, 16),
    (FLOAT32, 16, False, 8),
    (FLOAT32, 1, True, 0),
    (FLOAT64, 64, True, 0),
    (FLOAT64, 64, False, 0),
    (FLOAT64, 32, True, 0),
    (FLOAT64, 64, True, 32),
]


@pytest.mark.parametrize("fmt,bits,signed,fracs", _TO_WIDE)
def test_float_to_int_wide(fmt: FloatFormat, bits: int, signed: bool, fracs: int) -> None:
    codes = float_operands(fmt, n_random=300, seed=bits + fracs, span=bits - fracs + 3)
    (got,) = simulate(
        [partial(FloatToInt, fmt, bits, signed, fracs=fracs, latency=0)],
        {"a": codes},
        ("result",),
        lanes=4,
    )
    t = int_type(bits, signed, fracs)
    check(got["result"], ref_to_int(fmt, t, codes), codes, (fmt, t))


_FLOAT_PAIRS = [
    (FLOAT64, FLOAT32, False),
    (FLOAT64, FLOAT16, False),
    (FLOAT64, BFLOAT16, False),
    (FLOAT64, FLOAT32, True),
    (FLOAT32, FLOAT64, False),
    (FLOAT32, FLOAT64, True),
    (FLOAT32, FLOAT32, False),
]


@pytest.mark.parametrize("src,dst,ftz", _FLOAT_PAIRS, ids=lambda v: getattr(v, "name", v))
def test_float_to_float_wide(src: FloatFormat, dst: FloatFormat, ftz: bool) -> None:
    """Random and special inputs; the ranges of ``dst``'s subnormals, of its overflow, and of
    its rounding ties (from float64: values half way between neighbours, one ulp away)."""
    codes = float_operands(src, n_random=400, seed=src.width + dst.width, span=140)
    if src == FLOAT64:
        for x in values(dst, random_bits(dst, 400, seed=1)):
            for code in encode(FLOAT64, float(x)), int(np.float64(x).view(np.uint64)):
                codes += [code + d for d in (-1, 0, 1)]
        top = (1 << dst.man_bits) - 1  # ties of random dst significands at all exponents
        for k in range(-dst.bias - dst.man_bits - 2, dst.bias + 2, 3):
            tie = math.ldexp(((1 << dst.man_bits) + (k * 7919 & top)) * 2 + 1, k - dst.man_bits)
            code = encode(FLOAT64, tie)
            codes += [code + d for d in (-1, 0, 1)]
        codes = [c & ((1 << 64) - 1) for c in codes]
    (got,) = simulate(
        [partial(FloatToFloat, src, dst, latency=0, ftz=ftz)], {"a": codes}, ("result",), lanes=4
    )
    check(got["result"], ref_float(src, dst, codes, ftz), codes, (src, dst, ftz))


# --- Hypothesis: int32 / int64 <-> float32, float32 <-> float16 / bfloat16 ---------------
# (``_raw32``: uniform float32 encodings, specials and subnormals, of test_fp_compare.py)

_sign = st.integers(0, 1)
_fraction23 = st.one_of(
    st.integers(0, (1 << 23) - 1),
    st.sampled_from([0, 1, 1 << 22, (1 << 22) | 1, (1 << 23) - 1]),
)
# float32 inputs of the integer conversions: magnitudes 2**-4 .. 2**67 (truncation, the
# saturation bounds of every fracs), and the powers of two, halves and neighbours up there
_to_int32 = st.one_of(
    _raw32,
    st.builds(lambda s, e, f: s << 31 | e << 23 | f, _sign, st.integers(123, 194), _fraction23),
    st.sampled_from(float_operands(FLOAT32, n_random=0, seed=0, span=67)),
)


def _raw_ints(bits: int) -> st.SearchStrategy[int]:
    """``bits``-bit raw patterns: uniform, of random length, the boundaries of
    :func:`int_operands`, and significands of up to 25 bits (a float32 rounding tie in the
    last) at every shift, one off, of either sign."""
    mask = (1 << bits) - 1
    return st.one_of(
        st.integers(0, mask),
        st.builds(lambda n, x: x >> n, st.integers(0, bits - 1), st.integers(0, mask)),
        st.sampled_from(
            sorted({*int_operands(bits, True, 0, 0), *int_operands(bits, False, 0, 0)})
        ),
        st.builds(
            lambda s, sig, k, d: (-1) ** s * ((sig << k) + d) & mask,
            _sign,
            st.integers(1, (1 << 25) - 1),
            st.integers(0, bits - 1),
            st.integers(-1, 1),
        ),
    )


@settings(max_examples=5, deadline=None)
@given(
    st.lists(st.tuples(_raw_ints(32), _raw_ints(64), _to_int32), min_size=1, max_size=100),
    st.integers(1, 32),
    st.integers(1, 64),
)
def test_int_float32_hypothesis(cases, fracs32: int, fracs64: int) -> None:
    """int32 / uint32 / int64 / uint64 -> float32 (nearest even) and float32 -> the same
    integers and Fixed(32, fracs32), Fixed(64, fracs64) (truncation toward zero, saturation,
    NaN -> 0), each at its default latency."""
    i32, i64, f32 = ([c[k] for c in cases] for k in range(3))
    for bits, raws in ((32, i32), (64, i64)):
        makers = [partial(IntToFloat, bits, s, FLOAT32) for s in (True, False)]
        got = simulate(makers, {"a": raws}, ("result",))
        for signed, results in zip((True, False), got):
            t = int_type(bits, signed)
            check(results["result"], ref_from_int(t, FLOAT32, raws), raws, (t, FLOAT32))
    targets = [(32, True, 0), (32, False, 0), (64, True, 0), (64, False, 0)]
    targets += [(32, True, fracs32), (64, True, fracs64)]
    makers = [partial(FloatToInt, FLOAT32, b, s, fracs=f) for b, s, f in targets]
    got = simulate(makers, {"a": f32}, ("result",))
    for (b, s, f), results in zip(targets, got):
        t = int_type(b, s, f)
        check(results["result"], ref_to_int(FLOAT32, t, f32), f32, (FLOAT32, t))


@st.composite
def _near_narrow(draw) -> int:
    """float32 encodings at, or half way between, two neighbouring float16 / bfloat16 values
    (the overflow threshold above the largest finite one included), or one ulp off."""
    narrow = draw(st.sampled_from([FLOAT16, BFLOAT16]))
    m, inf = narrow.man_bits, narrow.inf()
    edges = [0, 1, 2, (1 << m) - 1, 1 << m, inf - 1]
    mag = draw(st.one_of(st.integers(0, inf - 1), st.sampled_from(edges)))
    lo, hi = (float(x) for x in values(narrow, [mag, mag + 1]))
    hi = 2.0 ** (narrow.exp_max - narrow.bias) if mag + 1 == inf else hi
    point = draw(st.sampled_from([lo, (lo + hi) / 2]))
    code = int(np.float32(point).view(np.uint32)) + draw(st.integers(-1, 1))
    return draw(_sign) << 31 | max(code, 0)


_raw16 = st.one_of(
    st.integers(0, (1 << 16) - 1),
    st.sampled_from(specials(FLOAT16) + specials(BFLOAT16)),
    st.builds(lambda s, f: s << 15 | f, _sign, st.integers(0, (1 << 10) - 1)),
)


@settings(max_examples=5, deadline=None)
@given(
    st.lists(st.tuples(st.one_of(_raw32, _near_narrow()), _raw16), min_size=1, max_size=100),
    st.booleans(),
)
def test_float32_float16_bfloat16_hypothesis(cases, ftz: bool) -> None:
    """float32 -> float16 / bfloat16 (nearest even, overflow to infinity, subnormal
    results) and back (exact), plain or ftz, each at its default latency."""
    wide, narrow = [c[0] for c in cases], [c[1] for c in cases]
    for codes, pairs in (
        (wide, [(FLOAT32, FLOAT16), (FLOAT32, BFLOAT16)]),
        (narrow, [(FLOAT16, FLOAT32), (BFLOAT16, FLOAT32)]),
    ):
        makers = [partial(FloatToFloat, src, dst, ftz=ftz) for src, dst in pairs]
        got = simulate(makers, {"a": codes}, ("result",))
        for (src, dst), results in zip(pairs, got):
            check(results["result"], ref_float(src, dst, codes, ftz), codes, (src, dst, ftz))


# --- pipelines --------------------------------------------------------------------------


def test_stage_cuts() -> None:
    assert stage_cuts(4, 0) == [0, 0, 0, 0]
    assert stage_cuts(4, 1) == [0, 0, 0, 1]
    assert stage_cuts(4, 2) == [0, 1, 0, 1]
    assert stage_cuts(4, 4) == [1, 1, 1, 1]
    assert stage_cuts(3, 6) == [1, 1, 4]
    assert stage_cuts(1, 3) == [3]


_PIPELINED = [
    (partial(IntToFloat, 32, True, FLOAT32), (32, True, 0), FLOAT32),
    (partial(IntToFloat, 64, False, FLOAT64), (64, False, 0), FLOAT64),
    (partial(IntToFloat, 32, True, FLOAT16, fracs=24), (32, True, 24), FLOAT16),
    (partial(FloatToInt, FLOAT32, 32, True), FLOAT32, (32, True, 0)),
    (partial(FloatToInt, FLOAT64, 64, False, fracs=8), FLOAT64, (64, False, 8)),
    (partial(FloatToFloat, FLOAT32, FLOAT16), FLOAT32, FLOAT16),
    (partial(FloatToFloat, FLOAT16, FLOAT32), FLOAT16, FLOAT32),
    (partial(FloatToFloat, FLOAT16, BFLOAT16), FLOAT16, BFLOAT16),
    (partial(FloatToFloat, FLOAT32, BFLOAT16), FLOAT32, BFLOAT16),
]


@pytest.mark.parametrize("make,src,dst", _PIPELINED)
def test_pipelined(make, src, dst) -> None:
    """Default latency (one register per step) and every smaller and one larger latency
    stream one operand per cycle with the results of the combinational unit."""
    steps = latency_of(make())
    assert steps >= 1
    if isinstance(src, FloatFormat):
        codes = float_operands(src, n_random=150, seed=3, span=70)[:600]
    else:
        codes = int_operands(src[0], src[1], n_random=150, seed=3)[:600]
    makers = [partial(make, latency=lat) for lat in range(steps + 2)]
    first, *others = simulate(makers, {"a": codes}, ("result",))
    for other in others:
        assert other == first
    if isinstance(src, FloatFormat) and isinstance(dst, FloatFormat):
        want = ref_float(src, dst, codes)
    elif isinstance(src, FloatFormat):
        want = ref_to_int(src, int_type(*dst), codes)
    else:
        want = ref_from_int(int_type(*src), dst, codes)
    check(first["result"], want, codes, make)


def latency_of(unit) -> int:
    """``unit.latency`` of a unit built only to read it (no warning that it is unused)."""
    unit._MustUse__silence = True
    return unit.latency


def test_default_latencies() -> None:
    """One register per step: the layout of the module docstring."""
    assert latency_of(IntToFloat(32, True, FLOAT32)) == 4
    assert latency_of(IntToFloat(32, False, FLOAT32)) == 3
    assert latency_of(IntToFloat(32, True, FLOAT16, fracs=24)) == 5
    assert latency_of(FloatToInt(FLOAT32, 32, True)) == 3
    assert latency_of(FloatToInt(FLOAT32, 32, False)) == 2
    assert latency_of(FloatToFloat(FLOAT16, FLOAT32)) == 2
    assert latency_of(FloatToFloat(FLOAT16, BFLOAT16)) == 3
    assert latency_of(FloatToFloat(FLOAT32, FLOAT16)) == 3
    assert latency_of(FloatToFloat(FLOAT32, FLOAT16, ftz=True)) == 2
    assert latency_of(FloatToFloat(FLOAT32, BFLOAT16)) == 1
    assert latency_of(FloatToFloat(BFLOAT16, FLOAT32)) == 1


def test_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError):
        FloatToInt(FLOAT32, 8, True, fracs=9)
    with pytest.raises(ValueError):
        IntToFloat(0, True, FLOAT32)
    with pytest.raises(ValueError):
        FloatToFloat(FLOAT32, FLOAT16, latency=-1)
