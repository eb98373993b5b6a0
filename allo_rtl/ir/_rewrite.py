"""Generic bottom-up rewriting of IR trees (the building block of primitives and lowering
preparation passes).

``transform(node, fn)`` rebuilds ``node`` with every child node transformed first, then calls
``fn`` on the rebuilt node; ``fn`` returns the node to use instead (or the node itself).
Unchanged subtrees are returned as the same objects, so a no-op rewrite costs no allocation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from typing import Any, TypeVar

from ._nodes import EXPR_TYPES, NODE_TYPES, Sym, Var

__all__ = ["map_operands", "rename", "shape_key", "substitute", "transform"]

N = TypeVar("N")


def _field(value: Any, fn: Callable[[Any], Any]) -> Any:
    if isinstance(value, NODE_TYPES):
        return transform(value, fn)
    if isinstance(value, tuple):
        items = tuple(_field(item, fn) for item in value)
        return value if all(a is b for a, b in zip(items, value)) else items
    return value


def map_operands(e: N, fn: Callable[[Any], Any]) -> N:
    """``e`` with ``fn`` applied to each of its direct operands (expression fields, and
    tuples of expressions such as indices or arguments); ``e`` itself when none changes."""
    changes = {}
    for f in fields(e):  # type: ignore[arg-type]
        old = getattr(e, f.name)
        if isinstance(old, EXPR_TYPES):
            new = fn(old)
        elif isinstance(old, tuple) and old and isinstance(old[0], EXPR_TYPES):
            new = tuple(fn(item) for item in old)
        else:
            continue
        if new is not old:
            changes[f.name] = new
    return replace(e, **changes) if changes else e  # type: ignore[type-var]


def transform(node: N, fn: Callable[[Any], Any]) -> N:
    """``node`` rebuilt bottom-up, with ``fn`` applied to every node (children first). A tuple
    of nodes (a statement list) is transformed item by item."""
    if isinstance(node, tuple):
        return _field(node, fn)
    changes = {}
    for f in fields(node):  # type: ignore[arg-type]
        old = getattr(node, f.name)
        new = _field(old, fn)
        if new is not old:
            changes[f.name] = new
    rebuilt = replace(node, **changes) if changes else node  # type: ignore[type-var]
    return fn(rebuilt)


def _rename_value(value: Any, mapping: Mapping[Sym, Sym]) -> Any:
    if isinstance(value, Sym):
        return mapping.get(value, value)
    if isinstance(value, tuple) and any(isinstance(v, Sym) for v in value):
        return tuple(mapping.get(v, v) if isinstance(v, Sym) else v for v in value)
    return value


def rename(node: N, mapping: Mapping[Sym, Sym]) -> N:
    """``node`` with every symbol in ``mapping`` (variables, arrays, loop variables, call
    results) replaced by its image."""

    def swap(n: Any) -> Any:
        changes = {}
        for f in fields(n):
            old = getattr(n, f.name)
            new = _rename_value(old, mapping)
            if new is not old:
                changes[f.name] = new
        return replace(n, **changes) if changes else n

    return transform(node, swap)


def substitute(node: N, values: Mapping[Sym, Any]) -> N:
    """``node`` with every read of a scalar variable in ``values`` (a ``Var``) replaced by the
    given expression. Assignments to those variables are left alone."""

    def swap(n: Any) -> Any:
        if isinstance(n, Var) and n.sym in values:
            return values[n.sym]
        return n

    return transform(node, swap)


def shape_key(node: Any) -> Any:
    """A hashable structural form of ``node`` that ignores source locations: two expressions
    with equal keys compute the same value."""
    if isinstance(node, NODE_TYPES):
        items = [
            (f.name, shape_key(getattr(node, f.name))) for f in fields(node) if f.name != "loc"
        ]
        return (type(node).__name__, tuple(items))
    if isinstance(node, tuple):
        return tuple(shape_key(item) for item in node)
    return node
