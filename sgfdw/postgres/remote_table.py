"""What the FDW knows about its remote relation: columns and their types, keys, sizes.

Read in one round trip (:func:`load_remote_table`) on first use and again after
:data:`METADATA_TTL` seconds. Planning uses it for estimates and parameterised paths, the
deparser to decide what is safe to push down (a qual goes to the remote server only when
the remote column's type is the local column's, so the operator means the same on both
sides), writes to find the primary key and the columns with defaults.
"""
from __future__ import annotations

import json
import time
from typing import Any
from dataclasses import dataclass, field

from sgfdw import type_oids as oids
from sgfdw.errors import UndefinedTable

from .connection import RemoteConnection

__all__ = ["RemoteColumn", "RemoteTable", "load_remote_table", "METADATA_TTL",
           "TEXT_FAMILY", "DEFAULT_COLLATION_OID"]

METADATA_TTL = 60.0
DEFAULT_COLLATION_OID = 100
# text and varchar compare with the same (text) operators; bpchar and name have their own.
TEXT_FAMILY = frozenset({oids.TEXT, oids.VARCHAR})
# Type OIDs below this are built in (the same in every cluster of a major version).
FIRST_NORMAL_OID = 16384


@dataclass(frozen=True)
class RemoteColumn:
    name: str
    attnum: int
    type_oid: int
    type_name: str          # format_type(atttypid, NULL), schema-qualified if not built in
    base_oid: int           # the type, or for a domain its (ultimate) base type
    base_name: str
    base_kind: str          # pg_type.typtype of the base: b, e (enum), c, r, m, ...
    is_array: bool
    not_null: bool
    has_default: bool
    identity: str           # '' or 'a' (ALWAYS) or 'd' (BY DEFAULT)
    generated: str          # '' or 's' (stored generated column)
    collation: int          # 0: not collatable; 100: the database default
    null_frac: float | None = None
    n_distinct: float | None = None
    avg_width: int | None = None

    @property
    def collatable(self) -> bool:
        return self.collation != 0

    @property
    def builtin(self) -> bool:
        return self.base_oid < FIRST_NORMAL_OID

    @property
    def gets_default(self) -> bool:
        """An INSERT of NULL here becomes DEFAULT (generated keys, serials, defaults)."""
        return self.has_default or self.identity != "" or self.generated != ""


@dataclass
class RemoteTable:
    schema: str
    name: str
    relkind: str
    reltuples: float
    relpages: int
    columns: dict[str, RemoteColumn]
    primary_key: tuple[str, ...] | None
    unique_keys: list[tuple[str, ...]]
    indexed: list[str]          # leading columns of the other plain indexes
    collation: tuple[str, str]  # remote database (collate, ctype)
    loaded_at: float = field(default_factory=time.monotonic)

    def is_stale(self, now: float | None = None) -> bool:
        return (now if now is not None else time.monotonic()) - self.loaded_at > METADATA_TTL

    def row_count(self) -> float:
        """The rows the remote planner believes the relation has (a guess if unknown)."""
        if self.reltuples >= 0:
            return max(self.reltuples, 1.0)
        if self.relpages > 0:   # never analyzed: as the planner does, from the pages
            return max(self.relpages * 8192 / self._tuple_width(), 1.0)
        return 1000.0

    def _tuple_width(self) -> float:
        widths = [c.avg_width or 32 for c in self.columns.values()]
        return max(24.0 + sum(widths), 32.0)


