"""FDWs for tests/test_maintenance.py: the bridge's optional write and maintenance
methods -- INSERT ... ON CONFLICT (on_conflict_actions), TRUNCATE (truncate) and
ANALYZE (analyze_sample).

    CREATE SERVER k FOREIGN DATA WRAPPER sgfdw OPTIONS (wrapper 'keyed.KeyedFdw');
    CREATE FOREIGN TABLE k (id int, v text) SERVER k OPTIONS (store 'k');

Rows live in this backend's module-level STORES[store]: {id: row dict}, in insertion
order. A second row with a known id is a unique violation (23505), or skipped under
on_conflict 'nothing'. Every call of a method named here sends a NOTICE ``keyed <json>``.

Classes:
  KeyedFdw   on_conflict_actions ('nothing',); modify_batch_size from the option
             batch_size (default 1); truncate() empties the stores of its tables
             (records the call: tables' names and stores, restart_identity, cascade;
             the option truncate_error makes it raise that message instead);
             analyze_sample() gives every row (by name with the option shape 'dict',
             else by position) and, with the option total, that row count; the option
             bad_sample gives a malformed answer of that kind
  PlainFdw   the same rows, none of the optional methods
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from multicorn import ColumnDefinition, ForeignDataWrapper, Qual
from multicorn.utils import INFO, log_to_postgres

from sgfdw.errors import FdwError

STORES: dict[str, dict[Any, dict[str, Any]]] = {}


def record(method: str, **arguments: Any) -> None:
    log_to_postgres("keyed " + json.dumps({"method": method, **arguments}, default=str), INFO)


class PlainFdw(ForeignDataWrapper):
    def __init__(self, options: dict[str, str], columns: Mapping[str, ColumnDefinition]):
        super().__init__(options, columns)
        self.options = dict(options)
        self.column_names = list(columns)
        self.rows = STORES.setdefault(options.get("store", "default"), {})

    @property
    def rowid_column(self) -> str:
        return "id"

    @property
    def modify_batch_size(self) -> int:
        return int(self.options.get("batch_size", "1"))

    def execute(self, quals: list[Qual], columns: Collection[str]):
        for row in list(self.rows.values()):
            yield dict(row)

    def _add(self, values: dict[str, Any], on_conflict: str | None) -> dict[str, Any] | None:
        if values["id"] in self.rows:
            if on_conflict == "nothing":
                return None
            raise FdwError(f"duplicate id {values['id']}", sqlstate="23505")
        self.rows[values["id"]] = dict(values)
        return dict(values)

    def insert(self, values: dict[str, Any]) -> dict[str, Any] | None:
        return self._add(values, None)

    def update(self, rowid: Any, values: dict[str, Any]) -> dict[str, Any]:
        del self.rows[rowid]
        self.rows[values["id"]] = dict(values)
        return dict(values)

    def delete(self, rowid: Any) -> None:
        del self.rows[rowid]


class KeyedFdw(PlainFdw):
    on_conflict_actions = ("nothing",)

    def insert(self, values: dict[str, Any],
               on_conflict: str | None = None) -> dict[str, Any] | None:
        record("insert", id=values["id"], on_conflict=on_conflict)
        return self._add(values, on_conflict)

    def bulk_insert(self, all_values: list[dict[str, Any]],
                    on_conflict: str | None = None) -> list[Any]:
        record("bulk_insert", ids=[v["id"] for v in all_values], on_conflict=on_conflict)
        added = [self._add(values, on_conflict) for values in all_values]
        return [row for row in added if row is not None] if on_conflict else added

    def truncate(self, tables: list[tuple[str, "KeyedFdw"]], restart_identity: bool,
                 cascade: bool) -> None:
        record("truncate", tables=[[name, table.options["store"]] for name, table in tables],
               restart_identity=restart_identity, cascade=cascade, called_on=self.options["store"])
        for _, table in tables:
            if "truncate_error" in table.options:
                raise FdwError(table.options["truncate_error"], sqlstate="55000")
        for _, table in tables:
            table.rows.clear()

    def analyze_sample(self, sample_size: int) -> Any:
        record("analyze_sample", sample_size=sample_size)
        bad = self.options.get("bad_sample")
        if bad == "not_a_pair":
            return [(1, "a")]
        if bad == "short_row":
            return [(1,)], None
        if bad == "bad_total":
            return [], "many"
        if bad == "bad_value":
            return [("x", "a")], None
        rows = list(self.rows.values())
        if self.options.get("shape") == "dict":
            sample: list[Any] = [dict(row) for row in rows]
        else:
            sample = [(row["id"], row["v"]) for row in rows]
        total = self.options.get("total")
        return sample, (float(total) if total is not None else None)
