"""Bit-exact comparison of results (NaN equals NaN; 0.0 and -0.0 differ)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["first_mismatch"]

_SHOWN = 5


def _same(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    if got.dtype.kind in "fc" or want.dtype.kind in "fc":
        g, w = got.astype(np.float64), want.astype(np.float64)
        nan = np.isnan(g) & np.isnan(w)
        return nan | ((g == w) & (np.signbit(g) == np.signbit(w)))
    return np.asarray(got == want, dtype=bool)


def first_mismatch(got: Any, want: Any) -> str | None:
    """``None`` if ``got`` equals ``want`` bit for bit, else a description of the first
    differing elements (index, value, reference value)."""
    g, w = np.asarray(got), np.asarray(want)
    if g.shape != w.shape:
        return f"shape {g.shape}, reference shape {w.shape}"
    same = _same(g, w)
    if same.all():
        return None
    if g.ndim == 0:
        return f"RTL {_show(g[()])}, reference {_show(w[()])}"
    bad = [tuple(int(i) for i in idx) for idx in np.argwhere(~same)[:_SHOWN]]
    shown = "; ".join(
        f"[{', '.join(map(str, i))}]: RTL {_show(g[i])}, reference {_show(w[i])}" for i in bad
    )
    count = int((~same).sum())
    return f"{count} of {same.size} elements differ, first at {shown}"


def _show(x: Any) -> str:
    return repr(x.item() if isinstance(x, np.generic) else x)
