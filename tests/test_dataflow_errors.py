"""Error messages of dataflow regions (``allo_rtl.dataflow``): every mistake in a region, a
``@df.kernel``, a stream or a compile-time ``allo.meta_*`` construct is an ``AlloRTLError``
subclass whose text is ``<file>:<line>:<col>: <message>``, the source line with a caret and a
hint (house style of tests/test_errors.py). Each test asserts the exact full message; the line of
an error is found through a unique ``# ERR:<tag>`` marker comment on it.

Deadlocks (raised when a built region runs) are tested in tests/test_dataflow_numpy.py.
"""

# Streams are declared in a region (`s: Stream[int32, 4]`) and used by the kernels nested in it;
# an annotation without a value binds no name for pyflakes, so it reports every use as undefined.
# ruff: noqa: F821

import numpy as np
import pytest
from errhelp import Markers

import allo_rtl as allo
import allo_rtl.dataflow as df
from allo_rtl.ir.types import Stream, int32

FILE = __file__
_MARKS = Markers(FILE)
expected = _MARKS.expected

N = 4
NOT_A_PARAM = 7

HINT_TWO_ENDS = "give each producer-consumer pair its own stream (a grid of streams)"
HINT_STREAM_INDEX = "index streams with constants and the ids of df.get_pid()"
HINT_META_CHAIN = "start the chain with `with allo.meta_if(...):`"
HINT_COND_GET = "do the `get` in its own statement"
HINT_REGION_BODY = "move this code into a @df.kernel"
HINT_NO_RETURN = "write results into an array argument and remove the `->` annotation"


def df_raises(exc_type, region, message):
    """``df.build(region)`` raises exactly ``exc_type`` with the full ``message``."""
    with pytest.raises(exc_type) as excinfo:
        df.build(region)
    assert type(excinfo.value) is exc_type
    assert isinstance(excinfo.value, allo.AlloRTLError)
    assert str(excinfo.value) == message


def test_marker_helper_finds_this_file():
    assert FILE.endswith("test_dataflow_errors.py")
    assert expected("two_writers", "s.put", "m").startswith(f"{FILE}:{_MARKS.line('two_writers')}:")


# ------------------------------------------------------------------------------------------
# Streams: one producer, one consumer


@df.region()
def r_two_writers(A: int32[N], B: int32[N]):
    s: Stream[int32, 2]

    @df.kernel(mapping=[1], args=[A])
    def p1(a: int32[N]):
        for i in range(N):
            s.put(a[i])

    @df.kernel(mapping=[1], args=[A])
    def p2(a: int32[N]):
        for i in range(N):
            s.put(a[i])  # ERR:two_writers

    @df.kernel(mapping=[1], args=[B])
    def c(b: int32[N]):
        for i in range(N):
            b[i] = s.get()


def test_stream_written_by_two_kernels():
    df_raises(
        allo.KernelSyntaxError,
        r_two_writers,
        expected(
            "two_writers",
            "s.put",
            "stream `s` is written by 2 kernels (p1, p2); a stream connects one producer to "
            "one consumer",
            HINT_TWO_ENDS,
        ),
    )


@df.region()
def r_two_writers_grid(A: int32[N], B: int32[N]):
    fifo: Stream[int32, 2][2]

    @df.kernel(mapping=[2], args=[A])
    def p(a: int32[N]):
        for i in range(N):
            fifo[0].put(a[i])  # ERR:two_writers_grid

    @df.kernel(mapping=[1], args=[B])
    def c(b: int32[N]):
        for i in range(N):
            b[i] = fifo[0].get()


def test_stream_element_written_by_two_instances_of_one_kernel():
    df_raises(
        allo.KernelSyntaxError,
        r_two_writers_grid,
        expected(
            "two_writers_grid",
            "fifo",
            "stream `fifo[0]` is written by 2 kernels (p_0, p_1); a stream connects one "
            "producer to one consumer",
            HINT_TWO_ENDS,
        ),
    )


