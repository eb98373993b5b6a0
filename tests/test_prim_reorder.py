"""``s.reorder(*loops)``: printed IR, the exact dependence test (against brute force on random
affine loop nests), NumPy and RTL equivalence, random chains of loop primitives, and exact error
messages."""

from __future__ import annotations

import itertools
import linecache

import numpy as np
import pytest
from amaranth_harness import run
from errhelp import Markers
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from primhelp import assert_ir, schedule_errors

import allo_rtl as allo
from allo_rtl.ir import For, walk
from allo_rtl.ir.types import int32

MARKS = Markers(__file__)
RNG = np.random.default_rng(11)
M = 4


schedule_error = schedule_errors(MARKS)


def ints(*shape):
    return RNG.integers(-50, 50, size=shape, dtype=np.int32)


def gemm(A: int32[4, 4], B: int32[4, 4]) -> int32[4, 4]:
    C: int32[4, 4] = 0
    for i, j in allo.grid(4, 4, name="C"):
        for k in allo.reduction(4):
            C[i, j] += A[i, k] * B[k, j]
    return C


def add4d(A: int32[2, 3, 4, 5]) -> int32[2, 3, 4, 5]:
    B: int32[2, 3, 4, 5] = 0
    for i, j, k, l in allo.grid(2, 3, 4, 5):  # noqa: E741 - Allo's example
        B[i, j, k, l] = A[i, j, k, l] + 1
    return B


def skew(A: int32[8, 8]) -> int32[8, 8]:
    for i, j in allo.grid(7, 7):
        A[i + 1, j] = A[i, j + 1] + 1  # ERR:skew_body
    return A


def diagonal(A: int32[8, 8]) -> int32[8, 8]:
    for i, j in allo.grid(7, 7):
        A[i + 1, j + 1] = A[i, j] * 2
    return A


def parity(A: int32[20]) -> int32[20]:
    for i, j in allo.grid(4, 4):
        A[2 * j] = A[4 * i + 2 * j + 1] + i
    return A


def far_apart(A: int32[4, 16]) -> int32[4, 16]:
    for i, j in allo.grid(4, 8):
        A[i, j] = A[(i + 1) % 4, j + 8] - A[i, j]
    return A


def total(A: int32[4, 4]) -> int32:
    s: int32 = 0
    for i, j in allo.grid(4, 4):
        s = s * 3 + A[i, j]  # ERR:total_body
    return s


def temp(A: int32[4, 4]) -> int32[4, 4]:
    B: int32[4, 4] = 0
    for i, j in allo.grid(4, 4):
        t: int32 = A[i, j] * 2
        B[i, j] = t + 1
    return B


def temp_used_after(A: int32[4, 4]) -> int32[4, 4]:
    B: int32[4, 4] = 0
    t: int32 = 0
    for i, j in allo.grid(4, 4):
        t = A[i, j] * 2  # ERR:temp_after_body
        B[i, j] = t + 1
    B[0, 0] = t
    return B


def triangle(A: int32[6, 6]) -> int32[6, 6]:
    for i in range(6):
        for j in range(i):  # ERR:triangle_inner
            A[i, j] += 1
    return A


def imperfect(A: int32[4, 4]) -> int32[4]:
    B: int32[4] = 0
    for x in range(4):  # ERR:imperfect_outer
        v: int32 = 0
        for r in range(4):
            v += A[x, r]
        B[x] = v
    return B


def two_nests(A: int32[4, 4]) -> int32[4, 4]:
    for i in range(4):
        for j in range(4):
            A[i, j] += 1
    for ii in range(4):
        A[ii, 0] += 1
    return A


def prefix_rows(A: int32[8, 8], n: int32, m: int32) -> int32[8, 8]:
    for i in range(n):
        for j in range(1, m):
            A[i, j] = A[i, j - 1] + A[i, j]
    return A


