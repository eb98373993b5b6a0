"""Property-based tests: the NumPy executor against the independent reference in intref.py.

Each example draws random integer / fixed-point types, in-range values and an operation, generates
the source of a kernel applying it, builds it with ``allo.customize(k).build()`` and compares the
result with the reference model (docs/semantics.md).
"""

from __future__ import annotations

import itertools
import linecache
import math
import operator
import os
import warnings

import numpy as np
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from intref import (
    BOOL,
    CMPOPS,
    INT32,
    Fixed,
    Int,
    T,
    UInt,
    binop,
    c_div,
    convert,
    float_to_raw,
    get_bit,
    get_slice,
    literal_type,
    raw_to_py,
    result_type,
    reverse_bits,
    set_bit,
    set_slice,
    unary_type,
    unop,
)

import allo_rtl as allo
from allo_rtl.ir import types as at

# ALLO_RTL_PROP_SCALE=20 multiplies the number of examples for a deeper (slower) search.
SCALE = int(os.environ.get("ALLO_RTL_PROP_SCALE", "1"))
SETTINGS = settings(
    max_examples=60 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEW = settings(SETTINGS, max_examples=40 * SCALE)

WIDE = Int(200)
PYOPS = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}

# --------------------------------------------------------------------------------------------
# Kernel construction

_counter = itertools.count()
_cache: dict[str, object] = {}


def tname(t: T) -> str:
    """The name under which type ``t`` is visible to generated kernels."""
    if t.fixed:
        return f"{t.cls}{t.width}_{t.frac}"
    return f"{t.cls}{t.width}"


def to_allo(t: T):
    if t.fixed:
        return (at.Fixed if t.signed else at.UFixed)(t.width, t.frac)
    return (at.Int if t.signed else at.UInt)(t.width)


def make_kernel(src: str, name: str, env: dict):
    filename = f"<hypothesis-kernel-{next(_counter)}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    with warnings.catch_warnings():
        # `(~7)[6:31]` is a bit slice here, not a (failing) Python subscript
        warnings.simplefilter("ignore", SyntaxWarning)
        code = compile(src, filename, "exec")
    ns = dict(env)
    exec(code, ns)
    return ns[name]


def build(src: str, types):
    """Build (once per source text) the kernel ``k`` defined by ``src``."""
    note(f"kernel source:\n{src}")
    mod = _cache.get(src)
    if mod is None:
        env = {
            "allo": allo,
            "Int": at.Int,
            "UInt": at.UInt,
            "Fixed": at.Fixed,
            "UFixed": at.UFixed,
            "int32": at.int32,
        }
        for t in types:
            env[tname(t)] = to_allo(t)
        mod = allo.customize(make_kernel(src, "k", env)).build()
        _cache[src] = mod
    return mod


def arg(raw: int, t: T):
    """The Python argument passing the value ``raw`` of type ``t`` (exact for our widths)."""
    return float(t.value(raw)) if t.fixed else raw


def check(got, raw: int, t: T, what: str):
    exp = raw_to_py(raw, t)
    if t.fixed:
        assert isinstance(got, float), f"{what}: expected a float, got {got!r} ({type(got)})"
    else:
        assert isinstance(got, int), f"{what}: expected an int, got {got!r} ({type(got)})"
    assert got == exp, f"{what}: expected {exp!r} (raw {raw} in {t}), got {got!r}"


def sig(params) -> str:
    return ", ".join(f"{n}: {tname(t)}" for n, t in params)


def ret_kernel(params, rt: T, expr: str, via_local: bool = False) -> str:
    if via_local:
        body = f"    v: {tname(rt)} = {expr}\n    return v\n"
    else:
        body = f"    return {expr}\n"
    return f"def k({sig(params)}) -> {tname(rt)}:\n{body}"


def binexpr(op: str, a: str, b: str) -> str:
    if op in ("min", "max"):
        return f"{op}({a}, {b})"
    return f"({a} {op} {b})"


# --------------------------------------------------------------------------------------------
# Strategies

WIDTHS = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 80]
widths = st.one_of(st.sampled_from(WIDTHS), st.integers(1, 80))
int_types = st.builds(lambda s, w: T(s, w), st.booleans(), widths)


@st.composite
def fixed_types(draw, max_w: int = 16):
    w = draw(st.integers(1, max_w))
    f = draw(st.integers(0, w))
    return T(draw(st.booleans()), w, f, True)


