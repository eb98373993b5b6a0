"""The bitstream flow: ``allo_rtl.build(design, board=...)`` and ``allo_rtl.synth(design,
device=...)`` (the CLI's ``build`` and ``synth`` commands are thin layers over these).

``build`` lowers the kernel for the board's family and clock, wraps it in the board top (PLL,
UART bridge, shell, LEDs), and runs yosys, nextpnr and the packer. Everything goes into the
output directory (default ``build/<kernel>-<board>``)::

    <kernel>_shell.v, <kernel>.v, address_map.json, README.md   the design (VerilogDesign.save)
    <kernel>_<board>.bin / .bit                                 the bitstream
    report.json, report.txt                                     SynthesisReport
    impl/                                                       tool inputs, outputs and logs

A directory that exists and was not made by allo_rtl is never written into.
"""

from __future__ import annotations

import inspect
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ._errors import BuildError
from ._schedule import Schedule, customize
from ._targets import build_design
from .ir.types import AlloType, ArrayType, Float
from .reference import numpy_dtype

__all__ = [
    "TimingNotMet",
    "as_schedule",
    "build",
    "check_rtl",
    "compare_results",
    "copy_args",
    "program",
    "random_inputs",
    "returns_schedule",
    "run",
    "synth",
]

_MARKER = ".allo_rtl_build"


class TimingNotMet(BuildError):
    """Place and route finished but the achieved Fmax is below the requested clock.
    ``report`` is the full :class:`~allo_rtl.boards.SynthesisReport` (also written to disk)."""

    report: Any = None


def returns_schedule(fn: Any) -> bool:
    """``fn`` is a function annotated ``-> Schedule`` that can be called without arguments."""
    if not callable(fn) or isinstance(fn, type):
        return False
    returns = getattr(fn, "__annotations__", {}).get("return")
    if returns is not Schedule and str(returns).rsplit(".", 1)[-1] != "Schedule":
        return False
    params = inspect.signature(fn).parameters.values()
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               for p in params)  # fmt: skip


def as_schedule(design: Any) -> Schedule:
    """A Schedule from a Schedule, a kernel function, or a function annotated ``-> Schedule``
    that needs no arguments (called here)."""
    if isinstance(design, Schedule):
        return design
    if returns_schedule(design):
        result = design()
        if isinstance(result, Schedule):
            return result
        raise BuildError(
            f"{getattr(design, '__name__', design)}() returned {type(result).__name__}, "
            "not a Schedule",
            hint="return allo.customize(kernel) (with its primitives applied)",
        )
    return customize(design)


def _random_value(t: AlloType | ArrayType, rng: np.random.Generator) -> Any:
    shape = t.shape if isinstance(t, ArrayType) else ()
    dtype = t.dtype if isinstance(t, ArrayType) else t
    if isinstance(dtype, Float):
        values = rng.uniform(-1.0, 1.0, shape).astype(numpy_dtype(dtype))
    elif dtype.fracs or numpy_dtype(dtype).kind in "fO":
        lo, hi = dtype.min_raw, dtype.max_raw
        raw = [
            int(rng.integers(0, 2**62)) % (hi - lo + 1) + lo
            for _ in range(max(1, int(np.prod(shape))))
        ]
        values = np.array([r / 2**dtype.fracs if dtype.fracs else r for r in raw],
                          dtype=numpy_dtype(dtype)).reshape(shape)  # fmt: skip
    else:
        values = rng.integers(
            dtype.min_raw, dtype.max_raw, shape, dtype=numpy_dtype(dtype), endpoint=True
        )
    return values if shape else values.item()


def random_inputs(schedule: Schedule, seed: int = 1) -> list[Any]:
    """Random arguments for the schedule's top kernel, over each type's whole range
    (floats in [-1, 1))."""
    rng = np.random.default_rng(seed)
    return [_random_value(p.type, rng) for p in schedule.top_func.params]


def compare_results(got: Any, want: Any) -> tuple[bool, str]:
    """``(equal, detail)``: bit-exact for integers, ``allclose`` for floats."""
    if isinstance(want, tuple):
        checks = [compare_results(g, w) for g, w in zip(got, want)]
        bad = [detail for ok, detail in checks if not ok]
        return (not bad, "; ".join(bad) if bad else checks[0][1] if checks else "bit-exact")
    got_a, want_a = np.asarray(got), np.asarray(want)
    if got_a.shape != want_a.shape:
        return False, f"shape {got_a.shape} != expected {want_a.shape}"
    if got_a.dtype.kind == "f" or want_a.dtype.kind == "f":
        ok = bool(np.allclose(got_a, want_a, rtol=1e-5, atol=1e-6, equal_nan=True))
        return ok, "close" if ok else f"max abs difference {np.max(np.abs(got_a - want_a))}"
    bad = np.argwhere(got_a != want_a)
    if bad.size:
        first = tuple(int(i) for i in bad[0])
        return False, f"{len(bad)} mismatches, first at {first}: {got_a[first]} != {want_a[first]}"
    return True, "bit-exact"