@df.region()
def r_two_readers(A: int32[N], B: int32[N]):
    s: Stream[int32, 2]

    @df.kernel(mapping=[1], args=[A])
    def p(a: int32[N]):
        for i in range(N):
            s.put(a[i])

    @df.kernel(mapping=[1], args=[B])
    def c1(b: int32[N]):
        for i in range(N):
            b[i] = s.get()

    @df.kernel(mapping=[1], args=[B])
    def c2(b: int32[N]):
        for i in range(N):
            b[i] = s.get()  # ERR:two_readers


def test_stream_read_by_two_kernels():
    df_raises(
        allo.KernelSyntaxError,
        r_two_readers,
        expected(
            "two_readers",
            "s.get",
            "stream `s` is read by 2 kernels (c1, c2); a stream connects one producer to one "
            "consumer",
            HINT_TWO_ENDS,
        ),
    )


@df.region()
def r_never_written(B: int32[N]):
    s: Stream[int32, 2]

    @df.kernel(mapping=[1], args=[B])
    def c(b: int32[N]):
        for i in range(N):
            b[i] = s.get()  # ERR:never_written


def test_stream_read_but_never_written():
    df_raises(
        allo.KernelSyntaxError,
        r_never_written,
        expected(
            "never_written",
            "s.get",
            "stream `s` is read by c but no kernel writes it",
            "add the matching `s.put(...)` in another kernel, or remove this one",
        ),
    )


@df.region()
def r_never_read(A: int32[N]):
    fifo: Stream[int32, 2][2, 2]

    @df.kernel(mapping=[1], args=[A])
    def p(a: int32[N]):
        for i in range(N):
            fifo[1, 0].put(a[i])  # ERR:never_read


def test_stream_element_written_but_never_read():
    df_raises(
        allo.KernelSyntaxError,
        r_never_read,
        expected(
            "never_read",
            "fifo",
            "stream `fifo[1,0]` is written by p but no kernel reads it",
            "add the matching `fifo[1,0].get(...)` in another kernel, or remove this one",
        ),
    )


@df.region()
def r_index_outside(A: int32[N], B: int32[N]):
    fifo: Stream[int32, 2][4]

    @df.kernel(mapping=[4], args=[A])
    def p(a: int32[N]):
        i = df.get_pid()
        fifo[i + 1].put(a[i])  # ERR:index_outside

    @df.kernel(mapping=[4], args=[B])
    def c(b: int32[N]):
        i = df.get_pid()
        b[i] = fifo[i].get()


def test_stream_index_outside_the_grid():
    df_raises(
        allo.KernelTypeError,
        r_index_outside,
        expected(
            "index_outside",
            "fifo",
            "`fifo[i + 1]` is [4], outside stream grid `fifo`[4]",
            HINT_STREAM_INDEX,
        ),
    )


@df.region()
def r_index_negative(A: int32[N]):
    fifo: Stream[int32, 2][2, 2]

    @df.kernel(mapping=[2, 2], args=[A])
    def k(a: int32[N]):
        i, j = df.get_pid()
        fifo[i, j - 1].put(a[0])  # ERR:index_negative


def test_stream_index_negative():
    df_raises(
        allo.KernelTypeError,
        r_index_negative,
        expected(
            "index_negative",
            "fifo",
            "`fifo[i, j - 1]` is [0, -1], outside stream grid `fifo`[2, 2]",
            HINT_STREAM_INDEX,
        ),
    )


@df.region()
def r_index_too_few(A: int32[N]):
    fifo: Stream[int32, 2][2, 2]

    @df.kernel(mapping=[1], args=[A])
    def k(a: int32[N]):
        fifo[1].put(a[0])  # ERR:index_too_few


def test_stream_grid_indexed_with_too_few_indices():
    df_raises(
        allo.KernelTypeError,
        r_index_too_few,
        expected(
            "index_too_few",
            "fifo",
            "`fifo[1]` is [1], outside stream grid `fifo`[2, 2]",
            HINT_STREAM_INDEX,
        ),
    )


