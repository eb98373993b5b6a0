"""Every kernel of the foundation suite, lowered to RTL, matches the NumPy target.

Kernels are collected from the kernel test modules; each runs on seeded random inputs on the
NumPy target and in Amaranth's simulator (tests/amaranth_harness.py), and the results (returned
values and in-place array arguments) must be equal bit for bit (floats too: strict IEEE
operations in program order; a NaN equals a NaN), except for kernels with math functions
(``allo.exp``, ``**`` ...): the NumPy target uses NumPy's functions and the hardware its own
units (hw/fp/_math.py), within 8 ulp of each other here (both within about 3 ulp of the exact
value). Kernels the RTL backend rejects with a LoweringError are skipped with the reason.
"""

import importlib
import types

import numpy as np
import pytest
from amaranth_harness import run

import allo_rtl as allo
from allo_rtl.ir._nodes import Binary, MathCall, walk
from allo_rtl.ir.types import AlloType, ArrayType
from allo_rtl.reference import numpy_dtype

MODULES = [
    "test_kernels_int",
    "test_kernels_control",
    "test_allo_compat",
    "test_kernels_calls",
    "test_kernels_rtl_edges",
    "test_kernels_float",
]


def _is_type(a):
    if isinstance(a, tuple):
        return all(_is_type(item) for item in a)
    return isinstance(a, (AlloType, ArrayType))


def _kernels():
    for name in MODULES:
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
                notes = getattr(value, "__annotations__", {})
                if notes and all(_is_type(a) for a in notes.values()):
                    yield pytest.param(value, id=f"{name}.{attr}")


def _inputs(fn_ir, rng, small):
    values = []
    for p in fn_ir.params:
        t = p.type
        shape = t.shape if isinstance(t, ArrayType) else ()
        dt = t.dtype if isinstance(t, ArrayType) else t
        if dt.is_float:
            values.append(_floats(rng, shape, dt, small))
            continue
        # scalars are often loop bounds: keep them small so runs stay short
        lo, hi = (0, 7) if small or not shape else (dt.min_raw, dt.max_raw)
        lo, hi = max(lo, dt.min_raw), min(hi, dt.max_raw)
        raw = rng.integers(lo, hi, size=shape or None, endpoint=True, dtype=np.int64) if dt.bits <= 63 else \
            np.array([int(rng.integers(0, 2**62)) % (hi - lo + 1) + lo for _ in range(int(np.prod(shape)) or 1)], dtype=object).reshape(shape)  # fmt: skip
        if dt.fracs:
            raw = np.asarray(raw, dtype=np.float64) / 2**dt.fracs
        if shape:
            values.append(np.asarray(raw).astype(numpy_dtype(dt)))
        else:
            values.append(raw.item() if hasattr(raw, "item") else raw)
    return values


def _floats(rng, shape, t, small):
    """Random values of float type ``t`` (bfloat16: float32 values rounded to it)."""
    x = rng.uniform(-1.0 if small else -100.0, 4.0 if small else 100.0, shape or None)
    x = np.asarray(x, dtype=numpy_dtype(t))
    if t.name == "bfloat16":
        bits = x.astype(np.float32).view(np.uint32).astype(np.uint64)
        x = ((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000).astype(np.uint32).view(np.float32)
    return x if shape else x.item() if t.bits == 64 else x[()]


def _reference(s, rng):
    """Inputs on which the NumPy target runs (full-range first, then small values)."""
    mod = s.build()
    for small in (False, True):
        args = _inputs(s.top_func, rng, small)
        copies = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
        try:
            result = mod(*copies)
        except IndexError:
            continue
        return args, copies, result
    pytest.skip("the NumPy target indexes out of range on random inputs")


@pytest.mark.parametrize("kernel", list(_kernels()))
def test_rtl_matches_numpy(kernel):
    s = allo.customize(kernel)
    rng = np.random.default_rng(7)
    args, after, expected = _reference(s, rng)
    try:
        got, cycles = run(s, *args)
    except allo.AlloRTLError as exc:
        if type(exc).__name__ == "LoweringError":
            pytest.skip(f"not lowered yet: {exc.message}")
        raise
    assert cycles > 0
    same = _close if _math(s) else np.testing.assert_array_equal  # NaN equals NaN in both
    for a, b in zip(args, after):
        if isinstance(a, np.ndarray):
            same(a, b)
    if isinstance(expected, list):
        for g, e in zip(got, expected):
            same(np.asarray(g), np.asarray(e))
    elif expected is not None:
        same(np.asarray(got), np.asarray(expected))


def _math(s):
    """Whether the kernel calls a math function (not sqrt) or takes a float power: the NumPy
    target uses NumPy's functions, the hardware its own units, which differ by a few ulp."""
    return any(
        (isinstance(n, MathCall) and n.func != "sqrt")
        or (isinstance(n, Binary) and n.op == "pow" and n.type.is_float)
        for f in s.module.funcs
        for n in walk(f)
    )


def _close(got, want, ulps=8):
    """Float arrays within ``ulps`` units in the last place (NaN equals NaN), others equal."""
    got, want = np.asarray(got), np.asarray(want)
    if got.dtype.kind != "f":
        np.testing.assert_array_equal(got, want)
        return
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    with np.errstate(invalid="ignore"):  # infinities: equal ones pass below
        spacing = np.abs(np.spacing(want[ok].astype(got.dtype)))
        err = np.abs(got[ok].astype(np.float64) - want[ok].astype(np.float64))
    assert np.all((err <= ulps * spacing) | (got[ok] == want[ok])), (got, want)
