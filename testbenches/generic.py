"""The cocotb testbench of every RTL call: drive the shell's host bus, run the kernel once.

Run by ``allo_rtl.sim`` inside the simulator (``COCOTB_TEST_MODULES=allo_rtl.testbenches.generic``)
with ``ALLO_RTL_RUN_DIR`` naming the run directory (``testbenches/_wire.py``). ``job.json``::

    {"clock_ps": 10000, "max_cycles": N, "control": 0,
     "scalar_writes": [[addr, word], ...],
     "array_writes": [{"key": "A", "base": 16}, ...],   # words in inputs.npz under "A"
     "scalar_reads": [{"key": "result", "addr": 4, "bits": 32}, ...],
     "array_reads": [{"key": "C", "base": 48, "depth": 16, "bits": 32}, ...],
     "stalls": false, "watch": [{"key": "5", "addr": 5}, ...]}

The bus is driven and sampled at falling clock edges: an address presented after one falling
edge is read (``bus_rdata``) or written at the rising edge and its read data is sampled at the
next falling edge. While the kernel runs, no Python code runs per cycle: the testbench waits
for the rising edge of ``done``, of ``stalled`` (a deadlocked dataflow region, when the design
has that output) or a watchdog timer of ``max_cycles`` cycles. Then it reads the ``watch``
registers of dataflow designs (which tasks wait, how full each FIFO is and was at most).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, First, RisingEdge, Timer

from ._wire import RUN_DIR_ENV, pack_words, unpack_words


def _word(value: Any) -> int:
    """A bus value as an unsigned int (undriven/unknown bits read as 0)."""
    try:
        return int(value)
    except ValueError:
        return int("".join(c if c in "01" else "0" for c in str(value)) or "0", 2)


class _Bus:
    def __init__(self, dut: Any) -> None:
        self.addr, self.wdata, self.we = dut.bus_addr, dut.bus_wdata, dut.bus_we
        self.rdata = dut.bus_rdata
        self.edge = FallingEdge(dut.clk)

    async def write(self, addr: int, words: list[int]) -> None:
        self.we.value = 1
        for i, word in enumerate(words):
            self.addr.value = addr + i
            self.wdata.value = word
            await self.edge
        self.we.value = 0

    async def read(self, addr: int, count: int) -> list[int]:
        out = []
        self.addr.value = addr
        for i in range(1, count + 1):
            await self.edge
            out.append(_word(self.rdata.value))
            if i < count:
                self.addr.value = addr + i
        return out


@cocotb.test()
async def run_kernel(dut: Any) -> None:
    run_dir = Path(os.environ[RUN_DIR_ENV])
    job = json.loads((run_dir / "job.json").read_text())
    inputs = np.load(run_dir / "inputs.npz") if job["array_writes"] else {}
    if not job.get("internal_clock"):  # Verilator builds generate the clock in a wrapper
        Clock(dut.clk, job["clock_ps"], unit="ps").start(start_high=False)
    bus = _Bus(dut)
    dut.rst.value, bus.we.value, bus.addr.value, bus.wdata.value = 1, 0, 0, 0
    await bus.edge
    await bus.edge
    dut.rst.value = 0
    for addr, word in job["scalar_writes"]:
        await bus.write(addr, [word])
    for entry in job["array_writes"]:
        await bus.write(entry["base"], unpack_words(inputs[entry["key"]]))
    await bus.write(job["control"], [1])
    watchdog = Timer(job["max_cycles"] * job["clock_ps"], unit="ps")
    if not dut.done.value:
        if job.get("stalls"):  # a deadlocked dataflow region raises `stalled` and stays so
            await First(RisingEdge(dut.done), RisingEdge(dut.stalled), watchdog)
        else:
            await First(RisingEdge(dut.done), watchdog)
    finished = bool(dut.done.value)
    stuck = bool(job.get("stalls")) and bool(dut.stalled.value) and not finished
    await bus.edge
    status = "done" if finished else "deadlock" if stuck else "timeout"
    result: dict[str, Any] = {"status": status, "scalars": {}, "watch": {}}
    if not finished:  # the busy cycles so far (the counter runs on)
        result["cycles"] = (await bus.read(job["cycles"], 1))[0]
    for entry in job.get("watch", []):  # dataflow regions: tasks' state and FIFO levels
        result["watch"][entry["key"]] = (await bus.read(entry["addr"], 1))[0]
    if finished:
        result["cycles"] = (await bus.read(job["cycles"], 1))[0]
        for entry in job["scalar_reads"]:
            result["scalars"][entry["key"]] = (await bus.read(entry["addr"], 1))[0]
        arrays = {}
        for entry in job["array_reads"]:
            words = await bus.read(entry["base"], entry["depth"])
            arrays[entry["key"]] = pack_words(words, entry["bits"])
        np.savez(run_dir / "outputs.npz", **arrays)
    (run_dir / "outputs.json").write_text(json.dumps(result))
