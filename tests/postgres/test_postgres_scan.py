"""PostgresFdw reads: every type exactly, projections, quals, sorts and limits pushed
down (seen in EXPLAIN VERBOSE's remote SQL and checked against the remote's own answer),
parameterised nested loops, hostile identifiers and values."""

from __future__ import annotations

import pytest

from pgfdw_helpers import (HOSTILE_COLUMNS, HOSTILE_SCHEMA, HOSTILE_TABLE, assert_same,
                           execute, explain, remote_sql, sql_ident)

ALL = dict(local="f.all_types", remote="src.all_types")
BIG = dict(local="f.big", remote="src.big")
TYPE_COLUMNS = ["i2", "i4", "i8", "f4", "f8", "num", "numx", "b", "t", "vc", "bp", "tc",
                "d", "tm", "ttz", "ts", "tstz", "iv", "by", "u", "j", "jb", "ia", "ta",
                "ina", "m", "pi"]


def test_full_scan_every_type(fdb, source):
    rows = assert_same(fdb, source, "SELECT * FROM {t} ORDER BY id", **ALL)
    assert len(rows) == 6


@pytest.mark.parametrize("column", TYPE_COLUMNS)
def test_each_column_alone(fdb, source, column):
    # One needed column: the others are NULL in the remote SELECT list.
    query = f"SELECT id, {column} FROM {{t}} ORDER BY id"
    assert_same(fdb, source, query, **ALL)
    # As text: the exact text output, not a Python rendering of it.
    assert_same(fdb, source, f"SELECT id, {column}::text FROM {{t}} ORDER BY id", **ALL)


def test_projection_pushdown(fdb, source):
    sql = remote_sql(fdb, "SELECT t, id FROM f.all_types")
    assert sql.startswith('SELECT "id", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "t", ')
    assert sql.endswith(' FROM "src"."all_types"')
    assert remote_sql(fdb, "SELECT 1 FROM f.big") == 'SELECT NULL FROM "src"."big"'
    # An aggregate goes remote itself (test_postgres_aggregates.py).
    assert remote_sql(fdb, "SELECT count(*) FROM f.big") == \
        'SELECT pg_catalog.count(*) FROM "src"."big"'
    assert_same(fdb, source, "SELECT count(*) FROM {t}", **BIG)
    assert_same(fdb, source, "SELECT count(*), sum(grp), max(name) FROM {t}", **BIG)


