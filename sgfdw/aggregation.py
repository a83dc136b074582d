"""The grouping and aggregation the bridge offers an FDW (``can_aggregate``, then
``execute(..., aggregation=...)``): plain data, built by src/upper.c.

Only what every FDW can read without knowing PostgreSQL's planner is offered: GROUP BY
plain columns of the foreign table and aggregates of one plain column or of its DISTINCT
values (or ``count(*)``) with no FILTER or ORDER BY. The FDW yields one row per group:
the grouping columns' values, then the aggregates' values, in the order of
``output_names``.

An order and a limit of the groups are only ever set on an aggregation by the FDW's
own consent (``can_sort_aggregation``, ``can_limit_aggregation``), so an FDW that does
not know of them never gets an aggregation that has them.

Likewise expressions (sgfdw.expression trees): only an FDW whose class says
``aggregates_expressions = True`` is offered grouping keys that are expressions
(``Aggregation.group_expressions``, ``GROUP BY id % 10``), aggregates of an expression
(``Aggregate.argument``, ``sum(f * 2)``) and FILTER clauses (``Aggregate.filter``). A
value known only when the query runs (``$1``, an outer query's column) is a Parameter
when offered and a Constant in the aggregation ``execute()`` gets (each execution's).

HAVING: an FDW with the optional ``can_filter_aggregation(aggregation, clause)`` is
offered each clause of the query's HAVING (AND-ed) as a tree whose grouping keys and
aggregates are :class:`sgfdw.expression.Output` nodes (``position`` in
``output_names``); the clauses it accepts are in ``Aggregation.having``, and it yields
only the groups where all of them are true. PostgreSQL filters by the others.

Ordered aggregates: only an FDW whose class says ``aggregates_ordered = True`` is offered
``array_agg`` and ``string_agg`` (whose results depend on the order of the rows they
read: unordered, any order is right) and aggregates with an ORDER BY of their own
(``string_agg(t, ',' ORDER BY t)``: ``Aggregate.order_by``), its keys and further
arguments (``Aggregate.extra_arguments``: string_agg's delimiter) as trees.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from multicorn import SortKey
from sgfdw.expression import Column, Expression, walk

__all__ = ["Aggregate", "AggregateOrder", "Aggregation"]


@dataclass(frozen=True)
class AggregateOrder:
    """A key of an aggregate's ORDER BY: ``expression`` (a tree) in its type's default
    order (``descending``: reversed) under the expression's collation, NULLs first if
    ``nulls_first``."""

    expression: Expression
    descending: bool = False
    nulls_first: bool = False


@dataclass(frozen=True)
class Aggregate:
    """One aggregate call: ``function`` is its schema-qualified name
    (``'pg_catalog.sum'``), ``column`` the column it reads (None: ``count(*)``),
    ``type_oid`` the OID of its result type, ``collate`` the collation it compares
    with (None: the database default), ``distinct``: of the column's distinct values
    (``count(DISTINCT col)``; equal under ``collate``, a deterministic collation).

    Offered only with ``aggregates_expressions``: ``argument``, the argument when it is
    an expression (``column`` is then None), and ``filter``, the FILTER (WHERE ...)
    clause: only the rows where it is true are aggregated.

    Offered only with ``aggregates_ordered``: ``extra_arguments``, the arguments after
    the first (``string_agg``'s delimiter, a tree), and ``order_by``, the order in which
    the aggregate reads its rows (``AggregateOrder`` keys; empty: any)."""

    function: str
    column: str | None
    type_oid: int
    collate: str | None = None
    distinct: bool = False
    argument: Expression | None = None
    filter: Expression | None = None
    extra_arguments: tuple[Expression, ...] = ()
    order_by: tuple[AggregateOrder, ...] = ()

    @property
    def name(self) -> str:
        """The function without its schema: 'sum'."""
        return self.function.rpartition(".")[2]

    def __str__(self) -> str:
        argument = "*" if self.column is None else self.column
        if self.argument is not None:
            argument = "expression"
        argument += ", expression" * len(self.extra_arguments)
        if self.order_by:
            argument += " ORDER BY " + ", ".join("expression" for _ in self.order_by)
        where = "" if self.filter is None else " FILTER (WHERE expression)"
        return f"{self.function}({'DISTINCT ' if self.distinct else ''}{argument}){where}"


@dataclass(frozen=True)
class Aggregation:
    """GROUP BY ``group_by`` (column names; empty: one row for the whole table, even an
    empty one) computing ``aggregates``. ``output_names`` names the values of each row
    to yield, in order (keys of a row given as a mapping).

    ``sortkeys``: the groups are yielded in that order, each ``SortKey`` naming one of
    ``output_names`` (``attname``; ``attnum`` its position, from 1). ``limit`` and
    ``offset`` (ints, None: none): only those groups of that order are yielded.

    ``group_expressions`` (only with ``aggregates_expressions``): further grouping keys,
    expression trees, whose values follow the grouping columns' in each row (named
    ``'group expression 1'``, ...). A name in ``output_names`` that another output
    already has is followed by its position (``'pg_catalog.sum(expression) #4'``).

    ``having`` (only with ``can_filter_aggregation``): boolean trees over the outputs
    (``Output`` nodes); only groups where every one is true are yielded, and the order
    and limit apply to those."""

    group_by: tuple[str, ...]
    aggregates: tuple[Aggregate, ...]
    output_names: tuple[str, ...] = field(init=False, compare=False)
    sortkeys: tuple[SortKey, ...] = ()
    limit: int | None = None
    offset: int | None = None
    group_expressions: tuple[Expression, ...] = ()
    having: tuple[Expression, ...] = ()

    def __post_init__(self) -> None:
        names: list[str] = []
        for name in (self.group_by +
                     tuple(f"group expression {i}"
                           for i in range(1, len(self.group_expressions) + 1)) +
                     tuple(str(a) for a in self.aggregates)):
            names.append(name if name not in names else f"{name} #{len(names) + 1}")
        object.__setattr__(self, "output_names", tuple(names))

    @property
    def columns(self) -> set[str]:
        """The columns the aggregation reads."""
        trees = self.group_expressions + tuple(
            tree for a in self.aggregates
            for tree in (a.argument, a.filter, *a.extra_arguments,
                         *(key.expression for key in a.order_by))
            if tree is not None)
        return set(self.group_by) | {a.column for a in self.aggregates if a.column is not None} \
            | {node.name for tree in trees for node in walk(tree) if isinstance(node, Column)}
