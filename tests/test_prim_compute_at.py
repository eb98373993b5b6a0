"""``s.compute_at(producer, consumer)``: printed IR, NumPy and RTL equivalence (alone and in
chains with split, reorder and fuse), legality, and exact error messages."""

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
from allo_rtl.ir.types import int32

MARKS = Markers(__file__)
RNG = np.random.default_rng(5)


schedule_error = schedule_errors(MARKS)


def ints(*shape):
    return RNG.integers(-50, 50, size=shape, dtype=np.int32)


def kernel(A: int32[2, 3, 4]) -> int32[2, 3, 4]:
    B: int32[2, 3, 4] = 0
    for i, j, m in allo.grid(2, 3, 4):  # ERR:kernel_producer
        B[i, j, m] = A[i, j, m] * 2
    C: int32[2, 3, 4] = 0
    for ii, jj, mm in allo.grid(2, 3, 4):  # ERR:kernel_consumer
        C[ii, jj, mm] = B[ii, jj, mm] + 1
    return C


def multiband(A: int32[8, 8]) -> int32[8, 8]:
    B: int32[8, 8] = 0
    for i, j in allo.grid(8, 8, name="B"):
        B[i, j] = A[i, j] + 1
    C: int32[8, 8] = 0
    for i, j in allo.grid(8, 8, name="C"):
        C[i, j] = B[i, j] * 2
    return C


def blur(A: int32[6, 6]) -> int32[6, 6]:
    B: int32[6, 6] = 0
    for i, j in allo.grid(6, 6):
        t: int32 = A[i, j] * 2
        B[i, j] = t + 1
    C: int32[6, 6] = 0
    for ii, jj in allo.grid(6, 6):
        t2: int32 = B[ii, jj]
        if ii > 0:
            t2 += B[ii - 1, jj]
        if jj > 0:
            t2 += B[ii, jj - 1]
        C[ii, jj] = t2
    return C


def blur_ref(A):
    B = A * 2 + 1
    C = B.copy()
    C[1:, :] += B[:-1, :]
    C[:, 1:] += B[:, :-1]
    return C


def lookahead(A: int32[6, 6]) -> int32[6, 6]:
    B: int32[6, 6] = 0
    for i, j in allo.grid(6, 6):
        B[i, j] = A[i, j] * 2  # ERR:lookahead_producer
    C: int32[6, 6] = 0
    for ii, jj in allo.grid(6, 6):
        C[ii, jj] = B[ii, jj]
        if ii < 5:
            C[ii, jj] += B[ii + 1, jj]  # ERR:lookahead_consumer
    return C


def overwrite(A: int32[8]) -> int32[8]:
    B: int32[8] = 0
    for i in range(8):
        B[i] = A[i] * 2  # ERR:overwrite_producer
    for ii in range(8):
        if ii < 7:
            A[ii + 1] = B[ii]  # ERR:overwrite_consumer
    return A


def in_between(A: int32[8]) -> int32[8]:
    B: int32[8] = 0
    for i in range(8):
        B[i] = A[i] * 2  # ERR:between_producer
    B[3] = 0  # ERR:between_stmt
    for ii in range(8):
        A[ii] = B[ii]
    return A


def running_sum(A: int32[8]) -> int32[8]:
    s: int32 = 0
    for i in range(8):
        s = s + A[i]  # ERR:sum_producer
    C: int32[8] = 0
    for ii in range(8):
        C[ii] = s  # ERR:sum_consumer
    return C


def shapes(A: int32[8, 8]) -> int32[8, 8]:
    B: int32[8, 8] = 0
    for i, j in allo.grid(8, 8):  # ERR:shapes_producer
        B[i, j] = A[i, j]
    C: int32[8, 8] = 0
    for ii, jj in allo.grid(8, 4):
        C[ii, jj] = B[ii, jj]
    return C


def imperfect(A: int32[4, 4]) -> int32[4, 4]:
    B: int32[4, 4] = 0
    for i in range(4):  # ERR:imperfect_outer
        A[i, 0] = 1
        for j in range(4):
            B[i, j] = A[i, j]
    for ii, jj in allo.grid(4, 4):
        A[ii, jj] = B[ii, jj]
    return A


