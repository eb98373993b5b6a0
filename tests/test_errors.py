"""Error messages: every mistake a user can make in a kernel, a schedule or a call of a built
kernel is reported as an ``allo_rtl.AlloRTLError`` subclass whose text is

    <file>:<line>:<col>: <message>
        <the offending source line, stripped>
        <caret under the column>
    hint: <what to write instead>

(see ``allo_rtl/_errors.py``). Each test asserts the exact full message. The line of an error
is found through a unique ``# ERR:<tag>`` marker comment on it, and the column from a token of
that line, so editing this file does not break the tests.

Should a compiler message regress, mark its test ``xfail(strict=True)`` with the helper below,
keeping the message the compiler *should* produce, and file the problem.
"""

import math
import re
import warnings

import numpy as np
import pytest
from errhelp import Markers, raises, xfail  # noqa: F401

import allo_rtl as allo
from allo_rtl.ir.types import Fixed, Float, Int, float32, int32

FILE = __file__
_MARKS = Markers(FILE)
_LINES = _MARKS.lines
expected = _MARKS.expected
_marked_line = _MARKS.line


N = 8
HINT_CALLS = "kernels can call other kernels, min/max/abs/int/float and allo.exp, log, sqrt, ..."


def test_marker_helper_finds_the_kernel_file():
    assert k_break.__code__.co_filename == FILE
    assert expected("break", "break", "m", "h").startswith(f"{FILE}:{_marked_line('break')}:")


# ------------------------------------------------------------------------------------------
# Unsupported control flow


def k_break(A: int32[N]):
    for i in range(N):
        if A[i] > 0:
            break  # ERR:break
        A[i] = 1


def test_break():
    raises(
        allo.KernelSyntaxError,
        k_break,
        expected(
            "break",
            "break",
            "`break` is not supported in kernels",
            "use a `while` loop with a flag",
        ),
    )


def k_continue(A: int32[N]):
    for i in range(N):
        if A[i] > 0:
            continue  # ERR:continue
        A[i] = 1


def test_continue():
    raises(
        allo.KernelSyntaxError,
        k_continue,
        expected(
            "continue",
            "continue",
            "`continue` is not supported in kernels",
            "wrap the rest of the body in `if`",
        ),
    )


def k_listcomp(A: int32[N]) -> int32:
    x: int32 = [A[i] for i in range(N)]  # ERR:listcomp
    return x


def test_list_comprehension():
    raises(
        allo.KernelSyntaxError,
        k_listcomp,
        expected(
            "listcomp",
            "[",
            "list comprehensions are not supported in kernels",
            "write a for loop instead",
        ),
    )


def k_for_else(A: int32[N]):
    for i in range(N):
        A[i] = 1
    else:  # ERR:for_else
        A[0] = 2


def test_for_else():
    raises(
        allo.KernelSyntaxError,
        k_for_else,
        expected("for_else", "else", "`for ... else` is not supported", "remove the `else`"),
    )


def k_while_else(A: int32[N]):
    i: int32 = 0
    while i < N:
        i += 1
    else:  # ERR:while_else
        A[0] = 2


def test_while_else():
    raises(
        allo.KernelSyntaxError,
        k_while_else,
        expected("while_else", "else", "`while ... else` is not supported", "remove the `else`"),
    )


def k_return_in_if(A: int32[N]) -> int32:
    if A[0] > 0:
        return A[0]  # ERR:return_in_if
    return A[1]


def test_return_not_at_end_inside_if():
    raises(
        allo.KernelSyntaxError,
        k_return_in_if,
        expected(
            "return_in_if",
            "return",
            "`return` must be the last statement of the kernel",
            "assign the result to a variable and return it at the end",
        ),
    )


def k_return_early(A: int32[N]) -> int32:
    return A[0]  # ERR:return_early
    A[1] = 0


def test_return_not_at_end_before_statements():
    raises(
        allo.KernelSyntaxError,
        k_return_early,
        expected(
            "return_early",
            "return",
            "`return` must be the last statement of the kernel",
            "assign the result to a variable and return it at the end",
        ),
    )


# ------------------------------------------------------------------------------------------
# Names and declarations


