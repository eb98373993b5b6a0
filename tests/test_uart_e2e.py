"""End to end: a kernel in its shell behind the UART bridge, as Verilog, simulated under cocotb
and driven through its UART pins by the board host code (allo_rtl/boards/_host.py).

The cocotb testbench ``allo_rtl.testbenches.uart`` runs :func:`host_program` below in a thread;
its transport bit-bangs the simulated ``rx`` pin and decodes ``tx``. The host program is the
same code that drives a real board: ``BoardLink`` and ``run_kernel``. One frame in the middle is
corrupted and one truncated on the wire, so the NAK / timeout and retry paths run too.
"""

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from allo_rtl.boards._host import BoardLink, run_kernel
from allo_rtl.testbenches._wire import RUN_DIR_ENV
from amaranth.back import verilog
from amaranth_harness import run as run_in_amaranth
from test_uart_protocol import axpy  # the kernel with scalars, Fixed and in-place arrays

import allo_rtl as allo
from allo_rtl._flow import _bridged_shell
from allo_rtl._targets import build_design
from allo_rtl.hw._uart import DEFAULT_TIMEOUT_BYTES, MAX_WORDS, UartShellTop
from allo_rtl.ir.types import int32
from allo_rtl.sim._cache import compiled_simulator, log_tail
from allo_rtl.sim._tools import find_simulator, runner, tool_environment

CLOCK_PS = 10_000
DIVISOR = 4
SMALL = {"max_words": 8, "timeout_bytes": 16}  # 16-element arrays: two frames each
DEFAULTS = {"max_words": MAX_WORDS, "timeout_bytes": DEFAULT_TIMEOUT_BYTES}  # the board's
TOP = "gemm_uart"


def gemm(A: int32[4, 4], B: int32[4, 4]) -> int32[4, 4]:
    C: int32[4, 4] = 0
    for i, j, k in allo.grid(4, 4, 4):
        C[i, j] += A[i, k] * B[k, j]
    return C


class Faulty:
    """Passes bytes through, but corrupts one bit of write number ``corrupt`` and drops the
    last byte of write number ``truncate``."""

    def __init__(self, transport, corrupt, truncate):
        self.transport, self.corrupt, self.truncate = transport, corrupt, truncate
        self.writes = 0

    def write(self, data):
        self.writes += 1
        if self.writes == self.corrupt:
            data = data[:9] + bytes([data[9] ^ 0x10]) + data[10:]  # a payload bit
        elif self.writes == self.truncate:
            data = data[:-1]
        self.transport.write(data)

    def read(self, n):
        return self.transport.read(n)


def _arg(spec):
    return np.array(spec["array"], dtype=spec["dtype"]) if "array" in spec else spec["scalar"]


def _plain(value):
    return value.tolist() if isinstance(value, np.ndarray) else value


def host_program(transport, run_dir):
    """Runs in the simulator, in a thread: the board's host code over the simulated UART."""
    job = json.loads((Path(run_dir) / "job.json").read_text())
    amap = job["address_map"]
    faulty = Faulty(transport, job.get("corrupt"), job.get("truncate"))
    link = BoardLink(faulty, amap, max_words=job["max_words"])
    link.ping()
    args = [_arg(spec) for spec in job["args"]]
    if job.get("names"):
        args = dict(zip(job["names"], args))
    outputs, cycles = run_kernel(link, amap, args, timeout=120.0)
    return {
        "outputs": {name: _plain(value) for name, value in outputs.items()},
        "args": [_plain(a) for a in (args.values() if isinstance(args, dict) else args)],
        "cycles": cycles,
        "status": link.status(),
        "resent": link.resent,
    }


def _simulate(design_verilog, run_dir, job, simulator):
    tools = find_simulator(simulator)
    build_dir, _ = compiled_simulator(design_verilog, TOP, tools)
    (run_dir / "job.json").write_text(json.dumps(job))
    with tool_environment(tools):
        runner(simulator).test(
            test_module="allo_rtl.testbenches.uart",
            hdl_toplevel=TOP,
            hdl_toplevel_lang="verilog",
            build_dir=build_dir,
            test_dir=run_dir,
            extra_env={RUN_DIR_ENV: str(run_dir), "COCOTB_REWRITE_ASSERTION_FILES": ""},
            results_xml=str(run_dir / "results.xml"),
            log_file=run_dir / "sim.log",
            timescale=("1ns", "1ps"),
        )
    outputs = run_dir / "outputs.json"
    assert outputs.exists(), log_tail(run_dir / "sim.log")
    result = json.loads(outputs.read_text())
    assert "error" not in result, result["error"]
    return result["result"]