def guarded(A: int32[4], n: int32) -> int32[4]:
    if n > 0:
        for i in range(4):
            A[i] += 1
    for ii in range(4):  # ERR:guarded_consumer
        A[ii] *= 2
    return A


def moving_bound(A: int32[8], n: int32) -> int32[8]:
    for i in range(n):
        A[i] += 1
    n = n + 0
    for ii in range(n):  # ERR:moving_consumer
        A[ii] *= 2
    return A


# ------------------------------------------------------------------------------------------
# Printed IR


def test_ir_outermost_loop():
    s = allo.customize(kernel)
    s.compute_at("i", "ii")
    assert_ir(
        s,
        """
        def kernel(A: int32[2, 3, 4]) -> int32[2, 3, 4]:
            B: int32[2, 3, 4] = 0
            C: int32[2, 3, 4] = 0
            for ii in range(0, 2):  # S_ii_jj_mm_1.ii grid
                for j in range(0, 3):  # S_i_j_m_0.j grid
                    for m in range(0, 4):  # S_i_j_m_0.m grid
                        B[ii, j, m] = int32((A[ii, j, m] * 2))
                for jj in range(0, 3):  # S_ii_jj_mm_1.jj grid
                    for mm in range(0, 4):  # S_ii_jj_mm_1.mm grid
                        C[ii, jj, mm] = int32((B[ii, jj, mm] + 1))
            return C
        """,
    )


def test_ir_middle_loop():
    s = allo.customize(kernel)
    s.compute_at("j", "jj")
    assert_ir(
        s,
        """
        def kernel(A: int32[2, 3, 4]) -> int32[2, 3, 4]:
            B: int32[2, 3, 4] = 0
            C: int32[2, 3, 4] = 0
            for ii in range(0, 2):  # S_ii_jj_mm_1.ii grid
                for jj in range(0, 3):  # S_ii_jj_mm_1.jj grid
                    for m in range(0, 4):  # S_i_j_m_0.m grid
                        B[ii, jj, m] = int32((A[ii, jj, m] * 2))
                    for mm in range(0, 4):  # S_ii_jj_mm_1.mm grid
                        C[ii, jj, mm] = int32((B[ii, jj, mm] + 1))
            return C
        """,
    )


def test_ir_innermost_loop():
    s = allo.customize(kernel)
    s.compute_at("m", "mm")
    assert_ir(
        s,
        """
        def kernel(A: int32[2, 3, 4]) -> int32[2, 3, 4]:
            B: int32[2, 3, 4] = 0
            C: int32[2, 3, 4] = 0
            for ii in range(0, 2):  # S_ii_jj_mm_1.ii grid
                for jj in range(0, 3):  # S_ii_jj_mm_1.jj grid
                    for mm in range(0, 4):  # S_ii_jj_mm_1.mm grid
                        B[ii, jj, mm] = int32((A[ii, jj, mm] * 2))
                        C[ii, jj, mm] = int32((B[ii, jj, mm] + 1))
            return C
        """,
    )


def test_ir_named_bands_keep_their_loops_addressable():
    s = allo.customize(multiband)
    loops = s.get_loops()
    s.compute_at(loops.B.i, loops.C.i)
    assert_ir(
        s,
        """
        def multiband(A: int32[8, 8]) -> int32[8, 8]:
            B: int32[8, 8] = 0
            C: int32[8, 8] = 0
            for i in range(0, 8):  # C.i grid
                for j in range(0, 8):  # B.j grid
                    B[i, j] = int32((A[i, j] + 1))
                for j#1 in range(0, 8):  # C.j grid
                    C[i, j#1] = int32((B[i, j#1] * 2))
            return C
        """,
    )
    s.split(loops.B.j, 4)  # the handle taken before compute_at still names the moved loop
    s.pipeline(loops.C.j)
    A = ints(8, 8)
    np.testing.assert_array_equal(s.build()(A), (A + 1) * 2)


