"""The memories of one array as the kernel sees them: one read and one write port per bank.

An unpartitioned array has one bank. A partitioned local array is one
``amaranth.lib.memory.Memory`` per bank; a partitioned argument array is one port group per bank
(``A_b0``, ``A_b1``, ...). An access whose bank is known at compile time uses that bank's ports;
one whose bank varies addresses every bank, enables the write of the selected one, and selects
the read data of the bank it read from in the cycle before (``sel``).
"""

from __future__ import annotations

from math import prod
from typing import Any

from amaranth.hdl import Const, Module, Mux, Signal, Value
from amaranth.lib import memory

from ..ir._nodes import Expr, Layout
from ..ir.types import ArrayType
from ._datapath import Datapath, const_product, shape_of

__all__ = ["ArrayPorts", "bank_names", "flat_indices", "flat_split", "split_values"]


def bank_names(port: str, layout: Layout | None, t: ArrayType) -> list[str]:
    """Port group names of an argument array: ``A``, or ``A_b0``, ``A_b1``, ... per bank."""
    n = 1 if layout is None else prod(layout.bank_shape(t.shape))
    return [port] if n == 1 else [f"{port}_b{k}" for k in range(n)]


class _Read:
    def __init__(self, group: Any, t: ArrayType) -> None:
        self.addr, self.en = group.rd_addr, group.rd_en
        raw = group.rd_data
        self.data = raw.as_signed() if t.dtype.signed else raw


class _Write:
    def __init__(self, group: Any) -> None:
        self.addr, self.data, self.en = group.wr_addr, group.wr_data, group.wr_en


class ArrayPorts:
    """Ports of every bank of one array, and the address arithmetic to reach them."""

    def __init__(self, name: str, t: ArrayType, layout: Layout | None) -> None:
        self.name, self.type, self.layout = name, t, layout
        self.bank_shape = (1,) * len(t.shape) if layout is None else layout.bank_shape(t.shape)
        self.extent = t.shape if layout is None else layout.bank_extent(t.shape)
        self.banks: list[tuple[Any, Any]] = []  # (read, write) port of each bank
        self.second: list[tuple[Any, Any]] = []  # a dual-port bank's second read-write port
        self.sels: dict[int, Signal] = {}

    @property
    def depth(self) -> int:
        return prod(self.extent)

    def local(self, m: Module, init: Any, dual: bool = False) -> None:
        """One memory per bank, initialised from ``init`` (raw values in array order);
        ``dual``: two read-write ports per bank (port 1 in ``second``)."""
        contents = [[0] * self.depth for _ in range(prod(self.bank_shape))]
        if init is not None:
            for index, value in zip(_indices(self.type.shape), init.ravel()):
                bank, offset = self._locate(index)
                contents[bank][offset] = int(value)
        for k, data in enumerate(contents):
            suffix = f"_b{k}" if len(contents) > 1 else ""
            if self.depth == 1:  # complete partition (or one element): registers
                self.banks.append(_register(m, f"{self.name}{suffix}", self.type, data[0]))
                continue
            store = memory.Memory(
                shape=shape_of(self.type.dtype),
                depth=self.depth,
                init=data if init is not None else [],
            )
            m.submodules[f"mem_{self.name}{suffix}"] = store
            if not dual:
                self.banks.append((store.read_port(), store.write_port()))
                continue
            # two read-write ports; each read sees the other port's write of the same cycle,
            # which yosys can build around a true dual-port block (DP16KD) with a bypass (read
            # old data across ports it cannot: it fell back to flip-flops). The scheduler
            # never puts a read and a write of one element on the two ports in one cycle.
            writes = (store.write_port(), store.write_port())
            self.banks.append((store.read_port(transparent_for=(writes[1],)), writes[0]))
            self.second.append((store.read_port(transparent_for=(writes[0],)), writes[1]))

    def external(self, groups: list[Any]) -> None:
        self.banks = [(_Read(g, self.type), _Write(g)) for g in groups]

    def _locate(self, index: tuple[int, ...]) -> tuple[int, int]:
        if self.layout is None:
            return 0, _row_major(index, self.type.shape)
        return self.layout.locate(self.type.shape, index)

    def split(self, indices: tuple[Expr, ...], dp: Datapath) -> tuple[Value, Value]:
        """(bank number, address within the bank) of ``indices``, as values."""
        return split_values([dp(i) for i in indices], self.type, self.layout)

    def _port(self, port: int) -> list[tuple[Any, Any]]:
        return self.second if port else self.banks

    def read(
        self,
        m: Module,
        drivers: Any,
        cond: Any,
        access: Any,
        dp: Datapath,
        port: int = 0,
        at: tuple[Value, Value] | None = None,
    ) -> None:
        """Present ``access.indices`` (bank ``access.bank``, ``None``: varies) while ``cond``
        on read port ``port``; ``at``: their (bank, address), computed already."""
        bank, offset = at if at is not None else self.split(access.indices, dp)
        chosen = range(len(self.banks)) if access.bank is None else (access.bank,)
        for k in chosen:
            read, write = self._port(port)[k]
            drivers.value(read.addr, cond, offset)
            if self.second:  # a read-write port: one address for both directions
                drivers.value(write.addr, cond, offset)
            drivers.enable(read.en, cond)
        if access.bank is None and len(self.banks) > 1:
            drivers.sync(self.select(m, port), cond, bank)

    def write(
        self,
        drivers: Any,
        cond: Any,
        access: Any,
        dp: Datapath,
        port: int = 0,
        at: tuple[Value, Value] | None = None,
    ) -> None:
        """Write ``access.value`` to ``access.indices`` while ``cond`` (port ``port``)."""
        bank, offset = at if at is not None else self.split(access.indices, dp)
        data = dp(access.value)
        chosen = range(len(self.banks)) if access.bank is None else (access.bank,)
        for k in chosen:
            read, write = self._port(port)[k]
            drivers.value(write.addr, cond, offset)
            if self.second:
                drivers.value(read.addr, cond, offset)
            drivers.value(write.data, cond, data)
            if access.bank is None and len(self.banks) > 1:
                drivers.enable(write.en, cond, bank == k)
            else:
                drivers.enable(write.en, cond)

    def read_data(self, m: Module, bank: int | None, port: int = 0) -> Value:
        """The read data of ``bank``, or of the bank a dynamic read chose the cycle before."""
        banks = self._port(port)
        if bank is not None:
            return banks[bank][0].data
        sel = self.select(m, port)
        value = banks[-1][0].data
        for k in range(len(banks) - 2, -1, -1):
            value = Mux(sel == k, banks[k][0].data, value)
        return value

    def read_now(self, access: Any, dp: Datapath, port: int = 0) -> Value:
        """The data of a read without latency (register banks) whose bank varies: selected by
        the bank of ``access.indices`` in this cycle, not by ``select`` (the cycle before)."""
        banks = self._port(port)
        bank, _ = self.split(access.indices, dp)
        value = banks[-1][0].data
        for k in range(len(banks) - 2, -1, -1):
            value = Mux(bank == k, banks[k][0].data, value)
        return value

    def select(self, m: Module, port: int = 0) -> Signal:
        """The register that remembers which bank a dynamic read (on ``port``) used."""
        if port not in self.sels:
            name = f"{self.name}_rd_bank" + (f"_p{port}" if port else "")
            self.sels[port] = Signal(range(max(2, len(self.banks))), name=name)
        return self.sels[port]


