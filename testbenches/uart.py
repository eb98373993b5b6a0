"""The cocotb testbench of a UART board top: synchronous host code talking to the pins.

For a design whose top has ports ``clk``, ``rst``, ``rx`` and ``tx`` (e.g.
``allo_rtl.hw._uart.UartShellTop``). The testbench runs a *host program*, an ordinary blocking
function ``program(transport, run_dir)``, in a thread (``cocotb.task.bridge``). Its transport,
:class:`SimTransport`, has the ``write(bytes)`` / ``read(n) -> bytes`` interface of a serial
port; each call resumes the simulation (``cocotb.task.resume``) to bit-bang the bytes into
``rx`` (8N1) or to wait, in simulated time, for bytes decoded from ``tx``. The same host code
that drives a board therefore drives the simulated design.

Run with ``COCOTB_TEST_MODULES=allo_rtl.testbenches.uart`` and ``ALLO_RTL_RUN_DIR`` naming a
directory with ``job.json``::

    {"clock_ps": 10000, "internal_clock": false, "divisor": 4,
     "read_timeout_cycles": 2000, "host": "package.module:function"}

The program's return value (JSON-serialisable) is written to ``outputs.json`` as
``{"result": ...}``; an exception as ``{"error": "<traceback>"}``.
"""

from __future__ import annotations

import importlib
import json
import os
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cocotb
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.task import bridge, resume
from cocotb.triggers import Event, FallingEdge, First, Timer

from ._wire import RUN_DIR_ENV

__all__ = ["SimTransport", "UartPins", "run_host_program"]


class UartPins:
    """The host's end of the UART wires ``dut.rx`` / ``dut.tx``, ``bit_ps`` per bit."""

    def __init__(self, dut: Any, bit_ps: int) -> None:
        self.rx, self.tx = dut.rx, dut.tx
        self.bit_ps = bit_ps
        self.received = bytearray()
        self._arrived = Event()

    async def send(self, data: bytes) -> None:
        """Drive ``data`` into ``rx``: per byte a start bit, 8 data bits LSB first, a stop bit."""
        for byte in data:
            for bit in [0, *((byte >> i) & 1 for i in range(8)), 1]:
                self.rx.value = bit
                await Timer(self.bit_ps, unit="ps")

    async def listen(self) -> None:
        """Forever: decode bytes from ``tx`` (sampled mid-bit) into :attr:`received`."""
        while True:
            await FallingEdge(self.tx)
            await Timer(self.bit_ps // 2, unit="ps")
            if self.tx.value:
                continue  # not a start bit
            byte = 0
            for i in range(8):
                await Timer(self.bit_ps, unit="ps")
                byte |= int(self.tx.value) << i
            await Timer(self.bit_ps, unit="ps")
            if self.tx.value:  # a byte with a bad stop bit is dropped, as a UART would
                self.received.append(byte)
                self._arrived.set()

    async def receive(self, n: int, timeout_ps: int) -> bytes:
        """Up to ``n`` received bytes: waits until there are ``n`` or ``timeout_ps`` passed."""
        deadline = get_sim_time("ps") + timeout_ps
        while len(self.received) < n:
            remaining = deadline - get_sim_time("ps")
            if remaining <= 0:
                break
            self._arrived.clear()
            await First(self._arrived.wait(), Timer(remaining, unit="ps"))
        data = bytes(self.received[:n])
        del self.received[: len(data)]
        return data


class SimTransport:
    """A blocking transport over :class:`UartPins`, for host code in a bridged thread;
    ``read`` returns fewer bytes than asked after ``timeout_ps`` of simulated time."""

    def __init__(self, pins: UartPins, timeout_ps: int) -> None:
        self.pins = pins
        self.timeout_ps = timeout_ps
        self._send = resume(pins.send)
        self._receive = resume(pins.receive)

    def write(self, data: bytes) -> None:
        self._send(bytes(data))

    def read(self, n: int) -> bytes:
        return self._receive(n, self.timeout_ps)


def _program(name: str) -> Callable[[SimTransport, Path], Any]:
    """The host program named ``module:function``."""
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(module), function)


def _run_program(program: Callable[[SimTransport, Path], Any], transport: SimTransport,
                 run_dir: Path) -> dict[str, Any]:  # fmt: skip
    try:
        return {"result": program(transport, run_dir)}
    except Exception:  # reported to the host process through outputs.json
        return {"error": traceback.format_exc()}


@cocotb.test()
async def run_host_program(dut: Any) -> None:
    run_dir = Path(os.environ[RUN_DIR_ENV])
    job = json.loads((run_dir / "job.json").read_text())
    clock_ps = job["clock_ps"]
    if not job.get("internal_clock"):
        Clock(dut.clk, clock_ps, unit="ps").start(start_high=False)
    dut.rx.value, dut.rst.value = 1, 1
    await Timer(3 * clock_ps, unit="ps")
    dut.rst.value = 0
    pins = UartPins(dut, job["divisor"] * clock_ps)
    cocotb.start_soon(pins.listen())
    transport = SimTransport(pins, job["read_timeout_cycles"] * clock_ps)
    outputs = await bridge(_run_program)(_program(job["host"]), transport, run_dir)
    (run_dir / "outputs.json").write_text(json.dumps(outputs))
