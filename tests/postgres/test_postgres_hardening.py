"""PostgresFdw hardening (issue 10): what a non-superuser's user mapping may do, where
credentials may be written, which object's option wins, what a killed or silent remote
does to a query, how errors read, and commits across several remote servers.

`guarded` is a remote cluster of this module's own whose pg_hba asks every role but
the superuser for a password (scram-sha-256) and that allows prepared transactions.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from harness import Cluster
from pgfdw_helpers import (PASSWORD, WRAPPER, assert_usable, connect_fdw, error_of,
                           error_text, execute, option_error, options_sql)

ALICE_PASSWORD = "alice-Pw'1"
PLAIN = "plain_hardening"


@pytest.fixture(scope="module")
def guarded():
    cluster = Cluster("guarded", settings={"max_prepared_transactions": 10,
                                           "password_encryption": "scram-sha-256"})
    try:
        cluster.init()
        # Opening the file for writing keeps its owner (the postgres user).
        with open(cluster.data_dir / "pg_hba.conf", "w") as hba:
            hba.write("local all postgres trust\nlocal all all scram-sha-256\n")
        cluster.start()
        cluster.sql(sql.SQL("CREATE ROLE alice LOGIN PASSWORD {}").format(
            sql.Literal(ALICE_PASSWORD)))
        cluster.sql("CREATE SCHEMA src; GRANT USAGE ON SCHEMA src TO alice; "
                    "CREATE TABLE src.t (id int PRIMARY KEY, v text); "
                    "INSERT INTO src.t SELECT g, 'v' || g FROM generate_series(1, 5) g; "
                    "GRANT ALL ON src.t TO alice; "
                    "CREATE VIEW src.slow AS SELECT pg_sleep(20)::text AS s, 1 AS x; "
                    "CREATE TABLE src.uniq (id int PRIMARY KEY, "
                    "                       code text UNIQUE DEFERRABLE INITIALLY DEFERRED); "
                    # A commit that takes 20 s: time to lose the connection during it.
                    "CREATE TABLE src.slow_commit (id int); "
                    "CREATE FUNCTION src.sleep() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$BEGIN PERFORM pg_sleep(20); RETURN NULL; END$$; "
                    "CREATE CONSTRAINT TRIGGER sleep AFTER INSERT ON src.slow_commit "
                    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION src.sleep()")
        yield cluster
    finally:
        cluster.cleanup()


@pytest.fixture(scope="module")
def passfile(guarded) -> str:
    """A password file of the server's OS user that knows alice's password."""
    path = Path(guarded.base_dir) / "pgpass"
    path.write_text(f"*:*:*:alice:{ALICE_PASSWORD.replace(chr(92), chr(92) * 2)}\n")
    path.chmod(0o600)       # libpq ignores a password file others can read
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
    return str(path)


@pytest.fixture
def gdb(db, guarded):
    """Server rsrv over `guarded` (superuser mapping: trust), src imported into f, and a
    local non-superuser role PLAIN allowed to use all of it."""
    connect_fdw(db, guarded, server_options={"dbname": "postgres"})
    execute(db, sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(PLAIN)))
    try:
        execute(db, sql.SQL("GRANT USAGE ON FOREIGN SERVER rsrv TO {0}; "
                            "GRANT USAGE ON SCHEMA f TO {0}; "
                            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA f "
                            "TO {0}; CREATE SCHEMA p AUTHORIZATION {0}").format(
            sql.Identifier(PLAIN)))
        yield db
    finally:
        if db.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            execute(db, "ROLLBACK")     # a failed test may leave one open
        execute(db, "RESET ROLE")
        execute(db, sql.SQL("DROP OWNED BY {0}; DROP ROLE {0}").format(sql.Identifier(PLAIN)))


def plain_mapping(db, options: dict[str, str]) -> None:
    execute(db, sql.SQL("CREATE USER MAPPING FOR {} SERVER rsrv OPTIONS ({})").format(
        sql.Identifier(PLAIN), options_sql(options)))


@contextlib.contextmanager
def as_plain(db):
    execute(db, sql.SQL("SET ROLE {}").format(sql.Identifier(PLAIN)))
    try:
        yield
    finally:
        execute(db, "RESET ROLE")


def assert_refused(db, message: str, secret: str = ALICE_PASSWORD) -> None:
    """Scans and IMPORT FOREIGN SCHEMA as PLAIN fail with 42501 and `message`."""
    with as_plain(db):
        for query in ("SELECT count(*) FROM f.t",
                      "IMPORT FOREIGN SCHEMA src FROM SERVER rsrv INTO p"):
            error = error_of(db, query)
            assert error.pgcode == "42501", error_text(error)
            assert message in error.diag.message_primary, error_text(error)
            assert secret not in error_text(error)
            assert_usable(db)


# ---------------------------------------------------------------- S2: password_required

def test_non_superuser_with_its_own_password_connects(gdb):
    plain_mapping(gdb, {"user": "alice", "password": ALICE_PASSWORD})
    with as_plain(gdb):
        assert execute(gdb, "SELECT id, v FROM f.t ORDER BY id") == [
            (i, f"v{i}") for i in range(1, 6)]
        execute(gdb, "IMPORT FOREIGN SCHEMA src FROM SERVER rsrv INTO p")
        assert execute(gdb, "SELECT count(*) FROM p.t") == [(5,)]


@pytest.mark.parametrize("password", [None, ""], ids=["no password", "empty password"])
def test_non_superuser_cannot_use_a_passfile(gdb, passfile, password):
    # libpq would read alice's password from the server's file and report that it
    # used a password: the user mapping must have supplied it.
    options = {"user": "alice", "passfile": passfile}
    if password is not None:
        options["password"] = password
    plain_mapping(gdb, options)
    assert_refused(gdb, 'option "passfile" is for superusers only')


def test_non_superuser_password_must_come_from_the_user_mapping(gdb, passfile):
    # The server (a superuser's) names the passfile; the mapping brings no password.
    execute(gdb, sql.SQL("ALTER SERVER rsrv OPTIONS (ADD passfile {})").format(
        sql.Literal(passfile)))
    plain_mapping(gdb, {"user": "alice"})
    assert_refused(gdb, "password is required")
    # A password in the mapping makes it work.
    execute(gdb, sql.SQL("ALTER USER MAPPING FOR {} SERVER rsrv OPTIONS (ADD password {})"
                         ).format(sql.Identifier(PLAIN), sql.Literal(ALICE_PASSWORD)))
    with as_plain(gdb):
        assert execute(gdb, "SELECT count(*) FROM f.t") == [(5,)]


@pytest.mark.parametrize("option,value", [
    ("sslkey", "/etc/ssl/private/ssl-cert-snakeoil.key"), ("sslcert", "/etc/passwd"),
    ("sslrootcert", "/etc/passwd"), ("sslcrl", "/etc/passwd"), ("service", "anything"),
    ("host", "/tmp"), ("hostaddr", "127.0.0.1"), ("port", "5432"), ("dbname", "template1"),
])
def test_non_superuser_mapping_cannot_read_files_or_change_the_target(gdb, option, value):
    plain_mapping(gdb, {"user": "alice", "password": ALICE_PASSWORD, option: value})
    assert_refused(gdb, f'option "{option}" is for superusers only')


def test_superuser_may_use_a_passfile(gdb, passfile):
    execute(gdb, sql.SQL("ALTER USER MAPPING FOR CURRENT_USER SERVER rsrv OPTIONS "
                         "(SET user 'alice', DROP password, ADD passfile {})").format(
        sql.Literal(passfile)))
    assert execute(gdb, "SELECT count(*) FROM f.t") == [(5,)]


def test_non_superuser_creating_a_mapping_with_a_passfile(gdb, passfile):
    # Refused when the mapping is written (the extension's option check).
    with as_plain(gdb):
        error = error_of(gdb, sql.SQL("CREATE USER MAPPING FOR CURRENT_USER SERVER rsrv "
                                      "OPTIONS (user 'alice', password '', passfile {})"
                                      ).format(sql.Literal(passfile)))
    assert error.pgcode == "42501", error_text(error)
    assert 'option "passfile" is for superusers only' in error.diag.message_primary
    assert_usable(gdb)
    assert execute(gdb, sql.SQL("SELECT count(*) FROM pg_user_mappings WHERE usename = {}"
                                ).format(sql.Literal(PLAIN))) == [(0,)]


def test_validate_options(monkeypatch):
    from sgfdw.errors import InsufficientPrivilege, OptionError
    from sgfdw.postgres import PostgresFdw

    PostgresFdw.validate_options("user_mapping", {"user": "u", "passfile": "/x"})
    monkeypatch.setattr("sgfdw.postgres.fdw.is_superuser", lambda: False)
    with pytest.raises(InsufficientPrivilege, match='"passfile"'):
        PostgresFdw.validate_options("user_mapping", {"user": "u", "passfile": "/x"})
    PostgresFdw.validate_options("user_mapping", {"user": "u", "password": "p"})
    for context, options, message in [
            ("server", {"password": "p"}, 'invalid option "password" for a server'),
            ("server", {"user": "u"}, 'invalid option "user" for a server'),
            ("server", {"table_name": "t"}, 'invalid option "table_name" for a server'),
            ("table", {"host": "h"}, 'invalid option "host" for a foreign table'),
            ("table", {"fetch_size": "ten"}, 'option "fetch_size" must be a positive'),
            ("server", {"port": "abc"}, 'option "port" must be a whole number'),
            ("column", {"colum_name": "x"}, 'invalid option "colum_name" for a column')]:
        with pytest.raises(OptionError, match=message):
            PostgresFdw.validate_options(context, options)
    PostgresFdw.validate_options("server", {"host": "h", "port": "1,2", "fetch_size": "9"})
    PostgresFdw.validate_options("table", {"table_name": "t", "updatable": "false"})


# ---------------------------------------------------------------- 5: credentials

@contextlib.contextmanager
def options_unchecked(db):
    """The extension's option check off: objects as written before it existed (an
    upgraded installation), for what first use must refuse on its own."""
    execute(db, "ALTER EVENT TRIGGER sgfdw_check_options DISABLE")
    try:
        yield
    finally:
        execute(db, "ALTER EVENT TRIGGER sgfdw_check_options ENABLE")


@pytest.mark.parametrize("option", ["password", "user"])
def test_credentials_refused_in_server_options(db, remote, source, option):
    secret = "Srv-S3cret-value"
    server = sql.SQL("CREATE SERVER rsrv FOREIGN DATA WRAPPER sgfdw OPTIONS ({})").format(
        options_sql({"wrapper": WRAPPER, "host": str(remote.socket_dir),
                     "port": remote.port, "dbname": "pgfdw_src", option: secret}))
    # When the server is written ...
    errors = [error_of(db, server)]
    # ... and, for one written before that check, when it is used.
    with options_unchecked(db):
        execute(db, server)
    execute(db, "CREATE USER MAPPING FOR CURRENT_USER SERVER rsrv OPTIONS (user 'postgres'); "
                "CREATE FOREIGN TABLE t (id int) SERVER rsrv "
                "OPTIONS (schema_name 'src', table_name 'big')")
    errors += [error_of(db, "SELECT count(*) FROM t"),
               error_of(db, "IMPORT FOREIGN SCHEMA src FROM SERVER rsrv INTO public")]
    for error in errors:
        assert error.pgcode == "HV00D", error_text(error)
        assert f'invalid option "{option}" for a server' in error.diag.message_primary
        assert "user mapping" in error.diag.message_hint
        assert "Traceback" not in error_text(error) and secret not in error_text(error)
    assert_usable(db)


# ---------------------------------------------------------------- 4: option precedence

def test_merged_options_know_their_sources():
    from sgfdw.options import MergedOptions, option_sources, server_name

    merged = MergedOptions({"a": "table", "b": "mapping"},
                           {"table": {"a": "table"}, "server": {"wrapper": "m.C", "a": "server"},
                            "user_mapping": {"b": "mapping"}, "server_name": "srv"})
    assert merged == {"a": "table", "b": "mapping"} and isinstance(merged, dict)
    assert option_sources(merged) == {"table": {"a": "table"}, "server": {"a": "server"},
                                      "user_mapping": {"b": "mapping"}}
    assert server_name(merged) == "srv"
    assert option_sources({"a": "1"}) is None and server_name({"a": "1"}) is None
    assert option_sources(MergedOptions({"a": "1"})) is None


def test_table_option_overrides_the_servers(wdb, source):
    execute(wdb, "ALTER SERVER rsrv OPTIONS (ADD updatable 'true')")
    execute(wdb, "ALTER FOREIGN TABLE w.items OPTIONS (ADD updatable 'false')")
    for statement in ("INSERT INTO w.items (name) VALUES ('x')",
                      "UPDATE w.items SET qty = 1", "DELETE FROM w.items"):
        error = error_of(wdb, statement)
        assert error.pgcode == "55000", error_text(error)
    execute(wdb, "INSERT INTO w.nokey VALUES (1, 'a')")        # the server's value
    execute(wdb, "ALTER SERVER rsrv OPTIONS (SET updatable 'false')")
    execute(wdb, "ALTER FOREIGN TABLE w.items OPTIONS (SET updatable 'true')")
    execute(wdb, "INSERT INTO w.items (name) VALUES ('y')")
    assert execute(source, f"SELECT name FROM {wdb.schema}.items") == [("y",)]
    assert error_of(wdb, "INSERT INTO w.nokey VALUES (2, 'b')").pgcode == "55000"


# ---------------------------------------------------------------- 2: never sent twice

def _running(guarded, pattern: str) -> list[tuple]:
    return guarded.sql("SELECT pid FROM pg_stat_activity WHERE application_name = 'sgfdw' "
                       "AND state = 'active' AND query LIKE %s", (pattern,))


def _in_thread(conn, query: str) -> tuple[threading.Thread, dict]:
    """``query`` running in a thread; its outcome: {"rows": ...} or {"error": ...}."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["rows"] = execute(conn, query)
        except psycopg2.Error as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _kill_while_running(db, guarded, query: str, pattern: str) -> tuple[psycopg2.Error, float]:
    """Run ``query`` locally; terminate the remote backend once its remote statement
    (``pattern``, LIKE) runs. The local error and the seconds the query took."""
    start = time.monotonic()
    thread, outcome = _in_thread(db, query)
    deadline = time.monotonic() + 10
    while not (running := _running(guarded, pattern)):
        assert time.monotonic() < deadline, "the remote statement never started"
        time.sleep(0.05)
    guarded.sql("SELECT pg_terminate_backend(%s, 5000)", running[0])
    thread.join(60)
    elapsed = time.monotonic() - start
    assert "error" in outcome, f"succeeded after {elapsed:.1f} s: {outcome}"
    return outcome["error"], elapsed


