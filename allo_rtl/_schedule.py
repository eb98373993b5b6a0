"""``allo.customize`` and the ``Schedule``: a kernel's IR plus the customizations applied to it.

Loops are addressed as in Allo: ``s.get_loops()`` returns the loop bands of a function;
``loops.C.j`` or ``loops["S_i_0"]["i"]`` is a :class:`LoopHandle`. Arrays are addressed as
``s.A`` (a :class:`BufferHandle`) or ``"func:A"``.

Builds are dispatched by target name to builders registered with :func:`register_target`, so
this stage does not import the later ones.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ._errors import BuildError, Loc, ScheduleError
from .frontend import parse
from .frontend._lang import Partition
from .ir import Alloc, For, Function, Module, format_module, verify, walk
from .ir.types import ArrayType
from .primitives._common import ArrayRefName, LoopName

__all__ = ["BufferHandle", "LoopBand", "LoopHandle", "Schedule", "customize", "register_target"]

_TARGETS: dict[str, Callable[..., Any]] = {}


def register_target(name: str, builder: Callable[..., Any]) -> None:
    """Make ``s.build(target=name, **options)`` call ``builder(schedule, **options)``."""
    _TARGETS[name] = builder


@dataclass(frozen=True)
class LoopHandle:
    """A loop of a band: ``func:band.name`` (Allo's ``LoopWrapper``)."""

    func: str
    band: str
    name: str

    def __str__(self) -> str:
        return f"{self.func}:{self.band}.{self.name}"


@dataclass(frozen=True)
class BufferHandle:
    """An array of a function, ``func:name`` (Allo's ``s.A``)."""

    func: str
    name: str

    def __str__(self) -> str:
        return f"{self.func}:{self.name}"


class LoopBand:
    """The loops of one band, by name (``band.j``, ``band["j"]``), in program order."""

    def __init__(self, func: str, band: str, names: list[str]) -> None:
        self.func = func
        self.band = band
        self.loops = {n: LoopHandle(func, band, n) for n in names}

    def __getattr__(self, name: str) -> LoopHandle:
        loops = self.__dict__.get("loops", {})
        if name in loops:
            return loops[name]
        band, func = self.__dict__.get("band"), self.__dict__.get("func")
        raise AttributeError(
            f"band {band} of {func} has no loop `{name}`; loops: {', '.join(loops)}"
        )

    def __getitem__(self, name: str) -> LoopHandle:
        return self.__getattr__(name)

    def __iter__(self) -> Iterator[tuple[str, LoopHandle]]:
        return iter(self.loops.items())

    def __repr__(self) -> str:
        return f"LoopBand({self.band}: {', '.join(self.loops)})"


class LoopBands:
    """All loop bands of a function (``s.get_loops()``)."""

    def __init__(self, func: Function) -> None:
        self.func = func.sym.name
        self.bands: dict[str, LoopBand] = {}
        for stmt in func.body:
            if isinstance(stmt, For):
                names = list(dict.fromkeys(n.name for n in walk(stmt) if isinstance(n, For)))
                self.bands[stmt.band] = LoopBand(self.func, stmt.band, names)

    def __getattr__(self, name: str) -> LoopBand:
        bands = self.__dict__.get("bands", {})
        if name in bands:
            return bands[name]
        raise AttributeError(
            f"{self.__dict__.get('func')} has no loop band `{name}`; bands: {', '.join(bands)}"
        )

    def __getitem__(self, name: str) -> LoopBand:
        return self.__getattr__(name)

    def __iter__(self) -> Iterator[tuple[str, LoopBand]]:
        return iter(self.bands.items())

    def __repr__(self) -> str:
        return f"LoopBands({', '.join(self.bands)})"


@dataclass(frozen=True)
class Step:
    """One applied primitive: its name, its arguments as the primitive received them (loop and
    array names resolved), and where the schedule called it."""

    primitive: str
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...]
    loc: Loc | None


def _user_loc() -> Loc | None:
    """The file, line and column of the innermost caller outside allo_rtl."""
    frame = sys._getframe(1)
    package = __name__.rsplit(".", 1)[0]
    while frame is not None and frame.f_globals.get("__name__", "").startswith(package):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return None
    line, col = frame.f_lineno, 1
    for start, _, column, _ in frame.f_code.co_positions():
        if start == line and column is not None:
            col = column + 1
            break
    return Loc(frame.f_code.co_filename, line, col)


_KINDS = {Partition.Complete: "complete", Partition.Block: "block", Partition.Cyclic: "cyclic"}


