"""Python expressions of a kernel body -> typed IR expressions.

The builder inserts every conversion as an explicit ``Cast`` (folded for constants), applies
Allo's typing rules (``ir._typerules``) and reports ill-typed code at the user's line.
"""

from __future__ import annotations

import ast
import types as pytypes
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import KernelNameError, KernelSyntaxError, KernelTypeError, Loc, article
from ..ir import _values
from ..ir._nodes import (
    MATH_FUNCS,
    ArrayRef,
    Binary,
    BitGet,
    BitReverse,
    BitSlice,
    Cast,
    Const,
    Decl,
    Expr,
    Load,
    MathCall,
    Select,
    Stmt,
    StreamGet,
    StreamPut,
    Sym,
    Unary,
    Var,
)  # fmt: skip
from ..ir._typerules import binary_result, common_type, unary_result
from ..ir.types import AlloType, ArrayType, Float, Int, StreamType, UInt, float32, float64, int32
from ._env import MISSING, Env, KernelSource, consteval

__all__ = ["Binding", "ExprBuilder", "int_literal_type"]

BOOL = UInt(1)
BINOPS = {
    ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.FloorDiv: "floordiv",
    ast.Mod: "mod", ast.Pow: "pow", ast.LShift: "shl", ast.RShift: "shr", ast.BitAnd: "and",
    ast.BitOr: "or", ast.BitXor: "xor",
}  # fmt: skip
_SYMBOLS = {
    "add": "+", "sub": "-", "mul": "*", "div": "/", "floordiv": "//", "mod": "%", "pow": "**",
    "shl": "<<", "shr": ">>", "and": "&", "or": "|", "xor": "^", "invert": "~", "neg": "-",
}  # fmt: skip
_CMPOPS = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge"}
_UNSUPPORTED = {
    ast.ListComp: "list comprehensions", ast.SetComp: "set comprehensions",
    ast.DictComp: "dict comprehensions", ast.GeneratorExp: "generator expressions",
    ast.Lambda: "lambdas", ast.List: "list literals", ast.Dict: "dict literals",
    ast.Set: "set literals", ast.JoinedStr: "f-strings", ast.Await: "await",
    ast.Yield: "yield", ast.YieldFrom: "yield", ast.Starred: "starred arguments",
    ast.NamedExpr: "assignment expressions (:=)", ast.Slice: "slices",
}  # fmt: skip


@dataclass(frozen=True)
class Binding:
    """What a name in the kernel denotes: a scalar or array variable, or a loop variable."""

    sym: Sym
    type: AlloType | ArrayType
    kind: str  # "scalar" | "array" | "loop"


def int_literal_type(value: int) -> AlloType:
    """``int32`` when ``value`` fits, else the narrowest ``Int(n)`` holding it."""
    return int32 if -(2**31) <= value < 2**31 else Int(value.bit_length() + 1)


def _py_type_name(value: object) -> str:
    return type(value).__name__


