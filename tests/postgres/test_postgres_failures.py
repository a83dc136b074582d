"""PostgresFdw when things go wrong: a remote server restarted or down, a remote
backend killed mid-scan, remote SQL errors, bad options; credentials never shown."""

from __future__ import annotations

import re
import time

import pytest
from psycopg2 import sql

from harness import Cluster
from pgfdw_helpers import (PASSWORD, assert_usable, connect_fdw, error_of, error_text,
                           execute, explain, option_error)

SECRET_PARTS = [PASSWORD, "S3cr3t", "pässwörd"]


@pytest.fixture(scope="module")
def flaky():
    """A remote cluster of this module's own, to restart and kill at will."""
    with Cluster("flaky") as cluster:
        cluster.sql("CREATE SCHEMA src; CREATE TABLE src.big (id int PRIMARY KEY, v text); "
                    "INSERT INTO src.big SELECT g, 'v' || g FROM generate_series(1, 50000) g; "
                    "ANALYZE src.big; "
                    "CREATE VIEW src.slow AS SELECT pg_sleep(20)::text AS s, 1 AS x")
        yield cluster


@pytest.fixture
def ffdb(db, flaky):
    if not flaky.is_running():
        flaky.start()
    connect_fdw(db, flaky, server_options={"dbname": "postgres", "fetch_size": "500"})
    return db


def assert_no_secret(text: str) -> None:
    for part in SECRET_PARTS:
        assert part not in text, text


def test_remote_restarted_between_queries(ffdb, flaky):
    assert execute(ffdb, "SELECT count(*) FROM f.big") == [(50000,)]
    flaky.restart()
    # The cached connection is dead; the next query notices and reconnects.
    assert execute(ffdb, "SELECT count(*) FROM f.big") == [(50000,)]
    assert execute(ffdb, "SELECT v FROM f.big WHERE id = 7") == [("v7",)]


def test_remote_restarted_inside_a_transaction(ffdb, flaky):
    execute(ffdb, "BEGIN")
    assert execute(ffdb, "SELECT v FROM f.big WHERE id = 1") == [("v1",)]
    flaky.restart()
    # The remote transaction (and its snapshot) is gone: that is an error ...
    error = error_of(ffdb, "SELECT v FROM f.big WHERE id = 2")
    assert error.pgcode[:2] in ("08", "57"), error_text(error)
    assert_no_secret(error_text(error))
    execute(ffdb, "ROLLBACK")
    # ... and the next transaction reconnects.
    assert execute(ffdb, "SELECT v FROM f.big WHERE id = 2") == [("v2",)]


def _terminate_fdw_backends(flaky) -> int:
    # Waiting (up to 5 s) for them to end: a backend still alive when the next query
    # is sent takes that query with it.
    rows = flaky.sql("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                     "WHERE application_name = 'sgfdw' AND pid <> pg_backend_pid()")
    return len(rows)


def test_remote_backend_killed_mid_scan(ffdb, flaky):
    execute(ffdb, "BEGIN")
    execute(ffdb, "DECLARE c CURSOR FOR SELECT * FROM f.big ORDER BY id")
    assert len(execute(ffdb, "FETCH 100 FROM c")) == 100        # remote cursor open
    assert _terminate_fdw_backends(flaky) == 1
    error = error_of(ffdb, "FETCH 5000 FROM c")
    assert error.pgcode[:2] in ("08", "57"), error_text(error)
    assert "remote server" in error.diag.message_primary
    assert_no_secret(error_text(error))
    execute(ffdb, "ROLLBACK")
    assert_usable(ffdb)
    assert execute(ffdb, "SELECT count(*) FROM f.big") == [(50000,)]


def test_remote_backend_killed_between_queries(ffdb, flaky):
    assert execute(ffdb, "SELECT count(*) FROM f.big WHERE id < 10") == [(9,)]
    assert _terminate_fdw_backends(flaky) == 1
    assert execute(ffdb, "SELECT count(*) FROM f.big WHERE id < 10") == [(9,)]


def test_remote_down(ffdb, flaky):
    assert execute(ffdb, "SELECT count(*) FROM f.big WHERE id < 5") == [(4,)]
    flaky.stop()
    try:
        for query in ("SELECT count(*) FROM f.big", "SELECT * FROM f.big WHERE id = 1",
                      "INSERT INTO f.big VALUES (0, 'x')"):
            error = error_of(ffdb, query)
            assert error.pgcode == "08006", error_text(error)
            assert "remote server" in error.diag.message_primary
            assert_no_secret(error_text(error))
            assert_usable(ffdb)
    finally:
        flaky.start()
    assert execute(ffdb, "SELECT count(*) FROM f.big WHERE id < 5") == [(4,)]


def test_cancel_reaches_the_remote_statement(ffdb, flaky):
    execute(ffdb, "SET statement_timeout = '300ms'")
    start = time.monotonic()
    error = error_of(ffdb, "SELECT x FROM f.slow")
    elapsed = time.monotonic() - start
    assert error.pgcode == "57014", error_text(error)
    assert elapsed < 5, elapsed         # not the 20 s the remote statement would take
    execute(ffdb, "RESET statement_timeout")
    assert_usable(ffdb)
    # The remote statement was canceled, not left running.
    assert flaky.sql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep%' "
                     "AND state = 'active' AND pid <> pg_backend_pid()") == [(0,)]
    assert execute(ffdb, "SELECT count(*) FROM f.big WHERE id <= 3") == [(3,)]


