"""``FloatSqrt`` against NumPy bit for bit (helpers: ``test_fp_mul.py``): every float16 and
bfloat16 input, random and special float32 and float64 inputs, a few latencies including 0,
ftz; every input of 6-bit formats against exact rounding (one of them with subnormal roots)."""

from __future__ import annotations

import random
from fractions import Fraction
from math import isqrt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fp_mul import (
    SMALL,
    TINY,
    assert_same,
    decode_special,
    exact_reference,
    quiet,
    random_values,
    reference,
    special_values,
    stream,
)

from allo_rtl.hw.fp._format import BFLOAT16, FLOAT16, FLOAT32, FLOAT64, FloatFormat
from allo_rtl.hw.fp._sqrt import FloatSqrt


@pytest.mark.parametrize("fmt", [FLOAT16, BFLOAT16], ids=lambda f: f.name)
def test_sqrt_exhaustive(fmt):
    """Every encoding, through the combinational unit (the quickest to simulate; the other
    latencies place registers between the same steps)."""
    a = list(range(1 << 16))
    got = stream(FloatSqrt(fmt, latency=0), {"a": a})
    assert_same(got, reference(fmt, np.sqrt, a), a)


@pytest.mark.parametrize("fmt", [FLOAT16, BFLOAT16], ids=lambda f: f.name)
def test_sqrt_ftz_subnormals(fmt):
    """Every input with a zero exponent field (and some others), flushed: ``+-0``."""
    sign = 1 << (fmt.width - 1)
    a = [x | s for x in range(1 << fmt.man_bits) for s in (0, sign)]
    a += random.Random(3).sample(range(1 << 16), 500)
    got = stream(FloatSqrt(fmt, latency=0, ftz=True), {"a": a})
    assert_same(got, reference(fmt, np.sqrt, a, ftz=True), a)


def _values(fmt: FloatFormat, count: int, seed: int) -> list[int]:
    return special_values(fmt) + random_values(fmt, random.Random(seed), count)


@pytest.mark.parametrize("latency", [0, 1, 5])
@pytest.mark.parametrize("fmt", [FLOAT16, BFLOAT16, FLOAT32], ids=lambda f: f.name)
def test_sqrt_latencies(fmt, latency):
    a = _values(fmt, 300, latency)
    got = stream(FloatSqrt(fmt, latency=latency), {"a": a}, latency)
    assert_same(got, reference(fmt, np.sqrt, a), a)


@pytest.mark.parametrize("ftz", [False, True])
@pytest.mark.parametrize("fmt", [FLOAT32, FLOAT64], ids=lambda f: f.name)
def test_sqrt_default_latency(fmt, ftz):
    a = _values(fmt, 1500 if fmt is FLOAT32 else 300, 7)
    got = stream(FloatSqrt(fmt, ftz=ftz), {"a": a}, 7)
    assert_same(got, reference(fmt, np.sqrt, a, ftz=ftz), a)


def exact_sqrt(fmt: FloatFormat):
    def op(a: int):
        fa, sign = decode_special(fmt, a), a >> (fmt.width - 1)
        if fa is None or (sign and fa != 0):
            return None
        if fa == "inf":
            return fmt.inf()
        if fa == 0:
            return 0, sign
        k = 4 * (fmt.bias + fmt.man_bits)  # far below the last bit of any root
        scaled = fa * 4**k
        root = isqrt(scaled.numerator // scaled.denominator)
        inexact = root * root * scaled.denominator != scaled.numerator
        return Fraction(2 * root + inexact, 2 ** (k + 1)), 0

    return op


@pytest.mark.parametrize("ftz", [False, True])
@pytest.mark.parametrize("fmt", [TINY, SMALL, FloatFormat(2, 5)], ids=["tiny", "small", "2-5"])
def test_sqrt_toy_formats_exhaustive(fmt, ftz):
    a = list(range(1 << fmt.width))
    got = stream(FloatSqrt(fmt, latency=2, ftz=ftz), {"a": a})
    assert_same(got, [exact_reference(fmt, exact_sqrt(fmt), x, ftz=ftz) for x in a], a)


@settings(max_examples=5, deadline=None)
@given(st.lists(st.integers(0, (1 << 31) - 1), min_size=1, max_size=100))
def test_sqrt_float32_hypothesis(a):
    got = stream(FloatSqrt(FLOAT32, latency=9), {"a": a})
    assert_same(got, reference(FLOAT32, np.sqrt, a), a)


def test_sqrt_defaults_and_ports():
    units = [quiet(FloatSqrt(f)) for f in (FLOAT16, BFLOAT16, FLOAT32, FLOAT64)]
    assert [u.latency for u in units] == [12, 9, 25, 54]
    assert not hasattr(units[0], "b") and len(units[2].result) == 32
    with pytest.raises(ValueError, match="latency"):
        FloatSqrt(FLOAT32, latency=-1)
