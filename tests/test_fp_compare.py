"""FloatCompare, FloatMinMax and FloatNegAbs (allo_rtl/hw/fp/_compare.py) against Python's
IEEE comparisons and NumPy, bit for bit, in Amaranth's simulator.

The stream helpers here (``simulate``, value/bit conversions, special operands) serve
tests/test_fp_convert.py too.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest
from amaranth.hdl import Cat, Module, Signal
from amaranth.sim import Simulator
from hypothesis import given, settings
from hypothesis import strategies as st

from allo_rtl.hw.fp._compare import FloatCompare, FloatMinMax, FloatNegAbs
from allo_rtl.hw.fp._format import BFLOAT16, FLOAT16, FLOAT32, FLOAT64, FloatFormat

FORMATS = [FLOAT16, BFLOAT16, FLOAT32, FLOAT64]
_UINT = {16: np.uint16, 32: np.uint32, 64: np.uint64}


def simulate(
    makers, inputs: dict[str, list[int]], outs: tuple[str, ...], lanes: int = 1
) -> list[dict]:
    """Run operand sets through ``lanes`` copies of each unit ``maker()`` (one set per copy
    and cycle, the same sets to every maker's copies) and collect each unit's ``outs``
    ``latency`` cycles later; ``valid_out`` is checked on every cycle. Units of latency 0
    alone run without a clock (stepped by a delay). The testbench drives one wide signal and
    reads one: each ``ctx.set`` / ``ctx.get`` costs more than small units do."""
    units = [[make() for _ in range(lanes)] for make in makers]
    top = Module()
    n = len(next(iter(inputs.values())))
    steps = -(-n // lanes)
    depth = max(group[0].latency for group in units)
    drive_parts, probe_parts = [], []
    for k, group in enumerate(units):
        for lane, unit in enumerate(group):
            top.submodules[f"u{k}_{lane}"] = unit
            drive_parts += [getattr(unit, name) for name in inputs] + [unit.valid_in]
            probe_parts += [getattr(unit, name) for name in (*outs, "valid_out")]
    drive, probe = Signal(len(Cat(*drive_parts))), Signal(len(Cat(*probe_parts)))
    top.d.comb += [Cat(*drive_parts).eq(drive), probe.eq(Cat(*probe_parts))]
    words = [_pack(drive_parts, inputs, step * lanes, n, len(units)) for step in range(steps)]
    seen = []

    async def testbench(ctx):
        for word in words + [0] * depth:
            ctx.set(drive, word)
            seen.append(ctx.get(probe))
            if depth:
                await ctx.tick()
            else:
                await ctx.delay(1e-9)

    sim = Simulator(top)
    if depth:
        sim.add_clock(1e-8)
    sim.add_testbench(testbench)
    sim.run()
    return _unpack(units, outs, seen, n, steps)


def _pack(parts, inputs: dict, first: int, n: int, groups: int) -> int:
    """The drive word of one cycle: operand sets ``first``, ``first + 1``, ... in the lanes
    of every group of units."""
    per_lane = list(inputs.values())
    lanes = len(parts) // (groups * (len(per_lane) + 1))
    fields = []
    for lane in range(lanes):
        t = first + lane
        fields += [vals[t] if t < n else 0 for vals in per_lane] + [int(t < n)]
    word, offset = 0, 0
    for part, value in zip(parts, fields * groups):
        word |= (int(value) & ((1 << len(part)) - 1)) << offset
        offset += len(part)
    return word


def _unpack(units, outs: tuple[str, ...], seen: list[int], n: int, steps: int) -> list[dict]:
    got, offset = [], 0
    for group in units:
        lat, results = group[0].latency, {name: [None] * n for name in outs}
        for lane, unit in enumerate(group):
            for name in (*outs, "valid_out"):
                width = len(getattr(unit, name))
                column = [(word >> offset) & ((1 << width) - 1) for word in seen]
                offset += width
                sets = range(lane, steps * len(group), len(group))
                if name == "valid_out":
                    want = [0] * lat + [int(t < n) for t in sets] + [0] * (len(seen) - lat - steps)
                    assert column == want, unit
                    continue
                for t, value in zip(sets, column[lat:]):
                    if t < n:
                        results[name][t] = value
        got.append(results)
    return got


def values(fmt: FloatFormat, bits) -> np.ndarray:
    """The float64 values of encodings ``bits`` in ``fmt`` (exact)."""
    raw = np.asarray(bits, dtype=np.uint64)
    with np.errstate(invalid="ignore"):  # signalling NaNs
        return _values(fmt, raw)


def _values(fmt: FloatFormat, raw: np.ndarray) -> np.ndarray:
    if fmt == FLOAT16:
        return raw.astype(np.uint16).view(np.float16).astype(np.float64)
    if fmt == BFLOAT16:
        return (raw.astype(np.uint32) << np.uint32(16)).view(np.float32).astype(np.float64)
    if fmt == FLOAT32:
        return raw.astype(np.uint32).view(np.float32).astype(np.float64)
    return raw.view(np.float64)


def encode(fmt: FloatFormat, x: float) -> int:
    """The encoding of ``x`` (exactly representable in ``fmt``); NaN gives ``fmt.qnan()``."""
    if math.isnan(x):
        return fmt.qnan()
    if fmt == FLOAT16:
        return int(np.float16(x).view(np.uint16))
    if fmt == BFLOAT16:
        raw = int(np.float32(x).view(np.uint32))
        assert raw & 0xFFFF == 0, x
        return raw >> 16
    if fmt == FLOAT32:
        return int(np.float32(x).view(np.uint32))
    return int(np.float64(x).view(np.uint64))


def specials(fmt: FloatFormat) -> list[int]:
    """Zeros, subnormals, normal boundaries, one, the largest finite value, infinities and
    NaNs (quiet, signalling, with payloads), of both signs."""
    m, w = fmt.man_bits, fmt.width
    top = fmt.exp_max << m
    magnitudes = [
        0,
        1,
        2,
        (1 << m) - 1,
        1 << m,
        (1 << m) + 1,
        fmt.bias << m,
        (fmt.bias << m) + 1,
        top - 1,
        top,
        top | (1 << (m - 1)),
        top | 1,
        top | ((1 << m) - 1),
    ]
    return [mag | (sign << (w - 1)) for mag in magnitudes for sign in (0, 1)]


def random_bits(fmt: FloatFormat, n: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    return [int(v) for v in rng.integers(0, 1 << fmt.width, n, dtype=np.uint64)]


def operand_pairs(fmt: FloatFormat, seed: int, n_random: int = 1500) -> tuple[list, list]:
    """All pairs of specials, random pairs, and pairs of equal, adjacent and opposite
    operands."""
    sp = specials(fmt)
    a = [x for x in sp for _ in sp]
    b = [y for _ in sp for y in sp]
    ra, rb = random_bits(fmt, n_random, seed), random_bits(fmt, n_random, seed + 1)
    a += ra + ra[:300] * 4
    sign = 1 << (fmt.width - 1)
    mask = (1 << fmt.width) - 1
    near = [(x + 1) & mask for x in ra[:300]] + [(x - 1) & mask for x in ra[:300]]
    b += rb + ra[:300] + near + [x ^ sign for x in ra[:300]]
    return a, b


def _flush(fmt: FloatFormat, x: np.ndarray) -> np.ndarray:
    tiny = (x != 0) & (np.abs(x) < 2.0 ** (1 - fmt.bias))
    return np.where(tiny, np.copysign(0.0, x), x)


def check_compare(fmt: FloatFormat, a: list, b: list, got: dict, ftz: bool) -> None:
    """FloatCompare's outputs ``got`` for operands ``a``, ``b`` equal NumPy's comparisons
    (of the flushed values with ``ftz``)."""
    x, y = values(fmt, a), values(fmt, b)
    if ftz:
        x, y = _flush(fmt, x), _flush(fmt, y)
    with np.errstate(invalid="ignore"):
        want = {
            "lt": x < y,
            "le": x <= y,
            "gt": x > y,
            "ge": x >= y,
            "eq": x == y,
            "ne": x != y,
            "unordered": np.isnan(x) | np.isnan(y),
        }
    for name, expected in want.items():
        bad = [(hex(a[i]), hex(b[i])) for i in np.nonzero(np.array(got[name]) != expected)[0]]
        assert not bad, (name, ftz, bad[:10])


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
@pytest.mark.parametrize("ftz", [False, True], ids=["", "ftz"])
def test_compare(fmt: FloatFormat, ftz: bool) -> None:
    a, b = operand_pairs(fmt, seed=fmt.width + ftz)
    outs = ("lt", "le", "gt", "ge", "eq", "ne", "unordered")
    (got,) = simulate([partial(FloatCompare, fmt, ftz=ftz)], {"a": a, "b": b}, outs, lanes=4)
    check_compare(fmt, a, b, got, ftz)


@pytest.mark.parametrize("fmt", [FLOAT32, FLOAT64], ids=lambda f: f.name)
def test_pipelined(fmt: FloatFormat) -> None:
    """Every latency streams one operand pair per cycle with the combinational results."""
    a, b = operand_pairs(fmt, seed=7, n_random=200)
    outs = ("lt", "le", "gt", "ge", "eq", "ne", "unordered")
    units = [partial(FloatCompare, fmt, latency=lat) for lat in range(4)]
    first, *others = simulate(units, {"a": a, "b": b}, outs)
    assert all(other == first for other in others)
    units = [partial(FloatMinMax, fmt, latency=lat) for lat in range(4)]
    first, *others = simulate(units, {"a": a, "b": b}, ("min", "max"))
    assert all(other == first for other in others)
    assert first["min"] == _expected_minmax(fmt, a, b, np.minimum)


def _numpy_dtype(fmt: FloatFormat):
    """The dtype NumPy (and the reference) computes ``fmt`` in: bfloat16 in float32."""
    return {FLOAT16: np.float16, BFLOAT16: np.float32, FLOAT32: np.float32}.get(fmt, np.float64)


def _expected_minmax(fmt: FloatFormat, a: list[int], b: list[int], op) -> list[int]:
    dt = _numpy_dtype(fmt)
    x, y = values(fmt, a).astype(dt), values(fmt, b).astype(dt)
    return [encode(fmt, float(v)) for v in op(x, y)]


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_minmax(fmt: FloatFormat) -> None:
    a, b = operand_pairs(fmt, seed=3 * fmt.width)
    unit = partial(FloatMinMax, fmt, latency=1)
    (got,) = simulate([unit], {"a": a, "b": b}, ("min", "max"), lanes=4)
    assert got["min"] == _expected_minmax(fmt, a, b, np.minimum)
    assert got["max"] == _expected_minmax(fmt, a, b, np.maximum)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_minmax_signed_zeros(fmt: FloatFormat) -> None:
    """NumPy's choice between -0 and +0 (x86-64: the second operand, the first for float16),
    and the override."""
    neg, pos = 1 << (fmt.width - 1), 0
    a, b = [neg, pos, neg, pos], [pos, neg, neg, pos]
    units = [partial(FloatMinMax, fmt, second_on_tie=tie) for tie in (None, True, False)]
    default, second, first = simulate(units, {"a": a, "b": b}, ("min", "max"))
    for op, name in ((np.minimum, "min"), (np.maximum, "max")):
        assert default[name] == _expected_minmax(fmt, a, b, op)
        assert second[name] == b
        assert first[name] == a


def _expected_negabs(fmt: FloatFormat, bits: list[int], keep: bool) -> tuple[list, list]:
    """NumPy's ``negative`` / ``abs`` of the encodings (viewed, not converted, so NaN payloads
    survive); NaN results canonical unless ``keep``."""
    raw = np.asarray(bits, dtype=np.uint64)
    if fmt == BFLOAT16:  # held in the top half of a float32
        x = (raw.astype(np.uint32) << np.uint32(16)).view(np.float32)
    else:
        x = raw.astype(_UINT[fmt.width]).view(_numpy_dtype(fmt))
    shift = 16 if fmt == BFLOAT16 else 0
    uint = _UINT[x.dtype.itemsize * 8]
    nan = np.isnan(x)

    def result(y: np.ndarray) -> list[int]:
        return [fmt.qnan() if n and not keep else int(v) >> shift for n, v in zip(nan, y)]

    return result(np.negative(x).view(uint)), result(np.abs(x).view(uint))


def test_negabs_exhaustive_16bit() -> None:
    """Every float16 and bfloat16 input, canonical NaN results and NumPy's payload-keeping
    sign-bit operations."""
    bits = list(range(1 << 16))
    cases = [(fmt, keep) for fmt in (FLOAT16, BFLOAT16) for keep in (False, True)]
    units = [partial(FloatNegAbs, fmt, keep_payload=keep) for fmt, keep in cases]
    got = simulate(units, {"a": bits}, ("neg", "abs"), lanes=16)
    for (fmt, keep), results in zip(cases, got):
        neg, mag = _expected_negabs(fmt, bits, keep)
        assert results["neg"] == neg, (fmt, keep)
        assert results["abs"] == mag, (fmt, keep)


@pytest.mark.parametrize("fmt", [FLOAT32, FLOAT64], ids=lambda f: f.name)
def test_negabs_wide(fmt: FloatFormat) -> None:
    bits = specials(fmt) + random_bits(fmt, 500, seed=fmt.width)
    units = [partial(FloatNegAbs, fmt, latency=2)]
    units.append(partial(FloatNegAbs, fmt, latency=1, keep_payload=True))
    got = simulate(units, {"a": bits}, ("neg", "abs"))
    for keep, results in zip((False, True), got):
        neg, mag = _expected_negabs(fmt, bits, keep)
        assert results["neg"] == neg
        assert results["abs"] == mag


# --- Hypothesis, float32 ----------------------------------------------------------------

_SIGN32, _MASK32 = 1 << 31, (1 << 32) - 1
_raw32 = st.one_of(
    st.integers(0, _MASK32),
    st.sampled_from(specials(FLOAT32)),
    st.builds(lambda s, f: s << 31 | f, st.integers(0, 1), st.integers(0, (1 << 23) - 1)),
)


@st.composite
def _pairs32(draw) -> tuple[int, int]:
    """``a`` and an independent ``b``, or ``b`` equal to ``a``, its negation, a neighbouring
    encoding (across zero, into infinity and NaN), or ``a`` with another sign or fraction."""
    a = draw(_raw32)
    b = draw(
        st.one_of(
            _raw32,
            st.sampled_from([a, a ^ _SIGN32]),
            st.integers(-2, 2).map(lambda d: (a + d) & _MASK32),
            st.builds(
                lambda s, f: s << 31 | (a & 0x7F800000) | f,
                st.integers(0, 1),
                st.integers(0, (1 << 23) - 1),
            ),
        )
    )
    return (b, a) if draw(st.booleans()) else (a, b)


@settings(max_examples=5, deadline=None)
@given(
    st.lists(_pairs32(), min_size=1, max_size=100),
    st.booleans(),
    st.integers(0, 2),
)
def test_compare_minmax_float32_hypothesis(pairs, ftz, latency) -> None:
    """FloatCompare (plain or ftz) against NumPy's comparisons, FloatMinMax against
    ``np.minimum`` / ``np.maximum``, at latency 0, 1 or 2."""
    a, b = [x for x, _ in pairs], [y for _, y in pairs]
    outs = ("lt", "le", "gt", "ge", "eq", "ne", "unordered")
    compare = partial(FloatCompare, FLOAT32, latency=latency, ftz=ftz)
    (got,) = simulate([compare], {"a": a, "b": b}, outs)
    check_compare(FLOAT32, a, b, got, ftz)
    (got,) = simulate(
        [partial(FloatMinMax, FLOAT32, latency=latency)], {"a": a, "b": b}, ("min", "max")
    )
    for name, op in (("min", np.minimum), ("max", np.maximum)):
        want_bits = _expected_minmax(FLOAT32, a, b, op)
        bad = [
            (hex(p), hex(q), hex(g), hex(w))
            for p, q, g, w in zip(a, b, got[name], want_bits)
            if g != w
        ]
        assert not bad, (name, bad[:10])


@settings(max_examples=5, deadline=None)
@given(st.lists(_raw32, min_size=1, max_size=100))
def test_negabs_float32_hypothesis(bits) -> None:
    """FloatNegAbs, canonical NaN results and payload-keeping, against ``np.negative`` /
    ``np.abs``."""
    units = [partial(FloatNegAbs, FLOAT32, latency=1)]
    units.append(partial(FloatNegAbs, FLOAT32, keep_payload=True))
    got = simulate(units, {"a": bits}, ("neg", "abs"))
    for keep, results in zip((False, True), got):
        neg, mag = _expected_negabs(FLOAT32, bits, keep)
        assert results["neg"] == neg, keep
        assert results["abs"] == mag, keep


def test_rejects_negative_latency() -> None:
    for unit in (FloatCompare, FloatMinMax, FloatNegAbs):
        with pytest.raises(ValueError):
            unit(FLOAT32, latency=-1)
