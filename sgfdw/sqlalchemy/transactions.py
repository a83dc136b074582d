"""One SQLAlchemy Connection per engine per local transaction, with savepoints.

The bridge calls, per FDW instance used in a local transaction (its
SourceTransactions): begin(), sub_begin(L) for each savepoint level it is used at,
sub_commit(L)/sub_rollback(L), then pre_commit() + commit() or rollback(). Several
foreign tables of one source share the connection: the first begin() opens it
(``conn.begin()``; on PostgreSQL at REPEATABLE READ, SERIALIZABLE for a serializable
local transaction, as postgres_fdw does, so all scans of a local transaction see one
snapshot), sub_begin(L) makes savepoint L once (``begin_nested()``), the first
pre_commit() commits it, the first rollback() rolls it back; the other instances' calls
find nothing left to do.

Outside a begin() (no local transaction told us about, or a caller outside PostgreSQL)
each statement runs in a short transaction of its own (:func:`connection_for_statement`).
"""
from __future__ import annotations

import contextlib
import weakref
from typing import Any, Iterator

from sqlalchemy.engine import Connection, Engine

from sgfdw.errors import FdwError
from sgfdw.sqlalchemy.engines import Source

__all__ = ["RemoteTransaction", "SourceTransactions", "current",
           "connection_for_statement"]

# psycopg2.extensions.TRANSACTION_STATUS_INERROR
_PSYCOPG2_INERROR = 3


class RemoteTransaction:
    def __init__(self, source: Source, connection: Connection, root: Any) -> None:
        self.source = source
        self.connection = connection
        self.root = root
        self.savepoints: dict[int, Any] = {}
        # Open scans on this connection -> the savepoint level they started at.
        self.streams: "weakref.WeakKeyDictionary[Any, int]" = weakref.WeakKeyDictionary()

    @property
    def level(self) -> int:
        return max(self.savepoints, default=1)

    def register(self, stream: Any) -> None:
        self.streams[stream] = self.level

    def unregister(self, stream: Any) -> None:
        self.streams.pop(stream, None)

    def before_write(self) -> None:
        """SQLite: read open scans to their end before the connection writes."""
        if self.source.capabilities.writes_disturb_cursors:
            for stream in list(self.streams.keys()):
                stream.buffer_rest()

    def close_streams(self, from_level: int = 0) -> None:
        for stream, level in list(self.streams.items()):
            if level >= from_level:
                stream.close()

    def check_not_failed(self) -> None:
        """A PostgreSQL transaction in error state would turn COMMIT into a silent ROLLBACK."""
        try:
            dbapi = self.connection.connection.dbapi_connection
            if dbapi is None:   # the connection is gone already
                return
            status = dbapi.info.transaction_status  # psycopg2 / psycopg
        except Exception:
            return
        if status == _PSYCOPG2_INERROR:
            raise FdwError(f"the remote transaction on {self.source.display_url} failed "
                           "earlier and cannot be committed", sqlstate="25P02",
                           hint="Roll back the local transaction.")


_OPEN: dict[Engine, RemoteTransaction] = {}


def current(source: Source) -> RemoteTransaction | None:
    return _OPEN.get(source.engine)


class SourceTransactions:
    """The bridge's transaction hooks for one source (remote_transaction() of
    SqlAlchemyFdw, see sgfdw.remote.transactions): they drive the RemoteTransaction of
    the source's engine that all its tables share."""

    def __init__(self, source: Source) -> None:
        self.source = source

    def begin(self, serializable: bool = False) -> RemoteTransaction:
        source = self.source
        transaction = _OPEN.get(source.engine)
        if transaction is not None:
            return transaction
        with source.errors(connecting=True):
            connection = source.engine.connect()
        try:
            with source.errors(connecting=True):
                if source.dialect_name == "postgresql":
                    # As postgres_fdw: every scan of the local transaction sees one
                    # snapshot.
                    connection.execution_options(
                        isolation_level="SERIALIZABLE" if serializable else "REPEATABLE READ")
                root = connection.begin()
        except BaseException:
            connection.close()
            raise
        transaction = _OPEN[source.engine] = RemoteTransaction(source, connection, root)
        return transaction

    def sub_begin(self, level: int) -> None:
        transaction = _OPEN.get(self.source.engine)
        if transaction is None or level in transaction.savepoints:
            return
        with self.source.errors():
            transaction.savepoints[level] = transaction.connection.begin_nested()

    def sub_commit(self, level: int) -> None:
        transaction = _OPEN.get(self.source.engine)
        if transaction is None:
            return
        for deeper in sorted((lvl for lvl in transaction.savepoints if lvl > level),
                            reverse=True):
            transaction.savepoints.pop(deeper)  # released along with level
        savepoint = transaction.savepoints.pop(level, None)
        if savepoint is not None and savepoint.is_active:
            with self.source.errors():
                savepoint.commit()

    def sub_rollback(self, level: int) -> None:
        transaction = _OPEN.get(self.source.engine)
        if transaction is None:
            return
        transaction.close_streams(from_level=level)
        for lvl in sorted((lvl for lvl in transaction.savepoints if lvl >= level),
                         reverse=True):
            savepoint = transaction.savepoints.pop(lvl)
            if savepoint.is_active:
                with self.source.errors():
                    savepoint.rollback()

    def commit(self) -> None:
        transaction = _OPEN.pop(self.source.engine, None)
        if transaction is None:
            return
        try:
            transaction.close_streams()
            transaction.check_not_failed()
            with self.source.errors():
                transaction.root.commit()
        finally:
            _close_quietly(transaction.connection)

    # The first pre_commit() commits, where a failure can still abort the local
    # transaction; commit() then finds nothing left (unless pre_commit was skipped).
    pre_commit = commit

    def rollback(self) -> None:
        transaction = _OPEN.pop(self.source.engine, None)
        if transaction is None:
            return
        try:
            transaction.close_streams()
            transaction.root.rollback()
        except Exception:
            # A dead connection cannot roll back; drop it from the pool instead.
            with contextlib.suppress(Exception):
                transaction.connection.invalidate()
        finally:
            _close_quietly(transaction.connection)


def _close_quietly(connection: Connection) -> None:
    with contextlib.suppress(Exception):
        connection.close()


@contextlib.contextmanager
def connection_for_statement(source: Source, *, write: bool = False) -> Iterator[Connection]:
    """The local transaction's connection, else a short transaction of its own."""
    transaction = _OPEN.get(source.engine)
    if transaction is not None:
        if write:
            transaction.before_write()
        with source.errors():
            yield transaction.connection
        return
    with source.errors(connecting=True):
        connection = source.engine.connect()
    try:
        with source.errors():
            with connection.begin():
                yield connection
    finally:
        _close_quietly(connection)
