"""Layered scans compared with the same image checked out (materialised): full scans,
quals on key and non-key columns, patches (updates, deletes, key changes over several
commits), NULLs, every stored type; pruning seen both in EXPLAIN and in the results."""
from __future__ import annotations

import collections
import random

import pytest
from psycopg2 import sql

from layered_helpers import VALUES, assert_same_rows, make_source, random_step, rows_of
from fdwtest import execute

REPO = "t/hist"
SCHEMA = '"t/hist"'

# {t} is the table; each query is run on the layered table and on the checkout.
QUERIES = [
    "SELECT * FROM {t}",
    "SELECT count(*) FROM {t}",
    "SELECT id FROM {t}",
    "SELECT * FROM {t} WHERE id = 7",
    "SELECT * FROM {t} WHERE id = 1003",
    "SELECT v FROM {t} WHERE id BETWEEN 20 AND 60",
    "SELECT * FROM {t} WHERE id < 15 OR id > 190",
    "SELECT * FROM {t} WHERE id IN (1, 50, 99, 1001, 5000)",
    "SELECT * FROM {t} WHERE id <> 3",
    "SELECT n FROM {t} WHERE n > 20",
    "SELECT * FROM {t} WHERE v LIKE 'a%%'",
    "SELECT id, n FROM {t} WHERE v = 'e4da3b7fbbce2345d7772b0674a318d5'",  # md5('5')
    "SELECT id FROM {t} WHERE v IN ('c4ca4238a0b923820dcc509a6f75849b', 'x')",  # md5('1')
    "SELECT * FROM {t} WHERE v IS NULL",
    "SELECT id FROM {t} WHERE v IS NOT NULL AND id >= 100",
    "SELECT * FROM {t} WHERE id = ANY(ARRAY[2, 4, 1002])",
    "SELECT * FROM {t} WHERE id > ALL(ARRAY[10, 150])",
    "SELECT sum(id), max(v), count(n) FROM {t} WHERE id >= 0",
]


def query_rows(db, query: str, table: str, params=None) -> collections.Counter:
    return collections.Counter(execute(db, f"SELECT q::text FROM ({query.format(t=table)}) q",
                                       params))


def assert_same_results(db, layered: str, materialised: str, queries=QUERIES,
                        params=None) -> None:
    for query in queries:
        got = query_rows(db, query, layered, params)
        expected = query_rows(db, query, materialised, params)
        assert got == expected, (query, sorted((got - expected).items())[:5],
                                 sorted((expected - got).items())[:5])


def layered_import(db, source: str, into: str) -> None:
    execute(db, sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(into)))
    execute(db, sql.SQL("IMPORT FOREIGN SCHEMA {} FROM SERVER sgfdw_objects INTO {}").format(
        sql.Identifier(source), sql.Identifier(into)))


def objects_line(db, query: str) -> str:
    lines = [row[0] for row in execute(db, "EXPLAIN " + query)]
    return next(line.strip() for line in lines if "Objects:" in line)


def tables_of(db, schema: str) -> list[str]:
    return [row[0] for row in execute(db, "SELECT tablename FROM pg_tables WHERE "
                                          "schemaname = %s ORDER BY 1", (schema,))]


@pytest.mark.parametrize("seed, fragment_rows", [(1, None), (4, 7), (5, 16), (6, 3)])
def test_random_history_every_image_layered_equals_checkout(db, seed, fragment_rows):
    rng = random.Random(seed)
    if fragment_rows:  # many objects per table: pruning and patches over several
        execute(db, "SET sgfdw.fragment_rows = %s", (fragment_rows,))
    execute(db, "SELECT sgfdw.init(%s)", (REPO,))
    execute(db, f"CREATE TABLE {SCHEMA}.keyed (id int PRIMARY KEY, v text, n numeric)")
    execute(db, f"CREATE TABLE {SCHEMA}.heap (id int, v text, n numeric)")
    execute(db, f"INSERT INTO {SCHEMA}.keyed SELECT g, CASE WHEN g % 9 = 0 THEN NULL "
                "ELSE md5(g::text) END, g / 3.0 FROM generate_series(1, 200) g")
    execute(db, f"INSERT INTO {SCHEMA}.heap SELECT g % 10, 'x', 1 FROM generate_series(1, 30) g")
    history = []
    for step in range(10):
        if step:
            random_step(db, rng, step)
        history.append(execute(db, "SELECT sgfdw.commit(%s, %s)", (REPO, f"step {step}"))[0][0])
    for number, image in enumerate(history):
        layered_import(db, f"{REPO}:{image}", f"l{number}")
    for number, image in rng.sample(list(enumerate(history)), len(history)):
        execute(db, "SELECT sgfdw.checkout(%s, %s)", (REPO, image))
        tables = tables_of(db, REPO)
        assert [row[0] for row in execute(
            db, "SELECT foreign_table_name FROM information_schema.foreign_tables "
                "WHERE foreign_table_schema = %s ORDER BY 1", (f"l{number}",))] == tables
        for table in tables:
            assert_same_results(db, f'l{number}."{table}"', f'{SCHEMA}."{table}"')