def k_unknown(A: int32[N]):
    for i in range(N):
        A[i] = foo + 1  # ERR:unknown  # noqa: F821


def test_unknown_name():
    raises(
        allo.KernelNameError,
        k_unknown,
        expected(
            "unknown",
            "foo",
            "unknown name `foo`",
            "assign it before use, or define it at module level",
        ),
    )


def k_no_annotation(A, B: int32[N]):  # ERR:no_annotation
    B[0] = 1


def test_parameter_without_annotation():
    raises(
        allo.KernelTypeError,
        k_no_annotation,
        expected(
            "no_annotation",
            "A",
            "parameter `A` has no type",
            "annotate it, e.g. `A: int32` or `A: int32[N]`",
        ),
    )


def k_python_int(A: int, B: int32[N]):  # ERR:python_int
    B[0] = 1


def test_parameter_annotation_not_a_type():
    raises(
        allo.KernelTypeError,
        k_python_int,
        expected(
            "python_int",
            "int,",
            "the type of parameter `A` is `int`, which is not an allo_rtl type",
            "annotate with a type from allo_rtl.ir.types, e.g. `int32` or `int32[M, N]`",
        ),
    )


def k_shadow_loop(A: int32[N]):
    i: int32 = 0
    for i in range(N):  # ERR:shadow_loop
        A[i] = 0


def test_loop_variable_shadows_variable():
    raises(
        allo.KernelSyntaxError,
        k_shadow_loop,
        expected(
            "shadow_loop",
            "i",
            "loop variable `i` reuses the name of a variable in scope",
            "choose another name for the loop variable",
        ),
    )


def k_redeclare(A: int32[N]):
    x: int32 = 0
    x: int32 = 1  # ERR:redeclare
    A[0] = x


def test_redeclare_annotated_variable():
    raises(
        allo.KernelSyntaxError,
        k_redeclare,
        expected(
            "redeclare",
            "x",
            "`x` is already declared",
            "assign to it without a type annotation: `x = ...`",
        ),
    )


def k_chained(A: int32[N]):
    a: int32 = 0
    b: int32 = 0
    a = b = 0  # ERR:chained
    A[0] = a + b


def test_chained_assignment():
    raises(
        allo.KernelSyntaxError,
        k_chained,
        expected(
            "chained",
            "a",
            "chained assignment `a = b = ...` is not supported",
            "assign each variable separately",
        ),
    )


def k_update_loop_var(A: int32[N]):
    for i in range(N):
        i += 1  # ERR:update_loop_var
        A[0] = i


def test_augmented_assignment_to_loop_variable():
    raises(
        allo.KernelSyntaxError,
        k_update_loop_var,
        expected(
            "update_loop_var",
            "i",
            "cannot assign to loop variable `i`",
            "use another variable",
        ),
    )


# ------------------------------------------------------------------------------------------
# Compile-time constants: loop extents, steps, bit slices


def k_grid_param(A: int32[N], n: int32):
    for i in allo.grid(n):  # ERR:grid_param
        A[i] = 0


def test_grid_extent_not_constant():
    raises(
        allo.KernelSyntaxError,
        k_grid_param,
        expected(
            "grid_param",
            "n)",
            "loop bound `n` is not a compile-time constant",
            "use a module-level constant or a literal, e.g. `allo.grid(32)`",
        ),
    )


def k_local_shadows_constant(A: int32[N]):
    N = 4
    for i in allo.grid(N):  # ERR:local_shadows_constant
        A[i] = 1


def test_grid_extent_is_local_variable_shadowing_a_constant():
    raises(
        allo.KernelSyntaxError,
        k_local_shadows_constant,
        expected(
            "local_shadows_constant",
            "N",
            "loop bound `N` is not a compile-time constant",
            "use a module-level constant or a literal, e.g. `allo.grid(32)`",
        ),
    )


def k_step_param(A: int32[N], s: int32):
    for i in range(0, N, s):  # ERR:step_param
        A[i] = 0


def test_range_step_not_constant():
    raises(
        allo.KernelSyntaxError,
        k_step_param,
        expected(
            "step_param",
            "s)",
            "loop step `s` is not a compile-time constant",
            "use a literal step such as 1, 2 or -1",
        ),
    )


