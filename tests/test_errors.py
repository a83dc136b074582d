"""Errors: Python exceptions and bad rows become clear ERRORs with fitting SQLSTATEs, the
session stays usable, and the `wrapper` option is validated when it is set."""

from __future__ import annotations

import json

import psycopg2
import pytest
from psycopg2 import sql

from fdwtest import (Recorder, assert_usable, create_people, create_server, error_of,
                     execute, user_servers)


def drop_option(db, name, table="people"):
    execute(db, sql.SQL("ALTER FOREIGN TABLE {} OPTIONS (DROP {})").format(
        sql.Identifier(table), sql.Identifier(name)))


# ---------------------------------------------------------------- Python exceptions

# (fail_in, query that reaches it)
FAILURES = [
    ("__init__", "SELECT * FROM people"),
    ("get_rel_size", "SELECT * FROM people"),
    ("get_path_keys", "SELECT * FROM people"),
    ("can_sort", "SELECT * FROM people ORDER BY id"),
    ("can_limit", "SELECT * FROM people LIMIT 1"),
    ("execute", "SELECT * FROM people"),
    ("iterate", "SELECT * FROM people"),
    ("end_scan", "SELECT * FROM people"),
    ("explain", "EXPLAIN SELECT * FROM people"),
]


@pytest.mark.parametrize("method, query", FAILURES, ids=[f[0] for f in FAILURES])
def test_python_exception_becomes_error(db, method, query):
    create_people(db, local=False, fail_in=method)
    error = error_of(db, query)
    assert error.pgcode == "HV000", (error.pgcode, str(error))
    assert f"boom in {method}" in error.diag.message_primary
    detail = error.diag.message_detail or ""
    assert "Traceback (most recent call last)" in detail, detail
    assert "_maybe_fail" in detail and f"RuntimeError: boom in {method}" in detail
    assert_usable(db)
    # Same session, the failure removed: the table works again.
    drop_option(db, "fail_in")
    assert len(execute(db, query.replace("EXPLAIN ", ""))) >= 1


def test_repeated_failures_do_not_break_the_session(db):
    create_people(db, local=False, fail_in="__init__")
    for _ in range(3):
        assert error_of(db, "SELECT * FROM people").pgcode == "HV000"
        assert_usable(db)
    # In a transaction: the error aborts it, ROLLBACK recovers.
    db.autocommit = False
    try:
        assert error_of(db, "SELECT * FROM people").pgcode == "HV000"
        with pytest.raises(psycopg2.errors.InFailedSqlTransaction):
            execute(db, "SELECT 1")
        db.rollback()
        assert_usable(db)
    finally:
        db.rollback()
        db.autocommit = True


def test_exception_with_sqlstate_attribute(db):
    create_people(db, local=False, fail_in="execute", fail_sqlstate="22012",
                  fail_message="division by zero, remotely")
    error = error_of(db, "SELECT * FROM people")
    assert error.pgcode == "22012"
    assert error.diag.message_primary == "division by zero, remotely"
    assert_usable(db)


def test_exception_with_pgcode_attribute(db):
    create_people(db, local=False, fail_in="iterate", fail_pgcode="08006")
    error = error_of(db, "SELECT * FROM people")
    assert error.pgcode == "08006"
    assert "boom in iterate" in error.diag.message_primary
    assert_usable(db)


@pytest.mark.parametrize("cls, sqlstate", [
    ("NotImplementedError", "0A000"),
    ("MemoryError", "53200"),
    ("ValueError", "HV000"),
    ("KeyError", "HV000"),
])
def test_exception_class_sqlstate(db, cls, sqlstate):
    create_people(db, local=False, fail_in="execute", fail_class=cls)
    error = error_of(db, "SELECT * FROM people")
    assert error.pgcode == sqlstate
    assert "boom in execute" in error.diag.message_primary
    assert_usable(db)


# ---------------------------------------------------------------- log_to_postgres

def test_log_to_postgres_levels(db):
    create_people(db, local=False, log=json.dumps([
        ["DEBUG", "a debug message", None, None],
        ["INFO", "an info message", None, None],
        ["WARNING", "a warning message", "the hint", "the detail"],
    ]))
    rec = Recorder(db)
    rec.run("SELECT count(*) FROM people")
    notices = rec.other_notices()
    assert "NOTICE:  an info message" in notices
    warning = next(n for n in notices if n.startswith("WARNING:  a warning message"))
    assert "DETAIL:  the detail" in warning and "HINT:  the hint" in warning
    assert not any("a debug message" in n for n in notices)
    execute(db, "SET client_min_messages = debug1")
    rec.run("SELECT count(*) FROM people")
    assert "DEBUG:  a debug message" in rec.other_notices()


