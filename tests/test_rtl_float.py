"""Float kernels in RTL (Amaranth simulator): results equal to NumPy computed independently in
the same order, special values, the II of float recurrences, unit sharing and DSP use."""

import warnings

import numpy as np
import pytest
from amaranth_harness import run

import allo_rtl as allo
from allo_rtl.ir.types import bfloat16, float16, float32, int32
from allo_rtl.lowering import UnitIssue, lower, target_model, unit_instances

N = 16


def lowered(s, family="generic", mhz=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", allo.ScheduleWarning)
        return lower(s.module, target_model(family, mhz))


def user_pipelines(fsmd):
    return [p for p in fsmd.pipelines if "_init." not in p.name]


def bits(x):
    return np.asarray(x).view({2: np.uint16, 4: np.uint32, 8: np.uint64}[np.asarray(x).itemsize])


def dot(A: float32[N], B: float32[N]) -> float32:
    acc: float32 = 0.0
    for i in range(N):
        acc += A[i] * B[i]
    return acc


def sequential_dot(A, B):
    acc = np.float32(0)
    for a, b in zip(A, B):
        acc = np.float32(acc + np.float32(a * b))
    return acc


def random_pair(seed, bound):
    rng = np.random.default_rng(seed)
    return tuple(rng.uniform(-bound, bound, N).astype(np.float32) for _ in range(2))


def pipelined(kernel):
    s = allo.customize(kernel)
    s.pipeline("i")
    return s


def test_float_reduction_runs_at_the_adder_latency():
    A, B = random_pair(1, 50)
    s = pipelined(dot)
    with pytest.warns(allo.ScheduleWarning, match="pipelined at II=3"):
        got, cycles = run(s, A, B)
    assert bits(np.float32(got)) == bits(sequential_dot(A, B))
    (p,) = user_pipelines(lowered(s))
    assert p.ii == 3  # the float32 adder's latency: its result is forwarded to the next add
    assert p.reasons[0] == (
        "II=1: `acc` is read in cycle 4 of an iteration and written in cycle 7; "
        "the next iteration needs it 3 cycles after the read"
    )
    assert cycles <= (N - 1) * 3 + p.depth + 4


@pytest.mark.parametrize(
    ("family", "mhz", "ii"), [("ecp5", 100, 6), ("ecp5", 50, 3), ("ice40", 24, 4)]
)
def test_unit_latencies_follow_the_target_clock(family, mhz, ii):
    A, B = random_pair(2, 50)
    s = pipelined(dot)
    model = target_model(family, mhz)
    with pytest.warns(allo.ScheduleWarning, match=f"pipelined at II={ii}"):
        got, cycles = run(s, A, B, model=model)
    assert bits(np.float32(got)) == bits(sequential_dot(A, B))
    (p,) = user_pipelines(lowered(s, family, mhz))
    assert p.ii == ii  # the adder's latency at that clock
    assert cycles <= (N - 1) * ii + p.depth + 4
    seq = lowered(allo.customize(dot), family, mhz)
    keys = {a.unit for st in seq.states for a in st.actions if isinstance(a, UnitIssue)}
    assert {k.name: k.latency for k in keys}["fadd_float32"] == ii
    assert all(k.inputs_registered for k in keys)  # operands through a mux by state
    got, _ = run(allo.customize(dot), A, B, model=model)  # sequential: the shared units
    assert bits(np.float32(got)) == bits(sequential_dot(A, B))


def test_rated_unit_latencies_are_the_units_defaults():
    from allo_rtl.hw import fp
    from allo_rtl.lowering._float import _RATED

    units = {"add": fp.FloatAdd, "mul": fp.FloatMul, "div": fp.FloatDiv, "sqrt": fp.FloatSqrt}
    formats = {"float16": fp.FLOAT16, "bfloat16": fp.BFLOAT16, "float32": fp.FLOAT32}
    formats["float64"] = fp.FLOAT64
    for (op, name), (default, _, _) in _RATED.items():
        unit = units[op](formats[name])
        unit._MustUse__silence = True  # built for its latency only
        assert unit.latency == default, (op, name)


def test_sequential_code_shares_one_unit_per_kind():
    fsmd = lowered(allo.customize(dot))
    keys = {a.unit for st in fsmd.states for a in st.actions if isinstance(a, UnitIssue)}
    assert sorted(k.name for k in keys) == ["fadd_float32", "fmul_float32"]


def test_float_multiplies_count_dsp_blocks():
    s = allo.customize(dot)
    s.pipeline("i")
    assert str(lowered(s, "ecp5").dsp) == "4 MULT18X18D for 1 multiplies"
    assert str(lowered(s, "ice40").dsp) == "4 SB_MAC16 for 1 multiplies"


def int_product(A: int32[N]) -> int32:
    acc: int32 = 1
    for i in range(N):
        acc = acc * A[i]
    return acc


def test_a_multiply_result_is_forwarded_to_the_next_iteration():
    A = np.array([3, -1, 2, 5, -7, 1, 1, 2, 9, -3, 4, 1, -1, 2, 3, 11], dtype=np.int32)
    s = allo.customize(int_product)
    s.pipeline("i")
    got, _ = run(s, A)
    want = 1
    for a in A:
        want = (want * int(a) + 2**31) % 2**32 - 2**31
    assert got == want
    (p,) = user_pipelines(lowered(s))
    assert p.ii == 1


def specials(A: float32[8], B: float32[8]) -> (int32[8], float32[8], float32[8], float32[8]):
    C: int32[8] = 0
    D: float32[8] = 0.0
    E: float32[8] = 0.0
    F: float32[8] = 0.0
    for i in range(8):
        C[i] = (A[i] < B[i]) + 2 * (A[i] == B[i]) + 4 * (A[i] >= B[i]) + 8 * (A[i] != B[i])
        D[i] = min(A[i], B[i])
        E[i] = abs(A[i]) - B[i]
        F[i] = -A[i] / B[i]
    return C, D, E, F


def test_special_values():
    nan, inf = np.float32(np.nan), np.float32(np.inf)
    A = np.array([nan, 0.0, -0.0, inf, -inf, 1e-45, 3.0, -2.0], dtype=np.float32)
    B = np.array([1.0, -0.0, 0.0, inf, 1.0, -1e-45, nan, -2.0], dtype=np.float32)
    C, D, E, F = run(allo.customize(specials), A, B)[0]
    with np.errstate(all="ignore"):
        want_c = (A < B) + 2 * (A == B) + 4 * (A >= B) + 8 * (A != B)
        want = [np.minimum(A, B), np.abs(A) - B, -A / B]
    np.testing.assert_array_equal(C, want_c)
    for got, ref in zip((D, E, F), want):
        nan_ref = np.isnan(ref)
        np.testing.assert_array_equal(np.isnan(got), nan_ref)
        np.testing.assert_array_equal(bits(got)[~nan_ref], bits(ref)[~nan_ref])


def formats(A: float16[N], B: bfloat16[N]) -> (float16[N], bfloat16[N], float32[N]):
    C: float16[N] = 0.0
    D: bfloat16[N] = 0.0
    E: float32[N] = 0.0
    for i in range(N):
        C[i] = A[i] * A[i] - 1.5
        D[i] = B[i] / (B[i] + 3.0)
        E[i] = float32(A[i]) + float32(B[i])
    return C, D, E


def to_bf16(x):
    u = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000).astype(np.uint32).view(np.float32)


