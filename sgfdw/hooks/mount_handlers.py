"""Mount handlers: mounting a foreign database into a local schema.

The API of splitgraph.hooks.mount_handlers: `mount(mountpoint, mount_handler,
handler_kwargs, overwrite=True, tables=None)` and a registry of handlers by name. A
mount creates, in the caller's transaction (through sgfdw.pg), a server whose wrapper is
the handler's FDW class, a user mapping holding the credentials (never server options),
the schema `mountpoint`, and its foreign tables: all of the remote schema (tables=None),
some of it (a list: IMPORT FOREIGN SCHEMA ... LIMIT TO; a name the remote lacks is an
error) or tables described explicitly (a dict {table: {column: type}}, or
{table: [[column, type], ...]} to keep the column order that jsonb does not; or
Splitgraph's TableInfo {table: {"schema": <columns>, "options": {...}}} or
{table: [<columns>, {options}]}, columns also as TableColumn lists [ordinal, name,
type, is_pk, comment] or {"name", "type"} objects, an empty schema meaning "import it,
with these options").

The registry knows no particular wrapper: each wrapper exports its own handler (e.g.
sgfdw.postgres.MOUNT_HANDLER, in sgfdw/postgres/mount.py), registered here by the dotted
name of that object (SEED_HANDLERS) and imported when first used; more come from
register_mount_handler() and from the INI file that SGFDW_CONFIG names, read when the
registry is first used (not when this module is imported).

Each mount is recorded in sgfdw.mounts (mountpoint, server, handler, tables created):
mount and unmount only ever drop what a recorded mount created. A schema that exists
and is not a mount is never replaced, whatever `overwrite` says.

DDL cannot take bound parameters, so every name and option value is quoted by the
server's own quote_ident / quote_literal.
"""
from __future__ import annotations

import configparser
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

from sgfdw import pg
from sgfdw.errors import FdwError, OptionError, UndefinedTable
from sgfdw.hooks.plugins import load_plugin

__all__ = ["MountHandler", "register_mount_handler", "get_mount_handler",
           "get_mount_handlers", "load_mount_handlers_config", "generic_handler",
           "text_options", "mount", "mount_postgres", "unmount", "SEED_HANDLERS",
           "CONFIG_VARIABLE"]

Tables = (Sequence[str] | Mapping[str, Mapping[str, Any] | Sequence[Sequence[str]]]
          | None)


@dataclass(frozen=True)
class MountHandler:
    """How a kind of data source becomes a server, a user mapping and tables.

    wrapper: the FDW class ('module.Class'); the functions split the handler's keyword
    arguments into server options, user mapping options (credentials), the remote schema
    and the options of one explicitly described table. keywords: the keyword arguments
    the handler understands (None: any, for a class whose options are not known here);
    others are refused rather than silently dropped.
    """

    name: str
    wrapper: str
    server_options: Callable[[Mapping[str, Any]], dict[str, str]]
    user_options: Callable[[Mapping[str, Any]], dict[str, str]]
    remote_schema: Callable[[Mapping[str, Any]], str | None]
    table_options: Callable[[str, Mapping[str, Any]], dict[str, str]]
    description: str = field(default="")
    keywords: frozenset[str] | None = field(default=None)

    def check_keywords(self, kwargs: Mapping[str, Any]) -> None:
        if self.keywords is None:
            return
        unknown = sorted(set(kwargs) - self.keywords)
        if unknown:
            names = ", ".join(f'"{name}"' for name in unknown)
            raise OptionError(f'unknown option {names} for mount handler "{self.name}"',
                              hint="Valid options: " + ", ".join(sorted(self.keywords)) + ".")


def text_options(values: Mapping[str, Any]) -> dict[str, str]:
    """Option values as text, the absent (None) ones left out: for a handler's functions."""
    return {key: str(value) for key, value in values.items() if value is not None}


