"""iCEBreaker (1BitSquared): iCE40UP5K-SG48, 12 MHz oscillator, FTDI UART, red and green LEDs."""

from ._board import DEVICES, Board, register

__all__ = ["ICEBREAKER"]

ICEBREAKER = register(
    Board(
        name="icebreaker",
        description="1BitSquared iCEBreaker, iCE40UP5K (5,280 LCs, 30 EBR, 8 SB_MAC16)",
        platform="amaranth_boards.icebreaker:ICEBreakerPlatform",
        device=DEVICES["up5k"],
        clock_mhz=12.0,
        leds=(("led_g", 0), ("led_r", 0)),
        max_clock_mhz=60.0,
        notes="UART through the FTDI's second channel (pins 6/9); LEDs: green busy, red done",
    )
)
