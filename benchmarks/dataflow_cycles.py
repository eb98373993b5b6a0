"""Cycles of the dataflow designs of examples/dataflow.py on Verilator, next to issue 5's bounds
and the ideal, with the FIFO high-water marks measured in hardware.

Run: .venv/bin/python benchmarks/dataflow_cycles.py     (about a minute; Verilator needed)

Rows (each result is checked against NumPy first):
- producer -> consumer, 16 x 16 int32 through a depth-4 stream, both loops pipelined: bound "well
  below the sum of the two loops" (taken as 0.6 x the sum, the sum measured with the same
  schedules in a plain kernel calling the two loops one after the other), ideal 256 + a few.
- 2mm, D = (A @ B) @ C, 16^3 GEMMs pipelined, T streamed (``to``) and ``dataflow`` on the top:
  bound 0.7 x the cycles of the same schedules run one after the other, ideal one GEMM (4,096
  multiply-accumulates at one per cycle) plus one row of the first (256).
- output-stationary 4 x 4 int8 systolic array, K = 64, every loop pipelined: bound
  K + R + C + 8 cycles for the whole call, ideal K + R + C - 1 (the last PE's last operand).
- a dataflow loop over 8 tiles of two pipelined 16-element kernels with a ping-pong buffer
  (``s.dataflow("t")``): bound 0.6 x the same schedules without ``dataflow`` (the issue gives
  none), ideal (tiles + 1) x 16 (one kernel's iterations, plus the last tile's second stage).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))

import dataflow as ex  # noqa: E402

import allo_rtl as allo  # noqa: E402
from allo_rtl.ir.types import int32  # noqa: E402


def sequential_pc(A: int32[ex.M, ex.N], B: int32[ex.M, ex.N]):
    """The producer and consumer loops one after the other, through a local array."""
    T: int32[ex.M, ex.N] = 0
    for i, j in allo.grid(ex.M, ex.N, name="producer"):
        T[i, j] = A[i, j]
    for i, j in allo.grid(ex.M, ex.N, name="consumer"):
        B[i, j] = T[i, j] + 1


def row(name: str, cycles: int, bound: float, ideal: int, high: dict[str, int]) -> bool:
    ok = cycles <= bound
    print(f"{name}: {cycles} cycles, bound <= {bound:g}, ideal {ideal}: {'OK' if ok else 'MISSED'}")
    if high:
        marks = sorted(set(high.values()))
        print(f"  FIFO high-water marks: {len(high)} FIFOs, values {marks}")
    return ok


def producer_consumer(rng: np.random.Generator) -> bool:
    a = rng.integers(-1000, 1000, (ex.M, ex.N)).astype(np.int32)
    s = allo.customize(sequential_pc)
    s.pipeline("producer.j")
    s.pipeline("consumer.j")
    seq = s.build(target="verilator")
    b = np.zeros_like(a)
    seq(a, b)
    assert (b == a + 1).all()
    mod = ex.schedule_producer_consumer().build(target="verilator")
    b = np.zeros_like(a)
    mod(a, b)
    assert (b == a + 1).all()
    print(f"producer and consumer one after the other: {seq.cycles} cycles")
    return row("producer -> consumer (depth 4)", mod.cycles, 0.6 * seq.cycles, 256,
               mod.fifo_high_water)  # fmt: skip


def mm2(rng: np.random.Generator) -> bool:
    x, y, z = (rng.integers(-50, 50, (ex.G, ex.G)).astype(np.int32) for _ in range(3))
    want = (x.astype(np.int64) @ y @ z).astype(np.int32)
    cycles = {}
    for overlapped in (False, True):
        mod = ex.schedule_mm2(overlapped).build(target="verilator")
        d = np.zeros_like(x)
        mod(x, y, z, d)
        assert (d == want).all()
        cycles[overlapped] = mod.cycles
    print(f"2mm stages one after the other: {cycles[False]} cycles")
    ratio = cycles[True] / cycles[False]
    print(f"  overlapped / sequential = {ratio:.2f} (bound 0.70)")
    return row("2mm with to + dataflow", cycles[True], 0.7 * cycles[False],
               ex.G**3 + ex.G**2, mod.fifo_high_water)  # fmt: skip


def systolic(rng: np.random.Generator) -> bool:
    a = rng.integers(-128, 128, (ex.R, ex.K)).astype(np.int8)
    b = rng.integers(-128, 128, (ex.K, ex.C)).astype(np.int8)
    mod = ex.schedule_systolic().build(target="verilator")
    c = np.zeros((ex.R, ex.C), np.int32)
    mod(a, b, c)
    assert (c == a.astype(np.int32) @ b.astype(np.int32)).all()
    bound = ex.K + ex.R + ex.C + 8
    return row("systolic 4x4, K=64", mod.cycles, bound, ex.K + ex.R + ex.C - 1,
               mod.fifo_high_water)  # fmt: skip


def tile_loop(rng: np.random.Generator) -> bool:
    x = rng.integers(-99, 99, (ex.TILES, ex.N)).astype(np.int32)
    cycles = {}
    for overlapped in (False, True):
        mod = ex.schedule_tiles(overlapped).build(target="verilator")
        y = np.zeros_like(x)
        mod(x, y)
        assert (y == np.cumsum(x * x, axis=1)).all()
        cycles[overlapped] = mod.cycles
    print(f"tile loop, kernels one after the other: {cycles[False]} cycles")
    return row("tile loop as a dataflow loop (ping-pong)", cycles[True], 0.6 * cycles[False],
               (ex.TILES + 1) * ex.N, {})  # fmt: skip


def main() -> int:
    rng = np.random.default_rng(5)
    results = [producer_consumer(rng), mm2(rng), systolic(rng), tile_loop(rng)]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
