"""What each kind of source can do exactly as PostgreSQL would (pushdown safety).

A qual pushed to the source must never drop a row PostgreSQL would keep (PostgreSQL
rechecks what comes back, but cannot see what did not); a sort or LIMIT pushed must be
exactly PostgreSQL's. Where a source differs (SQLite's LIKE ignores ASCII case, its
text compares bytewise, MySQL has no NULLS FIRST), the difference is described here and
the query builder avoids or adapts the construct.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = ["Capabilities", "capabilities_of"]


@dataclass(frozen=True)
class Capabilities:
    name: str
    #: ORDER BY ... NULLS FIRST / NULLS LAST is understood.
    nulls_order_syntax: bool
    #: Without NULLS FIRST/LAST, NULLs sort as the largest values (PostgreSQL, Oracle);
    #: False: as the smallest (SQLite, MySQL, SQL Server); None: unknown.
    nulls_sort_high: bool | None
    #: 'same': text compares and sorts as locally (PostgreSQL, as postgres_fdw assumes);
    #: 'bytewise': by UTF-8 bytes (SQLite's BINARY collation); 'unknown'.
    text_order: str
    #: LIKE / ILIKE / NOT LIKE / NOT ILIKE behave as PostgreSQL's (backslash escape).
    native_like: bool
    #: Case-sensitive pattern matching with GLOB (SQLite), for an exact LIKE.
    glob: bool
    #: Writing on a connection while a scan's cursor is open there disturbs the scan
    #: (SQLite: "undefined outcome"); open scans are read to the end first.
    writes_disturb_cursors: bool
    #: Dates and times are stored as text whose format varies between writers (SQLite):
    #: comparisons and sorts of timestamps/times are not pushed (dates are: ISO format).
    text_datetimes: bool
    #: The collation text is compared and sorted under, naming it, so that a column's
    #: declared one (which reflection does not report: SQLite's NOCASE, RTRIM) is not
    #: used instead; None: the column's own.
    text_collation: str | None = None
    #: Joins computed by the source (joins.py: the dialects whose comparisons are known),
    #: and FULL JOIN among them (SQLite from 3.39; RIGHT JOIN is sent as a LEFT JOIN).
    joins: bool = False
    full_joins: bool = False

    def text(self, column: sa.ColumnElement) -> sa.ColumnElement:
        """A text column as the source compares and sorts it for PostgreSQL."""
        return column.collate(self.text_collation) if self.text_collation else column


def _sqlite_version(dialect: Dialect) -> tuple[int, ...]:
    version = getattr(getattr(dialect, "dbapi", None), "sqlite_version_info", None)
    if version is None:
        import sqlite3

        version = sqlite3.sqlite_version_info
    return tuple(version)


def capabilities_of(dialect: Dialect) -> Capabilities:
    name = dialect.name
    if name == "postgresql":
        return Capabilities(name, True, True, "same", True, False, False, False,
                            joins=True, full_joins=True)
    if name == "sqlite":
        version = _sqlite_version(dialect)
        return Capabilities(name, version >= (3, 30, 0), False, "bytewise", False, True,
                            True, True, "binary", joins=True,
                            full_joins=version >= (3, 39, 0))
    if name in ("mysql", "mariadb", "mssql"):
        return Capabilities(name, False, False, "unknown", False, False, False, False)
    if name == "oracle":
        return Capabilities(name, True, True, "unknown", False, False, False, False)
    return Capabilities(name, False, None, "unknown", False, False, False, False)
