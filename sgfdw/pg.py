"""In-process SQL for Python code running inside a PostgreSQL backend.

Statements run through SPI in the caller's transaction and snapshot, each in its own
subtransaction: an SQL error comes back as sgfdw.errors.SqlError (with its SQLSTATE)
and, once caught, leaves the transaction usable. Parameters are bound, never pasted
into the SQL: write $1, $2, ... and pass their values; their types are inferred from
the statement, starting from each Python value's natural type.

Outside a backend (no _sgfdw module) every function that runs SQL raises RuntimeError.
"""
from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any, Iterator, Sequence

import multicorn
from sgfdw import type_oids as oids

try:
    import _sgfdw
except ImportError:  # imported outside a backend: quoting still works
    _sgfdw = None

__all__ = ["execute", "cursor", "Cursor", "arrow", "quote_ident", "quote_literal",
           "in_backend"]


def _natural_type(value: Any) -> int:
    """The type the parser starts from for a parameter; 0 lets it infer the type from
    the statement alone."""
    if isinstance(value, bool):
        return oids.BOOL
    if isinstance(value, int):
        # The smallest type that holds it, so f($1) finds f(integer).
        if -2**31 <= value < 2**31:
            return oids.INT4
        return oids.INT8 if -2**63 <= value < 2**63 else oids.NUMERIC
    if isinstance(value, float):
        return oids.FLOAT8
    if isinstance(value, decimal.Decimal):
        return oids.NUMERIC
    if isinstance(value, (bytes, bytearray, memoryview)):
        return oids.BYTEA
    if isinstance(value, datetime.datetime):
        return oids.TIMESTAMPTZ if value.tzinfo is not None else oids.TIMESTAMP
    if isinstance(value, datetime.date):
        return oids.DATE
    if isinstance(value, datetime.time):
        return oids.TIME
    if isinstance(value, datetime.timedelta):
        return oids.INTERVAL
    if isinstance(value, uuid.UUID):
        return oids.UUID
    if isinstance(value, dict):
        return oids.JSONB
    return 0


def quote_ident(name: str) -> str:
    """name as an SQL identifier, quoted as the server does when in a backend."""
    if _sgfdw is None:
        return multicorn.quote_identifier(name)
    return execute("SELECT pg_catalog.quote_ident($1::text)", [name])[0][0]


def quote_literal(value: str) -> str:
    """value as an SQL string literal, right for the server's current settings
    (standard_conforming_strings) when in a backend."""
    if _sgfdw is None:
        return multicorn.quote_option(value)
    return execute("SELECT pg_catalog.quote_literal($1::text)", [value])[0][0]


def in_backend() -> bool:
    return _sgfdw is not None


def _backend() -> Any:
    if _sgfdw is None:
        raise RuntimeError("sgfdw.pg runs SQL only inside a PostgreSQL backend with sgfdw")
    return _sgfdw


def _bound(params: Sequence[Any] | None) -> tuple[list[Any], list[int]]:
    values = list(params or ())
    return values, [_natural_type(value) for value in values]


def execute(sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
    """Runs one statement; its result rows as tuples ([] for a statement without)."""
    values, types = _bound(params)
    return _backend().execute(sql, values, types)


class Cursor:
    """Rows of a query fetched in batches, for results too large to hold at once."""

    def __init__(self, sql: str, params: Sequence[Any] | None = None,
                 batch_size: int = 1000) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        values, types = _bound(params)
        self._name: str | None = _backend().cursor_open(sql, values, types)
        self._batch_size = batch_size

    def fetch(self, count: int | None = None) -> list[tuple]:
        if self._name is None:
            return []
        return _backend().cursor_fetch(self._name, count or self._batch_size)

    def __iter__(self) -> Iterator[tuple]:
        while True:
            rows = self.fetch()
            if not rows:
                self.close()
                return
            yield from rows

    def close(self) -> None:
        if self._name is not None:
            name, self._name = self._name, None
            _backend().cursor_close(name)

    def __enter__(self) -> "Cursor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def cursor(sql: str, params: Sequence[Any] | None = None, batch_size: int = 1000) -> Cursor:
    return Cursor(sql, params, batch_size)


def arrow(sql: str, params: Sequence[Any] | None = None,
          batch_rows: int = 65536) -> Iterator[Any]:
    """The query's rows as Arrow record batches of at most batch_rows rows, built in C
    without Python values: objects of the Arrow PyCapsule interface
    (`__arrow_c_array__`), which `pyarrow.record_batch(batch)` takes without copying.
    Types: bool, int2/4/8, float4/8, date (date32), time (time64[us]), timestamp
    (timestamp[us]), timestamptz (timestamp[us, UTC]), interval (month_day_nano),
    numeric(p, s) with p <= 38 (decimal128(p, s)), text/varchar/bpchar (utf8), bytea
    (binary), json/jsonb (utf8 of the extension type arrow.json), uuid
    (fixed_size_binary(16) of the extension type arrow.uuid), one-dimensional arrays
    (list of the element's type; others are an error); any other type as utf8 of its
    text output, its PostgreSQL type in the field metadata `sgfdw.pg_type`. Infinite
    dates and timestamps are an error."""
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    with Cursor(sql, params) as rows:
        while rows._name is not None:
            batch = _backend().cursor_fetch_arrow(rows._name, batch_rows)
            if batch is None:
                return
            yield batch
