"""Key filters (a Bloom filter per object and key column): a key lookup skips the
objects that cannot hold its key, the patch included, and never loses a row -- lookups
of present, absent, patched, deleted and new keys, IN lists and nested-loop lookups,
keys of every stored type looked up with values of other types, compared with the
image checked out; objects stored without filters are read as before."""
from __future__ import annotations

import pytest

from fdwtest import execute
from test_layered_scan import assert_same_results, layered_import, objects_line

HEAP = '"t/f".t'


@pytest.fixture
def patched(db):
    """t/f: keys 0, 2, ..., 1998 in 10 objects by key, then a patch spread over the whole
    key range (updates, deletes, new keys): its min/max overlaps every lookup."""
    execute(db, "SET sgfdw.fragment_rows = 100")
    execute(db, "CREATE TABLE src (id int PRIMARY KEY, v text)")
    execute(db, "INSERT INTO src SELECT g * 2, md5(g::text) FROM generate_series(0, 999) g")
    execute(db, "SELECT sgfdw.init('t/f')")
    execute(db, "SELECT sgfdw.import_table('t/f', 't', 'src')")
    execute(db, f"UPDATE {HEAP} SET v = 'new' WHERE id IN (10, 510, 1010, 1510)")
    execute(db, f"DELETE FROM {HEAP} WHERE id IN (20, 1020)")
    execute(db, f"INSERT INTO {HEAP} VALUES (3, 'three'), (1999, 'last')")
    execute(db, "SELECT sgfdw.commit('t/f', 'patch')")
    return db


LOOKUPS = {  # query -> its EXPLAIN line: objects read of 11, how each other was pruned
    "SELECT * FROM {t} WHERE id = 600": "1 of 11 (9 pruned by index, 1 by filter)",
    "SELECT * FROM {t} WHERE id = 510": "2 of 11 (9 pruned by index)",  # updated
    "SELECT * FROM {t} WHERE id = 1020": "2 of 11 (9 pruned by index)",  # deleted
    "SELECT * FROM {t} WHERE id = 601": "0 of 11 (9 pruned by index, 2 by filter)",
    "SELECT * FROM {t} WHERE id = 3": "1 of 11 (9 pruned by index, 1 by filter)",  # new
    "SELECT * FROM {t} WHERE id = 1999": "1 of 11 (10 pruned by index)",  # new, above all
    "SELECT * FROM {t} WHERE id IN (600, 1202, 601)": "2 of 11 (8 pruned by index, 1 by filter)",
    "SELECT * FROM {t} WHERE id IN (600, 1020, 5000)": "3 of 11 (8 pruned by index)",
    "SELECT * FROM {t} WHERE id = ANY(ARRAY[601, NULL])":
        "0 of 11 (9 pruned by index, 2 by filter)",
    "SELECT * FROM {t} WHERE id = 600 AND v LIKE 'x%%'": "1 of 11 (9 pruned by index, 1 by filter)",
    "SELECT * FROM {t} WHERE id >= 600 AND id <= 600": "2 of 11 (9 pruned by index)",  # a range
}


def test_lookups_skip_the_objects_without_their_key(patched):
    layered_import(patched, "t/f", "l")
    for query, line in LOOKUPS.items():
        assert objects_line(patched, query.format(t="l.t")) == f"sgfdw: Objects: {line}", query
    assert_same_results(patched, "l.t", HEAP, [*LOOKUPS, "SELECT * FROM {t} WHERE id = 10",
                                               "SELECT * FROM {t} WHERE id IN (3, 20, 1999)"])


def test_nested_loop_lookups_find_every_key(patched):
    layered_import(patched, "t/f", "l")
    execute(patched, "CREATE TABLE wanted (id int)")
    execute(patched, "INSERT INTO wanted VALUES (600), (510), (1020), (601), (3), (1999), "
                     "(20), (10), (NULL), (-1)")
    execute(patched, "ANALYZE wanted")
    execute(patched, "SET enable_hashjoin = off")
    execute(patched, "SET enable_mergejoin = off")
    query = "SELECT w.id, t.v FROM wanted w LEFT JOIN {t} t ON t.id = w.id"
    plan = "\n".join(row[0] for row in execute(patched, "EXPLAIN " + query.format(t="l.t")))
    assert "Nested Loop" in plan and "Foreign Scan" in plan, plan
    assert_same_results(patched, "l.t", HEAP, [query])


