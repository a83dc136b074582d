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


@pytest.mark.parametrize("query", [
    "SELECT flag, count(*) FROM {t} GROUP BY flag",
    "SELECT bool_and(flag), bool_or(flag), count(DISTINCT flag) FROM {t}",
    "SELECT every(flag), count(DISTINCT flag) FROM {t} WHERE id > 3",
])
def test_sqlite_boolean_aggregates_as_the_rows_read(lite, query):
    lines = explain_lines(lite, query.format(t="odd"))
    assert not any("Aggregate" in line and "Relations:" not in line for line in lines), lines
    assert_same(lite, query, foreign="odd", local="odd_local")


def test_sqlite_boolean_quals_still_pushed(lite):
    lines = explain_lines(lite, "SELECT id FROM odd WHERE flag OR id = 5", verbose=True)
    assert not any("Filter:" in line for line in lines), lines
    assert "typeof" in remote_sql(lines)


# ------------------------------------------------------------- PostgreSQL collations

WORDS = ["a", "B", "b", "Z", "ä", "A", "bb", None]
COLL_SCRIPT = """
CREATE COLLATION anycase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE coll (id int PRIMARY KEY, d text, c text COLLATE "C",
                   icu text COLLATE "en-x-icu", ci text COLLATE anycase);
"""


@pytest.fixture(scope="module")
def pgcoll(module_db, remote):
    """`coll` over a remote database whose default collation is ICU's English, with
    columns of other collations (C, ICU's English again, a case-insensitive one); the
    local database orders as C.UTF-8 (as does the remote cluster's template: columns
    of that default collation are compared remotely in test_sqla_postgres.py)."""
    db = module_db
    remote.sql("CREATE DATABASE sqla_coll_icu TEMPLATE template0 LOCALE_PROVIDER icu "
               "ICU_LOCALE 'en'")
    with remote.connect("sqla_coll_icu") as conn, conn.cursor() as cur:
        cur.execute(COLL_SCRIPT)
        cur.executemany("INSERT INTO coll VALUES (%s, %s, %s, %s, %s)",
                        [(i, w, w, w, w) for i, w in enumerate(WORDS)])
    create_server(db, "src_coll", "postgresql+psycopg2://postgres@/sqla_coll_icu"
                  f"?host={remote.socket_dir}&port={remote.port}")
    create_table(db, "coll", "src_coll", "id int, d text, c text, icu text, ci text",
                 tablename="coll")
    execute(db, "CREATE TABLE coll_local AS SELECT * FROM coll")
    yield db
    remote.drop_database("sqla_coll_icu")


def test_postgres_source_collations(pgcoll):
    for column in ("d", "c", "icu", "ci"):
        for where in ("{c} < 'b'", "{c} = 'b'", "{c} <> 'b'", "{c} >= 'Z'", "{c} ILIKE 'b%'",
                      "{c} IN ('a', 'B')", "{c} LIKE 'b%'", "{c} < 'b' OR id = 7",
                      "{c} = 'b' OR id = 7"):
            query = f"SELECT id FROM {{t}} WHERE {where.format(c=column)} ORDER BY id"
            assert_same(pgcoll, query, foreign="coll", local="coll_local")
        for order in (column, f'{column} COLLATE "C" DESC', f"{column} DESC NULLS LAST"):
            for limit in ("", " LIMIT 3"):
                query = f"SELECT id, {column} FROM {{t}} ORDER BY {order}, id{limit}"
                assert_same(pgcoll, query, foreign="coll", local="coll_local")


def test_postgres_source_collations_pushed_where_alike(pgcoll):
    db = pgcoll
    # C orders as the local C.UTF-8 (byte order): pushed
    sent = remote_sql(explain_lines(db, "SELECT id FROM coll WHERE c < 'b' ORDER BY c",
                                    verbose=True))
    assert "coll.c < %(" in sent and "ORDER BY coll.c" in sent, sent
    # ICU's English orders otherwise: neither comparison nor sort pushed
    for column in ("d", "icu"):
        sent = remote_sql(explain_lines(db, f"SELECT id FROM coll WHERE {column} < 'b' "
                                            f"ORDER BY {column}", verbose=True))
        assert "WHERE" not in sent and "ORDER BY" not in sent, sent
    # equality is byte equality under a deterministic collation, not under anycase
    assert "WHERE" in remote_sql(explain_lines(db, "SELECT id FROM coll WHERE d = 'b'",
                                               verbose=True))
    assert "WHERE" not in remote_sql(explain_lines(db, "SELECT id FROM coll WHERE ci = 'b'",
                                                   verbose=True))


def test_postgres_source_collations_in_joins(pgcoll):
    """A join clause comparing text is pushed only where the source compares it as
    PostgreSQL does: equality under known collations (of one column collation: the
    source cannot choose between two), ranges where the collation orders as locally."""
    db = pgcoll
    for method in ("nestloop", "hashjoin", "mergejoin"):   # only a foreign join, if any
        execute(db, f"SET enable_{method} = off")
    try:
        for clause, pushed in (("x.c < y.c", True), ("x.d = y.d", True), ("x.d < y.d", False),
                               ("x.icu = y.icu", False), ("x.ci = y.ci", False),
                               ("x.c = y.d", False)):
            query = f"SELECT x.id, y.id FROM {{t}} x JOIN {{t}} y ON {clause} AND x.id < 6"
            lines = explain_lines(db, query.format(t="coll"))
            remote = any("Relations:" in line for line in lines) and \
                not any("Filter:" in line for line in lines)
            assert remote == pushed, (clause, lines)
            assert_same(db, query, foreign="coll", local="coll_local")
    finally:
        for method in ("nestloop", "hashjoin", "mergejoin"):
            execute(db, f"RESET enable_{method}")

