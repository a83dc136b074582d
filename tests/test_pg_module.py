"""sgfdw.pg: SQL run in-process, from a sgfdw_python function and from an FDW's execute,
in the caller's transaction and snapshot, with bound parameters, SQL errors as
sgfdw.errors.SqlError, batched cursors and server-side quoting.

The Python side of the functions is tests/fdws/pyfuncs.py (`run` execs a short Python
scenario with sgfdw.pg in scope and returns the text of its `result`); the FDW is
tests/fdws/localtable.py.
"""

from __future__ import annotations

import datetime
import decimal
import json
import math
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from fdwtest import assert_usable, error_of, execute

REPO = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- helpers

def create_function(db, signature: str, callable_: str, returns: str = "text") -> None:
    execute(db, f"CREATE FUNCTION {signature} RETURNS {returns} "
                f"LANGUAGE sgfdw_python AS %s", (callable_,))


@pytest.fixture
def run(db):
    """run(code) -> text of `result` after executing code in the backend."""
    create_function(db, "run(code text)", "pyfuncs.run")

    def run_code(code: str, conn=None):
        return execute(conn or db, "SELECT run(%s)", (code,))[0][0]

    return run_code


@pytest.fixture
def items(db):
    """A local table `items` and functions reading and writing it through sgfdw.pg."""
    execute(db, "CREATE TABLE items (id int PRIMARY KEY, name text)")
    create_function(db, "add_item(id int, name text)", "pyfuncs.add_item", "bigint")
    create_function(db, "item_names()", "pyfuncs.item_names", "text[]")
    create_function(db, "count_items()", "pyfuncs.count_items", "bigint")
    create_function(db, "insert_catching_duplicate(id int)", "pyfuncs.insert_catching_duplicate")
    create_function(db, "insert_uncaught(id int)", "pyfuncs.insert_uncaught")
    return db


def names(db) -> list:
    return [n for (n,) in execute(db, "SELECT name FROM items ORDER BY id")]


def other_connection(pg, db):
    return pg.connect(db.info.dbname)


# ---------------------------------------------------------------- reading and writing

def test_function_writes_and_reads_a_local_table(items):
    db = items
    assert execute(db, "SELECT add_item(1, 'one')") == [(1,)]
    assert execute(db, "SELECT add_item(2, 'two')") == [(2,)]
    assert execute(db, "SELECT item_names()") == [(["one", "two"],)]
    # What the function wrote is in the table for plain SQL too.
    assert names(db) == ["one", "two"]


def test_changes_roll_back_with_the_transaction(items, pg):
    db = items
    execute(db, "BEGIN")
    try:
        assert execute(db, "SELECT add_item(1, 'gone')") == [(1,)]
        # Visible in the transaction, not outside it.
        assert names(db) == ["gone"]
        other = other_connection(pg, db)
        try:
            assert execute(other, "SELECT count(*) FROM items") == [(0,)]
        finally:
            other.close()
    finally:
        execute(db, "ROLLBACK")
    assert names(db) == []
    assert execute(db, "SELECT count_items()") == [(0,)]


def test_changes_follow_savepoints(items):
    db = items
    execute(db, "BEGIN")
    try:
        execute(db, "SELECT add_item(1, 'kept')")
        execute(db, "SAVEPOINT s")
        execute(db, "SELECT add_item(2, 'rolled back to the savepoint')")
        execute(db, "ROLLBACK TO SAVEPOINT s")
        assert execute(db, "SELECT item_names()") == [(["kept"],)]
        execute(db, "SELECT add_item(3, 'after')")
        execute(db, "COMMIT")
    except BaseException:
        execute(db, "ROLLBACK")
        raise
    assert names(db) == ["kept", "after"]


def test_sees_rows_inserted_earlier_in_the_transaction(items):
    db = items
    execute(db, "BEGIN")
    try:
        execute(db, "INSERT INTO items VALUES (1, 'uncommitted'), (2, 'also')")
        execute(db, "UPDATE items SET name = 'updated' WHERE id = 2")
        assert execute(db, "SELECT item_names()") == [(["uncommitted", "updated"],)]
        # The same statement: rows the function wrote are seen by its next SQL.
        assert execute(db, "SELECT add_item(3, 'three')") == [(3,)]
    finally:
        execute(db, "ROLLBACK")


