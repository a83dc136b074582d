"""SqlAlchemyFdw over the `remote` PostgreSQL cluster (postgresql+psycopg2).

Results are compared with the same query run on the remote database directly; pushdowns
are checked in EXPLAIN's Remote SQL (bound-parameter placeholders, never values);
streaming is checked on the remote side (pg_stat_activity shows the FETCH of a named
cursor); writes, RETURNING, rollbacks and savepoints are checked on the source.
"""
from __future__ import annotations

import datetime
from decimal import Decimal

import psycopg2
import pytest

from fdwtest import assert_usable, error_of, execute, explain_lines, node_types
from harness import Cluster
from sqladata import (ITEMS, ITEMS_COLUMNS, ITEMS_LOCAL, KINDS_LOCAL, create_server,
                      create_table, remote_sql)

ALL = ", ".join(ITEMS_COLUMNS)
KINDS_TEXT = ("id, ts, tstz, t, iv::text, u, j, arr, big, bin, addr::text, mood::text, label")


@pytest.fixture(scope="module")
def ro(module_db, module_remote_src):
    """(connection, source) with `items` and `kinds` over the remote, for read-only tests."""
    create_server(module_db, "pgsrc", module_remote_src.url)
    create_table(module_db, "items", "pgsrc", ITEMS_LOCAL, tablename="items")
    create_table(module_db, "kinds", "pgsrc", KINDS_LOCAL, tablename="kinds", schema="public")
    return module_db, module_remote_src


@pytest.fixture
def rw(db, remote_src):
    """(connection, source): a fresh remote database to write to."""
    create_server(db, "pgsrc", remote_src.url + "&application_name=sgfdw_sqla_rw")
    create_table(db, "items", "pgsrc", ITEMS_LOCAL, tablename="items")
    create_table(db, "serials", "pgsrc", "id integer, name text, made date",
                 tablename="serials")
    return db, remote_src


def same(db, src, query: str, source_query: str | None = None) -> list[tuple]:
    got = execute(db, query)
    expected = src.rows(source_query or query)
    assert got == expected, query
    return got


def test_all_rows_equal_source(ro):
    db, src = ro
    rows = same(db, src, f"SELECT {ALL} FROM items ORDER BY id")
    assert rows == [tuple(r) for r in ITEMS]
    rows = same(db, src, f"SELECT {KINDS_TEXT} FROM kinds ORDER BY id")
    assert rows[0][4] == "1 mon 2 days 03:04:05"  # an interval's months are kept
    assert rows[0][8] == Decimal("12345678901234567890.0123456789")
    assert rows[0][2] == datetime.datetime(2020, 1, 2, 3, 4, 5, 654321,
                                           tzinfo=rows[0][2].tzinfo)
    assert rows[2] == (3,) + (None,) * 12


ITEMS_PUSHED = [
    ("WHERE qty = 3", "items.qty = %(qty_1)s"),
    ("WHERE qty <> 3", "items.qty != %(qty_1)s"),
    ("WHERE qty < 5 AND qty >= 1", "items.qty < %(qty_1)s AND items.qty >= %(qty_2)s"),
    ("WHERE price > 10.5", "items.price > %(price_1)s"),
    ("WHERE ratio <= 0.5", "items.ratio <= %(ratio_1)s"),
    ("WHERE born > '2015-01-01'", "items.born > %(born_1)s"),
    ("WHERE name = 'Zoë'", "items.name = %(name_1)s"),
    ("WHERE name < 'b'", "items.name < %(name_1)s"),
    ("WHERE name >= 'Ω'", "items.name >= %(name_1)s"),
    ("WHERE id IN (1, 5, 9, 99)", "items.id IN (%(id_1_1)s, %(id_1_2)s, %(id_1_3)s, %(id_1_4)s)"),
    ("WHERE id NOT IN (1, 5, 9)", "(items.id NOT IN (%(id_1_1)s, %(id_1_2)s, %(id_1_3)s))"),
    ("WHERE code = ANY(ARRAY['A1', NULL, 'Z2'])", "items.code IN ("),
    ("WHERE qty < ALL(ARRAY[5, 10])", "items.qty < %(qty_1)s AND items.qty < %(qty_2)s"),
    ("WHERE note IS NULL", "items.note IS NULL"),
    ("WHERE active IS NOT NULL", "items.active IS NOT NULL"),
    ("WHERE active", "items.active = true"),
    ("WHERE name LIKE 'a%'", "items.name LIKE %(name_1)s"),
    ("WHERE name LIKE 'a\\_b\\%c'", "items.name LIKE %(name_1)s"),
    ("WHERE name ILIKE 'É%'", "items.name ILIKE %(name_1)s"),
    ("WHERE name NOT LIKE '%a%'", "items.name NOT LIKE %(name_1)s"),
    ("WHERE name NOT ILIKE '%A%'", "items.name NOT ILIKE %(name_1)s"),
]


