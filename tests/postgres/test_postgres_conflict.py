"""PostgresFdw and INSERT ... ON CONFLICT DO NOTHING, with postgres_fdw as the oracle:
the clause is sent to the remote (the remote keys decide), row counts and RETURNING
(ctid included) are postgres_fdw's, row by row and in batches; a conflict target and
DO UPDATE fail as with postgres_fdw. Each statement runs through sgfdw on one remote
schema and through postgres_fdw on its twin; results, row counts and both remote tables
(ctids included) must be the same.
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
CREATE TABLE {s}.u (id integer PRIMARY KEY, code text UNIQUE, n integer);
INSERT INTO {s}.u VALUES (1, 'a'), (2, 'b');
CREATE TABLE {s}.nokey (a integer, b text);
CREATE TABLE {s}."o""n;c\\表%" (id integer PRIMARY KEY, "c""ol;--" text, "sp ace\\" text);
INSERT INTO {s}."o""n;c\\表%" VALUES (1, 'one', 'uno');
"""
HOSTILE = '"o""n;c\\表%"'


@pytest.fixture
def twins(fdb, remote, source):
    with twin_schemas(fdb, remote, source, TABLES_SQL, "oc") as twins:
        yield twins


def test_do_nothing_skips_conflicting_rows(twins):
    twins.both("INSERT INTO {t}t VALUES (1, 'x') ON CONFLICT DO NOTHING")
    twins.both("INSERT INTO {t}t VALUES (1, 'x'), (11, 'y'), (2, 'z'), (12, 'w') "
               "ON CONFLICT DO NOTHING")
    twins.both("INSERT INTO {t}t VALUES (3, 'x'), (13, 'n') ON CONFLICT DO NOTHING "
               "RETURNING ctid, *")
    twins.both("INSERT INTO {t}t VALUES (4, 'x') ON CONFLICT DO NOTHING RETURNING *")
    twins.both("INSERT INTO {t}t SELECT g, 'g' || g FROM generate_series(8, 20) g "
               "ON CONFLICT DO NOTHING RETURNING c1")


def test_do_nothing_with_two_unique_constraints(twins):
    # Either constraint's conflict skips the row.
    twins.both("INSERT INTO {t}u VALUES (3, 'a'), (4, 'c'), (2, 'z'), (5, 'd') "
               "ON CONFLICT DO NOTHING RETURNING *")
    twins.both("INSERT INTO {t}u (id, code) VALUES (6, 'c'), (7, 'e') "
               "ON CONFLICT DO NOTHING RETURNING id, code, n")
    twins.both("INSERT INTO {t}nokey VALUES (1, 'a'), (1, 'a') ON CONFLICT DO NOTHING "
               "RETURNING ctid, *")


def test_do_nothing_in_batches(twins):
    for schema in ("s", "p"):
        execute(twins.db, sql.SQL("ALTER FOREIGN TABLE {}.t OPTIONS (ADD batch_size '4')")
                .format(sql.Identifier(schema)))
    twins.both("INSERT INTO {t}t SELECT g, 'b' || g FROM generate_series(5, 23) g "
               "ON CONFLICT DO NOTHING")
    twins.both("INSERT INTO {t}t SELECT g, 'c' || g FROM generate_series(1, 30, 3) g "
               "ON CONFLICT DO NOTHING")


def test_do_nothing_in_a_transaction_rolled_back(twins):
    twins.db.autocommit = False
    twins.both("INSERT INTO {t}t VALUES (1, 'x'), (40, 'y') ON CONFLICT DO NOTHING")
    twins.db.rollback()
    twins.db.autocommit = True
    assert twins.remote_rows(twins.a, "t") == twins.remote_rows(twins.b, "t")
    assert len(twins.remote_rows(twins.a, "t")) == 10


@pytest.mark.parametrize("clause", ["ON CONFLICT (c1) DO NOTHING",
                                    "ON CONFLICT (c1) DO UPDATE SET c2 = excluded.c2"])
def test_conflict_target_and_do_update_fail_as_with_postgres_fdw(twins, clause):
    errors = []
    for schema in ("s", "p"):
        errors.append(error_of(twins.db, f"INSERT INTO {schema}.t VALUES (1, 'x') {clause}"))
        assert_usable(twins.db)
    assert errors[0].pgcode == errors[1].pgcode == "42P10"
    assert twins.remote_rows(twins.a, "t") == twins.remote_rows(twins.b, "t")


def test_without_the_clause_a_conflict_is_the_remote_error(twins):
    errors = [error_of(twins.db, f"INSERT INTO {schema}.t VALUES (1, 'x')")
              for schema in ("s", "p")]
    assert errors[0].pgcode == errors[1].pgcode == "23505"
    assert_usable(twins.db)


def test_hostile_names(twins):
    twins.both("INSERT INTO {t}" + HOSTILE + " VALUES (1, 'a', 'b'), (9, 'x;--', '%') "
               "ON CONFLICT DO NOTHING RETURNING *")
    twins.both("INSERT INTO {t}" + HOSTILE + ' ("c""ol;--", id) VALUES (\'q\', 9), (\'r\', 10) '
               'ON CONFLICT DO NOTHING RETURNING ctid, id, "sp ace\\"')
