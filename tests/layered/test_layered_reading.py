"""How layered scans read: random queries (quals of every shape, ORDER BY key, LIMIT,
joins, aggregates) on an image of several objects of several row groups with patches,
compared with the same image checked out; reading stops at the LIMIT (a damaged object
after it is never opened); the Arrow batch lane and the row path give the same values;
row estimates follow the quals."""
from __future__ import annotations

import random

import pytest
from psycopg2 import sql

from layered_helpers import object_file
from fdwtest import assert_usable, error_of, execute
from test_layered_scan import assert_same_results, layered_import, make_grouped, objects_line

HEAP = '"t/r".t'
# Columns of t and literals its quals compare with (some match rows, some do not).
LITERALS = {
    "id": ["0", "1", "8191", "8192", "16384", "20000", "39999", "100007", "-5"],
    "grp": ["'g07'", "'g00'", "'zzz'", "'g3'"],
    "d": ["DATE '2020-03-01'", "DATE 'infinity'", "DATE '-infinity'", "DATE '2079-01-01'"],
    "x": ["0", "1e4", "'NaN'::float8", "-1", "'Infinity'::float8"],
    "ts": ["TIMESTAMPTZ '2020-01-02 03:00+00'", "TIMESTAMPTZ 'infinity'"],
    "v": ["md5('5')", "'a'", "NULL"],
}
OPERATORS = ["=", "<>", "<", "<=", ">", ">="]


def make_history(db) -> None:
    """t/r: 40,000 rows in 2 objects of 2 row groups each, then two patches (updates that
    move values out of and into ranges, deletes, key changes, inserts)."""
    execute(db, "SET sgfdw.fragment_rows = 20000")
    execute(db, "CREATE TABLE src (id int PRIMARY KEY, grp text, d date, x float8, "
                "ts timestamptz, v text, n numeric)")
    execute(db, "INSERT INTO src SELECT g, 'g' || lpad((g / 2000)::text, 2, '0'), "
                "CASE WHEN g = 7 THEN DATE 'infinity' WHEN g = 8 THEN DATE '-infinity' "
                "ELSE DATE '2020-01-01' + g / 100 END, "
                "CASE WHEN g % 1000 = 3 THEN 'NaN' ELSE g * 0.5 END, "
                "CASE WHEN g = 9 THEN TIMESTAMPTZ 'infinity' ELSE "
                "TIMESTAMPTZ '2020-01-01 00:00+00' + g * interval '1 minute' END, "
                "CASE WHEN g % 11 = 0 THEN NULL ELSE md5(g::text) END, g / 7.0 "
                "FROM generate_series(0, 39999) g")
    execute(db, "CREATE TABLE pairs (a int, b text, v int, PRIMARY KEY (a, b))")
    execute(db, "INSERT INTO pairs SELECT g / 3, (g % 3)::text, g FROM generate_series(0, 29999) g")
    execute(db, "SELECT sgfdw.init('t/r')")
    execute(db, "SELECT sgfdw.import_table('t/r', 't', 'src')")
    execute(db, "SELECT sgfdw.import_table('t/r', 'c', 'pairs')")
    rng = random.Random(3)
    for step in range(2):
        changed = rng.sample(range(40000), 300)
        execute(db, f"UPDATE {HEAP} SET grp = 'zzz', x = -x, d = d + 400 "
                    "WHERE id = ANY(%s)", (changed[:200],))
        execute(db, f"DELETE FROM {HEAP} WHERE id = ANY(%s)", (changed[200:250],))
        execute(db, f"UPDATE {HEAP} SET id = id + 100000 WHERE id = ANY(%s)",
                (changed[250:],))
        execute(db, "UPDATE \"t/r\".c SET v = -v WHERE a = ANY(%s) AND b <> '1'",
                (changed[:100],))
        execute(db, "DELETE FROM \"t/r\".c WHERE a = ANY(%s) AND b = '1'", (changed[:100],))
        execute(db, "UPDATE \"t/r\".c SET b = b || 'x' WHERE a = ANY(%s)", (changed[100:150],))
        execute(db, f"INSERT INTO {HEAP} SELECT g, 'g00', NULL, g, NULL, 'new', 1 "
                    "FROM generate_series(50000 + %s, 50010 + %s) g", (step * 20, step * 20))
        execute(db, "SELECT sgfdw.commit('t/r', %s)", (f"patch {step}",))
    layered_import(db, "t/r", "l")


