"""Loop annotations shared by the attribute-setting primitives (pipeline, unroll, parallel)."""

from __future__ import annotations

from dataclasses import replace

from ..ir._nodes import Const, For


def with_attrs(loop: For, **attrs: object) -> For:
    """``loop`` with ``attrs`` set (replacing earlier values), kept sorted by key."""
    merged = dict(loop.attrs)
    merged.update(attrs)
    return replace(loop, attrs=tuple(sorted(merged.items())))


def trip_count(loop: For) -> int | None:
    """The number of iterations of ``loop`` when its bounds are constants, else ``None``."""
    if not (isinstance(loop.lo, Const) and isinstance(loop.hi, Const)):
        return None
    lo, hi, step = int(loop.lo.value), int(loop.hi.value), loop.step
    return max(0, -((lo - hi) // step)) if step > 0 else max(0, -((hi - lo) // -step))