QUALS = [
    # (WHERE clause, fragment of the remote WHERE)
    ("i4 = 10", '("i4" = $1)'),
    ("i4 <> 10", '("i4" <> $1)'),
    ("i8 > 0", '("i8" > $1)'),
    ("i2 <= 1", '("i2" <= $1)'),
    ("i4 = 10000000000", '("i4" = $1)'),            # a bigint value for an int column
    ("f4 = 1.5", '("f4" = $1)'),
    ("f8 >= 2.25", '("f8" >= $1)'),
    ("f8 = 'Infinity'", '("f8" = $1)'),
    ("num > 0.5", '("num" > $1)'),
    ("numx = 'NaN'", '("numx" = $1)'),
    ("numx = 'Infinity'", '("numx" = $1)'),
    ("b", '("b" = $1)'),
    ("NOT b", '("b" = $1)'),
    ("t = 'alpha'", '("t" = $1)'),
    ("t < 'beta'", '("t" < $1)'),
    ("t LIKE 'a%'", '("t" ~~ $1)'),
    ("t NOT LIKE '%a%'", '("t" !~~ $1)'),
    ("t ILIKE 'ALPHA%'", '("t" ~~* $1)'),
    ("t NOT ILIKE 'alpha%'", '("t" !~~* $1)'),
    ("vc = 'it''s; DROP'", '("vc" = $1)'),
    ("vc LIKE 'a\\%b%'", '("vc" ~~ $1)'),
    ("bp = 'ab'", '("bp" = $1)'),
    ("tc = 'Zeta'", '("tc" = $1)'),
    # remote column collation "C", local C.UTF-8: the same byte order
    # (sgfdw.remote.collation, tests/postgres/test_postgres_collation.py)
    ("tc > 'Zeta'", '("tc" > $1)'),
    ("d > '2000-01-01'", '("d" > $1)'),
    ("d = 'infinity'", '("d" = $1)'),
    ("tm < '12:00'", '("tm" < $1)'),
    ("ts > '2000-01-01'", '("ts" > $1)'),
    ("tstz >= '2024-01-02 03:04:05.654321+00'", '("tstz" >= $1)'),
    ("iv > '1 day'", '("iv" > $1)'),
    ("by = '\\x00ff10'::bytea", '("by" = $1)'),
    ("u = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", '("u" = $1)'),
    ("jb = '{\"k\": 1.10}'", '("jb" = $1)'),
    ("ia = '{1,2,3}'", '("ia" = $1)'),
    ("ta = '{x,\"y z\"}'", '("ta" = $1)'),
    ("ina = '10.0.0.1'", '("ina" = $1)'),
    ("m = 'happy'", '("m"::text = $1)'),            # remote enum, local text
    ("m::text > 'ok'", '("m"::text > $1)'),    # text order (remotely: of the labels)
    ("pi = 3", '("pi" = $1)'),                      # remote domain, local integer
    ("i4 IS NULL", '("i4" IS NULL)'),
    ("t IS NOT NULL", '("t" IS NOT NULL)'),
    ("i4 IN (10, 50, 7)", '("i4" = ANY ($1))'),
    ("i4 NOT IN (10, 50)", '("i4" <> ALL ($1))'),
    ("t IN ('alpha', 'beta ünïcødé 表', 'no''pe')", '("t" = ANY ($1))'),
    ("u IN ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '12345678-1234-1234-1234-123456789abc')",
     '("u" = ANY ($1))'),
    ("f8 IN (2.25, 5.5)", '("f8" = ANY ($1))'),
    ("numx = ANY ('{5.5, Infinity}')", '("numx" = ANY ($1))'),
    ("d IN ('2024-01-02', '2000-01-01')", '("d" = ANY ($1))'),
    ("m::text IN ('sad', 'ok')", '("m"::text = ANY ($1))'),
    ("i4 > ANY ('{0, 20}')", '("i4" > ANY ($1))'),
    ("t = ANY ('{}'::text[])", '("t" = ANY ($1))'),
    ("i4 > 0 AND t LIKE '%a%' AND b", '("b" = $1) AND ("i4" > $2) AND ("t" ~~ $3)'),
]


@pytest.mark.parametrize("where,fragment", QUALS, ids=[q for q, _ in QUALS])
def test_qual_pushdown(fdb, source, where, fragment):
    sql = remote_sql(fdb, f"SELECT id FROM f.all_types WHERE {where}")
    assert " WHERE " + fragment in sql
    assert_same(fdb, source, f"SELECT * FROM {{t}} WHERE {where} ORDER BY id", **ALL)


NOT_PUSHED = [
    "jb @> '{\"k\": 1.10}'",    # an operator outside the pushed set
    "ia && '{1}'",
    "i4 - 1 = 9 OR random() > 2",   # volatile
    # boolean tests reach the FDW as 'IS' / 'IS NOT' quals (as Multicorn's) and stay local
    "b IS TRUE", "b IS NOT TRUE", "b IS FALSE", "b IS NOT FALSE", "b IS UNKNOWN",
    "b IS NOT UNKNOWN",
]


# Expressions of columns: filters (can_filter, test_postgres_filters.py has more).
EXPRESSIONS = [
    ("i4 - 1 = 9", '(("i4" OPERATOR("pg_catalog".-) $1::integer) OPERATOR("pg_catalog".=) '
                   '$2::integer)'),
    ("j::text = '{}'", '(CAST("j" AS text) OPERATOR("pg_catalog".=) $1::text)'),
    ("lower(t) = 'alpha'", '("pg_catalog"."lower"("t") OPERATOR("pg_catalog".=) $1::text)'),
]


@pytest.mark.parametrize("where,fragment", EXPRESSIONS, ids=[q for q, _ in EXPRESSIONS])
def test_expression_pushdown(fdb, source, where, fragment):
    sql = remote_sql(fdb, f"SELECT id FROM f.all_types WHERE {where}")
    assert sql.endswith(" WHERE " + fragment)
    assert_same(fdb, source, f"SELECT id FROM {{t}} WHERE {where}", **ALL)


