"""``parallel(loop)``: Allo's name for a loop whose iterations are independent and may run at
once. In RTL this is a full unroll: every iteration gets its own operators.

Before::

    for j in range(0, 4):  # S_j_0.j range
        C[j] = A[j] + B[j]

After ``parallel("j")``::

    for j in range(0, 4):  # S_j_0.j range parallel=True unroll=0
        C[j] = A[j] + B[j]
"""

from __future__ import annotations

from .._errors import Loc
from ..ir._nodes import Module
from ._attrs import with_attrs
from ._common import LoopName, find_loop, replace_function, replace_loop
from .unroll import unroll

__all__ = ["parallel"]


def parallel(module: Module, loop: LoopName, loc: Loc | None = None) -> Module:
    """``module`` with ``loop`` marked parallel (and fully unrolled)."""
    module = unroll(module, loop, 0, loc)
    fn, target = find_loop(module, loop, loc)
    return replace_function(module, replace_loop(fn, target, with_attrs(target, parallel=True)))
