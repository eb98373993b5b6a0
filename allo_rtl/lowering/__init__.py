"""Lowering: kernel IR -> FSMD (scheduled controller and datapath over IR expressions)."""

from ._fsmd import Branch, Fsmd, Goto, Memory, ReadPort, SetReg, State, WritePort
from ._lower import lower

__all__ = ["Branch", "Fsmd", "Goto", "Memory", "ReadPort", "SetReg", "State", "WritePort", "lower"]
