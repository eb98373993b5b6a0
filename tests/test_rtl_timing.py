"""The delay model in sequential code: statements whose logic is longer than the clock allows
are split over cycles by registers (``lowering._timing.cut_points``); results do not change."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth_harness import run

import allo_rtl as allo
from allo_rtl.hw import KernelComponent
from allo_rtl.ir import Store, walk
from allo_rtl.ir.types import int16, int32, int64, uint32
from allo_rtl.lowering import lower, target_model
from allo_rtl.lowering._timing import cut_points

N = 16


def chain(A: int32[N], B: int32[N]) -> int32[N]:
    C: int32[N] = 0
    for i in range(N):
        C[i] = ((A[i] + B[i]) ^ (A[i] - B[i])) + ((A[i] + 3) * 5 + (B[i] - 7)) - (A[i] & B[i])
    return C


def _value(s):
    (store,) = [n for n in walk(s.module.top_func) if isinstance(n, Store) and n.buf.name == "C"]
    return store.value


def _stage_registers(fsmd) -> int:
    return sum(1 for sym, _ in fsmd.registers if sym.name == "stage")


def test_no_cuts_when_the_clock_allows():
    s = allo.customize(chain)
    assert cut_points([_value(s)], target_model("generic", 20.0)) == set()
    assert cut_points([_value(s)], target_model("ice40", 6.0)) == set()


def test_cuts_register_operands_that_carry_logic():
    s = allo.customize(chain)
    cuts = cut_points([_value(s)], target_model("ice40", 48.0))
    assert cuts
    assert _value(s) not in cuts  # operands are registered, never the whole statement
    assert _stage_registers(lower(s.module, target_model("ice40", 48.0))) >= 1
    assert _stage_registers(lower(s.module, target_model("generic", 20.0))) == 0


def test_split_statements_compute_the_same_values():
    s = allo.customize(chain)
    rng = np.random.default_rng(5)
    A, B = rng.integers(-(2**31), 2**31, (2, N)).astype(np.int32)
    want = s.build()(A, B)
    slow = s.build(target="verilator", clock_mhz=20)
    np.testing.assert_array_equal(slow(A, B), want)
    fast = s.build(target="verilator", family="ice40", clock_mhz=48)
    np.testing.assert_array_equal(fast(A, B), want)
    assert fast.cycles > slow.cycles  # the extra cycles of the registered stages
    assert isinstance(s.build(target="amaranth", family="ice40"), KernelComponent)


def wide(A: int32[16], B: int32[16]) -> int64[16]:
    C: int64[16] = 0
    for i in range(16):
        C[i] = A[i] * B[i] + 3
    return C


def mixed(A: int16[16], B: uint32[16]) -> int32[16]:
    C: int32[16] = 0
    for i in range(16):
        C[i] = A[i] * B[i] - A[i]
    return C


@pytest.mark.parametrize("family", ["ice40", "ecp5"])
@pytest.mark.parametrize(
    ("kernel", "dtypes"), [(wide, (np.int32, np.int32)), (mixed, (np.int16, np.uint32))]
)
def test_split_multiplies_are_exact(family, kernel, dtypes):
    """Pipelined multiplies wider than a DSP block are built from registered 16-bit partial
    products (hw/_multiply.py): full-range operands, 64-bit and mixed-sign products."""
    s = allo.customize(kernel)
    s.pipeline("i")
    rng = np.random.default_rng(11)
    args = [
        rng.integers(np.iinfo(t).min, np.iinfo(t).max, 16, dtype=np.int64, endpoint=True).astype(t)
        for t in dtypes
    ]
    a, b = (x.astype(object) for x in args)
    want = a * b + 3 if kernel is wide else a * b - a
    bits = 64 if kernel is wide else 32
    want = np.array([(int(v) + 2 ** (bits - 1)) % 2**bits - 2 ** (bits - 1) for v in want])
    got, _ = run(s, *args, model=target_model(family))
    np.testing.assert_array_equal(np.asarray(got, dtype=object).astype(np.int64), want)
    fsmd = lower(s.module, target_model(family))
    (mul,) = [op for p in fsmd.pipelines for op in p.ops if op.kind == "mul"]
    assert mul.latency >= 2
