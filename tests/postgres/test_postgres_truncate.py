"""PostgresFdw and TRUNCATE, with postgres_fdw as the oracle: the remote TRUNCATE (several
tables in one, RESTART IDENTITY, CASCADE / RESTRICT over remote foreign keys) inside the
remote transaction (a local ROLLBACK undoes it, a savepoint's rollback too), the
truncatable option (server, table) refused with postgres_fdw's error. Each statement
runs through sgfdw on one remote schema and through postgres_fdw on its twin; results
and both remote tables must be the same.
"""

from __future__ import annotations

import pytest
from psycopg2 import sql

from pgfdw_helpers import assert_usable, error_of, execute
from twins import twin_schemas

TABLES_SQL = """
CREATE SCHEMA {s};
CREATE TABLE {s}.t (c1 integer PRIMARY KEY, c2 text);
INSERT INTO {s}.t SELECT g, 'row ' || g FROM generate_series(1, 10) g;
CREATE TABLE {s}.seq (id serial PRIMARY KEY, v text);
INSERT INTO {s}.seq (v) VALUES ('a'), ('b'), ('c');
CREATE TABLE {s}.parent (id integer PRIMARY KEY);
CREATE TABLE {s}.child (id integer PRIMARY KEY, parent integer REFERENCES {s}.parent);
INSERT INTO {s}.parent VALUES (1), (2);
INSERT INTO {s}.child VALUES (10, 1), (20, 2);
CREATE TABLE {s}."tr""u;nc\\表%" ("i""d" integer, "v;--" text);
INSERT INTO {s}."tr""u;nc\\表%" VALUES (1, 'x'), (2, 'y');
"""
HOSTILE = '"tr""u;nc\\表%"'


@pytest.fixture
def twins(fdb, remote, source):
    with twin_schemas(fdb, remote, source, TABLES_SQL, "tr") as twins:
        yield twins


def remote_count(twins, schema: str, table: str) -> int:
    return execute(twins.source, sql.SQL("SELECT count(*) FROM {}.{}").format(
        sql.Identifier(schema), sql.Identifier(table)))[0][0]


def both_errors(twins, query: str) -> list:
    errors = []
    for schema in ("s", "p"):
        errors.append(error_of(twins.db, query.replace("{t}", schema + ".")))
        assert_usable(twins.db)
    assert errors[0].pgcode == errors[1].pgcode, errors
    return errors


def test_truncate_as_postgres_fdw(twins):
    twins.both("TRUNCATE {t}t")
    assert remote_count(twins, twins.a, "t") == 0
    twins.both("INSERT INTO {t}t VALUES (1, 'again') RETURNING *")
    twins.both("TRUNCATE " + "{t}" + HOSTILE)
    assert remote_count(twins, twins.a, 'tr"u;nc\\表%') == 0


def test_restart_identity(twins):
    twins.both("TRUNCATE {t}seq CONTINUE IDENTITY")
    next_ids = [execute(twins.source, sql.SQL("INSERT INTO {}.seq (v) VALUES ('n') "
                                              "RETURNING id").format(sql.Identifier(s)))
                for s in (twins.a, twins.b)]
    assert next_ids == [[(4,)], [(4,)]]
    twins.both("TRUNCATE {t}seq RESTART IDENTITY")
    next_ids = [execute(twins.source, sql.SQL("INSERT INTO {}.seq (v) VALUES ('n') "
                                              "RETURNING id").format(sql.Identifier(s)))
                for s in (twins.a, twins.b)]
    assert next_ids == [[(1,)], [(1,)]]


def test_remote_foreign_keys_restrict_and_cascade(twins):
    # The remote refuses to truncate a referenced table alone (RESTRICT, the default).
    (exc, _) = both_errors(twins, "TRUNCATE {t}parent")
    assert exc.pgcode == "0A000"
    assert remote_count(twins, twins.a, "parent") == 2
    # Both tables in one statement: one remote TRUNCATE of both.
    twins.both("TRUNCATE {t}parent, {t}child")
    assert remote_count(twins, twins.a, "child") == 0
    for schema in (twins.a, twins.b):
        execute(twins.source, sql.SQL("INSERT INTO {0}.parent VALUES (1); "
                                      "INSERT INTO {0}.child VALUES (10, 1)").format(
            sql.Identifier(schema)))
    twins.both("TRUNCATE {t}parent CASCADE")
    assert remote_count(twins, twins.a, "child") == remote_count(twins, twins.b, "child") == 0


