"""``s.compose``: sub-kernel schedules replayed on the caller's copy, instance ids, layouts
meeting at calls, and composition order."""

from __future__ import annotations

import numpy as np
import pytest

import allo_rtl as allo
from allo_rtl import Partition, ScheduleError
from allo_rtl.ir import For, walk
from allo_rtl.ir.types import int32

M = 8


def mac(A: int32[M, M], B: int32[M, M]) -> int32[M, M]:
    C: int32[M, M] = 0
    for i, j in allo.grid(M, M, name="C"):
        for k in allo.reduction(M):
            C[i, j] += A[i, k] * B[k, j]
    return C


def scale(A: int32[M, M]) -> int32[M, M]:
    D: int32[M, M] = 0
    for i, j in allo.grid(M, M, name="D"):
        D[i, j] = A[i, j] * 3
    return D


def two_mm(A: int32[M, M], B: int32[M, M], C: int32[M, M]) -> int32[M, M]:
    X = mac["first"](A, B)
    return mac["second"](X, C)


def chain(A: int32[M, M], B: int32[M, M]) -> int32[M, M]:
    X = mac(A, B)
    return scale(X)


def _attrs(s, func: str) -> dict[str, tuple]:
    fn = s.module.func(func)
    return {f.name: tuple(sorted(f.attrs)) for f in walk(fn) if isinstance(f, For)}


def _mac_schedule():
    s = allo.customize(mac)
    s.reorder("k", "j")
    s.pipeline("j")
    return s


def test_instance_ids_name_functions_like_allo():
    s = allo.customize(two_mm)
    assert [f.sym.name for f in s.module.funcs] == ["mac_first", "mac_second", "two_mm"]


def test_compose_one_instance_by_id():
    s = allo.customize(two_mm)
    s.compose(_mac_schedule(), id="second")
    assert _attrs(s, "mac_first")["j"] == ()
    assert [n for n, _ in _attrs(s, "mac_second").items()][:3] == ["i", "k", "j"]
    assert "pipeline" in dict(_attrs(s, "mac_second")["j"])
    rng = np.random.default_rng(0)
    a, b, c = (rng.integers(-50, 50, (M, M)).astype(np.int32) for _ in range(3))
    np.testing.assert_array_equal(s.build()(a, b, c), (a @ b) @ c)
    rtl = s.build(target="verilator")
    np.testing.assert_array_equal(rtl(a, b, c), (a @ b) @ c)
    # the composed instance is pipelined: (k, j) flattened at II=1 in the second product
    report = str(rtl.report())
    assert "mac_second" in report


def test_compose_replays_the_history_with_the_sub_schedules_lines():
    sub = _mac_schedule()
    s = allo.customize(chain)
    s.compose(sub)
    composed = [step for step in s.history]
    assert [st.primitive for st in composed] == ["reorder", "pipeline"]
    assert [st.loc for st in composed] == [st.loc for st in sub.history]
    assert all(
        str(a).startswith("mac:") for st in composed for a in _flat(st.args) if hasattr(a, "func")
    )


def _flat(args):
    for a in args:
        yield from _flat(a) if isinstance(a, tuple) else (a,)


def test_composition_order_does_not_matter():
    s_scale = allo.customize(scale)
    s_scale.pipeline("j")
    first = allo.customize(chain)
    first.compose(_mac_schedule())
    first.compose(s_scale)
    second = allo.customize(chain)
    second.compose([s_scale, _mac_schedule()])
    assert str(first) == str(second)


def test_partitions_meeting_at_a_call_must_agree():
    sub = allo.customize(mac)
    sub.partition(sub.A, Partition.Cyclic, dim=2, factor=2)
    s = allo.customize(chain)
    s.partition("chain:A", Partition.Block, dim=2, factor=2)
    with pytest.raises(ScheduleError) as info:
        s.compose(sub)
    sub_line = _line("sub.partition(sub.A, Partition.Cyclic, dim=2, factor=2)")
    top_line = _line('s.partition("chain:A", Partition.Block, dim=2, factor=2)')
    assert str(info.value).startswith(f"{sub_line}:")
    assert info.value.message == (
        "cannot partition dimension 2 of A as cyclic(2): it is already partitioned as block(2) "
        f'by {top_line}: `s.partition("chain:A", Partition.Block, dim=2, factor=2)`'
    )


def test_a_compatible_layout_propagates_from_the_sub_schedule():
    sub = allo.customize(mac)
    sub.partition(sub.B, Partition.Cyclic, dim=2, factor=2)
    s = allo.customize(chain)
    s.compose(sub)
    top = s.module.func("chain")
    layout = top.layout(top.params[1].sym)
    assert (layout.kinds, layout.factors) == (("none", "cyclic"), (0, 2))


def test_compose_errors():
    s = allo.customize(chain)
    with pytest.raises(ScheduleError) as info:
        s.compose(mac)
    assert info.value.message == "compose takes the Schedule of a called kernel, not function"
    with pytest.raises(ScheduleError) as info:
        s.compose(_mac_schedule(), id="third")
    assert info.value.message == "chain has no function `mac_third` to compose"
    assert info.value.hint == "chain calls mac, scale"
    t = allo.customize(two_mm)
    with pytest.raises(ScheduleError) as info:
        t.compose(_mac_schedule())
    assert info.value.hint == (
        "instances here: mac_first, mac_second; pass id= (the string after the type arguments "
        'at the call, as in mac[..., "x"](...))'
    )


def _line(statement: str) -> str:
    lines = open(__file__).read().splitlines()
    return f"{__file__}:{next(n for n, t in enumerate(lines, 1) if statement in t)}"
