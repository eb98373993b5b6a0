"""The IR data structures: immutable slotted nodes with source locations, symbols, the verifier
and the exhaustive visitors."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
import inspect
import sys
from pathlib import Path

import numpy as np
import pytest

import allo_rtl as allo
import allo_rtl.dataflow as df
import allo_rtl.ir
from allo_rtl import InternalError
from allo_rtl._errors import Loc
from allo_rtl.frontend import parse
from allo_rtl.ir import (
    Alloc,
    ArrayRef,
    Assign,
    Binary,
    Call,
    Const,
    ConstArray,
    Decl,
    ExprVisitor,
    For,
    Function,
    If,
    Load,
    Module,
    Param,
    Return,
    StmtVisitor,
    Store,
    Sym,
    Var,
    While,
    _nodes,
    children,
    verify,
    walk,
)
from allo_rtl.ir.types import AlloType, Int, Stream, UInt, float32, index, int8, int32, uint8

REPO = Path(__file__).resolve().parent.parent
THIS_FILE = Path(__file__).resolve()

# ------------------------------------------------------------------------------------------
# A corpus of kernels that together produce every node type

ROM = np.array([1, 2, 3, 4], dtype=np.int32)


def helper(x: int32, A: int32[4]) -> int32:
    return x + A[0]


def everything(A: int32[4], x: uint8, f: float32) -> int32:
    B: int32[4] = ROM
    C: int32[4] = A
    acc: int32 = 0
    for i in range(4):
        acc += A[i] * B[i]
        C[i] = acc
    n: int32 = 3
    while n > 0:
        n -= 1
    if acc > 0 and not x[0]:
        acc = -acc
    else:
        acc = acc if x[1] else 0
    y = x[0:4]
    x[2] = 1
    x[4:8] = y
    z = x.reverse()
    g = allo.exp(f)
    r = helper(acc, C)
    return r + z + int(g)


def nest(A: int32[4, 4]):
    for i, j in allo.grid(4, 4, name="S"):
        for k in allo.reduction(4):
            A[i, j] += k
    for i in range(0, 4, 2):
        if A[i, i] > 0:
            A[i, 0] = 0


def scalar_only(a: int8, b: int8) -> (int8, int32):
    c = max(a, b)
    d = a // b % 3
    return c, d


@df.region()
def streams(A: int32[4], B: int32[4]):
    pipe: Stream[int32, 2]

    @df.kernel(mapping=[1], args=[A])
    def producer(a: int32[4]):
        for i in range(4):
            pipe.put(a[i])  # noqa: F821 - streams are declared without a value

    @df.kernel(mapping=[1], args=[B])
    def consumer(b: int32[4]):
        for i in range(4):
            b[i] = pipe.get()  # noqa: F821


CORPUS = [everything, nest, scalar_only, streams]


def _all_nodes():
    for kernel in CORPUS:
        yield from walk(parse(kernel))


def _first_of(node_type):
    for node in _all_nodes():
        if type(node) is node_type:
            return node
    raise AssertionError(f"the corpus has no {node_type.__name__} node")


def test_corpus_covers_every_node_type():
    seen = {type(n) for n in _all_nodes()}
    assert seen == set(_nodes.NODE_TYPES), set(_nodes.NODE_TYPES) ^ seen


# ------------------------------------------------------------------------------------------
# Immutability


@pytest.mark.parametrize("node_type", _nodes.NODE_TYPES, ids=lambda t: t.__name__)
def test_nodes_are_frozen_and_slotted(node_type):
    node = _first_of(node_type)
    assert dataclasses.is_dataclass(node)
    assert "__slots__" in node_type.__dict__
    assert not hasattr(node, "__dict__")
    for f in dataclasses.fields(node):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(node, f.name, getattr(node, f.name))
        with pytest.raises(dataclasses.FrozenInstanceError):
            delattr(node, f.name)
    # A new attribute cannot be added either. (Python 3.12's frozen ``__setattr__`` refers to
    # the class before ``slots=True`` replaced it, so this raises TypeError, not
    # FrozenInstanceError; any of these is fine.)
    with pytest.raises((dataclasses.FrozenInstanceError, AttributeError, TypeError)):
        node.extra = 1  # type: ignore[attr-defined]
    assert not hasattr(node, "extra")


@pytest.mark.parametrize("cls", [Sym, ConstArray, Loc], ids=lambda t: t.__name__)
def test_helper_classes_are_frozen_and_slotted(cls):
    obj = {
        Sym: Sym("x"),
        ConstArray: ConstArray(np.array([1, 2], dtype=object)),
        Loc: Loc("f.py", 1, 1),
    }[cls]
    assert "__slots__" in cls.__dict__
    assert not hasattr(obj, "__dict__")
    name = dataclasses.fields(obj)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(obj, name, getattr(obj, name))


def test_node_fields_hold_no_mutable_containers():
    for node in _all_nodes():
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            assert not isinstance(value, (list, dict, set, bytearray)), (type(node), f.name)


def test_const_array_data_is_read_only():
    alloc = next(n for n in _all_nodes() if isinstance(n, Alloc) and isinstance(n.init, ConstArray))
    assert alloc.init.data.tolist() == [1, 2, 3, 4]
    with pytest.raises(ValueError):
        alloc.init.data[0] = 5


def test_nodes_are_hashable_and_compare_by_value():
    module = parse(everything)
    for node in walk(module):
        hash(node)
    loc = Loc("f.py", 1, 1)
    assert Const(1, int32, loc) == Const(1, int32, loc)
    assert Const(1, int32, loc) != Const(1, int8, loc)


def test_walk_is_preorder_over_children():
    module = parse(nest)
    nodes = list(walk(module))
    assert nodes[0] is module
    fn = module.top_func
    assert nodes[1] is fn
    assert list(children(fn))[: len(fn.params)] == list(fn.params)
    # every node appears exactly once per occurrence, before its children
    position = {id(n): k for k, n in enumerate(nodes)}
    for node in nodes:
        for child in children(node):
            assert position[id(child)] > position[id(node)]


# ------------------------------------------------------------------------------------------
# Source locations


def _line(kernel, snippet, occurrence=0):
    """Absolute (line, col) of the ``occurrence``-th source line of ``kernel`` containing
    ``snippet``; col is the 1-based column where ``snippet`` starts."""
    lines, first = inspect.getsourcelines(kernel)
    hits = [(first + n, text.index(snippet) + 1) for n, text in enumerate(lines) if snippet in text]
    return hits[occurrence]


def _span(kernel):
    lines, first = inspect.getsourcelines(getattr(kernel, "fn", kernel))
    return first, first + len(lines) - 1


@pytest.mark.parametrize("kernel", CORPUS, ids=lambda k: k.__name__)
def test_every_node_has_a_loc_in_its_function(kernel):
    module = parse(kernel)
    spans = {fn.sym.name: _span({"helper": helper}.get(fn.sym.name, kernel)) for fn in module.funcs}
    for fn in module.funcs:
        lo, hi = spans[fn.sym.name]
        for node in walk(fn):
            loc = node.loc
            assert isinstance(loc, Loc), node
            assert Path(loc.file).resolve() == THIS_FILE, (node, loc)
            assert lo <= loc.line <= hi, (type(node).__name__, loc, (lo, hi))
            assert loc.col >= 1


def test_locs_point_at_the_source():
    module = parse(everything)
    fn = module.top_func
    nodes = list(walk(fn))

    def locs(node_type):
        return [(n.loc.line, n.loc.col) for n in nodes if type(n) is node_type]

    assert (fn.loc.line, fn.loc.col) == _line(everything, "def everything")
    assert [(p.loc.line, p.loc.col) for p in fn.params] == [
        _line(everything, "A: int32[4]"),
        _line(everything, "x: uint8"),
        _line(everything, "f: float32"),
    ]
    assert locs(For) == [_line(everything, "for i in range(4)")]
    assert locs(While) == [_line(everything, "while n > 0")]
    assert locs(If) == [_line(everything, "if acc > 0")]
    assert locs(Store) == [_line(everything, "C[i] = acc")]
    assert locs(Call) == [_line(everything, "helper(acc, C)")]
    assert locs(Return) == [_line(everything, "return r + z")]
    alloc_lines = [line for line, _ in locs(Alloc)]
    assert alloc_lines == [_line(everything, "B: int32[4]")[0], _line(everything, "C: int32[4]")[0]]
    # an expression: the multiplication in `acc += A[i] * B[i]`
    (mul,) = [n for n in nodes if isinstance(n, Binary) and n.op == "mul"]
    assert (mul.loc.line, mul.loc.col) == _line(everything, "A[i] * B[i]")
    loads = [n for n in nodes if isinstance(n, Load) and n.loc.line == mul.loc.line]
    assert sorted(n.loc.col for n in loads) == [
        _line(everything, "A[i] * B")[1],
        _line(everything, "B[i]")[1],
    ]


def test_callee_locs_point_at_the_callee():
    module = parse(everything)
    callee = module.func("helper")
    assert (callee.loc.line, callee.loc.col) == _line(helper, "def helper")
    (ret,) = [n for n in walk(callee) if isinstance(n, Return)]
    assert (ret.loc.line, ret.loc.col) == _line(helper, "return x + A[0]")


def test_locs_of_an_indented_kernel():
    """A kernel defined inside a function: columns count the indentation of the file."""

    def inner(A: int32[4]):
        for i in range(4):
            A[i] = i

    fn = allo.customize(inner).module.top_func
    (loop,) = [n for n in walk(fn) if isinstance(n, For)]
    (store,) = [n for n in walk(fn) if isinstance(n, Store)]
    assert (loop.loc.line, loop.loc.col) == _line(inner, "for i in range(4)")
    assert (store.loc.line, store.loc.col) == _line(inner, "A[i] = i")
    assert store.loc.col == 13
    assert store.loc.source_line().strip() == "A[i] = i"


def _identity(fn):
    return fn


# fmt: off
@_identity
def decorated(
    A: int32[4],
):
    for i in range(
        4
    ):
        A[i] = (
            i + 1
        )
# fmt: on


def test_locs_of_a_decorated_multiline_kernel():
    fn = parse(decorated).top_func
    assert (fn.loc.line, fn.loc.col) == _line(decorated, "def decorated(")
    (param,) = fn.params
    assert (param.loc.line, param.loc.col) == _line(decorated, "A: int32[4],")
    (loop,) = [n for n in walk(fn) if isinstance(n, For)]
    assert (loop.loc.line, loop.loc.col) == _line(decorated, "for i in range(")
    assert loop.hi.loc.line == _line(decorated, "for i in range(")[0] + 1
    (store,) = [n for n in walk(fn) if isinstance(n, Store)]
    assert (store.loc.line, store.loc.col) == _line(decorated, "A[i] = (")
    (add,) = [n for n in walk(fn) if isinstance(n, Binary)]
    assert (add.loc.line, add.loc.col) == _line(decorated, "i + 1")


# ------------------------------------------------------------------------------------------
# Symbols


def test_sym_equality_is_by_identity_not_name():
    a, b = Sym("x"), Sym("x")
    assert a != b
    assert a.uid != b.uid
    assert len({a, b}) == 2
    assert str(a) == str(b) == "x"
    same = Sym("x", a.uid)
    assert same == a and hash(same) == hash(a)


def test_sym_uids_are_unique():
    syms = [Sym("s") for _ in range(1000)]
    assert len({s.uid for s in syms}) == 1000


def test_frontend_symbols_are_distinct_per_declaration():
    """Two loops over `i` declare two symbols that print the same name."""
    fn = parse(nest).top_func
    loop_vars = [n.var for n in walk(fn) if isinstance(n, For) and n.name == "i"]
    assert len(loop_vars) == 2 and loop_vars[0] != loop_vars[1]
    assert loop_vars[0].name == loop_vars[1].name == "i"


def test_sym_equality_ignores_the_display_name():
    """Equality is by uid only, so renaming a symbol for display keeps its identity."""
    a = Sym("x", 10**9)
    renamed = dataclasses.replace(a, name="renamed")
    assert renamed == a and hash(renamed) == hash(a)


# ------------------------------------------------------------------------------------------
# verify: accepts frontend output


def _printer_kernels():
    spec = importlib.util.spec_from_file_location(
        "_printer_kernels", REPO / "tests" / "test_ir_printer.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.KERNELS.values())


@pytest.mark.parametrize("kernel", CORPUS + [helper], ids=lambda k: k.__name__)
def test_verify_accepts_frontend_output(kernel):
    module = parse(kernel)
    assert verify(module) is module


def test_verify_accepts_printer_kernels():
    for kernel in _printer_kernels():
        module = parse(kernel)
        assert verify(module) is module, kernel.__name__


# ------------------------------------------------------------------------------------------
# verify: rejects bad IR

_LINES = iter(range(100, 10_000))


def L():
    """A fresh location, so that errors can be matched to the node they name."""
    return Loc("handmade.py", next(_LINES), 1)


def _good():
    """A small well-formed module; the tests below break one thing each.

    def g(x: int32) -> int32:
        return x
    def f(A: int32[4], x: int32) -> int32:
        t: int32 = x
        for i in range(0, 4):
            A[i] = t
        t = g(x)
        return t
    """
    gx = Sym("x")
    g = Function(
        Sym("g"), (Param(gx, int32, L()),), (int32,), (Return((Var(gx, int32, L()),), L()),), L()
    )
    A, x, t, i = Sym("A"), Sym("x"), Sym("t"), Sym("i")
    arr = int32[4]
    body = (
        Decl(t, int32, Var(x, int32, L()), L()),
        For(i, Const(0, index, L()), Const(4, index, L()), 1,
            (Store(A, (Var(i, index, L()),), Var(t, int32, L()), L()),),
            "i", "S_i_0", "range", (), L()),
        Call(g.sym, (Var(x, int32, L()),), (t,), L()),
        Return((Var(t, int32, L()),), L()),
    )  # fmt: skip
    f = Function(Sym("f"), (Param(A, arr, L()), Param(x, int32, L())), (int32,), body, L())
    return Module((g, f), f.sym)


def _replace_body(module, body):
    f = module.top_func
    return Module((module.funcs[0], dataclasses.replace(f, body=body)), module.top)


def _syms(module):
    f = module.top_func
    A, x = (p.sym for p in f.params)
    t = f.body[0].sym
    i = f.body[1].var
    return A, x, t, i


def test_good_module_verifies_and_prints():
    module = _good()
    assert verify(module) is module
    assert str(module) == (
        "def g(x: int32) -> int32:\n"
        "    return x\n"
        "\n"
        "def f(A: int32[4], x: int32) -> int32:\n"
        "    t: int32 = x\n"
        "    for i in range(0, 4):  # S_i_0.i range\n"
        "        A[i] = t\n"
        "    t = g(x)\n"
        "    return t\n"
    )


def _rejects(module, match, bad_node=None):
    with pytest.raises(InternalError, match=match) as info:
        verify(module)
    if bad_node is not None:
        assert info.value.loc == bad_node.loc
    return info.value


def test_verify_rejects_undeclared_symbol():
    module = _good()
    body = list(module.top_func.body)
    bad = Var(Sym("u"), int32, L())
    body[-1] = Return((bad,), L())
    _rejects(_replace_body(module, tuple(body)), "symbol u used before its declaration", bad)


def test_verify_rejects_symbol_with_same_name_but_other_uid():
    module = _good()
    body = list(module.top_func.body)
    bad = Var(Sym("t"), int32, L())  # prints like `t`, but is not the declared symbol
    body[-1] = Return((bad,), L())
    _rejects(_replace_body(module, tuple(body)), "symbol t used before its declaration", bad)


def test_verify_rejects_loop_variable_used_after_its_loop():
    module = _good()
    _, _, _, i = _syms(module)
    body = list(module.top_func.body)
    bad = Var(i, index, L())
    body.insert(2, Decl(Sym("after"), index, bad, L()))
    _rejects(_replace_body(module, tuple(body)), "symbol i used before its declaration", bad)


def test_verify_rejects_use_before_declaration():
    module = _good()
    body = list(module.top_func.body)
    body[0], body[1] = body[1], body[0]  # the loop reads t before `t: int32 = x`
    _rejects(_replace_body(module, tuple(body)), "symbol t used before its declaration")


def test_verify_rejects_store_of_wrong_type():
    module = _good()
    A, _, _, i = _syms(module)
    loop = module.top_func.body[1]
    bad = Store(A, (Var(i, index, L()),), Const(1, int8, L()), L())
    body = list(module.top_func.body)
    body[1] = dataclasses.replace(loop, body=(bad,))
    _rejects(_replace_body(module, tuple(body)), "stored value has type int8, expected int32", bad)


def test_verify_rejects_store_with_wrong_rank():
    module = _good()
    A, _, t, i = _syms(module)
    loop = module.top_func.body[1]
    bad = Store(A, (Var(i, index, L()), Var(i, index, L())), Var(t, int32, L()), L())
    body = list(module.top_func.body)
    body[1] = dataclasses.replace(loop, body=(bad,))
    _rejects(_replace_body(module, tuple(body)), "2 indices for int32\\[4\\]", bad)


def test_verify_rejects_binary_with_wrong_result_type():
    module = _good()
    _, x, _, _ = _syms(module)
    # int32 + int32 is Int(33) (docs/semantics.md), not int32
    bad = Binary("add", Var(x, int32, L()), Var(x, int32, L()), int32, L())
    body = (Decl(Sym("s"), int32, bad, L()),) + module.top_func.body
    _rejects(_replace_body(module, body), "add has type Int\\(33\\), expected int32", bad)
    good = Binary("add", Var(x, int32, L()), Var(x, int32, L()), Int(33), L())
    body = (Decl(Sym("s"), Int(33), good, L()),) + module.top_func.body
    verify(_replace_body(module, body))


def test_verify_rejects_decl_with_wrong_init_type():
    module = _good()
    _, x, _, _ = _syms(module)
    decl = Decl(Sym("s"), int8, Var(x, int32, L()), L())
    body = (decl,) + module.top_func.body
    _rejects(_replace_body(module, body), "initial value has type int32, expected int8", decl)


def test_verify_rejects_assign_with_wrong_type():
    module = _good()
    _, _, t, _ = _syms(module)
    bad = Assign(t, Const(1, int8, L()), L())
    body = module.top_func.body[:-1] + (bad, module.top_func.body[-1])
    _rejects(_replace_body(module, body), "t has type int8, expected int32", bad)


def test_verify_rejects_return_that_is_not_last():
    module = _good()
    body = module.top_func.body
    ret = body[-1]
    moved = body[:2] + (ret,) + body[2:3] + (ret,)
    _rejects(_replace_body(module, moved), "return that is not the last statement", ret)


def test_verify_rejects_return_inside_a_loop():
    module = _good()
    _, _, t, _ = _syms(module)
    loop = module.top_func.body[1]
    ret = Return((Var(t, int32, L()),), L())
    body = list(module.top_func.body)
    body[1] = dataclasses.replace(loop, body=loop.body + (ret,))
    _rejects(_replace_body(module, tuple(body)), "return that is not the last statement", ret)


def test_verify_rejects_missing_final_return():
    module = _good()
    _rejects(_replace_body(module, module.top_func.body[:-1]), "must end with a return")


def test_verify_rejects_return_of_wrong_type():
    module = _good()
    bad = Return((Const(0, int8, L()),), L())
    _rejects(_replace_body(module, module.top_func.body[:-1] + (bad,)), "return has type", bad)


def test_verify_rejects_call_of_unknown_function():
    module = _good()
    _, x, t, _ = _syms(module)
    bad = Call(Sym("g"), (Var(x, int32, L()),), (t,), L())  # a *different* `g`
    body = list(module.top_func.body)
    body[2] = bad
    _rejects(_replace_body(module, tuple(body)), "call of g, which is not defined", bad)


def test_verify_rejects_callee_defined_after_caller():
    module = _good()
    g, f = module.funcs
    _rejects(Module((f, g), module.top), "call of g, which is not defined before f")


def test_verify_rejects_call_with_wrong_argument_type():
    module = _good()
    _, _, t, _ = _syms(module)
    g = module.funcs[0]
    bad = Call(g.sym, (Const(1, int8, L()),), (t,), L())
    body = list(module.top_func.body)
    body[2] = bad
    _rejects(_replace_body(module, tuple(body)), "argument x has type int8, expected int32", bad)


def test_verify_rejects_double_declaration():
    module = _good()
    _, x, t, _ = _syms(module)
    again = Decl(t, int32, None, L())
    body = module.top_func.body[:1] + (again,) + module.top_func.body[1:]
    _rejects(_replace_body(module, body), "symbol t declared twice", again)


def test_verify_rejects_missing_top():
    module = _good()
    with pytest.raises(InternalError, match="top function h is missing"):
        verify(Module(module.funcs, Sym("h")))


def test_verify_error_is_an_internal_error_with_location():
    module = _good()
    bad = Var(Sym("u"), int32, L())
    body = module.top_func.body[:-1] + (Return((bad,), L()),)
    err = _rejects(_replace_body(module, body), "IR verification failed")
    assert isinstance(err, allo.AlloRTLError)
    assert str(err).startswith(f"{bad.loc}: IR verification failed")


def _malformed(kind):
    """f(x: <param type>) with one declaration ``y = <bad expression>``, or a bad Alloc."""
    x, y, B = Sym("x"), Sym("y"), Sym("B")
    loc = Loc("handmade.py", 7, 3)

    def mk(param_type, stmt):
        fn = Function(Sym("f"), (Param(x, param_type, loc),), (), (stmt,), loc)
        return Module((fn,), fn.sym), stmt

    def decl(param_type, t, make_init):
        return mk(param_type, Decl(y, t, make_init(Var(x, param_type, loc)), loc))

    arr = lambda t: ArrayRef(x, t, loc)  # noqa: E731
    return {
        "binary-unknown-op-int": lambda: decl(
            int32, int32, lambda v: Binary("foo", v, v, int32, loc)
        ),
        "binary-unknown-op-float": lambda: decl(
            float32, float32, lambda v: Binary("foo", v, v, float32, loc)
        ),
        "unary-unknown-op": lambda: decl(
            int32, int32, lambda v: _nodes.Unary("foo", v, int32, loc)
        ),
        "mathcall-unknown-func": lambda: decl(
            float32, float32, lambda v: _nodes.MathCall("foo", (v,), float32, loc)
        ),
        "mathcall-on-integer": lambda: decl(
            int32, int32, lambda v: _nodes.MathCall("exp", (v,), int32, loc)
        ),
        "binary-array-operand": lambda: mk(
            int32[4],
            Decl(y, Int(33), Binary("add", arr(int32[4]), Const(1, int32, loc), Int(33), loc), loc),
        ),
        "bit-slice-empty": lambda: decl(
            uint8, UInt(1), lambda v: _nodes.BitSlice(v, 4, 4, UInt(1), loc)
        ),
        "const-out-of-range": lambda: mk(int32, Decl(y, int8, Const(300, int8, loc), loc)),
        "alloc-copy-other-dtype": lambda: mk(float32[4], Alloc(B, int32[4], arr(float32[4]), loc)),
        "cast-of-array": lambda: mk(
            int32[4], Decl(y, int32, _nodes.Cast(arr(int32[4]), int32, loc), loc)
        ),
        "decl-of-array-type": lambda: mk(int32, Decl(y, int32[4], None, loc)),
    }[kind]()


def _xfail(reason, raises=pytest.fail.Exception):
    """Known gap; ``raises`` is what happens now (pytest.fail.Exception: verify accepts)."""
    return pytest.mark.xfail(strict=True, reason=reason, raises=raises)


MALFORMED = [
    "binary-unknown-op-int", "binary-unknown-op-float", "unary-unknown-op",
    "mathcall-unknown-func", "mathcall-on-integer", "binary-array-operand", "bit-slice-empty",
    "const-out-of-range", "alloc-copy-other-dtype", "cast-of-array", "decl-of-array-type",
]  # fmt: skip


def test_malformed_cases_build():
    """Control for the xfails below: each malformed module is constructed without error."""
    for kind in MALFORMED:
        module, stmt = _malformed(kind)
        assert module.top_func.body == (stmt,)


@pytest.mark.parametrize(
    "kind",
    [
        "binary-unknown-op-int",
        "binary-unknown-op-float",
        "unary-unknown-op",
        "mathcall-unknown-func",
        "mathcall-on-integer",
        "binary-array-operand",
        "bit-slice-empty",
        "const-out-of-range",
        "alloc-copy-other-dtype",
        "cast-of-array",
        "decl-of-array-type",
    ],
)
def test_verify_rejects_malformed_nodes(kind):
    """Malformed nodes are reported as InternalError at the node (never another exception)."""
    module, stmt = _malformed(kind)
    with pytest.raises(InternalError, match="IR verification failed") as info:
        verify(module)
    assert info.value.loc == stmt.loc


# ------------------------------------------------------------------------------------------
# Exhaustive visitors


def _methods(node_types, skip=None):
    return {
        f"visit_{t.__name__}": (lambda self, n: type(n).__name__)
        for t in node_types
        if t is not skip
    }


@pytest.mark.parametrize("missing", _nodes.EXPR_TYPES, ids=lambda t: t.__name__)
def test_expr_visitor_missing_a_method_fails_at_class_creation(missing):
    with pytest.raises(
        TypeError, match=rf"\b{missing.__name__}\b.*define visit_{missing.__name__}"
    ):
        type("V", (ExprVisitor,), _methods(_nodes.EXPR_TYPES, skip=missing))


@pytest.mark.parametrize("missing", _nodes.STMT_TYPES, ids=lambda t: t.__name__)
def test_stmt_visitor_missing_a_method_fails_at_class_creation(missing):
    with pytest.raises(
        TypeError, match=rf"\b{missing.__name__}\b.*define visit_{missing.__name__}"
    ):
        type("V", (StmtVisitor,), _methods(_nodes.STMT_TYPES, skip=missing))


def test_visitor_class_statement_names_all_missing_nodes():
    with pytest.raises(TypeError) as info:

        class OnlyConsts(ExprVisitor):
            def visit_Const(self, e):
                return e.value

    message = str(info.value)
    assert "OnlyConsts" in message
    for t in _nodes.EXPR_TYPES:
        if t is not Const:
            assert t.__name__ in message


def test_complete_visitor_dispatches_by_node_type():
    V = type("V", (ExprVisitor,), _methods(_nodes.EXPR_TYPES))
    loc = Loc("f.py", 1, 1)
    assert V().visit(Const(1, int32, loc)) == "Const"
    assert V().visit(Var(Sym("x"), int32, loc)) == "Var"
    S = type("S", (StmtVisitor,), _methods(_nodes.STMT_TYPES))
    assert S().visit(Return((), loc)) == "Return"


def test_abstract_visitor_base_may_be_incomplete():
    class Base(ExprVisitor, abstract=True):
        def visit_Const(self, e):
            return "const"

    with pytest.raises(TypeError, match="Var"):
        type("Sub", (Base,), {})
    Full = type("Full", (Base,), _methods(_nodes.EXPR_TYPES, skip=Const))
    assert Full().visit(Const(1, int32, Loc("f.py", 1, 1))) == "const"


@dataclasses.dataclass(frozen=True, slots=True)
class NewExpr:
    """A pretend new expression node."""

    operand: object
    type: AlloType
    loc: Loc


@dataclasses.dataclass(frozen=True, slots=True)
class NewStmt:
    """A pretend new statement node."""

    loc: Loc


@pytest.mark.parametrize(
    "base, new, existing",
    [(ExprVisitor, NewExpr, _nodes.EXPR_TYPES), (StmtVisitor, NewStmt, _nodes.STMT_TYPES)],
    ids=["expr", "stmt"],
)
def test_new_node_type_breaks_visitors_without_it(monkeypatch, base, new, existing):
    monkeypatch.setattr(base, "node_types", base.node_types + (new,))
    with pytest.raises(TypeError, match=rf"{new.__name__}: define visit_{new.__name__}"):
        type("Old", (base,), _methods(existing))
    Updated = type("Updated", (base,), _methods(existing + (new,)))
    assert (
        Updated().visit(new(*([None] * (len(dataclasses.fields(new)) - 1)), Loc("f", 1, 1)))
        == new.__name__
    )


def _load_fresh(modname):
    """Execute a fresh copy of module ``modname`` (not registered in sys.modules)."""
    path = importlib.import_module(modname).__file__
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _visitor_modules():
    """Modules of the installed packages that define concrete visitor subclasses:
    dotted name -> the visitor bases (``ExprVisitor``/``StmtVisitor``) they subclass."""
    roots = {"allo_rtl": REPO / "allo_rtl"}
    roots.update({f"allo_rtl.{d}": REPO / d for d in ("primitives", "testbenches", "boards")})
    found = {}
    for pkg, root in roots.items():
        for path in sorted(root.rglob("*.py")):
            bases_used = set()
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.ClassDef):
                    continue
                if any(k.arg == "abstract" for k in node.keywords):
                    continue
                for b in node.bases:
                    name = b.id if isinstance(b, ast.Name) else getattr(b, "attr", "")
                    if name in ("ExprVisitor", "StmtVisitor"):
                        bases_used.add(name)
            if bases_used:
                parts = [pkg, *path.relative_to(root).with_suffix("").parts]
                found[".".join(p for p in parts if p != "__init__")] = bases_used
    return found


def test_visitor_modules_are_found():
    mods = _visitor_modules()
    assert "allo_rtl.ir._printer" in mods and "allo_rtl.ir._verify" in mods


@pytest.mark.parametrize(
    "attr, new", [("EXPR_TYPES", NewExpr), ("STMT_TYPES", NewStmt)], ids=["expr", "stmt"]
)
def test_adding_a_node_type_to_nodes_breaks_every_visitor_module(monkeypatch, attr, new):
    """Simulate adding a node class to ``_nodes.EXPR_TYPES``/``STMT_TYPES``: the visitor base
    classes pick it up, and every module with a visitor that lacks ``visit_<New>`` fails to
    import, naming the new node."""
    for modname in _visitor_modules():  # their packages are imported before the patch
        importlib.import_module(modname)
    monkeypatch.setattr(_nodes, attr, getattr(_nodes, attr) + (new,))
    visitor = _load_fresh("allo_rtl.ir._visitor")
    base = visitor.ExprVisitor if attr == "EXPR_TYPES" else visitor.StmtVisitor
    assert new in base.node_types
    monkeypatch.setitem(sys.modules, "allo_rtl.ir._visitor", visitor)
    monkeypatch.setattr(allo_rtl.ir, "_visitor", visitor)
    broken = []
    for modname in _visitor_modules():
        try:
            _load_fresh(modname)
        except TypeError as exc:
            assert f"visit_{new.__name__}" in str(exc), (modname, exc)
            broken.append(modname)
    kind = "ExprVisitor" if attr == "EXPR_TYPES" else "StmtVisitor"
    users = [m for m, bases in _visitor_modules().items() if kind in bases]
    assert broken == users and broken, (broken, users)


def test_fresh_visitor_modules_load_without_new_nodes():
    """Control for the test above: fresh copies load fine when no node type was added."""
    for modname in _visitor_modules():
        _load_fresh(modname)
