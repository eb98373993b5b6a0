"""Partitioned arrays in RTL: banks of local and argument arrays, static and run-time bank
selection, register banks, banked arguments through calls and through the shell (Verilator)."""

import warnings

import numpy as np
import pytest
from amaranth_harness import run

import allo_rtl as allo
from allo_rtl.ir.types import int16, int32
from allo_rtl.lowering import build_report, lower, target_model

N = 16


def main_pipelines(s):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", allo.ScheduleWarning)
        return [p for p in lower(s.module).pipelines if "_init." not in p.name]


def pairs(A: int32[2 * N]) -> int32[N]:
    B: int32[N] = 0
    for i in range(N):
        B[i] = A[2 * i] + A[2 * i + 1]
    return B


def pairs_schedule(partitioned):
    s = allo.customize(pairs)
    s.pipeline("i")
    if partitioned:
        s.partition(s.A, allo.Partition.Cyclic, dim=1, factor=2)
    return s


@pytest.mark.parametrize("partitioned", [False, True])
def test_cyclic_partition_gives_each_read_its_own_port(partitioned):
    A = (np.arange(2 * N, dtype=np.int32) * 7) - 50
    s = pairs_schedule(partitioned)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", allo.ScheduleWarning)
        got, cycles = run(s, A)
    np.testing.assert_array_equal(got, A[0::2] + A[1::2])
    (p,) = main_pipelines(s)
    assert p.ii == (1 if partitioned else 2)
    assert cycles <= p.ii * N + 4


def test_banked_argument_arrays_through_the_shell():
    A = (np.arange(2 * N, dtype=np.int32) * -3) + 11
    mod = pairs_schedule(True).build(target="verilator")
    np.testing.assert_array_equal(mod(A), A[0::2] + A[1::2])
    assert mod.cycles <= N + 4
    report = mod.report()
    assert [(a.name, a.banks) for a in report.arrays] == [("A", 2), ("B", 1)]
    assert mod.design.address_map["arrays"]["A"]["depth"] == 2 * N  # the host sees it flat


def rows(A: int16[4, 6]) -> int32[4]:
    S: int32[4] = 0
    for i in range(4):
        acc: int32 = 0
        for j in range(6):
            acc += A[i, j]
        S[i] = acc
    return S


@pytest.mark.parametrize(
    ("kind", "dim", "factor"),
    [("Block", 1, 2), ("Cyclic", 2, 3), ("Block", 2, 2), ("Complete", 1, 0), ("Complete", 0, 0)],
)
def test_run_time_bank_selection(kind, dim, factor):
    """Sequential loops index partitioned arrays with variables: the bank is chosen at run
    time (every bank addressed, read data selected by the bank the read used)."""
    rng = np.random.default_rng(3)
    A = rng.integers(-300, 300, (4, 6)).astype(np.int16)
    s = allo.customize(rows)
    s.partition(s.A, getattr(allo.Partition, kind), dim=dim, factor=factor)
    got, _ = run(s, A)
    np.testing.assert_array_equal(got, A.astype(np.int32).sum(axis=1))


def test_run_time_banks_through_the_shell():
    rng = np.random.default_rng(4)
    A = rng.integers(-300, 300, (4, 6)).astype(np.int16)
    s = allo.customize(rows)
    s.partition(s.A, allo.Partition.Cyclic, dim=2, factor=3)
    mod = s.build(target="verilator")
    np.testing.assert_array_equal(mod(A), A.astype(np.int32).sum(axis=1))


def window(A: int32[N]) -> int32[N]:
    W: int32[3] = 0
    B: int32[N] = 0
    for i in range(N):
        W[0] = W[1]
        W[1] = W[2]
        W[2] = A[i]
        B[i] = W[0] + W[1] + W[2]
    return B


def test_complete_partition_makes_registers_and_reaches_ii_1():
    A = np.arange(N, dtype=np.int32) ** 2
    s = allo.customize(window)
    s.partition(s.W, allo.Partition.Complete)
    s.pipeline("i")
    got, cycles = run(s, A)
    padded = np.concatenate([[0, 0], A])
    np.testing.assert_array_equal(got, padded[:-2] + padded[1:-1] + padded[2:])
    (p,) = main_pipelines(s)
    assert p.ii == 1
    report = build_report(lower(s.module))  # what mod.report() shows, without elaborating
    assert [(a.name, a.banks, a.storage) for a in report.arrays if a.name == "W"] == [
        ("W", 3, "registers")
    ]


def add_pairs(X: int32[2 * N], Y: int32[N]):
    for i in range(N):
        Y[i] = X[2 * i] + X[2 * i + 1]


def calls_with_banks(A: int32[2 * N]) -> int32[N]:
    B: int32[N] = 0
    add_pairs(A, B)
    return B