# integer or (small) fixed types, mostly integers
scalar_types = st.one_of(int_types, int_types, fixed_types())
# types whose values survive the trip through a float64 exactly
exact_types = st.one_of(st.builds(lambda s, w: T(s, w), st.booleans(), widths), fixed_types(24))


def raws(t: T):
    edges = sorted({t.lo, t.hi, 0, min(1, t.hi), max(-1, t.lo), t.lo + 1 if t.lo < t.hi else t.lo})
    return st.one_of(st.sampled_from(edges), st.integers(t.lo, t.hi))


def nonzero_raws(t: T):
    return raws(t).filter(lambda r: r != 0) if t.hi > 0 or t.lo < 0 else st.just(0)


def value_lists(*ts, min_size=1, max_size=4):
    return st.lists(st.tuples(*(raws(t) for t in ts)), min_size=min_size, max_size=max_size)


# --------------------------------------------------------------------------------------------
# Conversion on store / return / assignment


def _np_dtype(t: T):
    if t.fixed:
        return np.float64
    for n in (8, 16, 32, 64):
        if t.width <= n:
            return getattr(np, f"{'' if t.signed else 'u'}int{n}")
    return object


@SETTINGS
@given(data=st.data(), src=exact_types, dst=exact_types)
def test_conversion_wraps_on_return_assignment_and_store(data, src, dst):
    vals = data.draw(value_lists(src))
    p = [("a", src)]
    m_ret = build(ret_kernel(p, dst, "a"), [src, dst])
    m_loc = build(ret_kernel(p, dst, "a", via_local=True), [src, dst])
    m_arr = build(f"def k(a: {tname(src)}, B: {tname(dst)}[2]):\n    B[1] = a\n", [src, dst])
    for (a,) in vals:
        exp = convert(a, src, dst)
        check(m_ret(arg(a, src)), exp, dst, f"return {a} of {src} as {dst}")
        check(m_loc(arg(a, src)), exp, dst, f"assign {a} of {src} to {dst}")
        B = np.zeros(2, dtype=_np_dtype(dst))
        m_arr(arg(a, src), B)
        got = float(B[1]) if dst.fixed else int(B[1])
        check(got, exp, dst, f"store {a} of {src} to {dst}[2]")
        assert B[0] == 0


@SETTINGS
@given(data=st.data(), t=fixed_types(24))
def test_fixed_scalar_argument_truncates(data, t):
    lo, hi = float(t.value(t.lo)), float(t.value(t.hi))
    xs = data.draw(st.lists(st.floats(lo, hi), min_size=1, max_size=6))
    m = build(ret_kernel([("a", t)], t, "a"), [t])
    for x in xs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # non-representable inputs may warn
            got = m(x)
        check(got, float_to_raw(x, t), t, f"argument {x!r} for {t}")


@SETTINGS
@given(data=st.data(), src=exact_types, mid=exact_types)
def test_conversion_on_call_argument(data, src, mid):
    vals = data.draw(value_lists(src))
    tw = T(True, mid.width + 8, mid.frac, True) if mid.fixed else WIDE
    src_text = (
        f"def g(x: {tname(mid)}) -> {tname(tw)}:\n    return x\n\n\n"
        f"def k(a: {tname(src)}) -> {tname(tw)}:\n    return g(a)\n"
    )
    m = build(src_text, [src, mid, tw])
    for (a,) in vals:
        exp = convert(a, src, mid)
        check(m(arg(a, src)), exp, tw, f"g({a} of {src}) with parameter {mid}")


AUGOPS = ["+", "-", "*", "/", "//", "%", "<<", ">>", "&", "|", "^"]


@SETTINGS
@given(data=st.data(), tv=int_types, tb=int_types, op=st.sampled_from(AUGOPS))
def test_augmented_assignment(data, tv, tb, op):
    vals = data.draw(value_lists(tv, tb))
    n = tname(tv)
    src = f"def k(a: {n}, b: {tname(tb)}) -> {n}:\n    v: {n} = a\n    v {op}= b\n    return v\n"
    m = build(src, [tv, tb])
    for a, b in vals:
        exp = convert(*binop(op, a, tv, b, tb), tv)
        check(m(a, b), exp, tv, f"v = {a} ({tv}); v {op}= {b} ({tb})")


