"""``s.reuse_at``: line buffers and windows for stencils (Allo's ``reuse_at``). The loop runs over
the input extent, shifts the buffer and loads each new input element once, and computes the
outputs under a guard; chained calls turn a line buffer into a window. Results must stay
identical, and a 3x3 filter must read every element of its input from memory exactly once."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from amaranth_harness import run
from errhelp import Markers

import allo_rtl as allo
from allo_rtl import BufferHandle, ScheduleError
from allo_rtl.ir import For, If, Load, While, walk
from allo_rtl.ir.types import float32, int32

MARKS = Markers(__file__)


def blur(A: int32[10, 10]) -> int32[8, 8]:
    B: int32[8, 8] = 0
    for y, x in allo.grid(8, 8):
        v: int32 = 0
        for r, c in allo.reduction(3, 3):
            v += A[y + r, x + c]
        B[y, x] = v
    return B


def blur_x(A: int32[10, 10]) -> int32[10, 8]:
    B: int32[10, 8] = 0
    for y, x in allo.grid(10, 8):
        B[y, x] = A[y, x] + A[y, x + 1] + A[y, x + 2]
    return B


def blur_diag(A: int32[10, 10]) -> int32[8, 8]:
    B: int32[8, 8] = 0
    for y, x in allo.grid(8, 8):
        B[y, x] = A[y, x] + A[y + 1, x + 1] + A[y + 2, x + 2]
    return B


def blur_3d(A: int32[10, 8, 6]) -> int32[8, 6, 4]:
    B: int32[8, 6, 4] = 0
    for y, x, z in allo.grid(8, 6, 4):
        B[y, x, z] = A[y, x, z] + A[y + 1, x + 1, z + 1] + A[y + 2, x + 2, z + 2]
    return B


def conv_stride2(A: int32[10, 10], F: int32[3, 3]) -> int32[4, 4]:
    B: int32[4, 4] = 0
    for y, x in allo.grid(4, 4):
        v: int32 = 0
        for r, c in allo.reduction(3, 3):
            v += A[y * 2 + r, x * 2 + c] * F[r, c]
        B[y, x] = v
    return B


def centered(A: int32[12]) -> int32[12]:
    B: int32[12] = 0
    for i in range(1, 11):
        B[i] = A[i - 1] - 2 * A[i] + A[i + 1] + i
    return B


def avgpool(A: float32[2, 3, 8, 8]) -> float32[2, 3, 7, 7]:
    B: float32[2, 3, 7, 7] = 0.0
    for n, c, h, w in allo.grid(2, 3, 7, 7):
        v: float32 = 0.0
        for rh, rw in allo.reduction(2, 2):
            v += A[n, c, h + rh, w + rw]
        B[n, c, h, w] = v / 4
    return B


def local_input(A: int32[10, 10]) -> int32[10, 8]:
    X: int32[10, 10] = 0
    for y, x in allo.grid(10, 10):
        X[y, x] = A[y, x] * 2
    B: int32[10, 8] = 0
    for yy, xx in allo.grid(10, 8):
        B[yy, xx] = X[yy, xx] + X[yy, xx + 1] + X[yy, xx + 2]
    return B


def two_inputs(A: int32[10, 10], C: int32[8, 10]) -> int32[8, 8]:
    B: int32[8, 8] = 0
    for y, x in allo.grid(8, 8):
        B[y, x] = A[y, x + 2] + A[y + 1, x] + C[y, x] + C[y, x + 2]
    return B


def conv_plus(A: int32[10, 10], C: int32[8, 10]) -> int32[8, 8]:
    B: int32[8, 8] = 0
    for y, x in allo.grid(8, 8):
        v: int32 = C[y, x] + C[y, x + 2]
        for r, c in allo.reduction(3, 3):
            v += A[y + r, x + c]
        B[y, x] = v
    return B


def rand(*shape, seed=0):
    return np.random.default_rng(seed).integers(-100, 100, size=shape).astype(np.int32)


def windows(A, k, stride=1):
    """NumPy: the k x k windows of A (stride) as an array [oy, ox, k, k]."""
    oy, ox = (A.shape[0] - k) // stride + 1, (A.shape[1] - k) // stride + 1
    return np.array(
        [
            [A[y * stride : y * stride + k, x * stride : x * stride + k] for x in range(ox)]
            for y in range(oy)
        ]
    )


def executed_loads(stmts, array, scale=1):
    """How many times the loads of ``array`` in ``stmts`` execute, counted from the loop nest:
    loops multiply by their (constant) trip counts; loads under an `if` must not exist."""
    total = 0
    for s in stmts:
        if isinstance(s, For):
            trips = len(range(s.lo.value, s.hi.value, s.step))  # constant bounds only
            total += executed_loads(s.body, array, scale * trips)
            continue
        if isinstance(s, (If, While)):
            inside = [n for n in walk(s) if isinstance(n, Load) and n.buf.name == array]
            assert not inside, "a load of the input under a condition"
            continue
        total += scale * sum(1 for n in walk(s) if isinstance(n, Load) and n.buf.name == array)
    return total


# ------------------------------------------------------------------------------ IR


LINE_BUFFER = """\
def blur(A: int32[10, 10]) -> int32[8, 8]:
    B: int32[8, 8] = 0
    S_y_x_0_reuse_0: int32[3, 10]  # scratch
    for y in range(0, 10):  # S_y_x_0.y grid
        for x_shift in range(0, 10):  # S_y_x_0.x_shift range spatial=True
            S_y_x_0_reuse_0[0, x_shift] = S_y_x_0_reuse_0[1, x_shift]
            S_y_x_0_reuse_0[1, x_shift] = S_y_x_0_reuse_0[2, x_shift]
            S_y_x_0_reuse_0[2, x_shift] = A[y, x_shift]
        if (y >= 2):
            for x in range(0, 8):  # S_y_x_0.x grid
                v: int32 = 0
                for r in range(0, 3):  # S_y_x_0.r reduction
                    for c in range(0, 3):  # S_y_x_0.c reduction
                        v = int32((v + S_y_x_0_reuse_0[r, (x + c)]))
                B[(y - 2), x] = v
    return B
