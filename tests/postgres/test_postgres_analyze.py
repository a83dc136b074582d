"""PostgresFdw and ANALYZE, with postgres_fdw as the oracle over the same remote tables:
local statistics (pg_stats, reltuples) exist after ANALYZE and are postgres_fdw's --
exactly for a table no larger than the sample (both read it whole), comparable for one
sampled remotely (TABLESAMPLE) -- and the planner uses them for joins.
"""

from __future__ import annotations

import json

import pytest
from psycopg2 import sql

from pgfdw_helpers import assert_usable, error_of, execute
from twins import twin_schemas

TABLES_SQL = """
CREATE SCHEMA {s};
CREATE TABLE {s}.small (id integer PRIMARY KEY, grp integer, name text, val numeric,
                        day date);
INSERT INTO {s}.small
    SELECT g, g % 7, CASE WHEN g % 5 = 0 THEN NULL ELSE 'name ' || (g % 13) END,
           (g % 11) / 3.0, date '2024-01-01' + (g % 17)
    FROM generate_series(1, 500) g;
CREATE TABLE {s}.big (id integer PRIMARY KEY, grp integer, pad text);
INSERT INTO {s}.big SELECT g, g % 50, repeat('x', g % 20) FROM generate_series(1, 20000) g;
CREATE VIEW {s}.small_view AS SELECT id, grp FROM {s}.small WHERE id <= 100;
CREATE TABLE {s}."an""a;ly\\表%" ("i""d" integer, "v;--" text);
INSERT INTO {s}."an""a;ly\\表%" SELECT g, 'v' || (g % 3) FROM generate_series(1, 30) g;
ANALYZE {s}.small, {s}.big;
"""
HOSTILE = 'an"a;ly\\表%'

STATS = ("SELECT attname, null_frac, avg_width, n_distinct, most_common_vals::text, "
         "most_common_freqs, histogram_bounds::text, correlation FROM pg_stats "
         "WHERE schemaname = %s AND tablename = %s ORDER BY attname")


@pytest.fixture
def twins(fdb, remote, source):
    with twin_schemas(fdb, remote, source, TABLES_SQL, "an") as twins:
        yield twins


def local_stats(db, schema: str, table: str) -> list[tuple]:
    return execute(db, STATS, (schema, table))


def reltuples(db, schema: str, table: str) -> float:
    return execute(db, "SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
                   (sql.Identifier(schema, table).as_string(db),))[0][0]


def analyze_both(twins, table: str) -> None:
    """ANALYZE the sgfdw table (s) and the postgres_fdw one over the same remote (pa)."""
    for schema in ("s", "pa"):
        execute(twins.db, sql.SQL("ANALYZE {}").format(sql.Identifier(schema, table)))


@pytest.mark.parametrize("table", ["small", "small_view", HOSTILE])
def test_statistics_of_a_table_read_whole_are_postgres_fdws(twins, table):
    assert local_stats(twins.db, "s", table) == []
    analyze_both(twins, table)
    stats = local_stats(twins.db, "s", table)
    assert stats and stats == local_stats(twins.db, "pa", table)
    assert reltuples(twins.db, "s", table) == reltuples(twins.db, "pa", table)


def test_small_table_statistics_are_exact(twins):
    analyze_both(twins, "small")
    by_column = {row[0]: row for row in local_stats(twins.db, "s", "small")}
    assert float(by_column["id"][3]) == -1      # unique
    assert float(by_column["grp"][3]) == 7
    assert float(by_column["name"][1]) == pytest.approx(0.2)
    assert float(reltuples(twins.db, "s", "small")) == 500


def test_big_table_sampled_remotely_comparable_to_postgres_fdws(twins):
    db = twins.db
    for schema in ("s", "pa"):
        execute(db, sql.SQL("ALTER FOREIGN TABLE {} ALTER id SET STATISTICS 10, "
                            "ALTER grp SET STATISTICS 10, ALTER pad SET STATISTICS 10")
                .format(sql.Identifier(schema, "big")))
    db.notices.clear()
    execute(db, "ANALYZE VERBOSE s.big")
    (line,) = [n for n in db.notices if '"big": table contains' in n]
    # 3,000 rows asked for (statistics target 10): about that many came, of 20,000.
    sampled = int(line.split(", ")[1].split()[0])
    assert line.split('table contains ')[1].startswith("20000 rows")
    assert 2000 < sampled <= 3000, line
    execute(db, "ANALYZE pa.big")
    ours = {row[0]: row for row in local_stats(db, "s", "big")}
    theirs = {row[0]: row for row in local_stats(db, "pa", "big")}
    assert set(ours) == set(theirs) == {"grp", "id", "pad"}
    for column in ours:
        assert float(ours[column][1]) == float(theirs[column][1]) == 0     # null_frac
        assert ours[column][2] == pytest.approx(theirs[column][2], abs=1)  # avg_width
    assert float(ours["id"][3]) == float(theirs["id"][3]) == -1
    assert float(ours["grp"][3]) == float(theirs["grp"][3]) == 50
    assert float(ours["pad"][3]) == float(theirs["pad"][3]) == 20
    assert float(reltuples(db, "s", "big")) == float(reltuples(db, "pa", "big")) == 20000


def test_join_plans_use_the_statistics(twins):
    db = twins.db
    query = "EXPLAIN (FORMAT JSON) SELECT * FROM {0}.small a JOIN {0}.big b ON a.grp = b.grp"

    def join_rows(schema: str) -> float:
        return json.loads(execute(db, query.format(schema))[0][0])[0]["Plan"]["Plan Rows"]

    before = join_rows("s")
    analyze_both(twins, "small")
    analyze_both(twins, "big")
    after = join_rows("s")
    assert after != before
    # Both sides' grp statistics: 7 and 50 values, so 1/50 of the pairs join.
    assert after == pytest.approx(500 * 20000 / 50, rel=0.02)
    assert after == pytest.approx(join_rows("pa"), rel=0.02)


def test_analyze_errors_leave_the_session_usable(twins):
    execute(twins.source, sql.SQL("DROP VIEW {}.small_view").format(sql.Identifier(twins.a)))
    exc = error_of(twins.db, "ANALYZE s.small_view")
    assert exc.pgcode == "42P01"
    assert_usable(twins.db)
    assert local_stats(twins.db, "s", "small_view") == []
