"""A test FDW that serves a fixed data set and records every call the bridge makes.

    CREATE SERVER rec FOREIGN DATA WRAPPER sgfdw OPTIONS (wrapper 'recording.RecordingFdw');
    CREATE FOREIGN TABLE people (id int, name text, age int, active bool, score float8)
        SERVER rec OPTIONS (dataset 'people');

Recording: each call is sent to the client as a NOTICE (log_to_postgres INFO; not in
the server log by default) whose text is ``RECORD_PREFIX`` followed by a JSON object
(``method``, ``instance`` = the per-backend number of the instance, and the call's
arguments). Notices travel with the query's own protocol
messages, so a test reads them from psycopg2's ``conn.notices`` in call order, also when
the query fails (see tests/fdwtest.py).

Options (all strings, as SQL gives them):
  dataset      name in datasets.DATASETS (rows are matched to the table's columns by
               name; a table column the data set lacks is NULL)
  ids          'a:b': only the data set's rows with a <= id < b (partitions)
  raw_rows     JSON list of rows yielded verbatim instead of a data set (bad-row tests)
  row_shape    'tuple' (default), 'list', 'dict', 'mapping' (a non-dict Mapping)
  rows         get_rel_size() row estimate (default: the number of rows); the width is
               8 + 16 * the number of needed columns
  startup_cost the instance's _startup_cost (default: the base class's)
  can_sort     'true' (accept every sort key), 'false' (default), N (accept the first N),
               or a comma list of column names (accept the prefix of keys on those)
  can_limit    'true' / 'false' (default)
  enforce      'true': defines enforces_quals() (True when every operator is one this FDW
               evaluates) and applies quals, sort, limit and offset itself
  filter       'true': applies the quals without claiming so
  path_keys    JSON for get_path_keys(), e.g. '[[["id"], 1]]'
  fail_in      method raising an exception: __init__, get_rel_size, can_sort,
               can_limit, get_path_keys, execute, iterate (after the first row), explain,
               end_scan
  fail_message message of that exception (default 'boom in <method>')
  fail_class   builtin exception class name (default RuntimeError)
  fail_sqlstate  if set, raise sgfdw.errors.FdwError(message, sqlstate=...) instead
  fail_pgcode  if set, the exception gets this `pgcode` attribute (as psycopg2's have)
  log          JSON list of [level, message, hint, detail] sent with log_to_postgres from
               execute (level: DEBUG, INFO, WARNING, ERROR, CRITICAL)
  sleep        seconds execute() sleeps in time.sleep
  loop         'true': execute() spins in a pure Python loop (gives up after 20 s)
  socket_wait  'host:port': execute() connects there and blocks in recv() until the peer
               closes the connection
"""

from __future__ import annotations

import builtins
import json
import re
import socket
import time
from collections.abc import Mapping
from typing import Any

from multicorn import ForeignDataWrapper, Qual, SortKey
from multicorn.utils import CRITICAL, DEBUG, ERROR, INFO, WARNING, log_to_postgres
from sgfdw.errors import FdwError

from datasets import DATASETS

RECORD_PREFIX = "sgfdw-record "
GIVE_UP_AFTER = 20.0  # seconds the busy loop of a cancel test spins before failing

LEVELS = {"DEBUG": DEBUG, "INFO": INFO, "WARNING": WARNING, "ERROR": ERROR,
          "CRITICAL": CRITICAL}


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "on", "yes", "1")


