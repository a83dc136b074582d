"""Expression trees (sgfdw.expression) as remote SQL, and whether they mean the same there.

A tree is written as postgres_fdw writes expressions: every value a bound parameter with
an explicit cast to its local type (``$1::integer``), operators as
``OPERATOR(schema.op)``, functions as ``schema.name(...)``, casts explicit. So that the
remote server computes exactly what PostgreSQL would here, a tree goes remote only when:

* :func:`sgfdw.expression.shippable` allows it (immutable built-ins, or functions of the
  server's ``extensions``);
* each column it reads has the same type remotely (pushdown.Match.SAME, arrays included);
* its types are built in (a user-defined type may differ remotely), but for the columns
  of a matching enum;
* if it handles text: every call compares under the default collation (no explicit
  COLLATE), the remote default collation orders and case-folds as the local one, and so
  does every text column's remote collation.

Parameters (values known only when the query runs) are shown as ``$n`` in EXPLAIN; at
execution every value is a Constant.
"""
from __future__ import annotations

from typing import Callable, Collection, Protocol, Sequence

from multicorn import UNBOUND, quote_identifier

from sgfdw import type_oids as oids
from sgfdw.expression import (AnyAll, ArrayLiteral, BooleanTest, BoolOp, Call, Case, Cast,
                              Coalesce, Column, Constant, Distinct, Expression, MinMax,
                              NullIf, NullTest, Output, Parameter, shippable, walk)
from sgfdw.remote.collation import Collation, same_ctype, same_order

from .deparse import Sql, column_sql
from .pushdown import Match, Relation
from .remote_table import FIRST_NORMAL_OID, TEXT_FAMILY
from .values import write_param

__all__ = ["expression_sql", "expression_pushable", "ColumnWriter", "OutputWriter"]

#: How a tree's Column is written remotely (a scan: the remote column's name; a join:
#: with its relation's alias).
ColumnWriter = Callable[[Column], str]


class OutputWriter(Protocol):
    """The ColumnWriter of a HAVING clause, which also writes the aggregation's outputs
    (aggregates.py)."""

    def __call__(self, node: Column) -> str: ...

    def output(self, node: Output) -> Sql: ...

_COLLATABLE = TEXT_FAMILY | {oids.BPCHAR, oids.NAME}


def _handles_text(tree: Expression) -> bool:
    return any(node.type_oid in _COLLATABLE or node.collation is not None
               for node in walk(tree))


def _column_matches(relation: Relation, column: Column) -> bool:
    plan = relation.plans.get(column.name)
    if plan is None or plan.remote is None or plan.match is not Match.SAME:
        return False
    if column.type_oid in _COLLATABLE:
        return column.collation is None and plan.collation_safe and plan.ctype_safe
    return plan.remote.type_oid == column.type_oid or plan.remote.base_kind == "e"


def expression_pushable(tree: Expression, relations: Sequence[Relation],
                        extensions: Collection[str], local_locale: Collation | None) -> bool:
    """Whether the remote server evaluates ``tree`` over the remote tables of
    ``relations`` (``Column.relation`` indexes them; all of one server) exactly as
    PostgreSQL would locally (the rules of the module's docstring)."""
    if not shippable(tree, extensions):
        return False
    for node in walk(tree):
        if isinstance(node, Column):
            if not _column_matches(relations[node.relation], node):
                return False
        elif node.type_oid >= FIRST_NORMAL_OID:
            return False
        elif isinstance(node, (Call, MinMax)) and node.input_collation is not None:
            return False
    if _handles_text(tree):
        if local_locale is None:
            return False
        collate, ctype = relations[0].table.collation
        if not (same_order(collate, local_locale.collate) and
                same_ctype(ctype, local_locale.ctype)):
            return False
    return True


def _operator_name(call: Call) -> str:
    return f"OPERATOR({quote_identifier(call.schema)}.{call.name})"


def _value(node: Constant | Parameter) -> Sql:
    sql = Sql()
    if isinstance(node, Parameter):
        sql.param(UNBOUND)
    elif node.value is None:
        sql.text("NULL")
    else:
        sql.param(write_param(node.value, node.type_oid))
    return sql.text(f"::{node.type_name}")