@df.region()
def r_index_single(A: int32[N]):
    s: Stream[int32, 2]

    @df.kernel(mapping=[1], args=[A])
    def k(a: int32[N]):
        s[0].put(a[0])  # ERR:index_single


def test_single_stream_indexed():
    df_raises(
        allo.KernelTypeError,
        r_index_single,
        expected(
            "index_single",
            "s",
            "`s[0]` is [0], outside stream grid `s` (a single stream)",
            HINT_STREAM_INDEX,
        ),
    )


@df.region()
def r_index_variable(A: int32[N], B: int32[N]):
    fifo: Stream[int32, 2][N]

    @df.kernel(mapping=[1], args=[A])
    def p(a: int32[N]):
        for i in range(N):
            fifo[i].put(a[i])  # ERR:index_variable

    @df.kernel(mapping=[N], args=[B])
    def c(b: int32[N]):
        i = df.get_pid()
        b[i] = fifo[i].get()


def test_stream_index_not_a_constant():
    df_raises(
        allo.KernelSyntaxError,
        r_index_variable,
        expected(
            "index_variable",
            "i]",
            "a stream index `i` is not a compile-time constant",
            HINT_STREAM_INDEX,
        ),
    )


@df.region()
def r_put_no_value(A: int32[N], B: int32[N]):
    s: Stream[int32, 2]

    @df.kernel(mapping=[1], args=[A])
    def p(a: int32[N]):
        s.put()  # ERR:put_no_value

    @df.kernel(mapping=[1], args=[B])
    def c(b: int32[N]):
        b[0] = s.get()


def test_put_without_a_value():
    df_raises(
        allo.KernelSyntaxError,
        r_put_no_value,
        expected("put_no_value", "s.put", "write `s.put(value)`", "`put` takes 1 argument(s)"),
    )


@df.region()
def r_get_with_value(A: int32[N], B: int32[N]):
    s: Stream[int32, 2]

    @df.kernel(mapping=[1], args=[A])
    def p(a: int32[N]):
        s.put(a[0])

    @df.kernel(mapping=[1], args=[B])
    def c(b: int32[N]):
        b[0] = s.get(1)  # ERR:get_with_value


def test_get_with_an_argument():
    df_raises(
        allo.KernelSyntaxError,
        r_get_with_value,
        expected("get_with_value", "s.get", "write `s.get()`", "`get` takes 0 argument(s)"),
    )


# ------------------------------------------------------------------------------------------
# Stream operations in expressions


@df.region()
def r_get_in_ifexp(A: int32[N], B: int32[N]):
    s: Stream[int32, 2]

    @df.kernel(mapping=[1], args=[A])
    def p(a: int32[N]):
        for i in range(N):
            s.put(a[i])

    @df.kernel(mapping=[1], args=[B])
    def c(b: int32[N]):
        for i in range(N):
            b[i] = s.get() if i > 0 else 0  # ERR:get_in_ifexp


def test_get_inside_a_conditional_expression():
    df_raises(
        allo.KernelSyntaxError,
        r_get_in_ifexp,
        expected(
            "get_in_ifexp",
            "s.get",
            "stream `get` inside `and`, `or` or a conditional expression is not supported",
            HINT_COND_GET,
        ),
    )


@df.region()
def r_get_in_or(A: int32[N], B: int32[N]):
    s: Stream[int32, 2]

    @df.kernel(mapping=[1], args=[A])
    def p(a: int32[N]):
        for i in range(N):
            s.put(a[i])

    @df.kernel(mapping=[1], args=[B])
    def c(b: int32[N]):
        for i in range(N):
            if b[i] > 0 or s.get() > 0:  # ERR:get_in_or
                b[i] = 1


