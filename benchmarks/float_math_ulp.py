"""Measured accuracy of the hardware math units (``allo_rtl/hw/fp/_math.py``), float32.

Run: .venv/bin/python benchmarks/float_math_ulp.py [--step 1024] [--jobs 2] [names...]
(about 9 minutes with the default step; ``--step 65536`` takes 2 minutes, mostly power)

What is measured, and how:

Each unit's bit-exact NumPy model (``MathUnit.model``: the same datapath as the hardware,
evaluated on integers; ``tests/test_fp_math.py`` checks the hardware against it bit for bit)
is run on

- every ``step``-th float32 bit pattern whose value lies in the function's domain (exp:
  ``[-104, 89]``, past which it is 0 or inf; log*: ``x >= 0``, subnormals included; tanh:
  ``|x| <= 20``, past which it is +-1; sin, cos: every finite float32),
- dense sweeps of 65,536 consecutive patterns around the delicate points (exp: overflow and
  underflow thresholds and 0; log*: 1, 0.75, subnormals; tanh: 2**-6, 2**-4, 9; sin, cos:
  pi/2, pi, 2 pi, a large argument) and the float32 inputs closest to multiples of pi/2,
- power: 2**20 random ``x`` with ``y`` chosen so that ``x**y`` spans the whole float32 range
  (subnormal results included), 2**18 ``x`` near 1 with ``|y|`` up to 2**30, negative ``x``
  with integer ``y``.

Per function the table gives the number of points, the largest error against the exact value
in ulps of the exact value (the exact value: NumPy's float64 function of the input), how many
results differ from the correctly rounded one, the largest distance (in float32 values) from
NumPy's float32 function, NumPy's own largest error on the same points, and the target of
issue 7 (<= 2 ulp for exp, log and tanh against NumPy).
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_fp_math import (  # noqa: E402
    DOMAIN,
    HARD_TRIG,
    decode,
    exact_result,
    numpy_result,
    ordinal_diff,
    patterns,
    to_bits,
    ulp_error,
)

from allo_rtl.hw.fp._format import FLOAT32  # noqa: E402
from allo_rtl.hw.fp._math import MATH_UNITS  # noqa: E402

CENTERS = {
    "exp": [0x42B17218, 0xC2CFF1B5, 0x33000000, 0xB3000000],
    "log": [0x3F800000, 0x3F400000, 0x00008000, 0x00800000],
    "tanh": [0x3C800000, 0x3D800000, 0x41100000, 0xBC800000],
    "sin": [0x3FC90FDB, 0x40490FDB, 0x40C90FDB, 0x4B490FDB],
}
CENTERS.update(log2=CENTERS["log"], log10=CENTERS["log"], cos=CENTERS["sin"])
TARGET = {"exp": "<= 2 vs NumPy", "log": "<= 2 vs NumPy", "tanh": "<= 2 vs NumPy"}


def inputs(name: str, step: int) -> tuple[np.ndarray, ...]:
    if name == "power":
        return power_inputs()
    lo, hi = DOMAIN[name]
    parts = [patterns(FLOAT32, step, lo, hi), np.array(HARD_TRIG, np.uint64)]
    for c in CENTERS[name]:
        parts.append(np.arange(max(c - (1 << 15), 0), c + (1 << 15), dtype=np.uint64))
    return (np.unique(np.concatenate(parts)),)


def power_inputs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    n = 1 << 20
    x = decode(FLOAT32, rng.integers(1, 0x7F800000, n, dtype=np.uint64))
    y = rng.uniform(-149.5, 127.9, n) / np.log2(x)
    near = 1.0 + rng.integers(-(1 << 16), 1 << 16, n // 4) * 2.0**-23
    large = rng.uniform(-1, 1, n // 4) * 2.0 ** rng.integers(0, 31, n // 4)
    neg = -decode(FLOAT32, rng.integers(0x3E000000, 0x41000000, n // 4, dtype=np.uint64))
    ints = np.round(rng.uniform(-40, 40, n // 4))
    xs = to_bits(FLOAT32, np.concatenate([x, near, neg]).astype(np.float32))
    ys = to_bits(FLOAT32, np.concatenate([y, large, ints]).astype(np.float32))
    return xs, ys


def chunk_model(name: str, args: tuple[np.ndarray, ...]) -> np.ndarray:
    return MATH_UNITS[name](FLOAT32).model(*args)


def run_model(name: str, args: tuple[np.ndarray, ...], jobs: int) -> np.ndarray:
    pieces = max(jobs * 8, 1)
    split = [tuple(a[i::pieces] for a in args) for i in range(pieces)]
    with ProcessPoolExecutor(jobs) as pool:
        results = list(pool.map(chunk_model, [name] * pieces, split))
    out = np.empty(len(args[0]), dtype=np.uint64)
    for i, r in enumerate(results):
        out[i::pieces] = r
    return out


def measure(name: str, step: int, jobs: int) -> dict[str, object]:
    args = inputs(name, step)
    start = time.time()
    bits = run_model(name, args, jobs)
    exact = exact_result(name, *(decode(FLOAT32, a) for a in args))
    err = ulp_error(FLOAT32, bits, exact)
    ref = numpy_result(FLOAT32, name, *args)
    worst = int(np.argmax(err))
    return dict(
        points=len(bits),
        exact=float(err.max()),
        at=", ".join(f"{decode(FLOAT32, a[worst : worst + 1])[0]:.9g}" for a in args),
        not_rounded=int((ordinal_diff(FLOAT32, bits, to_bits(FLOAT32, exact)) > 0).sum()),
        numpy=int(ordinal_diff(FLOAT32, bits, ref).max()),
        numpy_own=float(ulp_error(FLOAT32, ref, exact).max()),
        seconds=time.time() - start,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=int, default=1024, help="pattern stride (power of 2)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("names", nargs="*", default=list(MATH_UNITS))
    opts = parser.parse_args()
    head = f"{'function':8} {'points':>9} {'max ulp':>8} {'(at x)':>26} {'not CR':>7}"
    print(head + f" {'vs NumPy':>8} {'NumPy own':>9} {'target':>14} {'time':>6}")
    for name in opts.names:
        m = measure(name, opts.step, opts.jobs)
        print(
            f"{name:8} {m['points']:>9} {m['exact']:>8.4f} {m['at']:>26} {m['not_rounded']:>7}"
            f" {m['numpy']:>8} {m['numpy_own']:>9.3f} {TARGET.get(name, '-'):>14}"
            f" {m['seconds']:>5.0f}s",
            flush=True,
        )


if __name__ == "__main__":
    main()
