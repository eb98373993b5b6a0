"""Spatial dataflow designs with Allo's syntax: ``import allo_rtl.dataflow as df``.

::

    @df.region()
    def top(A: int32[M, N], B: int32[M, N]):
        pipe: Stream[int32, 4]

        @df.kernel(mapping=[1], args=[A])
        def producer(local_A: int32[M, N]):
            for i, j in allo.grid(M, N):
                pipe.put(local_A[i, j])

        @df.kernel(mapping=[1], args=[B])
        def consumer(local_B: int32[M, N]):
            for i, j in allo.grid(M, N):
                local_B[i, j] = pipe.get() + 1

    mod = df.build(top)                        # NumPy target: concurrent, blocking FIFOs
    mod = df.build(top, target="verilator")    # every kernel instance a PE, streams FIFOs

Every kernel instance runs concurrently with the others. ``put`` waits while a stream is full
and ``get`` while it is empty; when every unfinished kernel waits, the build raises
:class:`~allo_rtl.DeadlockError` naming them and their streams.
"""

from __future__ import annotations

from typing import Any

from ._schedule import Schedule, _caller_frames
from .frontend import parse
from .frontend._dataflow import Region, kernel, region
from .frontend._lang import get_pid
from .ir.types import Stream

__all__ = ["Region", "Stream", "build", "customize", "get_pid", "kernel", "region"]

_ALIASES = {"simulator": "numpy"}


def _schedule(design: Region | Any, instantiate: Any, frames: tuple) -> Schedule:
    return Schedule(parse(design, instantiate, frames), design.__name__)


def customize(design: Region | Any, instantiate: Any = None) -> Schedule:
    """The :class:`~allo_rtl.Schedule` of a region (or kernel), as ``allo.customize``."""
    return _schedule(design, instantiate, _caller_frames(2))


def build(design: Region | Schedule | Any, target: str = "numpy", **options: Any) -> Any:
    """Build a region (or its schedule) for ``target``; ``"simulator"`` is the NumPy target."""
    s = design if isinstance(design, Schedule) else _schedule(design, None, _caller_frames(2))
    return s.build(target=_ALIASES.get(target, target), **options)
