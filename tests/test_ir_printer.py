"""Golden tests of the IR text form, ``str(allo.customize(kernel))``.

Each kernel below has a golden file ``tests/golden/<name>.txt``. To regenerate them after an
intended change of the printer or the frontend, run::

    ALLO_RTL_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_ir_printer.py

(the tests then write the files and pass), and read every changed file before committing it.

The printed form shows the type of declarations, casts and loops, but not of intermediate
expressions, so ``test_intermediate_types`` checks those against docs/semantics.md directly.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import numpy as np
import pytest

import allo_rtl as allo
from allo_rtl._errors import Loc
from allo_rtl.ir import (
    Assign,
    Binary,
    Cast,
    Decl,
    Function,
    Module,
    Param,
    Return,
    Store,
    Sym,
    Var,
    format_module,
    verify,
    walk,
)
from allo_rtl.ir.types import (
    Fixed,
    Int,
    UInt,
    bfloat16,
    float32,
    float64,
    index,
    int8,
    int16,
    int32,
    uint8,
)
from allo_rtl.ir.types import bool as abool

GOLDEN_DIR = Path(__file__).parent / "golden"
UPDATE = os.environ.get("ALLO_RTL_UPDATE_GOLDEN") == "1"

TABLE = np.arange(4, dtype=np.int32)

# ------------------------------------------------------------------------------------------
# Kernels


def gemm(A: int32[4, 4], B: int32[4, 4]) -> int32[4, 4]:
    C: int32[4, 4] = 0
    for i, j in allo.grid(4, 4, name="C"):
        for k in allo.reduction(4):
            C[i, j] += A[i, k] * B[k, j]
    return C


def loops(A: int32[8], B: int32[8]):
    for i in range(1, 8, 2):
        B[i] = A[i] + 1
    for i in range(7, -1, -3):
        B[i] = A[i] - B[i]
    for i, j in allo.grid(2, 4, name="T"):
        B[i * 4 + j] += 1
    for i in allo.grid(8):
        for k in allo.reduction(2):
            B[i] = B[i] + k


def branch(a: int32, b: int32) -> int32:
    r: int32 = 0
    if a > b:
        r = a - b
    elif a == b:
        r = 0
    else:
        r = b - a
    if a < 0:
        r = -r
    return r


def countdown(n: int32) -> int32:
    count: int32 = 0
    while n > 0:
        n = n // 2
        count += 1
    return count


def add1(x: int32) -> int32:
    return x + 1


def scale(A: int32[4], f: int32):
    for i in range(4):
        A[i] = A[i] * f


def caller(A: int32[4]) -> int32:
    y = add1(A[0])
    scale(A, y)
    z: int32 = add1(add1(y))
    return z


def scalars(a: int8, b: uint8, c: float32) -> float32:
    s = a + b
    p = a * b  # noqa: F841 - kept: it shows in the golden file
    q: int16 = s
    f = c * 0.5
    g = float(q) + f
    h = a < b
    m = min(a, b)
    t = a if h else b
    return g + m + t


def local_arrays(A: int32[4]) -> int32[4]:
    Z: int32[4]
    F: int32[4] = 7
    R: int32[4] = TABLE
    Cp: int32[4] = A
    for i in range(4):
        Z[i] = F[i] + R[i] + Cp[i]  # noqa: F821 - declared by `Z: int32[4]`
    return Z  # noqa: F821


def casts(x: float32, y: int32) -> int32:
    a: int8 = y
    b: float64 = x
    c = int(x)
    d: Fixed(8, 4) = 1.5
    e: Fixed(16, 8) = d
    return a + int(b) + c + int(e)


def bits(x: uint8, y: int32) -> uint8:
    b = x[3]
    s = x[2:6]
    x[0] = 1
    x[4:8] = s
    r = x.reverse()
    z = (y << 2) >> 1
    w = (x & 15) | (x ^ 255)
    v = ~x
    return r + b + w + v + z


def pair(a: int32, b: int32) -> (int32, int32):
    return a + b, a - b


def tuple_return(a: int32, b: int32) -> (int32, int32):
    s, d = pair(a, b)
    return d, s


def floats(x: float32, y: float64, h: bfloat16) -> float64:
    a = allo.exp(x) + allo.sqrt(y)
    b = x**2
    c = y * 0.1
    d = h * 0.5
    e = -x
    f = abs(x)
    g = allo.power(x, 3.0)
    return a + b + c + d + e + f + g


def logic(a: int32, b: int32, f: abool) -> abool:
    r = (a < b < 10) and not f
    s = a or f
    t = not (a != b)
    return r or s and t


KERNELS = {
    "gemm": gemm,
    "loops": loops,
    "branch": branch,
    "countdown": countdown,
    "caller": caller,
    "scalars": scalars,
    "local_arrays": local_arrays,
    "casts": casts,
    "bits": bits,
    "tuple_return": tuple_return,
    "floats": floats,
    "logic": logic,
}

# ------------------------------------------------------------------------------------------
# Golden comparison


def check_golden(name: str, text: str) -> None:
    path = GOLDEN_DIR / f"{name}.txt"
    if UPDATE:
        GOLDEN_DIR.mkdir(exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), (
        f"missing golden file {path}; create it with ALLO_RTL_UPDATE_GOLDEN=1 and check it by eye"
    )
    expected = path.read_text()
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=str(path),
                tofile="printed",
            )
        )
        pytest.fail(
            f"IR text of {name} differs from {path} "
            f"(regenerate with ALLO_RTL_UPDATE_GOLDEN=1 if intended):\n{diff}"
        )


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_golden(name):
    check_golden(name, str(allo.customize(KERNELS[name])))


def test_schedule_str_is_module_str():
    s = allo.customize(gemm)
    assert str(s) == str(s.module) == format_module(s.module)


def test_no_stale_golden_files():
    if UPDATE:
        pytest.skip("regenerating goldens")
    stale = sorted(p.stem for p in GOLDEN_DIR.glob("*.txt") if p.stem not in KERNELS)
    assert not stale, f"golden files without a kernel in {__file__}: {stale}"


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_printing_is_stable(name):
    """Two parses of one kernel (fresh symbols each time) print identically."""
    first = allo.customize(KERNELS[name])
    second = allo.customize(KERNELS[name])
    assert first.module is not second.module
    assert str(first) == str(second)
    assert str(first) == str(first)  # printing twice is pure


def test_callees_are_printed_first():
    text = str(allo.customize(caller))
    heads = [line for line in text.splitlines() if line.startswith("def ")]
    assert [h.split("(")[0] for h in heads] == ["def add1", "def scale", "def caller"]
    assert text.endswith("\n") and not text.endswith("\n\n")


# ------------------------------------------------------------------------------------------
# Types that the text form does not show (docs/semantics.md, "Arithmetic result types")


def _stores(kernel):
    fn = allo.customize(kernel).module.top_func
    return [n for n in walk(fn) if isinstance(n, Store)]


def _decl(kernel, name):
    fn = allo.customize(kernel).module.top_func
    (decl,) = [n for n in walk(fn) if isinstance(n, Decl) and n.sym.name == name]
    return decl


def test_intermediate_types_gemm():
    (store,) = _stores(gemm)
    # C[i, j] + A[i, k] * B[k, j]: int32 * int32 is Int(64), int32 + Int(64) is Int(65),
    # converted back to int32 by the store.
    assert isinstance(store.value, Cast) and store.value.type == int32
    add = store.value.operand
    assert isinstance(add, Binary) and add.op == "add" and add.type == Int(65)
    assert add.rhs.op == "mul" and add.rhs.type == Int(64)


def test_intermediate_types_loops():
    first, second, third, fourth = _stores(loops)
    # int32 + int32 -> Int(33), cast to int32 on the store
    assert first.value.type == int32 and first.value.operand.type == Int(33)
    assert second.value.operand.op == "sub" and second.value.operand.type == Int(33)
    # index counts as a 32-bit unsigned integer next to a signed one: i * 4 is Int(64),
    # (i * 4) + j is Int(65)
    (idx,) = third.indices
    assert idx.type == Int(65) and idx.lhs.type == Int(64)
    # int32 + index: 33 integer bits + 1 = Int(34)
    assert fourth.value.operand.type == Int(34)
    assert fourth.value.operand.rhs.type == index


def test_intermediate_types_scalars():
    assert _decl(scalars, "s").type == Int(10)  # int8 + uint8: 9 integer bits + 1
    assert _decl(scalars, "p").type == int16  # int8 * uint8: 8 + 8 bits, signed
    assert _decl(scalars, "m").type == Int(9)  # common type of int8 and uint8
    h = _decl(scalars, "h")
    assert h.type == UInt(1) and h.init.lhs.type == Int(9) and h.init.rhs.type == Int(9)


def test_intermediate_types_bits():
    fn = allo.customize(bits).module.top_func
    (ret,) = [n for n in walk(fn) if isinstance(n, Return)]
    (value,) = ret.values
    assert isinstance(value, Cast) and value.type == uint8
    # (((r + b) + w) + v) + z with r: uint8, b: bool, w: int32, v: int8, z: int32
    types = []
    node = value.operand
    while isinstance(node, Binary):
        types.append(node.type)
        node = node.lhs
    assert types == [Int(35), Int(34), Int(33), UInt(9)]
    assert _decl(bits, "v").type == int8  # ~uint8 is Int(8)
    assert _decl(bits, "w").type == int32  # uint8 & int32: 32 bits, signed


def test_intermediate_types_countdown():
    fn = allo.customize(countdown).module.top_func
    assigns = {n.sym.name: n for n in walk(fn) if isinstance(n, Assign)}
    assert assigns["n"].value.op == "floordiv" and assigns["n"].value.type == int32
    assert isinstance(assigns["count"].value, Cast)
    assert assigns["count"].value.operand.type == Int(33)


# ------------------------------------------------------------------------------------------
# Hand-made IR: symbol display names


LOC = Loc("handmade.py", 1, 1)


def _var(sym, t=int32):
    return Var(sym, t, LOC)


def test_same_name_symbols_print_with_suffix():
    x0, x1, x2 = Sym("x"), Sym("x"), Sym("x")
    assert x0 != x1
    body = (
        Decl(x1, int32, _var(x0), LOC),
        Decl(x2, int32, _var(x1), LOC),
        Assign(x1, _var(x2), LOC),
        Return((_var(x1),), LOC),
    )
    fn = Function(Sym("f"), (Param(x0, int32, LOC),), (int32,), body, LOC)
    module = verify(Module((fn,), fn.sym))
    assert str(module) == (
        "def f(x: int32) -> int32:\n"
        "    x#1: int32 = x\n"
        "    x#2: int32 = x#1\n"
        "    x#1 = x#2\n"
        "    return x#1\n"
    )


def test_display_names_are_per_function():
    """Numbering restarts in every function; the same symbol always prints the same."""
    xa, xb = Sym("x"), Sym("x")
    fa = Function(Sym("a"), (Param(xa, int32, LOC),), (), (Return((), LOC),), LOC)
    fb = Function(Sym("b"), (Param(xb, int32, LOC),), (), (), LOC)
    module = verify(Module((fa, fb), fb.sym))
    assert str(module) == "def a(x: int32):\n    return\n\ndef b(x: int32):\n    pass\n"


def test_display_names_follow_first_use_not_uid():
    """The name order is the order of appearance in the text, not of symbol creation."""
    late, early = Sym("x"), Sym("x")
    assert late.uid < early.uid
    body = (Decl(late, int32, _var(early), LOC),)
    fn = Function(Sym("f"), (Param(early, int32, LOC),), (), body, LOC)
    assert str(verify(Module((fn,), fn.sym))) == "def f(x: int32):\n    x#1: int32 = x\n"
