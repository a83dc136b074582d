"""The language sgfdw_python: SQL functions whose body names a Python callable.

Arguments and results use the bridge's conversions; defaults and named arguments are
resolved by PostgreSQL; composite results come from sequences or mappings and set
results from iterables; Python exceptions become ERRORs; the language is untrusted
(only a superuser creates functions) and the validator checks the callable exists.
The callables are in tests/fdws/pyfuncs.py.
"""

from __future__ import annotations

import decimal
import itertools
import uuid

import psycopg2
import pytest
from psycopg2 import sql

from fdwtest import assert_usable, error_of, execute


def create_function(db, signature: str, callable_: str, returns: str = "text",
                    extra: str = "") -> None:
    execute(db, f"CREATE FUNCTION {signature} RETURNS {returns} {extra} "
                f"LANGUAGE sgfdw_python AS %s", (callable_,))


def one(db, query: str, params=None):
    rows = execute(db, query, params)
    assert len(rows) == 1 and len(rows[0]) == 1, rows
    return rows[0][0]


# ---------------------------------------------------------------- scalar functions

def test_defaults_and_named_arguments(db):
    create_function(db, "greet(name text, greeting text DEFAULT 'Hello', "
                        "punctuation text DEFAULT '!')", "pyfuncs.greet")
    assert one(db, "SELECT greet('Ann')") == "Hello, Ann!"
    assert one(db, "SELECT greet('Ann', 'Hi')") == "Hi, Ann!"
    assert one(db, "SELECT greet('Ann', 'Hi', '?')") == "Hi, Ann?"
    assert one(db, "SELECT greet(name => 'Ann', punctuation => '?')") == "Hello, Ann?"
    assert one(db, "SELECT greet(punctuation => '.', greeting => 'Yo', name => 'Bo')") == \
        "Yo, Bo."
    assert one(db, "SELECT greet('Ann', punctuation => '...')") == "Hello, Ann..."
    assert one(db, "SELECT greet(%s)", ("O'Brien; DROP TABLE x; --",)) == \
        "Hello, O'Brien; DROP TABLE x; --!"
    # Over many rows, in the select list and in WHERE.
    assert execute(db, "SELECT greet(n) FROM unnest(ARRAY['a', 'b', 'c']) n ORDER BY 1") == \
        [("Hello, a!",), ("Hello, b!",), ("Hello, c!",)]
    assert execute(db, "SELECT n FROM unnest(ARRAY['a', 'b']) n "
                       "WHERE greet(n, punctuation => '') = 'Hello, b'") == [("b",)]


def test_null_arguments(db):
    create_function(db, "show_args(a int, b text)", "pyfuncs.show_args")
    assert one(db, "SELECT show_args(NULL, 'x')") == "[('NoneType', None), ('str', 'x')]"
    assert one(db, "SELECT show_args(1, NULL)") == "[('int', 1), ('NoneType', None)]"
    assert one(db, "SELECT show_args(NULL, NULL)") == \
        "[('NoneType', None), ('NoneType', None)]"
    # STRICT: NULL in, NULL out, the callable (which would raise) is not called.
    create_function(db, "strict_fn(a int, b text)", "pyfuncs.must_not_be_called", "int",
                    "STRICT")
    assert one(db, "SELECT strict_fn(NULL, 'x')") is None
    assert one(db, "SELECT strict_fn(1, NULL)") is None
    assert execute(db, "SELECT strict_fn(a, NULL) FROM generate_series(1, 3) a") == \
        [(None,)] * 3
    error = error_of(db, "SELECT strict_fn(1, 'x')")  # it really is that callable
    assert "called with (1, 'x')" in error.diag.message_primary


def test_returning_none_is_null(db):
    for returns in ["int", "text", "numeric", "jsonb", "int[]", "timestamptz", "bytea"]:
        name = "none_" + returns.replace("[]", "_array")
        create_function(db, f"{name}(a int)", "pyfuncs.returns_none", returns)
        assert execute(db, f"SELECT {name}(1), {name}(1) IS NULL") == [(None, True)], returns
    # jsonb NULL, not the JSON null.
    assert one(db, "SELECT none_jsonb(1) IS NULL") is True


