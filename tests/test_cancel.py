"""Query cancel and statement_timeout interrupt Python code that sleeps, spins or waits
on a socket inside execute(); the session stays usable and the next query is not hit by
a stale interrupt. (Functional checks: the time bounds are generous.)"""

from __future__ import annotations

import socket
import threading
import time

import psycopg2
import pytest

from fdwtest import assert_usable, create_people, error_of, execute

UPPER_BOUND = 10.0  # seconds


@pytest.fixture
def peer():
    """A TCP peer on 127.0.0.1 that accepts the FDW's connection and sends nothing; it
    closes the connection after UPPER_BOUND + 1 s so that recv() returns even if the
    cancel never reaches Python."""
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def serve():
        listener.settimeout(UPPER_BOUND + 1)
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            done.wait(UPPER_BOUND + 1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield "127.0.0.1:%d" % listener.getsockname()[1]
    done.set()
    listener.close()
    thread.join(UPPER_BOUND + 2)


@pytest.fixture(params=["sleep", "loop", "socket"])
def blocking(request):
    """Table options that make execute() block: time.sleep(30), a pure Python loop
    (gives up after 20 s), a recv() on a socket."""
    if request.param == "sleep":
        return {"sleep": "30"}
    if request.param == "loop":
        return {"loop": "true"}
    return {"socket_wait": request.getfixturevalue("peer")}


def cancel_when_running(pg, dbname, pid, function="pg_cancel_backend"):
    """From another connection, once the backend runs a query for half a second."""
    def run():
        conn = pg.connect(dbname)
        try:
            deadline = time.monotonic() + UPPER_BOUND
            while time.monotonic() < deadline:
                state = pg_state(conn, pid)
                if state == "active":
                    time.sleep(0.5)  # let it get deep into the Python call
                    execute(conn, f"SELECT {function}(%s)", (pid,))
                    return
                time.sleep(0.05)
        finally:
            conn.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def pg_state(conn, pid):
    rows = execute(conn, "SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,))
    return rows[0][0] if rows else None


def blocking_table(db, options):
    """`people` with the blocking options, after a first query through the bridge, so
    that the interpreter start-up is not part of the timed query and the interrupt
    arrives while Python blocks."""
    create_people(db, local=False, **options)
    execute(db, "CREATE FOREIGN TABLE warm (id int) SERVER rec OPTIONS (dataset 'people')")
    assert execute(db, "SELECT count(*) FROM warm") == [(12,)]


def run_timed(db, query):
    start = time.monotonic()
    error = error_of(db, query)
    return error, time.monotonic() - start


def check_session_after_cancel(db):
    assert_usable(db)
    # The table without its blocking option, in the same session: Python runs again
    # and nothing left over from the cancel interrupts it.
    for option in ("sleep", "loop", "socket_wait"):
        if execute(db, "SELECT 1 FROM pg_foreign_table, unnest(ftoptions) o "
                       "WHERE ftrelid = 'people'::regclass AND o LIKE %s", (option + "=%",)):
            execute(db, f"ALTER FOREIGN TABLE people OPTIONS (DROP {option})")
    execute(db, "ALTER FOREIGN TABLE people OPTIONS (ADD sleep '0.2')")
    for _ in range(3):
        assert execute(db, "SELECT count(*) FROM people") == [(12,)]
    assert_usable(db)


def test_pg_cancel_backend(pg, db, blocking):
    blocking_table(db, blocking)
    pid = execute(db, "SELECT pg_backend_pid()")[0][0]
    thread = cancel_when_running(pg, db.info.dbname, pid)
    error, elapsed = run_timed(db, "SELECT * FROM people")
    thread.join(UPPER_BOUND)
    assert error.pgcode == "57014", (error.pgcode, str(error))
    assert "canceling statement due to user request" in error.diag.message_primary
    assert elapsed < UPPER_BOUND
    check_session_after_cancel(db)


def test_statement_timeout(db, blocking):
    blocking_table(db, blocking)
    execute(db, "SET statement_timeout = '500ms'")
    error, elapsed = run_timed(db, "SELECT * FROM people")
    assert error.pgcode == "57014", (error.pgcode, str(error))
    assert "statement timeout" in error.diag.message_primary
    assert 0.4 < elapsed < UPPER_BOUND
    # Still under the timeout: queries shorter than it run fine.
    check_session_after_cancel(db)
    execute(db, "RESET statement_timeout")


def test_cancel_in_transaction_then_rollback(pg, db):
    blocking_table(db, {"sleep": "30"})
    pid = execute(db, "SELECT pg_backend_pid()")[0][0]
    db.autocommit = False
    try:
        thread = cancel_when_running(pg, db.info.dbname, pid)
        error, elapsed = run_timed(db, "SELECT * FROM people")
        thread.join(UPPER_BOUND)
        assert error.pgcode == "57014" and elapsed < UPPER_BOUND
        db.rollback()
        assert_usable(db)
    finally:
        db.rollback()
        db.autocommit = True
    check_session_after_cancel(db)


def test_terminate_backend_during_python(pg, db):
    blocking_table(db, {"sleep": "30"})
    pid = execute(db, "SELECT pg_backend_pid()")[0][0]
    thread = cancel_when_running(pg, db.info.dbname, pid, "pg_terminate_backend")
    error, elapsed = run_timed(db, "SELECT * FROM people")
    thread.join(UPPER_BOUND)
    assert isinstance(error, psycopg2.OperationalError)
    assert elapsed < UPPER_BOUND
    # Only that session ended; the server was not restarted (no crash).
    assert pg.sql("SELECT 1") == [(1,)]
    log = pg.log_tail(200)
    assert "terminated by signal" not in log and "was terminated" not in log
