"""The RTL simulation targets ``"verilator"`` and ``"icarus"``: kernels run by cocotb.

``RTLModule(component_or_design, info, ir_module, simulator=...)`` is called like the NumPy
target; compiled simulators are cached (``cache_root()``), see ``_cache.py``.
"""

from ._cache import cache_root
from ._errors import SimulationError, ToolNotFound, TraceWritten
from ._module import RTLModule
from ._tools import SIMULATORS, find_simulator

__all__ = [
    "SIMULATORS",
    "RTLModule",
    "SimulationError",
    "ToolNotFound",
    "TraceWritten",
    "cache_root",
    "find_simulator",
]
