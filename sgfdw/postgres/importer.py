"""IMPORT FOREIGN SCHEMA: the remote schema's relations as TableDefinitions.

Imported: tables, views, materialized views, foreign tables and partitioned tables;
partitions only when LIMIT TO names them (their parent already gives their rows), as
postgres_fdw does. LIMIT TO / EXCEPT are applied remotely, so unlisted relations are
not even described.

Column types are the remote ``format_type`` text (``numeric(10,2)``,
``character varying(12)``, ``timestamp with time zone``, ``integer[]``, ...). A type
that is not built in (an enum, a domain, an extension's or a composite type) is used
under its remote schema-qualified name when a type of that name exists locally;
otherwise a domain becomes its base type (the values are the same), and any other type
becomes ``text`` (its values arrive as their text output, which a text column holds
exactly; a local type of the same name would have to be created by hand first). Arrays
follow their element type.

``import_not_null`` (default true) copies NOT NULL; ``import_default`` (default false)
copies DEFAULT expressions, which may name remote objects (a sequence of a serial
column) that do not exist locally -- as with postgres_fdw, the import then fails.
A default that is not a safe SQL fragment is skipped with a notice. Generated columns
are imported as plain columns. Table options: ``schema_name`` and ``table_name``.
"""
from __future__ import annotations

from typing import Sequence

from multicorn import ColumnDefinition, TableDefinition
from multicorn.utils import INFO, log_to_postgres

from sgfdw.errors import FdwError

from .connection import RemoteConnection
from .options import ImportOptions
from .remote_table import FIRST_NORMAL_OID

__all__ = ["import_tables"]

_SCHEMA_SQL = "SELECT 1 FROM pg_namespace WHERE nspname = %s"

_COLUMNS_SQL = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.atttypid,
       a.attnotnull::int,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = %s AND c.relkind IN ('r', 'v', 'm', 'f', 'p')
  AND (NOT c.relispartition OR c.relname = ANY (%s::text[]))
  AND {restriction}
ORDER BY c.relname, a.attnum
"""

# Every type reachable from the columns' types through array elements and domain bases.
_TYPES_SQL = """
WITH RECURSIVE ty(oid) AS (
    SELECT unnest(%s::oid[])
    UNION
    SELECT CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.typelem END
    FROM ty JOIN pg_type t ON t.oid = ty.oid
    WHERE t.typtype = 'd' OR t.typcategory = 'A'
)
SELECT t.oid, t.typtype::text, (t.typcategory = 'A')::int, t.typelem, t.typbasetype,
       format_type(t.oid, NULL),
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END
FROM ty JOIN pg_type t ON t.oid = ty.oid
"""


class _TypeMapper:
    """Local type text for remote column types that are not built in."""

    def __init__(self, conn: RemoteConnection, oids: set[int]) -> None:
        # oid -> (typtype, is array, element oid, domain base oid, name, domain base text)
        self.types: dict[int, tuple[str, bool, int, int, str, str | None]] = {}
        if oids:
            for oid, kind, is_array, elem, base, name, base_text in conn.query(
                    _TYPES_SQL, (sorted(oids),)):
                self.types[int(oid)] = (kind, is_array == 1, int(elem), int(base), name,
                                        base_text)
        self._local: dict[str, bool] = {}

    def _exists_locally(self, name: str) -> bool:
        if name not in self._local:
            from sgfdw import pg

            exists = False
            if pg.in_backend():
                exists = bool(pg.execute("SELECT to_regtype($1) IS NOT NULL", [name])[0][0])
            self._local[name] = exists
        return self._local[name]

    def map(self, oid: int, remote_text: str) -> str:
        """The local type for a remote type (remote_text: its format_type text)."""
        if oid < FIRST_NORMAL_OID or oid not in self.types:
            return remote_text
        kind, is_array, elem, base, name, base_text = self.types[oid]
        if self._exists_locally(remote_text):
            return remote_text
        if is_array and elem in self.types:
            return self.map(elem, self.types[elem][4]) + "[]"
        if kind == "d" and base_text is not None:
            return self.map(base, base_text)
        return "text"


def _restriction(restriction_type: str | None) -> str:
    if restriction_type == "limit":
        return "c.relname = ANY (%s::text[])"
    if restriction_type == "except":
        return "c.relname <> ALL (%s::text[])"
    return "TRUE"


def import_tables(conn: RemoteConnection, schema: str, options: ImportOptions,
                  restriction_type: str | None, restricts: Sequence[str]
                  ) -> list[TableDefinition]:
    if not conn.query(_SCHEMA_SQL, (schema,)):
        raise FdwError(f'schema "{schema}" is not present on foreign '
                       f'{conn.params.describe()}', sqlstate="HV00N")
    names = list(restricts or [])
    partitions = names if restriction_type == "limit" else []
    params: tuple = (schema, partitions, names) if restriction_type else (schema, partitions)
    rows = conn.query(_COLUMNS_SQL.format(restriction=_restriction(restriction_type)), params)
    mapper = _TypeMapper(conn, {int(r[3]) for r in rows
                                if r[3] is not None and int(r[3]) >= FIRST_NORMAL_OID})

    tables: dict[str, TableDefinition] = {}
    for relname, attname, type_text, type_oid, not_null, default in rows:
        table = tables.get(relname)
        if table is None:
            table = tables[relname] = TableDefinition(
                relname, schema=schema,
                options={"schema_name": schema, "table_name": relname})
        if attname is None:
            continue    # a relation without columns
        type_name = mapper.map(int(type_oid), type_text)
        column = ColumnDefinition(
            attname, type_name=type_name,
            nullable=not (options.import_not_null and not_null == 1),
            default=default if options.import_default else None)
        table.columns.append(_checked(column, relname))
    return list(tables.values())


def _checked(column: ColumnDefinition, relname: str) -> ColumnDefinition:
    """The column, without a default (or with type text) that cannot be emitted safely."""
    try:
        column.to_statement()
        return column
    except ValueError:
        pass
    if column.default is not None:
        log_to_postgres(f'default of column "{column.column_name}" of remote table '
                        f'"{relname}" is not imported: {column.default}', INFO)
        column.default = None
        try:
            column.to_statement()
            return column
        except ValueError:
            pass
    log_to_postgres(f'type of column "{column.column_name}" of remote table "{relname}" is '
                    f'imported as text: {column.type_name}', INFO)
    column.type_name = "text"
    return column
