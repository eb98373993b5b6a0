"""Kernel data types, with Allo's names.

Scalar types are immutable values: ``Int(17) == Int(17)``. Indexing a scalar type with a shape
gives an array type: ``int32[4, 8]`` is a 4x8 array of ``int32``.

Integer-like types (``Int``, ``UInt``, ``Index``, ``Fixed``, ``UFixed``) hold a raw two's
complement (or unsigned) integer of ``bits`` bits whose value is ``raw / 2**fracs``. ``Float``
types are IEEE binary formats with ``exponent`` and ``mantissa`` bits. docs/semantics.md gives the
arithmetic rules.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from .._errors import KernelTypeError

__all__ = [
    "AlloType",
    "ArrayType",
    "Fixed",
    "Float",
    "Index",
    "Int",
    "Stream",
    "StreamArrayType",
    "StreamType",
    "UFixed",
    "UInt",
    "bfloat16",
    "bool",
    "float16",
    "float32",
    "float64",
    "index",
    "int1",
    "int8",
    "int16",
    "int32",
    "int64",
    "int128",
    "int256",
    "uint1",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "uint128",
    "uint256",
]

MAX_BITS = 4096


def _check_width(kind: str, bits: object, fracs: object = 0) -> None:
    if not isinstance(bits, int) or isinstance(bits, builtins.bool):
        raise KernelTypeError(f"{kind}: width must be an integer, got {bits!r}")
    if not 1 <= bits <= MAX_BITS:
        raise KernelTypeError(f"{kind}({bits}): width must be between 1 and {MAX_BITS} bits")
    if not isinstance(fracs, int) or not 0 <= fracs <= bits:
        raise KernelTypeError(
            f"{kind}({bits}, {fracs!r}): fraction bits must be an integer between 0 and {bits}"
        )


class AlloType:
    """Base class of scalar types. Subclasses are frozen dataclasses."""

    __slots__ = ()

    bits: int
    fracs: int = 0
    signed: builtins.bool = True

    def __getitem__(self, shape: object) -> ArrayType:
        dims = shape if isinstance(shape, tuple) else (shape,)
        return ArrayType(self, dims)

    @property
    def is_float(self) -> builtins.bool:
        return isinstance(self, Float)

    @property
    def is_integer_like(self) -> builtins.bool:
        return not isinstance(self, Float)

    @property
    def is_integer(self) -> builtins.bool:
        """``Int``, ``UInt`` and ``index``: integer-like without fraction bits."""
        return isinstance(self, (Int, UInt, Index))

    @property
    def min_raw(self) -> int:
        """Smallest raw (unscaled) value of an integer-like type."""
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max_raw(self) -> int:
        """Largest raw (unscaled) value of an integer-like type."""
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    def __str__(self) -> str:
        return self.name  # type: ignore[attr-defined]


_INT_NAMES = {8: "int8", 16: "int16", 32: "int32", 64: "int64"}


@dataclass(frozen=True, slots=True)
class Int(AlloType):
    """Signed integer of ``bits`` bits (two's complement)."""

    bits: int

    def __post_init__(self) -> None:
        _check_width("Int", self.bits)

    @property
    def name(self) -> str:
        return _INT_NAMES.get(self.bits, f"Int({self.bits})")


@dataclass(frozen=True, slots=True)
class UInt(AlloType):
    """Unsigned integer of ``bits`` bits. ``bool`` is ``UInt(1)``."""

    bits: int

    def __post_init__(self) -> None:
        _check_width("UInt", self.bits)

    @property
    def signed(self) -> builtins.bool:  # type: ignore[override]
        return False

    @property
    def name(self) -> str:
        if self.bits == 1:
            return "bool"
        return "u" + _INT_NAMES[self.bits] if self.bits in _INT_NAMES else f"UInt({self.bits})"


@dataclass(frozen=True, slots=True)
class Index(AlloType):
    """Loop index type: a signed 32-bit integer for which ``index op index`` stays ``index``."""

    @property
    def bits(self) -> int:  # type: ignore[override]
        return 32

    @property
    def name(self) -> str:
        return "index"


@dataclass(frozen=True, slots=True)
class Fixed(AlloType):
    """Signed fixed point: ``bits`` bits in all, ``fracs`` of them after the binary point."""

    bits: int
    fracs: int

    def __post_init__(self) -> None:
        _check_width("Fixed", self.bits, self.fracs)

    @property
    def name(self) -> str:
        return f"Fixed({self.bits}, {self.fracs})"


@dataclass(frozen=True, slots=True)
class UFixed(AlloType):
    """Unsigned fixed point: ``bits`` bits in all, ``fracs`` of them after the binary point."""

    bits: int
    fracs: int

    def __post_init__(self) -> None:
        _check_width("UFixed", self.bits, self.fracs)

    @property
    def signed(self) -> builtins.bool:  # type: ignore[override]
        return False

    @property
    def name(self) -> str:
        return f"UFixed({self.bits}, {self.fracs})"


_FLOAT_NAMES = {(16, 10): "float16", (16, 7): "bfloat16", (32, 23): "float32", (64, 52): "float64"}


@dataclass(frozen=True, slots=True)
class Float(AlloType):
    """IEEE-style binary floating point with ``mantissa`` stored fraction bits.

    Only the four formats ``float16``, ``bfloat16``, ``float32`` and ``float64`` exist.
    """

    bits: int
    mantissa: int

    def __post_init__(self) -> None:
        if (self.bits, self.mantissa) not in _FLOAT_NAMES:
            raise KernelTypeError(
                f"Float({self.bits}, {self.mantissa}) is not a supported format; "
                "use float16, bfloat16, float32 or float64"
            )

    @property
    def exponent(self) -> int:
        return self.bits - self.mantissa - 1

    @property
    def name(self) -> str:
        return _FLOAT_NAMES[(self.bits, self.mantissa)]


@dataclass(frozen=True, slots=True)
class ArrayType:
    """A multi-dimensional array of a scalar type, row-major: ``int32[4, 8]``."""

    dtype: AlloType
    shape: tuple[int, ...]

    def __post_init__(self) -> None:
        for dim in self.shape:
            if not isinstance(dim, int) or isinstance(dim, builtins.bool) or dim < 1:
                raise KernelTypeError(
                    f"{self.dtype}[{', '.join(map(str, self.shape))}]: "
                    f"array dimensions must be positive integers, got {dim!r}"
                )

    @property
    def size(self) -> int:
        n = 1
        for dim in self.shape:
            n *= dim
        return n

    def __str__(self) -> str:
        return f"{self.dtype}[{', '.join(map(str, self.shape))}]"


@dataclass(frozen=True, slots=True)
class StreamType:
    """A FIFO channel of ``dtype`` elements holding at most ``depth`` of them.

    ``Stream[int32, 4]`` is this type. A kernel ``put``s into a stream and another ``get``s from
    it; ``put`` waits while the stream is full and ``get`` while it is empty. Streams are declared
    in dataflow regions (``allo_rtl.dataflow``); ``Stream[int32, 4][P0, P1]`` declares a grid of
    independent streams.
    """

    dtype: AlloType
    depth: int

    def __post_init__(self) -> None:
        if not isinstance(self.dtype, AlloType):
            raise KernelTypeError(
                f"Stream[{self.dtype!r}, ...]: the element type must be a scalar type such as int32"
            )
        if not isinstance(self.depth, int) or isinstance(self.depth, builtins.bool):
            raise KernelTypeError(f"Stream[{self.dtype}, {self.depth!r}]: depth must be an integer")
        if self.depth < 1:
            raise KernelTypeError(f"Stream[{self.dtype}, {self.depth}]: depth must be at least 1")

    def __getitem__(self, shape: object) -> StreamArrayType:
        dims = shape if isinstance(shape, tuple) else (shape,)
        for dim in dims:
            if not isinstance(dim, int) or isinstance(dim, builtins.bool) or dim < 1:
                raise KernelTypeError(
                    f"{self}[{', '.join(map(str, dims))}]: stream grid dimensions must be "
                    f"positive integers, got {dim!r}"
                )
        return StreamArrayType(self, tuple(dims))

    def __str__(self) -> str:
        return f"Stream[{self.dtype}, {self.depth}]"


@dataclass(frozen=True, slots=True)
class StreamArrayType:
    """A grid of independent streams, ``Stream[int32, 4][P0, P1]`` (declarations only)."""

    stream: StreamType
    shape: tuple[int, ...]

    def __str__(self) -> str:
        return f"{self.stream}[{', '.join(map(str, self.shape))}]"


class _StreamCtor:
    """``Stream[dtype, depth]`` (depth defaults to 2 as in Allo)."""

    def __getitem__(self, key: object) -> StreamType:
        if isinstance(key, tuple) and len(key) == 2:
            return StreamType(key[0], key[1])  # type: ignore[arg-type]
        return StreamType(key, 2)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return "Stream"


Stream = _StreamCtor()

int1 = Int(1)
int8 = Int(8)
int16 = Int(16)
int32 = Int(32)
int64 = Int(64)
int128 = Int(128)
int256 = Int(256)
uint1 = UInt(1)
uint8 = UInt(8)
uint16 = UInt(16)
uint32 = UInt(32)
uint64 = UInt(64)
uint128 = UInt(128)
uint256 = UInt(256)
bool = UInt(1)  # noqa: A001 - Allo's name for the 1-bit type
index = Index()
float16 = Float(16, 10)
bfloat16 = Float(16, 7)
float32 = Float(32, 23)
float64 = Float(64, 52)
