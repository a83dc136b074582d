"""GROUP BY and aggregates computed by the source (SqlAlchemyFdw.can_aggregate).

SQLite: each query's result equals the same query on a local copy of the foreign
table's rows (read without aggregation: PostgreSQL's own answer), and EXPLAIN shows
whether the source computed it. What SQLite computes differently stays local: sums of
numerics and floats, avg, bigint sums near 2^63 (pushed as exact split sums), columns
without a declared type holding both 10 and '10', text under a collation that is not
byte order; a value the local type cannot read makes the pushed aggregation fail as
reading it locally does. PostgreSQL: results equal the same query on the source.
"""
from __future__ import annotations

import pytest

from fdwtest import assert_same, assert_usable, error_of, execute, explain_lines
from sqladata import (ITEMS_LOCAL, create_server, create_table, make_sqlite, remote_sql,
                      sqlite_script)

BIG = 2 ** 63 - 1
EXTRA_SQLITE = f"""
CREATE TABLE nums (id INTEGER PRIMARY KEY, g INTEGER, big INTEGER, small INTEGER);
INSERT INTO nums VALUES (1, 1, {BIG}, 32767), (2, 1, {BIG - 5}, 32767),
    (3, 2, {-BIG - 1}, -32768), (4, 2, {-BIG}, 5), (5, NULL, 7, NULL), (6, 1, NULL, 1);
CREATE TABLE mixed (id INTEGER PRIMARY KEY, n INTEGER, anything, t TEXT COLLATE NOCASE);
INSERT INTO mixed VALUES (1, 1, 10, 'a'), (2, 2, '10', 'A'), (3, 'abc', 'x', 'b'),
    (4, 4, 10.0, 'a');
"""


def pushed(db, query: str) -> bool:
    """The source computes the aggregation: no Aggregate node left to PostgreSQL."""
    return not any("Aggregate" in line and "Relations:" not in line
                   for line in explain_lines(db, query))


@pytest.fixture(scope="module")
def lite(module_db, module_sqlite_dir):
    db = module_db
    path = make_sqlite(module_sqlite_dir, "agg.db", sqlite_script() + EXTRA_SQLITE)
    create_server(db, "lite", f"sqlite:///{path}")
    create_table(db, "items", "lite", ITEMS_LOCAL, tablename="items")
    create_table(db, "nums", "lite", "id integer, g integer, big bigint, small smallint",
                 tablename="nums")
    create_table(db, "mixed", "lite", "id integer, n integer, anything text, t text",
                 tablename="mixed")
    execute(db, "CREATE TABLE items_local AS SELECT * FROM items")
    execute(db, "CREATE TABLE nums_local AS SELECT * FROM nums")
    return db


SQLITE_PUSHED = [
    "SELECT count(*) FROM {t}",
    "SELECT count(*), count(note), count(price), count(DISTINCT qty), sum(qty), min(qty), "
    "max(id), min(name), max(note), min(born), max(born) FROM {t}",
    "SELECT qty, count(*), sum(id), max(code) FROM {t} GROUP BY qty",
    "SELECT active, count(*), min(name) FROM {t} GROUP BY active",
    "SELECT born, count(ratio) FROM {t} WHERE qty > 2 GROUP BY born",
    "SELECT count(DISTINCT name), count(DISTINCT note), count(DISTINCT born), "
    "count(DISTINCT active), sum(DISTINCT qty) FROM {t}",
    "SELECT name, note, count(*) FROM {t} GROUP BY name, note HAVING count(*) > 0 "
    "ORDER BY name, note",
    "SELECT count(*), sum(qty), max(name) FROM {t} WHERE qty = 999",
    "SELECT code, sum(qty) * 2 FROM {t} WHERE name LIKE 'a%' AND id > 0 GROUP BY code",
    "SELECT max(name COLLATE \"C\"), min(note COLLATE \"C\") FROM {t} WHERE born IS NULL",
    "SELECT born, bool_and(active), bool_or(active), every(DISTINCT active) FROM {t} "
    "GROUP BY born",
    "SELECT bool_and(active), bool_or(active) FROM {t} WHERE qty > 0 AND active IS NOT NULL",
]


@pytest.mark.parametrize("query", SQLITE_PUSHED)
def test_sqlite_aggregates_pushed_equal_local(lite, query):
    assert pushed(lite, query.format(t="items")), query
    assert_same(lite, query, foreign="items", local="items_local")


SQLITE_LOCAL = [
    "SELECT sum(price) FROM {t}",                      # numeric: SQLite sums floats
    "SELECT sum(ratio), max(ratio) FROM {t}",
    "SELECT avg(qty) FROM {t}",                        # numeric division's scale
    "SELECT stddev(qty), bit_or(qty) FROM {t}",        # no such aggregates in SQLite
    "SELECT price, count(*) FROM {t} GROUP BY price",
    "SELECT count(DISTINCT price) FROM {t}",
    "SELECT min(name COLLATE \"en-x-icu\") FROM {t}",  # not byte order
    "SELECT count(*) FROM {t} WHERE lower(name) = 'apple'",  # a qual left local
]


