"""Fmax and fit of whole board designs (kernel + shell + UART bridge + PLL) with the PyPI tools.

Run: .venv/bin/python benchmarks/board_fmax.py      (a few minutes; writes nothing but build/)

Each row builds one schedule of examples/pipelined.py for one board with ``allo_rtl.build`` at
the requested kernel clock (a PLL makes it), placer seed 1, after a Verilator run that checks the
result against the NumPy target and measures the cycles. Printed per row: achieved Fmax (nextpnr,
the kernel clock) next to the target of issue 6 and the ideal (the requested clock), LUTs or LCs,
flip-flops, block RAMs and DSPs used of available, the cycles and the run time at the clock made.

Targets (issue 6): pipelined int32 GEMM 16^3 on ULX3S-85F >= 100 MHz; on the iCEBreaker >= 40
MHz and it fits; int8 GEMM using all 8 UP5K DSPs (j unrolled by 8) fits on the iCEBreaker at >=
30 MHz; the int8 4x4 systolic array of examples/dataflow.py on ULX3S-85F >= 100 MHz (issue 5).
The last row, the unscheduled GEMM 32^3 of examples/gemm.py, is compared with Polyphony's
quoted 38 MHz for a not-pipelined GEMM on the UP5K (the hand-written one reaches about 56).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))

from dataflow import schedule_systolic  # noqa: E402
from gemm import gemm  # noqa: E402
from pipelined import schedule_gemm16, schedule_gemm16_int8_unrolled  # noqa: E402

import allo_rtl as allo  # noqa: E402


def unscheduled_gemm32() -> allo.Schedule:
    return allo.customize(gemm)


ROWS = [  # (name, schedule, board, clock MHz, target Fmax MHz)
    ("int32 GEMM 16^3 pipelined", schedule_gemm16, "ulx3s-85f", 100.0, 100.0),
    ("int32 GEMM 16^3 pipelined", schedule_gemm16, "icebreaker", 40.0, 40.0),
    ("int8 GEMM 16^3 j unrolled 8", schedule_gemm16_int8_unrolled, "icebreaker", 30.0, 30.0),
    # issue 5 (from issue 6): the int8 4x4 output-stationary systolic array, K = 64
    ("int8 systolic 4x4, K=64", schedule_systolic, "ulx3s-85f", 100.0, 100.0),
    # not a target: compared with the not-pipelined designs quoted in issue 6 (hand-written
    # Amaranth about 56 MHz on the UP5K, Polyphony 0.3.6 about 38 MHz)
    ("int32 GEMM 32^3 unscheduled", unscheduled_gemm32, "icebreaker", 40.0, None),
]


def main() -> int:
    failed = 0
    for name, schedule, board, clock, target in ROWS:
        begin = time.monotonic()
        out = ROOT / "build" / "bench" / f"{schedule.__name__}-{board}"
        try:
            report = allo.build(schedule(), board, clock_mhz=clock, output_dir=out,
                                simulate=True)  # fmt: skip
        except allo.TimingNotMet as exc:
            report = exc.report
        print(f"{name} on {board} at {clock:g} MHz ({time.monotonic() - begin:.0f} s)")
        if target is None:
            print(f"  Fmax {report.fmax_mhz:.1f} MHz, no target; Polyphony 0.3.6 about 38 MHz, "
                  "hand-written Amaranth about 56 MHz")  # fmt: skip
        else:
            ok = report.fmax_mhz is not None and report.fmax_mhz >= target
            failed += not ok
            print(f"  Fmax {report.fmax_mhz:.1f} MHz, target >= {target:g}, ideal {clock:g}: "
                  f"{'OK' if ok else 'MISSED'}")  # fmt: skip
        print("\n".join("  " + line for line in str(report).splitlines()[2:]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