@pytest.mark.parametrize("where", NOT_PUSHED)
def test_not_pushed_but_correct(fdb, source, where):
    sql = remote_sql(fdb, f"SELECT id FROM f.all_types WHERE {where}")
    assert " WHERE " not in sql
    assert_same(fdb, source, f"SELECT id FROM {{t}} WHERE {where}", **ALL)


SORTS = [
    ("i4", '"i4" ASC NULLS LAST'),
    ("i4 DESC", '"i4" DESC NULLS FIRST'),
    ("f8 DESC NULLS LAST, id", '"f8" DESC NULLS LAST, "id" ASC NULLS LAST'),
    ("t", '"t" ASC NULLS LAST'),
    ("t COLLATE \"C\" DESC", '"t" COLLATE "C" DESC NULLS FIRST'),
    ("tc COLLATE \"C\"", '"tc" COLLATE "C" ASC NULLS LAST'),
    ("d NULLS FIRST, id", '"d" ASC NULLS FIRST, "id" ASC NULLS LAST'),
    ("tstz, id", '"tstz" ASC NULLS LAST, "id" ASC NULLS LAST'),
    ("numx DESC, id", '"numx" DESC NULLS FIRST, "id" ASC NULLS LAST'),
]


@pytest.mark.parametrize("order,remote_order", SORTS, ids=[s for s, _ in SORTS])
def test_sort_pushdown(fdb, source, order, remote_order):
    plan = explain(fdb, f"SELECT * FROM f.all_types ORDER BY {order}")
    assert not any("Sort" in line for line in plan), plan
    assert any(line.strip().endswith("ORDER BY " + remote_order) for line in plan), plan
    assert_same(fdb, source, f"SELECT * FROM {{t}} ORDER BY {order}", **ALL)


def test_sort_not_pushed_for_enum_as_text(fdb, source):
    # Remote m is an enum (ordered by label position); locally it is text.
    plan = explain(fdb, "SELECT id, m FROM f.all_types ORDER BY m, id")
    assert any("Sort Key" in line for line in plan)
    rows = execute(fdb, "SELECT m FROM f.all_types WHERE m IS NOT NULL ORDER BY m")
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)


LIMITS = [
    "SELECT * FROM {t} ORDER BY id LIMIT 2",
    "SELECT * FROM {t} ORDER BY id LIMIT 2 OFFSET 1",
    "SELECT * FROM {t} ORDER BY id OFFSET 4",
    "SELECT id, t FROM {t} WHERE i4 > 0 ORDER BY i4 DESC LIMIT 1",
    "SELECT id FROM {t} WHERE t LIKE '%a%' AND m = 'happy' ORDER BY id LIMIT 1",
]


@pytest.mark.parametrize("query", LIMITS)
def test_limit_pushdown(fdb, source, query):
    plan = explain(fdb, query.format(t="f.all_types"))
    assert not any(line.strip().startswith("Limit") for line in plan), plan
    (sql,) = [line for line in plan if "Remote SQL" in line]
    assert " LIMIT " in sql or " OFFSET " in sql
    assert_same(fdb, source, query, **ALL)


def test_limit_not_pushed_with_unpushable_qual(fdb, source):
    query = "SELECT id FROM {t} WHERE i4 + 0 > 0 OR random() > 2 ORDER BY id LIMIT 2"
    plan = explain(fdb, query.format(t="f.all_types"))
    assert any(line.strip().startswith("Limit") for line in plan)
    assert_same(fdb, source, query, **ALL)


def test_large_scan_in_batches(fdb, source):
    execute(fdb, "ALTER FOREIGN TABLE f.big OPTIONS (ADD fetch_size '777')")
    assert_same(fdb, source, "SELECT * FROM {t} ORDER BY id", **BIG)
    assert_same(fdb, source, "SELECT grp, count(*), sum(val) FROM {t} GROUP BY grp", **BIG)
    assert_same(fdb, source, "SELECT * FROM {t} WHERE grp = 7 ORDER BY id DESC", **BIG)


def _inner_scan_lines(plan: list[str]) -> list[str]:
    start = next(i for i, line in enumerate(plan) if "Foreign Scan on f.big" in line)
    return plan[start:start + 6]


