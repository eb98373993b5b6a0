"""``to(target, dst, depth=-1)``: pass local array ``target`` from the kernel that writes it to
kernel ``dst`` that reads it through a FIFO stream of ``depth`` elements (``-1``: the array's
size), and run the two calls as concurrent dataflow tasks, so ``dst`` starts on the first
element instead of waiting for the whole array.

The writer must store every element exactly once, in row-major order (one store whose indices
are the variables of the loops around it, ``for i in range(M): for j in range(N):``), and the
reader must load every element exactly once in the same order; both kernels are called only
here. Their array parameters become streams.

Before::

    def produce(A: int32[4], T: int32[4]):            def top(A: int32[4], C: int32[4]):
        for i in range(0, 4):                             T: int32[4]
            T[i] = A[i] + 1                               produce(A, T)
                                                          consume(T, C)
    def consume(T: int32[4], C: int32[4]):
        for i in range(0, 4):
            C[i] = T[i] * 2

After ``to("T", "consume", depth=2)``::

    def produce(A: int32[4], T: Stream[int32, 2]):    def top(A: int32[4], C: int32[4]):
        for i in range(0, 4):                             dataflow:
            T.put(A[i] + 1)                                   T: Stream[int32, 2]
                                                              produce(A, T)
    def consume(T: Stream[int32, 2], C: int32[4]):            consume(T, C)
        for i in range(0, 4):
            T_get: int32 = T.get()
            C[i] = T_get * 2
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .._errors import Loc
from ..ir._nodes import (
    Alloc,
    Call,
    Dataflow,
    Decl,
    For,
    Function,
    If,
    Load,
    Module,
    Param,
    Stmt,
    Store,
    StreamGet,
    StreamPut,
    StreamRef,
    Sym,
    Var,
    walk,
)  # fmt: skip
from ..ir._rewrite import transform
from ..ir.types import ArrayType, StreamType
from ._common import ArrayRefName, fail, find_array, map_stmts, replace_function
from .dataflow import task_deps

__all__ = ["to"]


def to(
    module: Module, target: ArrayRefName, dst: str, depth: int = -1, loc: Loc | None = None
) -> Module:
    """``module`` with array ``target`` streamed from its writer to kernel ``dst``."""
    fn, sym, t = find_array(module, target, loc)
    if not any(isinstance(n, Alloc) and n.sym == sym for n in walk(fn)):
        raise fail(
            f"to: `{sym.name}` is a parameter of `{fn.sym.name}`; only a local array passed "
            "from one kernel call to another can become a stream",
            loc,
        )
    if depth == -1:
        depth = t.size
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
        raise fail(f"to: depth must be a positive integer or -1, not {depth!r}", loc)
    writer, reader = _ends(module, fn, sym, dst, loc)
    stream = Sym(sym.name)
    stype = StreamType(t.dtype, depth)
    for call, write in ((writer, True), (reader, False)):
        callee = module.func(call.callee)
        index = next(k for k, a in enumerate(call.args) if getattr(a, "sym", None) == sym)
        module = replace_function(module, _as_stream(callee, index, stype, write, loc))
    fn = module.func(fn.sym)
    return replace_function(module, _group(module, fn, sym, (stream, stype), (writer, reader), loc))


def _ends(module: Module, fn: Function, sym: Sym, dst: str, loc: Loc | None) -> tuple[Call, Call]:
    """The call that writes ``sym`` and the call of ``dst`` that reads it."""
    calls = [n for n in walk(fn) if isinstance(n, Call)]
    users = [c for c in calls if any(getattr(a, "sym", None) == sym for a in c.args)]
    direct = [n for n in walk(fn) if isinstance(n, (Load, Store)) and n.buf == sym]
    if direct:
        raise fail(
            f"to: `{fn.sym.name}` reads or writes `{sym.name}` itself; a stream can only pass "
            "between two kernel calls",
            loc,
            direct[0].loc,
        )
    readers = [c for c in users if c.callee.name == dst]
    writers = [c for c in users if c.callee.name != dst]
    if len(readers) != 1 or len(writers) != 1:
        names = ", ".join(c.callee.name for c in users) or "none"
        raise fail(
            f"to: `{sym.name}` must be passed to exactly two calls, one writing it and one of "
            f"`{dst}` reading it; it is passed to: {names}",
            loc,
        )
    for call in (*writers, *readers):
        if (
            sum(
                c.callee == call.callee
                for m in module.funcs
                for c in walk(m)
                if isinstance(c, Call)
            )
            > 1
        ):
            raise fail(
                f"to: kernel `{call.callee.name}` is called more than once; its parameter can "
                "become a stream only for a single call",
                loc,
                call.loc,
            )
    return writers[0], readers[0]


def _as_stream(
    fn: Function, index: int, stype: StreamType, write: bool, loc: Loc | None
) -> Function:
    """``fn`` with array parameter ``index`` turned into a stream it puts into (``write``) or
    gets from; the accesses must visit every element once in row-major order."""
    param = fn.params[index]
    kind = Store if write else Load
    hits = [n for n in walk(fn) if isinstance(n, (Load, Store)) and n.buf == param.sym]
    wrong = [n for n in hits if not isinstance(n, kind)]
    verb = "writes" if write else "reads"
    if wrong or len(hits) != 1:
        what = (
            f"also {'reads' if write else 'writes'} it" if wrong else f"{verb} it {len(hits)} times"
        )
        raise fail(
            f"to: `{fn.sym.name}` must {verb[:-1]} `{param.sym.name}` in exactly one place to "
            f"stream it, but {what}",
            loc,
            (wrong or hits or [fn])[0].loc,
            hint="keep the values in a local array or scalar and access the parameter once"
            + ("" if write else f"; `{fn.sym.name}` must be the kernel that reads the array"),
        )
    access = hits[0]
    stmt, loops = _enclosing(fn.body, access)
    _check_order(fn, param, access, loops, loc)
    new = Param(param.sym, stype, param.loc)
    fn = replace(fn, params=fn.params[:index] + (new,) + fn.params[index + 1 :])
    if write:
        put = StreamPut(param.sym, access.value, access.loc)  # type: ignore[union-attr]
        return replace(fn, body=map_stmts(fn.body, lambda s: put if s is stmt else s))
    tmp = Sym(f"{param.sym.name}_get")
    get = Decl(tmp, stype.dtype, StreamGet(param.sym, stype.dtype, access.loc), access.loc)
    value = Var(tmp, stype.dtype, access.loc)
    used = transform(stmt, lambda n: value if n == access else n)
    return replace(fn, body=map_stmts(fn.body, lambda s: (get, used) if s is stmt else s))


def _enclosing(stmts: tuple, node: Any, loops: tuple = ()) -> tuple[Any, tuple]:
    """The statement of ``stmts`` (searched into loops and branches) that contains ``node``,
    and the loops and branches around it."""
    for s in stmts:
        if not any(n is node for n in walk(s)):
            continue
        if isinstance(s, For) and not (s.lo is node or s.hi is node):
            inner = _enclosing(s.body, node, (*loops, s))
            if inner[0] is not None:
                return inner
        if isinstance(s, If) and not any(n is node for n in walk(s.cond)):
            inner = _enclosing(s.then + s.orelse, node, (*loops, s))
            if inner[0] is not None:
                return inner
        return s, loops
    return None, loops


def _check_order(fn: Function, param: Param, access: Any, loops: tuple, loc: Loc | None) -> None:
    t: ArrayType = param.type  # type: ignore[assignment]
    ok = len(loops) == len(t.shape) and all(
        isinstance(i, Var) and i.sym == lp.var and lp.step == 1
        and getattr(lp.lo, "value", None) == 0 and getattr(lp.hi, "value", None) == n
        for i, lp, n in zip(access.indices, loops, t.shape)
    )  # fmt: skip
    if not ok:
        raise fail(
            f"to: `{fn.sym.name}` must access `{param.sym.name}` once per element in row-major "
            f"order, at `{param.sym.name}[{', '.join('ijkl'[: len(t.shape)])}]` inside exactly "
            f"the loops {', '.join(f'range({n})' for n in t.shape)}",
            loc,
            access.loc,
            hint="accumulate in a scalar (or a local array) and access the parameter once per "
            "element, in order",
        )


def _group(
    module: Module, fn: Function, sym: Sym, stream: tuple[Sym, StreamType],
    ends: tuple[Call, Call], loc: Loc | None,
) -> Function:  # fmt: skip
    """``fn`` without the array, its two calls (and the calls between them) one dataflow
    statement passing ``stream``. The calls may be in the body of a loop (the same one)."""
    return replace(fn, body=_group_block(module, fn, fn.body, sym, stream, ends, loc))


def _group_block(
    module: Module, fn: Function, stmts: tuple[Stmt, ...], sym: Sym,
    stream: tuple[Sym, StreamType], ends: tuple[Call, Call], loc: Loc | None,
) -> tuple[Stmt, ...]:  # fmt: skip
    writer, reader = ends
    ref = StreamRef(stream[0], stream[1], writer.loc)

    def swap(n: Any) -> Any:
        if isinstance(n, Call):
            args = tuple(ref if getattr(a, "sym", None) == sym else a for a in n.args)
            return replace(n, args=args) if args != n.args else n
        return n

    body = [s for s in stmts if not (isinstance(s, Alloc) and s.sym == sym)]
    at = [k for k, s in enumerate(body) if any(n is writer or n is reader for n in walk(s))]
    if len(at) == 1 and isinstance(body[at[0]], For) and body[at[0]] not in ends:
        loop = body[at[0]]  # both calls inside this loop
        inner = _group_block(module, fn, loop.body, sym, stream, ends, loc)
        return tuple(body[: at[0]] + [replace(loop, body=inner)] + body[at[0] + 1 :])
    run = body[at[0] : at[-1] + 1]
    if not all(isinstance(s, (Call, Dataflow)) for s in run):
        raise fail(
            f"to: the calls of `{writer.callee.name}` and `{reader.callee.name}` must be "
            f"statements of `{fn.sym.name}` with only kernel calls between them",
            loc,
            reader.loc,
        )
    streams = [stream]
    tasks: list[Call] = []
    for s in run:
        streams += list(s.streams) if isinstance(s, Dataflow) else []
        tasks += list(s.tasks) if isinstance(s, Dataflow) else [s]
    tasks = [transform(t, swap) for t in tasks]
    flow = Dataflow(tuple(streams), tuple(tasks), run[0].loc, task_deps(module, tasks))
    return tuple(body[: at[0]] + [flow] + body[at[-1] + 1 :])
