"""ULX3S (Radiona): ECP5 12F/25F/45F/85F in caBGA381, 25 MHz oscillator, FTDI UART, 8 LEDs."""

from ._board import DEVICES, Board, register

__all__ = ["ULX3S"]

ULX3S = {
    size: register(
        Board(
            name=f"ulx3s-{size}f",
            description=f"Radiona ULX3S, ECP5 LFE5U-{size.upper()}F "
            f"({device.luts:,} LUT4, {device.brams} DP16KD, {device.dsps} MULT18X18D)",
            platform=f"amaranth_boards.ulx3s:ULX3S_{size.upper()}F_Platform",
            device=device,
            clock_mhz=25.0,
            leds=(("led", 0), ("led", 1)),
            max_clock_mhz=200.0,
            notes="UART through the FTDI (US1 port); LEDs: D0 busy, D1 done",
        )
    )
    for size, device in (
        ("12", DEVICES["ecp5-12k"]),
        ("25", DEVICES["ecp5-25k"]),
        ("45", DEVICES["ecp5-45k"]),
        ("85", DEVICES["ecp5-85k"]),
    )
}
