"""Dataflow regions (``allo_rtl.dataflow``) on the NumPy target: results checked against NumPy
computed independently of the code under test, FIFO high-water marks, deadlock reports and
hierarchical regions.

The scheduler of the NumPy target (allo_rtl/reference/_dataflow.py) resumes the kernel instances
in the order of the region, each until it blocks on a stream or returns; the high-water marks
asserted here follow from that order.
"""

# Streams are declared in a region (`s: Stream[int32, 4]`) and used by the kernels nested in it;
# an annotation without a value binds no name for pyflakes, so it reports every use as undefined.
# ruff: noqa: F821

import importlib.util
import sys
import textwrap
import warnings

import numpy as np
import pytest
from errhelp import Markers

import allo_rtl as allo
import allo_rtl.dataflow as df
from allo_rtl.ir.types import Stream, float32, int8, int32

FILE = __file__
_MARKS = Markers(FILE)

DEADLOCK_HINT = (
    "make the full streams deeper (`Stream[T, depth]`) or change the order of puts and gets"
)


def run(region, *args, target="numpy"):
    """Build ``region`` and call it once, with dtype-conversion warnings as errors."""
    mod = df.build(region, target=target)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        mod(*args)
    return mod


def rand_int32(rng, shape, lo=-1000, hi=1000):
    return rng.integers(lo, hi, shape).astype(np.int32)


def wrap_int8(x):
    """Two's-complement wrap of Python ints to int8, computed independently."""
    return ((np.asarray(x, dtype=np.int64) + 128) % 256 - 128).astype(np.int64)


# ------------------------------------------------------------------------------------------
# Producer / consumer

M, N = 16, 16


@df.region()
def pc(A: int32[M, N], B: int32[M, N]):
    pipe: Stream[int32, 4]

    @df.kernel(mapping=[1], args=[A])
    def producer(local_A: int32[M, N]):
        for i, j in allo.grid(M, N):
            out: int32 = local_A[i, j]
            pipe.put(out)

    @df.kernel(mapping=[1], args=[B])
    def consumer(local_B: int32[M, N]):
        for i, j in allo.grid(M, N):
            data = pipe.get()
            local_B[i, j] = data + 1


def test_producer_consumer():
    rng = np.random.default_rng(1)
    A = rand_int32(rng, (M, N))
    B = np.zeros((M, N), np.int32)
    mod = run(pc, A, B)
    np.testing.assert_array_equal(B, A.astype(np.int64) + 1)
    assert B.dtype == np.int32
    np.testing.assert_array_equal(A, rand_int32(np.random.default_rng(1), (M, N)))  # A unchanged
    assert mod.fifo_stats.high_water == {"pc.pipe": 4}


def test_simulator_is_an_alias_of_the_numpy_target():
    rng = np.random.default_rng(2)
    A = rand_int32(rng, (M, N))
    B = np.zeros((M, N), np.int32)
    run(pc, A, B, target="simulator")
    np.testing.assert_array_equal(B, A + 1)


def test_built_module_called_twice_with_different_data():
    mod = df.build(pc)
    rng = np.random.default_rng(3)
    for _ in range(2):
        A = rand_int32(rng, (M, N))
        B = np.full((M, N), 77, np.int32)
        mod(A, B)
        np.testing.assert_array_equal(B, A + 1)
    assert mod.fifo_stats.high_water == {"pc.pipe": 4}


@df.region()
def pc_double(A: int32[M, N], B: int32[M, N]):
    pipe: Stream[int32, 4]

    @df.kernel(mapping=[1], args=[A])
    def producer(local_A: int32[M, N]):
        for i, j in allo.grid(M, N):
            pipe.put(local_A[i, j])
            pipe.put(local_A[i, j] + 1)

    @df.kernel(mapping=[1], args=[B])
    def consumer(local_B: int32[M, N]):
        for i, j in allo.grid(M, N):
            first = pipe.get()
            second = pipe.get()
            local_B[i, j] = first * 3 + second


def test_double_put_double_get_keeps_order():
    rng = np.random.default_rng(4)
    A = rand_int32(rng, (M, N))
    B = np.zeros((M, N), np.int32)
    run(pc_double, A, B)
    a = A.astype(np.int64)
    np.testing.assert_array_equal(B, 3 * a + (a + 1))  # swapped order would give 3a + 3


@df.region()
def two_gets_in_one_expr(A: int32[8], B: int32[4]):
    s: Stream[int32, 2]

    @df.kernel(mapping=[1], args=[A])
    def producer(a: int32[8]):
        for i in range(8):
            s.put(a[i])

    @df.kernel(mapping=[1], args=[B])
    def consumer(b: int32[4]):
        for i in range(4):
            b[i] = s.get() - 2 * s.get()


def test_two_gets_in_one_expression_evaluate_left_to_right():
    A = np.array([10, 3, 5, 20, -1, -7, 100, 1], np.int32)
    B = np.zeros(4, np.int32)
    run(two_gets_in_one_expr, A, B)
    np.testing.assert_array_equal(B, A[0::2] - 2 * A[1::2])


