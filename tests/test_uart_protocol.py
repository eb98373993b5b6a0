"""The host side of the UART link (allo_rtl/boards/_host.py), without hardware.

The frame codec against hand-written bytes; ``BoardLink`` and ``run_kernel`` against
``FakeBoard``, a pure-Python model of the bridge and the shell's bus that can NAK frames or stay
silent. The bridge itself is tested in test_uart_bridge.py, the whole link in test_uart_e2e.py.
"""

import sys
from pathlib import Path

import numpy as np
import pytest
from allo_rtl.boards._host import (
    MAX_SKIPPED,
    Answer,
    AnswerDecoder,
    BoardLink,
    Codec,
    FrameError,
    LinkError,
    Request,
    SerialTransport,
    run_kernel,
)

import allo_rtl as allo
from allo_rtl import AlloRTLError, ArgumentError, ArgumentTypeError, BuildError
from allo_rtl._targets import build_design
from allo_rtl.hw._uart import (
    BAD_CRC,
    CMD_READ,
    CMD_WRITE,
    OK,
    SYNC,
    TIMEOUT,
    crc8,
    word_bytes,
)
from allo_rtl.ir.types import Fixed, int8, int32

# -- the codec -------------------------------------------------------------------------------


def test_crc8_check_value():
    assert crc8(b"123456789") == 0xF4  # CRC-8 (poly 0x07, init 0): the catalogue check value
    assert crc8(b"") == 0
    assert crc8(b"6789", crc8(b"12345")) == 0xF4


@pytest.mark.parametrize(("bits", "size"), [(1, 1), (8, 1), (9, 2), (32, 4), (33, 5), (64, 8)])
def test_word_bytes(bits, size):
    assert word_bytes(bits) == size
    assert len(Codec(bits).pack([(1 << bits) - 1])) == size


def test_frame_layouts():
    codec = Codec(32)
    body = bytes([CMD_WRITE, 2, 0x56, 0x34, 0x12, 0x44, 0x33, 0x22, 0x11, 0xFF, 0, 0, 0])
    assert codec.write_frame(0x123456, [0x11223344, 0xFF]) == bytes([SYNC]) + body + bytes(
        [crc8(body)]
    )
    assert codec.read_frame(16, 3) == bytes([SYNC, CMD_READ, 3, 16, 0, 0, crc8(b"R\x03\x10\0\0")])
    answer = Codec(12).answer_frame(OK, [0xABC])
    assert answer == bytes([SYNC, OK, 0xBC, 0x0A, crc8(bytes([OK, 0xBC, 0x0A]))])


def test_the_documented_example():
    doc = (Path(__file__).parent.parent / "docs" / "uart_protocol.md").read_text()
    assert Codec(32).write_frame(16, [1, 2]).hex(" ").upper() in doc
    assert Codec(32).answer_frame(OK).hex(" ").upper() in doc


def test_request_round_trip_and_every_single_bit_error_is_detected():
    codec = Codec(16, max_words=4)
    frame = codec.write_frame(300, [1, 0xFFFF, 0x8000])
    assert codec.parse_request(frame) == Request(CMD_WRITE, 300, 3, (1, 0xFFFF, 0x8000))
    assert codec.parse_request(codec.read_frame(7, 4)) == Request(CMD_READ, 7, 4)
    for i in range(1, len(frame)):
        for bit in range(8):
            bad = bytearray(frame)
            bad[i] ^= 1 << bit
            with pytest.raises(FrameError):
                codec.parse_request(bytes(bad))


def test_request_errors():
    codec = Codec(8, max_words=2)
    with pytest.raises(FrameError, match="^not a frame: 00 01$"):
        codec.parse_request(b"\x00\x01")
    unknown = bytes([SYNC, 0x33, 0, 0, 0, 0])
    with pytest.raises(FrameError, match="^unknown command 0x33$"):
        codec.parse_request(unknown + bytes([crc8(unknown[1:])]))
    long = bytes([CMD_READ, 3, 0, 0, 0])
    with pytest.raises(FrameError, match=r"^3 words in one frame; at most 2$"):
        codec.parse_request(bytes([SYNC]) + long + bytes([crc8(long)]))