def test_void_function(db):
    create_function(db, "remember(v text)", "pyfuncs.remember", "void")
    create_function(db, "remembered()", "pyfuncs.remembered")
    assert execute(db, "SELECT pg_typeof(remember('a'))") == [("void",)]
    assert execute(db, "SELECT remember('b') IS NULL") == [(False,)]
    execute(db, "DO $$ BEGIN PERFORM remember('c'); END $$")
    # The callable's return value is dropped; the calls happened, in order.
    assert one(db, "SELECT remembered()") == "['a', 'b', 'c']"


# ---------------------------------------------------------------- composite results

@pytest.fixture
def pair(db):
    execute(db, "CREATE TYPE pair AS (a int, b text, c numeric)")
    return db


def test_composite_from_tuple(pair):
    db = pair
    create_function(db, "pair_t(a int, b text)", "pyfuncs.pair_from_tuple", "pair")
    assert execute(db, "SELECT * FROM pair_t(1, 'x')") == [(1, "x", decimal.Decimal("1.50"))]
    assert one(db, "SELECT pair_t(1, 'x')::text") == "(1,x,1.50)"
    assert execute(db, "SELECT (pair_t(2, NULL)).*") == [(2, None, decimal.Decimal("1.50"))]
    assert one(db, "SELECT (pair_t(3, 'y')).b") == "y"
    create_function(db, "pair_l(a int, b text)", "pyfuncs.pair_from_list", "pair")
    assert execute(db, "SELECT * FROM pair_l(4, 'z')") == [(4, "z", None)]


def test_composite_from_dict_missing_key_is_null(pair):
    db = pair
    create_function(db, "pair_d(a int, b text)", "pyfuncs.pair_from_dict", "pair")
    assert execute(db, "SELECT * FROM pair_d(1, 'x')") == [(1, "x", None)]
    assert execute(db, "SELECT (pair_d(1, 'x')).c IS NULL") == [(True,)]
    # OUT parameters name the columns the mapping is read by.
    create_function(db, "pair_out(x int, y text, OUT a int, OUT b text, OUT c numeric)",
                    "pyfuncs.pair_from_dict", "record")
    assert execute(db, "SELECT * FROM pair_out(5, 'five')") == [(5, "five", None)]
    assert execute(db, "SELECT a, c FROM pair_out(y => 'six', x => 6)") == [(6, None)]


def test_composite_none_and_wrong_shape(pair):
    db = pair
    create_function(db, "pair_none(a int)", "pyfuncs.returns_none", "pair")
    assert execute(db, "SELECT pair_none(1) IS NULL") == [(True,)]
    create_function(db, "pair_bad(a int)", "pyfuncs.wrong_length", "pair")
    error = error_of(db, "SELECT * FROM pair_bad(1)")
    assert error.pgcode == "42804", (error.pgcode, str(error))
    assert "3 values" in error.diag.message_primary
    assert_usable(db)


# ---------------------------------------------------------------- sets

def test_setof_int(db):
    create_function(db, "count_to(n int)", "pyfuncs.count_to", "SETOF int")
    assert execute(db, "SELECT * FROM count_to(5)") == [(i,) for i in range(1, 6)]
    assert execute(db, "SELECT * FROM count_to(0)") == []
    assert execute(db, "SELECT count_to(3)") == [(1,), (2,), (3,)]  # in the select list
    assert execute(db, "SELECT n, i FROM count_to(2) WITH ORDINALITY AS t(n, i)") == \
        [(1, 1), (2, 2)]
    assert execute(db, "SELECT g, c FROM generate_series(1, 3) g, LATERAL count_to(g) c "
                       "ORDER BY g, c") == [(1, 1), (2, 1), (2, 2), (3, 1), (3, 2), (3, 3)]
    assert one(db, "SELECT count(*) FROM count_to(100000)") == 100000
    create_function(db, "with_nulls(n int)", "pyfuncs.with_nulls", "SETOF int")
    assert execute(db, "SELECT * FROM with_nulls(4)") == [(0,), (None,), (2,), (None,)]


