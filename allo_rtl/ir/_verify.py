"""IR well-formedness checks, run after the frontend and after every transformation in tests.

``verify(module)`` raises :class:`InternalError` naming the node and its location when:
a symbol is used without a visible declaration or declared twice; a node's type disagrees with
its operands' (``Binary`` types must follow the typing rules, assignments and stores must already
carry the target's type, indices must be integers and match the array's rank); a ``Return`` is
not the last statement of a function or returns the wrong types; a ``Call`` names a function that
is not defined before the caller or passes arguments of the wrong types.
"""

from __future__ import annotations

from .._errors import InternalError
from ._nodes import (
    BINARY_OPS,
    MATH_FUNCS,
    UNARY_OPS,
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
from ._typerules import binary_result, unary_result
from ._visitor import ExprVisitor, StmtVisitor
from .types import AlloType, ArrayType, StreamType, UInt, index

__all__ = ["verify"]

_BOOL = UInt(1)


def _fail(node: object, message: str) -> InternalError:
    return InternalError(f"IR verification failed: {message} in {type(node).__name__}", node.loc)  # type: ignore[attr-defined]


class _Checker(ExprVisitor, StmtVisitor):
    node_types = ExprVisitor.node_types + StmtVisitor.node_types

    def __init__(self, module: Module, fn: Function, defined: dict[Sym, Function]) -> None:
        self.module = module
        self.fn = fn
        self.defined = defined
        self.scopes: dict[Sym, AlloType | ArrayType] = {}
        self.seen: set[Sym] = set()

    def declare(self, node: object, sym: Sym, type_: AlloType | ArrayType) -> None:
        if sym in self.seen:
            raise _fail(node, f"symbol {sym.name} declared twice")
        self.seen.add(sym)
        self.scopes[sym] = type_

    def lookup(self, node: object, sym: Sym) -> AlloType | ArrayType:
        if sym not in self.scopes:
            raise _fail(node, f"symbol {sym.name} used before its declaration")
        return self.scopes[sym]

    def expect(self, node: object, got: object, want: object, what: str) -> None:
        if got != want:
            raise _fail(node, f"{what} has type {got}, expected {want}")

    def index(self, node: object, indices: tuple, array: object) -> None:
        if not isinstance(array, ArrayType) or len(indices) != len(array.shape):
            raise _fail(node, f"{len(indices)} indices for {array}")
        for i in indices:
            if not self.sv(i).is_integer:
                raise _fail(node, "non-integer index")

    def sv(self, e: object) -> AlloType:
        """Check a scalar expression and return its type."""
        t = self.visit(e)
        if not isinstance(t, AlloType):
            raise _fail(e, "whole array used as a scalar")
        return t

    # expressions: return the type after checking
    def visit_Const(self, e: Const) -> AlloType:
        if e.type.is_integer_like and not (
            isinstance(e.value, int) and e.type.min_raw <= e.value <= e.type.max_raw
        ):
            raise _fail(e, f"constant {e.value!r} outside the range of {e.type}")
        return e.type

    def visit_Var(self, e: Var) -> AlloType:
        self.expect(e, self.lookup(e, e.sym), e.type, e.sym.name)
        return e.type

    def visit_ArrayRef(self, e: ArrayRef) -> ArrayType:
        self.expect(e, self.lookup(e, e.sym), e.type, e.sym.name)
        return e.type

    def visit_Load(self, e: Load) -> AlloType:
        array = self.lookup(e, e.buf)
        self.index(e, e.indices, array)
        self.expect(e, array.dtype, e.type, "element")  # type: ignore[union-attr]
        return e.type

    def visit_Unary(self, e: Unary) -> AlloType:
        if e.op not in UNARY_OPS:
            raise _fail(e, f"unknown operator {e.op!r}")
        self.expect(e, unary_result(e.op, self.sv(e.operand)), e.type, e.op)
        return e.type

    def visit_Binary(self, e: Binary) -> AlloType:
        if e.op not in BINARY_OPS:
            raise _fail(e, f"unknown operator {e.op!r}")
        lhs, rhs = self.sv(e.lhs), self.sv(e.rhs)
        if (lhs.is_float or rhs.is_float) and e.op not in ("pow", "land", "lor") and lhs != rhs:
            raise _fail(e, f"float operation on {lhs} and {rhs}")
        self.expect(e, binary_result(e.op, lhs, rhs), e.type, e.op)
        return e.type

    def visit_Cast(self, e: Cast) -> AlloType:
        self.sv(e.operand)
        return e.type

    def visit_Select(self, e: Select) -> AlloType:
        self.expect(e, self.sv(e.cond), _BOOL, "condition")
        self.expect(e, self.sv(e.then), e.type, "then")
        self.expect(e, self.sv(e.orelse), e.type, "else")
        return e.type

    def visit_BitGet(self, e: BitGet) -> AlloType:
        self.sv(e.operand)
        self.sv(e.index)
        self.expect(e, e.type, _BOOL, "bit")
        return e.type

    def visit_BitSlice(self, e: BitSlice) -> AlloType:
        if not 0 <= e.lo < e.hi:
            raise _fail(e, f"empty bit slice [{e.lo}:{e.hi}]")
        self.sv(e.operand)
        self.expect(e, e.type, UInt(e.hi - e.lo), "slice")
        return e.type

    def visit_BitSet(self, e: BitSet) -> AlloType:
        self.expect(e, self.sv(e.operand), e.type, "operand")
        self.sv(e.index)
        self.expect(e, self.sv(e.value), _BOOL, "bit value")
        return e.type

    def visit_BitSliceSet(self, e: BitSliceSet) -> AlloType:
        if not 0 <= e.lo < e.hi:
            raise _fail(e, f"empty bit slice [{e.lo}:{e.hi}]")
        self.expect(e, self.sv(e.operand), e.type, "operand")
        self.expect(e, self.sv(e.value), UInt(e.hi - e.lo), "slice value")
        return e.type

    def visit_BitReverse(self, e: BitReverse) -> AlloType:
        self.expect(e, self.sv(e.operand), e.type, "operand")
        return e.type

    def visit_MathCall(self, e: MathCall) -> AlloType:
        if e.func not in MATH_FUNCS or not e.type.is_float:
            raise _fail(e, f"math function {e.func!r} of type {e.type}")
        for a in e.args:
            self.expect(e, self.sv(a), e.type, "argument")
        return e.type

    def visit_StreamRef(self, e: StreamRef) -> StreamType:
        self.expect(e, self.lookup(e, e.sym), e.type, e.sym.name)
        return e.type

    def stream(self, node: object, sym: Sym) -> StreamType:
        t = self.lookup(node, sym)
        if not isinstance(t, StreamType):
            raise _fail(node, f"{sym.name} is not a stream")
        return t

    def visit_StreamGet(self, e: StreamGet) -> AlloType:
        self.expect(e, self.stream(e, e.stream).dtype, e.type, "element")
        return e.type

    # statements
    def body(self, stmts: tuple, last_may_return: bool = False) -> None:
        for n, stmt in enumerate(stmts):
            if isinstance(stmt, Return) and not (last_may_return and n == len(stmts) - 1):
                raise _fail(stmt, "return that is not the last statement of the function")
            self.visit(stmt)

    def visit_Decl(self, s: Decl) -> None:
        if not isinstance(s.type, AlloType):
            raise _fail(s, f"scalar declaration of type {s.type}")
        if s.init is not None:
            self.expect(s, self.sv(s.init), s.type, "initial value")
        self.declare(s, s.sym, s.type)

    def visit_Alloc(self, s: Alloc) -> None:
        if isinstance(s.init, ArrayRef):
            self.expect(s, self.visit(s.init), s.type, "copied array")
        elif s.init is not None and not isinstance(s.init, ConstArray):
            self.expect(s, self.sv(s.init), s.type.dtype, "fill value")
        elif isinstance(s.init, ConstArray):
            self.expect(s, s.init.data.shape, s.type.shape, "constant data shape")
        self.declare(s, s.sym, s.type)

    def visit_Assign(self, s: Assign) -> None:
        self.expect(s, self.sv(s.value), self.lookup(s, s.sym), s.sym.name)

    def visit_Store(self, s: Store) -> None:
        array = self.lookup(s, s.buf)
        self.index(s, s.indices, array)
        self.expect(s, self.sv(s.value), array.dtype, "stored value")  # type: ignore[union-attr]

    def visit_For(self, s: For) -> None:
        if not (self.sv(s.lo).is_integer and self.sv(s.hi).is_integer) or s.step == 0:
            raise _fail(s, "loop bounds must be integers and the step non-zero")
        self.declare(s, s.var, index)
        self.body(s.body)
        del self.scopes[s.var]

    def visit_If(self, s: If) -> None:
        self.expect(s, self.sv(s.cond), _BOOL, "condition")
        self.body(s.then)
        self.body(s.orelse)

    def visit_While(self, s: While) -> None:
        self.expect(s, self.sv(s.cond), _BOOL, "condition")
        self.body(s.body)

    def visit_Call(self, s: Call) -> None:
        callee = self.defined.get(s.callee)
        if callee is None:
            raise _fail(s, f"call of {s.callee.name}, which is not defined before {self.fn.sym}")
        if len(s.args) != len(callee.params) or len(s.results) != len(callee.returns):
            raise _fail(s, f"call of {s.callee.name} with the wrong number of values")
        for arg, param in zip(s.args, callee.params):
            self.expect(s, self.visit(arg), param.type, f"argument {param.sym.name}")
        for res, ret in zip(s.results, callee.returns):
            self.expect(s, self.lookup(s, res), ret, f"result {res.name}")

    def visit_StreamPut(self, s: StreamPut) -> None:
        self.expect(s, self.sv(s.value), self.stream(s, s.stream).dtype, "put value")

    def visit_Dataflow(self, s: Dataflow) -> None:
        for sym, t in s.streams:
            self.declare(s, sym, t)
        for task in s.tasks:
            self.visit(task)
        if s.deps and (
            len(s.deps) != len(s.tasks)
            or any(not all(0 <= d < n for d in ds) for n, ds in enumerate(s.deps))
        ):
            raise _fail(s, "dataflow dependences must name earlier tasks")
        if s.carried and (
            len(s.carried) != len(s.tasks)
            or any(not all(n < m < len(s.tasks) and lag > 0 for m, lag in c)
                   for n, c in enumerate(s.carried))
        ):  # fmt: skip
            raise _fail(s, "dataflow loop dependences must name later tasks")
        for sym, _ in s.streams:
            del self.scopes[sym]

    def visit_Return(self, s: Return) -> None:
        types = tuple(self.visit(v) for v in s.values)
        self.expect(s, types, self.fn.returns, "return")


def verify(module: Module) -> Module:
    """Check ``module``; return it unchanged or raise :class:`InternalError`."""
    defined: dict[Sym, Function] = {}
    for fn in module.funcs:
        checker = _Checker(module, fn, defined)
        for p in fn.params:
            checker.declare(p, p.sym, p.type)
        checker.body(fn.body, last_may_return=True)
        if fn.returns and not (fn.body and isinstance(fn.body[-1], Return)):
            raise _fail(fn, f"function {fn.sym.name} must end with a return")
        defined[fn.sym] = fn
    if module.top not in defined:
        raise InternalError(f"IR verification failed: top function {module.top.name} is missing")
    return module
