"""Frontend: Python kernel source -> kernel IR (``parse``), and the ``allo.*`` kernel builtins."""

from ._lang import Partition, grid, reduction
from ._program import parse

__all__ = ["Partition", "grid", "parse", "reduction"]
