"""OrangeCrab r0.2 (Good Stuff Department): ECP5 25F or 85F in csfBGA285, 48 MHz oscillator.

The board has no UART chip (its USB port goes straight to the FPGA), so the host link is a
3.3 V UART on the Feather header: the FPGA transmits on pin ``1`` (TX) and receives on pin
``0`` (RX); connect a USB-serial adapter there. The RGB LED shows busy (green) and done (red).
"""

from amaranth.build import Attrs, Pins, Resource, Subsignal

from ._board import DEVICES, Board, register

__all__ = ["ORANGECRAB"]


def _header_uart() -> list[Resource]:
    return [
        Resource(
            "uart", 0,
            Subsignal("tx", Pins("1", dir="o", conn=("io", 0))),
            Subsignal("rx", Pins("0", dir="i", conn=("io", 0))),
            Attrs(IO_TYPE="LVCMOS33"),
        )
    ]  # fmt: skip


ORANGECRAB = {
    size: register(
        Board(
            name=f"orangecrab-{size}f",
            description=f"OrangeCrab r0.2, ECP5 LFE5U-{size}F "
            f"({device.luts:,} LUT4, {device.brams} DP16KD, {device.dsps} MULT18X18D)",
            platform=f"amaranth_boards.orangecrab_r0_2:OrangeCrabR0_2_{size}FPlatform",
            device=device.in_package("CSFBGA285", "8"),
            clock_mhz=48.0,
            leds=(("rgb_led.g", 0), ("rgb_led.r", 0)),
            max_clock_mhz=200.0,
            notes="UART on Feather header pins 0 (RX) / 1 (TX); RGB LED: green busy, red done",
            extra_resources=_header_uart,
        )
    )
    for size, device in (("25", DEVICES["ecp5-25k"]), ("85", DEVICES["ecp5-85k"]))
}
