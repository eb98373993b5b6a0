"""Kernel clocks: PLL settings for iCE40 (``SB_PLL40_PAD``) and ECP5 (``EHXPLLL``).

:func:`pll_config` searches the PLL's divider settings for the output frequency closest to the
requested one without exceeding it (a slower clock still meets timing; a faster one may not),
within the ranges of the Lattice data sheets:

- iCE40 (simple feedback): reference 10-133 MHz; phase detector ``f_in / (DIVR + 1)``
  10-133 MHz; VCO ``f_pfd * (DIVF + 1)`` 533-1066 MHz; output ``f_vco / 2**DIVQ`` 16-275 MHz,
  DIVR 0-15, DIVF 0-127, DIVQ 1-6.
- ECP5 (feedback from CLKOP): output ``f_in * CLKFB_DIV / CLKI_DIV``; phase detector
  ``f_in / CLKI_DIV`` 3.125-400 MHz; VCO ``f_out * CLKOP_DIV`` 400-800 MHz (chosen near 600); CLKI_DIV 1-128,
  CLKFB_DIV 1-80, CLKOP_DIV 1-128.

:class:`KernelClock` makes the ``sync`` domain of a board top: from the PLL when a clock was
requested, else straight from the board's oscillator.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import ClockDomain, ClockSignal, Instance, Module, Signal
from amaranth.lib import io
from amaranth.lib.cdc import ResetSynchronizer

from .._errors import BuildError, article
from ._board import Board

__all__ = ["KernelClock", "PllConfig", "pll_config"]


@dataclass(frozen=True)
class PllConfig:
    """Divider settings of one PLL and the frequencies they give (MHz)."""

    family: str
    f_in: float
    f_out: float
    f_vco: float
    dividers: tuple[int, int, int]  # ice40: DIVR, DIVF, DIVQ; ecp5: CLKI, CLKFB, CLKOP

    @property
    def filter_range(self) -> int:
        """iCE40 loop filter setting for the phase detector frequency."""
        f_pfd = self.f_in / (self.dividers[0] + 1)
        return 1 + sum(f_pfd >= edge for edge in (17, 26, 44, 66, 101))


def _ice40(f_in: float) -> list[PllConfig]:
    found = []
    for divr in range(16):
        f_pfd = f_in / (divr + 1)
        if not 10 <= f_pfd <= 133:
            continue
        for divf in range(128):
            f_vco = f_pfd * (divf + 1)
            if not 533 <= f_vco <= 1066:
                continue
            for divq in range(1, 7):
                f_out = f_vco / 2**divq
                if 16 <= f_out <= 275:
                    found.append(PllConfig("ice40", f_in, f_out, f_vco, (divr, divf, divq)))
    return found


def _ecp5(f_in: float) -> list[PllConfig]:
    found = []
    for clki in range(1, 129):
        if not 3.125 <= f_in / clki <= 400:
            continue
        for clkfb in range(1, 81):
            f_out = f_in * clkfb / clki
            clkop = min(128, max(1, round(600 / f_out)))  # the VCO near the middle of its range
            if 400 <= f_out * clkop <= 800:
                found.append(PllConfig("ecp5", f_in, f_out, f_out * clkop, (clki, clkfb, clkop)))
    return found


def pll_config(family: str, f_in: float, f_out: float) -> PllConfig:
    """The settings whose output is closest to ``f_out`` MHz without exceeding it."""
    search = {"ice40": _ice40, "ecp5": _ecp5}.get(family)
    if search is None:
        raise BuildError(f"no PLL support for the {family} family")
    options = [c for c in search(f_in) if c.f_out <= f_out + 1e-9]
    if not options:
        raise BuildError(
            f"{article(family)} PLL cannot make {f_out:g} MHz from {f_in:g} MHz",
            hint="ask for a faster clock, or leave --clock-mhz unset to use the oscillator",
        )
    return max(options, key=lambda c: (c.f_out, -c.dividers[0]))


class KernelClock:
    """The ``sync`` clock domain of a board top at ``clock_mhz`` (``None``: the board's
    oscillator). ``frequency_mhz`` is the clock actually made; :meth:`add_to` builds it."""

    def __init__(self, board: Board, clock_mhz: float | None) -> None:
        self.board = board
        self.config: PllConfig | None = None
        if clock_mhz is not None and abs(clock_mhz - board.clock_mhz) > 1e-6:
            if not board.pll:
                raise BuildError(f"board {board.name} has no PLL support in allo_rtl")
            if clock_mhz > board.max_clock_mhz:
                raise BuildError(
                    f"--clock-mhz {clock_mhz:g} is above the {board.max_clock_mhz:g} MHz "
                    f"allo_rtl allows on {board.name}",
                    hint=f"use at most {board.max_clock_mhz:g}",
                )
            self.config = pll_config(board.family, board.clock_mhz, clock_mhz)
        self.frequency_mhz = self.config.f_out if self.config else board.clock_mhz

    def add_to(self, m: Module, platform: object) -> None:
        """Define ``sync`` in ``m`` (the top module) with the PLL and its reset synchroniser."""
        if self.config is None:
            return  # the platform derives `sync` from its default clock
        m.domains.sync = cd = ClockDomain("sync")
        locked = Signal()
        pin = platform.request(platform.default_clk, 0, dir="-")  # type: ignore[attr-defined]
        if self.config.family == "ice40":  # the PLL takes the oscillator straight from its pad
            m.submodules.pll = _ice40_instance(self.config, pin.io, locked)
        else:
            m.submodules.clk_in = clk_in = io.Buffer("i", pin)
            m.submodules.pll = _ecp5_instance(self.config, clk_in.i, locked)
        m.submodules.reset_sync = ResetSynchronizer(~locked, domain="sync")
        platform.add_clock_constraint(cd.clk, self.frequency_mhz * 1e6)  # type: ignore[attr-defined]


def _ice40_instance(c: PllConfig, pad: object, locked: Signal) -> Instance:
    divr, divf, divq = c.dividers
    return Instance(
        "SB_PLL40_PAD",
        p_FEEDBACK_PATH="SIMPLE",
        p_DIVR=divr, p_DIVF=divf, p_DIVQ=divq, p_FILTER_RANGE=c.filter_range,
        io_PACKAGEPIN=pad, i_RESETB=1, i_BYPASS=0,
        o_PLLOUTGLOBAL=ClockSignal("sync"), o_LOCK=locked,
    )  # fmt: skip


def _ecp5_instance(c: PllConfig, clk_in: object, locked: Signal) -> Instance:
    clki, clkfb, clkop = c.dividers
    return Instance(
        "EHXPLLL",
        a_FREQUENCY_PIN_CLKI=f"{c.f_in:g}", a_FREQUENCY_PIN_CLKOP=f"{c.f_out:g}",
        a_ICP_CURRENT="12", a_LPF_RESISTOR="8",
        a_MFG_ENABLE_FILTEROPAMP="1", a_MFG_GMCREF_SEL="2",
        p_PLLRST_ENA="DISABLED", p_INTFB_WAKE="DISABLED", p_STDBY_ENABLE="DISABLED",
        p_DPHASE_SOURCE="DISABLED", p_OUTDIVIDER_MUXA="DIVA",
        p_CLKI_DIV=clki, p_CLKFB_DIV=clkfb, p_CLKOP_DIV=clkop,
        p_CLKOP_ENABLE="ENABLED", p_CLKOP_CPHASE=clkop - 1, p_CLKOP_FPHASE=0,
        p_FEEDBK_PATH="CLKOP",
        i_RST=0, i_STDBY=0, i_CLKI=clk_in, i_CLKFB=ClockSignal("sync"),
        i_PHASESEL0=0, i_PHASESEL1=0, i_PHASEDIR=1, i_PHASESTEP=1, i_PHASELOADREG=1,
        i_PLLWAKESYNC=0, i_ENCLKOP=0,
        o_CLKOP=ClockSignal("sync"), o_LOCK=locked,
    )  # fmt: skip
