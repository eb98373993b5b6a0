"""What the scheduler did, in a form users can act on: per loop its trip count, requested and
achieved II, pipeline depth and latency (with the reasons a smaller II was infeasible), per
array its banks, ports and storage, and the DSP blocks the multiplies use against the budget."""

from __future__ import annotations

from dataclasses import dataclass, field

from ._dsp import DspUse
from ._fsmd import Fsmd, Memory, Pipeline

__all__ = ["ArrayReport", "LoopReport", "Report", "build_report"]


@dataclass(frozen=True)
class LoopReport:
    """One loop: ``pipelined`` ones carry their II, depth and latency (in cycles)."""

    name: str
    line: int
    trips: int | None
    pipelined: bool
    requested_ii: int | None = None
    achieved_ii: int | None = None
    depth: int | None = None
    latency: int | None = None
    flattened: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArrayReport:
    name: str
    shape: tuple[int, ...]
    banks: int
    ports: str
    storage: str


@dataclass
class Report:
    """``str(report)`` is a table; ``cycles`` is the last simulated call's (or ``None``);
    ``dsp``: DSP blocks used of the budget, and the multiplies built from logic."""

    kernel: str
    loops: list[LoopReport] = field(default_factory=list)
    arrays: list[ArrayReport] = field(default_factory=list)
    cycles: int | None = None
    dsp: DspUse | None = None

    def __str__(self) -> str:
        lines = [f"kernel {self.kernel}"]
        lines.append("loops:")
        lines.append(
            f"  {'loop':<24}{'line':>6}{'trips':>8}{'II req':>8}{'II':>5}{'depth':>7}{'latency':>9}"
        )
        for lp in self.loops:
            dash = "-"
            lines.append(
                f"  {lp.name:<24}{lp.line:>6}{lp.trips if lp.trips is not None else '?':>8}"
                f"{lp.requested_ii or dash:>8}{lp.achieved_ii or dash:>5}{lp.depth or dash:>7}"
                f"{lp.latency or dash:>9}"
            )
            if lp.flattened:
                lines.append(f"      flattened with {', '.join(lp.flattened)}")
            lines += [f"      {r}" for r in lp.reasons]
        lines.append("arrays:")
        for a in self.arrays:
            shape = "x".join(map(str, a.shape))
            lines.append(
                f"  {a.name:<16}{shape:>10}  banks {a.banks:<4} {a.ports:<28}  {a.storage}"
            )
        if self.dsp is not None and (self.dsp.multiplies or self.dsp.budget is not None):
            lines.append(f"DSP blocks: {self.dsp}")
        lines.append(f"cycles of the last call: {self.cycles if self.cycles is not None else '-'}")
        return "\n".join(lines)


def _pipeline_report(p: Pipeline) -> LoopReport:
    latency = None if p.trips is None else (p.trips - 1) * p.ii + p.depth
    flattened = tuple(lv.var.name for lv in p.levels[:-1])
    return LoopReport(
        p.name, p.loc.line if p.loc else 0, p.trips, True, p.requested_ii, p.ii, p.depth,
        latency, flattened, p.reasons,
    )  # fmt: skip


def _array_report(mem: Memory) -> ArrayReport:
    banks = mem.banks
    ports = "1 read + 1 write" + (" per bank" if banks > 1 else "")
    if mem.port is not None:
        storage = "external (shell memories)" if banks > 1 else "external (shell memory)"
    elif mem.registers and banks > 1:
        storage = "registers"
    else:
        depth = mem.type.size // banks
        storage = "block RAM" if depth * mem.type.dtype.bits > 1024 else "LUT RAM / registers"
    return ArrayReport(mem.sym.name, mem.type.shape, banks, ports, storage)


def build_report(fsmd: Fsmd) -> Report:
    """The report of a lowered kernel (the top one; called kernels have their own)."""
    report = Report(fsmd.name, dsp=fsmd.dsp)
    for p in fsmd.pipelines:
        report.loops.append(_pipeline_report(p))
    for name, line, trips in fsmd.sequential_loops:
        report.loops.append(LoopReport(name, line, trips, False))
    for mem in fsmd.memories:
        report.arrays.append(_array_report(mem))
    report.loops.sort(key=lambda lp: lp.line)
    return report