def test_repeatable_read_keeps_the_transaction_snapshot(items, pg):
    db = items
    other = other_connection(pg, db)
    try:
        execute(db, "BEGIN ISOLATION LEVEL REPEATABLE READ")
        try:
            assert execute(db, "SELECT count_items()") == [(0,)]  # takes the snapshot
            execute(other, "INSERT INTO items VALUES (1, 'committed later')")
            assert execute(db, "SELECT count_items()") == [(0,)]
            assert execute(db, "SELECT count(*) FROM items") == [(0,)]
        finally:
            execute(db, "COMMIT")
        assert execute(db, "SELECT count_items()") == [(1,)]

        # READ COMMITTED: each statement sees what was committed before it.
        execute(db, "BEGIN ISOLATION LEVEL READ COMMITTED")
        try:
            assert execute(db, "SELECT count_items()") == [(1,)]
            execute(other, "INSERT INTO items VALUES (2, 'committed meanwhile')")
            assert execute(db, "SELECT count_items()") == [(2,)]
        finally:
            execute(db, "COMMIT")
    finally:
        other.close()


def test_nested_calls_python_sql_python(items, run):
    db = items
    execute(db, "INSERT INTO items VALUES (1, 'a'), (2, 'b')")
    # Python -> SQL -> a sgfdw_python function -> SQL, in one statement.
    assert run("result = pg.execute('SELECT count_items(), item_names()')") == \
        "[(2, ['a', 'b'])]"
    # (a Python int is seeded as bigint: a function taking int needs the cast)
    assert run("result = pg.execute('SELECT add_item($1::int, $2)', [3, 'nested'])") == "[(3,)]"
    assert names(db) == ["a", "b", "nested"]


# ---------------------------------------------------------------- from an FDW

@pytest.fixture
def local_fdw(items):
    db = items
    execute(db, "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 50) g")
    execute(db, "INSERT INTO items VALUES (51, %s)", ("x'); DROP TABLE items; --",))
    execute(db, "CREATE TABLE scan_log (quals text)")
    execute(db, "CREATE SERVER local FOREIGN DATA WRAPPER sgfdw "
                "OPTIONS (wrapper 'localtable.LocalTableFdw')")
    execute(db, "CREATE FOREIGN TABLE items_ft (id int, name text) SERVER local "
                "OPTIONS (table 'items', batch_size '7', log_table 'scan_log')")
    return db


def test_fdw_reads_a_local_table_through_sgfdw_pg(local_fdw):
    db = local_fdw
    local = execute(db, "SELECT id, name FROM items ORDER BY id")
    assert len(local) == 51
    assert execute(db, "SELECT id, name FROM items_ft ORDER BY id") == local
    # A qual pushed down as a bound parameter, hostile value included.
    assert execute(db, "SELECT id FROM items_ft WHERE name = %s",
                   ("x'); DROP TABLE items; --",)) == [(51,)]
    assert execute(db, "SELECT name FROM items_ft WHERE id = 7") == [("item 7",)]
    assert execute(db, "SELECT quals FROM scan_log WHERE quals <> '' ORDER BY quals") == \
        [("id = $1",), ("name = $1",)]
    # Joined with the very table it reads.
    assert execute(db, "SELECT count(*) FROM items_ft f JOIN items i USING (id, name)") == \
        [(51,)]
    assert execute(db, "SELECT count(*) FROM items") == [(51,)]  # not dropped


