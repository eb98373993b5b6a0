"""Integer division: the combinational operator of the datapath and the pipelined unit.

Semantics (docs/semantics.md): ``/`` truncates toward zero, ``//`` rounds toward negative
infinity, ``%`` takes the sign of the dividend; fixed-point operands are aligned first (the
exact quotient, truncated at the result's fraction bits); ``a / 0`` and ``a // 0`` give all
ones, ``a % 0`` gives ``a``. Both forms share :func:`prepare` (alignment, signs, magnitudes)
and :func:`finish` (signs back, floor correction, division by zero, wrap to the result type);
between them the datapath divides the magnitudes with one ``//`` and ``%``, the unit
(:class:`IntDivide`) with one restoring step per quotient bit::

    prepare   num, den aligned; |num|, |den|; signs; den == 0
    bit<k>    rem = 2 rem + |num|[k]; if rem >= |den|: rem -= |den|, q[k] = 1   (k from the top)
    finish    quotient or remainder with its sign; floor; zero divisor; wrapped

``latency`` registers go between the steps where they shorten the longest stage most
(``fp._stages.build_stages``), so any latency works; the lowering picks one for the clock.
"""

from __future__ import annotations

from functools import partial

from amaranth.hdl import Cat, Const, Module, Mux, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..ir.types import AlloType
from ._datapath import _align, exact, fit, shape_of
from .fp._stages import LUT_NS, Step, build_stages, carry_ns

__all__ = ["IntDivide", "finish", "prepare"]

State = dict[str, Value]


def prepare(op: str, a: Value, b: Value, lhs: AlloType, rhs: AlloType, t: AlloType) -> State:
    """The dividend and divisor aligned to the result's fraction bits (``num``, ``den``),
    their magnitudes (``mag_n``, ``mag_d``, unsigned), signs (``neg_n``, ``neg_d``) and
    ``zero`` (``den == 0``)."""
    if op == "mod":
        num, den = _align(a, t.fracs - lhs.fracs), _align(b, t.fracs - rhs.fracs)
    else:
        shift = t.fracs - lhs.fracs + rhs.fracs
        num, den = (_align(a, shift), exact(b)) if shift >= 0 else (exact(a), _align(b, -shift))
    neg_n, neg_d = num < 0, den < 0
    return {
        "num": num,
        "neg_n": neg_n,
        "neg_d": neg_d,
        "zero": den == 0,
        "mag_n": Mux(neg_n, -num, num).as_unsigned()[: len(num)],
        "mag_d": Mux(neg_d, -den, den).as_unsigned()[: len(den)],
    }


def finish(op: str, s: State, q: Value, r: Value, t: AlloType) -> Value:
    """The result of ``op`` from :func:`prepare`'s ``s`` and the magnitudes' quotient ``q``
    and remainder ``r``."""
    q_c = Mux(s["neg_n"] ^ s["neg_d"], -exact(q), exact(q))
    r_c = Mux(s["neg_n"], -exact(r), exact(r))
    if op == "mod":
        return fit(Mux(s["zero"], s["num"], r_c), t)
    if op == "floordiv":
        q_c = q_c - ((r != 0) & (s["neg_n"] ^ s["neg_d"]))
    all_ones = Const(-1 if t.signed else (1 << t.bits) - 1, shape_of(t))
    return fit(Mux(s["zero"], all_ones, q_c), t)


class IntDivide(wiring.Component):
    """``result = a op b`` (``op``: ``"div"``, ``"floordiv"``, ``"mod"``) of operands of types
    ``lhs`` and ``rhs`` into type ``t``, ``latency`` cycles after the operands (module
    docstring). Ports: ``a``, ``b``, ``valid_in``; ``result``, ``valid_out``."""

    def __init__(self, op: str, lhs: AlloType, rhs: AlloType, t: AlloType, latency: int) -> None:
        if op not in ("div", "floordiv", "mod"):
            raise ValueError(f"IntDivide: op must be div, floordiv or mod, not {op!r}")
        if latency < 0:
            raise ValueError(f"IntDivide: latency {latency} < 0")
        self.op, self.types, self.latency = op, (lhs, rhs, t), latency
        super().__init__(
            {
                "a": In(shape_of(lhs)),
                "b": In(shape_of(rhs)),
                "valid_in": In(1),
                "result": Out(shape_of(t)),
                "valid_out": Out(1),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        lhs, rhs, t = self.types
        first = prepare(self.op, self.a, self.b, lhs, rhs, t)
        n, d = len(first["mag_n"]), len(first["mag_d"])
        steps = [Step("prepare", carry_ns(n) + LUT_NS, partial(self._prepare, first, d))]
        steps += [Step(f"bit{k}", carry_ns(d + 2) + LUT_NS, partial(_bit, k)) for k in range(n)]
        steps.append(Step("finish", 2 * carry_ns(n) + LUT_NS, self._finish))
        out, valid = build_stages(m, steps, {}, self.valid_in, self.latency)
        m.d.comb += [self.result.eq(out["result"]), self.valid_out.eq(valid)]
        return m

    def _prepare(self, first: State, d: int, s: State) -> State:
        return {**first, "rem": Const(0, d), "q": Const(0, len(first["mag_n"]))}

    def _finish(self, s: State) -> State:
        return {"result": finish(self.op, s, s["q"], s["rem"], self.types[2])}


def _bit(k: int, s: State) -> State:
    """One restoring step: quotient bit ``n - 1 - k`` (the steps run from the top bit)."""
    n = len(s["mag_n"])
    bit = n - 1 - k
    shifted = Cat(s["mag_n"][bit], s["rem"])
    diff = exact(shifted) - exact(s["mag_d"])
    fits = diff >= 0
    rem = Mux(fits, diff.as_unsigned()[: len(s["rem"])], shifted[: len(s["rem"])])
    q = s["q"] | Cat(Const(0, bit), fits)[:n]
    return {**s, "rem": rem, "q": q}