class ExprBuilder:
    """Builds IR expressions; ``StmtBuilder`` extends it with statements."""

    src: KernelSource
    env: Env
    scopes: list[dict[str, Binding]]
    pending: list[Stmt]
    conditional: int

    # -- helpers ---------------------------------------------------------------------------
    def loc(self, node: ast.AST) -> Loc:
        return self.src.loc(node)

    def lookup(self, name: str) -> Binding | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def convert(self, expr: Expr, t: AlloType, node: ast.AST, what: str = "value") -> Expr:
        """``expr`` converted to scalar type ``t`` (an explicit, constant-folded ``Cast``)."""
        if isinstance(expr, ArrayRef):
            raise KernelTypeError(
                f"cannot use array `{expr.sym.name}` ({expr.type}) as {article(t)} {what}",
                self.loc(node),
                "index the array to get one element, e.g. `A[i]`",
            )
        if expr.type == t:
            return expr
        if isinstance(expr, Const):
            return Const(_values.convert(expr.value, expr.type, t), t, expr.loc)
        return Cast(expr, t, self.loc(node))

    def scalar(self, expr: Expr, node: ast.AST) -> Expr:
        if isinstance(expr, ArrayRef):
            raise KernelTypeError(
                f"whole-array expression `{ast.unparse(node)}` is not supported",
                self.loc(node),
                "write a loop over the elements, e.g. `for i in range(N): C[i] = A[i] + B[i]`",
            )
        return expr

    def to_bool(self, expr: Expr, node: ast.AST) -> Expr:
        expr = self.scalar(expr, node)
        if expr.type == BOOL:
            return expr
        zero = Const(0.0 if expr.type.is_float else 0, expr.type, expr.loc)
        return Binary("ne", expr, zero, BOOL, self.loc(node))

    def index_expr(self, node: ast.AST, what: str) -> Expr:
        expr = self.scalar(self.expr(node), node)
        if not expr.type.is_integer:
            raise KernelTypeError(
                f"{what} must be an integer, got `{ast.unparse(node)}` of type {expr.type}",
                self.loc(node),
                "convert it with `int(...)`",
            )
        return expr

    # -- dispatch --------------------------------------------------------------------------
    def expr(self, node: ast.AST) -> Expr:
        method = getattr(self, f"expr_{type(node).__name__}", None)
        if method is not None:
            return method(node)
        what = _UNSUPPORTED.get(type(node), f"`{type(node).__name__}` expressions")
        hint = "write a for loop instead" if "comprehension" in what else None
        raise KernelSyntaxError(f"{what} are not supported in kernels", self.loc(node), hint)

    def expr_Constant(self, node: ast.Constant) -> Expr:
        value, loc = node.value, self.loc(node)
        if isinstance(value, bool):
            return Const(int(value), BOOL, loc)
        if isinstance(value, int):
            return Const(value, int_literal_type(value), loc)
        if isinstance(value, float):
            return Const(_values.round_float(value, float32), float32, loc)
        raise KernelSyntaxError(
            f"constant {value!r} ({_py_type_name(value)}) cannot be used in a kernel",
            loc,
            "use int or float values",
        )

    def expr_Name(self, node: ast.Name) -> Expr:
        binding = self.lookup(node.id)
        loc = self.loc(node)
        if binding is not None:
            if binding.kind == "array":
                return ArrayRef(binding.sym, binding.type, loc)  # type: ignore[arg-type]
            return Var(binding.sym, binding.type, loc)  # type: ignore[arg-type]
        value = self.env.lookup(node.id)
        if value is MISSING:
            raise KernelNameError(
                f"unknown name `{node.id}`",
                loc,
                "assign it before use, or define it at module level",
            )
        return self.python_value(value, node)

    def expr_Attribute(self, node: ast.Attribute) -> Expr:
        self.check_not_local_attribute(node)
        return self.python_value(consteval(node, self.env, self.src, "the expression"), node)

    def check_not_local_attribute(self, node: ast.AST) -> None:
        """Attributes and methods of kernel variables (``A.shape``, ``x.bit_length()``)."""
        if not isinstance(node, ast.Attribute):
            return
        base = node.value
        while isinstance(base, ast.Attribute):
            base = base.value
        if isinstance(base, ast.Name) and self.lookup(base.id) is not None:
            hint = (
                "use the constant the shape was declared with, e.g. `N`"
                if node.attr == "shape"
                else None
            )
            raise KernelSyntaxError(
                f"`{ast.unparse(node)}` is not supported in kernels", self.loc(node), hint
            )

    def const(self, node: ast.AST, what: str, hint: str) -> Any:
        """A compile-time constant; kernel variables are rejected, not looked up globally."""
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and self.lookup(sub.id) is not None:
                raise KernelSyntaxError(
                    f"{what} `{ast.unparse(node)}` is not a compile-time constant",
                    self.loc(node),
                    hint,
                )
        return consteval(node, self.env, self.src, what)

    def python_value(self, value: Any, node: ast.AST) -> Expr:
        """A compile-time Python value used in an expression, as a constant."""
        if isinstance(value, (bool, np.bool_)):
            return Const(int(value), BOOL, self.loc(node))
        if isinstance(value, (int, np.integer)):
            return Const(int(value), int_literal_type(int(value)), self.loc(node))
        if isinstance(value, (float, np.floating)):
            t = float64 if isinstance(value, np.float64) else float32
            return Const(_values.round_float(float(value), t), t, self.loc(node))
        what = "a function" if callable(value) else f"a {_py_type_name(value)}"
        raise KernelTypeError(
            f"`{ast.unparse(node)}` is {what}, not a value a kernel can compute with",
            self.loc(node),
            "use a number, a kernel argument or a local variable",
        )

    # -- operators -------------------------------------------------------------------------
    def float_literal(self, node: ast.AST) -> float | None:
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self.float_literal(node.operand)
            return None if inner is None else -inner
        if isinstance(node, ast.Constant) and isinstance(node.value, float):
            return node.value
        return None

    def operands(self, left: ast.AST, right: ast.AST) -> tuple[Expr, Expr]:
        """Build both operands; a float literal takes the float type of the other side."""
        lhs, rhs = self.expr(left), self.expr(right)
        for lit_node, lit, other in ((left, "l", rhs), (right, "r", lhs)):
            value = self.float_literal(lit_node)
            other_t = getattr(other, "type", None)
            if value is not None and isinstance(other_t, Float) and other_t != float32:
                const = Const(_values.round_float(value, other_t), other_t, self.loc(lit_node))
                lhs, rhs = (const, rhs) if lit == "l" else (lhs, const)
        return self.scalar(lhs, left), self.scalar(rhs, right)

    def binary(self, op: str, lhs: Expr, rhs: Expr, node: ast.AST) -> Expr:
        t = binary_result(op, lhs.type, rhs.type)
        if t is None:
            raise KernelTypeError(
                f"operator `{_SYMBOLS.get(op, op)}` is not defined for {lhs.type} and {rhs.type}",
                self.loc(node),
                "shifts need an integer value and an integer amount; convert with `int(...)` first"
                if op in ("shl", "shr")
                else "convert the operands with `int(...)` first",
            )
        if op in ("land", "lor"):
            lhs, rhs = self.to_bool(lhs, node), self.to_bool(rhs, node)
        elif op == "pow":
            lhs, rhs = self.convert(lhs, t, node), self.convert(rhs, t, node)
        elif op in ("shl", "shr"):
            pass
        elif op in ("eq", "ne", "lt", "le", "gt", "ge", "min", "max", "and", "or", "xor") or (
            lhs.type.is_float or rhs.type.is_float
        ):
            ct = t if op in ("and", "or", "xor") else common_type(lhs.type, rhs.type)
            lhs, rhs = self.convert(lhs, ct, node), self.convert(rhs, ct, node)
        return Binary(op, lhs, rhs, t, self.loc(node))

    def expr_BinOp(self, node: ast.BinOp) -> Expr:
        lhs, rhs = self.operands(node.left, node.right)
        return self.binary(BINOPS[type(node.op)], lhs, rhs, node)

    def expr_UnaryOp(self, node: ast.UnaryOp) -> Expr:
        operand = self.scalar(self.expr(node.operand), node.operand)
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.Not):
            return Unary("not", self.to_bool(operand, node.operand), BOOL, self.loc(node))
        op = "neg" if isinstance(node.op, ast.USub) else "invert"
        if isinstance(operand, Const) and op == "neg" and operand.type.is_float:
            return Const(-operand.value, operand.type, self.loc(node))
        if isinstance(operand, Const) and op == "neg" and operand.type.is_integer:
            t = unary_result(op, operand.type)
            return Const(_values.wrap(-operand.value, t), t, self.loc(node))
        t = unary_result(op, operand.type)
        if t is None:
            raise KernelTypeError(
                f"operator `~` is not defined for {operand.type}",
                self.loc(node),
                "use `~` on integer types only",
            )
        return Unary(op, operand, t, self.loc(node))

    def expr_BoolOp(self, node: ast.BoolOp) -> Expr:
        op = "land" if isinstance(node.op, ast.And) else "lor"
        self.conditional += 1
        try:
            values = [self.to_bool(self.expr(v), v) for v in node.values]
        finally:
            self.conditional -= 1
        result = values[0]
        for value in values[1:]:
            result = Binary(op, result, value, BOOL, self.loc(node))
        return result

    def expr_Compare(self, node: ast.Compare) -> Expr:
        result: Expr | None = None
        left = node.left
        for cmp_op, right in zip(node.ops, node.comparators):
            if type(cmp_op) not in _CMPOPS:
                raise KernelSyntaxError(
                    f"comparison `{ast.unparse(node)}` is not supported",
                    self.loc(node),
                    "use ==, !=, <, <=, > or >=",
                )
            lhs, rhs = self.operands(left, right)
            cmp = self.binary(_CMPOPS[type(cmp_op)], lhs, rhs, node)
            result = cmp if result is None else Binary("land", result, cmp, BOOL, self.loc(node))
            left = right
        assert result is not None
        return result

    def expr_IfExp(self, node: ast.IfExp) -> Expr:
        cond = self.to_bool(self.expr(node.test), node.test)
        self.conditional += 1
        try:
            then, orelse = self.operands(node.body, node.orelse)
        finally:
            self.conditional -= 1
        t = common_type(then.type, orelse.type)
        then, orelse = self.convert(then, t, node.body), self.convert(orelse, t, node.orelse)
        return Select(cond, then, orelse, t, self.loc(node))

    # -- subscripts ------------------------------------------------------------------------
    def subscript_parts(self, node: ast.Subscript) -> tuple[ast.AST, list[ast.AST]]:
        """Split ``A[i][j, k]`` into the base ``A`` and the index nodes ``[i, j, k]``."""
        parts: list[ast.AST] = []
        while isinstance(node, ast.Subscript):
            key = node.slice
            parts[:0] = list(key.elts) if isinstance(key, ast.Tuple) else [key]
            node = node.value  # type: ignore[assignment]
        return node, parts

    def expr_Subscript(self, node: ast.Subscript) -> Expr:
        base_node, parts = self.subscript_parts(node)
        if isinstance(base_node, ast.Name) and not self.lookup(base_node.id):
            value = self.env.lookup(base_node.id)
            if isinstance(value, pytypes.FunctionType):
                raise KernelSyntaxError(
                    f"generic kernel `{base_node.id}` must be called: `{ast.unparse(node)}(...)`",
                    self.loc(node),
                )
        base = self.expr(base_node)
        if isinstance(base, ArrayRef):
            return self.element(base, parts, node)
        for part in parts:  # x[a][b:c]: bit access applies left to right
            base = self.bits(base, [part], node)
        return base

    def element(self, base: ArrayRef, parts: list[ast.AST], node: ast.AST) -> Expr:
        rank = len(base.type.shape)
        if any(isinstance(p, ast.Slice) for p in parts[:rank]):
            raise KernelTypeError(
                f"array slices like `{ast.unparse(node)}` are not supported",
                self.loc(node),
                f"index one element at a time, e.g. `{base.sym.name}[i]`",
            )
        if len(parts) < rank or not _separate_tail(node, len(parts) - rank):
            raise KernelTypeError(
                f"array `{base.sym.name}` has {rank} dimension(s) ({base.type}) but is "
                f"indexed with {len(parts)} index(es) in `{ast.unparse(node)}`",
                self.loc(node),
                f"index every dimension, e.g. `{base.sym.name}[{', '.join('ijklmn'[:rank])}]`",
            )
        indices = tuple(self.index_expr(p, "an array index") for p in parts[:rank])
        value: Expr = Load(base.sym, indices, base.type.dtype, self.loc(node))
        for part in parts[rank:]:  # A[i][a][b:c]: bit access applies left to right
            value = self.bits(value, [part], node)
        return value

    def bits(self, base: Expr, parts: list[ast.AST], node: ast.AST) -> Expr:
        if not base.type.is_integer_like or len(parts) != 1:
            raise KernelTypeError(
                f"`{ast.unparse(node)}`: only integer values support bit access `x[i]`"
                f" and bit slices `x[lo:hi]` (this is {base.type})",
                self.loc(node),
            )
        part = parts[0]
        if isinstance(part, ast.Slice):
            lo, hi = self.slice_bounds(part, base.type)
            return BitSlice(base, lo, hi, UInt(hi - lo), self.loc(node))
        return BitGet(base, self.index_expr(part, "a bit index"), BOOL, self.loc(node))

    def slice_bounds(self, part: ast.Slice, t: AlloType) -> tuple[int, int]:
        if part.step is not None or part.lower is None or part.upper is None:
            raise KernelSyntaxError(
                "bit slices need both bounds and no step",
                self.loc(part),
                "write `x[lo:hi]` for bits lo .. hi-1",
            )
        hint = "use constant bounds, e.g. `x[0:8]` for bits 0 .. 7"
        lo = self.const(part.lower, "bit slice bound", hint)
        hi = self.const(part.upper, "bit slice bound", hint)
        if not (isinstance(lo, int) and isinstance(hi, int) and 0 <= lo < hi):
            raise KernelTypeError(
                f"bit slice [{lo}:{hi}] is empty or negative",
                self.loc(part),
                "use 0 <= lo < hi (bits lo .. hi-1)",
            )
        return lo, hi

    # -- calls -----------------------------------------------------------------------------
    def expr_Call(self, node: ast.Call) -> Expr:
        results = self.call(node, None)
        if len(results) != 1:
            what = "no value" if not results else f"{len(results)} values"
            raise KernelTypeError(
                f"`{ast.unparse(node)}` returns {what}; it cannot be used as a value",
                self.loc(node),
                "assign several results with `a, b = f(...)`" if results else None,
            )
        return results[0]

    def call(self, node: ast.Call, names: list[str] | None) -> list[Expr]:
        """Build a call; kernel calls return their result variables (named from ``names``)."""
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("put", "get"):
            stream = self.stream_of(func.value)
            if stream is not None:
                return self.stream_op(stream, func.attr, node)
        if isinstance(func, ast.Attribute) and func.attr == "reverse" and not node.args:
            base = self.scalar(self.expr(func.value), func.value)
            if not base.type.is_integer_like:
                raise KernelTypeError(
                    f"`.reverse()` needs an integer, got {base.type}", self.loc(node)
                )
            return [BitReverse(base, base.type, self.loc(node))]
        if isinstance(func, ast.Name) and self.lookup(func.id):
            raise KernelTypeError(
                f"`{func.id}` is a variable, not a function",
                self.loc(node),
                "only kernels, min/max/abs/int/float and allo.exp, log, sqrt, ... can be called",
            )
        self.check_not_local_attribute(func)
        target, type_args = self.callee(func)
        if getattr(target, "_allo_region", False):
            return self.kernel_call(target, type_args, node, names)
        if isinstance(target, pytypes.FunctionType) and target.__module__ != "builtins":
            if getattr(target, "_allo_builtin", None) is None:
                return self.kernel_call(target, type_args, node, names)
        if type_args is not None:
            raise KernelSyntaxError(
                f"`{ast.unparse(func)}` is not a generic kernel", self.loc(node)
            )
        return [self.builtin_call(target, node)]

    def stream_of(self, node: ast.AST) -> tuple[Sym, StreamType] | None:
        """The stream ``node`` names (dataflow kernels override this; plain kernels have none)."""
        return None

    def stream_op(self, stream: tuple[Sym, StreamType], op: str, node: ast.Call) -> list[Expr]:
        """``s.get()`` (into a fresh local, so a get is always its own statement) or ``s.put(v)``."""
        sym, t = stream
        loc = self.loc(node)
        nargs = 0 if op == "get" else 1
        if len(node.args) != nargs or node.keywords:
            form = "s.get()" if op == "get" else "s.put(value)"
            raise KernelSyntaxError(f"write `{form}`", loc, f"`{op}` takes {nargs} argument(s)")
        if self.conditional:
            raise KernelSyntaxError(
                f"stream `{op}` inside `and`, `or` or a conditional expression is not supported",
                loc,
                f"do the `{op}` in its own statement",
            )
        if op == "get":
            tmp = Sym(f"{sym.name.split('[')[0]}_get")
            self.pending.append(Decl(tmp, t.dtype, StreamGet(sym, t.dtype, loc), loc))
            return [Var(tmp, t.dtype, loc)]
        value = self.convert(self.scalar(self.expr(node.args[0]), node.args[0]), t.dtype, node)
        self.pending.append(StreamPut(sym, value, loc))
        return []

    def callee(self, func: ast.AST) -> tuple[Any, tuple[Any, ...] | None]:
        if isinstance(func, ast.Subscript):
            base = consteval(func.value, self.env, self.src, "the called function")
            args = consteval(func.slice, self.env, self.src, "type arguments")
            return base, args if isinstance(args, tuple) else (args,)
        return consteval(func, self.env, self.src, "the called function"), None

    def builtin_call(self, target: Any, node: ast.Call) -> Expr:
        name = getattr(target, "_allo_builtin", None) or getattr(target, "__name__", "")
        if isinstance(target, AlloType):
            name = str(target)
        arity = self.builtin_arity(target, name, node)
        if node.keywords:
            raise KernelSyntaxError(f"`{name}` takes no keyword arguments here", self.loc(node))
        args = [self.scalar(self.expr(a), a) for a in node.args]
        if len(args) < arity[0] or len(args) > arity[1]:
            shown = ast.unparse(node.func)
            count = f"{arity[0]} argument{'s' if arity[0] > 1 else ''}"
            count += " or more" if arity[1] > arity[0] else ""
            example = ", ".join("xyz"[: max(arity[0], 1)])
            raise KernelTypeError(
                f"`{shown}` takes {count}, got {len(args)}",
                self.loc(node),
                f"call it as `{shown}({example})`",
            )
        if isinstance(target, AlloType) or target in (int, float):
            t = {int: int32, float: float32}.get(target, target)
            return self.convert(args[0], t, node)  # type: ignore[arg-type]
        if target in (min, max) or name in ("allo.min", "allo.max"):
            return self.minmax(name.split(".")[-1], args, node)
        if name in ("abs", "allo.abs"):
            return Unary("abs", args[0], args[0].type, self.loc(node))
        if name in ("allo.power", "pow"):
            return self.binary("pow", args[0], args[1], node)
        return self.math_call(name[5:], args[0], node)

    def builtin_arity(self, target: Any, name: str, node: ast.Call) -> tuple[int, int]:
        """(min, max) argument counts of a supported builtin; an error for the others."""
        if isinstance(target, AlloType) or target in (int, float) or name in ("abs", "allo.abs"):
            return 1, 1
        if target in (min, max) or name in ("allo.min", "allo.max"):
            return 2, 1 << 16
        if name in ("allo.power", "pow"):
            return 2, 2
        if name.startswith("allo.") and name[5:] in MATH_FUNCS:
            return 1, 1
        shown = ast.unparse(node.func)
        if name in ("allo.grid", "allo.reduction"):
            raise KernelSyntaxError(
                f"`{shown}` can only be the iterator of a `for` loop",
                self.loc(node),
                f"write `for i in {shown}(...):`",
            )
        raise KernelSyntaxError(
            f"`{shown}` is not supported in kernels",
            self.loc(node),
            "kernels can call other kernels, min/max/abs/int/float and allo.exp, log, sqrt, ...",
        )

    def minmax(self, op: str, args: list[Expr], node: ast.Call) -> Expr:
        if len(args) < 2:
            raise KernelTypeError(f"`{op}` needs at least two values", self.loc(node))
        result = args[0]
        for arg in args[1:]:
            result = self.binary(op, result, arg, node)
        return result

    def math_call(self, func: str, arg: Expr, node: ast.Call) -> Expr:
        t = arg.type if arg.type.is_float else (float32 if arg.type.bits <= 32 else float64)
        return MathCall(func, (self.convert(arg, t, node),), t, self.loc(node))


def _separate_tail(node: ast.AST, n: int) -> bool:
    """Whether the last ``n`` subscripts of ``node`` are single keys in separate brackets
    (``A[i][3:9][1]``), not extra entries of a tuple index (``A[i, 3]`` of a 1-D array)."""
    for _ in range(n):
        if not isinstance(node, ast.Subscript) or isinstance(node.slice, ast.Tuple):
            return False
        node = node.value
    return True
