"""WHERE clauses that are not simple quals (OR, NOT, functions, casts, CASE, ANY over
an array column, JSON operators, ...) offered to PostgresFdw as expression trees
(can_filter, src/filters.c, sgfdw/postgres/expressions.py), with postgres_fdw over the
same remote table as the oracle: results identical (NULLs and three-valued logic
included), EXPLAIN VERBOSE showing what went remote, and what must stay local."""
from __future__ import annotations

import pytest

from pgfdw_helpers import explain, remote_sql, remote_where
from twins import twin_schemas

TABLES_SQL = """
CREATE SCHEMA {s};
CREATE TABLE {s}.e (id integer PRIMARY KEY, a integer, b integer, n numeric(8,2),
                    t text, v varchar(12), js jsonb, arr integer[], ts timestamp,
                    flag boolean, tc text COLLATE "C");
INSERT INTO {s}.e
SELECT x,
       CASE WHEN x % 7 = 0 THEN NULL ELSE x % 10 END,
       CASE WHEN x % 5 = 0 THEN NULL ELSE x % 4 END,
       CASE WHEN x % 11 = 0 THEN NULL ELSE x * 1.25 END,
       CASE WHEN x % 13 = 0 THEN NULL ELSE chr(65 + x % 4) || 'x' || x % 9 END,
       'v' || x % 6,
       CASE WHEN x % 9 = 0 THEN NULL
            ELSE jsonb_build_object('k', 'v' || x % 3, 'n', x % 5) END,
       CASE WHEN x % 8 = 0 THEN NULL ELSE ARRAY[x % 3, x % 5, NULL] END,
       timestamp '2024-01-01' + x * interval '5 hours',
       CASE WHEN x % 6 = 0 THEN NULL ELSE x % 2 = 0 END,
       chr(97 + x % 3) || chr(65 + x % 2)
FROM generate_series(1, 300) x;
CREATE TABLE {s}.typed (id integer, x integer);
INSERT INTO {s}.typed SELECT g, g % 7 FROM generate_series(1, 50) g;
"""

# Each is evaluated remotely (EXPLAIN's Remote SQL has it) and gives postgres_fdw's rows.
SHIPPED = [
    "a = 1 OR b = 2",
    "NOT (a = 1 AND b IS NULL)",
    "NOT (a + b = 3)",
    "(a = 1 OR a = 2) AND (b = 1 OR b IS NULL)",
    "a + b > 8",
    "a * 2 - b = 3",
    "n / 2 > 100",
    "a % 3 = 1 OR NOT flag",
    "lower(t) = 'ax1'",
    "upper(v) = 'V1' OR length(t) = 3",
    "t || v = 'Bx2v5'",
    "a::text = '3'",
    "n::integer = 10",
    "CASE WHEN a > 5 THEN 'big' WHEN a > 2 THEN 'mid' END = 'mid'",
    "CASE a WHEN 1 THEN b WHEN 2 THEN -b ELSE 0 END > 1",
    "COALESCE(a, b, 0) = 0",
    "GREATEST(a, b) = 3 OR LEAST(a, b) IS NULL",
    "a = ANY(arr)",
    "2 = ALL(arr)",
    "js ->> 'k' = 'v1'",
    "(js -> 'n')::integer > 2",
    "js -> 'k' = '\"v2\"'",
    "(a + b) IS NULL",
    "(a > b) IS NOT TRUE",
    "a IS DISTINCT FROM b",
    "NULLIF(a, 3) IS NULL",
    "date_trunc('day', ts) = timestamp '2024-01-02'",
    "ts + interval '1 day' > timestamp '2024-03-01'",
    "abs(a - b) = ANY(ARRAY[1, 2])",
    "t LIKE 'A%' OR t IS NULL",
]

# Each stays with PostgreSQL (no WHERE in the Remote SQL), and still gives the same rows.
LOCAL = [
    "a = 1 OR random() < 0",                    # volatile
    "local_double(a) = 4",                      # a user-defined function
    "lower(t COLLATE \"und-x-icu\") = 'ax1'",   # a collation not known remotely
    "t COLLATE \"und-x-icu\" > 'Bx'",            # (C: test_postgres_collate.py)
]


