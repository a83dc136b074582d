"""Planner estimates: rows and width of a scan, and the parameterised paths.

Without ``use_remote_estimate`` nothing is asked of the remote server at plan time
beyond the (cached) catalog facts of :mod:`remote_table`: the row count is the remote
``reltuples``, and each qual's selectivity comes from the remote ``pg_stats``
(``n_distinct``, ``null_frac``) where known, else from PostgreSQL's default
selectivities (a column bounded on both sides is a range: 0.5%, as PostgreSQL reckons
one without statistics, not the product of two inequalities). With it, the remote
planner's own estimate of the pushed-down query is used
(``EXPLAIN (FORMAT JSON)``, one round trip per planning).
"""
from __future__ import annotations

import json
from typing import Collection, Sequence

from multicorn import Qual
from sgfdw import type_oids as oids

from .connection import RemoteConnection
from .deparse import build_select
from .pushdown import COMPARISONS, Match, Relation
from .remote_table import RemoteColumn, RemoteTable

__all__ = ["local_estimate", "remote_estimate", "path_keys"]

# PostgreSQL's defaults (selfuncs.h) for when nothing better is known.
DEFAULT_EQ_SEL = 0.005
DEFAULT_INEQ_SEL = 1.0 / 3.0
DEFAULT_RANGE_INEQ_SEL = 0.005
DEFAULT_MATCH_SEL = 0.005
DEFAULT_NULL_SEL = 0.005

# Typical widths by local type OID, for columns without statistics.
_TYPE_WIDTHS = {oids.BOOL: 1, oids.CHAR: 1, oids.INT8: 8, oids.INT2: 2, oids.INT4: 4,
                oids.OID: 4, oids.FLOAT4: 4, oids.FLOAT8: 8, oids.DATE: 4, oids.TIME: 8,
                oids.TIMESTAMP: 8, oids.TIMESTAMPTZ: 8, oids.INTERVAL: 16, oids.UUID: 16,
                oids.NUMERIC: 12}
_DEFAULT_WIDTH = 32


def _distinct_values(column: RemoteColumn, rows: float) -> float | None:
    if column.n_distinct is None or column.n_distinct == 0:
        return None
    if column.n_distinct > 0:
        return column.n_distinct
    return max(-column.n_distinct * rows, 1.0)


def _eq_selectivity(relation: Relation, column: RemoteColumn | None, rows: float) -> float:
    if column is None:
        return DEFAULT_EQ_SEL
    if any(key == (column.name,) for key in relation.table.unique_keys):
        return 1.0 / max(rows, 1.0)
    distinct = _distinct_values(column, rows)
    if distinct is None:
        return DEFAULT_EQ_SEL
    return (1.0 - (column.null_frac or 0.0)) / distinct


def _qual_selectivity(relation: Relation, qual: Qual, rows: float) -> float:
    plan = relation.plans.get(qual.field_name)
    column = plan.remote if plan is not None else None
    if isinstance(qual.operator, tuple):    # a list operator
        operator = qual.operator[0]
        count = len(qual.value) if isinstance(qual.value, (list, tuple)) else 1
        eq = _eq_selectivity(relation, column, rows)
        if operator == "=" and qual.operator[1]:
            return min(1.0, count * eq)
        if operator == "<>" and not qual.operator[1]:
            return max(0.0, 1.0 - count * eq)
        return DEFAULT_INEQ_SEL
    operator = qual.operator
    if qual.value is None:
        null_frac = column.null_frac if column is not None and column.null_frac is not None \
            else DEFAULT_NULL_SEL
        return null_frac if operator == "=" else 1.0 - null_frac
    if operator == "=":
        return _eq_selectivity(relation, column, rows)
    if operator == "<>":
        return 1.0 - _eq_selectivity(relation, column, rows)
    if operator in ("~~", "~~*"):
        return DEFAULT_MATCH_SEL
    if operator in ("!~~", "!~~*"):
        return 1.0 - DEFAULT_MATCH_SEL
    return DEFAULT_INEQ_SEL


def _width(relation: Relation, columns: Collection[str]) -> int:
    width = 0
    for name in columns:
        plan = relation.plans.get(name)
        if plan is not None and plan.remote is not None and plan.remote.avg_width:
            width += plan.remote.avg_width
        else:
            definition = relation.local_columns.get(name)
            oid = int(definition.type_oid or 0) if definition is not None else 0
            width += _TYPE_WIDTHS.get(oid, _DEFAULT_WIDTH)
    return width


def local_estimate(relation: Relation, quals: Sequence[Qual],
                   columns: Collection[str]) -> tuple[float, int]:
    """(rows, width) from the remote catalogs and statistics."""
    rows = relation.table.row_count()
    selectivity = 1.0
    bounds: dict[str, set[bool]] = {}   # column -> bounded from below (True), above
    for qual in quals:
        if qual.operator in COMPARISONS and qual.value is not None:
            bounds.setdefault(qual.field_name, set()).add(qual.operator[0] == ">")
        else:
            selectivity *= _qual_selectivity(relation, qual, rows)
    for sides in bounds.values():
        # As PostgreSQL's clauselist_selectivity: the tightest bound of each side counts.
        selectivity *= DEFAULT_RANGE_INEQ_SEL if len(sides) == 2 else DEFAULT_INEQ_SEL
    return max(rows * selectivity, 1.0), _width(relation, columns)


def remote_estimate(conn: RemoteConnection, relation: Relation, quals: Sequence[Qual],
                    columns: Collection[str]) -> tuple[float, int]:
    """(rows, width) as the remote planner estimates the pushed-down query."""
    query = build_select(relation, quals, columns)
    sql, params = query.sql.for_psycopg()
    rows = conn.guarded_query("EXPLAIN (FORMAT JSON) " + sql, params)
    document = rows[0][0]
    if isinstance(document, str):
        document = json.loads(document)
    plan = document[0]["Plan"]
    estimated = float(plan["Plan Rows"])
    if query.not_pushed:
        # What PostgreSQL will still filter locally.
        selectivity = 1.0
        for qual in query.not_pushed:
            selectivity *= _qual_selectivity(relation, qual, relation.table.row_count())
        estimated *= selectivity
    return max(estimated, 1.0), _width(relation, columns)


def path_keys(relation: Relation) -> list[tuple[tuple[str, ...], float]]:
    """Column sets with cheap remote lookups, and the rows one lookup returns:
    unique keys (1 row), then other indexed columns with known statistics."""
    table: RemoteTable = relation.table
    rows = table.row_count()
    keys: list[tuple[tuple[str, ...], float]] = []

    def local_names(remote_names: Sequence[str]) -> tuple[str, ...] | None:
        names = []
        for remote_name in remote_names:
            local = relation.local_name_of.get(remote_name)
            if local is None or relation.plans[local].match is not Match.SAME:
                return None
            names.append(local)
        return tuple(names)

    for key in table.unique_keys:
        names = local_names(key)
        if names is not None:
            keys.append((names, 1.0))
    for remote_name in table.indexed:
        names = local_names([remote_name])
        column = table.columns.get(remote_name)
        if names is None or column is None:
            continue
        distinct = _distinct_values(column, rows)
        if distinct is not None:
            keys.append((names, max(rows / distinct, 1.0)))
    return keys
