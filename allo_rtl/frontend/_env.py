"""Kernel source and compile-time environment.

A kernel's names resolve, in order, from: its type parameters (generic kernels), its closure,
the local variables of the frames that called ``allo.customize`` (innermost first), its module
globals, and builtins. ``consteval`` evaluates the compile-time subset of Python used in shapes,
loop extents and annotations: literals, names, attributes, ``+ - * // % **``, tuples,
subscripts of types (``int32[M, N]``) and calls of type constructors (``Int(8)``).
"""

from __future__ import annotations

import ast
import builtins
import inspect
import operator
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._errors import KernelNameError, KernelSyntaxError, KernelTypeError, Loc
from ..ir.types import AlloType, ArrayType, Fixed, Float, Int, UFixed, UInt

__all__ = ["Env", "KernelSource", "consteval", "load_source", "MISSING"]

MISSING = object()


@dataclass(frozen=True)
class KernelSource:
    """The parsed ``def`` of a kernel and how to map its AST positions to the user's file."""

    fn: Callable[..., Any]
    tree: ast.FunctionDef
    file: str
    line_offset: int
    col_offset: int

    def loc(self, node: ast.AST) -> Loc:
        line = getattr(node, "lineno", 1) + self.line_offset
        col = getattr(node, "col_offset", 0) + self.col_offset + 1
        return Loc(self.file, line, col)


def load_source(fn: Callable[..., Any]) -> KernelSource:
    """Read and parse the source of ``fn`` (through linecache, so exec'd code works too)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        raise KernelTypeError(f"{fn!r} is not a Python function; pass a kernel function")
    if fn.__name__ == "<lambda>":
        raise KernelSyntaxError(
            "lambdas cannot be kernels",
            Loc(code.co_filename, code.co_firstlineno, 1),
            "define the kernel with `def`",
        )
    try:
        lines, first = inspect.getsourcelines(fn)
    except (OSError, TypeError) as exc:
        raise KernelSyntaxError(
            f"cannot read the source of kernel {fn.__name__} ({exc})",
            Loc(code.co_filename, code.co_firstlineno, 1),
            "define kernels in a .py file (or register exec'd source in linecache)",
        ) from None
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    indent = len(lines[0]) - len(lines[0].lstrip()) if dedented != text else 0
    module = ast.parse(dedented)
    tree = next(n for n in module.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
    if isinstance(tree, ast.AsyncFunctionDef):
        raise KernelSyntaxError(
            "async kernels are not supported",
            Loc(code.co_filename, first, 1),
            "remove `async`",
        )
    return KernelSource(fn, tree, code.co_filename, first - 1, indent)


@dataclass
class Env:
    """Compile-time name resolution for one kernel (see the module docstring)."""

    fn: Callable[..., Any]
    frames: tuple[dict[str, Any], ...] = ()
    bound: dict[str, Any] = field(default_factory=dict)

    def lookup(self, name: str) -> Any:
        """The object ``name`` denotes, or ``MISSING``."""
        if name in self.bound:
            return self.bound[name]
        closure = _closure_vars(self.fn)
        if name in closure:
            return closure[name]
        for scope in self.frames:
            if name in scope:
                return scope[name]
        globs = getattr(self.fn, "__globals__", {})
        if name in globs:
            return globs[name]
        return getattr(builtins, name, MISSING)


def _closure_vars(fn: Callable[..., Any]) -> dict[str, Any]:
    cells = getattr(fn, "__closure__", None) or ()
    names = fn.__code__.co_freevars
    out = {}
    for name, cell in zip(names, cells):
        try:
            out[name] = cell.cell_contents
        except ValueError:  # empty cell: defined later in the enclosing function
            pass
    return out


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.Div: operator.truediv,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
}
_TYPE_CTORS = (Int, UInt, Fixed, UFixed, Float)


def consteval(node: ast.AST, env: Env, src: KernelSource, what: str) -> Any:
    """Evaluate ``node`` at compile time or raise a ``KernelSyntaxError`` naming ``what``."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        value = env.lookup(node.id)
        if value is MISSING:
            raise KernelNameError(
                f"unknown name `{node.id}` in {what}",
                src.loc(node),
                "define it at module level (or pass it with `instantiate=`)",
            )
        return value
    if isinstance(node, ast.Attribute):
        base = consteval(node.value, env, src, what)
        if not hasattr(base, node.attr):
            raise KernelNameError(f"`{ast.unparse(node)}` does not exist", src.loc(node))
        return getattr(base, node.attr)
    if isinstance(node, ast.Tuple):
        return tuple(consteval(e, env, src, what) for e in node.elts)
    if isinstance(node, (ast.List, ast.Set, ast.Compare, ast.BoolOp)) or (
        isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)
    ):
        return _consteval_logic(node, env, src, what)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = consteval(node.operand, env, src, what)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        lhs = consteval(node.left, env, src, what)
        rhs = consteval(node.right, env, src, what)
        try:
            return _BINOPS[type(node.op)](lhs, rhs)
        except (TypeError, ZeroDivisionError, ValueError) as exc:
            raise KernelTypeError(f"cannot evaluate {what}: {exc}", src.loc(node)) from None
    if isinstance(node, ast.Subscript):
        base = consteval(node.value, env, src, what)
        key = consteval(node.slice, env, src, what)
        try:
            return base[key]
        except KernelTypeError as exc:
            raise KernelTypeError(exc.message, src.loc(node), exc.hint) from None
        except Exception as exc:  # noqa: BLE001 - any user object may be subscripted here
            raise KernelTypeError(f"cannot evaluate {what}: {exc}", src.loc(node)) from None
    if isinstance(node, ast.Call) and not node.keywords:
        func = consteval(node.func, env, src, what)
        if func in _TYPE_CTORS:
            args = [consteval(a, env, src, what) for a in node.args]
            try:
                return func(*args)
            except KernelTypeError as exc:
                raise KernelTypeError(exc.message, src.loc(node)) from None
            except TypeError as exc:
                raise KernelTypeError(str(exc), src.loc(node)) from None
    raise KernelSyntaxError(
        f"{what} must be a compile-time constant, got `{ast.unparse(node)}`",
        src.loc(node),
        "use a literal or a module-level constant",
    )