def test_get_inside_or():
    df_raises(
        allo.KernelSyntaxError,
        r_get_in_or,
        expected(
            "get_in_or",
            "s.get",
            "stream `get` inside `and`, `or` or a conditional expression is not supported",
            HINT_COND_GET,
        ),
    )


@df.region()
def r_get_in_while(A: int32[N], B: int32[N]):
    s: Stream[int32, 2]

    @df.kernel(mapping=[1], args=[A])
    def p(a: int32[N]):
        for i in range(N):
            s.put(a[i])

    @df.kernel(mapping=[1], args=[B])
    def c(b: int32[N]):
        while s.get() > 0:  # ERR:get_in_while
            b[0] = 1


def test_get_in_while_condition_mentions_the_stream():
    df_raises(
        allo.KernelSyntaxError,
        r_get_in_while,
        expected(
            "get_in_while",
            "s.get",
            "a `while` condition cannot call a kernel or get from a stream",
            "compute the value in a variable before the loop and at the end of the body",
        ),
    )


# ------------------------------------------------------------------------------------------
# The region body


@df.region()
def r_non_stream_decl(A: int32[N]):
    x: int32  # ERR:non_stream_decl  # noqa: F842

    @df.kernel(mapping=[1], args=[A])
    def k(a: int32[N]):
        a[0] = 1


def test_non_stream_declaration_in_region():
    df_raises(
        allo.KernelTypeError,
        r_non_stream_decl,
        expected(
            "non_stream_decl",
            "x",
            "`x` is declared as int32; a dataflow region declares only streams",
            "declare `x: Stream[int32, 4]` (or a grid, `Stream[int32, 4][P0, P1]`)",
        ),
    )


@df.region()
def r_code_in_body(A: int32[N]):
    for i in range(N):  # ERR:code_in_body
        A[i] = 0

    @df.kernel(mapping=[1], args=[A])
    def k(a: int32[N]):
        a[0] = 1


def test_code_other_than_kernels_in_region():
    df_raises(
        allo.KernelSyntaxError,
        r_code_in_body,
        expected(
            "code_in_body",
            "for",
            "a dataflow region may contain only stream declarations and @df.kernel functions",
            HINT_REGION_BODY,
        ),
    )


@df.region()
def r_stream_with_value(A: int32[N]):
    s: Stream[int32, 2] = 0  # ERR:stream_with_value  # noqa: F841

    @df.kernel(mapping=[1], args=[A])
    def k(a: int32[N]):
        a[0] = 1


def test_stream_declaration_with_a_value():
    df_raises(
        allo.KernelSyntaxError,
        r_stream_with_value,
        expected(
            "stream_with_value",
            "s",
            "a dataflow region may contain only stream declarations and @df.kernel functions",
            HINT_REGION_BODY,
        ),
    )


@df.region()
def r_undecorated(A: int32[N]):
    def k(a: int32[N]):  # ERR:undecorated
        a[0] = 1


def test_function_without_df_kernel_in_region():
    df_raises(
        allo.KernelSyntaxError,
        r_undecorated,
        expected(
            "undecorated",
            "def",
            "function `k` in a dataflow region must be decorated with @df.kernel only",
            "write `@df.kernel(mapping=[1], args=[...])` above it",
        ),
    )


# ------------------------------------------------------------------------------------------
# @df.kernel options


@df.region()
def r_unknown_keyword(A: int32[N]):
    @df.kernel(mapping=[1], args=[A], name="k")  # ERR:unknown_keyword
    def k(a: int32[N]):
        a[0] = 1


def test_kernel_unknown_keyword():
    df_raises(
        allo.KernelSyntaxError,
        r_unknown_keyword,
        expected(
            "unknown_keyword",
            "df.kernel",
            "@df.kernel takes only `mapping=` and `args=`, got name",
        ),
    )


@df.region()
def r_positional(A: int32[N]):
    @df.kernel([1], args=[A])  # ERR:positional
    def k(a: int32[N]):
        a[0] = 1


