"""``compute_at(producer, consumer)``: move the producer's loop nest into the consumer's nest at
the consumer loop, merging the loops above it (Allo's ``compute_at``).

``consumer`` is a loop at depth ``d`` of its nest; ``producer`` names the loop at the same
depth of an earlier loop nest in the same block. The producer's ``d`` outer loops merge with the
consumer's: their bounds must be the same (and not change while the nests run), and the loops
above depth ``d`` must be perfectly nested in both nests. The producer's body at depth ``d``
(with its variables renamed to the consumer's) then runs at the start of each iteration of the
consumer loop, so each consumer iteration computes the producer values it needs right before
using them.

The move is refused unless it keeps every dependence: no execution of the producer may move
after a consumer execution that touches the same element (one of them writing it), that is no
consumer iteration may need what the producer computes in a *later* iteration of the merged
loops; and no statement between the two nests may touch what the producer writes (or write
what it reads). The test is exact for affine accesses with constant bounds
(``_dependence.py``). Unlike Allo, the intermediate array is kept (it is still written), and the
producer's inner loops keep their band, so handles from ``get_loops()`` taken before the move
still name them.

Before::

    for i in range(0, 10):  # S_i_j_0.i grid
        for j in range(0, 20):  # S_i_j_0.j grid
            B[i, j] = int32((A[i, j] * 2))
    C: int32[10, 20] = 0
    for ii in range(0, 10):  # S_ii_jj_1.ii grid
        for jj in range(0, 20):  # S_ii_jj_1.jj grid
            C[ii, jj] = int32((B[ii, jj] + 1))

After ``compute_at("j", "jj")``::

    C: int32[10, 20] = 0
    for ii in range(0, 10):  # S_ii_jj_1.ii grid
        for jj in range(0, 20):  # S_ii_jj_1.jj grid
            B[ii, jj] = int32((A[ii, jj] * 2))
            C[ii, jj] = int32((B[ii, jj] + 1))
"""

from __future__ import annotations

from dataclasses import replace

from .._errors import Loc
from ..ir._nodes import For, Function, If, Module, Stmt, Sym, While
from ..ir._rewrite import rename, transform
from ._common import LoopName, fail, find_loop, map_stmts, replace_function
from ._dependence import accesses, conflict, directions, private, scope
from ._nest import attrs_text, loop_path, mentioned, range_text, written

__all__ = ["compute_at"]


def compute_at(
    module: Module, producer: LoopName, consumer: LoopName, loc: Loc | None = None
) -> Module:
    """``module`` with the producer nest merged into the consumer nest at ``consumer``."""
    fn, p_loop = find_loop(module, producer, loc)
    c_fn, c_loop = find_loop(module, consumer, loc)
    where = f"cannot compute `{producer}` at `{consumer}`"
    if c_fn.sym != fn.sym:
        raise fail(f"{where}: the loops are in different functions", loc)
    p_chain, c_chain, between = _nests(fn, p_loop, c_loop, where, loc)
    changed = written(p_chain[0]) | written(c_chain[0]) | written(between)
    _check_loops(p_chain, c_chain, changed, where, loc)
    _check_dependences(fn, p_chain, c_chain, between, changed, where, loc)
    depth = len(c_chain)
    mapping = {p.var: c.var for p, c in zip(p_chain, c_chain)}
    level: Stmt = replace(c_chain[-1], body=rename(p_chain[-1].body, mapping) + c_chain[-1].body)
    for loop in reversed(c_chain[: depth - 1]):
        level = replace(loop, body=(level,))
    body = map_stmts(fn.body, lambda s: () if s is p_chain[0] else level if s is c_chain[0] else s)
    return replace_function(module, replace(fn, body=body))


def _nest_of(fn: Function, loop: For) -> tuple[list[For], tuple[Stmt, ...]]:
    """The loops from the outermost loop of ``loop``'s nest down to ``loop``, and the block
    that holds that outermost loop."""
    path = loop_path(fn.body, loop) or [loop]
    start = len(path)
    while start > 0 and isinstance(path[start - 1], For):
        start -= 1
    parent = path[start - 1] if start else None
    if parent is None:
        block = fn.body
    elif isinstance(parent, If):
        block = parent.then if any(s is path[start] for s in parent.then) else parent.orelse
    else:
        assert isinstance(parent, (For, While))
        block = parent.body
    return path[start:], block  # type: ignore[return-value]


