"""The `amaranth` target inside a hand-written Amaranth design, and RTL-target errors."""

import inspect

import numpy as np
import pytest
from amaranth.hdl import Elaboratable, Module, Signal
from amaranth.lib import memory, wiring
from amaranth.sim import Simulator

import allo_rtl as allo
from allo_rtl.ir.types import float64, int16, int32


def dot8(A: int16[8], B: int16[8]) -> int32:
    acc: int32 = 0
    for i in range(8):
        acc += A[i] * B[i]
    return acc


class DotUnit(Elaboratable):
    """Hand-written: owns two ROMs, runs the generated kernel once after reset, holds the result."""

    def __init__(self, a, b):
        self.a, self.b = a, b
        self.result = Signal(32)
        self.finished = Signal()

    def elaborate(self, platform):
        m = Module()
        m.submodules.kernel = kernel = allo.customize(dot8).build(target="amaranth")
        for name, data in (("A", self.a), ("B", self.b)):
            rom = memory.Memory(shape=16, depth=8, init=[int(v) & 0xFFFF for v in data])
            m.submodules[f"rom_{name}"] = rom
            rd = rom.read_port()
            group = getattr(kernel, name)
            m.d.comb += [
                rd.addr.eq(group.rd_addr),
                rd.en.eq(group.rd_en),
                group.rd_data.eq(rd.data),
            ]
        started = Signal()
        m.d.sync += started.eq(1)
        m.d.comb += kernel.start.eq(~started)
        with m.If(kernel.done):
            m.d.sync += [self.result.eq(kernel.result), self.finished.eq(1)]
        return m


def test_generated_kernel_inside_a_hand_written_module():
    rng = np.random.default_rng(5)
    a = rng.integers(-(2**15), 2**15, 8)
    b = rng.integers(-(2**15), 2**15, 8)
    dut = DotUnit(a, b)
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    seen = {}

    async def bench(ctx):
        for _ in range(200):
            await ctx.tick()
            if ctx.get(dut.finished):
                seen["result"] = ctx.get(dut.result)
                return

    sim.add_testbench(bench)
    sim.run()
    want = int(np.int64(a) @ np.int64(b))
    want = (want + 2**31) % 2**32 - 2**31
    assert seen["result"] - (1 << 32) * (seen["result"] >> 31) == want


def test_amaranth_target_ports_follow_the_parameters():
    kernel = allo.customize(dot8).build(target="amaranth")
    assert isinstance(kernel, wiring.Component)
    members = dict(kernel.signature.members)
    assert {"start", "busy", "done", "A", "B", "result"} <= set(members)
    assert kernel.info.params == ("A", "B")
    assert kernel.info.returns == ("result",)
    assert [(a.name, a.read, a.written) for a in kernel.info.arrays] == [
        ("A", True, False),
        ("B", True, False),
    ]


def pow_f(A: float64[4]) -> float64[4]:
    B: float64[4] = 0.0
    for i in range(4):
        B[i] = A[i] ** 1.5
    return B


def test_float_power_on_an_rtl_target_names_the_line():
    lines, first = inspect.getsourcelines(pow_f)
    line = next(n for n, text in enumerate(lines) if "**" in text)
    col = lines[line].index("A[i] ** 1.5") + 1
    expected = (
        f"{__file__}:{first + line}:{col}: `**` of float64 values is not supported on RTL "
        "targets yet\n"
        f"    {lines[line].strip()}\n"
        f"    {' ' * (col - 1 - (len(lines[line]) - len(lines[line].lstrip())))}^\n"
        "hint: use + - * /, sqrt and ** of float32 or narrower, or build for the numpy target"
    )
    with pytest.raises(allo.LoweringError) as e:
        allo.customize(pow_f).build(target="verilator")
    assert str(e.value) == expected
