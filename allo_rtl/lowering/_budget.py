"""Multiply plans and the DSP budget: which multiplies get DSP blocks, which are logic.

After lowering, every multiply of two non-constant values (a pipeline's ``mul`` operation, or
the ``SetReg`` of a product temporary in sequential code) gets a :class:`MulPlan`: the low
product bits its users read (a demanded-bits analysis over the datapath: ``int32(acc + a * b)``
reads 32 bits of the 64-bit product), its ``$mul`` cell, its latency (two cycles in a pipeline
when the cell is wider than one DSP block) and the DSP blocks yosys gives it (``_dsp.py``).

With a budget, multiplies keep their DSP blocks in this order while the budget lasts:

1. multiplies in pipelines (requested ones, and the copies of unrolled loops, which run as
   one-iteration pipelines), where throughput matters, in source order (line, column, then
   the order of the operations);
2. multiplies of sequential code, in source order.

A multiply that does not fit in what is left goes to logic (a later, smaller one may still
fit), and a warning names the first one. A kernel called from several places counts once per
call. Sequential code is counted one block set per multiply, an upper bound: yosys's ``share``
pass may merge multiplies that run in different controller states into one cell.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from .._errors import Loc
from ..ir._nodes import Binary, BitSlice, Cast, Select, Sym, Unary, Var, children
from ..ir.types import AlloType
from ._bind import unit_instances
from ._dsp import (
    DSP_BLOCKS,
    DspUse,
    MulPlan,
    dsp_blocks,
    logic_cuts,
    logic_luts,
    mul_operands,
    mul_shape,
    piece_blocks,
    shape_blocks,
)
from ._float import MATH_DSP_BLOCKS, UnitKey
from ._fsmd import (
    Branch,
    CallStart,
    Fsmd,
    Pipeline,
    PutStream,
    ReadPort,
    RunPipeline,
    SetReg,
    UnitIssue,
    WaitDataflow,
    WritePort,
)
from ._modulo import reschedule
from ._timing import is_product

__all__ = ["budget_warning", "need", "plan_design"]


# ------------------------------------------------------------------ demanded bits


def _full(e: Any) -> int:
    t = getattr(e, "type", None)
    return t.bits if isinstance(t, AlloType) else 0


def need(e: Any, d: int, out: dict[Sym, int], seen: dict | None = None) -> None:
    """Record in ``out`` how many low bits of each variable the low ``d`` bits of ``e`` read
    (the datapath computes every operator as docs/semantics.md says, so the low bits of a sum,
    product or bitwise operation depend only on the low bits of its operands). A node already
    visited for at least ``d`` bits is skipped (``seen``: shared subtrees of forwarded values
    would otherwise be visited once per path)."""
    if isinstance(e, Var):
        if d > 0:
            out[e.sym] = max(out.get(e.sym, 0), min(d, e.type.bits))
        return
    d = min(d, _full(e))
    if d <= 0:
        return
    seen = {} if seen is None else seen
    hit = seen.get(id(e))
    if hit is not None and hit[0] is e and hit[1] >= d:
        return
    seen[id(e)] = (e, d)
    for child, bits in _child_bits(e, d):
        need(child, bits, out, seen)


def _child_bits(e: Any, d: int) -> list[tuple[Any, int]]:
    """(operand, low bits of it that the low ``d`` bits of ``e`` read)."""
    if isinstance(getattr(e, "type", None), AlloType) and e.type.is_float:
        return [(c, _full(c)) for c in children(e)]  # every bit of a float is significant
    if isinstance(e, Binary) and e.op in ("add", "sub"):
        return [(x, d - (e.type.fracs - x.type.fracs)) for x in (e.lhs, e.rhs)]
    if isinstance(e, Binary) and e.op in ("mul", "and", "or", "xor"):
        return [(e.lhs, d), (e.rhs, d)]
    if isinstance(e, Binary) and e.op == "shl":
        return [(e.lhs, d), (e.rhs, _full(e.rhs))]
    if isinstance(e, Unary) and e.op in ("neg", "invert"):
        return [(e.operand, d)]
    if isinstance(e, Cast) and not (e.type.is_float or e.operand.type.is_float):
        return [(e.operand, d - (e.type.fracs - e.operand.type.fracs))]
    if isinstance(e, Select):
        return [(e.cond, _full(e.cond)), (e.then, d), (e.orelse, d)]
    if isinstance(e, BitSlice):
        return [(e.operand, e.lo + d)]
    return [(c, _full(c)) for c in children(e)]


def _close(temps: dict[Sym, Any], out: dict[Sym, int]) -> None:
    """Propagate the demand on each temporary into the expression that computes it."""
    done: dict[Sym, int] = {}
    changed = True
    while changed:
        changed = False
        for sym, value in temps.items():
            d = out.get(sym, 0)
            if d > done.get(sym, 0):
                done[sym] = d
                need(value, d, out)
                changed = True


def _fsm_demands(f: Fsmd, regs: dict[Sym, int], widths: dict[Sym, int]) -> dict[Sym, int]:
    out: dict[Sym, int] = {}
    temps: dict[Sym, Any] = {}
    for st in f.states:
        for a in st.actions:
            if isinstance(a, SetReg) and is_product(a.value):
                temps[a.sym] = a.value
            elif isinstance(a, SetReg):
                need(a.value, regs.get(a.sym, 1 << 16), out)
            elif isinstance(a, (ReadPort, WritePort)):
                for i in a.indices:
                    need(i, _full(i), out)
                if isinstance(a, WritePort):
                    need(a.value, widths[a.buf], out)
            elif isinstance(a, CallStart):
                for _, v in a.scalars:
                    need(v, _full(v), out)
            elif isinstance(a, UnitIssue):
                for v in a.operands:
                    need(v, _full(v), out)
        _next_demands(st.next, regs, out)
    _close(temps, out)
    return out


def _next_demands(nxt: Any, regs: dict[Sym, int], out: dict[Sym, int]) -> None:
    if isinstance(nxt, Branch):
        need(nxt.cond, 1, out)
    elif isinstance(nxt, RunPipeline):
        for a in nxt.exit:
            need(a.value, regs.get(a.sym, 1 << 16), out)
        _next_demands(nxt.then, regs, out)
    elif isinstance(nxt, PutStream):
        need(nxt.value, _full(nxt.value), out)
    elif isinstance(nxt, WaitDataflow):
        for task in nxt.tasks:
            for _, v in task.start.scalars if task.start is not None else ():
                need(v, _full(v), out)


def _pipeline_demands(p: Pipeline, regs: dict[Sym, int], widths: dict[Sym, int]) -> dict[Sym, int]:
    out: dict[Sym, int] = {}
    temps: dict[Sym, Any] = {}
    for op in p.ops:
        for e in (*op.indices, op.guard):
            if e is not None:
                need(e, _full(e), out)
        if op.kind in ("mul", "reg"):
            temps[op.sym] = op.value
        elif op.kind == "store":
            need(op.value, widths[op.buf], out)
        elif op.kind in ("put", "unit"):
            need(op.value, _full(op.value), out)
        elif op.kind == "set":
            need(op.value, regs.get(op.sym, 1 << 16), out)
    for lv in p.levels:
        for e in (lv.lo_expr, lv.hi_expr):
            if e is not None:
                need(e, _full(e), out)
    _close(temps, out)
    return out


# ------------------------------------------------------------------ plans


def _dsp_plan(e: Binary, demand: int, model: Any, pipelined: bool) -> MulPlan:
    """The plan of a multiply on DSP blocks (a two-cycle split multiply in a pipeline when
    its cell is wider than one block)."""
    a, b = mul_operands(e)
    shape = mul_shape(a.type, b.type, max(1, min(demand, e.type.bits)))
    latency = model.mul_latency(max(shape.a_bits, shape.b_bits)) if pipelined else 1
    if latency >= 2:
        pieces = ((a.type.bits, a.type.signed), (b.type.bits, b.type.signed))
        blocks = piece_blocks(model.family, *pieces, shape.bits)
    else:
        blocks = shape_blocks(model.family, shape)
    return MulPlan(shape.bits, shape, latency, blocks, loc=e.loc)


def _logic_plan(plan: MulPlan, e: Binary, model: Any, pipelined: bool) -> MulPlan:
    """``plan`` built from logic: registers inside the tree in a pipeline, none in
    sequential code (whose arithmetic is combinational in its cycle)."""
    a, b = mul_operands(e)
    cuts = logic_cuts(model, a.type, b.type, plan.bits) if pipelined else ()
    luts = logic_luts(model.family, a.type, b.type, plan.bits)
    return replace(plan, logic=True, blocks=0, cuts=cuts, luts=luts, latency=len(cuts) + 1)


@dataclass
class _Site:
    """One multiply of one kernel: in state ``where = ("s", state, action)`` of sequential
    code or ``("p", pipeline, op)``; ``copies``: instances of the kernel."""

    kernel: str
    where: tuple[str, int, int]
    expr: Binary
    plan: MulPlan
    copies: int

    @property
    def pipelined(self) -> bool:
        return self.where[0] == "p"

    def order(self) -> tuple:
        loc = self.plan.loc
        return (not self.pipelined, loc.line if loc else 0, loc.col if loc else 0, self.where)


def _kernel_sites(f: Fsmd, model: Any, copies: int) -> list[_Site]:
    """Every multiply of kernel ``f`` with its DSP plan."""
    regs = {sym: t.bits for sym, t in f.registers}
    widths = {m.sym: m.type.dtype.bits for m in f.memories}
    sites = []
    demand = _fsm_demands(f, regs, widths)
    for n, st in enumerate(f.states):
        for k, a in enumerate(st.actions):
            if isinstance(a, SetReg) and is_product(a.value):
                plan = _dsp_plan(a.value, demand.get(a.sym, 0), model, False)
                sites.append(_Site(f.name, ("s", n, k), a.value, plan, copies))
    for n, p in enumerate(f.pipelines):
        demand = _pipeline_demands(p, regs, widths)
        for k, op in enumerate(p.ops):
            if op.kind == "mul" and is_product(op.value):
                plan = _dsp_plan(op.value, demand.get(op.sym, 0), model, True)
                sites.append(_Site(f.name, ("p", n, k), op.value, plan, copies))
    return sites


def _kernels(top: Fsmd) -> tuple[list[Fsmd], Counter[str]]:
    """The distinct kernels of the design, callees before callers, and their instances."""
    order: list[Fsmd] = []
    copies: Counter[str] = Counter()

    def visit(f: Fsmd, n: int) -> None:
        copies[f.name] += n
        for _, sub in f.callees:
            visit(sub, n)
        if all(g.name != f.name for g in order):
            order.append(f)

    visit(top, 1)
    return order, copies


def _decide(sites: list[_Site], model: Any, budget: int | None) -> list[_Site]:
    """Give DSP blocks in the order of the rule while ``budget`` lasts; the rest of the
    sites get logic plans. Returns the sites that went to logic, in that order."""
    if budget is None:
        return []
    left, logic = budget, []
    for site in sorted(sites, key=_Site.order):
        cost = site.plan.blocks * site.copies
        if cost <= left:
            left -= cost
            continue
        site.plan = _logic_plan(site.plan, site.expr, model, site.pipelined)
        logic.append(site)
    return logic


# ------------------------------------------------------------------ the design


def _apply(f: Fsmd, sites: list[_Site], done: dict[str, Fsmd]) -> tuple[Fsmd, list]:
    """``f`` with its plans (pipelines whose latencies changed scheduled again), the
    callees already rebuilt in ``done``; also the rescheduled pipelines whose II grew."""
    plans = {s.where: s.plan for s in sites if s.kernel == f.name}
    states = list(f.states)
    for (kind, n, k), plan in plans.items():
        if kind == "s":
            st = states[n]
            actions = list(st.actions)
            actions[k] = replace(actions[k], plan=plan)  # type: ignore[call-overload]
            states[n] = replace(st, actions=tuple(actions))
    grown, pipelines = [], []
    banks = {m.sym: m.banks for m in f.memories}
    dual = frozenset(m.sym for m in f.memories if m.dual)
    for n, p in enumerate(f.pipelines):
        ops = [
            replace(op, plan=plans[("p", n, k)], latency=plans[("p", n, k)].latency)
            if ("p", n, k) in plans
            else op
            for k, op in enumerate(p.ops)
        ]
        if any(a.latency != b.latency for a, b in zip(ops, p.ops)):
            new = reschedule(p, ops, banks, dual)
            if new.ii > max(p.ii, new.requested_ii) and not new.generated:
                grown.append(new)
            p = new
        else:
            p = replace(p, ops=tuple(ops))
        pipelines.append(p)
    callees = tuple((name, done[sub.name]) for name, sub in f.callees)
    return replace(f, states=tuple(states), pipelines=tuple(pipelines), callees=callees), grown


def plan_design(
    top: Fsmd, model: Any, budget: int | None = None
) -> tuple[Fsmd, list[Pipeline], str | None]:
    """Plan every multiply of the design under ``top`` (DSP blocks within ``budget``, the
    rest logic); returns the design, the pipelines whose II grew, and the budget warning
    (or ``None``)."""
    kernels, copies = _kernels(top)
    sites = [s for f in kernels for s in _kernel_sites(f, model, copies[f.name])]
    units = [(key, copies[f.name]) for f in kernels for key in float_dsp_units(f)]
    unit_blocks = sum(_unit_blocks(key, model) * n for key, n in units)
    need_blocks = sum(s.plan.blocks * s.copies for s in sites) + unit_blocks
    left = None if budget is None else max(0, budget - unit_blocks)
    logic = _decide(sites, model, left)
    done: dict[str, Fsmd] = {}
    grown: list[Pipeline] = []
    for f in kernels:
        done[f.name], more = _apply(f, sites, done)
        grown += more
    use = DspUse(
        DSP_BLOCKS[model.family].cell,
        sum(s.plan.blocks * s.copies for s in sites) + unit_blocks,
        budget,
        sum(s.copies for s in sites) + sum(n for key, n in units if key.op == "mul"),
        sum(s.copies for s in logic),
        sum(s.plan.luts * s.copies for s in logic),
        sum(n for key, n in units if key.op != "mul"),
    )
    warning = budget_warning(use, need_blocks, logic[0].plan.loc, logic, sites) if logic else None
    return replace(done[top.name], dsp=use), grown, warning


def float_dsp_units(f: Fsmd) -> list[UnitKey]:
    """The operator units of kernel ``f`` that take DSP blocks (float multiplies and math
    functions): one per kind in sequential code (shared by its states), one per unit instance
    in pipelines (operations in distinct slots of an II > 1 share one, ``_bind.py``). They
    always take DSP blocks, before the integer multiplies (which can be built from logic)."""
    seq = {a.unit for st in f.states for a in st.actions if isinstance(a, UnitIssue)}
    out = [key for key in seq if _takes_dsp(key)]
    for p in f.pipelines:
        shared = {(op.unit, k) for op, k in zip(p.ops, unit_instances(p)) if k is not None}
        out += [key for key, _ in shared if _takes_dsp(key)]
    return out


def _takes_dsp(key: UnitKey) -> bool:
    return key.op == "mul" or key.op in MATH_DSP_BLOCKS


def _unit_blocks(key: UnitKey, model: Any) -> int:
    """DSP blocks of a unit: a float multiply's one unsigned significand product, or what
    yosys maps a math unit's products to (``MATH_DSP_BLOCKS``)."""
    if key.op in MATH_DSP_BLOCKS:
        ecp5, ice40 = MATH_DSP_BLOCKS[key.op]
        return ice40 if model.family == "ice40" else ecp5
    bits = key.dst.mantissa + 1  # type: ignore[attr-defined]
    return dsp_blocks(model.family, bits, bits, 2 * bits, False)


