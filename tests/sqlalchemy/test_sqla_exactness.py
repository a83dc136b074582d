"""Quals and sorts SqlAlchemyFdw pushes mean what they mean locally, whatever the source
holds: SQLite columns without a declared type (10 and '10' apart in SQLite, both '10'
locally), SQLite booleans stored as 2, 0.5 or text (true locally, not 1), PostgreSQL
columns of their own collation. Rows equal a local copy of the table (SQLite) or the
same query on the source (PostgreSQL)."""
from __future__ import annotations

import pytest

from fdwtest import assert_same, execute, explain_lines
from sqladata import create_server, create_table, make_sqlite, remote_sql

ODD_SQLITE = """
CREATE TABLE odd (id INTEGER PRIMARY KEY, anything, flag BOOLEAN);
INSERT INTO odd VALUES (1, 10, 1), (2, '10', 2), (3, 'abc', 0), (4, 9.5, 0.5),
    (5, NULL, NULL), (6, 'B', 'yes'), (7, 2, ' No '), (8, 'b', 'TRUE'), (9, -1, -3),
    (10, '', 0.0), (11, 'Z', 'f');
"""


@pytest.fixture(scope="module")
def lite(module_db, module_sqlite_dir):
    db = module_db
    path = make_sqlite(module_sqlite_dir, "odd.db", ODD_SQLITE)
    create_server(db, "lite", f"sqlite:///{path}")
    create_table(db, "odd", "lite", "id integer, anything text, flag boolean",
                 tablename="odd")
    execute(db, "CREATE TABLE odd_local AS SELECT * FROM odd")
    return db


@pytest.mark.parametrize("query", [
    "SELECT id FROM {t} WHERE anything = '10'",
    "SELECT id FROM {t} WHERE anything <> '10'",
    "SELECT id FROM {t} WHERE anything < 'b'",
    "SELECT id FROM {t} WHERE anything IN ('10', '2')",
    "SELECT id FROM {t} WHERE anything IS NULL",
    "SELECT id, anything FROM {t} ORDER BY anything, id",
])
def test_sqlite_untyped_column_reads_as_text(lite, query):
    assert_same(lite, query, foreign="odd", local="odd_local")


def test_sqlite_untyped_column_comparisons_stay_local(lite):
    lines = explain_lines(lite, "SELECT id FROM odd WHERE anything = '10'", verbose=True)
    assert any("Filter:" in line for line in lines), lines
    assert "WHERE" not in remote_sql(lines)


@pytest.mark.parametrize("query", [
    "SELECT id FROM {t} WHERE flag",
    "SELECT id FROM {t} WHERE NOT flag",
    "SELECT id FROM {t} WHERE flag = false",
    "SELECT id FROM {t} WHERE flag <> true",
    "SELECT id FROM {t} WHERE flag IS NOT NULL AND flag",
    "SELECT id FROM {t} WHERE flag OR id = 5",
    "SELECT id FROM {t} WHERE NOT (flag OR id = 1)",
    "SELECT id FROM {t} WHERE flag IN (true)",
    "SELECT id FROM {t} WHERE flag = ANY(ARRAY[false, NULL])",
    "SELECT id, flag FROM {t} ORDER BY flag, id",
    "SELECT id, flag FROM {t} ORDER BY flag DESC NULLS LAST, id",
    "SELECT id FROM {t} WHERE flag ORDER BY id LIMIT 3",
])
def test_sqlite_booleans_as_the_rows_read(lite, query):
    assert_same(lite, query, foreign="odd", local="odd_local")


def test_sqlite_boolean_quals_still_pushed(lite):
    lines = explain_lines(lite, "SELECT id FROM odd WHERE flag OR id = 5", verbose=True)
    assert not any("Filter:" in line for line in lines), lines
    assert "typeof" in remote_sql(lines)
