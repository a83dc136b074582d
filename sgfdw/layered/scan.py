"""Reading a table version's objects: projection, merge by primary key, in key order.

Objects are applied in order, later ones winning by primary key, delete flags removing
rows. Only the columns the query needs are read from each object (reader.py), plus the
key and the upsert/delete flag.

For a key whose equality is byte equality (integers, dates, timestamps, text) the
objects are read one by one in the order of their first key column's range (index
min/max), and the merge is incremental: a newly read object removes from every
earlier object read so far the keys it holds (and the reverse for a later one read
earlier) -- Arrow's is_in, or an anti join for a composite key. Once every object
whose range starts at or below some key value has been read, the rows below it are
final: they come out as one chunk, so chunks come in key order, a scan with ORDER BY
key LIMIT n stops reading when it has enough rows, and memory holds about one object.
Key-disjoint objects (a snapshot cut into fragments) are never compared. Other keys
are merged at once: all objects sorted by key then newest first, first row per key.
A table without a primary key is a full snapshot: its objects are concatenated.

Quals drop rows before the merge only where that cannot resurrect an older version:
quals on the key anywhere (every version of a row has its key), the others only in
objects that overlap no earlier kept object (nothing older to bring back).

Unless a LIMIT may stop the scan, the next object's reading starts before a chunk is
handed on, so that Arrow decodes it while PostgreSQL consumes the chunk (reader.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc
from multicorn import Qual

from sgfdw.layered.prune import Plan, key_range_of, overlaps
from sgfdw.layered.reader import start_reading
from sgfdw.layered.rowfilter import apply_quals
from sgfdw.layered.version import TableImage
from sgfdw.store import cache
from sgfdw.store.fragments import arrow_schema
from sgfdw.store.types import FLAG, TableSchema

__all__ = ["current_rows"]

_SEQUENCE = "sg layered seq"
_BYTE_EQUAL_KEYS = frozenset({"int2", "int4", "int8", "date", "timestamp", "timestamptz",
                              "text", "varchar", "name"})


@dataclass
class _Part:
    position: int  # in the table version's object order: later wins
    bounds: tuple[Any, Any] | None  # the first key column's range; None: unknown
    table: pa.Table


def _comparable(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A key column in the form its index bounds have (dates as day numbers)."""
    return column.cast(pa.int32()) if pa.types.is_date(column.type) else column


def _held(column: pa.ChunkedArray, keys: pa.ChunkedArray) -> Any:
    """The mask of the values of `column` that `keys` holds. Objects are stored in key
    order: a column that is strictly increasing is binary-searched for the keys within
    its range (an object overlapping a patch: a few lookups instead of hashing every
    row); any other (this transaction's changes) goes through a hash set."""
    rows = len(column)
    if rows < 2 or column.null_count or not pc.all(
            pc.less(column.slice(0, rows - 1), column.slice(1))).as_py():
        return pc.is_in(column, value_set=keys.combine_chunks())
    keys = keys.filter(pc.and_(pc.greater_equal(keys, column[0]),
                               pc.less_equal(keys, column[rows - 1])))
    positions = pc.search_sorted(column, keys)
    found = positions.filter(pc.equal(column.take(positions), keys)).cast(pa.int64())
    return pc.fill_null(pc.scatter(pa.array([True] * len(found), pa.bool_()), found,
                                   max_index=rows - 1), False)


def _without_keys_of(table: pa.Table, newer: pa.Table, key: list[str]) -> pa.Table:
    """The rows of `table` whose key `newer` does not hold."""
    if not table.num_rows or not newer.num_rows:
        return table
    if len(key) == 1:
        held = _held(table.column(key[0]), newer.column(key[0]))
        return table.filter(pc.invert(held))
    # (the join's output drops the flag's not-null: the schema is restored to concatenate)
    return table.join(newer.select(key), keys=key, join_type="left anti").cast(table.schema)


def _current(table: pa.Table) -> pa.Table:
    flags = table.column(FLAG)
    return table if pc.all(flags).as_py() is not False else table.filter(flags)


class _Reading:
    """One scan's reading of the kept objects."""

    def __init__(self, image: TableImage, plan: Plan, wanted: Sequence[str],
                 quals: Sequence[Qual], overlay: pa.Table | None, read_ahead: bool) -> None:
        self.schema: TableSchema = image.version.schema
        self.plan = plan
        self.quals = list(quals)
        self.key = list(self.schema.primary_key)
        self.late_quals = [q for q in self.quals if q.field_name not in self.key]
        self.names = list(dict.fromkeys([*wanted, *self.key,
                                         *(q.field_name for q in quals)])) + [FLAG]
        self.overlay = overlay
        # the objects, then the transaction's own changes as the newest patch
        self.count = len(plan.kept) + (overlay is not None)
        self.bounds = [key_range_of(info, self.schema) if self.key else None
                       for info in plan.kept] + [None] * (overlay is not None)
        self.read_ahead = read_ahead
        self.started: dict[int, Callable[[], pa.Table]] = {}

    def _start(self, number: int) -> Callable[[], pa.Table]:
        if number == len(self.plan.kept):
            overlay = apply_quals(self.overlay.select(self.names),  # type: ignore[union-attr]
                                  [q for q in self.quals if q.field_name in self.key],
                                  self.schema)
            return lambda: overlay
        early = [q for q in self.quals if not self.plan.over_earlier[number]
                 or q.field_name in self.key]
        return start_reading(self.plan.kept[number], self.names, early, self.schema)

    def part(self, number: int, following: int | None = None) -> pa.Table:
        """A kept object's rows less those the quals may drop before the merge; the
        reading of the `following` one is started first when reading ahead."""
        taken = self.started.pop(number, None) or self._start(number)
        if self.read_ahead and following is not None and following not in self.started:
            self.started[following] = self._start(following)
        return taken()

    def finished(self, table: pa.Table) -> pa.Table:
        # every part had the quals on the key applied already
        return apply_quals(_current(table), self.late_quals, self.schema)

    def empty(self) -> pa.Table:
        return arrow_schema(self.schema).empty_table().select(self.names)