def _list(items: tuple[Expression, ...], column: ColumnWriter) -> Sql:
    return Sql().join(", ", (expression_sql(item, column) for item in items))


def _call(node: Call, column: ColumnWriter) -> Sql:
    if node.operator:
        sql = Sql().text("(")
        if len(node.args) == 2:
            sql.extend(expression_sql(node.args[0], column)).text(" ")
        sql.text(_operator_name(node) + " ")
        return sql.extend(expression_sql(node.args[-1], column)).text(")")
    sql = Sql().text(f"{quote_identifier(node.schema)}.{quote_identifier(node.name)}(")
    for index, arg in enumerate(node.args):
        if index:
            sql.text(", ")
        if node.variadic and index == len(node.args) - 1:
            sql.text("VARIADIC ")
        sql.extend(expression_sql(arg, column))
    return sql.text(")")


def _case(node: Case, column: ColumnWriter) -> Sql:
    sql = Sql().text("CASE")
    if node.arg is not None:
        sql.text(" ").extend(expression_sql(node.arg, column))
    for when, then in node.whens:
        sql.text(" WHEN ").extend(expression_sql(when, column))
        sql.text(" THEN ").extend(expression_sql(then, column))
    if node.default is not None:
        sql.text(" ELSE ").extend(expression_sql(node.default, column))
    return sql.text(" END")


def _around(before: str, inner: Sql, after: str) -> Sql:
    return Sql().text(before).extend(inner).text(after)


def expression_sql(node: Expression, column: ColumnWriter) -> Sql:
    """The remote SQL of a tree (check :func:`expression_pushable` first)."""
    if isinstance(node, Column):
        return Sql().text(column(node))
    if isinstance(node, Output):
        if not hasattr(column, "output"):
            raise TypeError("an aggregation's output outside its HAVING")
        return column.output(node)
    if isinstance(node, (Constant, Parameter)):
        return _value(node)
    if isinstance(node, Call):
        return _call(node, column)
    if isinstance(node, Case):
        return _case(node, column)
    if isinstance(node, Cast):
        return _around("CAST(", expression_sql(node.arg, column), f" AS {node.type_name})")
    if isinstance(node, BoolOp):
        if node.op == "not":
            return _around("(NOT ", expression_sql(node.args[0], column), ")")
        return _around("(", Sql().join(f" {node.op.upper()} ",
                                       (expression_sql(a, column) for a in node.args)), ")")
    if isinstance(node, NullTest):
        return _around("(", expression_sql(node.arg, column),
                       " IS NOT NULL)" if node.negated else " IS NULL)")
    if isinstance(node, BooleanTest):
        return _around("(", expression_sql(node.arg, column), f" {node.test})")
    if isinstance(node, AnyAll):
        keyword = "ALL" if node.all else "ANY"
        return _around("(", expression_sql(node.left, column),
                       f" {_operator_name(node.operator)} {keyword} (") \
            .extend(_around("", expression_sql(node.right, column), "))"))
    if isinstance(node, Distinct):
        return _around("(", expression_sql(node.left, column), " IS DISTINCT FROM ") \
            .extend(_around("", expression_sql(node.right, column), ")"))
    if isinstance(node, NullIf):
        return _around("NULLIF(", _list((node.left, node.right), column), ")")
    if isinstance(node, ArrayLiteral):
        return _around("ARRAY[", _list(node.elements, column), f"]::{node.type_name}")
    if isinstance(node, Coalesce):
        return _around("COALESCE(", _list(node.args, column), ")")
    if isinstance(node, MinMax):
        return _around("GREATEST(" if node.greatest else "LEAST(", _list(node.args, column), ")")
    raise TypeError(f"no remote SQL for {type(node).__name__}")


def scan_column(relation: Relation) -> ColumnWriter:
    """Columns of a one-table scan: the remote column, as quals compare it."""
    return lambda node: column_sql(relation, node.name)
