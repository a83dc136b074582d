"""The bridge against hostile Python (issue 10: backend crashes and wrong results).

Every test here once crashed a backend (signal 11), ended a session with FATAL, or gave
a wrong result. Each now must end in the right values or a clean ERROR with a fitting
SQLSTATE, the session still usable. An autouse fixture checks that no backend died
during each test (the server log of the test's time says nothing was terminated by a
signal). The hostile FDWs are in tests/fdws/hostile.py.
"""

from __future__ import annotations

import json

import psycopg2
import pytest
from psycopg2 import sql

from fdwtest import (assert_usable, create_server, error_of, execute,
                     explain_lines)

HOSTILE = "hostile.HostileFdw"


@pytest.fixture(autouse=True)
def no_crash(pg, db):
    """The test must not make any backend die (PostgreSQL would restart them all), nor
    end its session. Checked before the test's database is dropped."""
    start = pg.logfile.stat().st_size
    yield
    with open(pg.logfile, errors="replace") as log:
        log.seek(start)
        written = log.read()
    assert "terminated by signal" not in written, written[-3000:]
    assert "FATAL" not in written, written[-3000:]


def hostile_table(db, columns: str, rows: str = "[]", name: str = "t", **options: str) -> str:
    """Foreign table `name` of HostileFdw yielding the rows of the expression `rows`."""
    if not execute(db, "SELECT 1 FROM pg_foreign_server WHERE srvname = 'hostile'"):
        create_server(db, "hostile", HOSTILE)
    execute(db, sql.SQL("CREATE FOREIGN TABLE {} (" + columns + ") SERVER hostile {}").format(
        sql.Identifier(name),
        sql.SQL("OPTIONS ({})").format(sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(k), sql.Literal(v))
            for k, v in {"rows": rows, **options}.items()))))
    return name


def function_run(db) -> None:
    """SQL function run(code): tests/fdws/pyfuncs.run, the text of `result` after code."""
    execute(db, "CREATE FUNCTION run(code text) RETURNS text LANGUAGE sgfdw_python "
                "AS 'pyfuncs.run'")


# ---------------------------------------------------------------- C1: borrowed references

def test_row_emptied_while_its_values_are_converted(db):
    # The first value's str() empties the row list: its other values are freed.
    hostile_table(db, "a text, b text, c text", "row_cleared_while_converted(50)")
    error = error_of(db, "SELECT * FROM t")
    assert error.pgcode == "HV021", error.pgerror
    assert "row of 0 values" in error.diag.message_primary
    assert_usable(db)
    # A scan of only the first column converts nothing else: it works.
    assert len(execute(db, "SELECT a FROM t")) == 50


def test_array_emptied_while_its_elements_are_converted(db):
    # Every element was taken before the first one's str() empties the list.
    hostile_table(db, "id int, v text[]", "array_cleared_while_converted(50)")
    rows = execute(db, "SELECT id, v FROM t ORDER BY id")
    assert rows == [(i, [f"a{i}"] + [f"e{i}-{j}" for j in range(5)]) for i in range(50)]
    assert_usable(db)


def test_sequence_row_emptied_while_its_values_are_converted(db):
    # A sequence that is neither list nor tuple is read as a whole first: all values come.
    hostile_table(db, "a text, b text, c text", "row_cleared_while_converted(50, deque)")
    rows = execute(db, "SELECT * FROM t")
    assert rows == [(f"first {i}", f"second {i}", f"third {i}") for i in range(50)]


def test_mapping_handing_out_fresh_values(db):
    # The row holds no reference to what __getitem__ returns: the bridge must. (Large
    # strs are allocated apart: freed, their memory goes back to the system at once.)
    hostile_table(db, "id int, name text",
                  "[FreshMapping({'id': 1, 'name': 'x' * 300000}) for _ in range(20)]")
    for _ in range(3):
        assert execute(db, "SELECT id, length(name) FROM t") == [(1, 300000)] * 20
    assert_usable(db)


# ---------------------------------------------------------------- C6: mapping-like rows

def _has_pyarrow(db) -> bool:
    function_run(db)
    found = execute(db, "SELECT run('import importlib.util; "
                        "result = importlib.util.find_spec(\"pyarrow\") is not None')")
    return found == [("True",)]


