"""``s.buffer_at``: work on a local copy of the slice of an array that one iteration of a loop
writes, with ``<j>_init`` / ``<j>_back`` copy loops (Allo's names). The init loop loads the
slice (Allo stores zeros), so results stay identical whatever the array held before."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from amaranth_harness import run
from errhelp import Markers

import allo_rtl as allo
from allo_rtl import BufferHandle, Partition, ScheduleError
from allo_rtl.ir.types import int32

N = 8
MARKS = Markers(__file__)


def gemm_rowwise(A: int32[N, N], B: int32[N, N]) -> int32[N, N]:
    """GEMM in the order Allo reaches with ``s.reorder("k", "j")``."""
    C: int32[N, N] = 0
    for i in range(N):
        for k in allo.reduction(N):
            for j in range(N):
                C[i, j] += A[i, k] * B[k, j]
    return C


def gemm(A: int32[N, N], B: int32[N, N]) -> int32[N, N]:
    C: int32[N, N] = 0
    for i, j in allo.grid(N, N):
        for k in allo.reduction(N):
            C[i, j] += A[i, k] * B[k, j]
    return C


def gemm_acc(A: int32[N, N], B: int32[N, N], C: int32[N, N]):
    """Accumulates into an argument: the buffer must start from the argument's values."""
    for i in range(N):
        for k in allo.reduction(N):
            for j in range(N):
                C[i, j] += A[i, k] * B[k, j]


def sparse_rows(A: int32[N, N], C: int32[N, N]):
    """Writes only every other element of a row, at an offset, and reads a neighbour."""
    for i in range(N):
        for j in range(0, 6, 2):
            C[i, j + 1] = A[i, j] + C[i, j + 2]


def stencil_3d(A: int32[2, 4, 6], t: int32) -> int32[2, 4, 6]:
    C: int32[2, 4, 6] = 0
    for n in range(2):
        for y, x in allo.grid(4, 6):
            C[n, y, x] = A[n, y, x] * t
    return C


def two_funcs(A: int32[N, N]) -> int32[N, N]:
    C: int32[N, N] = 0
    for i, j in allo.grid(N, N):
        C[i, j] = A[i, j]
    return C


def rand(*shape, seed=0):
    return np.random.default_rng(seed).integers(-50, 50, size=shape).astype(np.int32)


A0, B0 = rand(N, N, seed=1), rand(N, N, seed=2)


# ------------------------------------------------------------------------------ IR


def test_gemm_rowwise_buffers_a_row():
    s = allo.customize(gemm_rowwise)
    handle = s.buffer_at(s.C, "i")
    assert handle == BufferHandle("gemm_rowwise", "C_buf")
    assert str(s) == textwrap.dedent("""\
        def gemm_rowwise(A: int32[8, 8], B: int32[8, 8]) -> int32[8, 8]:
            C: int32[8, 8] = 0
            C_buf: int32[8]
            for i in range(0, 8):  # S_i_0.i range
                for j_init in range(0, 8):  # S_i_0.j_init range pipeline=1
                    C_buf[j_init] = C[i, j_init]
                for k in range(0, 8):  # S_i_0.k reduction
                    for j in range(0, 8):  # S_i_0.j range
                        C_buf[j] = int32((C_buf[j] + (A[i, k] * B[k, j])))
                for j_back in range(0, 8):  # S_i_0.j_back range pipeline=1
                    C[i, j_back] = C_buf[j_back]
            return C
        """)
    np.testing.assert_array_equal(s.build()(A0, B0), A0 @ B0)


def test_innermost_non_reduction_loop_gets_one_element():
    s = allo.customize(gemm)
    s.buffer_at(s.C, "j")
    assert str(s) == textwrap.dedent("""\
        def gemm(A: int32[8, 8], B: int32[8, 8]) -> int32[8, 8]:
            C: int32[8, 8] = 0
            C_buf: int32[1]
            for i in range(0, 8):  # S_i_j_0.i grid
                for j in range(0, 8):  # S_i_j_0.j grid
                    C_buf[0] = C[i, j]
                    for k in range(0, 8):  # S_i_j_0.k reduction
                        C_buf[0] = int32((C_buf[0] + (A[i, k] * B[k, j])))
                    C[i, j] = C_buf[0]
            return C
        """)
    np.testing.assert_array_equal(s.build()(A0, B0), A0 @ B0)


def test_slice_offsets_and_names_of_repeated_buffers():
    s = allo.customize(sparse_rows)
    assert s.buffer_at(s.C, "i").name == "C_buf"
    text = str(s)
    assert "C_buf: int32[6]" in text  # indices 1 .. 6 of the row are reached
    assert "C_buf[j_init] = C[i, (j_init + 1)]" in text
    assert "C_buf[j] = int32((A[i, j] + C_buf[(j + 1)]))" in text
    assert "C[i, (j_back + 1)] = C_buf[j_back]" in text
    A, C = rand(N, N, seed=3), rand(N, N, seed=4)
    want = C.copy()
    for j in range(0, 6, 2):
        want[:, j + 1] = A[:, j] + want[:, j + 2]
    got = C.copy()
    s.build()(A, got)
    np.testing.assert_array_equal(got, want)