def test_ir_private_temporaries_and_earlier_neighbours():
    s = allo.customize(blur)
    s.compute_at("j", "jj")
    assert_ir(
        s,
        """
        def blur(A: int32[6, 6]) -> int32[6, 6]:
            B: int32[6, 6] = 0
            C: int32[6, 6] = 0
            for ii in range(0, 6):  # S_ii_jj_1.ii grid
                for jj in range(0, 6):  # S_ii_jj_1.jj grid
                    t: int32 = int32((A[ii, jj] * 2))
                    B[ii, jj] = int32((t + 1))
                    t2: int32 = B[ii, jj]
                    if (Int(33)(ii) > 0):
                        t2 = int32((t2 + B[(ii - 1), jj]))
                    if (Int(33)(jj) > 0):
                        t2 = int32((t2 + B[ii, (jj - 1)]))
                    C[ii, jj] = t2
            return C
        """,
    )


# ------------------------------------------------------------------------------------------
# NumPy equivalence


@pytest.mark.parametrize("loops", [("i", "ii"), ("j", "jj"), ("m", "mm")])
def test_numpy_each_depth(loops):
    s = allo.customize(kernel)
    s.compute_at(*loops)
    A = ints(2, 3, 4)
    np.testing.assert_array_equal(s.build()(A), A * 2 + 1)


@pytest.mark.parametrize(
    "chain",
    [
        lambda s: s.fuse("ii", "jj"),
        lambda s: (s.split("ii", 3), s.split("jj", 2)),
        lambda s: s.reorder("jj", "ii"),
        lambda s: (s.split("ii", 3), s.split("jj", 2), s.reorder("ii.outer", "jj.outer")),
        lambda s: (s.reorder("mm", "ii"), s.fuse("mm", "jj", "ii")),
    ],
)
def test_numpy_chains_after_compute_at(chain):
    s = allo.customize(kernel)
    s.compute_at("m", "mm")
    chain(s)
    A = ints(2, 3, 4)
    np.testing.assert_array_equal(s.build()(A), A * 2 + 1)


def test_numpy_split_then_compute_at():
    s = allo.customize(multiband)
    s.split("B.j", 3)
    s.split("C.j", 3)
    s.compute_at("B.j.inner", "C.j.inner")
    A = ints(8, 8)
    np.testing.assert_array_equal(s.build()(A), (A + 1) * 2)


@pytest.mark.parametrize("loops", [("i", "ii"), ("j", "jj")])
def test_numpy_blur(loops):
    s = allo.customize(blur)
    s.compute_at(*loops)
    A = ints(6, 6)
    np.testing.assert_array_equal(s.build()(A), blur_ref(A))


# ------------------------------------------------------------------------------------------
# RTL equivalence (Amaranth simulator)


def test_rtl_innermost():
    s = allo.customize(kernel)
    s.compute_at("m", "mm")
    A = ints(2, 3, 4)
    got, _ = run(s, A)
    np.testing.assert_array_equal(got, A * 2 + 1)


def test_rtl_blur_then_fuse():
    s = allo.customize(blur)
    s.compute_at("j", "jj")
    s.fuse("ii", "jj")
    A = ints(6, 6)
    got, _ = run(s, A)
    np.testing.assert_array_equal(got, blur_ref(A))


# ------------------------------------------------------------------------------------------
# Errors

HINT_LATER = (
    "each consumer iteration may only use what the producer computes in the same or an "
    "earlier iteration of the merged loops"
)


def test_consumer_needs_a_later_producer_iteration():
    s = allo.customize(lookahead)
    with pytest.raises(allo.ScheduleError) as info:
        s.compute_at("j", "jj")  # ERR:lookahead
    line = MARKS.line("lookahead_consumer")
    assert str(info.value) == schedule_error(
        "lookahead",
        f"cannot compute `j` at `jj`: the consumer's read of `B` at kernel line {line} would "
        "run before the producer's write of it in a later iteration of (ii, jj)",
        "lookahead_producer",
        HINT_LATER,
    )


def test_consumer_overwrites_what_a_later_producer_iteration_reads():
    s = allo.customize(overwrite)
    with pytest.raises(allo.ScheduleError) as info:
        s.compute_at("i", "ii")  # ERR:overwrite
    line = MARKS.line("overwrite_consumer")
    assert str(info.value) == schedule_error(
        "overwrite",
        f"cannot compute `i` at `ii`: the consumer's write of `A` at kernel line {line} would "
        "run before the producer's read of it in a later iteration of (ii)",
        "overwrite_producer",
        HINT_LATER,
    )