def k_step_zero(A: int32[N]):
    for i in range(0, N, 0):  # ERR:step_zero
        A[i] = 0


def test_range_step_zero():
    raises(
        allo.KernelSyntaxError,
        k_step_zero,
        expected(
            "step_zero",
            "0)",
            "loop step must be a non-zero integer constant, got 0",
            "use a literal step such as 1, 2 or -1",
        ),
    )


def k_slice_reversed(x: int32) -> int32:
    y: int32 = x[3:1]  # ERR:slice_reversed
    return y


def test_bit_slice_reversed():
    raises(
        allo.KernelTypeError,
        k_slice_reversed,
        expected(
            "slice_reversed",
            "3:1",
            "bit slice [3:1] is empty or negative",
            "use 0 <= lo < hi (bits lo .. hi-1)",
        ),
    )


def k_slice_variable(x: int32, a: int32, b: int32) -> int32:
    y: int32 = x[a:b]  # ERR:slice_variable
    return y


def test_bit_slice_not_constant():
    raises(
        allo.KernelSyntaxError,
        k_slice_variable,
        expected(
            "slice_variable",
            "a:b",
            "bit slice bound `a` is not a compile-time constant",
            "use constant bounds, e.g. `x[0:8]` for bits 0 .. 7",
        ),
    )


# ------------------------------------------------------------------------------------------
# Indexing


def k_too_few_indices(A: int32[N, N]) -> int32:
    x: int32 = A[1]  # ERR:too_few_indices
    return x


def test_too_few_indices():
    raises(
        allo.KernelTypeError,
        k_too_few_indices,
        expected(
            "too_few_indices",
            "A[",
            "array `A` has 2 dimension(s) (int32[8, 8]) but is indexed with 1 index(es) in `A[1]`",
            "index every dimension, e.g. `A[i, j]`",
        ),
    )


def k_too_many_indices(A: int32[N, N]) -> int32:
    x: int32 = A[1, 2, 3, 4]  # ERR:too_many_indices
    return x


def test_too_many_indices():
    # rank + 1 indices are a bit access of an element; rank + 2 are an error
    raises(
        allo.KernelTypeError,
        k_too_many_indices,
        expected(
            "too_many_indices",
            "A[",
            "array `A` has 2 dimension(s) (int32[8, 8]) but is indexed with 4 index(es) in "
            "`A[1, 2, 3, 4]`",
            "index every dimension, e.g. `A[i, j]`",
        ),
    )


def k_float_index(A: int32[N], f: float32) -> int32:
    x: int32 = A[f]  # ERR:float_index
    return x


def test_float_index():
    raises(
        allo.KernelTypeError,
        k_float_index,
        expected(
            "float_index",
            "f]",
            "an array index must be an integer, got `f` of type float32",
            "convert it with `int(...)`",
        ),
    )


def k_array_slice(A: int32[N]) -> int32:
    x: int32 = A[1:3]  # ERR:array_slice
    return x


def test_array_slice():
    raises(
        allo.KernelTypeError,
        k_array_slice,
        expected(
            "array_slice",
            "A[",
            "array slices like `A[1:3]` are not supported",
            "index one element at a time, e.g. `A[i]`",
        ),
    )


def k_shape_attribute(A: int32[N]) -> int32:
    x: int32 = A.shape[0]  # ERR:shape_attribute
    return x


def test_array_shape_attribute():
    raises(
        allo.KernelSyntaxError,
        k_shape_attribute,
        expected(
            "shape_attribute",
            "A.shape",
            "`A.shape` is not supported in kernels",
            "use the constant the shape was declared with, e.g. `N`",
        ),
    )


# ------------------------------------------------------------------------------------------
# Arrays and scalars


def k_array_to_scalar_decl(A: int32[N]) -> int32:
    x: int32 = A  # ERR:array_to_scalar_decl
    return x


def test_array_to_scalar_declaration():
    raises(
        allo.KernelTypeError,
        k_array_to_scalar_decl,
        expected(
            "array_to_scalar_decl",
            "A",
            "cannot use array `A` (int32[8]) as an int32 initial value of `x`",
            "index the array to get one element, e.g. `A[i]`",
        ),
    )


def k_array_to_scalar(A: int32[N]) -> int32:
    x: int32 = 0
    x = A  # ERR:array_to_scalar
    return x