def test_log_to_postgres_error(db):
    create_people(db, local=False, log=json.dumps([
        ["INFO", "before the error", None, None],
        ["ERROR", "it went wrong", "try this", "what happened"],
    ]))
    rec = Recorder(db)
    rec.clear()
    error = error_of(db, "SELECT * FROM people")
    assert error.pgcode == "HV000"
    assert error.diag.message_primary == "it went wrong"
    assert error.diag.message_hint == "try this"
    assert error.diag.message_detail == "what happened"
    assert "NOTICE:  before the error" in rec.other_notices()
    assert_usable(db)


def test_log_to_postgres_critical_ends_session(pg, db):
    create_people(db, local=False, log=json.dumps([["CRITICAL", "fatal problem", None, None]]))
    error = error_of(db, "SELECT * FROM people")
    # psycopg2 reports the lost connection rather than the FATAL message (psql shows it).
    assert isinstance(error, psycopg2.OperationalError)
    assert "FATAL:  fatal problem" in pg.log_tail(100)
    # FATAL ends this session (only): the server goes on.
    with pytest.raises((psycopg2.OperationalError, psycopg2.InterfaceError)):
        execute(db, "SELECT 1")
    assert pg.sql("SELECT 1") == [(1,)]


# ---------------------------------------------------------------- bad rows

def bad_rows_table(db, rows, columns=None):
    create_server(db)
    cols = columns or [("id", "int"), ("name", "text")]
    execute(db, sql.SQL("CREATE FOREIGN TABLE t ({}) SERVER rec OPTIONS (raw_rows {})").format(
        sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(ty))
                           for n, ty in cols),
        sql.Literal(json.dumps(rows))))


@pytest.mark.parametrize("rows, columns, sqlstates, column", [
    # wrong arity
    ([[1, "a", 3]], None, {"HV021"}, None),
    ([[1]], None, {"HV021"}, None),
    # a list for an int
    ([[[1, 2], "a"]], None, {"42804", "22P02", "22000", "HV004"}, "id"),
    # a dict for an int
    ([[{"x": 1}, "a"]], None, {"42804", "22P02", "22000", "HV004"}, "id"),
    # unconvertible text for an int / a bool
    ([["abc", "a"]], None, {"22P02"}, "id"),
    ([[1, "abc"]], [("id", "int"), ("flag", "bool")], {"22P02"}, "flag"),
    # out of range
    ([[70000, "a"]], [("id", "int2"), ("name", "text")], {"22003"}, "id"),
    ([[2 ** 31, "a"]], None, {"22003"}, "id"),
    ([[2 ** 63, "a"]], [("id", "int8"), ("name", "text")], {"22003"}, "id"),
    # NUL in a string
    ([[1, "a\u0000b"]], None, {"22021"}, "name"),
    ([[1, "a\u0000b"]], [("id", "int"), ("name", "varchar(10)")], {"22021"}, "name"),
])
def test_bad_value_in_row(db, rows, columns, sqlstates, column):
    bad_rows_table(db, rows, columns)
    error = error_of(db, "SELECT * FROM t")
    assert error.pgcode in sqlstates, (error.pgcode, str(error))
    if column:
        assert f'column "{column}"' in (error.diag.context or ""), error.diag.context
    assert_usable(db)


@pytest.mark.parametrize("row", [5, 1.5, True])
def test_row_neither_sequence_nor_mapping(db, row):
    bad_rows_table(db, [row])
    error = error_of(db, "SELECT * FROM t")
    assert error.pgcode.startswith("HV"), (error.pgcode, str(error))
    assert "row" in error.diag.message_primary
    assert_usable(db)


def test_bad_row_after_good_rows(db):
    bad_rows_table(db, [[1, "a"], [2, "b"], ["x", "c"]])
    assert error_of(db, "SELECT * FROM t").pgcode == "22P02"
    assert_usable(db)
    # The good rows were fine: a scan that stops before the bad one works.
    assert execute(db, "SELECT * FROM t LIMIT 2") == [(1, "a"), (2, "b")]


