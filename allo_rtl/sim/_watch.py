"""The state of a stuck dataflow design, from the shell's ``watch`` registers, in words."""

from __future__ import annotations

from typing import Any

__all__ = ["high_water", "watch_report"]


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
