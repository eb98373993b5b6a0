"""The `amaranth` and `verilog` targets as a hardware designer uses them.

``s.build(target="amaranth")`` gives a ``wiring.Component`` with the ports of
docs/interface.md; here hand-written Amaranth modules own the memories, start the generated
kernels and check the control protocol (start / busy / done, scalar inputs sampled at start,
results held until the next start) in Amaranth's simulator, against NumPy.
``s.build(target="verilog")`` gives the Verilog of the kernel in its shell (docs/rtl_targets.md).
"""

import json
import re

import numpy as np
import pytest
from amaranth.back import rtlil
from amaranth.hdl import Elaboratable, Fragment, Module, Signal, signed, unsigned
from amaranth.lib import memory, wiring
from amaranth.sim import Simulator

import allo_rtl as allo
from allo_rtl.ir.types import Fixed, Int, UInt, int8, int16, int32, uint8
from allo_rtl.verilog import OutputExistsError


def dot8(A: int16[8], B: int16[8]) -> int32:
    acc: int32 = 0
    for i in range(8):
        acc += A[i] * B[i]
    return acc


def scale_sum(A: int16[8], C: int32[8], f: int32) -> int32:
    s: int32 = 0
    for i in range(8):
        C[i] = A[i] * f
        s += C[i]
    return s


def mixed(A: int8[2, 3], x: Int(5), y: UInt(40), z: Fixed(12, 4)) -> (int32[4], Int(70), uint8):
    R: int32[4] = 0
    for i in range(4):
        R[i] = A[i % 2, i % 3] + x
    return R, y * 3, z


def wrap(v, bits):
    v = int(v) & ((1 << bits) - 1)
    return v - (1 << bits) if v >> (bits - 1) else v


def flat_ports(component):
    """``{"A__rd_addr": ("out", shape), ...}`` of a component, from its signature."""
    return {
        "__".join(map(str, path)): ("in" if member.flow == wiring.In else "out", member.shape)
        for path, member, _ in component.signature.flatten(component)
    }


def group(name, abits, shape):
    return {
        f"{name}__rd_addr": ("out", abits),
        f"{name}__rd_en": ("out", 1),
        f"{name}__rd_data": ("in", shape),
        f"{name}__wr_addr": ("out", abits),
        f"{name}__wr_data": ("out", shape),
        f"{name}__wr_en": ("out", 1),
    }


CONTROL = {"start": ("in", 1), "busy": ("out", 1), "done": ("out", 1)}


# --------------------------------------------------------------------------------------------
# The component and its ports


def test_amaranth_target_is_a_component_with_the_documented_ports():
    kernel = allo.customize(dot8).build(target="amaranth")
    assert isinstance(kernel, wiring.Component)
    want = {**CONTROL, **group("A", 3, 16), **group("B", 3, 16), "result": ("out", signed(32))}
    assert flat_ports(kernel) == want
    assert kernel.A.rd_addr.name == "A__rd_addr" and kernel.result.name == "result"
    Fragment.get(kernel, None)  # elaborates


def test_ports_of_scalars_tuple_and_array_returns():
    kernel = allo.customize(mixed).build(target="amaranth")
    want = {
        **CONTROL,
        "x": ("in", signed(5)),
        "y": ("in", unsigned(40)),
        "z": ("in", signed(12)),  # raw bits of Fixed(12, 4)
        **group("A", 3, 8),  # 2 x 3 elements, row-major
        **group("result0", 2, 32),  # the returned array
        "result1": ("out", signed(70)),
        "result2": ("out", unsigned(8)),
    }
    assert flat_ports(kernel) == want
    Fragment.get(kernel, None)


def plus_one(result: int32) -> int32:
    return result + 1


def test_a_parameter_named_result_keeps_its_input_port():
    kernel = allo.customize(plus_one).build(target="amaranth")
    Fragment.get(kernel, None)
    ports = flat_ports(kernel)
    scalars = sorted(d for name, (d, shape) in ports.items() if name not in CONTROL)
    assert scalars == ["in", "out"]
    assert ports["result"] == ("in", signed(32))
    assert ports["result_out"] == ("out", signed(32))


