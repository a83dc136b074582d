"""Row and width estimates for the planner.

Table size: PostgreSQL's ``pg_class.reltuples``; SQLite's ``sqlite_stat1`` when ANALYZE
made one; otherwise (and for a PostgreSQL table never analyzed) a count bounded at
``COUNT_LIMIT`` rows, which is exact for small tables and cheap for big ones. A view is
never counted (it may be costly to compute): ``VIEW_ROWS``. Quals scale it down with
fixed selectivities (an equality on a unique key gives one row).
"""
from __future__ import annotations

from typing import Collection, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from multicorn import Qual
from sgfdw.sqlalchemy.remote_table import RemoteTable

__all__ = ["table_rows", "scan_rows", "row_width", "COUNT_LIMIT", "VIEW_ROWS"]

COUNT_LIMIT = 100_000
VIEW_ROWS = 1000
_WIDTHS = {"integer": 6, "float": 8, "numeric": 10, "boolean": 1, "date": 4,
           "timestamp": 8, "timestamptz": 8, "time": 8, "interval": 16, "uuid": 16,
           "string": 24, "binary": 64, "json": 64, "array": 64, "other": 24}


def _postgres_reltuples(conn: Connection, table: RemoteTable) -> float | None:
    pg_class = sa.table("pg_class", sa.column("oid"), sa.column("reltuples"),
                        schema="pg_catalog")
    name: sa.ColumnElement[str] = sa.func.quote_ident(table.name)
    if table.schema:
        name = sa.func.quote_ident(table.schema).concat(".").concat(name)
    value = conn.execute(sa.select(pg_class.c.reltuples)
                         .where(pg_class.c.oid == sa.func.to_regclass(name))).scalar()
    return None if value is None or value < 0 else float(value)


def _sqlite_stat(conn: Connection, table: RemoteTable) -> float | None:
    master = sa.table("sqlite_master", sa.column("name"), sa.column("type"),
                      schema=table.schema)
    present = conn.execute(sa.select(master.c.name).where(
        master.c.type == "table", master.c.name == "sqlite_stat1")).first()
    if present is None:
        return None
    stat1 = sa.table("sqlite_stat1", sa.column("tbl"), sa.column("stat"), schema=table.schema)
    stat = conn.execute(sa.select(stat1.c.stat).where(stat1.c.tbl == table.name)
                        .limit(1)).scalar()
    try:
        return float(str(stat).split()[0]) if stat is not None else None
    except ValueError:
        return None


def _bounded_count(conn: Connection, table: RemoteTable) -> float:
    sample = sa.select(sa.null().label("x")).select_from(table.table).limit(COUNT_LIMIT)
    return float(conn.execute(sa.select(sa.func.count()).select_from(sample.subquery()))
                 .scalar() or 0)


def table_rows(conn: Connection, table: RemoteTable) -> float:
    if table.is_view:
        return float(VIEW_ROWS)
    rows = None
    if conn.dialect.name == "postgresql":
        rows = _postgres_reltuples(conn, table)
    elif conn.dialect.name == "sqlite":
        rows = _sqlite_stat(conn, table)
    if rows is None:
        rows = _bounded_count(conn, table)
    return rows


def scan_rows(total: float, quals: Sequence[Qual], table: RemoteTable) -> int:
    rows = total
    equal_columns = {q.field_name for q in quals
                     if q.operator == "=" and q.value is not None}
    for key in [table.primary_key, *table.unique_keys]:
        if key and set(key) <= equal_columns:
            return 1
    for qual in quals:
        op = qual.operator[0] if qual.is_list_operator else qual.operator
        if qual.is_list_operator and op == "=" and qual.list_any_or_all == "ANY":
            rows *= min(1.0, 0.05 * max(1, len(qual.value or ())))
        elif op == "=":
            rows *= 0.05
        elif op in ("<", "<=", ">", ">="):
            rows *= 0.33
        elif op in ("~~", "~~*"):
            rows *= 0.2
        elif op == "<>" and qual.value is not None:
            rows *= 0.95
    return max(1, int(round(rows)))


def row_width(columns: Collection[str], table: RemoteTable) -> int:
    return max(1, sum(_WIDTHS.get(table.columns[name].category, 24)
                      for name in columns if name in table.columns))