def _nests(
    fn: Function, p_loop: For, c_loop: For, where: str, loc: Loc | None
) -> tuple[list[For], list[For], tuple[Stmt, ...]]:
    p_chain, p_block = _nest_of(fn, p_loop)
    c_chain, c_block = _nest_of(fn, c_loop)
    if p_chain[0] is c_chain[0]:
        raise fail(f"{where}: both loops are in the same loop nest", loc)
    if p_block is not c_block:
        raise fail(f"{where}: the two loop nests are not in the same block", loc, c_chain[0].loc)
    p_pos = next(n for n, s in enumerate(p_block) if s is p_chain[0])
    c_pos = next(n for n, s in enumerate(p_block) if s is c_chain[0])
    if p_pos > c_pos:
        raise fail(
            f"{where}: the producer's loop nest comes after the consumer's",
            loc,
            p_chain[0].loc,
            hint="the producer nest must run before the consumer nest",
        )
    if len(p_chain) != len(c_chain):
        raise fail(
            f"{where}: the producer loop is at depth {len(p_chain)} of its nest but the "
            f"consumer loop at depth {len(c_chain)}",
            loc,
            hint="name the producer loop at the depth of the consumer loop",
        )
    for chain, who in ((p_chain, "producer"), (c_chain, "consumer")):
        for loop in chain[:-1]:
            if len(loop.body) != 1:
                raise fail(
                    f"{where}: the {who}'s loops are not perfectly nested: the body of loop "
                    f"`{loop.name}` holds other statements",
                    loc,
                    loop.loc,
                )
    return p_chain, c_chain, p_block[p_pos + 1 : c_pos]


def _check_loops(
    p_chain: list[For], c_chain: list[For], changed: set[Sym], where: str, loc: Loc | None
) -> None:
    """The merged loops must have the same bounds, and no annotation would be lost."""
    mapping = {}
    for p, c in zip(p_chain, c_chain):
        same = p.step == c.step and all(
            _shape(rename(x, mapping)) == _shape(y) for x, y in ((p.lo, c.lo), (p.hi, c.hi))
        )
        if not same:
            raise fail(
                f"{where}: the producer loop `{p.name}` ({range_text(p)}) and the consumer "
                f"loop `{c.name}` ({range_text(c)}) have different bounds",
                loc,
                p.loc,
            )
        if mentioned((c.lo, c.hi)) & changed:
            raise fail(
                f"{where}: the bounds of loop `{c.name}` read values the loop nests change",
                loc,
                c.loc,
            )
        if p.attrs:
            raise fail(
                f"{where}: the producer loop `{p.name}` is annotated ({attrs_text(p)}), which "
                "merging would drop",
                loc,
                p.loc,
                hint="apply compute_at first, then annotate the merged loops",
            )
        mapping[p.var] = c.var


def _shape(e: object) -> object:
    """``e`` without source locations, for structural comparison."""
    return transform(e, lambda n: replace(n, loc=None))


def _check_dependences(
    fn: Function,
    p_chain: list[For],
    c_chain: list[For],
    between: tuple[Stmt, ...],
    changed: set[Sym],
    where: str,
    loc: Loc | None,
) -> None:
    """No producer access may move after a conflicting consumer or in-between access."""
    produced = accesses(p_chain[-1].body, tuple(p_chain))
    consumed = accesses(c_chain[-1].body, tuple(c_chain))
    local = private(p_chain[-1].body) & private(c_chain[-1].body)
    fixed = scope(fn, c_chain[0], changed)
    names = ", ".join(c.name for c in c_chain)
    for p in produced:
        for c in accesses(between):
            if p.sym == c.sym and (p.write or c.write):
                if conflict(p, c, fixed, lambda *_: None) is not False:
                    raise fail(
                        f"{where}: the producer's {p.kind} of `{p.sym.name}` would move after "
                        f"the {c.kind} at kernel line {c.loc.line}, between the two loop nests",
                        loc,
                        p.loc,
                    )
        for c in consumed:
            if p.sym != c.sym or not (p.write or c.write) or p.sym in local:
                continue
            for k in range(len(c_chain)):
                dirs = {**dict.fromkeys(range(k), "="), k: ">"}
                relate = (lambda d: lambda s, a, b: directions(s, a, b, d))(dirs)
                if conflict(p, c, fixed, relate) is not False:
                    raise fail(
                        f"{where}: the consumer's {c.kind} of `{c.sym.name}` at kernel line "
                        f"{c.loc.line} would run before the producer's {p.kind} of it in a "
                        f"later iteration of ({names})",
                        loc,
                        p.loc,
                        hint="each consumer iteration may only use what the producer computes "
                        "in the same or an earlier iteration of the merged loops",
                    )
