"""Pipeline stages compute a memory address that takes logic (index arithmetic, a row-major
combination by an extent that is not a power of two) and a store's guard one stage early, into
a register: the logic leaves the cycle of the port it drives (a pipelined blur's store address
(y - 2) * 30 + (x - 2) was its critical path on the ECP5, 86.3 MHz; 99-105 MHz with it)."""

from __future__ import annotations

import re

import numpy as np
from amaranth_harness import run

import allo_rtl as allo
from allo_rtl.ir.types import int32

N = 11  # B is 9 x 9: its row-major address y * 9 + x takes an adder


def stencil(A: int32[N, N], C: int32[N, N]) -> int32[N - 2, N - 2]:
    B: int32[N - 2, N - 2] = 0
    for y, x in allo.grid(N - 2, N - 2, name="B"):
        if x > 1:
            B[y, x] = A[y + 2, x] * 3 - C[y, x + 1]
    return B


def schedule() -> allo.Schedule:
    s = allo.customize(stencil)
    s.pipeline("x")
    return s


def test_store_address_and_guard_come_from_registers():
    verilog = schedule().build(target="verilog").kernel_verilog
    stores = re.findall(r"p0_addr\d+_s(\d+)", verilog)
    guards = re.findall(r"p0_guard\d+_s(\d+)", verilog)
    assert stores and all(int(t) >= 1 for t in stores)
    assert guards


def test_results_are_unchanged():
    A = (np.arange(N * N, dtype=np.int32).reshape(N, N) * 37) % 101 - 50
    C = A[::-1].copy()
    got, _ = run(schedule(), A, C)
    a, c = A.astype(np.int64), C.astype(np.int64)
    want = np.zeros((N - 2, N - 2), np.int64)
    want[:, 2:] = a[2:, 2 : N - 2] * 3 - c[: N - 2, 3 : N - 1]
    np.testing.assert_array_equal(got, want.astype(np.int32))
