"""Which objects a scan must read: pruning by the per-object min/max index and key filters.

An object can be skipped when its index proves no row of it satisfies some qual. That
alone is not enough with patches: a row of a kept object may be replaced or deleted by
a later object that the quals would prune (its new values do not match), and keeping
the old row would return a row that PostgreSQL's recheck accepts -- a wrong row no
recheck can catch. So every object after a kept one whose primary key range overlaps
a kept object's is kept too (the closure, in object order). The key range is the first
key column's; an object whose range is unknown overlaps everything.

A qual prunes only when its value compares in Python exactly as in PostgreSQL with the
index's stored form: integers, floats (NaN highest), booleans, bytea, dates and
timestamps of the column's own type; text only for equality (ordering depends on the
collation, the index is in byte order); char(n) never (trailing blanks). Anything else
keeps the object: pruning is an optimisation, a kept object is always correct.

Then an object whose key filter (sgfdw.store.keyfilter, a Bloom filter per key column)
holds none of the values an '=' or '= ANY' qual on a key column asks for is skipped,
even one that overlaps a kept object: every row the quals can return has one of those
keys, and so has every row that replaces or deletes it. Qual values are hashed in the
form the filter hashed the stored ones (integers, dates and timestamps as 64-bit
integers, floats as float8, text and bytea as bytes, uuid and numeric as canonical
text); a value of another Python type keeps the object.

The quals given here are only those on columns declared as stored (LayeredFdw drops the
others): char(n) over stored text ignores trailing blanks, a float4 over a stored float8
rounds, a domain or a column of its own collation compares its own way.
"""
from __future__ import annotations

import datetime
import decimal
import math
import uuid
from typing import Any, Callable, Sequence

from multicorn import Qual

from sgfdw.store.keyfilter import filtered_columns, hash_pairs, may_satisfy, numeric_text
from sgfdw.store.meta import ObjectInfo
from sgfdw.store.types import Column, TableSchema

__all__ = ["Plan", "plan_objects", "may_match", "key_range_of", "overlaps", "key_function",
           "estimated_rows"]

_Y2K = datetime.datetime(2000, 1, 1)
_UNIX_DAY0 = datetime.date(1970, 1, 1)
_INT32_MAX, _INT64_MAX = 2**31 - 1, 2**63 - 1
_COMPARISONS = frozenset({"=", "<", "<=", ">", ">="})


class Plan:
    """The objects a scan reads, in object order, and how many the index pruned."""

    def __init__(self, kept: list[ObjectInfo], over_earlier: list[bool], total: int,
                 filtered: int = 0) -> None:
        self.kept = kept
        # per kept object: whether it may replace or delete rows of an earlier kept one
        # (then only key quals may drop its rows before the merge)
        self.over_earlier = over_earlier
        self.total = total
        self.filtered = filtered  # of the pruned, those skipped by their key filter

    @property
    def pruned(self) -> int:
        return self.total - len(self.kept)

    def describe(self) -> str:
        by_filter = f", {self.filtered} by filter" if self.filtered else ""
        return (f"Objects: {len(self.kept)} of {self.total} "
                f"({self.pruned - self.filtered} pruned by index{by_filter})")


def _temporal(value: Any, column: Column) -> int | None:
    """A date / timestamp qual value as the index stores it, or None."""
    if isinstance(value, str) and value in ("infinity", "-infinity"):
        limit = _INT32_MAX if column.base == "date" else _INT64_MAX
        return limit if value == "infinity" else -limit - 1
    if column.base == "date":
        return (value - _UNIX_DAY0).days if type(value) is datetime.date else None
    if not isinstance(value, datetime.datetime):
        return None
    if column.base == "timestamptz":
        if value.utcoffset() is None:
            return None
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    elif value.tzinfo is not None:
        return None
    return (value - _Y2K) // datetime.timedelta(microseconds=1)


def _float_key(value: Any) -> tuple[int, float] | None:
    """PostgreSQL's float order: NaN above everything. Index bounds spell NaN and the
    infinities as strings, and come from jsonb as Decimals (the shortest text of the
    float they were written from, so float() gives that float back)."""
    if isinstance(value, str):
        value = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}.get(value)
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return (1, 0.0) if math.isnan(value) else (0, float(value))


