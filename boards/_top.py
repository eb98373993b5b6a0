"""The board top: kernel clock, the kernel in its shell behind the UART bridge, LEDs.

::

    oscillator -> [PLL] -> sync domain
    UART rx/tx pins <-> UartBridge <-> Shell host bus -> kernel + argument memories
    LED 0 <- busy, LED 1 <- done (docs/uart_protocol.md describes the link)
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Elaboratable, Module
from amaranth.lib import io

from .._errors import BuildError
from ..hw._shell import Shell
from ..hw._uart import UartShellTop
from ._board import Board
from ._pll import KernelClock

__all__ = ["DEFAULT_BAUD", "BoardTop", "uart_divisor"]

DEFAULT_BAUD = 115_200


def uart_divisor(clock_mhz: float, baud: int) -> int:
    """Clock cycles per UART bit; the baud rate error must stay within 2 %."""
    divisor = round(clock_mhz * 1e6 / baud)
    if divisor < 4 or abs(clock_mhz * 1e6 / divisor - baud) / baud > 0.02:
        raise BuildError(
            f"{baud} baud cannot be made from a {clock_mhz:g} MHz clock within 2 %",
            hint="choose a lower baud rate or another clock",
        )
    return divisor


class BoardTop(Elaboratable):
    """``shell`` on ``board`` with its kernel clock ``clock`` (a :class:`KernelClock` of the
    board, which the kernel was also scheduled for) and the host link at ``baud``."""

    def __init__(
        self, board: Board, shell: Shell, clock: KernelClock, baud: int = DEFAULT_BAUD
    ) -> None:
        self.board = board
        self.shell = shell
        self.clock = clock
        self.baud = baud
        self.divisor = uart_divisor(self.clock.frequency_mhz, baud)

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        self.clock.add_to(m, platform)
        link = m.submodules.link = UartShellTop(self.shell, self.divisor)
        uart = platform.request(*self.board.uart, dir="-")
        m.submodules.uart_tx = tx = io.Buffer("o", uart.tx)
        m.submodules.uart_rx = rx = io.Buffer("i", uart.rx)
        m.d.comb += [tx.o.eq(link.tx), link.rx.eq(rx.i)]
        requested: dict[tuple[str, int], Any] = {}
        for (name, number), value in zip(self.board.leds, (link.busy, link.done)):
            resource, _, field = name.partition(".")
            if (resource, number) not in requested:
                requested[resource, number] = platform.request(resource, number, dir="-")
            pins = requested[resource, number]
            led = io.Buffer("o", getattr(pins, field) if field else pins)
            m.submodules[f"led_{len(requested)}_{field or resource}"] = led
            m.d.comb += led.o.eq(value)
        return m