def test_record_batch_row_failing_conversion_twice(db):
    if not _has_pyarrow(db):
        pytest.skip("pyarrow is not installed in the server's Python")
    # A RecordBatch is read as Arrow (its rows); strings that are not ints fail in the
    # middle of the batch, and the failed scan must leave nothing behind for the next one.
    hostile_table(db, "id int, name text",
                  "[record_batch({'id': ['1', 'x2'], 'name': ['a', 'b']})]")
    for _ in range(3):
        assert error_of(db, "SELECT * FROM t").pgcode == "22P02"
        assert_usable(db)
    execute(db, "ALTER FOREIGN TABLE t ALTER COLUMN id TYPE text")
    assert execute(db, "SELECT id, name FROM t") == [("1", "a"), ("x2", "b")]


def test_mapping_row_failing_conversion_twice(db):
    hostile_table(db, "id int, name text", "[FreshMapping({'id': 'x1', 'name': 'n'})] * 20")
    for _ in range(3):
        assert error_of(db, "SELECT * FROM t").pgcode == "22P02"
        assert_usable(db)


# ---------------------------------------------------------------- C2: array limits

@pytest.mark.parametrize("value, sqlstate", [
    ("[[], [1, 2, 3]]", "2202E"),          # ragged, not '{}'
    ("[[1, 2], []]", "2202E"),
    ("[[[]], [[1]]]", "2202E"),
    ("[[1] * 65536] * 65536", "54000"),    # 2**32 elements: more than int counts, not '{}'
    ("[[1] * 6700417] * 641", "54000"),    # 641 * 6700417 = 2**32 + 1 overflows int
    ("[0] * (2**27 + 1)", "54000"),        # more than MaxArraySize in one dimension
])
def test_arrays_beyond_postgres_limits(db, value, sqlstate):
    hostile_table(db, "v int[]", f"[({value},)]")
    error = error_of(db, "SELECT v FROM t")
    assert error.pgcode == sqlstate, error.pgerror
    assert 'column "v"' in (error.diag.context or "")
    assert_usable(db)


def test_empty_nested_arrays_stay_empty(db):
    hostile_table(db, "v int[]", "[([],), ([[], []],)]")
    assert execute(db, "SELECT v FROM t") == [([],), ([],)]


# ---------------------------------------------------------------- C3, C7: text UTF-8 cannot hold

@pytest.mark.parametrize("fmt", ["TEXT", "JSON", "XML", "YAML"])
def test_explain_line_with_lone_surrogate(db, fmt):
    hostile_table(db, "id int", explain="['fine', '\\ud800']")
    error = error_of(db, f"EXPLAIN (FORMAT {fmt}) SELECT * FROM t")
    assert error.pgcode == "22021", error.pgerror
    assert "explain()" in error.diag.message_primary
    assert_usable(db)


@pytest.mark.parametrize("column, value", [
    ("text", "'\\ud800'"),
    ("varchar(5)", "'\\ud800'"),
    ("int", "'\\udcff'"),                   # text input of any type
    ("text", "Thing()"),                    # str() of an object: fine
    ("jsonb", "{'\\ud800': 1}"),            # JSON text of a dict
    ("text[]", "['ok', '\\ud800']"),
])
def test_values_with_lone_surrogates(db, column, value):
    hostile_table(db, f"v {column}", f"[({value},)]")
    if value == "Thing()":
        assert execute(db, "SELECT v FROM t") == [("thing \U0001F600",)]
        return
    error = error_of(db, "SELECT v FROM t")
    assert error.pgcode == "22021", error.pgerror
    assert 'column "v"' in (error.diag.context or "")
    assert_usable(db)


def test_import_schema_statement_with_lone_surrogate(db):
    create_server(db, "hostile", HOSTILE)
    execute(db, "CREATE SCHEMA imported")
    error = error_of(db, "IMPORT FOREIGN SCHEMA remote FROM SERVER hostile INTO imported "
                         "OPTIONS (statement %s)",
                     ("'CREATE FOREIGN TABLE \\ud800 () SERVER hostile'",))
    assert error.pgcode == "22021", error.pgerror
    assert_usable(db)


def test_path_key_column_with_lone_surrogate(db):
    hostile_table(db, "id int", "[(1,)]", path_keys="[(('\\ud800',), 1)]")
    error = error_of(db, "SELECT * FROM t")
    assert error.pgcode == "22021", error.pgerror
    assert_usable(db)


def test_exception_message_with_lone_surrogate(db):
    # The error report itself must not fail: the surrogate is shown escaped.
    function_run(db)
    error = error_of(db, "SELECT run('raise ValueError(\"bad \\ud800 text\")')")
    assert error.pgcode == "HV000", error.pgerror
    assert "bad \\ud800 text" in error.diag.message_primary
    assert_usable(db)


# ---------------------------------------------------------------- C4: rowid_column