@df.region()
def chain3(A: int32[M, N], B: int32[M, N]):
    s1: Stream[int32, 2]
    s2: Stream[int32, 3]

    @df.kernel(mapping=[1], args=[A])
    def load(local_A: int32[M, N]):
        for i, j in allo.grid(M, N):
            s1.put(local_A[i, j])

    @df.kernel(mapping=[1])
    def scale():
        for _i, j in allo.grid(M, N):
            s2.put(s1.get() * 2 - j)

    @df.kernel(mapping=[1], args=[B])
    def store(local_B: int32[M, N]):
        for i, j in allo.grid(M, N):
            local_B[i, j] = s2.get() + i * 100


def test_chain_of_three_kernels():
    rng = np.random.default_rng(5)
    A = rand_int32(rng, (M, N))
    B = np.zeros((M, N), np.int32)
    mod = run(chain3, A, B)
    ii, jj = np.indices((M, N))
    np.testing.assert_array_equal(B, A.astype(np.int64) * 2 - jj + ii * 100)
    # each round `load` refills s1 (2 values), `scale` moves those 2 into s2 and `store` drains
    # it: s2 never holds more than s1 delivered in one round, below its depth of 3
    assert mod.fifo_stats.high_water == {"chain3.s1": 2, "chain3.s2": 2}


@df.region()
def narrowing(A: int32[8], B: int32[8]):
    s: Stream[int8, 2]

    @df.kernel(mapping=[1], args=[A])
    def producer(a: int32[8]):
        for i in range(8):
            s.put(a[i])

    @df.kernel(mapping=[1], args=[B])
    def consumer(b: int32[8]):
        for i in range(8):
            b[i] = s.get()


def test_put_converts_to_the_stream_element_type():
    A = np.array([300, -200, 127, 128, -129, 0, 255, -1], np.int32)
    B = np.zeros(8, np.int32)
    run(narrowing, A, B)
    np.testing.assert_array_equal(B, wrap_int8(A.tolist()))


@df.region()
def with_scalar(k: int32, A: int32[8], B: int32[8]):
    s: Stream[int32, 2]

    @df.kernel(mapping=[1], args=[k, A])
    def producer(factor: int32, a: int32[8]):
        for i in range(8):
            s.put(a[i] * factor)

    @df.kernel(mapping=[1], args=[B, k])
    def consumer(b: int32[8], offset: int32):
        for i in range(8):
            b[i] = s.get() + offset


def test_scalar_region_arguments():
    rng = np.random.default_rng(6)
    A = rand_int32(rng, 8)
    B = np.zeros(8, np.int32)
    mod = run(with_scalar, -3, A, B)
    np.testing.assert_array_equal(B, A.astype(np.int64) * -3 - 3)
    mod(5, A, B)
    np.testing.assert_array_equal(B, A.astype(np.int64) * 5 + 5)


@df.region()
def float_stream(A: float32[8], B: float32[8]):
    s: Stream[float32, 2]

    @df.kernel(mapping=[1], args=[A])
    def producer(a: float32[8]):
        for i in range(8):
            s.put(a[i] * 0.5)

    @df.kernel(mapping=[1], args=[B])
    def consumer(b: float32[8]):
        for i in range(8):
            b[i] = s.get() + 1.0


def test_float32_stream():
    A = np.array([1, -2, 3.5, 0, 1e6, -7.25, 0.1, 2], np.float32)
    B = np.zeros(8, np.float32)
    run(float_stream, A, B)
    np.testing.assert_array_equal(B, A * np.float32(0.5) + np.float32(1.0))


@df.region()
def put_sites(A: int32[8], B: int32[8]):
    s: Stream[int32, 2]

    @df.kernel(mapping=[1], args=[A])
    def producer(a: int32[8]):
        for i in range(8):
            if a[i] > 0:
                s.put(a[i])
            else:
                s.put(-a[i] * 10)

    @df.kernel(mapping=[1], args=[B])
    def consumer(b: int32[8]):
        for i in range(8):
            b[i] = s.get()


def test_one_kernel_puts_from_two_branches_of_an_if():
    A = np.array([1, -2, 3, -4, 0, 5, -6, 7], np.int32)
    B = np.zeros(8, np.int32)
    run(put_sites, A, B)
    np.testing.assert_array_equal(B, np.where(A > 0, A, -A * 10))


@df.region()
def counted_by_stream(A: int32[8], B: int32[8]):
    s: Stream[int32, 2]

    @df.kernel(mapping=[1], args=[A])
    def producer(a: int32[8]):
        s.put(a[0])

    @df.kernel(mapping=[1], args=[B])
    def consumer(b: int32[8]):
        for i in range(s.get()):
            b[i] = i + 1


