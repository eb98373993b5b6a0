"""Float kernels in RTL (Amaranth simulator): results equal to NumPy computed independently in
the same order, special values, the II of float recurrences, unit sharing and DSP use."""

import warnings

import numpy as np
import pytest
from amaranth_harness import run

import allo_rtl as allo
from allo_rtl.ir.types import bfloat16, float16, float32, int32
from allo_rtl.lowering import UnitIssue, lower, target_model

N = 16


def lowered(s, family="generic"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", allo.ScheduleWarning)
        return lower(s.module, target_model(family))


def user_pipelines(fsmd):
    return [p for p in fsmd.pipelines if "_init." not in p.name]


def bits(x):
    return np.asarray(x).view({2: np.uint16, 4: np.uint32, 8: np.uint64}[np.asarray(x).itemsize])


def dot(A: float32[N], B: float32[N]) -> float32:
    acc: float32 = 0.0
    for i in range(N):
        acc += A[i] * B[i]
    return acc


def sequential_dot(A, B):
    acc = np.float32(0)
    for a, b in zip(A, B):
        acc = np.float32(acc + np.float32(a * b))
    return acc


def test_float_reduction_runs_at_the_adder_latency():
    rng = np.random.default_rng(1)
    A, B = (rng.uniform(-50, 50, N).astype(np.float32) for _ in range(2))
    s = allo.customize(dot)
    s.pipeline("i")
    with pytest.warns(allo.ScheduleWarning, match="pipelined at II=3"):
        got, cycles = run(s, A, B)
    assert bits(np.float32(got)) == bits(sequential_dot(A, B))
    (p,) = user_pipelines(lowered(s))
    assert p.ii == 3  # the float32 adder's latency: its result is forwarded to the next add
    assert p.reasons[0] == (
        "II=1: `acc` is read in cycle 4 of an iteration and written in cycle 7; "
        "the next iteration needs it 3 cycles after the read"
    )
    assert cycles <= (N - 1) * 3 + p.depth + 4


def test_sequential_code_shares_one_unit_per_kind():
    fsmd = lowered(allo.customize(dot))
    keys = {a.unit for st in fsmd.states for a in st.actions if isinstance(a, UnitIssue)}
    assert sorted(k.name for k in keys) == ["fadd_float32", "fmul_float32"]


def test_float_multiplies_count_dsp_blocks():
    s = allo.customize(dot)
    s.pipeline("i")
    assert str(lowered(s, "ecp5").dsp) == "4 MULT18X18D for 1 multiplies"
    assert str(lowered(s, "ice40").dsp) == "4 SB_MAC16 for 1 multiplies"


def int_product(A: int32[N]) -> int32:
    acc: int32 = 1
    for i in range(N):
        acc = acc * A[i]
    return acc


def test_a_multiply_result_is_forwarded_to_the_next_iteration():
    A = np.array([3, -1, 2, 5, -7, 1, 1, 2, 9, -3, 4, 1, -1, 2, 3, 11], dtype=np.int32)
    s = allo.customize(int_product)
    s.pipeline("i")
    got, _ = run(s, A)
    want = 1
    for a in A:
        want = (want * int(a) + 2**31) % 2**32 - 2**31
    assert got == want
    (p,) = user_pipelines(lowered(s))
    assert p.ii == 1


def specials(A: float32[8], B: float32[8]) -> (int32[8], float32[8], float32[8], float32[8]):
    C: int32[8] = 0
    D: float32[8] = 0.0
    E: float32[8] = 0.0
    F: float32[8] = 0.0
    for i in range(8):
        C[i] = (A[i] < B[i]) + 2 * (A[i] == B[i]) + 4 * (A[i] >= B[i]) + 8 * (A[i] != B[i])
        D[i] = min(A[i], B[i])
        E[i] = abs(A[i]) - B[i]
        F[i] = -A[i] / B[i]
    return C, D, E, F


def test_special_values():
    nan, inf = np.float32(np.nan), np.float32(np.inf)
    A = np.array([nan, 0.0, -0.0, inf, -inf, 1e-45, 3.0, -2.0], dtype=np.float32)
    B = np.array([1.0, -0.0, 0.0, inf, 1.0, -1e-45, nan, -2.0], dtype=np.float32)
    C, D, E, F = run(allo.customize(specials), A, B)[0]
    with np.errstate(all="ignore"):
        want_c = (A < B) + 2 * (A == B) + 4 * (A >= B) + 8 * (A != B)
        want = [np.minimum(A, B), np.abs(A) - B, -A / B]
    np.testing.assert_array_equal(C, want_c)
    for got, ref in zip((D, E, F), want):
        nan_ref = np.isnan(ref)
        np.testing.assert_array_equal(np.isnan(got), nan_ref)
        np.testing.assert_array_equal(bits(got)[~nan_ref], bits(ref)[~nan_ref])


def formats(A: float16[N], B: bfloat16[N]) -> (float16[N], bfloat16[N], float32[N]):
    C: float16[N] = 0.0
    D: bfloat16[N] = 0.0
    E: float32[N] = 0.0
    for i in range(N):
        C[i] = A[i] * A[i] - 1.5
        D[i] = B[i] / (B[i] + 3.0)
        E[i] = float32(A[i]) + float32(B[i])
    return C, D, E


def to_bf16(x):
    u = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000).astype(np.uint32).view(np.float32)


def test_float16_bfloat16_and_conversions():
    rng = np.random.default_rng(3)
    A = rng.uniform(-20, 20, N).astype(np.float16)
    B = to_bf16(rng.uniform(-20, 20, N))
    s = allo.customize(formats)
    s.pipeline("i")
    C, D, E = run(s, A, B)[0]
    want_c = (A * A).astype(np.float16) - np.float16(1.5)
    want_d = to_bf16(B / to_bf16(B + np.float32(3.0)))
    want_e = A.astype(np.float32) + B
    for got, ref in ((C, want_c), (D, want_d), (E, want_e)):
        np.testing.assert_array_equal(bits(got), bits(ref))
