"""GROUP BY and aggregates computed by the remote server (the bridge's ``can_aggregate``
and ``execute(..., aggregation=...)``).

An aggregation is pushed only when the remote result is the local one, value for value:

* grouping columns of the same type on both sides (pushdown.Match.SAME): equality is
  then the same function, and under the deterministic collations the FDW knows
  (the remote default or C; the bridge offers no nondeterministic local one) two texts
  are equal only when their bytes are, so the groups are the same;
* ``count`` of any column the remote reads (of its DISTINCT values: of the same type,
  which the groups' rule makes equal alike); ``sum``, ``avg`` and the standard
  deviations and variances of numbers of exactly the same type on both sides (so the
  same function, with the same result type and precision: int4 -> int8, int8 ->
  numeric, ...; of float4/float8 their last digits depend on the order the rows are
  added in, locally as remotely, as postgres_fdw's); ``bool_and``, ``bool_or``,
  ``every`` of booleans and ``bit_and``, ``bit_or`` of integers of that same type;
* ``min`` and ``max`` where the column could be sorted remotely (pushdown's rule for
  ORDER BY: a type of the same ordering; text only under a collation ordering as the
  local one, or ``COLLATE "C"``), enums excepted (their labels' order is the remote
  type's own);
* and every qual evaluated remotely: no row may be filtered out after being counted.

Grouping keys, aggregate arguments and FILTER clauses that are expressions (the FDW's
``aggregates_expressions``) are pushed where expressions.py proves the remote server
evaluates them as PostgreSQL would; then the aggregate rules above hold for the
argument's type (``min``/``max`` only of a type without collation), and the groups are
sorted remotely by such an output only where it is of a built-in type, under the
default collation if any (expressions.py then proved the remote one orders alike), by
its position in the SELECT list where it has values.

``array_agg`` and ``string_agg`` (``aggregates_ordered``) of a column of the same type
on both sides (not an enum nor an array) or of a pushable tree, with pushable further
arguments (the delimiter); an aggregate's ORDER BY where each key sorts remotely as
locally: a column by pushdown's rule for ORDER BY (``COLLATE "C"`` where needed), a tree
of a built-in type under the default collation. Their results are text or arrays, so the
groups are never sorted remotely by them. Unordered, they are order-dependent here as
there (postgres_fdw pushes them too).

HAVING clauses (``can_filter_aggregation``) are sent as ``HAVING`` where expressions.py
proves the clause exact and each output it reads is a number, boolean, date or time
(compared alike on both sides, no collation); a grouping expression it reads is written
again, so only one without values (parameters would make it another expression than the
GROUP BY's). Other clauses stay PostgreSQL's, the aggregation still pushed.

The groups are sorted remotely (``can_sort_aggregation``) where each sort key is a
grouping column that could be sorted remotely (pushdown's rule for ORDER BY), a count,
sum or avg (numbers, ordered alike on both sides) or a min/max (ordered as its column,
by the same rule), and then limited (``can_limit_aggregation``: always, the bridge
offers a limit only when no group is filtered out afterwards).
"""
from __future__ import annotations

from typing import Collection, Sequence

from multicorn import Qual, SortKey
from sgfdw import type_oids as oids
from sgfdw.aggregation import Aggregate, AggregateOrder, Aggregation
from sgfdw.errors import FdwError
from sgfdw.expression import Column, Expression, Output, walk
from sgfdw.remote.aggregates import SAME_TYPE_ARGUMENTS, SUMMABLE
from sgfdw.remote.collation import Collation

from .deparse import (SelectQuery, Sql, add_order_limit, add_where, column_sql,
                      qualified_name, sort_item)
from .expressions import expression_pushable, expression_sql, scan_column
from .pushdown import Match, Relation
from .remote_table import FIRST_NORMAL_OID

__all__ = ["aggregation_pushable", "aggregation_sortable", "having_pushable",
           "build_aggregate_select"]

#: Aggregates whose result is in the order of the rows they read.
_ORDER_DEPENDENT = frozenset({"array_agg", "string_agg"})

#: Outputs a pushed HAVING may compare: no collation, the same order on both sides.
_HAVING_OUTPUT_TYPES = SUMMABLE | {oids.BOOL, oids.OID, oids.DATE, oids.TIME, oids.TIMETZ,
                                   oids.TIMESTAMP, oids.TIMESTAMPTZ, oids.INTERVAL}


def _min_max_collation(relation: Relation, aggregate: Aggregate) -> str | None:
    """'' or ' COLLATE "C"' for the min/max's argument, None if it cannot be pushed."""
    plan = relation.plans[aggregate.column]      # type: ignore[index]
    if plan.remote.base_kind == "e":             # type: ignore[union-attr]
        return None
    return relation.sort_pushable(SortKey(aggregate.column, 0, False, False,  # type: ignore[arg-type]
                                          aggregate.collate))