_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}


def _consteval_logic(node: ast.AST, env: Env, src: KernelSource, what: str) -> Any:
    """Lists, sets, comparisons, ``and``/``or``/``not`` (the conditions of ``allo.meta_if``)."""
    if isinstance(node, ast.List):
        return [consteval(e, env, src, what) for e in node.elts]
    if isinstance(node, ast.Set):
        return {consteval(e, env, src, what) for e in node.elts}
    if isinstance(node, ast.UnaryOp):
        return not consteval(node.operand, env, src, what)
    if isinstance(node, ast.BoolOp):
        values = (consteval(v, env, src, what) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    left = consteval(node.left, env, src, what)
    for op, right_node in zip(node.ops, node.comparators):  # node is an ast.Compare
        right = consteval(right_node, env, src, what)
        try:
            if not _CMPOPS[type(op)](left, right):
                return False
        except TypeError as exc:
            raise KernelTypeError(f"cannot evaluate {what}: {exc}", src.loc(node)) from None
        left = right
    return True


def eval_type(node: ast.AST, env: Env, src: KernelSource, what: str) -> AlloType | ArrayType:
    """Evaluate an annotation (also a string annotation) to a scalar or array type."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            inner = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            raise KernelSyntaxError(
                f"cannot parse the annotation {node.value!r} of {what}", src.loc(node)
            ) from None
        ast.copy_location(inner, node)
        for sub in ast.walk(inner):
            ast.copy_location(sub, node)
        return eval_type(inner, env, src, what)
    value = consteval(node, env, src, f"the type of {what}")
    if isinstance(value, ArrayType):
        _check_shape(value, node, src, what)
        return value
    if isinstance(value, AlloType):
        return value
    raise KernelTypeError(
        f"the type of {what} is `{ast.unparse(node)}`, which is not an allo_rtl type",
        src.loc(node),
        "annotate with a type from allo_rtl.ir.types, e.g. `int32` or `int32[M, N]`",
    )


def _check_shape(value: ArrayType, node: ast.AST, src: KernelSource, what: str) -> None:
    for dim in value.shape:
        if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1:
            raise KernelTypeError(
                f"the shape of {what} must be positive integers, got {dim!r}", src.loc(node)
            )
