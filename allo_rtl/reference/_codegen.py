"""Kernel IR -> Python source that computes exactly what docs/semantics.md defines.

Integer-like arithmetic runs on Python ints. A simple interval analysis (constant loop bounds,
type ranges) drops the wrap-around and index checks that provably cannot trigger, so the hot loop
of an int32 GEMM is plain Python: ``C[i][j] = wrap32(C[i][j] + A[i][k] * B[k][j])``.
"""

from __future__ import annotations

from typing import Any

from ..ir._nodes import (
    Alloc,
    ArrayRef,
    Assign,
    Binary,
    BitGet,
    BitReverse,
    BitSet,
    BitSlice,
    BitSliceSet,
    Call,
    Cast,
    Const,
    ConstArray,
    Dataflow,
    Decl,
    Expr,
    For,
    Function,
    If,
    Load,
    MathCall,
    Module,
    Return,
    Select,
    Store,
    StreamGet,
    StreamPut,
    StreamRef,
    Sym,
    Unary,
    Var,
    While,
    walk,
)  # fmt: skip
from ..ir._visitor import ExprVisitor, StmtVisitor
from ..ir.types import AlloType, ArrayType, Float
from ._dataflow import FifoStats
from ._runtime import make_float

__all__ = ["generate"]

Interval = tuple[int, int] | None
_OPS = {
    "add": "+",
    "sub": "-",
    "mul": "*",
    "and": "&",
    "or": "|",
    "xor": "^",
    "land": "&",
    "lor": "|",
}
_CMP = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_FLOAT_OPS = {"add": "+", "sub": "-", "mul": "*", "div": "/"}


def _range(t: AlloType) -> Interval:
    return None if t.is_float else (t.min_raw, t.max_raw)


def _fits(iv: Interval, t: AlloType) -> bool:
    return iv is not None and t.min_raw <= iv[0] and iv[1] <= t.max_raw


def _scale(iv: Interval, shift: int) -> Interval:
    if iv is None:
        return None
    return (iv[0] << shift, iv[1] << shift) if shift >= 0 else (iv[0] >> -shift, iv[1] >> -shift)


class _Names:
    def __init__(self) -> None:
        self.names: dict[Sym, str] = {}
        self.used: set[str] = set()

    def __call__(self, sym: Sym) -> str:
        if sym not in self.names:
            base = f"v_{sym.name}" if sym.name.isidentifier() else f"v{sym.uid}"
            name, n = base, 1
            while name in self.used:
                name, n = f"{base}_{n}", n + 1
            self.used.add(name)
            self.names[sym] = name
        return self.names[sym]