"""

WINDOW = """\
def blur(A: int32[10, 10]) -> int32[8, 8]:
    B: int32[8, 8] = 0
    S_y_x_0_reuse_0: int32[3, 10]  # scratch
    S_y_x_0_reuse_1: int32[3, 3]  # scratch
    for y in range(0, 10):  # S_y_x_0.y grid
        for x in range(0, 10):  # S_y_x_0.x grid
            S_y_x_0_reuse_0[0, x] = S_y_x_0_reuse_0[1, x]
            S_y_x_0_reuse_0[1, x] = S_y_x_0_reuse_0[2, x]
            S_y_x_0_reuse_0[2, x] = A[y, x]
            if (y >= 2):
                for r_shift in range(0, 3):  # S_y_x_0.r_shift range spatial=True
                    S_y_x_0_reuse_1[r_shift, 0] = S_y_x_0_reuse_1[r_shift, 1]
                    S_y_x_0_reuse_1[r_shift, 1] = S_y_x_0_reuse_1[r_shift, 2]
                    S_y_x_0_reuse_1[r_shift, 2] = S_y_x_0_reuse_0[r_shift, x]
                if (x >= 2):
                    v: int32 = 0
                    for r in range(0, 3):  # S_y_x_0.r reduction
                        for c in range(0, 3):  # S_y_x_0.c reduction
                            v = int32((v + S_y_x_0_reuse_1[r, c]))
                    B[(y - 2), (x - 2)] = v
    return B
