"""The RTL watchdog: a cycle limit derived from the design (overridable), and on expiry a report
of the dataflow tasks still running or waiting and the FIFOs they wait on."""

# ruff: noqa: F821 - streams are declared in regions without a value

import os

import numpy as np
import pytest

import allo_rtl as allo
import allo_rtl.dataflow as df
from allo_rtl.frontend import parse
from allo_rtl.ir.types import Stream, int32
from allo_rtl.sim._watch import FALLBACK_LIMIT, cycle_limit

N = 8


def loops(A: int32[N], B: int32[N]):
    for i in range(N):  # 1 + 8 * (2 + 1)
        x: int32 = A[i]
        B[i] = x + 1
    B[0] = 0  # 1


def with_while(A: int32[N]):
    k: int32 = 0  # 1
    while k < A[0]:
        k += 1


def calls_loops(A: int32[N], B: int32[N]):
    loops(A, B)  # 1 + 26
    loops(A, B)  # 1 + 26


def test_cycle_limit_counts_statements_of_constant_loops_and_calls():
    assert cycle_limit(parse(loops)) == 64 * (1 + 8 * 3 + 1) + 10_000
    assert cycle_limit(parse(calls_loops)) == 64 * 2 * (1 + 26) + 10_000


def test_cycle_limit_falls_back_when_a_loop_runs_until_a_condition():
    assert cycle_limit(parse(with_while)) == FALLBACK_LIMIT == 10_000_000


@df.region()
def slow(A: int32[N], B: int32[N], C: int32[N]):
    pipe: Stream[int32, 2]

    @df.kernel(mapping=[1], args=[A, C])
    def worker(a: int32[N], c: int32[N]):
        for i in range(N):
            k: int32 = 0
            while k < a[i]:  # runs as long as the input says
                k += 1
            c[i] = k
        pipe.put(c[0])

    @df.kernel(mapping=[1], args=[B])
    def waiter(b: int32[N]):
        b[0] = pipe.get()


def test_a_region_with_a_while_loop_in_a_task_gets_the_fallback():
    assert cycle_limit(df.customize(slow).module) == FALLBACK_LIMIT


def _rtl(design, **options):
    try:
        return df.customize(design).build(target="verilator", **options)
    except allo.ToolNotFound as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module", autouse=True)
def rtl_cache(request, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        if not os.environ.get("ALLO_RTL_CACHE"):
            cache = getattr(request.config, "cache", None)
            where = cache.mkdir("allo_rtl_sim") if cache else tmp_path_factory.mktemp("sim")
            mp.setenv("ALLO_RTL_CACHE", str(where))
        yield


def test_expiry_reports_running_and_waiting_tasks():
    mod = _rtl(slow, max_cycles=300)
    assert mod.max_cycles == 300
    A = np.full(N, 1000, np.int32)  # the worker needs about 8 * 1000 cycles
    with pytest.raises(allo.SimulationError) as info:
        mod(A, np.zeros(N, np.int32), np.zeros(N, np.int32))
    assert str(info.value).splitlines()[:3] == [
        "slow on verilator: the kernel did not signal done within 300 cycles",
        "  worker is running (not waiting on a stream)",
        "  waiter waits to get from `pipe` (empty)",
    ]
    assert info.value.hint == "raise max_cycles (now 300) if the kernel needs longer"


def test_a_short_run_finishes_within_the_override():
    mod = _rtl(slow, max_cycles=300)
    A = np.array([1, 0, 2, 0, 0, 0, 0, 3], np.int32)
    B, C = np.zeros(N, np.int32), np.zeros(N, np.int32)
    mod(A, B, C)
    np.testing.assert_array_equal(C, A)
    assert B[0] == A[0]
    assert mod.fifo_high_water == {"pipe": 1}
