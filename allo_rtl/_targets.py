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


def build_amaranth(schedule: Schedule) -> Any:
    """Lower the schedule's top kernel to an Amaranth component (``KernelComponent``)."""
    from .hw import KernelComponent
    from .lowering import lower

    return KernelComponent(lower(schedule.module))


def build_design(schedule: Schedule, **options: Any) -> Any:
    """The kernel and its shell as a ``VerilogDesign`` (options: ``word_bits``, ``emit_src``)."""
    from .verilog import build_verilog

    component = build_amaranth(schedule)
    return build_verilog(component, component.info, schedule.module, **options)


def _simulator(name: str) -> Any:
    def build(schedule: Schedule, **options: Any) -> Any:
        """An ``RTLModule``. Options: ``trace``, ``max_cycles``, ``word_bits``."""
        from .sim import RTLModule

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
