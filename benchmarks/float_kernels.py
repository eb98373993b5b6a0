"""float32 kernels of issue 7: cycles (Verilator) and, with ``--board``, the ULX3S-85F build.

Run: .venv/bin/python benchmarks/float_kernels.py [--board]
(about 2 minutes to compile the simulators; ``--board`` adds a bitstream build of the GEMM,
about 5 minutes; results go to benchmarks/results/float_kernels.txt)

What is measured, and how: each kernel is customized by its ``schedule_*`` function in
examples/float_kernels.py, built with ``s.build(target="verilator")`` and called once on random
inputs in [-1, 1). The figure is ``mod.cycles`` (the shell's busy-cycle counter). Every result
must equal, bit for bit, an independent NumPy float32 computation in the kernel's order of
additions (strict mode); a mismatch is a failure. The ideal is one multiply-add per cycle.

1. dot product N=1024, ``schedule_dot`` (strict): the running sum is a recurrence through the
   float adder, so the II is the adder's latency; ``schedule_dot_reassociated``: four
   interleaved partial sums (``s.reassociate``), II=1, compared bit for bit with an independent
   NumPy computation of that order (and allclose to the strict sum).
2. GEMM 16^3, ``schedule_gemm16_inner`` (k pipelined, strict): II = adder latency.
3. GEMM 16^3, ``schedule_gemm16_rowwise`` (Allo's row-wise product, strict): II=1.
4. ``--board``: the row-wise GEMM on ULX3S-85F at 100 MHz (PLL), seed 1: Fmax, LUTs, FFs,
   DSP blocks and block RAM from nextpnr's report (``allo.build``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))

import float_kernels as fk  # noqa: E402

import allo_rtl as allo  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "float_kernels.txt"


def _dot_reference(A: np.ndarray, B: np.ndarray) -> np.float32:
    acc = np.float32(0)
    for a, b in zip(A, B):
        acc = np.float32(acc + np.float32(a * b))
    return acc


def _interleaved(A: np.ndarray, B: np.ndarray, factor: int = 4) -> np.float32:
    part = [np.float32(0)] * factor
    for i, (a, b) in enumerate(zip(A, B)):
        part[i % factor] = np.float32(part[i % factor] + np.float32(a * b))
    acc = np.float32(0)
    for p in part:
        acc = np.float32(acc + p)
    return acc


def _measure(schedule, args, want) -> tuple[int, bool, str]:
    s = schedule()
    mod = s.build(target="verilator")
    got = np.asarray(mod(*args), dtype=np.float32)
    same = np.array_equal(got.view(np.uint32), np.asarray(want, dtype=np.float32).view(np.uint32))
    iis = [f"{lp.name} II={lp.achieved_ii}" for lp in mod.report().loops if lp.pipelined]
    return mod.cycles, same, ", ".join(iis)


def _rows(rng: np.random.Generator) -> list[tuple[str, int, int, bool, str]]:
    A, B = (rng.uniform(-1, 1, fk.N).astype(np.float32) for _ in range(2))
    X, Y = (rng.uniform(-1, 1, (fk.M, fk.M)).astype(np.float32) for _ in range(2))
    gemm = fk.reference(X, Y)
    rows = []
    for name, schedule, args, want, ideal in (
        ("dot N=1024, strict", fk.schedule_dot, (A, B), _dot_reference(A, B), fk.N),
        (
            "dot N=1024, reassociated (4 sums)",
            fk.schedule_dot_reassociated,
            (A, B),
            _interleaved(A, B),
            fk.N,
        ),
        ("GEMM 16^3, k pipelined, strict", fk.schedule_gemm16_inner, (X, Y), gemm, fk.M**3),
        ("GEMM 16^3, row-wise, strict", fk.schedule_gemm16_rowwise, (X, Y), gemm, fk.M**3),
    ):
        cycles, same, iis = _measure(schedule, args, want)
        rows.append((name, cycles, ideal, same, iis))
    return rows


def _board() -> list[str]:
    out = ROOT / "build" / "bench" / "float-gemm16-ulx3s"
    begin = time.monotonic()
    try:
        report = allo.build(fk.schedule_gemm16_rowwise(), "ulx3s-85f", clock_mhz=100,
                            output_dir=out, simulate=True)  # fmt: skip
    except allo.TimingNotMet as exc:
        report = exc.report
    lines = [
        f"float32 GEMM 16^3 row-wise on ulx3s-85f at 100 MHz ({time.monotonic() - begin:.0f} s)"
    ]
    return lines + ["  " + line for line in str(report).splitlines()[1:]]


def main() -> int:
    lines = [f"{'kernel':<34}{'cycles':>8}{'ideal':>8}{'ratio':>7}  bit-exact  pipelines"]
    failed = 0
    for name, cycles, ideal, same, iis in _rows(np.random.default_rng(1)):
        failed += not same
        lines.append(f"{name:<34}{cycles:>8,}{ideal:>8,}{cycles / ideal:>7.2f}  "
                     f"{'yes' if same else 'NO':<9}  {iis}")  # fmt: skip
    if "--board" in sys.argv[1:]:
        lines += _board()
    text = "\n".join(lines)
    print(text)
    RESULTS.write_text(text + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
