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
from .hw import KernelComponent
from .lowering import lower
from .reference import NumPyModule
from .sim import RTLModule
from .verilog import VerilogDesign, build_verilog

__all__ = ["register_builtin_targets"]


def build_amaranth(schedule: Schedule) -> KernelComponent:
    """Lower the schedule's top kernel to an Amaranth component."""
    return KernelComponent(lower(schedule.module))


def build_design(schedule: Schedule, **options: Any) -> VerilogDesign:
    """The kernel and its shell as Verilog (options: ``word_bits``, ``emit_src``)."""
    component = build_amaranth(schedule)
    return build_verilog(component, component.info, schedule.module, **options)


def _simulator(name: str) -> Any:
    def build(schedule: Schedule, **options: Any) -> RTLModule:
        """Options: ``trace``, ``max_cycles``, ``word_bits``."""
        word_bits = options.pop("word_bits", None)
        design = build_design(schedule, word_bits=word_bits)
        return RTLModule(design, design.info, schedule.module, simulator=name, **options)

    return build


def register_builtin_targets() -> None:
    register_target("numpy", lambda schedule: NumPyModule(schedule.module))
    register_target("llvm", lambda schedule: NumPyModule(schedule.module))
    register_target("amaranth", build_amaranth)
    register_target("verilog", build_design)
    register_target("verilator", _simulator("verilator"))
    register_target("icarus", _simulator("icarus"))