# The handlers sgfdw ships, each exported by its wrapper's package beside the wrapper
# (which alone knows where its options belong), by the dotted name of the MountHandler.
# Imported when first asked for: a wrapper's dependencies (SQLAlchemy) may be missing.
SEED_HANDLERS = {
    "postgres_fdw": "sgfdw.postgres.MOUNT_HANDLER",
    "sqlalchemy": "sgfdw.sqlalchemy.MOUNT_HANDLER",
}
# The environment variable naming an INI file of more handlers (see
# load_mount_handlers_config), read when the registry is first used.
CONFIG_VARIABLE = "SGFDW_CONFIG"

# name -> a MountHandler, or the dotted name of one not imported yet. None until first
# use, when the seeds and the configuration file fill it.
_HANDLERS: dict[str, MountHandler | str] | None = None


def _registry() -> dict[str, MountHandler | str]:
    global _HANDLERS
    if _HANDLERS is None:
        handlers: dict[str, MountHandler | str] = dict(SEED_HANDLERS)
        path = os.environ.get(CONFIG_VARIABLE)
        if path:
            handlers.update(_config_handlers(path))
        _HANDLERS = handlers
    return _HANDLERS


def register_mount_handler(name: str, handler: MountHandler) -> None:
    """Makes a handler available to mount() under name (replacing one of that name)."""
    if not name:
        raise OptionError("a mount handler needs a name")
    _registry()[name.lower()] = handler


def get_mount_handlers() -> list[str]:
    return sorted(_registry())


def get_mount_handler(name: str) -> MountHandler:
    registry = _registry()
    entry = registry.get(name.lower())
    if entry is None:
        raise OptionError(f"unknown mount handler {name!r}; known handlers: "
                          f"{', '.join(get_mount_handlers())}")
    if isinstance(entry, str):
        entry = registry[name.lower()] = load_plugin("mount handler", name, entry,
                                                      MountHandler, instance=True)
    return entry


def load_mount_handlers_config(path: str) -> list[str]:
    """Registers the handlers of an INI file's [mount_handlers] section, each line
    `name = package.module.Class` naming a Multicorn FDW class whose options are the
    handler's keyword arguments (credentials `user`/`password` go to the user mapping).
    Returns the names registered."""
    handlers = _config_handlers(path)
    for name, handler in handlers.items():
        register_mount_handler(name, handler)
    return list(handlers)


def _config_handlers(path: str) -> dict[str, MountHandler]:
    parser = configparser.ConfigParser()
    if not parser.read(path):
        raise OptionError(f"cannot read mount handler configuration {path!r}")
    section = parser.items("mount_handlers") if parser.has_section("mount_handlers") else []
    return {name.lower(): generic_handler(name, wrapper.strip()) for name, wrapper in section}


def generic_handler(name: str, wrapper: str) -> MountHandler:
    """A handler for an FDW class taking its options straight from the kwargs (which
    the class's validate_options, if any, checks when the server is created)."""
    credentials = ("user", "username", "password")

    return MountHandler(
        name, wrapper,
        lambda kwargs: text_options({k: v for k, v in kwargs.items() if k not in credentials}),
        lambda kwargs: text_options({"user": kwargs.get("user", kwargs.get("username")),
                                     "password": kwargs.get("password")}),
        lambda kwargs: kwargs.get("remote_schema") or kwargs.get("schema") or "default",
        lambda table, kwargs: {"table_name": table},
        f"FDW class {wrapper}")


# ---------------------------------------------------------------- the tables argument

@dataclass(frozen=True)
class TableSpec:
    """One table of a tables dict: its columns (None: described by the remote, that is
    imported) and table options added to the handler's."""

    columns: list[tuple[str, str]] | None
    options: dict[str, str]


def _column(entry: Any) -> tuple[Any, Any]:
    """(name, type) of one column of a list: [name, type], Splitgraph's TableColumn
    [ordinal, name, type, is_pk(, comment)] or {"name": ..., "type": ...}."""
    if isinstance(entry, Mapping):
        return entry.get("name"), entry.get("type", entry.get("pg_type"))
    if isinstance(entry, Sequence) and len(entry) >= 4 and isinstance(entry[0], int):
        return entry[1], entry[2]
    name, column_type = entry
    return name, column_type


