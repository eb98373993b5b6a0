"""Property-based differential tests of the lowering: random integer kernels, RTL vs NumPy.

Hypothesis draws kernels as source text (random expression trees over scalar parameters,
random loop nests over arrays with affine indices, random if/else inside loops), builds them
with ``allo.customize``, runs them on the NumPy target and in Amaranth's simulator
(tests/amaranth_harness.py), and requires the two to agree bit for bit: returned values and
array arguments written in place.

The harness passes raw bits: a ``Fixed`` argument goes to the RTL as its raw integer and a
``Fixed`` result comes back raw; the NumPy side takes and returns values (floats).
"""

from __future__ import annotations

import itertools
import linecache
import os
import warnings
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from amaranth_harness import run
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from intref import BOOL, CMPOPS, INT32, T, literal_type, result_type, unary_type

import allo_rtl as allo
from allo_rtl.ir import types as at
from allo_rtl.lowering import target_model

# ALLO_RTL_PROP_SCALE=20 multiplies the number of examples for a deeper (slower) search.
SCALE = int(os.environ.get("ALLO_RTL_PROP_SCALE", "1"))
SETTINGS = settings(
    max_examples=25 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --------------------------------------------------------------------------------------------
# Kernels from source text

_counter = itertools.count()


def tname(t: T) -> str:
    """The name under which type ``t`` is visible to generated kernels."""
    return f"{t.cls}{t.width}_{t.frac}" if t.fixed else f"{t.cls}{t.width}"


def to_allo(t: T):
    if t.fixed:
        return (at.Fixed if t.signed else at.UFixed)(t.width, t.frac)
    return (at.Int if t.signed else at.UInt)(t.width)


def make_schedule(src: str, types) -> allo.Schedule:
    """``allo.customize`` of the kernel ``k`` in ``src`` (kept in linecache for locations)."""
    note(f"kernel source:\n{src}")
    filename = f"<rtl-hypothesis-kernel-{next(_counter)}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    env = {"allo": allo}
    for t in types:
        env[tname(t)] = to_allo(t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # `(~7)[6:31]` is a bit slice here
        code = compile(src, filename, "exec")
    exec(code, env)
    return allo.customize(env["k"])


def fixed_arg(raw: int, t: T) -> float:
    """The float the NumPy target takes for the raw value ``raw`` of ``t`` (exact)."""
    return float(t.value(raw))


def exact_raw(raw: int) -> int:
    """``raw`` rounded toward zero to 53 significant bits, so ``raw / 2**f`` is a float."""
    m = abs(raw)
    s = max(0, m.bit_length() - 53)
    m = (m >> s) << s
    return -m if raw < 0 else m


def same_scalar(rtl_raw: int, ref, t: T, what: str) -> None:
    """The RTL's raw result of type ``t`` is what the NumPy target returned."""
    if t.fixed:
        assert isinstance(ref, float), f"{what}: NumPy returned {ref!r}"
        assert float(t.value(int(rtl_raw))) == ref, f"{what}: RTL raw {rtl_raw}, NumPy {ref!r}"
    else:
        assert isinstance(ref, int), f"{what}: NumPy returned {ref!r}"
        assert int(rtl_raw) == ref, f"{what}: RTL {rtl_raw}, NumPy {ref}"


def same_array(rtl, ref, t: T, what: str) -> None:
    """Arrays from the harness (raw bits for Fixed) and from the NumPy target agree."""
    assert rtl.shape == ref.shape, f"{what}: shapes {rtl.shape} and {ref.shape}"
    if t.fixed:
        want = [int(Fraction(float(v)) * (1 << t.frac)) for v in ref.ravel()]
    else:
        want = [int(v) for v in ref.ravel()]
    got = [int(v) for v in np.asarray(rtl).ravel()]
    bad = [n for n, (g, w) in enumerate(zip(got, want)) if g != w]
    if bad:
        n = bad[0]
        raise AssertionError(
            f"{what}: {len(bad)} differ, first at {n}: RTL {got[n]}, NumPy {want[n]}"
        )


# --------------------------------------------------------------------------------------------
# Types and values

WIDTHS = [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 70]
widths = st.one_of(st.sampled_from(WIDTHS), st.integers(1, 70))
int_types = st.builds(lambda s, w: T(s, w), st.booleans(), widths)


@st.composite
def fixed_types(draw, max_w: int = 70):
    w = draw(st.one_of(st.integers(1, min(24, max_w)), st.integers(1, max_w)))
    return T(draw(st.booleans()), w, draw(st.integers(0, w)), True)


scalar_types = st.one_of(int_types, int_types, fixed_types())


def raws(t: T):
    """Raw values of ``t``, edges often; for Fixed, values a float64 holds exactly."""
    edges = sorted({t.lo, t.hi, 0, min(1, t.hi), max(-1, t.lo)})
    values = st.one_of(st.sampled_from(edges), st.integers(t.lo, t.hi))
    return values.map(exact_raw) if t.fixed else values


# --------------------------------------------------------------------------------------------
# 1. Random expression trees over scalar parameters

LITERALS = [0, 1, 2, 3, 5, 7, 100, 255, 2**31 - 1, 2**31, 2**40 + 3]


def tree_src(node) -> str:
    kind = node[0]
    if kind == "param":
        return node[1]
    if kind == "lit":
        return str(node[1])
    if kind == "bin":
        op, a, b = node[1], tree_src(node[2]), tree_src(node[3])
        return f"{op}({a}, {b})" if op in ("min", "max") else f"({a} {op} {b})"
    if kind == "un":
        x = tree_src(node[2])
        return f"int({x})" if node[1] == "int" else f"({node[1]}{x})"
    if kind == "bit":
        return f"{tree_src(node[1])}[{node[2]}]"
    if kind == "slice":
        return f"{tree_src(node[1])}[{node[2]}:{node[3]}]"
    if kind == "sel":
        return f"({tree_src(node[2])} if {tree_src(node[1])} else {tree_src(node[3])})"
    raise AssertionError(kind)


def tree_type(node, ptypes) -> T:
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
        return T(False, node[3] - node[2])
    if kind == "sel":
        return result_type("max", tree_type(node[2], ptypes), tree_type(node[3], ptypes))
    raise AssertionError(kind)


def valid_binops(tl: T, tr: T) -> list[str]:
    ops = ["+", "-", "*", "%", "min", "max", *CMPOPS]
    if not (tl.fixed or tr.fixed):
        ops += ["/", "//", "&", "|", "^"]
    else:
        try:
            result_type("/", tl, tr)
            ops.append("/")
        except ValueError:
            pass  # Allo's fixed-point division rule gives no valid type
    if not tr.fixed:
        ops += ["<<", ">>"]
    return ops


def draw_tree(draw, depth: int, ptypes: dict):
    if depth == 0 or draw(st.integers(0, 9)) == 0:
        if draw(st.integers(0, 5)) == 0:
            return ("lit", draw(st.sampled_from(LITERALS)))
        return ("param", draw(st.sampled_from(sorted(ptypes))))
    kind = draw(st.sampled_from(["bin"] * 6 + ["un", "sel", "bits"]))
    if kind == "un":
        x = draw_tree(draw, depth - 1, ptypes)
        ops = ["-", "int"] + ([] if tree_type(x, ptypes).fixed else ["~"])
        return ("un", draw(st.sampled_from(ops)), x)
    if kind == "bits":
        x = draw_tree(draw, depth - 1, ptypes)
        tx = tree_type(x, ptypes)
        if tx.fixed or x[0] == "lit":  # bit access is for integers (and not on literals)
            x, tx = ("un", "int", x), INT32
        lo = draw(st.integers(0, tx.width + 1))
        if draw(st.booleans()):
            return ("bit", x, lo)
        return ("slice", x, lo, draw(st.integers(lo + 1, tx.width + 2)))
    lhs = draw_tree(draw, depth - 1, ptypes)
    rhs = draw_tree(draw, depth - 1, ptypes)
    if kind == "sel":
        cond = ("bin", draw(st.sampled_from(CMPOPS)), lhs, rhs)
        return ("sel", cond, rhs, lhs) if draw(st.booleans()) else ("sel", cond, lhs, rhs)
    op = draw(st.sampled_from(valid_binops(tree_type(lhs, ptypes), tree_type(rhs, ptypes))))
    return ("bin", op, lhs, rhs)


def split(node, types: dict, stmts: list[str], budget: int = 4):
    """``node`` with every subtree below ``budget`` levels of operators assigned to a
    temporary of its exact static type first; ``stmts`` collects those declarations and
    ``types`` (parameter types) gains the temporaries' types. The value is unchanged.

    This keeps each statement small: the Amaranth datapath refers to an operand twice in every
    widening conversion (`Cat(v, Mux(v[-1], ...))`), so the netlist doubles with each nested
    widening and Amaranth's simulator compiles deep expressions slowly (see
    test_rtl_amaranth_target.py::test_datapath_size_is_linear_in_the_expression).
    """
    if node[0] in ("param", "lit"):
        return node
    if budget == 0:
        t = tree_type(node, types)
        inner = tree_src(split(node, types, stmts))
        name = f"t{len(stmts)}"
        stmts.append(f"    {name}: {tname(t)} = {inner}")
        types[name] = t
        return ("param", name)
    parts = [split(c, types, stmts, budget - 1) if isinstance(c, tuple) else c for c in node[1:]]
    return (node[0], *parts)


@st.composite
def expr_kernels(draw):
    n = draw(st.integers(2, 4))
    ptypes = {f"p{i}": draw(scalar_types) for i in range(n)}
    tree = draw_tree(draw, draw(st.integers(2, 6)), ptypes)
    rt = draw(scalar_types)
    names = sorted(ptypes)
    sig = ", ".join(f"{p}: {tname(ptypes[p])}" for p in names)
    stmts: list[str] = []
    types = dict(ptypes)
    expr = tree_src(split(tree, types, stmts))
    if draw(st.booleans()):
        stmts.append(f"    v: {tname(rt)} = {expr}")
        expr = "v"
    body = "\n".join([*stmts, f"    return {expr}"])
    src = f"def k({sig}) -> {tname(rt)}:\n{body}\n"
    raw = draw(st.tuples(*(raws(ptypes[p]) for p in names)))
    return src, [ptypes[p] for p in names], rt, raw, [*types.values(), rt]


# Target models: the generic one, and real families at clocks where the delay model registers
# long expressions, registers multiply operands and splits wide multiplies (lowering/_timing.py)
MODELS = st.sampled_from(
    [("generic", 100.0), ("ice40", 48.0), ("ice40", 90.0), ("ecp5", 100.0), ("ecp5", 250.0)]
)


@SETTINGS
@given(case=expr_kernels(), target=MODELS)
def test_random_expression_trees(case, target):
    src, ptypes, rt, raw, types = case
    s = make_schedule(src, types)
    note(f"raw arguments: {raw}, target {target}")
    want = s.build()(*(fixed_arg(r, t) if t.fixed else r for r, t in zip(raw, ptypes)))
    got, cycles = run(s, *raw, raw=True, model=target_model(*target))
    assert cycles > 0
    same_scalar(got, want, rt, f"k{raw}")


# --------------------------------------------------------------------------------------------
# 2. Random loop nests over arrays with affine indices, and if/else inside loops


@dataclass
class Loop:
    var: str
    header: str  # the `range(...)` text
    lo: int  # the smallest and largest value the variable can take
    hi: int


@dataclass
class Nest:
    """What a generated loop kernel has drawn so far."""

    arrays: dict[str, T]  # input arrays (A, B), element types
    params: dict[str, T]  # scalar parameters (n: a loop bound, p: a value)
    accs: dict[str, T]  # scalar accumulators, returned
    result: T  # element type of the returned array R
    in_place: bool  # whether the kernel writes A
    extents: dict[str, list[int]] = field(default_factory=dict)  # array -> extent per dim
    dims: dict[str, int] = field(default_factory=dict)  # array -> number of dims
    fixed_acc: set = field(default_factory=set)


NMAX = 4  # the loop-bound parameter n is drawn from 0..NMAX


def draw_loop(draw, depth: int, outer: list[Loop]) -> Loop:
    var = "ijk"[depth]
    step = draw(st.sampled_from([1, 1, 2, -1]))
    kind = draw(st.sampled_from(["const", "const", "param"] + (["outer"] * 2 if outer else [])))
    if kind == "const":  # the bound and its largest value
        bound = draw(st.integers(0, 6))
        text, bmax = str(bound), bound
    elif kind == "param":
        text, bmax = "n", NMAX
    else:  # triangular: an outer loop's variable
        o = draw(st.sampled_from(outer))
        c = draw(st.integers(0, 2))
        text, bmax = (f"{o.var} + {c}" if c else o.var), o.hi + c
    if step > 0:
        lo = draw(st.integers(-2, 2))
        header = f"range({lo}, {text}, {step})" if step != 1 else f"range({lo}, {text})"
        return Loop(var, header, lo, max(lo, bmax - 1))
    stop = draw(st.integers(-2, 1))
    return Loop(var, f"range({text}, {stop}, -1)", stop + 1, max(stop + 1, bmax))


def draw_index(draw, nest: Nest, name: str, dim: int, loops: list[Loop]) -> str:
    """An affine index ``c0 + c1*i + ...`` that stays in range; grows the array's extent."""
    terms, lo, hi = [], 0, 0
    for loop in loops:
        c = draw(st.sampled_from([0, 0, 1, 1, -1, 2]))
        if c:
            terms.append(loop.var if c == 1 else f"{c} * {loop.var}" if c > 0 else f"-{loop.var}")
            lo += min(c * loop.lo, c * loop.hi)
            hi += max(c * loop.lo, c * loop.hi)
    c0 = -lo + draw(st.integers(0, 2))
    extents = nest.extents.setdefault(name, [1] * nest.dims[name])
    extents[dim] = max(extents[dim], hi + c0 + 1)
    if not terms:
        return str(c0)
    text = terms[0]
    for t in terms[1:]:
        text += f" - {t[1:]}" if t.startswith("-") else f" + {t}"
    if c0:
        text += f" + {c0}"
    return text.replace("+ -", "- ")


def draw_access(draw, nest: Nest, name: str, loops: list[Loop]) -> str:
    idx = [draw_index(draw, nest, name, d, loops) for d in range(nest.dims[name])]
    return f"{name}[{', '.join(idx)}]"


BODY_OPS = ["+", "-", "*", "+", "-", "&", "|", "^", "<<", ">>", "/", "//", "%", "min", "max"]


def draw_expr(draw, nest: Nest, loops: list[Loop], depth: int) -> str:
    """An integer expression over loads, loop variables, parameters and accumulators."""
    if depth == 0 or draw(st.integers(0, 4)) == 0:
        kind = draw(st.sampled_from(["load", "load", "load", "var", "param", "acc", "lit"]))
        if kind == "load" or (kind == "var" and not loops):
            return draw_access(draw, nest, draw(st.sampled_from(sorted(nest.arrays))), loops)
        if kind == "var":
            return draw(st.sampled_from(loops)).var
        if kind == "param":
            return draw(st.sampled_from(sorted(nest.params)))
        if kind == "acc":
            acc = draw(st.sampled_from(sorted(nest.accs)))
            return f"int({acc})" if acc in nest.fixed_acc else acc
        return str(draw(st.sampled_from([0, 1, 2, 3, 7, 100, -5, 2**33 + 1])))
    kind = draw(st.sampled_from(["bin"] * 5 + ["un", "sel", "bit", "slice"]))
    a = draw_expr(draw, nest, loops, depth - 1)
    if kind == "un":
        op = draw(st.sampled_from(["-", "~", "int"]))
        return f"int({a})" if op == "int" else f"({op}{a})"
    if kind in ("bit", "slice"):
        if a.lstrip("-").isdigit() or "][" in a:
            a = f"int({a})"  # no bit access on literals; `A[i][2:9][1]` is not supported
        lo = draw(st.integers(0, 40))
        return f"{a}[{lo}]" if kind == "bit" else f"{a}[{lo}:{lo + draw(st.integers(1, 33))}]"
    b = draw_expr(draw, nest, loops, depth - 1)
    if kind == "sel":
        c = draw_cond(draw, nest, loops, 1, 0)
        return f"({a} if {c} else {b})"
    op = draw(st.sampled_from(BODY_OPS))
    return f"{op}({a}, {b})" if op in ("min", "max") else f"({a} {op} {b})"


def draw_cond(draw, nest: Nest, loops: list[Loop], depth: int, links: int) -> str:
    """A comparison of expressions of ``depth``, possibly joined by and / or / not."""
    a = draw_expr(draw, nest, loops, depth)
    b = draw_expr(draw, nest, loops, depth)
    cond = f"{a} {draw(st.sampled_from(CMPOPS))} {b}"
    if links and draw(st.integers(0, 3)) == 0:
        other = draw_cond(draw, nest, loops, 0, links - 1)
        cond = f"({cond}) {draw(st.sampled_from(['and', 'or']))} ({other})"
    elif draw(st.integers(0, 5)) == 0:
        cond = f"not ({cond})"
    return cond


def draw_stmts(draw, nest: Nest, loops: list[Loop], indent: str, ifs: int) -> list[str]:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        kinds = ["acc", "acc", "store", "store"] + ["if"] * ifs
        kind = draw(st.sampled_from(kinds + (["inplace"] if nest.in_place else [])))
        if kind == "acc":
            acc = draw(st.sampled_from(sorted(nest.accs)))
            e = draw_expr(draw, nest, loops, 2)
            op = draw(st.sampled_from(["+=", "-=", "^=", "= max", "=", "*="]))
            if acc in nest.fixed_acc and op in ("^=",):
                op = "+="
            if op == "= max":
                lines.append(f"{indent}{acc} = max({acc}, {e})")
            elif op == "=":
                lines.append(f"{indent}{acc} = {acc} + {e}")
            else:
                lines.append(f"{indent}{acc} {op} {e}")
        elif kind in ("store", "inplace"):
            target = draw_access(draw, nest, "R" if kind == "store" else "A", loops)
            aug = draw(st.sampled_from(["=", "=", "+="]))
            e = draw_expr(draw, nest, loops, 3 if aug == "=" else 2)
            lines.append(f"{indent}{target} {aug} {e}")
        else:
            lines.append(f"{indent}if {draw_cond(draw, nest, loops, 2, 1)}:")
            lines += draw_stmts(draw, nest, loops, indent + "    ", ifs - 1)
            if draw(st.integers(0, 2)) == 0:
                lines.append(f"{indent}elif {draw_cond(draw, nest, loops, 1, 0)}:")
                lines += draw_stmts(draw, nest, loops, indent + "    ", ifs - 1)
            if draw(st.booleans()):
                lines.append(f"{indent}else:")
                lines += draw_stmts(draw, nest, loops, indent + "    ", ifs - 1)
    return lines


def draw_nest(draw, nest: Nest, depth: int, ifs: int) -> list[str]:
    """1..depth nested loops; statements before, inside and after the inner loops."""
    lines: list[str] = []
    loops: list[Loop] = []
    indent = "    "
    closing: list[list[str]] = []
    for d in range(depth):
        loop = draw_loop(draw, d, loops)
        lines.append(f"{indent}for {loop.var} in {loop.header}:")
        loops.append(loop)
        indent += "    "
        if d < depth - 1 and draw(st.integers(0, 2)) == 0:
            lines += draw_stmts(draw, nest, loops, indent, ifs)
        # statements after the inner loop at this level, drawn now (same variables in scope)
        after = d < depth - 1 and draw(st.integers(0, 3)) == 0
        closing.append(draw_stmts(draw, nest, loops, indent, 0) if after else [])
    lines += draw_stmts(draw, nest, loops, indent, ifs)
    for after in reversed(closing[:-1]):
        lines += after
    return lines


# element types of arrays and scalar types of loop kernels
loop_int_types = st.builds(
    lambda s, w: T(s, w),
    st.booleans(),
    st.one_of(st.sampled_from([1, 8, 16, 32, 33, 63, 64, 65, 70]), st.integers(1, 70)),
)


@st.composite
def loop_kernels(draw, ifs: int):
    n_arrays = draw(st.integers(1, 2))
    arrays = {name: draw(loop_int_types) for name in "AB"[:n_arrays]}
    params = {"n": draw(st.sampled_from([T(True, 32), T(False, 8), T(True, 4)]))}
    params["p"] = draw(loop_int_types)
    accs = {"s0": draw(st.one_of(loop_int_types, fixed_types(40)))}
    if draw(st.booleans()):
        accs["s1"] = draw(loop_int_types)
    nest = Nest(arrays, params, accs, draw(loop_int_types), draw(st.booleans()))
    nest.fixed_acc = {a for a, t in accs.items() if t.fixed}
    nest.dims = {name: draw(st.integers(1, 2)) for name in arrays} | {"R": 1}
    body: list[str] = []
    for _ in range(draw(st.integers(1, 2))):  # one or two loop nests in sequence
        body += draw_nest(draw, nest, draw(st.integers(1, 3)), ifs)
    for name in [*arrays, "R"]:
        nest.extents.setdefault(name, [1] * nest.dims[name])
    shapes = {name: nest.extents[name] for name in [*arrays, "R"]}

    def decl(name, t):
        return f"{tname(t)}[{', '.join(map(str, shapes[name]))}]"

    sig = [f"{a}: {decl(a, t)}" for a, t in arrays.items()]
    sig += [f"{p}: {tname(t)}" for p, t in params.items()]
    rets = [decl("R", nest.result)] + [tname(t) for t in accs.values()]
    head = [f"def k({', '.join(sig)}) -> ({', '.join(rets)}):"]
    head += [f"    {a}: {tname(t)} = {draw(st.sampled_from([0, 1, -3]))}" for a, t in accs.items()]
    head.append(f"    R: {decl('R', nest.result)} = {draw(st.sampled_from([0, 7]))}")
    tail = [f"    return R, {', '.join(accs)}"]
    src = "\n".join(head + body + tail) + "\n"
    types = [*arrays.values(), *params.values(), *accs.values(), nest.result]
    sizes = {a: int(np.prod(shapes[a])) for a in arrays}
    data = {
        a: draw(st.lists(raws(t), min_size=sizes[a], max_size=sizes[a])) for a, t in arrays.items()
    }
    scalars = {"n": draw(st.integers(0, NMAX)), "p": draw(raws(params["p"]))}
    return src, types, nest, shapes, data, scalars


def np_array(values: list[int], t: T, shape) -> np.ndarray:
    if t.width > 64:
        dtype = object
    else:
        bits = next(b for b in (8, 16, 32, 64) if t.width <= b)
        dtype = np.dtype(f"{'' if t.signed else 'u'}int{bits}")
    out = np.empty(len(values), dtype=dtype)
    out[:] = values
    return out.reshape(shape)


def check_loop_kernel(case, target=("generic", 100.0)) -> None:
    src, types, nest, shapes, data, scalars = case
    s = make_schedule(src, types)
    args = [np_array(data[a], t, shapes[a]) for a, t in nest.arrays.items()]
    args += [scalars["n"], scalars["p"]]
    ref_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    note(f"n = {scalars['n']}, p = {scalars['p']}, target {target}")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # the arguments have the declared dtypes
        want = s.build()(*ref_args)
    got, cycles = run(s, *args, raw=True, model=target_model(*target))
    assert cycles > 0
    same_array(got[0], want[0], nest.result, "returned array R")
    for (name, t), g, w in zip(nest.accs.items(), got[1:], want[1:]):
        same_scalar(g, w, t, f"returned scalar {name}")
    for (name, t), g, w in zip(nest.arrays.items(), args, ref_args):
        same_array(g, w, t, f"array argument {name}")


@SETTINGS
@given(case=loop_kernels(ifs=0), target=MODELS)
def test_random_loop_nests(case, target):
    check_loop_kernel(case, target)


@SETTINGS
@given(case=loop_kernels(ifs=2), target=MODELS)
def test_random_if_else_in_loops(case, target):
    check_loop_kernel(case, target)
