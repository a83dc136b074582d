"""Mount handlers: mounting a foreign database into a local schema.

The API of splitgraph.hooks.mount_handlers: `mount(mountpoint, mount_handler,
handler_kwargs, overwrite=True, tables=None)` and a registry of handlers by name. A
mount creates, in the caller's transaction (through sgfdw.pg), a server whose wrapper is
the handler's FDW class, a user mapping holding the credentials (never server options),
the schema `mountpoint`, and its foreign tables: all of the remote schema (tables=None),
some of it (a list: IMPORT FOREIGN SCHEMA ... LIMIT TO) or tables described explicitly
(a dict {table: {column: type}}, or {table: [[column, type], ...]} to keep the
column order that jsonb does not: CREATE FOREIGN TABLE).

DDL cannot take bound parameters, so every name and option value is quoted by the
server's own quote_ident / quote_literal.
"""
from __future__ import annotations

import configparser
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from sgfdw import pg
from sgfdw.errors import FdwError, OptionError

__all__ = ["MountHandler", "register_mount_handler", "get_mount_handler",
           "get_mount_handlers", "load_mount_handlers_config", "mount", "mount_postgres",
           "unmount"]

Tables = (Sequence[str] | Mapping[str, Mapping[str, str] | Sequence[tuple[str, str]]]
          | None)


@dataclass(frozen=True)
class MountHandler:
    """How a kind of data source becomes a server, a user mapping and tables.

    wrapper: the FDW class ('module.Class'); the functions split the handler's keyword
    arguments into server options, user mapping options (credentials), the remote schema
    and the options of one explicitly described table.
    """

    name: str
    wrapper: str
    server_options: Callable[[Mapping[str, Any]], dict[str, str]]
    user_options: Callable[[Mapping[str, Any]], dict[str, str]]
    remote_schema: Callable[[Mapping[str, Any]], str | None]
    table_options: Callable[[str, Mapping[str, Any]], dict[str, str]]
    description: str = field(default="")