def test_kernel_positional_argument():
    df_raises(
        allo.KernelSyntaxError,
        r_positional,
        expected(
            "positional",
            "df.kernel",
            "@df.kernel takes only `mapping=` and `args=`, got positional arguments",
        ),
    )


_OPTIONS = {"mapping": [1]}


@df.region()
def r_double_star(A: int32[N]):
    @df.kernel(args=[A], **_OPTIONS)  # ERR:double_star
    def k(a: int32[N]):
        a[0] = 1


def test_kernel_double_star_options():
    df_raises(
        allo.KernelSyntaxError,
        r_double_star,
        expected(
            "double_star",
            "df.kernel",
            "@df.kernel takes only `mapping=` and `args=`, got **keywords",
        ),
    )


@df.region()
def r_bad_mapping(A: int32[N]):
    @df.kernel(mapping=[2, 0], args=[A])  # ERR:bad_mapping
    def k(a: int32[N]):
        a[0] = 1


def test_kernel_mapping_not_positive():
    df_raises(
        allo.KernelTypeError,
        r_bad_mapping,
        expected(
            "bad_mapping",
            "df.kernel",
            "the mapping of `k` must be a list of positive integers, got (2, 0)",
        ),
    )


@df.region()
def r_args_not_params(A: int32[N]):
    @df.kernel(mapping=[1], args=[NOT_A_PARAM])  # ERR:args_not_params
    def k(a: int32[N]):
        a[0] = 1


def test_kernel_args_not_region_parameters():
    df_raises(
        allo.KernelSyntaxError,
        r_args_not_params,
        expected(
            "args_not_params",
            "[NOT",
            "`args=` of `k` must list parameters of the region",
            "write `args=[A]` (in the order of `k`'s parameters)",
        ),
    )


@df.region()
def r_args_not_list(A: int32[N], B: int32[N]):
    @df.kernel(mapping=[1], args=A)  # ERR:args_not_list
    def k(a: int32[N]):
        a[0] = 1


def test_kernel_args_not_a_list():
    df_raises(
        allo.KernelSyntaxError,
        r_args_not_list,
        expected(
            "args_not_list",
            "A)",
            "`args=` of `k` must list parameters of the region",
            "write `args=[A, B]` (in the order of `k`'s parameters)",
        ),
    )


@df.region()
def r_args_missing(A: int32[N]):
    @df.kernel(mapping=[1])
    def k(a: int32[N]):  # ERR:args_missing
        a[0] = 1


def test_kernel_without_args_but_with_parameters():
    df_raises(
        allo.KernelTypeError,
        r_args_missing,
        expected(
            "args_missing",
            "def",
            "kernel `k` has 1 parameter(s) but `args=` gives 0",
        ),
    )


@df.region()
def r_args_count(A: int32[N], B: int32[N]):
    @df.kernel(mapping=[1], args=[A, B])  # ERR:args_count
    def k(a: int32[N]):
        a[0] = 1


def test_kernel_wrong_number_of_args():
    df_raises(
        allo.KernelTypeError,
        r_args_count,
        expected(
            "args_count",
            "[A, B]",
            "kernel `k` has 1 parameter(s) but `args=` gives 2",
        ),
    )


@df.region()
def r_args_type(A: int32[N], B: int32[N]):
    @df.kernel(mapping=[1], args=[A])
    def k(a: int32[N, 2]):  # ERR:args_type
        a[0, 0] = 1


def test_kernel_parameter_type_differs_from_region_argument():
    df_raises(
        allo.KernelTypeError,
        r_args_type,
        expected(
            "args_type",
            "a:",
            "parameter `a` of kernel `k` is int32[4, 2], but the region passes `A` of type "
            "int32[4]",
            "declare the kernel parameter with the region parameter's type",
        ),
    )


@df.region()
def r_kernel_returns(A: int32[N]):
    @df.kernel(mapping=[1], args=[A])
    def k(a: int32[N]) -> int32:  # ERR:kernel_returns
        a[0] = 1
        return a[1]


