"""One set of rules for a row from Python (src/row.c), wherever it comes from.

The same Python objects, as a scan's row (execute()), a function's composite result
(LANGUAGE sgfdw_python) and the row insert() returns for RETURNING, give the same
columns: sequences by position, mappings by name through their own lookup, and the
same errors (an FDW's SQLSTATE for an FDW, 42804 for a function). A mapping's missing
key leaves the column as the caller set it: NULL for a scan or a function, the value
sent for RETURNING.
"""

from __future__ import annotations

import psycopg2
import pytest

from fdwtest import assert_usable, create_foreign_table, create_server, execute

COLUMNS = [("id", "int"), ("v", "text")]

# Expressions evaluated in the test FDW's and the test function's namespaces alike.
DEQUE = "__import__('collections').deque([1, 'a'])"
MAPPING_CLASS = ("type('M', (), {'__getitem__': lambda self, k: {'id': 1, 'v': 'a'}[k],"
                 " '__len__': lambda self: 2})()")
DICT_WITH_MISSING = "type('D', (dict,), {'__missing__': lambda self, k: 'default'})(id=1)"


def from_scan(db, expression: str) -> list[tuple]:
    create_foreign_table(db, "t", server="hostile", columns=COLUMNS,
                         rows=f"[{expression}]")
    return execute(db, "SELECT id, v FROM t")


def from_function(db, expression: str) -> list[tuple]:
    return execute(db, "SELECT * FROM pair(%s)", (expression,))


def from_returning(db, expression: str) -> list[tuple]:
    create_foreign_table(db, "t", server="hostile", columns=COLUMNS, rows="[]",
                         returned=expression)
    return execute(db, "INSERT INTO t VALUES (1, 'sent') RETURNING id, v")


SOURCES = {"scan": from_scan, "function": from_function, "returning": from_returning}


@pytest.fixture
def rows_db(db):
    create_server(db, "hostile", "hostile.HostileFdw")
    execute(db, "CREATE TYPE pr AS (id int, v text)")
    execute(db, "CREATE FUNCTION pair(e text) RETURNS pr "
                "LANGUAGE sgfdw_python AS 'pyfuncs.evaluate'")
    return db


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("expression, expected", [
    ("(1, 'a')", (1, "a")),
    ("[1, 'a']", (1, "a")),
    (DEQUE, (1, "a")),  # a sequence neither tuple nor list
    ("{'id': 1, 'v': 'a'}", (1, "a")),
    (MAPPING_CLASS, (1, "a")),  # a mapping that is no dict
    (DICT_WITH_MISSING, (1, "default")),  # a dict subclass's own lookup
    ("{'id': 1, 'v': None}", (1, None)),
])
def test_same_row_same_columns(rows_db, source, expression, expected):
    assert SOURCES[source](rows_db, expression) == [expected]


@pytest.mark.parametrize("source, expected", [
    ("scan", (1, None)), ("function", (1, None)), ("returning", (1, "sent"))])
def test_missing_key(rows_db, source, expected):
    assert SOURCES[source](rows_db, "{'id': 1}") == [expected]


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("expression, fdw_sqlstate, message", [
    ("(1,)", "HV021", "a row of 1 values, expected 2 values"),
    ("5", "HV004", "Python type int"),  # insert() returning it was ignored before
])
def test_bad_row(rows_db, source, expression, fdw_sqlstate, message):
    with pytest.raises(psycopg2.Error) as raised:
        SOURCES[source](rows_db, expression)
    error = raised.value
    assert error.pgcode == ("42804" if source == "function" else fdw_sqlstate), error.pgerror
    assert message in error.diag.message_primary
    assert_usable(rows_db)


def test_returning_none_keeps_the_row_as_sent(rows_db):
    assert from_returning(rows_db, "None") == [(1, "sent")]
