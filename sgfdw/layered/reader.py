"""Reading one object: only the needed columns, and only the row groups whose Parquet
statistics can match the quals -- a key lookup decodes one row group, not the object
(and of a patch without the key, the key column only).

Row-group statistics are used for integer, date and timestamp columns only: their
Parquet min/max are exact stored values (writers may truncate string statistics, and
float statistics leave NaN out, which PostgreSQL orders above every number). Which
quals may drop rows of an object before the merge is the caller's decision (scan.py).

An object read whole (no quals) is decoded on a thread of this module: Parquet
decoding releases Python's lock, so when the reading starts before the rows of the
object before it are handed to PostgreSQL, it runs while PostgreSQL consumes them (on
another core; scan.py reads one object ahead). The thread runs no SQL and takes no
signal: those stay with the backend's own thread.
"""
from __future__ import annotations

import mmap
import signal
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from multicorn import Qual

from sgfdw.layered.prune import may_match
from sgfdw.layered.rowfilter import filtered, row_mask
from sgfdw.store import files
from sgfdw.store.fragments import arrow_schema
from sgfdw.store.meta import ObjectInfo
from sgfdw.store.types import TableSchema

__all__ = ["read_object", "start_reading"]

_EXACT_STATISTICS = frozenset({"int2", "int4", "int8", "date", "timestamp", "timestamptz"})


def _without_signals() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())


_DECODER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sgfdw layered read",
                              initializer=_without_signals)

# Decoded columns from glibc's malloc, which keeps freed memory for the next object:
# Arrow's default (mimalloc) hands it back to the kernel, which then clears every page
# of the next object's columns again (~5% of a scan's CPU; objects decode ~10% faster).
pa.set_memory_pool(pa.system_memory_pool())


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


def _picks_values(qual: Qual) -> bool:
    """= or = ANY: a few values, which an object whose range holds them may lack."""
    operator = qual.operator
    return (operator[0] if isinstance(operator, tuple) else operator) == "="


# Parquet footers by object, parsed once (a fifth of the cost of reading a key range of
# an object): objects never change, and a replaced file is checked against the sha256
# recorded before it is read. The oldest go beyond this many bytes of footers (a wide
# table's are large: one entry per column and row group).
_FOOTER_BYTES_KEPT = 4 << 20
_footers: dict[str, pq.FileMetaData] = {}


def _parquet_file(object_id: str, mapped: pa.Buffer) -> pq.ParquetFile:
    footer = _footers.get(object_id)
    # not pre-buffered: the file is mapped, so reading ahead of Parquet only adds work
    parquet = pq.ParquetFile(pa.BufferReader(mapped), metadata=footer, pre_buffer=False)
    if footer is None:
        _footers[object_id] = parquet.metadata
        while sum(kept.serialized_size for kept in _footers.values()) > _FOOTER_BYTES_KEPT:
            del _footers[next(iter(_footers))]
    return parquet


def read_object(info: ObjectInfo, columns: Sequence[str], quals: Sequence[Qual],
                schema: TableSchema) -> pa.Table:
    """The object's rows, `columns` only, less those the quals drop (rowfilter): only
    the row groups the quals may match are read, and when the quals' own columns leave
    no row (a key lookup in a patch that lacks the key), nothing else is."""
    return start_reading(info, columns, quals, schema)()


def start_reading(info: ObjectInfo, columns: Sequence[str], quals: Sequence[Qual],
                  schema: TableSchema) -> Callable[[], pa.Table]:
    """read_object begun: the function returned gives its table. Without quals the
    object is decoded meanwhile on the decoding thread (the file is opened and checked
    now, on this one)."""
    with files.open_object_checked_once(info.object_id, info.sha256) as file:
        # Mapped, not read through the Python file: Parquet takes the column chunks it
        # needs from the page cache without a copy (reads of text columns ~30% faster).
        mapped = pa.py_buffer(mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ))
    parquet = _parquet_file(info.object_id, mapped)
    if not quals:
        # one thread: the backend's own is busy converting the object before
        return _DECODER.submit(parquet.read, columns=list(columns), use_threads=False).result
    groups = _groups(parquet, quals, schema)

    def read(names: list[str]) -> pa.Table:
        # In this thread: handing a few row groups to Arrow's threads costs more than
        # decoding them (twice the time on a busy machine).
        if groups is None:
            return parquet.read(columns=names, use_threads=False)
        return parquet.read_row_groups(groups, columns=names, use_threads=False)

    if not any(_picks_values(qual) for qual in quals):
        # Ranges: the row groups their statistics keep hold rows of the range (objects
        # are in key order), so one read of every column costs less than two.
        whole = read(list(columns))
        table = filtered(whole, row_mask(whole, quals, schema))
        return lambda: table
    # Values picked (a key lookup): the quals' columns first, the others only when a row
    # is left (a patch that lacks the key is read for its key column only).
    probed = read(list(dict.fromkeys(q.field_name for q in quals)))
    mask = row_mask(probed, quals, schema)
    if mask is not None and not pc.any(mask).as_py():
        empty = arrow_schema(schema).empty_table().select(list(columns))
        return lambda: empty
    rest = read([name for name in columns if name not in probed.column_names])
    parts = {name: part for part in (probed, rest) for name in part.column_names}
    table = filtered(pa.Table.from_arrays(
        [parts[name].column(name) for name in columns],
        schema=pa.schema([parts[name].schema.field(name) for name in columns],
                         metadata=rest.schema.metadata)), mask)
    return lambda: table
