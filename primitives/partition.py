"""``partition(array, kind, dim, factor)``: split an array into banks (separate memories or
registers) along one dimension (``dim >= 1``, 1-based) or every dimension (``dim == 0``), so that
unrolled or pipelined loops can access several elements in the same cycle.

The IR rewrite records an :class:`~allo_rtl.ir.Layout` for the array in ``Function.layouts``;
the program itself does not change. ``"complete"`` gives one bank per index (registers),
``"block"`` ``factor`` contiguous blocks and ``"cyclic"`` ``factor`` interleaved banks (index
``i`` in bank ``i % factor``). ``factor`` is ignored for ``"complete"``.

Differences from Allo, which the hardware banking needs or which make schedules composable:

- ``factor`` must divide the dimension, so that the banks of a memory have equal sizes (Allo
  rounds the block size up and leaves the last bank short).
- Each dimension is partitioned once. Partitioning another dimension later adds to the layout
  (also after ``dim=0``); partitioning a dimension again is accepted when it repeats the same
  kind and factor (Allo rejects every repeat) and rejected when it differs.

As in Allo, a partition propagates across calls: the array a caller passes to a parameter, the
parameter it is passed to, the local receiving a returned array and the array a callee returns
are one memory, so all of them get the layout (transitively; a conflict in any of them is an
error). A callee called from several places therefore partitions the arrays of every caller.

Before::

    def kernel(A: int32[8, 8]) -> int32[8, 8]:
        ...

After ``partition("A", "cyclic", 2, 4)``::

    # A: partition[none, cyclic(4)]
    def kernel(A: int32[8, 8]) -> int32[8, 8]:
        ...
"""

from __future__ import annotations

from dataclasses import replace

from .._errors import Loc
from ..ir._nodes import Function, Layout, Module, Sym
from ..ir.types import ArrayType
from ._access import linked_arrays
from ._common import ArrayRefName, fail, find_array, replace_function

__all__ = ["partition"]

KINDS = ("complete", "block", "cyclic")


def _divisors_near(n: int, factor: int) -> str:
    """The divisors of ``n`` (other than 1) nearest to ``factor``, as ``"2 or 4"``."""
    divs = [d for d in range(2, n + 1) if n % d == 0]
    below = [d for d in divs if d < factor][-1:]
    above = [d for d in divs if d > factor][:1]
    return " or ".join(str(d) for d in below + above) or str(n)


def _check(name: str, t: ArrayType, kind: str, dim: int, factor: int, loc: Loc | None) -> None:
    rank = len(t.shape)
    if kind not in KINDS:
        raise fail(f"partition kind must be one of {', '.join(KINDS)}, not {kind!r}", loc)
    if not isinstance(dim, int) or isinstance(dim, bool) or not 0 <= dim <= rank:
        raise fail(
            f"partition dimension {dim!r} is out of range for {name} ({t})",
            loc,
            hint=f"use dim=0 for every dimension or a dimension from 1 to {rank}",
        )
    if kind == "complete":
        return
    if not isinstance(factor, int) or isinstance(factor, bool) or factor <= 0:
        raise fail(
            f"a {kind} partition needs a positive factor (the number of banks), not {factor!r}",
            loc,
            hint=f"e.g. `s.partition(s.{name}, Partition.{kind.title()}, dim={dim}, factor=2)`",
        )
    for d in range(rank) if dim == 0 else (dim - 1,):
        n = t.shape[d]
        if n % factor:
            raise fail(
                f"cannot partition dimension {d + 1} of {name} (extent {n}) into {factor} "
                f"{kind} banks: the factor must divide the extent, as the banks of a memory "
                "must have equal sizes",
                loc,
                hint=f"use a factor that divides {n}, e.g. {_divisors_near(n, factor)}",
            )


def _merged(
    old: Layout | None,
    rank: int,
    kind: str,
    dims: range | tuple[int, ...],
    factor: int,
    loc: Loc | None = None,
) -> tuple[Layout, int | None]:
    """``old`` with ``dims`` partitioned (asked for at ``loc``); the second value is the first
    conflicting dimension."""
    kinds = list(old.kinds if old else ("none",) * rank)
    factors = list(old.factors if old else (0,) * rank)
    locs = list(old.locs if old and old.locs else (None,) * rank)
    for d in dims:
        if kinds[d] != "none" and (kinds[d], factors[d]) != (kind, factor):
            return Layout(tuple(kinds), tuple(factors), tuple(locs)), d
        if kinds[d] == "none":
            locs[d] = loc
        kinds[d], factors[d] = kind, factor
    return Layout(tuple(kinds), tuple(factors), tuple(locs)), None


def _set_layout(fn: Function, sym: Sym, layout: Layout) -> Function:
    if fn.layout(sym) is None:
        return replace(fn, layouts=(*fn.layouts, (sym, layout)))
    return replace(fn, layouts=tuple((s, layout if s == sym else v) for s, v in fn.layouts))


def partition(
    module: Module,
    array: ArrayRefName,
    kind: str = "complete",
    dim: int = 0,
    factor: int = 0,
    loc: Loc | None = None,
) -> Module:
    """``module`` with ``array`` (and the arrays linked to it through calls) partitioned."""
    fn, sym, t = find_array(module, array, loc)
    _check(sym.name, t, kind, dim, factor, loc)
    factor = 0 if kind == "complete" else factor
    dims = range(len(t.shape)) if dim == 0 else (dim - 1,)
    wanted, _ = _merged(None, len(t.shape), kind, dims, factor)
    for f, s in linked_arrays(module, fn, sym):
        f = module.func(f.sym)  # the version with the layouts set so far
        layout, clash = _merged(f.layout(s), len(t.shape), kind, dims, factor, loc)
        if clash is not None:
            own = (f.sym, s) == (fn.sym, sym)
            who = (
                "it is" if own else f"{s.name} of {f.sym.name}, the same memory through a call, is"
            )
            raise fail(
                f"cannot partition dimension {clash + 1} of {sym.name} as "
                f"{_text(_merged(None, len(t.shape), kind, dims, factor)[0], clash)}: "
                f"{who} already partitioned as {_text(layout, clash)}{_where(layout, clash)}",
                loc,
                hint="partition each dimension once (repeating the same partition is fine)",
            )
        module = replace_function(module, _set_layout(f, s, layout))
    return module


def _where(layout: Layout, d: int) -> str:
    """`` by gemm.py:30: `s.partition(...)``` naming the schedule line of dimension ``d``."""
    loc = layout.locs[d] if len(layout.locs) > d else None
    if loc is None:
        return ""
    line = loc.source_line().strip()
    return f" by {loc.file}:{loc.line}" + (f": `{line}`" if line else "")


def _text(layout: Layout, d: int) -> str:
    kind, factor = layout.kinds[d], layout.factors[d]
    return kind if kind == "complete" else f"{kind}({factor})"
