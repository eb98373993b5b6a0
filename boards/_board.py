"""Devices and boards as data: what the flow needs to know to build a bitstream for one.

A :class:`Device` is an FPGA part as nextpnr names it, with its resource budget. A
:class:`Board` is an amaranth-boards platform plus the resources the board top uses (the UART
to the host, the LEDs for busy/done) and the clocks it can make. Adding a board is one small
module in ``boards/`` that calls :func:`register` (see ``boards/icebreaker.py``).
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
from dataclasses import dataclass, field
from typing import Any

from .._errors import BuildError

__all__ = [
    "DEVICES",
    "Board",
    "Device",
    "all_boards",
    "get_board",
    "get_device",
    "register",
]


@dataclass(frozen=True)
class Device:
    """An FPGA part: ``family`` (``ice40`` or ``ecp5``), the nextpnr device option
    (``--up5k``, ``--85k``), its package, speed grade, and what it has: ``luts`` (logic cells
    on iCE40, LUT4s on ECP5), ``ffs``, ``brams`` (EBR / DP16KD blocks), ``dsps`` (SB_MAC16 /
    MULT18X18D blocks)."""

    name: str
    family: str
    nextpnr_device: str
    package: str
    luts: int
    ffs: int
    brams: int
    dsps: int
    speed: str = ""

    def in_package(self, package: str, speed: str = "") -> Device:
        """This part in another package (and speed grade)."""
        return dataclasses.replace(self, package=package, speed=speed or self.speed)

    def nextpnr_args(self) -> list[str]:
        """The device, package and speed options of ``nextpnr-<family>``."""
        args = [self.nextpnr_device, "--package", self.package]
        return args + (["--speed", self.speed] if self.speed else [])


def _ecp5(size: str, luts: int, brams: int, dsps: int, package: str = "CABGA381") -> Device:
    return Device(f"ecp5-{size}", "ecp5", f"--{size}", package, luts, luts, brams, dsps, "6")


# Resource counts from the Lattice data sheets (iCE40 UltraPlus DS1056, ECP5 DS1044).
DEVICES: dict[str, Device] = {
    d.name: d
    for d in (
        Device("up5k", "ice40", "--up5k", "sg48", 5280, 5280, 30, 8),
        _ecp5("12k", 12096, 32, 28),
        _ecp5("25k", 24288, 56, 28),
        _ecp5("45k", 43848, 108, 72),
        _ecp5("85k", 83640, 208, 156),
    )
}


@dataclass(frozen=True)
class Board:
    """A board: its name for ``--board``, the amaranth-boards platform it extends
    (``module:Class``), its :class:`Device`, the oscillator frequency, the UART resource the
    host link uses, the LED resources showing busy and done (name, number), whether the flow
    may synthesise a PLL for a faster kernel clock, and extra amaranth ``Resource``s the
    platform lacks (made by ``extra_resources()``, e.g. a UART on header pins)."""

    name: str
    description: str
    platform: str
    device: Device
    clock_mhz: float
    uart: tuple[str, int] = ("uart", 0)
    leds: tuple[tuple[str, int], ...] = ()
    pll: bool = True
    max_clock_mhz: float = 100.0
    notes: str = ""
    extra_resources: Any = field(default=None, compare=False)

    @property
    def family(self) -> str:
        return self.device.family

    def platform_instance(self) -> Any:
        """A new amaranth-boards platform object for this board (with the extra resources)."""
        module_name, _, class_name = self.platform.partition(":")
        platform = getattr(importlib.import_module(module_name), class_name)()
        if self.extra_resources is not None:
            platform.add_resources(self.extra_resources())
        return platform


_BOARDS: dict[str, Board] = {}
_BOARD_MODULES = ("icebreaker", "ulx3s", "orangecrab")


def register(board: Board) -> Board:
    """Add ``board`` to the registry (its name must be new); returns it."""
    if board.name in _BOARDS:
        raise BuildError(f"a board named `{board.name}` is already registered")
    _BOARDS[board.name] = board
    return board


def _load_boards() -> None:
    if not _BOARDS:
        for name in _BOARD_MODULES:
            importlib.import_module(f"{__package__}.{name}")


def all_boards() -> list[Board]:
    """Every registered board, by name."""
    _load_boards()
    return sorted(_BOARDS.values(), key=lambda b: b.name)


def _unknown(kind: str, name: str, known: list[str], how: str) -> BuildError:
    close = difflib.get_close_matches(name, known, n=1)
    guess = f"did you mean `{close[0]}`? " if close else ""
    return BuildError(
        f"unknown {kind} `{name}`; known {kind}s: {', '.join(known)}",
        hint=f"{guess}{how}",
    )


def get_board(name: str) -> Board:
    """The board called ``name`` (``BuildError`` listing the known boards otherwise)."""
    _load_boards()
    if name not in _BOARDS:
        raise _unknown("board", name, sorted(_BOARDS), "`python -m allo_rtl boards` lists them")
    return _BOARDS[name]


def get_device(name: str) -> Device:
    """The device called ``name`` (``up5k``, ``ecp5-85k``, ...)."""
    if name not in DEVICES:
        raise _unknown("device", name, list(DEVICES), "pass one of the names above")
    return DEVICES[name]
