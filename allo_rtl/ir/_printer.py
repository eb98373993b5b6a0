"""A readable, stable text form of the IR (used by ``print(s.module)`` and golden tests).

The form is Python-like. Casts print as ``type(x)``; loops show their band, name and kind in a
trailing comment, plus any schedule attributes. Two different symbols with one name in a function
print as ``x`` and ``x#1``.
"""

from __future__ import annotations

from ._nodes import (
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
)  # fmt: skip
from ._visitor import ExprVisitor, StmtVisitor
from .types import Float

__all__ = ["format_function", "format_module"]

_BINARY = {
    "add": "+", "sub": "-", "mul": "*", "div": "/", "floordiv": "//", "mod": "%",
    "pow": "**", "shl": "<<", "shr": ">>", "and": "&", "or": "|", "xor": "^",
    "eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=",
    "land": "and", "lor": "or",
}  # fmt: skip
_UNARY = {"neg": "-", "invert": "~", "not": "not "}


class _Names:
    """Stable display names: the first symbol named ``x`` prints ``x``, the next ``x#1``."""

    def __init__(self) -> None:
        self._names: dict[Sym, str] = {}
        self._count: dict[str, int] = {}

    def __call__(self, sym: Sym) -> str:
        if sym not in self._names:
            n = self._count.get(sym.name, 0)
            self._count[sym.name] = n + 1
            self._names[sym] = sym.name if n == 0 else f"{sym.name}#{n}"
        return self._names[sym]


def _const_text(value: int | float, type_: object) -> str:
    if isinstance(type_, Float):
        return repr(float(value))
    if getattr(type_, "fracs", 0):
        return f"{value}/2**{type_.fracs}"  # type: ignore[attr-defined]
    return str(value)


class _ExprPrinter(ExprVisitor):
    def __init__(self, names: _Names) -> None:
        self.names = names

    def visit_Const(self, e: Const) -> str:
        return _const_text(e.value, e.type)

    def visit_Var(self, e: Var) -> str:
        return self.names(e.sym)

    def visit_ArrayRef(self, e: ArrayRef) -> str:
        return self.names(e.sym)

    def visit_Load(self, e: Load) -> str:
        return f"{self.names(e.buf)}[{', '.join(self.visit(i) for i in e.indices)}]"

    def visit_Unary(self, e: Unary) -> str:
        if e.op == "abs":
            return f"abs({self.visit(e.operand)})"
        return f"({_UNARY[e.op]}{self.visit(e.operand)})"

    def visit_Binary(self, e: Binary) -> str:
        if e.op in ("min", "max"):
            return f"{e.op}({self.visit(e.lhs)}, {self.visit(e.rhs)})"
        return f"({self.visit(e.lhs)} {_BINARY[e.op]} {self.visit(e.rhs)})"

    def visit_Cast(self, e: Cast) -> str:
        return f"{e.type}({self.visit(e.operand)})"

    def visit_Select(self, e: Select) -> str:
        return f"({self.visit(e.then)} if {self.visit(e.cond)} else {self.visit(e.orelse)})"

    def visit_BitGet(self, e: BitGet) -> str:
        return f"{self.visit(e.operand)}[{self.visit(e.index)}]"

    def visit_BitSlice(self, e: BitSlice) -> str:
        return f"{self.visit(e.operand)}[{e.lo}:{e.hi}]"

    def visit_BitSet(self, e: BitSet) -> str:
        args = f"{self.visit(e.operand)}, {self.visit(e.index)}, {self.visit(e.value)}"
        return f"set_bit({args})"

    def visit_BitSliceSet(self, e: BitSliceSet) -> str:
        return f"set_bits({self.visit(e.operand)}, {e.lo}, {e.hi}, {self.visit(e.value)})"

    def visit_BitReverse(self, e: BitReverse) -> str:
        return f"{self.visit(e.operand)}.reverse()"

    def visit_MathCall(self, e: MathCall) -> str:
        return f"{e.func}({', '.join(self.visit(a) for a in e.args)})"

    def visit_StreamRef(self, e: StreamRef) -> str:
        return self.names(e.sym)

    def visit_StreamGet(self, e: StreamGet) -> str:
        return f"{self.names(e.stream)}.get()"


