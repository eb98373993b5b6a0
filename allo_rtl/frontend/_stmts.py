"""Python statements of a kernel body -> IR statements, and whole kernel functions."""

from __future__ import annotations

import ast
import linecache
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import AlloRTLError, KernelSyntaxError, KernelTypeError, Loc
from ..ir import _values
from ..ir._nodes import (
    Alloc,
    ArrayRef,
    Assign,
    BitSet,
    BitSliceSet,
    Call,
    Const,
    ConstArray,
    Decl,
    Expr,
    Function,
    If,
    Load,
    Param,
    Return,
    Stmt,
    Store,
    StreamGet,
    StreamPut,
    Sym,
    Var,
    While,
)  # fmt: skip
from ..ir.types import AlloType, ArrayType, UInt
from ._env import Env, KernelSource, consteval, eval_type
from ._exprs import BINOPS, BOOL, Binding, ExprBuilder
from ._loops import LoopsAndCalls

if TYPE_CHECKING:
    from ._program import Program

__all__ = ["StmtBuilder"]

_REJECTED = {
    ast.Break: ("`break` is not supported in kernels", "use a `while` loop with a flag"),
    ast.Continue: ("`continue` is not supported in kernels", "wrap the rest of the body in `if`"),
    ast.Try: ("`try` is not supported in kernels", "remove the `try`: kernels cannot raise or catch exceptions"),
    ast.Raise: ("`raise` is not supported in kernels", "check the condition before calling the kernel"),
    ast.Match: ("`match` statements are not supported in kernels", "use `if` / `elif` / `else`"),
    ast.Import: ("`import` is not allowed in kernels", "import at module level"),
    ast.ImportFrom: ("`import` is not allowed in kernels", "import at module level"),
    ast.Global: ("`global` is not supported in kernels", "pass the value as an argument"),
    ast.Nonlocal: ("`nonlocal` is not supported in kernels", "pass the value as an argument"),
    ast.Delete: ("`del` is not supported in kernels", "remove the `del`: kernel variables live until the kernel returns"),
    ast.FunctionDef: ("nested function definitions are not supported", "define kernels at module level"),
    ast.ClassDef: ("class definitions are not supported in kernels", None),
    ast.Assert: ("`assert` is not supported in kernels", "check the condition before calling the kernel"),
}  # fmt: skip


def _zero(t: AlloType, loc: Any) -> Const:
    return Const(0.0 if t.is_float else 0, t, loc)


