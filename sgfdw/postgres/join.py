"""Joins of remote tables computed by the remote server (the bridge's ``can_join`` and
``execute_join``).

A join is pushed only when the remote statement yields exactly the local join's rows:

* every table is a PostgresFdw table on the same connection (server and user mapping);
* every qual of every table goes remote with its local meaning (pushdown.py's rules), as
  does every join clause and filter (expressions.py's rules);
* every output column has a remote column, of a relation whose rows the join yields
  (not one a semi or anti join only tests), and every clause reads such columns of its
  own step's sides;
* a condition a step puts on its rows (its filters, a semi or anti join's EXISTS) can be
  written where it means the same: above the whole join, in the ON clause of the outer
  join whose nullable side the step is, or in the EXISTS of the semi or anti join whose
  inner side it is -- never under a full join.

The statement: ``SELECT r1.c, r2.d FROM a r1 LEFT JOIN (SELECT * FROM b WHERE quals) r2
ON (...) WHERE filters AND EXISTS (SELECT NULL FROM c r3 WHERE ...)``: a table with quals
is read through a subquery, so its quals restrict it before it is joined, as the bridge
describes them, whatever the join type.
"""
from __future__ import annotations

from typing import Collection, Sequence

from sgfdw.errors import FdwError
from sgfdw.expression import Column, walk
from sgfdw.join import Join, JoinStep
from sgfdw.remote.collation import Collation

from .deparse import SelectQuery, Sql, add_where, column_sql, qualified_name
from .expressions import expression_pushable, expression_sql
from .pushdown import Relation

__all__ = ["join_pushable", "build_join_select"]

_TESTS = {"semi": "EXISTS", "anti": "NOT EXISTS"}


class _NotExpressible(Exception):
    """A step's condition has no place in the remote statement where it means the same."""


def _alias(index: int) -> str:
    return f"r{index + 1}"


def _steps(side: int | JoinStep) -> list[JoinStep]:
    if isinstance(side, int):
        return []
    return [side] + _steps(side.left) + _steps(side.right)


def _visible(side: int | JoinStep) -> frozenset[int]:
    return frozenset({side}) if isinstance(side, int) else side.visible_relations()


def _reads_visible_columns(join: Join) -> bool:
    """Whether the output reads only relations the join yields, and each step's clauses
    and filters only its sides' (the planner keeps a semi join's inner columns inside)."""
    if not {index for index, _ in join.output} <= join.tree.visible_relations():
        return False
    for step in _steps(join.tree):
        sides = _visible(step.left) | _visible(step.right)
        for tree in step.clauses + step.filters:
            if any(isinstance(node, Column) and node.relation not in sides
                   for node in walk(tree)):
                return False
    return True


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
    if not _reads_visible_columns(join):
        return False
    if not all(expression_pushable(tree, relations, extensions, local_locale)
               for step in _steps(join.tree) for tree in step.clauses + step.filters):
        return False
    try:
        build_join_select(join, relations)
    except _NotExpressible:
        return False
    return True


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


def _conjunction(conditions: Sequence[Sql]) -> Sql:
    return Sql().join(" AND ", conditions) if conditions else Sql().text("TRUE")


def _nested(item: Sql, is_join: bool) -> Sql:
    return Sql().text("(").extend(item).text(")") if is_join else item


def _from_item(join: Join, relations: Sequence[Relation], side: int | JoinStep,
               conditions: list[Sql]) -> tuple[Sql, bool]:
    """``side`` as a FROM item, and whether it is a join (nested in parentheses); the
    conditions on its rows that the item cannot hold are appended to ``conditions``."""
    if isinstance(side, int):
        return _table_sql(join, relations, side), False
    write = _column_writer(relations)
    on = [expression_sql(clause, write) for clause in side.clauses]
    left_conditions: list[Sql] = []
    right_conditions: list[Sql] = []
    left, left_is_join = _from_item(join, relations, side.left, left_conditions)
    right, right_is_join = _from_item(join, relations, side.right, right_conditions)
    # Above a join: a condition on the preserved (or any inner-joined) side's rows; in
    # the ON clause: one on a nullable side's (it then restricts that side's rows only).
    if side.kind in _TESTS:
        conditions += left_conditions
        conditions.append(Sql().text(f"{_TESTS[side.kind]} (SELECT NULL FROM ")
                          .extend(right).text(" WHERE ")
                          .extend(_conjunction(on + right_conditions)).text(")"))
    elif side.kind == "full":
        if left_conditions or right_conditions:
            raise _NotExpressible(side)
    elif side.kind == "left":
        conditions += left_conditions
        on += right_conditions
    elif side.kind == "right":
        conditions += right_conditions
        on += left_conditions
    elif side.kind == "inner":
        conditions += left_conditions + right_conditions
    else:  # a kind the bridge may offer one day
        raise _NotExpressible(side)
    conditions += [expression_sql(tree, write) for tree in side.filters]
    if side.kind in _TESTS:
        return left, left_is_join
    return (_nested(left, left_is_join).text(f" {side.kind.upper()} JOIN ")
            .extend(_nested(right, right_is_join))
            .text(" ON (").extend(_conjunction(on)).text(")")), True


def build_join_select(join: Join, relations: Sequence[Relation]) -> SelectQuery:
    """The remote SELECT of an accepted join, its columns in ``join.output``'s order."""
    items = [f"{_alias(index)}.{column_sql(relations[index], name, for_select=True)}"
             for index, name in join.output]
    query = SelectQuery(Sql().text(f"SELECT {', '.join(items) or 'NULL'} FROM "),
                        empty_projection=not items)
    conditions: list[Sql] = []
    item, _ = _from_item(join, relations, join.tree, conditions)
    query.sql.extend(item)
    if conditions:
        query.sql.text(" WHERE ").join(" AND ", conditions)
    return query
