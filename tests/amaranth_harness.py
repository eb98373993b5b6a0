"""Runs a generated kernel component in Amaranth's own simulator, with NumPy data.

An independent test path for the lowering (the product path is cocotb + Verilator through the
shell): argument arrays live in `amaranth.lib.memory.Memory` instances initialised from the
NumPy inputs, the testbench pulses `start`, waits for `done` and reads the memories back.
"""

import numpy as np
from amaranth.hdl import Module
from amaranth.lib import memory
from amaranth.sim import Simulator

from allo_rtl.hw import KernelComponent
from allo_rtl.hw._banks import bank_names
from allo_rtl.lowering import lower
from allo_rtl.reference import numpy_dtype
from allo_rtl.sim._convert import from_word, to_word

_RAW = [False]  # the `raw` flag of the current run


def _locate(a, index):
    if a.layout is None:
        return 0, int(np.ravel_multi_index(index, a.type.shape))
    return a.layout.locate(a.type.shape, index)


def _raw(value, t):
    """Raw bits of ``value`` (Fixed values are exact multiples of 2**-fracs here; floats are
    their IEEE encoding)."""
    if t.is_float:
        return to_word(value, t)
    scaled = value * 2**t.fracs if t.fracs and not _RAW[0] else value
    assert scaled == int(scaled), (value, t)
    return int(scaled) & ((1 << t.bits) - 1)


def _value(raw, t):
    """The value of raw bits, as the NumPy target returns it (Fixed: a float)."""
    if t.is_float:
        return from_word(int(raw), t)
    v = _signed(int(raw) & ((1 << t.bits) - 1), t)
    return v / 2**t.fracs if t.fracs and not _RAW[0] else v


def _signed(raw, t):
    return raw - (1 << t.bits) if t.signed and raw >> (t.bits - 1) else raw


def run(schedule, *args, max_cycles=200_000, raw=False, model=None):
    """Simulate the kernel; returns (results like the NumPy target, cycles from start to done).

    With ``raw=True`` scalar arguments and results are raw bit patterns (Fixed values are
    not scaled). ``model`` is the lowering's target model (default: generic, 100 MHz)."""
    _RAW[0] = raw
    # (some tests replace `lower` with a one-argument function of the module)
    kernel = KernelComponent(
        lower(schedule.module) if model is None else lower(schedule.module, model)
    )
    info = kernel.info
    m = Module()
    m.submodules.kernel = kernel
    mems = {}
    for a in info.arrays:
        data = args[a.param_index] if a.param_index is not None else np.zeros(a.type.shape, int)
        names = bank_names(a.name, a.layout, a.type)
        depth = a.depth // len(names)
        inits = [[0] * depth for _ in names]
        for index in np.ndindex(*a.type.shape):
            bank, offset = _locate(a, index)
            inits[bank][offset] = _raw(np.asarray(data)[index], a.type.dtype)
        banks = []
        for name, init in zip(names, inits):
            mem = memory.Memory(shape=a.type.dtype.bits, depth=depth, init=init)
            m.submodules[f"mem_{name}"] = mem
            rd, wr = mem.read_port(), mem.write_port()
            group = getattr(kernel, name)
            m.d.comb += [
                rd.addr.eq(group.rd_addr), rd.en.eq(group.rd_en), group.rd_data.eq(rd.data),
                wr.addr.eq(group.wr_addr), wr.data.eq(group.wr_data), wr.en.eq(group.wr_en),
            ]  # fmt: skip
            banks.append(mem)
        mems[a.name] = (banks, a)
    sim = Simulator(m)
    sim.add_clock(1e-6)
    scalars = [args[i] for i, name in enumerate(info.params) if name not in mems]
    out = {}

    async def bench(ctx):
        for port, value in zip(info.scalar_inputs, scalars):
            ctx.set(getattr(kernel, port.name), _raw(value, port.type))
        ctx.set(kernel.start, 1)
        await ctx.tick()
        ctx.set(kernel.start, 0)
        cycles = 1
        while not ctx.get(kernel.done):
            await ctx.tick()
            cycles += 1
            assert cycles < max_cycles, "kernel did not finish"
        await ctx.tick()
        for name, (banks, a) in mems.items():
            flat = []
            for index in np.ndindex(*a.type.shape):
                bank, offset = _locate(a, index)
                flat.append(_value(ctx.get(banks[bank].data[offset]), a.type.dtype))
            # via object: np.array of mixed large ints would go through float64 and round
            data = np.array(flat, dtype=object).reshape(a.type.shape)
            out[name] = data.astype(numpy_dtype(a.type.dtype))
        for port in info.scalar_outputs:
            out[port.name] = _value(ctx.get(getattr(kernel, port.name)), port.type)
        out["_cycles"] = cycles

    sim.add_testbench(bench)
    sim.run()
    for a in info.arrays:
        if a.param_index is not None:
            np.copyto(args[a.param_index], out[a.name], casting="unsafe")
    results = [out[name] for name in info.returns]
    value = None if not results else results[0] if len(results) == 1 else results
    return value, out["_cycles"]
