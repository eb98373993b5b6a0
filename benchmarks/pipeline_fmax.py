"""Fmax of the pipelined kernels of examples/pipelined.py on the ECP5-85F, out of context.

Run: .venv/bin/python benchmarks/pipeline_fmax.py [name ...]   (about 4 minutes; writes build/)

Each row builds one schedule with ``allo_rtl.synth(s, "ecp5-85k", clock_mhz=100)``: the
kernel lowered for the ECP5 at 100 MHz, in its shell behind the UART bridge, synthesised by
yosys and placed and routed by nextpnr (router2, placer seed 1, the clock on pin G2, other pins
free). Printed per row: the achieved Fmax of the kernel clock next to the target (the issue's
clock model: the requested 100 MHz) and the ideal (100 MHz), the LUTs (LUT4 + carry cells), and
the first and last cell of the critical path as nextpnr reports it. These are estimates of the
kernel and shell alone; the board rows (benchmarks/board_fmax.py) place the whole design.

The script exits with status 1 if a row misses 100 MHz, except the rows marked "known" (their
critical path is outside what the clock model controls; the reason is printed).
"""

from __future__ import annotations

import re
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import pipelined  # noqa: E402
from pipeline_cycles import schedule_pairs  # noqa: E402

import allo_rtl as allo  # noqa: E402

CLOCK = 100.0
KNOWN = {  # row -> why it may miss the clock
    "gemm32 unroll 4": "the multiplies' DSP blocks are placed far from their fabric registers "
    "(yosys does not pack the MULT18X18D input/output registers)",
}
ROWS = [
    ("vadd N=1024", pipelined.schedule_vadd),
    ("dot N=1024", pipelined.schedule_dot),
    ("gemm16 pipelined", pipelined.schedule_gemm16),
    ("gemm32 row-wise", pipelined.schedule_gemm32_rowwise),
    ("gemm32 unroll 4", lambda: pipelined.schedule_gemm32_unrolled(4)),
    ("blur 3x3 32x32", pipelined.schedule_blur),
    ("blur, x unrolled 2", pipelined.schedule_blur_unrolled),
    ("pairs, A cyclic 2", lambda: schedule_pairs(True)),
    ("triangle, rewind", pipelined.schedule_triangle),
]


def critical_path(log: Path) -> str:
    """First source and last sink of the kernel clock's critical path in nextpnr's log."""
    text = log.read_text()
    start = text.find("Critical path report for clock")
    if start < 0:
        return "-"
    block = text[start : text.find("ns logic", start)]
    cells = re.findall(r"(?:Source|Sink) (\S+)", block)
    return f"{cells[0]} -> {cells[-1]}" if cells else "-"


def main(only: list[str]) -> int:
    failed = 0
    print(f"allo_rtl pipelined kernels, out of context on the ECP5-85F at {CLOCK:g} MHz")
    print(f"{'row':22s} {'Fmax':>7s} {'target':>7s} {'ideal':>6s} {'LUTs':>6s}  verdict")
    for name, schedule in ROWS:
        if only and name not in only:
            continue
        begin = time.monotonic()
        out = ROOT / "build" / "bench" / "pipeline_fmax" / re.sub(r"\W+", "_", name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", allo.ScheduleWarning)
            report = allo.synth(schedule(), "ecp5-85k", clock_mhz=CLOCK, output_dir=out)
        fmax = report.fmax_mhz or 0.0
        luts = report.usage["logic"].used
        ok = fmax >= CLOCK
        verdict = "met" if ok else ("known: see below" if name in KNOWN else "MISSED")
        failed += not ok and name not in KNOWN
        print(f"{name:22s} {fmax:7.1f} {CLOCK:7g} {CLOCK:6g} {luts:6,d}  {verdict}"
              f"  ({time.monotonic() - begin:.0f} s)")  # fmt: skip
        print(f"{'':22s} critical path {critical_path(out / 'impl' / 'place-and-route.log')}")
        if not ok and name in KNOWN:
            print(f"{'':22s} known: {KNOWN[name]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
