"""Math units (``allo_rtl/hw/fp/_math.py``): accuracy against exact values and NumPy, and the
hardware against its bit-exact model.

Accuracy is measured on each unit's NumPy model (:meth:`MathUnit.model`, the same datapath
evaluated on integers; fast enough for sweeps the Amaranth simulator could not run): every
``2**13``-th (sin, cos: ``2**15``-th) float32 bit pattern of the domain plus edge sweeps, and
every float16 and bfloat16 pattern. The error is in ulps of the exact value, the exact value
being NumPy's float64 function of the (exactly converted) input; the bounds are the ones the
units document. "vs NumPy" compares with NumPy's float32 (float16) function, which itself is
up to 2.3 (exp) and 3.5 (log10) ulp off on AVX-512 machines. The hardware is then simulated streaming one
input per cycle and must equal the model bit for bit; NaN results must be the canonical NaN.
``benchmarks/float_math_ulp.py`` runs denser sweeps.
"""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.sim import Simulator
from hypothesis import given, settings
from hypothesis import strategies as st

from allo_rtl._errors import BuildError
from allo_rtl.hw.fp._format import BFLOAT16, FLOAT16, FLOAT32, FLOAT64, FloatFormat
from allo_rtl.hw.fp._math import MATH_UNITS, FloatExp, FloatLog, FloatPow, MathUnit

UNARY = ["exp", "log", "log2", "log10", "tanh", "sin", "cos"]
# largest error vs the exact value (ulp) each unit documents, and vs NumPy's float32 function
BOUND = dict(exp=0.501, log=0.501, log2=0.501, log10=0.501, tanh=0.51, sin=0.501, cos=0.501)
BOUND["power"] = 0.51
NUMPY_BOUND = dict(exp=2, log=3, log2=2, log10=3, tanh=1, sin=1, cos=1, power=1)
DOMAIN = dict(exp=(-104, 89), tanh=(-20, 20), sin=(-np.inf, np.inf), cos=(-np.inf, np.inf))
DOMAIN.update(log=(0, np.inf), log2=(0, np.inf), log10=(0, np.inf))
# the float32 inputs closest to a multiple of pi/2 (the hardest reductions)
HARD_TRIG = [0x6F79BE45, 0x50A3E87F, 0x437CE5F1, 0x6FF9BE45, 0x6B1976F1]


# --- encodings -------------------------------------------------------------------------


def decode(fmt: FloatFormat, bits: np.ndarray) -> np.ndarray:
    """The values (float64) of ``fmt`` encodings."""
    bits = np.asarray(bits, dtype=np.uint64)
    sign = np.where((bits >> np.uint64(fmt.width - 1)) & np.uint64(1), -1.0, 1.0)
    field = ((bits >> np.uint64(fmt.man_bits)) & np.uint64(fmt.exp_max)).astype(np.int64)
    frac = (bits & np.uint64((1 << fmt.man_bits) - 1)).astype(np.float64)
    mant = np.where(field == 0, frac, frac + 2.0**fmt.man_bits)
    value = np.ldexp(mant, np.maximum(field, 1) - fmt.bias - fmt.man_bits)
    special = np.where(frac == 0, np.inf, np.nan)
    return sign * np.where(field == fmt.exp_max, special, value)


def to_bits(fmt: FloatFormat, x: np.ndarray) -> np.ndarray:
    """Encodings of values already representable in (or rounded by NumPy to) ``fmt``."""
    if fmt == FLOAT16:
        with np.errstate(over="ignore"):
            return np.asarray(x, np.float16).view(np.uint16).astype(np.uint64)
    with np.errstate(over="ignore"):
        bits = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    if fmt == BFLOAT16:  # float32 rounded to bfloat16, nearest even; a NaN stays a NaN
        nan = (bits & np.uint64(0x7FFFFFFF)) > np.uint64(0x7F800000)
        rounded = (bits + np.uint64(0x7FFF) + ((bits >> np.uint64(16)) & np.uint64(1))) >> 16
        return np.where(nan, np.uint64(0x7FC0), rounded)
    return bits


def patterns(fmt: FloatFormat, step: int, lo: float, hi: float) -> np.ndarray:
    """Every ``step``-th bit pattern of ``fmt`` whose value lies in ``[lo, hi]``."""
    bits = np.arange(0, 1 << fmt.width, step, dtype=np.uint64)
    v = decode(fmt, bits)
    return bits[(v >= lo) & (v <= hi)]