def test_array_to_scalar_assignment():
    raises(
        allo.KernelTypeError,
        k_array_to_scalar,
        expected(
            "array_to_scalar",
            "A",
            "cannot use array `A` (int32[8]) as an int32 value",
            "index the array to get one element, e.g. `A[i]`",
        ),
    )


def k_assign_whole_array(A: int32[N]):
    A = 0  # ERR:assign_whole_array  # noqa: F841


def test_assign_to_whole_array():
    raises(
        allo.KernelTypeError,
        k_assign_whole_array,
        expected(
            "assign_whole_array",
            "A",
            "cannot assign to array `A` as a whole",
            "assign elements in a loop, e.g. `A[i] = ...`",
        ),
    )


def k_whole_array_add(A: int32[N], B: int32[N]) -> int32[N]:
    C: int32[N] = A + B  # ERR:whole_array_add
    return C


def test_whole_array_arithmetic():
    raises(
        allo.KernelTypeError,
        k_whole_array_add,
        expected(
            "whole_array_add",
            "A + B",
            "whole-array expression `A` is not supported",
            "write a loop over the elements, e.g. `for i in range(N): C[i] = A[i] + B[i]`",
        ),
    )


# ------------------------------------------------------------------------------------------
# Operators


def k_invert_float(f: float32) -> float32:
    g: float32 = ~f  # ERR:invert_float
    return g


def test_invert_float():
    raises(
        allo.KernelTypeError,
        k_invert_float,
        expected(
            "invert_float",
            "~",
            "operator `~` is not defined for float32",
            "use `~` on integer types only",
        ),
    )


def k_shift_float(f: float32, g: float32) -> float32:
    h: float32 = f << g  # ERR:shift_float
    return h


def test_shift_floats():
    raises(
        allo.KernelTypeError,
        k_shift_float,
        expected(
            "shift_float",
            "f <<",
            "operator `<<` is not defined for float32 and float32",
            "shifts need an integer value and an integer amount; convert with `int(...)` first",
        ),
    )


# ------------------------------------------------------------------------------------------
# Calls of kernels, builtins and variables


def add_one(x: int32) -> int32:
    return x + 1


def fill(A: int32[N]):
    A[0] = 1


def k_call_wrong_shape(B: int32[4]):
    fill(B)  # ERR:call_wrong_shape


def test_call_kernel_with_wrong_shape():
    raises(
        allo.KernelTypeError,
        k_call_wrong_shape,
        expected(
            "call_wrong_shape",
            "B",
            "argument `A` of kernel `fill` must be int32[8], got `B` of type int32[4]",
            "pass an array of exactly that shape and element type",
        ),
    )


def k_call_wrong_count(B: int32[N]):
    fill(B, 1)  # ERR:call_wrong_count


def test_call_kernel_with_wrong_number_of_arguments():
    raises(
        allo.KernelTypeError,
        k_call_wrong_count,
        expected(
            "call_wrong_count",
            "fill",
            "kernel `fill` takes 1 positional argument(s), got 2",
        ),
    )


def k_call_in_and(a: int32) -> int32:
    b: int32 = a > 0 and add_one(a) > 0  # ERR:call_in_and
    return b


def test_kernel_call_inside_and():
    raises(
        allo.KernelSyntaxError,
        k_call_in_and,
        expected(
            "call_in_and",
            "add_one",
            "kernel calls inside `and`, `or` or a conditional expression are not supported",
            "call the kernel in its own statement and use the result",
        ),
    )


def k_call_in_ternary(a: int32) -> int32:
    b: int32 = add_one(a) if a > 0 else 0  # ERR:call_in_ternary
    return b


def test_kernel_call_inside_ternary():
    raises(
        allo.KernelSyntaxError,
        k_call_in_ternary,
        expected(
            "call_in_ternary",
            "add_one",
            "kernel calls inside `and`, `or` or a conditional expression are not supported",
            "call the kernel in its own statement and use the result",
        ),
    )


def k_recursive(A: int32[N]):
    k_recursive(A)  # ERR:recursive


