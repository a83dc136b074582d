"""Reading a table into fragments (the write side of import and commit).

Rows come in batches (by key ranges for a keyed table, else through a server-side
cursor), each turned into Arrow arrays at once (Python objects never pile up beyond
one batch), in primary key order so that each fragment of a large table covers a key
range; a fragment is cut every sgfdw.fragment_rows rows, written to its file and
registered in the metadata.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Sequence

import pyarrow as pa

from sgfdw import pg
from sgfdw.store import files, meta
from sgfdw.store.fragments import Fragment, arrow_schema, make_fragment
from sgfdw.store.types import TableSchema, storage_of

__all__ = ["fragment_rows", "query_batches", "store_batches", "store_fragment", "select_list",
           "store_table"]

_BATCH_ROWS = 50000


def fragment_rows() -> int:
    return int(pg.execute("SELECT current_setting('sgfdw.fragment_rows')")[0][0])


def _record_batch(columns: Sequence[Sequence[Any]], schema: TableSchema,
                  upsert: bool) -> pa.RecordBatch:
    arrays = [storage_of(c).to_arrow(values) for c, values in zip(schema.columns, columns)]
    flags = pa.repeat(pa.scalar(upsert), len(arrays[0]) if arrays else 0)
    return pa.RecordBatch.from_arrays([*arrays, flags], schema=arrow_schema(schema))


def query_batches(query: str, params: list, schema: TableSchema,
                  upsert: bool) -> Iterator[pa.RecordBatch]:
    """The rows of a query (its select list read with each column's storage
    expression), upserts or deletes."""
    with pg.cursor(query, params, batch_size=_BATCH_ROWS) as rows:
        while batch := rows.fetch():
            yield _record_batch(list(zip(*batch)), schema, upsert)


def _keyset_batches(qualified_table: str, schema: TableSchema) -> Iterator[pa.RecordBatch]:
    """A keyed table in key order, one column array per column and batch: a third
    faster than rows through a cursor. Each batch starts after the last key of the one
    before (an index scan), found by an ordered aggregate of the key columns."""
    keys = [pg.quote_ident(name) for name in schema.primary_key]
    order = ", ".join(keys)
    columns = ", ".join(f"array_agg({storage_of(c).read_expression(pg.quote_ident(c.name))})"
                        for c in schema.columns)
    last = ", ".join(f"(array_agg({key} ORDER BY {order} DESC))[1]" for key in keys)
    after = ", ".join(f"${i + 1}::{schema.column(name).type}"
                      for i, name in enumerate(schema.primary_key))
    width = len(schema.columns)

    def query(where: str) -> str:
        return (f"SELECT {columns}, {last} FROM (SELECT * FROM {qualified_table}{where} "
                f"ORDER BY {order} LIMIT {_BATCH_ROWS}) s")

    statement = query("")
    params: list[Any] = []
    while True:
        row = pg.execute(statement, params)[0]
        if row[0] is None:
            return
        yield _record_batch(row[:width], schema, True)
        if len(row[0]) < _BATCH_ROWS:
            return
        statement, params = query(f" WHERE ({order}) > ({after})"), list(row[width:])


def store_batches(batches: Iterable[pa.RecordBatch], schema: TableSchema) -> list[str]:
    """Stores rows as fragments of at most sgfdw.fragment_rows rows; their ids."""
    limit = fragment_rows()
    object_ids: list[str] = []
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
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


def store_fragment(table: pa.Table, schema: TableSchema) -> Fragment:
    """Writes one fragment's file and metadata; returns it."""
    fragment = make_fragment(table, schema)
    files.write_object(fragment.object_id, fragment.data, fragment.sha256)
    meta.add_object(fragment)
    return fragment


def select_list(schema: TableSchema, alias: str = "") -> str:
    """The columns of a table (of a relation alias) read for storing, as select-list
    items."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(storage_of(c).read_expression(prefix + pg.quote_ident(c.name))
                     for c in schema.columns)


def store_table(qualified_table: str, schema: TableSchema) -> list[str]:
    """The whole table as fragments (a snapshot), cut in key order; their ids."""
    if schema.primary_key:
        return store_batches(_keyset_batches(qualified_table, schema), schema)
    return store_batches(query_batches(f"SELECT {select_list(schema)} FROM {qualified_table}",
                                       [], schema, True), schema)
