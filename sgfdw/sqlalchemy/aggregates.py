"""GROUP BY and aggregates computed by the source (the bridge's ``can_aggregate`` and
``execute(..., aggregation=...)``), built with SQLAlchemy Core.

An aggregation is pushed only when the source's result is PostgreSQL's, value for
value (the bridge offers it only when every qual is enforced by the source, so the
source aggregates exactly the rows PostgreSQL would). Per dialect:

* PostgreSQL: as PostgresFdw (sgfdw/postgres/aggregates.py): a column is grouped,
  counted DISTINCT or summed only when its remote type is the local one (same name and
  modifiers, not an enum, a collation that is the database default or C) -- then the
  remote function is the local one (sgfdw.remote.aggregates.SAME_TYPE_ARGUMENTS: sum,
  avg, the deviations and variances of numbers, bool_and/bool_or/every, bit_and/bit_or
  of integers); ``min``/``max`` where the column can be sorted
  remotely exactly (``Pushdown.ordering``); intervals not at all (the driver's
  timedelta loses their months).
* SQLite: only what is exact whatever the file holds. A column takes part by what its
  values are in SQLite: integers (local smallint/integer/bigint over a declared INTEGER
  type), text (local text/varchar over a declared text type; compared ``COLLATE
  binary``, byte order, whatever collation the column was declared with, as
  PostgreSQL's equality under any deterministic collation, and its order when the local
  collation is byte order), dates (ISO text) and booleans (as the rows read them,
  quals.sqlite_reads_as: 2 is true, 'no' false). SQLite's columns take any value, so
  the query also computes whether every value it read is one the local type reads as
  the same value (an integer within the local type's range, a text within varchar's
  length, a canonical date, a boolean); if not, the scan fails (22000),
  as reading that row locally would (or could), instead of answering differently.
  ``sum`` of integers: of smallint/integer as SQLite's sum (cannot overflow: the values
  are within 32 bits); of bigint as the sums of the values' upper and lower 32 bits
  (SQLite's 64-bit sum would overflow where PostgreSQL's numeric does not), joined
  exactly here; ``bool_and``/``every``/``bool_or`` as min/max of the booleans' 0/1;
  ``sum(DISTINCT bigint)``, ``avg`` (PostgreSQL's numeric division scale) and the rest
  stay local.
* Other dialects: ``count(*)`` and ``count(col)`` without GROUP BY.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Callable, Mapping, Sequence

import sqlalchemy as sa

from multicorn import ColumnDefinition, Qual, SortKey
from sgfdw import type_oids as oids
from sgfdw.aggregation import Aggregate, Aggregation
from sgfdw.errors import FdwError
from sgfdw.remote.aggregates import SAME_TYPE_ARGUMENTS
from sgfdw.sqlalchemy.pg_types import pg_type_for
from sgfdw.sqlalchemy.quals import sqlite_reads_as
from sgfdw.sqlalchemy.query import Pushdown
from sgfdw.sqlalchemy.remote_table import RemoteColumn

__all__ = ["AggregateQuery", "ExactColumn", "aggregation_pushable", "aggregation_sortable",
           "build_aggregate_select", "exact_column"]

_INTEGER_RANGES = {oids.INT2: (-2 ** 15, 2 ** 15 - 1), oids.INT4: (-2 ** 31, 2 ** 31 - 1),
                   oids.INT8: (-2 ** 63, 2 ** 63 - 1)}
_LOW_BITS = 2 ** 32
# SQLite: boolean aggregates as min/max of the 0/1 values.
_AS_MIN_MAX = {"bool_and": "min", "every": "min", "bool_or": "max"}
_READ_FIELDS = frozenset({"function", "column", "type_oid", "collate", "distinct"})
# A PostgreSQL type name's aliases, as pg_types names them and format_type does.
_TYPE_ALIASES = {"varchar": "character varying", "timestamp": "timestamp without time zone",
                 "time": "time without time zone"}


@dataclass(frozen=True)
class ExactColumn:
    """What the source computes exactly as PostgreSQL for one column."""

    expression: sa.ColumnElement     # the column as grouped, counted and compared
    ordered: sa.ColumnElement | None  # the column min/max read (None: not the local ones)
    split_sum: bool                  # sum as the sums of 32-bit halves (SQLite bigint)
    #: SQLite: the condition each non-NULL value meets when the local type reads it as
    #: the same value (None: no check needed).
    readable: sa.ColumnElement | None = None


def _pg_type_name(name: str) -> str:
    base, _, modifiers = name.strip().lower().partition("(")
    base = _TYPE_ALIASES.get(base.strip(), base.strip())
    return base + ("(" + modifiers.replace(" ", "") if modifiers else "")


def _postgresql_column(pushdown: Pushdown, column: RemoteColumn, local: ColumnDefinition,
                       collate: str | None) -> ExactColumn | None:
    type_ = column.column.type
    remote_name, fallback = pg_type_for(type_, "postgresql")
    if (fallback or not column.typed or column.remote_category == "enum"
            or getattr(type_, "collation", None) not in (None, "default", "C", "POSIX")
            or _pg_type_name(remote_name) != _pg_type_name(local.type_name)
            or column.category == "interval"):   # psycopg2's timedelta loses months
        return None
    return ExactColumn(column.column, pushdown.ordering(column, collate), False)


def _sqlite_column(pushdown: Pushdown, column: RemoteColumn, local: ColumnDefinition,
                   collate: str | None) -> ExactColumn | None:
    col = column.column
    local_oid = int(local.type_oid or 0)
    if local_oid in _INTEGER_RANGES and column.remote_category == "integer":
        low, high = _INTEGER_RANGES[local_oid]
        readable = sa.and_(sa.func.typeof(col) == "integer", col.between(low, high))
        return ExactColumn(col, col, local_oid == oids.INT8, readable)
    if local_oid in (oids.TEXT, oids.VARCHAR) and column.remote_category == "string":
        readable = sa.func.typeof(col) == "text"
        if local_oid == oids.VARCHAR and local.typmod > 4:
            # varchar(n)'s input would cut trailing blanks beyond n: other groups
            readable = sa.and_(readable, sa.func.length(col) <= local.typmod - 4)
        binary = pushdown.caps.text(col)
        return ExactColumn(binary, binary if pushdown.text_order(collate) else None, False,
                           readable)
    if local_oid == oids.DATE and column.remote_category == "date":
        # one text per date: the canonical YYYY-MM-DD that SQLite's date() gives back
        return ExactColumn(col, col, False, sa.func.date(col) == col)
    if local_oid == oids.BOOL and column.remote_category == "boolean":
        truth = sqlite_reads_as(col, True)     # 1, 0 or NULL
        return ExactColumn(truth, None, False,
                           sa.or_(truth, sqlite_reads_as(col, False)))
    return None


def exact_column(pushdown: Pushdown, local_columns: Mapping[str, ColumnDefinition],
                 name: str, collate: str | None = None) -> ExactColumn | None:
    """What the source computes exactly as PostgreSQL for the local column ``name``
    (grouping, counting, comparing; also the join clauses of joins.py), or None."""
    column = pushdown.table.columns.get(name)
    local = local_columns.get(name)
    if column is None or local is None:
        return None
    if pushdown.caps.name == "postgresql":
        return _postgresql_column(pushdown, column, local, collate)
    if pushdown.caps.name == "sqlite":
        return _sqlite_column(pushdown, column, local, collate)
    return None


def _described_as_read(aggregate: Aggregate) -> bool:
    """Whether the aggregate is one of pg_catalog described by nothing more than what
    this module reads: a field the bridge may add later (a FILTER, an ORDER BY) set to
    anything but its default would change the result."""
    return aggregate.function.startswith("pg_catalog.") and all(
        item.name in _READ_FIELDS or getattr(aggregate, item.name) == item.default
        for item in fields(aggregate))


def _aggregate_pushable(pushdown: Pushdown, local_columns: Mapping[str, ColumnDefinition],
                        aggregate: Aggregate) -> bool:
    if not _described_as_read(aggregate):
        return False
    if aggregate.name == "count" and not aggregate.distinct:
        return aggregate.column is None or aggregate.column in pushdown.table.columns
    if aggregate.column is None:
        return False
    column = exact_column(pushdown, local_columns, aggregate.column, aggregate.collate)
    if column is None:
        return False
    if aggregate.name == "count":
        return True
    if aggregate.name in ("min", "max"):
        return column.ordered is not None
    if aggregate.name == "sum" and column.split_sum:
        return not aggregate.distinct
    local_oid = int(local_columns[aggregate.column].type_oid or 0)
    if local_oid not in SAME_TYPE_ARGUMENTS.get(aggregate.name, ()):
        return False
    # PostgreSQL: the same function of the same type; SQLite: sums of integers of 32
    # bits at most, and booleans' and/or as min/max of 0/1
    return pushdown.caps.name == "postgresql" or aggregate.name == "sum" or \
        aggregate.name in _AS_MIN_MAX


def aggregation_pushable(pushdown: Pushdown, local_columns: Mapping[str, ColumnDefinition],
                         aggregation: Aggregation) -> bool:
    """Whether the source computes exactly this aggregation (the quals are the bridge's
    business: it offers only aggregations whose quals the source enforces)."""
    for name in aggregation.group_by:
        column = exact_column(pushdown, local_columns, name)
        if column is None:
            return False
    return all(_aggregate_pushable(pushdown, local_columns, a)
               for a in aggregation.aggregates)


@dataclass
class AggregateQuery:
    statement: sa.Select
    #: A source row -> the values of the aggregation's output_names, in order.
    convert: Callable[[Sequence[Any]], tuple]


class _Select:
    """The SELECT's items, how each output value is read from a source row, and the
    checks of what SQLite's columns held."""

    def __init__(self, pushdown: Pushdown, local_columns: Mapping[str, ColumnDefinition],
                 relation: str) -> None:
        self.pushdown = pushdown
        self.local_columns = local_columns
        self.relation = relation
        self.items: list[sa.ColumnElement] = []
        self.readers: list[Callable[[Sequence[Any]], Any]] = []
        #: Each output's expression (None: computed here from several items).
        self.outputs: list[sa.ColumnElement | None] = []
        #: column -> whether some value it holds is not what the local type reads
        self.checks: dict[str, sa.ColumnElement] = {}

    def item(self, expression: sa.ColumnElement) -> int:
        self.items.append(expression.label(f"v{len(self.items)}"))
        return len(self.items) - 1

    def output(self, expression: sa.ColumnElement) -> None:
        position = self.item(expression)
        self.readers.append(lambda row: row[position])
        self.outputs.append(expression)

    def column(self, name: str, collate: str | None = None) -> ExactColumn:
        column = exact_column(self.pushdown, self.local_columns, name, collate)
        if column is None:
            raise FdwError(f"internal error: column {name} of an aggregation the source "
                           "cannot compute exactly")
        if column.readable is not None and name not in self.checks:
            raw = self.pushdown.table.columns[name].column
            self.checks[name] = sa.func.max(sa.and_(raw.is_not(None),
                                                    sa.not_(column.readable)))
        return column

    def aggregate(self, aggregate: Aggregate) -> None:
        if aggregate.column is None:
            self.output(sa.func.count())
            return
        if aggregate.name == "count" and not aggregate.distinct:
            self.output(sa.func.count(self.pushdown.table.columns[aggregate.column].column))
            return
        column = self.column(aggregate.column, aggregate.collate)
        if aggregate.name == "sum" and column.split_sum:
            high = self.item(sa.func.sum(column.expression.op(">>")(32)))
            low = self.item(sa.func.sum(column.expression.op("&")(_LOW_BITS - 1)))
            self.readers.append(lambda row: None if row[high] is None else
                                row[high] * _LOW_BITS + row[low])
            self.outputs.append(None)
            return
        argument = column.expression
        if aggregate.name in ("min", "max") and column.ordered is not None:
            argument = column.ordered
        if aggregate.distinct:
            argument = sa.distinct(argument)
        function = aggregate.name
        if self.pushdown.caps.name != "postgresql":
            function = _AS_MIN_MAX.get(function, function)
        self.output(getattr(sa.func, function)(argument))

    @property
    def columns(self) -> list[sa.ColumnElement]:
        """The SELECT list: the outputs' items, then the checks."""
        return self.items + [check.label(f"check_{index}")
                             for index, check in enumerate(self.checks.values())]

    def convert(self, row: Sequence[Any]) -> tuple:
        unreadable = [name for index, name in enumerate(self.checks)
                      if row[len(self.items) + index]]
        if unreadable:
            raise FdwError(
                f"column {unreadable[0]} of foreign table {self.relation} holds a value in "
                "the source that its local type does not read as the same value",
                sqlstate="22000",
                detail="SQLite stores any value in any column; an aggregation computed "
                       "by SQLite checks that each value it reads is one the local type "
                       "holds (an integer in its range, text within its length, a "
                       "YYYY-MM-DD date, a boolean).",
                hint="Correct the value in the source, or give the foreign table's "
                     "column a type that holds it.")
        return tuple(read(row) for read in self.readers)


