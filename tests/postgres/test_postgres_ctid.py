"""PostgresFdw and the remote rows' ctid, with postgres_fdw as the oracle: SELECT ctid,
quals on ctid pushed down (`ctid = $1`, `ctid = ANY ($1::tid[])`), INSERT/UPDATE/DELETE
... RETURNING ctid, and UPDATE/DELETE of tables without a single-column primary key
through the ctid (no key, a two-column key, duplicate rows, rows that moved).

Reads run through both FDWs over the same remote tables. Writes run the same statements
through sgfdw on one remote schema and through postgres_fdw on an identical twin (same
rows inserted in the same order, so the same ctids); each statement's result and then
both remote tables, ctids included, must be the same.
"""

from __future__ import annotations

import pytest
from psycopg2 import sql

from pgfdw_helpers import (assert_usable, error_of, error_text, execute, remote_sql,
                           remote_sql_lines)
from twins import twin_schemas

TABLES_SQL = """
CREATE SCHEMA {s};
CREATE TABLE {s}.t (c1 integer PRIMARY KEY, c2 text);
INSERT INTO {s}.t SELECT g, 'row ' || g FROM generate_series(1, 10) g;
CREATE TABLE {s}.nokey (a integer, b text);
INSERT INTO {s}.nokey VALUES (1, 'a'), (1, 'a'), (2, 'b'), (3, 'c'), (3, 'c'), (NULL, 'n');
CREATE TABLE {s}.twokey (k1 integer, k2 integer, v text, PRIMARY KEY (k1, k2));
INSERT INTO {s}.twokey VALUES (1, 1, 'a'), (1, 2, 'b'), (2, 1, 'c');
CREATE TABLE {s}.parted (a integer, b text) PARTITION BY LIST (a);
CREATE TABLE {s}.parted_1 PARTITION OF {s}.parted FOR VALUES IN (1);
INSERT INTO {s}.parted VALUES (1, 'x');
"""


@pytest.fixture
def twins(fdb, remote, source):
    with twin_schemas(fdb, remote, source, TABLES_SQL, "ct") as twins:
        yield twins


# ---------------------------------------------------------------- reads

READS = [
    "SELECT ctid, c1 FROM {t}t ORDER BY c1 LIMIT 2",
    "SELECT ctid, c1, c2 FROM {t}t WHERE ctid = '(0,2)'",
    "SELECT c1 FROM {t}t WHERE ctid = '(0,2)'",
    "SELECT c1, ctid FROM {t}t WHERE ctid = (SELECT ctid FROM {t}t WHERE c1 = 5)",
    "SELECT ctid FROM {t}t ORDER BY ctid",
    "SELECT count(*) FROM {t}t WHERE ctid = '(0,3)'",
    "SELECT count(*) FROM {t}t WHERE ctid = '(7,3)'",
    "SELECT c1 FROM {t}t WHERE ctid IN ('(0,1)', '(0,4)') ORDER BY c1",
    "SELECT c1 FROM {t}t WHERE ctid = ANY (ARRAY['(0,2)', NULL, '(9,9)']::tid[])",
    "SELECT c1 FROM {t}t WHERE ctid = ANY (ARRAY(SELECT ctid FROM {t}t WHERE c1 > 7)) "
    "ORDER BY c1",
    "SELECT c1 FROM {t}t WHERE ctid > '(0,8)' ORDER BY c1",
    "SELECT ctid, * FROM {t}t WHERE c1 = 3",
    "SELECT ctid, a, b FROM {t}nokey ORDER BY ctid",
    "SELECT ctid, * FROM {t}twokey WHERE k1 = 1 ORDER BY k2",
    "SELECT ctid, * FROM {t}parted",
]


@pytest.mark.parametrize("query", READS)
def test_ctid_reads_as_postgres_fdw(twins, query):
    rows = twins.same_read(query)
    assert rows and "4294967295" not in repr(rows)


def test_ctid_of_a_join_and_a_parameterised_subquery(twins):
    twins.same_read("SELECT a.c1, b.c1 FROM {t}t a JOIN s.t b ON a.ctid = b.ctid "
                    "WHERE b.c1 < 4 ORDER BY 1")
    got = execute(twins.db, "SELECT c1 FROM s.t WHERE ctid = "
                            "(SELECT ctid FROM s.t WHERE c1 = 5)")
    assert got == [(5,)]


def test_ctid_qual_is_pushed_down(twins):
    line = remote_sql(twins.db, "SELECT c1 FROM s.t WHERE ctid = '(0,2)'")
    assert line.endswith("WHERE ((ctid = $1))") or line.endswith("WHERE (ctid = $1)"), line
    assert ", ctid FROM" in line
    # A parameter's value (an initplan's) too.
    lines = remote_sql_lines(twins.db, "SELECT c1 FROM s.t WHERE ctid = "
                                       "(SELECT ctid FROM s.t WHERE c1 = 5)")
    assert any(line.endswith("WHERE (ctid = $1)") for line in lines), lines
    # = ANY, with a list known at execution too (an initplan's).
    line = remote_sql(twins.db, "SELECT c1 FROM s.t WHERE ctid IN ('(0,1)', '(0,4)')")
    assert line.endswith("WHERE (ctid = ANY ($1::tid[]))"), line
    lines = remote_sql_lines(twins.db, "SELECT c1 FROM s.t WHERE ctid = ANY "
                                       "(ARRAY(SELECT ctid FROM s.t WHERE c1 > 7))")
    assert any(line.endswith("WHERE (ctid = ANY ($1::tid[]))") for line in lines), lines
    # Other operators on ctid stay local (and are still right: see the reads).
    line = remote_sql(twins.db, "SELECT c1 FROM s.t WHERE ctid > '(0,8)'")
    assert "WHERE" not in line
    # A query that does not read ctid does not fetch it.
    assert "ctid" not in remote_sql(twins.db, "SELECT c1, c2 FROM s.t WHERE c1 = 1")


