"""UPDATE and DELETE run remotely as one statement (the bridge's ``can_modify_directly``
and ``modify_directly``), and the statements EXPLAIN shows for writes.

A modification goes remote only when it means there exactly what it means locally:

* every qual is one the scans push (pushdown.py), and every other WHERE clause an
  expression the remote server evaluates as PostgreSQL would (expressions.py), since
  nothing is checked afterwards;
* every SET column is a plain remote column that can be written (not generated, not
  an identity ALWAYS column, which update() skips too), set to a value -- bound as a
  parameter exactly as update() binds each row's value -- or to an expression the
  remote server evaluates as PostgreSQL would, the column being of the same type on
  both sides (so the value is stored as it is computed);
* RETURNING reads only columns the remote table has, read back as a scan reads them.

Only the columns the statement sets are sent (so remote column privileges and
``UPDATE OF`` triggers see what the statement wrote).
"""
from __future__ import annotations

from typing import Any, Collection

from multicorn import UNBOUND, quote_identifier
from sgfdw.errors import FdwError
from sgfdw.expression import Constant, Expression, Parameter
from sgfdw.modification import Modification
from sgfdw.remote.collation import local_collation

from .deparse import (SelectQuery, Sql, add_where, build_delete, build_insert,
                      build_update, column_sql, qualified_name)
from .expressions import expression_pushable, expression_sql, scan_column
from .pushdown import Match, Relation
from .values import write_param

__all__ = ["modification_pushable", "build_modification", "row_write_sql"]


def _computed_remotely(relation: Relation, tree: Expression,
                       extensions: Collection[str]) -> bool:
    return expression_pushable(tree, [relation], extensions, local_collation())


def _assignable(relation: Relation, column: str, value: Expression,
                extensions: Collection[str]) -> bool:
    plan = relation.plans.get(column)
    if plan is None or plan.remote is None or plan.remote.generated or \
            plan.remote.identity == "a":
        return False
    if isinstance(value, (Constant, Parameter)):
        return True
    return plan.match is Match.SAME and \
        plan.remote.type_oid == int(relation.local_columns[column].type_oid or 0) and \
        _computed_remotely(relation, value, extensions)


def modification_pushable(relation: Relation, modification: Modification,
                          extensions: Collection[str] = ()) -> bool:
    """Whether the remote server runs exactly this UPDATE/DELETE (see the module);
    ``extensions``: those whose functions it may call."""
    if not all(relation.qual_pushable(qual) for qual in modification.quals):
        return False
    if not all(_computed_remotely(relation, tree, extensions)
               for tree in modification.filters):
        return False
    if not all(_assignable(relation, column, value, extensions)
               for column, value in modification.assignments.items()):
        return False
    return all(relation.plans.get(name) is not None and
               relation.plans[name].remote is not None
               for name in modification.returning or ())


def _value_sql(relation: Relation, column: str, value: Expression) -> Sql:
    if not isinstance(value, (Constant, Parameter)):
        return expression_sql(value, scan_column(relation))
    known: Any = value.value if isinstance(value, Constant) else UNBOUND
    return Sql().param(write_param(known, int(relation.local_columns[column].type_oid or 0)))


def build_modification(relation: Relation, modification: Modification) -> tuple[Sql, list[str]]:
    """The remote UPDATE/DELETE ... WHERE quals [RETURNING the columns asked], and the
    names of the columns its rows hold."""
    table = qualified_name(relation.table.schema, relation.table.name)
    if modification.kind == "update":
        sql = Sql().text(f"UPDATE {table} SET ").join(", ", (
            Sql().text(quote_identifier(relation.plans[column].source.name) + " = ")
            .extend(_value_sql(relation, column, value))
            for column, value in modification.assignments.items()))
    else:
        sql = Sql().text(f"DELETE FROM {table}")
    query = SelectQuery(sql)
    add_where(relation, modification.quals, query,
              [expression_sql(tree, scan_column(relation)) for tree in modification.filters])
    if query.not_pushed:
        raise FdwError("internal error: a modification pushed with quals the remote server "
                       "cannot evaluate: " + repr(query.not_pushed))
    names = list(modification.returning or ())
    if modification.returning is not None:
        items = [column_sql(relation, name, for_select=True) for name in names]
        sql.text(" RETURNING " + (", ".join(items) if items else "NULL"))
    return sql, names


def row_write_sql(relation: Relation, operation: str, rowid_column: str,
                  columns: Collection[str] | None = None) -> Sql:
    """The statement update(), delete() or insert() runs for each row, its values as
    parameters (EXPLAIN); ``columns``: those update() is given, if not all."""
    if operation == "insert":
        return build_insert(relation, [dict.fromkeys(relation.local_columns, UNBOUND)],
                            returning=True)[0]
    if operation == "update":
        sent = relation.local_columns if columns is None else columns
        return build_update(relation, rowid_column, UNBOUND, dict.fromkeys(sent, UNBOUND))[0]
    return build_delete(relation, rowid_column, UNBOUND)