"""


def test_line_buffer_then_window():
    s = allo.customize(blur)
    LB = s.reuse_at(s.A, "y")
    assert LB == BufferHandle("blur", "S_y_x_0_reuse_0")
    assert str(s) == LINE_BUFFER
    WB = s.reuse_at(LB, "x")
    assert WB == BufferHandle("blur", "S_y_x_0_reuse_1")
    assert str(s) == WINDOW  # the line buffer's shift loop merged into x


def test_stride_guards_the_phase():
    s = allo.customize(conv_stride2)
    s.reuse_at(s.reuse_at(s.A, "y"), "x")
    text = str(s)
    assert "for y in range(0, 9):" in text  # rows 0 .. 8 are read (Allo: 0 .. 9)
    assert "if ((y >= 2) and (((y - 2) % 2) == 0)):" in text
    assert "B[((y - 2) // 2), ((x - 2) // 2)] = v" in text


def test_offsets_below_zero_and_other_uses_of_the_variable():
    s = allo.customize(centered)
    s.reuse_at(s.A, "i")
    assert str(s) == textwrap.dedent("""\
        def centered(A: int32[12]) -> int32[12]:
            B: int32[12] = 0
            S_i_0_reuse_0: int32[3]  # scratch
            for i in range(0, 12):  # S_i_0.i range
                S_i_0_reuse_0[0] = S_i_0_reuse_0[1]
                S_i_0_reuse_0[1] = S_i_0_reuse_0[2]
                S_i_0_reuse_0[2] = A[i]
                if (i >= 2):
                    B[(i - 1)] = int32((((S_i_0_reuse_0[0] - (2 * S_i_0_reuse_0[1])) + S_i_0_reuse_0[2]) + (i - 1)))
            return B
        """)


def test_merge_with_the_shift_loop_of_another_array():
    """The window of C has the bounds of A's line-buffer shift loop, and x reads the line
    buffer at columns x and x - 2, which the merged loop has loaded already."""
    s = allo.customize(two_inputs)
    s.reuse_at(s.A, "y")
    s.reuse_at(s.C, "x")
    text = str(s)
    assert "x_shift" not in text
    assert "S_y_x_0_reuse_0[1, x] = A[y, x]" in text
    A, C = rand(10, 10, seed=1), rand(8, 10, seed=2)
    want = A[:8, 2:] + A[1:9, :8] + C[:, :8] + C[:, 2:10]
    np.testing.assert_array_equal(s.build()(A, C), want)


def test_no_merge_when_columns_are_not_provably_loaded():
    """x reads the line buffer at x - 2 + c (c a reduction loop): the loops stay apart."""
    s = allo.customize(conv_plus)
    s.reuse_at(s.A, "y")
    s.reuse_at(s.C, "x")
    text = str(s)
    assert "for x_shift in range(0, 10):  # S_y_x_0.x_shift range spatial=True" in text
    assert "for x in range(0, 10):  # S_y_x_0.x grid" in text
    A, C = rand(10, 10, seed=1), rand(8, 10, seed=2)
    want = windows(A, 3).sum(axis=(2, 3)) + C[:, :8] + C[:, 2:10]
    np.testing.assert_array_equal(s.build()(A, C), want)


# ------------------------------------------------------------------------------ each input once


@pytest.mark.parametrize(
    ("kernel", "loops"),
    [(blur, ["y"]), (blur, ["y", "x"]), (blur_3d, ["y", "x", "z"]), (blur_x, ["x"])],
)
def test_every_input_element_is_loaded_once(kernel, loops):
    s = allo.customize(kernel)
    size = s.top_func.params[0].type.size
    assert executed_loads(s.top_func.body, "A") > size
    target = s.A
    for loop in loops:
        target = s.reuse_at(target, loop)
    assert executed_loads(s.top_func.body, "A") == size


# ------------------------------------------------------------------------------ results


def _chain(*loops):
    def steps(s):
        target = s.A
        for loop in loops:
            target = s.reuse_at(target, loop)

    return steps


def _lb_wb_partition_reshape(s):
    LB = s.reuse_at(s.A, "y")
    WB = s.reuse_at(LB, "x")
    s.partition(LB, dim=1)
    s.partition(WB)
    s.reshape(s.B, (8, 2, 4))


CASES = [
    ("blur_y", blur, _chain("y"), lambda A: windows(A, 3).sum(axis=(2, 3))),
    ("blur_x_only", blur, _chain("x"), lambda A: windows(A, 3).sum(axis=(2, 3))),
    ("blur_yx", blur, _chain("y", "x"), lambda A: windows(A, 3).sum(axis=(2, 3))),
    ("blur_x", blur_x, _chain("x"), lambda A: A[:, :8] + A[:, 1:9] + A[:, 2:]),
    ("diag", blur_diag, _chain("y", "x"), lambda A: A[:8, :8] + A[1:9, 1:9] + A[2:, 2:]),
    (
        "3d",
        blur_3d,
        _chain("y", "x", "z"),
        lambda A: A[:8, :6, :4] + A[1:9, 1:7, 1:5] + A[2:, 2:, 2:],
    ),
    (
        "partition_reshape",
        blur,
        _lb_wb_partition_reshape,
        lambda A: windows(A, 3).sum(axis=(2, 3)).reshape(8, 2, 4),
    ),
    (
        "local",
        local_input,
        lambda s: s.reuse_at(s.X, "xx"),
        lambda A: 2 * (A[:, :8] + A[:, 1:9] + A[:, 2:]),
    ),
]


@pytest.mark.parametrize(
    ("kernel", "steps", "want"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_numpy_results(kernel, steps, want):
    s = allo.customize(kernel)
    steps(s)
    A = rand(*s.top_func.params[0].type.shape, seed=3)
    np.testing.assert_array_equal(s.build()(A), want(A))


def test_numpy_stride_and_filter():
    s = allo.customize(conv_stride2)
    s.partition(s.reuse_at(s.reuse_at(s.A, "y"), "x"))
    A, F = rand(10, 10, seed=4), rand(3, 3, seed=5)
    np.testing.assert_array_equal(s.build()(A, F), (windows(A, 3, 2) * F).sum(axis=(2, 3)))


def test_numpy_float_pooling_outer_loops():
    s = allo.customize(avgpool)
    LB = s.reuse_at(s.A, "h")
    assert LB.name == "S_n_c_h_w_0_reuse_2"  # h is the third loop of the band, as in Allo
    s.reuse_at(LB, "w")
    A = np.random.default_rng(6).random((2, 3, 8, 8)).astype(np.float32)
    want = allo.customize(avgpool).build()(A)
    np.testing.assert_array_equal(s.build()(A), want)  # same operations in the same order


def test_numpy_centered():
    s = allo.customize(centered)
    s.reuse_at(s.A, "i")
    A = rand(12, seed=7)
    want = np.zeros(12, np.int32)
    want[1:11] = A[:10] - 2 * A[1:11] + A[2:] + np.arange(1, 11)
    np.testing.assert_array_equal(s.build()(A), want)


@pytest.mark.parametrize(("kernel", "loops"), [(blur, ["y", "x"]), (blur_x, ["x"])])
def test_rtl_matches(kernel, loops):
    s = allo.customize(kernel)
    _chain(*loops)(s)
    A = rand(10, 10, seed=8)
    got, _ = run(s, A)
    np.testing.assert_array_equal(got, allo.customize(kernel).build()(A))


# ------------------------------------------------------------------------------ errors


def writes(A: int32[10]):
    for i in range(8):
        A[i] = A[i + 1] + A[i + 2]  # ERR:writes


def bad_reads(A: int32[10, 10], n: int32) -> int32:
    s: int32 = 0
    for i in range(8):
        s += A[i, i]
    for j in range(8):
        s += A[j * j, 0]  # ERR:affine
    for k in range(8):
        s += A[k, 0] + A[2 * k, 1]
    for t in range(8):
        s += A[t, 0] + A[t, 3]
    for u in range(n):  # ERR:bounds
        s += A[u, 0] + A[u + 1, 0]
    for w in range(8):
        s += A[0, 0] + w
    return s


@pytest.mark.parametrize(
    ("loop", "message"),
    [
        ("i", "loop `i` indexes more than one dimension of A"),
        (
            "j",
            "cannot analyse an index of A: the indices must be sums of variables times "
            "constants (kernel line {affine}: `s += A[j * j, 0]  # ERR:affine`)",
        ),
        ("k", "A must be indexed by `k` with one positive stride, not 1 and 2"),
        ("t", "no reuse: each iteration of loop `t` reads A at a single index of dimension 1"),
        (
            "u",
            "reuse_at needs loop `u` with constant bounds and step 1 "
            "(kernel line {bounds}: `for u in range(n):  # ERR:bounds`)",
        ),
        ("w", "A is not indexed by loop `w`: there is nothing to reuse"),
    ],
)
def test_errors(loop, message):
    s = allo.customize(bad_reads)
    with pytest.raises(ScheduleError) as e:
        s.reuse_at(s.A, loop)
    lines = {"affine": MARKS.line("affine"), "bounds": MARKS.line("bounds")}
    assert e.value.message == message.format(**lines)
    assert e.value.loc.file == __file__


def test_written_array_and_missing_reads():
    s = allo.customize(writes)
    with pytest.raises(ScheduleError) as e:
        s.reuse_at(s.A, "i")
    assert e.value.message == (
        "cannot reuse A at loop `i`: the loop writes A "
        f"(kernel line {MARKS.line('writes')}: `A[i] = A[i + 1] + A[i + 2]  # ERR:writes`)"
    )
    s = allo.customize(local_input)
    with pytest.raises(ScheduleError) as e:
        s.reuse_at(s.A, "xx")
    assert e.value.message == "loop `xx` does not read A: there is nothing to reuse"
