"""For loops (``range``, ``allo.grid``, ``allo.reduction``) and calls of other kernels.

Loop bands get Allo's names: a top-level loop statement without ``name=`` is band
``S_<vars>_<n>`` where ``n`` counts the loop statements of the kernel finished so far; loops
nested in a band belong to it and are addressed by their variable name.
"""

from __future__ import annotations

import ast
import types as pytypes
from typing import Any

from .._errors import KernelSyntaxError, KernelTypeError, article
from ..ir._nodes import Alloc, ArrayRef, Call, Const, Decl, Expr, For, Stmt, Sym, Var
from ..ir.types import ArrayType, index
from ._env import consteval
from ._exprs import Binding

__all__ = ["LoopsAndCalls"]

_UNBOUND = object()
_ITERATORS = {"allo.grid": "grid", "allo.reduction": "reduction"}


class LoopsAndCalls:
    """Mixin of ``StmtBuilder``: loops and kernel calls."""

    # -- loops -----------------------------------------------------------------------------
    def stmt_For(self, node: ast.For) -> list[Stmt]:
        if node.orelse:
            raise KernelSyntaxError(
                "`for ... else` is not supported", self.else_loc(node), "remove the `else`"
            )
        kind, args = self.loop_iterator(node)
        if kind == "meta":
            return self.meta_for(node, args)
        names = self.loop_names(node.target, kind, len(args))
        band = self.band or self.band_name(node, names)
        if kind == "range":
            bounds = [self.range_bounds(node.iter)]
        else:
            bounds = [self.extent(a) for a in args]
        syms = [Sym(n) for n in names]
        scope = {n: Binding(s, index, "loop") for n, s in zip(names, syms)}
        self.scopes.append(scope)
        outer_band, self.band = self.band, band
        outer_pending, self.pending = self.pending, []
        try:
            body = self.block(node.body)
        finally:
            self.band = outer_band
            self.pending = outer_pending
            self.scopes.pop()
        self.band_count += 1
        loc = self.loc(node)
        for sym, name, (lo, hi, step) in reversed(list(zip(syms, names, bounds))):
            body = (For(sym, lo, hi, step, body, name, band, kind, (), loc),)
        return list(body)

    def loop_iterator(self, node: ast.For) -> tuple[str, list[ast.AST]]:
        it = node.iter
        hint = "iterate over range(...), allo.grid(...) or allo.reduction(...)"
        if not isinstance(it, ast.Call):
            raise KernelSyntaxError(f"cannot loop over `{ast.unparse(it)}`", self.loc(it), hint)
        fn = consteval(it.func, self.env, self.src, "the loop iterator")
        if fn is range:
            if it.keywords or not 1 <= len(it.args) <= 3:
                raise KernelSyntaxError("`range` takes 1 to 3 arguments", self.loc(it), hint)
            return "range", list(it.args)
        if getattr(fn, "_allo_builtin", "") == "allo.meta_for":
            return "meta", list(it.args)
        kind = _ITERATORS.get(getattr(fn, "_allo_builtin", ""))
        if kind is None:
            raise KernelSyntaxError(f"cannot loop over `{ast.unparse(it)}`", self.loc(it), hint)
        for kw in it.keywords:
            if kw.arg != "name":
                raise KernelSyntaxError(f"unknown keyword `{kw.arg}`", self.loc(kw), "use `name=`")
        if not it.args:
            raise KernelSyntaxError(f"`{ast.unparse(it)}` needs extents", self.loc(it))
        return kind, list(it.args)

    def meta_for(self, node: ast.For, args: list[ast.AST]) -> list[Stmt]:
        """``for i in allo.meta_for(...)``: the body once per value, ``i`` a constant in each."""
        hint = "use constants, e.g. `allo.meta_for(N)`"
        bounds = [self.const(a, "the bound of allo.meta_for", hint) for a in args]
        if not 1 <= len(bounds) <= 3 or not all(
            isinstance(b, int) and not isinstance(b, bool) for b in bounds
        ):
            raise KernelSyntaxError(
                "allo.meta_for takes 1 to 3 integer constants, like range", self.loc(node.iter)
            )
        (name,) = self.loop_names(node.target, "range", 1)
        out: list[Stmt] = []
        saved = self.env.bound.get(name, _UNBOUND)
        try:
            for value in range(*bounds):
                self.env.bound[name] = value
                self.scopes.append({})
                declared = set(self.scopes[0])
                try:
                    out.extend(self.block(node.body))
                finally:
                    self.scopes.pop()
                    for new in set(self.scopes[0]) - declared:  # each copy declares anew
                        del self.scopes[0][new]
        finally:
            if saved is _UNBOUND:
                self.env.bound.pop(name, None)
            else:
                self.env.bound[name] = saved
        return out

    def loop_names(self, target: ast.AST, kind: str, count: int) -> list[str]:
        elts = target.elts if isinstance(target, ast.Tuple) else [target]
        if not all(isinstance(e, ast.Name) for e in elts):
            raise KernelSyntaxError(
                "loop variables must be plain names", self.loc(target), "write `for i, j in ...`"
            )
        names = [e.id for e in elts]  # type: ignore[attr-defined]
        expected = 1 if kind == "range" else count
        if len(names) != expected:
            raise KernelSyntaxError(
                f"{len(names)} loop variable(s) for {expected} loop(s)",
                self.loc(target),
                "use one variable per extent",
            )
        for name, elt in zip(names, elts):
            if self.lookup(name) is not None:
                raise KernelSyntaxError(
                    f"loop variable `{name}` reuses the name of a variable in scope",
                    self.loc(elt),
                    "choose another name for the loop variable",
                )
        if len(set(names)) != len(names):
            raise KernelSyntaxError("loop variables must differ", self.loc(target))
        return names

    def band_name(self, node: ast.For, names: list[str]) -> str:
        for kw in getattr(node.iter, "keywords", []):
            if kw.arg == "name":
                value = consteval(kw.value, self.env, self.src, "the band name")
                if not isinstance(value, str) or not value.isidentifier():
                    raise KernelSyntaxError(
                        f"band name must be an identifier string, got {value!r}",
                        self.loc(kw.value),
                    )
                return value
        return "S_" + "_".join([*names, str(self.band_count)])

    def extent(self, node: ast.AST) -> tuple[Expr, Expr, int]:
        value = self.const(
            node, "loop bound", "use a module-level constant or a literal, e.g. `allo.grid(32)`"
        )
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise KernelTypeError(
                f"loop extent must be a non-negative integer, got {value!r}", self.loc(node)
            )
        loc = self.loc(node)
        return Const(0, index, loc), Const(value, index, loc), 1

    def range_bounds(self, it: ast.Call) -> tuple[Expr, Expr, int]:
        args = it.args
        if len(args) == 3:
            step = self.const(args[2], "loop step", "use a literal step such as 1, 2 or -1")
            if not isinstance(step, int) or isinstance(step, bool) or step == 0:
                raise KernelSyntaxError(
                    f"loop step must be a non-zero integer constant, got {step!r}",
                    self.loc(args[2]),
                    "use a literal step such as 1, 2 or -1",
                )
        else:
            step = 1
        lo_node = args[0] if len(args) > 1 else None
        hi_node = args[1] if len(args) > 1 else args[0]
        lo = Const(0, index, self.loc(it)) if lo_node is None else self.bound(lo_node)
        return lo, self.bound(hi_node), step

    def bound(self, node: ast.AST) -> Expr:
        expr = self.index_expr(node, "a loop bound")
        return self.convert(expr, index, node)

    # -- kernel calls ----------------------------------------------------------------------
    def is_kernel_call(self, node: ast.Call) -> bool:
        func = node.func
        base = func.value if isinstance(func, ast.Subscript) else func
        if isinstance(base, ast.Name) and self.lookup(base.id) is not None:
            return False
        if isinstance(func, ast.Attribute) and func.attr == "reverse":
            return False
        if isinstance(func, ast.Attribute) and func.attr in ("put", "get"):
            if self.stream_of(func.value) is not None:
                return False
        target, _ = self.callee(func)
        if getattr(target, "_allo_region", False):
            return True
        return isinstance(target, pytypes.FunctionType) and not hasattr(target, "_allo_builtin")

    def kernel_call(self, target: Any, type_args: Any, node: ast.Call, names: Any) -> list[Expr]:
        fn = self.callee_function(target, type_args, node)
        results = []
        for n, t in enumerate(fn.returns):
            sym = Sym(names[n] if names else f"{fn.sym.name}_out{n}")
            results.append(sym)
            decl = (
                Alloc(sym, t, None, self.loc(node))
                if isinstance(t, ArrayType)
                else Decl(sym, t, None, self.loc(node))
            )
            self.pending.append(decl)
        self.emit_call(fn, node, results)
        return [
            ArrayRef(s, t, self.loc(node))
            if isinstance(t, ArrayType)
            else Var(s, t, self.loc(node))
            for s, t in zip(results, fn.returns)
        ]

    def callee_function(self, target: Any, type_args: Any, node: ast.Call) -> Any:
        if self.conditional:
            raise KernelSyntaxError(
                "kernel calls inside `and`, `or` or a conditional expression are not supported",
                self.loc(node),
                "call the kernel in its own statement and use the result",
            )
        return self.program.function(target, type_args, self.loc(node))

    def emit_call(self, fn: Any, node: ast.Call, results: list[Sym]) -> None:
        if node.keywords or len(node.args) != len(fn.params):
            raise KernelTypeError(
                f"kernel `{fn.sym.name}` takes {len(fn.params)} positional argument(s), "
                f"got {len(node.args)}{' and keywords' if node.keywords else ''}",
                self.loc(node),
            )
        args = [self.call_arg(a, p, fn) for a, p in zip(node.args, fn.params)]
        self.pending.append(Call(fn.sym, tuple(args), tuple(results), self.loc(node)))

    def call_arg(self, arg: ast.AST, param: Any, fn: Any) -> Expr:
        expr = self.expr(arg)
        if isinstance(param.type, ArrayType) or isinstance(expr, ArrayRef):
            if not isinstance(expr, ArrayRef) or expr.type != param.type:
                raise KernelTypeError(
                    f"argument `{param.sym.name}` of kernel `{fn.sym.name}` must be "
                    f"{param.type}, got `{ast.unparse(arg)}` of type {expr.type}",
                    self.loc(arg),
                    "pass an array of exactly that shape and element type",
                )
            return expr
        return self.convert(expr, param.type, arg, f"argument `{param.sym.name}`")

    def kernel_call_into(self, node: ast.Call, results: list[Sym]) -> None:
        target, type_args = self.callee(node.func)
        fn = self.callee_function(target, type_args, node)
        declared = [self.lookup(s.name) for s in results]
        if len(fn.returns) != len(results) or any(
            b is None or b.type != t for b, t in zip(declared, fn.returns)
        ):
            raise KernelTypeError(
                f"kernel `{fn.sym.name}` returns {', '.join(map(str, fn.returns)) or 'nothing'}, "
                f"which does not match `{', '.join(s.name for s in results)}`",
                self.loc(node),
            )
        self.emit_call(fn, node, results)

    def assign_call(self, targets: list[ast.AST], node: ast.Call) -> list[Stmt]:
        target, type_args = self.callee(node.func)
        fn = self.callee_function(target, type_args, node)
        if len(fn.returns) != len(targets):
            raise KernelTypeError(
                f"kernel `{fn.sym.name}` returns {len(fn.returns)} value(s), "
                f"assigned to {len(targets)} target(s)",
                self.loc(node),
            )
        results: list[Sym] = []
        after: list[Stmt] = []
        for tnode, t in zip(targets, fn.returns):
            results.append(self.call_result(tnode, t, node, after))
        self.emit_call(fn, node, results)
        return after

    def call_result(self, tnode: ast.AST, t: Any, node: ast.Call, after: list[Stmt]) -> Sym:
        loc = self.loc(tnode)
        if isinstance(tnode, ast.Name):
            binding = self.lookup(tnode.id)
            if binding is None:
                sym = self.declare(tnode.id, t, tnode)
                decl = (
                    Alloc(sym, t, None, loc)
                    if isinstance(t, ArrayType)
                    else Decl(sym, t, None, loc)
                )
                self.pending.append(decl)
                return sym
            if binding.kind == "array" and binding.type == t:
                return binding.sym
            if binding.kind == "array" or isinstance(t, ArrayType):
                raise KernelTypeError(
                    f"`{tnode.id}` ({binding.type}) cannot receive {article(t)}",
                    loc,
                    "assign the result to a new name",
                )
        elif isinstance(t, ArrayType):
            raise KernelTypeError(
                f"an array result cannot be assigned to `{ast.unparse(tnode)}`", loc
            )
        tmp = Sym(f"_ret{len(after)}")
        self.pending.append(Decl(tmp, t, None, loc))
        after.extend(self.assign_from(tnode, Var(tmp, t, loc), node))
        return tmp