def test_kernel_with_a_return_value():
    # Located at the return annotation (the second `int32` of the line).
    df_raises(
        allo.KernelTypeError,
        r_kernel_returns,
        expected(
            "kernel_returns",
            "int32",
            "a dataflow kernel cannot return a value (`k` is annotated `-> int32`)",
            HINT_NO_RETURN,
            nth=1,
        ),
    )


@df.region()
def r_region_returns(A: int32[N]) -> int32[N]:  # ERR:region_returns
    @df.kernel(mapping=[1], args=[A])
    def k(a: int32[N]):
        a[0] = 1


def test_region_with_a_return_annotation():
    # Located at the return annotation (the second `int32` of the line).
    df_raises(
        allo.KernelTypeError,
        r_region_returns,
        expected(
            "region_returns",
            "int32",
            "a dataflow region cannot return a value "
            "(`r_region_returns` is annotated `-> int32[N]`)",
            HINT_NO_RETURN,
            nth=1,
        ),
    )


# ------------------------------------------------------------------------------------------
# df.get_pid() and allo.meta_if / meta_elif / meta_else


@df.region()
def r_pid_too_few(A: int32[N]):
    @df.kernel(mapping=[2, 2], args=[A])
    def k(a: int32[N]):
        i = df.get_pid()  # ERR:pid_too_few
        a[0] = i


def test_get_pid_too_few_names():
    df_raises(
        allo.KernelSyntaxError,
        r_pid_too_few,
        expected(
            "pid_too_few",
            "i =",
            "df.get_pid() gives 2 id(s) for mapping [2, 2], but 1 name(s) receive them",
            "write `i, j = df.get_pid()`",
        ),
    )


@df.region()
def r_pid_too_many(A: int32[N]):
    @df.kernel(mapping=[4], args=[A])
    def k(a: int32[N]):
        i, j = df.get_pid()  # ERR:pid_too_many
        a[i] = j


def test_get_pid_too_many_names():
    df_raises(
        allo.KernelSyntaxError,
        r_pid_too_many,
        expected(
            "pid_too_many",
            "i, j",
            "df.get_pid() gives 1 id(s) for mapping [4], but 2 name(s) receive them",
            "write `i = df.get_pid()`",
        ),
    )


def k_plain_get_pid(A: int32[N]):
    i = df.get_pid()  # ERR:plain_get_pid
    A[0] = i


def test_get_pid_outside_a_dataflow_kernel():
    with pytest.raises(allo.KernelSyntaxError) as excinfo:
        allo.customize(k_plain_get_pid).build()
    assert str(excinfo.value) == expected(
        "plain_get_pid",
        "df.get_pid",
        "`df.get_pid` is not supported in kernels",
        "kernels can call other kernels, min/max/abs/int/float and allo.exp, log, sqrt, ...",
    )


@df.region()
def r_elif_first(A: int32[N]):
    @df.kernel(mapping=[2], args=[A])
    def k(a: int32[N]):
        i = df.get_pid()
        with allo.meta_elif(i == 0):  # ERR:elif_first
            a[i] = 1


def test_meta_elif_without_meta_if():
    df_raises(
        allo.KernelSyntaxError,
        r_elif_first,
        expected(
            "elif_first",
            "with",
            "`allo.meta_elif` must directly follow an `allo.meta_if` or `allo.meta_elif` block",
            HINT_META_CHAIN,
        ),
    )


@df.region()
def r_else_after_stmt(A: int32[N]):
    @df.kernel(mapping=[2], args=[A])
    def k(a: int32[N]):
        i = df.get_pid()
        with allo.meta_if(i == 0):
            a[i] = 1
        a[3] = 2
        with allo.meta_else():  # ERR:else_after_stmt
            a[i] = 3


