"""The bridge's optional write and maintenance methods, with the FDWs of
tests/fdws/keyed.py: INSERT ... ON CONFLICT DO NOTHING reaches an FDW listing 'nothing'
in on_conflict_actions as insert(..., on_conflict='nothing') / bulk_insert(...), whose
None / shorter list are the rows not inserted (row count and RETURNING follow); for any
other FDW, and for DO UPDATE or a conflict target, the clause is an error, never
dropped."""

from __future__ import annotations

import collections
import json

import pytest
from fdwtest import assert_usable, error_of, execute, store_table


def keyed_table(db, name: str, wrapper: str = "keyed.KeyedFdw", **options: str) -> None:
    store_table(db, name, wrapper, **options)


def calls(db, query: str, params=None) -> tuple[list[tuple] | None, int, list[dict]]:
    """The rows of `query`, its row count and the calls the FDW recorded."""
    db.notices = collections.deque()
    with db.cursor() as cur:
        cur.execute(query, params)
        rows = cur.fetchall() if cur.description is not None else None
        count = cur.rowcount
    return rows, count, [json.loads(n.split("keyed ", 1)[1]) for n in db.notices
                         if "keyed {" in n]


# ---------------------------------------------------------------- ON CONFLICT

def test_on_conflict_do_nothing_reaches_the_fdw(db):
    keyed_table(db, "k")
    execute(db, "INSERT INTO k VALUES (1, 'a'), (2, 'b')")
    rows, count, got = calls(db, "INSERT INTO k VALUES (2, 'x'), (3, 'c') "
                                 "ON CONFLICT DO NOTHING RETURNING id, v")
    assert (rows, count) == ([(3, "c")], 1)
    assert [(c["method"], c["id"], c["on_conflict"]) for c in got] == [
        ("insert", 2, "nothing"), ("insert", 3, "nothing")]
    rows, count, _ = calls(db, "INSERT INTO k VALUES (1, 'y') ON CONFLICT DO NOTHING")
    assert count == 0
    # Without the clause the FDW gets no keyword, and a duplicate is its error.
    _, count, got = calls(db, "INSERT INTO k VALUES (4, 'd')")
    assert count == 1 and got == [{"method": "insert", "id": 4, "on_conflict": None}]
    exc = error_of(db, "INSERT INTO k VALUES (1, 'z')")
    assert exc.pgcode == "23505"
    assert_usable(db)
    assert execute(db, "SELECT id, v FROM k ORDER BY id") == [
        (1, "a"), (2, "b"), (3, "c"), (4, "d")]


def test_on_conflict_do_nothing_in_batches(db):
    keyed_table(db, "k", batch_size="3")
    execute(db, "INSERT INTO k VALUES (2, 'b'), (5, 'e')")
    _, count, got = calls(db, "INSERT INTO k SELECT g, 'n' || g FROM generate_series(1, 7) g "
                              "ON CONFLICT DO NOTHING")
    assert count == 5
    assert [(c["method"], c["ids"], c["on_conflict"]) for c in got] == [
        ("bulk_insert", [1, 2, 3], "nothing"), ("bulk_insert", [4, 5, 6], "nothing"),
        ("bulk_insert", [7], "nothing")]
    assert execute(db, "SELECT id, v FROM k ORDER BY id") == [
        (1, "n1"), (2, "b"), (3, "n3"), (4, "n4"), (5, "e"), (6, "n6"), (7, "n7")]


def test_on_conflict_refused_without_support(db):
    keyed_table(db, "plain", wrapper="keyed.PlainFdw")
    execute(db, "INSERT INTO plain VALUES (1, 'a')")
    for query in ("INSERT INTO plain VALUES (1, 'b') ON CONFLICT DO NOTHING",
                  "EXPLAIN INSERT INTO plain VALUES (1, 'b') ON CONFLICT DO NOTHING"):
        exc = error_of(db, query)
        assert exc.pgcode == "0A000", exc
        assert "ON CONFLICT DO NOTHING is not supported" in exc.pgerror
        assert "on_conflict_actions" in exc.diag.message_detail
        assert_usable(db)
    assert execute(db, "SELECT id, v FROM plain") == [(1, "a")]


