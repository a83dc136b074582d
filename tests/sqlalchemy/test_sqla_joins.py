"""Joins of SqlAlchemyFdw tables of one source computed by the source (can_join /
execute_join): inner, left, right, full, semi and anti joins, quals on each side, three
tables, NULL join keys, OR and range clauses. SQLite: rows equal PostgreSQL's own join of local
copies of the tables; PostgreSQL: rows equal the same join run on the source. EXPLAIN
shows the pushed join (Relations, the Remote SQL with placeholders) and no join left to
PostgreSQL; joins the source would evaluate differently stay local. PostgreSQL's own
join methods are disabled, so that the plan shows whether the FDW accepted a join
rather than which plan costs less (bench/bench_sqlalchemy_joins.py is about costs)."""
from __future__ import annotations

import collections

import pytest

from fdwtest import assert_usable, error_of, execute, explain_lines
from sqladata import create_server, create_table, make_sqlite, remote_sql

TABLES = {"a": "id integer, k integer, t text, n numeric(8,2), u text",
          "b": "id integer, a_id integer, v integer, w text",
          "c": "id integer, b_id integer, x text"}
DDL = """
CREATE TABLE {p}a (id INTEGER PRIMARY KEY, k INTEGER, t TEXT, n NUMERIC(8,2), u {any});
CREATE TABLE {p}b (id INTEGER PRIMARY KEY, a_id INTEGER, v INTEGER, w TEXT);
CREATE TABLE {p}c (id INTEGER PRIMARY KEY, b_id INTEGER, x TEXT);
"""


def rows() -> dict[str, list[tuple]]:
    """a: 60 rows, b: 90, c: 70, with NULL keys, text keys in both cases; `u` holds
    integers and their text (SQLite keeps them apart, the local text column not)."""
    def word(i: int) -> str:
        return ("w", "W")[i % 2] + str(i % 7)
    return {
        "a": [(i, None if i % 9 == 0 else i % 4, None if i % 11 == 0 else word(i), i * 1.25,
               str(i % 5) if i % 2 else i % 5) for i in range(1, 61)],
        "b": [(i, None if i % 8 == 0 else i % 70, i % 13, None if i % 5 == 0 else word(i + 1))
              for i in range(1, 91)],
        "c": [(i, None if i % 6 == 0 else i % 100, str(i % 3)) for i in range(1, 71)],
    }


PUSHED = [
    "SELECT a.id, a.t, b.id, b.v FROM {s}a a JOIN {s}b b ON a.id = b.a_id",
    "SELECT a.id, b.id, b.w FROM {s}a a LEFT JOIN {s}b b ON a.id = b.a_id",
    "SELECT a.id, a.n, b.id FROM {s}a a RIGHT JOIN {s}b b ON a.id = b.a_id",
    "SELECT a.id, a.k, b.id, b.v FROM {s}a a FULL JOIN {s}b b ON a.id = b.a_id",
    "SELECT a.id, b.v FROM {s}a a JOIN {s}b b ON a.id = b.a_id WHERE a.k = 2 AND b.v > 5",
    "SELECT a.id, b.id FROM {s}a a LEFT JOIN {s}b b ON a.id = b.a_id AND b.v < 7 "
    "WHERE a.k IN (1, 3)",
    "SELECT a.id, b.id FROM {s}a a FULL JOIN {s}b b ON a.id = b.a_id AND a.k = b.v "
    "WHERE a.t IS NOT NULL",
    "SELECT a.id, b.id FROM {s}a a RIGHT JOIN {s}b b ON a.id = b.a_id WHERE b.w = 'w3'",
    "SELECT a.t, b.w FROM {s}a a JOIN {s}b b ON a.t = b.w AND a.k = 1",
    "SELECT a.t, b.w FROM {s}a a JOIN {s}b b ON a.t < b.w AND b.id < 5 WHERE a.id < 9",
    "SELECT count(*) FROM {s}a a JOIN {s}b b ON a.k = b.v",
    "SELECT count(*) FROM {s}a a LEFT JOIN {s}b b ON a.k = b.v AND b.w IS NULL",
    "SELECT a.id, b.id, c.id, c.x FROM {s}a a JOIN {s}b b ON a.id = b.a_id "
    "JOIN {s}c c ON c.b_id = b.id",
    "SELECT a.id, b.id, c.x FROM {s}a a LEFT JOIN {s}b b ON a.id = b.a_id "
    "LEFT JOIN {s}c c ON c.b_id = b.id WHERE a.id < 40",
    "SELECT a.id, b.id, c.id FROM {s}b b FULL JOIN {s}c c ON c.b_id = b.id "
    "JOIN {s}a a ON a.id = b.a_id AND a.k = 1",
    "SELECT a.id, b.id FROM {s}a a JOIN {s}b b ON a.id = b.a_id OR a.k = b.v "
    "WHERE a.id < 20",
    "SELECT a.id, b.id FROM {s}a a JOIN {s}b b ON a.id < b.a_id AND b.id < 12 "
    "WHERE a.id <> 3",
    "SELECT x.id, y.id FROM {s}a x JOIN {s}a y ON x.k = y.k AND x.id < y.id WHERE y.id < 20",
    "SELECT a.id, b.id FROM {s}a a LEFT JOIN {s}b b ON a.id = b.a_id "
    "AND NOT (b.v > 3 OR b.w IS NULL)",
    # semi and anti joins
    "SELECT a.id FROM {s}a a WHERE EXISTS (SELECT 1 FROM {s}b b WHERE b.a_id = a.id)",
    "SELECT a.id, a.t FROM {s}a a WHERE NOT EXISTS (SELECT 1 FROM {s}b b "
    "WHERE b.a_id = a.id AND b.v > 3)",
    "SELECT a.id FROM {s}a a WHERE a.k IN (SELECT b.v FROM {s}b b WHERE b.w IS NOT NULL)",
    "SELECT a.id, c.id FROM {s}a a JOIN {s}c c ON c.b_id = a.id "
    "WHERE NOT EXISTS (SELECT 1 FROM {s}b b WHERE b.a_id = a.id AND b.v < a.k)",
]