class _Exprs(ExprVisitor):
    """Each visit returns ``(code, interval)``; the interval bounds the raw value, or None."""

    def __init__(self, gen: _FunctionGen) -> None:
        self.gen = gen

    def wrap(self, code: str, iv: Interval, t: AlloType) -> tuple[str, Interval]:
        if _fits(iv, t):
            return code, iv
        return self.gen.wrap_code(code, t), _range(t)

    def visit_Const(self, e: Const) -> tuple[str, Interval]:
        if isinstance(e.type, Float):
            return self.gen.float_const(e.value, e.type), None
        return repr(int(e.value)), (int(e.value), int(e.value))

    def visit_Var(self, e: Var) -> tuple[str, Interval]:
        return self.gen.names(e.sym), self.gen.intervals.get(e.sym, _range(e.type))

    def visit_ArrayRef(self, e: ArrayRef) -> tuple[str, Interval]:
        return self.gen.names(e.sym), None

    def visit_Load(self, e: Load) -> tuple[str, Interval]:
        return self.gen.element(e.buf, e.indices, e.loc), _range(e.type)

    def visit_StreamRef(self, e: StreamRef) -> tuple[str, Interval]:
        return self.gen.names(e.sym), None

    def visit_StreamGet(self, e: StreamGet) -> tuple[str, Interval]:
        return f"(yield from _get({self.gen.names(e.stream)}))", _range(e.type)

    def visit_Unary(self, e: Unary) -> tuple[str, Interval]:
        code, iv = self.visit(e.operand)
        t = e.type
        if e.op == "not":
            return f"(1 - {code})", (0, 1)
        if t.is_float:
            return (f"(-{code})" if e.op == "neg" else f"abs({code})"), None
        if e.op == "neg":
            return self.wrap(f"(-{code})", None if iv is None else (-iv[1], -iv[0]), t)
        if e.op == "abs":
            bound = None if iv is None else (0, max(abs(iv[0]), abs(iv[1])))
            return self.wrap(f"abs({code})", bound, t)
        return self.wrap(f"(~{code})", None if iv is None else (~iv[1], ~iv[0]), t)

    def visit_Binary(self, e: Binary) -> tuple[str, Interval]:
        if e.lhs.type.is_float and e.op not in ("land", "lor"):
            return self.float_binary(e), (0, 1) if e.type.bits == 1 and e.type.is_integer else None
        return self.int_binary(e)

    def float_binary(self, e: Binary) -> str:
        a, _ = self.visit(e.lhs)
        b, _ = self.visit(e.rhs)
        if e.op in _CMP:
            return f"int({a} {_CMP[e.op]} {b})"
        if e.op in _FLOAT_OPS:
            code = f"({a} {_FLOAT_OPS[e.op]} {b})"
        elif e.op in ("min", "max"):
            code = f"_f{e.op}({a}, {b})"
        elif e.op == "pow":  # the ufunc, as NumPy arrays use (scalar ** differs by an ulp)
            code = f"_np.power({a}, {b})"
        elif e.op == "floordiv":
            code = f"_np.floor_divide({a}, {b})"
        elif e.op == "mod":
            code = f"_np.fmod({a}, {b})"
        else:
            raise AssertionError(f"unverified float op {e.op}")
        return f"_bf16{code}" if e.type.name == "bfloat16" else code

    def int_binary(self, e: Binary) -> tuple[str, Interval]:
        (a, ia), (b, ib) = self.visit(e.lhs), self.visit(e.rhs)
        t, op = e.type, e.op
        if op in _CMP:
            return f"int({a} {_CMP[op]} {b})", (0, 1)
        if op in ("add", "sub"):
            fa, fb = t.fracs - e.lhs.type.fracs, t.fracs - e.rhs.type.fracs
            a, b = self.gen.shift_code(a, fa), self.gen.shift_code(b, fb)
            ia, ib = _scale(ia, fa), _scale(ib, fb)
            iv = (
                None
                if ia is None or ib is None
                else (
                    (ia[0] + ib[0], ia[1] + ib[1])
                    if op == "add"
                    else (ia[0] - ib[1], ia[1] - ib[0])
                )
            )
            return self.wrap(f"({a} {_OPS[op]} {b})", iv, t)
        if op == "mul":
            iv = None
            if ia is not None and ib is not None:
                corners = [x * y for x in ia for y in ib]
                iv = (min(corners), max(corners))
            return self.wrap(f"({a} * {b})", iv, t)
        if op in ("and", "or", "xor", "land", "lor"):
            return f"({a} {_OPS[op]} {b})", _range(t) if op not in ("land", "lor") else (0, 1)
        if op in ("min", "max"):
            return f"{op}({a}, {b})", _range(t)
        return self.int_special(e, a, b, ib), _range(t)

    def int_special(self, e: Binary, a: str, b: str, ib: Interval) -> str:
        t, op = e.type, e.op
        tn = self.gen.type_ref(t)
        if op in ("div", "floordiv"):
            if t.fracs or e.lhs.type.fracs or e.rhs.type.fracs:
                floor = op == "floordiv"
                return (
                    f"_fixed_div({a}, {e.lhs.type.fracs}, {b}, {e.rhs.type.fracs}, {tn}, {floor})"
                )
            return f"_{'c' if op == 'div' else 'f'}div({a}, {b}, {tn})"
        if op == "mod":
            fa, fb = t.fracs - e.lhs.type.fracs, t.fracs - e.rhs.type.fracs
            return f"_cmod({self.gen.shift_code(a, fa)}, {self.gen.shift_code(b, fb)}, {tn})"
        amount = b if ib is not None and ib[0] >= 0 else f"_shamt({b}, {e.rhs.type.bits})"
        if op == "shl":
            return f"_shl({a}, {amount}, {tn})"
        if op == "shr":
            if ib is not None and ib[0] >= 0 and ib[1] < t.bits:
                return f"({a} >> {b})"
            return f"({a} >> min({amount}, {t.bits}))"
        raise AssertionError(f"unverified integer op {op}")

    def visit_Cast(self, e: Cast) -> tuple[str, Interval]:
        code, iv = self.visit(e.operand)
        src, dst = e.operand.type, e.type
        if src == dst:
            return code, iv
        if src.is_integer_like and dst.is_integer_like:
            shift = dst.fracs - src.fracs
            return self.wrap(self.gen.shift_code(code, shift), _scale(iv, shift), dst)
        if dst.name in ("float32", "float64") and src.is_integer and _exact_in_float32(iv):
            return f"_np.{dst.name}({code})", None
        if src.is_float and dst.is_float and dst.bits > src.bits and dst.name != "bfloat16":
            return f"_np.{dst.name}({code})", None
        return f"_convert({code}, {self.gen.type_ref(src)}, {self.gen.type_ref(dst)})", _range(dst)

    def visit_Select(self, e: Select) -> tuple[str, Interval]:
        (c, _), (a, ia), (b, ib) = self.visit(e.cond), self.visit(e.then), self.visit(e.orelse)
        iv = None if ia is None or ib is None else (min(ia[0], ib[0]), max(ia[1], ib[1]))
        return f"({a} if {c} else {b})", iv

    def visit_BitGet(self, e: BitGet) -> tuple[str, Interval]:
        (a, _), (i, ii) = self.visit(e.operand), self.visit(e.index)
        if ii is not None and 0 <= ii[0] and ii[1] < 1 << 16:
            return f"(({a} >> {i}) & 1)", (0, 1)
        return f"_get_bit({a}, _shamt({i}, {e.index.type.bits}))", (0, 1)

    def visit_BitSlice(self, e: BitSlice) -> tuple[str, Interval]:
        a, _ = self.visit(e.operand)
        return f"(({a} >> {e.lo}) & {(1 << (e.hi - e.lo)) - 1})", _range(e.type)

    def visit_BitSet(self, e: BitSet) -> tuple[str, Interval]:
        (a, _), (i, _), (v, _) = self.visit(e.operand), self.visit(e.index), self.visit(e.value)
        i = f"_shamt({i}, {e.index.type.bits})"
        return f"_set_bit({a}, {i}, {v}, {self.gen.type_ref(e.type)})", _range(e.type)

    def visit_BitSliceSet(self, e: BitSliceSet) -> tuple[str, Interval]:
        (a, _), (v, _) = self.visit(e.operand), self.visit(e.value)
        tn = self.gen.type_ref(e.type)
        return f"_set_bits({a}, {e.lo}, {e.hi}, {v}, {tn})", _range(e.type)

    def visit_BitReverse(self, e: BitReverse) -> tuple[str, Interval]:
        a, _ = self.visit(e.operand)
        return f"_reverse_bits({a}, {self.gen.type_ref(e.type)})", _range(e.type)

    def visit_MathCall(self, e: MathCall) -> tuple[str, Interval]:
        args = ", ".join(self.visit(a)[0] for a in e.args)
        code = f"_np.{e.func}({args})"
        return (f"_bf16({code})" if e.type.name == "bfloat16" else code), None