def test_loop_bound_read_from_a_stream():
    for n in (0, 3, 8):
        A = np.array([n, 0, 0, 0, 0, 0, 0, 0], np.int32)
        B = np.zeros(8, np.int32)
        run(counted_by_stream, A, B)
        np.testing.assert_array_equal(B, np.where(np.arange(8) < n, np.arange(8) + 1, 0))


@df.region()
def self_feeding(A: int32[4]):
    s: Stream[int32, 2]

    @df.kernel(mapping=[2], args=[A])
    def k(a: int32[4]):
        i = df.get_pid()
        with allo.meta_if(i == 0):
            for n in range(4):
                s.put(a[n] * 3)
        with allo.meta_else():
            for n in range(4):
                a[n] = s.get() - 1


def test_instances_of_one_kernel_as_producer_and_consumer():
    A = np.array([1, 2, -3, 40], np.int32)
    run(self_feeding, A)
    np.testing.assert_array_equal(A, np.array([1, 2, -3, 40]) * 3 - 1)


@df.region()
def drain_bare_get(A: int32[4], B: int32[4]):
    s: Stream[int32, 2]

    @df.kernel(mapping=[1], args=[A])
    def producer(a: int32[4]):
        for i in range(4):
            s.put(a[i])

    @df.kernel(mapping=[1], args=[B])
    def consumer(b: int32[4]):
        s.get()  # dequeue and discard the first value
        for i in range(3):
            b[i] = s.get()


def test_bare_get_statement_discards_a_value():
    A = rand_int32(np.random.default_rng(11), 4)
    B = np.full(4, -7, np.int32)
    run(drain_bare_get, A, B)
    # The first value is dequeued and dropped; the next three land in b[0..2]; b[3] is untouched.
    want = np.concatenate([A.astype(np.int64)[1:], [-7]])
    np.testing.assert_array_equal(B, want)


# ------------------------------------------------------------------------------------------
# The int8 x int8 -> int32 output-stationary systolic array (R x C PEs plus loaders and drains)

R, C, K = 4, 4, 64
P0, P1 = R + 2, C + 2


@df.region()
def systolic(A: int8[R, K], B: int8[K, C], Cm: int32[R, C]):
    fifo_A: Stream[int8, 4][P0, P1]
    fifo_B: Stream[int8, 4][P0, P1]

    @df.kernel(mapping=[P0, P1], args=[A, B, Cm])
    def gemm(local_A: int8[R, K], local_B: int8[K, C], local_C: int32[R, C]):
        i, j = df.get_pid()
        with allo.meta_if(i in {0, R + 1} and j in {0, C + 1}):
            pass
        with allo.meta_elif(j == 0):
            for k in range(K):
                fifo_A[i, j + 1].put(local_A[i - 1, k])
        with allo.meta_elif(i == 0):
            for k in range(K):
                fifo_B[i + 1, j].put(local_B[k, j - 1])
        with allo.meta_elif(i == R + 1 and j > 0):
            for k in range(K):  # noqa: B007
                b: int8 = fifo_B[i, j].get()
        with allo.meta_elif(j == C + 1 and i > 0):
            for k in range(K):  # noqa: B007
                a: int8 = fifo_A[i, j].get()
        with allo.meta_else():
            c: int32 = 0
            for k in range(K):  # noqa: B007
                a: int8 = fifo_A[i, j].get()
                b: int8 = fifo_B[i, j].get()
                c += a * b
                fifo_A[i, j + 1].put(a)
                fifo_B[i + 1, j].put(b)
            local_C[i - 1, j - 1] = c


def test_systolic_int8_gemm():
    rng = np.random.default_rng(7)
    A = rng.integers(-128, 128, (R, K)).astype(np.int8)
    B = rng.integers(-128, 128, (K, C)).astype(np.int8)
    Cm = np.zeros((R, C), np.int32)
    mod = run(systolic, A, B, Cm)
    np.testing.assert_array_equal(Cm, A.astype(np.int64) @ B.astype(np.int64))
    hw = mod.fifo_stats.high_water
    keys_A = {f"systolic.fifo_A[{i},{j}]" for i in range(1, R + 1) for j in range(1, C + 2)}
    keys_B = {f"systolic.fifo_B[{i},{j}]" for i in range(1, R + 2) for j in range(1, C + 1)}
    assert set(hw) == keys_A | keys_B  # only the used elements of the grids
    assert all(1 <= v <= 4 for v in hw.values())
    # a loader runs before the PE it feeds and fills its stream to the depth
    for n in range(1, R + 1):
        assert hw[f"systolic.fifo_A[{n},1]"] == 4
        assert hw[f"systolic.fifo_B[1,{n}]"] == 4


def test_systolic_extreme_values():
    A = np.full((R, K), -128, np.int8)
    B = np.full((K, C), -128, np.int8)
    Cm = np.zeros((R, C), np.int32)
    run(systolic, A, B, Cm)
    np.testing.assert_array_equal(Cm, np.full((R, C), K * 128 * 128))


