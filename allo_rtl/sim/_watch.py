"""The state of a stuck dataflow design, from the shell's ``watch`` registers, in words."""

from __future__ import annotations

from typing import Any

from ..ir._fold import trip_count
from ..ir._nodes import Call, Dataflow, For, If, Module, While

__all__ = ["cycle_limit", "fields", "high_water", "watch_report"]

# a statement of sequential code costs at most this many cycles (loads, products, cut points,
# waits on a port); a pipeline forced to an II above 64 can exceed it (then set max_cycles)
_CYCLES_PER_STATEMENT = 64
_SLACK = 10_000
FALLBACK_LIMIT = 10_000_000


def cycle_limit(module: Module) -> int:
    """A watchdog limit derived from the design: 64 cycles per statement the top kernel
    executes (loops with constant bounds, calls and dataflow tasks counted in full) plus
    10,000; ``FALLBACK_LIMIT`` when a loop's trip count is only known at run time."""
    count = _statements(module, module.top_func.body)
    return FALLBACK_LIMIT if count is None else _CYCLES_PER_STATEMENT * count + _SLACK


def _statements(module: Module, stmts: tuple) -> int | None:
    total = 0
    for s in stmts:
        n: int | None = 1
        if isinstance(s, For):
            trips, body = trip_count(s), _statements(module, s.body)
            n = None if trips is None or body is None else 1 + trips * (body + 1)
        elif isinstance(s, If):
            a, b = _statements(module, s.then), _statements(module, s.orelse)
            n = None if a is None or b is None else 1 + max(a, b)
        elif isinstance(s, While):
            n = None
        elif isinstance(s, (Call, Dataflow)):
            calls = s.tasks if isinstance(s, Dataflow) else (s,)
            parts = [_statements(module, module.func(c.callee).body) for c in calls]
            n = None if None in parts else 1 + sum(parts)  # type: ignore[arg-type]
        if n is None:
            return None
        total += n
    return total


def fields(amap: dict[str, Any], words: dict[str, int]) -> dict[str, int]:
    """Each watch field's value, cut from its word (``words``: by address, as a string)."""
    out = {}
    for name, w in amap.get("watch", {}).items():
        if str(w["addr"]) in words:
            out[name] = (words[str(w["addr"])] >> w["lsb"]) & ((1 << w["width"]) - 1)
    return out


def high_water(amap: dict[str, Any], values: dict[str, int]) -> dict[str, int]:
    """The most values each FIFO held, by name (nested regions: ``instance.stream``)."""
    return {
        n: values.get(n, 0) >> w["bits"] for n, w in amap.get("watch", {}).items()
        if w["kind"] == "fifo"
    }  # fmt: skip


def watch_report(amap: dict[str, Any], values: dict[str, int]) -> str:
    """One line per unfinished task: the streams it waits on (its empty input streams and full
    output streams), or that it still runs; nothing for a design without dataflow regions."""
    watch = amap.get("watch", {})
    fifos = {
        n: (values.get(n, 0) & ((1 << w["bits"]) - 1), w["depth"])
        for n, w in watch.items()
        if w["kind"] == "fifo"
    }
    lines = []
    for name, w in watch.items():
        if w["kind"] != "task" or values.get(name, 0) & 1:
            continue
        if not values.get(name, 0) & 2:
            lines.append(f"  {name} is running (not waiting on a stream)")
            continue
        waits = [f"  {name} waits to get from `{s}` (empty)" for s in w["gets"] if fifos[s][0] == 0]
        waits += [
            f"  {name} waits to put into `{s}` (full: {fifos[s][0]} of depth {fifos[s][1]})"
            for s in w["puts"]
            if fifos[s][0] >= fifos[s][1]
        ]
        lines += waits or [f"  {name} waits on a stream"]
    return "\n".join(lines)