def test_returns_table_from_generators(db):
    create_function(db, "rows_t(n int)", "pyfuncs.table_of_tuples",
                    "TABLE (id int, name text, score numeric)")
    D = decimal.Decimal
    assert execute(db, "SELECT * FROM rows_t(3)") == \
        [(1, "name 1", D("0.25")), (2, "name 2", D("0.5")), (3, "name 3", D("0.75"))]
    assert execute(db, "SELECT name FROM rows_t(3) WHERE score > 0.3 ORDER BY id") == \
        [("name 2",), ("name 3",)]
    create_function(db, "rows_d(n int)", "pyfuncs.table_of_dicts",
                    "TABLE (id int, name text, score numeric)")
    assert execute(db, "SELECT * FROM rows_d(4)") == \
        [(1, "name 1", None), (2, "name 2", D("0.2")), (3, "name 3", None),
         (4, "name 4", D("0.4"))]
    assert execute(db, "SELECT (rows_d(2)).name") == [("name 1",), ("name 2",)]


def test_set_function_failing_midway(db):
    create_function(db, "fails_midway(n int)", "pyfuncs.fails_midway",
                    "TABLE (id int, name text, score numeric)")
    error = error_of(db, "SELECT * FROM fails_midway(3)")
    assert error.pgcode == "HV000"
    assert "broke after one row" in error.diag.message_primary
    assert_usable(db)


# ---------------------------------------------------------------- lossless values

# (name, SQL type, SQL literals, Python type name seen by the callable)
LOSSLESS = [
    ("numeric", "numeric",
     ["12345678901234567890.1234567890123", "-0.000000000000000000000000000001", "1.500",
      "0", "NaN", "-Infinity"], "Decimal"),
    ("timestamptz", "timestamptz",
     ["2024-02-29 23:59:59.999999+05:30", "1999-12-31 23:00:00-08", "infinity"],
     None),
    ("jsonb", "jsonb",
     ['{"a": [1, 2.5, null, true, false], "ü": {"x\'y": "z\\"; --"}, "e": {}, "l": []}',
      "[]", "-7", "[1.5, 123456789012345678901234567890]"], None),
    # Not '"a string"' (a str result for a json column is JSON text, by the contract) nor
    # 'null' (JSON null and SQL NULL are both None in Python; None comes back as NULL).
    ("int_2d", "int[]", ["{{1,2,3},{4,NULL,6}}", "{}", "{{-2147483648},{2147483647}}"],
     "list"),
    ("bytea", "bytea", ["\\x00ff27225c3b", "\\x"], "bytes"),
    ("uuid", "uuid", ["12345678-1234-5678-1234-567812345678"], "UUID"),
]


@pytest.mark.parametrize("name, type_, literals, py_type", LOSSLESS,
                         ids=[c[0] for c in LOSSLESS])
def test_lossless_argument_and_result(db, name, type_, literals, py_type):
    create_function(db, f"echo_{name}(v {type_})", "pyfuncs.identity", type_)
    create_function(db, f"describe_{name}(v {type_})", "pyfuncs.type_and_repr")
    for literal in literals:
        # Same value back, and the same text (numeric scale, array shape, ...).
        assert execute(db, f"SELECT echo_{name}(%s::{type_}) IS NOT DISTINCT FROM %s::{type_},"
                           f" echo_{name}(%s::{type_})::text = %s::{type_}::text",
                       (literal,) * 4) == [(True, True)], literal
        if py_type is not None:
            described = one(db, f"SELECT describe_{name}(%s::{type_})", (literal,))
            assert described.startswith(py_type + ":"), (literal, described)


def test_lossless_python_types_seen_by_the_callable(db):
    create_function(db, "d_numeric(v numeric)", "pyfuncs.type_and_repr")
    create_function(db, "d_tz(v timestamptz)", "pyfuncs.type_and_repr")
    create_function(db, "d_jsonb(v jsonb)", "pyfuncs.type_and_repr")
    create_function(db, "d_ints(v int[])", "pyfuncs.type_and_repr")
    create_function(db, "d_bytea(v bytea)", "pyfuncs.type_and_repr")
    create_function(db, "d_uuid(v uuid)", "pyfuncs.type_and_repr")
    assert one(db, "SELECT d_numeric('12345678901234567890.1234567890123')") == \
        "Decimal:Decimal('12345678901234567890.1234567890123')"
    assert one(db, "SELECT d_tz('2024-02-29 23:59:59.999999+05:30')") == \
        ("datetime:datetime.datetime(2024, 2, 29, 18, 29, 59, 999999, "
         "tzinfo=datetime.timezone.utc)")
    assert one(db, """SELECT d_jsonb('{"a": [1, null, true], "b": "x"}')""") == \
        "dict:{'a': [1, None, True], 'b': 'x'}"
    assert one(db, "SELECT d_ints('{{1,2,3},{4,NULL,6}}')") == \
        "list:[[1, 2, 3], [4, None, 6]]"
    assert one(db, "SELECT d_bytea('\\x00ff27')") == "bytes:b\"\\x00\\xff'\""
    assert one(db, "SELECT d_uuid('12345678-1234-5678-1234-567812345678')") == \
        "UUID:UUID('12345678-1234-5678-1234-567812345678')"


