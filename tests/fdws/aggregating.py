"""An FDW computing GROUP BY and aggregates itself, for tests/test_aggregates.py (the
bridge's can_aggregate / execute(aggregation=...)).

    CREATE SERVER agg FOREIGN DATA WRAPPER sgfdw OPTIONS (wrapper 'aggregating.AggregatingFdw');
    CREATE FOREIGN TABLE a (g int, n int, t text) SERVER agg;

Rows: ROWS below. It enforces equality quals only (enforces_quals), accepts count, sum,
min and max (not avg, nor of DISTINCT values), and sends a NOTICE ``aggregating <json>``
with the aggregation and the columns each execute() got. Option ``shape``: 'tuple'
(default), 'dict' (rows by output_names), 'bad_value' (every value the str 'x'), 'short'
(rows one value short).

HavingFdw also filters the groups by the HAVING clauses ``output > constant``
(can_filter_aggregation), logged as ``"having": [[position, constant], ...]``.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from multicorn import ColumnDefinition, ForeignDataWrapper, Qual
from multicorn.utils import INFO, log_to_postgres

from sgfdw.aggregation import Aggregate, Aggregation
from sgfdw.expression import Call, Constant, Expression, Output

ROWS = [(1, 10, "b"), (1, None, "a"), (2, 5, None), (None, 7, "c"), (2, 6, "d"),
        (None, None, None), (3, 2147483647, "z"), (3, 2147483647, "y")]
COLUMNS = ("g", "n", "t")
ACCEPTED = frozenset({"count", "sum", "min", "max"})


def _compute(aggregate: Aggregate, rows: list[dict[str, Any]]) -> Any:
    if aggregate.column is None:
        return len(rows)
    values = [row[aggregate.column] for row in rows if row[aggregate.column] is not None]
    if aggregate.name == "count":
        return len(values)
    if not values:
        return None
    return {"sum": sum, "min": min, "max": max}[aggregate.name](values)


def _output_above(clause: Expression) -> tuple[int, Any] | None:
    """(position, constant) of a clause ``output > constant``, else None."""
    if isinstance(clause, Call) and clause.operator and clause.name == ">" and \
            isinstance(clause.args[0], Output) and isinstance(clause.args[-1], Constant):
        return clause.args[0].position, clause.args[-1].value
    return None


def _kept(aggregation: Aggregation, values: list[Any]) -> bool:
    """Whether the group's values satisfy every HAVING clause the FDW accepted."""
    for clause in aggregation.having:
        position, constant = _output_above(clause)  # type: ignore[misc]
        if values[position - 1] is None or not values[position - 1] > constant:
            return False
    return True


class AggregatingFdw(ForeignDataWrapper):
    def __init__(self, options: dict[str, str], columns: Mapping[str, ColumnDefinition]):
        super().__init__(options, columns)
        self.shape = options.get("shape", "tuple")

    def enforces_quals(self, quals: list[Qual]) -> bool:
        return all(q.operator == "=" for q in quals)

    def can_aggregate(self, aggregation: Aggregation) -> bool:
        return all(a.name in ACCEPTED and not a.distinct for a in aggregation.aggregates)

    def _rows(self, quals: list[Qual]) -> list[dict[str, Any]]:
        rows = [dict(zip(COLUMNS, row)) for row in ROWS]
        for qual in quals:
            if qual.operator == "=":
                rows = [r for r in rows if r[qual.field_name] == qual.value]
        return rows

    def execute(self, quals: list[Qual], columns: Collection[str],
                aggregation: Aggregation | None = None, **kwargs: Any) -> Any:
        if aggregation is None:
            return [[r[c] for c in COLUMNS] for r in self._rows(quals)]
        log_to_postgres("aggregating " + json.dumps({
            "group_by": list(aggregation.group_by),
            "aggregates": [[a.function, a.column, a.type_oid, a.collate]
                           for a in aggregation.aggregates],
            "output_names": list(aggregation.output_names),
            "columns": sorted(columns),
            **({"having": [_output_above(c) for c in aggregation.having]}
               if aggregation.having else {})}), INFO)
        groups: dict[tuple, list[dict[str, Any]]] = {}
        rows = self._rows(quals)
        for row in rows:
            groups.setdefault(tuple(row[c] for c in aggregation.group_by), []).append(row)
        if not aggregation.group_by:
            groups = {(): rows}
        result = []
        for key, members in groups.items():
            values = list(key) + [_compute(a, members) for a in aggregation.aggregates]
            if not _kept(aggregation, values):
                continue
            if self.shape == "dict":
                result.append(dict(zip(aggregation.output_names, values)))
            elif self.shape == "bad_value":
                result.append(["x"] * len(values))
            elif self.shape == "short":
                result.append(values[:-1])
            else:
                result.append(values)
        return result


class HavingFdw(AggregatingFdw):
    def can_filter_aggregation(self, aggregation: Aggregation, clause: Expression) -> bool:
        return _output_above(clause) is not None
