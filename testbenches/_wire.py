"""Files exchanged between a host process and the generic testbench (standard library + NumPy).

The host writes ``job.json`` (what to write, run and read; see ``allo_rtl.sim``) and
``inputs.npz`` (array words) into a run directory and names the directory in the environment
variable ``ALLO_RTL_RUN_DIR``; the testbench writes ``outputs.json`` (scalar words, cycle count,
status) and ``outputs.npz`` (array words) there. Words are raw unsigned integers: ``uint64``
arrays up to 64 bits, arrays of hexadecimal strings above (no pickles).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["RUN_DIR_ENV", "pack_words", "unpack_words"]

RUN_DIR_ENV = "ALLO_RTL_RUN_DIR"


def pack_words(words: Sequence[int], bits: int) -> np.ndarray:
    """Raw unsigned ``words`` of ``bits`` bits as an array that ``np.savez`` stores safely."""
    if bits <= 64:
        return np.array(words, dtype=np.uint64)
    return np.array([format(w, "x") for w in words], dtype=str)


def unpack_words(array: np.ndarray) -> list[int]:
    """The Python ints stored by :func:`pack_words`."""
    if array.dtype.kind == "U":
        return [int(w, 16) for w in array.tolist()]
    return [int(w) for w in array.tolist()]