def test_meta_else_separated_from_its_meta_if():
    df_raises(
        allo.KernelSyntaxError,
        r_else_after_stmt,
        expected(
            "else_after_stmt",
            "with",
            "`allo.meta_else` must directly follow an `allo.meta_if` or `allo.meta_elif` block",
            HINT_META_CHAIN,
        ),
    )


@df.region()
def r_elif_after_else(A: int32[N]):
    @df.kernel(mapping=[2], args=[A])
    def k(a: int32[N]):
        i = df.get_pid()
        with allo.meta_if(i == 0):
            a[i] = 1
        with allo.meta_else():
            a[i] = 2
        with allo.meta_elif(i == 1):  # ERR:elif_after_else
            a[i] = 3


def test_meta_elif_after_meta_else():
    df_raises(
        allo.KernelSyntaxError,
        r_elif_after_else,
        expected(
            "elif_after_else",
            "with",
            "`allo.meta_elif` must directly follow an `allo.meta_if` or `allo.meta_elif` block",
            HINT_META_CHAIN,
        ),
    )


class _Ctx:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


@df.region()
def r_with_other(A: int32[N]):
    @df.kernel(mapping=[1], args=[A])
    def k(a: int32[N]):
        with _Ctx():  # ERR:with_other
            a[0] = 1


def test_with_that_is_not_meta_if():
    df_raises(
        allo.KernelSyntaxError,
        r_with_other,
        expected(
            "with_other",
            "with",
            "`with` is supported in kernels only for allo.meta_if / meta_elif / meta_else",
            "write the body of the `with` block without it",
        ),
    )


@df.region()
def r_meta_if_as(A: int32[N]):
    @df.kernel(mapping=[1], args=[A])
    def k(a: int32[N]):
        with allo.meta_if(True) as x:  # ERR:meta_if_as  # noqa: F841
            a[0] = 1


def test_meta_if_with_as():
    df_raises(
        allo.KernelSyntaxError,
        r_meta_if_as,
        expected(
            "meta_if_as",
            "with",
            "write `with allo.meta_if(condition):`",
            "one condition, no `as`",
        ),
    )


@df.region()
def r_meta_if_variable(A: int32[N]):
    @df.kernel(mapping=[1], args=[A])
    def k(a: int32[N]):
        x: int32 = a[0]
        with allo.meta_if(x > 0):  # ERR:meta_if_variable
            a[1] = 1


def test_meta_if_condition_not_constant():
    df_raises(
        allo.KernelSyntaxError,
        r_meta_if_variable,
        expected(
            "meta_if_variable",
            "x >",
            "the condition of allo.meta_if `x > 0` is not a compile-time constant",
            "use constants and the ids from df.get_pid(); branch on kernel values with `if`",
        ),
    )


@df.region()
def r_meta_for_variable(A: int32[N]):
    @df.kernel(mapping=[1], args=[A])
    def k(a: int32[N]):
        n: int32 = a[0]
        for x in allo.meta_for(n):  # ERR:meta_for_variable
            a[x] = 1


def test_meta_for_bound_not_constant():
    df_raises(
        allo.KernelSyntaxError,
        r_meta_for_variable,
        expected(
            "meta_for_variable",
            "n)",
            "the bound of allo.meta_for `n` is not a compile-time constant",
            "use constants, e.g. `allo.meta_for(N)`",
        ),
    )


# ------------------------------------------------------------------------------------------
# Using a region as plain Python


@df.region()
def r_plain(A: int32[N]):  # ERR:plain_call
    @df.kernel(mapping=[1], args=[A])
    def k(a: int32[N]):
        a[0] = 1


def test_region_called_as_plain_python():
    # The location is the `def` line of the region, not its decorator.
    with pytest.raises(allo.KernelSyntaxError) as excinfo:
        r_plain(np.zeros(N, np.int32))
    assert str(excinfo.value) == expected(
        "plain_call",
        "def",
        "dataflow region `r_plain` cannot run as plain Python",
        "build it: `mod = df.build(r_plain)`, then call `mod(...)`",
    )