def test_lossless_jsonb_high_precision_numbers(db):
    """Numbers in jsonb keep all their digits through a Python function (both ways)."""
    create_function(db, "echo_jsonb(v jsonb)", "pyfuncs.identity", "jsonb")
    for literal in ['{"n": 12345678901234567890.123456789}', "0.1000000000000000055511151231",
                    "[1e400]", '{"big": 123456789012345678901234567890}']:
        assert one(db, "SELECT echo_jsonb(%s::jsonb)::text = %s::jsonb::text",
                   (literal, literal)) is True, (
            literal, one(db, "SELECT echo_jsonb(%s::jsonb)::text", (literal,)))


# (SQL type, Python expression, expected SQL text of the result)
PY_RESULTS = [
    ("numeric", "Decimal('0.1') + Decimal('0.2')", "0.3"),
    ("numeric", "Decimal('12345678901234567890.1234567890')", "12345678901234567890.1234567890"),
    ("numeric", "7", "7"),
    ("timestamptz",
     "datetime.datetime(2024, 2, 29, 23, 59, 59, 999999, "
     "tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=30)))",
     "2024-02-29 18:29:59.999999+00"),
    ("timestamptz", "datetime.datetime(2024, 1, 1, 12, 0)", "2024-01-01 17:00:00+00"),
    ("jsonb", "{'a': [1, 2.5, None, True], 'd': Decimal('12345678901234567890.123456789')}",
     '{"a": [1, 2.5, null, true], "d": 12345678901234567890.123456789}'),
    ("jsonb", "[]", "[]"),
    ("int[]", "[[1, 2], [3, None]]", "{{1,2},{3,NULL}}"),
    ("int[]", "[]", "{}"),
    ("bytea", "b'\\x00\\xff\\'\"'", "\\x00ff2722"),
    ("uuid", "uuid.uuid5(uuid.NAMESPACE_DNS, 'example.org')",
     str(uuid.uuid5(uuid.NAMESPACE_DNS, "example.org"))),
    ("uuid", "'12345678-1234-5678-1234-567812345678'", "12345678-1234-5678-1234-567812345678"),
]


def test_lossless_results_made_in_python(db):
    # A naive datetime for timestamptz is read in the session TimeZone.
    execute(db, "SET TimeZone = 'America/New_York'")
    for i, (type_, expression, expected) in enumerate(PY_RESULTS):
        create_function(db, f"make_{i}(e text)", "pyfuncs.evaluate", type_)
        if type_ == "timestamptz":  # the same instant (its text follows TimeZone)
            assert one(db, f"SELECT make_{i}(%s) = %s::timestamptz",
                       (expression, expected)) is True, expression
        else:
            assert one(db, f"SELECT make_{i}(%s)::text", (expression,)) == expected, \
                (type_, expression)


def test_polymorphic_function(db):
    create_function(db, "echo_any(v anyelement)", "pyfuncs.identity", "anyelement")
    create_function(db, "describe_any(v anyelement)", "pyfuncs.type_and_repr")
    assert one(db, "SELECT echo_any(42)") == 42
    assert one(db, "SELECT echo_any('x'::text)") == "x"
    assert one(db, "SELECT echo_any(1.50::numeric)::text") == "1.50"
    assert one(db, "SELECT echo_any(ARRAY[[1,2],[3,4]])::text") == "{{1,2},{3,4}}"
    assert one(db, "SELECT describe_any(42::bigint)") == "int:42"
    assert one(db, "SELECT describe_any(true)") == "bool:True"


# ---------------------------------------------------------------- errors

