"""A kernel and everything it calls -> an IR ``Module`` (callees before callers)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .._errors import KernelSyntaxError, KernelTypeError, Loc, article
from ..ir._nodes import Function, Module
from ..ir.types import AlloType
from ._dataflow import build_region
from ._env import Env, consteval, load_source
from ._stmts import StmtBuilder

__all__ = ["Program", "parse"]


class Program:
    """Parses kernels on demand; one IR function per (Python function, type arguments)."""

    def __init__(self, frames: tuple[dict[str, Any], ...]) -> None:
        self.frames = frames
        self.funcs: list[Function] = []
        self.memo: dict[tuple[Any, ...], Function] = {}
        self.stack: list[tuple[Any, ...]] = []
        self.names: set[str] = set()

    def function(
        self, fn: Callable[..., Any], type_args: tuple[Any, ...] | None, loc: Loc | None
    ) -> Function:
        """The IR function of ``fn`` with ``type_args``; a last type argument that is a string
        names a separate instance (Allo's ``kernel[T, "id"](...)``), function ``<kernel>_<id>``
        (``s.compose(..., id=...)`` schedules it alone)."""
        instance = None
        if type_args and isinstance(type_args[-1], str):
            instance, type_args = type_args[-1], type_args[:-1] or None
        key = (fn, _key(type_args), instance)
        if key in self.memo:
            return self.memo[key]
        if key in self.stack:
            chain = " -> ".join(f[0].__name__ for f in self.stack[self.stack.index(key) :])
            raise KernelSyntaxError(
                f"recursive kernel call: {chain} -> {fn.__name__}",
                loc,
                "kernels cannot call themselves; write the recursion as a loop",
            )
        if instance is not None:
            suffix = re.sub(r"\W", "_", instance)
            name = self.unique_name(f"{fn.__name__}_{suffix}", None)
        else:
            name = self.unique_name(fn.__name__, type_args)
        self.stack.append(key)
        try:
            built = self.build(fn, type_args, loc, name)
        finally:
            self.stack.pop()
        self.memo[key] = built
        self.funcs.append(built)
        return built

    def build(
        self, fn: Any, type_args: tuple[Any, ...] | None, loc: Loc | None, name: str
    ) -> Function:
        """The IR function ``name`` of kernel or dataflow region ``fn``."""
        if getattr(fn, "_allo_region", False):
            return build_region(self, fn.fn, type_args, loc, name)
        src = load_source(fn)
        env = Env(fn, self.frames, self.bind_type_params(fn, src, type_args, loc))
        return StmtBuilder(self, src, env, name).build()

    def unique_name(self, base: str, type_args: tuple[Any, ...] | None) -> str:
        if type_args:
            base += "_" + "_".join(re.sub(r"\W", "", str(a)) for a in type_args)
        name, n = base, 1
        while name in self.names:
            name, n = f"{base}_{n}", n + 1
        self.names.add(name)
        return name

    def bind_type_params(
        self, fn: Any, src: Any, type_args: Any, loc: Loc | None
    ) -> dict[str, Any]:
        params = list(getattr(src.tree, "type_params", []) or [])
        if not params:
            if type_args is not None:
                raise KernelTypeError(
                    f"kernel `{fn.__name__}` has no type parameters, but got {len(type_args)} "
                    "type argument(s)",
                    loc or src.loc(src.tree),
                    "remove `instantiate=` (or the `[...]` at the call)",
                )
            return {}
        names = ", ".join(p.name for p in params)
        if type_args is None or len(type_args) != len(params):
            got = "none were" if type_args is None else f"{len(type_args)} was"
            if type_args is not None and len(type_args) != 1:
                got = f"{len(type_args)} were"
            raise KernelTypeError(
                f"generic kernel `{fn.__name__}` has {len(params)} type parameter(s) ({names}), "
                f"but {got} given",
                loc or src.loc(src.tree),
                f"pass one value per parameter, e.g. instantiate=[...] with {len(params)} values",
            )
        env = Env(fn, self.frames)
        bound = {}
        for param, value in zip(params, type_args):
            self.check_type_arg(param, value, env, src, loc)
            bound[param.name] = value
        return bound

    def check_type_arg(self, param: Any, value: Any, env: Env, src: Any, loc: Loc | None) -> None:
        constraint = getattr(param, "bound", None)
        if constraint is None:
            return
        allowed = consteval(constraint, env, src, f"the bound of `{param.name}`")
        where = loc or src.loc(param)
        if isinstance(allowed, tuple):
            if value not in allowed:
                raise KernelTypeError(
                    f"type argument {value} for `{param.name}` is not one of "
                    f"({', '.join(map(str, allowed))})",
                    where,
                )
        elif isinstance(allowed, AlloType) and not (
            isinstance(value, int) if allowed.is_integer_like else isinstance(value, (int, float))
        ):
            raise KernelTypeError(
                f"type argument {value!r} for `{param.name}` must be {article(allowed)} value",
                where,
            )


def _key(type_args: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
    if type_args is None:
        return None
    return tuple((type(a).__name__, a) if isinstance(a, (int, float)) else a for a in type_args)


def parse(
    fn: Callable[..., Any], instantiate: Any = None, frames: tuple[dict[str, Any], ...] = ()
) -> Module:
    """Parse kernel ``fn`` (with ``instantiate`` type arguments) and its callees."""
    if instantiate is not None and not isinstance(instantiate, (list, tuple)):
        instantiate = [instantiate]
    program = Program(frames)
    top = program.function(fn, None if instantiate is None else tuple(instantiate), None)
    return Module(tuple(program.funcs), top.sym)