def _argument_pushable(aggregate: Aggregate, argument: Expression) -> bool:
    """Whether the aggregate of that (pushable) expression is computed remotely as
    locally."""
    if aggregate.name == "count" or aggregate.name in _ORDER_DEPENDENT:
        return True
    if aggregate.name in SAME_TYPE_ARGUMENTS:
        return argument.type_oid in SAME_TYPE_ARGUMENTS[aggregate.name]
    return aggregate.name in ("min", "max") and argument.collation is None


def _order_key(relation: Relation, key: AggregateOrder) -> tuple[Sql, SortKey] | None:
    """The expression an aggregate's ORDER BY key writes (with its COLLATE, if any) and
    how it sorts, None if it does not sort remotely as locally."""
    tree = key.expression
    column = tree.name if isinstance(tree, Column) else None
    sortkey = SortKey(column or "", 0, key.descending, key.nulls_first, tree.collation)
    if column is not None:
        collate = relation.sort_pushable(sortkey)
        return None if collate is None else \
            (Sql().text(column_sql(relation, column) + collate), sortkey)
    if _tree_sort_collation(tree, sortkey) is None:
        return None
    return expression_sql(tree, scan_column(relation)), sortkey


def _aggregate_pushable(relation: Relation, aggregate: Aggregate, extensions: Collection[str],
                        local_locale: Collation | None) -> bool:
    # A column sort key follows pushdown's ORDER BY rule (_order_key), not a tree's.
    trees = (aggregate.filter, aggregate.argument, *aggregate.extra_arguments,
             *(key.expression for key in aggregate.order_by
               if not isinstance(key.expression, Column)))
    for tree in trees:
        if tree is not None and not expression_pushable(tree, [relation], extensions,
                                                        local_locale):
            return False
    if not all(_order_key(relation, key) is not None for key in aggregate.order_by):
        return False
    if aggregate.argument is not None:
        return _argument_pushable(aggregate, aggregate.argument)
    if aggregate.column is None:
        return aggregate.name == "count"
    plan = relation.plans.get(aggregate.column)
    if plan is None or plan.remote is None or plan.match is Match.NONE:
        return False
    if aggregate.name == "count":
        return plan.match is Match.SAME or not aggregate.distinct
    if plan.match is not Match.SAME or plan.remote.is_array:
        return False
    if aggregate.name in _ORDER_DEPENDENT:
        return plan.remote.base_kind != "e"
    if aggregate.name in SAME_TYPE_ARGUMENTS:
        local_oid = int(relation.local_columns[aggregate.column].type_oid or 0)
        return local_oid in SAME_TYPE_ARGUMENTS[aggregate.name] and \
            plan.remote.base_oid == local_oid
    return aggregate.name in ("min", "max") and \
        _min_max_collation(relation, aggregate) is not None


def aggregation_pushable(relation: Relation, aggregation: Aggregation,
                         extensions: Collection[str] = (),
                         local_locale: Collation | None = None) -> bool:
    """Whether the remote server computes exactly this aggregation (the quals are the
    bridge's business: it offers only aggregations whose quals all go remote);
    expressions are checked against the server's ``extensions`` and the local locale."""
    for column in aggregation.group_by:
        plan = relation.plans.get(column)
        if plan is None or plan.match is not Match.SAME:
            return False
    if not all(expression_pushable(tree, [relation], extensions, local_locale)
               for tree in aggregation.group_expressions):
        return False
    return all(_aggregate_pushable(relation, a, extensions, local_locale)
               for a in aggregation.aggregates)


def _aggregate_sql(relation: Relation, aggregate: Aggregate) -> Sql:
    sql = Sql().text(f"{aggregate.function}({'DISTINCT ' if aggregate.distinct else ''}")
    if aggregate.argument is not None:
        sql.extend(expression_sql(aggregate.argument, scan_column(relation)))
    elif aggregate.column is None:
        sql.text("*")
    else:
        sql.text(column_sql(relation, aggregate.column))
        if aggregate.name in ("min", "max"):
            sql.text(_min_max_collation(relation, aggregate) or "")
    for argument in aggregate.extra_arguments:
        sql.text(", ").extend(expression_sql(argument, scan_column(relation)))
    items = []
    for key in aggregate.order_by:
        written = _order_key(relation, key)
        if written is None:
            raise FdwError("internal error: an aggregate's ORDER BY cannot be sent")
        items.append(Sql().extend(written[0]).text(sort_item("", written[1])))
    if items:
        sql.text(" ORDER BY ").join(", ", items)
    sql.text(")")
    if aggregate.filter is not None:
        sql.text(" FILTER (WHERE ").extend(
            expression_sql(aggregate.filter, scan_column(relation))).text(")")
    return sql


def _output_sql(relation: Relation, aggregation: Aggregation, position: int) -> Sql:
    """The SQL of output position (from 1) of the aggregation."""
    columns = len(aggregation.group_by)
    keys = columns + len(aggregation.group_expressions)
    if position <= columns:
        return Sql().text(column_sql(relation, aggregation.group_by[position - 1]))
    if position <= keys:
        return expression_sql(aggregation.group_expressions[position - 1 - columns],
                              scan_column(relation))
    return _aggregate_sql(relation, aggregation.aggregates[position - 1 - keys])


