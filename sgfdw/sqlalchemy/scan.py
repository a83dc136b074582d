"""A scan's rows, streamed from the source.

The SELECT runs with ``execution_options(stream_results=True, yield_per=fetch_size)``:
on PostgreSQL (psycopg2) that is a named, server-side cursor fetched ``fetch_size``
rows at a time; on SQLite the driver steps the statement as rows are fetched, so rows
are read ``fetch_size`` at a time as well. A scan PostgreSQL stops early (LIMIT, a
cursor that is closed) reads no further. The stream checks which kind of cursor it
got (:attr:`RowStream.fetch_mode`) and warns when streaming was asked for but the
driver buffered the whole result.

The stream is an iterator object rather than a generator so that the transaction can
read it to its end before a write on the same SQLite connection
(:meth:`RowStream.buffer_rest`); it closes its result when exhausted, closed, or
dropped by the bridge.
"""
from __future__ import annotations

import collections
import contextlib
from typing import Any, Callable, Iterator, Sequence

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc

from multicorn.utils import WARNING, log_to_postgres
from sgfdw.sqlalchemy import transactions
from sgfdw.sqlalchemy.engines import Source
from sgfdw.sqlalchemy.errors import translate

__all__ = ["RowStream", "row_converter", "describe_fetch"]


def row_converter(names: Sequence[str], all_columns: Sequence[str]) -> Callable[[Any], Any]:
    """Source rows (in select order) -> rows for the bridge."""
    names = tuple(names)
    if names == tuple(all_columns):
        return tuple  # every column, in table order: a sequence by position
    if not names:
        return lambda row: {}
    return lambda row: dict(zip(names, row))


def describe_fetch(source: Source, streamed: bool, fetch_size: int) -> str:
    if not streamed:
        return "Fetch: all rows at once (LIMIT within one fetch)"
    if source.engine.dialect.supports_server_side_cursors:
        return f"Fetch: server-side cursor, {fetch_size} rows per fetch"
    return f"Fetch: driver cursor stepped lazily, {fetch_size} rows per fetch"


class RowStream:
    def __init__(self, source: Source, statement: sa.Select, convert: Callable[[Any], Any],
                 fetch_size: int, streamed: bool) -> None:
        self.source = source
        self.convert = convert
        self._buffer: collections.deque | None = None
        self._result: Any = None
        self._rows: Iterator[Any] | None = None
        self._owned = None  # the connection, when outside a local transaction
        self.fetch_mode = "none"
        self.transaction = transactions.current(source)
        if self.transaction is None:
            with source.errors(connecting=True):
                self._owned = source.engine.connect()
            connection = self._owned
        else:
            connection = self.transaction.connection
        options = {"stream_results": True, "yield_per": fetch_size} if streamed else {}
        try:
            with source.errors():
                self._result = connection.execute(statement, execution_options=options)
        except BaseException:
            self._close_owned()
            raise
        self._rows = iter(self._result)
        self.fetch_mode = self._check_fetch_mode(streamed)
        if self.transaction is not None:
            self.transaction.register(self)

    def _check_fetch_mode(self, streamed: bool) -> str:
        context = getattr(self._result, "context", None)
        cursor = getattr(context, "cursor", None)
        if getattr(context, "_is_server_side", False) or getattr(cursor, "name", None):
            return "server-side"
        if not streamed:
            return "buffered"
        if self.source.engine.dialect.supports_server_side_cursors:
            log_to_postgres(f"{self.source.display_url}: a server-side cursor was asked for "
                            "but the driver buffers the whole result", WARNING)
            return "buffered"
        return "lazy"

    # -- iteration

    def __iter__(self) -> "RowStream":
        return self

    def __next__(self) -> Any:
        if self._buffer is not None:
            if self._buffer:
                return self.convert(self._buffer.popleft())
            raise StopIteration
        if self._rows is None:
            raise StopIteration
        try:
            row = next(self._rows)
        except StopIteration:
            self.close()
            raise
        except sa_exc.SQLAlchemyError as exc:
            self.close()
            raise translate(exc, url=self.source.display_url,
                            secrets=(self.source.password,)) from None
        except BaseException:
            self.close()
            raise
        return self.convert(row)

    def buffer_rest(self) -> None:
        """Reads the remaining rows into memory and frees the source's cursor."""
        if self._buffer is not None or self._rows is None:
            return
        try:
            with self.source.errors():
                self._buffer = collections.deque(self._rows)
        finally:
            self._release()
            if self._buffer is None:
                self._buffer = collections.deque()

    # -- ending

    def _release(self) -> None:
        result, self._result, self._rows = self._result, None, None
        if result is not None:
            with contextlib.suppress(Exception):
                result.close()
        if self.transaction is not None:
            self.transaction.unregister(self)
        self._close_owned()

    def _close_owned(self) -> None:
        owned, self._owned = self._owned, None
        if owned is not None:
            with contextlib.suppress(Exception):
                owned.close()

    def close(self) -> None:
        self._buffer = collections.deque()
        self._release()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self._release()
