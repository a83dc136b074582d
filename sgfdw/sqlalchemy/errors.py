"""SQLAlchemy and driver exceptions -> sgfdw.errors with a fitting SQLSTATE.

A remote PostgreSQL error keeps its own SQLSTATE (psycopg2's ``pgcode``); SQLite errors
get one from their kind and message; a connection that cannot be made or was lost is
connection_failure (08006); a bad URL or an unknown dialect is an option error (HV00D).
Messages never carry a password: URLs are rendered with ``hide_password`` and any
secret the caller names is blanked out of driver messages. The report of a remote error
(message, detail, hint, the statement) is sgfdw.remote.errors', as PostgresFdw's.
"""
from __future__ import annotations

import contextlib
from typing import Iterator, Sequence

import sqlalchemy.exc as sa_exc

from sgfdw.errors import ConnectionFailure, FdwError, OptionError, UndefinedTable
from sgfdw.remote.errors import diagnostics, remote_error
from sgfdw.remote.secrets import scrub

__all__ = ["translate", "remote_errors"]

# SQLite result messages -> SQLSTATE (first match wins).
_SQLITE_STATES: tuple[tuple[str, str], ...] = (
    ("unique constraint failed", "23505"),
    ("not null constraint failed", "23502"),
    ("foreign key constraint failed", "23503"),
    ("check constraint failed", "23514"),
    ("constraint failed", "23000"),
    ("no such table", "42P01"),
    ("unknown database", "3F000"),     # an attached schema that is not there
    ("no such column", "42703"),
    ("syntax error", "42601"),
    ("database is locked", "55P03"),
    ("database table is locked", "55P03"),
    ("readonly database", "25006"),
    ("datatype mismatch", "42804"),
    ("too big", "54000"),
    ("interrupted", "57014"),
)
# SQLite messages that mean "the database file cannot be used at all".
_SQLITE_CONNECTION = ("unable to open database file", "file is not a database",
                      "disk i/o error")


def _sqlite_state(exc: sa_exc.DBAPIError, message: str) -> str | None:
    lowered = message.lower()
    for needle, state in _SQLITE_STATES:
        if needle in lowered:
            return state
    if isinstance(exc, sa_exc.IntegrityError):
        return "23000"
    if isinstance(exc, sa_exc.DataError):
        return "22000"
    return None


def translate(exc: BaseException, *, url: str | None = None,
              secrets: Sequence[str | None] = (), connecting: bool = False) -> BaseException:
    """The exception to raise in place of exc (exc itself when it is not SQLAlchemy's).

    url: the source URL, already rendered with its password hidden, for messages;
    connecting: exc happened while opening a connection.
    """
    if isinstance(exc, FdwError) or not isinstance(exc, sa_exc.SQLAlchemyError):
        return exc
    where = f" ({url})" if url else ""
    if isinstance(exc, sa_exc.NoSuchModuleError):
        return OptionError(scrub(f"unknown SQLAlchemy dialect or driver in db_url{where}: {exc}",
                                 secrets),
                           hint="Check the URL's 'dialect+driver' part and that the driver "
                                "is installed in the server's Python environment.")
    if isinstance(exc, sa_exc.NoSuchTableError):
        return UndefinedTable(f'remote table "{exc}" does not exist{where}',
                              hint="Check the tablename and schema options.")
    if isinstance(exc, sa_exc.DBAPIError):
        found = diagnostics(exc.orig if exc.orig is not None else exc)
        code = found.sqlstate
        lost = exc.connection_invalidated or (code or "").startswith("08") or (
            code is None and connecting)
        if not lost and code is None and any(s in found.message.lower()
                                             for s in _SQLITE_CONNECTION):
            lost = True
        if lost:
            verb = "could not connect to" if connecting else "lost the connection to"
            return ConnectionFailure(
                f"{verb} the remote database{where}: {scrub(found.message, secrets)}",
                detail=found.detail and scrub(found.detail, secrets),
                hint="Check that the source is up and the URL and credentials are right.")
        return remote_error(found, secrets=secrets, sql=exc.statement,
                            prefix=f"remote error{where}: ",
                            sqlstate=_sqlite_state(exc, found.message))
    return FdwError(scrub(f"SQLAlchemy error{where}: {exc}", secrets))


@contextlib.contextmanager
def remote_errors(url: str | None = None, secrets: Sequence[str | None] = (),
                  connecting: bool = False) -> Iterator[None]:
    """Translates SQLAlchemy exceptions raised in the block (see :func:`translate`)."""
    try:
        yield
    except sa_exc.SQLAlchemyError as exc:
        raise translate(exc, url=url, secrets=secrets, connecting=connecting) from None
