"""Dataflow regions (``@df.region()``) -> one IR function per kernel instance plus a region
function whose body is a single :class:`~allo_rtl.ir._nodes.Dataflow` statement.

A region's body may hold only stream declarations (``fifo: Stream[int32, 4][P0, P1]``),
``@df.kernel(mapping=[...], args=[...])`` functions, docstrings and ``pass``. Every point of a
kernel's mapping becomes its own function, ``<kernel>_<i>_<j>`` (just ``<kernel>`` when the
mapping has one point), compiled with ``df.get_pid()`` and ``allo.meta_if`` conditions as
constants. The streams an instance uses become its stream parameters; each used stream must have
exactly one producing and one consuming instance.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._errors import AlloRTLError, KernelSyntaxError, KernelTypeError, Loc
from ..ir._nodes import (
    ArrayRef,
    Call,
    Dataflow,
    Expr,
    Function,
    Param,
    StreamRef,
    Sym,
    Var,
    identifier,
)  # fmt: skip
from ..ir.types import ArrayType, StreamArrayType, StreamType
from ._env import Env, KernelSource, consteval, load_source
from ._stmts import StmtBuilder

if TYPE_CHECKING:
    from ._program import Program

__all__ = ["Region", "build_region", "kernel", "region"]


class Region:
    """A dataflow region made by ``@df.region()``; build it with ``df.build`` or call it from a
    kernel. Generic regions take type arguments: ``inner[2, 2](A, B, C)``."""

    _allo_region = True

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.__name__ = fn.__name__
        self.__qualname__ = getattr(fn, "__qualname__", fn.__name__)
        self.__doc__ = fn.__doc__
        self.__module__ = fn.__module__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        src = load_source(self.fn)
        raise KernelSyntaxError(
            f"dataflow region `{self.__name__}` cannot run as plain Python",
            src.loc(src.tree),
            f"build it: `mod = df.build({self.__name__})`, then call `mod(...)`",
        )

    def __repr__(self) -> str:
        return f"<dataflow region {self.__name__}>"


def region() -> Callable[[Callable[..., Any]], Region]:
    """``@df.region()``: the decorated function is a dataflow region (module docstring)."""

    def wrap(fn: Callable[..., Any]) -> Region:
        return Region(fn)

    return wrap


def kernel(mapping: list[int] | None = None, args: list[Any] | None = None) -> Callable[..., Any]:
    """``@df.kernel(mapping=[P0, P1], args=[A, B])`` inside a region: one instance of the
    decorated function per point of ``mapping``, called with the region's ``args``."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        return fn

    return wrap


kernel._allo_builtin = "df.kernel"  # type: ignore[attr-defined]


@dataclass
class _Group:
    """A declared stream or grid of streams; elements are made when first used."""

    name: str
    type: StreamType
    shape: tuple[int, ...]
    loc: Loc
    elements: dict[tuple[int, ...], Sym] = field(default_factory=dict)
    # per element: "put"/"get" -> [(instance, loc)]
    uses: dict[Sym, dict[str, list[tuple[str, Loc]]]] = field(default_factory=dict)

    def element(self, index: tuple[int, ...]) -> Sym:
        if index not in self.elements:
            shown = self.name + (f"[{','.join(map(str, index))}]" if index else "")
            self.elements[index] = Sym(shown)
        return self.elements[index]


