"""Float -> integer conversion saturates for every finite input, however large (the NumPy
target; docs/semantics.md), as the hardware's FloatToInt does."""

import numpy as np

import allo_rtl as allo
from allo_rtl.ir.types import Fixed, float64


def to_fixed(A: float64[4]) -> Fixed(64, 32)[4]:
    B: Fixed(64, 32)[4] = 0
    for i in range(4):
        B[i] = A[i]
    return B


def test_huge_values_saturate():
    A = np.array([1e308, -1e308, 2.0**40, -0.75], dtype=np.float64)
    got = allo.customize(to_fixed).build()(A)
    top = (2**63 - 1) / 2**32
    np.testing.assert_array_equal(got, [top, -(2.0**31), top, -0.75])
