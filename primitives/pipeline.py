"""``pipeline(loop, initiation_interval=1, rewind=False)``: run the iterations of a loop as a
modulo-scheduled pipeline that starts one iteration every ``initiation_interval`` cycles.

The IR rewrite only annotates the loop; the lowering builds the pipeline. As in Vitis HLS, the
loops inside a pipelined loop are fully unrolled, and the loop is flattened with the perfectly
nested loops around it. ``rewind`` lets consecutive runs of the loop overlap: a loop with
run-time bounds affine in the loops around it, never empty (``range(i, N)``), is then
flattened with them too (docs/primitives.md).

Before::

    for j in range(0, 32):  # S_j_0.j range
        C[j] = A[j] + B[j]

After ``pipeline("j")``::

    for j in range(0, 32):  # S_j_0.j range pipeline=1
        C[j] = A[j] + B[j]
"""

from __future__ import annotations

from .._errors import Loc
from ..ir._nodes import For, Module, While, walk
from ._attrs import trip_count, with_attrs
from ._common import LoopName, fail, find_loop, replace_function, replace_loop

__all__ = ["pipeline"]


def pipeline(
    module: Module,
    loop: LoopName,
    initiation_interval: int = 1,
    rewind: bool = False,
    loc: Loc | None = None,
) -> Module:
    """``module`` with ``loop`` marked for pipelining at ``initiation_interval``."""
    fn, target = find_loop(module, loop, loc)
    if not isinstance(initiation_interval, int) or initiation_interval < 1:
        raise fail(
            f"initiation interval must be a positive integer, not {initiation_interval!r}",
            loc,
            hint='write e.g. `s.pipeline("j", initiation_interval=1)`',
        )
    for inner in (n for stmt in target.body for n in walk(stmt)):
        if isinstance(inner, While):
            raise fail(
                f"cannot pipeline loop `{loop}`: it contains a while loop, which cannot be "
                "unrolled",
                loc,
                inner.loc,
            )
        if isinstance(inner, For) and trip_count(inner) is None:
            raise fail(
                f"cannot pipeline loop `{loop}`: the inner loop `{inner.name}` has bounds that "
                "are not constants, so it cannot be unrolled",
                loc,
                inner.loc,
                hint="pipeline the inner loop instead",
            )
    marked = with_attrs(
        target, pipeline=initiation_interval, **({"rewind": True} if rewind else {})
    )
    return replace_function(module, replace_loop(fn, target, marked))
