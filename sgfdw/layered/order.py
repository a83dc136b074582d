"""ORDER BY and LIMIT/OFFSET done by the scan.

A sort is accepted on a prefix of the primary key, all keys in one direction, for key
types whose Arrow order is PostgreSQL's (integers, dates, timestamps: stored as
integers). Text follows a collation, floats place NaN by Arrow's rules, numeric is
stored as text: those stay with PostgreSQL. A pushed LIMIT/OFFSET replaces
PostgreSQL's Limit node, so it is applied exactly, after the quals (the bridge pushes
it with quals only when enforces_quals says the scan applies them all).
"""
from __future__ import annotations

from typing import Iterable, Iterator, Sequence

import pyarrow as pa
from multicorn import SortKey

from sgfdw.store.types import TableSchema

__all__ = ["sortable_prefix", "sort_and_slice"]

_ORDERED_BASES = frozenset({"int2", "int4", "int8", "date", "timestamp", "timestamptz"})


def sortable_prefix(schema: TableSchema, sortkeys: Sequence[SortKey]) -> list[SortKey]:
    accepted: list[SortKey] = []
    for key, name in zip(sortkeys, schema.primary_key):
        if key.attname != name or schema.column(name).base not in _ORDERED_BASES \
                or key.is_reversed != sortkeys[0].is_reversed:
            break
        accepted.append(key)
    return accepted


def sort_and_slice(chunks: Iterable[pa.Table], sortkeys: Sequence[SortKey] | None,
                   limit: int | None, offset: int | None) -> Iterator[pa.Table]:
    """The chunks sorted and sliced; chunks come in order of the first key column
    (scan.current_rows), so sorting each is sorting all, and reading stops once the
    limit is reached."""
    skip = offset or 0
    if limit is not None and limit <= 0:
        return
    for chunk in chunks:
        if sortkeys:
            chunk = chunk.sort_by([(key.attname, "descending" if key.is_reversed
                                    else "ascending") for key in sortkeys])
        if skip:
            dropped = min(skip, chunk.num_rows)
            chunk, skip = chunk.slice(dropped), skip - dropped
        if limit is not None:
            chunk = chunk.slice(0, limit)
            limit -= chunk.num_rows
        if chunk.num_rows:
            yield chunk
        if limit == 0:
            return  # before the next chunk is read
