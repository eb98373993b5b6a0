"""Error messages of Python 3.12 generic kernels (PEP 695 type parameters): wrong number of type
arguments and type arguments outside their constraint, given with ``instantiate=`` or at a call
site ``f[T, L](...)``. The format and the ``# ERR:<tag>`` markers are those of
tests/test_errors.py.

This file is skipped on Python < 3.12 by tests/conftest.py (collect_ignore_glob)."""



from errhelp import Markers, raises, xfail  # noqa: F401

import allo_rtl as allo
from allo_rtl.ir.types import float32, int8, int32

FILE = __file__
_MARKS = Markers(FILE)
_LINES = _MARKS.lines
expected = _MARKS.expected
_marked_line = _MARKS.line


HINT_COUNT = "pass one value per parameter, e.g. instantiate=[...] with 2 values"


def k_gen[T: (int32, float32), L: int32](A: "T[L]", B: "T[L]") -> "T[L]":  # ERR:gen
    C: T[L] = 0
    for i in range(L):
        C[i] = A[i] + B[i]
    return C


def test_generic_kernel_still_works():
    s = allo.customize(k_gen, instantiate=[int32, 4])
    assert "k_gen" in str(s)


# ------------------------------------------------------------------------------------------
# Wrong number of type arguments


def test_instantiate_too_few_type_arguments():
    raises(
        allo.KernelTypeError,
        k_gen,
        expected(
            "gen",
            "def",
            "generic kernel `k_gen` has 2 type parameter(s) (T, L), but 1 was given",
            HINT_COUNT,
        ),
        instantiate=[int32],
    )


def test_instantiate_too_many_type_arguments():
    raises(
        allo.KernelTypeError,
        k_gen,
        expected(
            "gen",
            "def",
            "generic kernel `k_gen` has 2 type parameter(s) (T, L), but 3 were given",
            HINT_COUNT,
        ),
        instantiate=[int32, 4, 5],
    )


def test_generic_kernel_without_instantiate():
    raises(
        allo.KernelTypeError,
        k_gen,
        expected(
            "gen",
            "def",
            "generic kernel `k_gen` has 2 type parameter(s) (T, L), but none were given",
            HINT_COUNT,
        ),
    )


def k_call_too_many(A: int32[4]) -> int32[4]:
    C: int32[4] = k_gen[int32, 4, 5](A, A)  # ERR:call_too_many
    return C


def test_call_site_wrong_number_of_type_arguments():
    raises(
        allo.KernelTypeError,
        k_call_too_many,
        expected(
            "call_too_many",
            "k_gen",
            "generic kernel `k_gen` has 2 type parameter(s) (T, L), but 3 were given",
            HINT_COUNT,
        ),
    )


def k_call_without_type_arguments(A: int32[4]) -> int32[4]:
    C: int32[4] = k_gen(A, A)  # ERR:call_without
    return C


def test_call_site_without_type_arguments():
    raises(
        allo.KernelTypeError,
        k_call_without_type_arguments,
        expected(
            "call_without",
            "k_gen",
            "generic kernel `k_gen` has 2 type parameter(s) (T, L), but none were given",
            HINT_COUNT,
        ),
    )


# ------------------------------------------------------------------------------------------
# Type arguments outside their constraint


def test_instantiate_type_outside_constraint():
    raises(
        allo.KernelTypeError,
        k_gen,
        expected("gen", "T:", "type argument int8 for `T` is not one of (int32, float32)"),
        instantiate=[int8, 4],
    )


def k_call_outside(A: int8[4]) -> int8[4]:
    C: int8[4] = k_gen[int8, 4](A, A)  # ERR:call_outside
    return C


def test_call_site_type_outside_constraint():
    raises(
        allo.KernelTypeError,
        k_call_outside,
        expected(
            "call_outside", "k_gen", "type argument int8 for `T` is not one of (int32, float32)"
        ),
    )


def test_instantiate_value_of_wrong_kind():
    raises(
        allo.KernelTypeError,
        k_gen,
        expected("gen", "L:", "type argument 2.5 for `L` must be an int32 value"),
        instantiate=[int32, 2.5],
    )
