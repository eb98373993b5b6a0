"""Exhaustive visitors over the IR.

A subclass of :class:`ExprVisitor` must define ``visit_<Node>`` for every expression node class,
and a subclass of :class:`StmtVisitor` for every statement class; the check runs when the subclass
is created, so adding a node type breaks every visitor that does not handle it. Pass
``abstract=True`` to create an intermediate base class.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ._nodes import EXPR_TYPES, STMT_TYPES

__all__ = ["ExprVisitor", "StmtVisitor"]


class _Visitor:
    node_types: ClassVar[tuple[type, ...]] = ()

    def __init_subclass__(cls, abstract: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if abstract:
            return
        missing = [t.__name__ for t in cls.node_types if not hasattr(cls, f"visit_{t.__name__}")]
        if missing:
            raise TypeError(
                f"{cls.__qualname__} does not handle IR node(s) {', '.join(missing)}: "
                f"define visit_{missing[0]}"
            )
        cls._dispatch = {t: getattr(cls, f"visit_{t.__name__}") for t in cls.node_types}


class ExprVisitor(_Visitor, abstract=True):
    """Dispatches ``visit(expr)`` to ``visit_<ClassName>(expr)``."""

    node_types = EXPR_TYPES
    _dispatch: ClassVar[dict[type, Any]]

    def visit(self, node: Any) -> Any:
        return self._dispatch[type(node)](self, node)


class StmtVisitor(_Visitor, abstract=True):
    """Dispatches ``visit(stmt)`` to ``visit_<ClassName>(stmt)``."""

    node_types = STMT_TYPES
    _dispatch: ClassVar[dict[type, Any]]

    def visit(self, node: Any) -> Any:
        return self._dispatch[type(node)](self, node)
