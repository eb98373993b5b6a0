"""The UART host link: an 8N1 UART and a framed bridge from it to the shell's host bus.

The protocol is documented in docs/uart_protocol.md; the constants below are its single source
(the host side, ``allo_rtl.boards._host``, imports them). In short, the host sends::

    SYNC CMD LEN ADDR0 ADDR1 ADDR2 [LEN words, write only] CRC

and the bridge answers every frame it saw the SYNC byte of with::

    SYNC STATUS [LEN words, a successful read only] CRC

Words are ``ceil(word_bits / 8)`` bytes and addresses ``ADDR_BYTES`` bytes, little-endian. The
CRC is CRC-8 (polynomial 0x07, initial value 0, MSB first, no final XOR) over every byte after
the SYNC byte. A write frame's words are buffered and written to the bus only once the frame's
CRC matched, so a corrupted frame is answered with a NAK and writes nothing.
"""

from __future__ import annotations

from functools import reduce
from operator import or_, xor
from typing import Any

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import cdc, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from .._errors import BuildError
from ._shell import Shell

__all__ = [
    "ADDR_BYTES",
    "BAD_COMMAND",
    "BAD_CRC",
    "BAD_LENGTH",
    "CMD_READ",
    "CMD_WRITE",
    "CRC_POLY",
    "DEFAULT_TIMEOUT_BYTES",
    "MAX_WORDS",
    "OK",
    "SYNC",
    "TIMEOUT",
    "UartBridge",
    "UartRx",
    "UartShellTop",
    "UartTx",
    "crc8",
    "word_bytes",
]

SYNC = 0xA5
CMD_WRITE = 0x57  # "W"
CMD_READ = 0x52  # "R"
OK, BAD_CRC, BAD_COMMAND, BAD_LENGTH, TIMEOUT = 0x00, 0x01, 0x02, 0x03, 0x04
ADDR_BYTES = 3
MAX_WORDS = 32
CRC_POLY = 0x07
DEFAULT_TIMEOUT_BYTES = 256
MIN_DIVISOR = 4


def crc8(data: bytes, crc: int = 0) -> int:
    """CRC-8 of ``data`` (polynomial 0x07, MSB first, no reflection, no final XOR), continuing
    from ``crc``. ``crc8(b"123456789") == 0xF4``."""
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ CRC_POLY if crc & 0x80 else crc << 1) & 0xFF
    return crc


