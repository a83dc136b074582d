"""Hostile FDWs for tests/test_bridge_hardening.py.

Each does what a careless or malicious wrapper can do to the bridge: values whose
conversion runs Python that frees the rest of the row, mappings that hand out fresh
objects, strings UTF-8 cannot hold, results whose truth test raises, a rowid_column that
changes, SQL from rollback(). The bridge must answer every one with a clean ERROR (or
the right values), never a crashed backend; these classes only make the attempts.

HostileFdw   ValuesFdw (its `rows` option: a Python expression for the rows) with the
             hostile helpers below in the namespace of every expression, and these table
             options, each a Python expression evaluated when the method is called:
               explain         explain()'s lines
               rowid_column    the rowid_column property (UPDATE/DELETE are no-ops)
               can_limit       can_limit()'s answer
               enforces_quals  enforces_quals()'s answer
               path_keys       get_path_keys()'s answer
               statement       the SQL import_schema()'s one table makes
               returned        what insert() returns (UPDATE and DELETE do nothing)
             option sql_in: comma-separated transaction methods (pre_commit, commit,
             rollback, sub_commit, sub_rollback) that run SQL through sgfdw.pg and
             report what happened as a WARNING.
"""

from __future__ import annotations

import collections
import datetime
import itertools
import threading
from typing import Any

from multicorn.utils import WARNING, log_to_postgres
from sgfdw import pg

from values import NAMESPACE as VALUES_NAMESPACE
from values import ValuesFdw


def fresh(text: str) -> str:
    """A str object nothing else refers to (no interned or cached constant)."""
    return "".join([text, ""]) + "".join(["", ""])


class ClearsContainer:
    """str() empties the list (or deque) it is in: the other items lose their last
    reference."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.container: list | None = None

    def __str__(self) -> str:
        if self.container is not None:
            self.container.clear()
        return self.text


def row_cleared_while_converted(count: int, kind: Any = list) -> list:
    """Rows kind([ClearsContainer, fresh str, fresh str]) whose first value empties the
    row (kind: list, or collections.deque for a sequence that is not a list or tuple)."""
    rows = []
    for i in range(count):
        first = ClearsContainer(f"first {i}")
        row = kind([first, fresh(f"second {i}"), fresh(f"third {i}")])
        first.container = row
        rows.append(row)
    return rows


def array_cleared_while_converted(count: int) -> list[tuple]:
    """Rows (id, [ClearsContainer, fresh str, ...]) whose first element empties its list."""
    rows = []
    for i in range(count):
        first = ClearsContainer(f"a{i}")
        array = [first] + [fresh(f"e{i}-{j}") for j in range(5)]
        first.container = array
        rows.append((i, array))
    return rows


class FreshMapping:
    """A mapping (as pyarrow's RecordBatch is one) whose __getitem__ builds a new object
    at each call: only the caller holds it."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def __getitem__(self, key: str) -> Any:
        value = self._values[key]
        return fresh(value) if isinstance(value, str) else value

    def keys(self):
        return self._values.keys()

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self):
        return iter(self._values)


def record_batch(columns: dict[str, list]) -> Any:
    """A pyarrow RecordBatch (pyarrow imported only when a test asks for one)."""
    import pyarrow

    return pyarrow.RecordBatch.from_pydict(columns)


class BadBool:
    """Its truth cannot be told."""

    def __bool__(self) -> bool:
        raise ValueError("no truth in me")


class NoOffset(datetime.tzinfo):
    """A time zone that does not know its offset: Python calls such datetimes naive."""

    def utcoffset(self, dt: Any) -> None:
        return None

    def dst(self, dt: Any) -> None:
        return None

    def tzname(self, dt: Any) -> str:
        return "nowhere"


def changing(*values: Any) -> Any:
    """values[0] at the first call of the expression in this backend, then values[1], ...
    (the last one again once all were given)."""
    key = values
    counter = _CALLS.setdefault(key, itertools.count())
    return values[min(next(counter), len(values) - 1)]


_CALLS: dict[tuple, Any] = {}


def in_thread(function: Any) -> str:
    """What calling function() in another thread gives: its result or exception type."""
    outcome: list[str] = []

    def target() -> None:
        try:
            outcome.append(repr(function()))
        except Exception as exc:  # the outcome is what the test checks
            outcome.append(type(exc).__name__)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    return outcome[0]


NAMESPACE: dict[str, Any] = {
    **VALUES_NAMESPACE,
    "fresh": fresh,
    "row_cleared_while_converted": row_cleared_while_converted,
    "array_cleared_while_converted": array_cleared_while_converted,
    "FreshMapping": FreshMapping,
    "deque": collections.deque,
    "record_batch": record_batch,
    "BadBool": BadBool,
    "NoOffset": NoOffset,
    "changing": changing,
    "in_thread": in_thread,
}


class HostileFdw(ValuesFdw):
    """ValuesFdw whose methods answer with the Python expressions of its options."""

    def __init__(self, options: dict[str, str], columns: Any) -> None:
        super().__init__(options, columns)
        self.options = options

    def _answer(self, option: str, default: Any = None) -> Any:
        expression = self.options.get(option)
        if expression is None:
            return default
        return eval(expression, dict(NAMESPACE))  # noqa: S307 (test code)

    def execute(self, quals: list, columns: set, **kwargs: Any):
        yield from eval(self.rows_expression, dict(NAMESPACE))  # noqa: S307 (test code)

    def explain(self, quals: list, columns: set, **kwargs: Any) -> Any:
        return self._answer("explain", [])

    @property
    def rowid_column(self) -> Any:
        return self._answer("rowid_column", "id")

    def can_limit(self, limit: Any, offset: Any) -> Any:
        return self._answer("can_limit", False)

    def enforces_quals(self, quals: list) -> Any:
        return self._answer("enforces_quals", False)

    def get_path_keys(self) -> Any:
        return self._answer("path_keys", [])

    def insert(self, values: dict) -> Any:
        return self._answer("returned")

    def update(self, rowid: Any, new_values: dict) -> None:
        return None

    def delete(self, rowid: Any) -> None:
        return None

    def _sql_in(self, method: str) -> None:
        if method not in self.options.get("sql_in", "").split(","):
            return
        try:
            pg.execute("SELECT 1")
            outcome = "ran"
        except Exception as exc:  # reported for the test to read
            outcome = f"{type(exc).__name__} {getattr(exc, 'sqlstate', None)}"
        log_to_postgres(f"{method}: SQL {outcome}", WARNING)

    def pre_commit(self) -> None:
        self._sql_in("pre_commit")

    def commit(self) -> None:
        self._sql_in("commit")

    def rollback(self) -> None:
        self._sql_in("rollback")

    def sub_commit(self, level: int) -> None:
        self._sql_in("sub_commit")

    def sub_rollback(self, level: int) -> None:
        self._sql_in("sub_rollback")

    @classmethod
    def import_schema(cls, schema: str, srv_options: dict, options: dict,
                      restriction_type: Any, restricts: list) -> list:
        return [Statement(eval(options["statement"], dict(NAMESPACE)))]  # noqa: S307


class Statement:
    """A table definition making given SQL (TableDefinition checks what it makes)."""

    def __init__(self, sql: str) -> None:
        self.sql = sql

    def to_statement(self, schema_name: str, server_name: str) -> str:
        return self.sql
