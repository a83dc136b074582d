"""Cancel and statement_timeout for a remote statement that is running.

The bridge forwards PostgreSQL's interrupts to Python as a KeyboardInterrupt, and turns
a KeyboardInterrupt coming back into PostgreSQL's own report ("canceling statement due
to statement timeout" / "... user request", 57014). A driver that waits in C never
lets Python see it: a 1 s statement_timeout took a remote statement's full 30 s. So:

* psycopg2: a wait callback makes the driver wait in select(), which the interrupt
  breaks; the callback then sends the remote a cancel request (so the remote statement
  stops, not only our wait) and raises the interrupt again. psycopg2 closes a connection
  whose wait callback failed, and SQLAlchemy drops it from its pool. The callback is
  process-wide ("green" mode: no COPY and no large objects on synchronous psycopg2
  connections), which suits a backend: sgfdw.postgres uses asynchronous connections,
  which do their own waiting and are not affected. It is only set in a backend: a plain
  Python process keeps its own psycopg2 mode.
* SQLite: a progress handler enters Python every SQLITE_CHECK_INTERVAL VM instructions;
  entering Python runs the pending signal handler, the KeyboardInterrupt makes sqlite3
  abort the statement ("interrupted", 57014).
* Other drivers wait in C until the remote answers.
"""
from __future__ import annotations

import contextlib
import select
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

__all__ = ["make_interruptible", "SQLITE_CHECK_INTERVAL"]

# SQLite VM instructions between two checks for an interrupt (about a millisecond).
SQLITE_CHECK_INTERVAL = 10000


def _python_runs() -> int:
    """SQLite's progress handler: 0 (go on) unless entering Python raised the pending
    interrupt, which aborts the statement."""
    return 0


def _wait(conn: Any) -> None:
    """psycopg2's wait callback: psycopg2.extras.wait_select, except that an interrupt
    cancels the remote statement and is raised again, so that PostgreSQL reports its own
    cancel or timeout (wait_select would wait on for the remote's error)."""
    import psycopg2.extensions as ext

    while True:
        try:
            state = conn.poll()
            if state == ext.POLL_OK:
                return
            if state == ext.POLL_READ:
                select.select([conn.fileno()], [], [])
            elif state == ext.POLL_WRITE:
                select.select([], [conn.fileno()], [])
            else:
                raise conn.OperationalError(f"bad state from poll: {state}")
        except KeyboardInterrupt:
            # Still connecting, there is nothing to cancel: the connection is dropped.
            with contextlib.suppress(Exception):
                conn.cancel()
            raise


def _psycopg2_waits_in_python() -> None:
    from sgfdw import pg

    if not pg.in_backend():
        return
    import psycopg2.extensions

    if psycopg2.extensions.get_wait_callback() is None:
        psycopg2.extensions.set_wait_callback(_wait)


def make_interruptible(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        @sa.event.listens_for(engine, "connect")
        def _progress_handler(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.set_progress_handler(_python_runs, SQLITE_CHECK_INTERVAL)
    elif engine.dialect.driver == "psycopg2":
        _psycopg2_waits_in_python()
