"""Engines: where plugin code and the sync commands run SQL, Splitgraph's engine API.

Two kinds, with the same methods -- run_sql(sql, params), run_sql_batch(sql,
param_lists), commit(), rollback(), close():

* LocalEngine: the PostgreSQL this backend belongs to, through sgfdw.pg, in the
  caller's transaction (get_engine() returns it). It commits or rolls back with the
  SQL command that called the Python code, never by itself.
* PostgresEngine: another PostgreSQL (a registry running sgfdw), through psycopg2, in
  a transaction of its own that commit() ends.

SQL is written as for psycopg2: `%s` placeholders (`%(name)s` with a dict of
parameters, `%%` for a literal % when parameters are given), or a psycopg2.sql
Composable (SQL, Identifier, Literal, Placeholder) for names: values are always bound
or quoted by the server, never pasted. Rows come back as a list of tuples ([] for a
statement without a result).

Errors carry the server's SQLSTATE; a remote engine's messages never hold its password.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Protocol, Sequence

import psycopg2
import psycopg2.sql

from sgfdw import pg
from sgfdw.errors import FdwError
from sgfdw.postgres.connection import remote_error, scrub
from sgfdw.postgres.options import DEFAULT_CONNECT_TIMEOUT, ConnectionParams

__all__ = ["Engine", "LocalEngine", "PostgresEngine", "get_engine"]

Params = Sequence[Any] | Mapping[str, Any] | None


class Engine(Protocol):
    def run_sql(self, sql: Any, params: Params = None) -> list[tuple]: ...

    def run_sql_batch(self, sql: Any, param_lists: Iterable[Params]) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def close(self) -> None: ...


# ---------------------------------------------------------------- the local engine

def _render(composable: Any) -> str:
    """A psycopg2.sql Composable as SQL text, names and literals quoted by this server
    (psycopg2 itself needs a connection to quote them)."""
    if isinstance(composable, psycopg2.sql.Composed):
        return "".join(_render(part) for part in composable.seq)
    if isinstance(composable, psycopg2.sql.SQL):
        return composable.string
    if isinstance(composable, psycopg2.sql.Identifier):
        return ".".join(pg.quote_ident(name) for name in composable.strings)
    if isinstance(composable, psycopg2.sql.Placeholder):
        return "%s" if composable.name is None else f"%({composable.name})s"
    if isinstance(composable, psycopg2.sql.Literal):
        value = composable.wrapped
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return repr(value)
        if isinstance(value, str):
            return pg.quote_literal(value)
        raise TypeError(f"cannot render a Literal of type {type(value).__name__}; "
                        "pass the value as a parameter")
    raise TypeError(f"not SQL: {type(composable).__name__}")


def _numbered(sql: str, params: Params) -> tuple[str, list[Any]]:
    """psycopg2-style SQL and parameters as sgfdw.pg's: `%s` (or `%(name)s`) becomes
    $n, `%%` becomes %. As psycopg2, this reads the text without parsing SQL: a % in a
    string literal is written %% when parameters are given."""
    if params is None:
        return sql, []
    named: Mapping[str, Any] = params if isinstance(params, Mapping) else {}
    positional: list[Any] = [] if isinstance(params, Mapping) else list(params)
    values: list[Any] = []
    numbers: dict[str, int] = {}
    out: list[str] = []
    position = 0
    while (found := sql.find("%", position)) >= 0:
        out.append(sql[position:found])
        following = sql[found + 1:found + 2]
        position = found + 2
        if following == "%":
            out.append("%")
        elif following == "s" and not isinstance(params, Mapping):
            if len(values) >= len(positional):
                raise FdwError("not all placeholders have a parameter", sqlstate="07001")
            values.append(positional[len(values)])
            out.append(f"${len(values)}")
        elif following == "(" and isinstance(params, Mapping):
            end = sql.find(")s", found)
            if end < 0:
                raise FdwError("unterminated %(name)s placeholder", sqlstate="42601")
            name = sql[found + 2:end]
            if name not in numbers:
                values.append(named[name])
                numbers[name] = len(values)
            out.append(f"${numbers[name]}")
            position = end + 2
        else:
            raise FdwError(f"unsupported placeholder %{following} (use %s, %(name)s "
                           "or %%)", sqlstate="42601")
    out.append(sql[position:])
    if len(values) < len(positional):
        raise FdwError(f"{len(positional)} parameters for {len(values)} placeholders",
                       sqlstate="07001")
    return "".join(out), values


class LocalEngine:
    """This backend's PostgreSQL, in the caller's transaction."""

    name = "LOCAL"

    def run_sql(self, sql: Any, params: Params = None) -> list[tuple]:
        text = sql if isinstance(sql, str) else _render(sql)
        return pg.execute(*_numbered(text, params))

    def run_sql_batch(self, sql: Any, param_lists: Iterable[Params]) -> None:
        for params in param_lists:
            self.run_sql(sql, params)

    def commit(self) -> None:
        """Nothing to do: the caller's transaction commits with its SQL command."""

    def rollback(self) -> None:
        raise FdwError("the local engine runs in the caller's transaction and cannot "
                       "roll it back", sqlstate="0A000",
                       hint="Raise an error: the command and all it did are rolled back.")

    def close(self) -> None:
        """Nothing to do: the connection is the backend's own."""