def _text_options(values: Mapping[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in values.items() if value is not None}


def _postgres_handler() -> MountHandler:
    def server_options(kwargs: Mapping[str, Any]) -> dict[str, str]:
        options = {"host": kwargs.get("server", kwargs.get("host")),
                   "port": kwargs.get("port"), "dbname": kwargs.get("dbname")}
        options.update(kwargs.get("extra_server_args") or {})
        return _text_options(options)

    def user_options(kwargs: Mapping[str, Any]) -> dict[str, str]:
        return _text_options({"user": kwargs.get("username", kwargs.get("user")),
                              "password": kwargs.get("password")})

    def table_options(table: str, kwargs: Mapping[str, Any]) -> dict[str, str]:
        return _text_options({"schema_name": kwargs.get("remote_schema") or "public",
                              "table_name": table})

    return MountHandler("postgres_fdw", "sgfdw.postgres.PostgresFdw", server_options,
                        user_options, lambda kwargs: kwargs.get("remote_schema") or "public",
                        table_options, "a remote PostgreSQL database")


def _sqlalchemy_handler() -> MountHandler:
    def server_options(kwargs: Mapping[str, Any]) -> dict[str, str]:
        options = {key: value for key, value in kwargs.items()
                   if key not in ("user", "username", "password", "schema", "tables")}
        if "url" in options and "db_url" not in options:
            options["db_url"] = options.pop("url")
        return _text_options(options)

    def user_options(kwargs: Mapping[str, Any]) -> dict[str, str]:
        return _text_options({"user": kwargs.get("user", kwargs.get("username")),
                              "password": kwargs.get("password")})

    def table_options(table: str, kwargs: Mapping[str, Any]) -> dict[str, str]:
        return _text_options({"tablename": table, "schema": kwargs.get("schema")})

    return MountHandler("sqlalchemy", "sgfdw.sqlalchemy.SqlAlchemyFdw", server_options,
                        user_options, lambda kwargs: kwargs.get("schema") or "default",
                        table_options, "any database SQLAlchemy reaches by URL")


_HANDLERS: dict[str, MountHandler] = {}


def register_mount_handler(name: str, handler: MountHandler) -> None:
    """Makes a handler available to mount() under name (replacing one of that name)."""
    if not name:
        raise OptionError("a mount handler needs a name")
    _HANDLERS[name.lower()] = handler


def get_mount_handlers() -> list[str]:
    return sorted(_HANDLERS)


def get_mount_handler(name: str) -> MountHandler:
    try:
        return _HANDLERS[name.lower()]
    except KeyError:
        raise OptionError(f"unknown mount handler {name!r}; known handlers: "
                          f"{', '.join(get_mount_handlers())}") from None


def load_mount_handlers_config(path: str) -> list[str]:
    """Registers the handlers of an INI file's [mount_handlers] section, each line
    `name = package.module.Class` naming a Multicorn FDW class whose options are the
    handler's keyword arguments (credentials `user`/`password` go to the user mapping).
    Returns the names registered."""
    parser = configparser.ConfigParser()
    if not parser.read(path):
        raise OptionError(f"cannot read mount handler configuration {path!r}")
    names = []
    for name, wrapper in parser.items("mount_handlers") if parser.has_section(
            "mount_handlers") else []:
        register_mount_handler(name, generic_handler(name, wrapper.strip()))
        names.append(name)
    return names


def generic_handler(name: str, wrapper: str) -> MountHandler:
    """A handler for an FDW class taking its options straight from the kwargs."""
    credentials = ("user", "username", "password")

    return MountHandler(
        name, wrapper,
        lambda kwargs: _text_options({k: v for k, v in kwargs.items() if k not in credentials}),
        lambda kwargs: _text_options({"user": kwargs.get("user", kwargs.get("username")),
                                      "password": kwargs.get("password")}),
        lambda kwargs: kwargs.get("remote_schema") or kwargs.get("schema") or "default",
        lambda table, kwargs: {"table_name": table},
        f"FDW class {wrapper}")


register_mount_handler("postgres_fdw", _postgres_handler())
register_mount_handler("sqlalchemy", _sqlalchemy_handler())
if os.environ.get("SGFDW_CONFIG"):
    load_mount_handlers_config(os.environ["SGFDW_CONFIG"])


def _options_clause(options: Mapping[str, str]) -> str:
    if not options:
        return ""
    return " OPTIONS (" + ", ".join(
        f"{pg.quote_ident(key)} {pg.quote_literal(value)}"
        for key, value in sorted(options.items())) + ")"


def server_name(mountpoint: str) -> str:
    return f"{mountpoint}_server"


def unmount(mountpoint: str) -> None:
    """Drops what mount() made for mountpoint (schema, its tables, server, mapping)."""
    pg.execute(f"DROP SCHEMA IF EXISTS {pg.quote_ident(mountpoint)} CASCADE")
    pg.execute(f"DROP SERVER IF EXISTS {pg.quote_ident(server_name(mountpoint))} CASCADE")


def mount(mountpoint: str, mount_handler: str, handler_kwargs: Mapping[str, Any],
          overwrite: bool = True, tables: Tables = None) -> None:
    handler = get_mount_handler(mount_handler)
    kwargs = dict(handler_kwargs or {})
    server = pg.quote_ident(server_name(mountpoint))
    schema = pg.quote_ident(mountpoint)
    if overwrite:
        unmount(mountpoint)
    elif pg.execute("SELECT 1 FROM pg_namespace WHERE nspname = $1", [mountpoint]):
        raise FdwError(f"schema {mountpoint!r} already exists", sqlstate="42P06",
                       hint="Pass overwrite => true to replace what is mounted there.")

    server_options = {"wrapper": handler.wrapper, **handler.server_options(kwargs)}
    pg.execute(f"CREATE SERVER {server} FOREIGN DATA WRAPPER sgfdw"
               f"{_options_clause(server_options)}")
    pg.execute(f"CREATE USER MAPPING FOR CURRENT_USER SERVER {server}"
               f"{_options_clause(handler.user_options(kwargs))}")
    pg.execute(f"CREATE SCHEMA {schema}")

    if isinstance(tables, Mapping):
        for table, columns in tables.items():
            # jsonb keeps no key order: a list of [column, type] pairs keeps the order.
            pairs = columns.items() if isinstance(columns, Mapping) else columns
            column_list = ", ".join(f"{pg.quote_ident(column)} {_type_name(column_type)}"
                                    for column, column_type in pairs)
            pg.execute(f"CREATE FOREIGN TABLE {schema}.{pg.quote_ident(table)} "
                       f"({column_list}) SERVER {server}"
                       f"{_options_clause(handler.table_options(table, kwargs))}")
        return
    remote_schema = handler.remote_schema(kwargs) or "public"
    restriction = ""
    if tables is not None:
        if not tables:
            return
        restriction = " LIMIT TO (" + ", ".join(pg.quote_ident(t) for t in tables) + ")"
    pg.execute(f"IMPORT FOREIGN SCHEMA {pg.quote_ident(remote_schema)}{restriction} "
               f"FROM SERVER {server} INTO {schema}")


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
                   overwrite: bool = True) -> None:
    mount(mountpoint, "postgres_fdw",
          {"server": server, "port": port, "username": username, "password": password,
           "dbname": dbname, "remote_schema": remote_schema,
           "extra_server_args": extra_server_args},
          overwrite=overwrite, tables=tables)


def mount_from_sql(mountpoint: str, handler: str, options: Mapping[str, Any] | None,
                   overwrite: bool, tables: Tables) -> None:
    """sgfdw.mount(mountpoint, handler, options jsonb, overwrite, tables jsonb)."""
    mount(mountpoint, handler, options or {}, overwrite=overwrite, tables=tables)


def mount_postgres_from_sql(mountpoint: str, server: str, port: int, username: str,
                            password: str, dbname: str, remote_schema: str, tables: Tables,
                            extra_server_args: Mapping[str, Any] | None,
                            overwrite: bool) -> None:
    """sgfdw.mount_postgres(...), arguments in the SQL function's order."""
    mount_postgres(mountpoint, server, port, username, password, dbname, remote_schema,
                   tables, extra_server_args, overwrite)
