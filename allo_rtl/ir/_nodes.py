"""Kernel IR: immutable nodes.

Every node is a frozen, slotted dataclass that carries its source location ``loc``. Names are
:class:`Sym` symbols: two variables that print the same are still different symbols.

Value semantics (docs/semantics.md): every expression has a static ``type`` and its value always
lies in that type's range. Integer-like constants hold the *raw* integer (the value times
``2**fracs``). Binary operations compute the exact result of their operands' values, then round
(floor, or toward zero for division) to the result type's fraction bits and wrap to its width.
Conversions are explicit :class:`Cast` nodes: the frontend inserts them, backends never convert
implicitly.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields

import numpy as np

from .._errors import Loc
from .types import AlloType, ArrayType, StreamType

__all__ = [
    "Alloc",
    "ArrayRef",
    "Assign",
    "Binary",
    "BitGet",
    "BitReverse",
    "BitSet",
    "BitSlice",
    "BitSliceSet",
    "Call",
    "Cast",
    "Const",
    "ConstArray",
    "Dataflow",
    "Decl",
    "Expr",
    "For",
    "Function",
    "If",
    "Load",
    "MathCall",
    "Module",
    "Param",
    "Return",
    "Select",
    "Stmt",
    "Store",
    "StreamGet",
    "StreamPut",
    "StreamRef",
    "Sym",
    "Unary",
    "Var",
    "While",
    "identifier",
    "read_vars",
    "walk",
]

_uids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Sym:
    """A symbol: a display name plus a unique id. Equality is by id."""

    name: str = field(compare=False)
    uid: int = field(default_factory=lambda: next(_uids))

    def __str__(self) -> str:
        return self.name


def identifier(name: str) -> str:
    """``name`` as an identifier (of a port, a parameter or a module): ``fifo_A[1,2]`` ->
    ``fifo_A_1_2``."""
    return re.sub(r"\W+", "_", name).strip("_")


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Const:
    """A constant: raw integer for integer-like types, Python float for float types."""

    value: int | float
    type: AlloType
    loc: Loc


@dataclass(frozen=True, slots=True)
class Var:
    """Read of a scalar: parameter, local or loop variable."""

    sym: Sym
    type: AlloType
    loc: Loc


@dataclass(frozen=True, slots=True)
class ArrayRef:
    """A whole array passed as a call argument or returned."""

    sym: Sym
    type: ArrayType
    loc: Loc


@dataclass(frozen=True, slots=True)
class StreamRef:
    """A stream passed as a call argument (only in the calls of a :class:`Dataflow`)."""

    sym: Sym
    type: StreamType
    loc: Loc


@dataclass(frozen=True, slots=True)
class StreamGet:
    """``stream.get()``: the oldest element of ``stream``; waits while the stream is empty."""

    stream: Sym
    type: AlloType
    loc: Loc


@dataclass(frozen=True, slots=True)
class Load:
    """Read of one array element ``buf[indices]``; indices are integer expressions."""

    buf: Sym
    indices: tuple[Expr, ...]
    type: AlloType
    loc: Loc


UNARY_OPS = ("neg", "invert", "not", "abs")

BINARY_OPS = (
    "add", "sub", "mul", "div", "floordiv", "mod", "pow",
    "shl", "shr", "and", "or", "xor",
    "eq", "ne", "lt", "le", "gt", "ge",
    "land", "lor", "min", "max",
)  # fmt: skip

COMPARE_OPS = ("eq", "ne", "lt", "le", "gt", "ge")


@dataclass(frozen=True, slots=True)
class Unary:
    """``-x`` (neg), ``~x`` (invert), ``not x`` (not), ``abs(x)`` (abs)."""

    op: str
    operand: Expr
    type: AlloType
    loc: Loc


@dataclass(frozen=True, slots=True)
class Binary:
    """A binary operation; ``op`` is one of ``BINARY_OPS``."""

    op: str
    lhs: Expr
    rhs: Expr
    type: AlloType
    loc: Loc


@dataclass(frozen=True, slots=True)
class Cast:
    """Conversion of ``operand`` to ``type`` (docs/semantics.md, Conversion)."""

    operand: Expr
    type: AlloType
    loc: Loc


@dataclass(frozen=True, slots=True)
class Select:
    """``then if cond else orelse``; both branches already have ``type``."""

    cond: Expr
    then: Expr
    orelse: Expr
    type: AlloType
    loc: Loc


@dataclass(frozen=True, slots=True)
class BitGet:
    """Bit ``index`` of ``operand`` (type ``bool``)."""

    operand: Expr
    index: Expr
    type: AlloType
    loc: Loc


@dataclass(frozen=True, slots=True)
class BitSlice:
    """Bits ``lo .. hi-1`` of ``operand`` as ``UInt(hi - lo)``."""

    operand: Expr
    lo: int
    hi: int
    type: AlloType
    loc: Loc


@dataclass(frozen=True, slots=True)
class BitSet:
    """``operand`` with bit ``index`` replaced by ``value`` (a ``bool``)."""

    operand: Expr
    index: Expr
    value: Expr
    type: AlloType
    loc: Loc


@dataclass(frozen=True, slots=True)
class BitSliceSet:
    """``operand`` with bits ``lo .. hi-1`` replaced by ``value`` (a ``UInt(hi - lo)``)."""

    operand: Expr
    lo: int
    hi: int
    value: Expr
    type: AlloType
    loc: Loc


@dataclass(frozen=True, slots=True)
class BitReverse:
    """``operand`` with the order of its bits reversed."""

    operand: Expr
    type: AlloType
    loc: Loc


MATH_FUNCS = ("exp", "log", "log2", "log10", "sqrt", "sin", "cos", "tan", "tanh", "power")


@dataclass(frozen=True, slots=True)
class MathCall:
    """A float math function from ``MATH_FUNCS``; arguments already have ``type``."""

    func: str
    args: tuple[Expr, ...]
    type: AlloType
    loc: Loc


Expr = (
    Const
    | Var
    | ArrayRef
    | Load
    | Unary
    | Binary
    | Cast
    | Select
    | BitGet
    | BitSlice
    | BitSet
    | BitSliceSet
    | BitReverse
    | MathCall
    | StreamRef
    | StreamGet
)

# ---------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True, eq=False)
class ConstArray:
    """Constant array contents (a read-only NumPy array of raw values), e.g. a ROM."""

    data: np.ndarray

    def __post_init__(self) -> None:
        self.data.setflags(write=False)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ConstArray)
            and self.data.shape == other.data.shape
            and bool(np.array_equal(self.data, other.data))
        )

    def __hash__(self) -> int:
        return hash((self.data.shape, self.data.tobytes()))


@dataclass(frozen=True, slots=True)
class Decl:
    """Declaration of a scalar local, optionally with an initial value of its type."""

    sym: Sym
    type: AlloType
    init: Expr | None
    loc: Loc


@dataclass(frozen=True, slots=True)
class Alloc:
    """Declaration of a local array, (re)initialised each time it executes.

    ``init`` is ``None`` (zeros), a scalar expression of the element type (fill), an
    :class:`ArrayRef` of the same shape (copy) or a :class:`ConstArray` of raw values.
    ``scratch`` (with ``init`` ``None``): no result depends on the contents before the first
    write (a reuse buffer: values read before they were written are shifted out unused), so
    the hardware leaves out the zero fill; the NumPy target still starts from zeros.
    """

    sym: Sym
    type: ArrayType
    init: Expr | ConstArray | None
    loc: Loc
    scratch: bool = False


@dataclass(frozen=True, slots=True)
class Assign:
    """``sym = value`` for a scalar; ``value`` has the type of ``sym``."""

    sym: Sym
    value: Expr
    loc: Loc


@dataclass(frozen=True, slots=True)
class Store:
    """``buf[indices] = value``; ``value`` has the element type of ``buf``."""

    buf: Sym
    indices: tuple[Expr, ...]
    value: Expr
    loc: Loc


@dataclass(frozen=True, slots=True)
class For:
    """A counted loop ``for var in range(lo, hi, step)``, ``var`` of type ``index``.

    ``lo`` and ``hi`` are evaluated once, on entry. ``name`` is the user-visible loop name
    (Allo's ``loop_name``: the variable name, or ``i.outer`` after a split); ``band`` the
    name of the loop band this loop belongs to (``S_i_0`` or ``name=`` of ``allo.grid``);
    ``kind`` is ``"range"``, ``"grid"`` or ``"reduction"``; ``attrs`` holds schedule
    annotations as sorted ``(key, value)`` pairs.
    """

    var: Sym
    lo: Expr
    hi: Expr
    step: int
    body: tuple[Stmt, ...]
    name: str
    band: str
    kind: str
    attrs: tuple[tuple[str, object], ...]
    loc: Loc


@dataclass(frozen=True, slots=True)
class If:
    """``if cond: then else: orelse`` (``cond`` is a ``bool``)."""

    cond: Expr
    then: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...]
    loc: Loc


@dataclass(frozen=True, slots=True)
class While:
    """``while cond: body`` (``cond`` re-evaluated before every iteration)."""

    cond: Expr
    body: tuple[Stmt, ...]
    loc: Loc


@dataclass(frozen=True, slots=True)
class Call:
    """Call of another kernel of the module.

    ``args`` are scalar expressions (already of the parameter types) or :class:`ArrayRef`
    (passed by reference). ``results`` are the declared locals that receive the returned
    values, in order.
    """

    callee: Sym
    args: tuple[Expr, ...]
    results: tuple[Sym, ...]
    loc: Loc


@dataclass(frozen=True, slots=True)
class StreamPut:
    """``stream.put(value)``: appends ``value``; waits while the stream is full."""

    stream: Sym
    value: Expr
    loc: Loc


@dataclass(frozen=True, slots=True)
class Dataflow:
    """A dataflow region: declares ``streams`` and runs ``tasks`` (calls) concurrently.

    A task starts as soon as the tasks listed in ``deps[n]`` (indices of earlier tasks; empty:
    none, also when ``deps`` is empty) have returned; the statement ends when all have
    returned. Tasks communicate through the streams (passed as :class:`StreamRef` arguments)
    and through arrays they share, which ``deps`` orders. Each stream connects exactly one
    producer task to one consumer task.

    As the body of a dataflow loop (a :class:`For` with the ``dataflow`` attribute) the tasks
    also overlap across iterations: ``carried[n]`` lists ``(m, lag)`` pairs, a later task ``m``
    whose iteration ``i - lag`` must have returned before task ``n`` starts iteration ``i``
    (lag 1: they share an array; lag 2: they share a buffer declared in the loop body, which
    is double-buffered).
    """

    streams: tuple[tuple[Sym, StreamType], ...]
    tasks: tuple[Call, ...]
    loc: Loc
    deps: tuple[tuple[int, ...], ...] = ()
    carried: tuple[tuple[tuple[int, int], ...], ...] = ()

    def after(self, n: int) -> tuple[int, ...]:
        """The tasks task ``n`` waits for."""
        return self.deps[n] if self.deps else ()

    def carried_after(self, n: int) -> tuple[tuple[int, int], ...]:
        """The ``(task, lag)`` pairs task ``n`` waits for across iterations of its loop."""
        return self.carried[n] if self.carried else ()


@dataclass(frozen=True, slots=True)
class Return:
    """Return from the kernel; only the last statement of a function body."""

    values: tuple[Expr, ...]
    loc: Loc


Stmt = Decl | Alloc | Assign | Store | For | If | While | Call | StreamPut | Dataflow | Return

# ---------------------------------------------------------------- functions


@dataclass(frozen=True, slots=True)
class Param:
    """A kernel parameter: scalar (by value) or array (by reference)."""

    sym: Sym
    type: AlloType | ArrayType
    loc: Loc


@dataclass(frozen=True, slots=True)
class Layout:
    """How an array is split into banks, per dimension (Allo's ``partition``).

    ``kinds[d]`` is ``"none"``, ``"complete"`` (one bank per index: registers), ``"block"``
    (``factors[d]`` contiguous blocks) or ``"cyclic"`` (index ``i`` goes to bank
    ``i % factors[d]``). Element ``A[i, j]`` lives in bank ``(bank_0(i), bank_1(j))`` at the
    row-major offset of ``(offset_0(i), offset_1(j))`` within the bank.
    """

    kinds: tuple[str, ...]
    factors: tuple[int, ...]
    # where each dimension's partition was asked for (the schedule line), for error messages
    locs: tuple[Loc | None, ...] = field(default=(), compare=False)

    def banks(self, dim: int, extent: int) -> int:
        """How many banks dimension ``dim`` (of ``extent`` indices) is split into."""
        kind = self.kinds[dim]
        return extent if kind == "complete" else 1 if kind == "none" else self.factors[dim]

    def bank_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """Banks per dimension of an array of ``shape``."""
        return tuple(self.banks(d, n) for d, n in enumerate(shape))

    def bank_extent(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """Elements per bank along each dimension."""
        return tuple(n // b for n, b in zip(shape, self.bank_shape(shape)))

    def split(self, dim: int, extent: int, i: int) -> tuple[int, int]:
        """(bank, offset within the bank) of index ``i`` of dimension ``dim``."""
        kind, banks = self.kinds[dim], self.banks(dim, extent)
        if kind == "cyclic":
            return i % banks, i // banks
        size = extent // banks
        return i // size, i % size

    def locate(self, shape: tuple[int, ...], index: tuple[int, ...]) -> tuple[int, int]:
        """(flat bank number, row-major offset within the bank) of element ``index``."""
        bank = offset = 0
        for d, (n, i) in enumerate(zip(shape, index)):
            b, o = self.split(d, n, i)
            bank = bank * self.banks(d, n) + b
            offset = offset * (n // self.banks(d, n)) + o
        return bank, offset

    def __str__(self) -> str:
        parts = [
            k if k in ("none", "complete") else f"{k}({f})"
            for k, f in zip(self.kinds, self.factors)
        ]
        return f"partition[{', '.join(parts)}]"


@dataclass(frozen=True, slots=True)
class Function:
    """A kernel. ``returns`` lists the types of the returned values (empty: none)."""

    sym: Sym
    params: tuple[Param, ...]
    returns: tuple[AlloType | ArrayType, ...]
    body: tuple[Stmt, ...]
    loc: Loc
    layouts: tuple[tuple[Sym, Layout], ...] = ()  # partitioned arrays (params and locals)

    def layout(self, sym: Sym) -> Layout | None:
        """The partitioning of array ``sym``, or ``None`` (one memory)."""
        for key, value in self.layouts:
            if key == sym:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Module:
    """A set of kernels; ``top`` is the one a build runs. Callees come before callers."""

    funcs: tuple[Function, ...]
    top: Sym

    def func(self, sym_or_name: Sym | str) -> Function:
        """The function with this symbol or name; ``KeyError`` if none."""
        for fn in self.funcs:
            if fn.sym == sym_or_name or fn.sym.name == sym_or_name:
                return fn
        raise KeyError(sym_or_name)

    @property
    def top_func(self) -> Function:
        return self.func(self.top)

    def __str__(self) -> str:
        from ._printer import format_module

        return format_module(self)


EXPR_TYPES = (
    Const, Var, ArrayRef, Load, Unary, Binary, Cast, Select,
    BitGet, BitSlice, BitSet, BitSliceSet, BitReverse, MathCall, StreamRef, StreamGet,
)  # fmt: skip
STMT_TYPES = (Decl, Alloc, Assign, Store, For, If, While, Call, StreamPut, Dataflow, Return)
NODE_TYPES = EXPR_TYPES + STMT_TYPES + (Param, Function, Module)


def children(node: object) -> Iterator[object]:
    """The direct child nodes of ``node`` (expressions, statements, params, functions)."""
    for f in fields(node):  # type: ignore[arg-type]
        value = getattr(node, f.name)
        if isinstance(value, tuple):
            for item in value:
                if isinstance(item, NODE_TYPES):
                    yield item
        elif isinstance(value, NODE_TYPES):
            yield value


def read_vars(roots: Iterable[object]) -> set[Sym]:
    """The symbols of the variables the expressions ``roots`` read (``None`` entries are
    skipped). Each node is visited once: expressions built by forwarding share subtrees, and
    ``walk`` would visit a shared subtree once per path to it."""
    seen: set[int] = set()
    out: set[Sym] = set()
    stack = [e for e in roots if e is not None]
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, Var):
            out.add(e.sym)
        stack.extend(children(e))
    return out


def walk(node: object) -> Iterator[object]:
    """Every node under ``node`` (itself included), in pre-order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(children(current))))
