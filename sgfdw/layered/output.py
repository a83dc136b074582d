"""What a scan hands to the bridge: Arrow record batches (the batch lane), or Python rows.

The batch lane (docs/bridge-contract.md, "Arrow batches") converts each column in C
by its Arrow type, without a Python value per row. Every stored type has an Arrow form
the lane reads exactly as the row path reads its Python value (Storage.to_standard):
integers, floats, bool and bytea as stored; strings and text-stored types (numeric,
json, arrays, ...) as text through the column type's input function, as the row path
hands them; dates and timestamps as date32 / timestamp[us] (a batch with infinities
sends that column as text). The lane is used when every column read has the stored
type; a foreign table declared by hand with other types (an int column read as text)
takes the row path, whose conversions accept any pairing.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, Sequence

import pyarrow as pa
from multicorn import ColumnDefinition

from sgfdw.store.types import FLAG, TableSchema, storage_of

__all__ = ["declared_as_stored", "lane_carries", "batches", "rows"]

_BATCH_ROWS = 65536


def declared_as_stored(columns: Mapping[str, ColumnDefinition], schema: TableSchema,
                       name: str) -> bool:
    """Whether the foreign table declares column name with its stored type."""
    return columns[name].type_name == schema.column(name).type


def lane_carries(columns: Mapping[str, ColumnDefinition], schema: TableSchema,
                 wanted: Sequence[str]) -> bool:
    return all(declared_as_stored(columns, schema, name) for name in wanted)


def batches(chunks: Iterable[pa.Table], schema: TableSchema,
            wanted: Sequence[str]) -> Iterator[pa.RecordBatch]:
    """Record batches of the wanted columns (the flag too when none is wanted: a batch
    without columns has no rows)."""
    names = [*wanted] or [FLAG]
    for chunk in chunks:
        for batch in chunk.select(names).to_batches(max_chunksize=_BATCH_ROWS):
            yield pa.RecordBatch.from_arrays(
                [storage_of(schema.column(name)).to_standard(batch.column(name))
                 if name != FLAG else batch.column(name) for name in names], names=names)


def rows(chunks: Iterable[pa.Table], schema: TableSchema, names: Sequence[str],
         wanted: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    """Tuples in the order of the foreign table's columns `names`; those not wanted
    are NULL."""
    for chunk in chunks:
        for batch in chunk.to_batches(max_chunksize=_BATCH_ROWS):
            nothing = [None] * batch.num_rows
            columns = [storage_of(schema.column(name)).to_python(batch.column(name))
                       if name in wanted else nothing for name in names]
            if not names:
                yield from ((),) * batch.num_rows
            else:
                yield from zip(*columns)
