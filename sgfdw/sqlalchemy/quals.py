"""Multicorn Quals -> SQLAlchemy Core conditions, each marked exact or not.

A qual is pushed only when the source keeps every row PostgreSQL would keep; it is
*exact* when the source keeps exactly those rows (then ``enforces_quals`` can let
LIMIT/OFFSET go to the source too). Operators: = <> < <= > >=, LIKE (~~), ILIKE (~~*),
NOT LIKE (!~~), NOT ILIKE (!~~*), their ANY/ALL list forms (= ANY -> IN, <> ALL ->
NOT IN, others OR/AND of comparisons), IS [NOT] NULL (``('=', None)`` /
``('<>', None)``), and booleans (``col = true``).
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Callable

import sqlalchemy as sa

from multicorn import Qual
from sgfdw.sqlalchemy.dialects import Capabilities
from sgfdw.sqlalchemy.remote_table import RemoteColumn, RemoteTable
from sgfdw.sqlalchemy.values import NUMBERS

__all__ = ["COMPARISONS", "Pushed", "TextRules", "translate_qual", "like_to_glob",
           "sqlite_reads_as"]

#: PostgreSQL's comparison operators as Python's (which SQLAlchemy's columns overload)
COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq, "<>": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge,
}
_LIKES = ("~~", "~~*", "!~~", "!~~*")
_ORDERED_KINDS = NUMBERS | {"date", "binary"}
# The texts PostgreSQL's boolean input reads as true / false (case aside, after
# trimming white space).
_BOOLEAN_SPELLINGS = {
    True: ("t", "tr", "tru", "true", "y", "ye", "yes", "on", "1"),
    False: ("f", "fa", "fal", "fals", "false", "n", "no", "of", "off", "0"),
}
_WHITE_SPACE = " \t\n\r\v\f"


def sqlite_reads_as(column: sa.ColumnElement, value: bool) -> sa.ColumnElement:
    """Whether a SQLite value reads locally as the boolean ``value`` (NULL when it is
    NULL). SQLite has no booleans: a number reads as its truth (2 and 0.5 are true), a
    text through PostgreSQL's boolean input ('yes', ' off')."""
    kind = sa.func.typeof(column)
    return sa.case(
        (column.is_(None), sa.null()),
        (kind.in_(("integer", "real")), column != 0 if value else column == 0),
        (kind == "text",
         sa.func.lower(sa.func.trim(column, _WHITE_SPACE)).in_(_BOOLEAN_SPELLINGS[value])),
        else_=sa.false())


def _sqlite_boolean(column: sa.ColumnElement, op: str, value: bool) -> sa.ColumnElement:
    """``column = value`` or ``column <> value`` as the rows read locally: true where
    the value does not read as the other boolean, so that a value that does not read as
    a boolean at all reaches the local reading (and fails there, as locally)."""
    return sa.not_(sqlite_reads_as(column, value != (op == "=")))


@dataclass(frozen=True)
class Pushed:
    condition: sa.ColumnElement
    exact: bool


@dataclass(frozen=True)
class TextRules:
    """What of a text column the source compares as PostgreSQL does under the local
    database's default collation."""

    equality: bool   # = <> IN LIKE (a deterministic collation whose behaviour is known)
    order: bool      # < <= > >= and ORDER BY (it orders as the local one)
    case: bool       # ILIKE (it case-folds as the local one)
    #: = of unknown rules keeps every row equal here (the local collation is
    #: deterministic: equal is byte-equal)
    loose_equality: bool = True


def like_to_glob(pattern: str) -> str | None:
    """A PostgreSQL LIKE pattern (backslash escape) as an equivalent SQLite GLOB pattern.

    None for a pattern PostgreSQL rejects (ending in the escape character).
    """
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 1
            if i == len(pattern):
                return None
            char = pattern[i]
            out.append(f"[{char}]" if char in "*?[" else char)
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        else:
            out.append(f"[{char}]" if char in "*?[" else char)
        i += 1
    return "".join(out)