def make_grouped(db) -> None:
    """t/p: 1000 rows in 10 objects by key; grp and d follow the key, so they prune."""
    execute(db, "SET sgfdw.fragment_rows = 100")
    execute(db, "CREATE TABLE src (id int PRIMARY KEY, grp text, d date, x float8, v text)")
    execute(db, "INSERT INTO src SELECT g, 'g' || lpad((g / 100)::text, 2, '0'), "
                "DATE '2020-01-01' + g, g * 0.5, md5(g::text) FROM generate_series(0, 999) g")
    execute(db, "SELECT sgfdw.init('t/p')")
    execute(db, "SELECT sgfdw.import_table('t/p', 't', 'src')")


PRUNED = {  # query -> objects read of 10
    "SELECT * FROM {t} WHERE id = 5": 1,
    "SELECT * FROM {t} WHERE id BETWEEN 150 AND 250": 2,
    "SELECT * FROM {t} WHERE id >= 950": 1,
    "SELECT * FROM {t} WHERE id IN (5, 905)": 2,
    "SELECT * FROM {t} WHERE grp = 'g03'": 1,
    "SELECT * FROM {t} WHERE d < DATE '2020-02-01'": 1,
    "SELECT * FROM {t} WHERE x > 480": 1,
    "SELECT * FROM {t} WHERE id = 5000": 0,
    "SELECT * FROM {t} WHERE grp IS NULL": 0,
    "SELECT * FROM {t} WHERE v IS NOT NULL": 10,
    "SELECT * FROM {t} WHERE v = 'x'": 0,    # above every md5's hex digits
    "SELECT * FROM {t} WHERE v = 'c4ca4238a0b923820dcc509a6f75849b'": 10,  # md5('1')
    "SELECT * FROM {t} WHERE grp < 'g01'": 10,  # text ordering: the collation's, no pruning
}


def test_pruning_shows_in_explain_and_results(db):
    make_grouped(db)
    layered_import(db, "t/p", "l")
    for query, read in PRUNED.items():
        line = objects_line(db, query.format(t="l.t"))
        assert line == f"sgfdw: Objects: {read} of 10 ({10 - read} pruned by index)", query
    assert_same_results(db, "l.t", "src", list(PRUNED))


def test_patches_keep_the_objects_they_supersede(db):
    """A patch whose new values do not match the quals must still replace the old rows
    it updates: pruning it would return the old row, which the recheck accepts."""
    make_grouped(db)
    execute(db, "UPDATE \"t/p\".t SET grp = 'zzz', x = -1 WHERE id BETWEEN 300 AND 309")
    execute(db, "UPDATE \"t/p\".t SET id = id + 5000 WHERE id BETWEEN 10 AND 12")
    execute(db, "DELETE FROM \"t/p\".t WHERE id IN (301, 702)")
    execute(db, "SELECT sgfdw.commit('t/p', 'patch')")
    execute(db, "UPDATE \"t/p\".t SET grp = 'g03' WHERE id = 300")
    execute(db, "SELECT sgfdw.commit('t/p', 'patch back')")
    layered_import(db, "t/p", "l")
    queries = [*PRUNED, "SELECT * FROM {t} WHERE grp = 'zzz'", "SELECT * FROM {t} WHERE x < 0",
               "SELECT * FROM {t} WHERE id BETWEEN 5000 AND 6000",
               "SELECT * FROM {t} WHERE id IN (10, 301, 702, 5010)"]
    assert_same_results(db, "l.t", '"t/p".t', queries)
    # grp = 'zzz': the first patch only (the base objects are pruned by grp's index).
    assert objects_line(db, "SELECT * FROM l.t WHERE grp = 'zzz'").startswith(
        "sgfdw: Objects: ") and "pruned by index" in objects_line(
        db, "SELECT * FROM l.t WHERE grp = 'zzz'")
    assert execute(db, "SELECT id FROM l.t WHERE grp = 'zzz' ORDER BY id") == [
        (i,) for i in range(302, 310)]


# Types whose = / < / >= a layered qual may be pruned by, or not (all compared).
COMPARABLE = ["int2", "int4", "int8", "float4", "float8", "bool", "text", "varchar(5)",
              "char(5)", "name", "bytea", "date", "timestamp", "timestamptz", "numeric",
              "uuid", "interval", "time", "inet"]


