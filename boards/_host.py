"""The host side of the UART link to a board (docs/uart_protocol.md).

Layers, bottom up:

- :class:`Codec` and :class:`AnswerDecoder`: frames as bytes, without any I/O (sans-IO);
- :class:`Transport`: anything with ``write(bytes)`` and ``read(n) -> bytes`` (fewer bytes on
  timeout), e.g. :class:`SerialTransport` (pyserial) or a simulated UART in a testbench;
- :class:`BoardLink`: word reads and writes over a transport, split into frames, with retries;
  the shell's registers (start, status, cycles);
- :func:`run_kernel`: one kernel run with NumPy arguments, converted exactly as the simulation
  targets convert them, so the outputs equal what ``s.build(target="numpy")`` computes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .._errors import AlloRTLError, ArgumentError, ArgumentTypeError, BuildError
from ..hw._uart import (
    ADDR_BYTES,
    BAD_COMMAND,
    BAD_CRC,
    BAD_LENGTH,
    CMD_READ,
    CMD_WRITE,
    MAX_WORDS,
    OK,
    SYNC,
    TIMEOUT,
    crc8,
    word_bytes,
)
from ..ir.types import (
    AlloType,
    ArrayType,
    Fixed,
    Index,
    Int,
    UFixed,
    UInt,
    bfloat16,
    float16,
    float32,
    float64,
)
from ..reference._module import _result, _scalar_raw, _to_raw, _write_back
from ..sim._convert import from_word, from_words, to_word, to_words

__all__ = [
    "STATUS_NAMES",
    "Answer",
    "AnswerDecoder",
    "BoardLink",
    "Codec",
    "FrameError",
    "LinkError",
    "Request",
    "SerialTransport",
    "Transport",
    "run_kernel",
]

STATUS_NAMES = {
    OK: "ok",
    BAD_CRC: "bad checksum",
    BAD_COMMAND: "unknown command",
    BAD_LENGTH: "too many words in one frame",
    TIMEOUT: "frame incomplete (inter-byte timeout)",
}
MAX_SKIPPED = 64  # stray bytes tolerated before an answer's SYNC byte


class LinkError(AlloRTLError):
    """The board did not answer, or kept rejecting a frame; the message says which."""


class FrameError(LinkError):
    """Bytes that are not a valid frame or answer (wrong SYNC, checksum or status)."""


# -- frames (sans-IO) ------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """A host frame, as :meth:`Codec.parse_request` reads it."""

    command: int
    addr: int
    count: int
    words: tuple[int, ...] = ()


@dataclass(frozen=True)
class Answer:
    """The bridge's answer: ``status`` (``OK`` or an error code) and the words read."""

    status: int
    words: tuple[int, ...] = ()