def test_join_with_local_table_uses_parameterised_nested_loop(fdb, source):
    execute(fdb, "CREATE TABLE wanted (id int, note text)")
    execute(fdb, "INSERT INTO wanted VALUES (5, 'five'), (17, 'x'), (19999, 'y'), (99999, 'none')")
    execute(fdb, "ANALYZE wanted")
    query = "SELECT w.note, b.* FROM wanted w JOIN f.big b ON b.id = w.id ORDER BY w.id"
    plan = explain(fdb, query)
    assert any("Nested Loop" in line for line in plan), plan
    assert any("Filter: (w.id = b.id)" in line for line in _inner_scan_lines(plan)), plan
    # Run: one remote lookup per outer row, each returning just its row (nothing left
    # for the local recheck to remove).
    analyzed = [r[0] for r in execute(fdb, "EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF) "
                                            + query)]
    inner = _inner_scan_lines(analyzed)
    assert "loops=4" in inner[0], analyzed
    assert not any("Rows Removed by Filter" in line for line in inner), analyzed
    rows = execute(fdb, query)
    expected = execute(source, "SELECT * FROM src.big WHERE id IN (5, 17, 19999) ORDER BY id")
    assert [r[1:] for r in rows] == expected
    assert [r[0] for r in rows] == ["five", "x", "y"]


def test_explain_shows_parameterised_remote_sql(fdb):
    # A parameter's value is unknown to EXPLAIN (multicorn.UNBOUND): shown as $1.
    execute(fdb, "CREATE TABLE wanted (id int)")
    execute(fdb, "INSERT INTO wanted VALUES (5), (17)")
    execute(fdb, "ANALYZE wanted")
    plan = explain(fdb, "SELECT * FROM wanted w JOIN f.big b ON b.id = w.id")
    assert any('WHERE ("id" = $1)' in line for line in plan), plan


def test_join_on_indexed_non_unique_column(fdb, source):
    execute(fdb, "CREATE TABLE groups (grp int)")
    execute(fdb, "INSERT INTO groups VALUES (3), (42)")
    execute(fdb, "ANALYZE groups")
    query = "SELECT b.id FROM groups g JOIN f.big b ON b.grp = g.grp"
    plan = explain(fdb, query)
    assert any("Nested Loop" in line for line in plan), plan
    assert any("Filter: (g.grp = b.grp)" in line for line in _inner_scan_lines(plan)), plan
    got = sorted(r[0] for r in execute(fdb, query))
    assert got == sorted(r[0] for r in execute(
        source, "SELECT id FROM src.big WHERE grp IN (3, 42)"))


def test_estimates(fdb):
    def rows_of(query):
        plan = execute(fdb, "EXPLAIN " + query)
        return int(plan[0][0].split("rows=")[1].split()[0])

    assert 15000 <= rows_of("SELECT * FROM f.big") <= 25000
    assert rows_of("SELECT * FROM f.big WHERE id = 5") == 1
    assert 100 <= rows_of("SELECT * FROM f.big WHERE grp = 5") <= 400
    execute(fdb, "ALTER SERVER rsrv OPTIONS (ADD use_remote_estimate 'true')")
    assert 5 <= rows_of("SELECT * FROM f.big WHERE id < 10") <= 20
    assert 15000 <= rows_of("SELECT * FROM f.big") <= 25000


HOSTILE_VALUES = ["x'; DROP TABLE src.big; --", "a\\b", 'q"q', "it's", "表", "%", "_",
                  "\\", "'", "''", "ü", "50%", "\\'; SELECT 1; --"]


@pytest.fixture
def hostile(fdb, remote):
    execute(fdb, "CREATE SCHEMA h")
    execute(fdb, f"IMPORT FOREIGN SCHEMA {sql_ident(HOSTILE_SCHEMA)} FROM SERVER rsrv INTO h")
    return dict(local=f"h.{sql_ident(HOSTILE_TABLE)}",
                remote=f"{sql_ident(HOSTILE_SCHEMA)}.{sql_ident(HOSTILE_TABLE)}")