def test_fdw_scan_sees_the_transaction(local_fdw):
    db = local_fdw
    execute(db, "BEGIN")
    try:
        execute(db, "DELETE FROM items WHERE id > 2")
        execute(db, "INSERT INTO items VALUES (100, 'uncommitted')")
        assert execute(db, "SELECT id, name FROM items_ft ORDER BY id") == \
            [(1, "item 1"), (2, "item 2"), (100, "uncommitted")]
        # The scan's own write (scan_log) is part of the transaction too.
        assert execute(db, "SELECT count(*) FROM scan_log") == [(1,)]
    finally:
        execute(db, "ROLLBACK")
    assert execute(db, "SELECT count(*) FROM scan_log") == [(0,)]
    assert execute(db, "SELECT count(*) FROM items_ft") == [(51,)]
    assert execute(db, "SELECT count(*) FROM scan_log") == [(1,)]


def test_fdw_scan_keeps_the_repeatable_read_snapshot(local_fdw, pg):
    db = local_fdw
    other = other_connection(pg, db)
    try:
        execute(db, "BEGIN ISOLATION LEVEL REPEATABLE READ")
        try:
            assert execute(db, "SELECT count(*) FROM items_ft") == [(51,)]
            execute(other, "INSERT INTO items VALUES (200, 'later')")
            assert execute(db, "SELECT count(*) FROM items_ft") == [(51,)]
        finally:
            execute(db, "COMMIT")
        assert execute(db, "SELECT count(*) FROM items_ft") == [(52,)]
    finally:
        other.close()


def test_fdw_sql_error_surfaces_with_its_sqlstate(local_fdw):
    db = local_fdw
    execute(db, "CREATE FOREIGN TABLE missing_ft (id int) SERVER local "
                "OPTIONS (table 'no_such_table')")
    error = error_of(db, "SELECT * FROM missing_ft")
    assert error.pgcode == "42P01", (error.pgcode, str(error))
    assert 'relation "no_such_table" does not exist' in error.diag.message_primary
    assert_usable(db)


def test_foreign_table_read_through_sgfdw_pg(local_fdw, run):
    # sgfdw.pg -> a foreign scan -> sgfdw.pg, in one statement.
    assert run("result = pg.execute('SELECT count(*), max(name) FROM items_ft WHERE id = $1',"
               " [51])") == "[(1, \"x'); DROP TABLE items; --\")]"


# ---------------------------------------------------------------- SQL errors

def test_sql_error_caught_in_python(items):
    db = items
    execute(db, "BEGIN")
    try:
        assert execute(db, "SELECT insert_catching_duplicate(1)") == \
            [("23505 ['first', 'after']",)]
        # The transaction goes on.
        execute(db, "INSERT INTO items VALUES (10, 'plain sql after')")
        assert execute(db, "SELECT add_item(11, 'python after')") == [(4,)]
        execute(db, "COMMIT")
    except BaseException:
        execute(db, "ROLLBACK")
        raise
    assert names(db) == ["first", "after", "plain sql after", "python after"]


def test_sql_error_attributes(items, run):
    db = items
    execute(db, "INSERT INTO items VALUES (1, 'one')")
    code = """
try:
    pg.execute("INSERT INTO items VALUES ($1, 'dup')", [1])
except SqlError as exc:
    result = json.dumps({
        "class": type(exc).__name__, "fdw_error": isinstance(exc, errors.FdwError),
        "sqlstate": exc.sqlstate, "pgcode": exc.pgcode, "message": str(exc),
        "detail": exc.detail})
"""
    info = json.loads(run(code))
    assert info["class"] == "SqlError" and info["fdw_error"]
    assert info["sqlstate"] == info["pgcode"] == "23505"
    assert 'duplicate key value violates unique constraint "items_pkey"' in info["message"]
    assert info["detail"] == "Key (id)=(1) already exists."

    # Other errors carry their own SQLSTATEs, and each is caught without harm.
    code = """
states = []
for statement in ["SELECT 1/0", "SELECT * FROM no_such_table", "SELEC 1",
                  "SELECT 'abc'::int", "INSERT INTO items VALUES (NULL, 'x')"]:
    try:
        pg.execute(statement)
        states.append("no error")
    except SqlError as exc:
        states.append(exc.sqlstate)
states.append(pg.execute("SELECT count(*) FROM items")[0][0])
result = states
"""
    assert run(code) == "['22012', '42P01', '42601', '22P02', '23502', 1]"