def test_outer_variables_select_the_slice():
    s = allo.customize(stencil_3d)
    s.buffer_at(s.C, "n")
    text = str(s)
    assert "C_buf: int32[4, 6]" in text
    assert "C_buf[y_init, x_init] = C[n, y_init, x_init]" in text
    A = rand(2, 4, 6, seed=5)
    np.testing.assert_array_equal(s.build()(A, 3), A * 3)


# ------------------------------------------------------------------------------ results


def test_load_init_keeps_accumulating_arguments_identical():
    """Allo's zero init would drop C's initial values here."""
    s = allo.customize(gemm_acc)
    s.buffer_at(s.C, "i")
    C = rand(N, N, seed=6)
    got = C.copy()
    s.build()(A0, B0, got)
    np.testing.assert_array_equal(got, C + A0 @ B0)


def test_chain_with_partition_pipeline_and_second_buffer():
    s = allo.customize(gemm_rowwise)
    buf = s.buffer_at(s.C, "i")
    s.partition(buf, Partition.Complete)
    s.pipeline("j")
    s.partition(s.B, Partition.Cyclic, dim=2, factor=4)
    assert "# C_buf: partition[complete]" in str(s)
    np.testing.assert_array_equal(s.build()(A0, B0), A0 @ B0)
    s2 = allo.customize(gemm)
    s2.buffer_at(s2.C, "i")
    assert s2.buffer_at(s2.C_buf, "j") == BufferHandle("gemm", "C_buf_buf")
    np.testing.assert_array_equal(s2.build()(A0, B0), A0 @ B0)


@pytest.mark.parametrize(("kernel", "loop"), [(gemm_rowwise, "i"), (gemm, "j")])
def test_rtl_matches(kernel, loop):
    s = allo.customize(kernel)
    s.buffer_at(s.C, loop)
    got, _ = run(s, A0, B0)
    np.testing.assert_array_equal(got, A0 @ B0)


# ------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("kernel", "array", "loop", "message", "hint"),
    [
        (
            gemm,
            "C",
            "k",
            "cannot buffer inside the reduction loop `k`",
            "buffer at a loop outside the reduction loops",
        ),
        (
            gemm_rowwise,
            "C",
            "j",
            "cannot buffer inside the reduction loop `k`",
            "buffer at a loop outside the reduction loops",
        ),
        (
            two_funcs,
            "C",
            "j",
            "cannot buffer at the innermost loop `j`: it has no loop inside to buffer",
            "buffer at a loop that contains other loops",
        ),
        (
            gemm,
            "A",
            "i",
            "loop `i` does not write A: buffer_at buffers the results a loop writes",
            "use reuse_at to keep values that a loop reads again",
        ),
    ],
)
def test_errors(kernel, array, loop, message, hint):
    s = allo.customize(kernel)
    with pytest.raises(ScheduleError) as e:
        s.buffer_at(array, loop)
    assert (e.value.message, e.value.hint) == (message, hint)
    assert e.value.loc.file == __file__


def irregular(A: int32[N, N], C: int32[N, N]):
    for i in range(N):
        for j in range(N):
            C[i, j] = C[0, j] + A[i, j]  # ERR:slice
            A[i, j * j] = 0  # ERR:affine


def clear(X: int32[N, N]):
    for i, j in allo.grid(N, N):
        X[i, j] = 0


def calls_clear(C: int32[N, N]):
    for r in range(N):
        for c in range(N):
            C[r, c] += 1
    clear(C)


def test_accesses_that_do_not_fit_a_slice():
    s = allo.customize(irregular)
    with pytest.raises(ScheduleError) as e:
        s.buffer_at(s.C, "i")
    assert e.value.message == (
        "the accesses of C inside loop `i` differ along dimension 1 by more than the loops "
        f"inside it (kernel line {MARKS.line('slice')}: `C[i, j] = C[0, j] + A[i, j]  # ERR:slice`)"
    )
    with pytest.raises(ScheduleError) as e:
        s.buffer_at(s.A, "i")
    assert e.value.message == (
        "cannot analyse an index of A: the indices must be sums of variables times "
        f"constants (kernel line {MARKS.line('affine')}: `A[i, j * j] = 0  # ERR:affine`)"
    )


def test_array_and_loop_of_different_functions():
    s = allo.customize(calls_clear)
    with pytest.raises(ScheduleError) as e:
        s.buffer_at("clear:X", "r")
    assert e.value.message == "array X belongs to clear, but loop `r` to calls_clear"
    assert e.value.hint == "name a loop of clear, e.g. `clear:r`"
    s.buffer_at("clear:X", "clear:i")  # the callee's own loop
    C = rand(N, N, seed=7)
    s.build()(C)
    np.testing.assert_array_equal(C, 0)