@pytest.mark.parametrize("clause", ["ON CONFLICT (id) DO NOTHING",
                                    "ON CONFLICT (id) DO UPDATE SET v = excluded.v"])
def test_on_conflict_with_a_target_is_refused(db, clause):
    # A foreign table has no unique index to infer the target from (core's error).
    keyed_table(db, "k")
    exc = error_of(db, f"INSERT INTO k VALUES (1, 'b') {clause}")
    assert exc.pgcode == "42P10"
    assert_usable(db)
    assert execute(db, "SELECT count(*) FROM k") == [(0,)]


def test_on_conflict_routed_to_a_foreign_partition(db):
    keyed_table(db, "kp")
    execute(db, "CREATE TABLE parent (id int, v text) PARTITION BY RANGE (id)")
    execute(db, "ALTER TABLE parent ATTACH PARTITION kp FOR VALUES FROM (0) TO (100)")
    execute(db, "INSERT INTO parent VALUES (1, 'a')")
    _, count, got = calls(db, "INSERT INTO parent VALUES (1, 'b'), (2, 'c') "
                              "ON CONFLICT DO NOTHING")
    assert count == 1
    assert [c["on_conflict"] for c in got] == ["nothing", "nothing"]
    keyed_table(db, "plainp", wrapper="keyed.PlainFdw")
    execute(db, "ALTER TABLE parent ATTACH PARTITION plainp FOR VALUES FROM (100) TO (200)")
    exc = error_of(db, "INSERT INTO parent VALUES (101, 'x') ON CONFLICT DO NOTHING")
    assert exc.pgcode == "0A000"
    assert_usable(db)


# ---------------------------------------------------------------- TRUNCATE

def test_truncate_one_call_per_class_with_all_its_tables(db):
    keyed_table(db, "k1")
    execute(db, 'CREATE FOREIGN TABLE "we""ird; tab" (id int, v text) SERVER k1_srv '
                "OPTIONS (store 'k2')")
    keyed_table(db, "k3")
    execute(db, "INSERT INTO k1 VALUES (1, 'a'); INSERT INTO \"we\"\"ird; tab\" VALUES (2, 'b');"
                "INSERT INTO k3 VALUES (3, 'c')")
    _, _, got = calls(db, 'TRUNCATE k1, "we""ird; tab", k3 RESTART IDENTITY CASCADE')
    # PostgreSQL calls the FDW once per server; the bridge calls truncate() once per
    # class among them, on the first table's instance.
    assert sorted(map(json.dumps, got)) == sorted(map(json.dumps, [
        {"method": "truncate", "tables": [["k1", f"k1_{db.info.dbname}"],
                                          ['we"ird; tab', "k2"]],
         "restart_identity": True, "cascade": True, "called_on": f"k1_{db.info.dbname}"},
        {"method": "truncate", "tables": [["k3", f"k3_{db.info.dbname}"]],
         "restart_identity": True, "cascade": True, "called_on": f"k3_{db.info.dbname}"}]))
    for table in ("k1", '"we""ird; tab"', "k3"):
        assert execute(db, f"SELECT count(*) FROM {table}") == [(0,)]
    _, _, got = calls(db, "TRUNCATE k1")
    assert [(c["restart_identity"], c["cascade"]) for c in got] == [(False, False)]


def test_truncate_refused_without_the_method(db):
    # One server (PostgreSQL calls the FDW once per server), each table its own class.
    execute(db, "CREATE SERVER mixed FOREIGN DATA WRAPPER sgfdw")
    for table, wrapper in (("k", "keyed.KeyedFdw"), ("plain", "keyed.PlainFdw")):
        execute(db, f"CREATE FOREIGN TABLE {table} (id int, v text) SERVER mixed "
                    f"OPTIONS (wrapper '{wrapper}', store '{table}_{db.info.dbname}')")
    keyed_table(db, "other", wrapper="keyed.PlainFdw")
    execute(db, "INSERT INTO k VALUES (1, 'a'); INSERT INTO plain VALUES (2, 'b')")
    for query in ("TRUNCATE plain", "TRUNCATE k, plain", "TRUNCATE plain, k", "TRUNCATE other",
                  "TRUNCATE other, plain"):
        exc = error_of(db, query)
        assert exc.pgcode == "0A000"
        assert exc.diag.message_primary in ('cannot truncate foreign table "plain"',
                                            'cannot truncate foreign table "other"')
        assert_usable(db)
    # Refused before any FDW of the server truncated anything.
    assert execute(db, "SELECT count(*) FROM k") == [(1,)]
    assert execute(db, "SELECT count(*) FROM plain") == [(1,)]


