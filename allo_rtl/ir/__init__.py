"""The kernel IR: immutable nodes, types, typing rules, printer, verifier and visitors.

This is the data every pipeline stage passes on; it imports no other stage.
"""

from . import types
from ._nodes import (
    Alloc,
    ArrayRef,
    Assign,
    Binary,
    BitGet,
    BitReverse,
    BitSet,
    BitSlice,
    BitSliceSet,
    Call,
    Cast,
    Const,
    ConstArray,
    Decl,
    Expr,
    For,
    Function,
    If,
    Layout,
    Load,
    MathCall,
    Module,
    Param,
    Return,
    Select,
    Stmt,
    Store,
    Sym,
    Unary,
    Var,
    While,
    children,
    walk,
)  # fmt: skip
from ._printer import format_function, format_module
from ._typerules import binary_result, common_type, unary_result
from ._verify import verify
from ._visitor import ExprVisitor, StmtVisitor

__all__ = [
    "Alloc", "ArrayRef", "Assign", "Binary", "BitGet", "BitReverse", "BitSet", "BitSlice",
    "BitSliceSet", "Call", "Cast", "Const", "ConstArray", "Decl", "Expr", "ExprVisitor", "For",
    "Function", "If", "Layout", "Load", "MathCall", "Module", "Param", "Return", "Select", "Stmt",
    "StmtVisitor", "Store", "Sym", "Unary", "Var", "While", "binary_result", "children",
    "common_type", "format_function", "format_module", "types", "unary_result", "verify", "walk",
]  # fmt: skip