class _StmtPrinter(StmtVisitor):
    def __init__(self, names: _Names) -> None:
        self.names = names
        self.expr = _ExprPrinter(names)
        self.lines: list[str] = []
        self.depth = 1

    def emit(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)

    def block(self, body: tuple) -> None:
        self.depth += 1
        for stmt in body or ():
            self.visit(stmt)
        if not body:
            self.emit("pass")
        self.depth -= 1

    def visit_Decl(self, s: Decl) -> None:
        init = "" if s.init is None else f" = {self.expr.visit(s.init)}"
        self.emit(f"{self.names(s.sym)}: {s.type}{init}")

    def visit_Alloc(self, s: Alloc) -> None:
        if s.init is None:
            init = ""
        elif isinstance(s.init, ConstArray):
            init = f" = const{list(s.init.data.shape)}"
        else:
            init = f" = {self.expr.visit(s.init)}"
        scratch = "  # scratch" if s.scratch else ""
        self.emit(f"{self.names(s.sym)}: {s.type}{init}{scratch}")

    def visit_Assign(self, s: Assign) -> None:
        self.emit(f"{self.names(s.sym)} = {self.expr.visit(s.value)}")

    def visit_Store(self, s: Store) -> None:
        idx = ", ".join(self.expr.visit(i) for i in s.indices)
        self.emit(f"{self.names(s.buf)}[{idx}] = {self.expr.visit(s.value)}")

    def visit_For(self, s: For) -> None:
        step = "" if s.step == 1 else f", {s.step}"
        rng = f"range({self.expr.visit(s.lo)}, {self.expr.visit(s.hi)}{step})"
        attrs = "".join(f" {k}={v!r}" for k, v in s.attrs)
        self.emit(f"for {self.names(s.var)} in {rng}:  # {s.band}.{s.name} {s.kind}{attrs}")
        self.block(s.body)

    def visit_If(self, s: If) -> None:
        self.emit(f"if {self.expr.visit(s.cond)}:")
        self.block(s.then)
        if s.orelse:
            self.emit("else:")
            self.block(s.orelse)

    def visit_While(self, s: While) -> None:
        self.emit(f"while {self.expr.visit(s.cond)}:")
        self.block(s.body)

    def visit_Call(self, s: Call) -> None:
        call = f"{s.callee.name}({', '.join(self.expr.visit(a) for a in s.args)})"
        if s.results:
            call = f"{', '.join(self.names(r) for r in s.results)} = {call}"
        self.emit(call)

    def visit_StreamPut(self, s: StreamPut) -> None:
        self.emit(f"{self.names(s.stream)}.put({self.expr.visit(s.value)})")

    def visit_Dataflow(self, s: Dataflow) -> None:
        self.emit("dataflow:")
        self.depth += 1
        for sym, t in s.streams:
            self.emit(f"{self.names(sym)}: {t}")
        for n, task in enumerate(s.tasks):
            self.visit(task)
            notes = [s.tasks[d].callee.name for d in s.after(n)]
            notes += [
                f"{s.tasks[m].callee.name} (iteration -{lag})" for m, lag in s.carried_after(n)
            ]
            if notes:
                self.lines[-1] += f"  # after {', '.join(notes)}"
        self.depth -= 1

    def visit_Return(self, s: Return) -> None:
        self.emit(f"return {', '.join(self.expr.visit(v) for v in s.values)}".rstrip())


def format_function(fn: Function) -> str:
    """The text form of one function."""
    names = _Names()
    printer = _StmtPrinter(names)
    params = ", ".join(f"{names(p.sym)}: {p.type}" for p in fn.params)
    rets = ", ".join(str(t) for t in fn.returns)
    head = f"def {fn.sym.name}({params})" + (f" -> {rets}" if fn.returns else "") + ":"
    layouts = [f"# {names(sym)}: {layout}" for sym, layout in fn.layouts]
    printer.block(fn.body)
    printer.lines = [line[4:] for line in printer.lines]
    return "\n".join([*layouts, head, *printer.lines])


def format_module(module: Module) -> str:
    """The text form of a module: its functions, callees first."""
    return "\n\n".join(format_function(fn) for fn in module.funcs) + "\n"
