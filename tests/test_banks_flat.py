"""The host's flat (row-major) element number -> (bank, address in the bank) of a partitioned
array (hw/_banks.flat_split): the closed forms for one split dimension and the general case
agree with the layout's own ``locate`` for every element."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.hdl import Module, Signal
from amaranth.sim import Simulator

from allo_rtl.hw._banks import flat_split
from allo_rtl.ir._nodes import Layout
from allo_rtl.ir.types import ArrayType, int32

CASES = [
    ((30, 30), ("none", "cyclic"), (1, 2)),  # closed form: flat % 2, flat // 2
    ((4, 12), ("none", "cyclic"), (1, 3)),  # closed form, a factor that is not a power of two
    ((8, 5), ("block", "none"), (4, 1)),  # closed form: flat // 10, flat % 10
    ((3, 4), ("none", "complete"), (1, 1)),
    ((6, 5), ("cyclic", "none"), (2, 1)),  # general case
    ((4, 6), ("block", "cyclic"), (2, 3)),  # general case, two split dimensions
]


@pytest.mark.parametrize(("shape", "kinds", "factors"), CASES)
def test_flat_split_matches_locate(shape, kinds, factors):
    t = ArrayType(int32, shape)
    layout = Layout(kinds, factors)
    n = int(np.prod(shape))
    flat = Signal(range(n))
    bank, offset = flat_split(flat, t, layout)
    m = Module()
    b_sig, o_sig = Signal(16), Signal(16)
    m.d.comb += [b_sig.eq(bank), o_sig.eq(offset)]
    got: list[tuple[int, int]] = []

    async def bench(ctx):
        for k in range(n):
            ctx.set(flat, k)
            got.append((ctx.get(b_sig), ctx.get(o_sig)))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    want = [layout.locate(shape, index) for index in np.ndindex(*shape)]
    assert got == want
