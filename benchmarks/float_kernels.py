"""float32 kernels of issue 7: cycles (Verilator) and, with ``--board``, the ULX3S-85F build.

Run: .venv/bin/python benchmarks/float_kernels.py [--board]
(about 4 minutes to compile the simulators; ``--board`` adds three bitstream builds of the
GEMM, about 6 minutes each; results go to benchmarks/results/float_kernels.txt)

What is measured, and how: each kernel is customized by its ``schedule_*`` function in
examples/float_kernels.py, built with ``s.build(target="verilator")`` for two lowering models
(``generic``: short unit pipelines, float32 adder 3 cycles; ``ecp5 100 MHz``: the units'
latencies for that clock, adder 6 cycles) and called once on random inputs in [-1, 1). The
figure is ``mod.cycles`` (the shell's busy-cycle counter). Every result must equal, bit for
bit, an independent NumPy float32 computation in the kernel's order of additions; a mismatch
is a failure. The ideal is one multiply-add per cycle.

1. dot product N=1024, ``schedule_dot`` (strict): the running sum is a recurrence through the
   float adder, so the II is the adder's latency; ``schedule_dot_reassociated``: interleaved
   partial sums (``s.reassociate``; 4 for the generic model, 8 for the ECP5's 6-cycle adder),
   II=1, compared bit for bit with an independent NumPy computation of that order.
2. GEMM 16^3, ``schedule_gemm16_inner`` (k pipelined, strict): II = adder latency;
   ``schedule_gemm16_reassociated``: k pipelined with 8 partial sums per C[i, j], II=1 but a
   fill and a final sum per element.
3. GEMM 16^3, ``schedule_gemm16_rowwise`` (Allo's row-wise product, strict): II=1.
4. ``--board``: the three GEMM schedules on ULX3S-85F at 100 MHz (PLL), seed 1: Fmax, LUTs,
   FFs, DSP blocks and block RAM from nextpnr's report, cycles from simulating the board
   design (``allo.build``).
"""

from __future__ import annotations

import re
import sys
import time
from functools import partial
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


def _measure(schedule, args, want, target: dict) -> tuple[int, bool, str]:
    s = schedule()
    mod = s.build(target="verilator", **target)
    got = np.asarray(mod(*args), dtype=np.float32)
    same = np.array_equal(got.view(np.uint32), np.asarray(want, dtype=np.float32).view(np.uint32))
    iis = [f"{lp.name} II={lp.achieved_ii}" for lp in mod.report().loops if lp.pipelined]
    return mod.cycles, same, ", ".join(iis)


TARGETS = {  # the lowering's models: unit latencies follow the family and clock
    "generic": {},
    "ecp5 100 MHz": {"family": "ecp5", "clock_mhz": 100},
}


def _cases(rng: np.random.Generator, factor: int) -> list[tuple]:
    """(name, schedule, args, expected result, ideal cycles) of each kernel; ``factor``:
    partial sums of the reassociated dot product (more than the adder's latency)."""
    A, B = (rng.uniform(-1, 1, fk.N).astype(np.float32) for _ in range(2))
    X, Y = (rng.uniform(-1, 1, (fk.M, fk.M)).astype(np.float32) for _ in range(2))
    gemm, dot = fk.reference(X, Y), partial(fk.schedule_dot_reassociated, factor)
    return [
        ("dot N=1024, strict", fk.schedule_dot, (A, B), _dot_reference(A, B), fk.N),
        (f"dot N=1024, reassociated ({factor} sums)", dot, (A, B), _interleaved(A, B, factor),
         fk.N),
        ("GEMM 16^3, k pipelined, strict", fk.schedule_gemm16_inner, (X, Y), gemm, fk.M**3),
        ("GEMM 16^3, k pipelined, reassoc. (8)", fk.schedule_gemm16_reassociated, (X, Y),
         fk.reference_reassociated(X, Y), fk.M**3),
        ("GEMM 16^3, row-wise, strict", fk.schedule_gemm16_rowwise, (X, Y), gemm, fk.M**3),
    ]  # fmt: skip


def _rows() -> list[tuple[str, str, int, int, bool, str]]:
    rows = []
    for model, target in TARGETS.items():
        cases = _cases(np.random.default_rng(1), 4 if model == "generic" else 8)
        for name, schedule, args, want, ideal in cases:
            cycles, same, iis = _measure(schedule, args, want, target)
            rows.append((model, name, cycles, ideal, same, iis))
    return rows


BOARD = {  # the GEMM schedules built for the board
    "row-wise, strict": fk.schedule_gemm16_rowwise,
    "k pipelined, strict": fk.schedule_gemm16_inner,
    "k pipelined, reassociated (8 sums)": fk.schedule_gemm16_reassociated,
}


def _board(which: str, schedule) -> list[str]:
    slug = re.sub(r"[^a-z0-9]+", "-", which.lower()).strip("-")
    out = ROOT / "build" / "bench" / f"float-gemm16-ulx3s-{slug}"
    begin = time.monotonic()
    try:
        report = allo.build(schedule(), "ulx3s-85f", clock_mhz=100, output_dir=out,
                            simulate=True)  # fmt: skip
    except allo.TimingNotMet as exc:
        report = exc.report
    seconds = time.monotonic() - begin
    lines = [f"float32 GEMM 16^3 {which} on ulx3s-85f at 100 MHz ({seconds:.0f} s)"]
    return lines + ["  " + line for line in str(report).splitlines()[1:]]


def main() -> int:
    head = f"{'model':<13}{'kernel':<38}{'cycles':>8}{'ideal':>8}{'ratio':>7}  bit-exact"
    lines, failed = [head + "  pipelines"], 0
    for model, name, cycles, ideal, same, iis in _rows():
        failed += not same
        lines.append(f"{model:<13}{name:<38}{cycles:>8,}{ideal:>8,}{cycles / ideal:>7.2f}  "
                     f"{'yes' if same else 'NO':<9}  {iis}")  # fmt: skip
    if "--board" in sys.argv[1:]:
        for which, schedule in BOARD.items():
            lines += _board(which, schedule)
    text = "\n".join(lines)
    print(text)
    RESULTS.write_text(text + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