# --------------------------------------------------------------------------------------------
# Hand-written modules around generated kernels


class DotProduct(Elaboratable):
    """Owns A and B (initialised memories), starts the generated dot product on ``go`` and
    exposes its result; ``ready`` is high once a result is there."""

    def __init__(self, a, b):
        self.a, self.b = a, b
        self.go = Signal()
        self.result = Signal(signed(32))
        self.ready = Signal()

    def elaborate(self, platform):
        m = Module()
        m.submodules.kernel = kernel = allo.customize(dot8).build(target="amaranth")
        for name, data in (("A", self.a), ("B", self.b)):
            mem = memory.Memory(shape=signed(16), depth=8, init=[int(v) for v in data])
            m.submodules[f"mem_{name}"] = mem
            rd = mem.read_port()
            port = getattr(kernel, name)
            m.d.comb += [rd.addr.eq(port.rd_addr), rd.en.eq(port.rd_en), port.rd_data.eq(rd.data)]
        m.d.comb += [kernel.start.eq(self.go), self.result.eq(kernel.result)]
        with m.If(kernel.done):
            m.d.sync += self.ready.eq(1)
        with m.Elif(self.go):
            m.d.sync += self.ready.eq(0)
        return m


def test_generated_dot_product_in_a_hand_written_module():
    rng = np.random.default_rng(8)
    a = rng.integers(-(2**15), 2**15, 8)
    b = rng.integers(-(2**15), 2**15, 8)
    a[0], b[0] = -(2**15), -(2**15)
    want = wrap(int(a.astype(np.int64) @ b.astype(np.int64)), 32)
    assert want == allo.customize(dot8).build()(a.astype(np.int16), b.astype(np.int16))
    dut = DotProduct(a, b)
    seen = {}

    async def bench(ctx):
        await ctx.tick().repeat(3)
        assert not ctx.get(dut.ready)
        ctx.set(dut.go, 1)
        await ctx.tick()
        ctx.set(dut.go, 0)
        cycles = 0
        while not ctx.get(dut.ready):
            await ctx.tick()
            cycles += 1
            assert cycles < 200, "the kernel did not finish"
        seen["result"], seen["cycles"] = ctx.get(dut.result), cycles
        await ctx.tick().repeat(5)
        seen["later"] = ctx.get(dut.result)  # held until the next start

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert seen["result"] == want and seen["later"] == want
    assert 8 <= seen["cycles"] < 100


class ScaleSum(Elaboratable):
    """Owns A (read only) and C (read and written by the kernel; the testbench reads it back
    through a second read port); the kernel's ports are exposed for the protocol checks."""

    def __init__(self, a):
        self.kernel = allo.customize(scale_sum).build(target="amaranth")
        self.mem_a = memory.Memory(shape=signed(16), depth=8, init=[int(v) for v in a])
        self.mem_c = memory.Memory(shape=signed(32), depth=8, init=[])
        self.peek = self.mem_c.read_port(domain="comb")

    def elaborate(self, platform):
        m = Module()
        k = self.kernel
        m.submodules.kernel, m.submodules.mem_a, m.submodules.mem_c = k, self.mem_a, self.mem_c
        for mem, port, writes in ((self.mem_a, k.A, False), (self.mem_c, k.C, True)):
            rd = mem.read_port()
            m.d.comb += [rd.addr.eq(port.rd_addr), rd.en.eq(port.rd_en), port.rd_data.eq(rd.data)]
            if writes:
                wr = mem.write_port()
                m.d.comb += [wr.addr.eq(port.wr_addr), wr.data.eq(port.wr_data)]
                m.d.comb += wr.en.eq(port.wr_en)
        return m