class Codec:
    """Frames for a bus of ``word_bits``-bit words and frames of at most ``max_words`` words.

    Words are ``ceil(word_bits / 8)`` bytes, addresses ``ADDR_BYTES`` bytes, both
    little-endian; the CRC-8 covers every byte after SYNC.
    """

    def __init__(self, word_bits: int, max_words: int = MAX_WORDS) -> None:
        self.word_bits = word_bits
        self.word_bytes = word_bytes(word_bits)
        self.max_words = max_words

    def write_frame(self, addr: int, words: Sequence[int]) -> bytes:
        """``SYNC 'W' LEN ADDR[3] words CRC``: write ``words`` at ``addr``, ``addr + 1``, ..."""
        body = self._header(CMD_WRITE, addr, len(words)) + self.pack(words)
        return bytes([SYNC]) + body + bytes([crc8(body)])

    def read_frame(self, addr: int, count: int) -> bytes:
        """``SYNC 'R' LEN ADDR[3] CRC``: read ``count`` words from ``addr`` on (0: a ping)."""
        body = self._header(CMD_READ, addr, count)
        return bytes([SYNC]) + body + bytes([crc8(body)])

    def answer_frame(self, status: int, words: Sequence[int] = ()) -> bytes:
        """``SYNC STATUS [words] CRC``: what the bridge sends (for models and tests)."""
        body = bytes([status]) + self.pack(words)
        return bytes([SYNC]) + body + bytes([crc8(body)])

    def pack(self, words: Sequence[int]) -> bytes:
        """Words as bytes, little-endian; each must fit ``word_bits`` bits."""
        limit = 1 << self.word_bits
        for w in words:
            if not (isinstance(w, int) and 0 <= w < limit):
                raise ArgumentError(
                    f"word {w!r} does not fit the {self.word_bits}-bit bus",
                    hint="pass raw unsigned words (allo_rtl.sim._convert.to_words converts)",
                )
        return b"".join(w.to_bytes(self.word_bytes, "little") for w in words)

    def unpack(self, data: bytes) -> tuple[int, ...]:
        """The words of ``data`` (a whole number of words)."""
        n = self.word_bytes
        return tuple(int.from_bytes(data[i : i + n], "little") for i in range(0, len(data), n))

    def _header(self, command: int, addr: int, count: int) -> bytes:
        if not 0 <= count <= self.max_words:
            raise ArgumentError(
                f"a frame carries 0 to {self.max_words} words, not {count}",
                hint="BoardLink splits longer transfers into frames",
            )
        if not 0 <= addr < 1 << (8 * ADDR_BYTES):
            raise ArgumentError(f"address {addr} does not fit {ADDR_BYTES} bytes")
        return bytes([command, count]) + addr.to_bytes(ADDR_BYTES, "little")

    def parse_request(self, frame: bytes) -> Request:
        """Read a host frame as the bridge does (a reference model for tests); raises
        :class:`FrameError` for a frame the bridge would reject."""
        head = 3 + ADDR_BYTES
        if len(frame) < head + 1 or frame[0] != SYNC:
            raise FrameError(f"not a frame: {frame.hex(' ')}")
        command, count = frame[1], frame[2]
        addr = int.from_bytes(frame[3:head], "little")
        size = count * self.word_bytes if command == CMD_WRITE else 0
        if len(frame) != head + size + 1:
            raise FrameError(f"frame of {len(frame)} bytes, expected {head + size + 1}")
        if crc8(frame[1:-1]) != frame[-1]:
            raise FrameError(f"frame checksum 0x{frame[-1]:02x} != 0x{crc8(frame[1:-1]):02x}")
        if command not in (CMD_READ, CMD_WRITE):
            raise FrameError(f"unknown command 0x{command:02x}")
        if count > self.max_words:
            raise FrameError(f"{count} words in one frame; at most {self.max_words}")
        return Request(command, addr, count, self.unpack(frame[head:-1]))


class AnswerDecoder:
    """Decodes one answer incrementally: :meth:`feed` it bytes as they come; :attr:`needed` is
    how many to read next without reading past the answer.

    ``count`` is the number of words a successful answer carries (that of a read frame, 0 for
    a write). Stray bytes before the SYNC byte are skipped (at most ``MAX_SKIPPED``).
    """

    def __init__(self, codec: Codec, count: int) -> None:
        self.codec = codec
        self.count = count
        self.skipped = 0
        self._stage = "sync"
        self._body = bytearray()
        self.needed = 1  # bytes to read next (never more than the rest of the answer)
        self.rest = b""

    def feed(self, data: bytes) -> Answer | None:
        """Consume ``data``; the :class:`Answer` once complete (bytes after it are kept in
        :attr:`rest`), else ``None``. Raises :class:`FrameError` for a corrupted answer."""
        for i, byte in enumerate(data):
            answer = self._step(byte)
            if answer is not None:
                self.rest = bytes(data[i + 1 :])
                return answer
        return None

    def _step(self, byte: int) -> Answer | None:
        if self._stage == "sync":
            if byte == SYNC:
                self._stage = "status"
            else:
                self.skipped += 1
                if self.skipped > MAX_SKIPPED:
                    raise FrameError(f"no SYNC byte in {self.skipped} bytes from the board")
            return None
        self._body.append(byte)
        if self._stage == "status":
            if byte not in STATUS_NAMES:
                raise FrameError(f"unknown status 0x{byte:02x} in an answer")
            data = self.count * self.codec.word_bytes if byte == OK else 0
            self._stage, self.needed = "body", data + 1
            return None
        self.needed -= 1
        if self.needed:
            return None
        body = bytes(self._body)
        if crc8(body[:-1]) != body[-1]:
            raise FrameError(f"answer checksum 0x{body[-1]:02x} != 0x{crc8(body[:-1]):02x}")
        return Answer(body[0], self.codec.unpack(body[1:-1]))


# -- transports ------------------------------------------------------------------------------


class Transport(Protocol):
    """A byte pipe to the board."""

    def write(self, data: bytes) -> None:
        """Send ``data``."""

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes; fewer (possibly none) when the transport's timeout expires."""


