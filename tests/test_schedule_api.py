"""The Schedule's primitive methods: Allo's signatures, returned handles, recorded history and
the location of errors."""

import pytest

import allo_rtl as allo
from allo_rtl.ir.types import int32


def gemm(A: int32[4, 4], B: int32[4, 4]) -> int32[4, 4]:
    C: int32[4, 4] = 0
    for i, j in allo.grid(4, 4, name="C"):
        for k in allo.reduction(4):
            C[i, j] += A[i, k] * B[k, j]
    return C


def test_fuse_returns_the_fused_loop():
    s = allo.customize(gemm)
    fused = s.fuse("i", "j")
    assert str(fused) == "gemm:C.i_j_fused"
    s.pipeline(fused)
    assert "# C.i_j_fused grid pipeline=1" in str(s)


@pytest.mark.parametrize(("given", "shown"), [(0, "complete"), (1, "block(2)"), (2, "cyclic(2)")])
def test_partition_accepts_allos_integer_kinds(given, shown):
    s = allo.customize(gemm)
    s.partition(s.A, given, dim=1, factor=2)
    expected = f"partition[{shown}, none]" if given else "partition[complete, none]"
    assert f"# A: {expected}" in str(s)


def test_history_records_resolved_names_and_the_call_site():
    s = allo.customize(gemm)
    line = test_history_records_resolved_names_and_the_call_site.__code__.co_firstlineno + 3
    s.split("j", 2)
    s.pipeline("C.k", initiation_interval=2)
    split, pipe = s.history
    assert (split.primitive, str(split.args[0]), split.args[1]) == ("split", "j", 2)
    assert (pipe.primitive, str(pipe.args[0]), pipe.args[1:]) == ("pipeline", "C.k", (2, False))
    assert (split.loc.file, split.loc.line) == (__file__, line)
    assert pipe.loc.line == line + 1


def test_unknown_loop_lists_the_loops_at_the_users_line():
    s = allo.customize(gemm)
    with pytest.raises(allo.ScheduleError) as e:
        s.unroll("q")
    line = test_unknown_loop_lists_the_loops_at_the_users_line.__code__.co_firstlineno + 3
    assert str(e.value).splitlines()[0] == (
        f"{__file__}:{line}:9: gemm has no loop `q`; loops: C.i, C.j, C.k"
    )
    assert s.history == []  # nothing was applied
