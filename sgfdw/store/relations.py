"""What the catalogs say about a relation: its columns, their types, its primary key.

Relations are named by OID once resolved, so no name is ever parsed twice; a name
given by a user is resolved by the server (regclass), quoting and search_path included.
"""
from __future__ import annotations

from sgfdw import pg
from sgfdw.store.types import Column, TableSchema, check_schema

__all__ = ["relation_oid", "table_schema", "qualified_name", "table_oid"]


def relation_oid(name: str) -> int:
    """The OID of a relation named as in SQL (42P01 if there is none)."""
    return pg.execute("SELECT $1::text::regclass::oid::int8", [name])[0][0]


def table_oid(schema: str, table: str) -> int | None:
    rows = pg.execute("SELECT c.oid::int8 FROM pg_class c JOIN pg_namespace n "
                      "ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
                      [schema, table])
    return rows[0][0] if rows else None


def qualified_name(oid: int) -> str:
    """schema.table, both quoted by the server."""
    return pg.execute("SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c "
                      "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::oid",
                      [oid])[0][0]


def table_schema(oid: int, keep_primary_key: bool = True) -> TableSchema:
    """The relation's columns (in order) and primary key, checked for the store."""
    columns = tuple(Column(*row) for row in pg.execute(
        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), t.typname::text "
        "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
        "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum", [oid]))
    primary_key = tuple(row[0] for row in pg.execute(
        "SELECT a.attname::text FROM pg_index i, unnest(i.indkey) WITH ORDINALITY "
        "AS k(attnum, position) JOIN pg_attribute a ON a.attnum = k.attnum "
        "WHERE i.indrelid = $1::oid AND i.indisprimary AND a.attrelid = i.indrelid "
        "ORDER BY k.position", [oid])) if keep_primary_key else ()
    schema = TableSchema(columns, primary_key)
    check_schema(schema)
    return schema
