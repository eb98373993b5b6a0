"""Integer division by a run-time value on the real families: a pipelined divider unit
(hw/_divide.py) instead of one combinational divider, bit-exact with NumPy (truncation, floor,
remainder sign, INT_MIN / -1, division by zero, fixed point), sequential and pipelined."""

import warnings

import numpy as np
import pytest
from amaranth_harness import run

import allo_rtl as allo
from allo_rtl.ir.types import Fixed, int16, int32, uint16
from allo_rtl.lowering import UnitIssue, lower, target_model

N = 16


def divs(
    A: int32[N], B: int32[N], U: uint16[N], V: int16[N]
) -> (int32[N], int32[N], int32[N], int32[N]):
    Q: int32[N] = 0
    F: int32[N] = 0
    R: int32[N] = 0
    W: int32[N] = 0
    for i in range(N):
        Q[i] = A[i] / B[i]
        F[i] = A[i] // B[i]
        R[i] = A[i] % B[i]
        W[i] = U[i] // V[i]
    return Q, F, R, W


def operands():
    rng = np.random.default_rng(7)
    A = rng.integers(-(2**31), 2**31, N).astype(np.int32)
    B = rng.integers(-300, 300, N).astype(np.int32)
    A[0], B[0] = -(2**31), -1  # wraps
    B[1] = B[2] = 0  # all ones, and the dividend for %
    A[3], B[3] = 7, -2  # truncation and floor differ
    U = rng.integers(0, 2**16, N).astype(np.uint16)
    V = rng.integers(-(2**15), 2**15, N).astype(np.int16)
    V[4] = 0
    return A, B, U, V


def independent(A, B, U, V):
    """The semantics of docs/semantics.md, computed with Python integers."""
    a, b = A.astype(np.int64), B.astype(np.int64)
    q = np.array([-1 if y == 0 else int(abs(x) // abs(y)) * (1 if (x < 0) == (y < 0) else -1)
                  for x, y in zip(a, b)])  # fmt: skip
    f = np.array([-1 if y == 0 else x // y for x, y in zip(a, b)])
    r = np.array([x if y == 0 else x - int(abs(x) // abs(y)) * (1 if (x < 0) == (y < 0) else -1) * y
                  for x, y in zip(a, b)])  # fmt: skip
    w = np.array([-1 if y == 0 else int(x) // int(y) for x, y in zip(U, V)])
    return [((v + 2**31) % 2**32 - 2**31).astype(np.int32) for v in (q, f, r, w)]


@pytest.mark.parametrize("pipelined", [False, True])
@pytest.mark.parametrize(("family", "mhz"), [("generic", None), ("ecp5", 100), ("ice40", 48)])
def test_division_matches_numpy(family, mhz, pipelined):
    A, B, U, V = operands()
    s = allo.customize(divs)
    if pipelined:
        s.pipeline("i")
    want = independent(A, B, U, V)
    for got, w in zip(s.build()(A, B, U, V), want):
        np.testing.assert_array_equal(got, w)
    got, _ = run(s, A, B, U, V, model=target_model(family, mhz))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_real_families_divide_on_units_and_the_generic_one_in_logic():
    s = allo.customize(divs)
    names = {}
    for family, mhz in (("generic", None), ("ecp5", 100), ("ice40", 48)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", allo.ScheduleWarning)
            fsmd = lower(s.module, target_model(family, mhz))
        keys = {a.unit for st in fsmd.states for a in st.actions if isinstance(a, UnitIssue)}
        names[family] = sorted((k.name, k.latency) for k in keys)
    assert names["generic"] == []
    assert names["ecp5"] == [
        ("idiv_int32_int32_int32", 35), ("ifloordiv_int32_int32_int32", 35),
        ("ifloordiv_uint16_int16_int16", 19), ("imod_int32_int32_int32", 35),
    ]  # fmt: skip
    assert [lat for _, lat in names["ice40"]] == [35, 35, 19, 35]  # a register per step
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", allo.ScheduleWarning)
        slow = lower(s.module, target_model("ecp5", 50))
    keys = {a.unit for st in slow.states for a in st.actions if isinstance(a, UnitIssue)}
    assert sorted(k.latency for k in keys) == [11, 19, 19, 19]  # two steps per stage


def fixed_div(A: Fixed(16, 8)[N], B: Fixed(12, 4)[N]) -> Fixed(20, 6)[N]:
    C: Fixed(20, 6)[N] = 0.0
    for i in range(N):
        C[i] = A[i] / B[i]
    return C


def test_fixed_point_division_on_a_unit():
    rng = np.random.default_rng(3)
    A = rng.uniform(-100, 100, N)
    B = rng.uniform(-100, 100, N)
    B[0] = 0.0
    s = allo.customize(fixed_div)
    want = s.build()(A, B)
    got, _ = run(s, A, B, model=target_model("ecp5", 100))
    np.testing.assert_array_equal(got, want)