@pytest.mark.parametrize("column_type", sorted(VALUES))
def test_every_type_round_trips_through_the_fdw(db, column_type):
    execute(db, "SET sgfdw.fragment_rows = 2")  # several objects: the index is used
    make_source(db, "src", column_type, VALUES[column_type])
    execute(db, "SELECT sgfdw.init('t/types')")
    execute(db, "SELECT sgfdw.import_table('t/types', 'v', 'src')")
    layered_import(db, "t/types", "l")
    execute(db, "SET TimeZone = 'Asia/Kathmandu'")
    execute(db, "SET DateStyle = 'SQL, DMY'")
    assert_same_rows(db, "src", "l.v")
    if column_type in COMPARABLE:
        queries = [f"SELECT id FROM {{t}} WHERE v {operator} %s::{column_type}"
                   for operator in ("=", "<", ">=")]
        for literal in VALUES[column_type]:
            assert_same_results(db, "l.v", "src", queries, (literal,))


def test_table_without_primary_key_keeps_duplicates(db):
    execute(db, "SET sgfdw.fragment_rows = 3")
    execute(db, "CREATE TABLE dups (a int, b text)")
    execute(db, "INSERT INTO dups VALUES (1, 'x'), (1, 'x'), (2, NULL), (2, NULL), (3, 'y')")
    execute(db, "SELECT sgfdw.init('t/dups')")
    execute(db, "SELECT sgfdw.import_table('t/dups', 'd', 'dups')")
    execute(db, "INSERT INTO \"t/dups\".d VALUES (1, 'x'), (9, 'z')")
    execute(db, "SELECT sgfdw.commit('t/dups')")
    layered_import(db, "t/dups", "l")
    assert rows_of(db, "l.d") == rows_of(db, '"t/dups".d')
    assert_same_results(db, "l.d", '"t/dups".d', ["SELECT * FROM {t} WHERE a = 1",
                                                  "SELECT b FROM {t} WHERE b IS NULL"])


SORTED = [
    "SELECT * FROM {t} ORDER BY id LIMIT 5",
    "SELECT id, grp FROM {t} ORDER BY id DESC LIMIT 3 OFFSET 2",
    "SELECT * FROM {t} ORDER BY id OFFSET 995",
    "SELECT id FROM {t} LIMIT 0",
    "SELECT * FROM {t} WHERE id > 500 ORDER BY id LIMIT 4",
    "SELECT * FROM {t} WHERE id IN (3, 4, 5, 501) AND grp = 'g00' ORDER BY id DESC LIMIT 2",
    "SELECT id FROM {t} WHERE d >= DATE '2020-06-01' ORDER BY id LIMIT 3 OFFSET 1",
    "SELECT id FROM {t} WHERE v LIKE 'a%' ORDER BY id LIMIT 3",
    "SELECT * FROM {t} ORDER BY grp, id LIMIT 3",
    "SELECT * FROM {t} ORDER BY d LIMIT 3",
]


def test_order_by_key_and_limit_are_pushed(db):
    make_grouped(db)
    execute(db, "UPDATE \"t/p\".t SET id = -id WHERE id BETWEEN 500 AND 505")
    execute(db, "SELECT sgfdw.commit('t/p')")
    layered_import(db, "t/p", "l")
    for query in SORTED:  # ordered results: compared as lists
        assert execute(db, query.format(t="l.t")) == execute(db, query.format(t='"t/p".t')), query
    plan = "\n".join(row[0] for row in execute(db, "EXPLAIN SELECT * FROM l.t ORDER BY id DESC "
                                                   "LIMIT 3 OFFSET 2"))
    assert plan.startswith("Foreign Scan"), plan  # no Sort or Limit node above the scan
    assert "Sorted by: id DESC" in plan and "Limit: 3, offset: 2" in plan
    plan = "\n".join(row[0] for row in execute(db, "EXPLAIN SELECT * FROM l.t ORDER BY grp "
                                                   "LIMIT 3"))
    assert "Sort Key: grp" in plan and "Sorted by" not in plan  # text: the collation's order
    # With quals the scan applies exactly, LIMIT goes with them; with LIKE, it does not.
    plan = "\n".join(row[0] for row in execute(db, "EXPLAIN " + SORTED[5].format(t="l.t")))
    assert plan.startswith("Foreign Scan") and "Limit: 2, offset: 0" in plan, plan
    plan = "\n".join(row[0] for row in execute(db, "EXPLAIN " + SORTED[7].format(t="l.t")))
    assert plan.startswith("Limit") and "Sorted by: id" in plan, plan


def test_join_with_a_small_local_table_uses_key_lookups(db):
    make_grouped(db)
    execute(db, "UPDATE \"t/p\".t SET v = 'patched' WHERE id IN (7, 707)")
    execute(db, "SELECT sgfdw.commit('t/p')")
    layered_import(db, "t/p", "l")
    execute(db, "CREATE TABLE wanted (id int)")
    execute(db, "INSERT INTO wanted VALUES (7), (350), (707), (5000)")
    execute(db, "ANALYZE wanted")
    query = "SELECT w.id, t.v, t.grp FROM wanted w JOIN {t} t ON t.id = w.id"
    plan = "\n".join(row[0] for row in execute(db, "EXPLAIN " + query.format(t="l.t")))
    assert "Nested Loop" in plan and "Hash" not in plan, plan
    assert_same_results(db, "l.t", '"t/p".t', [query])