def random_qual(rng: random.Random) -> str:
    column = rng.choice(sorted(LITERALS))
    literal = rng.choice(LITERALS[column])
    shape = rng.randrange(6)
    if shape == 0:
        return f"{column} IS {rng.choice(['', 'NOT '])}NULL"
    if shape == 1:
        values = ", ".join(rng.sample(LITERALS[column], 2))
        return f"{column} {rng.choice(['IN', 'NOT IN'])} ({values})"
    if shape == 2:
        values = ", ".join(rng.sample(LITERALS[column], 2))
        return f"{column} {rng.choice(['=', '<', '>='])} {rng.choice(['ANY', 'ALL'])}" \
               f"(ARRAY[{values}])"
    if shape == 3 and column in ("id", "x"):
        low = rng.choice(LITERALS[column])
        return f"{column} BETWEEN {low} AND {low} + {rng.choice([10, 3000, 30000])}"
    if shape == 3 and column in ("grp", "v"):
        return f"{column} LIKE '{rng.choice(['g0', 'a', 'z'])}%%'"
    return f"{column} {rng.choice(OPERATORS)} {literal}"


def random_query(rng: random.Random) -> tuple[str, bool]:
    """A query on {t} and whether its order is defined (compared as lists)."""
    where = " AND ".join(random_qual(rng) for _ in range(rng.randrange(1, 4)))
    if rng.random() < 0.15:
        return f"SELECT grp, count(*), sum(x), max(v), min(d) FROM {{t}} WHERE {where} " \
               "GROUP BY grp", False
    columns = ", ".join(rng.sample(["id", "grp", "d", "x", "ts", "v", "n"], rng.randrange(1, 4)))
    if rng.random() < 0.5:
        order = rng.choice(["", " DESC"])
        return f"SELECT id, {columns} FROM {{t}} WHERE {where} ORDER BY id{order} " \
               f"LIMIT {rng.choice([1, 5, 100])} OFFSET {rng.choice([0, 3])}", True
    return f"SELECT {columns} FROM {{t}} WHERE {where}", False


def test_random_queries_layered_equal_checkout(db):
    make_history(db)
    # 2 objects and 2 patches over every key range: a key lookup prunes the other object,
    # and the patches without that key by their key filters
    assert objects_line(db, "SELECT * FROM l.t WHERE id = 5") \
        == "sgfdw: Objects: 1 of 4 (1 pruned by index, 2 by filter)"
    rng = random.Random(11)
    for _ in range(120):
        query, ordered = random_query(rng)
        if ordered:  # as text: NaN equals NaN; a plain projection keeps the order
            assert [execute(db, f"SELECT q::text FROM ({query.format(t=table)}) q")
                    for table in ("l.t", HEAP)] == [execute(
                        db, f"SELECT q::text FROM ({query.format(t=HEAP)}) q")] * 2, query
        else:
            assert_same_results(db, "l.t", HEAP, [query])
    execute(db, "CREATE TABLE wanted (id int)")
    execute(db, "INSERT INTO wanted SELECT unnest(ARRAY[0, 7, 16384, 39999, 100000, 50005])")
    execute(db, "ANALYZE wanted")
    assert_same_results(db, "l.t", HEAP, [
        "SELECT w.id, t.v, t.d FROM wanted w JOIN {t} t ON t.id = w.id",
        "SELECT w.id, t.x FROM wanted w LEFT JOIN {t} t ON t.id = w.id + 1",
        "SELECT count(*), sum(x), max(v), min(ts), max(n) FROM {t}"])
    assert_same_results(db, "l.c", '"t/r".c', [  # a composite key
        "SELECT * FROM {t}", "SELECT a, v FROM {t} WHERE a BETWEEN 100 AND 7000",
        "SELECT b, count(*), sum(v) FROM {t} WHERE v < 0 GROUP BY b"])
    assert execute(db, "SELECT a FROM l.c ORDER BY a DESC LIMIT 5") == execute(
        db, 'SELECT a FROM "t/r".c ORDER BY a DESC LIMIT 5')


