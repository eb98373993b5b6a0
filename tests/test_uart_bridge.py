"""The UART bridge (allo_rtl/hw/_uart.py) in Amaranth's simulator, with a real shell behind it.

A line model bit-bangs the host's bytes into ``rx`` and decodes ``tx`` (both 8N1, sampled
mid-bit); frames are built and answers decoded with the host codec (allo_rtl.boards._host).
The kernel ``scale`` (``A[i] *= k``, returns the sum) gives the shell an array, a scalar input
and a scalar output.
"""

from collections import deque

import numpy as np
import pytest
from allo_rtl.boards._host import Answer, AnswerDecoder, Codec
from amaranth.hdl import Elaboratable, Module
from amaranth.lib import memory
from amaranth.sim import Simulator

import allo_rtl as allo
from allo_rtl import BuildError
from allo_rtl._targets import build_amaranth
from allo_rtl.hw._shell import Shell
from allo_rtl.hw._uart import (
    BAD_COMMAND,
    BAD_CRC,
    BAD_LENGTH,
    CMD_WRITE,
    OK,
    SYNC,
    TIMEOUT,
    UartBridge,
    UartRx,
    UartShellTop,
    UartTx,
    crc8,
)
from allo_rtl.ir.types import int32

DIVISOR = 4
TIMEOUT_BYTES = 6
MAX = 8
N = 8


def scale(A: int32[8], k: int32) -> int32:
    total: int32 = 0
    for i in range(8):
        A[i] = A[i] * k
        total += A[i]
    return total


@pytest.fixture(scope="module", params=[1, 2], ids=["latency1", "latency2"])
def shell(request):
    # read latency 2 is the board flow's shell (the bridge waits for the data)
    return Shell(*_kernel(), read_latency=request.param)


def _kernel():
    component = build_amaranth(allo.customize(scale))
    return component, component.info


