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
* its collations are the default and C (POSIX, its other name; byte order on every
  server): a value or column under an explicit ``COLLATE "C"`` is written with it, so
  the remote server derives C wherever PostgreSQL did (a call under the default
  collation over a C operand, which the remote would take for C, stays local; so does
  every other collation, which may order, fold case or even compare differently there);
* text compared or case-folded under the default collation: the remote default
  collation orders and case-folds as the local one, and so does the remote collation
  of each text column so used; under C, a text column's remote collation only needs to
  be known (it is overridden).

Parameters (values known only when the query runs) are shown as ``$n`` in EXPLAIN; at
execution every value is a Constant.
"""
from __future__ import annotations

from typing import Callable, Collection, Iterator, Protocol, Sequence

from multicorn import UNBOUND, quote_identifier

from sgfdw import type_oids as oids
from sgfdw.expression import (AnyAll, ArrayLiteral, BooleanTest, BoolOp, Call, Case, Cast,
                              Coalesce, Column, Comparison, Constant, Distinct, Expression,
                              MinMax, NullIf, NullTest, Output, Parameter, shippable)
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

# Arrays of them too: their comparisons compare the elements under the collation.
_COLLATABLE = TEXT_FAMILY | {oids.BPCHAR, oids.NAME, oids.TEXT_ARRAY, oids.VARCHAR_ARRAY,
                             oids.BPCHAR_ARRAY, oids.NAME_ARRAY}
#: The collations shipped (as ``COLLATE "C"``): byte order on any server.
_BYTE_ORDER = frozenset({"C", "POSIX"})

# The collation under which a node's value is compared or case-folded by its parent.
_DEFAULT = "default"
_C = "C"
_NONE = None        # not at all (IS NULL, a cast to a number, ...)


def _computed_under(node: Expression) -> str | None:
    """The collation a node computes under (a call's input collation; a node passing
    text on, such as COALESCE, its result's)."""
    if isinstance(node, (Call, MinMax)):
        return node.input_collation
    if isinstance(node, (AnyAll, Comparison)):
        return node.operator.input_collation
    return node.collation


def _under(node: Expression, context: str | None) -> Iterator[tuple[Expression, str | None]]:
    """Each node of the tree with the collation its value is used under (see above)."""
    yield node, context
    if isinstance(node, Case):
        # CASE x WHEN v compares x and v by equality; THEN/ELSE values pass on.
        compared = _DEFAULT if node.arg is not None else _NONE
        if node.arg is not None:
            yield from _under(node.arg, compared)
        for when, then in node.whens:
            yield from _under(when, compared)
            yield from _under(then, context)
        if node.default is not None:
            yield from _under(node.default, context)
        return
    inner: str | None = _NONE
    if isinstance(node, (Call, MinMax, AnyAll, Comparison)):
        inner = _C if _computed_under(node) in _BYTE_ORDER else _DEFAULT
    elif isinstance(node, (Coalesce, ArrayLiteral)) or \
            (isinstance(node, Cast) and node.type_oid in _COLLATABLE):
        inner = context
    for child in node.children():
        yield from _under(child, inner)


def _collations_derived_alike(node: Expression) -> bool:
    """Only C and the default, and C derived remotely where it is here: a child in C
    (written with COLLATE "C") under a node that computes under the default would
    make the remote compute under C."""
    collations = {node.collation, _computed_under(node)} - {None}
    if not collations <= _BYTE_ORDER:
        return False
    return _computed_under(node) in _BYTE_ORDER or \
        not any(child.collation in _BYTE_ORDER for child in node.children())


def _column_matches(relation: Relation, column: Column, context: str | None) -> bool:
    plan = relation.plans.get(column.name)
    if plan is None or plan.remote is None or plan.match is not Match.SAME:
        return False
    if column.type_oid not in _COLLATABLE:
        return plan.remote.type_oid == column.type_oid or plan.remote.base_kind == "e"
    if column.collation is not None or context == _C:
        return plan.collate_c_ok
    return context is _NONE or (plan.collation_safe and plan.ctype_safe)


def expression_pushable(tree: Expression, relations: Sequence[Relation],
                        extensions: Collection[str], local_locale: Collation | None) -> bool:
    """Whether the remote server evaluates ``tree`` over the remote tables of
    ``relations`` (``Column.relation`` indexes them; all of one server) exactly as
    PostgreSQL would locally (the rules of the module's docstring)."""
    if not shippable(tree, extensions):
        return False
    text_under_default = False
    # A text result (an aggregate's argument, a SET value) may be compared or sorted
    # under the default collation by what uses it.
    for node, context in _under(tree, _DEFAULT if tree.type_oid in _COLLATABLE else _NONE):
        if not _collations_derived_alike(node):
            return False
        if isinstance(node, Column):
            if not _column_matches(relations[node.relation], node, context):
                return False
        elif node.type_oid >= FIRST_NORMAL_OID:
            return False
        text_under_default |= context == _DEFAULT and node.type_oid in _COLLATABLE
    if text_under_default:
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
    sql = _node_sql(node, column)
    # Where C comes in (an explicit COLLATE, a C column); above, the remote derives it.
    if node.collation in _BYTE_ORDER and \
            not any(child.collation in _BYTE_ORDER for child in node.children()):
        return _around("(", sql, ' COLLATE "C")')
    return sql


def _node_sql(node: Expression, column: ColumnWriter) -> Sql:
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