def skew_dynamic(A: int32[8, 8], n: int32, m: int32) -> int32[8, 8]:
    for i in range(1, n):
        for j in range(m):
            A[i, j] = A[i - 1, j + 1] + A[i, j]  # ERR:skew_dynamic_body
    return A


def guarded(A: int32[8, 8]) -> int32[8, 8]:
    for i, j in allo.grid(8, 8):
        if i + j < 7:
            A[i + 1, j] = A[i, j + 1] + 1
    return A


# ------------------------------------------------------------------------------------------
# Printed IR and Allo's positions


def test_ir_gemm_ikj():
    s = allo.customize(gemm)
    s.reorder("k", "j")
    assert_ir(
        s,
        """
        def gemm(A: int32[4, 4], B: int32[4, 4]) -> int32[4, 4]:
            C: int32[4, 4] = 0
            for i in range(0, 4):  # C.i grid
                for k in range(0, 4):  # C.k reduction
                    for j in range(0, 4):  # C.j grid
                        C[i, j] = int32((C[i, j] + (A[i, k] * B[k, j])))
            return C
        """,
    )


def test_ir_loops_not_named_keep_their_positions():
    s = allo.customize(add4d)
    s.reorder("l", "i")
    assert_ir(
        s,
        """
        def add4d(A: int32[2, 3, 4, 5]) -> int32[2, 3, 4, 5]:
            B: int32[2, 3, 4, 5] = 0
            for l in range(0, 5):  # S_i_j_k_l_0.l grid
                for j in range(0, 3):  # S_i_j_k_l_0.j grid
                    for k in range(0, 4):  # S_i_j_k_l_0.k grid
                        for i in range(0, 2):  # S_i_j_k_l_0.i grid
                            B[i, j, k, l] = int32((A[i, j, k, l] + 1))
            return B
        """,
    )


def test_ir_after_split():
    s = allo.customize(gemm)
    s.split("i", 3)
    s.reorder("j", "i.inner")
    assert_ir(
        s,
        """
        def gemm(A: int32[4, 4], B: int32[4, 4]) -> int32[4, 4]:
            C: int32[4, 4] = 0
            for i.outer in range(0, 2):  # C.i.outer grid
                for j in range(0, 4):  # C.j grid
                    for i.inner in range(0, 3):  # C.i.inner grid
                        for k in range(0, 4):  # C.k reduction
                            if (((i.outer * 3) + i.inner) < 4):
                                C[((i.outer * 3) + i.inner), j] = int32((C[((i.outer * 3) + i.inner), j] + (A[((i.outer * 3) + i.inner), k] * B[k, j])))
            return C
        """,
    )


def test_same_order_is_a_no_op():
    s = allo.customize(gemm)
    before = s.module
    s.reorder("i", "k")
    assert s.module is before


def test_annotations_move_with_their_loops():
    s = allo.customize(gemm)
    s.pipeline("k")
    s.reorder("k", "i")
    fn = s.module.top_func
    order = [(n.name, dict(n.attrs)) for n in walk(fn) if isinstance(n, For)]
    assert order == [("k", {"pipeline": 1}), ("j", {}), ("i", {})]


# ------------------------------------------------------------------------------------------
# NumPy equivalence


@pytest.mark.parametrize("perm", list(itertools.permutations("ijk")))
def test_numpy_gemm_every_order(perm):
    s = allo.customize(gemm)
    s.reorder(*perm)
    A, B = ints(M, M), ints(M, M)
    np.testing.assert_array_equal(s.build()(A, B), A @ B)


@pytest.mark.parametrize("kernel", [diagonal, parity, far_apart, temp])
def test_numpy_legal_reorders(kernel):
    """Dependences that a reorder keeps, or that an exact test proves absent."""
    s = allo.customize(kernel)
    s.reorder("j", "i")
    shapes = {diagonal: (8, 8), parity: (20,), far_apart: (4, 16), temp: (4, 4)}
    A = ints(*shapes[kernel])
    want = allo.customize(kernel).build()(A.copy())
    np.testing.assert_array_equal(s.build()(A.copy()), want)