@pytest.mark.parametrize("where,fragment", ITEMS_PUSHED)
def test_items_quals_pushed(ro, where, fragment):
    db, src = ro
    query = f"SELECT {ALL} FROM items {where} ORDER BY id"
    sent = remote_sql(explain_lines(db, query))
    assert fragment in sent, sent
    assert "'" not in sent  # values are bound parameters
    same(db, src, query)


KINDS_PUSHED = [
    ("WHERE tstz > '2000-01-01 00:00+00'", "kinds.tstz > %(tstz_1)s"),
    ("WHERE ts <= '2020-01-02 03:04:05.123456'", "kinds.ts <= %(ts_1)s"),
    ("WHERE t = '13:14:15'", "kinds.t = %(t_1)s"),
    ("WHERE iv > '1 day'", "kinds.iv > %(iv_1)s"),
    ("WHERE u = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "kinds.u = %(u_1)s"),
    ("WHERE big = 12345678901234567890.0123456789", "kinds.big = %(big_1)s"),
    ("WHERE bin = '\\x00ff10'", "kinds.bin = %(bin_1)s"),
    ("WHERE mood = 'sad'", "kinds.mood = %(mood_1)s"),
]


@pytest.mark.parametrize("where,fragment", KINDS_PUSHED)
def test_kinds_quals_pushed(ro, where, fragment):
    db, src = ro
    query = f"SELECT {KINDS_TEXT} FROM kinds {where} ORDER BY id"
    sent = remote_sql(explain_lines(db, query))
    assert fragment in sent, sent
    assert same(db, src, query)


def test_not_pushed_still_correct(ro):
    db, src = ro
    for where in ["WHERE j @> '{\"a\": [1]}'", "WHERE mood > 'ok'", "WHERE arr = '{1,2,3}'",
                  "WHERE lower(label) = 'ab'"]:
        query = f"SELECT {KINDS_TEXT} FROM kinds {where} ORDER BY id"
        assert "WHERE" not in remote_sql(explain_lines(db, query)), where
        source_where = where.replace("mood > 'ok'", "mood::text > 'ok'")
        same(db, src, query, f"SELECT {KINDS_TEXT} FROM kinds {source_where} ORDER BY id")


@pytest.mark.parametrize("order", [
    "ORDER BY price, id", "ORDER BY price DESC, id", "ORDER BY price NULLS FIRST, id",
    "ORDER BY price DESC NULLS LAST, id", "ORDER BY name, id", 'ORDER BY name COLLATE "C", id',
    "ORDER BY born DESC NULLS LAST, active, id",
])
def test_order_by_pushed(ro, order):
    db, src = ro
    query = f"SELECT {ALL} FROM items {order}"
    assert "Sort" not in node_types(db, query)
    sent = remote_sql(explain_lines(db, query))
    assert "ORDER BY" in sent and "NULLS" in sent, sent
    same(db, src, query)


def test_order_by_tstz_uuid_interval(ro):
    db, src = ro
    # Qualified: the select list has an `iv` of its own (iv::text).
    for order in ["kinds.tstz DESC", "kinds.u", "kinds.iv NULLS FIRST", "kinds.t, kinds.id"]:
        query = f"SELECT {KINDS_TEXT} FROM kinds ORDER BY {order}"
        assert "Sort" not in node_types(db, query), order
        same(db, src, query)


def test_limit_offset_pushed(ro):
    db, src = ro
    query = f"SELECT {ALL} FROM items WHERE name ILIKE '%a%' ORDER BY price DESC LIMIT 3 OFFSET 2"
    sent = remote_sql(explain_lines(db, query))
    assert "ILIKE" in sent and "LIMIT %(param_1)s OFFSET %(param_2)s" in sent, sent
    assert "Limit" not in node_types(db, query)
    same(db, src, query)


def test_explain_verbose_and_estimates(ro):
    db, src = ro
    text = "\n".join(explain_lines(db, "SELECT id FROM items", verbose=True))
    assert f"Source: postgresql+psycopg2://postgres@/{src.dbname}" in text
    assert "Fetch: server-side cursor, 1000 rows per fetch" in text
    plan = execute(db, "EXPLAIN (FORMAT JSON) SELECT * FROM items")[0][0][0]["Plan"]
    assert plan["Plan Rows"] == len(ITEMS)  # pg_class.reltuples after ANALYZE
    plan = execute(db, "EXPLAIN (FORMAT JSON) SELECT * FROM items WHERE code = 'A1'")
    assert plan[0][0][0]["Plan"]["Plan Rows"] == 1  # a unique constraint


def test_import_foreign_schema(ro):
    db, src = ro
    execute(db, "CREATE SCHEMA imp")
    execute(db, "IMPORT FOREIGN SCHEMA public LIMIT TO (kinds, items, nosuch) "
                "FROM SERVER pgsrc INTO imp")
    tables = execute(db, "SELECT c.relname, ft.ftoptions FROM pg_foreign_table ft "
                         "JOIN pg_class c ON c.oid = ft.ftrelid JOIN pg_namespace n "
                         "ON n.oid = c.relnamespace WHERE n.nspname = 'imp' ORDER BY 1")
    assert tables == [("items", ["schema=public", "tablename=items"]),
                      ("kinds", ["schema=public", "tablename=kinds"])]
    columns = execute(db, "SELECT attname, format_type(atttypid, atttypmod), attnotnull "
                          "FROM pg_attribute WHERE attrelid = 'imp.kinds'::regclass "
                          "AND attnum > 0 ORDER BY attnum")
    assert columns == [
        ("id", "integer", True), ("ts", "timestamp without time zone", False),
        ("tstz", "timestamp with time zone", False), ("t", "time without time zone", False),
        ("iv", "interval", False), ("u", "uuid", False), ("j", "jsonb", False),
        ("arr", "integer[]", False), ("big", "numeric(30,10)", False),
        ("bin", "bytea", False), ("addr", "inet", False), ("mood", "text", False),
        ("label", "character(5)", False)]
    columns = execute(db, "SELECT attname, format_type(atttypid, atttypmod), attnotnull "
                          "FROM pg_attribute WHERE attrelid = 'imp.items'::regclass "
                          "AND attnum > 0 ORDER BY attnum")
    assert columns[:4] == [("id", "integer", True), ("name", "character varying(40)", True),
                           ("note", "text", False), ("price", "numeric(10,2)", False)]
    same(db, src, f"SELECT {KINDS_TEXT} FROM imp.kinds ORDER BY id",
         f"SELECT {KINDS_TEXT} FROM kinds ORDER BY id")
    execute(db, "CREATE SCHEMA imp2")
    execute(db, "IMPORT FOREIGN SCHEMA public EXCEPT (kinds) FROM SERVER pgsrc INTO imp2")
    assert sorted(r[0] for r in execute(
        db, "SELECT relname FROM pg_class WHERE relnamespace = 'imp2'::regnamespace")) == \
        ["items", "serials"]
    same(db, src, "SELECT * FROM imp2.items ORDER BY id", "SELECT * FROM items ORDER BY id")


# --------------------------------------------------------------------------- streaming


def test_named_cursor_streams_rows(db, remote_src):
    conn = remote_src.connect()
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE big AS "
                    "SELECT g AS id, g * 2 AS v FROM generate_series(1, 5000) g")
        # Division by zero at row 3000: a scan that read everything would fail.
        cur.execute("CREATE VIEW boom AS SELECT id, v / (3000 - id) + v AS v FROM big")
    conn.close()
    create_server(db, "pgsrc", remote_src.url + "&application_name=sgfdw_stream",
                  fetch_size="100")
    create_table(db, "boom", "pgsrc", "id integer, v integer", tablename="boom")
    error = error_of(db, "SELECT sum(v) FROM boom")
    assert error.pgcode == "22012"  # division_by_zero, the remote's own SQLSTATE
    assert_usable(db)
    db.autocommit = False
    try:
        with db.cursor() as cur:
            cur.execute("DECLARE c NO SCROLL CURSOR FOR SELECT id FROM boom")
            cur.execute("FETCH 250 FROM c")
            assert [r[0] for r in cur.fetchall()] == list(range(1, 251))
            # The remote session is inside a named cursor, fetching 100 rows at a time.
            [(state, query)] = remote_src.rows(
                "SELECT state, query FROM pg_stat_activity "
                "WHERE application_name = 'sgfdw_stream'")
            assert state == "idle in transaction"
            assert query.startswith("FETCH FORWARD 100 FROM"), query
        db.commit()
    finally:
        db.autocommit = True
    # After the local transaction, the remote one is over too.
    assert remote_src.rows("SELECT state FROM pg_stat_activity "
                           "WHERE application_name = 'sgfdw_stream'") == [("idle",)]


