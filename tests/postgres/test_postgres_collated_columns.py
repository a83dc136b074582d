"""Local foreign-table columns declared with their own collation (ColumnDefinition's
``collation``) over a remote byte-order ("C") column: a qual on such a column compares
under that collation, so it goes remote only under pg_catalog's C or POSIX; sorts and
min/max follow the sort key's collation. postgres_fdw assumes the local collation is
the remote column's (it would push ``ti < 'f'`` and lose 'é'), so the oracle is a local
copy of the rows, read without quals."""
from __future__ import annotations

import pytest

from pgfdw_helpers import execute, remote_sql, remote_where
from twins import twin_schemas

TABLES_SQL = """
CREATE SCHEMA {s};
CREATE TABLE {s}.w (id integer PRIMARY KEY, t text COLLATE "C");
INSERT INTO {s}.w SELECT row_number() OVER (), w
FROM unnest(ARRAY['a', 'A', 'b', 'e', 'E', 'é', 'É', 'f', 'z', 'Z', NULL]) w;
"""

# Local columns over the remote "t": ICU, nondeterministic, a user's own "C" (ICU).
COLUMNS = {"ti": '"und-x-icu"', "tci": "ci", "tu": 'public."C"', "tc": '"C"'}


@pytest.fixture
def cdb(fdb, remote, source):
    execute(fdb, "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', "
                 "deterministic = false)")
    execute(fdb, "CREATE COLLATION public.\"C\" (provider = icu, locale = 'und')")
    with twin_schemas(fdb, remote, source, TABLES_SQL, "colcoll"):
        for name, collation in COLUMNS.items():
            execute(fdb, f"ALTER FOREIGN TABLE s.w ADD COLUMN {name} text "
                         f"OPTIONS (column_name 't') COLLATE {collation}")
        execute(fdb, "CREATE TABLE local_w AS SELECT * FROM s.w")
        yield fdb


def _same(cdb, query: str) -> list[tuple]:
    got = execute(cdb, query.format("s.w"))
    assert got == execute(cdb, query.format("local_w")), query
    return got


# Each would lose or add rows if compared remotely in byte order (or exactly).
LOCAL = ["ti < 'f'", "ti <= 'e'", "ti ILIKE 'É%'", "ti LIKE 'é%'", "ti = 'é'",
         "tci = 'A'", "tci IN ('e', 'Z')", "tu < 'f'", "tu > 'a'"]


def test_a_qual_under_another_collation_stays_local(cdb):
    for condition in LOCAL:
        _same(cdb, f"SELECT id FROM {{}} WHERE {condition} ORDER BY id")
        assert remote_where(cdb, f"SELECT id FROM s.w WHERE {condition}") is None, condition


def test_an_icu_sort_and_min_max_stay_local(cdb):
    assert {t for _, t in _same(cdb, "SELECT id, ti FROM {} WHERE ti < 'f' ORDER BY id")} \
        >= {"é", "É"}
    assert [t for _, t in _same(cdb, "SELECT id, ti FROM {} ORDER BY ti, id")][:3] == \
        ["a", "A", "b"]
    assert "ORDER BY" not in remote_sql(cdb, "SELECT id, ti FROM s.w ORDER BY ti")
    assert "ORDER BY" not in remote_sql(cdb, "SELECT id, tu FROM s.w ORDER BY tu")
    assert _same(cdb, "SELECT min(ti), max(ti), min(tu) FROM {}") == [("a", "Z", "a")]
    assert "min(" not in remote_sql(cdb, "SELECT min(ti) FROM s.w")


def test_a_local_c_column_over_a_remote_c_one_still_pushes(cdb):
    rows = _same(cdb, "SELECT id FROM {} WHERE tc < 'f' AND tc ILIKE 'e%' ORDER BY id")
    assert rows == [(4,), (5,)]
    assert remote_where(cdb, "SELECT id FROM s.w WHERE tc < 'f'") is not None
    assert remote_where(cdb, "SELECT id FROM s.w WHERE tc = 'é'") is not None
    _same(cdb, "SELECT id, tc FROM {} ORDER BY tc, id")
    assert 'ORDER BY "t" COLLATE "C"' in remote_sql(cdb, "SELECT id, tc FROM s.w ORDER BY tc")
