"""One SQLAlchemy Engine per source URL per backend, with credentials merged in.

A backend keeps its engines (and their connection pools) for its whole life, as
postgres_fdw keeps its connections. The user mapping's ``user``/``password`` go into
the URL with ``URL.set`` and are never shown: every URL in a message, EXPLAIN or log is
rendered with ``hide_password=True``.

SQLite's driver (pysqlite) starts transactions on its own, late (at the first write),
and so breaks SAVEPOINT; SQLAlchemy's documented recipe turns that off and has the
engine emit BEGIN itself, so a remote transaction starts when the local one uses it.

Every engine is made interruptible (sgfdw.sqlalchemy.interrupts): cancel and
statement_timeout stop a running remote statement.
"""
from __future__ import annotations

import inspect
import os
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Mapping
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from sgfdw.errors import FdwError, OptionError
from sgfdw.sqlalchemy import access, interrupts
from sgfdw.sqlalchemy.dialects import Capabilities, capabilities_of
from sgfdw.sqlalchemy.errors import remote_errors
from sgfdw.sqlalchemy.options import TableOptions
from sgfdw.value_codec import json_dumps

__all__ = ["Source", "source_for", "source_for_options", "dispose_all"]


@dataclass(frozen=True)
class Source:
    """An engine and how to talk about it without leaking its password."""

    engine: Engine
    display_url: str            # rendered with hide_password
    password: str | None        # to blank out of driver messages

    @property
    def dialect_name(self) -> str:
        return self.engine.dialect.name

    @cached_property
    def capabilities(self) -> Capabilities:
        return capabilities_of(self.engine.dialect)

    def errors(self, connecting: bool = False) -> Any:
        """Context manager translating SQLAlchemy exceptions for this source."""
        return remote_errors(self.display_url, (self.password,), connecting=connecting)


_ENGINES: dict[tuple[str, bool, bool], Source] = {}


def _url_with_credentials(url_text: str, user: str | None, password: str | None) -> URL:
    try:
        url = make_url(url_text)
    except Exception as exc:  # ArgumentError, ValueError from a bad port, ...
        raise OptionError("invalid db_url: not a SQLAlchemy URL",
                          hint="Expected 'dialect+driver://user:password@host/db', e.g. "
                               "'postgresql+psycopg2://host/db' or 'sqlite:////path/x.db'.",
                          detail=f"{type(exc).__name__}: {exc}".replace(
                              url_text, "<db_url>")) from None
    if user:
        url = url.set(username=user)
    if password:
        url = url.set(password=password)
    return url


def _sqlite_transactions(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


def _existing_sqlite_file(url: URL, create: bool) -> URL:
    """SQLite creates a missing database file when it connects: a typo in the path gave
    a new, empty database (owned by the server's OS user) and imported nothing. So a
    file is opened only if it exists (URI mode=rw), unless create_database says to
    create it. In-memory databases and URLs that are already URIs are left alone."""
    path = url.database
    if (create or url.get_backend_name() != "sqlite" or not path or path == ":memory:"
            or url.query.get("uri")):
        return url
    return url.set(database="file:" + quote(path),
                   query={**url.query, "mode": "rw", "uri": "true"})


def _sqlite_file_must_exist(engine: Engine, path: str) -> None:
    """Says which file is missing (mode=rw alone says "unable to open database file")."""
    @sa.event.listens_for(engine, "do_connect")
    def _check(dialect: Any, record: Any, cargs: Any, cparams: Any) -> None:
        if not os.path.exists(path):
            raise FdwError(f'SQLite database file "{path}" does not exist',
                           sqlstate="58P01",
                           hint="Check the path in db_url. The server option "
                                "create_database 'true' creates a missing database.")


# DB-API modules whose PyPI package has another name.
_DRIVER_PACKAGES = {"MySQLdb": "mysqlclient", "pymysql": "PyMySQL",
                    "mysql": "mysql-connector-python", "snowflake": "snowflake-connector-python",
                    "cx_Oracle": "cx_Oracle", "psycopg2": "psycopg2-binary"}


def _missing_driver(display: str, exc: ImportError) -> OptionError:
    module = (exc.name or "").split(".")[0] or "?"
    package = _DRIVER_PACKAGES.get(module, module)
    return OptionError(f"the database driver of db_url {display} is not installed "
                       f"(no module {module!r})",
                       hint=f'Install the Python package "{package}" in the database '
                            "server's Python environment (sgfdw.python).")


def _engine_arguments(url: URL) -> dict[str, Any]:
    """JSON written with sgfdw's serializer (Decimals from jsonb keep all their digits)
    where the dialect takes one."""
    try:
        dialect = url.get_dialect()
        takes_json = any("json_serializer" in inspect.signature(vars(cls)["__init__"]).parameters
                         for cls in dialect.__mro__ if "__init__" in vars(cls))
    except Exception:  # an unknown dialect: create_engine reports it
        return {}
    if takes_json:
        return {"json_serializer": json_dumps}
    return {}


def _password_checks(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _check(dbapi_connection: Any, record: Any) -> None:
        access.refuse_unused_password(dbapi_connection)


def source_for(url_text: str, user: str | None = None, password: str | None = None,
               password_required: bool = False, create_database: bool = False) -> Source:
    """The cached Source for this URL and credentials (made at first use).

    password_required: each new connection must show that the remote asked for the
    password (a non-superuser's); such engines are kept apart from the others.
    create_database: a missing SQLite file is created rather than refused.
    """
    url = _url_with_credentials(url_text, user, password)
    key = (url.render_as_string(hide_password=False), password_required, create_database)
    source = _ENGINES.get(key)
    if source is not None:
        return source
    display = url.render_as_string(hide_password=True)
    secret = url.password if isinstance(url.password, str) else None
    opened = _existing_sqlite_file(url, create_database)
    with remote_errors(display, (secret,)):
        try:
            engine = sa.create_engine(opened, pool_pre_ping=True, **_engine_arguments(url))
        except sa.exc.NoSuchModuleError:
            raise
        except ImportError as exc:  # the dialect is known, its DB-API driver is not installed
            raise _missing_driver(display, exc) from None
        except (sa.exc.ArgumentError, TypeError, ValueError) as exc:  # bad URL arguments
            raise OptionError(f"cannot use db_url {display}: {type(exc).__name__}: "
                              f"{exc}".replace(secret or "\x00", "***")) from None
    if engine.dialect.name == "sqlite":
        _sqlite_transactions(engine)
        if opened is not url and url.database:     # a file opened only if it exists
            _sqlite_file_must_exist(engine, url.database)
    interrupts.make_interruptible(engine)
    if password_required:
        _password_checks(engine)
    source = Source(engine, display, secret)
    _ENGINES[key] = source
    return source


def source_for_options(options: Mapping[str, str], settings: TableOptions) -> Source:
    """The Source of an FDW instance or an import: its URL and credentials, once the
    rules of sgfdw.sqlalchemy.access allow the current user to use them."""
    return source_for(settings.url, settings.user, settings.password,
                      password_required=access.password_required(options, settings.url),
                      create_database=settings.create_database)


def dispose_all() -> None:
    """Closes every pooled connection (tests; a backend normally keeps them)."""
    for source in _ENGINES.values():
        source.engine.dispose()
    _ENGINES.clear()
