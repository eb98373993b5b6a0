"""``allo.customize`` and the ``Schedule``: a kernel's IR plus the customizations applied to it.

Loops are addressed as in Allo: ``s.get_loops()`` returns the loop bands of a function;
``loops.C.j`` or ``loops["S_i_0"]["i"]`` is a :class:`LoopHandle`. Arrays are addressed as
``s.A`` (a :class:`BufferHandle`) or ``"func:A"``.

Builds are dispatched by target name to builders registered with :func:`register_target`, so
this stage does not import the later ones.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ._errors import BuildError, ScheduleError
from .frontend import parse
from .ir import Alloc, For, Function, Module, format_module, verify, walk
from .ir.types import ArrayType

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


class Schedule:
    """A kernel module under customization. ``str(s)`` prints its IR."""

    def __init__(self, module: Module) -> None:
        self.module = verify(module)
        self.history: list[Any] = []

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
            return self.module.func(func)
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
        """Build the kernel for ``target`` (``"numpy"``: the bit-exact reference)."""
        if target not in _TARGETS:
            raise BuildError(
                f"unknown target {target!r}; available targets: {', '.join(sorted(_TARGETS))}"
            )
        return _TARGETS[target](self, **options)


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
    return Schedule(parse(fn, instantiate, _caller_frames(2)))
