"""FDWs for tests/test_ctid.py: the bridge's opt-in row identity (provides_ctid).

    CREATE SERVER ctid FOREIGN DATA WRAPPER sgfdw OPTIONS (wrapper 'ctidfdw.CtidFdw');
    CREATE FOREIGN TABLE c (id int, v text) SERVER ctid OPTIONS (store 'c');

Rows live in this backend's module-level STORES[store]: {(block, offset): row dict},
seeded with (1, 'a'), (2, 'b'), (3, 'c') at (0,1), (0,2), (0,3). As in a heap, an
update moves the row to the next free offset. Each execute() sends a NOTICE
``ctidfdw execute <json>`` with the columns (sorted) and quals ([field, operator,
value]) it got.

Classes:
  CtidFdw    provides_ctid = True, rowid_column 'ctid'; options:
               shape        rows as 'tuple' (default: the ctid after the columns),
                            'dict' (key 'ctid') or 'text' (tuple, ctid as '(b,o)')
               bad_ctid     JSON: every row's ctid is this value instead
               insert_ctid  'false': insert() returns the row without its ctid
               omit_ctid    'true': rows never carry the ctid, even when asked for
  NoCtidFdw  the same rows, no provides_ctid; rowid_column is the option rowid
             (default 'id').
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from multicorn import ColumnDefinition, ForeignDataWrapper, Qual
from multicorn.utils import INFO, log_to_postgres

STORES: dict[str, dict[tuple[int, int], dict[str, Any]]] = {}
_SEED = [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}, {"id": 3, "v": "c"}]


def _tid(text: str) -> tuple[int, int]:
    block, offset = text.strip("()").split(",")
    return int(block), int(offset)


class CtidFdw(ForeignDataWrapper):
    provides_ctid = True

    def __init__(self, options: dict[str, str], columns: Mapping[str, ColumnDefinition]):
        super().__init__(options, columns)
        self.options = dict(options)
        self.column_names = list(columns)
        self.rows = STORES.setdefault(
            options.get("store", "default"),
            {(0, n): dict(row) for n, row in enumerate(_SEED, 1)})

    @property
    def rowid_column(self) -> str:
        return self.options.get("rowid", "ctid")

    def _ctid(self, tid: tuple[int, int]) -> Any:
        if "bad_ctid" in self.options:
            return json.loads(self.options["bad_ctid"])
        if self.options.get("shape") in ("dict", "text"):
            return f"({tid[0]},{tid[1]})"
        return tid

    def execute(self, quals: list[Qual], columns: Collection[str]):
        log_to_postgres("ctidfdw execute " + json.dumps({
            "columns": sorted(columns),
            "quals": [[q.field_name, str(q.operator), q.value] for q in quals]}), INFO)
        # The ctid only when asked for: a row by position then has one more item.
        with_ctid = "ctid" in columns and self.options.get("omit_ctid") != "true"
        for tid, row in sorted(self.rows.items()):
            ctid = (self._ctid(tid),) if with_ctid else ()
            if self.options.get("shape") == "dict":
                yield {**row, **{"ctid": value for value in ctid}}
            else:
                yield tuple(row.get(c) for c in self.column_names) + ctid

    def _store(self, row: dict[str, Any]) -> dict[str, Any]:
        tid = (0, max((offset for _, offset in self.rows), default=0) + 1)
        self.rows[tid] = row
        if self.options.get("insert_ctid") == "false":
            return dict(row)
        return {**row, "ctid": f"({tid[0]},{tid[1]})"}

    def insert(self, values: dict[str, Any]) -> dict[str, Any]:
        return self._store(dict(values))

    def update(self, rowid: Any, values: dict[str, Any]) -> dict[str, Any]:
        log_to_postgres(f"ctidfdw update {rowid!r}", INFO)
        del self.rows[_tid(rowid)]
        return self._store(dict(values))

    def delete(self, rowid: Any) -> None:
        log_to_postgres(f"ctidfdw delete {rowid!r}", INFO)
        del self.rows[_tid(rowid)]


class NoCtidFdw(CtidFdw):
    provides_ctid = False

    @property
    def rowid_column(self) -> str:
        return self.options.get("rowid", "id")

    def execute(self, quals: list[Qual], columns: Collection[str]):
        for _, row in sorted(self.rows.items()):
            yield tuple(row.get(c) for c in self.column_names)

    def update(self, rowid: Any, values: dict[str, Any]) -> dict[str, Any]:
        (tid,) = [tid for tid, row in self.rows.items() if row["id"] == rowid]
        self.rows[tid] = dict(values)
        return dict(values)

    def delete(self, rowid: Any) -> None:
        (tid,) = [tid for tid, row in self.rows.items() if row["id"] == rowid]
        del self.rows[tid]