def test_protocol_scalars_sampled_at_start_results_held_memories_written():
    rng = np.random.default_rng(9)
    a = rng.integers(-(2**15), 2**15, 8)
    dut = ScaleSum(a)
    k = dut.kernel
    ref = allo.customize(scale_sum).build()
    runs = []

    async def run(ctx, f):
        """One run: start for one cycle with ``f``, then change ``f``; returns the trace."""
        assert not ctx.get(k.busy) and not ctx.get(k.done)
        ctx.set(k.f, f)
        ctx.set(k.start, 1)
        await ctx.tick()
        ctx.set(k.start, 0)
        ctx.set(k.f, 12345)  # sampled at start: must not matter now
        busy, done = [], []
        for _ in range(500):
            busy.append(ctx.get(k.busy))
            done.append(ctx.get(k.done))
            if done[-1]:
                break
            await ctx.tick()
        result = ctx.get(k.result)
        await ctx.tick()
        after = (ctx.get(k.busy), ctx.get(k.done))
        await ctx.tick().repeat(4)
        held = ctx.get(k.result)
        c = []
        for n in range(8):
            ctx.set(dut.peek.addr, n)
            c.append(ctx.get(dut.peek.data))
        runs.append(dict(busy=busy, done=done, result=result, after=after, held=held, c=c))

    async def bench(ctx):
        await ctx.tick()
        await run(ctx, -3)
        await run(ctx, 70000)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    for run_, f in zip(runs, (-3, 70000)):
        c_ref = np.zeros(8, np.int32)
        want = ref(a.astype(np.int16), c_ref, f)
        assert run_["result"] == want and run_["held"] == want
        assert run_["c"] == [int(v) for v in c_ref]
        # busy from the cycle after start until the run finishes; done is the last cycle
        assert all(run_["busy"]) and run_["done"] == [0] * (len(run_["done"]) - 1) + [1]
        assert run_["after"] == (0, 0)
    assert len(runs[0]["busy"]) == len(runs[1]["busy"])  # no data-dependent control here


# --------------------------------------------------------------------------------------------
# The verilog target


@pytest.fixture(scope="module")
def design():
    return allo.customize(dot8).build(target="verilog")


def test_verilog_has_modules_with_readable_port_names(design):
    modules = re.findall(r"^module (\S+) ?\((.*)\);$", design.verilog, re.MULTILINE)
    names = [name for name, _ in modules]
    assert names == ["dot8_shell", "\\dot8_shell.kernel"]
    shell_ports = modules[0][1].split(", ")
    assert sorted(shell_ports) == sorted(n for n, _, _ in design.ports)
    kernel_ports = set(modules[1][1].split(", "))
    # (inside the shell Amaranth merges outputs that carry the same net: B__rd_addr = A__rd_addr)
    assert {"A__rd_addr", "A__rd_en", "A__rd_data", "B__rd_data", "result"} <= kernel_ports
    assert "input [15:0] A__rd_data;" in design.verilog
    assert "output [2:0] A__rd_addr;" in design.verilog
    kernel = re.findall(r"^module (\S+) ?\((.*)\);$", design.kernel_verilog, re.MULTILINE)
    assert [name for name, _ in kernel] == ["dot8"]
    assert sorted(kernel[0][1].split(", ")) == sorted(n for n, _, _ in design.kernel_ports)
    assert "output [31:0] result;" in design.kernel_verilog