def test_direct_recursion():
    raises(
        allo.KernelSyntaxError,
        k_recursive,
        expected(
            "recursive",
            "k_recursive",
            "recursive kernel call: k_recursive -> k_recursive",
            "kernels cannot call themselves; write the recursion as a loop",
        ),
    )


def k_ping(A: int32[N]):
    k_pong(A)


def k_pong(A: int32[N]):
    k_ping(A)  # ERR:mutual


def test_mutual_recursion():
    raises(
        allo.KernelSyntaxError,
        k_ping,
        expected(
            "mutual",
            "k_ping",
            "recursive kernel call: k_ping -> k_pong -> k_ping",
            "kernels cannot call themselves; write the recursion as a loop",
        ),
    )


def k_len(A: int32[N]) -> int32:
    x: int32 = len(A)  # ERR:len
    return x


def test_len_unsupported():
    raises(
        allo.KernelSyntaxError,
        k_len,
        expected("len", "len", "`len` is not supported in kernels", HINT_CALLS),
    )


def k_print(A: int32[N]):
    print(A[0])  # ERR:print


def test_print_unsupported():
    raises(
        allo.KernelSyntaxError,
        k_print,
        expected("print", "print", "`print` is not supported in kernels", HINT_CALLS),
    )


def k_math_sqrt(x: float32) -> float32:
    y: float32 = math.sqrt(x)  # ERR:math_sqrt
    return y


def test_math_module_unsupported():
    raises(
        allo.KernelSyntaxError,
        k_math_sqrt,
        expected("math_sqrt", "math", "`math.sqrt` is not supported in kernels", HINT_CALLS),
    )


def k_exp_two_args(x: float32) -> float32:
    y: float32 = allo.exp(x, x)  # ERR:exp_two_args
    return y


def test_supported_builtin_wrong_argument_count():
    raises(
        allo.KernelTypeError,
        k_exp_two_args,
        expected(
            "exp_two_args",
            "allo.exp",
            "`allo.exp` takes 1 argument, got 2",
            "call it as `allo.exp(x)`",
        ),
    )


def k_call_scalar(A: int32[N], x: int32) -> int32:
    y: int32 = x(1)  # ERR:call_scalar
    return y


def test_call_scalar_variable():
    raises(
        allo.KernelTypeError,
        k_call_scalar,
        expected(
            "call_scalar",
            "x(",
            "`x` is a variable, not a function",
            "only kernels, min/max/abs/int/float and allo.exp, log, sqrt, ... can be called",
        ),
    )


square = lambda x: x * x  # ERR:lambda  # noqa: E731


def k_call_lambda(x: int32) -> int32:
    y: int32 = square(x)
    return y


def test_call_lambda():
    raises(
        allo.KernelSyntaxError,
        k_call_lambda,
        expected(
            "lambda",
            "square",
            "lambdas cannot be kernels",
            "define the kernel with `def`",
        ),
    )


def test_customize_lambda():
    raises(
        allo.KernelSyntaxError,
        square,
        expected(
            "lambda",
            "square",
            "lambdas cannot be kernels",
            "define the kernel with `def`",
        ),
    )


def test_customize_non_function():
    with pytest.raises(allo.KernelTypeError) as excinfo:
        allo.customize(len)
    assert (
        str(excinfo.value)
        == "<built-in function len> is not a Python function; pass a kernel function"
    )


# ------------------------------------------------------------------------------------------
# Returns


def k_return_other_shape(A: int32[N]) -> int32[4]:
    return A  # ERR:return_other_shape


def test_return_array_of_other_shape():
    raises(
        allo.KernelTypeError,
        k_return_other_shape,
        expected(
            "return_other_shape",
            "A",
            "returned `A` has type int32[8], but the kernel declares int32[4]",
            "make the `->` annotation match the returned value",
        ),
    )


def k_return_without_arrow(A: int32[N]):
    return A[0]  # ERR:return_without_arrow


def test_return_value_without_annotation():
    raises(
        allo.KernelTypeError,
        k_return_without_arrow,
        expected(
            "return_without_arrow",
            "return",
            "`return` gives 1 value(s) but the kernel declares nothing",
            "make the `->` annotation match the returned values",
        ),
    )


def k_missing_return(A: int32[N]) -> int32:  # ERR:missing_return
    A[0] = 1