@pytest.mark.parametrize("query", SQLITE_LOCAL)
def test_sqlite_aggregates_it_cannot_compute_exactly_stay_local(lite, query):
    assert not pushed(lite, query.format(t="items")), query
    assert_same(lite, query, foreign="items", local="items_local")


def sorted_remotely(db, query: str) -> str:
    """The Remote SQL of an aggregation whose groups the source sorts (and limits):
    no Sort, Limit or Aggregate node left to PostgreSQL."""
    lines = explain_lines(db, query)
    assert not any(word in line for line in lines for word in ("Sort", "Limit")), lines
    assert pushed(db, query)
    return remote_sql(lines)


SQLITE_SORTED = [
    ("SELECT qty, count(*) FROM {t} GROUP BY qty ORDER BY qty DESC NULLS LAST LIMIT 3",
     "ORDER BY items.qty DESC NULLS LAST LIMIT ?"),
    ("SELECT name, count(*) FROM {t} GROUP BY name ORDER BY name LIMIT 5",
     "ORDER BY items.name COLLATE binary ASC NULLS LAST"),
    ("SELECT code, sum(qty) FROM {t} GROUP BY code ORDER BY 2 DESC, 1 LIMIT 4",
     "ORDER BY sum(items.qty) DESC NULLS FIRST"),
    ("SELECT born, max(name) FROM {t} GROUP BY born ORDER BY max(name) NULLS FIRST, born "
     "LIMIT 6 OFFSET 2", "LIMIT ? OFFSET ?"),
    # Two groups are sorted remotely only for a LIMIT (else here: upper.c's costs).
    ("SELECT active, count(*) FROM {t} GROUP BY active ORDER BY active LIMIT 2",
     "ELSE 0 END ASC NULLS LAST"),   # booleans as the rows read them
]


@pytest.mark.parametrize("query,fragment", SQLITE_SORTED)
def test_sqlite_sorts_and_limits_the_groups(lite, query, fragment):
    assert fragment in sorted_remotely(lite, query.format(t="items"))
    assert_same(lite, query, foreign="items", local="items_local")


@pytest.mark.parametrize("query,table", [
    ("SELECT g, sum(big) FROM {t} GROUP BY g ORDER BY 2", "nums"),  # a sum joined here
    ("SELECT name, count(*) FROM {t} GROUP BY name ORDER BY name COLLATE \"en-x-icu\"",
     "items"),
])
def test_sqlite_groups_it_cannot_sort_are_sorted_locally(lite, query, table):
    lines = explain_lines(lite, query.format(t=table))
    assert any("Sort" in line for line in lines) and pushed(lite, query.format(t=table))
    assert_same(lite, query, foreign=table, local=f"{table}_local")


def test_sqlite_bigint_sums_near_2_63_are_exact(lite):
    query = "SELECT g, sum(big), sum(small), count(big), min(big), max(big) FROM {t} GROUP BY g"
    assert pushed(lite, query.format(t="nums"))
    rows = assert_same(lite, query, foreign="nums", local="nums_local")
    assert (1, 2 * BIG - 5, 2 * 32767 + 1, 2, BIG - 5, BIG) in rows
    # SQLite's own sum overflows: the source is sent sums of 32-bit halves
    sent = remote_sql(explain_lines(lite, query.format(t="nums")))
    assert ">> ?" in sent and "& ?" in sent, sent
    query = "SELECT sum(big), sum(DISTINCT small) FROM {t}"
    assert pushed(lite, query.format(t="nums"))
    assert_same(lite, query, foreign="nums", local="nums_local")
    assert not pushed(lite, "SELECT sum(DISTINCT big) FROM nums")
    assert_same(lite, "SELECT sum(DISTINCT big) FROM {t}", foreign="nums", local="nums_local")


def test_sqlite_explain_shows_the_aggregate_sql(lite):
    query = "SELECT qty, count(*), min(name) FROM items WHERE id > 3 GROUP BY qty"
    sent = remote_sql(explain_lines(lite, query, verbose=True))
    assert sent.startswith("SELECT items.qty AS v0, count(*) AS v1, "
                           "min(items.name COLLATE binary) AS v2, "
                           "max(items.qty IS NOT NULL AND NOT (typeof(items.qty) = ? AND "
                           "items.qty BETWEEN ? AND ?)) AS check_0, "), sent
    assert sent.endswith("FROM items WHERE items.id > ? GROUP BY items.qty"), sent