def test_objects_stored_without_filters_are_read_as_before(patched):
    execute(patched, "UPDATE splitgraph_meta.objects SET filters = NULL")
    layered_import(patched, "t/f", "l")
    assert objects_line(patched, "SELECT * FROM l.t WHERE id = 600") \
        == "sgfdw: Objects: 2 of 11 (9 pruned by index)"
    assert_same_results(patched, "l.t", HEAP, list(LOOKUPS))
    # The same rows stored again (here: into another repository) fill their filters in.
    execute(patched, "SELECT sgfdw.init('t/again')")
    execute(patched, "SELECT sgfdw.import_table('t/again', 't', 'src')")
    assert execute(patched, "SELECT count(*) FILTER (WHERE filters IS NULL), count(*) "
                            "FROM splitgraph_meta.objects") == [(1, 11)]  # the patch


# key type -> (keys of the first image, keys the patch adds, other literals looked up)
KEYS = {
    "int2": (["1", "2", "3"], ["-32768", "32767", "0"], ["0::int8", "32767::int4", "2::int8",
                                                         "5", "2.0"]),
    "int4": (["1", "2", "3"], ["-2147483648", "2147483647"], ["1::int2", "2147483647::int8",
                                                              "4", "4294967297::int8"]),
    "int8": (["1", "2", "3"], ["-9223372036854775808", "9223372036854775807"],
             ["1::int4", "3::int2", "4"]),
    "float4": (["1.5", "2.5", "3.5"], ["'-0'", "'NaN'", "0.1", "'Infinity'"],
               ["0", "0.1::float8", "'NaN'::float8", "1.5::float8", "'-0'::float8", "4"]),
    "float8": (["1.5", "2.5", "3.5"], ["'-0'", "'NaN'", "0.1", "'-Infinity'", "5e-324"],
               ["0", "0.1::float4", "2.5::float4", "'NaN'::float4", "4", "0.1::numeric"]),
    "bool": (["false"], ["true"], []),
    "text": (["'b'", "'c'", "'d'"], ["''", "'ü表🎉'", "'A'", "' '", "'a'"],
             ["'B'", "'x'", "'a '", "'a'::name", "'a'::varchar", "'a'::char(3)"]),
    "varchar(5)": (["'b'", "'c'", "'d'"], ["''", "'zz'", "'a'"], ["'a'::text", "'a '"]),
    "name": (["'b'", "'c'", "'d'"], ["''", "'a name'", "'z'"], ["'a name'::text", "'A NAME'"]),
    "bytea": (["'\\x10'", "'\\x20'", "'\\x30'"], ["'\\x'", "'\\x00ff'", "'\\xff'"],
              ["'\\x00'", "'\\x0010'"]),
    "date": (["'2000-01-01'", "'2000-01-02'", "'2000-01-03'"],
             ["'infinity'", "'-infinity'", "'2000-02-29'", "'0044-03-15 BC'"],
             ["'2000-02-29'::timestamp", "'2000-02-29 00:00+00'::timestamptz", "'2000-02-28'"]),
    "timestamp": (["'2000-01-01 00:00'", "'2000-01-02 00:00'", "'2000-01-03 00:00'"],
                  ["'2020-01-01 12:34:56.789012'", "'infinity'", "'-infinity'",
                   "'294276-12-31 23:59:59.999999'"],
                  ["'2020-01-01 12:34:56.789012+00'::timestamptz", "'2020-01-01'::date",
                   "'2020-01-01 12:34:56.789011'"]),
    "timestamptz": (["'2000-01-01 00:00+00'", "'2000-01-02 00:00+00'", "'2000-01-03 00:00+00'"],
                    ["'2020-06-01 12:00:00.000001+05:30'", "'-infinity'", "'infinity'"],
                    ["'2020-06-01 06:30:00.000001+00'", "'2020-06-01 06:30:00.000001'::timestamp",
                     "'2020-06-01 06:30:00.000002+00'"]),
    "numeric": (["1.0", "2", "3"],
                ["2.50", "'NaN'", "'Infinity'", "-0.000", "1e100", "-12345678901234567890.0"
                 "123456789012345678901234567890", "0.000000000000000000000000000001"],
                ["2.5", "2.500000", "1", "1.00", "0", "0.0::numeric(5,1)", "2.5::float8",
                 "100000000000000000000000000000000000000000000000000000000000000000000000"
                 "00000000000000000000000000000", "1e-30", "-12345678901234567890.01234567"
                 "890123456789012345678901234567890000", "1e-31"]),
    "uuid": (["'00000000-0000-0000-0000-000000000001'", "'ffffffff-0000-0000-0000-000000000002'"],
             ["'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "'00000000-0000-0000-0000-000000000000'"],
             ["'a0eebc999c0b4ef8bb6d6bb9bd380a11'", "'A0EEBC999C0B4EF8BB6D6BB9BD380A11'"]),
    # not filtered (equality ignores trailing blanks): looked up all the same
    "char(5)": (["'b'", "'c'", "'d'"], ["'a'", "'zz'"], ["'a    '", "'a'::text", "'zz '"]),
}
FILTERED = set(KEYS) - {"bool", "char(5)"}


def _table(key_type: str) -> str:
    return "k_" + key_type.split("(")[0]


def test_every_key_type_is_looked_up_exactly(db):
    """One table per key type: the first image holds some keys, the patch adds the edge
    values (-0, NaN, infinities, extremes, empty) and updates a first-image key; every
    key and values of other types are looked up (= and IN), as in the checkout."""
    execute(db, "SELECT sgfdw.init('t/k')")
    for key_type, (first, added, _) in KEYS.items():
        table = f'"t/k".{_table(key_type)}'
        execute(db, f"CREATE TABLE {table} (k {key_type} PRIMARY KEY, n int)")
        execute(db, f"INSERT INTO {table} VALUES " + ", ".join(
            f"({value}, {n})" for n, value in enumerate(first)))
    execute(db, 'CREATE TABLE "t/k".pair (a int, b text, n int, PRIMARY KEY (a, b))')
    execute(db, """INSERT INTO "t/k".pair SELECT g % 5, g::text, g FROM generate_series(1, 50) g""")
    execute(db, "SELECT sgfdw.commit('t/k')")
    for key_type, (first, added, _) in KEYS.items():
        table = f'"t/k".{_table(key_type)}'
        execute(db, f"INSERT INTO {table} VALUES " + ", ".join(
            f"({value}, {n + 10})" for n, value in enumerate(added)))
        execute(db, f"UPDATE {table} SET n = -1 WHERE k = {first[-1]}")
    execute(db, """INSERT INTO "t/k".pair VALUES (7, '3', 0), (-1, '99', 0)""")
    execute(db, """UPDATE "t/k".pair SET n = -1 WHERE b = '20'""")
    execute(db, "SELECT sgfdw.commit('t/k')")
    layered_import(db, "t/k", "l")
    for key_type, (first, added, others) in KEYS.items():
        typed = [f"({value})::{key_type}" for value in first + added]
        queries = [f"SELECT * FROM {{t}} WHERE k = {value}" for value in typed + others]
        queries.append(f"SELECT * FROM {{t}} WHERE k IN ({', '.join(typed + others)})")
        assert_same_results(db, f"l.{_table(key_type)}", f'"t/k".{_table(key_type)}', queries)
        line = objects_line(db, f"SELECT * FROM l.{_table(key_type)} WHERE k = {typed[0]}")
        assert ("1 by filter" in line) == (key_type in FILTERED), (key_type, line)
    # A composite key: each key column's filter serves its own quals.
    pair = {"SELECT * FROM {t} WHERE a = 1": "1 of 2 (0 pruned by index, 1 by filter)",
            "SELECT * FROM {t} WHERE a = 7": "1 of 2 (1 pruned by index)",
            "SELECT * FROM {t} WHERE b = '3'": "2 of 2 (0 pruned by index)",
            "SELECT * FROM {t} WHERE b = '4'": "1 of 2 (0 pruned by index, 1 by filter)",
            "SELECT * FROM {t} WHERE a = 0 AND b = '20'": "2 of 2 (0 pruned by index)",
            "SELECT * FROM {t} WHERE a = 2 AND b IN ('7', '12')":
                "1 of 2 (0 pruned by index, 1 by filter)"}
    for query, line in pair.items():
        assert objects_line(db, query.format(t="l.pair")) == f"sgfdw: Objects: {line}", query
    assert_same_results(db, "l.pair", '"t/k".pair', list(pair))
    # A column declared with another type compares its own way: no filter for it.
    for key_type, declared in [("text", "char(5)"), ("float8", "float4"), ("int4", "int8")]:
        execute(db, f"CREATE FOREIGN TABLE l.as_{declared[:4]} (k {declared}, n int) SERVER "
                    f"sgfdw_objects OPTIONS (repository 't/k', table 'k_{key_type}')")
        assert "by filter" not in objects_line(
            db, f"SELECT * FROM l.as_{declared[:4]} WHERE k = {KEYS[key_type][0][0]}")
    # Under a nondeterministic collation equal texts may differ in bytes: no text filter
    # for a column declared with one; the database's other columns keep theirs.
    execute(db, "CREATE COLLATION anycase (provider = icu, locale = 'und-u-ks-level2', "
                "deterministic = false)")
    execute(db, "CREATE FOREIGN TABLE l.anycase (k text COLLATE anycase, n int) SERVER "
                "sgfdw_objects OPTIONS (repository 't/k', table 'k_text')")
    assert "by filter" not in objects_line(db, "SELECT * FROM l.anycase WHERE k = 'bb'")
    assert "by filter" in objects_line(db, "SELECT * FROM l.k_text WHERE k = 'bb'")


def test_columns_declared_with_another_type_or_collation_are_not_pruned_by(db):
    """A foreign table may declare a column otherwise than stored: char(n) over stored
    text ignores trailing blanks, a nondeterministic collation calls other bytes equal.
    The index, the key filters and the in-object filters compare stored bytes, so none
    of them may drop a row for a qual on such a column."""
    execute(db, "SET sgfdw.fragment_rows = 2")
    execute(db, "CREATE TABLE src (k text PRIMARY KEY, v text)")
    execute(db, "INSERT INTO src VALUES ('ab ', 'x '), ('ab', 'y'), ('AB', 'X'), ('cd', 'z')")
    execute(db, "SELECT sgfdw.init('t/d')")
    execute(db, "SELECT sgfdw.import_table('t/d', 'src', 'src')")
    execute(db, "CREATE COLLATION anycase2 (provider = icu, locale = 'und-u-ks-level2', "
                "deterministic = false)")
    execute(db, "CREATE SCHEMA l")
    execute(db, "CREATE FOREIGN TABLE l.blanks (k char(5), v char(3)) SERVER sgfdw_objects "
                "OPTIONS (repository 't/d', table 'src')")
    execute(db, "CREATE FOREIGN TABLE l.anycase (k text COLLATE anycase2, "
                "v text COLLATE anycase2) SERVER sgfdw_objects "
                "OPTIONS (repository 't/d', table 'src')")
    execute(db, "CREATE TABLE blanks AS SELECT k::char(5) AS k, v::char(3) AS v FROM src")
    execute(db, "CREATE TABLE anycase AS SELECT k COLLATE anycase2 AS k, "
                "v COLLATE anycase2 AS v FROM src")
    execute(db, "CREATE FOREIGN TABLE l.src (k text, v text) SERVER sgfdw_objects "
                "OPTIONS (repository 't/d', table 'src')")
    wheres = ["k = 'ab'", "k IN ('ab', 'cd')", "v = 'x'", "k = 'ab' AND v = 'x'", "k > 'ab'"]
    for table in ("blanks", "anycase", "src"):
        for where in [*wheres, "k = 'AB' COLLATE anycase2", "v = 'x' COLLATE anycase2"]:
            query = f"SELECT k, v FROM {{t}} WHERE {where} ORDER BY 1, 2"
            assert sorted(execute(db, query.format(t=f"l.{table}"))) == \
                sorted(execute(db, query.format(t=table))), (table, where)
    # Columns declared as stored are still pruned by index and filter
    assert objects_line(db, "SELECT * FROM l.src WHERE k = 'cd'") == \
        "sgfdw: Objects: 1 of 2 (1 pruned by index)"
