"""Write FDWs that keep their rows in this backend's memory, for tests/test_write.py and
tests/test_transactions.py.

    CREATE SERVER mem FOREIGN DATA WRAPPER sgfdw OPTIONS (wrapper 'memory.MemoryFdw');
    CREATE FOREIGN TABLE t (id int, v text) SERVER mem OPTIONS (store 't');
    CREATE SERVER hooks FOREIGN DATA WRAPPER sgfdw OPTIONS (wrapper 'memory.HookLogFdw');
    CREATE FOREIGN TABLE hooklog (seq int8, store text, call text, args text) SERVER hooks;

Rows live in the module-level STORES[store] (a dict rowid -> row dict), so they persist
across queries and transactions of one backend -- and only of that backend: a test
scenario must use one connection. Two foreign tables with the same `store` option share
their rows (e.g. one that fails its pre_commit and one to look at the data with).

Transactions are real: begin() and each sub_begin(level) keep a copy of the store, and
rollback() / sub_rollback(level) put that copy back, so rolled-back writes disappear.

Every call the bridge makes (writes, end_modify, transaction hooks, execute) is appended
to the module-level LOG as (seq, store, call, args): `call` is e.g. 'insert',
'bulk_insert(3)', 'begin(False)', 'sub_rollback(2)'; `args` is repr() of the call's
arguments as the FDW got them (e.g. the values dict of insert), so a test running the
same Python version can eval() it and compare exact Python objects.

Classes:
  MemoryFdw          insert / update / delete / bulk_insert; options:
                       store            name of the row store (default 'default')
                       rowid            the rowid_column (default 'id')
                       batch_size       modify_batch_size (default 1)
                       return_rows      'false': insert/update return None instead of
                                        the stored row (default 'true')
                       fail_value       insert/update/bulk_insert raise RuntimeError for
                                        a row having a value whose str() equals this
                       fail_sqlstate    with fail_value: raise FdwError with this SQLSTATE
                       fail_pre_commit  'true': pre_commit() raises
                       set_columns_only 'true': update_set_columns_only (update() gets
                                        the set columns; the others keep their values)
                     A NULL rowid on insert gets a generated key (1, 2, ... never reused,
                     like a sequence); a duplicate rowid raises (SQLSTATE 23505).
  ReadOnlyMemoryFdw  only scans a store (no insert/update/delete, no rowid_column).
  InsertOnlyMemoryFdw  insert only, no rowid_column.
  HookLogFdw         serves LOG as rows (seq, store, call, args); with the option
                     action 'clear' a scan empties LOG and yields no row. Its own
                     calls are not logged.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from multicorn import ColumnDefinition, ForeignDataWrapper, Qual
from sgfdw.errors import FdwError

STORES: dict[str, dict[Any, dict[str, Any]]] = {}
NEXT_KEY: dict[str, int] = {}
LOG: list[tuple[int, str, str, str]] = []
_SEQ = itertools.count(1)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "on", "yes", "1")


def log(store: str, call: str, args: Any = ()) -> None:
    LOG.append((next(_SEQ), store, call, repr(args)))


class _MemoryBase(ForeignDataWrapper):
    """Scans a store; logs and implements the transaction hooks (snapshots)."""

    def __init__(self, options: dict[str, str], columns: Mapping[str, ColumnDefinition]):
        super().__init__(options, columns)
        self.store = options.get("store", "default")
        self.rows = STORES.setdefault(self.store, {})
        NEXT_KEY.setdefault(self.store, 1)
        self.column_names = list(columns)
        self.fail_pre_commit = _flag(options.get("fail_pre_commit"))
        # (level, copy of the rows at its start); level 1 = the transaction
        self.snapshots: list[tuple[int, dict[Any, dict[str, Any]]]] = []

    def log(self, call: str, args: Any = ()) -> None:
        log(self.store, call, args)

    # ---- scan

    def execute(self, quals: list[Qual], columns: Collection[str], **kwargs: Any
                ) -> Iterator[dict[str, Any]]:
        self.log("execute", sorted(columns))
        # A copy: a write during the scan (UPDATE changing the rowid) must not change
        # what this scan iterates over.
        for row in list(self.rows.values()):
            yield dict(row)

    # ---- transactions

    def _restore(self, snapshot: dict[Any, dict[str, Any]]) -> None:
        self.rows.clear()
        self.rows.update(copy.deepcopy(snapshot))

    def begin(self, serializable: bool) -> None:
        self.log(f"begin({serializable!r})", (serializable,))
        self.snapshots = [(1, copy.deepcopy(self.rows))]

    def sub_begin(self, level: int) -> None:
        self.log(f"sub_begin({level!r})", (level,))
        self.snapshots.append((level, copy.deepcopy(self.rows)))

    def sub_commit(self, level: int) -> None:
        self.log(f"sub_commit({level!r})", (level,))
        # The subtransaction's changes now belong to its parent.
        self.snapshots = [(lvl, snap) for lvl, snap in self.snapshots if lvl < level]

    def sub_rollback(self, level: int) -> None:
        self.log(f"sub_rollback({level!r})", (level,))
        for lvl, snap in self.snapshots:
            if lvl == level:
                self._restore(snap)
                break
        self.snapshots = [(lvl, snap) for lvl, snap in self.snapshots if lvl < level]

    def pre_commit(self) -> None:
        self.log("pre_commit")
        if self.fail_pre_commit:
            raise FdwError(f"memory store {self.store!r} refuses to commit",
                           hint="The table has the option fail_pre_commit.")

    def commit(self) -> None:
        self.log("commit")
        self.snapshots = []

    def rollback(self) -> None:
        self.log("rollback")
        if self.snapshots:
            self._restore(self.snapshots[0][1])
        self.snapshots = []


class _Inserting(_MemoryBase):
    """Inserting rows (one or in batches), with failures on demand."""

    def __init__(self, options: dict[str, str], columns: Mapping[str, ColumnDefinition]):
        super().__init__(options, columns)
        self.fail_value = options.get("fail_value")
        self.fail_sqlstate = options.get("fail_sqlstate")
        self.return_rows = _flag(options.get("return_rows", "true"))

    def check_values(self, values: Mapping[str, Any]) -> None:
        if self.fail_value is None:
            return
        for name, value in values.items():
            if value is not None and str(value) == self.fail_value:
                message = f"memory store {self.store!r} refuses {name} = {value!r}"
                if self.fail_sqlstate:
                    raise FdwError(message, sqlstate=self.fail_sqlstate)
                raise RuntimeError(message)

    def new_key(self) -> int:
        key = NEXT_KEY[self.store]
        while key in self.rows:
            key += 1
        NEXT_KEY[self.store] = key + 1
        return key

    def key_of(self, values: Mapping[str, Any]) -> Any:
        return self.new_key()

    def store_row(self, values: Mapping[str, Any]) -> dict[str, Any]:
        self.check_values(values)
        row = {name: copy.deepcopy(values.get(name)) for name in self.column_names}
        key = self.key_of(row)
        if key in self.rows:
            raise FdwError(f"duplicate key {key!r} in memory store {self.store!r}",
                           sqlstate="23505")
        self.rows[key] = row
        return dict(row)

    def insert(self, values: dict[str, Any]) -> dict[str, Any] | None:
        self.log("insert", values)
        row = self.store_row(values)
        return row if self.return_rows else None

    def bulk_insert(self, all_values: list[dict[str, Any]]) -> list[Any]:
        self.log(f"bulk_insert({len(all_values)})", all_values)
        rows = [self.store_row(values) for values in all_values]
        return rows if self.return_rows else [None] * len(rows)

    def end_modify(self) -> None:
        self.log("end_modify")


class MemoryFdw(_Inserting):
    """A writable table in memory: rowid from the option `rowid` (default 'id')."""

    def __init__(self, options: dict[str, str], columns: Mapping[str, ColumnDefinition]):
        super().__init__(options, columns)
        self._rowid = options.get("rowid", "id")
        self._batch_size = int(options.get("batch_size", "1"))
        self.update_set_columns_only = _flag(options.get("set_columns_only"))

    @property
    def rowid_column(self) -> str:
        return self._rowid

    @property
    def modify_batch_size(self) -> int:
        return self._batch_size

    def key_of(self, values: dict[str, Any]) -> Any:
        if values.get(self._rowid) is None:
            values[self._rowid] = self.new_key()
        return values[self._rowid]

    def update(self, oldvalues: Any, newvalues: dict[str, Any]) -> dict[str, Any] | None:
        self.log("update", (oldvalues, newvalues))
        if oldvalues not in self.rows:
            raise FdwError(f"no row {oldvalues!r} in memory store {self.store!r}")
        self.check_values(newvalues)
        if self.update_set_columns_only:
            newvalues = {**self.rows[oldvalues], **newvalues}
        row = {name: copy.deepcopy(newvalues.get(name)) for name in self.column_names}
        key = row[self._rowid]
        if key is None:
            raise FdwError(f"{self._rowid} cannot be NULL", sqlstate="23502")
        if key != oldvalues and key in self.rows:
            raise FdwError(f"duplicate key {key!r} in memory store {self.store!r}",
                           sqlstate="23505")
        del self.rows[oldvalues]
        self.rows[key] = row
        return dict(row) if self.return_rows else None

    def delete(self, oldvalues: Any) -> None:
        self.log("delete", (oldvalues,))
        if oldvalues not in self.rows:
            raise FdwError(f"no row {oldvalues!r} in memory store {self.store!r}")
        del self.rows[oldvalues]


class ReadOnlyMemoryFdw(_MemoryBase):
    """Scans a store; no writable API at all."""


class InsertOnlyMemoryFdw(_Inserting):
    """INSERT only: no rowid_column, so no UPDATE or DELETE."""


class HookLogFdw(ForeignDataWrapper):
    """LOG as rows (seq, store, call, args); action 'clear' empties it instead."""

    def __init__(self, options: dict[str, str], columns: Mapping[str, ColumnDefinition]):
        super().__init__(options, columns)
        self.action = options.get("action", "read")
        self.column_names = list(columns)

    def execute(self, quals: list[Qual], columns: Collection[str], **kwargs: Any
                ) -> Iterator[tuple]:
        if self.action == "clear":
            LOG.clear()
            return iter(())
        return iter(list(LOG))