def split_values(values: list[Value], t: ArrayType, layout: Layout | None) -> tuple[Value, Value]:
    """(bank number, address within the bank) of the element at index ``values``."""
    bank: Value = Const(0, 1)
    offset: Value = Const(0, 1)
    bank_shape = (1,) * len(t.shape) if layout is None else layout.bank_shape(t.shape)
    extents = t.shape if layout is None else layout.bank_extent(t.shape)
    for d, (value, n) in enumerate(zip(values, t.shape)):
        v = value.as_unsigned()[: max(1, (n - 1).bit_length())]
        banks, extent = bank_shape[d], extents[d]
        kind = "none" if layout is None else layout.kinds[d]
        if banks == 1:
            b, o = Const(0, 1), v
        elif kind == "cyclic":
            b, o = v % banks, v // banks
        elif kind == "complete":
            b, o = v, Const(0, 1)
        else:
            b, o = v // extent, v % extent
        bank = _times(bank, banks) + b if d else b
        offset = _times(offset, extent) + o if d else o
    abits = max(1, (prod(extents) - 1).bit_length())
    return bank, offset[:abits]


def flat_split(flat: Value, t: ArrayType, layout: Layout | None) -> tuple[Value, Value]:
    """(bank number, address within the bank) of row-major element number ``flat``. When only
    the last dimension is split cyclically (by a factor dividing it) the bank is ``flat % f``
    and the address ``flat // f``; when only the first is split in blocks, ``flat // s`` and
    ``flat % s`` (``s`` elements per block): one division by a constant, none for a power of
    two, where the general case divides by every dimension (a slow path on the host bus)."""
    kinds = () if layout is None else layout.kinds
    split = [d for d, k in enumerate(kinds) if k != "none"]
    if len(split) == 1 and layout is not None:
        d, n = split[0], t.shape[split[0]]
        banks = layout.banks(d, n)
        abits = max(1, (prod(layout.bank_extent(t.shape)) - 1).bit_length())
        if d == len(t.shape) - 1 and kinds[d] in ("cyclic", "complete") and n % banks == 0:
            return flat % banks, (flat // banks)[:abits]
        if d == 0 and kinds[d] == "block" and n % banks == 0:
            size = prod(t.shape) // banks
            return flat // size, (flat % size)[:abits]
    return split_values(flat_indices(flat, t.shape), t, layout)


def _times(v: Value, k: int) -> Value:
    """``v * k`` for a non-negative ``v``, as shifts and adds (a ``*`` would take a DSP)."""
    return const_product(v, k).as_unsigned() if k != 1 else v


def flat_indices(flat: Value, shape: tuple[int, ...]) -> list[Value]:
    """The per-dimension indices of row-major element number ``flat``."""
    out: list[Value] = []
    rest = flat
    for n in reversed(shape):
        out.insert(0, rest % n)
        rest = rest // n
    return out


class _Port:
    """Port signals of a register bank (the address has one bit and is ignored)."""

    def __init__(self, name: str, t: ArrayType, data: Value | None = None) -> None:
        self.addr = Signal(1, name=f"{name}_addr")
        self.en = Signal(name=f"{name}_en")
        self.data = data if data is not None else Signal(shape_of(t.dtype), name=f"{name}_data")


def _register(m: Module, name: str, t: ArrayType, init: int) -> tuple[_Port, _Port]:
    """One element in a register: reads see its current value (no latency), writes commit
    at the end of the cycle."""
    reg = Signal(shape_of(t.dtype), name=name, init=init)
    write = _Port(f"{name}_wr", t)
    with m.If(write.en):
        m.d.sync += reg.eq(write.data)
    return _Port(f"{name}_rd", t, reg), write


def _indices(shape: tuple[int, ...]) -> Any:
    import itertools

    return itertools.product(*(range(n) for n in shape))


def _row_major(index: tuple[int, ...], shape: tuple[int, ...]) -> int:
    offset = 0
    for i, n in zip(index, shape):
        offset = offset * n + i
    return offset
