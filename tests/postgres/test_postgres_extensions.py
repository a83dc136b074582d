"""The server option ``extensions`` with a real extension installed on both sides
(contrib's fuzzystrmatch): its immutable functions go remote in WHERE clauses,
aggregates and direct UPDATEs only when it is listed, as postgres_fdw's option; results
are postgres_fdw's (listing it too) either way."""
from __future__ import annotations

import pytest

from pgfdw_helpers import execute, explain, remote_sql, remote_where
from twins import twin_schemas

TABLES_SQL = """
CREATE SCHEMA {s};
CREATE TABLE {s}.n (id integer PRIMARY KEY, t text, k integer);
INSERT INTO {s}.n SELECT x, (ARRAY['kitten', 'sitting', 'mitten', 'smith', 'smyth'])[x % 5 + 1],
                         0
FROM generate_series(1, 40) x;
"""

PUSHED = [
    "SELECT id FROM {t}n WHERE levenshtein(t, 'kitten') <= 1",
    "SELECT id FROM {t}n WHERE soundex(t) = soundex('smith') OR difference(t, 'mitten') = 4",
]


@pytest.fixture
def twins(fdb, remote, source):
    for db in (fdb, source):
        execute(db, "CREATE EXTENSION IF NOT EXISTS fuzzystrmatch SCHEMA public")
    try:
        with twin_schemas(fdb, remote, source, TABLES_SQL, "ext") as twins:
            execute(fdb, "ALTER SERVER pgsrv OPTIONS (ADD extensions 'fuzzystrmatch')")
            yield twins
    finally:
        execute(source, "DROP EXTENSION fuzzystrmatch")


def listed(db, extensions: str | None) -> None:
    option = "DROP extensions" if extensions is None else f"ADD extensions '{extensions}'"
    execute(db, f"ALTER SERVER rsrv OPTIONS ({option})")


def test_functions_of_a_listed_extension_go_remote(twins):
    for query in PUSHED:
        assert remote_where(twins.db, query.replace("{t}", "s.")) is None, query
        twins.same_read(query, ordered=False)
    listed(twins.db, "cube, fuzzystrmatch")
    for query in PUSHED:
        assert '"public"."' in remote_where(twins.db, query.replace("{t}", "s.")), query
        twins.same_read(query, ordered=False)
    query = "SELECT levenshtein(t, 'kitten') % 3, count(*) FROM {t}n GROUP BY 1"
    assert "GROUP BY" in remote_sql(twins.db, query.replace("{t}", "s."))
    twins.same_read(query, ordered=False)
    query = "UPDATE {t}n SET k = levenshtein(t, 'smith') WHERE soundex(t) = 'S530'"
    assert "Foreign Update on s.n" in "\n".join(explain(twins.db, query.replace("{t}", "s.")))
    twins.both(query)
    listed(twins.db, None)
    assert remote_where(twins.db, PUSHED[0].replace("{t}", "s.")) is None
