"""The product path: kernels built with ``s.build(target="verilator")`` against the NumPy target.

Representative integer kernels of the kernel test modules (calls, while loops, if/else, bit
operations, ``Int(100)`` values, ``Fixed``, scalar and tuple returns, in-place kernels) run as
Verilog in Verilator under cocotb, through the shell's host bus; every result, and every array
argument written in place, must equal the NumPy target's bit for bit (values, dtypes, shapes,
Python result types). Compiled simulators are cached in pytest's cache directory (as in
tests/test_rtl_shell.py), so a rerun does not recompile.
"""

import gc
import math
import os
import warnings

import numpy as np
import pytest
import test_kernels_calls as kcl
import test_kernels_control as kc
import test_kernels_int as ki
import test_kernels_rtl_edges as ke
from amaranth.hdl import UnusedElaboratable
from amaranth_harness import run
from errhelp import Markers

import allo_rtl as allo
from allo_rtl.ir.types import Fixed, Int, UFixed, UInt, float64, int32, uint64

markers = Markers(__file__)
I32_MIN, I32_MAX = -(2**31), 2**31 - 1


@pytest.fixture(scope="module", autouse=True)
def rtl_cache(request, tmp_path_factory):
    """Compiled simulators go to pytest's cache directory unless ALLO_RTL_CACHE is set."""
    with pytest.MonkeyPatch.context() as mp:
        if not os.environ.get("ALLO_RTL_CACHE"):
            cache = getattr(request.config, "cache", None)
            where = cache.mkdir("allo_rtl_sim") if cache else tmp_path_factory.mktemp("sim")
            mp.setenv("ALLO_RTL_CACHE", str(where))
        yield


_modules: dict = {}


def built(kernel):
    """(NumPy module, Verilator module) of ``kernel``, built once per test process."""
    if kernel not in _modules:
        s = allo.customize(kernel)
        _modules[kernel] = (s.build(), s.build(target="verilator"))
    return _modules[kernel]


# --------------------------------------------------------------------------------------------
# Inputs (seeded, with the edge cases of the kernels' own tests)


def i32(rng, n, lo=I32_MIN, hi=I32_MAX):
    return rng.integers(lo, hi, size=n, endpoint=True, dtype=np.int64).astype(np.int32)


