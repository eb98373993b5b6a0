"""Boards, devices and the open bitstream flow's parts (docs/boards.md).

``get_board("icebreaker")`` / ``all_boards()`` give the registered :class:`Board`\\ s (one small
module each in this package); :class:`SynthesisReport` is what a build reports; :class:`BoardLink` and :func:`run_kernel` talk to a
board over its UART (docs/uart_protocol.md). ``allo_rtl.build`` and
``allo_rtl.synth`` run the flow; the board-level design (PLL, UART bridge, shell, LEDs) is
``_top.BoardTop``.
"""

from ._board import DEVICES, Board, Device, all_boards, get_board, get_device, register
from ._host import BoardLink, LinkError, SerialTransport, Transport, run_kernel
from ._report import DesignDoesNotFit, SynthesisReport, Usage
from ._toolchain import ToolFailed, find_tool

__all__ = [
    "DEVICES",
    "Board",
    "BoardLink",
    "DesignDoesNotFit",
    "Device",
    "LinkError",
    "SerialTransport",
    "SynthesisReport",
    "ToolFailed",
    "Transport",
    "Usage",
    "all_boards",
    "find_tool",
    "get_board",
    "get_device",
    "register",
    "run_kernel",
]
