"""The build targets of ``s.build(target=...)``: the driver that runs the pipeline stages.

- ``"numpy"`` (and Allo's name ``"llvm"``): the bit-exact reference executor.
- ``"amaranth"``: the kernel as an ``amaranth.lib.wiring.Component`` (docs/interface.md).
- ``"verilog"``: a :class:`~allo_rtl.verilog.VerilogDesign` (kernel in its shell).
- ``"verilator"`` / ``"icarus"``: an :class:`~allo_rtl.sim.RTLModule` called like the NumPy
  target, running the Verilog under cocotb.
"""

from __future__ import annotations

from typing import Any

from ._schedule import Schedule, register_target
from .reference import NumPyModule

# The RTL stages are imported when a build needs them: the simulator process imports allo_rtl
# for every run, and Amaranth's import costs time there.

__all__ = ["register_builtin_targets"]


_TARGET_OPTIONS = ("family", "clock_mhz", "dsp_budget")


def build_amaranth(
    schedule: Schedule,
    family: str = "generic",
    clock_mhz: float | None = None,
    dsp_budget: int | None = None,
) -> Any:
    """Lower the schedule's top kernel to an Amaranth component (``KernelComponent``) for
    target ``family`` (``generic``, ``ice40``, ``ecp5``) and clock (MHz). Its multiplies use
    at most ``dsp_budget`` DSP blocks (``None``: no limit); the rest are built from logic,
    with a ``ScheduleWarning`` (docs/rtl_targets.md)."""
    from .hw import KernelComponent
    from .lowering import lower, target_model

    model = target_model(family, clock_mhz)
    return KernelComponent(lower(schedule.module, model, dsp_budget))


def build_design(schedule: Schedule, **options: Any) -> Any:
    """The kernel and its shell as a ``VerilogDesign`` (options: ``word_bits``, ``emit_src``,
    ``family``, ``clock_mhz``, ``dsp_budget``)."""
    from .verilog import build_verilog

    target = {k: options.pop(k) for k in _TARGET_OPTIONS if k in options}
    component = build_amaranth(schedule, **target)
    return build_verilog(component, component.info, schedule.module, **options)


build_design.options = ("word_bits", "emit_src", *_TARGET_OPTIONS)  # type: ignore[attr-defined]


def _simulator(name: str) -> Any:
    def build(schedule: Schedule, **options: Any) -> Any:
        """An ``RTLModule``. Options: ``trace``, ``max_cycles``, ``word_bits``, ``family``,
        ``clock_mhz``, ``dsp_budget``."""
        from .sim import RTLModule

        target = {k: options.pop(k) for k in ("word_bits", *_TARGET_OPTIONS) if k in options}
        design = build_design(schedule, **target)
        return RTLModule(design, design.info, schedule.module, simulator=name, **options)

    build.options = ("trace", "max_cycles", "word_bits", *_TARGET_OPTIONS)  # type: ignore[attr-defined]
    return build


def register_builtin_targets() -> None:
    register_target("numpy", lambda schedule: NumPyModule(schedule.module))
    register_target("llvm", lambda schedule: NumPyModule(schedule.module))
    register_target("amaranth", build_amaranth)
    register_target("verilog", build_design)
    register_target("verilator", _simulator("verilator"))
    register_target("icarus", _simulator("icarus"))