def _columns(table: str, schema: Any) -> list[tuple[str, str]]:
    # jsonb keeps no key order: a list of columns keeps the order.
    try:
        columns = (list(schema.items()) if isinstance(schema, Mapping)
                   else [_column(entry) for entry in schema])
    except (TypeError, ValueError):
        columns = []
    if not columns or not all(isinstance(c, str) and isinstance(t, str) for c, t in columns):
        raise OptionError(f'invalid columns for table "{table}" in tables',
                          hint='Give {"column": "type", ...} or [["column", "type"], ...].')
    return columns


def _table_info(value: Any) -> tuple[Any, Any] | None:
    """(schema, options) of Splitgraph's TableInfo -- {"schema": ..., "options": ...}
    or its tuple form [schema, options] -- else None: value lists the columns. A
    {column: type} dict with columns of those names is told apart by its string types,
    a list of [column, type] pairs by its pairs' second items."""
    if isinstance(value, Mapping):
        if value and set(value) <= {"schema", "options"} and not any(
                isinstance(v, str) for v in value.values()):
            return value.get("schema"), value.get("options")
    elif (isinstance(value, Sequence) and len(value) == 2
          and isinstance(value[0], Sequence) and not isinstance(value[0], str)
          and isinstance(value[1], Mapping)):
        return value[0], value[1]
    return None


def _table_spec(table: str, value: Any) -> TableSpec:
    info = _table_info(value)
    if info is None:
        return TableSpec(_columns(table, value), {})
    schema, options = info
    if not isinstance(options or {}, Mapping):
        raise OptionError(f'invalid options for table "{table}" in tables',
                          hint='Give {"name": "value", ...}.')
    return TableSpec(_columns(table, schema) if schema else None,
                     text_options(options or {}))


def _table_specs(tables: Tables) -> list[str] | dict[str, TableSpec] | None:
    if tables is None:
        return None
    if isinstance(tables, Mapping):
        return {table: _table_spec(table, value) for table, value in tables.items()}
    if isinstance(tables, str) or not all(isinstance(t, str) for t in tables):
        raise OptionError("invalid tables: expected a list of table names or a dict",
                          hint='E.g. ["t1", "t2"] or {"t1": {"id": "integer"}}.')
    return list(tables)


# ---------------------------------------------------------------- SQL pieces

def _options_clause(options: Mapping[str, str]) -> str:
    if not options:
        return ""
    return " OPTIONS (" + ", ".join(
        f"{pg.quote_ident(key)} {pg.quote_literal(value)}"
        for key, value in sorted(options.items())) + ")"


def server_name(mountpoint: str) -> str:
    return f"{mountpoint}_server"


def _schema_exists(schema: str) -> bool:
    return bool(pg.execute("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1",
                           [schema]))


def _foreign_tables(schema: str, names: Iterable[str] | None = None) -> list[str]:
    """The foreign tables of schema (those of names only, when given), sorted."""
    query = ("SELECT c.relname::text FROM pg_catalog.pg_class c "
             "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
             "WHERE n.nspname = $1 AND c.relkind = 'f'")
    params: list[Any] = [schema]
    if names is not None:
        query += " AND c.relname = ANY($2::text[])"
        params.append(list(names))
    return [row[0] for row in pg.execute(query + " ORDER BY 1", params)]


def _mount_record(mountpoint: str) -> tuple[str, list[str]] | None:
    """(server, tables) of the mount at mountpoint, locked until the transaction ends."""
    if pg.execute("SELECT pg_catalog.to_regclass('sgfdw.mounts')")[0][0] is None:
        raise FdwError("the installed sgfdw extension predates mount records",
                       sqlstate="55000", hint="Run ALTER EXTENSION sgfdw UPDATE.")
    rows = pg.execute("SELECT server, tables FROM sgfdw.mounts WHERE mountpoint = $1 "
                      "FOR UPDATE", [mountpoint])
    return (rows[0][0], list(rows[0][1])) if rows else None


# ---------------------------------------------------------------- mount / unmount