def test_transaction_control_is_refused_cleanly(items, run):
    db = items
    code = """
out = []
for statement in ["COMMIT", "ROLLBACK", "SAVEPOINT s"]:
    try:
        pg.execute(statement)
        out.append("no error")
    except SqlError as exc:
        out.append("SqlError")
pg.execute("INSERT INTO items VALUES (1, 'still fine')")
result = out
"""
    execute(db, "BEGIN")
    try:
        assert run(code) == "['SqlError', 'SqlError', 'SqlError']"
        assert names(db) == ["still fine"]
    finally:
        execute(db, "ROLLBACK")
    assert names(db) == []


def test_uncaught_sql_error_becomes_the_error(items):
    db = items
    execute(db, "INSERT INTO items VALUES (1, 'one')")
    error = error_of(db, "SELECT insert_uncaught(1)")
    assert error.pgcode == "23505", (error.pgcode, str(error))
    assert 'duplicate key value violates unique constraint "items_pkey"' in \
        error.diag.message_primary
    assert_usable(db)
    # In a transaction it aborts the transaction, like any ERROR.
    execute(db, "BEGIN")
    try:
        execute(db, "SELECT add_item(2, 'two')")
        assert error_of(db, "SELECT insert_uncaught(2)").pgcode == "23505"
        with pytest.raises(psycopg2.errors.InFailedSqlTransaction):
            execute(db, "SELECT 1")
    finally:
        execute(db, "ROLLBACK")
    assert names(db) == ["one"]


# ---------------------------------------------------------------- parameters

AWARE = datetime.datetime(2024, 2, 29, 23, 59, 59, 999999,
                          tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=30)))

# (id, value, expected back from SELECT $1 or None for the value itself)
ROUNDTRIPS = [
    ("int", 42, None),
    ("int_negative", -7, None),
    ("bigint_max", 2**63 - 1, None),
    ("bigint_min", -2**63, None),
    ("decimal_30_digits", decimal.Decimal("12345678901234567890.1234567890"), None),
    ("decimal_tiny", decimal.Decimal("-0.000000000000000000000000000001"), None),
    ("decimal_scale", decimal.Decimal("1.500"), None),
    ("decimal_nan", decimal.Decimal("NaN"), None),
    ("decimal_infinity", decimal.Decimal("-Infinity"), None),
    ("float", 0.1 + 0.2, None),
    ("float_big", 1.7976931348623157e308, None),
    ("float_negative_zero", -0.0, None),
    ("float_nan", math.nan, None),
    ("float_inf", -math.inf, None),
    ("bool_true", True, None),
    ("bool_false", False, None),
    ("str_unicode", "héllo wörld 😀 ☃ 日本語 'single' \"double\" ; -- \\ \t\n", None),
    ("str_empty", "", None),
    ("bytes", b"\x00\x01\xff'\";\\ binary", None),
    ("bytes_empty", b"", None),
    ("date", datetime.date(2024, 2, 29), None),
    ("date_min", datetime.date(1, 1, 1), None),
    ("datetime_naive", datetime.datetime(2024, 2, 29, 23, 59, 59, 999999), None),
    ("datetime_aware", AWARE, AWARE.astimezone(datetime.timezone.utc)),
    ("timedelta", datetime.timedelta(days=3, hours=4, minutes=5, seconds=6, microseconds=7),
     None),
    ("timedelta_negative", datetime.timedelta(days=-1, seconds=5), None),
    ("uuid", uuid.UUID("12345678-1234-5678-1234-567812345678"), None),
    ("dict_jsonb", {"a": [1, 2.5, None, True], "ü": {"x'y": "z\"; --"}, "n": None}, None),
    ("none", None, None),
]


@pytest.mark.parametrize("value, expected", [(v, e) for _, v, e in ROUNDTRIPS],
                         ids=[i for i, _, _ in ROUNDTRIPS])