def test_statement_between_the_nests():
    s = allo.customize(in_between)
    with pytest.raises(allo.ScheduleError) as info:
        s.compute_at("i", "ii")  # ERR:between
    line = MARKS.line("between_stmt")
    assert str(info.value) == schedule_error(
        "between",
        f"cannot compute `i` at `ii`: the producer's write of `B` would move after the write "
        f"at kernel line {line}, between the two loop nests",
        "between_producer",
    )


def test_scalar_carried_across_the_producer():
    s = allo.customize(running_sum)
    with pytest.raises(allo.ScheduleError) as info:
        s.compute_at("i", "ii")  # ERR:sum
    line = MARKS.line("sum_consumer")
    assert str(info.value) == schedule_error(
        "sum",
        f"cannot compute `i` at `ii`: the consumer's read of `s` at kernel line {line} would "
        "run before the producer's write of it in a later iteration of (ii)",
        "sum_producer",
        HINT_LATER,
    )


def test_different_bounds():
    s = allo.customize(shapes)
    with pytest.raises(allo.ScheduleError) as info:
        s.compute_at("j", "jj")  # ERR:shapes
    assert str(info.value) == schedule_error(
        "shapes",
        "cannot compute `j` at `jj`: the producer loop `j` (range(0, 8)) and the consumer loop "
        "`jj` (range(0, 4)) have different bounds",
        "shapes_producer",
    )


def test_depth_mismatch():
    s = allo.customize(kernel)
    with pytest.raises(allo.ScheduleError) as info:
        s.compute_at("i", "jj")  # ERR:depth
    assert str(info.value) == schedule_error(
        "depth",
        "cannot compute `i` at `jj`: the producer loop is at depth 1 of its nest but the "
        "consumer loop at depth 2",
        hint="name the producer loop at the depth of the consumer loop",
    )


def test_same_nest():
    s = allo.customize(kernel)
    with pytest.raises(allo.ScheduleError) as info:
        s.compute_at("i", "j")  # ERR:same
    assert str(info.value) == schedule_error(
        "same", "cannot compute `i` at `j`: both loops are in the same loop nest"
    )


def test_producer_after_consumer():
    s = allo.customize(kernel)
    with pytest.raises(allo.ScheduleError) as info:
        s.compute_at("ii", "i")  # ERR:after
    assert str(info.value) == schedule_error(
        "after",
        "cannot compute `ii` at `i`: the producer's loop nest comes after the consumer's",
        "kernel_consumer",
        "the producer nest must run before the consumer nest",
    )


def test_imperfect_producer():
    s = allo.customize(imperfect)
    with pytest.raises(allo.ScheduleError) as info:
        s.compute_at("j", "jj")  # ERR:imperfect
    assert str(info.value) == schedule_error(
        "imperfect",
        "cannot compute `j` at `jj`: the producer's loops are not perfectly nested: the body of "
        "loop `i` holds other statements",
        "imperfect_outer",
    )


def test_annotated_producer_loop():
    s = allo.customize(kernel)
    s.unroll("j", 2)
    with pytest.raises(allo.ScheduleError) as info:
        s.compute_at("j", "jj")  # ERR:annotated
    assert str(info.value) == schedule_error(
        "annotated",
        "cannot compute `j` at `jj`: the producer loop `j` is annotated (unroll=2), which "
        "merging would drop",
        "kernel_producer",
        "apply compute_at first, then annotate the merged loops",
    )


def test_nests_in_different_blocks():
    s = allo.customize(guarded)
    with pytest.raises(allo.ScheduleError) as info:
        s.compute_at("i", "ii")  # ERR:blocks
    assert str(info.value) == schedule_error(
        "blocks",
        "cannot compute `i` at `ii`: the two loop nests are not in the same block",
        "guarded_consumer",
    )


def test_bounds_changed_between_the_nests():
    s = allo.customize(moving_bound)
    with pytest.raises(allo.ScheduleError) as info:
        s.compute_at("i", "ii")  # ERR:moving
    assert str(info.value) == schedule_error(
        "moving",
        "cannot compute `i` at `ii`: the bounds of loop `ii` read values the loop nests change",
        "moving_consumer",
    )


# ------------------------------------------------------------------------------------------
# Exactness against brute force (hypothesis)

_counter = itertools.count()