def unmount(mountpoint: str) -> None:
    """Drops what mount() made for mountpoint: its foreign tables, the schema, the server
    and its user mappings. Anything else -- a table added to the schema later, a view
    or a foreign table elsewhere over the mount -- stops it (PostgreSQL's dependency
    error) and nothing is dropped. A mountpoint that is not a mount is an error."""
    record = _mount_record(mountpoint)
    if record is None:
        raise FdwError(f'"{mountpoint}" is not a mount', sqlstate="42704",
                       hint="sgfdw.mounts lists the mounts; unmount drops nothing else.")
    server, tables = record
    schema = pg.quote_ident(mountpoint)
    for table in _foreign_tables(mountpoint, tables):
        pg.execute(f"DROP FOREIGN TABLE {schema}.{pg.quote_ident(table)}")
    if _schema_exists(mountpoint):
        pg.execute(f"DROP SCHEMA {schema}")
    if pg.execute("SELECT 1 FROM pg_catalog.pg_foreign_server WHERE srvname = $1", [server]):
        for (user,) in pg.execute("SELECT CASE WHEN umuser = 0 THEN NULL ELSE usename END "
                                  "FROM pg_catalog.pg_user_mappings WHERE srvname = $1",
                                  [server]):
            role = "PUBLIC" if user is None else pg.quote_ident(user)
            pg.execute(f"DROP USER MAPPING FOR {role} SERVER {pg.quote_ident(server)}")
        pg.execute(f"DROP SERVER {pg.quote_ident(server)}")
    pg.execute("DELETE FROM sgfdw.mounts WHERE mountpoint = $1", [mountpoint])


def _make_room(mountpoint: str, overwrite: bool) -> None:
    """Unmounts a previous mount at mountpoint (overwrite), never anything else."""
    if _mount_record(mountpoint) is not None:
        if not overwrite:
            raise FdwError(f'"{mountpoint}" is already mounted', sqlstate="42P06",
                           hint="Pass overwrite => true to replace that mount.")
        unmount(mountpoint)
    elif _schema_exists(mountpoint):
        raise FdwError(f'schema "{mountpoint}" already exists and is not a mount',
                       sqlstate="42P06",
                       hint="Mount somewhere else; a mount never replaces a schema it "
                            "did not create.")


def _set_table_options(schema: str, table: str, options: Mapping[str, str]) -> None:
    if not options:
        return
    rows = pg.execute("SELECT t.ftoptions FROM pg_catalog.pg_foreign_table t "
                      "JOIN pg_catalog.pg_class c ON c.oid = t.ftrelid "
                      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                      "WHERE n.nspname = $1 AND c.relname = $2", [schema, table])
    present = {item.split("=", 1)[0] for item in (rows[0][0] or [])} if rows else set()
    changes = ", ".join(f"{'SET' if key in present else 'ADD'} {pg.quote_ident(key)} "
                        f"{pg.quote_literal(value)}" for key, value in sorted(options.items()))
    pg.execute(f"ALTER FOREIGN TABLE {pg.quote_ident(schema)}.{pg.quote_ident(table)} "
               f"OPTIONS ({changes})")


def _import(handler: MountHandler, kwargs: Mapping[str, Any], mountpoint: str, server: str,
            names: list[str] | None) -> None:
    """IMPORT FOREIGN SCHEMA of the remote schema (only names, when given: each must
    exist remotely)."""
    remote_schema = handler.remote_schema(kwargs) or "public"
    restriction = ""
    if names is not None:
        restriction = " LIMIT TO (" + ", ".join(pg.quote_ident(t) for t in names) + ")"
    pg.execute(f"IMPORT FOREIGN SCHEMA {pg.quote_ident(remote_schema)}{restriction} "
               f"FROM SERVER {pg.quote_ident(server)} INTO {pg.quote_ident(mountpoint)}")
    if names is not None:
        missing = sorted(set(names) - set(_foreign_tables(mountpoint, names)))
        if missing:
            listed = ", ".join(f'"{name}"' for name in missing)
            raise UndefinedTable(f"remote table {listed} does not exist in remote schema "
                                 f'"{remote_schema}"',
                                 hint="Check the names in tables (they are case-sensitive).")


