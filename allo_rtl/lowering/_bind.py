"""Binding of a pipeline's float operations to operator units.

In a pipeline with II > 1 an operator unit is busy one cycle in every II: operations of the
same kind (:class:`UnitKey`) whose issue cycles differ modulo the II never issue in the same
clock cycle (iterations start exactly II cycles apart), so they can share one unit, its
operands selected by which of them is active. The schedule is taken as it is, so sharing
costs no cycle; it saves a unit (hundreds of LUTs, and DSP blocks for a multiply) for the
price of an operand multiplexer.

Example: at II=2 with float adds issued in cycles 3, 4 and 6 of an iteration, the adds of
cycles 3 and 4 share unit 0 (slots 1 and 0) and the add of cycle 6 (slot 0) gets unit 1.
"""

from __future__ import annotations

from ._fsmd import Pipeline

__all__ = ["unit_instances"]


def unit_instances(p: Pipeline) -> tuple[int | None, ...]:
    """For each operation of ``p``, the instance of its kind of unit it runs on (``None``:
    not a unit operation). Operations that share an instance issue in distinct slots
    ``time % ii``; each operation takes the first instance free in its slot (in order of
    issue time), so a kind needs as many instances as its busiest slot has operations."""
    busy: dict[object, list[set[int]]] = {}
    out: list[int | None] = [None] * len(p.ops)
    order = sorted(range(len(p.ops)), key=lambda n: (p.times[n], n))
    for n in order:
        op = p.ops[n]
        if op.kind != "unit" or op.unit is None:
            continue
        slot, slots = p.times[n] % p.ii, busy.setdefault(op.unit, [])
        free = next((k for k, used in enumerate(slots) if slot not in used), len(slots))
        if free == len(slots):
            slots.append(set())
        slots[free].add(slot)
        out[n] = free
    return tuple(out)
