"""TRUNCATE of PostgresFdw tables, as postgres_fdw does it.

The bridge hands over all the statement's tables of the class at once. Each table's
``truncatable`` option (the table's, else its server's; default true) is checked before
anything is sent; then the tables of each remote connection go in one remote
``TRUNCATE`` -- tables whose foreign keys point at each other can only go together --
inside the remote transaction the bridge has begun (``begin()``), so a local ROLLBACK
undoes it and COMMIT commits it with the rest.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from sgfdw.errors import FdwError

from .connection import RemoteConnection
from .deparse import Sql, qualified_name

__all__ = ["TruncateTarget", "build_truncate", "truncate_tables"]


@dataclass(frozen=True)
class TruncateTarget:
    name: str                   # the foreign table's, for messages
    truncatable: bool
    connect: Callable[[], RemoteConnection]     # opened only once all are truncatable
    schema: str                 # the remote relation
    table: str


def build_truncate(tables: Sequence[TruncateTarget], restart_identity: bool,
                   cascade: bool) -> Sql:
    return Sql().text("TRUNCATE " + ", ".join(qualified_name(t.schema, t.table)
                                              for t in tables) +
                      (" RESTART IDENTITY" if restart_identity else " CONTINUE IDENTITY") +
                      (" CASCADE" if cascade else " RESTRICT"))


def truncate_tables(tables: Sequence[TruncateTarget], restart_identity: bool,
                    cascade: bool) -> None:
    for target in tables:
        if not target.truncatable:
            raise FdwError(f'foreign table "{target.name}" does not allow truncates',
                           sqlstate="55000")
    by_connection: dict[int, tuple[RemoteConnection, list[TruncateTarget]]] = {}
    for target in tables:
        connection = target.connect()
        by_connection.setdefault(id(connection), (connection, []))[1].append(target)
    for connection, group in by_connection.values():
        sql = build_truncate(group, restart_identity, cascade)
        text, params = sql.for_psycopg()
        connection.command(text, params, sql.shown())
