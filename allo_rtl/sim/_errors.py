"""Errors of the RTL simulation targets."""

from __future__ import annotations

from pathlib import Path

from .._errors import AlloRTLError

__all__ = ["SimulationError", "ToolNotFound", "TraceWritten"]


class SimulationError(AlloRTLError):
    """An RTL simulation that failed, timed out, or disagrees with the NumPy reference.

    ``run_dir`` is the kept run directory (job, simulator log) of a failed simulation, or
    ``None``.
    """

    run_dir: Path | None = None


class ToolNotFound(AlloRTLError):
    """A simulator or build tool (verilator, iverilog, make, a C++ compiler) is not installed."""


class TraceWritten(UserWarning):
    """Issued after a traced simulation; the message names the waveform file."""