_LOCAL = LocalEngine()


def get_engine() -> LocalEngine:
    """The engine of the PostgreSQL running this code (inside a backend only)."""
    if not pg.in_backend():
        raise RuntimeError("the local engine exists only inside a PostgreSQL backend "
                           "with sgfdw")
    return _LOCAL


# ---------------------------------------------------------------- a remote engine

class PostgresEngine:
    """Another PostgreSQL, over one psycopg2 connection opened on first use. Statements
    run in a transaction that commit() or rollback() ends (close() rolls back)."""

    def __init__(self, params: ConnectionParams | Mapping[str, Any],
                 name: str | None = None) -> None:
        if not isinstance(params, ConnectionParams):
            params = ConnectionParams(tuple(sorted(
                (key, str(value)) for key, value in params.items() if value is not None)),
                server=name)
        self.params = params
        self.name = name or params.server or "remote"
        self._connection: Any = None

    def __repr__(self) -> str:  # never the parameters: they hold the password
        return f"<PostgresEngine {self.params.describe()}>"

    def _connect(self) -> Any:
        if self._connection is not None and not self._connection.closed:
            return self._connection
        values: dict[str, Any] = dict(self.params.as_dict())
        values.setdefault("connect_timeout", str(DEFAULT_CONNECT_TIMEOUT))
        try:
            self._connection = psycopg2.connect(**values, client_encoding="UTF8",
                                                fallback_application_name="sgfdw")
        except psycopg2.Error as exc:
            text = scrub(str(exc).strip(), self.params)
            # libpq reports a refused login without its SQLSTATE: told by its message.
            refused = "password authentication failed" in text
            raise FdwError(f"could not connect to remote {self.params.describe()}",
                           sqlstate="28P01" if refused else "08001",
                           detail=text) from None
        return self._connection

    def run_sql(self, sql: Any, params: Params = None) -> list[tuple]:
        connection = self._connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description is not None else []
        except psycopg2.Error as exc:
            raise remote_error(exc, self.params) from None

    def run_sql_batch(self, sql: Any, param_lists: Iterable[Params]) -> None:
        connection = self._connect()
        try:
            with connection.cursor() as cursor:
                cursor.executemany(sql, list(param_lists))
        except psycopg2.Error as exc:
            raise remote_error(exc, self.params) from None

    def commit(self) -> None:
        if self._connection is not None and not self._connection.closed:
            try:
                self._connection.commit()
            except psycopg2.Error as exc:
                raise remote_error(exc, self.params) from None

    def rollback(self) -> None:
        if self._connection is not None and not self._connection.closed:
            self._connection.rollback()

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.closed:
            connection.close()

    def __enter__(self) -> "PostgresEngine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