LOCAL = [
    # a function; an explicit collation; numeric with integer; a column without a
    # declared type in SQLite
    "SELECT a.id, b.id FROM {s}a a LEFT JOIN {s}b b ON lower(a.t) = b.w",
    'SELECT a.id, b.id FROM {s}a a FULL JOIN {s}b b ON a.t = b.w COLLATE "C"',
    "SELECT a.id, b.id FROM {s}a a JOIN {s}b b ON a.n = b.v",
    "SELECT a.id, c.id FROM {s}a a JOIN {s}c c ON a.u = c.x",
]


def prefer_foreign_joins(db) -> None:
    for method in ("nestloop", "hashjoin", "mergejoin"):
        execute(db, f"SET enable_{method} = off")


def same_rows(db, query: str, expected: list[tuple]) -> None:
    got = execute(db, query)
    assert collections.Counter(got) == collections.Counter(expected), query
    assert got, query   # the data set is made so that every query has rows


def pushed(db, query: str) -> str:
    """The Remote SQL of a join computed by the source."""
    lines = explain_lines(db, query, verbose=True)
    assert any("Relations:" in line for line in lines), lines
    assert not any("Join" in line and "Foreign Scan" not in line for line in lines), lines
    assert not any("Filter:" in line for line in lines), lines
    return remote_sql(lines)


# --------------------------------------------------------------------------- SQLite

def _sqlite_literal(value) -> str:
    return "NULL" if value is None else repr(value) if not isinstance(value, str) else \
        "'" + value + "'"


@pytest.fixture(scope="module")
def lite(module_db, module_sqlite_dir):
    db = module_db
    script = DDL.format(p="", any="") + "".join(
        f"INSERT INTO {table} VALUES ({', '.join(map(_sqlite_literal, row))});\n"
        for table, table_rows in rows().items() for row in table_rows)
    path = make_sqlite(module_sqlite_dir, "joins.db", script)
    create_server(db, "lite", f"sqlite:///{path}")
    prefer_foreign_joins(db)
    execute(db, "CREATE SCHEMA f; CREATE SCHEMA l")
    for table, columns in TABLES.items():
        create_table(db, table, "lite", columns, tablename=table)
        execute(db, f"ALTER FOREIGN TABLE {table} SET SCHEMA f")
        execute(db, f"CREATE TABLE l.{table} AS SELECT * FROM f.{table}")
    return db


@pytest.mark.parametrize("query", PUSHED)
def test_sqlite_joins_pushed_equal_local(lite, query):
    sent = pushed(lite, query.format(s="f."))
    assert (" JOIN " in sent or "EXISTS (" in sent) and "'" not in sent, sent
    same_rows(lite, query.format(s="f."), execute(lite, query.format(s="l.")))


