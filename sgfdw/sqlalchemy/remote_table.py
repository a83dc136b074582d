"""The remote table as the FDW sees it: reflected once, mapped to the local columns.

Reflection (``sqlalchemy.inspect``) gives the remote columns' types, nullability,
defaults, primary key and unique constraints. The query table built from it has one
Column per local column found remotely, keyed by the local name (so ``table.c[local]``
works whatever the remote name), typed as :mod:`sgfdw.sqlalchemy.values` decides.
A local column missing remotely is remembered and only fails a query that needs it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from multicorn import ColumnDefinition
from sgfdw.errors import FdwError
from sgfdw.remote.collation import Collation
from sgfdw.sqlalchemy import values

__all__ = ["RemoteColumn", "RemoteTable", "reflect"]


@dataclass(frozen=True)
class RemoteColumn:
    local: str                 # the foreign table's column name
    remote: str                # the source's column name
    category: str              # local category (values.local_category)
    remote_category: str
    column: sa.Column          # in RemoteTable.table, typed for queries
    typed: bool                # compares as PostgreSQL does (see values.query_type)
    nullable: bool
    generated: bool            # the source fills it when omitted (default, identity, rowid)
    writable: bool = True      # False: computed, or GENERATED ALWAYS AS IDENTITY
    #: the local column's own collation (ColumnDefinition.collation; None: the default)
    collation: str | None = None


@dataclass
class RemoteTable:
    name: str
    schema: str | None
    table: sa.Table
    columns: dict[str, RemoteColumn]              # by local name, in local order
    missing: list[str]                            # local columns not found remotely
    primary_key: tuple[str, ...] = ()             # local names ((): none usable)
    unique_keys: list[tuple[str, ...]] = field(default_factory=list)
    is_view: bool = False
    #: PostgreSQL sources: the source database's default collation (None: unknown)
    collation: Collation | None = None

    def column(self, local: str) -> RemoteColumn:
        try:
            return self.columns[local]
        except KeyError:
            raise FdwError(f'column "{local}" does not exist in remote table {self.display}',
                           sqlstate="42703",
                           hint="Set the column option column_name to the remote name.") \
                from None

    @property
    def display(self) -> str:
        return f'"{self.schema}"."{self.name}"' if self.schema else f'"{self.name}"'


def _generated(info: Mapping[str, Any], single_integer_pk: bool, dialect: str) -> bool:
    if info.get("default") is not None or info.get("identity") or info.get("computed"):
        return True
    autoincrement = info.get("autoincrement")
    if autoincrement is True:
        return True
    # SQLite: an INTEGER PRIMARY KEY is the rowid and is assigned when NULL is given.
    return dialect == "sqlite" and single_integer_pk


def reflect(conn: Connection, name: str, schema: str | None,
            local_columns: Mapping[str, ColumnDefinition]) -> RemoteTable:
    """Reflects ``schema.name`` (NoSuchTableError when it does not exist)."""
    dialect = conn.dialect
    inspector = sa.inspect(conn)
    infos = {info["name"]: info for info in inspector.get_columns(name, schema=schema)}
    try:
        is_view = name in inspector.get_view_names(schema=schema)
    except (NotImplementedError, sa.exc.SQLAlchemyError):
        is_view = False
    pk_remote = list(inspector.get_pk_constraint(name, schema=schema)
                     .get("constrained_columns") or [])
    unique_remote: list[list[str]] = []
    for getter in (inspector.get_unique_constraints, inspector.get_indexes):
        try:
            for item in getter(name, schema=schema):
                if getter is inspector.get_indexes and not item.get("unique"):
                    continue
                names = [n for n in item.get("column_names") or [] if n]
                if names and len(names) == len(item.get("column_names") or []):
                    unique_remote.append(names)
        except (NotImplementedError, sa.exc.SQLAlchemyError):
            pass  # a view, or a dialect without it: fewer path keys, nothing more

    single_integer_pk = (len(pk_remote) == 1 and
                         isinstance(infos[pk_remote[0]]["type"], sa.Integer)
                         if pk_remote and pk_remote[0] in infos else False)
    sa_columns: list[sa.Column] = []
    mapped: list[tuple[str, str, str, str, bool, Mapping[str, Any]]] = []
    missing: list[str] = []
    for local, definition in local_columns.items():
        remote = (definition.options or {}).get("column_name") or local
        info = infos.get(remote)
        if info is None:
            missing.append(local)
            continue
        category = values.local_category(definition)
        query_type, typed = values.query_type(
            category, definition.base_type_name or definition.type_name, info["type"], dialect)
        in_pk = remote in pk_remote
        generated = _generated(info, single_integer_pk and in_pk, dialect.name)
        # FetchedValue: the source fills the column when an INSERT leaves it out.
        sa_columns.append(sa.Column(remote, query_type, key=local, primary_key=in_pk,
                                    autoincrement=False,
                                    server_default=sa.FetchedValue() if generated else None,
                                    nullable=bool(info.get("nullable", True))))
        mapped.append((local, remote, category, values.remote_category(info["type"]), typed,
                       info))
    table = sa.Table(name, sa.MetaData(), *sa_columns, schema=schema)
    columns = {
        local: RemoteColumn(local, remote, category, remote_category, table.c[local], typed,
                            bool(info.get("nullable", True)),
                            _generated(info, single_integer_pk and remote in pk_remote,
                                       dialect.name),
                            not (info.get("computed") or
                                 (info.get("identity") or {}).get("always")),
                            local_columns[local].collation)
        for local, remote, category, remote_category, typed, info in mapped
    }
    by_remote = {column.remote: column.local for column in columns.values()}

    def local_key(remote_names: list[str]) -> tuple[str, ...]:
        if all(n in by_remote for n in remote_names):
            return tuple(by_remote[n] for n in remote_names)
        return ()

    primary_key = local_key(pk_remote) if pk_remote else ()
    unique_keys = [key for key in (local_key(u) for u in unique_remote) if key]
    return RemoteTable(name, schema, table, columns, missing, primary_key, unique_keys,
                       is_view, _database_collation(conn))


def _database_collation(conn: Connection) -> Collation | None:
    """A PostgreSQL source database's default collation, named as
    sgfdw.remote.collation names the local one (another provider's as
    ``provider:locale``, equal to no libc name)."""
    if conn.dialect.name != "postgresql":
        return None
    database = sa.table("pg_database", sa.column("datname"), sa.column("datcollate"),
                        sa.column("datctype"), sa.column("datlocprovider"),
                        sa.column("daticulocale"), sa.column("datlocale"),
                        schema="pg_catalog")
    version = conn.dialect.server_version_info or (0,)
    collate: sa.ColumnElement = database.c.datcollate
    ctype: sa.ColumnElement = database.c.datctype
    if version >= (15,):
        locale = database.c.datlocale if version >= (17,) else database.c.daticulocale
        provider = database.c.datlocprovider
        named = sa.func.concat(sa.case((provider == "i", "icu"), else_="builtin"), ":", locale)
        collate = sa.case((provider == "c", sa.cast(collate, sa.Text)), else_=named)
        ctype = sa.case((provider == "c", sa.cast(ctype, sa.Text)), else_=named)
    row = conn.execute(sa.select(collate, ctype).where(
        database.c.datname == sa.func.current_database())).first()
    return Collation(row[0], row[1]) if row else None