# --------------------------------------------------------------------------- writes


def test_insert_update_delete_returning(rw):
    db, src = rw
    rows = execute(db, "INSERT INTO serials (name) VALUES ('one'), ('two ñ') RETURNING *")
    # The ids come from the remote's serial (a NULL for it is left out of the INSERT).
    assert rows == [(1, "one", None), (2, "two ñ", None)]
    assert src.rows("SELECT * FROM serials ORDER BY id") == rows
    rows = execute(db, "UPDATE items SET price = price + 1, note = upper(note) "
                       "WHERE code LIKE 'K%' RETURNING id, price, note")
    assert sorted(rows) == [(13, Decimal("1.75"), "GREEN"), (14, Decimal("1.80"), "GREEN")]
    assert src.rows("SELECT id, price, note FROM items WHERE code LIKE 'K%' ORDER BY id") == \
        sorted(rows)
    rows = execute(db, "DELETE FROM items WHERE qty = 0 RETURNING id, name")
    assert sorted(rows) == [(2, "Apple"), (15, "lime")]
    assert src.rows("SELECT count(*) FROM items") == [(len(ITEMS) - 2,)]
    same(db, src, f"SELECT {ALL} FROM items ORDER BY id")


def test_bulk_insert(rw):
    db, src = rw
    execute(db, "INSERT INTO items (id, name, price, born) SELECT g, 'bulk ' || g, g / 100.0, "
                "date '2000-01-01' + g FROM generate_series(100, 1599) g")
    assert src.rows("SELECT count(*), sum(price) FROM items WHERE id >= 100") == \
        [(1500, sum(Decimal(g) / 100 for g in range(100, 1600)))]
    same(db, src, f"SELECT {ALL} FROM items WHERE id >= 100 ORDER BY id")


