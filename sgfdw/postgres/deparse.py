"""Remote SQL text: SELECT for scans (projection, quals, ORDER BY, LIMIT/OFFSET) and
INSERT / UPDATE / DELETE for writes.

Identifiers are always quoted (``"..."`` with ``"`` doubled, as
``psycopg2.sql.Identifier`` does, but without needing a live connection, so EXPLAIN
works from the plan alone); values are always bound parameters (``%s``), never part of
the text. A ``%`` inside an identifier is doubled for psycopg2's parameter syntax. The
same statement is shown in EXPLAIN with ``$1, $2, ...`` for its parameters.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Collection, Iterable, Mapping, Sequence

from multicorn import Qual, SortKey, quote_identifier

from sgfdw.errors import FeatureNotSupported

from .pushdown import CTID, Match, Relation
from .values import DEFAULT, DefaultMarker, qual_param, write_param

__all__ = ["Sql", "SelectQuery", "build_select", "build_insert", "build_update",
           "build_delete", "qualified_name", "column_sql", "add_where"]


class _Slot:
    __slots__ = ()


_SLOT = _Slot()


class Sql:
    """SQL text under construction: text fragments and parameter slots."""

    def __init__(self) -> None:
        self._parts: list[str | _Slot] = []
        self.params: list[Any] = []

    def text(self, fragment: str) -> "Sql":
        self._parts.append(fragment)
        return self

    def ident(self, name: str) -> "Sql":
        return self.text(quote_identifier(name))

    def param(self, value: Any) -> "Sql":
        if isinstance(value, DefaultMarker):
            return self.text("DEFAULT")
        self._parts.append(_SLOT)
        self.params.append(value)
        return self

    def extend(self, other: "Sql") -> "Sql":
        self._parts.extend(other._parts)
        self.params.extend(other.params)
        return self

    def join(self, separator: str, pieces: Iterable["Sql"]) -> "Sql":
        for index, piece in enumerate(pieces):
            if index:
                self.text(separator)
            self.extend(piece)
        return self

    def for_psycopg(self) -> tuple[str, tuple[Any, ...]]:
        """(text with %s slots and %% for %, parameters) for cursor.execute()."""
        text = "".join("%s" if isinstance(part, _Slot) else part.replace("%", "%%")
                       for part in self._parts)
        return text, tuple(self.params)

    def shown(self) -> str:
        """The statement as EXPLAIN shows it: $1, $2, ... for the parameters."""
        out = []
        number = 0
        for part in self._parts:
            if part is _SLOT:
                number += 1
                out.append(f"${number}")
            else:
                out.append(part)  # type: ignore[arg-type]
        return "".join(out)


def qualified_name(schema: str, table: str) -> str:
    return quote_identifier(schema) + "." + quote_identifier(table)


def column_sql(relation: Relation, local: str, *, for_select: bool = False) -> str:
    """The remote expression of a local column, compared as the local one is (or read,
    ``for_select``)."""
    plan = relation.plans[local]
    if plan.remote is None:
        raise LookupError(local)
    expr = quote_identifier(plan.remote.name)
    if (for_select and plan.cast_to_text) or (not for_select and plan.match is Match.TEXT):
        expr = f"{expr}::text"
    return expr


def _qual_sql(relation: Relation, qual: Qual) -> Sql:
    if qual.field_name == CTID and qual.is_list_operator:
        return Sql().text("(ctid = ANY (").param(
            qual_param(qual.value, list_operator=True)).text("::tid[]))")
    if qual.field_name == CTID:
        return Sql().text("(ctid = ").param(qual.value).text(")")
    sql = Sql().text("(" + column_sql(relation, qual.field_name))
    type_oid = int(relation.local_columns[qual.field_name].type_oid or 0)
    if qual.is_list_operator:
        keyword = "ANY" if qual.operator[1] else "ALL"
        sql.text(f" {qual.operator[0]} {keyword} (")
        sql.param(qual_param(qual.value, type_oid, list_operator=True)).text("))")
    elif qual.value is None:
        sql.text(" IS NULL)" if qual.operator == "=" else " IS NOT NULL)")
    else:
        sql.text(f" {qual.operator} ").param(qual_param(qual.value, type_oid)).text(")")
    return sql


@dataclass
class SelectQuery:
    sql: Sql
    pushed: list[Qual] = field(default_factory=list)
    not_pushed: list[Qual] = field(default_factory=list)
    empty_projection: bool = False      # SELECT NULL: rows carry no column
    at_most_one_row: bool = False       # an equality on every column of a unique key


def _select_list(relation: Relation, columns: Collection[str]) -> tuple[str, bool]:
    """The remote SELECT list: every local column (NULL if not needed), then the ctid
    if asked for (the bridge reads it after the columns)."""
    needed = set(columns)
    if not needed:
        return "NULL", True
    items = []
    for local in relation.local_columns:
        if local in needed:
            items.append(column_sql(relation, local, for_select=True))
        else:
            items.append("NULL")
    if CTID in needed:
        items.append("ctid")
    return ", ".join(items), False


def _unique_lookup(relation: Relation, pushed: Sequence[Qual]) -> bool:
    if relation.table.relkind == "r" and \
            any(q.field_name == CTID and not q.is_list_operator for q in pushed):
        return True     # a ctid names one row of a plain table
    equal = {relation.plans[q.field_name].remote_name for q in pushed
             if q.field_name != CTID and q.operator == "=" and q.value is not None and
             relation.plans[q.field_name].match is Match.SAME}
    return any(set(key) <= equal for key in relation.table.unique_keys)


def add_where(relation: Relation, quals: Sequence[Qual], query: SelectQuery,
              filters: Sequence[Sql] = ()) -> None:
    """The WHERE clause of the quals that can be pushed, and of the filters (the
    accepted expressions' SQL); the quals that cannot are listed in ``query.not_pushed``."""
    conditions = list(filters)
    for qual in quals:
        if relation.qual_pushable(qual):
            query.pushed.append(qual)
            conditions.append(_qual_sql(relation, qual))
        else:
            query.not_pushed.append(qual)
    if conditions:
        query.sql.text(" WHERE ").join(" AND ", conditions)


def sort_item(expression: str, key: SortKey) -> str:
    """An ORDER BY item: expression (with its COLLATE) sorted as key says."""
    return expression + (" DESC" if key.is_reversed else " ASC") + \
        (" NULLS FIRST" if key.nulls_first else " NULLS LAST")


def add_order_limit(sql: Sql, sort_items: Sequence[str], limit: int | None,
                    offset: int | None) -> None:
    """ORDER BY sort_items (none: no ORDER BY), LIMIT and OFFSET (None: none)."""
    if sort_items:
        sql.text(" ORDER BY " + ", ".join(sort_items))
    if limit is not None:
        sql.text(f" LIMIT {int(limit)}")
    if offset is not None:
        sql.text(f" OFFSET {int(offset)}")


def build_select(relation: Relation, quals: Sequence[Qual], columns: Collection[str],
                 sortkeys: Sequence[SortKey] | None = None, limit: int | None = None,
                 offset: int | None = None, filters: Sequence[Sql] = ()) -> SelectQuery:
    """The remote SELECT of a scan. Sort keys, limit and offset must have been accepted
    (can_sort / can_limit); quals that cannot be pushed are left to PostgreSQL."""
    missing = [c for c in columns if c != CTID and (relation.plans.get(c) is None or
                                                    relation.plans[c].remote is None)]
    if missing:
        from sgfdw.errors import FdwError

        table = relation.table
        raise FdwError(f'column "{missing[0]}" does not exist in remote table '
                       f'{qualified_name(table.schema, table.name)}', sqlstate="42703",
                       hint='Use the column option column_name to name the remote column.')
    select_list, empty = _select_list(relation, columns)
    query = SelectQuery(Sql(), empty_projection=empty)
    sql = query.sql
    sql.text(f"SELECT {select_list} FROM "
             f"{qualified_name(relation.table.schema, relation.table.name)}")
    add_where(relation, quals, query, filters)
    keys = []
    for key in sortkeys or ():
        collate = relation.sort_pushable(key)
        if collate is None:
            raise ValueError(f"sort key {key.attname!r} cannot be pushed")
        keys.append(sort_item(column_sql(relation, key.attname) + collate, key))
    add_order_limit(sql, keys, limit, offset)
    query.at_most_one_row = _unique_lookup(relation, query.pushed)
    return query


# -- writes ---------------------------------------------------------------------------


def _returning(relation: Relation) -> tuple[str, list[str]]:
    """RETURNING of the local columns and, where the remote rows have one, the ctid
    (for a local RETURNING ctid); their names."""
    names = [n for n, p in relation.plans.items() if p.remote is not None]
    items = [column_sql(relation, n, for_select=True) for n in names]
    if relation.returns_ctid:
        names.append(CTID)
        items.append("ctid")
    return " RETURNING " + ", ".join(items), names


def _writable_columns(relation: Relation) -> list[str]:
    """Local columns that can be given a value remotely (not generated ones)."""
    return [n for n, p in relation.plans.items()
            if p.remote is not None and not p.remote.generated]


def _insert_value(relation: Relation, local: str, row: Mapping[str, Any]) -> Any:
    plan = relation.plans[local]
    value = row.get(local)
    if value is None:
        # The FDW cannot tell an omitted column from an explicit NULL; a column with a
        # remote default (serial, identity, DEFAULT) gets it.
        return DEFAULT if plan.source.gets_default else None
    return write_param(value, int(relation.local_columns[local].type_oid or 0))


def build_insert(relation: Relation, rows: Sequence[Mapping[str, Any]],
                 returning: bool, on_conflict: str | None = None) -> tuple[Sql, list[str]]:
    """INSERT of one or more rows (one multi-row VALUES); with RETURNING of the local
    columns, whose names are returned. ``on_conflict`` 'nothing' adds ON CONFLICT DO
    NOTHING (RETURNING then gives only the rows inserted)."""
    table = qualified_name(relation.table.schema, relation.table.name)
    columns = _writable_columns(relation)
    sql = Sql()
    if not columns:
        sql.text(f"INSERT INTO {table} DEFAULT VALUES")
    else:
        sql.text(f"INSERT INTO {table} (" +
                 ", ".join(quote_identifier(relation.plans[c].source.name) for c in columns) +
                 ") VALUES ")
        for index, row in enumerate(rows):
            sql.text("(" if index == 0 else ", (")
            for position, column in enumerate(columns):
                if position:
                    sql.text(", ")
                sql.param(_insert_value(relation, column, row))
            sql.text(")")
    if on_conflict is not None:
        if on_conflict != "nothing":
            raise FeatureNotSupported(f"ON CONFLICT DO {on_conflict.upper()} is not supported")
        sql.text(" ON CONFLICT DO NOTHING")
    names: list[str] = []
    if returning:
        text, names = _returning(relation)
        sql.text(text)
    return sql, names


def _where_rowid(relation: Relation, rowid_column: str, rowid: Any) -> Sql:
    if rowid_column == CTID:
        return Sql().text(" WHERE ctid = ").param(rowid)
    type_oid = int(relation.local_columns[rowid_column].type_oid or 0)
    return Sql().text(" WHERE " + column_sql(relation, rowid_column) + " = ") \
        .param(qual_param(rowid, type_oid))


def _unchanged_column(relation: Relation, rowid_column: str) -> str:
    """A remote column that SET col = col leaves as it is."""
    if rowid_column != CTID:
        return relation.plans[rowid_column].source.name
    for plan in relation.plans.values():
        if plan.remote is not None and not plan.remote.generated and \
                plan.remote.identity != "a":
            return plan.remote.name
    raise FeatureNotSupported("an UPDATE of a remote table whose every column is generated "
                              "is not supported")


def build_update(relation: Relation, rowid_column: str, rowid: Any,
                 values: Mapping[str, Any]) -> tuple[Sql, list[str]]:
    table = qualified_name(relation.table.schema, relation.table.name)
    sets = []
    for column in _writable_columns(relation):
        if column not in values or relation.plans[column].source.identity == "a":
            continue
        value = values[column]
        piece = Sql().text(quote_identifier(relation.plans[column].source.name) + " = ")
        piece.param(None if value is None else
                    write_param(value, int(relation.local_columns[column].type_oid or 0)))
        sets.append(piece)
    sql = Sql().text(f"UPDATE {table} SET ")
    if sets:
        sql.join(", ", sets)
    else:
        # Nothing to set (every column generated): still an UPDATE, for its RETURNING
        # and remote triggers.
        name = quote_identifier(_unchanged_column(relation, rowid_column))
        sql.text(f"{name} = {name}")
    sql.extend(_where_rowid(relation, rowid_column, rowid))
    text, names = _returning(relation)
    sql.text(text)
    return sql, names


def build_delete(relation: Relation, rowid_column: str, rowid: Any) -> Sql:
    """DELETE by rowid, returning the deleted row's ctid where it has one."""
    table = qualified_name(relation.table.schema, relation.table.name)
    sql = Sql().text(f"DELETE FROM {table}")
    sql.extend(_where_rowid(relation, rowid_column, rowid))
    return sql.text(" RETURNING ctid") if relation.returns_ctid else sql
