"""Joins of tables of one source computed by the source (the bridge's ``can_join`` and
``execute_join``), built with SQLAlchemy Core.

A join is pushed only when the source yields exactly the rows of the local join:

* every table is a SqlAlchemyFdw table of one Source (engine and credentials) of a
  dialect whose comparisons are known (PostgreSQL, SQLite: ``Capabilities.joins``);
* inner, left, right and full joins, nested (RIGHT JOIN is sent as a LEFT JOIN of the
  sides swapped, which SQLAlchemy Core spells; FULL JOIN where the source has it:
  SQLite from 3.39); semi and anti joins of one table as ``[NOT] EXISTS (SELECT *
  FROM t WHERE clauses)`` in the WHERE clause, where that means the same: not under an
  outer join;
* every qual of every table is one the source enforces exactly
  (``Pushdown.conditions``), with its value known (not UNBOUND); a table with quals is
  read through a subquery, so they restrict it before it is joined, whatever the join;
* every join clause and filter is exact: AND, OR and NOT of parts that are each a
  clause of one table the FDW would push as a filter (filters.py: three-valued logic
  included), or a comparison (= <> < <= > >=) of two columns that the source compares
  as PostgreSQL does: each column one the source compares exactly
  (aggregates.exact_column: over PostgreSQL the same type on both sides under a known
  collation, over SQLite integers over an INTEGER type and text over a text type,
  COLLATE binary), both of the same local kind (and over PostgreSQL text of one
  collation, else the source cannot choose one), ranges only where both sort as
  locally (text: the local collation orders as the source's), no explicit COLLATE;
* the filters of an outer join (applied above it) are not under another outer join,
  so that they can be applied to the whole join's rows.

The statement: ``SELECT r1.c, r2.d FROM t AS r1 LEFT OUTER JOIN (SELECT ... FROM u
WHERE quals) AS r2 ON r1.c = r2.c WHERE filters AND EXISTS (SELECT * FROM v AS r3
WHERE r3.e = r1.c)``, its columns in ``join.output``'s
order; each row is returned as a tuple in that order.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.sql.util import ClauseAdapter

from multicorn import UNBOUND, ColumnDefinition
from sgfdw.expression import BoolOp, Call, Column, Expression, walk
from sgfdw.join import Join, JoinStep
from sgfdw.sqlalchemy.aggregates import ExactColumn, exact_column
from sgfdw.sqlalchemy.filters import column_of, filter_condition
from sgfdw.sqlalchemy.quals import COMPARISONS
from sgfdw.sqlalchemy.query import Pushdown
from sgfdw.sqlalchemy.values import local_category, projection

__all__ = ["JoinedSource", "JoinQuery", "join_query"]

_OUTER = ("left", "right", "full")
# semi / anti: [NOT] EXISTS (SELECT * FROM right WHERE clauses)
_TESTS = ("semi", "anti")
# SQLite: the local kinds whose exact columns hold what they are compared as (dates:
# one date has several texts; booleans: 2 and 1 are both true).
_SQLITE_COMPARED = ("integer", "string")


@dataclass(frozen=True)
class JoinedSource:
    """A table of the join as the source reads it: its pushdown rules and its local
    columns' definitions."""

    pushdown: Pushdown
    columns: Mapping[str, ColumnDefinition]


@dataclass
class JoinQuery:
    statement: sa.Select
    #: A source row -> the values of ``join.output``, in order.
    convert: Callable[[Sequence[Any]], tuple]


def _relation_zero(node: Expression) -> Expression:
    """The tree with its columns renumbered as those of relation 0 (a tree reading one
    relation, read as a one-table filter)."""
    if isinstance(node, Column):
        return dataclasses.replace(node, relation=0)
    changes: dict[str, Any] = {}
    for item in dataclasses.fields(node):
        value = getattr(node, item.name)
        if isinstance(value, Expression):
            changes[item.name] = _relation_zero(value)
        elif isinstance(value, tuple) and value and \
                all(isinstance(element, Expression) for element in value):
            changes[item.name] = tuple(_relation_zero(element) for element in value)
    return dataclasses.replace(node, **changes) if changes else node


def _trees(step: JoinStep) -> list[Expression]:
    """Every clause and filter of the tree."""
    trees = list(step.clauses + step.filters)
    for side in (step.left, step.right):
        if isinstance(side, JoinStep):
            trees += _trees(side)
    return trees


def _filters(step: JoinStep, under_outer: bool = False) -> list[Expression] | None:
    """The filters of the whole tree, applied above it; None if a step under an outer
    join has some (above the outer join they would drop the rows it NULL-extends)."""
    if step.filters and under_outer:
        return None
    filters = list(step.filters)
    for side in (step.left, step.right):
        if isinstance(side, JoinStep):
            nested = _filters(side, under_outer or step.kind in _OUTER)
            if nested is None:
                return None
            filters += nested
    return filters