def mount(mountpoint: str, mount_handler: str, handler_kwargs: Mapping[str, Any],
          overwrite: bool = True, tables: Tables = None) -> list[str]:
    """Mounts; returns the names of the foreign tables created, sorted."""
    handler = get_mount_handler(mount_handler)
    kwargs = dict(handler_kwargs or {})
    handler.check_keywords(kwargs)
    specs = _table_specs(tables)
    _make_room(mountpoint, overwrite)

    server = server_name(mountpoint)
    schema = pg.quote_ident(mountpoint)
    server_options = {"wrapper": handler.wrapper, **handler.server_options(kwargs)}
    pg.execute(f"CREATE SERVER {pg.quote_ident(server)} FOREIGN DATA WRAPPER sgfdw"
               f"{_options_clause(server_options)}")
    pg.execute(f"CREATE USER MAPPING FOR CURRENT_USER SERVER {pg.quote_ident(server)}"
               f"{_options_clause(handler.user_options(kwargs))}")
    pg.execute(f"CREATE SCHEMA {schema}")

    if isinstance(specs, dict):
        imported = [table for table, spec in specs.items() if spec.columns is None]
        for table, spec in specs.items():
            if spec.columns is None:
                continue
            column_list = ", ".join(f"{pg.quote_ident(column)} {_type_name(column_type)}"
                                    for column, column_type in spec.columns)
            options = {**handler.table_options(table, kwargs), **spec.options}
            pg.execute(f"CREATE FOREIGN TABLE {schema}.{pg.quote_ident(table)} "
                       f"({column_list}) SERVER {pg.quote_ident(server)}"
                       f"{_options_clause(options)}")
        if imported:
            _import(handler, kwargs, mountpoint, server, imported)
            for table in imported:
                _set_table_options(mountpoint, table, specs[table].options)
    elif specs is None or specs:
        _import(handler, kwargs, mountpoint, server, specs)

    created = _foreign_tables(mountpoint)
    pg.execute("INSERT INTO sgfdw.mounts (mountpoint, server, handler, tables) "
               "VALUES ($1, $2, $3, $4::text[])", [mountpoint, server, handler.name, created])
    return created


_TYPE_NAME = re.compile(r'^[\w\s,()\[\]".]+$')


def _type_name(type_name: str) -> str:
    """A column type from a tables dict. Only type-name characters, and the server must
    parse it as a type, so it cannot carry anything else into the DDL."""
    if not _TYPE_NAME.match(type_name) or "--" in type_name:
        raise OptionError(f"invalid column type {type_name!r}")
    pg.execute("SELECT $1::text::regtype", [type_name])
    return type_name


def mount_postgres(mountpoint: str, server: str | None = None, port: int | None = None,
                   username: str | None = None, password: str | None = None,
                   dbname: str | None = None, remote_schema: str | None = None,
                   tables: Tables = None, extra_server_args: Mapping[str, Any] | None = None,
                   overwrite: bool = True) -> list[str]:
    return mount(mountpoint, "postgres_fdw",
                 {"server": server, "port": port, "username": username, "password": password,
                  "dbname": dbname, "remote_schema": remote_schema,
                  "extra_server_args": extra_server_args},
                 overwrite=overwrite, tables=tables)


def mount_from_sql(mountpoint: str, handler: str, options: Mapping[str, Any] | None,
                   overwrite: bool, tables: Tables) -> list[str]:
    """sgfdw.mount(mountpoint, handler, options jsonb, overwrite, tables jsonb)."""
    return mount(mountpoint, handler, options or {}, overwrite=overwrite, tables=tables)


def mount_postgres_from_sql(mountpoint: str, server: str, port: int, username: str,
                            password: str, dbname: str, remote_schema: str, tables: Tables,
                            extra_server_args: Mapping[str, Any] | None,
                            overwrite: bool) -> list[str]:
    """sgfdw.mount_postgres(...), arguments in the SQL function's order."""
    return mount_postgres(mountpoint, server, port, username, password, dbname,
                          remote_schema, tables, extra_server_args, overwrite)