@st.composite
def producer_consumer(draw):
    """Two grid nests over the same space, each one statement with random affine indices into
    arrays X and Y, and the depth to compute the first at the second."""
    depth = draw(st.integers(1, 3))
    extents = draw(st.lists(st.integers(1, 4), min_size=depth, max_size=depth))
    rank = draw(st.integers(1, 2))
    coeff = st.sampled_from([0, 0, 1, 1, -1, 2])
    index = st.tuples(st.lists(coeff, min_size=depth, max_size=depth), st.integers(0, 2))
    access = st.tuples(st.sampled_from("XXY"), st.lists(index, min_size=rank, max_size=rank))
    stmt = st.tuples(access, st.lists(access, min_size=1, max_size=2))
    return extents, draw(stmt), draw(stmt), draw(st.integers(1, depth))


def _cells(stmt, point):
    """(array, cell, write) of each access of ``stmt`` at ``point``, reads first."""
    (wname, wdims), reads = stmt
    for name, dims, write in [*((r, d, False) for r, d in reads), (wname, wdims, True)]:
        yield name, tuple(c0 + sum(c * x for c, x in zip(cs, point)) for cs, c0 in dims), write


def _pc_layout(extents, stmts):
    points = list(itertools.product(*map(range, extents)))
    cells = [c for s in stmts for p in points for c in _cells(s, p)]
    rank = len(cells[0][1])
    shift = {n: [0] * rank for n in "XY"}
    top = {n: [0] * rank for n in "XY"}
    for name, cell, _ in cells:
        shift[name] = [max(s, -v) for s, v in zip(shift[name], cell)]
    for name, cell, _ in cells:
        top[name] = [max(t, v + s) for t, v, s in zip(top[name], cell, shift[name])]
    return shift, {n: [t + 1 for t in top[n]] for n in "XY"}, points


def _pc_source(extents, stmts, shift, shape) -> str:
    lines = [f"def k(X: int32[{shape['X']}], Y: int32[{shape['Y']}]):"]
    for prefix, ((wname, wdims), reads) in zip("ij", stmts):
        names = [f"{prefix}{d}" for d in range(len(extents))]

        def ref(name, dims, names=names):
            parts = []
            for d, (cs, c0) in enumerate(dims):
                terms = [f"{c} * {v}" for c, v in zip(cs, names) if c]
                parts.append(" + ".join([*terms, str(c0 + shift[name][d])]))
            return f"{name}[{', '.join(parts)}]"

        value = " + ".join(ref(r, d) for r, d in reads)
        lines.append(f"    for {', '.join(names)} in allo.grid({', '.join(map(str, extents))}):")
        lines.append(f"        {ref(wname, wdims)} = {value} + 1")
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(producer_consumer())
def test_legality_is_exact(case):
    """compute_at is refused exactly when some consumer access would run before a conflicting
    producer access (brute force), and an accepted one computes the same result."""
    extents, p_stmt, c_stmt, depth = case
    shift, extents_of, points = _pc_layout(extents, [p_stmt, c_stmt])
    shape = {n: ", ".join(map(str, extents_of[n])) for n in "XY"}
    src = _pc_source(extents, [p_stmt, c_stmt], shift, shape)
    note(f"kernel source:\n{src}\ndepth {depth}")
    filename = f"<prim-compute-at-kernel-{next(_counter)}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    env = {"allo": allo, "int32": int32}
    exec(compile(src, filename, "exec"), env)
    legal = not any(
        p[:depth] > c[:depth] and pa[:2] == ca[:2] and (pa[2] or ca[2])
        for p in points
        for c in points
        for pa in _cells(p_stmt, p)
        for ca in _cells(c_stmt, c)
    )
    s = allo.customize(env["k"])
    try:
        s.compute_at(f"i{depth - 1}", f"j{depth - 1}")
    except allo.ScheduleError:
        assert not legal
        return
    assert legal
    X = RNG.integers(-9, 9, size=extents_of["X"], dtype=np.int32)
    Y = RNG.integers(-9, 9, size=extents_of["Y"], dtype=np.int32)
    want, got = [X.copy(), Y.copy()], [X.copy(), Y.copy()]
    allo.customize(env["k"]).build()(*want)
    s.build()(*got)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