def test_encoding_errors():
    codec = Codec(8, max_words=4)
    with pytest.raises(ArgumentError) as e:
        codec.write_frame(0, [256])
    assert str(e.value) == (
        "word 256 does not fit the 8-bit bus\n"
        "hint: pass raw unsigned words (allo_rtl.sim._convert.to_words converts)"
    )
    with pytest.raises(ArgumentError) as e:
        codec.read_frame(0, 5)
    assert str(e.value) == (
        "a frame carries 0 to 4 words, not 5\nhint: BoardLink splits longer transfers into frames"
    )
    with pytest.raises(ArgumentError, match=r"^address 16777216 does not fit 3 bytes$"):
        codec.read_frame(1 << 24, 1)


def _decode(codec, data, count, step=1):
    decoder = AnswerDecoder(codec, count)
    for i in range(0, len(data), step):
        answer = decoder.feed(data[i : i + step])
        if answer is not None:
            return answer
    return None


def test_answers_decode_incrementally_and_skip_stray_bytes():
    codec = Codec(32)
    data = codec.answer_frame(OK, [1, 2**32 - 1])
    assert _decode(codec, data, 2) == Answer(OK, (1, 2**32 - 1))
    assert _decode(codec, b"\x00\x13" + data, 2, step=3) == Answer(OK, (1, 2**32 - 1))
    assert _decode(codec, codec.answer_frame(BAD_CRC), 2) == Answer(BAD_CRC)  # a NAK: no data
    assert _decode(codec, data[:-1], 2) is None
    decoder = AnswerDecoder(codec, 0)
    assert decoder.feed(codec.answer_frame(TIMEOUT) + b"\x01\x02") == Answer(TIMEOUT)
    assert decoder.rest == b"\x01\x02"


def test_corrupted_answers_are_rejected():
    codec = Codec(32)
    bad = bytearray(codec.answer_frame(OK, [5]))
    bad[2] ^= 1
    with pytest.raises(FrameError, match=r"^answer checksum 0x[0-9a-f]{2} != 0x[0-9a-f]{2}$"):
        _decode(codec, bytes(bad), 1)
    with pytest.raises(FrameError, match="^unknown status 0x7f in an answer$"):
        _decode(codec, bytes([SYNC, 0x7F]), 0)
    with pytest.raises(FrameError, match=f"^no SYNC byte in {MAX_SKIPPED + 1} bytes"):
        _decode(codec, bytes(MAX_SKIPPED + 1), 0)


# -- the link, on a model of the board -------------------------------------------------------


class FakeBoard:
    """The bridge and the shell's bus in Python: ``memory`` holds the words; a start runs
    ``kernel(memory)`` and sets status done and cycles 42. ``naks`` frames are NAKed first;
    a silent board answers nothing."""

    def __init__(self, codec, size=64, naks=0, kernel=None, silent=False):
        self.codec, self.memory, self.naks = codec, [0] * size, naks
        self.kernel, self.silent = kernel, silent
        self.frames, self.pending = [], bytearray()

    def write(self, data):
        self.frames.append(bytes(data))
        request = self.codec.parse_request(bytes(data))
        if self.silent:
            return
        if self.naks:
            self.naks -= 1
            self.pending += self.codec.answer_frame(BAD_CRC)
            return
        words = []
        if request.command == CMD_WRITE:
            for i, word in enumerate(request.words):
                self.memory[request.addr + i] = word
            if request.addr == 0 and request.words[0] & 1:
                self._start()
        else:
            words = self.memory[request.addr : request.addr + request.count]
        self.pending += self.codec.answer_frame(OK, words)

    def _start(self):
        self.memory[0] = 0
        if self.kernel is not None:
            self.kernel(self.memory)
            self.memory[1], self.memory[2] = 0b10, 42
        else:
            self.memory[1] = 0b01  # runs forever

    def read(self, n):
        data = bytes(self.pending[:n])
        del self.pending[:n]
        return data