def test_numpy_temporary_under_a_split_guard():
    s = allo.customize(temp)
    s.split("i", 3)
    s.reorder("j", "i.inner")
    A = ints(4, 4)
    np.testing.assert_array_equal(s.build()(A), A * 2 + 1)


@pytest.mark.parametrize("n, m", [(0, 0), (3, 8), (8, 5), (8, 8)])
def test_numpy_non_constant_bounds(n, m):
    s = allo.customize(prefix_rows)
    s.reorder("j", "i")
    A = ints(8, 8)
    want = allo.customize(prefix_rows).build()(A.copy(), n, m)
    np.testing.assert_array_equal(s.build()(A.copy(), n, m), want)


def test_numpy_tiled_gemm():
    s = allo.customize(gemm)
    s.split("i", 3)
    s.split("j", 2)
    s.reorder("i.outer", "j.outer", "k", "i.inner", "j.inner")
    A, B = ints(M, M), ints(M, M)
    np.testing.assert_array_equal(s.build()(A, B), A @ B)


# ------------------------------------------------------------------------------------------
# RTL equivalence (Amaranth simulator)


def test_rtl_gemm_kji():
    s = allo.customize(gemm)
    s.reorder("k", "j", "i")
    A, B = ints(M, M), ints(M, M)
    got, _ = run(s, A, B)
    np.testing.assert_array_equal(got, A @ B)


def test_rtl_diagonal_after_split():
    s = allo.customize(diagonal)
    s.split("j", 3)
    s.reorder("j.outer", "i", "j.inner")
    A = ints(8, 8)
    want = allo.customize(diagonal).build()(A.copy())
    got, _ = run(s, A.copy())
    np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------------------------------------
# Errors


def test_reversed_dependence():
    s = allo.customize(skew)
    with pytest.raises(allo.ScheduleError) as info:
        s.reorder("j", "i")  # ERR:skew
    line = MARKS.line("skew_body")
    assert str(info.value) == schedule_error(
        "skew",
        f"cannot reorder loops (i, j) into (j, i): the read of `A` at kernel line {line} "
        "depends on the write in an earlier iteration (direction (<, >) over (i, j)), which "
        "the new order would run later",
        "skew_body",
    )


def test_reversed_dependence_with_non_constant_bounds():
    s = allo.customize(skew_dynamic)
    with pytest.raises(allo.ScheduleError) as info:
        s.reorder("j", "i")  # ERR:skew_dynamic
    line = MARKS.line("skew_dynamic_body")
    assert str(info.value) == schedule_error(
        "skew_dynamic",
        f"cannot reorder loops (i, j) into (j, i): the read of `A` at kernel line {line} "
        "depends on the write in an earlier iteration (direction (<, >) over (i, j)), which "
        "the new order would run later",
        "skew_dynamic_body",
    )


def test_guard_is_not_enough_to_remove_the_dependence():
    s = allo.customize(guarded)
    with pytest.raises(allo.ScheduleError):
        s.reorder("j", "i")


def test_scalar_accumulator():
    s = allo.customize(total)
    with pytest.raises(allo.ScheduleError) as info:
        s.reorder("j", "i")  # ERR:total
    line = MARKS.line("total_body")
    assert str(info.value) == schedule_error(
        "total",
        f"cannot reorder loops (i, j) into (j, i): the read of scalar `s` at kernel line {line} "
        "depends on the write in an earlier iteration (direction (<, >) over (i, j)), which "
        "the new order would run later",
        "total_body",
    )


def test_temporary_read_after_the_nest():
    s = allo.customize(temp_used_after)
    with pytest.raises(allo.ScheduleError) as info:
        s.reorder("j", "i")  # ERR:temp_after
    line = MARKS.line("temp_after_body")
    assert str(info.value) == schedule_error(
        "temp_after",
        f"cannot reorder loops (i, j) into (j, i): the read of scalar `t` at kernel line "
        f"{line + 1} depends on the write in an earlier iteration (direction (<, >) over "
        "(i, j)), which the new order would run later",
        "temp_after_body",
    )