@pytest.mark.parametrize("statement", ["UPDATE t SET name = 'x'", "DELETE FROM t"])
def test_rowid_column_with_lone_surrogate(db, statement):
    hostile_table(db, "id int, name text", "[(1, 'a')]", rowid_column="'\\ud800'")
    error = error_of(db, statement)
    assert error.pgcode == "22021", error.pgerror
    assert "rowid_column" in error.diag.message_primary
    assert_usable(db)


@pytest.mark.parametrize("statement", ["UPDATE t SET name = 'x'", "DELETE FROM t"])
def test_rowid_column_changing_after_planning(db, statement):
    # 'id' while planning, then 'no_such_column', then 'name' (another type).
    hostile_table(db, "id int, name text", "[(1, 'a')]",
                  rowid_column="changing('id', 'no_such_column', 'id', 'name')")
    for _ in range(2):
        error = error_of(db, statement)
        assert error.pgcode == "HV021", error.pgerror
        assert "changed since the statement was planned" in error.diag.message_primary
        assert_usable(db)


# ---------------------------------------------------------------- C5: the _sgfdw module

BAD_CALLS = [
    "_sgfdw.execute('SELECT $1, $2, $3', 5, None)",
    "_sgfdw.execute('SELECT $1', 'abc')",
    "_sgfdw.execute('SELECT $1', {1: 2})",
    "_sgfdw.execute('SELECT $1', [1], [23, 25])",
    "_sgfdw.execute('SELECT $1', [1], ['int'])",
    "_sgfdw.execute('SELECT $1', [1], [-1])",
    "_sgfdw.execute('SELECT $1', [1], [2**40])",
    "_sgfdw.execute('SELECT $1', [1], 5)",
    "_sgfdw.execute(None)",
    "_sgfdw.execute('SELECT 1\\x00')",
    "_sgfdw.execute('SELECT \\ud800')",
    "_sgfdw.cursor_open('SELECT $1', 5)",
    "_sgfdw.cursor_open('SELECT $1', [1], [None])",
    "_sgfdw.cursor_fetch('c', 0)",
    "_sgfdw.cursor_fetch('c', -5)",
    "_sgfdw.cursor_fetch(None, 1)",
    "_sgfdw.cursor_fetch('c', 'x')",
    "_sgfdw.cursor_close(5)",
    "_sgfdw.log('x', 'y')",
    "_sgfdw.log(20, None)",
    "_sgfdw.log(20, '\\ud800')",
    "_sgfdw.log(20, 'm', 5)",
    "_sgfdw.log(2**80, 'm')",
]


def test_sgfdw_module_rejects_bad_arguments(db):
    function_run(db)
    code = "import _sgfdw\nresult = []\n" + "".join(
        f"try:\n    {call}\n    result.append('accepted')\n"
        f"except Exception as exc:\n    result.append(type(exc).__name__)\n"
        for call in BAD_CALLS)
    outcome = execute(db, "SELECT run(%s)", (code,))[0][0]
    kinds = eval(outcome)  # a list of exception class names
    assert "accepted" not in kinds, list(zip(BAD_CALLS, kinds))
    assert "SystemError" not in kinds, list(zip(BAD_CALLS, kinds))
    assert_usable(db)
    # The module still works with good arguments.
    assert execute(db, "SELECT run('import _sgfdw; result = _sgfdw.execute("
                       "\"SELECT $1::int + 1\", [41], [23])')") == [("[(42,)]",)]


def test_sgfdw_module_in_other_threads(pg, db):
    # PostgreSQL is single-threaded: SQL from another thread is refused; a log message
    # from one goes to the server log, not through PostgreSQL's error reporting.
    function_run(db)
    code = ("from hostile import in_thread\nimport _sgfdw\n"
            "result = [in_thread(lambda: _sgfdw.execute('SELECT 1', [], [])),"
            " in_thread(lambda: _sgfdw.log(20, 'logged from a thread'))]")
    assert execute(db, "SELECT run(%s)", (code,)) == [("['RuntimeError', 'None']",)]
    assert "logged from a thread" in pg.log_tail(20)
    assert_usable(db)


# ---------------------------------------------------------------- SQL while the transaction ends

ABORTED = "InFailedSqlTransaction 25P02"
COMMITTING = "SqlError 25000"


