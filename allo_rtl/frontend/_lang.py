"""The functions kernels call from ``allo``: loop iterators and math.

Inside a kernel the frontend recognises them by their ``_allo_builtin`` name; called from plain
Python they behave like their NumPy equivalents, so a kernel also runs as ordinary Python.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from enum import Enum
from typing import Any

import numpy as np

__all__ = [
    "Partition", "abs", "cos", "exp", "get_pid", "grid", "log", "log2", "log10", "meta_elif",
    "meta_else", "meta_for", "meta_if", "power", "reduction", "sin", "sqrt", "tan", "tanh",
]  # fmt: skip


def _builtin(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn._allo_builtin = name  # type: ignore[attr-defined]
        return fn

    return mark


@_builtin("allo.grid")
def grid(*extents: int, name: str | None = None) -> Iterator[tuple[int, ...]]:
    """Iterate over a loop nest: ``for i, j in allo.grid(M, N, name="S")``.

    ``name`` names the loop band (``s.get_loops().S``); unnamed bands are called ``S_i_j_<n>``.
    """
    return itertools.product(*(range(e) for e in extents))


@_builtin("allo.reduction")
def reduction(*extents: int, name: str | None = None) -> Iterator[Any]:
    """Like :func:`grid`, for loops that reduce: ``for k in allo.reduction(K)``."""
    if len(extents) == 1:
        return iter(range(extents[0]))
    return itertools.product(*(range(e) for e in extents))


def _math(name: str, np_fn: Callable[..., Any]) -> Callable[..., Any]:
    def fn(*args: Any) -> Any:
        return np_fn(*args)

    fn.__name__ = name
    fn.__doc__ = f"``allo.{name}``: NumPy's ``{np_fn.__name__}`` in the argument's float type."
    return _builtin(f"allo.{name}")(fn)


abs = _math("abs", np.abs)  # noqa: A001 - Allo's name
exp = _math("exp", np.exp)
log = _math("log", np.log)
log2 = _math("log2", np.log2)
log10 = _math("log10", np.log10)
sqrt = _math("sqrt", np.sqrt)
sin = _math("sin", np.sin)
cos = _math("cos", np.cos)
tan = _math("tan", np.tan)
tanh = _math("tanh", np.tanh)
power = _math("power", np.power)


class _Meta:
    """What ``with allo.meta_if(...)`` gives when a kernel runs as plain Python."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@_builtin("allo.meta_if")
def meta_if(cond: object) -> _Meta:
    """``with allo.meta_if(cond):`` keeps its body only if ``cond`` holds at compile time.

    ``cond`` may use constants and the ids of ``df.get_pid()``; ``meta_elif`` and ``meta_else``
    blocks directly after it complete the chain, so each kernel instance gets only its branch.
    """
    return _Meta()


@_builtin("allo.meta_elif")
def meta_elif(cond: object) -> _Meta:
    """The ``elif`` of :func:`meta_if`."""
    return _Meta()


@_builtin("allo.meta_else")
def meta_else() -> _Meta:
    """The ``else`` of :func:`meta_if`."""
    return _Meta()


@_builtin("allo.meta_for")
def meta_for(*bounds: int) -> range:
    """``for i in allo.meta_for(N):`` copies its body once per ``i`` at compile time
    (``range``'s arguments); ``i`` is a constant in each copy."""
    return range(*bounds)


@_builtin("df.get_pid")
def get_pid() -> Any:
    """Inside a ``@df.kernel(mapping=[P0, P1])``: this instance's ids, ``i, j = df.get_pid()``
    (a single id for a one-dimensional mapping), compile-time constants."""
    raise RuntimeError("df.get_pid() has a value only inside a dataflow kernel being compiled")


class Partition(Enum):
    """Array partition kinds for ``s.partition`` (Allo's names)."""

    Complete = 0
    Block = 1
    Cyclic = 2
