"""Helpers for the integration tests of the bridge with the test FDWs in tests/fdws.

- `create_people(db, ...)`: the foreign table `people` (recording.RecordingFdw over the
  `people` data set, with the given options) and the local table `people_local` holding
  the same rows;
- `assert_same(db, query)`: runs a query with `{t}` on both tables and compares;
- `Recorder`: the calls the FDW recorded (notices carrying JSON);
- `plan_nodes`, `explain_lines`: EXPLAIN output.
"""

from __future__ import annotations

import collections
import importlib.util
import json
import re
from pathlib import Path
from typing import Any, Iterable

import psycopg2
from psycopg2 import sql

FDWS = Path(__file__).resolve().parent / "fdws"


def _load_datasets():
    spec = importlib.util.spec_from_file_location("fdw_datasets", FDWS / "datasets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


datasets = _load_datasets()
PEOPLE_COLUMNS = datasets.PEOPLE_COLUMNS
PEOPLE_ROWS = datasets.PEOPLE_ROWS

RECORDING = "recording.RecordingFdw"
RECORD_PREFIX = "sgfdw-record "
_RECORD_RE = re.compile(r"^[A-Z]+:  " + re.escape(RECORD_PREFIX) + r"(.*)$")


# ---------------------------------------------------------------- SQL helpers

def execute(db, query: str, params: Any = None) -> list[tuple] | None:
    with db.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall() if cur.description is not None else None


def options_sql(options: dict[str, Any]) -> sql.Composable:
    """``"name" 'value', ...``: the inside of an OPTIONS clause."""
    return sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(k), sql.Literal(str(v)))
                              for k, v in options.items())


def options_clause(options: dict[str, Any]) -> sql.Composable:
    if not options:
        return sql.SQL("")
    return sql.SQL("OPTIONS ({})").format(options_sql(options))


def create_server(db, name: str = "rec", wrapper: str = RECORDING, **options: Any) -> None:
    execute(db, sql.SQL("CREATE SERVER {} FOREIGN DATA WRAPPER sgfdw {}").format(
        sql.Identifier(name), options_clause({"wrapper": wrapper, **options})))


def store_table(db, name: str, wrapper: str, **options: Any) -> None:
    """Foreign table `name` (id int, v text) on its own server `<name>_srv` of `wrapper`,
    with the option store '<name>_<database>' (the test FDW's rows of this table in this
    backend) and `options`."""
    create_server(db, name + "_srv", wrapper)
    execute(db, sql.SQL("CREATE FOREIGN TABLE {} (id int, v text) SERVER {} {}").format(
        sql.Identifier(name), sql.Identifier(name + "_srv"),
        options_clause({"store": f"{name}_{db.info.dbname}", **options})))


def columns_sql(columns: Iterable[tuple[str, str]]) -> sql.Composable:
    return sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t))
                              for n, t in columns)


def create_foreign_table(db, name: str = "people", server: str = "rec",
                         columns: Iterable[tuple[str, str]] = PEOPLE_COLUMNS,
                         **options: Any) -> None:
    execute(db, sql.SQL("CREATE FOREIGN TABLE {} ({}) SERVER {} {}").format(
        sql.Identifier(name), columns_sql(columns), sql.Identifier(server),
        options_clause(options)))


def create_local_people(db, name: str = "people_local") -> None:
    execute(db, sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(name),
                                                       columns_sql(PEOPLE_COLUMNS)))
    with db.cursor() as cur:
        cur.executemany(sql.SQL("INSERT INTO {} VALUES (%s, %s, %s, %s, %s)").format(
            sql.Identifier(name)), PEOPLE_ROWS)
    execute(db, sql.SQL("ANALYZE {}").format(sql.Identifier(name)))


def create_people(db, name: str = "people", local: bool = True, **options: Any) -> None:
    """Server `rec` (if missing), foreign table `name` over the people data set, and
    (local=True) the local copy `people_local`."""
    if not execute(db, "SELECT 1 FROM pg_foreign_server WHERE srvname = 'rec'"):
        create_server(db)
    create_foreign_table(db, name, dataset="people", **options)
    if local and not execute(db, "SELECT 1 FROM pg_class WHERE relname = 'people_local'"):
        create_local_people(db)


def fetch_both(db, query: str, foreign: str = "people", local: str = "people_local",
               params: Any = None) -> tuple[list[tuple], list[tuple]]:
    return (execute(db, query.format(t=foreign), params),
            execute(db, query.format(t=local), params))