class _Translator:
    def __init__(self, caps: Capabilities, text: TextRules) -> None:
        self.caps = caps
        self.text = text

    def comparison(self, column: RemoteColumn, op: str, value: Any) -> Pushed | None:
        col = column.column
        kind = column.category
        if value is None:
            return None  # `col < NULL` and friends: no row qualifies; nothing to push
        if op in COMPARISONS:
            compare = COMPARISONS[op]
            if kind == "boolean" and self.caps.name == "sqlite":
                return Pushed(_sqlite_boolean(col, op, bool(value)), True) \
                    if op in ("=", "<>") else None
            if kind == "boolean" or kind == "uuid":
                if op in ("=", "<>") and (kind == "boolean" or not self.caps.text_datetimes):
                    return Pushed(compare(col, value), True)
                return None
            if kind in _ORDERED_KINDS:
                return Pushed(compare(col, value), True)
            if kind in ("timestamp", "timestamptz", "time"):
                if self.caps.text_datetimes:
                    return None  # text in the source: formats vary, order is not time's
                return Pushed(compare(col, value), True)
            if kind == "interval":
                return Pushed(compare(col, value), True) if self.caps.name == "postgresql" \
                    else None
            if kind == "string" and isinstance(value, str):
                text = self.caps.text(col)
                if self.text.equality and (op in ("=", "<>") or (
                        self.text.order and column.remote_category != "enum")):
                    return Pushed(compare(text, value), True)
                if op == "=" and self.caps.text_order == "unknown" and \
                        self.text.loose_equality:
                    # A collation of unknown rules (MySQL's ignore case, accents and
                    # trailing blanks) keeps every row equal here, maybe more, which
                    # PostgreSQL rechecks; its <> would drop rows.
                    return Pushed(compare(text, value), False)
            return None
        if op in _LIKES and kind == "string" and isinstance(value, str) and \
                self.text.equality:
            return self.like(col, op, value)
        return None

    def like(self, col: sa.ColumnElement, op: str, pattern: str) -> Pushed | None:
        if self.caps.native_like:
            if op in ("~~*", "!~~*") and not self.text.case:
                return None
            build = {"~~": col.like, "~~*": col.ilike, "!~~": col.not_like,
                     "!~~*": col.not_ilike}[op]
            return Pushed(build(pattern), True)
        if self.caps.glob:
            if op in ("~~", "!~~"):
                glob = like_to_glob(pattern)
                if glob is None:
                    return None
                condition = col.op("GLOB")(glob)
                return Pushed(condition if op == "~~" else sa.not_(condition), True)
            if op == "~~*" and pattern.isascii():
                # SQLite's LIKE ignores ASCII case only: a superset for an ASCII pattern.
                return Pushed(col.like(pattern, escape="\\"), False)
        return None

    def qual(self, table: RemoteTable, qual: Qual) -> Pushed | None:
        column = table.columns.get(qual.field_name)
        if column is None:
            return None
        if not isinstance(qual.operator, tuple):    # not a list operator
            op = qual.operator
            if qual.value is None and op in ("=", "<>"):
                return Pushed(column.column.is_(None) if op == "=" else
                              column.column.is_not(None), True)
            if not column.typed:
                return None
            return self.comparison(column, op, qual.value)
        if not column.typed:
            return None
        op = qual.operator[0]
        is_any = qual.list_any_or_all == "ANY"
        items = list(qual.value or [])
        compared = self.caps.text(column.column) if column.category == "string" else \
            column.column
        exact = self._in_list(column, items)
        if op == "=" and is_any and exact is not None:
            return Pushed(compared.in_(items), exact)
        if op == "<>" and not is_any and exact:
            return Pushed(compared.not_in(items), True)
        parts = []
        for item in items:
            if item is None:
                return None  # three-valued logic of NULL elements: leave it to PostgreSQL
            pushed = self.comparison(column, op, item)
            if pushed is None:
                return None
            parts.append(pushed)
        if not parts:
            return None
        combine = sa.or_ if is_any else sa.and_
        return Pushed(combine(*(p.condition for p in parts)), all(p.exact for p in parts))

    def _in_list(self, column: RemoteColumn, items: list[Any]) -> bool | None:
        """IN / NOT IN when = is pushable for every element (NULLs behave the same) as
        an equality of the values (not SQLite's booleans: 2 is true): whether every
        one is exact (NOT IN needs that), or None."""
        present = [item for item in items if item is not None]
        if not present or (column.category == "boolean" and self.caps.name == "sqlite"):
            return None
        pushed = [self.comparison(column, "=", item) for item in present]
        if any(item is None for item in pushed):
            return None
        return all(item.exact for item in pushed if item is not None)


def translate_qual(table: RemoteTable, qual: Qual, caps: Capabilities,
                   text: TextRules) -> Pushed | None:
    """The condition for qual (text rules: those of its column), or None when it is not
    pushed to the source."""
    return _Translator(caps, text).qual(table, qual)