AMAP = {
    "word_bits": 16,
    "addr_bits": 6,
    "registers": {"control": {"addr": 0}, "status": {"addr": 1}, "cycles": {"addr": 2}},
}


def _link(**board):
    codec = Codec(16, max_words=8)
    fake = FakeBoard(codec, **board)
    return BoardLink(fake, AMAP, max_words=8), fake


def test_transfers_are_split_into_frames():
    link, board = _link()
    words = list(range(100, 120))
    link.write_words(40, words)
    requests = [board.codec.parse_request(f) for f in board.frames]
    assert [(r.addr, r.count) for r in requests] == [(40, 8), (48, 8), (56, 4)]
    assert board.memory[40:60] == words
    assert link.read_words(43, 17) == words[3:]
    assert [(r.addr, r.count) for r in map(board.codec.parse_request, board.frames[3:])] == [
        (43, 8),
        (51, 8),
        (59, 1),
    ]
    link.write_words(63, [])
    link.ping()
    assert link.resent == 0


def test_nakked_frames_are_sent_again():
    link, board = _link(naks=3)
    link.write_words(5, [7])
    assert board.memory[5] == 7 and len(board.frames) == 4 and link.resent == 3


def test_retries_are_bounded():
    link, _ = _link(naks=10)
    with pytest.raises(LinkError) as e:
        link.write_words(3, [1])
    assert str(e.value) == (
        "writing 1 word(s) at 3 failed 4 times; last: the board answered 'bad checksum'\n"
        "hint: check the baud rate, the cable and that the board runs this design"
    )
    link, _ = _link(silent=True)
    with pytest.raises(LinkError, match=r"^reading 2 word\(s\) at 1 failed 4 times; last: no "):
        link.read_words(1, 2)


def test_registers_and_waiting():
    link, board = _link(kernel=lambda memory: None)
    link.start()
    link.wait_done(timeout=1)
    assert (link.status(), link.cycles()) == (0b10, 42)
    link, board = _link()  # a kernel that never finishes
    link.start()
    assert link.status() == 0b01
    with pytest.raises(LinkError) as e:
        link.wait_done(timeout=0)
    assert str(e.value) == (
        "the kernel did not finish within 0 s (status 0b01)\n"
        "hint: raise the timeout, or check that the bitstream holds this kernel"
    )


def test_range_and_address_map_errors():
    link, _ = _link()
    with pytest.raises(ArgumentError) as e:
        link.read_words(60, 5)
    assert str(e.value) == (
        "words 60..64 lie outside the bus (addresses 0..63)\n"
        "hint: take addresses from the address map"
    )
    with pytest.raises(BuildError) as e:
        BoardLink(FakeBoard(Codec(16)), {"addr_bits": 4, "word_bits": 16, "registers": {}})
    assert str(e.value) == (
        "the address map has no ['registers']['control']\n"
        "hint: pass the address map of the design on the board (address_map.json)"
    )


def test_missing_pyserial(monkeypatch):
    monkeypatch.setitem(sys.modules, "serial", None)  # makes `import serial` fail
    with pytest.raises(BuildError) as e:
        SerialTransport("/dev/ttyUSB1")
    assert str(e.value) == (
        "SerialTransport needs pyserial, which is not installed\nhint: pip install pyserial"
    )


def test_errors_are_allo_rtl_errors():
    assert issubclass(FrameError, LinkError) and issubclass(LinkError, AlloRTLError)


# -- run_kernel ------------------------------------------------------------------------------