@pytest.fixture
def twins(fdb, remote, source):
    execute_sql = fdb.cursor()
    execute_sql.execute("CREATE FUNCTION local_double(integer) RETURNS integer "
                        "IMMUTABLE LANGUAGE plpgsql AS 'BEGIN RETURN $1 * 2; END'")
    with twin_schemas(fdb, remote, source, TABLES_SQL, "flt") as twins:
        yield twins


def test_shipped_expressions_match_postgres_fdw_and_run_remotely(twins):
    for condition in SHIPPED:
        query = f"SELECT id, a, b, t FROM {{t}}e WHERE {condition}"
        twins.same_read(query, ordered=False)
        assert remote_where(twins.db, query.replace("{t}", "s.")), condition
        plan = "\n".join(explain(twins.db, query.replace("{t}", "s.")))
        assert "Filter:" not in plan, condition


def test_unshippable_expressions_stay_local(twins):
    for condition in LOCAL:
        query = f"SELECT id, a, t FROM {{t}}e WHERE {condition}"
        twins.same_read(query, ordered=False)
        assert remote_where(twins.db, query.replace("{t}", "s.")) is None, condition
        assert "Filter:" in "\n".join(explain(twins.db, query.replace("{t}", "s."))), condition


def test_remote_sql_binds_values_with_casts_and_qualifies_names(twins):
    query = "SELECT id FROM s.e WHERE lower(t) = 'ax1' OR a + 1 = 3"
    # Only the remote server reads t and a.
    assert remote_sql(twins.db, query).startswith('SELECT "id", NULL, NULL, NULL, NULL, ')
    sql = remote_where(twins.db, query)
    assert sql == ('(("pg_catalog"."lower"("t") OPERATOR("pg_catalog".=) $1::text) OR '
                   '(("a" OPERATOR("pg_catalog".+) $2::integer) '
                   'OPERATOR("pg_catalog".=) $3::integer))')


def test_parameters_and_outer_values_are_evaluated_each_execution(twins):
    db = twins.db
    with db.cursor() as cur:
        cur.execute("PREPARE q(integer) AS SELECT count(*) FROM s.e WHERE a + b = $1 "
                    "OR t IS NULL")
        cur.execute("PREPARE p(integer) AS SELECT count(*) FROM pa.e WHERE a + b = $1 "
                    "OR t IS NULL")
        for value in (1, 3, 5, 7, 1, 3, 5):     # past the generic plan's threshold
            cur.execute("EXECUTE q(%s)", (value,))
            got = cur.fetchall()
            cur.execute("EXECUTE p(%s)", (value,))
            assert got == cur.fetchall(), value
        cur.execute("DEALLOCATE q")
        cur.execute("DEALLOCATE p")
    twins.same_read("SELECT x.id, e.id FROM {t}typed x JOIN LATERAL "
                    "(SELECT id FROM {t}e WHERE e.a + x.x = 5 OR e.b = x.x ORDER BY id LIMIT 3) e "
                    "ON true ORDER BY 1, 2")


def test_a_filter_counts_as_enforced_for_limit_and_aggregation(twins):
    query = "SELECT id FROM {t}e WHERE lower(t) = 'bx2' OR a = 1 ORDER BY id LIMIT 5"
    twins.same_read(query)
    sql = remote_sql(twins.db, query.replace("{t}", "s."))
    assert sql.endswith("LIMIT 5"), sql
    query = "SELECT b, count(*) FROM {t}e WHERE a + b > 5 GROUP BY b"
    twins.same_read(query, ordered=False)
    sql = remote_sql(twins.db, query.replace("{t}", "s."))
    assert "GROUP BY" in sql and "WHERE" in sql, sql


def test_a_column_of_another_remote_type_stays_local(twins):
    db = twins.db
    with db.cursor() as cur:
        # Locally text, remotely integer: x || '' would run on the remote integer.
        cur.execute("CREATE FOREIGN TABLE s.typed_text (id integer, x text) SERVER rsrv "
                    f"OPTIONS (schema_name '{twins.a}', table_name 'typed')")
        cur.execute("SELECT count(*) FROM s.typed_text WHERE length(x) = 1 OR x = '3'")
        assert cur.fetchall() == [(50,)]
    assert remote_where(db, "SELECT id FROM s.typed_text WHERE length(x) = 1") is None