def test_missing_return():
    raises(
        allo.KernelTypeError,
        k_missing_return,
        expected(
            "missing_return",
            "def",
            "kernel `k_missing_return` declares a return type but does not end with `return`",
            "return the result as the last statement",
        ),
    )


def k_bad_return_string(A: int32[N]) -> "int32[":  # ERR:bad_return_string  # noqa: F722
    return A[0]


def test_unparsable_return_annotation():
    raises(
        allo.KernelSyntaxError,
        k_bad_return_string,
        expected(
            "bad_return_string",
            '"int32["',
            "cannot parse the annotation 'int32[' of the return value",
        ),
    )


# ------------------------------------------------------------------------------------------
# Unsupported statements


def k_with(A: int32[N]):
    with open("x"):  # ERR:with
        A[0] = 1


def test_with():
    raises(
        allo.KernelSyntaxError,
        k_with,
        expected(
            "with",
            "with",
            "`with` is supported in kernels only for allo.meta_if / meta_elif / meta_else",
            "write the body of the `with` block without it",
        ),
    )


def k_try(A: int32[N]):
    try:  # ERR:try
        A[0] = 1
    except Exception:
        A[0] = 2


def test_try():
    raises(
        allo.KernelSyntaxError,
        k_try,
        expected(
            "try",
            "try",
            "`try` is not supported in kernels",
            "remove the `try`: kernels cannot raise or catch exceptions",
        ),
    )


def k_import(A: int32[N]):
    import os  # ERR:import  # noqa: F401

    A[0] = 1


def test_import():
    raises(
        allo.KernelSyntaxError,
        k_import,
        expected(
            "import", "import", "`import` is not allowed in kernels", "import at module level"
        ),
    )


def k_global(A: int32[N]):
    global N  # ERR:global
    A[0] = 1


def test_global():
    raises(
        allo.KernelSyntaxError,
        k_global,
        expected(
            "global",
            "global",
            "`global` is not supported in kernels",
            "pass the value as an argument",
        ),
    )


def k_del(A: int32[N]):
    x: int32 = 0
    del x  # ERR:del
    A[0] = 1


def test_del():
    raises(
        allo.KernelSyntaxError,
        k_del,
        expected(
            "del",
            "del",
            "`del` is not supported in kernels",
            "remove the `del`: kernel variables live until the kernel returns",
        ),
    )


def k_nested_def(A: int32[N]):
    def helper():  # ERR:nested_def
        return 1

    A[0] = 1


def test_nested_def():
    raises(
        allo.KernelSyntaxError,
        k_nested_def,
        expected(
            "nested_def",
            "def",
            "nested function definitions are not supported",
            "define kernels at module level",
        ),
    )


def k_assert(A: int32[N]):
    assert A[0] == 0  # ERR:assert


def test_assert():
    raises(
        allo.KernelSyntaxError,
        k_assert,
        expected(
            "assert",
            "assert",
            "`assert` is not supported in kernels",
            "check the condition before calling the kernel",
        ),
    )


def k_raise(A: int32[N]):
    raise ValueError("no")  # ERR:raise


def test_raise():
    raises(
        allo.KernelSyntaxError,
        k_raise,
        expected(
            "raise",
            "raise",
            "`raise` is not supported in kernels",
            "check the condition before calling the kernel",
        ),
    )


def k_match(x: int32) -> int32:
    y: int32 = 0
    match x:  # ERR:match
        case 1:
            y = 1
    return y


def test_match():
    raises(
        allo.KernelSyntaxError,
        k_match,
        expected(
            "match",
            "match",
            "`match` statements are not supported in kernels",
            "use `if` / `elif` / `else`",
        ),
    )


# ------------------------------------------------------------------------------------------
# Types


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Int(0), "Int(0): width must be between 1 and 4096 bits"),
        (
            lambda: Fixed(8, 9),
            "Fixed(8, 9): fraction bits must be an integer between 0 and 8",
        ),
        (
            lambda: Float(32, 10),
            "Float(32, 10) is not a supported format; use float16, bfloat16, float32 or float64",
        ),
    ],
    ids=["Int(0)", "Fixed(8, 9)", "Float(32, 10)"],
)
def test_invalid_type_constructors(make, message):
    with pytest.raises(allo.KernelTypeError) as excinfo:
        make()
    assert isinstance(excinfo.value, allo.AlloRTLError)
    assert str(excinfo.value) == message


