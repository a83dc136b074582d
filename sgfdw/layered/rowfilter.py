"""Quals applied to the rows in Arrow, before they become Python values.

Converting rows to Python and handing them to PostgreSQL costs far more than reading
them, so rows that cannot satisfy a qual are dropped first. Only quals whose Arrow
evaluation means exactly what PostgreSQL's does are used: =, <, <=, >, >= and = ANY
on integers, dates and timestamps (compared in their stored integer form, infinities
included), and = / = ANY on text (byte equality is equality under a deterministic
collation). PostgreSQL still rechecks every qual; the rest are left to it.

Before the merge only quals on the primary key may be applied: every version of a row
has the same key, so they are kept or dropped together. A qual on another column would
drop an object's newer version of a row and resurrect an older one.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import pyarrow as pa
import pyarrow.compute as pc
from multicorn import Qual

from sgfdw.layered.prune import key_function
from sgfdw.store.types import TableSchema, storage_of

__all__ = ["apply_quals", "row_mask", "filtered", "enforces", "applied"]

_EXACT_BASES = frozenset({"int2", "int4", "int8", "date", "timestamp", "timestamptz",
                          "text", "varchar", "name"})
_FUNCTIONS = {"=": pc.equal, "<": pc.less, "<=": pc.less_equal, ">": pc.greater,
              ">=": pc.greater_equal}


def _stored_type(arrow_type: pa.DataType) -> pa.DataType:
    """Dates compare as their day numbers, as the qual values are made comparable."""
    return pa.int32() if pa.types.is_date(arrow_type) else arrow_type


def _stored(array: pa.ChunkedArray) -> pa.ChunkedArray:
    return array.cast(pa.int32()) if pa.types.is_date(array.type) else array


def _predicate(qual: Qual, schema: TableSchema) -> Callable[[pa.Table], Any] | None:
    """The qual as a function of a table giving its row mask, when Arrow evaluates it
    exactly as PostgreSQL does; else None."""
    column = schema.column(qual.field_name)
    if column.base not in _EXACT_BASES:
        return None
    operator, value = qual.operator, qual.value
    if isinstance(operator, tuple):
        operator, any_of = operator
        key = key_function(column, "=")
        if not any_of or operator != "=" or not isinstance(value, (list, tuple)) \
                or key is None:
            return None
        members = [key(v) for v in value if v is not None]
        if any(v is None for v in members):
            return None
        try:
            value_set = pa.array(members, type=_stored_type(storage_of(column).arrow_type))
        except (pa.ArrowInvalid, OverflowError):
            return None  # e.g. an int8 value for an int4 column: PostgreSQL decides
        return lambda table: pc.is_in(_stored(table.column(qual.field_name)),
                                      value_set=value_set)
    if value is None or operator not in _FUNCTIONS:
        return None
    key = key_function(column, operator)
    wanted = key(value) if key is not None else None
    if wanted is None:
        return None
    try:
        scalar = pa.scalar(wanted, type=_stored_type(storage_of(column).arrow_type))
    except (pa.ArrowInvalid, OverflowError):
        return None
    function = _FUNCTIONS[operator]
    return lambda table: function(_stored(table.column(qual.field_name)), scalar)


def applied(quals: Sequence[Qual], schema: TableSchema) -> list[str]:
    """The quals apply_quals evaluates, as text (EXPLAIN VERBOSE)."""
    texts = []
    for qual in quals:
        if _predicate(qual, schema) is not None:
            operator = qual.operator
            if isinstance(operator, tuple):
                texts.append(f"{qual.field_name} {operator[0]} ANY({qual.value!r})")
            else:
                texts.append(f"{qual.field_name} {operator} {qual.value!r}")
    return texts


def enforces(quals: Sequence[Qual], schema: TableSchema) -> bool:
    """Whether apply_quals leaves only rows that satisfy every qual."""
    return all(_predicate(qual, schema) is not None for qual in quals)


def row_mask(table: pa.Table, quals: Sequence[Qual], schema: TableSchema) -> Any:
    """The rows that may satisfy the quals, as one mask (NULL where a comparison is
    NULL: dropped, as in SQL); None when no qual can be evaluated here."""
    mask = None
    for qual in quals:
        predicate = _predicate(qual, schema)
        if predicate is not None:
            held = predicate(table)
            mask = held if mask is None else pc.and_(mask, held)
    return mask


def filtered(table: pa.Table, mask: Any) -> pa.Table:
    """The rows of the mask (None: all); no copy when it keeps every row."""
    if mask is None or (mask.null_count == 0 and pc.all(mask).as_py() is not False):
        return table
    return table.filter(mask)


def apply_quals(table: pa.Table, quals: Sequence[Qual], schema: TableSchema) -> pa.Table:
    """The rows that may satisfy the quals."""
    return filtered(table, row_mask(table, quals, schema))