def test_python_exception_becomes_error(db):
    create_function(db, "fail(message text)", "pyfuncs.raise_value_error", "int")
    error = error_of(db, "SELECT fail('boom: it broke')")
    assert error.pgcode == "HV000", (error.pgcode, str(error))
    assert "boom: it broke" in error.diag.message_primary
    detail = error.diag.message_detail or ""
    assert "Traceback (most recent call last)" in detail, detail
    assert "raise_value_error" in detail and "ValueError: boom: it broke" in detail
    assert_usable(db)
    # In a transaction: aborted like any ERROR, ROLLBACK recovers.
    execute(db, "BEGIN")
    try:
        assert error_of(db, "SELECT fail('again')").pgcode == "HV000"
        with pytest.raises(psycopg2.errors.InFailedSqlTransaction):
            execute(db, "SELECT 1")
    finally:
        execute(db, "ROLLBACK")
    assert_usable(db)


def test_python_exception_with_sqlstate(db):
    create_function(db, "fail_state(message text)", "pyfuncs.raise_with_sqlstate", "int")
    error = error_of(db, "SELECT fail_state('divided elsewhere')")
    assert error.pgcode == "22012"
    assert error.diag.message_primary == "divided elsewhere"
    create_function(db, "fail_data(message text)", "pyfuncs.raise_fdw_error", "int")
    error = error_of(db, "SELECT fail_data('bad value')")
    assert error.pgcode == "22000"
    assert error.diag.message_primary == "bad value"
    assert error.diag.message_hint == "try another value"
    assert "the value was bad" in (error.diag.message_detail or "")
    assert_usable(db)


# ---------------------------------------------------------------- privileges

_role_counter = itertools.count(1)


