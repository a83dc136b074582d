"""Reading one object: only the needed columns, and only the row groups whose Parquet
statistics can match the quals -- a key lookup decodes one row group, not the object
(and of a patch without the key, the key column only).

Row-group statistics are used for integer, date and timestamp columns only: their
Parquet min/max are exact stored values (writers may truncate string statistics, and
float statistics leave NaN out, which PostgreSQL orders above every number). Which
quals may drop rows of an object before the merge is the caller's decision (scan.py).
"""
from __future__ import annotations

import mmap
from typing import Any, Sequence

import pyarrow as pa
import pyarrow.parquet as pq
from multicorn import Qual

from sgfdw.layered.prune import may_match
from sgfdw.layered.rowfilter import applied, apply_quals
from sgfdw.store import files
from sgfdw.store.fragments import arrow_schema
from sgfdw.store.meta import ObjectInfo
from sgfdw.store.types import TableSchema

__all__ = ["read_object"]

_EXACT_STATISTICS = frozenset({"int2", "int4", "int8", "date", "timestamp", "timestamptz"})


def _statistics(group: pq.RowGroupMetaData, position: int) -> dict[str, Any] | None:
    statistics = group.column(position).statistics
    if statistics is None or not statistics.has_null_count:
        return None
    entry: dict[str, Any] = {"nulls": statistics.null_count}
    if statistics.has_min_max:
        # physical values: stored integers, as the index has them (and date32's as_py
        # cannot hold the infinities)
        entry["min"], entry["max"] = statistics.min_raw, statistics.max_raw
    return entry


def _groups(parquet: pq.ParquetFile, quals: Sequence[Qual],
            schema: TableSchema) -> list[int] | None:
    """The row groups that may hold a row satisfying the quals; None for all."""
    usable = [qual for qual in quals if schema.column(qual.field_name).base in _EXACT_STATISTICS]
    metadata = parquet.metadata
    if not usable or metadata.num_row_groups < 2:
        return None
    positions = {qual.field_name: parquet.schema_arrow.get_field_index(qual.field_name)
                 for qual in usable}
    kept = []
    for number in range(metadata.num_row_groups):
        group = metadata.row_group(number)
        entries = {name: entry for name, position in positions.items()
                   if (entry := _statistics(group, position)) is not None}
        if may_match(entries, group.num_rows, usable, schema):
            kept.append(number)
    return None if len(kept) == metadata.num_row_groups else kept


def read_object(info: ObjectInfo, columns: Sequence[str], quals: Sequence[Qual],
                schema: TableSchema) -> pa.Table:
    """The object's rows, `columns` only, less those the quals drop (rowfilter): only
    the row groups the quals may match are read, and when the quals' own columns leave
    no row (a key lookup in a patch that lacks the key), nothing else is."""
    with files.open_object_checked_once(info.object_id, info.sha256) as file:
        # Mapped, not read through the Python file: Parquet takes the column chunks it
        # needs from the page cache without a copy (reads of text columns ~30% faster).
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    parquet = pq.ParquetFile(pa.BufferReader(pa.py_buffer(mapped)))
    groups = _groups(parquet, quals, schema)

    def read(names: list[str]) -> pa.Table:
        if groups is None:
            return parquet.read(columns=names)
        return parquet.read_row_groups(groups, columns=names)

    probed = list(dict.fromkeys(q.field_name for q in quals))
    if applied(quals, schema) and len(probed) < len(columns):
        if not apply_quals(read(probed), quals, schema).num_rows:
            return arrow_schema(schema).empty_table().select(list(columns))
    return apply_quals(read(list(columns)), quals, schema)
