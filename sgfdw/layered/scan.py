"""Reading a table version's objects: projection, merge by primary key, rows.

Only the columns the query needs are read from each object's Parquet file, plus the
key and the upsert/delete flag. Objects are applied in order, later ones winning by
primary key: all kept objects are concatenated with their position, sorted by key
(then newest first), and the first row of each key is kept when it is an upsert --
vectorised in Arrow, no per-row Python. When the objects read are key-disjoint
upserts (a snapshot cut into fragments, no patch among them) the merge is skipped.
A table without a primary key is a full snapshot: its objects are concatenated.
"""
from __future__ import annotations

from typing import Any, Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from multicorn import Qual

from sgfdw.layered.prune import Plan, key_range_of, overlaps
from sgfdw.layered.rowfilter import apply_quals
from sgfdw.layered.version import TableImage
from sgfdw.store import files
from sgfdw.store.fragments import arrow_schema, decode
from sgfdw.store.meta import ObjectInfo
from sgfdw.store.types import FLAG, TableSchema, storage_of

__all__ = ["read_table", "rows"]

_SEQUENCE = "sg layered seq"
_BATCH_ROWS = 65536


def _needs_merge(kept: Sequence[ObjectInfo], schema: TableSchema) -> bool:
    if not schema.primary_key:
        return False
    if any(info.index.get("deletes") for info in kept):
        return True
    ranges = [key_range_of(info, schema) for info in kept]
    return any(overlaps(a, b) for n, a in enumerate(ranges) for b in ranges[n + 1:])


def _latest(parts: list[pa.Table], key: list[str]) -> pa.Table:
    numbered = [part.append_column(_SEQUENCE, pc.fill_null(pa.nulls(part.num_rows,
                                                                    pa.int32()), n))
                for n, part in enumerate(parts)]
    combined = pa.concat_tables(numbered)
    order = [(name, "ascending") for name in key] + [(_SEQUENCE, "descending")]
    combined = combined.take(pc.sort_indices(combined, sort_keys=order))
    if combined.num_rows < 2:
        return combined.drop_columns([_SEQUENCE])
    changed = None
    for name in key:
        column = combined.column(name)
        step = pc.not_equal(column.slice(1), column.slice(0, combined.num_rows - 1))
        changed = step if changed is None else pc.or_(changed, step)
    first = pa.chunked_array([pa.array([True]), *changed.chunks])
    return combined.filter(first).drop_columns([_SEQUENCE])


def read_table(image: TableImage, plan: Plan, wanted: Sequence[str],
               quals: Sequence[Qual]) -> pa.Table:
    """The current rows of the kept objects: the wanted columns (and the key), less
    rows that cannot satisfy the quals (see rowfilter)."""
    schema = image.version.schema
    key = list(schema.primary_key)
    names = list(dict.fromkeys([*wanted, *key, *(q.field_name for q in quals)])) + [FLAG]
    # A table without a key has no versions: any qual may go before the concatenation.
    early = key if key else None
    parts = [apply_quals(decode(files.read_object_checked_once(info.object_id, info.sha256),
                                names),
                         quals, schema, early)
             for info in plan.kept]
    if not parts:
        return arrow_schema(schema).empty_table().select(names)
    table = _latest(parts, key) if _needs_merge(plan.kept, schema) \
        else pa.concat_tables(parts)
    return apply_quals(table.filter(table.column(FLAG)), quals, schema)


def rows(table: pa.Table, schema: TableSchema, names: Sequence[str],
         wanted: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    """Tuples in the order of the foreign table's columns `names`; those not wanted
    are NULL."""
    for batch in table.to_batches(max_chunksize=_BATCH_ROWS):
        nothing = [None] * batch.num_rows
        columns = [storage_of(schema.column(name)).to_python(batch.column(name))
                   if name in wanted else nothing for name in names]
        if not names:
            yield from ((),) * batch.num_rows
        else:
            yield from zip(*columns)