class Schedule:
    """A kernel module under customization. ``str(s)`` prints its IR.

    Primitives apply eagerly (each is a pure function on the IR, see ``primitives/``) and are
    recorded in ``history`` so that a schedule can be replayed on another module.
    """

    def __init__(self, module: Module, kernel_name: str | None = None) -> None:
        self.module = verify(module)
        self.history: list[Step] = []
        self.kernel_name = kernel_name or module.top_func.sym.name  # the Python function's

    # -- primitives ---------------------------------------------------------------------------
    def _apply(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Run primitive ``name``; naming a dataflow kernel (``"gemm:k"``) runs it on every
        instance of that kernel (``gemm_0_0``, ``gemm_0_1``, ...)."""
        loc = _user_loc()
        funcs = {a.func for a in args if isinstance(a, (LoopName, ArrayRefName))}
        found = {f: self._instances(f) for f in funcs}
        kernel = next((f for f, names in found.items() if names), None)
        if kernel is None:
            return self._run(name, args, kwargs, loc)
        instances = [n for names in found.values() for n in names]
        extra = None
        for inst in instances:
            extra = self._run(name, tuple(_retarget(a, kernel, inst) for a in args), kwargs, loc)
        return extra

    def _instances(self, func: str | None) -> list[str]:
        """The functions made from dataflow kernel ``func`` when no function has that name."""
        names = [f.sym.name for f in self.module.funcs]
        if func is None or func in names:
            return []
        return [n for n in names if re.fullmatch(rf"{re.escape(func)}(_\d+)+", n)]

    def _run(
        self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], loc: Loc | None
    ) -> Any:
        primitive = getattr(importlib.import_module(f"{__package__}.primitives.{name}"), name)
        out = primitive(self.module, *args, loc=loc, **kwargs)
        module, extra = out if isinstance(out, tuple) else (out, None)
        self.module = verify(module)
        self.history.append(Step(name, args, tuple(sorted(kwargs.items())), loc))
        return extra

    def compose(self, schs: Any, id: str | None = None, instantiate: Any = None) -> None:  # noqa: A002
        """Apply the primitives recorded in ``schs`` (the Schedule of a kernel this one calls,
        or a list of them) to this schedule's copy of that kernel, in their order; errors point
        at the sub-schedule's lines. With ``id``, only the instance called as
        ``kernel[..., "<id>"](...)`` (function ``<kernel>_<id>``) is customized. Callees of the
        sub-kernel that its schedule customized are customized here too. ``instantiate`` is
        accepted for Allo compatibility; the sub-schedule already fixes the type arguments."""
        loc = _user_loc()
        for sub in schs if isinstance(schs, (list, tuple)) else [schs]:
            if not isinstance(sub, Schedule):
                raise ScheduleError(
                    f"compose takes the Schedule of a called kernel, not {type(sub).__name__}",
                    loc,
                    "pass allo.customize(kernel) after applying its primitives",
                )
            target = self._compose_target(sub, id, loc)
            for step in sub.history:
                args = tuple(_retarget(a, sub.top_func.sym.name, target) for a in step.args)
                self._run(step.primitive, args, dict(step.kwargs), step.loc)

    def split(self, axis: Any, factor: int) -> None:
        """Split loop ``axis`` into ``axis.outer`` and ``axis.inner`` (``factor`` iterations)."""
        self._apply("split", self._loop(axis), factor)

    def reorder(self, *axes: Any) -> None:
        """Reorder the loops of one perfect nest into the order given."""
        self._apply("reorder", tuple(self._loop(a) for a in axes))

    def fuse(self, *axes: Any) -> LoopHandle:
        """Fuse consecutive perfectly nested loops into one loop ``a_b_fused``; returns it."""
        names = tuple(self._loop(a) for a in axes)
        self._apply("fuse", names)
        fn = self._function(names[0].func)
        fused = "_".join(n.name for n in names) + "_fused"
        band = next(f.band for f in walk(fn) if isinstance(f, For) and f.name == fused)
        return LoopHandle(fn.sym.name, band, fused)

    def unroll(self, axis: Any, factor: int = 0) -> None:
        """Unroll loop ``axis`` by ``factor`` (0: fully) into parallel copies of its body."""
        self._apply("unroll", self._loop(axis), factor)

    def pipeline(self, axis: Any, initiation_interval: int = 1, rewind: bool = False) -> None:
        """Pipeline loop ``axis``, starting an iteration every ``initiation_interval`` cycles."""
        self._apply("pipeline", self._loop(axis), initiation_interval, rewind)

    def reassociate(self, axis: Any, factor: int = 4) -> None:
        """Split the float sums ``acc += e`` carried by loop ``axis`` into ``factor``
        interleaved partial sums added after the loop: a pipelined loop then runs at II=1
        instead of the adder's latency, and the result is ``allclose`` to, not bit-equal
        with, the original order (primitives/reassociate.py)."""
        self._apply("reassociate", self._loop(axis), factor)

    def to(self, target: Any, dst: str, axis: Any = None, depth: int = -1) -> None:
        """Stream local array ``target`` from the kernel call that writes it to the call of
        kernel ``dst`` that reads it, through a FIFO of ``depth`` elements (``-1``: the array's
        size); the calls run as concurrent dataflow tasks (primitives/to.py)."""
        if axis is not None:
            raise ScheduleError(
                "s.to(..., axis=...) is not supported: allo_rtl streams arrays between kernel "
                "calls",
                _user_loc(),
                "call s.to(array, callee_name, depth=...) without `axis`",
            )
        self._apply("to", self._array(target), dst, depth)

    def dataflow(self, axis: Any) -> None:
        """Run the consecutive kernel calls of function ``axis`` as concurrent tasks, each
        starting when the tasks it shares arrays with have finished; for a loop ``axis``, the
        calls of its body, with consecutive iterations overlapping (primitives/dataflow.py)."""
        funcs = {f.sym.name for f in self.module.funcs}
        if isinstance(axis, str) and (axis in funcs or self._instances(axis)):
            self._apply("dataflow", axis)
        else:
            self._apply("dataflow", self._loop(axis))

    def parallel(self, axis: Any) -> None:
        """Run the iterations of loop ``axis`` in parallel (a full unroll in RTL)."""
        self._apply("parallel", self._loop(axis))

    def partition(
        self,
        target: Any,
        partition_type: Partition = Partition.Complete,
        dim: int = 0,
        factor: int = 0,
    ) -> None:
        """Split array ``target`` into banks along ``dim`` (1-based; 0: every dimension)."""
        if isinstance(partition_type, int) and not isinstance(partition_type, bool):
            partition_type = {0: Partition.Complete, 1: Partition.Block, 2: Partition.Cyclic}.get(
                partition_type, partition_type
            )  # Allo also accepts 0, 1, 2
        if partition_type not in _KINDS:
            raise ScheduleError(
                f"partition_type must be Partition.Complete, Block or Cyclic, not {partition_type!r}",
                _user_loc(),
            )
        self._apply("partition", self._array(target), _KINDS[partition_type], dim, factor)

    def reshape(self, target: Any, shape: Any) -> None:
        """Give array ``target`` a new shape with the same number of elements."""
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        self._apply("reshape", self._array(target), shape)

    def buffer_at(self, target: Any, axis: Any) -> BufferHandle:
        """Accumulate the part of ``target`` written inside loop ``axis`` in an on-chip buffer."""
        name = self._apply("buffer_at", self._array(target), self._loop(axis))
        return self._handle(target, name)

    def reuse_at(self, target: Any, axis: Any) -> BufferHandle:
        """Keep the elements of ``target`` that loop ``axis`` reads again in a reuse buffer
        (line buffer, window) and return a handle to it (it can be reused again)."""
        name = self._apply("reuse_at", self._array(target), self._loop(axis))
        return self._handle(target, name)

    def compute_at(self, from_loop: Any, target_loop: Any) -> None:
        """Move the producer loop nest ``from_loop`` into the consumer nest at ``target_loop``."""
        self._apply("compute_at", self._loop(from_loop), self._loop(target_loop))

    def _compose_target(self, sub: Schedule, id: str | None, loc: Loc | None) -> str:  # noqa: A002
        """The name of this module's function that ``sub`` customizes."""
        names = [f.sym.name for f in self.module.funcs]
        name = f"{sub.kernel_name}_{id}" if id is not None else sub.top_func.sym.name
        if name in names and name != self.top_func.sym.name:
            return name
        instances = [n for n in names if n.startswith(f"{sub.kernel_name}_")]
        hint = (
            f"instances here: {', '.join(instances)}; pass id= (the string after the type "
            f'arguments at the call, as in {sub.kernel_name}[..., "x"](...))'
            if instances
            else f"{self.top_func.sym.name} calls {', '.join(names[:-1]) or 'no kernel'}"
        )
        raise ScheduleError(
            f"{self.top_func.sym.name} has no function `{name}` to compose", loc, hint
        )

    # -- names ----------------------------------------------------------------------------------
    def _loop(self, axis: Any) -> LoopName:
        if isinstance(axis, LoopHandle):
            return LoopName(axis.func, axis.band, axis.name)
        if not isinstance(axis, str):
            raise ScheduleError(
                f"a loop is named by a string or a handle from s.get_loops(), not {axis!r}",
                _user_loc(),
            )
        func, _, rest = axis.rpartition(":") if ":" in axis else (None, "", axis)
        fn = self._function(func or None)
        names = {f.name for f in walk(fn) if isinstance(f, For)}
        if rest in names or "." not in rest:
            return LoopName(func or None, None, rest)
        band, _, name = rest.partition(".")
        return LoopName(func or None, band, name)

    def _array(self, target: Any) -> ArrayRefName:
        if isinstance(target, BufferHandle):
            return ArrayRefName(target.func, target.name)
        if isinstance(target, str):
            func, _, name = target.rpartition(":")
            return ArrayRefName(func or None, name)
        raise ScheduleError(
            f"an array is named by a string or a handle like `s.A`, not {target!r}", _user_loc()
        )

    def _handle(self, target: Any, name: Any) -> BufferHandle:
        func = self._array(target).func or self.top_func.sym.name
        return BufferHandle(func, str(name))

    @property
    def top_func(self) -> Function:
        return self.module.top_func

    def __str__(self) -> str:
        return format_module(self.module)

    def __repr__(self) -> str:
        return f"<Schedule of {self.top_func.sym.name}>"

    def _function(self, func: str | None) -> Function:
        if func is None:
            return self.top_func
        try:
            return self.module.func(next(iter(self._instances(func)), func))
        except KeyError:
            names = ", ".join(f.sym.name for f in self.module.funcs)
            raise ScheduleError(f"no function `{func}`; functions: {names}") from None

    def get_loops(self, func: str | None = None) -> LoopBands:
        """The loop bands of ``func`` (default: the top kernel)."""
        return LoopBands(self._function(func))

    def __getattr__(self, name: str) -> BufferHandle:
        if name.startswith("_") or "module" not in self.__dict__:
            raise AttributeError(name)
        fn = self.module.top_func
        arrays = [p.sym.name for p in fn.params if isinstance(p.type, ArrayType)]
        arrays += [n.sym.name for n in walk(fn) if isinstance(n, Alloc)]
        if name in arrays:
            return BufferHandle(fn.sym.name, name)
        raise AttributeError(
            f"kernel {fn.sym.name} has no array `{name}`; arrays: {', '.join(arrays) or 'none'}"
        )

    def build(self, target: str = "numpy", **options: Any) -> Any:
        """Build the kernel for ``target`` (``"numpy"``: the bit-exact reference). A build
        error without a kernel location points at this call."""
        loc = _user_loc()
        if target not in _TARGETS:
            raise BuildError(
                f"unknown target {target!r}; available targets: {', '.join(sorted(_TARGETS))}",
                loc,
            )
        builder = _TARGETS[target]
        _check_options(target, builder, options, loc)
        try:
            return builder(self, **options)
        except BuildError as error:
            if error.loc is not None or type(error) is not BuildError:
                raise
            raise BuildError(error.message, loc, error.hint) from None


def _check_options(
    target: str, builder: Callable[..., Any], options: dict, loc: Loc | None
) -> None:
    """``BuildError`` for options the target's builder does not take (its ``options``
    attribute, else its keyword parameters)."""
    known = list(getattr(builder, "options", ()) or list(inspect.signature(builder).parameters)[1:])
    unknown = [k for k in options if k not in known]
    if unknown:
        takes = f"its options are {', '.join(known)}" if known else "it takes no options"
        raise BuildError(f"target {target!r} has no option {unknown[0]!r}; {takes}", loc)


def _retarget(arg: Any, old: str, new: str) -> Any:
    """A primitive argument of a sub-schedule, with its top function ``old`` renamed ``new``."""
    if isinstance(arg, tuple):
        return tuple(_retarget(a, old, new) for a in arg)
    if isinstance(arg, (LoopName, ArrayRefName)) and arg.func in (None, old):
        return dataclasses.replace(arg, func=new)
    return arg


def _caller_frames(depth: int) -> tuple[dict[str, Any], ...]:
    """Locals of the calling frames in the caller's module, innermost first."""
    frame = sys._getframe(depth)
    module_globals = frame.f_globals
    scopes = []
    while frame is not None and frame.f_globals is module_globals:
        if frame.f_code.co_name == "<module>":
            break
        scopes.append(dict(frame.f_locals))
        frame = frame.f_back
    return tuple(scopes)


def customize(fn: Callable[..., Any], instantiate: Any = None) -> Schedule:
    """Parse kernel ``fn`` (and the kernels it calls) into a :class:`Schedule`.

    ``instantiate`` gives the values of a generic kernel's type parameters, in order.
    """
    return Schedule(parse(fn, instantiate, _caller_frames(2)), fn.__name__)
