"""``FloatDiv`` against NumPy bit for bit (helpers: ``test_fp_mul.py``): special values, random
operands, quotients next to the overflow and underflow boundaries and ties in the subnormal
range; a few latencies including 0, ftz, float64; every pair of two 6-bit formats against
exact rounding."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fp_mul import (
    SMALL,
    TINY,
    assert_same,
    binary_cases,
    decode_special,
    exact_reference,
    quiet,
    reference,
    special_values,
    stream,
)

from allo_rtl.hw.fp._div import FloatDiv
from allo_rtl.hw.fp._format import BFLOAT16, FLOAT16, FLOAT32, FLOAT64, FloatFormat


def _div_sweep(fmt: FloatFormat, latency: int | None, count: int, seed: int, ftz=False):
    specials = None if latency is None and not ftz else 150
    a, b = binary_cases(
        fmt, seed, count, lambda x, target: x / target, divide=True, specials=specials
    )
    got = stream(FloatDiv(fmt, latency=latency, ftz=ftz), {"a": a, "b": b}, seed)
    assert_same(got, reference(fmt, np.divide, a, b, ftz=ftz), a, b)


@pytest.mark.parametrize("fmt", [FLOAT16, BFLOAT16, FLOAT32], ids=lambda f: f.name)
def test_div_default_latency(fmt):
    _div_sweep(fmt, None, 1500, 1)


@pytest.mark.parametrize("latency", [0, 1, 4])
@pytest.mark.parametrize("fmt", [FLOAT16, BFLOAT16, FLOAT32], ids=lambda f: f.name)
def test_div_latencies(fmt, latency):
    _div_sweep(fmt, latency, 300, 10 + latency)


@pytest.mark.parametrize("fmt", [FLOAT16, BFLOAT16, FLOAT32], ids=lambda f: f.name)
def test_div_ftz(fmt):
    _div_sweep(fmt, None, 600, 20, ftz=True)


@pytest.mark.parametrize("ftz", [False, True])
def test_div_float64(ftz):
    _div_sweep(FLOAT64, 40, 200, 30, ftz=ftz)


def exact_div(fmt: FloatFormat):
    def op(a: int, b: int):
        fa, fb = decode_special(fmt, a), decode_special(fmt, b)
        sign = (a ^ b) >> (fmt.width - 1)
        if fa is None or fb is None or (fa == 0 and fb == 0) or fa == fb == "inf":
            return None
        if fa == "inf" or fb == 0:
            return fmt.inf(sign)
        if fb == "inf":
            return 0, sign
        return fa / fb, sign

    return op


@pytest.mark.parametrize("ftz", [False, True])
@pytest.mark.parametrize("fmt", [TINY, SMALL], ids=["tiny", "small"])
def test_div_toy_formats_exhaustive(fmt, ftz):
    values = range(1 << fmt.width)
    a = [x for x in values for _ in values]
    b = [y for _ in values for y in values]
    got = stream(FloatDiv(fmt, latency=3, ftz=ftz), {"a": a, "b": b})
    want = [exact_reference(fmt, exact_div(fmt), x, y, ftz=ftz) for x, y in zip(a, b)]
    assert_same(got, want, a, b)


_raw32 = st.one_of(
    st.integers(0, (1 << 32) - 1),
    st.sampled_from(special_values(FLOAT32)),
    st.builds(lambda s, f: s << 31 | f, st.integers(0, 1), st.integers(0, (1 << 23) - 1)),
)


@settings(max_examples=4, deadline=None)
@given(st.lists(st.tuples(_raw32, _raw32), min_size=1, max_size=80))
def test_div_float32_hypothesis(pairs):
    a, b = [x for x, _ in pairs], [y for _, y in pairs]
    got = stream(FloatDiv(FLOAT32, latency=7), {"a": a, "b": b})
    assert_same(got, reference(FLOAT32, np.divide, a, b), a, b)


def test_div_defaults_and_ports():
    units = [quiet(FloatDiv(f)) for f in (FLOAT16, BFLOAT16, FLOAT32, FLOAT64)]
    assert [u.latency for u in units] == [16, 13, 29, 58]
    assert quiet(FloatDiv(FLOAT32, latency=0)).latency == 0
    with pytest.raises(ValueError, match="latency"):
        FloatDiv(FLOAT16, latency=-2)
