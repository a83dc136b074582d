"""Helpers for the write and transaction tests with the in-memory FDWs of
tests/fdws/memory.py.

- `setup_memory(db)`: servers `mem` (MemoryFdw), `mem_ro` (ReadOnlyMemoryFdw),
  `mem_ins` (InsertOnlyMemoryFdw) and the foreign tables `hooklog` / `hooklog_clear`;
- `memory_table(db, name, columns, server=..., **options)`: a foreign table whose store
  is named after it (unless `store` is given);
- `Hooks(db)`: the calls the memory FDWs logged in this backend since the last clear.

Every scenario runs on the one connection `db`: the stores and the log live in the
memory of its backend.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

from psycopg2 import sql

from fdwtest import assert_usable, error_of, execute, options_clause  # noqa: F401 (re-exported)

EVAL_NAMESPACE = {"datetime": datetime, "Decimal": decimal.Decimal, "UUID": uuid.UUID,
                  "nan": float("nan"), "inf": float("inf")}


def setup_memory(db) -> "Hooks":
    for server, wrapper in [("mem", "memory.MemoryFdw"),
                            ("mem_ro", "memory.ReadOnlyMemoryFdw"),
                            ("mem_ins", "memory.InsertOnlyMemoryFdw"),
                            ("hooks", "memory.HookLogFdw")]:
        execute(db, sql.SQL("CREATE SERVER {} FOREIGN DATA WRAPPER sgfdw {}").format(
            sql.Identifier(server), options_clause({"wrapper": wrapper})))
    execute(db, "CREATE FOREIGN TABLE hooklog (seq int8, store text, call text, args text)"
                " SERVER hooks")
    execute(db, "CREATE FOREIGN TABLE hooklog_clear (seq int8) SERVER hooks"
                " OPTIONS (action 'clear')")
    hooks = Hooks(db)
    hooks.clear()
    return hooks


def memory_table(db, name: str, columns: str = "id int, v text", server: str = "mem",
                 **options: Any) -> None:
    options.setdefault("store", name)
    execute(db, sql.SQL("CREATE FOREIGN TABLE {} (" + columns + ") SERVER {} {}").format(
        sql.Identifier(name), sql.Identifier(server), options_clause(options)))


def rows_of(db, table: str, columns: str = "*", order: str = "id") -> list[tuple]:
    return execute(db, sql.SQL("SELECT " + columns + " FROM {} ORDER BY " + order).format(
        sql.Identifier(table)))


class Hooks:
    """The memory FDWs' calls, read back through the foreign table `hooklog`.

    Reading does not itself add entries (HookLogFdw logs nothing), so `calls()` can be
    used inside a transaction block too (not in an aborted one).
    """

    def __init__(self, db):
        self.db = db

    def clear(self) -> None:
        execute(self.db, "SELECT count(*) FROM hooklog_clear")

    def entries(self, store: str | None = None) -> list[tuple[str, str, str]]:
        rows = execute(self.db, "SELECT store, call, args FROM hooklog ORDER BY seq")
        return [row for row in rows if store is None or row[0] == store]

    def calls(self, store: str, scans: bool = True) -> list[str]:
        """The calls made on the tables of `store`, in order ('execute' left out when
        scans=False)."""
        return [call for _, call, _ in self.entries(store) if scans or call != "execute"]

    def args(self, store: str, call: str) -> list[Any]:
        """The arguments (as Python objects) of each call named `call` on `store`."""
        return [eval(args, dict(EVAL_NAMESPACE))
                for _, name, args in self.entries(store) if name == call]

    def take(self, store: str, scans: bool = True) -> list[str]:
        """calls(store), then clear the whole log."""
        calls = self.calls(store, scans)
        self.clear()
        return calls


def typed(value: Any) -> Any:
    """value with the exact type of every part made visible, for strict comparisons
    (1 vs True vs 1.0, Decimal('1.50') vs Decimal('1.5'), naive vs aware datetimes)."""
    if isinstance(value, dict):
        return ("dict", {k: typed(v) for k, v in value.items()})
    if isinstance(value, memoryview):  # psycopg2's bytea
        return ("bytes", repr(bytes(value)))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [typed(v) for v in value])
    return (type(value).__name__, repr(value))
