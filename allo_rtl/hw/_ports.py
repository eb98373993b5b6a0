"""Drivers of memory ports shared by controller states, pipelines and called kernels.

Every driver comes with a condition (a controller state, or a pipeline stage being valid);
conditions of one port never hold in the same cycle. Enables are the OR of the conditions; the
enables of called kernels are not gated by the caller's state (they are 0 while the callee is
idle), which keeps the caller's state decoding off the paths to the memories.
Addresses and write data need no value when the port is idle, so the last driver is the default
and only the others are multiplexed: one port with one driver has no multiplexer at all. The
multiplexer is an AND-OR of the (exclusive) conditions, reduced in a balanced tree, so its
depth grows with the logarithm of the number of drivers, not linearly like an if/elif chain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from amaranth.hdl import Module, Mux, Signal, Value

__all__ = ["PortDrivers"]


class PortDrivers:
    def __init__(self) -> None:
        self._values: dict[int, tuple[Value, list[tuple[Any, Value]]]] = {}
        self._enables: dict[int, tuple[Value, list[tuple[Any, Value]]]] = {}
        self._syncs: list[tuple[Value, Any, Value]] = []

    def sync(self, sig: Value, cond: Any, value: Value) -> None:
        """Register ``value`` into ``sig`` at the end of a cycle in which ``cond`` holds."""
        self._syncs.append((sig, cond, value))

    def value(self, sig: Value, cond: Any, value: Value) -> None:
        """Drive ``sig`` with ``value`` while ``cond`` holds."""
        self._values.setdefault(id(sig), (sig, []))[1].append((cond, value))

    def enable(self, sig: Value, cond: Any, value: Value | int = 1) -> None:
        """Drive enable ``sig`` with ``value`` while ``cond`` holds (0 otherwise). ``cond``
        ``None``: ``value`` is already 0 whenever the driver is not active (a called kernel's
        enables are 0 while it is idle), so the condition need not gate it."""
        self._enables.setdefault(id(sig), (sig, []))[1].append((cond, Value.cast(value)))

    def emit(self, m: Module, resolve: Callable[[Any], Value]) -> None:
        """Add the assignments; ``resolve`` turns a condition into a 1-bit value."""
        for sig, items in self._values.values():
            if len(items) == 1:
                m.d.comb += sig.eq(items[0][1])
                continue
            terms, conds = [], []
            for cond, value in items[:-1]:
                term = Signal(len(sig), name=f"{_name(sig)}_d{len(terms)}")
                m.d.comb += term.eq(Mux(resolve(cond), value, 0))  # extended like `value`
                terms.append(term)
                conds.append(resolve(cond))
            m.d.comb += sig.eq(Mux(_tree(conds), _tree(terms), items[-1][1]))
        for sig, items in self._enables.values():
            gated = [value if cond is None else resolve(cond) & value for cond, value in items]
            m.d.comb += sig.eq(_tree(gated))
        for sig, cond, value in self._syncs:
            with m.If(resolve(cond)):
                m.d.sync += sig.eq(value)


def _tree(terms: list[Value]) -> Value:
    """The OR of ``terms`` as a balanced tree, not a long chain."""
    while len(terms) > 1:
        pairs = zip(terms[0::2], terms[1::2])
        terms = [a | b for a, b in pairs] + ([terms[-1]] if len(terms) % 2 else [])
    return terms[0]


def _name(sig: Value) -> str:
    return getattr(sig, "name", None) or "port"