# ---------------------------------------------------------------- writes

def test_insert_returning_ctid(twins):
    twins.both("INSERT INTO {t}t VALUES (100, 'x'), (101, 'y') RETURNING ctid, c1")
    twins.both("INSERT INTO {t}nokey VALUES (9, 'z') RETURNING ctid, *")
    twins.both("INSERT INTO {t}nokey VALUES (9, 'z')")


def test_update_delete_with_a_primary_key_returning_ctid(twins):
    twins.both("UPDATE {t}t SET c2 = c2 || '!' WHERE c1 <= 3 RETURNING ctid, c1, c2")
    twins.both("DELETE FROM {t}t WHERE c1 = 2 RETURNING ctid, *")
    twins.both("DELETE FROM {t}t WHERE ctid = '(0,5)' RETURNING ctid, c1")
    # The primary key still identifies the rows: the scan does not fetch the ctid.
    assert all("ctid" not in line for line in
               remote_sql_lines(twins.db, "UPDATE s.t SET c2 = 'q' WHERE c1 = 4"))


def test_table_without_key_uses_ctid(twins):
    # Row by row (random() is not shipped): the scan fetches the ctid, each row's
    # UPDATE names it.
    lines = remote_sql_lines(twins.db, "UPDATE s.nokey SET b = random()::text WHERE a = 1")
    assert len(lines) == 2 and "WHERE ctid = $" in lines[0] and ", ctid FROM" in lines[1], lines
    twins.both("UPDATE {t}nokey SET b = b || '!' WHERE a = 1 RETURNING ctid, a, b")
    twins.both("UPDATE {t}nokey SET a = a * 10 WHERE b = 'b'")
    twins.both("DELETE FROM {t}nokey WHERE a IS NULL RETURNING ctid, a, b")
    twins.both("UPDATE {t}nokey SET b = NULL RETURNING ctid, a, b")
    twins.both("DELETE FROM {t}nokey RETURNING *")
    assert twins.remote_rows(twins.a, "nokey") == []


def test_duplicate_rows_one_hit_by_ctid(twins):
    # (0,4) and (0,5) are the same values (3, 'c'): exactly one of them goes.
    line = remote_sql(twins.db, "DELETE FROM s.nokey WHERE ctid = '(0,4)'")
    assert "(ctid = $1)" in line, line
    twins.both("DELETE FROM {t}nokey WHERE ctid = '(0,4)' RETURNING ctid, a, b")
    twins.both("UPDATE {t}nokey SET b = 'one' WHERE ctid = '(0,1)' RETURNING ctid, a, b")
    rows = execute(twins.source, sql.SQL("SELECT a, b FROM {}.nokey ORDER BY ctid").format(
        sql.Identifier(twins.a)))
    assert rows == [(1, "a"), (2, "b"), (3, "c"), (None, "n"), (1, "one")]


def test_moved_row_is_not_touched_by_its_old_ctid(twins):
    # The UPDATE moves the row (2, 'b') from (0,3) to a new ctid.
    (moved,) = twins.both("UPDATE {t}nokey SET b = 'moved' WHERE a = 2 RETURNING ctid")
    assert moved != ("(0,3)",)
    twins.both("DELETE FROM {t}nokey WHERE ctid = '(0,3)' RETURNING *")
    twins.both("UPDATE {t}nokey SET b = 'wrong' WHERE ctid = '(0,3)' RETURNING *")
    twins.both("UPDATE {t}nokey SET b = 'again' WHERE ctid = %s RETURNING ctid, *", moved)
    twins.both("UPDATE {t}nokey SET b = b || '+' WHERE a = 2 RETURNING ctid, *")


def test_moved_row_within_one_transaction(twins):
    db = twins.db
    db.autocommit = False
    try:
        twins.both("UPDATE {t}nokey SET b = 'one' WHERE a = 2")
        twins.both("UPDATE {t}nokey SET b = b || ' two' WHERE a = 2 RETURNING ctid, *")
        twins.both("DELETE FROM {t}nokey WHERE b = 'one two' RETURNING ctid, *")
        db.commit()
    finally:
        db.autocommit = True
    assert twins.remote_rows(twins.a, "nokey") == twins.remote_rows(twins.b, "nokey")


def test_two_column_key_uses_ctid(twins):
    twins.both("UPDATE {t}twokey SET v = v || '+' WHERE k1 = 1 RETURNING *")
    twins.both("UPDATE {t}twokey SET k2 = k2 + 10 WHERE v = 'c' RETURNING ctid, *")
    twins.both("DELETE FROM {t}twokey WHERE k2 = 2 RETURNING ctid, *")
    twins.both("DELETE FROM {t}twokey")


def test_partitioned_table_without_key_is_refused(twins):
    # Its ctids repeat across partitions: a ctid could hit a row of another partition.
    exc = error_of(twins.db, "UPDATE s.parted SET b = 'y'")
    assert exc.pgcode == "0A000"
    assert "not a plain table" in error_text(exc)
    assert_usable(twins.db)
    assert execute(twins.source, sql.SQL("SELECT * FROM {}.parted").format(
        sql.Identifier(twins.a))) == [(1, "x")]
