"""How values of each column travel between PostgreSQL and the source.

Each local column gets a *category* from its PostgreSQL type, each remote column one
from its reflected SQLAlchemy type. The SQLAlchemy type the query uses for a column is:

* PostgreSQL and other typed sources: the reflected type when both categories agree
  (its bind/result processing is the driver's native one), else :class:`Passthrough`
  (raw driver values; the bridge reads str through the column type's input function);
* SQLite, whose reflected types are only declared names (an unknown name such as
  ``uuid`` reflects as NUMERIC): :class:`SqliteValue`, which stores values the way
  SQLAlchemy's own SQLite types do (dates as ISO text, datetimes as
  ``YYYY-MM-DD HH:MM:SS.ffffff``, timestamptz in UTC, booleans as 0/1, UUIDs as 32 hex
  digits, JSON and arrays as JSON text) and reads them back by the local type.
"""
from __future__ import annotations

import datetime
import decimal
import json
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import sqltypes
from sqlalchemy.types import TypeDecorator

from multicorn import ColumnDefinition
from sgfdw import type_oids as oids
from sgfdw.value_codec import json_dumps

__all__ = ["local_category", "remote_category", "compatible", "query_type", "projection",
           "NUMBERS"]

NUMBERS = frozenset({"integer", "float", "numeric"})

_OID_CATEGORIES = {
    oids.INT8: "integer", oids.INT2: "integer", oids.INT4: "integer", oids.OID: "integer",
    oids.FLOAT4: "float", oids.FLOAT8: "float", oids.NUMERIC: "numeric", oids.BOOL: "boolean",
    oids.TEXT: "string", oids.VARCHAR: "string", oids.BPCHAR: "string", oids.NAME: "string",
    oids.CHAR: "string", oids.DATE: "date", oids.TIMESTAMP: "timestamp",
    oids.TIMESTAMPTZ: "timestamptz", oids.TIME: "time", oids.TIMETZ: "time",
    oids.INTERVAL: "interval", oids.BYTEA: "binary", oids.JSON: "json", oids.JSONB: "json",
    oids.UUID: "uuid",
}
_NAME_CATEGORIES = {
    "smallint": "integer", "integer": "integer", "bigint": "integer",
    "real": "float", "double precision": "float", "numeric": "numeric",
    "boolean": "boolean", "text": "string", "character varying": "string",
    "character": "string", "name": "string", "date": "date",
    "timestamp without time zone": "timestamp", "timestamp with time zone": "timestamptz",
    "time without time zone": "time", "time with time zone": "time",
    "interval": "interval", "bytea": "binary", "json": "json", "jsonb": "json",
    "uuid": "uuid",
}


def local_category(column: ColumnDefinition) -> str:
    type_name = column.type_name or column.base_type_name or ""
    if type_name.endswith("]"):
        return "array"
    if column.type_oid in _OID_CATEGORIES:
        return _OID_CATEGORIES[column.type_oid]
    base = (column.base_type_name or type_name).split("(")[0].strip().lower()
    return _NAME_CATEGORIES.get(base, "other")


def remote_category(type_: sa.types.TypeEngine) -> str:
    checks: tuple[tuple[Any, str], ...] = (
        (sqltypes.NullType, "unknown"), (sqltypes.ARRAY, "array"),
        (sqltypes.Boolean, "boolean"), (sqltypes.Integer, "integer"),
        (sqltypes.Float, "float"), (sqltypes.Numeric, "numeric"),
        (sqltypes.Enum, "enum"), (sqltypes.String, "string"),
        (sqltypes.DateTime, "timestamp"), (sqltypes.Date, "date"),
        (sqltypes.Time, "time"), (sqltypes._AbstractInterval, "interval"),
        (sqltypes.LargeBinary, "binary"), (sqltypes.JSON, "json"),
        (sqltypes.Uuid, "uuid"),
    )
    for cls, category in checks:
        if isinstance(type_, cls):
            return category
    if type(type_).__name__.upper() == "BYTEA":
        return "binary"
    return "other"


def compatible(local: str, remote: str, local_type: str = "",
               remote_type_name: str = "") -> bool:
    """Whether the remote type's own processing gives values fit for the local type."""
    if local in NUMBERS and remote in NUMBERS:
        return True
    if local == "string" and remote in ("string", "enum"):
        return True
    if local in ("timestamp", "timestamptz") and remote == "timestamp":
        return True
    if local == "other" and remote == "other":
        return bool(remote_type_name) and remote_type_name.lower() == local_type.lower()
    return local == remote and local not in ("other", "unknown")