def test_unreachable_server_with_password(db, flaky):
    connect_fdw(db, flaky, schema=None, server_options={"dbname": "postgres", "port": "1"})
    execute(db, "CREATE FOREIGN TABLE t (id int) SERVER rsrv "
                "OPTIONS (schema_name 'src', table_name 'big')")
    error = error_of(db, "SELECT * FROM t")
    assert error.pgcode == "08006", error_text(error)
    assert "could not connect" in error.diag.message_primary
    assert_no_secret(error_text(error))
    error = error_of(db, "IMPORT FOREIGN SCHEMA src FROM SERVER rsrv INTO public")
    assert error.pgcode == "08006"
    assert_no_secret(error_text(error))


def test_credentials_never_shown(ffdb, flaky, pg):
    queries = ["SELECT * FROM f.big WHERE v = 'x' ORDER BY id LIMIT 3",
               "INSERT INTO f.big VALUES (-1, 'x')",
               "UPDATE f.big SET v = 'y' WHERE id = 3",
               "DELETE FROM f.big WHERE id = -5"]
    for query in queries:
        assert_no_secret("\n".join(explain(ffdb, query)))
    assert_no_secret("\n".join(r[0] for r in execute(
        ffdb, "EXPLAIN (ANALYZE, VERBOSE) SELECT count(*) FROM f.big")))
    for query, code in [("SELECT no_such_column FROM f.big", "42703"),
                        ("SELECT * FROM f.nope", "42P01")]:
        assert error_of(ffdb, query).pgcode == code
    execute(ffdb, "CREATE FOREIGN TABLE gone (id int) SERVER rsrv "
                  "OPTIONS (schema_name 'src', table_name 'no such table')")
    error = error_of(ffdb, "SELECT * FROM gone")
    assert error.pgcode == "42P01", error_text(error)
    assert_no_secret(error_text(error))
    log = pg.logfile.read_text(errors="replace")
    assert_no_secret(log)


def test_remote_sql_error_keeps_its_sqlstate(fdb):
    # A remote view that divides by zero for one of its rows.
    error = error_of(fdb, "SELECT * FROM f.failing")
    assert error.pgcode == "22012", error_text(error)
    assert "division by zero" in error.diag.message_primary
    assert "Remote SQL: SELECT" in (error.diag.message_detail or "")
    assert_usable(fdb)
    assert execute(fdb, "SELECT id FROM f.failing WHERE id < 3 ORDER BY id") == [(1,), (2,)]


@pytest.mark.parametrize("options,message", [
    ({"fetch_size": "0"}, 'option "fetch_size" must be a positive integer'),
    ({"use_remote_estimate": "maybe"}, 'option "use_remote_estimate" must be a boolean'),
    ({"no_such_option": "1"}, 'invalid option "no_such_option"'),
    ({"client_encoding": "LATIN1"}, 'option "client_encoding" cannot be set'),
])
def test_bad_options(fdb, options, message):
    clause = sql.SQL(", ").join(sql.SQL("ADD {} {}").format(sql.Identifier(k), sql.Literal(v))
                                for k, v in options.items())
    error = option_error(fdb, sql.SQL("ALTER FOREIGN TABLE f.big OPTIONS ({})").format(clause),
                         "SELECT * FROM f.big")
    assert error.pgcode == "HV00D", error_text(error)
    assert message in error.diag.message_primary
    assert_usable(fdb)


def test_without_table_name_the_remote_table_has_the_local_name(fdb):
    # postgres_fdw's default; a remote table of that name that does not exist is named.
    execute(fdb, "CREATE FOREIGN TABLE nameless (id int) SERVER rsrv")
    error = error_of(fdb, "SELECT * FROM nameless")
    assert error.pgcode == "42P01" and '"public"."nameless"' in error.diag.message_primary
    assert_usable(fdb)


def test_non_superuser_needs_a_password(fdb, remote):
    # trust authentication ignores the password: a non-superuser must not get in so.
    execute(fdb, "CREATE ROLE plain LOGIN")
    execute(fdb, "GRANT USAGE ON FOREIGN SERVER rsrv TO plain")
    execute(fdb, "GRANT USAGE ON SCHEMA f TO plain")
    execute(fdb, "GRANT SELECT ON f.big TO plain")
    execute(fdb, sql.SQL("CREATE USER MAPPING FOR plain SERVER rsrv OPTIONS "
                         "(user 'postgres', password {})").format(sql.Literal(PASSWORD)))
    try:
        execute(fdb, "SET ROLE plain")
        error = error_of(fdb, "SELECT count(*) FROM f.big")
        assert error.pgcode == "42501", error_text(error)
        assert "password is required" in error.diag.message_primary
        assert_no_secret(error_text(error))
        execute(fdb, "RESET ROLE")
        assert execute(fdb, "SELECT count(*) FROM f.big") == [(20000,)]
    finally:
        execute(fdb, "RESET ROLE")
        execute(fdb, "DROP OWNED BY plain")
        execute(fdb, "DROP ROLE plain")


def test_scrub():
    from sgfdw.postgres.connection import scrub
    from sgfdw.postgres.options import parse_connection_params

    params = parse_connection_params({"host": "h", "password": "hunter2"})
    text = "failed: password=hunter2 user=x and 'hunter2' again; password = 'a b\\'c'"
    scrubbed = scrub(text, params)
    assert "hunter2" not in scrubbed and "a b" not in scrubbed
    assert re.search(r"password=\*+ user=x", scrubbed)
    assert "hunter2" not in repr(params)
