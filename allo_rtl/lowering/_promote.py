"""IR -> IR: keep an array element that a pipelined loop reads and writes at one address in a
register for the whole loop (scalar replacement), so a reduction into memory runs at II=1::

    for k in range(0, 32):  # pipeline=1         C_k: int32 = C[i, j]
        C[i, j] = C[i, j] + A[i, k] * B[k, j]  ->  for k in range(0, 32):  # pipeline=1
                                                      C_k = C_k + A[i, k] * B[k, j]
                                                  C[i, j] = C_k

It applies when every access of the array in the loop uses the same indices and those do not
change during the loop (they use neither the loop's variable nor a scalar the loop assigns).
"""

from __future__ import annotations

from typing import Any

from ..ir._nodes import Assign, Decl, For, Load, Store, Sym, Var, walk
from ..ir._rewrite import shape_key, transform

__all__ = ["promote", "promote_nest"]


def _candidates(loop: For) -> dict[Sym, tuple]:
    assigned = {loop.var} | {n.sym for n in walk_body(loop) if isinstance(n, (Assign, Decl))}
    seen: dict[Sym, tuple | None] = {}
    stored: set[Sym] = set()
    for n in walk_body(loop):
        if isinstance(n, (Load, Store)):
            idx = n.indices
            uses = {v.sym for i in idx for v in walk(i) if isinstance(v, Var)}
            first = seen.get(n.buf, idx)
            ok = not (uses & assigned) and first is not None and shape_key(first) == shape_key(idx)
            seen[n.buf] = first if ok else None
            if isinstance(n, Store):
                stored.add(n.buf)
    return {buf: idx for buf, idx in seen.items() if idx is not None and buf in stored}


def walk_body(loop: For) -> Any:
    return (n for s in loop.body for n in walk(s))


def promote_nest(nest: list) -> tuple[list, tuple, tuple]:
    """Promote in the innermost loop of a pipeline nest; the new statements join the level
    around it, or (for a single loop) come back to run before and after the pipeline."""
    inner = nest[-1][0]
    before, loop, after = promote(inner)
    if len(nest) == 1:
        return [(loop, (), ())], before, after
    parent, b, a = nest[-2]
    return [*nest[:-2], (parent, b + before, after + a), (loop, (), ())], (), ()


def promote(loop: For) -> tuple[tuple, For, tuple]:
    """(statements before, the rewritten loop, statements after)."""
    found = _candidates(loop)
    if not found:
        return (), loop, ()
    before, after, temps = [], [], {}
    for buf, idx in found.items():
        dtype = next(n.value.type for n in walk_body(loop) if isinstance(n, Store) and n.buf == buf)
        tmp = Sym(f"{buf.name}_{loop.var.name}")
        temps[buf] = (tmp, dtype)
        before.append(Decl(tmp, dtype, Load(buf, idx, dtype, loop.loc), loop.loc))
        after.append(Store(buf, idx, Var(tmp, dtype, loop.loc), loop.loc))

    def swap(n: Any) -> Any:
        if isinstance(n, Load) and n.buf in temps:
            tmp, dtype = temps[n.buf]
            return Var(tmp, dtype, n.loc)
        if isinstance(n, Store) and n.buf in temps:
            return Assign(temps[n.buf][0], n.value, n.loc)
        return n

    return tuple(before), transform(loop, swap), tuple(after)