def test_systolic_corner_instances_are_dropped():
    names = {f.sym.name for f in df.customize(systolic).module.funcs}
    corners = {"gemm_0_0", f"gemm_0_{C + 1}", f"gemm_{R + 1}_0", f"gemm_{R + 1}_{C + 1}"}
    assert not names & corners
    assert len(names) == P0 * P1 - 4 + 1  # every other instance, plus the region itself


# ------------------------------------------------------------------------------------------
# df.get_pid(), allo.meta_for, allo.meta_if / meta_elif / meta_else

ROWS, COLS, PARTS = 16, 8, 4


@df.region()
def row_slices(A: int32[ROWS, COLS], B: int32[ROWS, COLS]):
    @df.kernel(mapping=[PARTS], args=[A, B])
    def work(local_A: int32[ROWS, COLS], local_B: int32[ROWS, COLS]):
        i = df.get_pid()
        for r in range(i * (ROWS // PARTS), (i + 1) * (ROWS // PARTS)):
            for c in range(COLS):
                local_B[r, c] = local_A[r, c] * (i + 1) + i


def test_mapping_four_instances_each_handle_a_slice_of_rows():
    rng = np.random.default_rng(8)
    A = rand_int32(rng, (ROWS, COLS))
    B = np.full((ROWS, COLS), -5, np.int32)
    run(row_slices, A, B)
    part = np.arange(ROWS)[:, None] // (ROWS // PARTS)
    np.testing.assert_array_equal(B, A.astype(np.int64) * (part + 1) + part)
    names = {f.sym.name for f in df.customize(row_slices).module.funcs}
    assert names == {"row_slices", "work_0", "work_1", "work_2", "work_3"}


@df.region()
def pid_2d(out: int32[3, 5]):
    @df.kernel(mapping=[3, 5], args=[out])
    def k(o: int32[3, 5]):
        i, j = df.get_pid()
        o[i, j] = i * 10 + j


def test_two_dimensional_mapping_ids():
    out = np.full((3, 5), -1, np.int32)
    run(pid_2d, out)
    ii, jj = np.indices((3, 5))
    np.testing.assert_array_equal(out, ii * 10 + jj)


@df.region()
def fan_out(A: int32[4, 8], B: int32[4, 8]):
    lanes: Stream[int32, 2][4]

    @df.kernel(mapping=[1], args=[A])
    def split(local_A: int32[4, 8]):
        for j in range(8):
            for r in allo.meta_for(4):
                lanes[r].put(local_A[r, j] + r)

    @df.kernel(mapping=[4], args=[B])
    def lane(local_B: int32[4, 8]):
        i = df.get_pid()
        for j in range(8):
            local_B[i, j] = lanes[i].get() * (i + 1)


def test_meta_for_indexes_a_stream_grid():
    rng = np.random.default_rng(9)
    A = rand_int32(rng, (4, 8))
    B = np.zeros((4, 8), np.int32)
    mod = run(fan_out, A, B)
    r = np.arange(4)[:, None]
    np.testing.assert_array_equal(B, (A.astype(np.int64) + r) * (r + 1))
    assert mod.fifo_stats.high_water == {f"fan_out.lanes[{n}]": 2 for n in range(4)}


@df.region()
def meta_for_bounds(out: int32[10]):
    @df.kernel(mapping=[1], args=[out])
    def k(o: int32[10]):
        for x in allo.meta_for(1, 8, 3):
            o[x] = x * x
        for y in allo.meta_for(2):
            for z in allo.meta_for(y, 2):
                o[8 + y] += 10 ** (y + z)


def test_meta_for_start_stop_step_and_nesting():
    out = np.zeros(10, np.int32)
    run(meta_for_bounds, out)
    want = np.zeros(10, np.int64)
    for x in range(1, 8, 3):
        want[x] = x * x
    for y in range(2):
        for z in range(y, 2):
            want[8 + y] += 10 ** (y + z)
    np.testing.assert_array_equal(out, want)


@df.region()
def elif_chain(out: int32[6], other: int32[6]):
    @df.kernel(mapping=[6], args=[out, other])
    def k(o: int32[6], p: int32[6]):
        i = df.get_pid()
        with allo.meta_if(i == 0):
            o[i] = 10
        with allo.meta_elif(i < 3):
            o[i] = 20
        with allo.meta_elif(i == 1):  # never taken: i == 1 took `i < 3`
            o[i] = 99
        with allo.meta_elif(i == 4):
            o[i] = 40
        with allo.meta_else():
            o[i] = 50
        # a second chain without meta_else: instances where nothing holds do nothing
        with allo.meta_if(i == 5):
            p[i] = 1
        with allo.meta_elif(i % 2 == 1):
            p[i] = 2


def test_meta_elif_chain_first_true_branch_wins_else_when_none():
    out = np.full(6, -1, np.int32)
    other = np.full(6, -1, np.int32)
    run(elif_chain, out, other)
    np.testing.assert_array_equal(out, [10, 20, 20, 50, 40, 50])
    np.testing.assert_array_equal(other, [-1, 2, -1, 2, -1, 1])


@df.region()
def nested_meta(out: int32[2, 2, 3]):
    @df.kernel(mapping=[2, 2], args=[out])
    def k(o: int32[2, 2, 3]):
        i, j = df.get_pid()
        for n in range(3):
            with allo.meta_if(i == 0):
                with allo.meta_if(j == 0):
                    o[i, j, n] = 1
                with allo.meta_else():
                    o[i, j, n] = 2
            with allo.meta_else():
                with allo.meta_if(j == 0):
                    o[i, j, n] = 3 + n
                with allo.meta_elif(True):
                    o[i, j, n] = 6
                with allo.meta_else():
                    o[i, j, n] = 99


def test_nested_meta_if_chains_inside_a_loop():
    out = np.zeros((2, 2, 3), np.int32)
    run(nested_meta, out)
    want = np.zeros((2, 2, 3), np.int64)
    want[0, 0, :] = 1
    want[0, 1, :] = 2
    want[1, 0, :] = [3, 4, 5]
    want[1, 1, :] = 6
    np.testing.assert_array_equal(out, want)


@df.region()
def pid_single(out: int32[4]):
    @df.kernel(mapping=[1], args=[out])
    def a(o: int32[4]):
        i = df.get_pid()
        o[i] = 5

    @df.kernel(mapping=[1], args=[out])
    def b(o: int32[4]):
        (i,) = df.get_pid()
        o[i + 1] = 6


def test_get_pid_of_a_single_instance_mapping():
    out = np.zeros(4, np.int32)
    run(pid_single, out)
    np.testing.assert_array_equal(out, [5, 6, 0, 0])


@df.region()
def meta_for_decl(A: int32[4], B: int32[4]):
    @df.kernel(mapping=[1], args=[A, B])
    def k(a: int32[4], b: int32[4]):
        for x in allo.meta_for(4):
            t: int32 = a[x] * 2
            b[x] = t + x


def test_meta_for_body_with_a_declaration():
    # Each copy of the body declares its own `t`.
    A = rand_int32(np.random.default_rng(12), 4)
    B = np.zeros(4, np.int32)
    run(meta_for_decl, A, B)
    np.testing.assert_array_equal(B, A.astype(np.int64) * 2 + np.arange(4))


def meta_in_plain_kernel(A: int32[4], B: int32[4]):
    t: int32 = 0
    for x in allo.meta_for(4):
        t = A[x] * 2
        with allo.meta_if(x % 2 == 0):
            t += 100
        B[x] = t


def test_meta_for_and_meta_if_in_a_plain_kernel():
    A = np.array([5, 6, -7, 8], np.int32)
    B = np.zeros(4, np.int32)
    allo.customize(meta_in_plain_kernel).build()(A, B)
    np.testing.assert_array_equal(B, A * 2 + np.array([100, 0, 100, 0]))


# ------------------------------------------------------------------------------------------
# FIFO high-water marks


@df.region()
def burst_depth4(A: int32[8], B: int32[8]):
    s: Stream[int32, 4]

    @df.kernel(mapping=[1], args=[A])
    def producer(a: int32[8]):
        for i in range(8):
            s.put(a[i])

    @df.kernel(mapping=[1], args=[B])
    def consumer(b: int32[8]):
        for i in range(8):
            b[i] = s.get()


@df.region()
def burst_depth1(A: int32[8], B: int32[8]):
    s: Stream[int32, 1]

    @df.kernel(mapping=[1], args=[A])
    def producer(a: int32[8]):
        for i in range(8):
            s.put(a[i])

    @df.kernel(mapping=[1], args=[B])
    def consumer(b: int32[8]):
        for i in range(8):
            b[i] = s.get()


@df.region()
def burst_depth16(A: int32[8], B: int32[8]):
    s: Stream[int32, 16]

    @df.kernel(mapping=[1], args=[A])
    def producer(a: int32[8]):
        for i in range(8):
            s.put(a[i])

    @df.kernel(mapping=[1], args=[B])
    def consumer(b: int32[8]):
        for i in range(8):
            b[i] = s.get()


@df.region()
def burst_consumer_first(A: int32[8], B: int32[8]):
    s: Stream[int32, 16]

    @df.kernel(mapping=[1], args=[B])
    def consumer(b: int32[8]):
        for i in range(8):
            b[i] = s.get()

    @df.kernel(mapping=[1], args=[A])
    def producer(a: int32[8]):
        for i in range(8):
            s.put(a[i])


@pytest.mark.parametrize(
    ("region", "high"),
    [
        (burst_depth4, 4),  # 8 puts before the consumer starts: full at 4
        (burst_depth1, 1),
        (burst_depth16, 8),  # the producer finishes before the consumer runs
        (burst_consumer_first, 8),  # the consumer waits first, then the producer puts all 8
    ],
)
def test_high_water_of_a_burst(region, high):
    A = np.arange(8, dtype=np.int32) * 7 - 20
    B = np.zeros(8, np.int32)
    mod = run(region, A, B)
    np.testing.assert_array_equal(B, A)
    assert mod.fifo_stats.high_water == {f"{region.__name__}.s": high}


@df.region()
def ping_pong(A: int32[8], B: int32[8]):
    req: Stream[int32, 4]
    ack: Stream[int32, 4]

    @df.kernel(mapping=[1], args=[A, B])
    def client(a: int32[8], b: int32[8]):
        for i in range(8):
            req.put(a[i])
            b[i] = ack.get()

    @df.kernel(mapping=[1])
    def server():
        for _i in range(8):
            ack.put(req.get() * 2)


def test_high_water_of_request_response_is_one():
    A = np.arange(8, dtype=np.int32) - 3
    B = np.zeros(8, np.int32)
    mod = run(ping_pong, A, B)
    np.testing.assert_array_equal(B, A * 2)
    assert mod.fifo_stats.high_water == {"ping_pong.req": 1, "ping_pong.ack": 1}


@df.region()
def counted(n: int32, A: int32[8], B: int32[8]):
    s: Stream[int32, 8]

    @df.kernel(mapping=[1], args=[n, A])
    def producer(count: int32, a: int32[8]):
        for i in range(8):
            if i < count:
                s.put(a[i])

    @df.kernel(mapping=[1], args=[n, B])
    def consumer(count: int32, b: int32[8]):
        for i in range(8):
            if i < count:
                b[i] = s.get()


def test_high_water_is_the_maximum_over_calls():
    mod = df.build(counted)
    A = np.arange(8, dtype=np.int32) + 1
    for n, high in ((2, 2), (6, 6), (1, 6)):
        B = np.zeros(8, np.int32)
        mod(n, A, B)
        np.testing.assert_array_equal(B, np.where(np.arange(8) < n, A, 0))
        assert mod.fifo_stats.high_water == {"counted.s": high}


@df.region()
def leftover(A: int32[4], B: int32[4]):
    s: Stream[int32, 4]

    @df.kernel(mapping=[1], args=[A])
    def producer(a: int32[4]):
        for i in range(3):
            s.put(a[i])

    @df.kernel(mapping=[1], args=[B])
    def consumer(b: int32[4]):
        for i in range(2):
            b[i] = s.get()


def test_streams_start_empty_on_every_call():
    # The producer leaves one value in the stream; the next call must not see it.
    mod = df.build(leftover)
    B = np.zeros(4, np.int32)
    mod(np.array([1, 2, 3, 4], np.int32), B)
    np.testing.assert_array_equal(B, [1, 2, 0, 0])
    mod(np.array([10, 20, 30, 40], np.int32), B)
    np.testing.assert_array_equal(B, [10, 20, 0, 0])
    assert mod.fifo_stats.high_water == {"leftover.s": 3}


# ------------------------------------------------------------------------------------------
# Deadlock


@df.region()
def exchange_d2(A: int32[2], B: int32[2]):
    s1: Stream[int32, 2]
    s2: Stream[int32, 2]

    @df.kernel(mapping=[1], args=[A])
    def left(a: int32[2]):
        for n in range(2):
            s1.put(a[n])
        for n in range(2):
            a[n] = s2.get()

    @df.kernel(mapping=[1], args=[B])
    def right(b: int32[2]):
        for n in range(2):
            s2.put(b[n])
        for n in range(2):
            b[n] = s1.get()


@df.region()
def exchange_d1(A: int32[2], B: int32[2]):  # ERR:exchange_d1
    s1: Stream[int32, 1]
    s2: Stream[int32, 1]

    @df.kernel(mapping=[1], args=[A])
    def left(a: int32[2]):
        for n in range(2):
            s1.put(a[n])
        for n in range(2):
            a[n] = s2.get()

    @df.kernel(mapping=[1], args=[B])
    def right(b: int32[2]):
        for n in range(2):
            s2.put(b[n])
        for n in range(2):
            b[n] = s1.get()


def test_exchange_completes_at_depth_two():
    A = np.array([1, 2], np.int32)
    B = np.array([3, 4], np.int32)
    mod = run(exchange_d2, A, B)
    np.testing.assert_array_equal(A, [3, 4])
    np.testing.assert_array_equal(B, [1, 2])
    assert mod.fifo_stats.high_water == {"exchange_d2.s1": 2, "exchange_d2.s2": 2}


def test_exchange_deadlocks_at_depth_one():
    mod = df.build(exchange_d1)
    A = np.array([1, 2], np.int32)
    B = np.array([3, 4], np.int32)
    with pytest.raises(allo.DeadlockError) as excinfo:
        mod(A, B)
    assert type(excinfo.value) is allo.DeadlockError
    assert isinstance(excinfo.value, allo.AlloRTLError)
    assert str(excinfo.value) == _MARKS.expected(
        "exchange_d1",
        "def",
        "dataflow region `exchange_d1` deadlocked: every unfinished kernel waits on a stream\n"
        "  left waits to put into `s1` (full: 1 of depth 1)\n"
        "  right waits to put into `s2` (full: 1 of depth 1)",
        DEADLOCK_HINT,
    )
    assert mod.fifo_stats.high_water == {}  # a run that deadlocked records nothing


@df.region()
def starved(n: int32, A: int32[4], B: int32[4]):  # ERR:starved
    s: Stream[int32, 4]

    @df.kernel(mapping=[1], args=[n, A])
    def producer(count: int32, a: int32[4]):
        for i in range(4):
            if i < count:
                s.put(a[i])

    @df.kernel(mapping=[1], args=[B])
    def consumer(b: int32[4]):
        for i in range(4):
            b[i] = s.get()


def test_consumer_waiting_on_an_empty_stream_then_recovery():
    mod = df.build(starved)
    A = np.array([5, 6, 7, 8], np.int32)
    B = np.zeros(4, np.int32)
    with pytest.raises(allo.DeadlockError) as excinfo:
        mod(3, A, B)
    assert str(excinfo.value) == _MARKS.expected(
        "starved",
        "def",
        "dataflow region `starved` deadlocked: every unfinished kernel waits on a stream\n"
        "  consumer waits to get from `s` (empty)",
        DEADLOCK_HINT,
    )
    # the same module runs correctly afterwards: no stale values or stuck tasks survive
    B = np.zeros(4, np.int32)
    mod(4, A, B)
    np.testing.assert_array_equal(B, A)


@df.region()
def ring(A: int32[3]):  # ERR:ring
    fifo: Stream[int32, 2][3]

    @df.kernel(mapping=[3], args=[A])
    def node(a: int32[3]):
        i = df.get_pid()
        for _n in range(2):
            a[i] = fifo[i].get()
            fifo[(i + 1) % 3].put(a[i] + 1)


def test_ring_of_instances_deadlocks_naming_each_instance_and_grid_element():
    with pytest.raises(allo.DeadlockError) as excinfo:
        df.build(ring)(np.zeros(3, np.int32))
    assert str(excinfo.value) == _MARKS.expected(
        "ring",
        "def",
        "dataflow region `ring` deadlocked: every unfinished kernel waits on a stream\n"
        "  node_0 waits to get from `fifo[0]` (empty)\n"
        "  node_1 waits to get from `fifo[1]` (empty)\n"
        "  node_2 waits to get from `fifo[2]` (empty)",
        DEADLOCK_HINT,
    )


# ------------------------------------------------------------------------------------------
# Hierarchical regions: a kernel instance calls another region

_CAP, _COUNT = 2, 6


@df.region()
def inner_streaming(result: int32[1]):
    s: Stream[int32, _CAP]

    @df.kernel(mapping=[1])
    def producer():
        for i in range(_COUNT):
            v: int32 = i * i
            s.put(v)

    @df.kernel(mapping=[1], args=[result])
    def consumer(out: int32[1]):
        acc: int32 = 0
        for _i in range(_COUNT):
            acc += s.get()
        out[0] = acc


@df.region()
def outer_streaming(result: int32[1]):
    @df.kernel(mapping=[1], args=[result])
    def driver(out: int32[1]):
        inner_streaming(out)


def test_kernel_calls_a_region_whose_kernels_stream():
    # the inner producer puts more values than the stream holds: run sequentially, it would
    # block forever; the inner region's kernels must run concurrently
    result = np.zeros(1, np.int32)
    mod = run(outer_streaming, result)
    assert result[0] == sum(i * i for i in range(_COUNT))
    assert mod.fifo_stats.high_water == {"inner_streaming.s": _CAP}


@df.region()
def inner_deadlock(result: int32[1]):  # ERR:inner_deadlock
    s: Stream[int32, 1]

    @df.kernel(mapping=[1], args=[result])
    def only(out: int32[1]):
        s.put(1)
        s.put(2)
        out[0] = 0

    @df.kernel(mapping=[1])
    def never():
        for _i in range(0):
            x = s.get()  # noqa: F841


@df.region()
def outer_deadlock(result: int32[1]):
    @df.kernel(mapping=[1], args=[result])
    def driver(out: int32[1]):
        inner_deadlock(out)


def test_deadlock_inside_a_called_region_names_the_inner_region():
    with pytest.raises(allo.DeadlockError) as excinfo:
        df.build(outer_deadlock)(np.zeros(1, np.int32))
    assert str(excinfo.value) == _MARKS.expected(
        "inner_deadlock",
        "def",
        "dataflow region `inner_deadlock` deadlocked: every unfinished kernel waits on a "
        "stream\n"
        "  only waits to put into `s` (full: 1 of depth 1)",
        DEADLOCK_HINT,
    )


@df.region()
def doubler(A: int32[4]):
    s: Stream[int32, 1]

    @df.kernel(mapping=[1], args=[A])
    def p(a: int32[4]):
        for i in range(4):
            s.put(a[i])

    @df.kernel(mapping=[1], args=[A])
    def c(a: int32[4]):
        for i in range(4):
            a[i] = s.get() * 2


def calls_doubler_twice(A: int32[4]):
    doubler(A)
    doubler(A)


def test_plain_kernel_calls_a_region_twice():
    A = np.array([1, -2, 3, 100], np.int32)
    mod = allo.customize(calls_doubler_twice).build()
    mod(A)
    np.testing.assert_array_equal(A, np.array([1, -2, 3, 100]) * 4)
    assert mod.fifo_stats.high_water == {"doubler.s": 1}


def test_allo_customize_builds_a_region():
    A = np.array([1, -2, 3, 100], np.int32)
    allo.customize(doubler).build()(A)
    np.testing.assert_array_equal(A, np.array([1, -2, 3, 100]) * 2)


# Generic regions (``def inner[P0, P1](...)``) need Python 3.12 syntax; this file must import on
# older interpreters too, so the generic design lives in a module written at test time.
_GENERIC_SOURCE = """
import allo_rtl as allo
import allo_rtl.dataflow as df
from allo_rtl.ir.types import int32

M, N, K = 8, 8, 8


@df.region()
def inner[P0, P1](A: int32[M, K], B: int32[K, N], C: int32[M, N]):
    @df.kernel(mapping=[P0, P1], args=[A, B, C])
    def gemm(local_A: int32[M, K], local_B: int32[K, N], local_C: int32[M, N]):
        pi, pj = df.get_pid()
        for i in range(pi * (M // P0), (pi + 1) * (M // P0)):
            for j in range(pj * (N // P1), (pj + 1) * (N // P1)):
                for k in range(K):
                    local_C[i, j] += local_A[i, k] * local_B[k, j]


@df.region()
def top(A: int32[M, K], B: int32[K, N], C1: int32[M, N], C2: int32[M, N]):
    @df.kernel(mapping=[2], args=[A, B, C1, C2])
    def wrapper(
        local_A: int32[M, K],
        local_B: int32[K, N],
        local_C1: int32[M, N],
        local_C2: int32[M, N],
    ):
        i = df.get_pid()
        with allo.meta_if(i == 0):
            inner[2, 2](local_A, local_B, local_C1)
        with allo.meta_if(i == 1):
            inner[4, 4](local_A, local_B, local_C2)


@df.region()
def top_direct(A: int32[M, K], B: int32[K, N], C: int32[M, N]):
    @df.kernel(mapping=[1], args=[A, B, C])
    def wrapper(local_A: int32[M, K], local_B: int32[K, N], local_C: int32[M, N]):
        inner[1, 2](local_A, local_B, local_C)
"""


@pytest.fixture(scope="module")
def generic_regions(tmp_path_factory):
    if sys.version_info < (3, 12):
        pytest.skip("generic regions need Python 3.12 syntax")
    path = tmp_path_factory.mktemp("dataflow_generic") / "df_generic_regions_py312.py"
    path.write_text(textwrap.dedent(_GENERIC_SOURCE))
    spec = importlib.util.spec_from_file_location("df_generic_regions_py312", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generic_region_instantiated_twice_from_one_kernel(generic_regions):
    g = generic_regions
    rng = np.random.default_rng(10)
    A = rng.integers(-50, 50, (g.M, g.K)).astype(np.int32)
    B = rng.integers(-50, 50, (g.K, g.N)).astype(np.int32)
    C1 = np.zeros((g.M, g.N), np.int32)
    C2 = np.zeros((g.M, g.N), np.int32)
    run(g.top, A, B, C1, C2, target="simulator")
    ref = A.astype(np.int64) @ B.astype(np.int64)
    np.testing.assert_array_equal(C1, ref)
    np.testing.assert_array_equal(C2, ref)
    names = {f.sym.name for f in df.customize(g.top).module.funcs}
    assert {"inner_2_2", "inner_4_4"} <= names
    assert sum(n.startswith("gemm") for n in names) == 2 * 2 + 4 * 4


def test_generic_region_called_with_one_instantiation(generic_regions):
    g = generic_regions
    rng = np.random.default_rng(11)
    A = rng.integers(-50, 50, (g.M, g.K)).astype(np.int32)
    B = rng.integers(-50, 50, (g.K, g.N)).astype(np.int32)
    C = np.zeros((g.M, g.N), np.int32)
    run(g.top_direct, A, B, C)
    np.testing.assert_array_equal(C, A.astype(np.int64) @ B.astype(np.int64))


def test_generic_region_built_directly_with_customize_instantiate(generic_regions):
    g = generic_regions
    rng = np.random.default_rng(12)
    A = rng.integers(-50, 50, (g.M, g.K)).astype(np.int32)
    B = rng.integers(-50, 50, (g.K, g.N)).astype(np.int32)
    C = np.zeros((g.M, g.N), np.int32)
    mod = df.customize(g.inner, instantiate=[2, 4]).build()
    mod(A, B, C)
    np.testing.assert_array_equal(C, A.astype(np.int64) @ B.astype(np.int64))