def _run_on_uart(schedule, args, simulator, bridge, **job):
    """Build the UART top of ``schedule``'s kernel with the ``bridge`` options, simulate it
    with the host program on ``args``."""
    design = build_design(schedule)
    top = UartShellTop(_bridged_shell(design), DIVISOR, **bridge)  # the board flow's shell
    text = verilog.convert(top, name=TOP)
    specs = [
        {"array": a.tolist(), "dtype": str(a.dtype)} if isinstance(a, np.ndarray) else {"scalar": a}
        for a in args
    ]
    job = {
        "clock_ps": CLOCK_PS,
        "divisor": DIVISOR,
        # above the bridge's inter-byte timeout, so that draining resynchronises
        "read_timeout_cycles": 2 * bridge["timeout_bytes"] * 10 * DIVISOR,
        "max_words": bridge["max_words"],
        "host": f"{__name__}:host_program",
        "address_map": design.address_map,
        "args": specs,
        **job,
    }
    run_dir = Path(tempfile.mkdtemp(prefix="allo_rtl_uart_"))
    try:
        return _simulate(text, run_dir, job, simulator)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.mark.parametrize(
    ("simulator", "bridge"),
    [
        pytest.param("icarus", SMALL, id="icarus-small-frames"),
        pytest.param("verilator", DEFAULTS, id="verilator-board-defaults"),
    ],
)
def test_gemm_over_uart_matches_numpy(simulator, bridge):
    s = allo.customize(gemm)
    rng = np.random.default_rng(6)
    A = rng.integers(-(2**31), 2**31, (4, 4), dtype=np.int64).astype(np.int32)
    B = rng.integers(-1000, 1000, (4, 4)).astype(np.int32)
    # write 1 is the ping. SMALL: write 3 (A's second frame) is corrupted, 5 (B's first)
    # truncated; DEFAULTS: 3 (all of B) is corrupted, 5 (the start) truncated
    got = _run_on_uart(s, (A, B), simulator, bridge, corrupt=3, truncate=5)
    with np.errstate(over="ignore"):
        want = A @ B  # int32 arithmetic wraps, like the kernel
    C = np.array(got["outputs"]["result"], dtype=np.int32)
    np.testing.assert_array_equal(C, want)
    np.testing.assert_array_equal(C, s.build(target="numpy")(A, B))
    assert got["status"] == 0b10
    assert got["resent"] == 2  # the corrupted and the truncated frame
    assert got["cycles"] == run_in_amaranth(s, A.copy(), B.copy())[1]


def test_scalars_fixed_point_and_in_place_arrays_over_uart():
    s = allo.customize(axpy)
    X = np.array([-128, 127, 5, -3, 0, 1, 2, -1], dtype=np.int8)
    Y = np.array([1.5, -2.25, 100, -100, 0.0625, 3, 4, 5])
    got = _run_on_uart(s, (X, Y, 1.25), "icarus", SMALL, names=["X", "Y", "a"])
    want_Y = 1.25 * X + Y  # exact: every value is a multiple of 1/16 within Fixed(16, 4)
    assert got["outputs"]["result"] == 3 * int(X.astype(np.int64).sum())
    np.testing.assert_array_equal(got["outputs"]["Y"], want_Y)
    np.testing.assert_array_equal(got["args"][1], want_Y)  # updated in place
    Y_numpy = Y.copy()
    assert got["outputs"]["result"] == s.build(target="numpy")(X, Y_numpy, 1.25)
    np.testing.assert_array_equal(got["args"][1], Y_numpy)
    assert got["resent"] == 0 and got["cycles"] > 8


def banked(A: int32[8], B: int32[8]) -> int32[8]:
    C: int32[8] = 0
    for i in range(8):
        C[i] = A[i] * 3 - B[i]
    return C


def test_many_banks_over_uart():
    """Partitioned arrays (eight banks each) written, run and read back through the board
    flow's shell and UART bridge."""
    s = allo.customize(banked)
    s.partition(s.A, allo.Partition.Complete)
    s.partition(s.B, allo.Partition.Cyclic, dim=1, factor=8)
    s.partition(s.C, allo.Partition.Complete)
    rng = np.random.default_rng(8)
    A, B = (rng.integers(-1000, 1000, 8).astype(np.int32) for _ in range(2))
    got = _run_on_uart(s, (A, B), "icarus", SMALL)
    np.testing.assert_array_equal(np.array(got["outputs"]["result"], np.int32), A * 3 - B)