def _json_value(value: Any) -> Any:
    """JSON-able form of a qual value (lists stay lists, exotic types become repr)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    return repr(value)


def describe_qual(qual: Qual) -> list:
    operator = list(qual.operator) if isinstance(qual.operator, tuple) else qual.operator
    return [qual.field_name, operator, _json_value(qual.value)]


def describe_sortkey(key: SortKey) -> list:
    return [key.attname, key.attnum, key.is_reversed, key.nulls_first, key.collate]


# ---------------------------------------------------------------- evaluating quals

def _like_regex(pattern: str) -> re.Pattern:
    """PostgreSQL LIKE pattern (backslash escapes) as a regular expression."""
    out = []
    chars = iter(pattern)
    for ch in chars:
        if ch == "\\":
            out.append(re.escape(next(chars, "\\")))
        elif ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), re.DOTALL)


def _like(value: str, pattern: str, fold: bool) -> bool:
    if fold:
        value, pattern = value.lower(), pattern.lower()
    return _like_regex(pattern).fullmatch(value) is not None


COMPARISONS = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "~~": lambda a, b: _like(a, b, False),
    "~~*": lambda a, b: _like(a, b, True),
    "!~~": lambda a, b: not _like(a, b, False),
    "!~~*": lambda a, b: not _like(a, b, True),
}


def _compare(operator: str, left: Any, right: Any) -> bool | None:
    """SQL three-valued comparison: None when either side is NULL."""
    if left is None or right is None:
        return None
    return COMPARISONS[operator](left, right)


def evaluable(qual: Qual) -> bool:
    operator = qual.operator[0] if isinstance(qual.operator, tuple) else qual.operator
    return operator in COMPARISONS


def qual_matches(qual: Qual, row: Mapping[str, Any]) -> bool:
    """Whether the row satisfies the qual (unknown operators keep the row)."""
    if not evaluable(qual):
        return True
    value = row.get(qual.field_name)
    if isinstance(qual.operator, tuple):
        operator, use_or = qual.operator
        if qual.value is None:
            return False
        results = [_compare(operator, value, item) for item in qual.value]
        if use_or:
            return any(r is True for r in results)
        return all(r is True for r in results)
    if qual.value is None:  # IS NULL / IS NOT NULL
        if qual.operator == "=":
            return value is None
        if qual.operator == "<>":
            return value is not None
    return _compare(qual.operator, value, qual.value) is True


def sort_rows(rows: list[dict], sortkeys: list[SortKey]) -> list[dict]:
    """Rows in ORDER BY order; stable passes from the last key to the first."""
    for key in reversed(sortkeys):
        nulls = [r for r in rows if r.get(key.attname) is None]
        values = sorted((r for r in rows if r.get(key.attname) is not None),
                        key=lambda r: r[key.attname], reverse=key.is_reversed)
        rows = nulls + values if key.nulls_first else values + nulls
    return rows


class RowMapping(Mapping):
    """A read-only mapping that is not a dict (exercises the general mapping path)."""

    def __init__(self, data: dict):
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


# ---------------------------------------------------------------- the FDW

class RecordingFdw(ForeignDataWrapper):
    #: instances built in this backend; each instance records its own number
    instances_built = 0

    def __init__(self, options: dict[str, str], columns: Mapping[str, Any]) -> None:
        super().__init__(options, columns)
        RecordingFdw.instances_built += 1
        self.instance = RecordingFdw.instances_built
        self.options = dict(options)
        self.column_names = list(columns)
        self.executions = 0
        self._record("__init__", options=self.options,
                     columns=[[name, col.type_name] for name, col in columns.items()])
        self._maybe_fail("__init__")

        self.enforce = _flag(options.get("enforce"))
        self.filter = self.enforce or _flag(options.get("filter"))
        if self.enforce:
            # Only FDWs defining the method may get LIMIT together with quals.
            self.enforces_quals = self._enforces_quals
        self.shape = options.get("row_shape", "tuple")
        if "raw_rows" in options:
            self.raw_rows = json.loads(options["raw_rows"])
            self.data: list[dict] = []
        else:
            self.raw_rows = None
            names, rows = DATASETS[options.get("dataset", "people")]
            names = [name for name, _ in names]
            self.data = [dict(zip(names, row)) for row in rows]
            if "ids" in options:
                low, high = (int(n) for n in options["ids"].split(":"))
                self.data = [row for row in self.data if low <= row["id"] < high]
        default_rows = len(self.raw_rows if self.raw_rows is not None else self.data)
        self.estimated_rows = int(options.get("rows", default_rows))
        self.path_keys = json.loads(options.get("path_keys", "[]"))
        if "startup_cost" in options:
            self._startup_cost = float(options["startup_cost"])

    # ---- recording and failing

    def _record(self, method: str, **fields: Any) -> None:
        entry = {"method": method, "instance": self.instance, **fields}
        log_to_postgres(RECORD_PREFIX + json.dumps(entry, default=repr), INFO)

    def _maybe_fail(self, method: str) -> None:
        if self.options.get("fail_in") != method:
            return
        message = self.options.get("fail_message", f"boom in {method}")
        if self.options.get("fail_sqlstate"):
            raise FdwError(message, sqlstate=self.options["fail_sqlstate"])
        error = getattr(builtins, self.options.get("fail_class", "RuntimeError"))(message)
        if self.options.get("fail_pgcode"):
            error.pgcode = self.options["fail_pgcode"]  # psycopg2's attribute name
        raise error

    # ---- planning

    def get_rel_size(self, quals, columns):
        self._record("get_rel_size", quals=[describe_qual(q) for q in quals],
                     columns=sorted(columns))
        self._maybe_fail("get_rel_size")
        return (self.estimated_rows, 8 + 16 * len(columns))

    def get_path_keys(self):
        self._record("get_path_keys")
        self._maybe_fail("get_path_keys")
        return [(tuple(columns), rows) for columns, rows in self.path_keys]

    def can_sort(self, sortkeys):
        self._record("can_sort", sortkeys=[describe_sortkey(k) for k in sortkeys])
        self._maybe_fail("can_sort")
        setting = self.options.get("can_sort", "false").strip().lower()
        if setting in ("true", "all"):
            return list(sortkeys)
        if setting in ("false", "none", ""):
            return []
        if setting.isdigit():
            return list(sortkeys)[: int(setting)]
        sortable = {name.strip() for name in setting.split(",")}
        accepted = []
        for key in sortkeys:
            if key.attname not in sortable:
                break
            accepted.append(key)
        return accepted

    def can_limit(self, limit, offset):
        self._record("can_limit", limit=limit, offset=offset)
        self._maybe_fail("can_limit")
        return _flag(self.options.get("can_limit"))

    def _enforces_quals(self, quals):
        self._record("enforces_quals", quals=[describe_qual(q) for q in quals])
        return all(evaluable(q) for q in quals)

    # ---- scanning

    def execute(self, quals, columns, **kwargs):
        self.executions += 1
        sortkeys = kwargs.get("sortkeys") or []
        limit = kwargs.get("limit")
        offset = kwargs.get("offset")
        self._record("execute", quals=[describe_qual(q) for q in quals],
                     columns=sorted(columns), sortkeys=[describe_sortkey(k) for k in sortkeys],
                     limit=limit, offset=offset, kwargs=sorted(kwargs), n=self.executions)
        self._maybe_fail("execute")
        self._emit_logs()
        self._block()

        if self.raw_rows is not None:
            return self._generate(self.raw_rows, raw=True)
        rows = self.data
        if self.filter:
            rows = [row for row in rows if all(qual_matches(q, row) for q in quals)]
        if sortkeys:
            rows = sort_rows(rows, sortkeys)
        if offset:
            rows = rows[offset:]
        if limit is not None:
            rows = rows[:limit]
        return self._generate(rows)

    def _shape(self, row: dict) -> Any:
        if self.shape == "dict":
            return {name: row[name] for name in self.column_names if name in row}
        if self.shape == "mapping":
            return RowMapping({name: row[name] for name in self.column_names if name in row})
        values = [row.get(name) for name in self.column_names]
        return values if self.shape == "list" else tuple(values)

    def _generate(self, rows, raw: bool = False):
        for count, row in enumerate(rows):
            if count == 1:
                self._maybe_fail("iterate")
            yield row if raw else self._shape(row)
        if len(rows) < 2:
            self._maybe_fail("iterate")

    def _emit_logs(self) -> None:
        for level, message, hint, detail in json.loads(self.options.get("log", "[]")):
            log_to_postgres(message, LEVELS[level], hint=hint, detail=detail)

    def _block(self) -> None:
        if "sleep" in self.options:
            time.sleep(float(self.options["sleep"]))
        if _flag(self.options.get("loop")):
            deadline = time.monotonic() + GIVE_UP_AFTER
            while time.monotonic() < deadline:
                pass
            raise RuntimeError("the busy loop was not interrupted")
        if self.options.get("socket_wait"):
            # Blocks in recv() (no timeout) on a connection to a peer the test runs; the
            # peer closes it if the cancel never comes, so a broken bridge fails the test
            # instead of hanging it.
            host, _, port = self.options["socket_wait"].rpartition(":")
            with socket.create_connection((host, int(port))) as sock:
                sock.settimeout(None)
                sock.recv(1)
            raise RuntimeError("the socket wait was not interrupted")

    def explain(self, quals, columns, sortkeys=None, verbose=False, limit=None, offset=None):
        self._record("explain", quals=[describe_qual(q) for q in quals],
                     columns=sorted(columns),
                     sortkeys=[describe_sortkey(k) for k in sortkeys or []],
                     verbose=verbose, limit=limit, offset=offset)
        self._maybe_fail("explain")
        lines = [f"recording dataset={self.options.get('dataset', 'people')}"]
        if sortkeys:
            lines.append("sorted by " + ", ".join(
                k.attname + (" desc" if k.is_reversed else "") for k in sortkeys))
        if limit is not None or offset is not None:
            lines.append(f"limit={limit} offset={offset}")
        if verbose:
            lines.append("columns: " + ", ".join(sorted(columns)))
        return lines

    def end_scan(self):
        self._record("end_scan")
        self._maybe_fail("end_scan")
