"""SqlAlchemyFdw columns declared with their own collation over SQLite's byte-order
text: a qual on such a column compares under that collation, so its text comparisons go
to the source only under pg_catalog's C (ICU and nondeterministic ones stay local, IS
NULL still goes), and a sort only where its collation orders bytewise. Oracle: a local
copy of the table (CREATE TABLE AS keeps the column collations)."""
from __future__ import annotations

import pytest

from fdwtest import execute, explain_lines
from sqladata import create_server, create_table, make_sqlite, remote_sql

WORDS = ["a", "A", "b", "e", "E", "é", "É", "f", "z", "Z", None]
# Local columns, each over a SQLite column of the same words: ICU, nondeterministic,
# pg_catalog's C.
COLUMNS = {"ti": '"und-x-icu"', "tn": "nd", "tc": '"C"'}


@pytest.fixture(scope="module")
def cdb(module_db, module_sqlite_dir):
    db = module_db
    rows = "".join(f"INSERT INTO w VALUES ({i}, {', '.join([literal] * len(COLUMNS))});\n"
                   for i, literal in enumerate(
                       ("NULL" if w is None else f"'{w}'" for w in WORDS), 1))
    path = make_sqlite(module_sqlite_dir, "collated.db",
                       "CREATE TABLE w (id INTEGER PRIMARY KEY, "
                       f"{', '.join(f'{name} TEXT' for name in COLUMNS)});\n" + rows)
    execute(db, "CREATE COLLATION nd (provider = icu, locale = 'und-u-ks-level2', "
                "deterministic = false)")
    create_server(db, "collated", f"sqlite:///{path}")
    columns = ", ".join(f"{name} text COLLATE {collation}"
                        for name, collation in COLUMNS.items())
    create_table(db, "fw", "collated", f"id integer, {columns}", tablename="w")
    execute(db, "CREATE TABLE local_w AS SELECT * FROM fw")
    return db


def _same(db, query: str) -> list[tuple]:
    got = execute(db, query.format("fw"))
    assert got == execute(db, query.format("local_w")), query
    assert got, query
    return got


def _sent(db, query: str) -> str:
    return remote_sql(explain_lines(db, query.format("fw"), verbose=True))


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