def key_function(column: Column, operator: str) -> Callable[[Any], Any] | None:
    """How a qual value and an index bound of this column become comparable keys, or
    None when this qual cannot prune."""
    base = column.base
    if base in ("int2", "int4", "int8"):
        return lambda v: v if type(v) is int else None
    if base in ("float4", "float8"):
        return _float_key
    if base == "bool":
        return lambda v: v if type(v) is bool else None
    if base in ("date", "timestamp", "timestamptz"):
        return lambda v: v if type(v) is int else _temporal(v, column)
    if base == "bytea":
        return lambda v: ("\\x" + bytes(v).hex()) if isinstance(v, (bytes, bytearray)) \
            else v if isinstance(v, str) and v.startswith("\\x") else None
    if base in ("text", "varchar", "name") and operator == "=":
        return lambda v: v if type(v) is str else None
    return None


def _may_match(qual: Qual, column: Column, entry: dict[str, Any], rows: int) -> bool:
    """False only when the index proves no row of the object satisfies the qual."""
    operator, value = qual.operator, qual.value
    nulls = entry.get("nulls")
    if isinstance(operator, tuple):
        operator, any_of = operator
        if not any_of or operator != "=" or not isinstance(value, (list, tuple)):
            return True  # ALL(...) and other list forms: no pruning
        return any(_compare("=", v, column, entry) for v in value if v is not None)
    if value is None:
        if nulls is None:
            return True
        if operator == "=":           # IS NULL
            return nulls > 0
        if operator == "<>":          # IS NOT NULL
            return nulls < rows
        return True
    if operator not in _COMPARISONS:
        return True
    return _compare(operator, value, column, entry)


def _compare(operator: str, value: Any, column: Column, entry: dict[str, Any]) -> bool:
    key = key_function(column, operator)
    if key is None or "min" not in entry:
        return True
    wanted, low, high = key(value), key(entry["min"]), key(entry["max"])
    if wanted is None or low is None or high is None:
        return True
    if operator == "=":
        return low <= wanted <= high
    if operator in ("<", "<="):
        return low < wanted or (operator == "<=" and low == wanted)
    return high > wanted or (operator == ">=" and high == wanted)


def _all_null(entry: dict[str, Any], rows: int) -> bool:
    return entry.get("nulls") == rows


def may_match(columns: dict[str, dict[str, Any]], rows: int, quals: Sequence[Qual],
              schema: TableSchema) -> bool:
    """False only when the index `columns` (name -> nulls, min, max in the index's
    stored form) of `rows` rows proves that none satisfies every qual: an object's
    index, or the statistics of a row group inside it."""
    for qual in quals:
        entry = columns.get(qual.field_name)
        if entry is None:
            continue
        column = schema.column(qual.field_name)
        if not isinstance(qual.operator, tuple) and qual.value is not None \
                and _all_null(entry, rows):
            return False  # a comparison with a column that is NULL in every row
        if not _may_match(qual, column, entry, rows):
            return False
    return True


def key_range_of(info: ObjectInfo, schema: TableSchema) -> tuple[Any, Any] | None:
    first = schema.column(schema.primary_key[0])
    entry = info.index.get("columns", {}).get(first.name, {})
    key = key_function(first, "=")  # overlap needs equality only: byte order is fine
    if key is None or "min" not in entry or entry.get("nulls"):
        return None
    low, high = key(entry["min"]), key(entry["max"])
    return None if low is None or high is None else (low, high)


def overlaps(a: tuple[Any, Any] | None, b: tuple[Any, Any] | None) -> bool:
    return a is None or b is None or not (a[1] < b[0] or b[1] < a[0])


def _lookup_value(value: Any, column: Column) -> Any:
    """A qual value in the form its column's filter hashed the stored values (int, float,
    str or bytes), or None."""
    base = column.base
    if base in ("int2", "int4", "int8"):
        return value if type(value) is int and -2**63 <= value < 2**63 else None
    if base in ("float4", "float8"):
        exact = type(value) is float or (type(value) is int and abs(value) <= 2**53)
        return float(value) if exact else None
    if base == "bool":
        return int(value) if type(value) is bool else None
    if base in ("date", "timestamp", "timestamptz"):
        return _temporal(value, column)
    if base == "bytea":
        return bytes(value) if isinstance(value, (bytes, bytearray, memoryview)) else None
    if base == "uuid":
        return str(value) if isinstance(value, uuid.UUID) else None  # uuid_out's spelling
    if base == "numeric":
        exact = isinstance(value, decimal.Decimal) or type(value) is int
        return numeric_text(value) if exact else None
    return value if type(value) is str else None


