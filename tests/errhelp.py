"""Shared helpers of the error-message tests: expected messages located by `# ERR:<tag>` markers.

A test file creates ``Markers(__file__)``; ``markers.expected(tag, token, message, hint)`` is the
full message of an error at ``token`` on the line marked ``# ERR:<tag>`` in that file.
"""

import re
from pathlib import Path

import pytest

import allo_rtl as allo

_MARKER = re.compile(r"\s*# ERR:(\S+)")


class Markers:
    def __init__(self, file):
        self.file = file
        self.lines = Path(file).read_text().splitlines()

    def line(self, tag):
        """The 1-based number of the one line carrying the marker ``# ERR:<tag>``."""
        hits = [
            n
            for n, text in enumerate(self.lines, 1)
            if any(m == tag for m in _MARKER.findall(text))
        ]
        assert len(hits) == 1, f"marker {tag!r} found on lines {hits}"
        return hits[0]

    def expected(self, tag, token, message, hint=None, nth=0):
        """The full message of an error at the ``nth`` occurrence of ``token`` (in the code, not
        the comments) on the line marked ``# ERR:<tag>``."""
        line = self.line(tag)
        text = self.lines[line - 1]
        code = text.split("  #")[0]
        col = -1
        for _ in range(nth + 1):
            col = code.index(token, col + 1)
        col += 1  # 1-based
        stripped = text.lstrip()
        indent = len(text) - len(stripped)
        out = (
            f"{self.file}:{line}:{col}: {message}\n    {stripped}\n    {' ' * (col - 1 - indent)}^"
        )
        if hint is not None:
            out += f"\nhint: {hint}"
        return out


def raises(exc_type, kernel, message, instantiate=None):
    """``allo.customize(kernel)`` (and build) raises exactly ``exc_type`` with ``message``."""
    with pytest.raises(exc_type) as excinfo:
        allo.customize(kernel, instantiate=instantiate).build()
    assert type(excinfo.value) is exc_type
    assert isinstance(excinfo.value, allo.AlloRTLError)
    assert str(excinfo.value) == message


def xfail(reason):
    """Mark a test whose message regressed; keep the message the compiler should produce."""
    return pytest.mark.xfail(strict=True, reason=f"compiler: {reason}")