def copy_args(values: list[Any]) -> list[Any]:
    """``values`` with every array copied (kernels may write their array arguments)."""
    return [np.copy(v) if isinstance(v, np.ndarray) else v for v in values]


def check_rtl(
    rtl: Any, schedule: Schedule, inputs: list[Any]
) -> tuple[bool, str, int | None, float]:
    """Run the built RTL module ``rtl`` and the NumPy target on ``inputs``; returns (results
    equal, detail, RTL cycles, seconds of the RTL run). Array arguments the kernel writes are
    compared too."""
    want_args = copy_args(inputs)
    want = schedule.build(target="numpy")(*want_args)
    got_args = copy_args(inputs)
    begin = time.perf_counter()
    got = rtl(*got_args)
    seconds = time.perf_counter() - begin
    ok, detail = compare_results(got, want) if want is not None else (True, "bit-exact")
    for g, w in zip(got_args, want_args):
        if ok and isinstance(w, np.ndarray):
            ok, detail = compare_results(g, w)
    return ok, detail, getattr(rtl, "cycles", None), seconds


def _output_dir(directory: Path) -> Path:
    """Create or reuse ``directory``; refuse a non-empty one allo_rtl did not make."""
    if directory.exists():
        if not directory.is_dir():
            raise BuildError(f"{directory} exists and is not a directory")
        if any(directory.iterdir()) and not (directory / _MARKER).exists():
            raise BuildError(
                f"{directory} exists, is not empty and was not made by allo_rtl; "
                "not writing into it",
                hint="pass -o with a new directory",
            )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / _MARKER).write_text("made by allo_rtl build; its contents are regenerated\n")
    return directory


def _pnr_args(device: Any, seed: int, constraints: list[str]) -> list[str]:
    args = [*device.nextpnr_args(), "--json", "top.json", *constraints]
    args += ["--seed", str(seed), "--report", "nextpnr_report.json", "--timing-allow-fail"]
    if device.family == "ecp5":
        args += ["--textcfg", "top.config", "--router", "router2"]
    else:
        args += ["--asc", "top.asc"]
    return args


def _implement(impl: Path, device: Any, name: str, seed: int, constraints: list[str],
               progress: Callable[[str], None] | None) -> tuple[dict, dict, dict, dict]:  # fmt: skip
    """yosys (script ``top.ys``), fit check, nextpnr, packer; returns cells, usage, fmax,
    step times."""
    from .boards._report import Usage, check_fit, read_nextpnr, read_yosys_stat
    from .boards._toolchain import run_step

    steps = {}
    step = run_step("synthesis", "yosys", ["top.ys"], impl, progress)
    steps["synthesis"] = step.seconds
    cells = read_yosys_stat(impl / "top.stat.json", device.family)
    check_fit(cells, device, name)
    tool = f"nextpnr-{device.family}"
    step = run_step("place-and-route", tool, _pnr_args(device, seed, constraints), impl, progress)
    steps["place-and-route"] = step.seconds
    usage, fmax = read_nextpnr(impl / "nextpnr_report.json", device.family)
    usage["ffs"] = Usage(cells["ffs"], device.ffs)
    return cells, usage, fmax, steps


def _pack(impl: Path, family: str, progress: Callable[[str], None] | None) -> tuple[Path, float]:
    from .boards._toolchain import run_step

    if family == "ice40":
        step = run_step("bitstream", "icepack", ["top.asc", "top.bin"], impl, progress)
        return impl / "top.bin", step.seconds
    step = run_step("bitstream", "ecppack", ["--input", "top.config", "--bit", "top.bit"], impl,
                    progress)  # fmt: skip
    return impl / "top.bit", step.seconds


def _finish(report: Any, out: Path) -> Any:
    """Write ``report.json`` and ``report.txt``; raise :class:`TimingNotMet` if it missed."""
    (out / "report.json").write_text(json.dumps(report.to_json(), indent=2) + "\n")
    (out / "report.txt").write_text(str(report) + "\n")
    if not report.meets_timing:
        fmax = report.fmax_mhz or 0.0
        error = TimingNotMet(
            f"{report.design} reaches {fmax:.1f} MHz on {report.target}, below the requested "
            f"{report.clock_mhz:g} MHz (bitstream and report are in {out})",
            hint=f"build with --clock-mhz {int(fmax)} or lower, or pipeline the kernel "
            "(s.pipeline) so fewer operations chain in one cycle",
        )
        error.report = report
        raise error
    return report


