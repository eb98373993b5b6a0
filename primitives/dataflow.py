"""``dataflow(func)``: run the consecutive kernel calls of function ``func`` as concurrent
tasks (task-level pipelining). A task starts when the earlier tasks it depends on through a
shared array have finished (one writes what the other reads or writes); tasks that share no
array, or only streams (``to``), run at the same time.

Before::

    def top(A: int32[8], C: int32[8], E: int32[8]):
        B: int32[8]
        f(A, B)
        g(B, C)
        h(A, E)

After ``dataflow("top")``::

    def top(A: int32[8], C: int32[8], E: int32[8]):
        B: int32[8]
        dataflow:
            f(A, B)
            g(B, C)  # after f
            h(A, E)

A run of calls that already contains a dataflow statement (from ``to``) is merged into one.

``dataflow(loop)``: the same for the calls in the body of ``loop``, whose iterations then
overlap as well (task-level pipelining): task ``f`` may start iteration ``i + 1`` while ``g``
still runs iteration ``i``. Arrays declared in the loop body and passed between the tasks are
double-buffered on the RTL targets (ping-pong: iteration ``i`` uses copy ``i % 2``), so a
producer can be one iteration ahead of its consumers; tasks that share any other array do not
overlap across iterations. The body may hold only the calls and those arrays' declarations.

Before::

    for t in range(0, 4):
        B: int32[16]
        f(A, B, t)
        g(B, C, t)

After ``dataflow("t")``::

    for t in range(0, 4):  # S_t_0.t range dataflow=True
        B: int32[16]
        dataflow:
            f(A, B, t)  # after g (iteration -2)
            g(B, C, t)  # after f
"""

from __future__ import annotations

from dataclasses import replace

from .._errors import Loc
from ..ir._nodes import Alloc, ArrayRef, Call, Dataflow, Function, Load, Module, Store, Sym, walk
from ._attrs import with_attrs
from ._common import LoopName, fail, find_loop, function_of, replace_function, replace_loop

__all__ = ["dataflow", "task_deps"]


def dataflow(module: Module, func: str | LoopName | None, loc: Loc | None = None) -> Module:
    """``module`` with the call runs of ``func`` turned into dataflow statements, or the calls
    of loop ``func`` (a :class:`LoopName`) into a dataflow loop."""
    if isinstance(func, LoopName):
        return _dataflow_loop(module, func, loc)
    fn = function_of(module, func, loc)
    body: list = []
    run: list = []
    for stmt in (*fn.body, None):
        if isinstance(stmt, (Call, Dataflow)):
            run.append(stmt)
            continue
        body += _merge(module, run, fn, loc) if len(run) > 1 else run
        run = []
        if stmt is not None:
            body.append(stmt)
    if not any(isinstance(s, Dataflow) for s in body):
        raise fail(
            f"dataflow: `{fn.sym.name}` has no two consecutive kernel calls to run as tasks",
            loc,
            fn.loc,
            hint="call the kernels one after the other in the function's body",
        )
    return replace_function(module, replace(fn, body=tuple(body)))


def _merge(module: Module, run: list, fn: Function, loc: Loc | None) -> list:
    streams: list = []
    tasks: list[Call] = []
    for stmt in run:
        if isinstance(stmt, Dataflow):
            streams += stmt.streams
            tasks += stmt.tasks
        else:
            if stmt.results:
                raise fail(
                    f"dataflow: the call of `{stmt.callee.name}` returns a value; tasks pass "
                    "their results through array arguments",
                    loc,
                    stmt.loc,
                )
            tasks.append(stmt)
    deps = task_deps(module, tasks)
    return [Dataflow(tuple(streams), tuple(tasks), run[0].loc, deps)]


def _dataflow_loop(module: Module, name: LoopName, loc: Loc | None) -> Module:
    fn, loop = find_loop(module, name, loc)
    allocs = [s for s in loop.body if isinstance(s, Alloc)]
    run = [s for s in loop.body if isinstance(s, (Call, Dataflow))]
    other = next((s for s in loop.body if not isinstance(s, (Alloc, Call, Dataflow))), None)
    if other is not None:
        raise fail(
            f"dataflow: the body of loop `{name}` may hold only kernel calls and the arrays "
            f"passed between them, not a {type(other).__name__.lower()} statement",
            loc,
            other.loc,
            hint="move the computation into a kernel called from the loop",
        )
    (flow,) = _merge(module, run, fn, loc) if run else (None,)
    if flow is None or len(flow.tasks) < 2:
        raise fail(
            f"dataflow: loop `{name}` calls fewer than two kernels; there is nothing to overlap",
            loc,
            loop.loc,
        )
    buffers = {a.sym for a in allocs}
    flow = replace(flow, carried=_carried(module, list(flow.tasks), buffers))
    new = with_attrs(replace(loop, body=(*allocs, flow)), dataflow=True)
    return replace_function(module, replace_loop(fn, loop, new))


def _carried(
    module: Module, tasks: list[Call], buffers: set[Sym]
) -> tuple[tuple[tuple[int, int], ...], ...]:
    """For each task, the later tasks whose earlier iteration it waits for, with the lag:
    2 for a shared buffer of the loop body that one of them writes (two copies), 1 for any
    other shared array."""
    uses = [_param_use(module, t) for t in tasks]
    out = []
    for n, mine in enumerate(uses):
        pairs = []
        for m in range(n + 1, len(tasks)):
            lags = [
                2 if sym in buffers else 1
                for sym in set(mine) & set(uses[m])
                if sym not in buffers or mine[sym][1] or uses[m][sym][1]
            ]
            if lags:
                pairs.append((m, min(lags)))
        out.append(tuple(pairs))
    return tuple(out)


def _param_use(module: Module, call: Call) -> dict[Sym, tuple[bool, bool]]:
    """For each array argument of ``call``: whether the callee may read and write it."""
    callee = module.func(call.callee)
    out: dict[Sym, tuple[bool, bool]] = {}
    for arg, param in zip(call.args, callee.params):
        if not isinstance(arg, ArrayRef):
            continue
        nodes = [n for n in walk(callee) if getattr(n, "buf", None) == param.sym]
        reads = any(isinstance(n, Load) for n in nodes)
        writes = any(isinstance(n, Store) for n in nodes)
        passed = any(
            isinstance(n, Call) and any(getattr(a, "sym", None) == param.sym for a in n.args)
            for n in walk(callee)
        )
        r, w = out.get(arg.sym, (False, False))
        out[arg.sym] = (r or reads or passed, w or writes or passed)
    return out


def task_deps(module: Module, tasks: list[Call]) -> tuple[tuple[int, ...], ...]:
    """For each task, the earlier tasks it must wait for: those sharing an array with it
    where one of the two may write it."""
    uses = [_param_use(module, t) for t in tasks]
    deps = []
    for n, mine in enumerate(uses):
        after = tuple(
            m
            for m in range(n)
            if any(sym in uses[m] and (w or uses[m][sym][1]) for sym, (_, w) in mine.items())
        )
        deps.append(after)
    return tuple(deps) if any(deps) else ()