def current_rows(image: TableImage, plan: Plan, wanted: Sequence[str], quals: Sequence[Qual],
                 descending: bool = False, overlay: pa.Table | None = None,
                 read_ahead: bool = False) -> Iterator[pa.Table]:
    """The current rows of the kept objects, in chunks: the wanted columns (and the key),
    less rows that cannot satisfy the quals (see rowfilter). For a table with a primary
    key, the chunks are in order of its first column (descending if asked), each chunk
    unsorted. overlay: a last patch in stored form (the transaction's own writes).
    read_ahead: whether the next object's reading may start before this chunk is
    consumed (not when the reader may stop early, at a LIMIT: no object is opened
    before its rows are needed)."""
    reading = _Reading(image, plan, wanted, quals, overlay, read_ahead)
    schema = reading.schema
    # Kept objects of a cloned image that are not here yet come in parallel, now, and
    # none of them is evicted before the transaction ends.
    cache.ensure_local([info.object_id for info in plan.kept])
    if not reading.count:
        yield reading.empty()
    elif not reading.key:
        for number in range(reading.count):
            following = number + 1 if number + 1 < reading.count else None
            yield reading.finished(reading.part(number, following))
    elif all(schema.column(name).base in _BYTE_EQUAL_KEYS for name in reading.key):
        yield from _incremental(reading, descending)
    else:
        yield _all_at_once(reading)


def _incremental(reading: _Reading, descending: bool) -> Iterator[pa.Table]:
    key, bounds = reading.key, reading.bounds
    unknown = [n for n, b in enumerate(bounds) if b is None]
    side = 1 if descending else 0
    known = sorted((n for n, b in enumerate(bounds) if b is not None),
                   key=lambda n: bounds[n][side], reverse=descending)  # type: ignore[index]
    order = unknown + known
    pending: list[_Part] = []
    for step, number in enumerate(order):
        new = _Part(number, bounds[number],
                    reading.part(number, order[step + 1] if step + 1 < len(order) else None))
        for part in pending:
            if overlaps(part.bounds, new.bounds):
                older, newer = (part, new) if part.position < new.position else (new, part)
                older.table = _without_keys_of(older.table, newer.table, key)
        pending.append(new)
        following = bounds[order[step + 1]] if step + 1 < len(order) else None
        if step + 1 < len(order) and following is None:
            continue  # an object of unknown range is still to come: nothing is final
        final: list[pa.Table] = []
        kept: list[_Part] = []
        for part in pending:
            position = _against(part.bounds, following, descending)
            if following is None or position == "before":
                final.append(part.table)
                continue
            if position == "after":
                kept.append(part)
                continue
            column = _comparable(part.table.column(key[0]))
            compare = pc.greater if descending else pc.less
            done = compare(column, pa.scalar(following[side], column.type))
            final.append(part.table.filter(done))
            rest = part.table.filter(pc.invert(done))
            if rest.num_rows:
                kept.append(_Part(part.position, part.bounds, rest))
        pending = kept
        chunk = reading.finished(pa.concat_tables(final)) if final else reading.empty()
        if chunk.num_rows or following is None:
            yield chunk


def _against(bounds: tuple[Any, Any] | None, following: tuple[Any, Any] | None,
             descending: bool) -> str:
    """Where a part's key range lies against the next object's: wholly "before" it in
    reading order (final), wholly "after" it (pending), or "across" (split by rows)."""
    if following is None:
        return "before"
    if bounds is None:
        return "across"
    if descending:
        return "before" if bounds[0] > following[1] else \
            "after" if bounds[1] <= following[1] else "across"
    return "before" if bounds[1] < following[0] else \
        "after" if bounds[0] >= following[0] else "across"


def _all_at_once(reading: _Reading) -> pa.Table:
    """Keys without byte equality: all objects sorted by key, newest first, first row
    of each key."""
    parts = [reading.part(number) for number in range(reading.count)]
    numbered = [part.append_column(_SEQUENCE, pc.fill_null(pa.nulls(part.num_rows,
                                                                    pa.int32()), n))
                for n, part in enumerate(parts)]
    combined = pa.concat_tables(numbered)
    order = [(name, "ascending") for name in reading.key] + [(_SEQUENCE, "descending")]
    combined = combined.take(pc.sort_indices(combined, sort_keys=order))
    if combined.num_rows > 1:
        changed = None
        for name in reading.key:
            column = combined.column(name)
            step = pc.not_equal(column.slice(1), column.slice(0, combined.num_rows - 1))
            changed = step if changed is None else pc.or_(changed, step)
        first = pa.chunked_array([pa.array([True]), *changed.chunks])  # type: ignore[union-attr]
        combined = combined.filter(first)
    return reading.finished(combined.drop_columns([_SEQUENCE]))
