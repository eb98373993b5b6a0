"""Loop annotations shared by the attribute-setting primitives (pipeline, unroll, parallel)."""

from __future__ import annotations

from dataclasses import replace

from ..ir._fold import trip_count
from ..ir._nodes import For

__all__ = ["trip_count", "with_attrs"]


def with_attrs(loop: For, **attrs: object) -> For:
    """``loop`` with ``attrs`` set (replacing earlier values), kept sorted by key."""
    merged = dict(loop.attrs)
    merged.update(attrs)
    return replace(loop, attrs=tuple(sorted(merged.items())))
