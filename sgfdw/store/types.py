"""Column types: which PostgreSQL types the store keeps, and how each is stored in Arrow.

Every value must come back exactly as it went in. Types with an Arrow equivalent that
holds all their values are stored natively (compact, and their min/max can prune):
integers, floats, bool, strings, bytea, date and timestamps (as integers, see
_Temporal). Types whose text form is exact are stored as that text (numeric with all
its digits and NaN/Infinity, json as written, jsonb, uuid, times, intervals, network
addresses, bit strings, and arrays of any supported type, bounds included): the SQL
functions run with fixed DateStyle / IntervalStyle / extra_float_digits, so the text
means the same whatever the session's settings. Anything else is refused up front,
naming the column.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from sgfdw import pg
from sgfdw.store.errors import UnsupportedType

__all__ = ["Column", "TableSchema", "storage_of", "Storage", "FLAG"]

# The per-row upsert (true) / delete (false) flag every fragment carries last.
FLAG = "sg_ud_flag"

# typname -> (Arrow type, the type values are bound as when written back)
_NATIVE: dict[str, tuple[pa.DataType, str]] = {
    "int2": (pa.int16(), "int2"), "int4": (pa.int32(), "int4"), "int8": (pa.int64(), "int8"),
    "float4": (pa.float32(), "float4"), "float8": (pa.float64(), "float8"),
    "bool": (pa.bool_(), "bool"),
    "text": (pa.string(), "text"), "varchar": (pa.string(), "text"),
    "bpchar": (pa.string(), "text"), "name": (pa.string(), "text"),
    "bytea": (pa.binary(), "bytea"),
}
_AS_TEXT = frozenset({"numeric", "json", "jsonb", "uuid", "time", "timetz", "interval",
                      "inet", "cidr", "macaddr", "macaddr8", "bit", "varbit"})


def supported_types() -> list[str]:
    return sorted([*_NATIVE, *_TEMPORAL, *_AS_TEXT]) + ["arrays of these"]


@dataclass(frozen=True)
class Column:
    name: str
    type: str   # format_type(): with typmod, e.g. numeric(10,2), character varying(5)[]
    base: str   # pg_type.typname of the column's type, e.g. numeric, _int4

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "type": self.type, "base": self.base}

    @classmethod
    def from_json(cls, value: dict[str, str]) -> "Column":
        return cls(value["name"], value["type"], value["base"])


@dataclass(frozen=True)
class TableSchema:
    """A table version's schema: ordered columns and primary key (may be empty)."""

    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"columns": [c.to_json() for c in self.columns],
                "primary_key": list(self.primary_key)}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> "TableSchema":
        return cls(tuple(Column.from_json(c) for c in value["columns"]),
                   tuple(value["primary_key"]))

    def column(self, name: str) -> Column:
        return self._by_name[name]

    @cached_property
    def _by_name(self) -> dict[str, Column]:
        # readers look columns up per qual and per row group
        return {c.name: c for c in self.columns}