def run_both(twins, query: str) -> None:
    """`query` through sgfdw and postgres_fdw, inside a transaction: the remote tables
    are locked by the TRUNCATE until it ends, so they are compared afterwards."""
    for schema in ("s", "p"):
        execute(twins.db, query.replace("{t}", schema + "."))


def test_rollback_undoes_truncate(twins):
    db = twins.db
    db.autocommit = False
    run_both(twins, "TRUNCATE {t}t")
    # The same remote transaction sees it.
    assert execute(db, "SELECT count(*) FROM s.t") == [(0,)]
    db.rollback()
    db.autocommit = True
    assert remote_count(twins, twins.a, "t") == remote_count(twins, twins.b, "t") == 10
    assert execute(db, "SELECT count(*) FROM s.t") == [(10,)]


def test_savepoint_rollback_undoes_truncate_commit_keeps_it(twins):
    db = twins.db
    db.autocommit = False
    execute(db, "SAVEPOINT x")
    run_both(twins, "TRUNCATE {t}t")
    execute(db, "ROLLBACK TO SAVEPOINT x")
    run_both(twins, "TRUNCATE {t}seq")
    db.commit()
    db.autocommit = True
    assert remote_count(twins, twins.a, "t") == remote_count(twins, twins.b, "t") == 10
    assert remote_count(twins, twins.a, "seq") == remote_count(twins, twins.b, "seq") == 0


def test_truncatable_false_refused_as_postgres_fdw(twins):
    db = twins.db
    for server in ("rsrv", "pgsrv"):
        execute(db, sql.SQL("ALTER SERVER {} OPTIONS (ADD truncatable 'false')").format(
            sql.Identifier(server)))
    errors = both_errors(twins, "TRUNCATE {t}t")
    assert errors[0].pgcode == "55000"
    assert errors[0].diag.message_primary == errors[1].diag.message_primary == \
        'foreign table "t" does not allow truncates'
    # Refused before anything was sent: the other table of the statement stays too.
    both_errors(twins, "TRUNCATE {t}seq, {t}t")
    assert remote_count(twins, twins.a, "seq") == 3 and remote_count(twins, twins.a, "t") == 10
    # A table's own setting overrides its server's.
    for schema in ("s", "p"):
        execute(db, sql.SQL("ALTER FOREIGN TABLE {}.t OPTIONS (ADD truncatable 'true')").format(
            sql.Identifier(schema)))
    twins.both("TRUNCATE {t}t")
    for schema in ("s", "p"):
        execute(db, sql.SQL("ALTER FOREIGN TABLE {}.seq OPTIONS (ADD truncatable 'false')")
                .format(sql.Identifier(schema)))
    for server in ("rsrv", "pgsrv"):
        execute(db, sql.SQL("ALTER SERVER {} OPTIONS (SET truncatable 'true')").format(
            sql.Identifier(server)))
    errors = both_errors(twins, "TRUNCATE {t}seq")
    assert "\"seq\" does not allow truncates" in errors[0].diag.message_primary
    assert remote_count(twins, twins.a, "seq") == 3


def test_bad_truncatable_value_refused(twins):
    exc = error_of(twins.db, "ALTER FOREIGN TABLE s.t OPTIONS (ADD truncatable 'maybe')")
    assert exc.pgcode == "HV00D"
    assert_usable(twins.db)


def test_missing_remote_table(twins):
    execute(twins.source, sql.SQL("DROP TABLE {0}.t; DROP TABLE {1}.t").format(
        sql.Identifier(twins.a), sql.Identifier(twins.b)))
    (exc, _) = both_errors(twins, "TRUNCATE {t}t")
    assert exc.pgcode == "42P01"
