"""Helpers shared by the loop-primitive tests: exact printed IR and exact ScheduleError texts."""

import textwrap


def assert_ir(s, expected: str) -> None:
    """``str(s)`` is exactly ``expected`` (dedented, leading newline dropped)."""
    assert str(s) == textwrap.dedent(expected).lstrip("\n")


def schedule_errors(marks):
    """``schedule_error(tag, message, kernel=None, hint=None)`` for the file of ``marks``: the
    full message of a ScheduleError raised by the schedule line marked ``tag``, which shows the
    kernel line marked ``kernel``."""

    def schedule_error(tag: str, message: str, kernel: str | None = None, hint=None) -> str:
        if kernel is not None:
            line = marks.line(kernel)
            message += f" (kernel line {line}: `{marks.lines[line - 1].strip()}`)"
        return marks.expected(tag, "s.", message, hint)

    return schedule_error


def lowering_error(build) -> str:
    """The message of the ``LoweringError`` that ``build()`` raises (the test fails if none).
    A failed build leaves parts never elaborated: they are collected here, without warnings."""
    import gc
    import warnings

    import pytest
    from amaranth.hdl import UnusedElaboratable

    from allo_rtl import LoweringError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)
        try:
            build()
        except LoweringError as e:
            error = e.with_traceback(None)
        else:
            pytest.fail("the build did not raise a LoweringError")
        error.__context__ = error.__cause__ = None
        gc.collect()
    assert type(error) is LoweringError
    return str(error)
