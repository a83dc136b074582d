"""ORDER BY and LIMIT/OFFSET done by the scan.

A sort is accepted on a prefix of the primary key, all keys in one direction, for key
types whose Arrow order is PostgreSQL's (integers, dates, timestamps: stored as
integers). Text follows a collation, floats place NaN by Arrow's rules, numeric is
stored as text: those stay with PostgreSQL. A pushed LIMIT/OFFSET replaces
PostgreSQL's Limit node, so it is applied exactly, after the quals (the bridge pushes
it with quals only when enforces_quals says the scan applies them all).
"""
from __future__ import annotations

from typing import Sequence

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


def sort_and_slice(table: pa.Table, sortkeys: Sequence[SortKey] | None,
                   limit: int | None, offset: int | None) -> pa.Table:
    if sortkeys:
        table = table.sort_by([(key.attname, "descending" if key.is_reversed else "ascending")
                               for key in sortkeys])
    if offset or limit is not None:
        table = table.slice(offset or 0, limit)
    return table
