"""SqlAlchemyFdw columns declared with their own collation over SQLite's byte-order
text: a qual on such a column compares under that collation, so its text comparisons go
to the source only under pg_catalog's C (ICU and nondeterministic ones stay local, IS
NULL still goes), and a sort only where its collation orders bytewise. The same over a
PostgreSQL source whose columns are "C". Oracle: a local copy of the table (CREATE
TABLE AS keeps the column collations)."""
from __future__ import annotations

import pytest

from fdwtest import execute, explain_lines
from sqladata import create_server, create_table, make_sqlite, remote_sql

WORDS = ["a", "A", "b", "e", "E", "é", "É", "f", "z", "Z", None]
# Local columns, each over a source column of the same words: ICU, nondeterministic,
# pg_catalog's C.
COLUMNS = {"ti": '"und-x-icu"', "tn": "nd", "tc": '"C"'}


def _insert(table: str) -> str:
    return "".join(f"INSERT INTO {table} VALUES ({i}, {', '.join([literal] * len(COLUMNS))});\n"
                   for i, literal in enumerate(
                       ("NULL" if w is None else f"'{w}'" for w in WORDS), 1))


@pytest.fixture(scope="module")
def module_cdb(module_db):
    execute(module_db, "CREATE COLLATION nd (provider = icu, locale = 'und-u-ks-level2', "
                       "deterministic = false)")
    return module_db


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def cdb(request, module_cdb, module_sqlite_dir, module_remote_src):
    """The foreign table fw_<source> and its local copy local_<source>; queries name
    them {0} and are run on both."""
    db, source = module_cdb, request.param
    if source == "sqlite":
        path = make_sqlite(module_sqlite_dir, "collated.db",
                           "CREATE TABLE w (id INTEGER PRIMARY KEY, "
                           f"{', '.join(f'{name} TEXT' for name in COLUMNS)});\n" +
                           _insert("w"))
        create_server(db, source, f"sqlite:///{path}")
    else:
        # the source's columns compare bytewise, as SQLite's
        conn = module_remote_src.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("CREATE TABLE w (id integer PRIMARY KEY, " +
                            ", ".join(f'{name} text COLLATE "C"' for name in COLUMNS) +
                            ");" + _insert("w"))
        finally:
            conn.close()
        create_server(db, source, module_remote_src.url)
    columns = ", ".join(f"{name} text COLLATE {collation}"
                        for name, collation in COLUMNS.items())
    create_table(db, f"fw_{source}", source, f"id integer, {columns}", tablename="w")
    execute(db, f"CREATE TABLE local_{source} AS SELECT * FROM fw_{source}")
    return db, source


def _same(cdb, query: str) -> list[tuple]:
    db, source = cdb
    got = execute(db, query.format(f"fw_{source}"))
    assert got == execute(db, query.format(f"local_{source}")), query
    assert got, query
    return got


def _sent(cdb, query: str) -> str:
    db, source = cdb
    return remote_sql(explain_lines(db, query.format(f"fw_{source}"), verbose=True))


@pytest.mark.parametrize("query", [
    "SELECT id FROM {} WHERE ti < 'f' ORDER BY id",
    "SELECT id FROM {} WHERE ti >= 'É' ORDER BY id",
    "SELECT id FROM {} WHERE tn = 'e' ORDER BY id",
    "SELECT id FROM {} WHERE tn IN ('a', 'é') ORDER BY id",
    "SELECT id FROM {} WHERE tn <> 'e' ORDER BY id",
    "SELECT id FROM {} WHERE ti LIKE 'é%' ORDER BY id",
])
def test_text_quals_of_other_collations_stay_local(cdb, query):
    _same(cdb, query)
    assert "WHERE" not in _sent(cdb, query)


def test_is_null_of_an_icu_column_still_goes(cdb):
    query = "SELECT id FROM {} WHERE ti IS NULL"
    assert _same(cdb, query) == [(len(WORDS),)]
    assert "IS NULL" in _sent(cdb, query)


def test_sort_by_an_icu_column_stays_local(cdb):
    query = "SELECT id, ti FROM {} ORDER BY ti, id"
    _same(cdb, query)
    assert "ORDER BY" not in _sent(cdb, query)


@pytest.mark.parametrize("query", [
    "SELECT id FROM {} WHERE tc < 'f' ORDER BY id",
    "SELECT id FROM {} WHERE tc = 'e' ORDER BY id",
])
def test_c_column_quals_still_go(cdb, query):
    _same(cdb, query)
    assert "WHERE" in _sent(cdb, query)


def test_sort_by_a_c_column_still_goes(cdb):
    query = "SELECT id, tc FROM {} ORDER BY tc NULLS FIRST, id"
    _same(cdb, query)
    assert "ORDER BY" in _sent(cdb, query)


def test_min_max_and_group_by_follow_the_column_collation(cdb):
    _same(cdb, "SELECT min(ti), max(ti), min(tc), max(tc) FROM {}")
    _same(cdb, "SELECT ti, count(*) FROM {} GROUP BY ti ORDER BY ti")


@pytest.mark.parametrize("column", ["ti", "tn", "tc"])
def test_join_clauses_compare_under_the_column_collation(cdb, column):
    _same(cdb, f"SELECT a.id, b.id FROM {{0}} a JOIN {{0}} b ON a.{column} < b.{column} "
               "WHERE a.id < 4 ORDER BY 1, 2")
    _same(cdb, f"SELECT a.id, b.id FROM {{0}} a JOIN {{0}} b ON a.{column} = b.{column} "
               "ORDER BY 1, 2")
