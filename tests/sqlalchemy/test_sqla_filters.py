"""WHERE clauses that are no simple quals (OR, NOT, IS NULL, boolean columns) evaluated
by the source (SqlAlchemyFdw.can_filter): the rows equal the same query on a local copy
of the table (SQLite) or on the source (PostgreSQL), with NULLs under NOT, and EXPLAIN
shows the clause in the Remote SQL and no Filter left to PostgreSQL; what the source
would evaluate differently stays local."""
from __future__ import annotations

import pytest

from fdwtest import assert_same, execute, explain_lines
from sqladata import ITEMS_LOCAL, create_server, create_table, remote_sql


@pytest.fixture(scope="module")
def lite(module_db, sqlite_items_module):
    db = module_db
    create_server(db, "lite", f"sqlite:///{sqlite_items_module}")
    create_table(db, "items", "lite", ITEMS_LOCAL, tablename="items")
    execute(db, "CREATE TABLE items_local AS SELECT * FROM items")
    return db


@pytest.fixture(scope="module")
def sqlite_items_module(module_sqlite_dir):
    from sqladata import make_sqlite, sqlite_script

    return make_sqlite(module_sqlite_dir, "items.db", sqlite_script())


def filtered_remotely(db, query: str) -> str:
    """The Remote SQL of a query PostgreSQL filters no further."""
    lines = explain_lines(db, query, verbose=True)
    assert not any("Filter:" in line for line in lines), lines
    return remote_sql(lines)


SQLITE_PUSHED = [
    ("WHERE qty = 3 OR name = 'apple'", " OR "),
    # PostgreSQL moves NOT inside (NOT (a AND b) is NOT a OR NOT b): NULLs on both sides
    ("WHERE NOT (qty > 5 AND note = 'green')", "items.qty <= ? OR"),
    ("WHERE qty IS NULL OR price > 10", "items.qty IS NULL OR"),
    ("WHERE active OR qty < 2", "ELSE 0 END = 0 OR items.qty < ?"),
    ("WHERE NOT (name LIKE 'a%' AND note IS NULL)", "NOT (items.name GLOB ?) OR"),
    ("WHERE NOT active OR qty IS NULL", "ELSE 0 END = 1 OR items.qty IS NULL"),
    ("WHERE (qty > 2 AND name < 'm') OR id IN (1, 2)", "IN (?, ?)"),
    ("WHERE NOT (born > '2015-01-01' AND NOT active)", "items.born <= ? OR"),
]


@pytest.mark.parametrize("where,fragment", SQLITE_PUSHED)
def test_sqlite_filters_pushed_and_right(lite, where, fragment):
    query = f"SELECT id, name, qty FROM {{t}} {where}"
    assert fragment in filtered_remotely(lite, query.format(t="items"))
    assert_same(lite, query, foreign="items", local="items_local")


def test_filters_let_aggregates_and_limit_go_to_the_source(lite):
    query = "SELECT qty, count(*) FROM {t} WHERE qty = 3 OR qty IS NULL GROUP BY qty"
    sent = filtered_remotely(lite, query.format(t="items"))
    assert "count(*)" in sent and " OR " in sent, sent
    assert_same(lite, query, foreign="items", local="items_local")
    query = "SELECT id FROM {t} WHERE qty = 0 OR note IS NULL ORDER BY id LIMIT 2"
    assert "LIMIT" in filtered_remotely(lite, query.format(t="items"))
    assert_same(lite, query, foreign="items", local="items_local")


@pytest.mark.parametrize("where", [
    "WHERE lower(name) = 'apple' OR qty = 3",    # a function
    "WHERE name ILIKE 'a%' OR qty = 3",          # SQLite's LIKE: ASCII case only
    "WHERE name < 'b' COLLATE \"en-x-icu\" OR qty = 3",
    "WHERE qty::text = '3' OR qty = 4",
])
def test_sqlite_filters_it_cannot_evaluate_exactly_stay_local(lite, where):
    query = f"SELECT id, name FROM {{t}} {where}"
    assert any("Filter:" in line for line in explain_lines(lite, query.format(t="items")))
    assert_same(lite, query, foreign="items", local="items_local")


@pytest.fixture(scope="module")
def pgro(module_db, module_remote_src):
    create_server(module_db, "pgsrc", module_remote_src.url)
    create_table(module_db, "pitems", "pgsrc", ITEMS_LOCAL, tablename="items")
    return module_db, module_remote_src


@pytest.mark.parametrize("where", [
    "WHERE qty = 3 OR name ILIKE 'é%'",
    "WHERE NOT (price > 10 AND ratio IS NULL)",
    "WHERE NOT active OR qty IS NULL",
])
def test_postgres_filters_pushed_and_equal_source(pgro, where):
    db, src = pgro
    query = f"SELECT id, name FROM {{t}} {where} ORDER BY id"
    filtered_remotely(db, query.format(t="pitems"))
    assert execute(db, query.format(t="pitems")) == src.rows(query.format(t="items"))