def axpy(X: int8[8], Y: Fixed(16, 4)[8], a: Fixed(16, 4)) -> int32:
    total: int32 = 0
    for i in range(8):
        Y[i] = a * X[i] + Y[i]
        total += X[i] * 3
    return total


@pytest.fixture(scope="module")
def axpy_map():
    s = allo.customize(axpy)
    return s, build_design(s).address_map


def _axpy_words(amap):
    """The kernel on raw words, written independently of allo_rtl's conversions."""
    x, y = amap["arrays"]["X"]["base"], amap["arrays"]["Y"]["base"]
    a, result = amap["scalars"]["a"]["addr"], amap["scalars"]["result"]["addr"]

    def signed(word, bits):
        return word - (1 << bits) if word >> (bits - 1) else word

    def kernel(memory):
        xs = [signed(w, 8) for w in memory[x : x + 8]]
        for i in range(8):  # raw Fixed(16, 4): a * X[i] keeps 4 fraction bits
            memory[y + i] = (signed(memory[a], 16) * xs[i] + memory[y + i]) & 0xFFFF
        memory[result] = (3 * sum(xs)) & 0xFFFFFFFF

    return kernel


def test_run_kernel_converts_like_the_numpy_target(axpy_map):
    s, amap = axpy_map
    board = FakeBoard(Codec(32), size=64, kernel=_axpy_words(amap))
    link = BoardLink(board, amap)
    X = np.array([-128, 127, 5, -3, 0, 1, 2, -1], dtype=np.int8)
    Y = np.array([1.5, -2.25, 100, -100, 0.0625, 3, 4, 5])
    Y_board, Y_numpy = Y.copy(), Y.copy()
    outputs, cycles = run_kernel(link, amap, (X, Y_board, 1.25))
    assert outputs["result"] == s.build(target="numpy")(X, Y_numpy, 1.25) == 9
    assert cycles == 42 and set(outputs) == {"result", "Y"}
    np.testing.assert_array_equal(outputs["Y"], Y_numpy)
    np.testing.assert_array_equal(Y_board, Y_numpy)  # updated in place
    assert outputs["Y"].dtype == Y_numpy.dtype
    by_name, _ = run_kernel(link, amap, {"a": np.float64(-0.5), "X": X, "Y": Y.copy()})
    np.testing.assert_array_equal(by_name["Y"], -0.5 * X + Y)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((np.zeros(8, np.int8), np.zeros(8)), ArgumentTypeError,
         "run_kernel(): 0 scalar(s) and 2 array(s) given; the kernel takes 1 scalar(s) and at "
         "most 2 array(s)\nhint: pass the arguments in parameter order, or a dict by name"),
        ({"X": np.zeros(8, np.int8), "Z": 1}, ArgumentTypeError,
         "run_kernel(): unknown input(s) ['Z'], missing scalar(s) ['a']\n"
         "hint: the inputs are a, X, Y"),
        ((np.zeros(7, np.int8), 1.0), ArgumentError,
         "run_kernel(): `X` must be a int8[8] array, got (7,)"),
        ((np.zeros(8, np.int8), "one"), ArgumentTypeError,
         "run_kernel(): `a` is a scalar (Fixed(16, 4)), got str"),
    ],
)  # fmt: skip
def test_run_kernel_argument_errors(axpy_map, args, error, message):
    _, amap = axpy_map
    link = BoardLink(FakeBoard(Codec(32), size=64), amap)
    with pytest.raises(error) as e:
        run_kernel(link, amap, args)
    assert str(e.value) == message


def test_run_kernel_address_map_errors(axpy_map):
    _, amap = axpy_map
    broken = {**amap, "arrays": {"X": {"base": 16}}}
    link = BoardLink(FakeBoard(Codec(32), size=64), amap)
    with pytest.raises(BuildError, match=r"^the address map has no \['arrays'\]\['X'\]\['depth'\]"):
        run_kernel(link, broken, ())