def budget_warning(
    use: DspUse, need_blocks: int, loc: Loc | None, logic: list[_Site], sites: list[_Site]
) -> str:
    """``file:line:col: 12 multiplies need 36 SB_MAC16 DSP blocks, the budget is 8; ...``"""
    where = f"{loc}: " if loc else ""
    each = {s.plan.luts for s in logic}
    if use.logic == 1:
        luts = f"about {use.luts} LUTs"
    elif len(each) == 1:
        luts = f"about {each.pop()} LUTs each"
    else:
        luts = f"about {use.luts} LUTs in all"
    many = use.multiplies != 1
    built = "multiplies are" if use.logic != 1 else "multiply is"
    how = "unroll less" if _unrolled(logic, sites) else "multiply narrower values"
    return (
        f"{where}{use.multiplies} {'multiplies need' if many else 'multiply needs'} "
        f"{need_blocks} {use.cell} DSP block{'s' if need_blocks != 1 else ''}, the budget is "
        f"{use.budget}; {use.logic} {built} built from logic ({luts}); to use DSPs only, {how}"
    )


def _unrolled(logic: list[_Site], sites: list[_Site]) -> bool:
    """Whether a multiply built from logic is a copy of an unrolled one (another multiply of
    its kernel comes from the same source position)."""
    where = Counter((s.kernel, s.plan.loc) for s in sites)
    return any(where[(s.kernel, s.plan.loc)] > 1 for s in logic)
