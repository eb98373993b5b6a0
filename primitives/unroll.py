"""``unroll(loop, factor=0)``: replicate the loop body ``factor`` times (0: completely), so that
the copies run in the same cycles on their own operators (processing elements).

The IR rewrite annotates the loop; the lowering replicates the body (a partial unroll keeps a
loop over groups of ``factor`` iterations, with a guard when ``factor`` does not divide the trip
count).

Before::

    for j in range(0, 32):  # S_j_0.j range
        C[j] = A[j] + B[j]

After ``unroll("j", 4)``::

    for j in range(0, 32):  # S_j_0.j range unroll=4
        C[j] = A[j] + B[j]
"""

from __future__ import annotations

from .._errors import Loc
from ..ir._nodes import Module
from ._attrs import trip_count, with_attrs
from ._common import LoopName, fail, find_loop, replace_function, replace_loop

__all__ = ["unroll"]


def unroll(module: Module, loop: LoopName, factor: int = 0, loc: Loc | None = None) -> Module:
    """``module`` with ``loop`` marked for unrolling by ``factor`` (0: fully)."""
    fn, target = find_loop(module, loop, loc)
    if not isinstance(factor, int) or factor < 0:
        raise fail(
            f"unroll factor must be a non-negative integer (0: unroll fully), not {factor!r}",
            loc,
        )
    trips = trip_count(target)
    if trips is None and factor == 0:
        raise fail(
            f"cannot fully unroll loop `{loop}`: its bounds are not constants",
            loc,
            target.loc,
            hint='give a factor, e.g. `s.unroll("j", 4)`',
        )
    if trips is not None and factor >= trips:
        factor = 0  # a factor covering every iteration is a full unroll
    marked = with_attrs(target, unroll=factor)
    return replace_function(module, replace_loop(fn, target, marked))
