"""Connections to remote PostgreSQL servers: one per connection parameters per backend.

A backend keeps one :class:`RemoteConnection` per set of libpq parameters (server options
plus user mapping) in a module-level cache, so every foreign table and every query of the
backend that uses the same server as the same remote user shares it (and its remote
transaction). It is opened on first use and opened again when it turns out to be broken
-- but only where nothing of a remote transaction is lost by doing so.

Remote transactions follow the local one (the bridge calls the FDW's transaction hooks):
``begin`` queues ``BEGIN ISOLATION LEVEL REPEATABLE READ`` (SERIALIZABLE for a
serializable local transaction) so that every scan of the local transaction sees one
snapshot; savepoints mirror local subtransactions; ``pre_commit`` commits. Without the
hooks, a scan runs in a short transaction of its own. Small statements that need not go
out at once (BEGIN, SAVEPOINT, RELEASE, CLOSE of a finished cursor) are queued and sent
in front of the next statement in the same round trip.

The session is set up as postgres_fdw does (search_path pg_catalog, UTC, ISO dates,
postgres interval style, exact floats) so values travel as text that the local input
functions read back exactly. Only the types psycopg2 converts both exactly and fast (the
integers, floats, text) become Python objects here; every other type comes as its text
and the bridge converts it with the local type's input function.

Credentials never appear in errors: psycopg2's messages are scrubbed of the password
and of ``password=...`` fragments (sgfdw.remote.secrets), and exceptions are raised
without their cause chain.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import select
import time
import uuid
from typing import Any, Sequence

import psycopg2
import psycopg2.extensions as ext

from sgfdw.errors import ConnectionFailure, FdwError
from sgfdw.remote.errors import diagnostics
from sgfdw.remote.errors import remote_error as report_remote_error
from sgfdw.remote.secrets import scrub as scrub_secrets
from sgfdw.type_oids import INT_AND_FLOAT_TYPES

from .options import ConnectionParams

__all__ = ["RemoteConnection", "ConnectionLost", "get_connection", "scrub", "remote_error",
           "forget_connections"]

SESSION_SETUP = ("SET search_path = pg_catalog; SET timezone = 'UTC'; SET datestyle = ISO; "
                 "SET intervalstyle = postgres; SET extra_float_digits = 3; "
                 "SET bytea_output = hex")

# How long to wait for a canceled remote statement to end before giving up on the
# connection (postgres_fdw waits 30 s too).
CANCEL_WAIT = 30.0

def _secrets(params: ConnectionParams | None) -> tuple[str | None, ...]:
    return (params.password,) if params is not None else ()


def scrub(text: str, params: ConnectionParams | None) -> str:
    """``text`` without the password of ``params`` (sgfdw.remote.secrets)."""
    return scrub_secrets(text, _secrets(params))


def remote_error(exc: psycopg2.Error, params: ConnectionParams | None,
                 sql: str | None = None) -> FdwError:
    """An error the remote server reported, as an FdwError with the remote SQLSTATE
    (sgfdw.remote.errors)."""
    return report_remote_error(diagnostics(exc), secrets=_secrets(params), sql=sql)


class ConnectionLost(ConnectionFailure):
    """The connection broke while a statement ran: it may have run, wholly or in part."""


def _connection_failure(what: str, exc: BaseException | str, params: ConnectionParams,
                        cls: type[ConnectionFailure] = ConnectionFailure) -> FdwError:
    """ConnectionFailure '<what> server "name" (host:port)', libpq's message -- its lines
    kept, one per host tried -- as DETAIL, as postgres_fdw reports it."""
    text = str(exc).strip() or type(exc).__name__
    return cls(f"{what} remote {params.describe()}",
               detail=scrub(text.replace("\n\t", " "), params))


class RemoteConnection:
    """A psycopg2 connection (asynchronous, hence autocommit: transactions are sent
    explicitly) and its remote transaction state."""

    def __init__(self, params: ConnectionParams) -> None:
        self.params = params
        self._pg: Any = None
        self.in_xact = False        # a remote transaction is open or queued
        self.explicit = False       # opened by begin() (else by a scan, implicitly)
        self.sent_begin = False     # its BEGIN went out
        self.level = 0              # 1 = the transaction, 2.. = savepoints
        self.broken = False         # the connection broke inside a remote transaction
        self._pending: list[tuple[int, str]] = []   # (level, statement) to send first
        self._cursors: dict[str, int] = {}          # open cursor -> level declared at
        self._cursor_serial = 0
        self._prepared: str | None = None           # gid pre_commit prepared (two_phase)

    def __repr__(self) -> str:
        return f"<RemoteConnection {self.params!r} in_xact={self.in_xact}>"

    # -- the psycopg2 connection ------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._pg is not None and self._pg.closed == 0

    def _connect(self) -> None:
        """Open a fresh psycopg2 connection; queued statements stay queued.

        The connection is asynchronous (always autocommit; transactions are sent
        explicitly) and waited on in Python (:meth:`_wait`), so that a local query
        cancel or statement_timeout -- a KeyboardInterrupt from the bridge -- can
        cancel the remote statement instead of waiting for it to finish.
        """
        self._drop()
        # libpq applies connect_timeout only to a blocking connect: the asynchronous one
        # is bounded here (the session set-up included: a server that accepts and then
        # never answers hangs there just the same).
        timeout = self.params.connect_timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            pg = psycopg2.connect(ext.make_dsn(**self.params.as_dict()),
                                  client_encoding="UTF8", fallback_application_name="sgfdw",
                                  async_=True)
        except psycopg2.Error as exc:
            raise _connection_failure("could not connect to", exc, self.params) from None
        try:
            connected = self._wait(pg, cancel=False, deadline=deadline)
            if connected:
                # Only integers and floats become Python objects (exact and cheap);
                # text types come as str anyway, and booleans as 't'/'f', which is
                # also what a local text column over a remote boolean must hold.
                for oid in list(ext.string_types):
                    if oid not in INT_AND_FLOAT_TYPES:
                        pg.string_types[oid] = ext.UNICODE
                cur = pg.cursor()
                cur.execute(SESSION_SETUP)
                connected = self._wait(pg, cancel=False, deadline=deadline)
            if not connected:
                raise _connection_failure("could not connect to", f"timeout expired "
                                          f"(connect_timeout {timeout:g} s)", self.params)
            cur.close()
        except psycopg2.Error as exc:
            pg.close()
            raise _connection_failure("could not connect to", exc, self.params) from None
        except BaseException:
            pg.close()
            raise
        self._pg = pg

    @staticmethod
    def _wait(pg: Any, cancel: bool = True, deadline: float | None = None) -> bool:
        """Wait for the statement running on ``pg`` (or its connection attempt); False
        if ``deadline`` (a time.monotonic() value) passed first.

        On KeyboardInterrupt (the bridge's cancel), ask the remote server to cancel the
        statement, wait for it to end (its error is moot) and re-raise.
        """
        try:
            while True:
                state = pg.poll()
                if state == ext.POLL_OK:
                    return True
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                select.select([pg] if state == ext.POLL_READ else [],
                              [pg] if state == ext.POLL_WRITE else [], [], remaining)
        except KeyboardInterrupt:
            if cancel:
                RemoteConnection._cancel(pg)
            raise

    @staticmethod
    def _cancel(pg: Any) -> None:
        try:
            pg.cancel()
        except psycopg2.Error:
            pg.close()
            return
        deadline = time.monotonic() + CANCEL_WAIT
        while pg.closed == 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pg.close()      # the remote does not answer: give the connection up
                return
            try:
                state = pg.poll()
                if state == ext.POLL_OK:
                    return
                select.select([pg] if state == ext.POLL_READ else [],
                              [pg] if state == ext.POLL_WRITE else [], [], remaining)
            except psycopg2.Error:
                return          # the statement ended (canceled)
            except KeyboardInterrupt:
                continue        # already canceling

    def _drop(self) -> None:
        pg, self._pg = self._pg, None
        if pg is not None:
            try:
                pg.close()
            except Exception:
                pass

    def close(self) -> None:
        """Drop the psycopg2 connection (its remote transaction ends with it)."""
        self._drop()
        self._reset_xact()

    def _reset_xact(self) -> None:
        self.in_xact = self.explicit = self.sent_begin = False
        self.level = 0
        self._pending.clear()
        self._cursors.clear()

    @property
    def used_password(self) -> bool:
        return bool(self.is_open and self._pg.info.used_password)

    def _lose(self) -> None:
        """The connection is gone, and its remote transaction with it. Inside a
        transaction the hooks drive, that stays an error until the local transaction
        ends (rollback() clears it); a short scan transaction just ends."""
        self.broken = self.explicit and self.in_xact and self.sent_begin
        self._drop()
        self._reset_xact()

    def _found_broken(self) -> bool:
        """Whether the idle connection is known to be dead before anything is sent.

        A remote backend that was terminated or shut down sends its last error and
        closes the socket: input waiting on an idle connection means that, and reading
        it needs no round trip. (Anything else arriving unasked -- a notice -- only
        costs a reconnect, done only where no remote transaction is open.)
        """
        readable, _, _ = select.select([self._pg], [], [], 0)
        return bool(readable)

    def _ensure_open(self) -> None:
        if self.is_open and not (self.in_xact and self.sent_begin) and self._found_broken():
            self._drop()        # nothing of a remote transaction is lost: reconnect
        if not self.is_open and self.in_xact and self.sent_begin:
            self._lose()
        if self.broken:
            raise ConnectionFailure(
                "the connection to the remote server was lost in this transaction",
                hint="Roll back the transaction; the next one reconnects.")
        if not self.is_open:
            self._connect()

    # -- running statements ------------------------------------------------------------

    def _send(self, text: str, params: Sequence[Any] = ()) -> Any:
        """Execute ``text`` on the open connection and wait; the psycopg2 cursor."""
        cur = self._pg.cursor()
        cur.execute(text, tuple(params))
        self._wait(self._pg)
        return cur

    def _send_quietly(self, text: str) -> bool:
        """Execute a transaction-control statement; on any failure drop the connection.
        Whether it succeeded."""
        if not self.is_open:
            return False
        try:
            self._send(text).close()
            return True
        except psycopg2.Error:
            self._drop()
            return False

    def _run(self, sql: str, params: Sequence[Any], shown_sql: str | None) -> Any:
        """Run ``sql`` (psycopg2 format, %% for %) after the queued statements; the
        psycopg2 cursor holding its result.

        Sent once: a connection found broken before sending is replaced
        (:meth:`_ensure_open`), but one that breaks while the statement runs is an
        error -- the statement may have run, wholly or in part (a write, a long
        query), and must not run again behind the user's back.
        """
        self._ensure_open()
        text = "; ".join([statement for _, statement in self._pending] + [sql])
        try:
            cur = self._send(text, params)
        except psycopg2.Error as exc:
            self._sent()
            if self._pg.closed != 0 or isinstance(exc, psycopg2.InterfaceError):
                self._lose()
                raise _connection_failure("lost the connection to", exc, self.params,
                                          ConnectionLost) from None
            raise remote_error(exc, self.params, shown_sql) from None
        except KeyboardInterrupt:
            if self._pg is not None and self._pg.closed != 0:
                self._lose()
            else:
                self._sent()
            raise
        self._sent()
        return cur

    def _sent(self) -> None:
        # The queued statements went out and ran (a failure stops at the failing
        # statement, and none of them fails on its own).
        self._pending.clear()
        if self.in_xact:
            self.sent_begin = True

    def query(self, sql: str, params: Sequence[Any] = (), shown_sql: str | None = None,
              ) -> list[tuple]:
        """Rows of one statement (in the remote transaction if one is open)."""
        cur = self._run(sql, params, shown_sql)
        try:
            return cur.fetchall() if cur.description is not None else []
        finally:
            cur.close()

    def guarded_query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """query() for planning-time lookups (catalogs, EXPLAIN) that must not leave
        the remote transaction aborted when they fail: inside one, they run under a
        savepoint of their own, rolled back on error. (The local side may have no
        savepoint to roll the remote transaction back to at that point.)"""
        if not self.in_xact:
            return self.query(sql, params)
        self._pending.append((self.level, "SAVEPOINT sgfdw_guard"))
        try:
            rows = self.query(sql, params)
        except FdwError:
            if self.is_open and self.sent_begin:
                if not self._send_quietly("ROLLBACK TO SAVEPOINT sgfdw_guard; "
                                          "RELEASE SAVEPOINT sgfdw_guard"):
                    self._lose()
            raise
        self._pending.append((self.level, "RELEASE SAVEPOINT sgfdw_guard"))
        return rows

    def ensure_open(self) -> None:
        """Open the connection now if it is not (raises ConnectionFailure)."""
        self._ensure_open()

    def command(self, sql: str, params: Sequence[Any] = (), shown_sql: str | None = None,
                ) -> int:
        """Run one statement without result rows; its row count."""
        cur = self._run(sql, params, shown_sql)
        count = cur.rowcount
        cur.close()
        return count

    # -- cursors --------------------------------------------------------------------------

    def open_cursor(self, sql: str, params: Sequence[Any], fetch_size: int,
                    shown_sql: str | None = None) -> tuple[str, list[tuple]]:
        """DECLARE a cursor for ``sql`` and FETCH its first ``fetch_size`` rows, in one
        round trip; (cursor name, rows). Opens a short transaction if none is open."""
        if not self.in_xact:
            self._ensure_open()
            self._start_xact("BEGIN", explicit=False)
        self._cursor_serial += 1
        name = f"sgfdw_c{self._cursor_serial}"
        cur = self._run(f"DECLARE {name} NO SCROLL CURSOR FOR {sql}; "
                        f"FETCH FORWARD {int(fetch_size)} FROM {name}", params, shown_sql)
        self._cursors[name] = self.level
        try:
            return name, cur.fetchall()
        finally:
            cur.close()

    def fetch(self, name: str, count: int, shown_sql: str | None = None) -> list[tuple]:
        """The next ``count`` rows of an open cursor."""
        if name not in self._cursors:
            # Its transaction ended under it (the connection was lost): never end a
            # scan early as if it had no more rows.
            raise ConnectionFailure("the remote cursor of this scan is gone: the "
                                    "connection to the remote server was lost")
        return self.query(f"FETCH FORWARD {int(count)} FROM {name}", (), shown_sql)

    def close_cursor(self, name: str) -> None:
        """Close a cursor: queued for the next round trip, or sent now with the COMMIT
        of the short transaction it was the last cursor of."""
        level = self._cursors.pop(name, None)
        if level is None:
            return
        if not self.explicit and not self._cursors:
            self._pending.append((level, f"CLOSE {name}"))
            try:
                self._commit()
            except FdwError:
                self.close()
                raise
        else:
            self._pending.append((level, f"CLOSE {name}"))

    # -- transactions -----------------------------------------------------------------

    def _start_xact(self, begin: str, *, explicit: bool) -> None:
        self.in_xact = True
        self.explicit = explicit
        self.sent_begin = False
        self.level = 1
        self._pending = [(1, begin)]

    def begin(self, serializable: bool) -> None:
        """The local transaction starts using this connection."""
        if self.in_xact:
            self.explicit = True
            return
        if not self.is_open:
            self.broken = False
            self._connect()
        level = "SERIALIZABLE" if serializable else "REPEATABLE READ"
        self._start_xact(f"BEGIN ISOLATION LEVEL {level}", explicit=True)

    def sub_begin(self, level: int) -> None:
        if not self.in_xact:
            return
        while self.level < level:
            self.level += 1
            self._pending.append((self.level, f"SAVEPOINT s{self.level}"))

    def _savepoint_queued(self, level: int) -> bool:
        return (level, f"SAVEPOINT s{level}") in self._pending

    def sub_commit(self, level: int) -> None:
        if not self.in_xact or self.level < level:
            return
        while self.level >= level:
            current = self.level
            if self._savepoint_queued(current):
                self._pending.remove((current, f"SAVEPOINT s{current}"))
            else:
                self._pending.append((current - 1, f"RELEASE SAVEPOINT s{current}"))
            for name, at in self._cursors.items():
                if at >= current:
                    self._cursors[name] = current - 1
            self._pending = [(min(at, current - 1), s) for at, s in self._pending]
            self.level = current - 1

    def sub_rollback(self, level: int) -> None:
        if not self.in_xact or self.level < level:
            return
        queued = self._savepoint_queued(level)
        # What was queued inside the rolled-back levels is moot now.
        self._pending = [(at, s) for at, s in self._pending if at < level]
        self._cursors = {name: at for name, at in self._cursors.items() if at < level}
        self.level = level - 1
        if queued or self.broken:
            return
        if not self._send_quietly(f"ROLLBACK TO SAVEPOINT s{level}; "
                                  f"RELEASE SAVEPOINT s{level}"):
            self.close()
            self.broken = True      # the transaction is lost: fail until it ends
            raise ConnectionFailure("could not roll back to a savepoint on the remote server",
                                    hint="Roll back the transaction.")

    def _commit(self, gid: str | None = None) -> bool:
        """COMMIT the remote transaction, or with ``gid`` PREPARE TRANSACTION it; whether
        there was one to end."""
        if not self.in_xact:
            return False
        if not self.sent_begin:
            self._reset_xact()
            return False
        if self._pg is not None and self._pg.closed == 0 and \
                self._pg.info.transaction_status == ext.TRANSACTION_STATUS_INERROR:
            self._reset_xact()
            self._rollback_quietly()
            raise FdwError("the remote transaction was aborted by an earlier error",
                           sqlstate="25P02")
        statement, params = ("COMMIT", ()) if gid is None else ("PREPARE TRANSACTION %s",
                                                               (gid,))
        try:
            cur = self._run(statement, params, None)
        finally:
            self._reset_xact()
        status = cur.statusmessage
        cur.close()
        if status != statement.replace(" %s", ""):
            raise FdwError("the remote transaction could not commit (it was rolled back)",
                           sqlstate="40000")
        return True

    def pre_commit(self) -> None:
        """The local transaction commits: commit the remote one, in the order the
        bridge calls the connections; an error aborts the local transaction.

        Without two_phase a later connection failing leaves the earlier ones committed
        (postgres_fdw's window): the error says which. With two_phase the remote
        transaction is only prepared here -- PREPARE TRANSACTION checks everything
        COMMIT would -- and commit() commits it after the local commit, while
        rollback() rolls it back if the local transaction aborts after all.
        """
        if self.broken:
            self.broken = False
            raise _commit_failure(ConnectionFailure(
                f"the connection to remote {self.params.describe()} was lost in this "
                f"transaction; its remote changes are lost"), self.params)
        gid = f"sgfdw_{os.getpid()}_{uuid.uuid4().hex}" if self.params.two_phase else None
        try:
            ended = self._commit(gid)
        except FdwError as exc:
            if gid is not None and isinstance(exc, ConnectionLost):
                self._prepared = gid    # perhaps prepared: rollback() must try to undo it
            raise _commit_failure(exc, self.params) from None
        if ended and gid is not None:
            self._prepared = gid
        elif ended:
            _committed_now.append(self.params.describe())

    def commit(self) -> None:
        """The local transaction committed: COMMIT PREPARED what pre_commit prepared
        (without two_phase, pre_commit committed, where a failure could still abort
        locally). A failure can only be reported (the bridge warns): it names the
        prepared transaction left on the remote server, to be committed there by hand."""
        _committed_now.clear()
        gid, self._prepared = self._prepared, None
        try:
            if gid is not None:
                self._finish_prepared("COMMIT", gid)
        finally:
            self._end_of_transaction()

    def _finish_prepared(self, action: str, gid: str) -> None:
        # A prepared transaction belongs to no session: a new connection can finish it.
        try:
            self.command(f"{action} PREPARED %s", (gid,))
        except FdwError as exc:
            if action == "ROLLBACK" and exc.sqlstate == "42704":
                return          # it was never prepared (the PREPARE was lost on the way)
            raise FdwError(f'could not {action.lower()} prepared transaction "{gid}" on '
                           f'remote {self.params.describe()}: {exc}',
                           hint=f"Run {action} PREPARED '{gid}' on the remote server.",
                           sqlstate=exc.sqlstate) from None

    def _rollback_quietly(self) -> None:
        if not self._send_quietly("ROLLBACK"):
            self.close()

    def rollback(self) -> None:
        """The local transaction aborted: roll back the remote one (a prepared one with
        ROLLBACK PREPARED; only its failure raises, for the bridge to warn)."""
        _committed_now.clear()
        gid, self._prepared = self._prepared, None
        was_sent = self.in_xact and self.sent_begin
        self._reset_xact()
        self.broken = False
        try:
            if was_sent:
                self._rollback_quietly()
            if gid is not None:
                self._finish_prepared("ROLLBACK", gid)
        finally:
            self._end_of_transaction()

    def _end_of_transaction(self) -> None:
        # keep_connections 'off' (postgres_fdw's): no remote session outlives the local
        # transaction.
        if not self.params.keep_connections:
            self.close()


# The remote servers pre_commit has committed in the current local transaction (without
# two_phase), named when a later one fails to commit.
_committed_now: list[str] = []


def _commit_failure(exc: FdwError, params: ConnectionParams) -> FdwError:
    """``exc`` (a remote COMMIT or PREPARE failing) saying which servers committed."""
    lines = [exc.detail] if exc.detail else []
    if isinstance(exc, ConnectionLost):
        # Lost while the COMMIT was on its way: it may have been done, or not.
        lines.append(f"Whether the remote transaction on {params.describe()} committed is "
                     f"unknown.")
    else:
        lines.append(f"The remote transaction on {params.describe()} is rolled back.")
    if _committed_now:
        lines.append("Already committed, and not undone: the remote transaction on "
                     + ", ".join(_committed_now) + ".")
        exc.hint = exc.hint or ("With two_phase 'true' on the servers, a local transaction "
                                "commits on all of its remote servers or on none.")
    exc.detail = "\n".join(lines)
    return exc


_connections: dict[str, RemoteConnection] = {}


def _key(params: ConnectionParams) -> str:
    # A digest, so that the cache holds no password in its keys.
    return hashlib.sha256(repr(dataclasses.astuple(params)).encode("utf-8")).hexdigest()


def get_connection(params: ConnectionParams) -> RemoteConnection:
    """The backend's connection for these parameters (not opened yet if new)."""
    key = _key(params)
    conn = _connections.get(key)
    if conn is None:
        conn = _connections[key] = RemoteConnection(params)
    return conn


def forget_connections() -> None:
    """Close every cached connection (for tests and scripts)."""
    for conn in _connections.values():
        conn.close()
    _connections.clear()
