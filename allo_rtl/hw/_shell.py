"""The shell: a kernel component with its argument memories and one host bus (docs/interface.md).

Address map (word addresses, one element or scalar per word, raw bits zero-extended)::

    0  control   write 1 (bit 0) to start the kernel; ignored while busy; reads 0
    1  status    bit 0 busy, bit 1 done since the last start (read only)
    2  cycles    busy cycles of the last run: done cycle - start cycle (read only)
    3  ...       one word per scalar input (read/write, drives the kernel input), then one per
                 scalar output (read only, latched when the kernel signals done), then the
                 fields of a dataflow kernel's ``watch`` output packed into words (read only)
    then         the arrays, in parameter order (array returns last); each array's base is
                 aligned to its depth rounded up to a power of two, so the element address is
                 the low bits of the bus address

Each array is one ``amaranth.lib.memory.Memory`` with one synchronous, non-transparent read
port and one write port (a simple dual-port block RAM). The kernel owns both ports from the
cycle of its start pulse until its done cycle; otherwise the host bus drives them. Array words
therefore read as undefined while the kernel runs, and host writes to arrays are dropped then.
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Array, Cat, Module, Mux, Signal, Value, unsigned
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from .._errors import BuildError
from ._banks import bank_names, flat_split
from ._info import ArrayPortInfo, KernelInfo

__all__ = ["CONTROL", "CYCLES", "STATUS", "Shell", "address_map"]

CONTROL, STATUS, CYCLES = 0, 1, 2
_FEW_REGISTERS = 16  # register words a one-cycle read multiplexer handles
_REGISTERS = {
    "control": (CONTROL, "w", "write 1 to start the kernel (ignored while busy); reads 0"),
    "status": (STATUS, "r", "bit 0: busy, bit 1: done since the last start"),
    "cycles": (CYCLES, "r", "busy cycles of the last run (done cycle - start cycle)"),
}


def _type_fields(t: Any) -> dict[str, Any]:
    return {
        "dtype": str(t),
        "bits": t.bits,
        "signed": bool(t.signed),
        "fracs": t.fracs,
        "float": bool(t.is_float),
    }


def _array_role(a: ArrayPortInfo) -> str:
    if a.param_index is None:
        return "out"
    if a.return_index is not None:
        return "inout"  # a returned argument: loaded, and read back as the result
    return {(True, True): "inout", (False, True): "out"}.get((a.read, a.written), "in")


def default_word_bits(info: KernelInfo) -> int:
    """``max(32, widest array element or scalar)``."""
    widths = [p.type.bits for p in (*info.scalar_inputs, *info.scalar_outputs)]
    widths += [a.type.dtype.bits for a in info.arrays]
    return max([32, *widths])


def address_map(info: KernelInfo, word_bits: int | None = None) -> dict[str, Any]:
    """The shell's address map as a JSON-serialisable dict (see the module docstring).

    Keys: ``kernel``, ``top`` (the shell's module name), ``word_bits``, ``addr_bits``,
    ``registers`` / ``scalars`` / ``arrays`` (dicts by name, in address order). Scalars have
    ``addr`` and ``role`` (``in`` or ``out``); arrays have ``base``, ``depth``, ``shape``,
    ``span`` (the aligned region size) and ``role`` (``in``, ``out`` or ``inout``); both carry
    the element type (``dtype``, ``bits``, ``signed``, ``fracs``, ``float``). ``watch`` places
    each field of a dataflow kernel's ``watch`` output in a read-only word (``addr``, from bit
    ``lsb``, ``width`` bits, several fields per word; ``kind`` ``task``: bit 0
    finished, bit 1 waiting on a stream; ``fifo``: values held, of ``depth``, in the low
    ``bits`` bits, and the most held since reset above them).
    """
    widest = default_word_bits(info)
    if word_bits is None:
        word_bits = widest
    elif word_bits < widest:
        raise BuildError(
            f"word_bits={word_bits} is narrower than the widest element or scalar of "
            f"{info.name} ({widest} bits)",
            hint=f"leave word_bits unset or use at least {widest}",
        )
    registers = {n: {"addr": a, "access": acc, "doc": d} for n, (a, acc, d) in _REGISTERS.items()}
    scalars: dict[str, Any] = {}
    addr = len(registers)
    for role, ports in (("in", info.scalar_inputs), ("out", info.scalar_outputs)):
        for p in ports:
            scalars[p.name] = {"addr": addr, "role": role, **_type_fields(p.type)}
            addr += 1
    watch: dict[str, Any] = {}
    lsb = 0
    for e in info.watch:  # fields packed into words, none split across two
        if lsb and lsb + e.width > word_bits:
            addr, lsb = addr + 1, 0
        watch[e.name] = {"addr": addr, "lsb": lsb, "width": e.width, "kind": e.kind,
                         "depth": e.depth, "bits": e.width // 2,
                         "gets": list(e.gets), "puts": list(e.puts)}  # fmt: skip
        lsb += e.width
    addr += 1 if lsb else 0
    arrays: dict[str, Any] = {}
    for a in info.arrays:
        span = 1 << (a.depth - 1).bit_length()
        addr = -(-addr // span) * span
        arrays[a.name] = {
            "base": addr,
            "depth": a.depth,
            "shape": list(a.type.shape),
            "span": span,
            "role": _array_role(a),
            **_type_fields(a.type.dtype),
        }
        addr += span
    return {
        "kernel": info.name,
        "top": f"{info.name}_shell",
        "word_bits": word_bits,
        "addr_bits": max(1, (addr - 1).bit_length()),
        "registers": registers,
        "scalars": scalars,
        "watch": watch,
        "arrays": arrays,
    }


def kernel_port(kernel: wiring.Component, group: str, field: str | None = None) -> Value | None:
    """Port ``group`` (``field`` of it) of ``kernel``, nested (``A.rd_addr``) or flat
    (``A__rd_addr``); ``None`` if the kernel has no such port."""
    if field is None:
        port = getattr(kernel, group, None)
    else:
        port = getattr(getattr(kernel, group, None), field, None)
        if port is None:
            port = getattr(kernel, f"{group}__{field}", None)
    return None if port is None else Value.cast(port)


class Shell(wiring.Component):
    """``kernel`` with one memory per array argument, control registers and a host bus.

    Ports: ``bus_addr``, ``bus_wdata``, ``bus_we`` (in); ``bus_rdata`` (out, the data of the
    address presented ``read_latency`` cycles before: 1 by default; 2 registers the read
    multiplexer's inputs, for bus masters that can wait, like the UART bridge); ``busy`` (out:
    the kernel is starting or running) and ``done`` (out: the kernel finished since the last start, a level for LEDs and
    interrupts). ``address_map`` is the dict of :func:`address_map`.
    """

    def __init__(
        self,
        kernel: wiring.Component,
        info: KernelInfo,
        word_bits: int | None = None,
        read_latency: int = 1,
    ) -> None:
        if read_latency not in (1, 2):
            raise BuildError(f"read_latency must be 1 or 2, not {read_latency!r}")
        self.kernel = kernel
        self.info = info
        self.read_latency = read_latency
        self.address_map = address_map(info, word_bits)
        bits, abits = self.address_map["word_bits"], self.address_map["addr_bits"]
        members = {
            "bus_addr": In(abits),
            "bus_wdata": In(bits),
            "bus_we": In(1),
            "bus_rdata": Out(bits),
            "busy": Out(1),
            "done": Out(1),
        }
        if info.stalls:
            members["stalled"] = Out(1)  # a dataflow region is deadlocked, or waits on a stream
        super().__init__(members)

    def elaborate(self, platform: object) -> Module:
        m = Module()
        k = m.submodules.kernel = self.kernel
        start, done_flag, running = Signal(), Signal(), Signal()
        busy, done = kernel_port(k, "busy"), kernel_port(k, "done")
        m.d.comb += [
            running.eq(start | busy),
            kernel_port(k, "start").eq(start),
            self.busy.eq(running),
            self.done.eq(done_flag),
        ]
        go = self.bus_we & (self.bus_addr == CONTROL) & self.bus_wdata[0] & ~running
        cycles = Signal(self.address_map["word_bits"])
        m.d.sync += start.eq(go)
        with m.If(busy):
            m.d.sync += cycles.eq(cycles + 1)
        with m.If(done):
            m.d.sync += done_flag.eq(1)
        with m.If(go):
            m.d.sync += [cycles.eq(0), done_flag.eq(0)]
        words = {STATUS: Cat(running, done_flag), CYCLES: cycles}
        words.update(self._scalars(m, done))
        words.update(self._watch(m))
        self._wdata = self._late(m, self.bus_wdata, "host_wdata")
        arrays = [self._array(m, a, self._owner(m, a.name, go, done)) for a in self.info.arrays]
        self._read_mux(m, words, arrays)
        return m

    def _scalars(self, m: Module, done: Value) -> dict[int, Value]:
        """Scalar registers: inputs written by the host, outputs latched at ``done``."""
        words: dict[int, Value] = {}
        for name, entry in self.address_map["scalars"].items():
            reg = Signal(entry["bits"], name=f"reg_{name}")
            port = kernel_port(self.kernel, name)
            if port is None:
                raise BuildError(f"kernel {self.info.name} has no port `{name}` (KernelInfo)")
            if entry["role"] == "in":
                with m.If(self.bus_we & (self.bus_addr == entry["addr"])):
                    m.d.sync += reg.eq(self.bus_wdata)
                m.d.comb += port.eq(reg)
            else:
                with m.If(done):
                    m.d.sync += reg.eq(port)
            words[entry["addr"]] = reg
        return words

    def _watch(self, m: Module) -> dict[int, Value]:
        """The kernel's ``stalled`` output, and one word per field of its ``watch`` output;
        both registered (a cycle late), which keeps the kernel's wait logic off the paths of
        the host bus."""
        if self.info.stalls:
            m.d.sync += self.stalled.eq(kernel_port(self.kernel, "stalled"))
        if not self.info.watch:
            return {}
        watch = Signal.like(kernel_port(self.kernel, "watch"), name="watch")
        m.d.sync += watch.eq(kernel_port(self.kernel, "watch"))
        words: dict[int, list[Value]] = {}
        for e in self.info.watch:  # in order, so each word is the Cat of its fields
            at = self.address_map["watch"][e.name]["addr"]
            words.setdefault(at, []).append(watch[e.offset : e.offset + e.width])
        return {at: Cat(*fields) for at, fields in words.items()}

    def _owner(self, m: Module, name: str, go: Value, done: Value) -> Signal:
        """A register per array, high while the kernel owns its ports: from the cycle after the
        start is requested (the start pulse) to the kernel's done cycle, like ``start | busy``
        but straight from a flip-flop, not through the kernel's state decoding, since it
        switches every bank's ports."""
        owner = Signal(name=f"{name}_kernel_owns")
        with m.If(done):
            m.d.sync += owner.eq(0)
        with m.If(go):
            m.d.sync += owner.eq(1)
        return owner

    def _array(self, m: Module, a: ArrayPortInfo, running: Value) -> tuple[Value, Value]:
        """Memories of array ``a`` (one per bank); returns (host selects it, read data)."""
        entry = self.address_map["arrays"][a.name]
        low = (entry["span"] - 1).bit_length()
        local = self.bus_addr[:low] if low else Value.cast(0)
        selected = (self.bus_addr >> low) == (entry["base"] >> low)
        names = bank_names(a.name, a.layout, a.type)
        if len(names) == 1:
            bank, offset = Value.cast(0), local
        else:  # the host sees the array flat, row-major: find the bank of its element
            bank, offset = flat_split(local, a.type, a.layout)
        host_bank = Signal(range(max(2, len(names))), name=f"{a.name}_host_bank")
        m.d.sync += host_bank.eq(bank)
        w_offset = self._late(m, offset, f"{a.name}_host_waddr")
        datas = []
        for k, name in enumerate(names):
            hit = selected & (bank == k) & (local < a.depth)
            we = self._late(m, hit & self.bus_we, f"{name}_host_we")
            datas.append(self._bank(m, a, name, entry, (offset, hit), (w_offset, we), running))
        if len(datas) == 1:
            return selected, datas[0]
        return selected, Array(datas)[host_bank]  # a multiplexer tree, not a chain of banks

    def _late(self, m: Module, value: Value, name: str) -> Value:
        """``value`` as host writes use it: registered for bus masters that can wait (read
        latency 2), so that the address decoding has a cycle of its own."""
        if self.read_latency == 1:
            return value
        reg = Signal.like(value, name=name)
        m.d.sync += reg.eq(value)
        return reg

    def _bank(self, m: Module, a: ArrayPortInfo, name: str, entry: dict, read: tuple,
              write: tuple, running: Value) -> Value:  # fmt: skip
        """One bank's memory, shared by the kernel's port group ``name`` and the host
        (``read``, ``write``: the host's (offset, enable) for each port)."""
        depth = a.depth // len(bank_names(a.name, a.layout, a.type))
        mem = memory.Memory(shape=unsigned(entry["bits"]), depth=depth, init=[])
        m.submodules[f"mem_{name}"] = mem
        rd, wr = mem.read_port(), mem.write_port()
        host = [
            rd.addr.eq(read[0]), rd.en.eq(read[1]), wr.addr.eq(write[0]),
            wr.data.eq(self._wdata), wr.en.eq(write[1]),
        ]  # fmt: skip
        kernel = [
            port.eq(_or_zero(kernel_port(self.kernel, name, field)))
            for port, field in (
                (rd.addr, "rd_addr"), (rd.en, "rd_en"),
                (wr.addr, "wr_addr"), (wr.data, "wr_data"), (wr.en, "wr_en"),
            )
        ]  # fmt: skip
        rd_data = kernel_port(self.kernel, name, "rd_data")
        if rd_data is not None:
            m.d.comb += rd_data.eq(rd.data)
        with m.If(running):
            m.d.comb += kernel
        with m.Else():
            m.d.comb += host
        return rd.data

    def _read_mux(
        self, m: Module, words: dict[int, Value], arrays: list[tuple[Value, Value]]
    ) -> None:
        """``bus_rdata``: registers are read into a register (zero when an array is read);
        arrays from their read port, each gated by a registered one-hot select and OR-ed, so
        block RAM data pass through as few LUT levels as possible."""
        reg_data = Signal.like(self.bus_rdata, name="reg_rdata")
        # many registers (dataflow watch words) with read latency 2: decode a registered
        # address, so the wide multiplexer has a cycle of its own
        early = self.read_latency == 2 and len(words) > _FEW_REGISTERS
        addr = self.bus_addr
        if early:
            addr = Signal.like(self.bus_addr, name="reg_raddr")
            m.d.sync += addr.eq(self.bus_addr)
        # the register words fill addresses 0 .. n-1: a multiplexer tree indexed by the low
        # address bits (log depth, where a case per word compared every address bit)
        n = max(words) + 1
        table = Array(Value.cast(words.get(at, 0)) for at in range(n))
        index = addr[: max(1, (n - 1).bit_length())]
        m.d.sync += reg_data.eq(Mux(addr < n, table[index], 0))
        terms = [reg_data]
        for i, (selected, data) in enumerate(arrays):
            chosen = Signal(name=f"rdata_sel{i}")
            m.d.sync += chosen.eq(selected)
            terms.append(Mux(chosen, data, 0))
        if self.read_latency == 2:  # every term registered: block RAM data -> one LUT -> FF
            staged = [Signal.like(self.bus_rdata, name=f"rdata_term{i}") for i in range(len(terms))]
            m.d.sync += [reg.eq(term) for reg, term in zip(staged, terms)]
            terms = [reg_data, *staged[1:]] if early else staged
        total = terms[0]
        for term in terms[1:]:
            total = total | term
        m.d.comb += self.bus_rdata.eq(total)


def _or_zero(port: Value | None) -> Value:
    return Value.cast(0) if port is None else port
