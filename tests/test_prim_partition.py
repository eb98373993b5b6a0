"""``s.partition``: records a Layout per array (printed above the function), propagates it
across calls, rejects what the banked memories cannot implement; results stay identical on
the NumPy target and in RTL (the lowering does not bank memories yet)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from allo_rtl.primitives._common import ArrayRefName
from allo_rtl.primitives.partition import partition
from amaranth_harness import run

import allo_rtl as allo
from allo_rtl import Partition, ScheduleError
from allo_rtl.ir import Layout, verify
from allo_rtl.ir.types import int32

M, N = 4, 8


def vadd(A: int32[M, N], B: int32[M, N]) -> int32[M, N]:
    C: int32[M, N] = 0
    for i, j in allo.grid(M, N):
        C[i, j] = A[i, j] + B[i, j]
    return C


def gemm(A: int32[M, M], B: int32[M, M]) -> int32[M, M]:
    C: int32[M, M] = 0
    for i, j in allo.grid(M, M):
        for k in allo.reduction(M):
            C[i, j] += A[i, k] * B[k, j]
    return C


def add_one(X: int32[M, N]) -> int32[M, N]:
    Y: int32[M, N] = 0
    for i, j in allo.grid(M, N):
        Y[i, j] = X[i, j] + 1
    return Y


def scale(Z: int32[M, N]):
    for i, j in allo.grid(M, N):
        Z[i, j] *= 2


def caller(inp: int32[M, N]) -> int32[M, N]:
    t1 = add_one(inp)
    t2 = add_one(inp)
    scale(t2)
    out: int32[M, N] = 0
    for i, j in allo.grid(M, N):
        out[i, j] = t1[i, j] + t2[i, j]
    return out


def layout(s, name, func=None):
    fn = s.module.func(func) if func else s.top_func
    sym = next(sym for sym, _ in fn.layouts if sym.name == name)
    return fn.layout(sym)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).integers(-100, 100, size=shape).astype(np.int32)


# ------------------------------------------------------------------------------ the layout


def test_default_is_complete_on_every_dimension():
    s = allo.customize(vadd)
    s.partition(s.A)
    assert layout(s, "A") == Layout(("complete", "complete"), (0, 0))
    assert str(s).startswith(
        "# A: partition[complete, complete]\ndef vadd(A: int32[4, 8], B: int32[4, 8])"
    )


def test_dimensions_add_up_and_repeats_are_fine():
    s = allo.customize(vadd)
    s.partition(s.B, Partition.Cyclic, dim=2, factor=4)
    s.partition(s.B, Partition.Block, dim=1, factor=2)
    s.partition(s.B, Partition.Cyclic, dim=2, factor=4)  # identical: accepted
    s.partition(s.C, Partition.Block, dim=0, factor=2)
    assert layout(s, "B") == Layout(("block", "cyclic"), (2, 4))
    assert layout(s, "C") == Layout(("block", "block"), (2, 2))
    assert str(s).splitlines()[:2] == [
        "# B: partition[block(2), cyclic(4)]",
        "# C: partition[block(2), block(2)]",
    ]
    assert str(s).splitlines()[2:] == str(allo.customize(vadd)).splitlines()  # code unchanged


def test_complete_ignores_the_factor_and_banks():
    s = allo.customize(vadd)
    s.partition(s.A, Partition.Complete, dim=2, factor=3)
    lay = layout(s, "A")
    assert lay == Layout(("none", "complete"), (0, 0))
    assert [lay.banks(d, n) for d, n in enumerate((M, N))] == [1, N]


def test_primitive_is_a_pure_function():
    module = allo.customize(vadd).module
    out = verify(partition(module, ArrayRefName(None, "A"), "cyclic", 1, 2))
    assert module.top_func.layouts == ()
    assert [(s.name, lay) for s, lay in out.top_func.layouts] == [
        ("A", Layout(("cyclic", "none"), (2, 0)))
    ]


# ------------------------------------------------------------------------------ across calls


def test_propagates_to_callee_params_returns_and_every_call_site():
    s = allo.customize(caller)
    s.partition(s.t1, Partition.Cyclic, dim=2, factor=2)
    want = Layout(("none", "cyclic"), (0, 2))
    # t1 receives add_one's Y, which t2 receives as well; t2 is passed to scale's Z
    assert layout(s, "Y", "add_one") == want
    assert layout(s, "t2") == want
    assert layout(s, "Z", "scale") == want
    assert s.top_func.layout(s.top_func.params[0].sym) is None  # inp is another memory
    s.partition("add_one:X", Partition.Complete, dim=1)
    assert layout(s, "inp") == Layout(("complete", "none"), (0, 0))


def _line_of(statement: str) -> str:
    """``file:line`` of the first line of this file that holds ``statement``."""
    lines = open(__file__).read().splitlines()
    return f"{__file__}:{next(n for n, t in enumerate(lines, 1) if statement in t)}"


def test_conflict_through_a_call():
    s = allo.customize(caller)
    s.partition("scale:Z", Partition.Block, dim=1, factor=2)  # reaches t2, add_one:Y and t1
    with pytest.raises(ScheduleError) as e:
        s.partition(s.t1, Partition.Cyclic, dim=1, factor=2)
    first = _line_of('s.partition("scale:Z", Partition.Block, dim=1, factor=2)')
    assert e.value.message == (
        "cannot partition dimension 1 of t1 as cyclic(2): it is already partitioned as block(2)"
        f' by {first}: `s.partition("scale:Z", Partition.Block, dim=1, factor=2)  # reaches '
        "t2, add_one:Y and t1`"
    )
    # a layout set on one side only (not by partition, which propagates) is named as such
    module = s.module
    fn = module.func("scale")
    module = replace(
        module, funcs=tuple(replace(f, layouts=()) if f is not fn else f for f in module.funcs)
    )
    with pytest.raises(ScheduleError) as e:
        partition(module, ArrayRefName(None, "t1"), "cyclic", 1, 2)
    assert e.value.message == (
        "cannot partition dimension 1 of t1 as cyclic(2): Z of scale, the same memory "
        "through a call, is already partitioned as block(2)"
        f' by {first}: `s.partition("scale:Z", Partition.Block, dim=1, factor=2)  # reaches '
        "t2, add_one:Y and t1`"
    )


# ------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        (
            (Partition.Complete, 3, 0),
            "partition dimension 3 is out of range for A (int32[4, 8])",
            "use dim=0 for every dimension or a dimension from 1 to 2",
        ),
        (
            (Partition.Complete, -1, 0),
            "partition dimension -1 is out of range for A (int32[4, 8])",
            "use dim=0 for every dimension or a dimension from 1 to 2",
        ),
        (
            (Partition.Cyclic, 1, 0),
            "a cyclic partition needs a positive factor (the number of banks), not 0",
            "e.g. `s.partition(s.A, Partition.Cyclic, dim=1, factor=2)`",
        ),
        (
            (Partition.Block, 2, -2),
            "a block partition needs a positive factor (the number of banks), not -2",
            "e.g. `s.partition(s.A, Partition.Block, dim=2, factor=2)`",
        ),
        (
            (Partition.Block, 2, 3),
            "cannot partition dimension 2 of A (extent 8) into 3 block banks: the factor must "
            "divide the extent, as the banks of a memory must have equal sizes",
            "use a factor that divides 8, e.g. 2 or 4",
        ),
        (
            (Partition.Cyclic, 0, 8),
            "cannot partition dimension 1 of A (extent 4) into 8 cyclic banks: the factor must "
            "divide the extent, as the banks of a memory must have equal sizes",
            "use a factor that divides 4, e.g. 4",
        ),
    ],
)
def test_errors(args, message, hint):
    s = allo.customize(vadd)
    with pytest.raises(ScheduleError) as e:
        s.partition(s.A, *args)
    assert (e.value.message, e.value.hint) == (message, hint)
    assert e.value.loc.file == __file__  # reported at the schedule call
    assert s.module.top_func.layouts == ()


def test_conflict_on_one_array():
    s = allo.customize(vadd)
    s.partition(s.A, Partition.Cyclic, dim=2, factor=2)
    with pytest.raises(ScheduleError) as e:
        s.partition(s.A, Partition.Cyclic, dim=0, factor=4)
    first = _line_of("s.partition(s.A, Partition.Cyclic, dim=2, factor=2)")
    assert e.value.message == (
        "cannot partition dimension 2 of A as cyclic(4): it is already partitioned as cyclic(2)"
        f" by {first}: `s.partition(s.A, Partition.Cyclic, dim=2, factor=2)`"
    )
    assert e.value.hint == "partition each dimension once (repeating the same partition is fine)"
    assert layout(s, "A") == Layout(("none", "cyclic"), (0, 2))  # unchanged


def test_unknown_kind_in_the_primitive():
    module = allo.customize(vadd).module
    with pytest.raises(ScheduleError, match="partition kind must be one of complete, block"):
        partition(module, ArrayRefName(None, "A"), "diagonal", 0, 0)


# ------------------------------------------------------------------------------ results


def _schedules(kernel):
    s = allo.customize(kernel)
    s.partition(s.A, Partition.Cyclic, dim=2, factor=2)
    s.partition(s.B, Partition.Block, dim=1, factor=2)
    s.partition(s.C)
    return s


@pytest.mark.parametrize("kernel", [vadd, gemm])
def test_results_unchanged_numpy_and_rtl(kernel):
    shape = (M, N) if kernel is vadd else (M, M)
    A, B = rand(*shape, seed=1), rand(*shape, seed=2)
    want = A + B if kernel is vadd else A @ B
    s = _schedules(kernel)
    np.testing.assert_array_equal(s.build()(A, B), want)
    got, _ = run(s, A, B)
    np.testing.assert_array_equal(got, want)


def test_calls_numpy():
    inp = rand(M, N, seed=3)
    s = allo.customize(caller)
    s.partition(s.t1, Partition.Cyclic, dim=2, factor=4)
    s.partition(s.inp, Partition.Block, dim=1, factor=2)
    np.testing.assert_array_equal(s.build()(inp), (inp + 1) + 2 * (inp + 1))