def _select(pushdown: Pushdown, local_columns: Mapping[str, ColumnDefinition],
            aggregation: Aggregation, relation: str = "") -> _Select:
    select = _Select(pushdown, local_columns, relation)
    for name in aggregation.group_by:
        select.output(select.column(name).expression)
    for aggregate in aggregation.aggregates:
        select.aggregate(aggregate)
    return select


def _order(select: _Select, aggregation: Aggregation,
           sortkeys: Sequence[SortKey]) -> list[sa.UnaryExpression] | None:
    """ORDER BY items sorting the groups by sortkeys (outputs) exactly as PostgreSQL
    would, or None. Counts and sums are numbers; a grouping column and a min/max sort
    as their column does; NULLs are placed explicitly."""
    pushdown = select.pushdown
    if not pushdown.caps.nulls_order_syntax:
        return None
    groups = len(aggregation.group_by)
    order: list[sa.UnaryExpression] = []
    for key in sortkeys:
        expression = select.outputs[key.attnum - 1]
        if expression is None:
            return None
        if key.attnum <= groups:
            column: str | None = aggregation.group_by[key.attnum - 1]
        else:
            aggregate = aggregation.aggregates[key.attnum - 1 - groups]
            column = aggregate.column if aggregate.name in ("min", "max") else None
        if column is not None:
            remote = pushdown.table.columns[column]
            if pushdown.ordering(remote, key.collate) is None:
                return None
            if remote.category == "string" and pushdown.caps.text_order == "same" and \
                    key.collate in ("C", "POSIX"):
                expression = expression.collate(key.collate)
        ordered = expression.desc() if key.is_reversed else expression.asc()
        order.append(ordered.nulls_first() if key.nulls_first else ordered.nulls_last())
    return order