class _InstanceBuilder(StmtBuilder):
    """Builds one kernel instance: ``df.get_pid()`` ids are constants, streams are parameters."""

    def __init__(
        self, program: Program, src: KernelSource, env: Env, name: str, ctx: _Instance
    ) -> None:
        super().__init__(program, src, env, name)
        self.ctx = ctx
        self.locals: dict[Sym, Sym] = {}  # region stream -> this instance's parameter

    def build(self) -> Function:
        fn = super().build()
        streams = tuple(
            Param(local, self.ctx.owner[glob].type, fn.loc) for glob, local in self.locals.items()
        )
        return Function(fn.sym, fn.params + streams, fn.returns, fn.body, fn.loc, fn.layouts)

    def stmt_Assign(self, node: ast.Assign) -> list[Any]:
        value = node.value
        if isinstance(value, ast.Call) and self.is_get_pid(value.func):
            return self.bind_pid(node)
        return super().stmt_Assign(node)

    def is_get_pid(self, func: ast.AST) -> bool:
        if isinstance(func, ast.Name) and self.lookup(func.id) is not None:
            return False
        if not isinstance(func, (ast.Name, ast.Attribute)):
            return False
        try:
            target = consteval(func, self.env, self.src, "the called function")
        except AlloRTLError:
            return False
        return getattr(target, "_allo_builtin", "") == "df.get_pid"

    def bind_pid(self, node: ast.Assign) -> list[Any]:
        target = node.targets[0]
        pid = self.ctx.pid
        names = target.elts if isinstance(target, ast.Tuple) else [target]
        if len(names) != len(pid) and not (len(names) == 1 and len(pid) == 1):
            raise KernelSyntaxError(
                f"df.get_pid() gives {len(pid)} id(s) for mapping {list(self.ctx.mapping)}, "
                f"but {len(names)} name(s) receive them",
                self.loc(node),
                f"write `{', '.join('ijk'[: len(pid)])} = df.get_pid()`",
            )
        for name, value in zip(names, pid):
            if not isinstance(name, ast.Name) or self.lookup(name.id) is not None:
                raise KernelSyntaxError(
                    f"cannot bind `{ast.unparse(name)}` to a kernel id",
                    self.loc(name),
                    "use new plain names",
                )
            self.env.bound[name.id] = value
        return []

    def stream_of(self, node: ast.AST) -> tuple[Sym, StreamType] | None:
        base, parts = node, []
        if isinstance(node, ast.Subscript):
            base = node.value
            parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if not isinstance(base, ast.Name) or self.lookup(base.id) is not None:
            return None
        group = self.ctx.groups.get(base.id)
        if group is None:
            return None
        hint = "index streams with constants and the ids of df.get_pid()"
        index = tuple(self.const(p, "a stream index", hint) for p in parts)
        if len(index) != len(group.shape) or not all(
            isinstance(i, int) and 0 <= i < n for i, n in zip(index, group.shape)
        ):
            shape = f"[{', '.join(map(str, group.shape))}]" if group.shape else " (a single stream)"
            raise KernelTypeError(
                f"`{ast.unparse(node)}` is {list(index)}, outside stream grid "
                f"`{group.name}`{shape}",
                self.loc(node),
                hint,
            )
        glob = group.element(index)
        self.ctx.owner[glob] = group
        return self.locals.setdefault(glob, Sym(identifier(glob.name))), group.type

    def stream_op(self, stream: tuple[Sym, StreamType], op: str, node: ast.Call) -> list[Expr]:
        glob = next(g for g, local in self.locals.items() if local == stream[0])
        uses = self.ctx.owner[glob].uses.setdefault(glob, {"put": [], "get": []})
        uses[op].append((self.name, self.loc(node)))
        return super().stream_op(stream, op, node)


@dataclass
class _Instance:
    """What an instance builder needs from its region."""

    groups: dict[str, _Group]
    mapping: tuple[int, ...]
    pid: tuple[int, ...]
    owner: dict[Sym, _Group]  # region stream -> its declaration


def build_region(
    program: Program, fn: Callable[..., Any], type_args: Any, loc: Loc | None, name: str
) -> Function:
    """The region function of ``fn``; its kernel instances are added to ``program.funcs``."""
    src = load_source(fn)
    env = Env(fn, program.frames, program.bind_type_params(fn, src, type_args, loc))
    head = StmtBuilder(program, src, env, name)
    params = tuple(head.param(a) for a in src.tree.args.args)
    _no_returns(src.tree, src, "dataflow region")
    by_name = {p.sym.name: p for p in params}
    groups: dict[str, _Group] = {}
    owner: dict[Sym, _Group] = {}
    tasks: list[Call] = []
    for node in src.tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and not node.value:
            group = _declare(node, env, src)
            groups[group.name] = group
        elif isinstance(node, ast.FunctionDef):
            mapping, args = _kernel_options(node, env, src, by_name)
            for pid in itertools.product(*(range(n) for n in mapping)):
                ctx = _Instance(groups, mapping, pid, owner)
                task = _instance(program, fn, src, node, env, ctx, args)
                tasks += [task] if task is not None else []
        elif isinstance(node, ast.Pass) or (
            isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        ):
            continue
        else:
            raise KernelSyntaxError(
                "a dataflow region may contain only stream declarations and @df.kernel functions",
                src.loc(node),
                "move this code into a @df.kernel",
            )
    used = [(g, group.type) for group in groups.values() for g in group.elements.values()]
    for group in groups.values():
        _check_ends(group)
    body = (Dataflow(tuple(used), tuple(tasks), src.loc(src.tree)),)
    return Function(Sym(name), params, (), body, src.loc(src.tree))


def _no_returns(tree: ast.FunctionDef, src: KernelSource, what: str) -> None:
    if tree.returns is not None and not (
        isinstance(tree.returns, ast.Constant) and tree.returns.value is None
    ):
        raise KernelTypeError(
            f"a {what} cannot return a value (`{tree.name}` is annotated "
            f"`-> {ast.unparse(tree.returns)}`)",
            src.loc(tree.returns),
            "write results into an array argument and remove the `->` annotation",
        )


def _declare(node: ast.AnnAssign, env: Env, src: KernelSource) -> _Group:
    t = consteval(node.annotation, env, src, "the type of a stream")
    name = node.target.id  # type: ignore[attr-defined]
    if isinstance(t, StreamType):
        return _Group(name, t, (), src.loc(node))
    if isinstance(t, StreamArrayType):
        return _Group(name, t.stream, t.shape, src.loc(node))
    raise KernelTypeError(
        f"`{name}` is declared as {t}; a dataflow region declares only streams",
        src.loc(node),
        f"declare `{name}: Stream[int32, 4]` (or a grid, `Stream[int32, 4][P0, P1]`)",
    )


