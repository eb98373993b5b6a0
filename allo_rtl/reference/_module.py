"""The NumPy target: a callable module that runs the generated reference code.

Call convention (Allo's CPU module): one argument per kernel parameter; arrays must have the
declared shape and are converted (with a ``UserWarning``) when their dtype differs; a kernel
without a return writes its array arguments in place; returned values come back as NumPy arrays
or Python scalars, and a tuple return gives a list.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._errors import ArgumentError, ArgumentTypeError, article
from ..ir import _values
from ..ir._nodes import Function, Module, Param
from ..ir.types import AlloType, ArrayType, Float
from ._codegen import generate
from ._dataflow import DATAFLOW_HELPERS
from ._runtime import HELPERS, bf16, make_float

__all__ = ["NumPyModule", "numpy_dtype"]

_INT_DTYPES = {8: "int8", 16: "int16", 32: "int32", 64: "int64"}


def numpy_dtype(t: AlloType) -> np.dtype:
    """The dtype of NumPy arrays that hold values of ``t`` (docs/semantics.md)."""
    if isinstance(t, Float):
        return np.dtype({"bfloat16": "float32"}.get(t.name, t.name))
    if t.fracs or t.name.startswith(("Fixed", "UFixed")):
        return np.dtype("float64")
    for width in (8, 16, 32, 64):
        if t.bits <= width:
            return np.dtype(("" if t.signed else "u") + _INT_DTYPES[width])
    return np.dtype(object)


class NumPyModule:
    """A kernel built for the NumPy target; call it like the kernel itself."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.top: Function = module.top_func
        source, consts = generate(module)
        self.source = source
        namespace: dict[str, Any] = dict(HELPERS)
        namespace.update(DATAFLOW_HELPERS)
        namespace.update(consts)
        self.fifo_stats = consts["_fifo_stats"]
        exec(compile(source, f"<allo_rtl reference of {self.top.sym.name}>", "exec"), namespace)
        self._fn = namespace[f"f_{self.top.sym.name}"]

    def __repr__(self) -> str:
        return f"<NumPyModule {self.top.sym.name}>"

    def __call__(self, *args: Any) -> Any:
        raw = self.convert_args(args)
        with np.errstate(all="ignore"):
            results = self._fn(*raw)
        for user, param, arr in zip(args, self.top.params, raw):
            if isinstance(param.type, ArrayType):
                _write_back(user, arr, param.type)
        out = [_result(v, t) for v, t in zip(results, self.top.returns)]
        if not out:
            return None
        return out[0] if len(out) == 1 else out

    def convert_args(self, args: tuple[Any, ...]) -> list[Any]:
        """Check the call's arguments and convert them to run-time form (arrays: nested lists
        of raw values). Conversion warnings point at the caller of the method that called this
        one (``__call__`` here, the RTL module's call there)."""
        params = self.top.params
        if len(args) != len(params):
            names = ", ".join(p.sym.name for p in params)
            raise ArgumentTypeError(
                f"{self.top.sym.name}() takes {len(params)} argument(s) ({names}), got {len(args)}",
                self.top.loc,
            )
        # a plain loop, not a comprehension: warnings use a fixed stacklevel to point at the
        # caller, and comprehensions are frames of their own before Python 3.12
        raw: list[Any] = []
        for a, p in zip(args, params):
            is_array = isinstance(p.type, ArrayType)
            raw.append(self._array_arg(a, p) if is_array else self._scalar_arg(a, p))
        return raw

    def _array_arg(self, value: Any, p: Param) -> list[Any]:
        t: ArrayType = p.type  # type: ignore[assignment]
        name = self.top.sym.name
        if not isinstance(value, np.ndarray):
            raise ArgumentTypeError(
                f"{name}(): argument `{p.sym.name}` must be a NumPy array of shape {t.shape} "
                f"({t}), got {type(value).__name__}",
                p.loc,
                "pass np.array(...) of that shape",
            )
        if value.shape != t.shape:
            raise ArgumentError(
                f"{name}(): argument `{p.sym.name}` must have shape {t.shape} ({t}), "
                f"got {value.shape}",
                p.loc,
            )
        dtype = numpy_dtype(t.dtype)
        if value.dtype != dtype and not (t.dtype.fracs and value.dtype.kind in "iuf"):
            warnings.warn(
                f"{name}(): argument `{p.sym.name}` has dtype {value.dtype}, converting to "
                f"{dtype} ({t.dtype})",
                UserWarning,
                stacklevel=4,
            )
        return _to_raw(value, t.dtype)

    def _scalar_arg(self, value: Any, p: Param) -> Any:
        t: AlloType = p.type  # type: ignore[assignment]
        number = isinstance(value, (int, float, np.integer, np.floating, np.bool_))
        if isinstance(value, np.ndarray) and value.ndim == 0:
            number, value = True, value[()]
        if not number:
            raise ArgumentTypeError(
                f"{self.top.sym.name}(): argument `{p.sym.name}` is a scalar ({t}), "
                f"got {type(value).__name__}",
                p.loc,
            )
        raw = _scalar_raw(value, t)
        if not t.is_float and _scalar_value(raw, t) != value:
            warnings.warn(
                f"{self.top.sym.name}(): argument `{p.sym.name}` = {value!r} is not {article(t)} "
                f"value, converting to {_scalar_value(raw, t)!r}",
                UserWarning,
                stacklevel=4,
            )
        return raw