class StmtBuilder(LoopsAndCalls, ExprBuilder):
    """Builds one kernel ``Function`` from its source."""

    def __init__(self, program: Program, src: KernelSource, env: Env, name: str) -> None:
        self.program = program
        self.src = src
        self.env = env
        self.name = name
        self.scopes = [{}]
        self.pending = []
        self.conditional = 0
        self.band_count = 0
        self.band: str | None = None
        self.returns: tuple[AlloType | ArrayType, ...] = ()
        self.meta_state: bool | None = None  # inside a meta_if chain: was a branch taken?

    # -- function --------------------------------------------------------------------------
    def build(self) -> Function:
        tree = self.src.tree
        args = tree.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs or args.defaults:
            raise KernelSyntaxError(
                "kernel parameters must be plain positional parameters",
                self.loc(tree),
                "remove *args, **kwargs, keyword-only parameters and defaults",
            )
        params = tuple(self.param(a) for a in args.args)
        self.returns = self.return_types(tree)
        body = self.block(tree.body, top=True)
        if self.returns and not (body and isinstance(body[-1], Return)):
            raise KernelTypeError(
                f"kernel `{tree.name}` declares a return type but does not end with `return`",
                self.loc(tree),
                "return the result as the last statement",
            )
        return Function(Sym(self.name), params, self.returns, body, self.loc(tree))

    def param(self, arg: ast.arg) -> Param:
        if arg.annotation is None:
            raise KernelTypeError(
                f"parameter `{arg.arg}` has no type",
                self.loc(arg),
                f"annotate it, e.g. `{arg.arg}: int32` or `{arg.arg}: int32[N]`",
            )
        t = self.annotation(arg.annotation, f"parameter `{arg.arg}`")
        sym = Sym(arg.arg)
        kind = "array" if isinstance(t, ArrayType) else "scalar"
        self.scopes[0][arg.arg] = Binding(sym, t, kind)
        return Param(sym, t, self.loc(arg))

    def annotation(self, node: ast.AST, what: str) -> AlloType | ArrayType:
        return eval_type(node, self.env, self.src, what)

    def return_types(self, tree: ast.FunctionDef) -> tuple[AlloType | ArrayType, ...]:
        node = tree.returns
        if node is None or (isinstance(node, ast.Constant) and node.value is None):
            return ()
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                raise KernelSyntaxError(
                    f"cannot parse the annotation {node.value!r} of the return value",
                    self.loc(node),
                ) from None
            for sub in ast.walk(node):
                ast.copy_location(sub, tree.returns)
        elts = node.elts if isinstance(node, ast.Tuple) else [node]
        return tuple(self.annotation(e, "the return value") for e in elts)

    # -- blocks ----------------------------------------------------------------------------
    def block(self, stmts: list[ast.stmt], top: bool = False) -> tuple[Stmt, ...]:
        out: list[Stmt] = []
        saved, self.meta_state = self.meta_state, None
        for n, node in enumerate(stmts):
            if not isinstance(node, ast.With):
                self.meta_state = None
            if isinstance(node, ast.Return) and not (top and n == len(stmts) - 1):
                raise KernelSyntaxError(
                    "`return` must be the last statement of the kernel",
                    self.loc(node),
                    "assign the result to a variable and return it at the end",
                )
            built = self.stmt(node)
            out.extend(self.pending)
            self.pending = []
            out.extend(built)
        self.meta_state = saved
        return tuple(out)

    def stmt(self, node: ast.stmt) -> list[Stmt]:
        if type(node) in _REJECTED:
            message, hint = _REJECTED[type(node)]
            raise KernelSyntaxError(message, self.loc(node), hint)
        method = getattr(self, f"stmt_{type(node).__name__}", None)
        if method is None:
            raise KernelSyntaxError(
                f"`{type(node).__name__}` statements are not supported in kernels", self.loc(node)
            )
        return method(node)

    def else_loc(self, node: ast.For | ast.While) -> Loc:
        """Where the `else:` of a loop is (the AST does not record it): scan back for it."""
        first = self.loc(node.orelse[0])
        for line in range(first.line, self.loc(node).line, -1):
            text = linecache.getline(first.file, line)
            if text.lstrip().startswith("else"):
                return Loc(first.file, line, len(text) - len(text.lstrip()) + 1)
        return first

    def stmt_Pass(self, node: ast.Pass) -> list[Stmt]:
        return []

    def stmt_Expr(self, node: ast.Expr) -> list[Stmt]:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return []  # docstring or comment string
        if isinstance(node.value, ast.Call):
            results = self.call(node.value, None)
            last = self.pending[-1] if self.pending else None
            dropped_get = isinstance(last, Decl) and isinstance(last.init, StreamGet)
            if not (isinstance(last, (Call, StreamPut)) or dropped_get):
                raise KernelSyntaxError(
                    f"the value of `{ast.unparse(node)}` is computed and thrown away",
                    self.loc(node),
                    "assign it to a variable",
                )
            del results
            return []
        raise KernelSyntaxError(
            f"expression `{ast.unparse(node)}` has no effect", self.loc(node), "assign it"
        )

    # -- declarations and assignments ------------------------------------------------------
    def declare(self, name: str, t: AlloType | ArrayType, node: ast.AST) -> Sym:
        if self.lookup(name) is not None:
            raise KernelSyntaxError(
                f"`{name}` is already declared",
                self.loc(node),
                f"assign to it without a type annotation: `{name} = ...`",
            )
        sym = Sym(name)
        kind = "array" if isinstance(t, ArrayType) else "scalar"
        self.scopes[0][name] = Binding(sym, t, kind)
        return sym

    def stmt_AnnAssign(self, node: ast.AnnAssign) -> list[Stmt]:
        if not isinstance(node.target, ast.Name):
            raise KernelSyntaxError(
                "only names can be declared with a type",
                self.loc(node),
                "declare the variable first: `x: int32 = 0`",
            )
        name = node.target.id
        t = self.annotation(node.annotation, f"`{name}`")
        if isinstance(t, ArrayType):
            return self.alloc(name, t, node)
        init = None
        if node.value is not None:
            init = self.convert(self.expr(node.value), t, node.value, f"initial value of `{name}`")
        return [Decl(self.declare(name, t, node), t, init, self.loc(node))]

    def alloc(self, name: str, t: ArrayType, node: ast.AnnAssign) -> list[Stmt]:
        value = node.value
        loc = self.loc(node)
        if value is None:
            return [Alloc(self.declare(name, t, node), t, None, loc)]
        if isinstance(value, ast.Call) and self.is_kernel_call(value):
            sym = self.declare(name, t, node)
            alloc = Alloc(sym, t, None, loc)
            self.pending.append(alloc)
            self.kernel_call_into(value, [sym])
            return []
        const = self.const_array(value, t)
        if const is not None:
            return [Alloc(self.declare(name, t, node), t, const, loc)]
        init = self.expr(value)
        if isinstance(init, ArrayRef):
            if init.type.shape != t.shape:
                raise KernelTypeError(
                    f"cannot initialise `{name}` ({t}) from `{init.sym.name}` ({init.type})",
                    self.loc(value),
                    "the shapes must be equal",
                )
            if init.type.dtype != t.dtype:
                raise KernelTypeError(
                    f"cannot initialise `{name}` ({t}) from `{init.sym.name}` ({init.type})",
                    self.loc(value),
                    "the element types must be equal; convert element by element in a loop",
                )
            return [Alloc(self.declare(name, t, node), t, init, loc)]
        init = self.convert(init, t.dtype, value, f"initial value of `{name}`")
        return [Alloc(self.declare(name, t, node), t, init, loc)]

    def const_array(self, value: ast.AST, t: ArrayType) -> ConstArray | None:
        if not isinstance(value, (ast.Name, ast.Attribute)):
            return None
        if isinstance(value, ast.Name) and self.lookup(value.id):
            return None
        data = consteval(value, self.env, self.src, "an array initialiser")
        if not isinstance(data, np.ndarray):
            return None
        if data.shape != t.shape:
            raise KernelTypeError(
                f"constant array `{ast.unparse(value)}` has shape {data.shape}, "
                f"but the declaration needs {t.shape}",
                self.loc(value),
            )
        dt = t.dtype
        if dt.is_float:
            flat = [_values.round_float(float(v), dt) for v in data.ravel()]  # type: ignore[arg-type]
        elif data.dtype.kind == "f":
            flat = [_values.float_to_raw(float(v), dt) for v in data.ravel()]
        else:
            flat = [_values.wrap(int(v) << dt.fracs, dt) for v in data.ravel()]
        arr = np.array(flat, dtype=object).reshape(t.shape)
        return ConstArray(arr)

    def stmt_Assign(self, node: ast.Assign) -> list[Stmt]:
        if len(node.targets) != 1:
            raise KernelSyntaxError(
                "chained assignment `a = b = ...` is not supported",
                self.loc(node),
                "assign each variable separately",
            )
        target = node.targets[0]
        if isinstance(target, ast.Tuple):
            return self.assign_tuple(target, node.value, node)
        return self.assign(target, node.value, node)

    def assign(self, target: ast.AST, value_node: ast.AST, node: ast.AST) -> list[Stmt]:
        if isinstance(target, ast.Subscript):
            return self.assign_subscript(target, self.expr(value_node), value_node)
        if not isinstance(target, ast.Name):
            raise KernelSyntaxError(
                f"cannot assign to `{ast.unparse(target)}`", self.loc(target), None
            )
        binding = self.lookup(target.id)
        if isinstance(value_node, ast.Call) and self.is_kernel_call(value_node):
            return self.assign_call([target], value_node)
        if binding is None:
            value = self.expr(value_node)
            if isinstance(value, ArrayRef):
                raise KernelTypeError(
                    f"`{target.id} = {value.sym.name}` would make a second name for an array",
                    self.loc(node),
                    f"copy it: `{target.id}: {value.type} = {value.sym.name}`",
                )
            return [
                Decl(self.declare(target.id, value.type, target), value.type, value, self.loc(node))
            ]
        if binding.kind == "loop":
            raise KernelSyntaxError(
                f"cannot assign to loop variable `{target.id}`",
                self.loc(target),
                "use another variable",
            )
        if binding.kind == "array":
            raise KernelTypeError(
                f"cannot assign to array `{target.id}` as a whole",
                self.loc(target),
                f"assign elements in a loop, e.g. `{target.id}[i] = ...`",
            )
        value = self.convert(self.expr(value_node), binding.type, value_node)  # type: ignore[arg-type]
        return [Assign(binding.sym, value, self.loc(node))]

    def assign_subscript(self, target: ast.Subscript, value: Expr, vnode: ast.AST) -> list[Stmt]:
        base_node, parts = self.subscript_parts(target)
        binding = self.lookup(base_node.id) if isinstance(base_node, ast.Name) else None
        if binding is None or binding.kind == "loop":
            raise KernelSyntaxError(
                f"cannot assign to `{ast.unparse(target)}`",
                self.loc(target),
                "assign to an element of a local or argument array, or to bits of a local scalar",
            )
        loc = self.loc(target)
        if binding.kind == "array":
            t: ArrayType = binding.type  # type: ignore[assignment]
            rank = len(t.shape)
            old = self.element(ArrayRef(binding.sym, t, loc), parts[:rank], target)
            assert isinstance(old, Load)
            if len(parts) == rank:
                value = self.convert(value, t.dtype, vnode)
            else:
                value = self.set_bits(old, parts[rank], value, vnode, target)
            return [Store(binding.sym, old.indices, value, loc)]
        if len(parts) != 1:
            raise KernelTypeError(f"`{base_node.id}` is a scalar", loc, "use `x[i] = b` for a bit")
        var = Var(binding.sym, binding.type, loc)  # type: ignore[arg-type]
        return [Assign(binding.sym, self.set_bits(var, parts[0], value, vnode, target), loc)]

    def set_bits(
        self, old: Expr, part: ast.AST, value: Expr, vnode: ast.AST, target: ast.AST
    ) -> Expr:
        if not old.type.is_integer_like:
            raise KernelTypeError(
                f"bit assignment needs an integer, got {old.type}", self.loc(target)
            )
        loc = self.loc(target)
        if isinstance(part, ast.Slice):
            lo, hi = self.slice_bounds(part, old.type)
            bits = self.convert(value, UInt(hi - lo), vnode)
            return BitSliceSet(old, lo, hi, bits, old.type, loc)
        bit = self.convert(value, BOOL, vnode)
        return BitSet(old, self.index_expr(part, "a bit index"), bit, old.type, loc)

    def assign_tuple(self, target: ast.Tuple, value: ast.AST, node: ast.AST) -> list[Stmt]:
        if isinstance(value, ast.Call) and self.is_kernel_call(value):
            return self.assign_call(list(target.elts), value)
        if not isinstance(value, ast.Tuple) or len(value.elts) != len(target.elts):
            raise KernelSyntaxError(
                "tuple assignment needs a tuple of the same length or a kernel call",
                self.loc(node),
                "assign each variable separately",
            )
        temps: list[Stmt] = []
        for n, v in enumerate(value.elts):
            expr = self.scalar(self.expr(v), v)
            sym = Sym(f"_tuple{n}")
            temps.append(Decl(sym, expr.type, expr, self.loc(v)))
        out = list(temps)
        for t_node, tmp in zip(target.elts, temps):
            assert isinstance(tmp, Decl)
            out.extend(self.assign_from(t_node, Var(tmp.sym, tmp.type, tmp.loc), node))
        return out

    def assign_from(self, target: ast.AST, value: Expr, node: ast.AST) -> list[Stmt]:
        if isinstance(target, ast.Subscript):
            return self.assign_subscript(target, value, node)
        if not isinstance(target, ast.Name):
            raise KernelSyntaxError(f"cannot assign to `{ast.unparse(target)}`", self.loc(target))
        binding = self.lookup(target.id)
        if binding is None:
            sym = self.declare(target.id, value.type, target)
            return [Decl(sym, value.type, value, self.loc(target))]
        if binding.kind != "scalar":
            raise KernelTypeError(f"cannot assign a scalar to `{target.id}`", self.loc(target))
        value = self.convert(value, binding.type, node)  # type: ignore[arg-type]
        return [Assign(binding.sym, value, self.loc(target))]

    def stmt_AugAssign(self, node: ast.AugAssign) -> list[Stmt]:
        op = BINOPS[type(node.op)]
        current = self.expr(node.target)
        if isinstance(current, ArrayRef):
            raise KernelTypeError(
                f"`{ast.unparse(node)}` updates a whole array",
                self.loc(node),
                "update elements in a loop",
            )
        lhs, rhs = self.operands(node.target, node.value)
        result = self.binary(op, lhs, rhs, node)
        if isinstance(node.target, ast.Name):
            binding = self.lookup(node.target.id)
            if binding is not None and binding.kind == "loop":
                raise KernelSyntaxError(
                    f"cannot assign to loop variable `{node.target.id}`",
                    self.loc(node.target),
                    "use another variable",
                )
            if binding is None or binding.kind != "scalar":
                raise KernelSyntaxError(f"cannot update `{node.target.id}`", self.loc(node.target))
            value = self.convert(result, binding.type, node)  # type: ignore[arg-type]
            return [Assign(binding.sym, value, self.loc(node))]
        if isinstance(node.target, ast.Subscript):
            return self.assign_subscript(node.target, result, node)
        raise KernelSyntaxError(f"cannot update `{ast.unparse(node.target)}`", self.loc(node))

    # -- control flow ----------------------------------------------------------------------
    def stmt_With(self, node: ast.With) -> list[Stmt]:
        """``with allo.meta_if(c)`` / ``meta_elif(c)`` / ``meta_else()``: compile-time branches."""
        kind, cond = self.meta_branch(node)
        if kind == "meta_if":
            before = False
        elif self.meta_state is None:
            raise KernelSyntaxError(
                f"`allo.{kind}` must directly follow an `allo.meta_if` or `allo.meta_elif` block",
                self.loc(node),
                "start the chain with `with allo.meta_if(...):`",
            )
        else:
            before = self.meta_state
        take = not before and (cond is None or bool(self.meta_condition(cond)))
        self.meta_state = None if kind == "meta_else" else before or take
        return list(self.block(node.body)) if take else []  # block() keeps meta_state

    def meta_branch(self, node: ast.With) -> tuple[str, ast.AST | None]:
        item = node.items[0]
        call = item.context_expr
        target = None
        if isinstance(call, ast.Call):
            try:
                target = consteval(call.func, self.env, self.src, "the `with` statement")
            except AlloRTLError:
                target = None
        kind = getattr(target, "_allo_builtin", "")
        if kind not in ("allo.meta_if", "allo.meta_elif", "allo.meta_else"):
            raise KernelSyntaxError(
                "`with` is supported in kernels only for allo.meta_if / meta_elif / meta_else",
                self.loc(node),
                "write the body of the `with` block without it",
            )
        kind = kind.removeprefix("allo.")
        nargs = 0 if kind == "meta_else" else 1
        if len(node.items) != 1 or item.optional_vars or len(call.args) != nargs or call.keywords:
            form = "allo.meta_else()" if nargs == 0 else f"allo.{kind}(condition)"
            raise KernelSyntaxError(
                f"write `with {form}:`", self.loc(node), "one condition, no `as`"
            )
        return kind, call.args[0] if nargs else None

    def meta_condition(self, cond: ast.AST) -> object:
        return self.const(
            cond,
            "the condition of allo.meta_if",
            "use constants and the ids from df.get_pid(); branch on kernel values with `if`",
        )

    def stmt_If(self, node: ast.If) -> list[Stmt]:
        cond = self.to_bool(self.expr(node.test), node.test)
        pending, self.pending = self.pending, []
        then = self.block(node.body)
        orelse = self.block(node.orelse)
        self.pending = pending
        return [If(cond, then, orelse, self.loc(node))]

    def stmt_While(self, node: ast.While) -> list[Stmt]:
        if node.orelse:
            raise KernelSyntaxError(
                "`while ... else` is not supported", self.else_loc(node), "remove the `else`"
            )
        cond = self.to_bool(self.expr(node.test), node.test)
        if self.pending:
            raise KernelSyntaxError(
                "a `while` condition cannot call a kernel or get from a stream",
                self.loc(node.test),
                "compute the value in a variable before the loop and at the end of the body",
            )
        return [While(cond, self.block(node.body), self.loc(node))]

    def stmt_Return(self, node: ast.Return) -> list[Stmt]:
        loc = self.loc(node)
        if node.value is None:
            values: list[ast.AST] = []
        elif isinstance(node.value, ast.Tuple):
            values = list(node.value.elts)
        else:
            values = [node.value]
        if len(values) != len(self.returns):
            declared = ", ".join(map(str, self.returns)) or "nothing"
            raise KernelTypeError(
                f"`return` gives {len(values)} value(s) but the kernel declares {declared}",
                loc,
                "make the `->` annotation match the returned values",
            )
        out: list[Expr] = []
        for v, t in zip(values, self.returns):
            expr = self.expr(v)
            if isinstance(t, ArrayType) or isinstance(expr, ArrayRef):
                if not isinstance(expr, ArrayRef) or expr.type != t:
                    got = expr.type
                    raise KernelTypeError(
                        f"returned `{ast.unparse(v)}` has type {got}, but the kernel declares {t}",
                        self.loc(v),
                        "make the `->` annotation match the returned value",
                    )
                out.append(expr)
            else:
                out.append(self.convert(expr, t, v, "return value"))
        return [Return(tuple(out), loc)]
