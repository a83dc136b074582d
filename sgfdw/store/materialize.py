"""Turning a table version back into an ordinary table (the read side of checkout).

Objects are applied in order. Rows go in through one INSERT ... SELECT FROM unnest()
per batch, each column bound as one array parameter of the type its values travel as
and cast to the column's type by the server. A patch object (one with deletes, or whose
key range overlaps what is already loaded) first deletes the keys it carries, so later
objects win by primary key; disjoint fragments of one snapshot are plain inserts. The
primary key is added after those: one index build instead of an insert into it per row.
"""
from __future__ import annotations

from typing import Any, Iterable

import pyarrow as pa

from sgfdw import pg
from sgfdw.store import files, meta
from sgfdw.store.errors import CorruptObject
from sgfdw.store.fragments import decode
from sgfdw.store.types import FLAG, TableSchema, storage_of

__all__ = ["create_table", "materialize", "add_primary_key"]

_BATCH_ROWS = 50000


def create_table(qualified_table: str, schema: TableSchema) -> None:
    columns = ", ".join(f"{pg.quote_ident(c.name)} {c.type}" for c in schema.columns)
    pg.execute(f"CREATE TABLE {qualified_table} ({columns})")


def add_primary_key(qualified_table: str, schema: TableSchema) -> None:
    if schema.primary_key:
        pg.execute(f"ALTER TABLE {qualified_table} ADD PRIMARY KEY ("
                   + ", ".join(pg.quote_ident(name) for name in schema.primary_key) + ")")


class _Writer:
    """The statements that write one table's rows, built once per table."""

    def __init__(self, qualified_table: str, schema: TableSchema) -> None:
        self.schema = schema
        self.storages = [storage_of(c) for c in schema.columns]
        everything = range(len(schema.columns))
        self.key_positions = [schema.columns.index(schema.column(name))
                              for name in schema.primary_key]
        names = ", ".join(pg.quote_ident(c.name) for c in schema.columns)
        values, source = self._unnest(everything, "u")
        self.insert = (f"INSERT INTO {qualified_table} ({names}) SELECT "
                       f"{', '.join(values)} FROM {source}")
        keys, source = self._unnest(self.key_positions, "k")
        match = " AND ".join(f"t.{pg.quote_ident(schema.columns[i].name)} = {value}"
                             for i, value in zip(self.key_positions, keys))
        self.delete = (f"DELETE FROM {qualified_table} AS t USING {source} WHERE {match}"
                       if self.key_positions else "")

    def _unnest(self, positions: Iterable[int], alias: str) -> tuple[list[str], str]:
        """Each column's value expression, and the unnest() of their parameters."""
        values: list[str] = []
        arrays: list[str] = []
        names: list[str] = []
        for i in positions:
            storage = self.storages[i]
            own = []
            for wire_type in storage.wire_types:
                arrays.append(f"${len(arrays) + 1}::{wire_type}[]")
                names.append(f"c{len(names)}")
                own.append(f"{alias}.{names[-1]}")
            values.append(storage.write_expression(own, self.schema.columns[i].type))
        return values, f"unnest({', '.join(arrays)}) AS {alias}({', '.join(names)})"

    def params(self, table: pa.Table, positions: Iterable[int]) -> list[list[Any]]:
        return [values for i in positions
                for values in self.storages[i].to_params(table.column(i).combine_chunks())]

    def write(self, table: pa.Table, patch: bool) -> None:
        every = range(len(self.schema.columns))
        for start in range(0, table.num_rows, _BATCH_ROWS):
            batch = table.slice(start, _BATCH_ROWS)
            if patch:
                pg.execute(self.delete, self.params(batch, self.key_positions))
                batch = batch.filter(batch.column(FLAG))
            if batch.num_rows:
                pg.execute(self.insert, self.params(batch, every))


def _key_range(info: meta.ObjectInfo, first_key: str) -> tuple[Any, Any] | None:
    """The object's range of first primary key values, when its index knows it."""
    bounds = info.index["columns"].get(first_key, {})
    low, high = bounds.get("min"), bounds.get("max")
    if bounds.get("nulls") == 0 and type(low) is type(high) and isinstance(low, (int, str)):
        return low, high
    return None


def _is_patch(loaded: list[tuple[Any, Any] | None], info: meta.ObjectInfo,
              key_range: tuple[Any, Any] | None) -> bool:
    """Whether an object may delete or replace rows already loaded."""
    if info.index["deletes"]:
        return True
    if not loaded:
        return False
    if key_range is None:
        return True
    low, high = key_range
    return any(other is None or not (high < other[0] or low > other[1]) for other in loaded)


def materialize(qualified_table: str, schema: TableSchema, object_ids: list[str]) -> None:
    """Creates the table and fills it with the objects' rows. The primary key is added
    after the plain inserts, before the first patch (whose deletes then find their
    rows through it). Callers fetch cloned objects first (cache.ensure_local), all
    those they will read at once."""
    create_table(qualified_table, schema)
    infos = meta.objects(object_ids)
    writer = _Writer(qualified_table, schema)
    first_key = schema.primary_key[0] if schema.primary_key else None
    loaded: list[tuple[Any, Any] | None] = []
    keyed = False
    for object_id in object_ids:
        info = infos.get(object_id)
        if info is None:
            raise CorruptObject(f"object {object_id} has no metadata")
        table = decode(files.read_object(object_id, info.sha256))
        if first_key is None:
            writer.write(table, patch=False)
            continue
        key_range = _key_range(info, first_key)
        patch = _is_patch(loaded, info, key_range)
        if patch and not keyed:
            add_primary_key(qualified_table, schema)
            keyed = True
        writer.write(table, patch)
        loaded.append(key_range)
    if not keyed:
        add_primary_key(qualified_table, schema)