def test_row_estimates_follow_the_quals(db):
    make_history(db)

    def estimate(where: str) -> int:
        plan = execute(db, f"EXPLAIN SELECT * FROM l.t WHERE {where}")[0][0]
        return int(plan.split("rows=")[1].split()[0])

    assert estimate("id = 20001") <= 5
    assert 200 <= estimate("id BETWEEN 1000 AND 1999") <= 3000
    assert 20000 <= estimate("id >= 0") <= 45000
    assert estimate("id < 1000") < estimate("id < 30000")
    assert estimate("v IS NULL") < estimate("v IS NOT NULL")
    verbose = "\n".join(row[0] for row in execute(
        db, "EXPLAIN VERBOSE SELECT * FROM l.t WHERE id >= 5 AND v LIKE 'a%%'"))
    assert "Filtered in the objects: id >= 5\n" in verbose + "\n", verbose


def test_limit_stops_reading_objects(db, pg):
    """ORDER BY key LIMIT n reads the objects in key order and stops when it has n rows:
    a damaged object after them is never opened (and is the error of a full scan)."""
    make_grouped(db)  # t/p: 10 objects of 100 rows, keys 0..999
    layered_import(db, "t/p", "l")
    ids = [row[0] for row in execute(db, "SELECT unnest(object_ids) FROM splitgraph_meta.tables "
                                         "WHERE table_name = 't'")]
    ends = {}
    for object_id in ids:
        low = execute(db, "SELECT index->'columns'->'id'->>'min' FROM splitgraph_meta.objects "
                          "WHERE object_id = %s", (object_id,))[0][0]
        ends[int(low)] = object_id
    last = ends[max(ends)]
    object_file(db, pg, last).write_bytes(b"damaged")
    assert execute(db, "SELECT id FROM l.t ORDER BY id LIMIT 3 OFFSET 150") == [
        (150,), (151,), (152,)]
    assert execute(db, "SELECT id FROM l.t WHERE id > 650 ORDER BY id LIMIT 2") == [
        (651,), (652,)]
    for query in ("SELECT count(*) FROM l.t", "SELECT id FROM l.t ORDER BY id DESC LIMIT 2"):
        error = error_of(db, query)  # DESC reads the last object first
        assert error.pgcode == "XX001" and last in error.pgerror, query
        assert_usable(db)


@pytest.mark.parametrize("declared, path", [
    ("id int, grp text, d date, x float8, v text", "as stored: the batch lane"),
    ("id bigint, grp varchar(3), d text, x numeric, v bytea", "other types: the row path")])
def test_batch_lane_and_row_path_give_the_same_rows(db, declared, path):
    make_grouped(db)
    execute(db, "UPDATE \"t/p\".t SET d = 'infinity' WHERE id = 5")
    execute(db, "SELECT sgfdw.commit('t/p')")
    execute(db, sql.SQL("CREATE FOREIGN TABLE hand (" + declared + ") SERVER sgfdw_objects "
                        "OPTIONS (repository 't/p', table 't')"))
    casts = ", ".join(f"{part.split()[0]}::{' '.join(part.split()[1:])}"
                      for part in declared.split(", "))
    got = execute(db, "SELECT * FROM hand ORDER BY id")
    expected = execute(db, f"SELECT {casts} FROM \"t/p\".t ORDER BY id")
    assert got == expected, path
