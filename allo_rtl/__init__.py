"""allo_rtl: Allo-style accelerator kernels in Python, lowered straight to RTL.

Write kernels as Allo does, customize them with schedule primitives, and build them::

    import allo_rtl as allo
    from allo_rtl.ir.types import int32

    def gemm(A: int32[32, 32], B: int32[32, 32]) -> int32[32, 32]:
        C: int32[32, 32] = 0
        for i, j in allo.grid(32, 32, name="C"):
            for k in allo.reduction(32):
                C[i, j] += A[i, k] * B[k, j]
        return C

    s = allo.customize(gemm)
    mod = s.build()            # the NumPy target: bit-exact reference
"""

from ._errors import (
    AlloRTLError,
    ArgumentError,
    ArgumentTypeError,
    BuildError,
    DeadlockError,
    InternalError,
    KernelNameError,
    KernelSyntaxError,
    KernelTypeError,
    LoweringError,
    ScheduleError,
    ScheduleWarning,
    StreamError,
)
from ._flow import TimingNotMet, build, run, synth
from ._schedule import BufferHandle, LoopHandle, Schedule, customize
from ._targets import register_builtin_targets
from .frontend._lang import (
    Partition,
    abs,
    cos,
    exp,
    grid,
    log,
    log2,
    log10,
    meta_elif,
    meta_else,
    meta_for,
    meta_if,
    power,
    reduction,
    sin,
    sqrt,
    tan,
    tanh,
)
from .reference import NumPyModule

__version__ = "0.1.0.dev0"

register_builtin_targets()

_LAZY = {"RTLModule", "SimulationError", "ToolNotFound"}


def __getattr__(name: str) -> object:
    # the simulation stage imports Amaranth and cocotb: load it only when it is used
    if name in _LAZY:
        from . import sim

        return getattr(sim, name)
    raise AttributeError(f"module 'allo_rtl' has no attribute {name!r}")


__all__ = [
    "AlloRTLError",
    "ArgumentError",
    "ArgumentTypeError",
    "BufferHandle",
    "BuildError",
    "DeadlockError",
    "StreamError",
    "InternalError",
    "KernelNameError",
    "KernelSyntaxError",
    "KernelTypeError",
    "LoopHandle",
    "LoweringError",
    "NumPyModule",
    "Partition",
    "RTLModule",
    "Schedule",
    "ScheduleError",
    "ScheduleWarning",
    "SimulationError",
    "TimingNotMet",
    "ToolNotFound",
    "abs",
    "build",
    "cos",
    "customize",
    "exp",
    "grid",
    "log",
    "log2",
    "log10",
    "meta_elif",
    "meta_else",
    "meta_for",
    "meta_if",
    "power",
    "reduction",
    "run",
    "sin",
    "sqrt",
    "synth",
    "tan",
    "tanh",
]