def test_transactions_and_savepoints(rw):
    db, src = rw
    db.autocommit = False
    try:
        with db.cursor() as cur:
            cur.execute("INSERT INTO items (id, name) VALUES (30, 'pending')")
            cur.execute("SELECT count(*) FROM serials")  # a second table, same source
            # One remote connection for the local transaction, its work not yet visible.
            assert src.rows("SELECT state FROM pg_stat_activity "
                            "WHERE application_name = 'sgfdw_sqla_rw'") == \
                [("idle in transaction",)]
            assert src.rows("SELECT id FROM items WHERE id = 30") == []
        db.rollback()
        assert src.rows("SELECT id FROM items WHERE id = 30") == []
        with db.cursor() as cur:
            cur.execute("INSERT INTO items (id, name) VALUES (31, 'kept')")
            cur.execute("SAVEPOINT a")
            cur.execute("INSERT INTO items (id, name) VALUES (32, 'undone')")
            cur.execute("UPDATE items SET name = 'undone too' WHERE id = 1")
            cur.execute("ROLLBACK TO SAVEPOINT a")
            cur.execute("SAVEPOINT b")
            cur.execute("INSERT INTO serials (name) VALUES ('released')")
            cur.execute("RELEASE SAVEPOINT b")
            cur.execute("SAVEPOINT c")
            with pytest.raises(psycopg2.errors.UniqueViolation):
                cur.execute("INSERT INTO items (id, name) VALUES (1, 'duplicate')")
            cur.execute("ROLLBACK TO SAVEPOINT c")  # the remote error is undone too
            cur.execute("INSERT INTO items (id, name) VALUES (33, 'after the error')")
        db.commit()
    finally:
        db.autocommit = True
    assert src.rows("SELECT id, name FROM items WHERE id IN (1, 31, 32, 33) ORDER BY id") == \
        [(1, "apple"), (31, "kept"), (33, "after the error")]
    assert src.rows("SELECT name FROM serials") == [("released",)]


def test_remote_error_keeps_sqlstate_and_rolls_back(rw):
    db, src = rw
    error = error_of(db, "INSERT INTO items (id, name) VALUES (50, 'a'), (1, 'dup')")
    assert error.pgcode == "23505" and "duplicate key" in error.pgerror
    assert src.rows("SELECT id FROM items WHERE id = 50") == []
    error = error_of(db, "INSERT INTO serials (name) VALUES (NULL)")
    assert error.pgcode == "23502"
    assert_usable(db)
    same(db, src, f"SELECT {ALL} FROM items ORDER BY id")


