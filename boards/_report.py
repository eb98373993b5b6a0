"""What a synthesised design costs: resources, Fmax, and the run time that follows.

Figures come from the tools: cell counts from yosys's ``stat -json`` after synthesis, and
utilisation and achieved Fmax from nextpnr's ``--report`` JSON after place and route.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .._errors import BuildError
from ._board import Device

__all__ = ["DesignDoesNotFit", "SynthesisReport", "Usage", "read_nextpnr", "read_yosys_stat"]

# nextpnr utilisation keys: (logic, block RAM, DSP) per family
_NEXTPNR_KEYS = {
    "ice40": ("ICESTORM_LC", "ICESTORM_RAM", "ICESTORM_DSP"),
    "ecp5": ("TRELLIS_COMB", "DP16KD", "MULT18X18D"),
}
_YOSYS_CELLS = {  # (LUT cells, flip-flop prefixes, block RAM cells, DSP cells)
    "ice40": (("SB_LUT4",), ("SB_DFF",), ("SB_RAM40_4K",), ("SB_MAC16",)),
    "ecp5": (("LUT4",), ("TRELLIS_FF",), ("DP16KD",), ("MULT18X18D",)),
}


class DesignDoesNotFit(BuildError):
    """A design that needs more of a resource than the device has."""


@dataclass(frozen=True)
class Usage:
    """``used`` of ``available`` units of one resource."""

    used: int
    available: int

    def __str__(self) -> str:
        pct = 100 * self.used / self.available if self.available else 0.0
        return f"{self.used:>7,} / {self.available:<7,} ({pct:5.1f} %)"


def read_yosys_stat(path: Path, family: str) -> dict[str, int]:
    """Cell counts of yosys's ``stat -json`` output: ``luts``, ``ffs``, ``brams``, ``dsps``,
    ``carry`` (``SB_CARRY`` / ``CCU2C``)."""
    data = json.loads(Path(path).read_text())
    cells: dict[str, int] = data.get("design", {}).get("num_cells_by_type", {})
    luts, ffs, brams, dsps = _YOSYS_CELLS[family]

    def count(prefixes: tuple[str, ...]) -> int:
        return sum(n for cell, n in cells.items() if cell.startswith(prefixes))

    carry = ("SB_CARRY",) if family == "ice40" else ("CCU2C",)
    return {
        "luts": count(luts),
        "ffs": count(ffs),
        "brams": count(brams),
        "dsps": count(dsps),
        "carry": count(carry),
    }


def read_nextpnr(path: Path, family: str) -> tuple[dict[str, Usage], dict[str, float]]:
    """Utilisation (``logic``, ``brams``, ``dsps``) and achieved Fmax per clock (MHz) from
    nextpnr's ``--report`` JSON (without the pseudo clock of DSP blocks whose clock input is
    tied low)."""
    data = json.loads(Path(path).read_text())
    util = data.get("utilization", {})
    usage = {}
    for name, key in zip(("logic", "brams", "dsps"), _NEXTPNR_KEYS[family]):
        entry = util.get(key, {"used": 0, "available": 0})
        usage[name] = Usage(int(entry["used"]), int(entry["available"]))
    fmax = {
        clock: float(v["achieved"])
        for clock, v in data.get("fmax", {}).items()
        if "PACKER_GND" not in clock  # a DSP block's unused clock pin, tied low
    }
    return usage, fmax


def check_fit(counts: dict[str, int], device: Device, design: str) -> None:
    """:class:`DesignDoesNotFit` naming the overflowing resources, from yosys's counts."""
    limits = {
        "luts": (device.luts, "LUTs", "unroll less or partition fewer arrays completely"),
        "ffs": (device.ffs, "flip-flops", "pipeline with a larger II or unroll less"),
        "brams": (device.brams, "block RAMs", "partition arrays into fewer banks"),
        "dsps": (device.dsps, "DSP blocks", "unroll less, or build with a DSP budget"),
    }
    over = [
        (what, counts[key], limit, fix)
        for key, (limit, what, fix) in limits.items()
        if counts.get(key, 0) > limit
    ]
    if over:
        text = "; ".join(f"{n:,} {what} of {limit:,}" for what, n, limit, _ in over)
        raise DesignDoesNotFit(
            f"{design} does not fit the {device.name}: it needs {text}",
            hint="; ".join(fix for *_, fix in over),
        )


@dataclass
class SynthesisReport:
    """The result of a synthesis build: where it ran, what it uses and how fast it runs.

    ``run_time_us`` is ``cycles`` at the kernel clock, known when a simulation measured the
    cycles. ``str(report)`` is the human-readable form, ``to_json()`` the ``report.json``.
    """

    design: str
    target: str
    family: str
    device: str
    clock_mhz: float
    fmax_mhz: float | None
    cells: dict[str, int]
    usage: dict[str, Usage]
    cycles: int | None = None
    steps: dict[str, float] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    @property
    def meets_timing(self) -> bool:
        return self.fmax_mhz is not None and self.fmax_mhz >= self.clock_mhz

    @property
    def run_time_us(self) -> float | None:
        return None if self.cycles is None else self.cycles / self.clock_mhz

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["meets_timing"] = self.meets_timing
        data["run_time_us"] = self.run_time_us
        return data

    def __str__(self) -> str:
        fmax = "n/a" if self.fmax_mhz is None else f"{self.fmax_mhz:.1f} MHz"
        verdict = "meets timing" if self.meets_timing else "MISSES TIMING"
        lines = [
            f"design {self.design} on {self.target} ({self.device}, {self.family})",
            f"  clock      {self.clock_mhz:g} MHz requested, Fmax {fmax}: {verdict}",
            f"  logic      {self.usage['logic']}  ({self.cells['luts']:,} LUT4, "
            f"{self.cells['carry']:,} carry)",
            f"  flip-flops {self.usage['ffs']}"
            if "ffs" in self.usage
            else f"  flip-flops {self.cells['ffs']:>7,}",
            f"  block RAM  {self.usage['brams']}",
            f"  DSP        {self.usage['dsps']}",
        ]
        if self.cycles is not None:
            lines.append(f"  run time   {self.cycles:,} cycles = {self.run_time_us:,.1f} us")
        if self.steps:
            steps = ", ".join(f"{k} {v:.1f} s" for k, v in self.steps.items())
            lines.append(f"  tools      {steps}")
        return "\n".join(lines)
