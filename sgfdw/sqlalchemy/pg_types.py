"""A reflected SQLAlchemy type -> the PostgreSQL type of the imported column.

  Integer -> integer, BigInteger -> bigint, SmallInteger -> smallint,
  Numeric(p,s) -> numeric(p,s), Float -> double precision (PostgreSQL's own REAL: real),
  String(n)/VARCHAR(n) -> varchar(n), String/Text/CLOB -> text, CHAR(n) -> character(n)
  from PostgreSQL (varchar(n) elsewhere: other databases do not blank-pad),
  Enum -> text (the enum type does not exist locally), Boolean -> boolean, Date -> date,
  DateTime -> timestamp / timestamp with time zone, Time -> time [with time zone],
  Interval -> interval, LargeBinary/BLOB/BYTEA -> bytea, JSON/JSONB -> jsonb,
  UUID -> uuid, ARRAY(x) -> x[] (one [] per dimension).

Fallback: any other type becomes ``text`` -- every value has a text form the bridge can
pass on, so such columns stay readable (and writable when the source accepts text for
them). From a PostgreSQL source, built-in types PostgreSQL also has locally (inet, cidr,
macaddr, money, xml, tsvector, ...) keep their own name. IMPORT FOREIGN SCHEMA lists the
columns that fell back to text in a NOTICE.

SQLite declares types by free text, and SQLAlchemy's reflection guesses a type from its
affinity rules (``uuid`` reflects as NUMERIC); for SQLite the declared name is read too
(``pragma_table_info``) and a declared PostgreSQL type name (uuid, jsonb, timestamptz,
interval, ...) is taken at its word.
"""
from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.sql import sqltypes

__all__ = ["pg_type_for", "pg_type_for_declared", "FALLBACK"]

FALLBACK = "text"

# PostgreSQL built-in types a PostgreSQL source may report that exist locally as well.
_PG_BUILTINS = frozenset({
    "inet", "cidr", "macaddr", "macaddr8", "money", "xml", "tsvector", "tsquery",
    "bit", "bit varying", "varbit", "oid", "point", "line", "lseg", "box", "path",
    "polygon", "circle", "int4range", "int8range", "numrange", "tsrange", "tstzrange",
    "daterange", "pg_lsn", "txid_snapshot", "regclass", "citext",
})

# Declared SQLite type names (upper case, without modifiers) that are PostgreSQL's.
_DECLARED = {
    "UUID": "uuid", "JSONB": "jsonb", "JSON": "jsonb", "TIMESTAMPTZ": "timestamp with time zone",
    "TIMESTAMP WITH TIME ZONE": "timestamp with time zone", "INTERVAL": "interval",
    "BYTEA": "bytea", "TIMETZ": "time with time zone", "INT8": "bigint", "INT4": "integer",
    "INT2": "smallint", "FLOAT8": "double precision", "FLOAT4": "real", "BOOL": "boolean",
    "INET": "inet", "CIDR": "cidr", "MONEY": "money",
}


def _numeric(type_: sqltypes.Numeric) -> str:
    precision, scale = type_.precision, type_.scale
    if precision is None:
        return "numeric"
    return f"numeric({precision},{scale})" if scale is not None else f"numeric({precision})"


def pg_type_for(type_: sa.types.TypeEngine, dialect_name: str) -> tuple[str, bool]:
    """(PostgreSQL type name, whether it is the text fallback)."""
    if isinstance(type_, sqltypes.ARRAY):
        item, fallback = pg_type_for(type_.item_type, dialect_name)
        return item + "[]" * max(1, type_.dimensions or 1), fallback
    if isinstance(type_, sqltypes.Boolean):
        return "boolean", False
    if isinstance(type_, sqltypes.SmallInteger):
        return "smallint", False
    if isinstance(type_, sqltypes.BigInteger):
        return "bigint", False
    if isinstance(type_, sqltypes.Integer):
        return "integer", False
    if isinstance(type_, sqltypes.Float):
        if dialect_name == "postgresql" and isinstance(type_, sqltypes.REAL):
            return "real", False
        return "double precision", False
    if isinstance(type_, sqltypes.Numeric):
        return _numeric(type_), False
    if isinstance(type_, sqltypes.Enum):
        return "text", False
    if isinstance(type_, sqltypes.String):
        length = getattr(type_, "length", None)
        if isinstance(type_, (sqltypes.Text,)) or not length:
            return "text", False
        if isinstance(type_, sqltypes.CHAR) and dialect_name == "postgresql":
            return f"character({length})", False
        return f"varchar({length})", False
    if isinstance(type_, sqltypes.DateTime):
        return ("timestamp with time zone" if type_.timezone else "timestamp"), False
    if isinstance(type_, sqltypes.Date):
        return "date", False
    if isinstance(type_, sqltypes.Time):
        return ("time with time zone" if type_.timezone else "time"), False
    if isinstance(type_, sqltypes._AbstractInterval):
        return "interval", False
    if isinstance(type_, sqltypes.LargeBinary) or type(type_).__name__.upper() == "BYTEA":
        return "bytea", False
    if isinstance(type_, sqltypes.JSON):
        return "jsonb", False
    if isinstance(type_, sqltypes.Uuid):
        return "uuid", False
    if dialect_name == "postgresql" and not isinstance(type_, sqltypes.NullType):
        from sqlalchemy.dialects import postgresql

        try:
            name = type_.compile(dialect=postgresql.dialect()).lower()
        except Exception:
            name = ""
        if re.sub(r"\(.*\)", "", name).strip() in _PG_BUILTINS:
            return name, False
    return FALLBACK, True


def pg_type_for_declared(declared: str, reflected: sa.types.TypeEngine) -> tuple[str, bool]:
    """A SQLite column's type from its declared name, else from the reflected type."""
    base = re.sub(r"\(.*\)", "", declared or "").strip().upper()
    if base in _DECLARED:
        return _DECLARED[base], False
    if not base:
        return FALLBACK, True  # no declared type: any value at all
    type_name, fallback = pg_type_for(reflected, "sqlite")
    if (isinstance(reflected, sqltypes.Numeric) and not isinstance(reflected, sqltypes.Float)
            and not any(word in base for word in ("NUM", "DEC"))):
        # SQLite's affinity rules made an unknown name NUMERIC: its values could be
        # anything, so the documented fallback applies.
        return FALLBACK, True
    return type_name, fallback