def _scalar_value(raw: int, t: AlloType) -> int | float:
    return raw / 2**t.fracs if t.fracs else raw


def _scalar_raw(value: Any, t: AlloType) -> Any:
    if isinstance(t, Float):
        return make_float(_values.round_float(float(value), t), t)
    if isinstance(value, (float, np.floating)):
        return _values.float_to_raw(float(value), t)
    return _values.wrap(int(value) << t.fracs, t)


def _to_raw(value: np.ndarray, t: AlloType) -> list[Any]:
    if isinstance(t, Float):
        arr = value.astype(numpy_dtype(t))
        if t.name == "bfloat16" and arr.size:
            arr = np.vectorize(bf16, otypes=[np.float32])(arr)
        return _nested_scalars(arr)
    if value.dtype == numpy_dtype(t) and t.bits in (8, 16, 32, 64) and not t.fracs:
        return value.tolist()
    flat = value.ravel().tolist()
    if value.dtype.kind == "f":
        raw = [_values.float_to_raw(float(v), t) for v in flat]
    else:
        raw = [int(v) << t.fracs for v in flat]
        if any(not t.min_raw <= v <= t.max_raw for v in raw):
            raw = [_values.wrap(v, t) for v in raw]
    return np.array(raw, dtype=object).reshape(value.shape).tolist()


def _nested_scalars(arr: np.ndarray) -> list[Any]:
    if arr.ndim == 1:
        return list(arr)
    return [_nested_scalars(row) for row in arr]


def _result(value: Any, t: AlloType | ArrayType) -> Any:
    if isinstance(t, ArrayType):
        return _from_raw(value, t)
    if isinstance(t, Float):
        return float(value)
    if t.fracs or t.name.startswith(("Fixed", "UFixed")):
        return int(value) / 2**t.fracs
    return int(value)


def _from_raw(value: list[Any], t: ArrayType) -> np.ndarray:
    dtype = numpy_dtype(t.dtype)
    if t.dtype.is_float:
        return np.array(value, dtype=dtype).reshape(t.shape)
    if t.dtype.fracs or dtype.kind == "f":
        flat = np.array(value, dtype=object).ravel()
        return np.array([int(v) / 2**t.dtype.fracs for v in flat], dtype=dtype).reshape(t.shape)
    return np.array(value, dtype=dtype).reshape(t.shape)


def _write_back(user: np.ndarray, raw: list[Any], t: ArrayType) -> None:
    if not user.flags.writeable:
        return
    result = _from_raw(raw, t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        user[...] = result.astype(user.dtype) if user.dtype != result.dtype else result
