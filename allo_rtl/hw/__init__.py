"""Amaranth components: generated kernels (and, with the RTL targets, the shell around them)."""

from ._info import ArrayPortInfo, KernelInfo, ScalarPortInfo
from ._kernel import KernelComponent, array_port_signature

__all__ = [
    "ArrayPortInfo",
    "KernelComponent",
    "KernelInfo",
    "ScalarPortInfo",
    "array_port_signature",
]