def test_parameter_roundtrip(db, value, expected):
    create_function(db, "roundtrip(expression text, query text)", "pyfuncs.roundtrip")
    expected = value if expected is None else expected
    got = execute(db, "SELECT roundtrip(%s, 'SELECT $1')", (repr(value),))[0][0]
    if isinstance(expected, dict):  # jsonb orders the keys its own way
        type_name, _, text = got.partition(":")
        assert type_name == "dict" and eval(text, {"Decimal": decimal.Decimal}) == expected, got
    else:
        assert got == f"{type(expected).__name__}:{expected!r}"


def test_parameters_stored_in_typed_columns(db, run):
    """Values bound by sgfdw.pg land in typed columns exactly (read back by psycopg2)."""
    execute(db, "CREATE TABLE typed (i int, b bigint, n numeric, f float8, t bool, s text, "
                "y bytea, d date, ts timestamp, tz timestamptz, iv interval, u uuid, j jsonb)")
    values = [7, -2**63, decimal.Decimal("12345678901234567890.1234567890"), 0.1 + 0.2, True,
              "x'); DROP TABLE typed; -- ü😀", b"\x00\xff'", datetime.date(2024, 2, 29),
              datetime.datetime(2024, 2, 29, 1, 2, 3, 4), AWARE,
              datetime.timedelta(days=3, microseconds=7),
              uuid.UUID("12345678-1234-5678-1234-567812345678"), {"k": [1, "two", None]}]
    placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    run(f"pg.execute('INSERT INTO typed VALUES ({placeholders})', {values!r})")
    run(f"pg.execute('INSERT INTO typed VALUES ({placeholders})', {[None] * len(values)!r})")
    rows = execute(db, "SELECT i, b, n, f, t, s, y, d, ts, tz, iv, u::text, j FROM typed "
                       "ORDER BY i NULLS LAST")
    assert len(rows) == 2
    got = list(rows[0])
    got[6] = bytes(got[6])
    expected = list(values)
    expected[11] = str(expected[11])
    assert got == expected
    assert execute(db, "SELECT n::text, tz = '2024-02-29 18:29:59.999999+00' FROM typed "
                       "WHERE i = 7") == [("12345678901234567890.1234567890", True)]
    assert rows[1] == (None,) * len(values)


def test_list_parameter_for_any(db, run):
    execute(db, "CREATE TABLE t (id int, name text)")
    execute(db, "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'O''Brien'), (4, NULL), (5, 'e')")
    assert run("result = pg.execute('SELECT id FROM t WHERE id = ANY($1) ORDER BY id', "
               "[[5, 2, 3, 99]])") == "[(2,), (3,), (5,)]"
    assert run("result = pg.execute('SELECT id FROM t WHERE name = ANY($1) ORDER BY id', "
               "[['a', \"O'Brien\", None]])") == "[(1,), (3,)]"
    assert run("result = pg.execute('SELECT id FROM t WHERE id = ANY($1)', [[]])") == "[]"
    assert run("result = pg.execute('SELECT $1::int[]', [[[1, 2], [3, None]]])") == \
        "[([[1, 2], [3, None]],)]"


def test_none_parameter(db, run):
    execute(db, "CREATE TABLE t (id int, v int)")
    assert run("result = pg.execute('SELECT $1::int IS NULL, $2::text IS NULL', "
               "[None, None])") == "[(True, True)]"
    run("pg.execute('INSERT INTO t VALUES ($1, $2)', [1, None])")
    assert execute(db, "SELECT id, v FROM t") == [(1, None)]
    # NULL does not equal NULL: a bound None is a real NULL, not the text 'None'.
    assert run("result = pg.execute('SELECT count(*) FROM t WHERE v = $1', [None])") == "[(0,)]"


HOSTILE = [
    "x'); DROP TABLE t; --",
    "'; DELETE FROM t; SELECT '",
    "' OR '1'='1",
    "$1",
    "$$; DROP TABLE t; $$",
    "\\'; DROP TABLE t; --",
    "E'\\x00'",
    "%s %(x)s {}",
]