def k_int0(A: int32[N]):
    x: Int(0) = 0  # ERR:int0
    A[0] = x


def k_fixed89(A: int32[N]):
    x: Fixed(8, 9) = 0  # ERR:fixed89
    A[0] = x


def k_float3210(A: int32[N]):
    x: Float(32, 10) = 0  # ERR:float3210
    A[0] = x


@pytest.mark.parametrize(
    "kernel, tag, message",
    [
        (k_int0, "int0", "Int(0): width must be between 1 and 4096 bits"),
        (k_fixed89, "fixed89", "Fixed(8, 9): fraction bits must be an integer between 0 and 8"),
        (
            k_float3210,
            "float3210",
            "Float(32, 10) is not a supported format; use float16, bfloat16, float32 or float64",
        ),
    ],
    ids=["Int(0)", "Fixed(8, 9)", "Float(32, 10)"],
)
def test_invalid_type_constructors_in_kernel(kernel, tag, message):
    token = message.split("(")[0] + "("
    raises(allo.KernelTypeError, kernel, expected(tag, token, message))


# ------------------------------------------------------------------------------------------
# Type arguments (3.12 generic kernels: tests/test_errors_generic_py312.py)


def k_not_generic(x: int32) -> int32:  # ERR:not_generic
    return x


def test_instantiate_non_generic_kernel():
    raises(
        allo.KernelTypeError,
        k_not_generic,
        expected(
            "not_generic",
            "def",
            "kernel `k_not_generic` has no type parameters, but got 1 type argument(s)",
            "remove `instantiate=` (or the `[...]` at the call)",
        ),
        instantiate=[int32],
    )


def k_subscript_non_generic(x: int32) -> int32:
    y: int32 = k_not_generic[int32](x)  # ERR:subscript_non_generic
    return y


def test_type_arguments_at_call_of_non_generic_kernel():
    raises(
        allo.KernelTypeError,
        k_subscript_non_generic,
        expected(
            "subscript_non_generic",
            "k_not_generic",
            "kernel `k_not_generic` has no type parameters, but got 1 type argument(s)",
            "remove `instantiate=` (or the `[...]` at the call)",
        ),
    )


# ------------------------------------------------------------------------------------------
# Schedules and builds


def test_build_unknown_target():
    s = allo.customize(add_one)
    with pytest.raises(allo.BuildError) as excinfo:
        s.build(target="nope")
    assert isinstance(excinfo.value, allo.AlloRTLError)
    text = excinfo.value.message
    prefix = "unknown target 'nope'; available targets: "
    assert text.startswith(prefix)
    targets = text[len(prefix) :].split(", ")
    assert "numpy" in targets and targets == sorted(targets)
    assert text == prefix + ", ".join(targets)
    assert str(excinfo.value).startswith(f"{__file__}:")  # the user's build call
    assert excinfo.value.loc.source_line().strip() == 's.build(target="nope")'


def test_build_errors_point_at_the_build_call():
    s = allo.customize(add_one)
    with pytest.raises(allo.BuildError) as excinfo:
        s.build(target="numpy", family="ice40")
    assert excinfo.value.message == "target 'numpy' has no option 'family'; it takes no options"
    assert excinfo.value.loc.source_line().strip() == 's.build(target="numpy", family="ice40")'
    with pytest.raises(allo.BuildError) as excinfo:
        s.build(target="verilator", bogus=1)
    assert excinfo.value.message == (
        "target 'verilator' has no option 'bogus'; its options are trace, max_cycles, "
        "word_bits, family, clock_mhz, dsp_budget"
    )
    with pytest.raises(allo.BuildError) as excinfo:
        s.build(target="amaranth", family="xc7")  # raised in lowering, located here
    assert excinfo.value.message == "unknown target family 'xc7'; families: generic, ice40, ecp5"
    assert (
        excinfo.value.loc.source_line()
        .strip()
        .startswith('s.build(target="amaranth", family="xc7")')
    )
    assert excinfo.value.loc.file == __file__


