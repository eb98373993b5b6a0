"""Run-time of dataflow regions in the NumPy target: blocking FIFOs and a deterministic
scheduler that detects deadlock.

Each kernel instance of a region runs as a Python generator. ``get`` yields while its stream is
empty and ``put`` while it is full; the scheduler resumes the tasks in the region's order, each
until it blocks or returns. A round in which no stream operation succeeded and no task returned
means every unfinished task waits for another: a deadlock, reported as
:class:`~allo_rtl.DeadlockError` naming the tasks and streams.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator, Iterator
from typing import Any

from .._errors import DeadlockError, Loc, StreamError

__all__ = ["DATAFLOW_HELPERS", "FifoStats", "Stream"]


class Stream:
    """A FIFO of at most ``depth`` values; counts its operations and its fullest occupancy."""

    __slots__ = ("depth", "high_water", "items", "name", "ops")

    def __init__(self, name: str, depth: int) -> None:
        self.name = name
        self.depth = depth
        self.items: deque[Any] = deque()
        self.ops = 0
        self.high_water = 0


def get(stream: Stream) -> Generator[tuple[str, Stream], None, Any]:
    """``stream.get()``: wait while empty, then take the oldest value."""
    while not stream.items:
        yield "get", stream
    stream.ops += 1
    return stream.items.popleft()


def put(stream: Stream, value: Any) -> Generator[tuple[str, Stream], None, None]:
    """``stream.put(value)``: wait while full, then append."""
    while len(stream.items) >= stream.depth:
        yield "put", stream
    stream.items.append(value)
    stream.ops += 1
    stream.high_water = max(stream.high_water, len(stream.items))


class FifoStats:
    """The highest occupancy of every stream over the runs of a module, by region and name."""

    def __init__(self) -> None:
        self.high_water: dict[str, int] = {}

    def record(self, region: str, streams: list[Stream]) -> None:
        for s in streams:
            key = f"{region}.{s.name}"
            self.high_water[key] = max(self.high_water.get(key, 0), s.high_water)


def run(
    region: str,
    loc: Loc,
    tasks: list[tuple[str, Iterator[Any]]],
    streams: list[Stream],
    stats: FifoStats | None = None,
    deps: list[tuple[int, ...]] | None = None,
    balanced: bool = False,
) -> None:
    """Run ``tasks`` (name, generator) concurrently until all return; task ``n`` starts when
    the tasks ``deps[n]`` have returned. ``balanced`` (an iteration of a dataflow loop): the
    streams must end empty (``StreamError``); otherwise what is left is dropped, as the
    hardware clears its FIFOs when a region starts."""
    deps = deps or [()] * len(tasks)
    live = [(n, name, gen, None) for n, (name, gen) in enumerate(tasks)]
    done: set[int] = set()
    while live:
        before = sum(s.ops for s in streams)
        waiting = []
        for n, name, gen, _ in live:
            if not done.issuperset(deps[n]):
                waiting.append((n, name, gen, ("after", None)))
                continue
            try:
                waiting.append((n, name, gen, gen.send(None)))
            except StopIteration:
                done.add(n)
        if len(waiting) == len(live) and sum(s.ops for s in streams) == before:
            raise _deadlock(region, loc, [w[1:] for w in waiting if w[3][0] != "after"])
        live = waiting
    if stats is not None:
        stats.record(region, streams)
    left = [s for s in streams if s.items]
    if balanced and left:
        counts = ", ".join(f"`{s.name}` ({len(s.items)})" for s in left)
        raise StreamError(
            f"an iteration of the dataflow loop in `{region}` finished with values left in "
            f"{counts}; the hardware FIFO would pass them to the next iteration",
            loc,
            "make each stream's consumer get as many values as its producer puts",
        )


def _deadlock(region: str, loc: Loc, waiting: list[tuple[str, Any, Any]]) -> DeadlockError:
    lines = []
    for name, _, (op, stream) in waiting:
        if op == "get":
            lines.append(f"  {name} waits to get from `{stream.name}` (empty)")
        else:
            lines.append(
                f"  {name} waits to put into `{stream.name}` (full: {len(stream.items)} of "
                f"depth {stream.depth})"
            )
    return DeadlockError(
        f"dataflow region `{region}` deadlocked: every unfinished kernel waits on a stream\n"
        + "\n".join(lines),
        loc,
        "make the full streams deeper (`Stream[T, depth]`) or change the order of puts and gets",
    )


DATAFLOW_HELPERS = {"_Stream": Stream, "_get": get, "_put": put, "_run_dataflow": run}
