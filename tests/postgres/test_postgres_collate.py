"""Explicit COLLATE clauses in WHERE clauses (expressions.py): C and POSIX, byte order on
every server, are shipped as ``COLLATE "C"`` written where the query has them (whatever
the remote column's collation); other collations (ICU, nondeterministic) and a C operand
under an explicit default collation stay local. postgres_fdw over the same remote table
(which keeps them all local) is the oracle; the words differ between byte order, ICU
order and case folding in C and C.UTF-8."""
from __future__ import annotations

import pytest

from pgfdw_helpers import execute, explain, remote_sql, remote_where
from twins import twin_schemas

TABLES_SQL = """
CREATE SCHEMA {s};
CREATE TABLE {s}.w (id integer PRIMARY KEY, t text, tc text COLLATE "C");
INSERT INTO {s}.w SELECT row_number() OVER (), w, w
FROM unnest(ARRAY['a', 'A', 'b', 'B', 'é', 'É', 'e', 'z', 'Z', 'ab', 'aB', 'Ω', 'ω', '_',
                  'ß', NULL]) w;
"""

# Each is evaluated remotely with COLLATE "C" and gives postgres_fdw's rows.
SHIPPED = [
    't COLLATE "C" < \'b\'',
    't < \'b\' COLLATE "C"',
    't COLLATE "POSIX" BETWEEN \'B\' AND \'a\'',
    'lower(t COLLATE "C") = \'é\'',
    'upper(t COLLATE "C") = \'AB\'',
    't COLLATE "C" ILIKE \'é%\'',
    't COLLATE "C" IN (\'a\', \'B\')',
    'GREATEST(t COLLATE "C", \'b\') = \'b\'',
    'CASE WHEN t COLLATE "C" > \'a\' THEN 1 ELSE 0 END = 1',
    'tc < \'b\' COLLATE "C"',
]

# Each stays with PostgreSQL (no WHERE remotely), still giving the same rows.
LOCAL = [
    't COLLATE "und-x-icu" < \'b\'',
    't COLLATE "und-x-icu" > ANY (ARRAY[\'a\', \'B\'])',
    't COLLATE ci IN (\'ab\', \'É\')',
    'NULLIF(t COLLATE ci, \'AB\') IS NULL',
    'tc_local < t COLLATE "default"',
]


@pytest.fixture
def twins(fdb, remote, source):
    with fdb.cursor() as cur:
        cur.execute("CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', "
                    "deterministic = false)")
    with twin_schemas(fdb, remote, source, TABLES_SQL, "coll") as twins:
        with fdb.cursor() as cur:
            for schema in ("s", "pa"):
                # A local column of collation C over the remote default-collation one.
                cur.execute(f"ALTER FOREIGN TABLE {schema}.w ADD COLUMN tc_local text "
                            "OPTIONS (column_name 't') COLLATE \"C\"")
        yield twins


def test_c_collations_are_shipped(twins):
    for condition in SHIPPED:
        query = f"SELECT id, t FROM {{t}}w WHERE {condition}"
        twins.same_read(query, ordered=False)
        where = remote_where(twins.db, query.replace("{t}", "s."))
        assert where is not None and 'COLLATE "C"' in where, condition
        assert "Filter:" not in "\n".join(explain(twins.db, query.replace("{t}", "s."))), \
            condition
    assert remote_where(twins.db, "SELECT id FROM s.w WHERE t COLLATE \"C\" < 'b'") == \
        '((CAST("t" AS text) COLLATE "C") OPERATOR("pg_catalog".<) $1::text)'



def test_a_local_c_column_over_a_remote_default_one(twins):
    """postgres_fdw assumes the remote column has the local one's collation: it sends
    lower(t) and the remote lowercases 'É' (C.UTF-8), which lower() under C does not;
    a local copy is the oracle."""
    execute(twins.db, 'CREATE TABLE local_w AS SELECT id, tc_local FROM s.w')
    query = "SELECT id FROM {} WHERE lower(tc_local) = 'é' ORDER BY id"
    assert execute(twins.db, query.format("s.w")) == \
        execute(twins.db, query.format("local_w")) == [(5,)]
    assert execute(twins.db, query.format("pa.w")) == [(5,), (6,)]
    assert remote_where(twins.db, query.format("s.w")).startswith(
        '("pg_catalog"."lower"(("t" COLLATE "C")) OPERATOR("pg_catalog".=) $1::text)')


def test_other_collations_stay_local(twins):
    for condition in LOCAL:
        query = f"SELECT id, t FROM {{t}}w WHERE {condition}"
        twins.same_read(query, ordered=False)
        assert remote_where(twins.db, query.replace("{t}", "s.")) is None, condition


def test_order_by_collate_c_is_sorted_remotely(twins):
    query = 'SELECT id, t FROM {t}w ORDER BY t COLLATE "C", id'
    twins.same_read(query)
    assert 'ORDER BY "t" COLLATE "C"' in remote_sql(twins.db, query.replace("{t}", "s."))


def test_a_join_clause_and_a_direct_update_under_c(twins):
    query = ('SELECT a.id, b.id FROM {t}w a JOIN {t}w b ON a.id + 1 = b.id '
             'AND a.t COLLATE "C" < b.t')
    twins.same_read(query, ordered=False)
    shown = "\n".join(explain(twins.db, query.replace("{t}", "s.")))
    assert "Relations: " in shown and 'COLLATE "C"' in shown, shown
    query = ('UPDATE {t}w SET t = upper(t COLLATE "C") WHERE t COLLATE "C" > \'a\' '
             'RETURNING id, t')
    shown = "\n".join(explain(twins.db, query.replace("{t}", "s.")))
    assert "Foreign Update on s.w" in shown and 'COLLATE "C"' in shown, shown
    twins.both(query)
