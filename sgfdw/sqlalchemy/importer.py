"""IMPORT FOREIGN SCHEMA for SqlAlchemyFdw: tables and views through sqlalchemy.inspect.

``IMPORT FOREIGN SCHEMA remote FROM SERVER s INTO local`` describes every table and view
of ``remote`` (``"default"`` means the connection's default schema, e.g. SQLite's
``main``), or those of LIMIT TO / not in EXCEPT. Each becomes a foreign table with the
remote name, columns typed by sgfdw.sqlalchemy.pg_types, NOT NULL where the source
says so, and options ``tablename`` (and ``schema`` unless it is the default one).

IMPORT options: ``import_views`` ('true' by default) -- 'false' imports tables only.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from multicorn import ColumnDefinition, TableDefinition
from multicorn.utils import INFO, log_to_postgres
from sgfdw.errors import FdwError
from sgfdw.sqlalchemy import engines, pg_types
from sgfdw.remote.options import parse_bool
from sgfdw.sqlalchemy.options import parse_options

__all__ = ["import_schema", "DEFAULT_SCHEMA_NAMES"]

# Remote schema names meaning "the connection's default schema".
DEFAULT_SCHEMA_NAMES = ("default", "")


def _sqlite_declared_types(conn: Connection, table: str, schema: str | None) -> dict[str, str]:
    """Declared column types of a SQLite table (pragma_table_info, a table function)."""
    info = sa.func.pragma_table_info(table, schema or "main").table_valued("name", "type")
    rows = conn.execute(sa.select(info.c.name, info.c.type)).all()
    return {name: declared or "" for name, declared in rows}


def _resolve_schema(inspector: sa.Inspector, schema: str) -> str | None:
    if schema in inspector.get_schema_names():
        return schema
    if schema in DEFAULT_SCHEMA_NAMES:
        return None
    raise FdwError(f'remote schema "{schema}" does not exist', sqlstate="3F000",
                   hint="Name one of: " + ", ".join(inspector.get_schema_names())
                        + ' (or "default").')


def _describe(conn: Connection, inspector: sa.Inspector, name: str, schema: str | None,
              fallbacks: list[str]) -> TableDefinition:
    dialect = conn.dialect.name
    declared = _sqlite_declared_types(conn, name, schema) if dialect == "sqlite" else {}
    columns = []
    for info in inspector.get_columns(name, schema=schema):
        if dialect == "sqlite":
            type_name, fallback = pg_types.pg_type_for_declared(declared.get(info["name"], ""),
                                                                info["type"])
        else:
            type_name, fallback = pg_types.pg_type_for(info["type"], dialect)
        if fallback:
            remote_type = declared.get(info["name"]) or info["type"]
            fallbacks.append(f'{name}.{info["name"]} ({remote_type})')
        columns.append(ColumnDefinition(info["name"], type_name=type_name,
                                        nullable=bool(info.get("nullable", True))))
    options = {"tablename": name}
    if schema is not None:
        options["schema"] = schema
    return TableDefinition(name, schema=schema, columns=columns, options=options)


def _selected(names: Sequence[str], restriction_type: str | None,
              restricts: Sequence[str]) -> list[str]:
    if restriction_type == "limit":
        wanted = set(restricts)
        return [name for name in names if name in wanted]
    if restriction_type == "except":
        unwanted = set(restricts)
        return [name for name in names if name not in unwanted]
    return list(names)


def import_schema(schema: str, srv_options: Mapping[str, str], options: Mapping[str, str],
                  restriction_type: str | None,
                  restricts: Sequence[str]) -> list[TableDefinition]:
    # srv_options: the server's options merged with the user mapping's (credentials).
    settings = parse_options(srv_options, need_table=False)
    include_views = parse_bool(options, "import_views", True)
    source = engines.source_for_options(srv_options, settings)
    with source.errors(connecting=True):
        conn = source.engine.connect()
    fallbacks: list[str] = []
    try:
        with source.errors():
            inspector = sa.inspect(conn)
            remote_schema = _resolve_schema(inspector, schema)
            names = list(inspector.get_table_names(schema=remote_schema))
            if include_views:
                names += [v for v in inspector.get_view_names(schema=remote_schema)
                          if v not in names]
                try:
                    names += [v for v in inspector.get_materialized_view_names(
                        schema=remote_schema) if v not in names]
                except NotImplementedError:
                    pass
            tables = [_describe(conn, inspector, name, remote_schema, fallbacks)
                      for name in _selected(names, restriction_type, restricts)]
    finally:
        conn.close()
    if fallbacks:
        log_to_postgres("columns imported as text (their remote type has no PostgreSQL "
                        "equivalent): " + ", ".join(fallbacks), INFO)
    return tables