def build(
    design: Any,
    board: str,
    *,
    clock_mhz: float | None = None,
    output_dir: str | Path | None = None,
    seed: int = 1,
    simulate: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Any:
    """Build a bitstream of ``design`` (a Schedule, kernel, or function returning a Schedule)
    for ``board`` (``python -m allo_rtl boards`` lists them) with the kernel clock at
    ``clock_mhz`` (default: the board's oscillator; others are made by a PLL). Returns the
    :class:`~allo_rtl.boards.SynthesisReport`. ``simulate=True`` first runs the design in
    Verilator on random inputs (``seed``), checks it against the NumPy target and reports the
    cycles and run time. ``progress`` receives one line per step. Raises ``DesignDoesNotFit``,
    :class:`TimingNotMet`, ``ToolFailed`` or ``ToolNotFound`` (all ``AlloRTLError``)."""
    from .boards import SynthesisReport, get_board
    from .boards._pll import KernelClock
    from .boards._top import BoardTop

    schedule = as_schedule(design)
    b = get_board(board)
    clock = KernelClock(b, clock_mhz)
    frequency = clock.frequency_mhz
    vd = build_design(schedule, family=b.family, clock_mhz=frequency, dsp_budget=b.device.dsps)
    out = _output_dir(Path(output_dir or f"build/{vd.name}-{b.name}"))
    vd.save(out)
    cycles = _simulated_cycles(vd, schedule, seed, progress) if simulate else None
    top = BoardTop(b, _bridged_shell(vd), clock)
    synth_opts = "-dsp" if b.family == "ice40" else ""
    plan = b.platform_instance().prepare(
        top, name="top", synth_opts=synth_opts,
        script_after_synth="tee -q -o top.stat.json stat -json",
    )  # fmt: skip
    impl = out / "impl"
    plan.extract(impl)
    constraints = ["--pcf", "top.pcf"] if b.family == "ice40" else ["--lpf", "top.lpf"]
    cells, usage, fmax, steps = _implement(impl, b.device, vd.name, seed, constraints, progress)
    bitstream, steps["bitstream"] = _pack(impl, b.family, progress)
    target = out / f"{vd.name}_{b.name}{bitstream.suffix}"
    shutil.copyfile(bitstream, target)
    report = SynthesisReport(
        design=vd.name, target=b.name, family=b.family, device=b.device.name,
        clock_mhz=frequency, fmax_mhz=_sync_fmax(fmax), cells=cells, usage=usage,
        cycles=cycles, steps=steps, files={"bitstream": str(target), "dir": str(out)},
    )  # fmt: skip
    return _finish(report, out)


def _simulated_cycles(
    vd: Any, schedule: Schedule, seed: int, progress: Callable[[str], None] | None
) -> int | None:
    from .sim import RTLModule, SimulationError

    if progress is not None:
        progress("simulation: verilator ...")
    rtl = RTLModule(vd, vd.info, schedule.module, simulator="verilator")
    ok, detail, cycles, seconds = check_rtl(rtl, schedule, random_inputs(schedule, seed))
    if not ok:
        raise SimulationError(f"the RTL of {vd.name} disagrees with the NumPy target: {detail}")
    if progress is not None:
        progress(f"simulation: {cycles} cycles, results {detail}, {seconds:.1f} s")
    return cycles


def _bridged_shell(vd: Any) -> Any:
    """The design's kernel in a shell whose read data come two cycles after the address (the
    UART bridge waits for them), so block RAM data reach a register through one LUT."""
    from .hw._shell import Shell

    return Shell(vd.component, vd.info, vd.address_map["word_bits"], read_latency=2)


def _sync_fmax(fmax: dict[str, float]) -> float | None:
    """The achieved Fmax of the kernel clock (the slowest clock of the design)."""
    return min(fmax.values()) if fmax else None


def synth(
    design: Any,
    device: str,
    *,
    clock_mhz: float | None = None,
    output_dir: str | Path | None = None,
    seed: int = 1,
    progress: Callable[[str], None] | None = None,
) -> Any:
    """Out-of-context estimate of ``design`` on ``device`` (``up5k``, ``ecp5-85k``, ...): the
    kernel in its shell behind the UART bridge, synthesised and placed with unconstrained pins
    at ``clock_mhz`` (default: the device's default target of the lowering model)."""
    from .boards import SynthesisReport, get_device
    from .hw._uart import UartShellTop
    from .lowering import target_model
    from .verilog._shared import convert as convert_verilog

    schedule = as_schedule(design)
    dev = get_device(device)
    clock = clock_mhz or target_model(dev.family).clock_mhz  # the family's usual clock
    vd = build_design(schedule, family=dev.family, clock_mhz=clock, dsp_budget=dev.dsps)
    out = _output_dir(Path(output_dir or f"build/{vd.name}-{dev.name}"))
    vd.save(out)
    impl = out / "impl"
    impl.mkdir(exist_ok=True)
    top = UartShellTop(_bridged_shell(vd), divisor=max(4, round(clock * 1e6 / 115_200)))
    (impl / "top.v").write_text(convert_verilog(top, name="top"))
    (impl / "top.ys").write_text(_ooc_script(dev.family))
    cells, usage, fmax, steps = _implement(impl, dev, vd.name, seed,
                                           _ooc_constraints(impl, dev, clock), progress)  # fmt: skip
    report = SynthesisReport(
        design=vd.name, target=f"{dev.name} (out of context)", family=dev.family,
        device=dev.name, clock_mhz=clock, fmax_mhz=_sync_fmax(fmax), cells=cells,
        usage=usage, steps=steps, files={"dir": str(out)},
    )  # fmt: skip
    try:
        return _finish(report, out)
    except TimingNotMet as error:
        return error.report  # an estimate: the report says it misses, the caller decides


_CLOCK_PINS = {"CABGA381": "G2", "CSFBGA285": "A9"}  # ECP5 packages: a primary clock input


def _ooc_constraints(impl: Path, dev: Any, clock: float) -> list[str]:
    """nextpnr options of an out-of-context run: pins unconstrained, except the ECP5 clock
    input, placed on a primary clock pin of the package (left free, router2 sometimes failed
    to route it from a general-purpose pin to the global network)."""
    if dev.family == "ice40":
        return ["--pcf-allow-unconstrained", "--freq", f"{clock:g}"]
    out = ["--lpf-allow-unconstrained", "--freq", f"{clock:g}"]
    pin = _CLOCK_PINS.get(dev.package)
    if pin is not None:
        (impl / "top.lpf").write_text(f'LOCATE COMP "clk" SITE "{pin}";\n')
        out += ["--lpf", "top.lpf"]
    return out


def _ooc_script(family: str) -> str:
    synth_cmd = "synth_ice40 -dsp" if family == "ice40" else "synth_ecp5"
    return (
        "read_verilog top.v\n"
        f"{synth_cmd} -top top\n"
        "tee -q -o top.stat.json stat -json\n"
        "write_json top.json\n"
    )


_PROGRAMMERS = {  # family -> [(tool, arguments before the bitstream)]
    "ice40": [("iceprog", []), ("openFPGALoader", ["-b", "ice40_generic"])],
    "ecp5": [("openFPGALoader", ["--board", "{board}"]), ("fujprog", [])],
}


def program(bitstream: str | Path, board: str) -> list[str]:
    """Load ``bitstream`` into ``board`` (SRAM, not flash) with the first programmer found:
    iceprog or openFPGALoader (iCE40), openFPGALoader or fujprog (ECP5). Returns the command."""
    import subprocess

    from .boards import get_board
    from .sim import ToolNotFound

    b = get_board(board)
    family_board = b.name.split("-")[0]
    for tool, args in _PROGRAMMERS[b.family]:
        found = shutil.which(tool)
        if found is not None:
            argv = [found, *(a.format(board=family_board) for a in args), str(bitstream)]
            if subprocess.run(argv, capture_output=True, text=True).returncode != 0:
                raise BuildError(f"{tool} could not program {b.name}", hint="is it plugged in?")
            return argv
    names = " or ".join(tool for tool, _ in _PROGRAMMERS[b.family])
    raise ToolNotFound(
        f"no programmer for {b.name} was found ({names})",
        hint="install openFPGALoader (apt-get install openfpgaloader), or program the "
        "bitstream yourself and pass --no-program",
    )


def run(
    design: Any,
    board: str,
    port: str,
    inputs: list[Any] | dict[str, Any],
    *,
    clock_mhz: float | None = None,
    output_dir: str | Path | None = None,
    program_board: bool = True,
    progress: Callable[[str], None] | None = None,
) -> tuple[dict[str, Any], int]:
    """Build ``design`` for ``board``, load the bitstream (unless ``program_board=False``)
    and run the kernel over the UART at ``port`` on ``inputs`` (in parameter order, or a dict
    by name). Returns the outputs by port name (``result``, and array arguments the kernel
    writes) and the cycles the kernel ran, from the board's cycle counter."""
    from .boards._host import BoardLink, SerialTransport, run_kernel

    with SerialTransport(port) as transport:  # first: a missing port fails before the build
        report = build(design, board, clock_mhz=clock_mhz, output_dir=output_dir,
                       progress=progress)  # fmt: skip
        amap = json.loads((Path(report.files["dir"]) / "address_map.json").read_text())
        if program_board:
            program(report.files["bitstream"], board)
            if progress is not None:
                progress(f"programmed {board}")
        return run_kernel(BoardLink(transport, amap), amap, inputs)