def test_parameter_values_are_never_interpolated(db, run):
    execute(db, "CREATE TABLE t (id serial, s text)")
    for value in HOSTILE:
        run(f"pg.execute('INSERT INTO t (s) VALUES ($1)', [{value!r}])")
        assert run(f"result = pg.execute('SELECT $1', [{value!r}])") == f"[({value!r},)]"
    assert [s for (s,) in execute(db, "SELECT s FROM t ORDER BY id")] == HOSTILE
    assert run("result = pg.execute('SELECT count(*) FROM t WHERE s = $1', "
               "[\"' OR '1'='1\"])") == "[(1,)]"
    assert run("result = pg.execute('SELECT count(*) FROM t WHERE s = $1', "
               "[\"nothing' OR '1'='1\"])") == "[(0,)]"
    assert execute(db, "SELECT count(*) FROM t") == [(len(HOSTILE),)]


@pytest.mark.parametrize("statement, params", [
    ("SELECT $1, $2", [1]),
    ("SELECT $2", [1]),
    ("SELECT $1", []),
    ("SELECT $1", None),
    ("SELECT $1", [1, 2]),
    ("SELECT 1", [1]),
    ("SELECT 1", ["a"]),
], ids=["too_few", "gap", "none_given_empty", "none_given_none", "too_many",
        "none_expected", "none_expected_str"])
def test_wrong_number_of_parameters(db, run, statement, params):
    code = f"""
try:
    pg.execute({statement!r}, {params!r})
    result = "no error"
except SqlError as exc:
    result = "SqlError " + exc.sqlstate
result += " " + repr(pg.execute("SELECT 1"))
"""
    got = run(code)
    assert got.startswith("SqlError ") and got.endswith(" [(1,)]"), got
    assert "XX000" not in got


def test_wrong_number_of_parameters_for_a_cursor(db, run):
    code = """
result = []
for statement, params in [("SELECT $1, $2", [1]), ("SELECT $1", [1, 2])]:
    try:
        list(pg.cursor(statement, params))
        result.append("no error")
    except SqlError as exc:
        result.append(exc.sqlstate != "XX000")
"""
    assert run(code) == "[True, True]"


# ---------------------------------------------------------------- results and cursors

def test_statements_without_result_return_an_empty_list(db, run):
    code = """
result = [
    pg.execute("CREATE TABLE t (id int, v text)"),
    pg.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')"),
    pg.execute("UPDATE t SET v = 'c' WHERE id = 2"),
    pg.execute("DELETE FROM t WHERE id = 1"),
    pg.execute("SELECT * FROM t WHERE false"),
    pg.execute("SET LOCAL work_mem = '8MB'"),
    pg.execute("INSERT INTO t VALUES ($1, $2) RETURNING id, v", [3, 'd']),
]
"""
    assert run(code) == "[[], [], [], [], [], [], [(3, 'd')]]"
    assert execute(db, "SELECT id, v FROM t ORDER BY id") == [(2, "c"), (3, "d")]


def test_cursor_yields_all_rows_in_order_in_batches(db, run):
    execute(db, "CREATE TABLE big (id int, v text)")
    execute(db, "INSERT INTO big SELECT g, 'row ' || g FROM generate_series(1, 10000) g")
    code = """
c = pg.cursor("SELECT id, v FROM big ORDER BY id", batch_size=1000)
sizes = []
while True:
    batch = c.fetch()
    if not batch:
        break
    sizes.append(len(batch))
c.close()
rows = list(pg.cursor("SELECT id, v FROM big ORDER BY id", batch_size=1000))
with pg.cursor("SELECT g FROM generate_series(1, 10000) g WHERE g % $1 = 0", [7], 1000) as c:
    sevens = [g for (g,) in c]
result = json.dumps({"sizes": sizes, "rows": rows, "sevens": sevens})
"""
    got = json.loads(run(code))
    assert got["sizes"] == [1000] * 10
    assert got["rows"] == [[i, f"row {i}"] for i in range(1, 10001)]
    assert got["sevens"] == list(range(7, 10001, 7))


