"""IR -> IR preparation for lowering: array initialisation becomes explicit loops.

Before::

    B: int32[4, 8] = 0

After (the fill runs every time the declaration executes, as the semantics require)::

    B: int32[4, 8]
    for B_i0 in range(0, 4):
        for B_i1 in range(0, 8):  # pipeline=1 (the nest is flattened: one element per cycle)
            B[B_i0, B_i1] = 0

A copy ``B: int32[4, 8] = A`` becomes the same nest with ``B[...] = A[...]``. When the
first statement after the declaration that touches the array is a loop nest that writes every
element (``B[i, j] = ...`` over the full ranges) and reads none, possibly inside loops that run
at least once, or a call (the first task of a dataflow statement that takes the array) whose
kernel does so first with its parameter, the fill is dead and left out. A constant
initialiser stays (the array becomes a ROM) when the kernel never writes the array; an array
that is written (by a store or by a kernel it is passed to) is copied from a ROM instead::

    C: int8[4] = [1, 2, 3, 4]          C_rom: int8[4] = [1, 2, 3, 4]
    C[0] = x                     ->    C: int8[4]
                                       for C_i0 in range(0, 4):
                                           C[C_i0] = C_rom[C_i0]
                                       C[0] = x
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..ir._fold import affine_var, const_int, loop_range, trip_count
from ..ir._nodes import (
    Alloc,
    ArrayRef,
    Binary,
    Call,
    Const,
    ConstArray,
    Dataflow,
    For,
    Function,
    If,
    Layout,
    Load,
    Module,
    Store,
    Sym,
    Var,
    While,
    walk,
)
from ..ir.types import index

__all__ = ["fill", "prepare"]


def fill(alloc: Alloc, layout: Layout | None = None) -> tuple[Any, ...]:
    """The loop nest that initialises ``alloc``'s array; the innermost loop is pipelined, and
    unrolled over the banks of a cyclic or complete partition of the last dimension."""
    loc = alloc.loc
    ivs = [Sym(f"{alloc.sym.name}_i{d}") for d in range(len(alloc.type.shape))]
    idx = tuple(Var(v, index, loc) for v in ivs)
    if isinstance(alloc.init, ArrayRef):
        value: Any = Load(alloc.init.sym, idx, alloc.init.type.dtype, loc)
    elif alloc.init is None:
        zero = 0.0 if alloc.type.dtype.is_float else 0
        value = Const(zero, alloc.type.dtype, loc)
    else:
        value = alloc.init
    body: tuple[Any, ...] = (Store(alloc.sym, idx, value, loc),)
    # the innermost loop is pipelined (one element per cycle and bank, made by the compiler:
    # no II warnings); complete partitions are unrolled fully (constant banks), the last
    # dimension of a cyclic one by its banks
    kinds = layout.kinds if layout is not None else ("none",) * len(alloc.type.shape)
    last = len(alloc.type.shape) - 1
    for d, (iv, dim) in reversed(list(enumerate(zip(ivs, alloc.type.shape)))):
        attrs: dict = {"generated": True, "pipeline": 1} if d == last else {}
        if kinds[d] == "complete":
            attrs["unroll"] = 0
        elif d == last and kinds[d] == "cyclic":
            attrs["unroll"] = layout.banks(d, dim)  # type: ignore[union-attr]
        body = (
            For(iv, Const(0, index, loc), Const(dim, index, loc), 1, body,
                iv.name, f"{alloc.sym.name}_init", "range", tuple(sorted(attrs.items())), loc),
        )  # fmt: skip
    return body


def _offset_var(e: Any) -> tuple[Sym, int] | None:
    """``(v, c)`` when ``e`` is ``v + c`` or ``v - c`` (through casts)."""
    lin = affine_var(e)
    return (lin[0], lin[2]) if lin is not None and lin[1] == 1 else None


def _narrowed(cond: Any, ranges: dict[Sym, range]) -> dict[Sym, range] | None:
    """``ranges`` under ``cond`` when it is ``v >= k`` or ``v > k`` for a loop variable."""
    if isinstance(cond, Binary) and cond.op in ("ge", "gt"):
        var, k = _offset_var(cond.lhs), const_int(cond.rhs)
        if var is not None and k is not None and var[0] in ranges:
            low = k - var[1] + (1 if cond.op == "gt" else 0)
            r = ranges[var[0]]
            return {**ranges, var[0]: range(max(r.start, low), r.stop)}
    return None


def _covers(store: Store, t: Any, ranges: dict[Sym, range]) -> bool:
    """Whether ``store`` writes every element once over ``ranges`` (index ``v + c`` per
    dimension, distinct variables)."""
    dims = [_offset_var(i) for i in store.indices]
    if any(d is None for d in dims) or len({d[0] for d in dims}) != len(dims):  # type: ignore[index]
        return False
    for (var, c), n in zip(dims, t.shape):  # type: ignore[misc]
        r = ranges.get(var)
        if r is None or (r.start + c, r.stop + c) != (0, n):
            return False
    return True


def _covering_stores(stmts: Any, sym: Sym, t: Any, ranges: dict[Sym, range]) -> bool:
    """Whether a store in ``stmts`` writes all of ``sym`` (loops of step 1 with constant
    bounds; ``if v >= k`` guards narrow a variable's range)."""
    for s in stmts:
        if isinstance(s, For):
            values = loop_range(s)
            if values and s.step == 1:  # runs at least once
                if _covering_stores(s.body, sym, t, {**ranges, s.var: values}):
                    return True
        elif isinstance(s, If) and not s.orelse:
            narrowed = _narrowed(s.cond, ranges)
            empty = narrowed is not None and any(len(r) == 0 for r in narrowed.values())
            if narrowed is not None and not empty and _covering_stores(s.then, sym, t, narrowed):
                return True
        elif isinstance(s, Store) and s.buf == sym and _covers(s, t, ranges):
            return True
    return False


def _mentions(stmt: Any, sym: Sym) -> bool:
    return any(getattr(n, "buf", None) == sym or getattr(n, "sym", None) == sym for n in walk(stmt))


def _first_access_writes_all(
    stmts: tuple[Any, ...], alloc: Alloc, module: Module | None = None
) -> bool:
    """Whether the first statement of ``stmts`` that touches the array is a loop nest writing
    every element and reading none (found inside loops that run at least once), or a call (a
    dataflow statement: its first task that takes the array) whose kernel does that first with
    its parameter."""
    for s in stmts:
        if not _mentions(s, alloc.sym):
            continue
        if isinstance(s, (Call, Dataflow)) and module is not None:
            return _callee_writes_all(s, alloc, module)
        if not isinstance(s, For):
            return False
        reads = any(
            (isinstance(n, Load) and n.buf == alloc.sym)
            or (isinstance(n, Call) and any(getattr(a, "sym", None) == alloc.sym for a in n.args))
            for n in walk(s)
        )
        if not reads:
            return _covering_stores((s,), alloc.sym, alloc.type, {})
        trips = trip_count(s)
        return bool(trips) and _first_access_writes_all(s.body, alloc, module)
    return False


def _callee_writes_all(s: Call | Dataflow, alloc: Alloc, module: Module) -> bool:
    call = next(
        c for c in (s.tasks if isinstance(s, Dataflow) else (s,)) if _mentions(c, alloc.sym)
    )
    callee = module.func(call.callee)
    params = [p for a, p in zip(call.args, callee.params) if getattr(a, "sym", None) == alloc.sym]
    if len(params) != 1:
        return False
    inner = Alloc(params[0].sym, alloc.type, None, alloc.loc)
    return _first_access_writes_all(callee.body, inner, module)


def _stmts(
    stmts: tuple[Any, ...], written: set[Sym], fn: Function, module: Module | None
) -> tuple[Any, ...]:
    out: list[Any] = []
    for n, s in enumerate(stmts):
        if isinstance(s, Alloc) and s.scratch and s.init is None:
            out.append(s)  # contents before the first write are never used: no fill
            continue
        if isinstance(s, Alloc) and not isinstance(s.init, (ConstArray, ArrayRef)):
            if _first_access_writes_all(stmts[n + 1 :], s, module):
                out.append(replace(s, init=None))  # the next loop nest writes every element
                continue
        if isinstance(s, Alloc) and isinstance(s.init, ConstArray) and s.sym in written:
            rom = Alloc(Sym(f"{s.sym.name}_rom"), s.type, s.init, s.loc)
            copy = replace(s, init=ArrayRef(rom.sym, s.type, s.loc))
            out += [rom, replace(s, init=None), *fill(copy, fn.layout(s.sym))]
        elif isinstance(s, Alloc) and isinstance(s.init, ConstArray):
            out.append(s)
        elif isinstance(s, Alloc):
            out.append(replace(s, init=None))
            out.extend(fill(s, fn.layout(s.sym)))
        elif isinstance(s, For):
            out.append(replace(s, body=_stmts(s.body, written, fn, module)))
        elif isinstance(s, While):
            out.append(replace(s, body=_stmts(s.body, written, fn, module)))
        elif isinstance(s, If):
            out.append(
                replace(
                    s,
                    then=_stmts(s.then, written, fn, module),
                    orelse=_stmts(s.orelse, written, fn, module),
                )
            )
        else:
            out.append(s)
    return tuple(out)


def prepare(fn: Function, module: Module | None = None) -> Function:
    """``fn`` with array initialisers expanded into loops (see the module docstring);
    ``module`` holds the kernels ``fn`` calls (for a fill that a call makes dead)."""
    written = {n.buf for n in walk(fn) if isinstance(n, Store)}
    for call in (n for n in walk(fn) if isinstance(n, Call)):
        written |= {a.sym for a in call.args if isinstance(a, ArrayRef)} | set(call.results)
    return replace(fn, body=_stmts(fn.body, written, fn, module))
