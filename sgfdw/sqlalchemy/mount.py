"""The mount handler of sgfdw.sqlalchemy (``sgfdw.mount('...', 'sqlalchemy', ...)``):
how its keyword arguments become the options of a SqlAlchemyFdw server, user mapping
and tables.

db_url (alias url; a password written in it moves to the user mapping), fetch_size,
batch_size, create_database -> server options; user/username, password -> user
mapping; schema -> the remote schema imported ("default" when absent) and, for tables
described explicitly, the table options tablename and schema. Other arguments are
refused by the registry (``keywords``).
"""
from __future__ import annotations

from typing import Any, Mapping

from sgfdw.hooks.mount_handlers import MountHandler, text_options
from sgfdw.sqlalchemy.access import split_password

__all__ = ["MOUNT_HANDLER"]

_CREDENTIALS = ("user", "username", "password")


def _split_url(kwargs: Mapping[str, Any]) -> tuple[str | None, str | None]:
    url = kwargs.get("db_url", kwargs.get("url"))
    return split_password(url) if url is not None else (None, None)


def _server_options(kwargs: Mapping[str, Any]) -> dict[str, str]:
    options = {key: value for key, value in kwargs.items()
               if key not in _CREDENTIALS + ("schema", "url")}
    # A password written in the URL goes to the user mapping, with the others.
    options["db_url"] = _split_url(kwargs)[0]
    return text_options(options)


def _user_options(kwargs: Mapping[str, Any]) -> dict[str, str]:
    return text_options({"user": kwargs.get("user", kwargs.get("username")),
                         "password": kwargs.get("password") or _split_url(kwargs)[1]})


def _table_options(table: str, kwargs: Mapping[str, Any]) -> dict[str, str]:
    return text_options({"tablename": table, "schema": kwargs.get("schema")})


MOUNT_HANDLER = MountHandler(
    "sqlalchemy", "sgfdw.sqlalchemy.SqlAlchemyFdw", _server_options, _user_options,
    lambda kwargs: kwargs.get("schema") or "default", _table_options,
    "any database SQLAlchemy reaches by URL",
    frozenset({"db_url", "url", "user", "username", "password", "schema", "fetch_size",
               "batch_size", "create_database"}))