def bigints(rng, bits, n, signed=True):
    out = np.empty(n, dtype=object)
    values = []
    for _ in range(n):
        v = int.from_bytes(rng.bytes((bits + 7) // 8), "little") % (1 << bits)
        values.append(v - (1 << bits) if signed and v >> (bits - 1) else v)
    out[:] = values
    return out


def fixed(rng, n, lo, hi, fracs=8):
    """Values exactly representable with ``fracs`` fraction bits (no conversion warning)."""
    return np.trunc(rng.uniform(lo, hi, n) * 2**fracs) / 2**fracs


def div_inputs(rng):
    a, b = i32(rng, 16, -1000, 1000), i32(rng, 16, -50, 50)
    pairs = [
        (-7, 2), (7, -2), (I32_MIN, -1), (I32_MIN, 1),
        (0, -5), (-1, I32_MIN), (5, 0), (I32_MAX, -2),
    ]  # fmt: skip
    for k, (x, y) in enumerate(pairs):
        a[k], b[k] = x, y
    return [a, b, np.full(16, 99, np.int32), np.full(16, -99, np.int32)]


def shift_inputs(rng):
    a = i32(rng, 16)
    a[:4] = [-1, -12345, I32_MIN, 0x40000001]
    return [a, np.array([0, 1, 31, 3, 32, 33, 40, -1, 5, 17, 30, 2, 8, 31, 1, 16], np.int32)]


def popcount_inputs(rng):
    a = i32(rng, 16)
    a[:3] = [0, -1, I32_MIN]
    return [a]


def i100_inputs(rng):
    a, b = bigints(rng, 100, 16), bigints(rng, 100, 16)
    a[0], b[0], a[1], b[1] = 2**99 - 1, 1, -(2**99), 1
    return [a, b]


def i128_inputs(rng):
    x = rng.integers(-(2**63), 2**63, 16, dtype=np.int64)
    return [bigints(rng, 128, 16), bigints(rng, 128, 16), x, x[::-1].copy()]


def u100_inputs(rng):
    a = bigints(rng, 100, 16, signed=False)
    a[0], a[1] = 1, 2**100 - 1
    return [a]


def wide_ops_inputs(rng):
    a, b = bigints(rng, 100, 16), bigints(rng, 100, 16)
    b[2:] >>= rng.integers(0, 90, 14)  # quotients of all sizes
    a[0], b[0], b[1] = -(2**99), -1, 0  # INT_MIN / -1 wraps; division by zero is defined
    return [a, b]


def mixed_div_inputs(rng):
    u = rng.integers(0, 2**32, 16, dtype=np.uint64).astype(np.uint32)
    s = i32(rng, 16, -1000, 1000)
    u[:4], s[:4] = [3_000_000_000, 7, 2**32 - 1, 5], [-1, -2, 1, 0]
    return [u, s]


def fixed_ops_inputs(rng):
    a, b = fixed(rng, 16, -20, 20), fixed(rng, 16, -20, 20)
    a[:4], b[:4] = [-1.5, 100.0, 1.5, -0.00390625], [2.5, 100.0, -1.5, 0.5]
    return [a, b]


def fixed_div_inputs(rng):
    a, b = fixed(rng, 16, -100, 100), fixed(rng, 16, -8, 8)
    a[:5], b[:5] = [1.0, -1.0, -128.0, 5.0, 3.0], [3.0, 3.0, -0.00390625, 0.0, -0.5]
    return [a, b, -7]


def u64_inputs(rng):
    a = rng.integers(0, 2**64, 16, dtype=np.uint64)
    b = rng.integers(0, 2**64, 16, dtype=np.uint64)
    a[:3], b[:3] = [2**64 - 1, 2**63 + 1, 2**53 + 1], [1, 2**63, 2**53]
    return [a, b]


def gcd_inputs(rng):
    a, b = i32(rng, 16, 1, 10**6), i32(rng, 16, 1, 10**6)
    a[:3], b[:3] = [48, 17, 1024], [18, 0, 4096]
    return [a, b]


def isqrt_inputs(rng):
    a = i32(rng, 16, 0)
    a[:4] = [0, 1, I32_MAX, 46340 * 46340]
    return [a]


def classify_inputs(rng):
    a = i32(rng, 16, -30, 30)
    a[:5] = [0, 10, 11, -10, -11]
    return [a]


def search_inputs(rng):
    return [i32(rng, 16, 0, 4), 3]


def sort_inputs(rng):
    a = i32(rng, 16)
    a[3] = a[7]
    return [a]


def steps_inputs(rng):
    a = i32(rng, 16)
    a[0], a[1] = 0, -1
    return [a]


def wide_scalars(
    a: Int(100), b: UInt(70), c: Fixed(20, 7), d: UFixed(9, 9), e: Int(1), f: uint64
) -> (Int(170), Fixed(30, 16), UInt(65), Int(1)):
    return a * b, c * d, f + f, e


def wide_scalar_inputs(rng):
    return [-(2**99), 2**70 - 1, -4096.0, 511 / 512, -1, 2**64 - 1]


CASES = [
    # test_kernels_int: arithmetic, division, shifts, bits, wide and fixed-point values
    (ki.dot_int, lambda rng: [i32(rng, 16, -(2**20), 2**20), i32(rng, 16, -(2**20), 2**20)]),
    (ki.div_mod_c, div_inputs),
    (ki.shifts_i32, shift_inputs),
    (ki.popcount, popcount_inputs),
    (ki.slice_set, lambda rng: [i32(rng, 16), i32(rng, 16)]),
    (ki.bit_set, lambda rng: [i32(rng, 16), rng.integers(0, 2, 16, dtype=np.uint8)]),
    (ki.mixed_div, mixed_div_inputs),
    (ki.add_i100, i100_inputs),
    (ki.wide_ops, wide_ops_inputs),
    (ki.mul_i128, i128_inputs),
    (ki.wide_reverse, u100_inputs),
    (ki.fixed_ops, fixed_ops_inputs),
    (ki.fixed_scalar, lambda rng: [-588 / 256, fixed(rng, 16, -10, 10)]),
    (ki.fixed_div, fixed_div_inputs),
    (ki.scale_in_place, lambda rng: [i32(rng, (ki.M, ki.K), -1000, 1000), -3]),
    (ki.histogram, lambda rng: [rng.integers(0, 256, ki.NH, dtype=np.uint8)]),
    (ki.max_min, lambda rng: [i32(rng, 16)]),
    (ki.u64_ops, u64_inputs),
    # test_kernels_control: if/elif/else, while, computed bounds, in place, scalar returns
    (kc.classify, classify_inputs),
    (kc.gcd_arr, gcd_inputs),
    (kc.isqrt_k, isqrt_inputs),
    (kc.find_first_last, search_inputs),
    (kc.range_sum, lambda rng: [i32(rng, 16, -1000, 1000), 3, 12]),
    (kc.bubble_sort, sort_inputs),
    (kc.fib, lambda rng: [93]),  # fib(93) wraps in int64
    (kc.down_steps, lambda rng: [i32(rng, 16, -1000, 1000), 3, 14]),
    # test_kernels_calls: scalar, array and tuple returns of callees, calls in loops
    (kcl.poly, lambda rng: [i32(rng, 16, -30000, 30000)]),
    (kcl.swap_twice, lambda rng: [i32(rng, 16, -1000, 1000), i32(rng, 16, -1000, 1000)]),
    (kcl.use_tuple, lambda rng: [i32(rng, 16, -1000, 1000), i32(rng, 16, -1000, 1000)]),
    (kcl.steps_to_zero, steps_inputs),
    (kcl.matvec_call, lambda rng: [i32(rng, (6, 9), -100, 100), i32(rng, 9, -100, 100)]),
    # scalar ports (and bus words) wider than 64 bits, Fixed / UFixed / Int(1) scalars
    (wide_scalars, wide_scalar_inputs),
]
SLOW = {ki.wide_ops, ki.mixed_div, ki.mul_i128, kc.isqrt_k, kcl.steps_to_zero}


def _params():
    for kernel, inputs in CASES:
        marks = [pytest.mark.slow] if kernel in SLOW else []
        yield pytest.param(kernel, inputs, id=f"{kernel.__module__}.{kernel.__name__}", marks=marks)


def copies(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def assert_same(got, want, what="result"):
    """Bit-for-bit equality of results as the NumPy target returns them."""
    if isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{what}: {got!r}"
        for n, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{what}[{n}]")
    elif isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray), f"{what}: {type(got)}"
        assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, NumPy {want.dtype}"
        assert got.shape == want.shape, f"{what}: shape {got.shape}, NumPy {want.shape}"
        if want.dtype == object:
            assert [type(v) for v in got.ravel()] == [type(v) for v in want.ravel()], what
            assert got.tolist() == want.tolist(), f"{what}: RTL {got}, NumPy {want}"
        else:
            assert got.tobytes() == want.tobytes(), f"{what}: RTL {got}, NumPy {want}"
    else:
        assert type(got) is type(want), f"{what}: RTL {got!r}, NumPy {want!r}"
        if isinstance(want, float):
            assert math.copysign(1, got) == math.copysign(1, want), what
        assert got == want, f"{what}: RTL {got!r}, NumPy {want!r}"


def run_both(kernel, args):
    """Run the NumPy target and the RTL on copies of ``args``; compare everything."""
    ref, mod = built(kernel)
    ref_args, rtl_args = copies(args), copies(args)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # inputs carry the declared dtypes
        want = ref(*ref_args)
        got = mod(*rtl_args)
    assert_same(got, want)
    for n, (g, w) in enumerate(zip(rtl_args, ref_args)):
        if isinstance(w, np.ndarray):
            assert_same(g, w, f"array argument {n} (written in place)")
    return mod, got


@pytest.mark.parametrize(("kernel", "inputs"), list(_params()))
def test_verilator_matches_numpy(kernel, inputs):
    args = inputs(np.random.default_rng(2024))
    mod, _ = run_both(kernel, args)
    assert mod.cycles > 0


# --------------------------------------------------------------------------------------------
# Parameters named like the result ports


def param_named_result(result: int32) -> int32:
    return result + 1


def array_named_result(result: int32[4]) -> int32:
    s: int32 = 0
    for i in range(4):
        s += result[i]
    return s


def swap_named_results(result0: int32, result1: int32) -> (int32, int32):
    return result1, result0


def triple(result: int32) -> int32:
    return result * 3


def calls_triple(A: int32[4]) -> int32:
    s: int32 = 0
    for i in range(4):
        s += triple(A[i])
    return s


@pytest.mark.parametrize(
    ("kernel", "args"),
    [
        pytest.param(param_named_result, [5], id="scalar-result"),  # RTL returns 1, not 6
        pytest.param(swap_named_results, [5, 7], id="result0-result1"),  # RTL: [0, 0]
        pytest.param(array_named_result, [np.arange(4, dtype=np.int32)], id="array-result"),
        pytest.param(calls_triple, [np.arange(4, dtype=np.int32)], id="callee-param"),
    ],
)
def test_parameters_named_like_the_results(kernel, args):
    try:
        run_both(kernel, args)
    finally:
        with warnings.catch_warnings():  # the parts of a failed build, never elaborated
            warnings.simplefilter("ignore", UnusedElaboratable)
            gc.collect()


# --------------------------------------------------------------------------------------------
# verify, cycles, the compile cache


@pytest.mark.parametrize(
    ("kernel", "inputs"),
    [
        pytest.param(ki.div_mod_c, div_inputs, id="in-place"),
        pytest.param(ki.fixed_scalar, lambda rng: [1.25, fixed(rng, 16, -10, 10)], id="fixed"),
        pytest.param(ki.add_i100, i100_inputs, id="int100"),
        pytest.param(kcl.use_tuple, lambda rng: [i32(rng, 16), i32(rng, 16)], id="calls"),
    ],
)
def test_verify_returns_the_checked_result(kernel, inputs):
    ref, mod = built(kernel)
    args = inputs(np.random.default_rng(5))
    ref_args, rtl_args = copies(args), copies(args)
    want = ref(*ref_args)
    assert_same(mod.verify(*rtl_args), want)
    for g, w in zip(rtl_args, ref_args):
        if isinstance(w, np.ndarray):
            assert_same(g, w, "array argument written in place by verify")


def test_cycles_are_reported_per_run_and_calls_do_not_recompile():
    ref, mod = built(kc.gcd_arr)
    compiles = mod.compiles
    assert compiles in (0, 1)
    args = gcd_inputs(np.random.default_rng(11))
    first = mod(*copies(args))
    cycles = mod.cycles
    assert isinstance(cycles, int) and cycles > 0
    # the shell's count (done cycle - start cycle) is the kernel's, as Amaranth simulates it
    assert cycles == run(allo.customize(kc.gcd_arr), *copies(args))[1]
    assert_same(mod(*copies(args)), first)
    assert mod.cycles == cycles  # same inputs, same run
    # the while loop's trip count depends on the data: so does the cycle count
    mod(np.full(16, 7, np.int32), np.full(16, 7, np.int32))
    assert 0 < mod.cycles < cycles
    assert mod.compiles == compiles
    again = allo.customize(kc.gcd_arr).build(target="verilator")  # identical Verilog: cached
    assert again.compiles == 0
    assert_same(again(*copies(args)), first)
    assert again.cycles == cycles


# --------------------------------------------------------------------------------------------
# Floating point: a float multiply and conversions through the shell; math functions of
# float64 are rejected at the call


N = 8


def halve_via_float(A: int32[N]) -> int32[N]:
    B: int32[N] = 0
    for i in range(N):
        B[i] = A[i] * 0.5
    return B


def test_float_operations_run_through_the_shell():
    A = np.array([7, -7, 1, -1, 2**31 - 1, -(2**31), 0, 12345679], dtype=np.int32)
    got = allo.customize(halve_via_float).build(target="verilator")(A)
    # int32 -> float32 rounds to nearest even, * 0.5 is exact, int() truncates toward zero
    want = np.trunc(A.astype(np.float32) * np.float32(0.5)).astype(np.int32)
    np.testing.assert_array_equal(got, want)


def exp_of(A: float64[N]) -> float64[N]:
    B: float64[N] = 0.0
    for i in range(N):
        B[i] = allo.exp(A[i])  # ERR:exp
    return B


def test_float64_math_function_is_a_lowering_error_at_the_call():
    with pytest.raises(allo.LoweringError) as info:
        allo.customize(exp_of).build(target="verilator")
    assert type(info.value) is allo.LoweringError
    message = markers.expected(
        "exp",
        "allo.exp(A[i])",
        "`allo.exp` of float64 is not supported on RTL targets yet",
        "RTL math units exist for exp, log, log2, log10, tanh, sin, cos, power and sqrt of "
        "float16, bfloat16 and float32 (not float64); or build for the numpy target",
    )
    assert str(info.value) == message


# --------------------------------------------------------------------------------------------
# Lowering edge cases through the shell (returned arguments are read back as results)


@pytest.mark.parametrize(
    ("kernel", "args"),
    [
        pytest.param(ke.written_rom, [9], id="written-rom"),
        pytest.param(ke.self_shift, [np.arange(8, dtype=np.int32) * 3], id="one-array-twice"),
        pytest.param(ke.increment, [np.array([5, -1, 0, 7], np.int32)], id="return-argument"),
        pytest.param(ke.untouched, [np.array([5, -1, 0, 7], np.int32)], id="return-unwritten"),
        pytest.param(ke.pair, [np.array([5, -1, 0, 7], np.int32), 3], id="return-tuple"),
        pytest.param(ke.uses_increment, [np.array([1, 2, 3, 4], np.int32)], id="callee-returns"),
    ],
)
def test_lowering_edge_cases_on_verilator(kernel, args):
    run_both(kernel, args)