def _tree_sort_collation(tree: Expression, key: SortKey) -> str | None:
    """'' where a (pushable) tree's values sort remotely as locally: of a built-in type
    (not an enum, whose labels' order is the remote type's own),
    under the default collation if any (None: a pushable tree's text orders alike);
    None otherwise."""
    return "" if tree.collation is None and key.collate is None and \
        tree.type_oid < FIRST_NORMAL_OID else None


def _output_sort_collation(relation: Relation, aggregation: Aggregation,
                           key: SortKey) -> str | None:
    """'' or ' COLLATE "C"' to sort by the output key names, None if it cannot be
    sorted remotely as it is locally."""
    position = key.attnum
    keys = len(aggregation.group_by) + len(aggregation.group_expressions)
    if position <= len(aggregation.group_by):
        column = aggregation.group_by[position - 1]
    elif position <= keys:
        return _tree_sort_collation(aggregation.group_expressions[position - 1 -
                                                                  len(aggregation.group_by)],
                                    key)
    else:
        aggregate = aggregation.aggregates[position - 1 - keys]
        if aggregate.name in _ORDER_DEPENDENT:
            return None         # text and arrays, whose order may differ remotely
        if aggregate.name not in ("min", "max"):
            return ""           # numbers, booleans
        if aggregate.argument is not None:
            return _tree_sort_collation(aggregate.argument, key)
        column = aggregate.column     # type: ignore[assignment]
    return relation.sort_pushable(SortKey(column, 0, key.is_reversed, key.nulls_first,
                                          key.collate))


def aggregation_sortable(relation: Relation, aggregation: Aggregation,
                         sortkeys: Sequence[SortKey]) -> bool:
    """Whether the remote server sorts the groups of this (pushable) aggregation by
    sortkeys as PostgreSQL would."""
    return all(_output_sort_collation(relation, aggregation, key) is not None
               for key in sortkeys)


def having_pushable(relation: Relation, aggregation: Aggregation, clause: Expression,
                    extensions: Collection[str] = (),
                    local_locale: Collation | None = None) -> bool:
    """Whether the remote server filters the groups of this (pushable) aggregation by
    the HAVING clause exactly as PostgreSQL would."""
    keys = len(aggregation.group_by) + len(aggregation.group_expressions)
    for node in walk(clause):
        if isinstance(node, Column):
            return False                    # the bridge names outputs only
        if isinstance(node, Output) and (
                node.type_oid not in _HAVING_OUTPUT_TYPES or
                node.position <= keys and
                _output_sql(relation, aggregation, node.position).params):
            return False
    return expression_pushable(clause, [relation], extensions, local_locale)


class _HavingWriter:
    """Writes a HAVING clause: its outputs as the SELECT list has them."""

    def __init__(self, relation: Relation, aggregation: Aggregation) -> None:
        self.relation = relation
        self.aggregation = aggregation

    def __call__(self, node: Column) -> str:
        raise FdwError(f"internal error: column {node.name} in HAVING")

    def output(self, node: Output) -> Sql:
        return _output_sql(self.relation, self.aggregation, node.position)


def build_aggregate_select(relation: Relation, quals: Sequence[Qual],
                           aggregation: Aggregation,
                           filters: Sequence[Sql] = ()) -> SelectQuery:
    """SELECT group columns, aggregates FROM the table WHERE quals GROUP BY 1, 2, ...
    [HAVING ...] [ORDER BY ...] [LIMIT n] [OFFSET m]; every qual must be pushable (the
    bridge checked enforces_quals)."""
    items = [_output_sql(relation, aggregation, position)
             for position in range(1, len(aggregation.output_names) + 1)]
    table = relation.table
    query = SelectQuery(Sql().text("SELECT ").join(", ", items).text(
        f" FROM {qualified_name(table.schema, table.name)}"))
    add_where(relation, quals, query, filters)
    if query.not_pushed:
        raise FdwError("internal error: an aggregation pushed with quals the remote server "
                       "cannot evaluate: " + repr(query.not_pushed))
    keys = len(aggregation.group_by) + len(aggregation.group_expressions)
    if keys:
        query.sql.text(" GROUP BY " + ", ".join(str(p) for p in range(1, keys + 1)))
    else:
        query.at_most_one_row = True
    if aggregation.having:
        writer = _HavingWriter(relation, aggregation)
        query.sql.text(" HAVING ").join(" AND ", (expression_sql(clause, writer)
                                                  for clause in aggregation.having))
    sort_items = []
    for key in aggregation.sortkeys:
        collate = _output_sort_collation(relation, aggregation, key)
        if collate is None:
            raise FdwError(f"internal error: the groups cannot be sorted remotely by "
                           f"{key.attname}")
        # By position where the output has values (numbers, sorted without COLLATE).
        output = _output_sql(relation, aggregation, key.attnum)
        sort_items.append(sort_item((str(key.attnum) if output.params else output.shown()) +
                                    collate, key))
    add_order_limit(query.sql, sort_items, aggregation.limit, aggregation.offset)
    return query
