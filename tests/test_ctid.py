"""The bridge's opt-in row identity, with the FDWs of tests/fdws/ctidfdw.py: an FDW
that sets provides_ctid gets 'ctid' in the columns of a scan that reads it, yields each
row's ctid (after the columns, under the key 'ctid', as a pair or as text), sees quals
on ctid, identifies rows by it for UPDATE/DELETE (rowid_column 'ctid') and returns it
for RETURNING. For any other FDW a statement reading a foreign table's ctid is refused
(0A000) instead of showing (4294967295,0) for every row."""

from __future__ import annotations

import collections
import json

import pytest

from fdwtest import assert_usable, error_of, execute, store_table


def ctid_table(db, name: str, wrapper: str = "ctidfdw.CtidFdw", **options: str) -> None:
    store_table(db, name, wrapper, **options)


def scans(db, query: str, params=None) -> tuple[list[tuple], list[dict]]:
    """The rows of `query` and what each execute() got (columns, quals)."""
    db.notices = collections.deque()
    rows = execute(db, query, params)
    calls = [json.loads(n.split("ctidfdw execute ", 1)[1]) for n in db.notices
             if "ctidfdw execute " in n]
    return rows, calls


@pytest.mark.parametrize("shape", ["tuple", "dict", "text"])
def test_ctid_from_the_rows(db, shape):
    ctid_table(db, "c", shape=shape)
    rows, calls = scans(db, "SELECT ctid, id FROM c ORDER BY id")
    assert rows == [("(0,1)", 1), ("(0,2)", 2), ("(0,3)", 3)]
    assert calls == [{"columns": ["ctid", "id"], "quals": []}]
    rows, calls = scans(db, "SELECT ctid FROM c ORDER BY ctid DESC")
    assert rows == [("(0,3)",), ("(0,2)",), ("(0,1)",)]
    assert calls[0]["columns"] == ["ctid"]
    # Only a query that reads ctid asks for it.
    rows, calls = scans(db, "SELECT v FROM c WHERE id = 2")
    assert rows == [("b",)] and calls[0]["columns"] == ["id", "v"]


def test_quals_on_ctid(db):
    ctid_table(db, "c")
    rows, calls = scans(db, "SELECT id FROM c WHERE ctid = '(0,2)'")
    assert rows == [(2,)]
    assert calls == [{"columns": ["ctid", "id"], "quals": [["ctid", "=", "(0,2)"]]}]
    # A parameter (an initplan's value) reaches the FDW with its value.
    rows, calls = scans(db, "SELECT id FROM c WHERE ctid = (SELECT ctid FROM c WHERE id = 3)")
    assert rows == [(3,)]
    assert ["ctid", "=", "(0,3)"] in calls[-1]["quals"]
    # PostgreSQL still checks: a qual the FDW ignores filters nothing wrongly.
    assert execute(db, "SELECT id FROM c WHERE ctid > '(0,1)' ORDER BY id") == [(2,), (3,)]
    assert execute(db, "SELECT count(*) FROM c WHERE ctid = '(5,1)'") == [(0,)]


@pytest.mark.parametrize("value, sqlstate, message", [
    ("null", "22004", "no ctid"),
    ('"garbage"', "22P02", "tid"),
    ("[1]", "HV004", "(block, offset) pair"),
    ("[1, 70000]", "22003", "offset"),
    ("[-1, 1]", "22003", "block"),
    ("1.5", "HV004", "Python type float"),
])
def test_bad_ctid_values(db, value, sqlstate, message):
    ctid_table(db, "c", bad_ctid=value)
    exc = error_of(db, "SELECT ctid FROM c")
    assert exc.pgcode == sqlstate and message in str(exc), exc
    assert_usable(db)
    # A query that does not read ctid never looks at it.
    assert execute(db, "SELECT count(*) FROM c") == [(3,)]


@pytest.mark.parametrize("shape", ["tuple", "dict"])
def test_row_without_its_ctid(db, shape):
    ctid_table(db, "c", shape=shape, omit_ctid="true")
    exc = error_of(db, "SELECT ctid, id FROM c")
    if shape == "tuple":
        assert exc.pgcode == "HV021" and "and the row's ctid" in str(exc), exc
    else:
        assert exc.pgcode == "22004" and "no ctid" in str(exc), exc
    assert_usable(db)


def test_update_and_delete_by_ctid(db):
    ctid_table(db, "c")
    db.notices = collections.deque()
    rows = execute(db, "UPDATE c SET v = 'x' WHERE id = 2 RETURNING ctid, id, v")
    assert rows == [("(0,4)", 2, "x")]  # the row moved, as in a heap
    assert "ctidfdw update '(0,2)'" in "".join(db.notices)
    rows = execute(db, "DELETE FROM c WHERE ctid = '(0,4)' RETURNING ctid, id, v")
    assert rows == [("(0,4)", 2, "x")]
    assert execute(db, "DELETE FROM c WHERE ctid = '(0,2)' RETURNING id") == []
    assert execute(db, "SELECT ctid, id, v FROM c ORDER BY id") == [
        ("(0,1)", 1, "a"), ("(0,3)", 3, "c")]


def test_insert_returning_ctid(db):
    ctid_table(db, "c")
    assert execute(db, "INSERT INTO c VALUES (9, 'z') RETURNING ctid, id") == [("(0,4)", 9)]
    ctid_table(db, "d", insert_ctid="false")
    exc = error_of(db, "INSERT INTO d VALUES (9, 'z') RETURNING ctid")
    assert exc.pgcode == "0A000" and "returned no ctid" in str(exc)
    assert_usable(db)
    assert execute(db, "INSERT INTO d VALUES (10, 'y') RETURNING id") == [(10,)]


@pytest.mark.parametrize("query", [
    "SELECT ctid, id FROM n",
    "SELECT id FROM n WHERE ctid = '(0,1)'",
    "SELECT id FROM n WHERE ctid = (SELECT ctid FROM n WHERE id = 2)",
    "INSERT INTO n VALUES (7, 'q') RETURNING ctid",
    "UPDATE n SET v = 'q' WHERE id = 1 RETURNING ctid",
    "DELETE FROM n WHERE id = 1 RETURNING ctid",
])
def test_fdw_without_ctid_refuses(db, query):
    ctid_table(db, "n", wrapper="ctidfdw.NoCtidFdw")
    exc = error_of(db, query)
    assert exc.pgcode == "0A000"
    assert 'foreign table "n" does not provide ctid' in str(exc)
    assert_usable(db)
    # Nothing was written, and the table works without ctid.
    assert execute(db, "SELECT id, v FROM n ORDER BY id") == [(1, "a"), (2, "b"), (3, "c")]
    assert execute(db, "UPDATE n SET v = 'x' WHERE id = 1 RETURNING id, v") == [(1, "x")]


def test_rowid_column_ctid_needs_provides_ctid(db):
    ctid_table(db, "n", wrapper="ctidfdw.NoCtidFdw", rowid="ctid")
    exc = error_of(db, "DELETE FROM n WHERE id = 1")
    assert exc.pgcode == "0A000" and "does not provide ctid" in str(exc)
    assert_usable(db)
