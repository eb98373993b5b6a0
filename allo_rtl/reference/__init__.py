"""The NumPy target: kernel IR compiled to Python, the bit-exact reference of every build."""

from ._module import NumPyModule, numpy_dtype

__all__ = ["NumPyModule", "numpy_dtype"]
