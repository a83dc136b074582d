"""The mount handler of sgfdw.postgres (Splitgraph's ``postgres_fdw`` handler): how
``sgfdw.mount_postgres(...)`` / ``sgfdw.mount('...', 'postgres_fdw', ...)`` arguments
become the options of a PostgresFdw server, user mapping and tables.

Kept beside the wrapper because only it knows where its options belong (options.py):
connection parameters on the server, credentials in the user mapping, the remote table
on the foreign table. sgfdw.hooks.mount_handlers only registers it by name.
"""
from __future__ import annotations

from typing import Any, Mapping

from sgfdw.hooks.mount_handlers import MountHandler, text_options

__all__ = ["MOUNT_HANDLER"]


def _remote_schema(kwargs: Mapping[str, Any]) -> str:
    return kwargs.get("remote_schema") or "public"


def _server_options(kwargs: Mapping[str, Any]) -> dict[str, str]:
    options = {"host": kwargs.get("server", kwargs.get("host")),
               "port": kwargs.get("port"), "dbname": kwargs.get("dbname")}
    options.update(kwargs.get("extra_server_args") or {})
    return text_options(options)


def _user_options(kwargs: Mapping[str, Any]) -> dict[str, str]:
    return text_options({"user": kwargs.get("username", kwargs.get("user")),
                         "password": kwargs.get("password")})


def _table_options(table: str, kwargs: Mapping[str, Any]) -> dict[str, str]:
    return text_options({"schema_name": _remote_schema(kwargs), "table_name": table})


MOUNT_HANDLER = MountHandler(
    "postgres_fdw", "sgfdw.postgres.PostgresFdw", _server_options, _user_options,
    _remote_schema, _table_options, "a remote PostgreSQL database",
    frozenset({"server", "host", "port", "dbname", "username", "user", "password",
               "remote_schema", "extra_server_args"}))