def test_one_loop():
    s = allo.customize(gemm)
    with pytest.raises(allo.ScheduleError) as info:
        s.reorder("i")  # ERR:one
    assert str(info.value) == schedule_error("one", "reorder needs at least two loops, got 1")


def test_loop_named_twice():
    s = allo.customize(gemm)
    with pytest.raises(allo.ScheduleError) as info:
        s.reorder("j", "j")  # ERR:twice
    assert str(info.value) == schedule_error("twice", "cannot reorder: loop `j` is named twice")


def test_bounds_depend_on_a_moved_loop():
    s = allo.customize(triangle)
    with pytest.raises(allo.ScheduleError) as info:
        s.reorder("j", "i")  # ERR:triangle
    assert str(info.value) == schedule_error(
        "triangle",
        "cannot reorder: the bounds of loop `j` depend on loop `i`, which would no longer "
        "enclose it",
        "triangle_inner",
    )


def test_imperfect_nest():
    s = allo.customize(imperfect)
    with pytest.raises(allo.ScheduleError) as info:
        s.reorder("r", "x")  # ERR:imperfect
    assert str(info.value) == schedule_error(
        "imperfect",
        "cannot reorder: loop `r` is not perfectly nested in loop `x`, whose body holds other "
        "statements",
        "imperfect_outer",
        "reorder loops whose bodies hold nothing but the next loop",
    )


def test_different_nests():
    s = allo.customize(two_nests)
    with pytest.raises(allo.ScheduleError) as info:
        s.reorder("ii", "i")  # ERR:nests
    assert str(info.value) == schedule_error(
        "nests", "cannot reorder: loops `ii` and `i` are not in one loop nest"
    )


# ------------------------------------------------------------------------------------------
# Random kernels (hypothesis)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_counter = itertools.count()


def make_kernel(src: str):
    """The kernel ``k`` defined by ``src`` (kept in linecache for error locations)."""
    note(f"kernel source:\n{src}")
    filename = f"<prim-reorder-kernel-{next(_counter)}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    env = {"allo": allo, "int32": int32}
    exec(compile(src, filename, "exec"), env)
    return env["k"]


@st.composite
def affine_nests(draw):
    """A loop nest (2-3 loops, small constant ranges, steps 1, 2 or -1) whose body updates two
    arrays with random affine indices, maybe under an affine guard; and a loop permutation."""
    depth = draw(st.integers(2, 3))
    loops = []
    for d in range(depth):
        lo, trips = draw(st.integers(-1, 2)), draw(st.integers(1, 4))
        step = draw(st.sampled_from([1, 2, -1]))
        loops.append((f"i{d}", lo, lo + trips * step, step))
    coeff = st.sampled_from([0, 0, 1, 1, -1, 2, -2])
    index = st.tuples(st.lists(coeff, min_size=depth, max_size=depth), st.integers(0, 3))
    rank = draw(st.integers(1, 2))
    access = st.tuples(st.sampled_from("XXXY"), st.lists(index, min_size=rank, max_size=rank))
    statement = st.tuples(access, st.lists(access, min_size=1, max_size=2))
    stmts = draw(st.lists(statement, min_size=1, max_size=2))
    guard = draw(st.none() | st.tuples(st.lists(coeff, min_size=depth, max_size=depth), coeff))
    perm = draw(st.permutations(range(depth)).filter(lambda p: list(p) != sorted(p)))
    return loops, stmts, guard, perm


def _iterations(loops):
    ranges = [range(lo, hi, step) for _, lo, hi, step in loops]
    return list(itertools.product(*ranges))