@pytest.mark.parametrize("in_transaction", [False, True], ids=["autocommit", "transaction"])
def test_statement_killed_while_running_is_not_sent_again(gdb, guarded, in_transaction):
    if in_transaction:
        execute(gdb, "BEGIN")
    error, elapsed = _kill_while_running(gdb, guarded, "SELECT x FROM f.slow",
                                         "%\"slow\"%")
    # An error, at once -- not a second 20 s run on a new connection.
    assert error.pgcode in ("08006", "57P01"), error_text(error)
    assert 'remote server "rsrv"' in error.diag.message_primary, error_text(error)
    assert elapsed < 15, elapsed
    assert _running(guarded, "%pg_sleep%") == []
    if in_transaction:
        execute(gdb, "ROLLBACK")
    assert_usable(gdb)
    assert execute(gdb, "SELECT count(*) FROM f.t") == [(5,)]


def test_connection_killed_between_queries_reconnects(gdb, guarded):
    def sessions():
        return guarded.sql("SELECT pid FROM pg_stat_activity WHERE application_name = 'sgfdw'")

    assert execute(gdb, "SELECT count(*) FROM f.t") == [(5,)]
    before = sessions()
    assert execute(gdb, "SELECT count(*) FROM f.t WHERE id > 2") == [(3,)]
    assert sessions() == before         # a healthy idle connection is kept
    guarded.sql("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                "WHERE application_name = 'sgfdw'")
    # Found dead before anything was sent: a fresh connection, silently.
    assert execute(gdb, "SELECT count(*) FROM f.t") == [(5,)]


# ---------------------------------------------------------------- 7: connect_timeout

@pytest.fixture
def silent_port():
    """A TCP port on 127.0.0.1 that accepts connections (the kernel completes them from
    the backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


@pytest.mark.parametrize("timeout,bounds", [("2", (1.5, 6)), (None, (9, 16))],
                         ids=["connect_timeout 2", "default 10 s"])
def test_connect_timeout_against_a_silent_server(db, silent_port, timeout, bounds):
    server = {"wrapper": WRAPPER, "host": "127.0.0.1", "port": silent_port, "dbname": "x"}
    if timeout is not None:
        server["connect_timeout"] = timeout
    execute(db, sql.SQL("CREATE SERVER silent FOREIGN DATA WRAPPER sgfdw OPTIONS ({}); "
                        "CREATE USER MAPPING FOR CURRENT_USER SERVER silent OPTIONS ({}); "
                        "CREATE FOREIGN TABLE t (id int) SERVER silent "
                        "OPTIONS (table_name 't')").format(
        options_sql(server), options_sql({"user": "postgres", "password": PASSWORD})))
    execute(db, "SET statement_timeout = '30s'")    # the old behaviour: hang until this
    start = time.monotonic()
    error = error_of(db, "SELECT * FROM t")
    elapsed = time.monotonic() - start
    assert error.pgcode == "08006", error_text(error)
    assert bounds[0] <= elapsed <= bounds[1], elapsed
    assert error.diag.message_primary == (
        f'could not connect to remote server "silent" (127.0.0.1:{silent_port})')
    assert "timeout expired" in error.diag.message_detail
    assert PASSWORD not in error_text(error)
    assert_usable(db)


def test_mount_against_a_silent_server(db, silent_port):
    start = time.monotonic()
    error = error_of(db, "SELECT sgfdw.mount_postgres('m', '127.0.0.1', %s, 'postgres', %s, "
                         "'x', 'src', NULL, '{\"connect_timeout\": \"2\"}')",
                     (silent_port, PASSWORD))
    assert error.pgcode == "08006", error_text(error)
    assert time.monotonic() - start < 8
    assert PASSWORD not in error_text(error)
    assert_usable(db)


# ---------------------------------------------------------------- 10: errors users cause

def assert_user_error(error: psycopg2.Error, code: str, *, secret: str | None = None) -> None:
    assert error.pgcode == code, error_text(error)
    assert "Traceback" not in error_text(error), error_text(error)
    if secret:
        assert secret not in error_text(error)


def test_wrong_password_names_the_server(gdb, guarded):
    execute(gdb, "ALTER USER MAPPING FOR CURRENT_USER SERVER rsrv OPTIONS "
                 "(SET user 'alice', SET password 'Wr0ng-secret')")
    error = error_of(gdb, "SELECT count(*) FROM f.t")
    assert_user_error(error, "08006", secret="Wr0ng-secret")
    assert error.diag.message_primary == (
        f'could not connect to remote server "rsrv" ({guarded.socket_dir}:{guarded.port})')
    assert 'password authentication failed for user "alice"' in error.diag.message_detail
    assert_usable(gdb)


def test_connection_error_keeps_libpq_lines(db, remote, source):
    # Two hosts, both missing: libpq reports one line per host tried.
    connect_fdw(db, remote, schema=None,
                server_options={"host": "/nonexistent-a,/nonexistent-b"})
    execute(db, "CREATE FOREIGN TABLE t (id int) SERVER rsrv OPTIONS (table_name 'big')")
    error = error_of(db, "SELECT * FROM t")
    assert_user_error(error, "08006", secret=PASSWORD)
    assert 'remote server "rsrv" (/nonexistent-a,/nonexistent-b:' in error.diag.message_primary
    lines = error.diag.message_detail.splitlines()
    assert len(lines) == 2 and all(line.startswith("connection to server") for line in lines)
    assert "/nonexistent-a/" in lines[0] and "/nonexistent-b/" in lines[1]


def test_errors_users_cause_carry_no_traceback(fdb):
    error = error_of(fdb, "IMPORT FOREIGN SCHEMA no_such_schema FROM SERVER rsrv INTO public")
    assert_user_error(error, "HV00N")
    assert 'schema "no_such_schema" is not present on foreign server "rsrv"' in str(error)
    execute(fdb, "CREATE FOREIGN TABLE gone (id int) SERVER rsrv "
                 "OPTIONS (schema_name 'src', table_name 'no_such_table')")
    assert_user_error(error_of(fdb, "SELECT * FROM gone"), "42P01")
    assert_user_error(error_of(fdb, "SELECT no_such_column FROM f.big"), "42703")
    assert_user_error(option_error(fdb, "ALTER FOREIGN TABLE f.big OPTIONS (ADD fetch_size 'ten')",
                                   "SELECT * FROM f.big"), "HV00D")
    assert_usable(fdb)


# ---------------------------------------------------------------- commits on two servers

@pytest.fixture
def two_servers(gdb, guarded):
    """Servers rsrv (src imported into f) and rsrv2 (into g) over `guarded`: two remote
    connections, two remote transactions in one local transaction."""
    connect_fdw(gdb, guarded, server="rsrv2", schema="g", server_options={"dbname": "postgres"})
    guarded.sql("TRUNCATE src.uniq")
    return gdb


def _prepared(guarded) -> list[tuple]:
    return guarded.sql("SELECT gid FROM pg_prepared_xacts")


@pytest.mark.parametrize("two_phase", [False, True], ids=["one phase", "two_phase"])
def test_second_server_failing_at_commit(two_servers, guarded, two_phase):
    db = two_servers
    if two_phase:
        execute(db, "ALTER SERVER rsrv OPTIONS (ADD two_phase 'true'); "
                    "ALTER SERVER rsrv2 OPTIONS (ADD two_phase 'true')")
    execute(db, "BEGIN")
    execute(db, "INSERT INTO f.uniq VALUES (1, 'a')")               # rsrv
    execute(db, "INSERT INTO g.uniq VALUES (2, 'b'), (3, 'b')")     # rsrv2: fails at COMMIT
    error = error_of(db, "COMMIT")
    assert error.pgcode == "23505", error_text(error)
    detail = error.diag.message_detail
    assert 'The remote transaction on server "rsrv2"' in detail, detail
    if two_phase:
        # Prepared on rsrv, refused by rsrv2: rsrv's is rolled back too.
        assert guarded.sql("SELECT id FROM src.uniq") == []
        assert "Already committed" not in detail
    else:
        # postgres_fdw's window: rsrv committed first -- and the error says so.
        assert guarded.sql("SELECT id FROM src.uniq") == [(1,)]
        assert ('Already committed, and not undone: the remote transaction on server "rsrv" '
                in detail), detail
        assert "two_phase" in error.diag.message_hint
    assert _prepared(guarded) == []
    assert_usable(db)
    assert execute(db, "SELECT count(*) FROM g.uniq") == [(len(guarded.sql(
        "SELECT 1 FROM src.uniq")),)]


def test_two_phase_commit(two_servers, guarded):
    db = two_servers
    execute(db, "ALTER SERVER rsrv OPTIONS (ADD two_phase 'true'); "
                "ALTER SERVER rsrv2 OPTIONS (ADD two_phase 'true')")
    execute(db, "BEGIN")
    execute(db, "INSERT INTO f.uniq VALUES (1, 'a')")
    execute(db, "INSERT INTO g.uniq VALUES (2, 'b')")
    execute(db, "COMMIT")
    assert guarded.sql("SELECT id FROM src.uniq ORDER BY id") == [(1,), (2,)]
    assert _prepared(guarded) == []
    execute(db, "BEGIN")
    execute(db, "DELETE FROM f.uniq")
    execute(db, "ROLLBACK")
    assert guarded.sql("SELECT id FROM src.uniq ORDER BY id") == [(1,), (2,)]
    execute(db, "DELETE FROM g.uniq WHERE id = 2")                  # autocommit
    assert guarded.sql("SELECT id FROM src.uniq ORDER BY id") == [(1,)]
    assert _prepared(guarded) == []


def test_two_phase_needs_prepared_transactions_on_the_remote(wdb, source):
    # The `remote` cluster has max_prepared_transactions = 0: a clear error, nothing kept.
    execute(wdb, "ALTER SERVER rsrv OPTIONS (ADD two_phase 'true')")
    execute(wdb, "BEGIN")
    execute(wdb, "INSERT INTO w.items (name) VALUES ('x')")
    error = error_of(wdb, "COMMIT")
    assert error.pgcode == "55000", error_text(error)
    assert "prepared transactions are disabled" in error.diag.message_primary
    assert 'server "rsrv"' in error.diag.message_detail
    assert execute(source, f"SELECT count(*) FROM {wdb.schema}.items") == [(0,)]
    assert_usable(wdb)


@pytest.mark.parametrize("two_phase", [False, True], ids=["one phase", "two_phase"])
def test_connection_lost_during_commit(gdb, guarded, two_phase):
    guarded.sql("TRUNCATE src.slow_commit")
    execute(gdb, "CREATE SCHEMA q; "
                 "IMPORT FOREIGN SCHEMA src LIMIT TO (slow_commit) FROM SERVER rsrv INTO q")
    if two_phase:
        execute(gdb, "ALTER SERVER rsrv OPTIONS (ADD two_phase 'true')")
    execute(gdb, "BEGIN")
    execute(gdb, "INSERT INTO q.slow_commit VALUES (1)")
    error, elapsed = _kill_while_running(gdb, guarded, "COMMIT",
                                         "PREPARE%" if two_phase else "%COMMIT")
    assert error.pgcode in ("08006", "57P01"), error_text(error)
    assert 'Whether the remote transaction on server "rsrv"' in error.diag.message_detail
    assert elapsed < 15, elapsed
    # Killed mid-commit, it was not done; a PREPARE that did not happen is not undone
    # with a warning either.
    assert guarded.sql("SELECT count(*) FROM src.slow_commit") == [(0,)]
    assert _prepared(guarded) == []
    assert not [notice for notice in gdb.notices if "WARNING" in notice], gdb.notices
    assert_usable(gdb)
    assert execute(gdb, "SELECT count(*) FROM q.slow_commit") == [(0,)]


def test_commit_prepared_failing_after_the_local_commit(gdb, guarded, remote, source):
    """The remote of a prepared transaction goes away before COMMIT PREPARED: the local
    transaction stays committed, a WARNING names the prepared transaction, which is
    still there to commit by hand."""
    guarded.sql("TRUNCATE src.uniq")
    execute(gdb, "ALTER SERVER rsrv OPTIONS (ADD two_phase 'true')")
    # A second server whose COMMIT takes 5 s: the time to stop the first one's remote.
    execute(source, "CREATE SCHEMA hc; CREATE TABLE hc.slow_commit (id int); "
                    "CREATE FUNCTION hc.sleep() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$BEGIN PERFORM pg_sleep(5); RETURN NULL; END$$; "
                    "CREATE CONSTRAINT TRIGGER sleep AFTER INSERT ON hc.slow_commit "
                    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION hc.sleep()")
    try:
        connect_fdw(gdb, remote, server="rsrv2", schema="h", remote_schema="hc")
        execute(gdb, "CREATE TABLE local_rows (id int); BEGIN; "
                     "INSERT INTO local_rows VALUES (1)")
        execute(gdb, "INSERT INTO f.uniq VALUES (1, 'a')")         # rsrv: prepared first
        execute(gdb, "INSERT INTO h.slow_commit VALUES (1)")        # rsrv2: then committed
        thread, outcome = _in_thread(gdb, "COMMIT")
        deadline = time.monotonic() + 10
        while not remote.sql("SELECT 1 FROM pg_stat_activity WHERE application_name = "
                             "'sgfdw' AND state = 'active' AND query LIKE '%COMMIT'",
                             dbname="pgfdw_src"):
            assert time.monotonic() < deadline, "rsrv2's COMMIT never started"
            time.sleep(0.05)
        guarded.stop()
        thread.join(30)
        assert "rows" in outcome, outcome
        assert execute(source, "SELECT count(*) FROM hc.slow_commit") == [(1,)]  # committed
    finally:
        if not guarded.is_running():
            guarded.start()
        execute(source, "DROP SCHEMA hc CASCADE")
    warnings = [notice for notice in gdb.notices if 'prepared transaction "sgfdw_' in notice]
    assert len(warnings) == 1 and 'on remote server "rsrv"' in warnings[0], gdb.notices
    ((gid,),) = _prepared(guarded)
    assert f'"{gid}"' in warnings[0]
    guarded.sql(sql.SQL("COMMIT PREPARED {}").format(sql.Literal(gid)))
    assert guarded.sql("SELECT id FROM src.uniq") == [(1,)]
    assert execute(gdb, "SELECT id FROM local_rows") == [(1,)]
    assert_usable(gdb)