def test_partitioned_argument_passed_to_a_callee():
    A = np.arange(2 * N, dtype=np.int32) - 9
    s = allo.customize(calls_with_banks)
    s.partition(s.A, allo.Partition.Cyclic, dim=1, factor=2)
    s.pipeline("add_pairs:i")
    got, _ = run(s, A)
    np.testing.assert_array_equal(got, A[0::2] + A[1::2])
    callee = lower(s.module).callees[0][1]
    assert [p.ii for p in callee.pipelines] == [1]


def vadd(A: int32[N], B: int32[N]) -> int32[N]:
    C: int32[N] = 0
    for i in range(N):
        C[i] = A[i] + B[i]
    return C


def test_unrolled_copies_run_in_the_same_cycles():
    """Without pipelining, the copies of an unrolled body are scheduled as one block: with
    the arrays banked like the unroll, four elements are added per cycle."""
    A = np.arange(N, dtype=np.int32) * 5
    B = np.arange(N, dtype=np.int32) - 7
    s = allo.customize(vadd)
    _, sequential = run(s, A, B)
    s.unroll("i", 4)
    for name in ("A", "B", "C"):
        s.partition(name, allo.Partition.Cyclic, dim=1, factor=4)
    got, cycles = run(s, A, B)
    np.testing.assert_array_equal(got, A + B)
    assert sequential == 2 * N + 2  # a load cycle and an add-and-store cycle per element
    assert cycles <= N // 4 + 6


def local_pairs(A: int32[2 * N]) -> int32[N]:
    T: int32[2 * N] = 0
    for i in range(2 * N):
        T[i] = A[i] + 1
    B: int32[N] = 0
    for j in range(N):
        B[j] = T[2 * j] * T[2 * j + 1]
    return B


@pytest.mark.parametrize(("family", "ii"), [("generic", 2), ("ice40", 2), ("ecp5", 1)])
def test_ecp5_block_ram_has_two_read_write_ports(family, ii):
    """The scheduler knows the family: a local array read twice per iteration needs II=2 on
    one read port, II=1 on ECP5's two read-write ports."""
    import amaranth_harness

    A = np.arange(2 * N, dtype=np.int32) * 3 - 40
    s = allo.customize(local_pairs)
    s.pipeline("i")
    s.pipeline("j")
    model = target_model(family)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", allo.ScheduleWarning)
        (p,) = [p for p in lower(s.module, model).pipelines if p.name == "S_j_1.j"]
        original = amaranth_harness.lower
        amaranth_harness.lower = lambda module: original(module, model)
        try:
            got, _ = run(s, A)
        finally:
            amaranth_harness.lower = original
    assert p.ii == ii
    T = A.astype(np.int64) + 1
    np.testing.assert_array_equal(got, (T[0::2] * T[1::2]).astype(np.int32))


def local_pair_writes(A: int32[2 * N]) -> int32[2 * N]:
    T: int32[2 * N] = 0
    for j in range(N):
        T[2 * j] = A[2 * j] + 1
        T[2 * j + 1] = A[2 * j + 1] * 3
    B: int32[2 * N] = 0
    for i in range(2 * N):
        B[i] = T[2 * N - 1 - i]
    return B


def pair_writes_schedule():
    s = allo.customize(local_pair_writes)
    s.partition(s.A, allo.Partition.Cyclic, dim=1, factor=2)
    s.pipeline("j")
    s.pipeline("i")
    return s


@pytest.mark.parametrize(("family", "ii"), [("generic", 2), ("ice40", 2), ("ecp5", 1)])
def test_ecp5_block_ram_takes_two_writes_per_cycle(family, ii):
    """T[2j] and T[2j+1] never alias (exact affine test), so on ECP5's two read-write ports
    both writes issue every cycle; one write port needs II=2."""
    import amaranth_harness

    A = np.arange(2 * N, dtype=np.int32) * 7 - 100
    s = pair_writes_schedule()
    model = target_model(family)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", allo.ScheduleWarning)
        (p,) = [p for p in lower(s.module, model).pipelines if p.name == "S_j_0.j"]
        got, _ = amaranth_harness.run(s, A, model=model)
    assert p.ii == ii
    T = np.empty(2 * N, np.int64)
    T[0::2], T[1::2] = A[0::2].astype(np.int64) + 1, A[1::2].astype(np.int64) * 3
    np.testing.assert_array_equal(got, T[::-1].astype(np.int32))


@pytest.mark.slow
def test_ecp5_two_write_ports_map_to_block_ram(tmp_path):
    """Both write ports of T in use: yosys builds T from DP16KD (true dual port, with a
    bypass for a read of the other port's write), not from flip-flops (32 x 32 bits)."""
    from test_dsp_budget import synth_cells

    s = pair_writes_schedule()
    text = s.build(target="verilog", family="ecp5").kernel_verilog
    cells = synth_cells(tmp_path, {"local_pair_writes": text}, "ecp5")["local_pair_writes"]
    assert cells.get("DP16KD", 0) >= 1
    assert cells.get("TRELLIS_FF", 0) < 1024
