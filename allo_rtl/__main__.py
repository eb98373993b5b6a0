"""Command line: ``python -m allo_rtl <command> ...`` (``--help`` on every command).

Exit codes: 0 success, 1 design or tool failure (including a result mismatch), 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import AlloRTLError, Schedule
from ._flow import (
    TimingNotMet,
    as_schedule,
    build,
    check_rtl,
    compare_results,
    copy_args,
    random_inputs,
    returns_schedule,
    run,
    synth,
)
from .ir.types import AlloType, ArrayType

__all__ = ["main"]


class UsageError(Exception):
    """Bad command-line input (exit code 2)."""


def _load(spec: str) -> tuple[types.ModuleType, Any]:
    """Import ``FILE.py[:OBJECT]`` and pick the kernel or schedule object."""
    path_text, _, obj_name = spec.partition(":")
    path = Path(path_text)
    if not path.is_file():
        raise UsageError(f"{path_text}: no such file")
    sys.path.insert(0, str(path.resolve().parent))
    mod_spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(mod_spec)  # type: ignore[arg-type]
    sys.modules[path.stem] = module
    mod_spec.loader.exec_module(module)  # type: ignore[union-attr]
    if obj_name:
        if not hasattr(module, obj_name):
            raise UsageError(f"{path_text} has no object `{obj_name}`")
        return module, getattr(module, obj_name)
    candidates = [
        v for k, v in vars(module).items() if not k.startswith("_") and _is_design(v, module)
    ]
    if len(candidates) != 1:
        names = ", ".join(getattr(c, "__name__", "?") for c in candidates) or "none"
        raise UsageError(
            f"{path_text}: name the object to build as FILE.py:OBJECT (candidates: {names})"
        )
    return module, candidates[0]


def _is_design(value: Any, module: types.ModuleType) -> bool:
    """A Schedule, a kernel function, or a function annotated ``-> Schedule`` that needs no
    arguments."""
    if isinstance(value, Schedule):
        return True
    if not isinstance(value, types.FunctionType) or value.__module__ != module.__name__:
        return False
    if returns_schedule(value):
        return True
    annotations = {k: v for k, v in value.__annotations__.items() if k != "return"}
    return any(isinstance(a, (AlloType, ArrayType)) for a in annotations.values())


def _progress(begin: float) -> Any:
    def report(line: str) -> None:
        print(f"[{time.monotonic() - begin:7.1f} s] {line}", file=sys.stderr, flush=True)

    return report


def cmd_check(args: argparse.Namespace) -> int:
    module, obj = _load(args.file)
    s = as_schedule(obj)
    fn = s.top_func
    inputs = random_inputs(s, args.seed)
    print(f"kernel {fn.sym.name}({', '.join(f'{p.sym.name}: {p.type}' for p in fn.params)})")
    reference = getattr(module, "reference", None)
    expected = None
    if reference is not None:
        expected = reference(*copy_args(inputs))
    failed = False
    for target in args.target or ["numpy"]:
        failed |= not _check_target(s, target, inputs, expected)
    return 1 if failed else 0


def _check_target(s: Schedule, target: str, inputs: list[Any], expected: Any) -> bool:
    start = time.perf_counter()
    mod = s.build(target=target)
    built = time.perf_counter()
    copies = copy_args(inputs)
    result = mod(*copies)
    ran = time.perf_counter()
    cycles = getattr(mod, "cycles", None)
    extra = f", {cycles} cycles" if cycles is not None else ""
    print(f"target {target}: built in {built - start:.3f} s, ran in {ran - built:.3f} s{extra}")
    if expected is None:
        print("  result check: skipped (the file defines no `reference` function)")
        return True
    ok, detail = compare_results(result if result is not None else copies, expected)
    print(f"  result check against reference(): {'PASS' if ok else 'FAIL'} ({detail})")
    return ok


def _inputs(s: Schedule, path: str | None, seed: int) -> list[Any]:
    """Arguments from an .npz (by parameter name) or .npy (the sole parameter), else random."""
    if path is None:
        return random_inputs(s, seed)
    names = [p.sym.name for p in s.top_func.params]
    try:
        data = np.load(path)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot read inputs ({exc})") from None
    if isinstance(data, np.ndarray):
        if len(names) != 1:
            raise UsageError(f"{path}: an .npy file fits a one-parameter kernel; use .npz with "
                             f"arrays named {', '.join(names)}")  # fmt: skip
        return [data]
    missing = [n for n in names if n not in data.files]
    if missing:
        raise UsageError(f"{path} has no array named {', '.join(missing)} "
                         f"(it has {', '.join(data.files) or 'none'})")  # fmt: skip
    return [data[n] if data[n].shape else data[n].item() for n in names]


def cmd_sim(args: argparse.Namespace) -> int:
    _, obj = _load(args.file)
    s = as_schedule(obj)
    inputs = _inputs(s, args.inputs, args.seed)
    start = time.perf_counter()
    rtl = s.build(target=args.simulator, trace=args.trace)
    built = time.perf_counter() - start
    ok, detail, cycles, seconds = check_rtl(rtl, s, inputs)
    print(f"kernel {s.top_func.sym.name} on {args.simulator}: built in {built:.1f} s, "
          f"ran in {seconds:.1f} s, {cycles} cycles")  # fmt: skip
    print(f"check against the NumPy target: {'PASS' if ok else 'FAIL'} ({detail})")
    return 0 if ok else 1


def cmd_boards(args: argparse.Namespace) -> int:
    from .boards import DEVICES, all_boards

    print("boards (build --board NAME):")
    for b in all_boards():
        print(f"  {b.name:<16} {b.description}; {b.clock_mhz:g} MHz oscillator")
    print("devices (synth --device NAME):")
    for d in DEVICES.values():
        print(f"  {d.name:<16} {d.family}: {d.luts:,} LUTs, {d.brams} block RAMs, {d.dsps} DSPs")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    _, obj = _load(args.file)
    begin = time.monotonic()
    try:
        report = build(obj, args.board, clock_mhz=args.clock_mhz, output_dir=args.output,
                       seed=args.seed, simulate=not args.no_sim,
                       progress=_progress(begin))  # fmt: skip
    except TimingNotMet as exc:
        print(exc.report)
        raise
    print(report)
    print(f"bitstream: {report.files['bitstream']} ({time.monotonic() - begin:.1f} s)")
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    _, obj = _load(args.file)
    begin = time.monotonic()
    report = synth(obj, args.device, clock_mhz=args.clock_mhz, output_dir=args.output,
                   seed=args.seed, progress=_progress(begin))  # fmt: skip
    print(report)
    return 0 if report.meets_timing else 1


def cmd_run(args: argparse.Namespace) -> int:
    _, obj = _load(args.file)
    s = as_schedule(obj)
    inputs = _inputs(s, args.inputs, args.seed)
    begin = time.monotonic()
    outputs, cycles = run(s, args.board, args.port,
                          inputs, clock_mhz=args.clock_mhz, output_dir=args.output,
                          program_board=not args.no_program, progress=_progress(begin))  # fmt: skip
    print(f"kernel {s.top_func.sym.name} ran {cycles} cycles on {args.board}")
    if args.outputs:
        np.savez(args.outputs, **{k: np.asarray(v) for k, v in outputs.items()})
        print(f"outputs ({', '.join(outputs)}) written to {args.outputs}")
    return 0


def _add_design(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", metavar="FILE.py[:OBJECT]",
        help="a file defining a kernel function, a Schedule, or a parameterless function "
        "returning a Schedule; OBJECT names it when the file has several",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=1, help="random input / placer seed (1)")


def _add_output(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument("-o", "--output", metavar="DIR", help=f"output directory ({default})")
    parser.add_argument("--clock-mhz", type=float, metavar="F", help="kernel clock in MHz")


def _sub(sub: Any, name: str, summary: str, func: Any) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=summary, description=summary)
    parser.set_defaults(func=func)
    return parser


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m allo_rtl", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = _sub(sub, "check", "build a kernel for targets, run it on random inputs and "
                 "compare with the file's reference()", cmd_check)  # fmt: skip
    _add_design(check)
    check.add_argument("--target", action="append",
                       help="build target, repeatable: numpy, verilator, icarus (numpy)")  # fmt: skip
    sim = _sub(sub, "sim", "run a kernel in RTL simulation against the NumPy target and "
               "print its cycles", cmd_sim)  # fmt: skip
    _add_design(sim)
    sim.add_argument("--simulator", choices=("verilator", "icarus"), default="verilator")
    sim.add_argument("--trace", action="store_true", help="write a waveform file")
    sim.add_argument("--inputs", metavar="FILE", help=".npz (arrays by parameter name) or .npy")
    _sub(sub, "boards", "list the boards and devices", cmd_boards)
    build_cmd = _sub(sub, "build", "build a bitstream for a board, with a resource, Fmax and "
                     "run-time report", cmd_build)  # fmt: skip
    build_cmd.add_argument("--board", required=True, help="board name (see `boards`)")
    _add_design(build_cmd)
    _add_output(build_cmd, "build/<kernel>-<board>")
    build_cmd.add_argument("--no-sim", action="store_true",
                           help="skip the Verilator run that measures the cycles")  # fmt: skip
    synth_cmd = _sub(sub, "synth", "out-of-context resource and Fmax estimate for a device",
                     cmd_synth)  # fmt: skip
    synth_cmd.add_argument("--device", required=True, help="device name (see `boards`)")
    _add_design(synth_cmd)
    _add_output(synth_cmd, "build/<kernel>-<device>")
    run_cmd = _sub(sub, "run", "build, program a board and run the kernel over its UART",
                   cmd_run)  # fmt: skip
    run_cmd.add_argument("--board", required=True, help="board name (see `boards`)")
    run_cmd.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB1")
    _add_design(run_cmd)
    _add_output(run_cmd, "build/<kernel>-<board>")
    run_cmd.add_argument("--inputs", metavar="FILE", help=".npz (by parameter name) or .npy; "
                         "default: random")  # fmt: skip
    run_cmd.add_argument("--outputs", metavar="FILE.npz", help="where to save the outputs")
    run_cmd.add_argument("--no-program", action="store_true",
                         help="the board already holds the bitstream")  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except AlloRTLError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