@pytest.fixture
def alice(db, pg):
    """A non-superuser role with a connection of its own to the test database; may
    create objects in schema public (so that only the language can refuse it)."""
    role = f"sgfdw_fn_user_{next(_role_counter)}"
    execute(db, sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER").format(sql.Identifier(role)))
    execute(db, sql.SQL("GRANT CREATE, USAGE ON SCHEMA public TO {}").format(
        sql.Identifier(role)))
    conn = psycopg2.connect(host=str(pg.socket_dir), port=pg.port, user=role,
                            dbname=db.info.dbname)
    conn.autocommit = True
    try:
        yield conn
    finally:
        conn.close()
        execute(db, sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        execute(db, sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_non_superuser_cannot_create_a_function(db, alice):
    # The same user can create functions in another language in that schema.
    execute(alice, "CREATE FUNCTION plain_sql() RETURNS int LANGUAGE sql AS 'SELECT 1'")
    error = error_of(alice, "CREATE FUNCTION mine() RETURNS text LANGUAGE sgfdw_python "
                            "AS 'pyfuncs.greet'")
    assert error.pgcode == "42501", (error.pgcode, str(error))
    assert "sgfdw_python" in error.diag.message_primary
    # Nor replace one a superuser made.
    create_function(db, "theirs()", "pyfuncs.returns_none")
    assert error_of(alice, "CREATE OR REPLACE FUNCTION theirs() RETURNS text "
                           "LANGUAGE sgfdw_python AS 'pyfuncs.remembered'").pgcode == "42501"
    assert_usable(alice)


def test_execute_privilege(db, alice):
    create_function(db, "greet(name text, greeting text DEFAULT 'Hello', "
                        "punctuation text DEFAULT '!')", "pyfuncs.greet")
    execute(db, "REVOKE ALL ON FUNCTION greet(text, text, text) FROM PUBLIC")
    error = error_of(alice, "SELECT greet('Al')")
    assert error.pgcode == "42501", (error.pgcode, str(error))
    execute(db, f"GRANT EXECUTE ON FUNCTION greet(text, text, text) TO {alice.info.user}")
    assert one(alice, "SELECT greet('Al')") == "Hello, Al!"
    execute(db, f"REVOKE EXECUTE ON FUNCTION greet(text, text, text) FROM {alice.info.user}")
    error = error_of(alice, "SELECT greet('Al')")
    assert error.pgcode == "42501", (error.pgcode, str(error))
    assert "permission denied for function greet" in error.diag.message_primary


def test_sql_from_python_runs_as_the_calling_user(db, alice):
    execute(db, "CREATE TABLE secret (v text)")
    execute(db, "INSERT INTO secret VALUES ('top')")
    execute(db, "REVOKE ALL ON secret FROM PUBLIC")
    create_function(db, "run(code text)", "pyfuncs.run")
    assert one(db, "SELECT run('result = pg.execute(''SELECT current_user, v FROM secret'')')") \
        == "[('postgres', 'top')]"
    code = """
try:
    pg.execute("SELECT v FROM secret")
    result = "read it"
except SqlError as exc:
    result = exc.sqlstate + " " + pg.execute("SELECT current_user")[0][0]
"""
    assert one(alice, "SELECT run(%s)", (code,)) == f"42501 {alice.info.user}"
    error = error_of(alice, "SELECT run('pg.execute(''SELECT * FROM secret'')')")
    assert error.pgcode == "42501"


# ---------------------------------------------------------------- validator

@pytest.mark.parametrize("body", [
    "pyfuncs.no_such_callable",
    "no_such_module_xyz.f",
    "pyfuncs.NOT_CALLABLE",
    "no_dot_at_all",
    "",
], ids=["missing_callable", "missing_module", "not_callable", "no_module", "empty"])
def test_validator_rejects_a_missing_callable(db, body):
    error = error_of(db, "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sgfdw_python AS %s",
                     (body,))
    assert error.pgcode == "42704", (error.pgcode, str(error))
    assert execute(db, "SELECT count(*) FROM pg_proc WHERE proname = 'f'") == [(0,)]
    assert_usable(db)


def test_check_function_bodies_off_defers_the_check(db):
    execute(db, "SET check_function_bodies = off")
    create_function(db, "later(a int)", "pyfuncs.not_yet_there", "int")
    execute(db, "RESET check_function_bodies")
    error = error_of(db, "SELECT later(1)")
    assert error.pgcode == "42704", (error.pgcode, str(error))
    assert_usable(db)
    execute(db, "CREATE OR REPLACE FUNCTION later(a int) RETURNS int LANGUAGE sgfdw_python "
                "AS 'pyfuncs.identity'")
    assert one(db, "SELECT later(5)") == 5


# ---------------------------------------------------------------- set/scalar mix-ups

def test_set_returning_function_in_a_scalar_context(db):
    create_function(db, "count_to(n int)", "pyfuncs.count_to", "SETOF int")
    for query in ["SELECT 1 WHERE count_to(2) = 1",
                  "SELECT sum(count_to(2))",
                  "SELECT CASE WHEN true THEN count_to(2) END",
                  "SELECT coalesce(count_to(2), 0)",
                  "CREATE TABLE t (v int DEFAULT count_to(1))"]:
        error = error_of(db, query)
        assert error.pgcode == "0A000", (query, error.pgcode, str(error))
        assert_usable(db)
    # A PL/pgSQL scalar expression getting two rows.
    execute(db, "CREATE FUNCTION scalar_of_set() RETURNS int LANGUAGE plpgsql "
                "AS 'BEGIN RETURN count_to(2); END'")
    assert error_of(db, "SELECT scalar_of_set()").pgcode == "21000"
    assert_usable(db)
    assert execute(db, "SELECT count_to(2)") == [(1,), (2,)]


def test_result_shape_mismatches_error_cleanly(db):
    # A scalar function whose callable returns a generator.
    create_function(db, "scalar_gen()", "pyfuncs.a_generator", "int")
    error = error_of(db, "SELECT scalar_gen()")
    assert error.pgcode.startswith("22") or error.pgcode == "42804", (error.pgcode, str(error))
    assert_usable(db)
    # A set-returning function whose callable returns no iterable.
    create_function(db, "set_of_five()", "pyfuncs.not_iterable", "SETOF int")
    for query in ["SELECT * FROM set_of_five()", "SELECT set_of_five()"]:
        error = error_of(db, query)
        assert error.pgcode == "42804", (error.pgcode, str(error))
        assert_usable(db)
    # RETURNS record without a column list is refused, with one it works.
    create_function(db, "rec()", "pyfuncs.wrong_length", "record")
    assert error_of(db, "SELECT rec()").pgcode == "0A000"
    assert execute(db, "SELECT * FROM rec() AS (a int, b int)") == [(1, 2)]
    assert_usable(db)
