"""One SQLAlchemy Engine per source URL per backend, with credentials merged in.

A backend keeps its engines (and their connection pools) for its whole life, as
postgres_fdw keeps its connections. The user mapping's ``user``/``password`` go into
the URL with ``URL.set`` and are never shown: every URL in a message, EXPLAIN or log is
rendered with ``hide_password=True``.

SQLite's driver (pysqlite) starts transactions on its own, late (at the first write),
and so breaks SAVEPOINT; SQLAlchemy's documented recipe turns that off and has the
engine emit BEGIN itself, so a remote transaction starts when the local one uses it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from sgfdw.errors import OptionError
from sgfdw.sqlalchemy.errors import remote_errors

__all__ = ["Source", "source_for", "user_mapping_options", "dispose_all"]


@dataclass(frozen=True)
class Source:
    """An engine and how to talk about it without leaking its password."""

    engine: Engine
    display_url: str            # rendered with hide_password
    password: str | None        # to blank out of driver messages

    @property
    def dialect_name(self) -> str:
        return self.engine.dialect.name

    def errors(self, connecting: bool = False) -> Any:
        """Context manager translating SQLAlchemy exceptions for this source."""
        return remote_errors(self.display_url, (self.password,), connecting=connecting)


_ENGINES: dict[str, Source] = {}


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


def source_for(url_text: str, user: str | None = None, password: str | None = None) -> Source:
    """The cached Source for this URL and credentials (made at first use)."""
    url = _url_with_credentials(url_text, user, password)
    key = url.render_as_string(hide_password=False)
    source = _ENGINES.get(key)
    if source is not None:
        return source
    display = url.render_as_string(hide_password=True)
    secret = url.password if isinstance(url.password, str) else None
    with remote_errors(display, (secret,)):
        try:
            engine = sa.create_engine(url, pool_pre_ping=True)
        except sa.exc.SQLAlchemyError:
            raise
        except Exception as exc:  # e.g. TypeError from a bad query argument
            raise OptionError(f"cannot use db_url {display}: {type(exc).__name__}: "
                              f"{exc}".replace(secret or "\x00", "***")) from None
    if engine.dialect.name == "sqlite":
        _sqlite_transactions(engine)
    source = Source(engine, display, secret)
    _ENGINES[key] = source
    return source


def dispose_all() -> None:
    """Closes every pooled connection (tests; a backend normally keeps them)."""
    for source in _ENGINES.values():
        source.engine.dispose()
    _ENGINES.clear()


def user_mapping_options(srv_options: Mapping[str, str]) -> dict[str, str]:
    """The current user's mapping options for the server that has these options.

    IMPORT FOREIGN SCHEMA hands import_schema only the server's options, but the
    credentials are in the user mapping; this finds the servers of the sgfdw wrapper
    whose options (other than ``wrapper``) are exactly these and returns the options of
    the current user's (else PUBLIC) mapping, when that is unambiguous. Outside a
    backend, or when nothing matches, {}.
    """
    from sgfdw import pg

    if not pg.in_backend():
        return {}
    wanted = list(f"{key}={value}" for key, value in srv_options.items() if key != "wrapper")
    rows = pg.execute(
        "SELECT um.umuser <> 0, um.umoptions"
        " FROM pg_catalog.pg_user_mappings um"
        " JOIN pg_catalog.pg_foreign_server s ON s.oid = um.srvid"
        " WHERE (um.umuser = 0 OR um.usename = current_user)"
        "   AND ARRAY(SELECT o FROM unnest(s.srvoptions) o WHERE o NOT LIKE 'wrapper=%')"
        "       <@ $1::text[]"
        "   AND ARRAY(SELECT o FROM unnest(s.srvoptions) o WHERE o NOT LIKE 'wrapper=%')"
        "       @> $1::text[]",
        [wanted])
    personal = {tuple(opts or ()) for own, opts in rows if own}
    public = {tuple(opts or ()) for own, opts in rows if not own}
    candidates = personal or public
    if len(candidates) != 1:
        return {}
    options: dict[str, str] = {}
    for item in next(iter(candidates)):
        key, _, value = item.partition("=")
        options[key] = value
    return options