def aggregation_sortable(pushdown: Pushdown, local_columns: Mapping[str, ColumnDefinition],
                         aggregation: Aggregation, sortkeys: Sequence[SortKey]) -> bool:
    """Whether the source sorts the groups of this (pushable) aggregation by sortkeys
    as PostgreSQL would."""
    return _order(_select(pushdown, local_columns, aggregation), aggregation,
                  sortkeys) is not None


def build_aggregate_select(pushdown: Pushdown, local_columns: Mapping[str, ColumnDefinition],
                           quals: Sequence[Qual], aggregation: Aggregation,
                           relation: str,
                           filters: Sequence[sa.ColumnElement] = ()) -> AggregateQuery:
    """SELECT group columns, aggregates FROM the table WHERE quals GROUP BY the group
    columns; every qual must be enforced by the source (the bridge checked
    enforces_quals), as the filters' conditions are. ``relation`` names the foreign
    table in errors."""
    select = _select(pushdown, local_columns, aggregation, relation)
    keys = [key for key in select.outputs[:len(aggregation.group_by)] if key is not None]
    statement = sa.select(*select.columns).select_from(pushdown.table.table)
    conditions = pushdown.conditions(quals)
    if conditions is None:
        raise FdwError("internal error: an aggregation pushed with quals the source does "
                       "not enforce: " + repr(list(quals)))
    conditions += filters
    if conditions:
        statement = statement.where(*conditions)
    if keys:
        statement = statement.group_by(*keys)
    if aggregation.sortkeys:
        order = _order(select, aggregation, aggregation.sortkeys)
        if order is None:
            raise FdwError("internal error: groups sorted in an order the source cannot "
                           "give: " + repr(aggregation.sortkeys))
        statement = statement.order_by(*order)
    if aggregation.limit is not None:
        statement = statement.limit(aggregation.limit)
    if aggregation.offset is not None:
        statement = statement.offset(aggregation.offset)
    return AggregateQuery(statement, select.convert)