def _exact_in_float32(iv: Interval) -> bool:
    """Integers in this interval convert to float32 (and float64) without rounding."""
    return iv is not None and -(2**24) <= iv[0] and iv[1] <= 2**24


class _FunctionGen(StmtVisitor):
    """Generates one Python function for one IR function."""

    def __init__(self, fn: Function, consts: dict[str, Any], blocking: set[Sym]) -> None:
        self.fn = fn
        self.consts = consts
        self.blocking = blocking
        self.names = _Names()
        self.exprs = _Exprs(self)
        self.intervals: dict[Sym, Interval] = {}
        self.arrays: dict[Sym, ArrayType] = {}
        self.lines: list[str] = []
        self.depth = 1
        self.dataflow_loop = False  # inside the body of a dataflow loop

    # -- helpers used by the expression generator ------------------------------------------
    def const_ref(self, value: Any, prefix: str) -> str:
        name = f"_{prefix}{len(self.consts)}"
        self.consts[name] = value
        return name

    def type_ref(self, t: AlloType) -> str:
        for name, value in self.consts.items():
            if value is t or (isinstance(value, type(t)) and value == t):
                return name
        return self.const_ref(t, "t")

    def float_const(self, value: float, t: Float) -> str:
        return self.const_ref(make_float(value, t), "f")

    def wrap_code(self, code: str, t: AlloType) -> str:
        mask = (1 << t.bits) - 1
        if not t.signed:
            return f"({code} & {mask})"
        half = 1 << (t.bits - 1)
        return f"((({code}) + {half} & {mask}) - {half})"

    def shift_code(self, code: str, shift: int) -> str:
        if shift == 0:
            return code
        return f"({code} << {shift})" if shift > 0 else f"({code} >> {-shift})"

    def element(self, buf: Sym, indices: tuple[Expr, ...], loc: Any) -> str:
        shape = self.arrays[buf].shape
        parts = []
        for idx, dim in zip(indices, shape):
            code, iv = self.exprs.visit(idx)
            if iv is None or iv[0] < 0 or iv[1] >= dim:
                code = f"_check({code}, {dim}, {buf.name!r}, {str(loc)!r})"
            parts.append(f"[{code}]")
        return self.names(buf) + "".join(parts)

    # -- statements ------------------------------------------------------------------------
    def emit(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def body(self, stmts: tuple) -> None:
        self.depth += 1
        if not stmts:
            self.emit("pass")
        for s in stmts:
            self.visit(s)
        self.depth -= 1

    def visit_Decl(self, s: Decl) -> None:
        if s.init is not None:
            self.emit(f"{self.names(s.sym)} = {self.exprs.visit(s.init)[0]}")

    def visit_Alloc(self, s: Alloc) -> None:
        self.arrays[s.sym] = s.type
        name = self.names(s.sym)
        if isinstance(s.init, ConstArray):
            data = self.const_ref(_nested(s.init.data, s.type.dtype), "rom")
            self.emit(f"{name} = _deepcopy({data})")
        elif isinstance(s.init, ArrayRef):
            self.emit(f"{name} = _deepcopy({self.names(s.init.sym)})")
        else:
            zero = self.float_const(0.0, s.type.dtype) if s.type.dtype.is_float else "0"
            fill = zero if s.init is None else self.exprs.visit(s.init)[0]
            self.emit(f"{name} = _full({s.type.shape!r}, {fill})")

    def visit_Assign(self, s: Assign) -> None:
        self.emit(f"{self.names(s.sym)} = {self.exprs.visit(s.value)[0]}")

    def visit_Store(self, s: Store) -> None:
        self.emit(f"{self.element(s.buf, s.indices, s.loc)} = {self.exprs.visit(s.value)[0]}")

    def visit_For(self, s: For) -> None:
        (lo, ilo), (hi, ihi) = self.exprs.visit(s.lo), self.exprs.visit(s.hi)
        if ilo is not None and ihi is not None:
            # the values taken lie in [lo, hi - 1] (step > 0) or [hi + 1, lo] (step < 0)
            span = (ilo[0], ihi[1] - 1) if s.step > 0 else (ihi[0] + 1, ilo[1])
            self.intervals[s.var] = span if span[0] <= span[1] else (0, 0)
        step = "" if s.step == 1 else f", {s.step}"
        self.emit(f"for {self.names(s.var)} in range({lo}, {hi}{step}):")
        outer, self.dataflow_loop = self.dataflow_loop, bool(dict(s.attrs).get("dataflow"))
        self.body(s.body)
        self.dataflow_loop = outer

    def visit_If(self, s: If) -> None:
        self.emit(f"if {self.exprs.visit(s.cond)[0]}:")
        self.body(s.then)
        if s.orelse:
            self.emit("else:")
            self.body(s.orelse)

    def visit_While(self, s: While) -> None:
        self.emit(f"while {self.exprs.visit(s.cond)[0]}:")
        self.body(s.body)

    def visit_Call(self, s: Call) -> None:
        args = ", ".join(self.exprs.visit(a)[0] for a in s.args)
        call = f"f_{s.callee.name}({args})"
        if s.callee in self.blocking:
            call = f"(yield from {call})"
        if not s.results:
            self.emit(call)
            return
        temps = [f"_r{n}" for n in range(len(s.results))]
        self.emit(f"{', '.join(temps)}, = {call}")
        for tmp, sym in zip(temps, s.results):
            if sym in self.arrays:
                self.emit(f"_copy_into({self.names(sym)}, {tmp})")
            else:
                self.emit(f"{self.names(sym)} = {tmp}")

    def visit_StreamPut(self, s: StreamPut) -> None:
        self.emit(f"yield from _put({self.names(s.stream)}, {self.exprs.visit(s.value)[0]})")

    def visit_Dataflow(self, s: Dataflow) -> None:
        """The tasks run as generators under ``_run_dataflow`` (reference/_dataflow.py)."""
        for sym, t in s.streams:
            self.emit(f"{self.names(sym)} = _Stream({sym.name!r}, {t.depth})")
        tasks = []
        for task in s.tasks:
            args = ", ".join(self.exprs.visit(a)[0] for a in task.args)
            tasks.append(f"({task.callee.name!r}, f_{task.callee.name}({args}))")
        streams = ", ".join(self.names(sym) for sym, _ in s.streams)
        loc = self.const_ref(s.loc, "loc")
        deps = [s.after(n) for n in range(len(s.tasks))]
        self.emit(
            f"_run_dataflow({self.fn.sym.name!r}, {loc}, [{', '.join(tasks)}], [{streams}], "
            f"_fifo_stats, {deps!r}, {self.dataflow_loop})"
        )

    def visit_Return(self, s: Return) -> None:
        values = [self.exprs.visit(v)[0] for v in s.values]
        self.emit(f"return ({', '.join(values)},)")

    def generate(self) -> str:
        for p in self.fn.params:
            if isinstance(p.type, ArrayType):
                self.arrays[p.sym] = p.type
        params = ", ".join(self.names(p.sym) for p in self.fn.params)
        scalars = _scalar_locals(self.fn)
        for sym, t in scalars:
            self.emit(f"{self.names(sym)} = {self.float_const(0.0, t) if t.is_float else '0'}")
        if self.fn.sym in self.blocking:
            self.emit("yield from ()  # a generator: it runs as a dataflow task")
        self.body_top()
        return f"def f_{self.fn.sym.name}({params}):\n" + "\n".join(self.lines)

    def body_top(self) -> None:
        self.depth -= 1
        self.body(self.fn.body)
        self.depth += 1
        if not self.fn.returns:
            self.emit("return ()")


def _blocking(module: Module) -> set[Sym]:
    """Functions that run as generators: dataflow tasks and whatever uses a stream or calls a
    blocking function outside a dataflow statement (a region itself runs to completion)."""
    calls = [t for fn in module.funcs for n in walk(fn) if isinstance(n, Dataflow) for t in n.tasks]
    tasks = {id(t) for t in calls}
    blocking = {t.callee for t in calls}
    for fn in module.funcs:
        for n in walk(fn):
            if isinstance(n, (StreamGet, StreamPut)) or (
                isinstance(n, Call) and id(n) not in tasks and n.callee in blocking
            ):
                blocking.add(fn.sym)
                break
    return blocking


def _scalar_locals(fn: Function) -> list[tuple[Sym, AlloType]]:
    return [(n.sym, n.type) for n in walk(fn) if isinstance(n, Decl)]


def _nested(data: Any, t: AlloType) -> Any:
    if data.ndim == 1:
        return [make_float(float(v), t) if t.is_float else int(v) for v in data]
    return [_nested(row, t) for row in data]


def generate(module: Module) -> tuple[str, dict[str, Any]]:
    """Python source defining ``f_<name>`` for every function, and its constants."""
    consts: dict[str, Any] = {"_fifo_stats": FifoStats()}
    blocking = _blocking(module)
    parts = [_FunctionGen(fn, consts, blocking).generate() for fn in module.funcs]
    return "\n\n".join(parts) + "\n", consts