class SerialTransport:
    """A serial port through pyserial (imported here: ``pip install pyserial``).

    ``timeout`` (seconds) bounds each read; keep it above the bridge's inter-byte timeout
    (``timeout_bytes`` byte times) so that draining after an error resynchronises the link.
    """

    def __init__(self, port: str, baud: int = 115200, timeout: float = 1.0) -> None:
        try:
            import serial  # type: ignore[import-not-found, import-untyped]
        except ImportError:
            raise BuildError(
                "SerialTransport needs pyserial, which is not installed",
                hint="pip install pyserial",
            ) from None
        self._errors = (serial.SerialException, OSError, ValueError)
        try:
            self._port = serial.Serial(port, baud, timeout=timeout)
        except self._errors as e:
            raise LinkError(
                f"cannot open serial port {port} at {baud} baud: {e}",
                hint="check the device name (e.g. /dev/ttyUSB1) and its permissions",
            ) from None

    def write(self, data: bytes) -> None:
        """Send ``data`` and wait until it has left the host."""
        try:
            self._port.write(data)
            self._port.flush()
        except self._errors as e:
            raise LinkError(f"writing to {self._port.port} failed: {e}") from None

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes, fewer on timeout."""
        try:
            return bytes(self._port.read(n))
        except self._errors as e:
            raise LinkError(f"reading from {self._port.port} failed: {e}") from None

    def close(self) -> None:
        """Close the port."""
        self._port.close()

    def __enter__(self) -> SerialTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- the link --------------------------------------------------------------------------------


def _address_field(amap: Mapping[str, Any], *keys: str) -> Any:
    """``amap[k0][k1]...``, or a :class:`BuildError` naming the missing key."""
    value: Any = amap
    for i, key in enumerate(keys):
        if not isinstance(value, Mapping) or key not in value:
            where = "".join(f"[{k!r}]" for k in keys[: i + 1])
            raise BuildError(
                f"the address map has no {where}",
                hint="pass the address map of the design on the board (address_map.json)",
            )
        value = value[key]
    return value


def _address_int(amap: Mapping[str, Any], *keys: str) -> int:
    """An integer field of the address map (see :func:`_address_field`)."""
    value = _address_field(amap, *keys)
    if not isinstance(value, int) or isinstance(value, bool):
        raise BuildError(
            f"the address map's {''.join(f'[{k!r}]' for k in keys)} is {value!r}, not an integer",
            hint="pass the address map of the design on the board (address_map.json)",
        )
    return value


class BoardLink:
    """Word reads and writes on a board's host bus over ``transport``.

    ``address_map`` is the shell's (``design.address_map`` or ``address_map.json``). Transfers
    are split into frames of at most ``max_words`` words (the bridge's). A frame that is
    NAKed or not answered is sent again up to ``retries`` times, after draining the transport
    (reading until it times out), then :class:`LinkError` is raised; :attr:`resent` counts the
    frames sent again. Writes are idempotent except a repeated start, which the shell ignores
    while the kernel runs.
    """

    def __init__(
        self,
        transport: Transport,
        address_map: Mapping[str, Any],
        *,
        max_words: int = MAX_WORDS,
        retries: int = 3,
    ) -> None:
        self.transport = transport
        self.address_map = address_map
        self.addr_bits = _address_int(address_map, "addr_bits")
        self.codec = Codec(_address_int(address_map, "word_bits"), max_words)
        self.retries = retries
        self.resent = 0  # frames sent again after a NAK or a bad or missing answer
        self._registers = {
            name: _address_int(address_map, "registers", name, "addr")
            for name in ("control", "status", "cycles")
        }

    def ping(self) -> None:
        """An empty read: checks that the bridge answers."""
        self._exchange(self.codec.read_frame(0, 0), 0, "ping")

    def write_words(self, addr: int, words: Sequence[int]) -> None:
        """Write raw ``words`` at ``addr``, ``addr + 1``, ..."""
        words = list(words)
        self._check_range(addr, len(words))
        step = self.codec.max_words
        for i in range(0, len(words), step):
            frame = self.codec.write_frame(addr + i, words[i : i + step])
            self._exchange(frame, 0, f"writing {len(words[i : i + step])} word(s) at {addr + i}")

    def read_words(self, addr: int, n: int) -> list[int]:
        """Read ``n`` raw words from ``addr`` on."""
        self._check_range(addr, n)
        out: list[int] = []
        for i in range(0, n, self.codec.max_words):
            count = min(self.codec.max_words, n - i)
            frame = self.codec.read_frame(addr + i, count)
            out += self._exchange(frame, count, f"reading {count} word(s) at {addr + i}")
        return out

    def start(self) -> None:
        """Start the kernel (write 1 to the control register)."""
        self.write_words(self._registers["control"], [1])

    def status(self) -> int:
        """The status register: bit 0 busy, bit 1 done since the last start."""
        return self.read_words(self._registers["status"], 1)[0]

    def cycles(self) -> int:
        """The cycles register: busy cycles of the last run."""
        return self.read_words(self._registers["cycles"], 1)[0]

    def wait_done(self, timeout: float = 10.0) -> None:
        """Poll the status register until the kernel is done; :class:`LinkError` after
        ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.status()
            if status & 2:
                return
            if time.monotonic() > deadline:
                raise LinkError(
                    f"the kernel did not finish within {timeout} s (status 0b{status:02b})",
                    hint="raise the timeout, or check that the bitstream holds this kernel",
                )

    def _check_range(self, addr: int, n: int) -> None:
        if addr < 0 or n < 0 or addr + n > 1 << self.addr_bits:
            raise ArgumentError(
                f"words {addr}..{addr + n - 1} lie outside the bus (addresses 0.."
                f"{(1 << self.addr_bits) - 1})",
                hint="take addresses from the address map",
            )

    def _exchange(self, frame: bytes, count: int, what: str) -> tuple[int, ...]:
        """Send ``frame`` until it is answered OK; returns the answer's words."""
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self._drain()
                self.resent += 1
            self.transport.write(frame)
            try:
                answer = self._receive(count)
            except FrameError as e:
                problem = e.message
            else:
                if answer.status == OK:
                    return answer.words
                problem = f"the board answered '{STATUS_NAMES[answer.status]}'"
        raise LinkError(
            f"{what} failed {self.retries + 1} times; last: {problem}",
            hint="check the baud rate, the cable and that the board runs this design",
        )

    def _receive(self, count: int) -> Answer:
        decoder = AnswerDecoder(self.codec, count)
        while True:
            data = self.transport.read(decoder.needed)
            if not data:
                raise FrameError("no answer from the board (timeout)")
            answer = decoder.feed(data)
            if answer is not None:
                return answer

    def _drain(self) -> None:
        """Read until the transport times out (at most ``MAX_SKIPPED`` reads)."""
        for _ in range(MAX_SKIPPED):
            if not self.transport.read(256):
                return


# -- running a kernel ------------------------------------------------------------------------

_FLOATS = {t.name: t for t in (float16, bfloat16, float32, float64)}


def _element_type(name: str, entry: Mapping[str, Any]) -> AlloType:
    """The scalar type of an address-map entry (``dtype``, ``bits``, ``signed``, ``fracs``)."""
    dtype, bits = str(entry.get("dtype")), entry.get("bits")
    if entry.get("float"):
        if dtype not in _FLOATS:
            raise BuildError(f"address map: `{name}` has an unknown float type {dtype!r}")
        return _FLOATS[dtype]
    if not isinstance(bits, int):
        raise BuildError(f"address map: `{name}` has no integer `bits`")
    if dtype == "index":
        return Index()
    if dtype.startswith(("Fixed(", "UFixed(")):
        fixed = Fixed if entry.get("signed") else UFixed
        return fixed(bits, int(entry.get("fracs", 0)))
    return Int(bits) if entry.get("signed") else UInt(bits)


_SCALAR_KEYS = ("addr", "role", "dtype", "bits")
_ARRAY_KEYS = ("base", "depth", "shape", "role", "dtype", "bits")


def _entries(address_map: Mapping[str, Any], group: str) -> dict[str, Mapping[str, Any]]:
    """The ``scalars`` or ``arrays`` of the address map, each checked for the keys used here."""
    entries = _address_field(address_map, group)
    for name in entries:
        for key in _SCALAR_KEYS if group == "scalars" else _ARRAY_KEYS:
            _address_field(address_map, group, name, key)
    return dict(entries)


def _inputs(scalars: list[str], arrays: list[str], args: Any) -> dict[str, Any]:
    """``args`` by input name: a mapping already, or a sequence in parameter order (arrays go
    to the address map's arrays in order, other values to its scalar inputs in order)."""
    if isinstance(args, Mapping):
        unknown = [k for k in args if k not in scalars + arrays]
        missing = [k for k in scalars if k not in args]
        if unknown or missing:
            raise ArgumentTypeError(
                f"run_kernel(): unknown input(s) {unknown}, missing scalar(s) {missing}",
                hint=f"the inputs are {', '.join(scalars + arrays)}",
            )
        return dict(args)
    given = [a for a in args if isinstance(a, np.ndarray) and a.ndim > 0]
    others = [a for a in args if not (isinstance(a, np.ndarray) and a.ndim > 0)]
    if len(others) != len(scalars) or len(given) > len(arrays):
        raise ArgumentTypeError(
            f"run_kernel(): {len(others)} scalar(s) and {len(given)} array(s) given; the "
            f"kernel takes {len(scalars)} scalar(s) and at most {len(arrays)} array(s)",
            hint="pass the arguments in parameter order, or a dict by name",
        )
    return dict(zip(scalars, others)) | dict(zip(arrays, given))


def _scalar_word(name: str, value: Any, t: AlloType) -> int:
    """The word of scalar argument ``value``, converted like the NumPy target converts it."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if not isinstance(value, (int, float, np.integer, np.floating, np.bool_)):
        raise ArgumentTypeError(
            f"run_kernel(): `{name}` is a scalar ({t}), got {type(value).__name__}"
        )
    return to_word(_scalar_raw(value, t), t)


def _array_type(name: str, entry: Mapping[str, Any]) -> ArrayType:
    return ArrayType(_element_type(name, entry), tuple(entry["shape"]))


def _load(link: BoardLink, maps: tuple[dict, dict], inputs: dict[str, Any]) -> None:
    """Write every input through the bus, converted like the NumPy target converts it."""
    scalars, arrays = maps
    for name, entry in scalars.items():
        if name in inputs:
            word = _scalar_word(name, inputs[name], _element_type(name, entry))
            link.write_words(entry["addr"], [word])
    for name, entry in arrays.items():
        if name not in inputs:
            continue
        t, value = _array_type(name, entry), inputs[name]
        if not isinstance(value, np.ndarray) or value.shape != t.shape:
            got = value.shape if isinstance(value, np.ndarray) else type(value).__name__
            raise ArgumentError(f"run_kernel(): `{name}` must be a {t} array, got {got}")
        link.write_words(entry["base"], to_words(_to_raw(value, t.dtype), t.dtype))


def _unload(link: BoardLink, maps: tuple[dict, dict], inputs: dict[str, Any]) -> dict[str, Any]:
    """Read every output back; array arguments are updated in place like the NumPy target."""
    scalars, arrays = maps
    outputs: dict[str, Any] = {}
    for name, entry in scalars.items():
        if entry["role"] == "out":
            t = _element_type(name, entry)
            outputs[name] = _result(from_word(link.read_words(entry["addr"], 1)[0], t), t)
    for name, entry in arrays.items():
        if entry["role"] == "in":
            continue
        t = _array_type(name, entry)
        raw = from_words(link.read_words(entry["base"], entry["depth"]), t.dtype)
        outputs[name] = _result(raw, t)
        if isinstance(inputs.get(name), np.ndarray):
            _write_back(inputs[name], raw, t)
    return outputs


def run_kernel(
    link: BoardLink, address_map: Mapping[str, Any], args: Any, *, timeout: float = 10.0
) -> tuple[dict[str, Any], int]:
    """Run the kernel on the board once; returns ``(outputs, cycles)``.

    ``args``: the kernel's arguments in parameter order (as for the built kernel), or a dict
    by port name. Scalars and arrays are converted exactly as the NumPy target converts them.
    ``outputs`` maps every output port to its value as the NumPy target returns it: scalar
    results (``result``, ``result0``, ...), array results and every array the kernel writes;
    array arguments the kernel writes are also updated in place. ``cycles`` is the shell's
    cycle counter of the run. ``timeout`` (seconds) bounds the wait for done.
    """
    maps = _entries(address_map, "scalars"), _entries(address_map, "arrays")
    names = [n for n, e in maps[0].items() if e["role"] == "in"]
    inputs = _inputs(names, list(maps[1]), args)
    _load(link, maps, inputs)
    link.start()
    link.wait_done(timeout)
    cycles = link.cycles()
    return _unload(link, maps, inputs), cycles