def test_cursor_closed_early_and_reused(db, run):
    code = """
first = []
for (g,) in pg.cursor("SELECT g FROM generate_series(1, 100) g", batch_size=10):
    first.append(g)
    if g == 15:
        break
c = pg.cursor("SELECT g FROM generate_series(1, 5) g", batch_size=2)
c.close()
c.close()
after_close = c.fetch()
result = [first[-1], after_close, list(pg.cursor("SELECT 1 WHERE false"))]
"""
    assert run(code) == "[15, [], []]"


# ---------------------------------------------------------------- outside a backend

def test_outside_a_backend_sql_raises_runtime_error(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO))
    for name in [m for m in sys.modules if m == "sgfdw" or m.startswith("sgfdw.")]:
        monkeypatch.delitem(sys.modules, name)
    import sgfdw.pg as pgmod

    assert Path(pgmod.__file__).resolve().parent == REPO / "sgfdw"
    assert not pgmod.in_backend()
    with pytest.raises(RuntimeError):
        pgmod.execute("SELECT 1")
    with pytest.raises(RuntimeError):
        pgmod.execute("SELECT $1", [1])
    with pytest.raises(RuntimeError):
        pgmod.cursor("SELECT 1")
    # Quoting works without a server.
    assert pgmod.quote_ident('a"b') == '"a""b"'
    assert pgmod.quote_literal("it's") in ("'it''s'", "E'it''s'")


# ---------------------------------------------------------------- quoting

HOSTILE_NAMES = [
    "x'); DROP TABLE t; --",
    'a"b',
    'trailing"',
    "back\\slash'",
    "''",
    "\\'",
    "$$ $tag$",
    "Ünïcødé 😀 日本",
    "  spaces  ",
    "select",
    "MixedCase",
    "new\nline\ttab",
    "%s %(x)s",
    "--",
    "/* c */",
]


def test_quote_literal_and_ident_round_trip_through_the_server(db, run):
    code = """
import json
names = json.loads(NAMES)
out = []
for name in names:
    literal = pg.quote_literal(name)
    ident = pg.quote_ident(name)
    back = pg.execute("SELECT " + literal)[0][0]
    pg.execute(f"CREATE TABLE {ident} (v text)")
    pg.execute(f"INSERT INTO {ident} VALUES ({literal})")
    stored = pg.execute(f"SELECT v FROM {ident}")[0][0]
    out.append([back == name, stored == name])
result = json.dumps(out)
"""
    got = json.loads(run(f"NAMES = {json.dumps(HOSTILE_NAMES)!r}\n" + code))
    assert got == [[True, True]] * len(HOSTILE_NAMES)
    tables = {name for (name,) in execute(
        db, "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND relkind = 'r'")}
    assert set(HOSTILE_NAMES) <= tables
    for name in HOSTILE_NAMES:
        assert execute(db, sql.SQL("SELECT v FROM {}").format(sql.Identifier(name))) == [(name,)]


def test_quote_literal_follows_standard_conforming_strings(db, run):
    values = ["back\\slash'", "\\'", "x'); DROP TABLE t; --"]
    code = f"""
pg.execute("SET LOCAL standard_conforming_strings = off")
out = []
for value in {values!r}:
    out.append(pg.execute("SELECT " + pg.quote_literal(value))[0][0] == value)
result = out
"""
    assert run(code) == "[True, True, True]"


def test_quote_functions_without_a_server_round_trip(db, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO))
    import multicorn

    for name in HOSTILE_NAMES:
        literal = multicorn.quote_option(name)
        ident = multicorn.quote_identifier(name)
        assert execute(db, "SELECT " + literal) == [(name,)]  # (no params: % is literal)
        execute(db, f"CREATE TABLE {ident} (v int)")
    tables = {name for (name,) in execute(db, "SELECT relname FROM pg_class WHERE "
                                              "relnamespace = 'public'::regnamespace")}
    assert set(HOSTILE_NAMES) <= tables