def test_none_row_ends_scan(db):
    bad_rows_table(db, [[1, "a"], None, [2, "b"]])
    assert execute(db, "SELECT * FROM t") == [(1, "a")]


def test_value_errors_only_for_needed_columns(db):
    """Columns the query does not need are not converted (and cannot fail)."""
    bad_rows_table(db, [[1, "abc"]], [("id", "int"), ("flag", "bool")])
    assert execute(db, "SELECT id FROM t") == [(1,)]
    assert execute(db, "SELECT count(*) FROM t") == [(1,)]


# ---------------------------------------------------------------- the wrapper option

def test_missing_wrapper_option(db):
    execute(db, "CREATE SERVER bare FOREIGN DATA WRAPPER sgfdw")
    execute(db, "CREATE FOREIGN TABLE t (id int) SERVER bare")
    error = error_of(db, "SELECT * FROM t")
    assert error.pgcode == "HV00J", (error.pgcode, str(error))
    assert "wrapper" in error.diag.message_primary
    assert_usable(db)


@pytest.mark.parametrize("wrapper", [
    "nosuchmodule.Fdw",
    "recording.NoSuchClass",
    "recording",
    "recording.RECORD_PREFIX",
    "",
])
def test_unimportable_wrapper_rejected(db, wrapper):
    error = error_of(db, "CREATE SERVER s FOREIGN DATA WRAPPER sgfdw OPTIONS (wrapper %s)",
                     (wrapper,))
    assert error.pgcode == "42704", (error.pgcode, str(error))
    assert_usable(db)
    assert user_servers(db) == []
    # Also on a foreign table and in ALTER.
    execute(db, "CREATE SERVER bare FOREIGN DATA WRAPPER sgfdw")
    error = error_of(db, "CREATE FOREIGN TABLE t (id int) SERVER bare OPTIONS (wrapper %s)",
                     (wrapper,))
    assert error.pgcode == "42704"
    error = error_of(db, "ALTER SERVER bare OPTIONS (ADD wrapper %s)", (wrapper,))
    assert error.pgcode == "42704"
    assert_usable(db)


def test_module_failing_at_import_rejected(db):
    """A module that raises while being imported cannot be imported either."""
    error = error_of(db, "CREATE SERVER s FOREIGN DATA WRAPPER sgfdw "
                         "OPTIONS (wrapper 'broken.Fdw')")
    assert "broken module: this FDW cannot be imported" in error.diag.message_primary
    assert_usable(db)
    assert error.pgcode == "42704", (error.pgcode, str(error))


def test_wrapper_option_only_on_server_or_table(db):
    error = error_of(db, "CREATE FOREIGN DATA WRAPPER other HANDLER sgfdw.sgfdw_handler "
                         "VALIDATOR sgfdw.sgfdw_validator "
                         "OPTIONS (wrapper 'recording.RecordingFdw')")
    assert error.pgcode.startswith("HV")
    create_server(db)
    error = error_of(db, "CREATE USER MAPPING FOR CURRENT_USER SERVER rec "
                         "OPTIONS (wrapper 'recording.RecordingFdw')")
    assert error.pgcode.startswith("HV")
    assert_usable(db)


def test_non_superuser_cannot_set_wrapper(db, role):
    create_people(db, local=False)
    execute(db, sql.SQL("GRANT SELECT ON people TO {}").format(sql.Identifier(role)))
    execute(db, sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
    error = error_of(db, "CREATE SERVER mine FOREIGN DATA WRAPPER sgfdw "
                         "OPTIONS (wrapper 'recording.RecordingFdw')")
    assert error.pgcode == "42501", (error.pgcode, str(error))
    assert_usable(db)
    # A server without the option is fine, but not adding it to the server or a table.
    execute(db, "CREATE SERVER mine FOREIGN DATA WRAPPER sgfdw OPTIONS (dataset 'people')")
    error = error_of(db, "ALTER SERVER mine OPTIONS (ADD wrapper 'recording.RecordingFdw')")
    assert error.pgcode == "42501"
    error = error_of(db, "CREATE FOREIGN TABLE mine_t (id int) SERVER mine "
                         "OPTIONS (wrapper 'recording.RecordingFdw')")
    assert error.pgcode == "42501"
    # Other options are the user's business, and a table set up by a superuser works.
    execute(db, "CREATE FOREIGN TABLE mine_t (id int) SERVER mine OPTIONS (dataset 'people')")
    assert len(execute(db, "SELECT * FROM people")) == 12
