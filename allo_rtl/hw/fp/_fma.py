"""Fused multiply-add: :class:`FloatFMA`, ``result = a * b + c`` with a single rounding.

The exact value ``a * b + c`` is rounded once to nearest, ties to even, with subnormals,
signed zeros and infinities. A zero product (sign ``sign(a) ^ sign(b)``) gives ``c`` itself,
and ``-0`` when ``c`` is ``-0`` and the product ``-0`` (``+0`` for zeros of opposite signs);
an exact cancellation gives ``+0`` (``x*y - x*y = +0``). NaN operands, ``inf * 0`` and
``inf - inf`` give the canonical quiet NaN ``fmt.qnan()``; overflow gives the infinity of the
result's sign. ``ftz=True`` reads subnormal operands as zeros of their sign and flushes
subnormal results.

Datapath: the significand product ``P = sig_a * sig_b`` (one ``*``, ``2p`` bits, ``p =
man_bits + 1``) and the addend ``c`` meet in a window of ``W = 4p + 5`` bits, in which the
product sits at bits ``[L, L + 2p)`` with ``L = p + 2``. ``c`` starts ``2p + 2`` bits above the
product's low end (two clear bits above the product's top) and is shifted right by the
exponent difference; bits shifted out of the window become a sticky 1 in bit 0. When ``c``
lies even higher, ``c`` stays at the top and the product shrinks to that sticky bit. The
sticky operand is then always the smaller one and lies below the guard bit of the result (the
``L`` bits below the product keep that true for products with leading zeros from subnormal
operands), so ``|c +- P|`` computed in the window rounds exactly like the exact sum.

Steps (:attr:`FloatFMA.STEPS`): ``unpack`` (fields, special cases, exponent arithmetic),
``multiply`` (the product, beside the alignment shift of ``c``), ``add`` (the window sum,
two's complement), ``abs`` (its magnitude and sign), ``count`` (leading zeros), ``normalize``
(left shift), ``denormalize`` (right shift of a result below the normal range), ``round`` and
``pack``. Registers are placed as for :class:`~._add.FloatAdd` (:func:`~._add.cut_points`,
preferring :attr:`FloatFMA.CUT_ORDER`); the default latency (:func:`default_latency`)
registers every step.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ._add import _keep, cut_points, run_stages
from ._format import FloatFormat
from ._round import (
    add_sub,
    denormalize,
    leading_zeros,
    pack_rounded,
    round_significand,
    shift_left,
    shift_right_sticky,
    unpack,
    wire,
)

__all__ = ["FloatFMA", "default_latency"]


def default_latency(fmt: FloatFormat) -> int:
    """Registers of a :class:`FloatFMA` of ``fmt`` when not given: one per step (9; float32
    then runs at about 70 MHz on an ECP5 of speed grade 6, limited by the multiplier)."""
    return len(FloatFMA.STEPS)


def _biased(fmt: FloatFormat, v: Value) -> Value:
    """The biased exponent field of ``v``, with subnormals and zeros at 1 (only bit 0 changes)."""
    field = fmt.exponent(v)
    return Cat(field[0] | (field == 0), field[1:])


class FloatFMA(wiring.Component):
    """``result = round(a * b + c)`` in ``fmt``, ``latency`` cycles later.

    Ports: ``a``, ``b``, ``c`` (``fmt.width``), ``valid_in`` in; ``result``, ``valid_out``
    out. ``latency=None`` takes :func:`default_latency`; 0 is combinational."""

    STEPS = (
        "unpack",
        "multiply",
        "add",
        "abs",
        "count",
        "normalize",
        "denormalize",
        "round",
        "pack",
    )
    # inner registers: after multiply, count, denormalize, add, unpack, normalize, abs, round
    CUT_ORDER = (1, 4, 6, 2, 0, 5, 3, 7)

    def __init__(self, fmt: FloatFormat, *, latency: int | None = None, ftz: bool = False):
        self.fmt = fmt
        self.ftz = ftz
        self.latency = default_latency(fmt) if latency is None else latency
        if self.latency < 0:
            raise ValueError(f"FloatFMA latency must be >= 0, not {self.latency}")
        p = fmt.man_bits + 1
        self.low = p + 2  # L: window bits below the product
        self.top = 2 * p + 2  # c's lowest bit above the product's lowest bit, unshifted
        self.window = self.low + self.top + p + 1  # W = 4p + 5, with a carry bit on top
        super().__init__(
            {
                "a": In(fmt.width),
                "b": In(fmt.width),
                "c": In(fmt.width),
                "valid_in": In(1),
                "result": Out(fmt.width),
                "valid_out": Out(1),
            }
        )

    def elaborate(self, platform) -> Module:
        m = Module()
        stages = [getattr(self, f"_{step}") for step in self.STEPS]
        cuts = cut_points(len(stages), self.latency, self.CUT_ORDER)
        inputs = {"a": self.a, "b": self.b, "c": self.c, "valid": self.valid_in}
        out = run_stages(m, stages, inputs, cuts, "fma")
        m.d.comb += [self.result.eq(out["result"]), self.valid_out.eq(out["valid"])]
        return m

    def _unpack(self, m: Module, v: dict[str, Value]) -> dict[str, Value]:
        fmt, p = self.fmt, self.fmt.man_bits + 1
        ua, ub, uc = (unpack(fmt, v[k], ftz=self.ftz) for k in "abc")
        sp = ua.sign ^ ub.sign
        p_zero, p_inf = ua.is_zero | ub.is_zero, ua.is_inf | ub.is_inf
        invalid = (ua.is_inf & ub.is_zero) | (ua.is_zero & ub.is_inf)
        # biased exponents (subnormals at 1); c's lowest bit lies d = ec - ea - eb + bias + p - 1
        # bits above the product's, and is shifted right by top - d from its start
        ea, eb, ec = (_biased(fmt, v[k]) for k in "abc")
        prod = wire(m, ea + eb, "fma_prod_exp")
        shift = wire(m, prod - (ec + (fmt.bias + p - 1 - self.top)), "fma_shift")
        far = shift < 0  # c above its start: the product is only a sticky bit
        # the unbiased exponent of the window's top bit (its carry bit), both ways in parallel
        top = self.window - 1 - self.low
        near_top = prod + (top - 2 * (p - 1) - 2 * fmt.bias)
        far_top = ec + (1 - fmt.bias)
        return {
            "valid": v["valid"],
            "sig_a": ua.sig,
            "sig_b": ub.sig,
            "sig_c": uc.sig,
            "shift": Mux(far, 0, shift)[: len(shift) - 1],
            "far": far,
            "top_exp": Mux(far, far_top, near_top),
            "sign_p": sp,
            "sign_c": uc.sign,
            "nan": ua.is_nan
            | ub.is_nan
            | uc.is_nan
            | invalid
            | (p_inf & uc.is_inf & (sp ^ uc.sign)),
            "inf": p_inf | uc.is_inf,
            "inf_sign": Mux(p_inf, sp, uc.sign),
            # a zero product leaves c, exactly; c == 0 too: -0 only for two negative zeros
            "p_zero": p_zero,
            "c_value": Mux(uc.is_zero, Cat(Const(0, fmt.width - 1), sp & uc.sign), v["c"]),
        }

    def _multiply(self, m: Module, v: dict[str, Value]) -> dict[str, Value]:
        c_start = Cat(Const(0, self.low + self.top), v["sig_c"], Const(0, 1))
        c_al, lost = shift_right_sticky(c_start, v["shift"], m=m)
        keep = ("valid", "far", "top_exp", "sign_p", "sign_c", "nan", "inf", "inf_sign")
        return {
            **_keep(v, *keep, "p_zero", "c_value"),
            "product": v["sig_a"] * v["sig_b"],
            "c": c_al | lost,
        }

    def _add(self, m: Module, v: dict[str, Value]) -> dict[str, Value]:
        placed = Mux(v["far"], v["product"] != 0, Cat(Const(0, self.low), v["product"]))
        sub = v["sign_p"] ^ v["sign_c"]
        keep = ("valid", "top_exp", "sign_p", "sign_c", "nan", "inf", "inf_sign", "p_zero")
        # c - P or c + P in w + 1 bits, two's complement; negative only when subtracting
        total = add_sub(v["c"], placed, sub, self.window + 1)
        return {**_keep(v, *keep, "c_value"), "total": total}

    def _abs(self, m: Module, v: dict[str, Value]) -> dict[str, Value]:
        total, w = v["total"], self.window
        neg = total[w]
        keep = ("valid", "top_exp", "nan", "inf", "inf_sign", "p_zero", "c_value")
        return {
            **_keep(v, *keep),
            "mag": Mux(neg, -total, total)[:w],
            "sign": Mux(neg, v["sign_p"], v["sign_c"]),
        }

    def _count(self, m: Module, v: dict[str, Value]) -> dict[str, Value]:
        keep = ("valid", "top_exp", "nan", "inf", "inf_sign", "p_zero", "c_value", "mag", "sign")
        return {**_keep(v, *keep), "lz": leading_zeros(v["mag"])}

    def _normalize(self, m: Module, v: dict[str, Value]) -> dict[str, Value]:
        keep = ("valid", "nan", "inf", "inf_sign", "p_zero", "c_value")
        return {
            **_keep(v, *keep),
            "sig": shift_left(v["mag"], v["lz"], m=m),
            "exp": v["top_exp"] - v["lz"],
            "sign": v["sign"] & (v["mag"] != 0),  # an exact cancellation gives +0
        }

    def _denormalize(self, m: Module, v: dict[str, Value]) -> dict[str, Value]:
        sig, cut = v["sig"], self.window - (self.fmt.man_bits + 3)
        d = denormalize(self.fmt, v["exp"], sig[cut:], sig[:cut] != 0, ftz=self.ftz)
        keep = ("valid", "nan", "inf", "inf_sign", "p_zero", "c_value", "sign")
        return {**_keep(v, *keep), **d._asdict()}

    def _round(self, m: Module, v: dict[str, Value]) -> dict[str, Value]:
        keep = ("valid", "nan", "inf", "inf_sign", "p_zero", "c_value", "sign")
        rounded = round_significand(self.fmt, v["sig"], v["sticky"])
        return {**_keep(v, *keep, "biased_exp", "nonzero"), "rounded": rounded}

    def _pack(self, m: Module, v: dict[str, Value]) -> dict[str, Value]:
        fmt = self.fmt
        packed = pack_rounded(fmt, v["sign"], v["biased_exp"], v["rounded"], ftz=self.ftz)
        special = Mux(
            v["nan"],
            fmt.qnan(),
            Mux(
                v["inf"],
                Cat(Const(fmt.inf(), fmt.width - 1), v["inf_sign"]),
                Mux(v["p_zero"], v["c_value"], Cat(Const(0, fmt.width - 1), v["sign"])),
            ),
        )
        use_special = v["nan"] | v["inf"] | v["p_zero"] | ~v["nonzero"]
        return {
            "valid": v["valid"],
            "result": Mux(use_special, special, wire(m, packed, "fma_packed")),
        }
