"""Command line: ``python -m allo_rtl <command> ...`` (``--help`` on every command).

Exit codes: 0 success, 1 design or tool failure (including a result mismatch), 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import AlloRTLError, Schedule, customize
from .ir.types import AlloType, ArrayType, Float
from .reference import numpy_dtype

__all__ = ["main"]


class UsageError(Exception):
    """Bad command-line input (exit code 2)."""


def _load(spec: str) -> tuple[types.ModuleType, Any]:
    """Import ``FILE.py[:OBJECT]`` and pick the kernel or schedule object."""
    path_text, _, obj_name = spec.partition(":")
    path = Path(path_text)
    if not path.is_file():
        raise UsageError(f"{path_text}: no such file")
    sys.path.insert(0, str(path.resolve().parent))
    mod_spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(mod_spec)  # type: ignore[arg-type]
    sys.modules[path.stem] = module
    mod_spec.loader.exec_module(module)  # type: ignore[union-attr]
    if obj_name:
        if not hasattr(module, obj_name):
            raise UsageError(f"{path_text} has no object `{obj_name}`")
        return module, getattr(module, obj_name)
    candidates = [
        v for k, v in vars(module).items() if not k.startswith("_") and _is_design(v, module)
    ]
    if len(candidates) != 1:
        names = ", ".join(getattr(c, "__name__", "?") for c in candidates) or "none"
        raise UsageError(
            f"{path_text}: name the object to build as FILE.py:OBJECT (candidates: {names})"
        )
    return module, candidates[0]


def _is_design(value: Any, module: types.ModuleType) -> bool:
    if isinstance(value, Schedule):
        return True
    if not isinstance(value, types.FunctionType) or value.__module__ != module.__name__:
        return False
    annotations = getattr(value, "__annotations__", {})
    return any(isinstance(a, (AlloType, ArrayType)) for a in annotations.values())


def _schedule(obj: Any) -> Schedule:
    if isinstance(obj, Schedule):
        return obj
    result = customize(obj)
    return result


def _random_value(t: AlloType | ArrayType, rng: np.random.Generator) -> Any:
    shape = t.shape if isinstance(t, ArrayType) else ()
    dtype = t.dtype if isinstance(t, ArrayType) else t
    if isinstance(dtype, Float):
        values = rng.uniform(-1.0, 1.0, shape).astype(numpy_dtype(dtype))
    elif dtype.fracs or numpy_dtype(dtype).kind in "fO":
        lo, hi = dtype.min_raw, dtype.max_raw
        raw = [
            int(rng.integers(0, 2**62)) % (hi - lo + 1) + lo
            for _ in range(max(1, int(np.prod(shape))))
        ]
        values = np.array([r / 2**dtype.fracs if dtype.fracs else r for r in raw],
                          dtype=numpy_dtype(dtype)).reshape(shape)  # fmt: skip
    else:
        values = rng.integers(
            dtype.min_raw, dtype.max_raw, shape, dtype=numpy_dtype(dtype), endpoint=True
        )
    return values if shape else values.item()


def _compare(got: Any, want: Any) -> tuple[bool, str]:
    got_a, want_a = np.asarray(got), np.asarray(want)
    if got_a.shape != want_a.shape:
        return False, f"shape {got_a.shape} != expected {want_a.shape}"
    if got_a.dtype.kind == "f" or want_a.dtype.kind == "f":
        ok = bool(np.allclose(got_a, want_a, rtol=1e-5, atol=1e-6, equal_nan=True))
        return ok, "close" if ok else f"max abs difference {np.max(np.abs(got_a - want_a))}"
    bad = np.argwhere(got_a != want_a)
    if bad.size:
        first = tuple(int(i) for i in bad[0])
        return False, f"{len(bad)} mismatches, first at {first}: {got_a[first]} != {want_a[first]}"
    return True, "bit-exact"


def cmd_check(args: argparse.Namespace) -> int:
    module, obj = _load(args.file)
    s = _schedule(obj)
    fn = s.top_func
    rng = np.random.default_rng(args.seed)
    inputs = [_random_value(p.type, rng) for p in fn.params]
    print(f"kernel {fn.sym.name}({', '.join(f'{p.sym.name}: {p.type}' for p in fn.params)})")
    reference = getattr(module, "reference", None)
    expected = None
    if reference is not None:
        expected = reference(*[np.copy(x) if isinstance(x, np.ndarray) else x for x in inputs])
    failed = False
    for target in args.target or ["numpy"]:
        failed |= not _check_target(s, target, inputs, expected)
    return 1 if failed else 0


def _check_target(s: Schedule, target: str, inputs: list[Any], expected: Any) -> bool:
    start = time.perf_counter()
    mod = s.build(target=target)
    built = time.perf_counter()
    copies = [np.copy(x) if isinstance(x, np.ndarray) else x for x in inputs]
    result = mod(*copies)
    ran = time.perf_counter()
    cycles = getattr(mod, "cycles", None)
    extra = f", {cycles} cycles" if cycles is not None else ""
    print(f"target {target}: built in {built - start:.3f} s, ran in {ran - built:.3f} s{extra}")
    if expected is None:
        print("  result check: skipped (the file defines no `reference` function)")
        return True
    ok, detail = _compare(result if result is not None else copies, expected)
    print(f"  result check against reference(): {'PASS' if ok else 'FAIL'} ({detail})")
    return ok


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m allo_rtl", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser(
        "check",
        help="build a kernel, run it on random inputs and compare with the file's reference()",
        description="Build FILE.py[:OBJECT] (a kernel function or a Schedule) for a target, run it "
        "on random inputs and compare the result with the file's `reference` function.",
    )
    check.add_argument("file", metavar="FILE.py[:OBJECT]")
    check.add_argument(
        "--target",
        action="append",
        help="build target, repeatable: numpy, verilator, icarus (default: numpy)",
    )
    check.add_argument("--seed", type=int, default=1, help="random input seed (default: 1)")
    check.set_defaults(func=cmd_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except AlloRTLError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