class Line:
    """Both ends of the UART wires, seen from the host."""

    def __init__(self, rx, tx, divisor=DIVISOR):
        self.rx, self.tx, self.divisor = rx, tx, divisor
        self.outgoing = deque()
        self.received = bytearray()

    async def drive(self, ctx):
        """Background: send queued bytes on ``rx`` (start bit, 8 data bits LSB first, stop)."""
        while True:
            if not self.outgoing:
                await ctx.tick()
                continue
            byte = self.outgoing.popleft()
            for bit in [0, *((byte >> i) & 1 for i in range(8)), 1]:
                ctx.set(self.rx, bit)
                await ctx.tick().repeat(self.divisor)

    async def monitor(self, ctx):
        """Background: decode bytes on ``tx``, sampling each bit in its middle."""
        while True:
            await ctx.tick()
            if ctx.get(self.tx):
                continue
            await ctx.tick().repeat(self.divisor // 2)
            byte = 0
            for i in range(8):
                await ctx.tick().repeat(self.divisor)
                byte |= ctx.get(self.tx) << i
            await ctx.tick().repeat(self.divisor)
            assert ctx.get(self.tx) == 1, "stop bit"
            self.received.append(byte)

    def send(self, data):
        self.outgoing.extend(data)

    async def answer(self, ctx, codec, count=0, max_cycles=20_000):
        """The next answer, decoded; fails after ``max_cycles`` without one."""
        decoder = AnswerDecoder(codec, count)
        for _ in range(max_cycles):
            if self.received:
                data = bytes(self.received[: decoder.needed])
                del self.received[: len(data)]
                answer = decoder.feed(data)
                if answer is not None:
                    return answer
            else:
                await ctx.tick()
        raise AssertionError(f"no answer within {max_cycles} cycles")


def _simulate(top, bench, line):
    sim = Simulator(top)
    sim.add_clock(1e-6)
    sim.add_testbench(line.drive, background=True)
    sim.add_testbench(line.monitor, background=True)
    sim.add_testbench(bench)
    sim.run()


def _run(shell, bench, **options):
    top = UartShellTop(shell, DIVISOR, max_words=MAX, timeout_bytes=TIMEOUT_BYTES, **options)
    line = Line(top.rx, top.tx)
    codec = Codec(top.address_map["word_bits"], MAX)

    async def testbench(ctx):
        await bench(ctx, line, codec, top.address_map)

    _simulate(top, testbench, line)


async def _transfer(ctx, line, codec, frame, count=0):
    line.send(frame)
    return await line.answer(ctx, codec, count)


def test_write_read_words_and_registers(shell):
    async def bench(ctx, line, codec, amap):
        base, k_addr = amap["arrays"]["A"]["base"], amap["scalars"]["k"]["addr"]
        data = [3, 0xFFFFFFFF, 7, 1 << 31, 5, 6, 0x12345678, 9]
        answer = await _transfer(ctx, line, codec, codec.write_frame(base, data))
        assert (answer.status, answer.words) == (OK, ())
        answer = await _transfer(ctx, line, codec, codec.read_frame(base, N), N)
        assert answer == Answer(OK, tuple(data))
        answer = await _transfer(ctx, line, codec, codec.read_frame(base + 2, 3), 3)
        assert answer.words == tuple(data[2:5])
        assert (await _transfer(ctx, line, codec, codec.read_frame(0, 0))).status == OK  # ping
        await _transfer(ctx, line, codec, codec.write_frame(k_addr, [2]))
        assert (await _transfer(ctx, line, codec, codec.read_frame(k_addr, 1), 1)).words == (2,)
        assert (await _transfer(ctx, line, codec, codec.read_frame(1, 2), 2)).words == (0, 0)
        await _transfer(ctx, line, codec, codec.write_frame(0, [1]))  # start
        status, cycles = (await _transfer(ctx, line, codec, codec.read_frame(1, 2), 2)).words
        assert status == 0b10 and 8 <= cycles < 200, (status, cycles)
        result_addr = amap["scalars"]["result"]["addr"]
        result = await _transfer(ctx, line, codec, codec.read_frame(result_addr, 1), 1)
        expected = np.array(data, dtype=np.uint32).view(np.int32).astype(np.int64) * 2
        assert result.words == (int(expected.sum()) & 0xFFFFFFFF,)
        scaled = await _transfer(ctx, line, codec, codec.read_frame(base, N), N)
        assert scaled.words == tuple(int(v) & 0xFFFFFFFF for v in expected)

    _run(shell, bench)


def test_corrupted_write_is_nakked_and_writes_nothing(shell):
    async def bench(ctx, line, codec, amap):
        base = amap["arrays"]["A"]["base"]
        old = list(range(10, 10 + N))
        assert (await _transfer(ctx, line, codec, codec.write_frame(base, old))).status == OK
        frame = bytearray(codec.write_frame(base, [99] * N))
        frame[10] ^= 0x04  # one payload bit
        answer = await _transfer(ctx, line, codec, bytes(frame))
        assert answer.status == BAD_CRC
        bad_crc = bytearray(codec.write_frame(base, [77] * 2))
        bad_crc[-1] ^= 0xFF
        assert (await _transfer(ctx, line, codec, bytes(bad_crc))).status == BAD_CRC
        assert (await _transfer(ctx, line, codec, codec.read_frame(base, N), N)).words == tuple(old)
        # the FIFO was emptied: a good frame afterwards writes exactly its own words
        assert (await _transfer(ctx, line, codec, codec.write_frame(base, [1, 2]))).status == OK
        answer = await _transfer(ctx, line, codec, codec.read_frame(base, N), N)
        assert answer.words == (1, 2, *old[2:])

    _run(shell, bench)


def _raw_frame(body):
    return bytes([SYNC, *body, crc8(bytes(body))])


def test_bad_command_and_length_are_rejected(shell):
    async def bench(ctx, line, codec, amap):
        base = amap["arrays"]["A"]["base"]
        assert (await _transfer(ctx, line, codec, _raw_frame([0x33, 1, 0, 0, 0]))).status == (
            BAD_COMMAND
        )
        too_long = [CMD_WRITE, MAX + 1, base, 0, 0] + [0xEE] * (4 * (MAX + 1))
        assert (await _transfer(ctx, line, codec, _raw_frame(too_long))).status == BAD_LENGTH
        read_long = [ord("R"), MAX + 1, base, 0, 0]
        assert (await _transfer(ctx, line, codec, _raw_frame(read_long))).status == BAD_LENGTH
        answer = await _transfer(ctx, line, codec, codec.read_frame(base, 2), 2)
        assert OK == answer.status and 0xEEEEEEEE not in answer.words

    _run(shell, bench)


def test_garbage_before_a_frame_is_skipped(shell):
    async def bench(ctx, line, codec, amap):
        k_addr = amap["scalars"]["k"]["addr"]
        line.send(b"\x00\xff\x13\x37")
        answer = await _transfer(ctx, line, codec, codec.write_frame(k_addr, [0xCAFE]))
        assert answer.status == OK
        answer = await _transfer(ctx, line, codec, codec.read_frame(k_addr, 1), 1)
        assert answer.words == (0xCAFE,)

    _run(shell, bench)


def test_truncated_frame_times_out_and_the_link_recovers(shell):
    async def bench(ctx, line, codec, amap):
        base = amap["arrays"]["A"]["base"]
        await _transfer(ctx, line, codec, codec.write_frame(base, [5] * N))
        frame = codec.write_frame(base, [6] * N)
        line.send(frame[:9])  # SYNC, header and part of the first word
        answer = await line.answer(ctx, codec, 0, max_cycles=40 * DIVISOR * (TIMEOUT_BYTES + 12))
        assert answer.status == TIMEOUT
        answer = await _transfer(ctx, line, codec, codec.read_frame(base, N), N)
        assert answer.words == (5,) * N
        assert (await _transfer(ctx, line, codec, frame)).status == OK
        answer = await _transfer(ctx, line, codec, codec.read_frame(base, N), N)
        assert answer.words == (6,) * N

    _run(shell, bench)


def test_receiver_rejects_glitches_and_framing_errors():
    rx = UartRx(DIVISOR)
    got, errors = [], []

    async def bench(ctx):
        ctx.set(rx.data.ready, 1)
        await ctx.tick().repeat(4)
        ctx.set(rx.rx, 0)  # a one-cycle glitch: no start bit
        await ctx.tick()
        ctx.set(rx.rx, 1)
        await ctx.tick().repeat(8 * DIVISOR)
        for byte, stop in ((0x5A, 1), (0xC3, 0), (0x81, 1)):
            for bit in [0, *((byte >> i) & 1 for i in range(8)), stop]:
                ctx.set(rx.rx, bit)
                await ctx.tick().repeat(DIVISOR)
            ctx.set(rx.rx, 1)
            await ctx.tick().repeat(2 * DIVISOR)

    async def watch(ctx):
        while True:
            await ctx.tick()
            if ctx.get(rx.data.valid):
                got.append(ctx.get(rx.data.payload))
            errors.extend([1] * ctx.get(rx.error))

    sim = Simulator(rx)
    sim.add_clock(1e-6)
    sim.add_testbench(watch, background=True)
    sim.add_testbench(bench)
    sim.run()
    assert got == [0x5A, 0x81] and errors == [1]


def test_transmitter_sends_8n1():
    tx = UartTx(DIVISOR)
    line = Line(None, tx.tx)

    async def bench(ctx):
        for byte in (0x00, 0xFF, 0xA5):
            ctx.set(tx.data.payload, byte)
            ctx.set(tx.data.valid, 1)
            await ctx.tick().until(tx.data.ready)
            ctx.set(tx.data.valid, 0)
        await ctx.tick().repeat(12 * DIVISOR)

    sim = Simulator(tx)
    sim.add_clock(1e-6)
    sim.add_testbench(line.monitor, background=True)
    sim.add_testbench(bench)
    sim.run()
    assert bytes(line.received) == b"\x00\xff\xa5"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (dict(divisor=3), "UART clock divisor 3 is too small"),
        (dict(addr_bits=25), "the UART bridge carries 24-bit addresses; the bus has 25"),
        (dict(max_words=0), "UART bridge: max_words=0 must be in 1..255"),
    ],
)
def test_bridge_parameters_are_checked(options, message):
    params = dict(word_bits=32, addr_bits=8, divisor=4) | options
    with pytest.raises(BuildError, match=message):
        UartBridge(**params)


