"""Every integer kernel of the foundation suite, lowered to RTL, matches the NumPy target.

Kernels are collected from the kernel test modules; each runs on seeded random inputs on the
NumPy target and in Amaranth's simulator (tests/amaranth_harness.py), and the results (returned
values and in-place array arguments) must be equal bit for bit. Kernels the RTL backend rejects
with a LoweringError (floating point, calls) are skipped with the reason.
"""

import importlib
import types

import numpy as np
import pytest
from amaranth_harness import run

import allo_rtl as allo
from allo_rtl.ir.types import AlloType, ArrayType
from allo_rtl.reference import numpy_dtype

MODULES = [
    "test_kernels_int",
    "test_kernels_control",
    "test_allo_compat",
    "test_kernels_calls",
    "test_kernels_rtl_edges",
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
    for a, b in zip(args, after):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
    if isinstance(expected, list):
        for g, e in zip(got, expected):
            np.testing.assert_array_equal(np.asarray(g), np.asarray(e))
    elif expected is not None:
        np.testing.assert_array_equal(np.asarray(got), np.asarray(expected))