@pytest.mark.parametrize("script, method, outcome", [
    (["BEGIN", "SELECT * FROM t", "ROLLBACK"], "rollback", ABORTED),
    (["BEGIN", "SELECT * FROM t", "SELECT 1/0"], "rollback", ABORTED),
    (["BEGIN", "SAVEPOINT s", "SELECT * FROM t", "ROLLBACK TO SAVEPOINT s", "COMMIT"],
     "sub_rollback", ABORTED),
    (["BEGIN", "SELECT * FROM t", "COMMIT"], "commit", COMMITTING),
    (["BEGIN", "SAVEPOINT s", "SELECT * FROM t", "RELEASE SAVEPOINT s", "COMMIT"],
     "sub_commit", COMMITTING),
    (["BEGIN", "SAVEPOINT s", "SELECT * FROM t", "COMMIT"], "sub_commit", COMMITTING),
    # Still in the transaction: SQL runs (with a snapshot of its own at commit).
    (["BEGIN", "SELECT * FROM t", "COMMIT"], "pre_commit", "ran"),
    (["SELECT * FROM t"], "pre_commit", "ran"),
])
def test_sql_while_the_transaction_ends(db, script, method, outcome):
    # Refused with an exception the FDW can catch, never FATAL, where no SQL can run.
    hostile_table(db, "id int", "[(1,)]", sql_in=method)
    db.notices.clear()
    for statement in script:
        try:
            execute(db, statement)
        except psycopg2.errors.DivisionByZero:
            execute(db, "ROLLBACK")
    assert f"WARNING:  {method}: SQL {outcome}\n" in db.notices, db.notices
    assert_usable(db)
    assert execute(db, "SELECT * FROM t") == [(1,)]


def test_sql_in_a_parallel_worker_is_refused_cleanly(db):
    # Starting a subtransaction there fails: that error once jumped over Python's frames.
    execute(db, "CREATE FUNCTION run_parallel(code text) RETURNS text PARALLEL SAFE "
                "LANGUAGE sgfdw_python AS 'pyfuncs.run'")
    execute(db, "SET force_parallel_mode = on")
    code = ("try:\n    pg.execute('SELECT 1')\n"
            "except SqlError as exc:\n    result = exc.sqlstate")
    assert execute(db, "SELECT run_parallel(%s)", (code,)) == [("25000",)]
    execute(db, "RESET force_parallel_mode")
    assert_usable(db)


# ---------------------------------------------------------------- time zones

def test_tzinfo_without_offset_is_naive(db):
    hostile_table(db, "v timestamptz", "[(datetime(2020, 1, 1, 12, tzinfo=NoOffset()),)]")
    execute(db, "SET TimeZone = 'America/New_York'")
    assert execute(db, "SELECT v = '2020-01-01 12:00:00-05' FROM t") == [(True,)]
    execute(db, "SET TimeZone = 'Asia/Tokyo'")
    assert execute(db, "SELECT v = '2020-01-01 12:00:00+09' FROM t") == [(True,)]


# ---------------------------------------------------------------- truth tests

@pytest.mark.parametrize("options, query", [
    ({"can_limit": "BadBool()"}, "SELECT * FROM t LIMIT 1"),
    ({"can_limit": "True", "enforces_quals": "BadBool()"}, "SELECT * FROM t WHERE id = 1 LIMIT 1"),
])
def test_result_whose_truth_raises(db, options, query):
    hostile_table(db, "id int", "[(1,)]", **options)
    for _ in range(2):
        error = error_of(db, query)
        assert error.pgcode == "HV004", error.pgerror
        assert "no truth in me" in error.diag.message_primary
        assert_usable(db)
    # No exception left pending for a later, unrelated call to trip on.
    function_run(db)
    assert execute(db, "SELECT run('result = 1')") == [("1",)]


def test_path_keys_columns_not_a_sequence(db):
    hostile_table(db, "id int", "[(1,)]", path_keys="[(5, 1)]")
    for _ in range(2):
        error = error_of(db, "SELECT * FROM t")
        assert error.pgcode == "HV004", error.pgerror
        assert "TypeError" in error.diag.message_primary
    function_run(db)
    assert execute(db, "SELECT run('result = 1')") == [("1",)]


def test_composite_result_whose_length_raises(db):
    execute(db, "CREATE TYPE pr AS (a int, b text)")
    execute(db, "CREATE FUNCTION pair(e text) RETURNS pr "
                "LANGUAGE sgfdw_python AS 'pyfuncs.evaluate'")
    bad = ("type('D', (__import__('collections').deque,), "
           "{'__len__': lambda self: 1/0})([1, 'x'])")
    for _ in range(2):
        error = error_of(db, "SELECT * FROM pair(%s)", (bad,))
        assert "ZeroDivisionError" in error.diag.message_primary, error.pgerror
        assert_usable(db)
    assert execute(db, "SELECT * FROM pair('(1, \"x\")')") == [(1, "x")]