class _Builder:
    def __init__(self, join: Join, tables: Sequence[JoinedSource]) -> None:
        self.join = join
        self.tables = tables
        self.caps = tables[0].pushdown.caps
        self.froms: list[sa.FromClause] = []
        self.adapters: list[ClauseAdapter] = []
        #: the EXISTS / NOT EXISTS of semi and anti joins, applied above the whole join
        self.tests: list[sa.ColumnElement] = []
        #: per relation, the columns the output, the clauses and the filters read
        self.read = [set(table.columns) for table in join.relations]
        for tree in _trees(join.tree):
            for node in walk(tree):
                if isinstance(node, Column):
                    self.read[node.relation].add(node.name)

    def relation(self, index: int) -> bool:
        """Adds relation ``index`` as the source reads it (False: it cannot)."""
        described = self.join.relations[index]
        table = self.tables[index].pushdown.table
        if any(name not in table.columns for name in self.read[index]) or \
                any(qual.value is UNBOUND for qual in described.quals):
            return False
        conditions = self.tables[index].pushdown.conditions(described.quals)
        if conditions is None:
            return False
        alias = f"r{index + 1}"
        relation: sa.FromClause
        if conditions:
            read = [table.columns[name].column.label(name) for name in sorted(self.read[index])]
            relation = sa.select(*(read or [sa.null().label("none")])) \
                .where(*conditions).subquery(alias)
        else:
            relation = table.table.alias(alias)
        self.froms.append(relation)
        self.adapters.append(ClauseAdapter(relation))
        return True

    def exact(self, node: Column) -> ExactColumn | None:
        table = self.tables[node.relation]
        if self.caps.name == "sqlite" and \
                local_category(table.columns[node.name]) not in _SQLITE_COMPARED:
            return None
        return exact_column(table.pushdown, table.columns, node.name)

    def comparison(self, call: Call) -> sa.ColumnElement | None:
        """``column op column``, compared by the source as by PostgreSQL, or None."""
        if not call.operator or call.schema != "pg_catalog" or len(call.args) != 2 or \
                call.name not in COMPARISONS or call.input_collation is not None:
            return None
        nodes = [column_of(arg) for arg in call.args]
        if nodes[0] is None or nodes[1] is None:
            return None
        left, right = nodes[0], nodes[1]
        operands = []
        for node in (left, right):
            side = self.exact(node)
            if side is None:
                return None
            operands.append(side.ordered if call.name not in ("=", "<>") else side.expression)
        remotes = [self.tables[node.relation].pushdown.table.columns[node.name]
                   for node in (left, right)]
        if operands[0] is None or operands[1] is None or \
                remotes[0].category != remotes[1].category or \
                getattr(remotes[0].column.type, "collation", None) != \
                getattr(remotes[1].column.type, "collation", None):
            return None
        return COMPARISONS[call.name](self.adapters[left.relation].traverse(operands[0]),
                                       self.adapters[right.relation].traverse(operands[1]))

    def condition(self, node: Expression) -> sa.ColumnElement | None:
        """The condition the source evaluates exactly as PostgreSQL evaluates node (all
        three truth values), or None."""
        read = {item.relation for item in walk(node) if isinstance(item, Column)}
        if len(read) == 1:
            index = read.pop()
            condition = filter_condition(self.tables[index].pushdown, _relation_zero(node))
            if condition is not None:
                return self.adapters[index].traverse(condition)
        if isinstance(node, BoolOp):
            parts = self.conditions(node.args)
            if parts is None:
                return None
            if node.op == "not" and len(parts) == 1:
                return sa.not_(parts[0])
            combine = {"and": sa.and_, "or": sa.or_}.get(node.op)
            return None if combine is None else combine(*parts)
        if isinstance(node, Call):
            return self.comparison(node)
        return None

    def conditions(self, trees: Sequence[Expression]) -> list[sa.ColumnElement] | None:
        out = []
        for tree in trees:
            condition = self.condition(tree)
            if condition is None:
                return None
            out.append(condition)
        return out

    def step(self, step: JoinStep, under_outer: bool = False) -> sa.FromClause | None:
        """The FROM item of step; a semi or anti join's test goes to ``tests``, only
        where it may be applied above the whole join (under inner joins only), on a
        single table."""
        if step.kind in _TESTS:
            if under_outer or not isinstance(step.right, int):
                return None
        elif step.kind not in _OUTER + ("inner",) or \
                (step.kind == "full" and not self.caps.full_joins):
            return None
        sides = []
        for side in (step.left, step.right):
            built = self.froms[side] if isinstance(side, int) else \
                self.step(side, under_outer or step.kind in _OUTER)
            if built is None:
                return None
            sides.append(built)
        conditions = self.conditions(step.clauses)
        if conditions is None:
            return None
        if step.kind in _TESTS:
            # the other relations in the conditions are the enclosing SELECT's (correlated)
            test = sa.exists().select_from(sides[1]).where(*conditions)
            self.tests.append(test if step.kind == "semi" else ~test)
            return sides[0]
        on = sa.and_(*conditions) if conditions else sa.true()
        left, right = sides
        if step.kind == "right":
            return right.join(left, on, isouter=True)
        return left.join(right, on, isouter=step.kind == "left", full=step.kind == "full")

    def query(self) -> JoinQuery | None:
        if not self.caps.joins or \
                not all(self.relation(index) for index in range(len(self.join.relations))):
            return None
        tree = self.step(self.join.tree)
        filters = _filters(self.join.tree)
        conditions = None if filters is None else self.conditions(filters)
        if tree is None or conditions is None:
            return None
        items = [projection(self.froms[index].c[name],
                            self.tables[index].pushdown.table.columns[name].category,
                            self.caps.name)
                 for index, name in self.join.output]
        statement = sa.select(*(items or [sa.null()])).select_from(tree)
        if conditions or self.tests:
            statement = statement.where(*conditions, *self.tests)
        return JoinQuery(statement, tuple if items else lambda row: ())


def join_query(join: Join, tables: Sequence[JoinedSource]) -> JoinQuery | None:
    """The source's SELECT of exactly this join's rows, or None (the rules above)."""
    return _Builder(join, tables).query()