def test_verilog_ports(design):
    assert design.top == "dot8_shell" and design.name == "dot8"
    assert design.ports == [
        ("clk", "in", 1), ("rst", "in", 1),
        ("bus_addr", "in", 5), ("bus_wdata", "in", 32), ("bus_we", "in", 1),
        ("bus_rdata", "out", 32), ("busy", "out", 1), ("done", "out", 1),
    ]  # fmt: skip
    assert design.kernel_ports == [
        ("clk", "in", 1), ("rst", "in", 1),
        ("start", "in", 1), ("busy", "out", 1), ("done", "out", 1), ("result", "out", 32),
        ("A__rd_addr", "out", 3), ("A__rd_en", "out", 1), ("A__rd_data", "in", 16),
        ("A__wr_addr", "out", 3), ("A__wr_data", "out", 16), ("A__wr_en", "out", 1),
        ("B__rd_addr", "out", 3), ("B__rd_en", "out", 1), ("B__rd_data", "in", 16),
        ("B__wr_addr", "out", 3), ("B__wr_data", "out", 16), ("B__wr_en", "out", 1),
    ]  # fmt: skip
    amap = design.address_map
    assert amap["scalars"]["result"]["role"] == "out"
    assert {n: (a["base"], a["depth"], a["role"]) for n, a in amap["arrays"].items()} == {
        "A": (8, 8, "in"), "B": (16, 8, "in"),
    }  # fmt: skip


def test_save_writes_files_and_refuses_foreign_ones(design, tmp_path):
    out = tmp_path / "dot8"
    written = design.save(out)
    names = ["README.md", "address_map.json", "dot8.v", "dot8_shell.v"]
    assert sorted(p.name for p in written) == names
    assert sorted(p.name for p in out.iterdir()) == names
    assert (out / "dot8_shell.v").read_text() == design.verilog
    assert (out / "dot8.v").read_text() == design.kernel_verilog
    amap = json.loads((out / "address_map.json").read_text())
    assert {k: v for k, v in amap.items() if k != "generator"} == design.address_map
    assert design.save(out) == written  # its own files are replaced

    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "dot8.v").write_text("module mine; endmodule\n")
    with pytest.raises(OutputExistsError, match=r"dot8\.v exists and was not written by allo_rtl"):
        design.save(foreign)
    assert [p.name for p in foreign.iterdir()] == ["dot8.v"]  # nothing else was written
    assert (foreign / "dot8.v").read_text() == "module mine; endmodule\n"


# --------------------------------------------------------------------------------------------
# Size of the generated datapath


def widen(a: Int(8), b: Int(8)) -> Int(128):
    return a + b


def nested_max(a: Int(8), u: UInt(8)) -> Int(32):
    return max(max(max(max(max(max(max(max(a, u), u), u), u), u), u), u), u)


def test_datapath_size_is_linear_in_the_expression():
    def cells(kernel, kind):
        text = rtlil.convert(allo.customize(kernel).build(target="amaranth"))
        return re.findall(r"cell \$(\w+)", text).count(kind)

    assert cells(nested_max, "lt") == 8
    assert cells(widen, "add") == 1


def increment(A: int32[8], B: int32[8]):
    for i in range(8):
        B[i] = A[i] + 1


def double(A: int32[8], B: int32[8]):
    for i in range(8):
        B[i] = A[i] * 2


def twice(A: int32[8], B: int32[8], C: int32[8], D: int32[8]):
    increment(A, B)
    increment(B, C)
    double(C, D)


def test_identical_instances_share_one_verilog_module():
    """Two calls of one kernel: one module definition, instantiated twice; the other kernel
    keeps its own; the Verilog still computes the right values."""
    design = allo.customize(twice).build(target="verilog")
    modules = re.findall(r"^module (\S+) ?\(", design.verilog, re.MULTILINE)
    instances = re.findall(r"^  (\S+) +(\w+) \($", design.verilog, re.MULTILINE)
    kernels = [m for m in modules if m.startswith("\\twice_shell.kernel.")]
    assert len(kernels) == 2, modules  # increment (once for both calls) and double
    used = [(mod, inst) for mod, inst in instances if mod in kernels]
    assert len(used) == 3 and len({mod for mod, _ in used}) == 2, used
    A = np.arange(8, dtype=np.int32) - 3
    B, C, D = (np.zeros(8, np.int32) for _ in range(3))
    allo.customize(twice).build(target="verilator")(A, B, C, D)
    np.testing.assert_array_equal(D, (A + 2) * 2)