# ------------------------------------------------------------------------------------------
# Calling a kernel built for the NumPy target (messages point at the kernel parameter)


def vadd(A: int32[N], B: int32[N], s: int32) -> int32[N]:  # ERR:vadd
    C: int32[N] = 0
    for i in range(N):
        C[i] = A[i] + B[i] + s
    return C


@pytest.fixture(scope="module")
def vadd_mod():
    return allo.customize(vadd).build()


def call_raises(exc_type, mod, args, message):
    with pytest.raises(exc_type) as excinfo:
        mod(*args)
    assert type(excinfo.value) is exc_type
    assert isinstance(excinfo.value, allo.AlloRTLError)
    assert str(excinfo.value) == message
    return excinfo.value


@pytest.mark.parametrize("count", [2, 4])
def test_call_module_wrong_argument_count(vadd_mod, count):
    A = np.arange(N, dtype=np.int32)
    args = (A, A, 1, 2)[:count]
    err = call_raises(
        allo.ArgumentTypeError,
        vadd_mod,
        args,
        expected("vadd", "def", f"vadd() takes 3 argument(s) (A, B, s), got {count}"),
    )
    assert isinstance(err, TypeError)


@pytest.mark.parametrize("shape", [(4,), (N, 1)])
def test_call_module_wrong_shape(vadd_mod, shape):
    A = np.arange(N, dtype=np.int32)
    err = call_raises(
        allo.ArgumentError,
        vadd_mod,
        (A, np.zeros(shape, dtype=np.int32), 1),
        expected(
            "vadd", "B:", f"vadd(): argument `B` must have shape (8,) (int32[8]), got {shape}"
        ),
    )
    assert isinstance(err, ValueError)


def test_call_module_list_for_array(vadd_mod):
    A = np.arange(N, dtype=np.int32)
    err = call_raises(
        allo.ArgumentTypeError,
        vadd_mod,
        (A, list(range(N)), 1),
        expected(
            "vadd",
            "B:",
            "vadd(): argument `B` must be a NumPy array of shape (8,) (int32[8]), got list",
            "pass np.array(...) of that shape",
        ),
    )
    assert isinstance(err, TypeError)


def test_call_module_array_for_scalar(vadd_mod):
    A = np.arange(N, dtype=np.int32)
    err = call_raises(
        allo.ArgumentTypeError,
        vadd_mod,
        (A, A, A),
        expected("vadd", "s:", "vadd(): argument `s` is a scalar (int32), got ndarray"),
    )
    assert isinstance(err, TypeError)


@pytest.mark.parametrize(
    "value",
    [
        "x",
        None,
    ],
    ids=["str", "None"],
)
def test_call_module_non_number_for_scalar(vadd_mod, value):
    A = np.arange(N, dtype=np.int32)
    call_raises(
        allo.ArgumentTypeError,
        vadd_mod,
        (A, A, value),
        expected(
            "vadd",
            "s:",
            f"vadd(): argument `s` is a scalar (int32), got {type(value).__name__}",
        ),
    )


def test_call_module_converts_dtype_with_warning(vadd_mod):
    A = np.arange(-4, N - 4, dtype=np.int64)
    B = np.arange(N, dtype=np.int32) * 3
    with pytest.warns(UserWarning) as record:
        out = vadd_mod(A, B, 5)
    messages = [str(w.message) for w in record]
    assert messages == ["vadd(): argument `A` has dtype int64, converting to int32 (int32)"]
    assert record[0].filename == FILE  # the warning points at the caller's line
    np.testing.assert_array_equal(out, (A + B + 5).astype(np.int32))
    assert out.dtype == np.int32
    np.testing.assert_array_equal(A, np.arange(-4, N - 4))  # inputs are unchanged

    with pytest.warns(UserWarning, match=re.escape("argument `B` has dtype float64, converting")):
        out = vadd_mod(A.astype(np.int32), np.full(N, 2.0), 1)
    np.testing.assert_array_equal(out, np.arange(-4, N - 4) + 3)


def test_call_module_without_conversion_does_not_warn(vadd_mod):
    A = np.arange(N, dtype=np.int32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = vadd_mod(A, A, np.int32(2))
    np.testing.assert_array_equal(out, 2 * A + 2)