def test_sqlite_mixed_type_columns(lite):
    # A column without a declared type: SQLite holds 10, '10' and 10.0 apart; locally
    # they are all the text '10' (twice) and '10.0'. Not pushed, and right.
    query = "SELECT count(DISTINCT anything) FROM mixed WHERE id <> 3"
    assert not pushed(lite, query)
    assert execute(lite, query) == [(2,)]
    assert not pushed(lite, "SELECT anything, count(*) FROM mixed GROUP BY anything")
    # Declared INTEGER, holding the text 'abc': read locally it is an error, and so is
    # the aggregation SQLite computes (not a count of distinct values of another kind).
    local = error_of(lite, "SELECT n FROM mixed")
    assert local.pgcode == "22P02"
    assert_usable(lite)
    query = "SELECT count(DISTINCT n) FROM mixed"
    assert pushed(lite, query)
    error = error_of(lite, query)
    assert error.pgcode == "22000" and "column n" in error.diag.message_primary
    assert_usable(lite)
    # count(n) does not need the values: SQLite counts the non-NULL ones
    assert execute(lite, "SELECT count(n) FROM mixed") == [(4,)]
    assert execute(lite, "SELECT count(DISTINCT n) FROM mixed WHERE id <> 3") == [(3,)]


def test_sqlite_text_declared_nocase_groups_by_bytes(lite):
    query = "SELECT t, count(*) FROM mixed GROUP BY t ORDER BY t"
    assert pushed(lite, query)
    assert execute(lite, query) == [("A", 1), ("a", 2), ("b", 1)]
    assert execute(lite, "SELECT count(DISTINCT t), max(t) FROM mixed") == [(3, "b")]
    assert execute(lite, "SELECT count(*) FROM mixed WHERE t = 'a'") == [(2,)]
    # quals and sorts too: without COLLATE binary, SQLite would use the column's NOCASE
    assert execute(lite, "SELECT id FROM mixed WHERE t >= 'a' AND t IN ('a', 'b') "
                         "ORDER BY id") == [(1,), (3,), (4,)]
    assert execute(lite, "SELECT id FROM mixed ORDER BY t, id") == [(2,), (1,), (4,), (3,)]


# ---------------------------------------------------------------- PostgreSQL via SQLAlchemy


@pytest.fixture(scope="module")
def pgro(module_db, module_remote_src):
    db = module_db
    create_server(db, "pgsrc", module_remote_src.url)
    create_table(db, "pitems", "pgsrc", ITEMS_LOCAL, tablename="items")
    create_table(db, "pitems_loose", "pgsrc",
                 "id bigint, name text, price numeric, qty integer", tablename="items")
    return db, module_remote_src


POSTGRES_PUSHED = [
    "SELECT count(*), count(note), sum(qty), avg(qty), sum(price), avg(price), sum(ratio), "
    "min(name), max(born), min(price), count(DISTINCT code) FROM {t}",
    "SELECT qty, count(*), sum(price), max(ratio), min(name) FROM {t} GROUP BY qty",
    "SELECT active, born, avg(id) FROM {t} WHERE qty > 2 GROUP BY active, born",
    "SELECT name, count(*) FROM {t} WHERE name LIKE 'a%' GROUP BY name",
    "SELECT active, bool_and(active), every(active), bool_or(active), bit_or(qty), "
    "bit_and(id), stddev(price), var_pop(qty), stddev_samp(price) FROM {t} GROUP BY active",
    "SELECT max(name COLLATE \"C\"), count(*) FROM {t} WHERE qty = 999",
]


@pytest.mark.parametrize("query", POSTGRES_PUSHED)
def test_postgres_aggregates_pushed_equal_source(pgro, query):
    db, src = pgro
    assert pushed(db, query.format(t="pitems")), query
    got = execute(db, query.format(t="pitems"))
    assert sorted(got, key=repr) == sorted(src.rows(query.format(t="items")), key=repr)


@pytest.mark.parametrize("query", [
    "SELECT qty, sum(price) FROM {t} GROUP BY qty ORDER BY 2 DESC NULLS LAST, 1 LIMIT 3",
    "SELECT name, count(*) FROM {t} GROUP BY name ORDER BY name COLLATE \"C\" LIMIT 4",
    "SELECT born, min(name) FROM {t} GROUP BY born ORDER BY 2, 1 OFFSET 3",
])
def test_postgres_sorts_and_limits_the_groups(pgro, query):
    db, src = pgro
    assert "ORDER BY" in sorted_remotely(db, query.format(t="pitems"))
    assert execute(db, query.format(t="pitems")) == src.rows(query.format(t="items"))


def test_postgres_types_that_differ_stay_local(pgro):
    db, src = pgro
    # id bigint over integer, name text over varchar(40), price numeric over numeric(10,2)
    for query in ("SELECT sum(id) FROM {t}", "SELECT name, count(*) FROM {t} GROUP BY name",
                  "SELECT avg(price) FROM {t}"):
        assert not pushed(db, query.format(t="pitems_loose")), query
        got = execute(db, query.format(t="pitems_loose"))
        assert sorted(got, key=repr) == sorted(src.rows(query.format(t="items")), key=repr)
    assert pushed(db, "SELECT count(*), count(name), sum(qty) FROM pitems_loose")


def test_postgres_explain_shows_the_aggregate_sql(pgro):
    db, _ = pgro
    sent = remote_sql(explain_lines(db, "SELECT qty, sum(price) FROM pitems WHERE id > 3 "
                                        "GROUP BY qty"))
    assert sent == ("SELECT items.qty AS v0, sum(items.price) AS v1 FROM items "
                    "WHERE items.id > %(id_1)s GROUP BY items.qty"), sent
