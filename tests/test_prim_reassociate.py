"""``s.reassociate(loop, factor)``: printed IR, the interleaved order on both targets (NumPy
and RTL agree bit for bit, and are allclose to the strict sum), II=1 in hardware, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from amaranth_harness import run
from errhelp import Markers
from primhelp import assert_ir, schedule_errors

import allo_rtl as allo
from allo_rtl.ir.types import float32, int32
from allo_rtl.lowering import lower

MARKS = Markers(__file__)
schedule_error = schedule_errors(MARKS)
N = 32


def dot(A: float32[N], B: float32[N]) -> float32:
    acc: float32 = 0.0
    for i in range(N):  # ERR:dot_loop
        acc += A[i] * B[i]
    return acc


def interleaved(A, B, factor):
    """The reassociated order, computed independently: partial sums by i % factor, then
    added to the initial 0.0 one after the other."""
    part = [np.float32(0)] * factor
    for i, (a, b) in enumerate(zip(A, B)):
        part[i % factor] = np.float32(part[i % factor] + np.float32(a * b))
    acc = np.float32(0)
    for p in part:
        acc = np.float32(acc + p)
    return acc


def inputs(seed=3):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-4, 4, N).astype(np.float32) for _ in range(2)]


def test_printed_ir():
    s = allo.customize(dot)
    s.reassociate("i", 4)
    assert_ir(
        s,
        f"""
        # acc_part: partition[complete]
        def dot(A: float32[{N}], B: float32[{N}]) -> float32:
            acc: float32 = 0.0
            acc_part: float32[4] = 0.0
            for i in range(0, {N}):  # S_i_0.i range
                acc_part[(i & 3)] = (acc_part[(i & 3)] + (A[i] * B[i]))
            acc = (acc + acc_part[0])
            acc = (acc + acc_part[1])
            acc = (acc + acc_part[2])
            acc = (acc + acc_part[3])
            return acc
        """,
    )


@pytest.mark.parametrize("factor", [2, 3, 4, 5])
def test_numpy_target_computes_the_interleaved_order(factor):
    A, B = inputs()
    s = allo.customize(dot)
    s.reassociate("i", factor)
    got = s.build()(A, B)
    assert np.float32(got).view(np.uint32) == interleaved(A, B, factor).view(np.uint32)
    strict = allo.customize(dot).build()(A, B)
    np.testing.assert_allclose(got, strict, rtol=1e-5)


@pytest.mark.parametrize("factor", [4, 5])  # more than the float32 adder latency (3)
def test_rtl_reaches_ii_1_and_agrees_with_numpy(factor):
    A, B = inputs(5)
    s = allo.customize(dot)
    s.pipeline("i")
    s.reassociate("i", factor)
    got, cycles = run(s, A, B)
    assert np.float32(got).view(np.uint32) == interleaved(A, B, factor).view(np.uint32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", allo.ScheduleWarning)  # II=1 as requested
        (p,) = [p for p in lower(s.module).pipelines if p.name == "S_i_0.i"]
    assert p.ii == 1
    assert cycles < N + 80


def rotate(A: int32[N], B: int32[N]) -> int32:
    P: int32[4] = 0
    for i in range(N):
        P[i & 3] = P[i & 3] + A[i] * B[i]
    return P[0] - P[1] + P[2] - P[3]


def test_pipelined_register_array_with_a_varying_index():
    """Reads of a register bank whose index varies see the element of this cycle."""
    A, B = (np.arange(N, dtype=np.int32) + k for k in (1, 5))
    s = allo.customize(rotate)
    s.partition(s.P, allo.Partition.Complete)
    s.pipeline("i")
    got, _ = run(s, A, B)
    prod = (A * B).astype(np.int64)
    assert got == sum(prod[k::4].sum() * (1 if k % 2 == 0 else -1) for k in range(4))


def no_sum(A: float32[N]) -> float32:
    acc: float32 = 0.0
    for i in range(N):  # ERR:no_sum_loop
        acc = acc * A[i]
    return acc


def test_loop_without_a_float_sum():
    s = allo.customize(no_sum)
    with pytest.raises(allo.ScheduleError) as info:
        s.reassociate("i")  # ERR:no_sum
    assert str(info.value) == schedule_error(
        "no_sum",
        "loop `i` carries no float sum to reassociate",
        "no_sum_loop",
        "reassociate applies to `acc += e` on a float variable declared before the loop",
    )


@pytest.mark.parametrize("factor", [1, 0, 2.0, True])
def test_bad_factor(factor):
    s = allo.customize(dot)
    with pytest.raises(allo.ScheduleError) as info:
        s.reassociate("i", factor)  # ERR:bad_factor
    assert str(info.value) == schedule_error(
        "bad_factor", f"reassociate needs a factor of at least 2 partial sums, not {factor!r}"
    )
