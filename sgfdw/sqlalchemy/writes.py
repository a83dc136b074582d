"""INSERT / UPDATE / DELETE on the source, rows identified by the primary key.

Statements are Core ``insert()/update()/delete()`` on the reflected table. The row a
write leaves in the source comes back to PostgreSQL (for RETURNING and AFTER triggers)
through the dialect's RETURNING when it has one, else by selecting the row again by its
primary key (``inserted_primary_key`` -- lastrowid on SQLite -- for an insert).

A NULL given for a column the source fills itself (a default, an identity, SQLite's
INTEGER PRIMARY KEY) that may not be NULL is left out of the INSERT, so the source's
value is used: PostgreSQL passes a NULL for every column an INSERT does not name.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import sqlalchemy as sa

from sgfdw.remote.rowid import no_row_identity
from sgfdw.sqlalchemy import transactions
from sgfdw.sqlalchemy.engines import Source
from sgfdw.sqlalchemy.remote_table import RemoteTable
from sgfdw.sqlalchemy.values import projection

__all__ = ["Writer"]


class Writer:
    def __init__(self, source: Source, table: RemoteTable, rowid: str | None) -> None:
        self.source = source
        self.table = table
        self.rowid = rowid
        self.dialect = source.engine.dialect
        self.names = list(table.columns)
        self.returned = [projection(c.column, c.category, self.dialect.name)
                         for c in table.columns.values()]

    # -- values

    def _values(self, values: Mapping[str, Any], *, inserting: bool,
                rowid: Any = None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for local, value in values.items():
            column = self.table.columns.get(local)
            if column is None:
                if value is None:
                    continue
                column = self.table.column(local)  # raises: the source has no such column
            if not column.writable and (value is None or not inserting):
                continue  # computed by the source; only an explicit value is passed on
            if inserting and value is None and column.generated and (
                    not column.nullable or local in self.table.primary_key):
                continue
            if not inserting and local == self.rowid and value == rowid:
                continue  # the key is unchanged: do not SET it (identity columns refuse)
            out[local] = value
        return out

    def _row(self, row: Any) -> dict[str, Any] | None:
        return None if row is None else dict(zip(self.names, row))

    def _rowid_name(self) -> str:
        if self.rowid is None:
            raise no_row_identity(self.table.display)
        return self.rowid

    def _rowid_column(self) -> sa.Column:
        return self.table.column(self._rowid_name()).column

    def _reselect(self, conn: Any, key: Mapping[str, Any]) -> dict[str, Any] | None:
        if not key or any(value is None for value in key.values()):
            return None
        condition = [self.table.column(name).column == value for name, value in key.items()]
        return self._row(conn.execute(sa.select(*self.returned).where(*condition)).first())

    # -- statements

    def insert(self, values: Mapping[str, Any]) -> dict[str, Any] | None:
        statement = sa.insert(self.table.table).values(self._values(values, inserting=True))
        with transactions.connection_for_statement(self.source, write=True) as conn:
            if self.dialect.insert_returning:
                return self._row(conn.execute(statement.returning(*self.returned)).first())
            result = conn.execute(statement)
            names = [c.key for c in self.table.table.primary_key.columns]
            key = dict(zip(names, result.inserted_primary_key or ()))
            if len(names) == 1 and key.get(names[0]) is None:
                # The source generated it: the driver's lastrowid (SQLite's rowid,
                # MySQL's AUTO_INCREMENT).
                key = {names[0]: getattr(result, "lastrowid", None)}
            return self._reselect(conn, key)

    def bulk_insert(self, rows: Sequence[Mapping[str, Any]]) -> list[None]:
        """executemany, one per set of columns given (usually one for the whole batch)."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            values = self._values(row, inserting=True)
            groups.setdefault(tuple(values), []).append(values)
        with transactions.connection_for_statement(self.source, write=True) as conn:
            for names, batch in groups.items():
                if names:
                    conn.execute(sa.insert(self.table.table), batch)
                else:
                    for _ in batch:
                        conn.execute(sa.insert(self.table.table).values({}))
        return [None] * len(rows)

    def update(self, rowid: Any, values: Mapping[str, Any]) -> dict[str, Any] | None:
        key_column = self._rowid_column()
        changes = self._values(values, inserting=False, rowid=rowid)
        if not changes:
            return self._select_by_key(rowid)
        statement = sa.update(self.table.table).where(key_column == rowid).values(changes)
        with transactions.connection_for_statement(self.source, write=True) as conn:
            if self.dialect.update_returning:
                return self._row(conn.execute(statement.returning(*self.returned)).first())
            conn.execute(statement)
            name = self._rowid_name()
            return self._reselect(conn, {name: values.get(name, rowid)})

    def _select_by_key(self, rowid: Any) -> dict[str, Any] | None:
        with transactions.connection_for_statement(self.source) as conn:
            return self._reselect(conn, {self._rowid_name(): rowid})

    def delete(self, rowid: Any) -> None:
        statement = sa.delete(self.table.table).where(self._rowid_column() == rowid)
        with transactions.connection_for_statement(self.source, write=True) as conn:
            conn.execute(statement)
        return None