def test_float16_bfloat16_and_conversions():
    rng = np.random.default_rng(3)
    A = rng.uniform(-20, 20, N).astype(np.float16)
    B = to_bf16(rng.uniform(-20, 20, N))
    s = allo.customize(formats)
    s.pipeline("i")
    C, D, E = run(s, A, B)[0]
    want_c = (A * A).astype(np.float16) - np.float16(1.5)
    want_d = to_bf16(B / to_bf16(B + np.float32(3.0)))
    want_e = A.astype(np.float32) + B
    for got, ref in ((C, want_c), (D, want_d), (E, want_e)):
        np.testing.assert_array_equal(bits(got), bits(ref))


def pairs(A: float32[N], B: float32[N]) -> float32[N // 2]:
    C: float32[N // 2] = 0.0
    for i in range(N // 2):
        C[i] = A[2 * i] * B[2 * i] + A[2 * i + 1] * B[2 * i + 1]
    return C


def test_operations_in_distinct_slots_share_a_unit():
    A, B = random_pair(3, 9)
    s = pipelined(pairs)
    model = target_model("ice40", 24)
    with pytest.warns(allo.ScheduleWarning, match="pipelined at II=2"):
        got, _ = run(s, A, B, model=model)
    want = (A[0::2] * B[0::2]).astype(np.float32) + (A[1::2] * B[1::2]).astype(np.float32)
    assert bits(np.asarray(got, dtype=np.float32)).tolist() == bits(want).tolist()
    fsmd = lowered(s, "ice40", 24)
    (p,) = user_pipelines(fsmd)
    muls = [n for n, op in enumerate(p.ops) if op.unit is not None and op.unit.op == "mul"]
    assert p.ii == 2 and len(muls) == 2
    assert {p.times[n] % 2 for n in muls} == {0, 1}  # one read of A per cycle: distinct slots
    assert [unit_instances(p)[n] for n in muls] == [0, 0]  # so one multiplier serves both
    assert str(fsmd.dsp) == "4 SB_MAC16 for 1 multiplies"


def test_operations_in_one_slot_get_units_of_their_own():
    s = allo.customize(pairs)
    s.partition(s.A, partition_type=allo.Partition.Cyclic, dim=1, factor=2)
    s.partition(s.B, partition_type=allo.Partition.Cyclic, dim=1, factor=2)
    s.pipeline("i")
    fsmd = lowered(s, "ice40", 24)
    (p,) = user_pipelines(fsmd)
    assert p.ii == 1
    muls = [unit_instances(p)[n] for n, op in enumerate(p.ops) if op.unit and op.unit.op == "mul"]
    assert sorted(muls) == [0, 1]
    assert str(fsmd.dsp) == "8 SB_MAC16 for 2 multiplies"


def softplus_like(A: float32[N]) -> float32[N]:
    C: float32[N] = 0.0
    for i in range(N):
        C[i] = allo.exp(A[i]) * A[i]
    return C


def test_math_units_count_their_dsp_blocks():
    s = allo.customize(softplus_like)
    s.pipeline("i")
    # exp: 6 MULT18X18D / 14 SB_MAC16 as yosys maps it; the float32 multiply: 4 / 4
    assert str(lowered(s, "ecp5").dsp) == "10 MULT18X18D for 1 multiplies and 1 math units"
    assert str(lowered(s, "ice40").dsp) == "18 SB_MAC16 for 1 multiplies and 1 math units"