def _key_lookups(quals: Sequence[Qual], schema: TableSchema) -> list[tuple[str, list]]:
    """Per '=' or '= ANY' qual on a key column that has filters: the column and the hash
    pairs of the values one of which a returned row has."""
    columns = {column.name: column for column in filtered_columns(schema)}
    lookups = []
    for qual in quals:
        column = columns.get(qual.field_name)
        if column is None:
            continue
        if qual.operator == "=" and qual.value is not None:
            values = [qual.value]
        elif qual.operator == ("=", True) and isinstance(qual.value, (list, tuple)):
            values = [value for value in qual.value if value is not None]  # NULL: no row
        else:
            continue
        converted = [_lookup_value(value, column) for value in values]
        if any(value is None for value in converted):
            continue
        lookups.append((column.name, hash_pairs(converted)))
    return lookups


def plan_objects(objects: Sequence[ObjectInfo], quals: Sequence[Qual], schema: TableSchema
                 ) -> Plan:
    """The objects to read: those the index cannot rule out, plus (for a keyed table)
    every later object whose key range overlaps one of those -- less those whose key
    filters hold none of the keys asked for."""
    kept: list[ObjectInfo] = []
    over_earlier: list[bool] = []
    ranges: list[tuple[Any, Any] | None] = []
    lookups = _key_lookups(quals, schema) if schema.primary_key else []
    filtered = 0
    for info in objects:
        key_range = key_range_of(info, schema) if schema.primary_key else None
        supersedes = bool(schema.primary_key) and any(overlaps(key_range, r) for r in ranges)
        if not supersedes and not may_match(info.index.get("columns", {}), info.rows, quals,
                                            schema):
            continue
        if lookups and not may_satisfy(info.filters, lookups):
            filtered += 1
            continue
        kept.append(info)
        over_earlier.append(supersedes)
        ranges.append(key_range)
    return Plan(kept, over_earlier, len(objects), filtered)


# PostgreSQL's defaults where nothing better is known (selfuncs.h)
_EQUALITY, _INEQUALITY, _OTHER = 0.005, 1 / 3, 0.5


def _position(value: Any) -> float | None:
    """A key_function value as a number on the column's axis, for interpolation."""
    if isinstance(value, tuple):  # floats: (NaN flag, value)
        value = math.inf if value[0] else value[1]
    return float(value) if isinstance(value, (int, float)) else None


def _selectivity(qual: Qual, column: Column, entry: dict[str, Any], rows: int,
                 unique: bool) -> float:
    """The share of an object's rows that satisfy the qual, from its index entry."""
    operator, value = qual.operator, qual.value
    equality = 1 / max(1, rows) if unique else _EQUALITY
    if isinstance(operator, tuple):
        count = len(value) if isinstance(value, (list, tuple)) else 1
        return min(1.0, count * equality) if operator == ("=", True) else _OTHER
    if value is None:
        nulls = entry.get("nulls")
        if nulls is None or operator not in ("=", "<>"):
            return _OTHER
        share = nulls / max(1, rows)
        return share if operator == "=" else 1 - share
    if operator == "=":
        return equality
    if operator not in _COMPARISONS:
        return _OTHER
    key = key_function(column, operator)
    if key is None or "min" not in entry:
        return _INEQUALITY
    low, high, wanted = (_position(key(v)) for v in (entry["min"], entry["max"], value))
    if low is None or high is None or wanted is None or not math.isfinite(high - low):
        return _INEQUALITY
    if high <= low:
        return 1.0  # one value, and the index says it may match
    below = min(1.0, max(0.0, (wanted - low) / (high - low)))
    return below if operator in ("<", "<=") else 1 - below


def estimated_rows(plan: Plan, quals: Sequence[Qual], schema: TableSchema) -> float:
    """Rows the scan returns: each kept object's current rows times the selectivity of
    the quals by its index (ranges interpolated between min and max, equality on a
    one-column key one row)."""
    total = 0.0
    for info in plan.kept:
        rows = info.rows - 2 * info.index.get("deletes", 0)
        share = 1.0
        for qual in quals:
            entry = info.index.get("columns", {}).get(qual.field_name, {})
            unique = tuple(schema.primary_key) == (qual.field_name,)
            share *= _selectivity(qual, schema.column(qual.field_name), entry, info.rows,
                                  unique)
        total += max(0, rows) * share
    return total