@SETTINGS
@given(data=st.data(), src=scalar_types)
def test_int_cast(data, src):
    vals = data.draw(value_lists(src))
    m = build(ret_kernel([("a", src)], INT32, "int(a)"), [src, INT32])
    m_wide = build(ret_kernel([("a", src)], WIDE, "int(a)"), [src, WIDE])
    for (a,) in vals:
        exp, _ = unop("int", a, src)
        check(m(arg(a, src)), exp, INT32, f"int({a} of {src})")
        check(m_wide(arg(a, src)), exp, WIDE, f"int({a} of {src}) widened")


# --------------------------------------------------------------------------------------------
# Division and remainder


@FEW
@given(data=st.data(), ta=int_types, tb=int_types)
def test_c_division_and_modulo(data, ta, tb):
    vals = data.draw(st.lists(st.tuples(raws(ta), nonzero_raws(tb)), min_size=1, max_size=4))
    p = [("a", ta), ("b", tb)]
    tq, tr = result_type("/", ta, tb), result_type("%", ta, tb)
    mq = build(ret_kernel(p, tq, "a / b"), [ta, tb, tq])
    mr = build(ret_kernel(p, tr, "a % b"), [ta, tb, tr])
    mr_wide = build(ret_kernel(p, WIDE, "a % b"), [ta, tb, WIDE])
    for a, b in vals:
        q, r = mq(a, b), mr(a, b)
        check(q, binop("/", a, ta, b, tb)[0], tq, f"{a} / {b} ({ta} / {tb})")
        check(r, binop("%", a, ta, b, tb)[0], tr, f"{a} % {b} ({ta} % {tb})")
        check(mr_wide(a, b), r, WIDE, f"{a} % {b} into Int(200)")
        if b == 0:
            continue
        # remainder: sign of the dividend, smaller than the divisor
        assert abs(r) < abs(b) and (r == 0 or (r < 0) == (a < 0))
        if tq.contains(c_div(a, b)):
            # the quotient did not wrap: it is truncated and the C identity holds exactly
            assert q == c_div(a, b)
            assert a == q * b + r, f"{a} != ({q}) * ({b}) + ({r})"