# --------------------------------------------------------------------------- errors


def test_missing_table(db, remote_src):
    create_server(db, "pgsrc", remote_src.url)
    create_table(db, "ghost", "pgsrc", "id integer", tablename="ghost")
    error = error_of(db, "SELECT * FROM ghost")
    assert error.pgcode == "42P01" and '"ghost"' in error.pgerror
    assert_usable(db)


def test_bad_url(db):
    create_server(db, "bad", "postgresql+nosuchdriver://h/db")
    create_table(db, "t", "bad", "id integer", tablename="t")
    assert error_of(db, "SELECT * FROM t").pgcode == "HV00D"
    create_server(db, "bad2", "postgresql://h:notaport/db")
    create_table(db, "t2", "bad2", "id integer", tablename="t")
    assert error_of(db, "SELECT * FROM t2").pgcode == "HV00D"
    assert_usable(db)


def test_dead_source_and_secrets(db):
    secret = "Sekr1t-Pw"
    with Cluster("sqla-dead") as dead:
        dead.sql("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)")
        url = f"postgresql+psycopg2://@/postgres?host={dead.socket_dir}&port={dead.port}"
        create_server(db, "deadsrc", url)
        execute(db, "CREATE USER MAPPING FOR CURRENT_USER SERVER deadsrc "
                    f"OPTIONS (user 'postgres', password '{secret}')")
        create_table(db, "t", "deadsrc", "id integer", tablename="t")
        assert execute(db, "SELECT * FROM t") == [(1,)]
        explained = "\n".join(explain_lines(db, "SELECT * FROM t", verbose=True))
        assert "postgres:***@" in explained and secret not in explained
        dead.stop()
        error = error_of(db, "SELECT * FROM t")
        assert error.pgcode == "08006", error
        text = "\n".join(filter(None, [error.pgerror, error.diag.message_detail,
                                       error.diag.message_hint]))
        assert secret not in text and "***" in text
        assert_usable(db)
        # In a transaction: the error ends it cleanly.
        db.autocommit = False
        try:
            with db.cursor() as cur:
                with pytest.raises(psycopg2.OperationalError) as info:
                    cur.execute("INSERT INTO t VALUES (2)")
                assert info.value.pgcode == "08006"
            db.rollback()
        finally:
            db.autocommit = True
        assert_usable(db)
        dead.start()
        assert execute(db, "SELECT * FROM t") == [(1,)]  # the pool reconnects


def test_write_every_kind_of_value(rw):
    db, src = rw
    create_table(db, "kinds", "pgsrc", KINDS_LOCAL, tablename="kinds")
    values = ("(10, '2021-02-03 04:05:06.789', '2021-02-03 04:05:06.789+02', '23:59:59.999999', "
              "'1 year 2 mons 3 days 04:05:06.5', 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12', "
              "'{\"n\": 1.50, \"big\": 123456789012345678901234567890, \"s\": \"ünï\"}', "
              "'{4,5,NULL}', '-99999999999999999999.9999999999', '\\x0102ff', '192.168.1.0/24', "
              "'ok', 'xy')")
    returned = execute(db, f"INSERT INTO kinds VALUES {values} RETURNING {KINDS_TEXT}")
    assert returned == src.rows(f"SELECT {KINDS_TEXT} FROM kinds WHERE id = 10")
    assert returned[0][4] == "1 year 2 mons 3 days 04:05:06.5"
    assert src.rows("SELECT j::text FROM kinds WHERE id = 10") == [
        ('{"n": 1.50, "s": "ünï", "big": 123456789012345678901234567890}',)]
    execute(db, "UPDATE kinds SET iv = iv + interval '1 mon', j = j || '{\"x\": 0.1}', "
                "arr = arr || 6, mood = 'sad' WHERE id = 10")
    assert src.rows("SELECT iv::text, j->>'x', arr, mood::text FROM kinds WHERE id = 10") == [
        ("1 year 3 mons 3 days 04:05:06.5", "0.1", [4, 5, None, 6], "sad")]
    execute(db, "INSERT INTO kinds (id) VALUES (11)")
    assert src.rows(f"SELECT {KINDS_TEXT} FROM kinds WHERE id = 11") == [(11,) + (None,) * 12]