def test_int_whose_truth_raises_for_a_boolean(db):
    hostile_table(db, "v bool", "[(type('BadInt', (int,), {'__bool__': "
                                "lambda self: 1/0})(1),)]")
    error = error_of(db, "SELECT v FROM t")
    assert error.pgcode == "HV004", error.pgerror
    assert "ZeroDivisionError" in error.diag.message_primary
    assert_usable(db)


# ---------------------------------------------------------------- values over 1 GB

@pytest.mark.parametrize("column, value", [
    ("text", "'x' * (1 << 30)"),
    ("bytea", "b'x' * (1 << 30)"),
    ("varchar(10)", "'x' * (1 << 30)"),
    ("jsonb", "['x' * (1 << 30)]"),
])
def test_value_over_one_gigabyte(db, column, value):
    hostile_table(db, f"v {column}", f"[({value},)]")
    error = error_of(db, "SELECT v FROM t")
    assert error.pgcode == "54000", error.pgerror
    assert "1 GB" in (error.diag.message_detail or ""), error.pgerror
    assert_usable(db)


def _backend_rss(db) -> int:
    """Resident memory of the connection's backend, in bytes."""
    pid = execute(db, "SELECT pg_backend_pid()")[0][0]
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


@pytest.mark.parametrize("make_query", ["scan", "insert", "function", "set"])
def test_refused_large_values_are_not_kept(db, make_query):
    # A value over 1 GB that is refused is released, not leaked at each attempt.
    if make_query == "scan":
        hostile_table(db, "v jsonb", "[(['x' * (1 << 30)],)]")
        query = "SELECT v FROM t"
    elif make_query == "insert":
        hostile_table(db, "v text", returned="{'v': 'x' * (1 << 30)}")
        query = "INSERT INTO t VALUES ('a') RETURNING length(v)"
    else:
        returns = "text" if make_query == "function" else "SETOF text"
        execute(db, f"CREATE FUNCTION big(e text) RETURNS {returns} LANGUAGE sgfdw_python "
                    "AS 'pyfuncs.evaluate'")
        query = "SELECT big('[\"x\" * (1 << 30) + str(1)]')"
    assert error_of(db, query).pgcode == "54000"
    before = _backend_rss(db)
    for _ in range(2):
        assert error_of(db, query).pgcode == "54000"
    assert _backend_rss(db) - before < (1 << 29)


# ---------------------------------------------------------------- EXPLAIN formats

def test_explain_json_keeps_every_line(db):
    hostile_table(db, "id int", explain="['first line', 'second line', 'third line']")
    plan = execute(db, "EXPLAIN (FORMAT JSON, COSTS OFF) SELECT * FROM t")[0][0]
    raw = json.dumps(plan)
    assert json.loads(raw)[0]["Plan"]["sgfdw"] == ["first line", "second line", "third line"]
    yaml = execute(db, "EXPLAIN (FORMAT YAML, COSTS OFF) SELECT * FROM t")[0][0]
    assert yaml.count("sgfdw") == 1 and "second line" in yaml
    # TEXT stays one line per explain() line.
    lines = explain_lines(db, "SELECT * FROM t")
    assert [line.strip() for line in lines[1:]] == [
        "sgfdw: first line", "sgfdw: second line", "sgfdw: third line"]


# ---------------------------------------------------------------- settings read at start-up

@pytest.mark.parametrize("setting", ["sgfdw.python_path", "sgfdw.python"])
def test_setting_after_interpreter_start_warns(db, setting):
    db.notices.clear()
    # Before the interpreter starts in this session: taken silently.
    current = execute(db, f"SHOW {setting}")[0][0]
    execute(db, sql.SQL("SET {} = {}").format(sql.Identifier(*setting.split(".")),
                                              sql.Literal(current)))
    hostile_table(db, "id int", "[(1,)]")
    assert execute(db, "SELECT * FROM t") == [(1,)]
    assert not [n for n in db.notices if "new sessions" in n]
    # After: a warning that it applies to new sessions only (and the same value: none).
    execute(db, sql.SQL("SET {} = {}").format(sql.Identifier(*setting.split(".")),
                                              sql.Literal(current)))
    assert not [n for n in db.notices if "new sessions" in n]
    execute(db, sql.SQL("SET {} = {}").format(sql.Identifier(*setting.split(".")),
                                              sql.Literal("/elsewhere")))
    assert [n for n in db.notices if f'"{setting}" takes effect in new sessions only' in n], \
        db.notices
    assert execute(db, "SELECT * FROM t") == [(1,)]
