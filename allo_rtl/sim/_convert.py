"""Raw values of the NumPy target <-> the raw bits the shell stores, one unsigned int per word.

Raw values are what ``allo_rtl.reference`` computes with: Python ints for integer-like types
(``Fixed`` values scaled by ``2**fracs``), NumPy floats for float types. Words hold two's
complement bits for signed types and IEEE bits for floats (bfloat16: the upper half of float32).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ir.types import AlloType

__all__ = ["from_word", "from_words", "to_word", "to_words"]

_FLOAT = {16: (np.float16, np.uint16), 32: (np.float32, np.uint32), 64: (np.float64, np.uint64)}


def _is_bf16(t: AlloType) -> bool:
    return t.is_float and t.name == "bfloat16"  # type: ignore[attr-defined]


def to_words(values: Any, t: AlloType) -> list[int]:
    """The words of a (nested) list or array of raw values of type ``t``, row-major."""
    if t.is_float:
        if _is_bf16(t):
            bits = np.asarray(values, dtype=np.float32).ravel().view(np.uint32) >> 16
        else:
            ftype, utype = _FLOAT[t.bits]
            bits = np.asarray(values, dtype=ftype).ravel().view(utype)
        return [int(b) for b in bits]
    mask = (1 << t.bits) - 1
    return [int(v) & mask for v in np.asarray(values, dtype=object).ravel()]


def to_word(value: Any, t: AlloType) -> int:
    """The word of one raw value of type ``t``."""
    return to_words([value], t)[0]


def from_words(words: list[int], t: AlloType) -> list[Any]:
    """Raw values of type ``t`` from their words (a flat list)."""
    if t.is_float:
        if _is_bf16(t):
            bits = np.array(words, dtype=np.uint32) << 16
            return list(bits.view(np.float32))
        ftype, utype = _FLOAT[t.bits]
        return list(np.array(words, dtype=utype).view(ftype))
    mask = (1 << t.bits) - 1
    sign = 1 << (t.bits - 1)
    if t.signed:
        return [((w & mask) ^ sign) - sign for w in words]
    return [w & mask for w in words]


def from_word(word: int, t: AlloType) -> Any:
    """The raw value of type ``t`` held in ``word``."""
    return from_words([word], t)[0]