def test_hostile_names(fdb, source, hostile):
    columns = execute(fdb, "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass "
                           "AND attnum > 0 ORDER BY attnum", (hostile["local"],))
    assert [c[0] for c in columns] == HOSTILE_COLUMNS
    assert_same(fdb, source, "SELECT * FROM {t} ORDER BY id", **hostile)
    for column in HOSTILE_COLUMNS[1:]:
        col = sql_ident(column)
        assert_same(fdb, source, f"SELECT id, {col} FROM {{t}} ORDER BY {col}, id", **hostile)
        assert_same(fdb, source, f"SELECT id FROM {{t}} WHERE {col} LIKE '%%' ORDER BY id",
                    **hostile)
    sql = remote_sql(fdb, f'SELECT "50%" FROM {hostile["local"]} WHERE "sp ace\\" = \'x\'')
    assert sql == ('SELECT NULL, NULL, "sp ace\\", NULL, "50%" FROM "we""ird;sch\\ema ü".'
                   '"ta""b;le\\ 表 %s" WHERE ("sp ace\\" = $1)')


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_hostile_values_in_quals(fdb, source, hostile, value):
    for column in HOSTILE_COLUMNS[1:]:
        col = sql_ident(column).replace("%", "%%")
        for op in ("=", "<>", "LIKE", ">"):
            assert_same(fdb, source, f"SELECT id FROM {{t}} WHERE {col} {op} %s", (value,),
                        **hostile)
        assert_same(fdb, source, f"SELECT id FROM {{t}} WHERE {col} IN (%s, %s)",
                    (value, value + "'"), **hostile)
    assert_same(fdb, source, "SELECT id FROM {t} WHERE t = %s OR vc = %s", (value, value),
                **ALL)
    assert_same(fdb, source, "SELECT id FROM {t} WHERE ta = ARRAY[%s, NULL]", (value,), **ALL)
    assert execute(source, "SELECT count(*) FROM src.big") == [(20000,)]


def test_two_foreign_tables_interleaved(fdb, source):
    # Two cursors of one connection open at once (a nested loop of two foreign scans).
    execute(fdb, "SET enable_hashjoin = off")
    execute(fdb, "SET enable_mergejoin = off")
    execute(fdb, "ALTER FOREIGN TABLE f.big OPTIONS (ADD fetch_size '100')")
    query = "SELECT a.id, b.id FROM {a} a JOIN {b} b ON b.grp = a.i4 ORDER BY 1, 2"
    got = execute(fdb, query.format(a="f.all_types", b="f.big"))
    assert got == execute(source, query.format(a="src.all_types", b="src.big"))
    assert len(got) == 600


def test_local_text_over_other_remote_types(fdb, source):
    # Declared by hand with text columns: the values are the remote text output, and
    # quals compare remote_col::text where that cast is the output function.
    execute(fdb, "CREATE FOREIGN TABLE as_text (id int, b text, i4 text, f8 text, m text, "
                 "d text, ina text, bp text) SERVER rsrv "
                 "OPTIONS (schema_name 'src', table_name 'all_types')")
    def out(column):    # the output function's text (a cast to text may differ)
        return f"CASE WHEN {column} IS NOT NULL THEN format('%s', {column}) END"

    expected = execute(source, f"SELECT id, {out('b')}, i4::text, f8::text, m::text, "
                               f"d::text, {out('ina')}, {out('bp')} "
                               f"FROM src.all_types ORDER BY id")
    assert execute(fdb, "SELECT * FROM as_text ORDER BY id") == expected
    sql = remote_sql(fdb, "SELECT id FROM as_text WHERE i4 = '10' AND m LIKE 'h%' "
                          "AND b = 't' AND ina = '::1'")
    where = sql.split(" WHERE ")[1]
    assert sorted(where.split(" AND ")) == ['("i4"::text = $2)', '("m"::text ~~ $1)']
    assert execute(fdb, "SELECT id FROM as_text WHERE i4 = '10' AND m LIKE 'h%' AND b = 't'"
                   ) == [(1,)]
    assert execute(fdb, "SELECT id FROM as_text WHERE ina = '::1' OR bp = 'ab   '"
                        "ORDER BY id") == [(1,), (2,), (5,)]     # bp keeps its padding


def test_explicit_collate_in_query(fdb, source):
    if not execute(fdb, "SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu'"):
        pytest.skip("no ICU collations")
    # ICU orders 'alpha' before 'B'; C.UTF-8 (both databases' default) after it.
    query = "SELECT id FROM {t} WHERE t < 'B' COLLATE \"und-x-icu\" ORDER BY id"
    assert_same(fdb, source, query, **ALL)