class _MemoryBus(Elaboratable):
    """A bridge in front of a plain memory (``bus_rdata``: the data of the previous cycle's
    address), to test word widths the shell of ``scale`` does not have."""

    def __init__(self, word_bits, addr_bits=6):
        self.bridge = UartBridge(word_bits, addr_bits, DIVISOR, max_words=MAX, timeout_bytes=8)
        self.rx, self.tx = self.bridge.rx, self.bridge.tx

    def elaborate(self, platform):
        m = Module()
        b = m.submodules.bridge = self.bridge
        mem = m.submodules.mem = memory.Memory(shape=b.word_bits, depth=1 << b.addr_bits, init=[])
        rd, wr = mem.read_port(), mem.write_port()
        m.d.comb += [rd.addr.eq(b.bus_addr), wr.addr.eq(b.bus_addr), b.bus_rdata.eq(rd.data)]
        m.d.comb += [wr.data.eq(b.bus_wdata), wr.en.eq(b.bus_we)]
        return m


@pytest.mark.parametrize("word_bits", [1, 8, 12, 16, 40])
def test_word_widths(word_bits):
    top = _MemoryBus(word_bits)
    line, codec = Line(top.rx, top.tx), Codec(word_bits, MAX)
    top_word = (1 << word_bits) - 1
    words = [0, top_word, *((i * 0x9E3779B97F >> 3) & top_word for i in range(1, MAX - 1))]

    async def bench(ctx):
        assert (await _transfer(ctx, line, codec, codec.write_frame(9, words))).status == OK
        assert (await _transfer(ctx, line, codec, codec.read_frame(9, MAX), MAX)).words == tuple(
            words
        )
        # bytes above ``word_bits`` are ignored on writes (and read as zero); nothing is
        # written after the frame's words (the buffer still holds older bytes there)
        raw = [CMD_WRITE, 1, 40, 0, 0] + [0xFF] * codec.word_bytes
        assert (await _transfer(ctx, line, codec, _raw_frame(raw))).status == OK
        assert (await _transfer(ctx, line, codec, codec.read_frame(39, 3), 3)).words == (
            0,
            top_word,
            0,
        )

    _simulate(top, bench, line)


def test_shell_read_latency_is_checked():
    with pytest.raises(allo.BuildError, match=r"^read_latency must be 1 or 2, not 3$"):
        Shell(*_kernel(), read_latency=3)