def word_bytes(word_bits: int) -> int:
    """Bytes per word on the link: ``ceil(word_bits / 8)``."""
    return -(-word_bits // 8)


def _crc8_next(crc: Value, byte: Value) -> Value:
    """The CRC after ``byte``, as XOR terms: one byte of CRC-8 is linear in ``crc ^ byte``."""
    x = crc ^ byte
    bits = []
    for i in range(8):
        taps = [x[j] for j in range(8) if crc8(bytes([1 << j])) >> i & 1]
        bits.append(reduce(xor, taps) if taps else Value.cast(0))
    return Cat(*bits)


def _divisor_error(divisor: int) -> BuildError | None:
    if isinstance(divisor, int) and divisor >= MIN_DIVISOR:
        return None
    return BuildError(
        f"UART clock divisor {divisor!r} is too small: the receiver samples mid-bit and "
        f"needs at least {MIN_DIVISOR} clock cycles per bit",
        hint="divisor = clock_hz // baud; use a lower baud rate or a faster clock",
    )


def _bridge_error(addr_bits: int, max_words: int, timeout_bytes: int) -> BuildError | None:
    if not 1 <= addr_bits <= 8 * ADDR_BYTES:
        return BuildError(
            f"the UART bridge carries {8 * ADDR_BYTES}-bit addresses; the bus has "
            f"{addr_bits} address bits",
            hint="split the design or widen ADDR_BYTES in allo_rtl/hw/_uart.py",
        )
    if not 1 <= max_words <= 255 or timeout_bytes < 1:
        return BuildError(
            f"UART bridge: max_words={max_words} must be in 1..255 and "
            f"timeout_bytes={timeout_bytes} at least 1",
            hint=f"the defaults are max_words={MAX_WORDS}, timeout_bytes={DEFAULT_TIMEOUT_BYTES}",
        )
    return None


def _refuse(component: wiring.Component, error: BuildError | None) -> None:
    """Raise ``error`` (if any) from a constructor, without Amaranth's warning that the
    half-built component was never elaborated."""
    if error is not None:
        component._MustUse__silence = True  # type: ignore[attr-defined]
        raise error


def _down_counter(cycles: int, name: str) -> Signal:
    """A timer that counts down every cycle and is reloaded with ``cycles - 2``: its top bit
    (the sign) rises exactly ``cycles`` cycles after a reload, a register bit, no compare."""
    return Signal((cycles - 2).bit_length() + 1, name=name)


class UartRx(wiring.Component):
    """8N1 receiver for the asynchronous pin ``rx`` (idle high), ``divisor`` clocks per bit.

    ``rx`` passes a two-flop synchroniser. A falling edge starts a byte; the start bit is
    sampled again half a bit later and a high level there is a glitch (ignored). Data bits are
    sampled mid-bit, LSB first. A byte with a high stop bit is offered on the ``data`` stream
    (``payload`` is a register that holds until the next byte; ``valid`` holds until ``ready``;
    a byte not taken before the next one arrives is overwritten); a low stop bit pulses
    ``error``, drops the byte and waits for the line to go high again.
    """

    def __init__(self, divisor: int) -> None:
        _refuse(self, _divisor_error(divisor))
        self.divisor = divisor
        super().__init__({"rx": In(1, init=1), "data": Out(stream.Signature(8)), "error": Out(1)})

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        line, before = Signal(init=1), Signal(init=1, name="before")  # ``before``: one cycle ago
        m.submodules.sync = cdc.FFSynchronizer(self.rx, line, init=1)
        # bit periods start at the falling edge; ``mid`` (a registered compare) marks their
        # middles. One reload value: iCE40 packs the timer's carry chain unbroken.
        timer, mid = _down_counter(self.divisor, "timer"), Signal(name="mid")
        idle, first = Signal(init=1, name="idle"), Signal(name="first")  # first: the start bit
        count = Signal(5, name="count")  # samples left - 2: the stop bit at -1
        shift, byte = Signal(8), Signal(8)
        m.d.comb += self.data.payload.eq(byte)
        m.d.sync += [before.eq(line), self.error.eq(0)]
        m.d.sync += timer.eq(Mux(idle | timer[-1], self.divisor - 2, timer - 1))
        m.d.sync += mid.eq(~idle & (timer == self.divisor - self.divisor // 2))
        with m.If(self.data.ready):
            m.d.sync += self.data.valid.eq(0)
        with m.If(idle):
            m.d.sync += [count.eq(8), first.eq(1)]
            with m.If(before & ~line):  # an edge: a line held low after an error waits
                m.d.sync += idle.eq(0)
        with m.Elif(mid):  # a sample
            m.d.sync += [shift.eq(Cat(shift[1:], line)), count.eq(count - 1), first.eq(0)]
            with m.If(first & line):
                m.d.sync += idle.eq(1)  # a glitch, not a start bit
            with m.If(count[-1]):  # the stop bit
                m.d.sync += idle.eq(1)
                with m.If(line):
                    m.d.sync += [byte.eq(shift), self.data.valid.eq(1)]
                with m.Else():
                    m.d.sync += self.error.eq(1)
        return m


class UartTx(wiring.Component):
    """8N1 transmitter: takes bytes from the ``data`` stream and sends them on ``tx`` (a
    register, idle high), ``divisor`` clocks per bit; ``ready`` is high while idle."""

    def __init__(self, divisor: int) -> None:
        _refuse(self, _divisor_error(divisor))
        self.divisor = divisor
        super().__init__({"data": In(stream.Signature(8)), "tx": Out(1, init=1)})

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        timer = _down_counter(self.divisor, "timer")
        left = Signal(5, name="left")  # bits to send - 1
        shift = Signal(9)  # data bits, then the stop bit
        m.d.sync += timer.eq(timer - 1)
        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += self.data.ready.eq(1)
                with m.If(self.data.valid):
                    m.d.sync += [self.tx.eq(0), shift.eq(Cat(self.data.payload, 1))]
                    m.d.sync += [timer.eq(self.divisor - 2), left.eq(8)]
                    m.next = "SEND"
            with m.State("SEND"):
                with m.If(timer[-1] & left[-1]):
                    m.next = "IDLE"  # the stop bit has lasted a whole bit
                with m.Elif(timer[-1]):
                    m.d.sync += [self.tx.eq(shift[0]), shift.eq(Cat(shift[1:], 1))]
                    m.d.sync += [timer.eq(self.divisor - 2), left.eq(left - 1)]
        return m


_PARSING = ("CMD", "LEN", "ADDR", "PAYLOAD", "CHECK")
_ANSWER = ("ANSWER_SYNC", "ANSWER_STATUS", "ANSWER_DATA", "ANSWER_CRC", "ANSWER_END")
_STATES = ("HUNT", *_PARSING, "EXECUTE", *_ANSWER)


class _Regs:
    """The bridge's registers, strobes and sub-components, shared by its helpers. The states
    are one-hot (a register each). Counters that end a loop count down to -1: their sign bit
    is the end condition, a register."""

    def __init__(self, bridge: UartBridge) -> None:
        lanes = bridge.word_bytes
        self.state = {s: Signal(name=f"in_{s.lower()}", init=s == "HUNT") for s in _STATES}
        self.parsing = Signal()  # in one of _PARSING (a register too)
        self.got = Signal()  # a byte arrived (the receiver's valid, one cycle later)
        self.is_sync = Signal()  # the byte is SYNC (registered with ``got``)
        self.crc_hit = Signal()  # the byte equals the CRC of the bytes before it (likewise)
        self.is_write = Signal()
        self.cmd_ok = Signal()  # CMD is write or read
        self.too_long = Signal()  # LEN > max_words
        self.crc_bad = Signal()  # the frame's CRC byte did not match
        self.timed_out = Signal()  # the frame was abandoned
        self.reading = Signal()  # the frame is a good read: answer its words
        self.status = Signal(3)  # the answer's status (from the flags above)
        self.crc, self.crc_next = Signal(8, name="crc"), Signal(8, name="crc_next")
        self.last = Signal(9)  # LEN - 1; bit 8 set: LEN = 0
        self.left = Signal(9)  # words left - 1; bit 8 set: none
        self.alane = Signal(ADDR_BYTES, init=1)  # one-hot: the address byte expected
        self.lane = Signal(lanes, init=1)  # one-hot: the byte of the word being moved
        self.rewind = Signal()  # strobe: left = last, index = 0, lane = first
        self.advance = Signal()  # strobe: a byte of the frame's words is moved
        self.sending = Signal()  # strobe: a read word's byte is offered (if ``left`` >= 0)
        self.payload_got = Signal()  # a PAYLOAD byte arrived (``got`` in PAYLOAD)
        self.timer = Signal(range(bridge.timeout_cycles))  # cycles since the last byte
        self.expired = Signal()  # it reached ``timeout_cycles`` while parsing (a compare)
        self.timeout = Signal()  # strobe: ``expired`` and no byte: abandon the frame
        depth = 1 << (bridge.max_words * lanes - 1).bit_length()
        self.index = Signal(range(depth))  # buffer address
        self.issued = Signal()  # the buffer's read data arrive in the next cycle
        self.issued_last = Signal()  # ... and complete a word
        self.wbuf = Signal(8 * lanes)  # the bus write data, assembled from buffered bytes
        self.rdata = Signal(bridge.word_bits)  # bus read data, registered and held
        self.obyte, self.ovalid = Signal(8, name="obyte"), Signal(name="ovalid")  # offered
        self.step = Signal()  # a read word was sent: the next address goes out
        self.rx = UartRx(bridge.divisor)
        self.tx = UartTx(bridge.divisor)
        self.buffer = memory.Memory(shape=8, depth=depth, init=[])
        self.rd, self.wr = self.buffer.read_port(), self.buffer.write_port()


class UartBridge(wiring.Component):
    """A UART (8N1, ``divisor`` clocks per bit) that runs the framed protocol of
    docs/uart_protocol.md as master of a host bus of ``word_bits`` data and ``addr_bits``
    address bits.

    Ports: ``rx`` (in, the UART receive pin, idle high), ``tx`` (out, idle high), ``bus_addr``,
    ``bus_wdata``, ``bus_we`` (out) and ``bus_rdata`` (in: the data of the address presented in
    the previous cycle, as the shell returns it). A frame holds at most ``max_words`` words.
    A gap of ``timeout_bytes`` byte times (10 bits each) inside a frame abandons it and
    answers ``TIMEOUT``. Bytes arriving while the bridge executes or answers a frame are
    dropped: the host waits for each answer before sending the next frame.

    Bus timing: ``bus_addr``, ``bus_wdata`` and ``bus_we`` are registers, and ``bus_rdata`` is
    registered before use, so no path runs from the bus through the bridge's logic.
    ``bus_addr`` also changes while ``bus_we`` is low (it receives the frame's address bytes;
    reads have no side effects) and ``bus_wdata`` is only meaningful while ``bus_we`` is high.

    Write buffer: a frame's data bytes go into a byte memory from address 0, and only a frame
    whose CRC matched (and whose command and length are valid) is executed, by reading back
    exactly its own LEN words, a byte per cycle, and writing each word to the bus once it is
    complete (a word every ``word_bytes`` cycles). There is nothing to flush: the bytes of a
    corrupted, too long or timed-out frame stay in the memory unused and are overwritten by
    the next frame before they could be executed.
    """

    def __init__(
        self,
        word_bits: int,
        addr_bits: int,
        divisor: int,
        *,
        max_words: int = MAX_WORDS,
        timeout_bytes: int = DEFAULT_TIMEOUT_BYTES,
    ) -> None:
        _refuse(self, _divisor_error(divisor) or _bridge_error(addr_bits, max_words, timeout_bytes))
        self.word_bits, self.addr_bits, self.divisor = word_bits, addr_bits, divisor
        self.word_bytes = word_bytes(word_bits)
        self.max_words = max_words
        self.timeout_cycles = timeout_bytes * 10 * divisor
        super().__init__(
            {
                "rx": In(1, init=1),
                "tx": Out(1, init=1),
                "bus_addr": Out(addr_bits),
                "bus_wdata": Out(word_bits),
                "bus_we": Out(1),
                "bus_rdata": In(word_bits),
            }
        )

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        r = _Regs(self)
        m.submodules.rx, m.submodules.tx, m.submodules.buffer = r.rx, r.tx, r.buffer
        byte = r.rx.data.payload  # a register, stable long after ``got``
        m.d.comb += [r.rx.rx.eq(self.rx), self.tx.eq(r.tx.tx), r.rx.data.ready.eq(1)]
        m.d.comb += [r.tx.data.valid.eq(r.ovalid), r.tx.data.payload.eq(r.obyte)]
        m.d.comb += r.timeout.eq(r.expired & ~r.got)
        m.d.sync += [r.got.eq(r.rx.data.valid), r.is_sync.eq(byte == SYNC)]
        m.d.sync += r.crc_hit.eq(byte == r.crc)
        moves = self._moves(r)
        for name, bit in r.state.items():  # one-hot: enter, or stay unless leaving
            enter = [r.state[src] & cond for src, cond, dst in moves if dst == name]
            leave = [cond for src, cond, dst in moves if src == name]
            m.d.sync += bit.eq(reduce(or_, enter) | bit & ~reduce(or_, leave))
        self._frame(m, r)
        self._counters(m, r)
        self._bus(m, r)
        self._answer(m, r)
        return m

    def _moves(self, r: _Regs) -> list[tuple[str, Value, str]]:
        """The state machine's transitions (source, condition, target). A frame: HUNT for SYNC,
        CMD, LEN, ADDR (3 bytes), PAYLOAD (writes), CHECK the CRC byte; EXECUTE a good write;
        ANSWER_SYNC, ANSWER_STATUS, ANSWER_DATA (a good read), ANSWER_CRC, ANSWER_END (the
        CRC was taken). Any parsing state times out. The conditions leaving a state are
        exclusive."""
        got, idle, done, addr_done = r.got, ~r.ovalid, r.left[-1], r.got & r.alane[-1]
        execute = r.crc_hit & r.cmd_ok & ~r.too_long & r.is_write
        return [
            ("HUNT", got & r.is_sync, "CMD"),
            ("CMD", got, "LEN"),
            ("LEN", got, "ADDR"),
            ("ADDR", addr_done & r.is_write, "PAYLOAD"),
            ("ADDR", addr_done & ~r.is_write, "CHECK"),
            ("PAYLOAD", done & ~r.expired, "CHECK"),  # (never both: kept exclusive)
            ("CHECK", got & execute, "EXECUTE"),
            ("CHECK", got & ~execute, "ANSWER_SYNC"),
            *((name, r.timeout, "ANSWER_SYNC") for name in _PARSING),
            ("EXECUTE", done, "ANSWER_SYNC"),  # (the last word is still on its way)
            ("ANSWER_SYNC", idle, "ANSWER_STATUS"),
            ("ANSWER_STATUS", idle & r.reading, "ANSWER_DATA"),
            ("ANSWER_STATUS", idle & ~r.reading, "ANSWER_CRC"),
            ("ANSWER_DATA", done, "ANSWER_CRC"),
            ("ANSWER_CRC", idle, "ANSWER_END"),
            ("ANSWER_END", idle, "HUNT"),
        ]

    def _frame(self, m: Module, r: _Regs) -> None:
        """The frame's fields and flags, taken as its bytes arrive; the address bytes go
        straight into ``bus_addr``."""
        s, byte, got = r.state, r.rx.data.payload, r.got
        start = s["HUNT"] & got & r.is_sync
        m.d.sync += r.parsing.eq(start | r.parsing & ~(s["CHECK"] & got) & ~r.timeout)
        with m.If(start):
            m.d.sync += [r.timed_out.eq(0), r.reading.eq(0)]
        with m.If(s["CMD"] & got):
            m.d.sync += r.is_write.eq(byte == CMD_WRITE)
            m.d.sync += r.cmd_ok.eq((byte == CMD_WRITE) | (byte == CMD_READ))
        with m.If(s["LEN"] & got):
            m.d.sync += [r.last.eq(byte - 1), r.too_long.eq(byte > self.max_words)]
            m.d.sync += r.alane.eq(1)
        with m.If(s["ADDR"] & got):
            for k in range(ADDR_BYTES):
                bits = self.bus_addr[8 * k : 8 * k + 8]
                if len(bits):
                    with m.If(r.alane[k]):
                        m.d.sync += bits.eq(byte)
            m.d.sync += r.alane.eq(r.alane.rotate_left(1))
        with m.If(s["CHECK"] & got):
            good_read = r.crc_hit & r.cmd_ok & ~r.too_long & ~r.is_write
            m.d.sync += [r.crc_bad.eq(~r.crc_hit), r.reading.eq(good_read)]
        with m.If(r.timeout):
            m.d.sync += r.timed_out.eq(1)

    def _counters(self, m: Module, r: _Regs) -> None:
        """The counters of the frame's words (strobes ``rewind`` and ``advance``), the timeout
        timer (restarted by each byte) and the CRC (of the bytes received while parsing, of
        the bytes offered while answering)."""
        s = r.state
        # (EXECUTE and ANSWER_DATA advance once more when ``left`` is -1: harmless)
        m.d.comb += r.sending.eq(s["ANSWER_DATA"] & ~r.ovalid)
        m.d.sync += r.payload_got.eq(r.rx.data.valid & s["PAYLOAD"])
        m.d.comb += r.rewind.eq(s["ADDR"] | s["CHECK"])
        m.d.comb += r.advance.eq(r.payload_got | s["EXECUTE"] | r.sending)
        with m.If(r.rewind):
            m.d.sync += [r.left.eq(r.last), r.index.eq(0), r.lane.eq(1)]
        with m.Elif(r.advance):
            m.d.sync += [r.index.eq(r.index + 1), r.lane.eq(r.lane.rotate_left(1))]
            with m.If(r.lane[-1]):
                m.d.sync += r.left.eq(r.left - 1)
        restart = r.got | ~r.parsing
        # (counting up from 0: clearing it uses the flip-flops' reset input, a compare is cheap)
        m.d.sync += r.timer.eq(Mux(restart, 0, r.timer + 1))
        m.d.sync += r.expired.eq(r.parsing & ~r.got & (r.timer == self.timeout_cycles - 1))
        m.d.comb += r.crc_next.eq(_crc8_next(r.crc, Mux(r.ovalid, r.obyte, r.rx.data.payload)))
        with m.If(s["HUNT"] | s["ANSWER_STATUS"] & ~r.ovalid):
            m.d.sync += r.crc.eq(0)
        with m.Elif(r.parsing & r.got | r.ovalid & r.tx.data.ready):
            m.d.sync += r.crc.eq(r.crc_next)

    def _bus(self, m: Module, r: _Regs) -> None:
        """The buffer and the bus registers. PAYLOAD writes the frame's bytes into the buffer;
        EXECUTE reads them back, one per cycle, ``wbuf`` assembles them and each complete word
        is written, after which ``bus_addr`` steps. Read data are held while a word's bytes
        are sent."""
        execute = r.state["EXECUTE"]
        m.d.comb += [r.wr.addr.eq(r.index), r.wr.data.eq(r.rx.data.payload)]
        m.d.comb += [r.wr.en.eq(r.payload_got), r.rd.addr.eq(r.index)]
        m.d.sync += [r.issued.eq(execute), r.issued_last.eq(execute & r.lane[-1] & ~r.left[-1])]
        with m.If(r.issued):
            m.d.sync += r.wbuf.eq(Cat(r.wbuf[8:], r.rd.data))
        m.d.comb += self.bus_wdata.eq(r.wbuf)
        m.d.sync += [self.bus_we.eq(r.issued_last), r.step.eq(r.sending & r.lane[-1])]
        with m.If(self.bus_we | r.step):
            m.d.sync += self.bus_addr.eq(self.bus_addr + 1)
        # bus_rdata goes into a plain register first (no logic between the shell's read
        # multiplexer and a flip-flop); the word is taken from it until its first byte is sent,
        # at least a byte time (10 x divisor cycles) after its address went out
        raw = Signal.like(r.rdata, name="rdata_raw")
        m.d.sync += raw.eq(self.bus_rdata)
        with m.If(r.lane[0] & ~r.sending):
            m.d.sync += r.rdata.eq(raw)

    def _answer(self, m: Module, r: _Regs) -> None:
        """The transmitter's slot: each answer state offers its byte when the slot is empty
        (ANSWER_DATA one per byte of the words read, LSB first). The byte is an AND-OR of
        registers selected by the one-hot states and lanes."""
        s = r.state
        status = Mux(
            r.crc_bad, BAD_CRC, Mux(~r.cmd_ok, BAD_COMMAND, Mux(r.too_long, BAD_LENGTH, OK))
        )
        m.d.sync += r.status.eq(Mux(r.timed_out, TIMEOUT, status))
        lanes = Cat(r.rdata, Const(0, 8 * self.word_bytes - self.word_bits))
        sources = [
            (s["ANSWER_SYNC"], SYNC),
            (s["ANSWER_STATUS"], r.status),
            (s["ANSWER_CRC"], r.crc),
        ]
        sources += [
            (s["ANSWER_DATA"] & r.lane[k], lanes[8 * k : 8 * k + 8]) for k in range(len(r.lane))
        ]
        wants = (
            s["ANSWER_SYNC"] | s["ANSWER_STATUS"] | s["ANSWER_CRC"] | s["ANSWER_DATA"] & ~r.left[-1]
        )
        m.d.sync += r.ovalid.eq(Mux(r.ovalid, ~r.tx.data.ready, wants))
        with m.If(~r.ovalid):
            m.d.sync += r.obyte.eq(reduce(or_, (Mux(sel, value, 0) for sel, value in sources)))


class UartShellTop(wiring.Component):
    """A board top: ``shell`` (an :class:`~allo_rtl.hw._shell.Shell`) behind a
    :class:`UartBridge` sized from its address map, ``divisor = clock_hz // baud``.

    Ports: ``rx`` (in, idle high), ``tx`` (out), ``busy`` and ``done`` (out, the shell's, for
    LEDs). ``max_words`` and ``timeout_bytes`` are passed to the bridge.
    """

    def __init__(
        self,
        shell: Shell,
        divisor: int,
        *,
        max_words: int = MAX_WORDS,
        timeout_bytes: int = DEFAULT_TIMEOUT_BYTES,
    ) -> None:
        self.shell = shell
        self.address_map = shell.address_map
        try:
            self.bridge = UartBridge(
                self.address_map["word_bits"],
                self.address_map["addr_bits"],
                divisor,
                max_words=max_words,
                timeout_bytes=timeout_bytes,
            )
        except BuildError as e:
            _refuse(self, e)
        super().__init__({"rx": In(1, init=1), "tx": Out(1), "busy": Out(1), "done": Out(1)})

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        shell, bridge = self.shell, self.bridge
        m.submodules.shell, m.submodules.bridge = shell, bridge
        m.d.comb += [
            bridge.rx.eq(self.rx),
            self.tx.eq(bridge.tx),
            shell.bus_addr.eq(bridge.bus_addr),
            shell.bus_wdata.eq(bridge.bus_wdata),
            shell.bus_we.eq(bridge.bus_we),
            bridge.bus_rdata.eq(shell.bus_rdata),
            self.busy.eq(shell.busy),
            self.done.eq(shell.done),
        ]
        return m