def assert_same(db, query: str, *, ordered: bool | None = None, foreign: str = "people",
                local: str = "people_local", params: Any = None) -> list[tuple]:
    """Run `query` (with {t} for the table) on the foreign and the local table; their
    rows must be equal (in order if the query has ORDER BY, else as multisets)."""
    got, expected = fetch_both(db, query, foreign, local, params)
    if ordered is None:
        ordered = "order by" in query.lower()
    if ordered:
        assert got == expected, f"{query}: foreign {got} != local {expected}"
    else:
        assert collections.Counter(got) == collections.Counter(expected), (
            f"{query}: foreign {sorted(map(repr, got))} != local {sorted(map(repr, expected))}")
    return got


def error_of(db, query: str, params: Any = None) -> psycopg2.Error:
    """The error a query raises (the test fails if it does not)."""
    try:
        execute(db, query, params)
    except psycopg2.Error as exc:
        return exc
    raise AssertionError(f"no error from {query!r}")


def user_servers(db) -> list[str]:
    """The foreign servers of the database other than those the extension itself
    created (they come and go with the extension, not with what a test does)."""
    return [name for (name,) in execute(
        db, "SELECT s.srvname FROM pg_foreign_server s WHERE NOT EXISTS ("
            "SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_foreign_server'::regclass "
            "AND d.objid = s.oid AND d.deptype = 'e') ORDER BY 1")]


def assert_usable(conn) -> None:
    """The session is still fine after an error. A connection with a transaction of its
    own (not autocommit) ends it first, as any client must after an error; an
    autocommit one must not have been left inside a transaction block."""
    idle = psycopg2.extensions.TRANSACTION_STATUS_IDLE
    if not conn.autocommit and conn.get_transaction_status() != idle:
        conn.rollback()
    assert execute(conn, "SELECT 1") == [(1,)]
    if conn.autocommit:
        assert conn.get_transaction_status() == idle


# ---------------------------------------------------------------- EXPLAIN

def plan_of(db, query: str, params: Any = None) -> dict:
    rows = execute(db, "EXPLAIN (FORMAT JSON, COSTS OFF) " + query, params)
    return rows[0][0][0]["Plan"]


def plan_nodes(plan: dict) -> list[dict]:
    """Every node of a JSON plan, depth first (parents before children)."""
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes.extend(plan_nodes(child))
    return nodes


def node_types(db, query: str, params: Any = None) -> list[str]:
    return [node["Node Type"] for node in plan_nodes(plan_of(db, query, params))]


def explain_lines(db, query: str, verbose: bool = False) -> list[str]:
    options = "VERBOSE, COSTS OFF" if verbose else "COSTS OFF"
    return [row[0] for row in execute(db, f"EXPLAIN ({options}) {query}")]


# ---------------------------------------------------------------- recorded calls

def _qual(entry: list) -> tuple:
    field, operator, value = entry
    return (field, tuple(operator) if isinstance(operator, list) else operator, value)


class Call(dict):
    """One recorded call: a dict with `quals` as (field, operator, value) tuples and
    `sortkeys` as (attname, attnum, is_reversed, nulls_first, collate) tuples."""

    @property
    def method(self) -> str:
        return self["method"]


class Recorder:
    """Collects the calls recording.RecordingFdw reports on a connection."""

    def __init__(self, db):
        self.db = db
        # Unbounded (psycopg2 keeps only the last 50 in a plain list).
        db.notices = collections.deque()

    def clear(self) -> None:
        self.db.notices.clear()

    def calls(self, method: str | None = None) -> list[Call]:
        found = []
        for notice in list(self.db.notices):
            match = _RECORD_RE.match(notice.strip())
            if not match:
                continue
            call = Call(json.loads(match.group(1)))
            if "quals" in call:
                call["quals"] = [_qual(q) for q in call["quals"]]
            if "sortkeys" in call:
                call["sortkeys"] = [tuple(k) for k in call["sortkeys"]]
            if method is None or call.method == method:
                found.append(call)
        return found

    def methods(self) -> list[str]:
        return [call.method for call in self.calls()]

    def other_notices(self) -> list[str]:
        return [n.strip() for n in self.db.notices if not _RECORD_RE.match(n.strip())]

    def run(self, query: str, params: Any = None) -> list[tuple] | None:
        """Clear, then run a query; its rows (the calls are in self.calls())."""
        self.clear()
        return execute(self.db, query, params)

    def executes(self) -> list[Call]:
        return self.calls("execute")

    def one_execute(self) -> Call:
        calls = self.executes()
        assert len(calls) == 1, f"expected one execute(), got {calls}"
        return calls[0]