@FEW
@given(data=st.data(), ta=int_types, tb=int_types)
def test_floor_division(data, ta, tb):
    vals = data.draw(st.lists(st.tuples(raws(ta), nonzero_raws(tb)), min_size=1, max_size=4))
    p = [("a", ta), ("b", tb)]
    tq = result_type("//", ta, tb)
    m = build(ret_kernel(p, tq, "a // b"), [ta, tb, tq])
    m_wide = build(ret_kernel(p, WIDE, "a // b"), [ta, tb, WIDE])
    for a, b in vals:
        got = m(a, b)
        check(got, binop("//", a, ta, b, tb)[0], tq, f"{a} // {b} ({ta} // {tb})")
        check(m_wide(a, b), got, WIDE, f"{a} // {b} into Int(200)")
        if b != 0 and tq.contains(a // b):
            assert got == a // b
            rem = a - got * b
            assert rem == 0 or (rem < 0) == (b < 0)


@SETTINGS
@given(
    data=st.data(),
    ta=st.one_of(int_types, fixed_types()),
    tb=st.one_of(int_types, fixed_types()),
    op=st.sampled_from(["/", "//", "%"]),
)
def test_division_by_zero(data, ta, tb, op):
    if op == "//" and (ta.fixed or tb.fixed):
        op = "/"  # floor division is only specified for integers
    try:
        rt = result_type(op, ta, tb)
    except ValueError:
        return  # Allo's fixed-point division rule gives no valid type
    vals = data.draw(value_lists(ta))
    p = [("a", ta), ("b", tb)]
    m = build(ret_kernel(p, rt, f"a {op} b"), [ta, tb, rt])
    for (a,) in vals:
        exp = binop(op, a, ta, 0, tb)[0]
        check(m(arg(a, ta), arg(0, tb)), exp, rt, f"{a} {op} 0 ({ta} {op} {tb})")


# --------------------------------------------------------------------------------------------
# Shifts


@st.composite
def shift_amounts(draw, ta: T, tb: T):
    small = st.integers(0, ta.width + 2).filter(tb.contains)
    return draw(st.one_of(small, small, raws(tb)))


@FEW
@given(
    data=st.data(),
    ta=st.one_of(int_types, int_types, fixed_types()),
    tb=int_types,
    op=st.sampled_from(["<<", ">>"]),
)
def test_shifts(data, ta, tb, op):
    vals = data.draw(st.lists(st.tuples(raws(ta), shift_amounts(ta, tb)), min_size=1, max_size=4))
    const = data.draw(st.integers(0, ta.width + 2))
    p = [("a", ta), ("b", tb)]
    m = build(ret_kernel(p, ta, f"a {op} b"), [ta, tb])
    m_wide = build(ret_kernel(p, WIDE if not ta.fixed else ta, f"a {op} b"), [ta, tb, WIDE])
    m_const = build(ret_kernel([("a", ta)], ta, f"a {op} {const}"), [ta])
    for a, b in vals:
        exp = binop(op, a, ta, b, tb)[0]
        check(m(arg(a, ta), b), exp, ta, f"{a} {op} {b} ({ta} {op} {tb})")
        if not ta.fixed:
            check(m_wide(a, b), exp, WIDE, f"{a} {op} {b} into Int(200)")
        exp_c = binop(op, a, ta, const, INT32)[0]
        check(m_const(arg(a, ta)), exp_c, ta, f"{a} {op} {const} ({ta})")
        # a >> n == floor(a / 2**n) for n below the width
        if op == ">>" and 0 <= b < ta.width:
            assert exp == a >> b


# --------------------------------------------------------------------------------------------
# Bitwise and unary


@SETTINGS
@given(data=st.data(), ta=int_types, tb=int_types, op=st.sampled_from(["&", "|", "^"]))
def test_bitwise(data, ta, tb, op):
    vals = data.draw(value_lists(ta, tb))
    p = [("a", ta), ("b", tb)]
    rt = result_type(op, ta, tb)
    m = build(ret_kernel(p, rt, f"a {op} b"), [ta, tb, rt])
    m_wide = build(ret_kernel(p, WIDE, f"a {op} b"), [ta, tb, WIDE])
    for a, b in vals:
        exp = binop(op, a, ta, b, tb)[0]
        check(m(a, b), exp, rt, f"{a} {op} {b} ({ta} {op} {tb})")
        check(m_wide(a, b), exp, WIDE, f"{a} {op} {b} into Int(200)")


@SETTINGS
@given(
    data=st.data(),
    ta=st.one_of(int_types, fixed_types()),
    op=st.sampled_from(["-", "~"]),
)
def test_unary(data, ta, op):
    if ta.fixed:
        op = "-"
    vals = data.draw(value_lists(ta))
    rt = unary_type(op, ta)
    m = build(ret_kernel([("a", ta)], rt, f"{op}a"), [ta, rt])
    # a wider return type tells the result's signedness apart
    tw = T(True, ta.width + 8, ta.frac, True) if ta.fixed else WIDE
    m_wide = build(ret_kernel([("a", ta)], tw, f"{op}a"), [ta, tw])
    for (a,) in vals:
        exp = unop(op, a, ta)[0]
        check(m(arg(a, ta)), exp, rt, f"{op}({a}) ({ta})")
        check(m_wide(arg(a, ta)), exp, tw, f"{op}({a}) ({ta}) into {tw}")
        if op == "~":
            assert exp == -(convert(a, ta, rt)) - 1


@SETTINGS
@given(
    # below INT32_MAX: whether range(a, a + 1) runs for a = INT32_MAX is not specified
    vals=st.lists(
        st.tuples(*[raws(INT32).filter(lambda v: v < INT32.hi)] * 2), min_size=1, max_size=4
    ),
    op=st.sampled_from(AUGOPS),
)
def test_index_arithmetic_wraps_at_32_bits(vals, op):
    # loop variables are `index`; `index op index` stays `index` (wraps at 32 bits)
    src = (
        "def k(a: Int32, b: Int32) -> Int200:\n"
        "    r: Int200 = 0\n"
        "    for i in range(a, a + 1):\n"
        "        for j in range(b, b + 1):\n"
        f"            r = i {op} j\n"
        "    return r\n"
    )
    m = build(src, [INT32, WIDE])
    for a, b in vals:
        exp = convert(*binop(op, a, INT32, b, INT32), INT32)
        check(m(a, b), exp, WIDE, f"index {a} {op} index {b}")


# --------------------------------------------------------------------------------------------
# Widening + - * and comparisons


@SETTINGS
@given(data=st.data(), ta=int_types, tb=int_types, op=st.sampled_from(["+", "-", "*"]))
def test_widening_never_overflows(data, ta, tb, op):
    vals = data.draw(value_lists(ta, tb))
    p = [("a", ta), ("b", tb)]
    rt = result_type(op, ta, tb)
    m = build(ret_kernel(p, WIDE, f"a {op} b"), [ta, tb, WIDE])
    m_rt = build(ret_kernel(p, rt, f"a {op} b"), [ta, tb, rt])
    for a, b in vals:
        exact = {"+": a + b, "-": a - b, "*": a * b}[op]
        exp = binop(op, a, ta, b, tb)[0]
        if op != "-" or ta.signed or tb.signed:
            assert exp == exact
        else:  # UInt - UInt wraps in UInt(max + 1), as in Allo
            assert exp == exact % (1 << rt.width)
        check(m(a, b), exp, WIDE, f"{a} {op} {b} ({ta} {op} {tb}) into Int(200)")
        check(m_rt(a, b), exp, rt, f"{a} {op} {b} ({ta} {op} {tb}) into {rt}")


@SETTINGS
@given(data=st.data(), ta=scalar_types, tb=scalar_types, op=st.sampled_from(CMPOPS))
def test_comparisons(data, ta, tb, op):
    vals = data.draw(value_lists(ta, tb))
    p = [("a", ta), ("b", tb)]
    m = build(ret_kernel(p, BOOL, f"a {op} b"), [ta, tb, BOOL])
    m8 = build(ret_kernel(p, Int(8), f"a {op} b"), [ta, tb, Int(8)])
    for a, b in vals:
        exp = binop(op, a, ta, b, tb)[0]
        assert exp == int(PYOPS[op](ta.value(a), tb.value(b)))  # exact values
        check(m(arg(a, ta), arg(b, tb)), exp, BOOL, f"{a} {op} {b} ({ta} {op} {tb})")
        check(m8(arg(a, ta), arg(b, tb)), exp, Int(8), f"{a} {op} {b} into Int(8)")


@SETTINGS
@given(data=st.data(), ta=scalar_types, tb=scalar_types, op=st.sampled_from(["min", "max"]))
def test_min_max(data, ta, tb, op):
    vals = data.draw(value_lists(ta, tb))
    p = [("a", ta), ("b", tb)]
    rt = result_type(op, ta, tb)
    m = build(ret_kernel(p, rt, f"{op}(a, b)"), [ta, tb, rt])
    for a, b in vals:
        exp = binop(op, a, ta, b, tb)[0]
        assert rt.value(exp) == (min if op == "min" else max)(ta.value(a), tb.value(b))
        check(m(arg(a, ta), arg(b, tb)), exp, rt, f"{op}({a}, {b}) ({ta}, {tb})")


# --------------------------------------------------------------------------------------------
# Fixed point


small_ints = st.builds(lambda s, w: T(s, w), st.booleans(), st.integers(1, 16))
fixed_or_small_int = st.one_of(fixed_types(), fixed_types(), small_ints)


@FEW
@given(
    data=st.data(),
    ta=fixed_types(),
    tb=fixed_or_small_int,
    op=st.sampled_from(["+", "-", "*", "%"]),
    dst=fixed_types(24),
    swap=st.booleans(),
)
def test_fixed_arith_and_convert(data, ta, tb, op, dst, swap):
    if swap:
        ta, tb = tb, ta
    vals = data.draw(value_lists(ta, tb))
    p = [("a", ta), ("b", tb)]
    rt = result_type(op, ta, tb)
    m = build(ret_kernel(p, rt, f"a {op} b"), [ta, tb, rt])
    m_dst = build(ret_kernel(p, dst, f"a {op} b", via_local=True), [ta, tb, dst])
    for a, b in vals:
        exp, _ = binop(op, a, ta, b, tb)
        va, vb = ta.value(a), tb.value(b)
        if op in "+*" or (op == "-" and rt.signed):
            assert rt.value(exp) == PYOPS[op](va, vb)  # exact
        got = m(arg(a, ta), arg(b, tb))
        check(got, exp, rt, f"{va} {op} {vb} ({ta} {op} {tb})")
        check(
            m_dst(arg(a, ta), arg(b, tb)),
            convert(exp, rt, dst),
            dst,
            f"{va} {op} {vb} ({ta} {op} {tb}) converted to {dst}",
        )


@FEW
@given(data=st.data(), ta=fixed_or_small_int, tb=fixed_or_small_int)
def test_fixed_division(data, ta, tb):
    if not (ta.fixed or tb.fixed):
        ta = Fixed(ta.width, 0) if ta.signed else T(False, ta.width, 0, True)
    try:
        rt = result_type("/", ta, tb)
    except ValueError:
        return  # Allo's rule gives negative fraction bits (Int / Fixed with f2 > w1)
    if rt.width > 53:
        return
    vals = data.draw(st.lists(st.tuples(raws(ta), nonzero_raws(tb)), min_size=1, max_size=4))
    p = [("a", ta), ("b", tb)]
    m = build(ret_kernel(p, rt, "a / b"), [ta, tb, rt])
    for a, b in vals:
        exp, _ = binop("/", a, ta, b, tb)
        got = m(arg(a, ta), arg(b, tb))
        check(got, exp, rt, f"{ta.value(a)} / {tb.value(b)} ({ta} / {tb})")
        if b != 0:
            q = ta.value(a) / tb.value(b)
            if rt.contains(math.trunc(q * (1 << rt.frac))):
                # truncation toward zero at the result's fraction bits
                assert abs(rt.value(exp)) <= abs(q) < abs(rt.value(exp)) + rt.value(1)


# --------------------------------------------------------------------------------------------
# Bit access


@SETTINGS
@given(data=st.data(), ta=int_types, ti=st.sampled_from([INT32, UInt(8), Int(8), UInt(32)]))
def test_bit_get_and_slice(data, ta, ti):
    i = data.draw(st.integers(0, ta.width + 3))
    lo = data.draw(st.integers(0, ta.width + 2))
    hi = data.draw(st.integers(lo + 1, ta.width + 4))
    vals = data.draw(
        st.lists(
            st.tuples(raws(ta), st.integers(0, min(ta.width + 3, ti.hi))),
            min_size=1,
            max_size=4,
        )
    )
    p = [("a", ta), ("i", ti)]
    ts = UInt(hi - lo)
    m_const = build(ret_kernel([("a", ta)], BOOL, f"a[{i}]"), [ta, BOOL])
    m_var = build(ret_kernel(p, BOOL, "a[i]"), [ta, ti, BOOL])
    m_slice = build(ret_kernel([("a", ta)], ts, f"a[{lo}:{hi}]"), [ta, ts])
    m_slice_wide = build(ret_kernel([("a", ta)], WIDE, f"a[{lo}:{hi}]"), [ta, WIDE])
    m_rev = build(ret_kernel([("a", ta)], ta, "a.reverse()"), [ta])
    for a, iv in vals:
        check(m_const(a), get_bit(a, ta, i), BOOL, f"({a} of {ta})[{i}]")
        check(m_var(a, iv), get_bit(a, ta, iv), BOOL, f"({a} of {ta})[i={iv}]")
        s, _ = get_slice(a, ta, lo, hi)
        check(m_slice(a), s, ts, f"({a} of {ta})[{lo}:{hi}]")
        check(m_slice_wide(a), s, WIDE, f"({a} of {ta})[{lo}:{hi}] into Int(200)")
        check(m_rev(a), reverse_bits(a, ta), ta, f"({a} of {ta}).reverse()")


@SETTINGS
@given(data=st.data(), ta=int_types)
def test_bit_access_of_a_slice(data, ta):
    lo = data.draw(st.integers(0, ta.width))
    hi = data.draw(st.integers(lo + 1, ta.width + 2))
    n = hi - lo
    j = data.draw(st.integers(0, n + 1))
    lo2 = data.draw(st.integers(0, n))
    hi2 = data.draw(st.integers(lo2 + 1, n + 2))
    vals = data.draw(value_lists(ta))
    m_bit = build(ret_kernel([("a", ta)], BOOL, f"a[{lo}:{hi}][{j}]"), [ta, BOOL])
    ts = UInt(hi2 - lo2)
    m_slice = build(ret_kernel([("a", ta)], ts, f"a[{lo}:{hi}][{lo2}:{hi2}]"), [ta, ts])
    for (a,) in vals:
        s, t = get_slice(a, ta, lo, hi)
        check(m_bit(a), get_bit(s, t, j), BOOL, f"({a} of {ta})[{lo}:{hi}][{j}]")
        exp = get_slice(s, t, lo2, hi2)[0]
        check(m_slice(a), exp, ts, f"({a} of {ta})[{lo}:{hi}][{lo2}:{hi2}]")


@SETTINGS
@given(data=st.data(), ta=int_types, tv=int_types)
def test_bit_set(data, ta, tv):
    i = data.draw(st.integers(0, ta.width + 3))
    lo = data.draw(st.integers(0, ta.width + 2))
    hi = data.draw(st.integers(lo + 1, ta.width + 4))
    vals = data.draw(value_lists(ta, BOOL, tv))
    n = tname(ta)
    src_bit = f"def k(a: {n}, b: UInt1) -> {n}:\n    x: {n} = a\n    x[{i}] = b\n    return x\n"
    src_slice = (
        f"def k(a: {n}, c: {tname(tv)}) -> {n}:\n    x: {n} = a\n    x[{lo}:{hi}] = c\n"
        "    return x\n"
    )
    src_var = (
        f"def k(a: {n}, b: UInt1, i: Int32) -> {n}:\n    x: {n} = a\n    x[i] = b\n    return x\n"
    )
    m_bit = build(src_bit, [ta, BOOL])
    m_var = build(src_var, [ta, BOOL, INT32])
    m_slice = build(src_slice, [ta, tv])
    for a, b, c in vals:
        check(m_bit(a, b), set_bit(a, ta, i, b), ta, f"x = {a} ({ta}); x[{i}] = {b}")
        check(m_var(a, b, i), set_bit(a, ta, i, b), ta, f"x = {a} ({ta}); x[i={i}] = {b}")
        exp = set_slice(a, ta, lo, hi, c)
        check(m_slice(a, c), exp, ta, f"x = {a} ({ta}); x[{lo}:{hi}] = {c} ({tv})")


# --------------------------------------------------------------------------------------------
# Random expression trees

LITERALS = [0, 1, 2, 3, 5, 7, 100, 255, 2**31 - 1, 2**31, 2**40 + 3]


def eval_tree(node, env):
    """Reference evaluation of a generated expression tree; returns (raw, type)."""
    kind = node[0]
    if kind == "param":
        return env[node[1]]
    if kind == "lit":
        return node[1], literal_type(node[1])
    if kind == "bin":
        _, op, lhs, rhs = node
        (rl, tl), (rr, tr) = eval_tree(lhs, env), eval_tree(rhs, env)
        return binop(op, rl, tl, rr, tr)
    if kind == "un":
        _, op, x = node
        return unop(op, *eval_tree(x, env))
    if kind == "bit":
        r, t = eval_tree(node[1], env)
        return get_bit(r, t, node[2]), BOOL
    if kind == "slice":
        r, t = eval_tree(node[1], env)
        return get_slice(r, t, node[2], node[3])
    if kind == "sel":
        _, c, x, y = node
        (rc, _), (rx, tx), (ry, ty) = (
            eval_tree(c, env),
            eval_tree(x, env),
            eval_tree(y, env),
        )
        rt = result_type("max", tx, ty)
        return (convert(rx, tx, rt) if rc else convert(ry, ty, rt)), rt
    raise AssertionError(kind)


def tree_src(node) -> str:
    kind = node[0]
    if kind == "param":
        return node[1]
    if kind == "lit":
        return str(node[1])
    if kind == "bin":
        return binexpr(node[1], tree_src(node[2]), tree_src(node[3]))
    if kind == "un":
        return (
            f"int({tree_src(node[2])})" if node[1] == "int" else f"({node[1]}{tree_src(node[2])})"
        )
    if kind == "bit":
        return f"{tree_src(node[1])}[{node[2]}]"
    if kind == "slice":
        return f"{tree_src(node[1])}[{node[2]}:{node[3]}]"
    if kind == "sel":
        return f"({tree_src(node[2])} if {tree_src(node[1])} else {tree_src(node[3])})"
    raise AssertionError(kind)


def tree_type(node, ptypes):
    kind = node[0]
    if kind == "param":
        return ptypes[node[1]]
    if kind == "lit":
        return literal_type(node[1])
    if kind == "bin":
        return result_type(node[1], tree_type(node[2], ptypes), tree_type(node[3], ptypes))
    if kind == "un":
        return unary_type(node[1], tree_type(node[2], ptypes))
    if kind == "bit":
        return BOOL
    if kind == "slice":
        return UInt(node[3] - node[2])
    if kind == "sel":
        return result_type("max", tree_type(node[2], ptypes), tree_type(node[3], ptypes))
    raise AssertionError(kind)


def _valid_binops(tl: T, tr: T):
    ops = ["+", "-", "*", "%", "min", "max", *CMPOPS]
    if not (tl.fixed or tr.fixed):
        ops += ["/", "//", "&", "|", "^"]
    else:
        try:
            result_type("/", tl, tr)
            ops.append("/")
        except ValueError:
            pass
    if not tr.fixed:
        ops += ["<<", ">>"]
    return ops


def draw_tree(draw, depth: int, ptypes: dict):
    names = sorted(ptypes)
    leaf = depth == 0 or draw(st.integers(0, 9)) == 0
    if leaf:
        if draw(st.integers(0, 5)) == 0:
            return ("lit", draw(st.sampled_from(LITERALS)))
        return ("param", draw(st.sampled_from(names)))
    kind = draw(st.sampled_from(["bin"] * 6 + ["un", "sel", "bits"]))
    if kind == "un":
        x = draw_tree(draw, depth - 1, ptypes)
        tx = tree_type(x, ptypes)
        ops = ["-", "int"] + ([] if tx.fixed else ["~"])
        return ("un", draw(st.sampled_from(ops)), x)
    if kind == "bits":
        x = draw_tree(draw, depth - 1, ptypes)
        tx = tree_type(x, ptypes)
        if tx.fixed or x[0] == "lit":
            # bit access is specified for integers; `5[0:2]` is silly Python
            x, tx = ("un", "int", x), INT32
        lo = draw(st.integers(0, tx.width + 1))
        if draw(st.booleans()):
            return ("bit", x, lo)
        return ("slice", x, lo, draw(st.integers(lo + 1, tx.width + 2)))
    lhs = draw_tree(draw, depth - 1, ptypes)
    rhs = draw_tree(draw, depth - 1, ptypes)
    if kind == "sel":
        c = ("bin", draw(st.sampled_from(CMPOPS)), lhs, rhs)
        return ("sel", c, rhs, lhs) if draw(st.booleans()) else ("sel", c, lhs, rhs)
    op = draw(st.sampled_from(_valid_binops(tree_type(lhs, ptypes), tree_type(rhs, ptypes))))
    return ("bin", op, lhs, rhs)


@st.composite
def expr_cases(draw):
    n = draw(st.integers(2, 4))
    ptypes = {f"p{i}": draw(scalar_types) for i in range(n)}
    tree = draw_tree(draw, draw(st.integers(2, 3)), ptypes)
    tt = tree_type(tree, ptypes)
    rt = draw(st.one_of(int_types, fixed_types(24), st.just(WIDE)))
    if tt.fixed and not rt.fixed and draw(st.booleans()):
        rt = T(tt.signed, min(tt.width, 48), min(tt.frac, 24), True)
    vals = draw(st.lists(st.tuples(*(raws(ptypes[k]) for k in sorted(ptypes))), max_size=4))
    return ptypes, tree, rt, vals, draw(st.booleans())


@settings(SETTINGS, max_examples=200 * SCALE)
@given(case=expr_cases())
def test_random_expression_trees(case):
    ptypes, tree, rt, vals, via_local = case
    names = sorted(ptypes)
    params = [(n, ptypes[n]) for n in names]
    src = ret_kernel(params, rt, tree_src(tree), via_local=via_local)
    m = build(src, [*ptypes.values(), rt])
    vals = [tuple(0 for _ in names), *vals]
    for v in vals:
        env = {n: (r, ptypes[n]) for n, r in zip(names, v, strict=True)}
        raw, t = eval_tree(tree, env)
        exp = convert(raw, t, rt)
        got = m(*(arg(r, ptypes[n]) for n, r in zip(names, v, strict=True)))
        check(got, exp, rt, f"{tree_src(tree)} with {env} (expression type {t})")
