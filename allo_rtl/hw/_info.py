"""What the outside world needs to know about a generated kernel component (docs/interface.md)."""

from __future__ import annotations

from dataclasses import dataclass

from ..ir._nodes import Layout
from ..ir.types import AlloType, ArrayType

__all__ = ["ArrayPortInfo", "KernelInfo", "ScalarPortInfo", "WatchEntry"]


@dataclass(frozen=True)
class ScalarPortInfo:
    """A scalar input (a parameter) or output (``result``, ``result0``, ...)."""

    name: str
    type: AlloType


@dataclass(frozen=True)
class ArrayPortInfo:
    """An array port group ``name__rd_*`` / ``name__wr_*``.

    ``param_index`` is the position of the kernel parameter it comes from, or ``None`` for an
    array return. ``return_index`` says which returned value it is, if any (an argument array
    the kernel returns has both). ``read`` and ``written`` say whether the kernel uses the read
    and the write port.
    """

    name: str
    type: ArrayType
    param_index: int | None
    return_index: int | None
    read: bool
    written: bool
    layout: Layout | None = None  # partitioned: one port group per bank (``A_b0``, ...)

    @property
    def depth(self) -> int:
        return self.type.size


@dataclass(frozen=True)
class WatchEntry:
    """A field of a kernel's ``watch`` output, the live state of a dataflow region.

    ``kind`` ``"task"``: bit 0 finished, bit 1 waiting on a stream (``gets`` / ``puts`` name the
    streams it reads and writes); ``"fifo"``: the number of values in FIFO ``name`` of
    ``depth`` (low half) and the most it has held since reset (high half). Names of nested regions are prefixed with their instance (``inner.pipe``).
    """

    name: str
    kind: str
    offset: int
    width: int
    depth: int = 0
    gets: tuple[str, ...] = ()
    puts: tuple[str, ...] = ()


@dataclass(frozen=True)
class KernelInfo:
    """The interface of one generated kernel, in parameter order."""

    name: str
    scalar_inputs: tuple[ScalarPortInfo, ...]
    scalar_outputs: tuple[ScalarPortInfo, ...]
    arrays: tuple[ArrayPortInfo, ...]
    returns: tuple[str, ...]  # port names of the returned values, in return order
    params: tuple[str, ...]  # port names of the parameters, in parameter order
    watch: tuple[WatchEntry, ...] = ()  # fields of the ``watch`` output (dataflow regions)
    stalls: bool = False  # has a ``stalled`` output: waits on streams, or is deadlocked