def ulp_error(fmt: FloatFormat, bits: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """``|result - exact|`` in ulps of ``exact`` in ``fmt`` (inf for a wrong class)."""
    res = decode(fmt, bits)
    tiny = 2.0 ** (1 - fmt.bias)
    top = (2.0 - 2.0 ** -(fmt.man_bits + 1)) * 2.0**fmt.bias  # rounds to infinity from here
    mag = np.maximum(np.abs(np.nan_to_num(exact, posinf=0, neginf=0)), tiny)
    ulp = np.ldexp(1.0, np.floor(np.log2(mag)).astype(np.int64) - fmt.man_bits)
    with np.errstate(invalid="ignore"):
        err = np.abs(res - exact) / ulp
        overflow = np.abs(exact) >= top
        same = (res == np.sign(exact) * np.inf) | (np.isnan(res) & np.isnan(exact))
    return np.where(overflow | np.isnan(exact), np.where(same, 0.0, np.inf), err)


def ordinal_diff(fmt: FloatFormat, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance in representable values between encodings (0 between any two NaNs)."""
    half = np.uint64(1 << (fmt.width - 1))

    def ordinal(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.uint64)
        mag = (x & (half - np.uint64(1))).astype(np.int64)
        return np.where(x & half, -mag, mag)

    both_nan = np.isnan(decode(fmt, a)) & np.isnan(decode(fmt, b))
    return np.where(both_nan, 0, np.abs(ordinal(a) - ordinal(b)))


def numpy_result(fmt: FloatFormat, name: str, *args: np.ndarray) -> np.ndarray:
    """NumPy's function in ``fmt`` (bfloat16: float32 then rounded, as the reference)."""
    dtype = np.float16 if fmt == FLOAT16 else np.float32
    with np.errstate(all="ignore"):
        out = getattr(np, name)(*(decode(fmt, x).astype(dtype) for x in args))
    return to_bits(fmt, out)


def exact_result(name: str, *args: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return getattr(np, name)(*args)


def measure(fmt: FloatFormat, name: str, *args: np.ndarray) -> dict[str, float]:
    """Max error of the model vs the exact value, vs the correctly rounded value and vs
    NumPy, and the canonical-NaN check."""
    unit = MATH_UNITS[name](fmt)
    bits = unit.model(*args)
    exact = exact_result(name, *(decode(fmt, x) for x in args))
    out = dict(exact=float(ulp_error(fmt, bits, exact).max()))
    out["numpy"] = int(ordinal_diff(fmt, bits, numpy_result(fmt, name, *args)).max())
    if fmt != BFLOAT16:
        out["rounded"] = int(ordinal_diff(fmt, bits, to_bits(fmt, exact)).max())
    nan = np.isnan(decode(fmt, bits))
    assert (bits[nan] == fmt.qnan()).all(), "a NaN result is not the canonical NaN"
    return out


# --- accuracy of the models ------------------------------------------------------------


def edges(name: str) -> np.ndarray:
    """Dense float32 sweeps where a unit is most delicate."""

    def around(center: int, n: int = 1 << 12) -> np.ndarray:
        return np.arange(max(center - n, 0), center + n, dtype=np.uint64)

    table = {
        "exp": [0x42B17218, 0xC2CFF1B5, 0x33000000, 0xB3000000],  # overflow, underflow, 0
        "tanh": [0x3C800000, 0x3D800000, 0x41100000, 0xBC800000],  # 2**-6, 2**-4, 9
        "sin": [0x40490FDB, 0x40C90FDB, 0x3FC90FDB, 0x4B490FDB],  # pi, 2pi, pi/2, big
        "power": [],
    }
    table["cos"] = table["sin"]
    for log in ("log", "log2", "log10"):
        table[log] = [0x3F800000, 0x3F7FF000, 0x00000100, 0x3F3FFF00]  # 1, subnormal, 0.75
    parts = [around(c) for c in table[name]] + [np.array(HARD_TRIG, np.uint64)]
    return np.concatenate(parts)


@pytest.mark.parametrize("name", UNARY)
def test_float32_accuracy(name: str) -> None:
    lo, hi = DOMAIN[name]
    step = 1 << (15 if name in ("sin", "cos") else 13)
    x = np.concatenate([patterns(FLOAT32, step, lo, hi), edges(name)])
    m = measure(FLOAT32, name, x)
    assert m["exact"] <= BOUND[name], m
    assert m["rounded"] <= 1, m
    assert m["numpy"] <= NUMPY_BOUND[name], m


@pytest.mark.parametrize("fmt", [FLOAT16, BFLOAT16], ids=["float16", "bfloat16"])
@pytest.mark.parametrize("name", UNARY)
def test_small_formats_exhaustive(name: str, fmt: FloatFormat) -> None:
    m = measure(fmt, name, np.arange(1 << 16, dtype=np.uint64))
    assert m["exact"] <= 0.501, m  # the float32 datapath rounds once to the small format
    assert m["numpy"] <= 1, m  # NumPy rounds its float32 result again


SPECIAL32 = [0x0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00001, 0x1]
SPECIAL32 += [0x80000001, 0x3F800000, 0xBF800000, 0x00800000, 0x7F7FFFFF, 0xFF7FFFFF]


@pytest.mark.parametrize("name", UNARY)
def test_special_values(name: str) -> None:
    """Zeros (signed), infinities, NaNs, 1, extremes: exactly NumPy's result (NaN: the
    canonical one)."""
    x = np.array(SPECIAL32, np.uint64)
    bits = MATH_UNITS[name](FLOAT32).model(x)
    ref = numpy_result(FLOAT32, name, x)
    exact = decode(FLOAT32, ref)
    for i, v in enumerate(exact):
        if np.isnan(v):
            assert bits[i] == FLOAT32.qnan(), (name, hex(SPECIAL32[i]))
        elif np.isinf(v) or v == 0 or abs(v) == 1:
            assert bits[i] == ref[i], (name, hex(SPECIAL32[i]), hex(bits[i]), hex(ref[i]))


def _pow_grid() -> tuple[np.ndarray, np.ndarray]:
    xs = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, np.inf, -np.inf, np.nan]
    xs += [1e-45, -1e-45, 3.4e38, 0.75]
    ys = xs + [1 / 3, 2.5, -2.5, 100.0, -100.0, 2.0**24, 2.0**24 + 2, 2.0**25, 7.0, -7.0]
    gx, gy = np.meshgrid(np.array(xs, np.float32), np.array(ys, np.float32))
    return to_bits(FLOAT32, gx.ravel()), to_bits(FLOAT32, gy.ravel())


def test_power_special_cases() -> None:
    """The C99 / NumPy special cases of ``power`` and its exact results (``3**2``,
    ``(-2)**-3``, ``0.75**-1`` is not one): bit for bit; the other grid points within 1 ulp."""
    x, y = _pow_grid()
    bits = FloatPow(FLOAT32).model(x, y)
    ref = numpy_result(FLOAT32, "power", x, y)
    nan = np.isnan(decode(FLOAT32, ref))
    assert (bits[nan] == FLOAT32.qnan()).all()
    exact = exact_result("power", decode(FLOAT32, x), decode(FLOAT32, y))
    with np.errstate(over="ignore"):
        representable = exact.astype(np.float32).astype(np.float64) == exact
    strict = ~nan & (representable | np.isinf(exact))
    assert (bits[strict] == ref[strict]).all(), [
        (hex(a), hex(b), hex(r), hex(n))
        for a, b, r, n in zip(x[strict], y[strict], bits[strict], ref[strict])
        if r != n
    ]
    assert ordinal_diff(FLOAT32, bits[~nan], ref[~nan]).max() <= 1


def test_power_accuracy() -> None:
    """Random ``x`` with ``y`` chosen so that ``x**y`` spans the whole float32 range
    (subnormal results included), negative ``x`` with integer ``y``, and ``x`` near 1 with
    large ``y``."""
    rng = np.random.default_rng(7)
    n = 1 << 14
    x = decode(FLOAT32, rng.integers(0x00000001, 0x7F800000, n, dtype=np.uint64))
    y = rng.uniform(-149.5, 127.9, n) / np.log2(x)
    near = 1.0 + rng.integers(-(1 << 12), 1 << 12, n) * 2.0**-23
    large = rng.uniform(-1, 1, n) * 2.0 ** rng.integers(0, 30, n)
    ints = np.round(rng.uniform(-60, 60, n // 4))
    neg = -decode(FLOAT32, rng.integers(0x3F000000, 0x40000000, n // 4, dtype=np.uint64))
    xs = to_bits(FLOAT32, np.concatenate([x, near, neg]).astype(np.float32))
    ys = to_bits(FLOAT32, np.concatenate([y, large, ints]).astype(np.float32))
    m = measure(FLOAT32, "power", xs, ys)
    assert m["exact"] <= BOUND["power"], m
    assert m["numpy"] <= NUMPY_BOUND["power"], m


def test_float64_is_refused() -> None:
    with pytest.raises(BuildError, match="float64"):
        FloatExp(FLOAT64)


def test_dsp_blocks() -> None:
    """The DSP blocks the module docstrings state (ECP5, 18x18)."""
    counts = {name: cls().dsp_blocks("ecp5") for name, cls in MATH_UNITS.items()}
    assert counts == dict(exp=6, log=11, log2=11, log10=11, tanh=20, sin=31, cos=31, power=27), (
        counts
    )


# --- the hardware ----------------------------------------------------------------------


def simulate(unit: MathUnit, *operands: np.ndarray, gaps: bool = True) -> np.ndarray:
    """Stream the operands one per cycle (with ``valid_in`` low every fifth cycle when
    ``gaps``) and collect the results whose ``valid_out`` is set."""
    n, lat = len(operands[0]), unit.latency
    valid = [not (gaps and i % 5 == 4) for i in range(n)]
    schedule = [i for i in range(n) for _ in range(1 if valid[i] else 2)]
    out: list[int] = []
    sim = Simulator(unit)
    if lat:
        sim.add_clock(1e-8)

    async def bench(ctx: object) -> None:
        seen: list[int] = []
        for cycle in range(len(schedule) + lat):
            live = cycle < len(schedule) and (cycle == 0 or schedule[cycle] != schedule[cycle - 1])
            if cycle < len(schedule):
                for port, ops in zip(unit.ARGS, operands):
                    ctx.set(getattr(unit, port), int(ops[schedule[cycle]]))
            ctx.set(unit.valid_in, int(live))
            seen.append(int(live))
            if lat == 0:
                if live:
                    out.append(ctx.get(unit.result))
                await ctx.delay(1e-8)
                continue
            await ctx.tick()
            if cycle + 1 >= lat:
                assert ctx.get(unit.valid_out) == seen[cycle + 1 - lat]
                if seen[cycle + 1 - lat]:
                    out.append(ctx.get(unit.result))

    sim.add_testbench(bench)
    sim.run()
    return np.array(out, dtype=np.uint64)


def hw_inputs(name: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Specials, edge cases and random encodings (half of them with moderate exponents)."""

    def random(count: int) -> np.ndarray:
        v = rng.integers(0, 1 << 32, count, dtype=np.uint64)
        mid = (v & np.uint64(0x807FFFFF)) | (rng.integers(100, 140, count, dtype=np.uint64) << 23)
        return np.where(rng.random(count) < 0.5, mid, v)

    if name == "power":
        gx, gy = _pow_grid()
        return np.concatenate([gx, random(n)]), np.concatenate([gy, random(n)])
    e = edges(name)
    return (np.concatenate([np.array(SPECIAL32, np.uint64), rng.choice(e, 64), random(n)]),)


@pytest.mark.parametrize("name", list(MATH_UNITS))
def test_hardware_matches_model(name: str) -> None:
    unit = MATH_UNITS[name](FLOAT32)
    args = hw_inputs(name, 700, np.random.default_rng(hash(name) % 1000))
    assert (simulate(unit, *args) == unit.model(*args)).all()


@pytest.mark.parametrize(
    "cls, fmt, latency",
    [(FloatExp, FLOAT32, 0), (FloatExp, FLOAT32, 3), (FloatPow, FLOAT32, 5)]
    + [(FloatLog, FLOAT16, None), (FloatExp, BFLOAT16, 2)],
)
def test_hardware_latencies_and_formats(cls: type, fmt: FloatFormat, latency: int | None) -> None:
    """Fewer registers than stages (0: combinational) and the small formats."""
    unit = cls(fmt, latency=latency)
    rng = np.random.default_rng(3)
    args = [rng.integers(0, 1 << fmt.width, 150, dtype=np.uint64) for _ in unit.ARGS]
    assert unit.latency == (len(unit.stages) if latency is None else latency)
    assert (simulate(unit, *args) == unit.model(*args)).all()


_raw32 = st.one_of(
    st.integers(0, (1 << 32) - 1),
    st.sampled_from(SPECIAL32),
    st.builds(lambda s, e, f: s << 31 | e << 23 | f, st.integers(0, 1), st.integers(96, 160),
              st.integers(0, (1 << 23) - 1)),  # moderate exponents: most of the domains
)  # fmt: skip


@settings(max_examples=5, deadline=None)
@given(st.sampled_from(UNARY), st.lists(_raw32, min_size=1, max_size=60))
def test_math_units_hypothesis(name: str, raws: list[int]) -> None:
    """The hardware gives its model's bits, and those are within the unit's bound of the exact
    value (any class of result) and within the stated distance of NumPy's float32 function."""
    x = np.array(raws, np.uint64)
    unit = MATH_UNITS[name](FLOAT32)
    bits = simulate(unit, x)
    assert (bits == unit.model(x)).all()
    exact = exact_result(name, decode(FLOAT32, x))
    assert ulp_error(FLOAT32, bits, exact).max() <= BOUND[name]
    assert ordinal_diff(FLOAT32, bits, numpy_result(FLOAT32, name, x)).max() <= NUMPY_BOUND[name]
