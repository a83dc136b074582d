"""Reading a table into fragments (the write side of import and commit).

Rows come through a server-side cursor in batches, each turned into Arrow arrays at
once (Python objects never pile up beyond one batch), ordered by primary key so that
each fragment of a large table covers a key range; a fragment is cut every
sgfdw.fragment_rows rows, written to its file and registered in the metadata.
"""
from __future__ import annotations

from typing import Iterator

import pyarrow as pa

from sgfdw import pg
from sgfdw.store import files, meta
from sgfdw.store.fragments import Fragment, arrow_schema, make_fragment
from sgfdw.store.types import TableSchema, storage_of

__all__ = ["fragment_rows", "store_rows", "store_fragment", "select_list", "snapshot_query",
           "store_table", "Part"]

_BATCH_ROWS = 20000


def fragment_rows() -> int:
    return int(pg.execute("SELECT current_setting('sgfdw.fragment_rows')")[0][0])


def _batches(query: str, params: list, schema: TableSchema,
             upsert: bool) -> Iterator[pa.RecordBatch]:
    storages = [storage_of(c) for c in schema.columns]
    target = arrow_schema(schema)
    with pg.cursor(query, params, batch_size=_BATCH_ROWS) as rows:
        while batch := rows.fetch():
            columns = list(zip(*batch))
            arrays = [s.to_arrow(values) for s, values in zip(storages, columns)]
            flags = pa.repeat(pa.scalar(upsert), len(batch))
            yield pa.RecordBatch.from_arrays([*arrays, flags], schema=target)


def store_fragment(table: pa.Table, schema: TableSchema) -> Fragment:
    """Writes one fragment's file and metadata; returns it."""
    fragment = make_fragment(table, schema)
    files.write_object(fragment.object_id, fragment.data, fragment.sha256)
    meta.add_object(fragment)
    return fragment


# A query of rows, its parameters, and whether they are upserts (else deletes).
Part = tuple[str, list, bool]


def store_rows(parts: list[Part], schema: TableSchema) -> list[str]:
    """Stores the rows the queries return (their select lists read with each column's
    storage expression) as fragments of at most sgfdw.fragment_rows rows; their ids."""
    limit = fragment_rows()
    object_ids: list[str] = []
    pending: list[pa.RecordBatch] = []
    count = 0
    for query, params, upsert in parts:
        for batch in _batches(query, params, schema, upsert):
            while batch.num_rows:
                take = min(batch.num_rows, limit - count)
                pending.append(batch.slice(0, take))
                batch = batch.slice(take)
                count += take
                if count == limit:
                    object_ids.append(store_fragment(
                        pa.Table.from_batches(pending), schema).object_id)
                    pending, count = [], 0
    if pending or not object_ids:
        object_ids.append(store_fragment(
            pa.Table.from_batches(pending, schema=arrow_schema(schema)), schema).object_id)
    return object_ids


def select_list(schema: TableSchema, alias: str = "") -> str:
    """The columns of a table (of a relation alias) read for storing, as select-list
    items."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(storage_of(c).read_expression(prefix + pg.quote_ident(c.name))
                     for c in schema.columns)


def order_by(schema: TableSchema) -> str:
    if not schema.primary_key:
        return ""
    return " ORDER BY " + ", ".join(pg.quote_ident(name) for name in schema.primary_key)


def snapshot_query(qualified_table: str, schema: TableSchema) -> str:
    return f"SELECT {select_list(schema)} FROM {qualified_table}{order_by(schema)}"


def store_table(qualified_table: str, schema: TableSchema) -> list[str]:
    """The whole table as fragments (a snapshot); their ids."""
    return store_rows([(snapshot_query(qualified_table, schema), [], True)], schema)
