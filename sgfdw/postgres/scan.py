"""Running a remote SELECT and handing its rows to the bridge.

A scan that may return many rows goes through a named server-side cursor: ``DECLARE``
and the first ``FETCH FORWARD fetch_size`` travel in one round trip, later batches are
fetched as the bridge asks for rows, so memory stays at one batch however large the
result. A scan known to be small (a pushed LIMIT within one batch, or an equality on
every column of a remote unique key) is a plain statement: one round trip, no cursor.

Rows are psycopg2's tuples, already in table column order (the SELECT list holds NULL
for the columns the query does not need), so they go to the bridge untouched: the
iterator returned is a C-level ``itertools.chain`` over the batches, and Python code
runs only once per batch.
"""
from __future__ import annotations

import itertools
from typing import Iterable, Iterator

from sgfdw.errors import FdwError

from .connection import RemoteConnection
from .deparse import SelectQuery

__all__ = ["run_select"]


def _batches(conn: RemoteConnection, query: SelectQuery, fetch_size: int,
             ncolumns: int, use_cursor: bool) -> Iterator[Iterable[tuple]]:
    sql, params = query.sql.for_psycopg()
    shown = query.sql.shown()
    empty_row = (None,) * ncolumns

    def shaped(rows: list[tuple]) -> Iterable[tuple]:
        # SELECT NULL rows stand for rows of which no column is needed.
        return itertools.repeat(empty_row, len(rows)) if query.empty_projection else rows

    if not use_cursor:
        yield shaped(conn.query(sql, params, shown))
        return
    name, rows = conn.open_cursor(sql, params, fetch_size, shown)
    finished = False
    try:
        while True:
            yield shaped(rows)
            if len(rows) < fetch_size:
                break
            rows = conn.fetch(name, fetch_size, shown)
        finished = True
    finally:
        try:
            conn.close_cursor(name)
        except FdwError:
            # Closing early (a LIMIT stopped the scan, or it is being torn down after
            # an error): the transaction end cleans up; never raise from a finalizer.
            if finished:
                raise


def run_select(conn: RemoteConnection, query: SelectQuery, fetch_size: int,
               ncolumns: int, small: bool) -> Iterator[tuple]:
    """The rows of ``query``; ``small``: run it without a cursor."""
    return itertools.chain.from_iterable(
        _batches(conn, query, fetch_size, ncolumns, use_cursor=not small))