def _kernel_source(loops, stmts, guard, shift, extents) -> str:
    def idx(name, dims):
        parts = []
        for d, (coeffs, const) in enumerate(dims):
            terms = [f"{c} * {v}" for c, (v, *_) in zip(coeffs, loops) if c]
            parts.append(" + ".join([*terms, str(const + shift[name][d])]))
        return f"{name}[{', '.join(parts)}]"

    shape = {n: ", ".join(map(str, extents[n])) for n in "XY"}
    lines = [f"def k(X: int32[{shape['X']}], Y: int32[{shape['Y']}]):"]
    for d, (v, lo, hi, step) in enumerate(loops):
        lines.append("    " * (d + 1) + f"for {v} in range({lo}, {hi}, {step}):")
    pad = "    " * (len(loops) + 1)
    if guard is not None:
        terms = " + ".join(f"{c} * {v}" for c, (v, *_) in zip(guard[0], loops))
        lines.append(f"{pad}if {terms} < {guard[1]}:")
        pad += "    "
    for (wname, wdims), reads in stmts:
        value = " + ".join(idx(r, dims) for r, dims in reads)
        lines.append(f"{pad}{idx(wname, wdims)} = {value} + 1")
    return "\n".join(lines) + "\n"


def _layout(loops, stmts):
    """Index shifts that make every index non-negative, and the array extents."""
    points = _iterations(loops)
    rank = len(stmts[0][0][1])
    lo = {n: [0] * rank for n in "XY"}
    hi = {n: [0] * rank for n in "XY"}
    for (wname, wdims), reads in stmts:
        for name, dims in [(wname, wdims), *reads]:
            for d, (coeffs, const) in enumerate(dims):
                values = [const + sum(c * x for c, x in zip(coeffs, p)) for p in points]
                lo[name][d] = min(lo[name][d], *values)
                hi[name][d] = max(hi[name][d], *values)
    shift = {n: [-v for v in lo[n]] for n in "XY"}
    extents = {n: [hi[n][d] + shift[n][d] + 1 for d in range(rank)] for n in "XY"}
    return shift, extents


