"""The SELECT a scan sends, built with SQLAlchemy Core only.

Projection of the needed columns, WHERE from the pushable quals (sgfdw.sqlalchemy.quals),
ORDER BY from the sort keys the FDW accepted (with NULLS FIRST/LAST where the dialect
has it, else only when the dialect's own NULL placement is the one asked for), and
LIMIT/OFFSET (the bridge passes them only when every qual is enforced here).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Collection, Sequence

import sqlalchemy as sa

from multicorn import Qual, SortKey
from sgfdw.errors import FdwError
from sgfdw.remote.collation import (BYTEWISE_COLLATIONS, Collation, local_collation,
                                    own_collation_rules, same_ctype, same_order)
from sgfdw.sqlalchemy.dialects import Capabilities
from sgfdw.sqlalchemy.quals import Pushed, TextRules, sqlite_reads_as, translate_qual
from sgfdw.sqlalchemy.remote_table import RemoteColumn, RemoteTable
from sgfdw.sqlalchemy.values import NUMBERS, projection

__all__ = ["Pushdown", "ScanQuery", "build_select", "sample_select", "compiled_sql"]


@dataclass
class Pushdown:
    """What a source can take over from PostgreSQL, for one table."""

    table: RemoteTable
    caps: Capabilities

    def text_order(self, collate: str | None = "default",
                   column: RemoteColumn | None = None) -> bool:
        """Whether text (of column, in a source whose columns have collations) compares
        and sorts in the source as in PostgreSQL under this collation (C: the source
        is told COLLATE "C")."""
        if self.caps.text_order == "same":
            if collate in ("C", "POSIX"):
                return True
            return collate in (None, "default") and self._default_rules(column).order
        if self.caps.text_order == "bytewise":
            if collate in (None, "default"):
                # Outside a backend the local collation is unknown: push less.
                local = local_collation()
                return local is not None and local.orders_bytewise
            return collate in BYTEWISE_COLLATIONS
        return False

    def text_rules(self, column: RemoteColumn | None) -> TextRules:
        """What of column's text the source compares as PostgreSQL does under the
        column's collation: for a column of its own, sgfdw.remote.collation's
        own_collation_rules (SQLite's ILIKE is a superset, not told by case)."""
        if column is None or column.collation is None:
            return self._default_rules(column)
        source = self._source_collation(column) if self.caps.text_order == "same" \
            else Collation("C", "C") if self.caps.text_order == "bytewise" else None
        rules = own_collation_rules(column.collation, source)
        return TextRules(rules.equality, rules.order,
                         rules.case and self.caps.text_order == "same", rules.equality)

    def _default_rules(self, column: RemoteColumn | None) -> TextRules:
        """Under the database default collation. PostgreSQL: PostgresFdw's rules
        (sgfdw.remote.collation): the remote column's own collation or else the source
        database's, if it is one whose behaviour is known (another may be
        nondeterministic: 'b' = 'B'); ranges and sorts where it orders as the local
        database's, ILIKE where it case-folds alike. SQLite: text is
        compared COLLATE binary (deterministic); ranges where the local order is byte
        order. Others: nothing exact (a collation may ignore case: 'a' = 'A')."""
        if self.caps.text_order == "same":
            source = self._source_collation(column)
            local = local_collation()
            if source is None:
                return TextRules(False, False, False)
            return TextRules(True, local is not None and same_order(source.collate,
                                                                    local.collate),
                             local is not None and same_ctype(source.ctype, local.ctype))
        if self.caps.text_order == "bytewise":
            return TextRules(True, self.text_order(), False)
        return TextRules(False, False, False)   # (quals.py: = as a superset)

    def _source_collation(self, column: RemoteColumn | None) -> Collation | None:
        name = getattr(column.column.type, "collation", None) if column else None
        if name in (None, "default"):
            return self.table.collation
        if name in ("C", "POSIX"):
            return Collation("C", "C")
        return None

    def qual(self, qual: Qual) -> Pushed | None:
        return translate_qual(self.table, qual, self.caps,
                              self.text_rules(self.table.columns.get(qual.field_name)))

    def conditions(self, quals: Sequence[Qual]) -> list[sa.ColumnElement] | None:
        """The WHERE conditions of quals the source enforces exactly; None if one is not."""
        conditions = []
        for qual in quals:
            pushed = self.qual(qual)
            if pushed is None or not pushed.exact:
                return None
            conditions.append(pushed.condition)
        return conditions

    def enforces(self, quals: Sequence[Qual]) -> bool:
        return self.conditions(quals) is not None

    def sort(self, key: SortKey) -> sa.ColumnElement | None:
        """The ORDER BY item that sorts exactly as key asks, or None."""
        column: RemoteColumn | None = self.table.columns.get(key.attname)
        if column is None:
            return None
        expression = self.ordering(column, key.collate)
        if expression is None:
            return None
        ordered = expression.desc() if key.is_reversed else expression.asc()
        if self.caps.nulls_order_syntax:
            return ordered.nulls_first() if key.nulls_first else ordered.nulls_last()
        if not column.nullable:
            return ordered
        if self.caps.nulls_sort_high is None:
            return None
        # ASC puts NULLs first when they sort low; DESC when they sort high.
        default_first = self.caps.nulls_sort_high if key.is_reversed else \
            not self.caps.nulls_sort_high
        return ordered if default_first == key.nulls_first else None

    def ordering(self, column: RemoteColumn, collate: str | None) -> sa.ColumnElement | None:
        """The column as the source orders it exactly as PostgreSQL does under collate
        (NULLs aside), or None."""
        if not column.typed:
            return None
        kind = column.category
        expression: sa.ColumnElement = column.column
        if kind == "boolean" and self.caps.name == "sqlite":
            expression = sqlite_reads_as(expression, True)   # 2 sorts as true
        elif kind in NUMBERS or kind in ("boolean", "date", "binary"):
            pass
        elif kind in ("timestamp", "timestamptz", "time"):
            if self.caps.text_datetimes:
                return None
        elif kind in ("interval", "uuid"):
            if self.caps.name != "postgresql":
                return None
        elif kind == "string" and column.remote_category != "enum":
            if not self.text_order(collate, column):
                return None
            if self.caps.text_order == "same" and collate in ("C", "POSIX"):
                expression = expression.collate(collate)
            else:
                expression = self.caps.text(expression)
        else:
            return None
        return expression


@dataclass
class ScanQuery:
    statement: sa.Select
    names: list[str]                       # local column names, in select order
    pushed: list[Qual] = field(default_factory=list)
    local: list[Qual] = field(default_factory=list)   # left to PostgreSQL


def build_select(pushdown: Pushdown, quals: Sequence[Qual], columns: Collection[str],
                 sortkeys: Sequence[SortKey] | None = None, limit: int | None = None,
                 offset: int | None = None,
                 filters: Sequence[sa.ColumnElement] = ()) -> ScanQuery:
    """``filters``: conditions of the filters the FDW accepted (sgfdw.sqlalchemy.filters)."""
    table = pushdown.table
    needed = [name for name in table.columns if name in columns]
    for name in columns:
        if name not in table.columns:
            table.column(name)  # raises: the query needs a column the source lacks
    if needed:
        selected = [projection(table.columns[name].column, table.columns[name].category,
                               pushdown.caps.name) for name in needed]
        statement = sa.select(*selected)
    else:
        statement = sa.select(sa.null()).select_from(table.table)
    query = ScanQuery(statement, needed)
    conditions = list(filters)
    for qual in quals:
        pushed = pushdown.qual(qual)
        if pushed is None:
            query.local.append(qual)
        else:
            query.pushed.append(qual)
            conditions.append(pushed.condition)
    if conditions:
        statement = statement.where(*conditions)
    order = []
    for key in sortkeys or ():
        item = pushdown.sort(key)
        if item is None:
            raise FdwError(f"cannot sort by {key.attname} in the source", sqlstate="XX000",
                           detail="The sort key was not one can_sort() accepted.")
        order.append(item)
    if order:
        statement = statement.order_by(*order)
    if limit is not None:
        statement = statement.limit(limit)
    if offset is not None:
        statement = statement.offset(offset)
    query.statement = statement
    return query


# Dialects whose SQL has the random() SQLAlchemy writes (MySQL's as rand()); MSSQL and
# Oracle spell it otherwise (NEWID(), DBMS_RANDOM.VALUE).
_RANDOM_ORDER = frozenset({"postgresql", "sqlite", "mysql", "mariadb"})


def sample_select(pushdown: Pushdown, columns: Collection[str], size: int) -> ScanQuery:
    """ANALYZE's sample: ``size`` rows the source picks at random (every row has the same
    chance) where its dialect has random(), else its first ``size`` rows, with the
    columns of ``columns`` the source has."""
    query = build_select(pushdown, (), [name for name in columns
                                        if name in pushdown.table.columns])
    if pushdown.caps.name in _RANDOM_ORDER:
        query.statement = query.statement.order_by(sa.func.random())
    query.statement = query.statement.limit(size)
    return query


def compiled_sql(statement: sa.ClauseElement, dialect: sa.engine.Dialect) -> str:
    """The SQL text sent for statement, with bound-parameter placeholders, on one line."""
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    return re.sub(r"\s*\n\s*", " ", str(compiled)).strip()