class Storage:
    """How one column's values travel: PostgreSQL -> Python -> Arrow and back."""

    def __init__(self, arrow_type: pa.DataType, wire_type: str, as_text: bool) -> None:
        self.arrow_type = arrow_type
        self.wire_type = wire_type  # the array parameter type of a write: $1::<wire>[]
        self.as_text = as_text

    def read_expression(self, quoted_column: str) -> str:
        """The select-list item that reads the column for storing."""
        return f"{quoted_column}::text" if self.as_text else quoted_column

    def to_arrow(self, values: Sequence[Any]) -> pa.Array:
        return pa.array(values, type=self.arrow_type)

    @property
    def wire_types(self) -> tuple[str, ...]:
        """The types of the array parameters one column's values are written with."""
        return (self.wire_type,)

    def to_params(self, array: pa.Array) -> list[list[Any]]:
        """One list per wire type, of the values of a stored array."""
        return [array.to_pylist()]

    def to_python(self, array: pa.Array | pa.ChunkedArray) -> list[Any]:
        """The values of a stored array as Python values a reader hands to PostgreSQL
        (a text-stored value is its type's text, read by the type's input function)."""
        return array.to_pylist()

    def to_standard(self, array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
        """The values in Arrow's standard type for the column's type (what a consumer of
        Arrow such as the bridge's batch lane reads as that PostgreSQL type), exactly:
        stored arrays of native types as they are, text-stored values as their text."""
        return array

    def write_expression(self, values: list[str], column_type: str) -> str:
        """The select-list item that turns the bound values back into the column's type."""
        return f"{values[0]}::{column_type}"

    @property
    def orderable(self) -> bool:
        """Whether Arrow's order of stored values is PostgreSQL's (bytewise for text)."""
        return not self.as_text


class _Temporal(Storage):
    """date / timestamp / timestamptz as integers: days since 1970 (Arrow's date32) and
    microseconds since 2000 (PostgreSQL's own encoding: microseconds since 1970 cannot
    reach its last years), the extremes of the integer range being -infinity and
    infinity as in PostgreSQL. Values travel as Python dates and datetimes, which cover
    years 1-9999 only: other years and infinities come from PostgreSQL as text, read
    by the server one value at a time (they are rare)."""

    def __init__(self, arrow_type: pa.DataType, wire_type: str, python_type: pa.DataType,
                 shift: int, unit: datetime.timedelta, epoch: datetime.date,
                 fast_range: tuple[int, int], to_int_sql: str, in_utc: bool = False) -> None:
        super().__init__(arrow_type, wire_type, False)
        self._in_utc = in_utc
        self._python_type = python_type  # what Python dates / datetimes convert to
        self._int_type = pa.int32() if pa.types.is_date(arrow_type) else pa.int64()
        self._shift = shift  # stored integer + shift = the integer of python_type
        self._unit = unit
        self._epoch = epoch
        self._to_int_sql = to_int_sql
        self._fast_min, self._fast_max = fast_range

    def _as_int(self, value: datetime.date) -> int:
        return (value - self._epoch) // self._unit

    # timestamptz is read as timestamp in UTC: Python converts naive datetimes many
    # times faster than aware ones, and the instant is the same.
    def read_expression(self, quoted_column: str) -> str:
        return f"({quoted_column} AT TIME ZONE 'UTC')" if self._in_utc else quoted_column

    # Written back as integers the server adds to the epoch, exact for every value of
    # the fast range (days: all finite dates; microseconds: within 2^53, where the
    # float factor of interval * number is exact, i.e. years 1715 to 2285), and as
    # text for the others.
    @property
    def wire_types(self) -> tuple[str, ...]:
        return ("int8", "text")

    def write_expression(self, values: list[str], column_type: str) -> str:
        number, text = values
        if self._int_type == pa.int32():
            fast = f"DATE '1970-01-01' + {number}::int4"
            slow = f"{text}::date"
        elif self._in_utc:
            fast = f"TIMESTAMPTZ '2000-01-01 00:00:00+00' + {number} * interval '1 microsecond'"
            slow = f"({text}::timestamp AT TIME ZONE 'UTC')"
        else:
            fast = f"TIMESTAMP '2000-01-01' + {number} * interval '1 microsecond'"
            slow = f"{text}::timestamp"
        return f"coalesce({fast}, {slow})::{column_type}"

    def to_params(self, array: pa.Array) -> list[list[Any]]:
        ints = array.cast(self._int_type).cast(pa.int64())
        slow = pc.or_(pc.less(ints, self._fast_min), pc.greater(ints, self._fast_max))
        mask = slow.fill_null(False)
        if not pc.any(mask).as_py():
            return [ints.to_pylist(), []]
        texts: list[str | None] = [None] * len(ints)
        raw = ints.to_pylist()
        for position in pc.indices_nonzero(mask).to_pylist():
            texts[position] = self._text(raw[position])
        return [pc.if_else(mask, pa.scalar(None, pa.int64()), ints).to_pylist(), texts]

    def to_python(self, array: pa.Array | pa.ChunkedArray) -> list[Any]:
        """Python dates / datetimes (timestamptz: aware, in UTC) where Python has the
        year, the text of the others (infinities, years before 1 or after 9999)."""
        ints = array.cast(self._int_type).cast(pa.int64())
        slow = pc.or_(pc.less(ints, self._python_min), pc.greater(ints, self._python_max))
        mask = slow.fill_null(False)
        if pc.any(mask).as_py():
            values = self._native(pc.if_else(mask, pa.scalar(None, pa.int64()), ints))
            raw = ints.to_pylist()
            for position in pc.indices_nonzero(mask).to_pylist():
                values[position] = self._text(raw[position], with_zone=self._in_utc)
            return values
        return self._native(ints)

    def to_standard(self, array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
        """date32, or timestamp[us] (timestamptz: in UTC) -- unless some value is beyond
        them (infinities, timestamps after 294247): then the text of every value."""
        ints = array.cast(self._int_type).cast(pa.int64())
        beyond = pc.or_(pc.less(ints, self._standard_min),
                        pc.greater(ints, self._standard_max)).fill_null(False)
        if pc.any(beyond).as_py():
            return pa.array([value if value is None or isinstance(value, str)
                             else value.isoformat() for value in self.to_python(array)],
                            pa.string())
        return self._standard(ints)

    @property
    def _standard_min(self) -> int:
        return -_INT_MAX[self._int_type]  # -infinity is the integer type's minimum

    @property
    def _standard_max(self) -> int:
        return _INT_MAX[self._int_type] - max(self._shift, 1)  # shifted into 1970's epoch

    def _native(self, ints: pa.Array | pa.ChunkedArray) -> list[Any]:
        return self._standard(ints).to_pylist()

    def _standard(self, ints: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
        if self._int_type == pa.int32():
            return ints.cast(pa.int32()).cast(pa.date32())
        zone = "UTC" if self._in_utc else None
        return pc.add(ints, self._shift).cast(pa.timestamp("us", tz=zone))

    @property
    def _python_min(self) -> int:
        return self._as_int(self._epoch.replace(year=1, month=1, day=1))

    @property
    def _python_max(self) -> int:
        last = datetime.datetime.max if self._int_type == pa.int64() else datetime.date.max
        return self._as_int(last)

    def to_arrow(self, values: Sequence[Any]) -> pa.Array:
        try:
            native = pa.array(values, type=self._python_type)
            if not self._shift:
                return native
            return pc.subtract_checked(native.cast(pa.int64()), self._shift)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
        ints = [None if value is None
                else pg.execute(self._to_int_sql, [value])[0][0] if isinstance(value, str)
                else self._as_int(value)
                for value in values]
        return pa.array(ints, type=self._int_type).cast(self.arrow_type)

    def _text(self, stored: int, with_zone: bool = False) -> str:
        """A value outside the fast range as the text PostgreSQL reads back exactly
        (with_zone: a timestamptz's, in UTC)."""
        if stored in (_INT_MAX[self._int_type], -_INT_MAX[self._int_type] - 1):
            return "infinity" if stored > 0 else "-infinity"
        if self._int_type == pa.int32():
            return _iso_date(stored)
        days, microseconds = divmod(stored, 86400 * 10**6)
        seconds, fraction = divmod(microseconds, 10**6)
        text = (f"{_iso_date(days + _Y2K_DAYS, era=False)} {seconds // 3600:02}:"
                f"{seconds // 60 % 60:02}:{seconds % 60:02}.{fraction:06}"
                + ("+00" if with_zone else ""))
        return text + (" BC" if _civil(days + _Y2K_DAYS)[0] <= 0 else "")


_MICROSECOND = datetime.timedelta(microseconds=1)
_Y2K_DAYS = 10957  # 2000-01-01 in days since 1970
_Y2K_US = _Y2K_DAYS * 86400 * 10**6
_Y2K = datetime.datetime(2000, 1, 1)
_INT_MAX = {pa.int32(): 2**31 - 1, pa.int64(): 2**63 - 1}
# Integer arithmetic only: date - date is exact; a timestamp's binary send form is its
# stored integer (extract(epoch ...) rounds near the end of the range).
_DAYS = ("SELECT CASE WHEN isfinite($1::date) THEN $1::date - DATE '1970-01-01' "
         "WHEN $1::date > DATE '1970-01-01' THEN 2147483647 ELSE -2147483648 END")
_MICROSECONDS = "SELECT ('x' || encode({t}_send($1::{t}), 'hex'))::bit(64)::int8"


def _civil(days: int) -> tuple[int, int, int]:
    """Proleptic Gregorian (year, month, day) of days since 1970 for any year (year 0
    is 1 BC); H. Hinnant's civil_from_days."""
    z = days + 719468
    era, day_of_era = divmod(z, 146097)
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36524
                   - day_of_era // 146096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = shifted_month + 3 if shifted_month < 10 else shifted_month - 9
    return year_of_era + era * 400 + (month <= 2), month, day


def _iso_date(days: int, era: bool = True) -> str:
    year, month, day = _civil(days)
    text = f"{year if year > 0 else 1 - year:04}-{month:02}-{day:02}"
    return text + (" BC" if era and year <= 0 else "")


_TEMPORAL = {
    "date": _Temporal(
        pa.date32(), "date", pa.date32(), 0, datetime.timedelta(days=1),
        datetime.date(1970, 1, 1), (-2**31 + 1, 2**31 - 2), _DAYS),
    "timestamp": _Temporal(
        pa.int64(), "timestamp", pa.timestamp("us"), _Y2K_US, _MICROSECOND, _Y2K,
        (-2**53, 2**53), _MICROSECONDS.format(t="timestamp")),
    "timestamptz": _Temporal(
        pa.int64(), "timestamp", pa.timestamp("us"), _Y2K_US, _MICROSECOND, _Y2K,
        (-2**53, 2**53), _MICROSECONDS.format(t="timestamp"), in_utc=True),
}
_TEXT = Storage(pa.string(), "text", True)


def storage_of(column: Column) -> Storage:
    base = column.base
    if base in _TEMPORAL:
        return _TEMPORAL[base]
    if base in _NATIVE:
        arrow_type, wire_type = _NATIVE[base]
        return Storage(arrow_type, wire_type, False)
    element = base[1:] if base.startswith("_") else None
    if base in _AS_TEXT or element in (*_AS_TEXT, *_NATIVE, *_TEMPORAL):
        return _TEXT
    raise UnsupportedType(
        f'column "{column.name}" has type {column.type}, which the object store does '
        "not support",
        hint="Supported: " + ", ".join(supported_types()) + ". Cast the column in a "
             "query given as the source, e.g. SELECT col::text ...")


def check_schema(schema: TableSchema) -> None:
    """Refuses a schema the store cannot keep, before any data is read."""
    for column in schema.columns:
        if column.name == FLAG:
            raise UnsupportedType(f'column name "{FLAG}" is reserved by the object store')
        storage_of(column)