def _kernel_options(
    node: ast.FunctionDef, env: Env, src: KernelSource, params: dict[str, Param]
) -> tuple[tuple[int, ...], list[Param]]:
    deco = next(
        (
            d
            for d in node.decorator_list
            if isinstance(d, ast.Call)
            and getattr(consteval(d.func, env, src, "a decorator"), "_allo_builtin", "")
            == "df.kernel"
        ),
        None,
    )
    if deco is None or len(node.decorator_list) != 1:
        raise KernelSyntaxError(
            f"function `{node.name}` in a dataflow region must be decorated with @df.kernel only",
            src.loc(node),
            "write `@df.kernel(mapping=[1], args=[...])` above it",
        )
    options = {kw.arg: kw.value for kw in deco.keywords}
    unknown = {str(k) if k else "**keywords" for k in options} - {"mapping", "args"}
    unknown = unknown or (deco.args and {"positional arguments"})
    if unknown:
        raise KernelSyntaxError(
            f"@df.kernel takes only `mapping=` and `args=`, got {', '.join(sorted(unknown))}",
            src.loc(deco),
        )
    mapping = (1,)
    if "mapping" in options:
        mapping = consteval(options["mapping"], env, src, "the mapping")
        mapping = tuple(mapping) if isinstance(mapping, (list, tuple)) else (mapping,)
    if not mapping or not all(isinstance(n, int) and n >= 1 for n in mapping):
        raise KernelTypeError(
            f"the mapping of `{node.name}` must be a list of positive integers, got {mapping}",
            src.loc(deco),
        )
    return mapping, _kernel_args(node, options.get("args"), src, params)


def _kernel_args(
    node: ast.FunctionDef, args: ast.AST | None, src: KernelSource, params: dict[str, Param]
) -> list[Param]:
    elts = [] if args is None else getattr(args, "elts", None)
    if elts is None or not all(isinstance(e, ast.Name) and e.id in params for e in elts):
        raise KernelSyntaxError(
            f"`args=` of `{node.name}` must list parameters of the region",
            src.loc(args or node),
            f"write `args=[{', '.join(params)}]` (in the order of `{node.name}`'s parameters)",
        )
    if len(elts) != len(node.args.args):
        raise KernelTypeError(
            f"kernel `{node.name}` has {len(node.args.args)} parameter(s) but `args=` gives "
            f"{len(elts)}",
            src.loc(args or node),
        )
    return [params[e.id] for e in elts]  # type: ignore[attr-defined]


def _instance(
    program: Program,
    fn: Callable[..., Any],
    src: KernelSource,
    node: ast.FunctionDef,
    env: Env,
    ctx: _Instance,
    args: list[Param],
) -> Call | None:
    ksrc = KernelSource(fn, node, src.file, src.line_offset, src.col_offset)
    _no_returns(node, ksrc, "dataflow kernel")
    kenv = Env(fn, env.frames, dict(env.bound))
    suffix = "" if all(n == 1 for n in ctx.mapping) else "_" + "_".join(map(str, ctx.pid))
    builder = _InstanceBuilder(
        program, ksrc, kenv, program.unique_name(node.name + suffix, None), ctx
    )
    built = builder.build()
    loc = ksrc.loc(node)
    if not built.body:
        return None  # an instance with nothing to do (a corner of a systolic grid) is dropped
    program.funcs.append(built)
    values: list[Expr] = []
    for arg, param in zip(args, built.params):
        if arg.type != param.type:
            raise KernelTypeError(
                f"parameter `{param.sym.name}` of kernel `{node.name}` is {param.type}, but the "
                f"region passes `{arg.sym.name}` of type {arg.type}",
                param.loc,
                "declare the kernel parameter with the region parameter's type",
            )
        ref = ArrayRef if isinstance(arg.type, ArrayType) else Var
        values.append(ref(arg.sym, arg.type, loc))  # type: ignore[arg-type]
    for glob in builder.locals:
        values.append(StreamRef(glob, ctx.owner[glob].type, loc))
    return Call(built.sym, tuple(values), (), loc)


def _check_ends(group: _Group) -> None:
    for glob, uses in group.uses.items():
        for op, other in (("put", "get"), ("get", "put")):
            writers = sorted({name for name, _ in uses[op]})
            if len(writers) > 1:
                raise KernelSyntaxError(
                    f"stream `{glob.name}` is {'written' if op == 'put' else 'read'} by "
                    f"{len(writers)} kernels ({', '.join(writers)}); a stream connects one "
                    "producer to one consumer",
                    uses[op][-1][1],
                    "give each producer-consumer pair its own stream (a grid of streams)",
                )
            if writers and not uses[other]:
                verb = "written" if op == "put" else "read"
                missing = "reads" if op == "put" else "writes"
                raise KernelSyntaxError(
                    f"stream `{glob.name}` is {verb} by {writers[0]} but no kernel {missing} it",
                    uses[op][0][1],
                    f"add the matching `{glob.name}.{other}(...)` in another kernel, or remove "
                    "this one",
                )
