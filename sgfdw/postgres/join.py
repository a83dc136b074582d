"""Joins of remote tables computed by the remote server (the bridge's ``can_join`` and
``execute_join``).

A join is pushed only when the remote statement yields exactly the local join's rows:

* every table is a PostgresFdw table on the same connection (server and user mapping);
* every qual of every table goes remote with its local meaning (pushdown.py's rules), as
  does every join clause and filter (expressions.py's rules);
* every output column has a remote column;
* a step's filters (clauses above an outer join) are applied last, so a nested step may
  have them only under inner joins (they then hold for the whole join).

The statement: ``SELECT r1.c, r2.d FROM a r1 LEFT JOIN (SELECT * FROM b WHERE quals) r2
ON (...) WHERE filters``: a table with quals is read through a subquery, so its quals
restrict it before it is joined, as the bridge describes them, whatever the join type.
"""
from __future__ import annotations

from typing import Collection, Sequence

from sgfdw.errors import FdwError
from sgfdw.expression import Column, Expression
from sgfdw.join import Join, JoinStep
from sgfdw.remote.collation import Collation

from .deparse import SelectQuery, Sql, add_where, column_sql, qualified_name
from .expressions import expression_pushable, expression_sql
from .pushdown import Relation

__all__ = ["join_pushable", "build_join_select"]


def _alias(index: int) -> str:
    return f"r{index + 1}"


def _hoisted_filters(step: JoinStep, nested_under_outer: bool) -> list[Expression] | None:
    """The filters of the whole tree, to apply above it; None if one of them belongs to a
    step under an outer join (it would then filter rows the outer join keeps)."""
    filters = list(step.filters)
    if filters and nested_under_outer:
        return None
    under_outer = nested_under_outer or step.kind != "inner"
    for side in (step.left, step.right):
        if isinstance(side, JoinStep):
            nested = _hoisted_filters(side, under_outer)
            if nested is None:
                return None
            filters += nested
    return filters


def _clauses(step: JoinStep) -> list[Expression]:
    out = list(step.clauses)
    for side in (step.left, step.right):
        if isinstance(side, JoinStep):
            out += _clauses(side)
    return out


def join_pushable(join: Join, relations: Sequence[Relation], extensions: Collection[str],
                  local_locale: Collation | None) -> bool:
    """Whether the remote server computes exactly this join (the rules above)."""
    for table, relation in zip(join.relations, relations):
        if not all(relation.qual_pushable(qual) for qual in table.quals):
            return False
    for index, name in join.output:
        plan = relations[index].plans.get(name)
        if plan is None or plan.remote is None:
            return False
    filters = _hoisted_filters(join.tree, False)
    if filters is None:
        return False
    return all(expression_pushable(tree, relations, extensions, local_locale)
               for tree in _clauses(join.tree) + filters)


def _column_writer(relations: Sequence[Relation]):
    def write(node: Column) -> str:
        return f"{_alias(node.relation)}.{column_sql(relations[node.relation], node.name)}"
    return write


def _table_sql(join: Join, relations: Sequence[Relation], index: int) -> Sql:
    relation = relations[index]
    name = qualified_name(relation.table.schema, relation.table.name)
    quals = join.relations[index].quals
    if not quals:
        return Sql().text(f"{name} {_alias(index)}")
    table = SelectQuery(Sql().text(f"(SELECT * FROM {name}"))
    add_where(relation, quals, table)
    if table.not_pushed:
        raise FdwError("internal error: a join pushed with quals the remote server cannot "
                       "evaluate: " + repr(table.not_pushed))
    return table.sql.text(f") {_alias(index)}")


def _step_sql(join: Join, relations: Sequence[Relation], step: JoinStep) -> Sql:
    write = _column_writer(relations)
    sides = []
    for side in (step.left, step.right):
        if isinstance(side, int):
            sides.append(_table_sql(join, relations, side))
        else:
            sides.append(Sql().text("(").extend(_step_sql(join, relations, side)).text(")"))
    sql = sides[0].text(f" {step.kind.upper()} JOIN ").extend(sides[1]).text(" ON (")
    if step.clauses:
        sql.join(" AND ", (expression_sql(clause, write) for clause in step.clauses))
    else:
        sql.text("TRUE")
    return sql.text(")")


def build_join_select(join: Join, relations: Sequence[Relation]) -> SelectQuery:
    """The remote SELECT of an accepted join, its columns in ``join.output``'s order."""
    items = [f"{_alias(index)}.{column_sql(relations[index], name, for_select=True)}"
             for index, name in join.output]
    query = SelectQuery(Sql().text(f"SELECT {', '.join(items) or 'NULL'} FROM "),
                        empty_projection=not items)
    query.sql.extend(_step_sql(join, relations, join.tree))
    filters = _hoisted_filters(join.tree, False) or []
    if filters:
        query.sql.text(" WHERE ").join(
            " AND ", (expression_sql(tree, _column_writer(relations)) for tree in filters))
    return query
