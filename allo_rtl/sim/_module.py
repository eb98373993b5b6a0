"""``RTLModule``: a kernel's Verilog run by a simulator, called like the NumPy target.

Each call runs one simulation: the testbench (``allo_rtl.testbenches.generic``) writes the
scalar and array arguments through the shell's host bus, starts the kernel, waits for ``done``
and reads the results back. Data pass through files in a private run directory.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from amaranth.lib import wiring

from .._errors import DeadlockError, InternalError
from ..hw._info import KernelInfo
from ..ir.types import ArrayType
from ..reference import NumPyModule
from ..reference._module import _result, _write_back
from ..testbenches._wire import RUN_DIR_ENV, pack_words, unpack_words
from ..verilog import VerilogDesign
from ._cache import TIMESCALE, clock_wrapper, compiled_simulator, log_tail
from ._compare import first_mismatch
from ._convert import from_word, from_words, to_word, to_words
from ._errors import SimulationError, TraceWritten
from ._tools import find_simulator, runner, tool_environment
from ._watch import cycle_limit, fields, high_water, watch_report

__all__ = ["RTLModule"]

TESTBENCH = "allo_rtl.testbenches.generic"
CLOCK_PS = 10_000
# cocotb's default rewrites the asserts of every module imported in the simulator (numpy and
# allo_rtl included, and uncached when PYTHONDONTWRITEBYTECODE is set): the testbench has no
# asserts, so switch that off
_QUIET_ENV = {"COCOTB_REWRITE_ASSERTION_FILES": ""}


class RTLModule:
    """A kernel built for an RTL simulator; call it like the kernel (or the NumPy target).

    ``design`` is a :class:`~allo_rtl.verilog.VerilogDesign` or the kernel component itself
    (then wrapped with ``word_bits``); ``info`` describes the component and ``ir_module`` is the
    kernel's IR (for argument checks, result conversion and :meth:`verify`). The simulator is
    compiled when the module is created (or found in the cache, see ``allo_rtl.sim._cache``).

    After a call, ``cycles`` holds the kernel's busy cycles (the shell's ``cycles`` register),
    ``fifo_high_water`` the most values each dataflow FIFO held (by stream name), and
    ``last_trace`` the waveform file if the call was traced. ``compiles`` counts the
    simulator builds this module did itself (0 when every build came from the cache).
    ``trace``: ``False``, ``True`` (a waveform in a new temporary directory), a file or an
    existing directory; a call's ``trace=`` overrides the module's. Verilator writes VCD,
    Icarus FST. ``max_cycles`` bounds a run (a watchdog in simulated time; by default derived
    from the design, ``allo_rtl.sim._watch.cycle_limit``); on expiry the
    error lists the dataflow tasks still running or waiting and the FIFOs they wait on. A
    deadlocked dataflow region is detected in hardware (every unfinished task waits in the
    same cycle) and raises :class:`~allo_rtl.DeadlockError` at once.
    """

    def __init__(
        self,
        design: VerilogDesign | wiring.Component,
        info: KernelInfo,
        ir_module: Any,
        *,
        simulator: str = "verilator",
        trace: bool | str | Path = False,
        max_cycles: int | None = None,
        word_bits: int | None = None,
    ) -> None:
        self.tools = find_simulator(simulator)
        if not isinstance(design, VerilogDesign):
            design = VerilogDesign(design, info, ir_module, word_bits=word_bits)
        self.design = design
        self.info = info
        self.simulator = simulator
        self.trace = trace
        self.reference = NumPyModule(ir_module)
        self.max_cycles = cycle_limit(ir_module) if max_cycles is None else max_cycles
        self.top = self.reference.top
        self._check_interface()
        self.cycles: int | None = None
        self.fifo_high_water: dict[str, int] = {}  # dataflow FIFOs: the most values held
        self.last_trace: Path | None = None
        self.compiles = 0
        self._build_dirs: dict[bool, Path] = {}
        self._simulator_dir(bool(trace))

    def __repr__(self) -> str:
        return f"<RTLModule {self.design.top} on {self.simulator}>"

    def report(self) -> Any:
        """The schedule report of the kernel (``str()`` prints it), with the cycles of the
        last call."""
        report = self.design.component.report()
        report.cycles = self.cycles
        return report

    # -- calling -----------------------------------------------------------------------------

    def __call__(self, *args: Any, trace: bool | str | Path | None = None) -> Any:
        """Run the kernel once on ``args``; returns what the NumPy target returns."""
        raw = self._raw_args(args, stacklevel=3)
        return self._run(args, raw, self.trace if trace is None else trace)

    def verify(self, *args: Any, trace: bool | str | Path | None = None) -> Any:
        """Run the RTL (on ``args``, like a call) and the NumPy reference (on copies); raise
        :class:`SimulationError` naming the first differing elements, else return the result."""
        raw = self._raw_args(args, stacklevel=3)
        copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        got = self._run(args, raw, self.trace if trace is None else trace)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = self.reference(*copies)
        problems = [
            f"{name}: {message}"
            for name, g, w in self._compared(got, want, args, copies)
            if (message := first_mismatch(g, w))
        ]
        if problems:
            raise SimulationError(
                f"{self.top.sym.name}: the RTL ({self.simulator}) and the NumPy reference "
                "differ in\n  " + "\n  ".join(problems),
                self.top.loc,
            )
        return got

    def _compared(
        self, got: Any, want: Any, args: tuple[Any, ...], copies: list[Any]
    ) -> list[tuple[str, Any, Any]]:
        n = len(self.top.returns)
        if n == 1:
            got, want = [got], [want]
        pairs = [(f"return value `{self.info.returns[i]}`", got[i], want[i]) for i in range(n)]
        for p, a, c in zip(self.top.params, args, copies):
            if isinstance(a, np.ndarray):
                pairs.append((f"array argument `{p.sym.name}`", a, c))
        return pairs

    def _raw_args(self, args: tuple[Any, ...], stacklevel: int) -> list[Any]:
        """The NumPy target's argument checks and conversions; its warnings are re-issued to
        point at the caller of the public method."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            raw = self.reference.convert_args(args)
        for w in caught:
            warnings.warn(w.message, w.category, stacklevel=stacklevel)
        return raw

    def _run(self, args: tuple[Any, ...], raw: list[Any], trace: bool | str | Path) -> Any:
        trace_file = self._trace_file(trace)
        build_dir = self._simulator_dir(trace_file is not None)
        run_dir = Path(tempfile.mkdtemp(prefix=f"allo_rtl_{self.info.name}_"))
        keep = False
        try:
            self._write_job(run_dir, raw)
            self._simulate(build_dir, run_dir, trace_file)
            scalars, arrays = self._read_outputs(run_dir)
        except SimulationError as e:
            keep = e.run_dir == run_dir  # a failed simulation: keep its files for inspection
            raise
        finally:
            if not keep:
                shutil.rmtree(run_dir, ignore_errors=True)
        if trace_file is not None:
            self.last_trace = trace_file
            warnings.warn(
                f"{self.info.name}: waveform written to {trace_file}", TraceWritten, stacklevel=3
            )
        return self._results(args, raw, scalars, arrays)

    # -- the simulation ----------------------------------------------------------------------

    @property
    def _toplevel(self) -> str:
        """Verilator runs a wrapper that generates the clock itself (``clock_wrapper``)."""
        return f"{self.design.top}_tb" if self.simulator == "verilator" else self.design.top

    def _simulator_dir(self, waves: bool) -> Path:
        if waves not in self._build_dirs:
            verilog = self.design.verilog
            if self.simulator == "verilator":
                verilog += clock_wrapper(self.design.top, self.design.ports, CLOCK_PS)
            path, compiled = compiled_simulator(verilog, self._toplevel, self.tools, waves)
            self.compiles += compiled
            self._build_dirs[waves] = path
        return self._build_dirs[waves]

    def _trace_file(self, trace: bool | str | Path) -> Path | None:
        if trace is False or trace is None:
            return None
        name = self.info.name + (".vcd" if self.simulator == "verilator" else ".fst")
        if trace is True:
            return Path(tempfile.mkdtemp(prefix=f"allo_rtl_trace_{self.info.name}_")) / name
        path = Path(trace).expanduser().resolve()
        if path.is_dir():
            return path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def _write_job(self, run_dir: Path, raw: list[Any]) -> None:
        amap = self.design.address_map
        scalar_writes, array_writes, inputs = [], [], {}
        for port, p, value in zip(self.info.params, self.top.params, raw):
            if isinstance(p.type, ArrayType):
                entry = amap["arrays"][port]
                inputs[port] = pack_words(to_words(value, p.type.dtype), entry["bits"])
                array_writes.append({"key": port, "base": entry["base"]})
            else:
                scalar_writes.append([amap["scalars"][port]["addr"], to_word(value, p.type)])
        job = {
            "clock_ps": CLOCK_PS,
            "internal_clock": self.simulator == "verilator",
            "max_cycles": self.max_cycles,
            "control": amap["registers"]["control"]["addr"],
            "cycles": amap["registers"]["cycles"]["addr"],
            "scalar_writes": scalar_writes,
            "array_writes": array_writes,
            "scalar_reads": [
                {"key": n, "addr": s["addr"], "bits": s["bits"]}
                for n, s in amap["scalars"].items()
                if s["role"] == "out"
            ],
            "array_reads": [
                {"key": n, "base": a["base"], "depth": a["depth"], "bits": a["bits"]}
                for n, a in amap["arrays"].items()
                if a["role"] != "in"
            ],
            "stalls": self.info.stalls,
            "watch": [  # each word once; it holds several fields, cut out by `fields`
                {"key": str(a), "addr": a}
                for a in sorted({w["addr"] for w in amap.get("watch", {}).values()})
            ],
        }
        (run_dir / "job.json").write_text(json.dumps(job))
        if inputs:
            np.savez(run_dir / "inputs.npz", **inputs)

    def _simulate(self, build_dir: Path, run_dir: Path, trace_file: Path | None) -> None:
        options: dict[str, Any] = {}
        if trace_file is not None and self.simulator == "verilator":
            options["test_args"] = ["--trace-file", str(trace_file)]
        elif trace_file is not None:
            options["plusargs"] = [f"+dumpfile_path={trace_file}"]
        sim_log = run_dir / "sim.log"
        try:
            with tool_environment(self.tools):
                runner(self.simulator).test(
                    test_module=TESTBENCH,
                    hdl_toplevel=self._toplevel,
                    hdl_toplevel_lang="verilog",
                    build_dir=build_dir,
                    test_dir=run_dir,
                    extra_env={RUN_DIR_ENV: str(run_dir), **_QUIET_ENV},
                    results_xml=str(run_dir / "results.xml"),
                    log_file=sim_log,
                    timescale=TIMESCALE,
                    waves=trace_file is not None,
                    **options,
                )
        except (RuntimeError, SystemExit, OSError) as e:
            raise self._failure(f"the simulator failed ({e!r})", run_dir) from None

    def _failure(self, what: str, run_dir: Path) -> SimulationError:
        tail = log_tail(run_dir / "sim.log")
        error = SimulationError(
            f"{self.info.name} on {self.simulator}: {what}" + (f"\n{tail}" if tail else ""),
            hint=f"the run directory {run_dir} (job, log) is kept for inspection",
        )
        error.run_dir = run_dir
        return error

    def _read_outputs(self, run_dir: Path) -> tuple[dict[str, int], dict[str, list[int]]]:
        try:
            result = json.loads((run_dir / "outputs.json").read_text())
        except (OSError, ValueError):
            raise self._failure("the testbench wrote no results", run_dir) from None
        result["watch"] = fields(self.design.address_map, result.get("watch", {}))
        if result["status"] == "deadlock":
            raise DeadlockError(
                f"{self.info.name} on {self.simulator}: a dataflow region deadlocked after "
                f"{result['cycles']} cycles: every unfinished kernel waits on a stream\n"
                + watch_report(self.design.address_map, result["watch"]),
                self.top.loc,
                "make the full streams deeper (`Stream[T, depth]`) or change the order of puts "
                "and gets",
            )
        if result["status"] != "done":
            state = watch_report(self.design.address_map, result["watch"])
            raise SimulationError(
                f"{self.info.name} on {self.simulator}: the kernel did not signal done within "
                f"{self.max_cycles} cycles" + (f"\n{state}" if state else ""),
                hint=f"raise max_cycles (now {self.max_cycles}) if the kernel needs longer",
            )
        self.cycles = result["cycles"]
        self.fifo_high_water = high_water(self.design.address_map, result["watch"])
        arrays: dict[str, list[int]] = {}
        if (run_dir / "outputs.npz").exists():
            with np.load(run_dir / "outputs.npz") as npz:
                arrays = {key: unpack_words(npz[key]) for key in npz.files}
        return result["scalars"], arrays

    # -- results -----------------------------------------------------------------------------

    def _results(
        self,
        args: tuple[Any, ...],
        raw: list[Any],
        scalars: dict[str, int],
        arrays: dict[str, list[int]],
    ) -> Any:
        for port, p, user, value in zip(self.info.params, self.top.params, args, raw):
            if isinstance(p.type, ArrayType):
                if port in arrays:
                    value = from_words(arrays[port], p.type.dtype)
                _write_back(user, value, p.type)
        out = []
        for port, t in zip(self.info.returns, self.top.returns):
            if isinstance(t, ArrayType):
                out.append(_result(from_words(arrays[port], t.dtype), t))
            else:
                out.append(_result(from_word(scalars[port], t), t))
        if not out:
            return None
        return out[0] if len(out) == 1 else out

    def _check_interface(self) -> None:
        """``info`` must describe the IR's parameters and returns (else a lowering bug)."""
        amap, info = self.design.address_map, self.info
        problems = []
        if len(info.params) != len(self.top.params):
            problems.append(f"{len(info.params)} parameter ports for {len(self.top.params)}")
        if len(info.returns) != len(self.top.returns):
            problems.append(f"{len(info.returns)} result ports for {len(self.top.returns)}")
        typed = list(zip(info.params, [p.type for p in self.top.params]))
        typed += list(zip(info.returns, self.top.returns))
        for port, t in typed:
            group = "arrays" if isinstance(t, ArrayType) else "scalars"
            entry = amap[group].get(port)
            if entry is None or entry["dtype"] != str(getattr(t, "dtype", t)):
                problems.append(f"no {group[:-1]} port `{port}` of type {t}")
            elif group == "arrays" and entry["shape"] != list(t.shape):  # type: ignore[union-attr]
                problems.append(f"array port `{port}` has shape {entry['shape']}, not {t}")
        if problems:
            raise InternalError(
                f"the kernel component of {self.top.sym.name} does not match its IR: "
                + "; ".join(problems)
            )
