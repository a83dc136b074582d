"""Restriction clauses given as expression trees (the bridge's ``can_filter``) that
the source evaluates exactly: AND, OR and NOT of the comparisons the FDW pushes as
quals (sgfdw.sqlalchemy.quals, when exact), of IS [NOT] NULL and of boolean columns.

A filter the FDW accepts is not checked again by PostgreSQL, so under NOT each part
must be exactly PostgreSQL's in all three truth values: a pushed comparison of a
column with a non-NULL value is NULL exactly when the column is, true exactly when
PostgreSQL's is (that is what "exact" means for a qual), hence false alike; IS NULL is
never NULL; and AND, OR and NOT combine TRUE, FALSE and NULL in every SQL database as
in PostgreSQL. Not accepted: values known only at run time (``Parameter``: a NULL
would make a comparison that is not pushed), explicit collations (a qual carries
none; in SQLite the byte-order ones are accepted, as text is compared in byte order
there), casts other than varchar to text, and everything else.
"""
from __future__ import annotations

from typing import Any, Sequence

import sqlalchemy as sa

from multicorn import Qual
from sgfdw import type_oids as oids
from sgfdw.expression import (AnyAll, BoolOp, Call, Cast, Column, Constant, Expression,
                              NullTest)
from sgfdw.errors import FdwError
from sgfdw.remote.collation import BYTEWISE_COLLATIONS
from sgfdw.sqlalchemy.query import Pushdown

__all__ = ["filter_condition", "filter_conditions", "column_of"]

_OPERATORS = frozenset({"=", "<>", "<", "<=", ">", ">=", "~~", "!~~", "~~*", "!~~*"})
# Operand order swapped: the operator that keeps the comparison's meaning.
_COMMUTED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def column_of(node: Expression) -> Column | None:
    """The column node is, through PostgreSQL's implicit varchar-to-text relabelling."""
    if isinstance(node, Cast) and node.implicit and node.type_oid == oids.TEXT and \
            isinstance(node.arg, Column) and node.arg.type_oid == oids.VARCHAR:
        node = node.arg
    return node if isinstance(node, Column) else None


def _column(node: Expression) -> Column | None:
    column = column_of(node)
    return column if column is not None and column.relation == 0 else None


class _Filters:
    def __init__(self, pushdown: Pushdown) -> None:
        self.pushdown = pushdown

    def collation_known(self, collation: str | None) -> bool:
        return collation is None or (self.pushdown.caps.text_order == "bytewise" and
                                     collation in BYTEWISE_COLLATIONS)

    def qual(self, name: str, operator: Any, value: Any) -> sa.ColumnElement | None:
        pushed = self.pushdown.qual(Qual(name, operator, value))
        return pushed.condition if pushed is not None and pushed.exact else None

    def operator(self, call: Call) -> str | None:
        if call.schema != "pg_catalog" or call.name not in _OPERATORS or \
                not self.collation_known(call.input_collation):
            return None
        return call.name

    def comparison(self, node: Call) -> sa.ColumnElement | None:
        """An operator call ``column op value`` (or ``value op column``)."""
        if not node.operator or len(node.args) != 2:
            return None
        operator = self.operator(node)
        left, right = _column(node.args[0]), node.args[1]
        if left is None and operator in _COMMUTED:
            left, right, operator = _column(node.args[1]), node.args[0], _COMMUTED[operator]
        if operator is None or left is None or not isinstance(right, Constant) or \
                right.value is None:
            return None
        return self.qual(left.name, operator, right.value)

    def any_all(self, node: AnyAll) -> sa.ColumnElement | None:
        operator = self.operator(node.operator)
        column = _column(node.left)
        if operator is None or column is None or not isinstance(node.right, Constant) or \
                not isinstance(node.right.value, (list, tuple)):
            return None
        return self.qual(column.name, (operator, not node.all), list(node.right.value))

    def condition(self, node: Expression) -> sa.ColumnElement | None:
        if isinstance(node, BoolOp):
            parts = []
            for arg in node.args:
                part = self.condition(arg)
                if part is None:
                    return None
                parts.append(part)
            if node.op == "not" and len(parts) == 1:
                return sa.not_(parts[0])
            combine = {"and": sa.and_, "or": sa.or_}.get(node.op)
            return None if combine is None else combine(*parts)
        if isinstance(node, NullTest):
            column = _column(node.arg)
            return None if column is None else \
                self.qual(column.name, "<>" if node.negated else "=", None)
        if isinstance(node, Call):
            return self.comparison(node)
        if isinstance(node, AnyAll):
            return self.any_all(node)
        column = _column(node)
        if column is not None and column.type_oid == oids.BOOL:
            return self.qual(column.name, "=", True)
        return None


def filter_condition(pushdown: Pushdown, expression: Expression) -> sa.ColumnElement | None:
    """The WHERE condition the source evaluates exactly as PostgreSQL evaluates
    expression, or None."""
    return _Filters(pushdown).condition(expression)


def filter_conditions(pushdown: Pushdown,
                      filters: Sequence[Expression]) -> list[sa.ColumnElement]:
    """The conditions of filters the FDW accepted (can_filter) for this execution."""
    conditions = []
    for expression in filters:
        condition = filter_condition(pushdown, expression)
        if condition is None:
            raise FdwError("internal error: a filter the source cannot evaluate: "
                           f"{expression!r}")
        conditions.append(condition)
    return conditions