# --------------------------------------------------------------------------- passthrough


class Passthrough(TypeDecorator):
    """Raw driver values; only what a driver cannot bind is turned into text/JSON."""

    impl = sqltypes.NullType
    cache_ok = True

    def __init__(self, dialect_name: str) -> None:
        super().__init__()
        self.dialect_name = dialect_name

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, dict) or (isinstance(value, list)
                                       and self.dialect_name != "postgresql"):
            if self.dialect_name == "postgresql":
                from psycopg2.extras import Json

                return Json(value, dumps=json_dumps)
            return json_dumps(value)
        return value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return value


# --------------------------------------------------------------------------- SQLite

_EPOCH = datetime.datetime(1970, 1, 1)


def _sqlite_datetime_text(value: datetime.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def sqlite_bind(value: Any) -> Any:
    """A Python value from PostgreSQL as SQLite (and SQLAlchemy's SQLite types) keep it."""
    if value is None or isinstance(value, (str, int, float, bytes)):
        return int(value) if isinstance(value, bool) else value
    if isinstance(value, datetime.datetime):
        return _sqlite_datetime_text(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.time):
        return value.replace(tzinfo=None).strftime("%H:%M:%S.%f")
    if isinstance(value, datetime.timedelta):
        return _sqlite_datetime_text(_EPOCH + value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, (dict, list, tuple)):
        return json_dumps(value)
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    return str(value)


def _parse_datetime(text: str) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        return None


def _sqlite_result(category: str, value: Any) -> Any:
    if value is None:
        return None
    if category == "boolean" and isinstance(value, (int, float)):
        return bool(value)
    if category == "numeric" and isinstance(value, float):
        return decimal.Decimal(repr(value))
    if category == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    if category == "timestamptz" and isinstance(value, str):
        parsed = _parse_datetime(value)
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)
    if category == "interval" and isinstance(value, str):
        parsed = _parse_datetime(value)
        if parsed is not None and parsed.tzinfo is None:
            return parsed - _EPOCH
    if category == "array" and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if category == "uuid" and isinstance(value, bytes) and len(value) == 16:
        return uuid.UUID(bytes=value)
    return value


class SqliteValue(TypeDecorator):
    """A SQLite column read and written by its local (PostgreSQL) category."""

    impl = sqltypes.NullType
    cache_ok = True

    def __init__(self, category: str) -> None:
        super().__init__()
        self.category = category

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return sqlite_bind(value)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return _sqlite_result(self.category, value)


# --------------------------------------------------------------------------- choice


def remote_type_name(type_: sa.types.TypeEngine, dialect: Any) -> str:
    try:
        return type_.compile(dialect=dialect)
    except Exception:
        return ""


def query_type(local: str, local_type: str, reflected: sa.types.TypeEngine,
               dialect: Any) -> tuple[sa.types.TypeEngine, bool]:
    """(SQLAlchemy type to use in queries, whether values compare as PostgreSQL's do).

    The flag is False when the column's values are passed through untyped, so quals on
    them (other than IS [NOT] NULL) and sorts must not be pushed.
    """
    if dialect.name == "sqlite":
        # The declared type must say the same kind of value, or comparisons are SQLite's
        # type-affinity rules rather than PostgreSQL's: a column without one (BLOB
        # affinity) keeps 10 and '10' apart (and sorts numbers before text), while the
        # local text column reads both as '10'.
        return SqliteValue(local), compatible(local, remote_category(reflected),
                                              local_type, "")
    remote = remote_category(reflected)
    if compatible(local, remote, local_type, remote_type_name(reflected, dialect)):
        return reflected, True
    return Passthrough(dialect.name), False


def projection(column: sa.ColumnElement, local: str, dialect_name: str) -> sa.ColumnElement:
    """What to select for a column: itself, or a lossless text form of it.

    PostgreSQL intervals with months come from psycopg2 as timedelta with 30-day months;
    their text keeps them exact and the bridge reads it with interval's input function.
    """
    if dialect_name == "postgresql" and local == "interval":
        return sa.cast(column, sa.Text).label(column.key)
    return column