def _brute_force_legal(loops, stmts, guard, perm) -> bool:
    """Whether no two iterations that touch one element (one writing) swap their order."""
    events = []
    for n, point in enumerate(_iterations(loops)):
        if guard is not None and not sum(c * x for c, x in zip(guard[0], point)) < guard[1]:
            continue
        for (wname, wdims), reads in stmts:
            for name, dims, write in [*((r, d, False) for r, d in reads), (wname, wdims, True)]:
                cell = tuple(c0 + sum(c * x for c, x in zip(cs, point)) for cs, c0 in dims)
                counters = tuple((x - lo) // step for x, (_, lo, _, step) in zip(point, loops))
                events.append((n, counters, name, cell, write))
    for a, b in itertools.combinations(events, 2):
        if a[0] != b[0] and a[2:4] == b[2:4] and (a[4] or b[4]):
            if [a[1][p] for p in perm] > [b[1][p] for p in perm]:
                return False
    return True


@SETTINGS
@given(affine_nests())
def test_dependence_test_is_exact(case):
    """reorder accepts exactly the permutations that reverse no dependence (brute force), and
    an accepted one computes the same result."""
    loops, stmts, guard, perm = case
    shift, extents = _layout(loops, stmts)
    kernel = make_kernel(_kernel_source(loops, stmts, guard, shift, extents))
    legal = _brute_force_legal(loops, stmts, guard, perm)
    note(f"permutation {perm}, legal: {legal}")
    s = allo.customize(kernel)
    try:
        s.reorder(*(loops[p][0] for p in perm))
    except allo.ScheduleError:
        assert not legal
        return
    assert legal
    X = RNG.integers(-9, 9, size=extents["X"], dtype=np.int32)
    Y = RNG.integers(-9, 9, size=extents["Y"], dtype=np.int32)
    want = [X.copy(), Y.copy()]
    allo.customize(kernel).build()(*want)
    got = [X.copy(), Y.copy()]
    s.build()(*got)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


@st.composite
def chains(draw):
    """A random kernel of two grid nests (a producer and a consumer of ``B``) and a random
    chain of split, reorder, fuse and compute_at steps."""
    depth = draw(st.integers(2, 3))
    extents = draw(st.lists(st.integers(1, 5), min_size=depth, max_size=depth))
    bodies = draw(st.sampled_from(sorted(_PRODUCERS))), draw(st.sampled_from(sorted(_CONSUMERS)))
    kinds = st.sampled_from(["split", "reorder", "fuse", "compute_at"])
    steps = draw(st.lists(st.tuples(kinds, st.randoms()), min_size=1, max_size=5))
    return extents, bodies, steps


_PRODUCERS = {
    "map": "B[{x}] = A[{x}] * 3 + {v0}",
    "accumulate": "B[{x}] = B[{x}] + A[{x}] - {v1}",
    "reduce": "B[{v0}, {zeros}] += A[{x}] * ({v1} + 1)",
}
_CONSUMERS = {
    "same": "C[{x}] = B[{x}] - {v0}",
    "earlier": "C[{x}] = B[{x}]\n        if {v0} > 0:\n            C[{x}] += B[{v0} - 1, {rest}]",
    "later": "if {v0} < {e0} - 1:\n            C[{x}] = B[{v0} + 1, {rest}] * {v1}",
    "reduce": "C[{v0}, {zeros}] += B[{x}]",
}


def _chain_kernel(extents, bodies):
    shape = ", ".join(map(str, extents))
    nests = []
    for prefix, body in zip("ij", (_PRODUCERS[bodies[0]], _CONSUMERS[bodies[1]])):
        names = [f"{prefix}{d}" for d in range(len(extents))]
        text = body.format(
            x=", ".join(names),
            v0=names[0],
            v1=names[-1],
            rest=", ".join(names[1:]),
            zeros=", ".join(["0"] * (len(names) - 1)),
            e0=extents[0],
        )
        nests.append(f"    for {', '.join(names)} in allo.grid({shape}):\n        {text}\n")
    return (
        f"def k(A: int32[{shape}]) -> int32[{shape}]:\n"
        f"    B: int32[{shape}] = 1\n{nests[0]}"
        f"    C: int32[{shape}] = 0\n{nests[1]}"
        "    return C\n"
    )


def _top_chains(s: allo.Schedule) -> list[list[str]]:
    """For each loop nest of the kernel, the names of its perfectly nested outer loops."""
    chains = []
    for root in (x for x in s.module.top_func.body if isinstance(x, For)):
        names = [root.name]
        while len(root.body) == 1 and isinstance(root.body[0], For):
            root = root.body[0]
            names.append(root.name)
        chains.append(names)
    return chains


def _apply(s: allo.Schedule, step: str, rnd) -> None:
    nests = _top_chains(s)
    chain = rnd.choice(nests)
    if step == "split":
        s.split(rnd.choice(chain), rnd.randint(1, 4))
    elif step == "reorder" and len(chain) > 1:
        s.reorder(*rnd.sample(chain, len(chain)))
    elif step == "fuse" and len(chain) > 1:
        n = rnd.randrange(len(chain) - 1)
        s.fuse(chain[n], chain[n + 1])
    elif step == "compute_at" and len(nests) == 2:
        depth = rnd.randint(1, min(map(len, nests)))
        s.compute_at(nests[0][depth - 1], nests[1][depth - 1])


@SETTINGS
@given(chains())
def test_random_chains_keep_the_result(case):
    extents, bodies, steps = case
    kernel = make_kernel(_chain_kernel(extents, bodies))
    s = allo.customize(kernel)
    for step, rnd in steps:
        try:
            _apply(s, step, rnd)
        except allo.ScheduleError as e:
            note(f"{step} refused: {e.message}")
    note(str(s))
    A = RNG.integers(-9, 9, size=extents, dtype=np.int32)
    want = allo.customize(kernel).build()(A)
    np.testing.assert_array_equal(s.build()(A), want)
