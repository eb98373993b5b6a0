"""The exception hierarchy, rooted at :class:`AlloRTLError`.

Every error that reaches a user carries, where one exists, the location in the user's kernel or
schedule (``file:line:col``), the offending source line with a caret under the column, and a hint
saying what to write instead::

    gemm.py:12:9: loop bound `n` is not a compile-time constant
        for i in allo.grid(n):
                           ^
    hint: use a module-level constant or a literal, e.g. `allo.grid(32)`
"""

from __future__ import annotations

import linecache
import sys
import warnings
from dataclasses import dataclass

__all__ = [
    "AlloRTLError",
    "ArgumentError",
    "ArgumentTypeError",
    "BuildError",
    "DeadlockError",
    "StreamError",
    "InternalError",
    "KernelNameError",
    "KernelSyntaxError",
    "KernelTypeError",
    "Loc",
    "LoweringError",
    "ScheduleError",
    "ScheduleWarning",
]


@dataclass(frozen=True, slots=True)
class Loc:
    """A position in user source: file name, 1-based line, 1-based column."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def source_line(self) -> str:
        """The text of the line (without its newline), or ``""`` if the file is not readable."""
        return linecache.getline(self.file, self.line).rstrip("\n")


def article(thing: object) -> str:
    """``"an int32"``, ``"a float32"``, ``"a uint8"``: a type name with its indefinite article."""
    name = str(thing)
    vowel = name[:1] in "aeiouAEIO" and not name.lower().startswith(("uint", "ufixed"))
    return f"{'an' if vowel else 'a'} {name}"


def format_message(loc: Loc | None, message: str, hint: str | None = None) -> str:
    """Render ``file:line:col: message``, the source line with a caret, and the hint."""
    if loc is None:
        text = message
    else:
        text = f"{loc}: {message}"
        line = loc.source_line()
        if line.strip():
            stripped = line.lstrip()
            indent = len(line) - len(stripped)
            caret = max(loc.col - 1 - indent, 0)
            text += f"\n    {stripped}\n    {' ' * caret}^"
    if hint:
        text += f"\nhint: {hint}"
    return text


class AlloRTLError(Exception):
    """Base class of every error raised by allo_rtl for the user's input.

    ``loc`` is the location in user source the error refers to (or ``None``), ``hint`` the
    suggested fix. ``str(error)`` is the full formatted message.
    """

    def __init__(self, message: str, loc: Loc | None = None, hint: str | None = None):
        self.message = message
        self.loc = loc
        self.hint = hint
        super().__init__(format_message(loc, message, hint))


class KernelSyntaxError(AlloRTLError):
    """A Python construct that kernels do not support, or that is malformed."""


class KernelNameError(AlloRTLError, NameError):
    """A name in a kernel that refers to nothing known."""


class KernelTypeError(AlloRTLError, TypeError):
    """A kernel that is ill-typed: wrong shapes, wrong number of indices, bad conversions."""


class ScheduleError(AlloRTLError):
    """A customization primitive that cannot be applied."""


class ArgumentError(AlloRTLError, ValueError):
    """A built kernel called with a value of the right kind but wrong shape or size."""


class ArgumentTypeError(AlloRTLError, TypeError):
    """A built kernel called with the wrong number or kind of arguments."""


class InternalError(AlloRTLError):
    """A bug in allo_rtl itself (for example IR that fails verification). Please report it."""


class BuildError(AlloRTLError):
    """A build that cannot be done: unknown target, unsupported option."""


class LoweringError(AlloRTLError):
    """A kernel construct the RTL backend cannot lower (yet)."""


class DeadlockError(AlloRTLError):
    """A dataflow design that stopped making progress: every unfinished kernel waits on a
    stream (NumPy target), or the RTL watchdog expired. The message names the waiting kernels
    and the full or empty streams."""


class StreamError(AlloRTLError):
    """An iteration of a dataflow loop finished with values left in a stream (NumPy target):
    the hardware FIFO, which serves all the iterations, would hand them to the next one."""


class ScheduleWarning(UserWarning):
    """The hardware could not do what the schedule asked (e.g. a larger II than requested);
    the message says why."""


def warn_user(message: str, category: type[Warning]) -> None:
    """Issue a warning attributed to the innermost caller outside allo_rtl."""
    frame, level = sys._getframe(1), 2
    package = __name__.rsplit(".", 1)[0]
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith(package):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