def test_sqlite_explain_verbose_shows_the_pushed_join(lite):
    lines = explain_lines(lite, "SELECT a.id, b.v FROM f.a a LEFT JOIN f.b b "
                                "ON a.id = b.a_id AND b.v > 3 WHERE a.k = 1", verbose=True)
    assert "  Relations: (f.a r1) LEFT JOIN (f.b r2)" in lines, lines
    assert remote_sql(lines) == (
        # PostgreSQL moved b.v > 3 to b's scan, where it restricts b before the join
        "SELECT r1.id, r2.v FROM (SELECT a.id AS id FROM a WHERE a.k = ?) AS r1 "
        "LEFT OUTER JOIN (SELECT b.a_id AS a_id, b.v AS v FROM b WHERE b.v > ?) AS r2 "
        "ON r1.id = r2.a_id"), lines


@pytest.mark.parametrize("query", LOCAL)
def test_sqlite_joins_that_stay_local(lite, query):
    # (an inner join may be pushed without the clause, which PostgreSQL then applies)
    lines = explain_lines(lite, query.format(s="f."))
    assert not any("Relations:" in line for line in lines) or \
        any("Filter:" in line for line in lines), lines
    same_rows(lite, query.format(s="f."), execute(lite, query.format(s="l.")))


def test_sqlite_join_of_two_sources_stays_local(lite, module_sqlite_dir):
    path = make_sqlite(module_sqlite_dir, "other.db",
                       DDL.format(p="", any="") + "INSERT INTO b VALUES (1, 1, 1, 'x');")
    create_server(lite, "lite2", f"sqlite:///{path}")
    create_table(lite, "b2", "lite2", TABLES["b"], tablename="b")
    query = "SELECT a.id, b.id FROM f.a a JOIN b2 b ON a.id = b.a_id"
    assert not any("Relations:" in line for line in explain_lines(lite, query))
    assert execute(lite, query) == [(1, 1)]


def test_sqlite_error_in_a_pushed_join(lite, module_sqlite_dir):
    create_table(lite, "gone", "lite", TABLES["b"], tablename="no_such_table")
    query = "SELECT a.id, g.id FROM f.a a JOIN gone g ON a.id = g.a_id"
    error = error_of(lite, query)
    assert error.pgcode is not None and "no_such_table" in str(error), error
    assert_usable(lite)


# --------------------------------------------------------------------------- PostgreSQL

@pytest.fixture(scope="module")
def pgsrc(module_db, module_remote_src):
    db, src = module_db, module_remote_src
    with src.connect() as conn, conn.cursor() as cur:
        cur.execute(DDL.format(p="j", any="TEXT"))
        for table, table_rows in rows().items():
            marks = ", ".join(["%s"] * len(table_rows[0]))
            cur.executemany(f"INSERT INTO j{table} VALUES ({marks})",
                            [tuple(str(v) if isinstance(v, int) and i == 4 else v
                                   for i, v in enumerate(row)) for row in table_rows])
        cur.execute("ANALYZE")
    create_server(db, "pgsrc", src.url)
    prefer_foreign_joins(db)
    execute(db, "CREATE SCHEMA g")
    for table, columns in TABLES.items():
        create_table(db, table, "pgsrc", columns, tablename=f"j{table}")
        execute(db, f"ALTER FOREIGN TABLE {table} SET SCHEMA g")
    return db, src


def _on_source(query: str) -> str:
    for table in TABLES:
        query = query.replace(f"{{s}}{table} ", f"j{table} ")
    return query


@pytest.mark.parametrize("query", PUSHED + LOCAL[:2])
def test_postgres_joins_pushed_equal_source(pgsrc, query):
    db, src = pgsrc
    if query in PUSHED:
        sent = pushed(db, query.format(s="g."))
        assert (" JOIN " in sent or "EXISTS (" in sent) and "'" not in sent, sent
    same_rows(db, query.format(s="g."), src.rows(_on_source(query)))




@pytest.mark.parametrize("schema", ["f", "g"])
def test_analyze_samples_the_source(lite, pgsrc, schema):
    """ANALYZE reads a random sample from the source and its row count: local statistics
    for the row estimates of joins (without them a join is guessed at 1/200 of the cross
    product, and parameterised lookups look cheaper than one remote join)."""
    db = lite
    execute(db, f"ANALYZE {schema}.a, {schema}.b")
    assert execute(db, "SELECT c.reltuples FROM pg_class c JOIN pg_namespace n "
                       "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = 'a'",
                   (schema,)) == [(60.0,)]
    stats = dict(execute(db, "SELECT attname, null_frac FROM pg_stats WHERE schemaname = %s "
                             "AND tablename = 'b' ORDER BY attname", (schema,)))
    assert sorted(stats) == ["a_id", "id", "v", "w"]
    assert stats["id"] == 0 and stats["w"] == pytest.approx(18 / 90)