_METADATA_SQL = """
WITH RECURSIVE rel AS (
    SELECT c.oid, c.relkind::text AS relkind, c.reltuples::float8 AS reltuples, c.relpages
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'v', 'm', 'f', 'p')
), cols AS (
    SELECT a.* FROM rel JOIN pg_attribute a ON a.attrelid = rel.oid
    WHERE a.attnum > 0 AND NOT a.attisdropped
), dom(typid, cur) AS (
    SELECT DISTINCT atttypid, atttypid FROM cols
    UNION ALL
    SELECT d.typid, t.typbasetype FROM dom d JOIN pg_type t ON t.oid = d.cur
    WHERE t.typtype = 'd'
), base AS (
    SELECT d.typid, t.oid AS base_oid, t.typtype::text AS base_kind,
           t.typcategory = 'A' AS is_array
    FROM dom d JOIN pg_type t ON t.oid = d.cur WHERE t.typtype <> 'd'
)
SELECT rel.relkind, rel.reltuples, rel.relpages,
    (SELECT json_agg(json_build_object(
        'name', a.attname, 'attnum', a.attnum, 'type_oid', a.atttypid,
        'type_name', format_type(a.atttypid, NULL), 'base_oid', b.base_oid,
        'base_name', format_type(b.base_oid, NULL), 'base_kind', b.base_kind,
        'is_array', b.is_array, 'not_null', a.attnotnull, 'has_default', a.atthasdef,
        'identity', a.attidentity::text, 'generated', a.attgenerated::text,
        'collation', a.attcollation, 'null_frac', s.null_frac, 'n_distinct', s.n_distinct,
        'avg_width', s.avg_width) ORDER BY a.attnum)
     FROM cols a JOIN base b ON b.typid = a.atttypid
     LEFT JOIN pg_stats s ON s.schemaname = %s AND s.tablename = %s
          AND s.attname = a.attname AND s.inherited = (rel.relkind = 'p')),
    (SELECT json_agg(json_build_object(
        'primary', i.indisprimary, 'unique', i.indisunique,
        'columns', ARRAY(SELECT a.attname
                         FROM unnest((i.indkey::int2[])[0:i.indnkeyatts - 1])
                              WITH ORDINALITY k(attnum, ord)
                         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                         ORDER BY k.ord)))
     FROM pg_index i
     WHERE i.indrelid = rel.oid AND i.indisvalid AND i.indpred IS NULL
       AND i.indexprs IS NULL),
    (SELECT json_build_array(datcollate, datctype) FROM pg_database
     WHERE datname = current_database())
FROM rel
"""


def _json(value: object) -> Any:
    if value is None or not isinstance(value, str):
        return value
    return json.loads(value)


def _column(item: dict) -> RemoteColumn:
    return RemoteColumn(
        name=item["name"], attnum=int(item["attnum"]), type_oid=int(item["type_oid"]),
        type_name=item["type_name"], base_oid=int(item["base_oid"]),
        base_name=item["base_name"],
        base_kind=item["base_kind"], is_array=item["is_array"], not_null=item["not_null"],
        has_default=item["has_default"], identity=item["identity"] or "",
        generated=item["generated"] or "", collation=int(item["collation"]),
        null_frac=item["null_frac"], n_distinct=item["n_distinct"],
        avg_width=item["avg_width"])


def load_remote_table(conn: RemoteConnection, schema: str, name: str) -> RemoteTable:
    """The remote relation ``schema.name``; UndefinedTable if there is none."""
    rows = conn.guarded_query(_METADATA_SQL, (schema, name, schema, name))
    if not rows:
        raise UndefinedTable(
            f'remote table "{schema}"."{name}" does not exist',
            hint="Check the schema_name and table_name options of the foreign table.")
    relkind, reltuples, relpages, columns_json, indexes_json, collation_json = rows[0]
    columns = {c.name: c for c in map(_column, _json(columns_json) or [])}
    primary_key = None
    unique_keys: list[tuple[str, ...]] = []
    indexed: list[str] = []
    for index in _json(indexes_json) or []:
        key = tuple(index["columns"])
        if not key:
            continue
        if index["primary"]:
            primary_key = key
        if index["unique"]:
            if key not in unique_keys:
                unique_keys.append(key)
        elif key[0] not in indexed:
            indexed.append(key[0])
    collate, ctype = _json(collation_json) or ("", "")
    return RemoteTable(schema=schema, name=name, relkind=relkind, reltuples=reltuples,
                       relpages=relpages, columns=columns, primary_key=primary_key,
                       unique_keys=unique_keys, indexed=indexed,
                       collation=(collate, ctype))