def test_truncate_error_from_the_fdw(db):
    keyed_table(db, "k", truncate_error="not today")
    execute(db, "INSERT INTO k VALUES (1, 'a')")
    exc = error_of(db, "TRUNCATE k")
    assert exc.pgcode == "55000" and "not today" in exc.pgerror
    assert_usable(db)
    assert execute(db, "SELECT count(*) FROM k") == [(1,)]


# ---------------------------------------------------------------- ANALYZE

def stats(db, table: str) -> list[tuple]:
    return execute(db, "SELECT attname, null_frac, n_distinct::numeric, "
                       "most_common_vals::text FROM pg_stats "
                       "WHERE tablename = %s ORDER BY attname", (table,))


@pytest.mark.parametrize("shape", ["tuple", "dict"])
def test_analyze_sample_gives_statistics(db, shape):
    keyed_table(db, "k", shape=shape)
    execute(db, "INSERT INTO k SELECT g, CASE WHEN g % 4 = 0 THEN NULL ELSE 'v' || (g % 3) END "
                "FROM generate_series(1, 40) g")
    before = join_rows(db)
    _, _, got = calls(db, "ANALYZE k")
    assert got == [{"method": "analyze_sample", "sample_size": 30000}]
    assert stats(db, "k") == [("id", 0.0, -1, None), ("v", 0.25, 3, "{v0,v1,v2}")]
    # No total given: the rows given are the table.
    assert execute(db, "SELECT reltuples FROM pg_class WHERE relname = 'k'") == [(40.0,)]
    # The planner uses them: the join's selectivity comes from v's 3 values and NULLs
    # (get_rel_size() still gives each side's rows: the base class's 10**8).
    assert before == 10**8 * 10**8 / 200      # no statistics: 200 distinct values
    assert join_rows(db) == 10**8 * 10**8 * 0.75 * 0.75 / 3


def join_rows(db) -> float:
    plan = execute(db, "EXPLAIN (FORMAT JSON) SELECT * FROM k a JOIN k b ON a.v = b.v")
    return plan[0][0][0]["Plan"]["Plan Rows"]


def test_analyze_sample_larger_than_asked_and_a_total(db):
    keyed_table(db, "k", total="123456")
    execute(db, "ALTER FOREIGN TABLE k ALTER id SET STATISTICS 1, ALTER v SET STATISTICS 1")
    execute(db, "INSERT INTO k SELECT g, 'v' || (g % 5) FROM generate_series(1, 1000) g")
    _, _, got = calls(db, "ANALYZE k")
    assert got == [{"method": "analyze_sample", "sample_size": 300}]
    assert execute(db, "SELECT reltuples FROM pg_class WHERE relname = 'k'") == [(123456.0,)]
    (row,) = execute(db, "SELECT n_distinct FROM pg_stats WHERE tablename = 'k' "
                         "AND attname = 'v'")
    assert row == (5.0,)


def test_analyze_without_the_method_is_skipped(db):
    keyed_table(db, "plain", wrapper="keyed.PlainFdw")
    db.notices.clear()
    execute(db, "ANALYZE plain")
    assert any('skipping "plain" --- cannot analyze this foreign table' in n
               for n in db.notices)
    assert stats(db, "plain") == []


@pytest.mark.parametrize("bad, sqlstate", [("not_a_pair", "HV004"), ("short_row", "HV021"),
                                           ("bad_total", "HV004"), ("bad_value", "22P02")])
def test_bad_samples_are_clean_errors(db, bad, sqlstate):
    keyed_table(db, "k", bad_sample=bad)
    exc = error_of(db, "ANALYZE k")
    assert exc.pgcode == sqlstate, exc
    assert_usable(db)
    assert stats(db, "k") == []
