"""The Multicorn2 3.2 Python API, as provided by sgfdw.

A foreign data wrapper is a subclass of :class:`ForeignDataWrapper`, named in the
``wrapper`` option of a server or foreign table as ``'module.Class'``. The C bridge builds
it as ``Class(options, columns)`` and calls the methods documented below; everything
here is plain Python and importable outside PostgreSQL.

Contract facts the bridge relies on:

* A class supports INSERT/UPDATE/DELETE iff it overrides at least one of
  ``insert``/``update``/``delete`` of :class:`ForeignDataWrapper` (the base methods
  raise NotImplementedError); read-only FDWs' tables are reported as not updatable.
* ``enforces_quals(quals) -> bool`` is deliberately NOT defined here: only FDWs that
  define it can get LIMIT/OFFSET pushed down together with WHERE quals.
* ``execute``/``explain`` get ``sortkeys``, ``limit`` and ``offset`` as keyword
  arguments only when present, so older two-argument signatures keep working.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from multicorn._sqltext import (PG_SPACE, check_sql_fragment, options_clause,
                                quote_identifier, quote_option)

__version__ = "3.2"

__all__ = [
    "ANY",
    "ALL",
    "UNBOUND",
    "Qual",
    "SortKey",
    "ColumnDefinition",
    "TableDefinition",
    "ForeignDataWrapper",
    "TransactionAwareForeignDataWrapper",
    "quote_identifier",
    "quote_option",
]

#: ``Qual.list_any_or_all`` for ``col op ANY(array)`` (also ``col IN (...)``).
ANY = "ANY"
#: ``Qual.list_any_or_all`` for ``col op ALL(array)``.
ALL = "ALL"


class _Unbound:
    """The type of :data:`UNBOUND`: printed as ``?``, as Multicorn prints a parameter
    not known yet, so EXPLAIN output that shows a qual is the same on every run."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "?"

    __str__ = __repr__


#: The value of a qual whose parameter is not known yet (EXPLAIN without executing).
UNBOUND = _Unbound()


# --------------------------------------------------------------------------- plan data


class Qual:
    """A restriction ``field_name operator value`` the FDW may use to filter rows.

    ``operator`` is the operator name (``'='``, ``'<'``, ``'~~'`` for LIKE, ``'~~*'``,
    ``'<>'``, ...) or, for ``col op ANY(array)`` / ``col op ALL(array)`` (and
    ``col IN (...)``), a tuple ``(op, True)`` / ``(op, False)``; ``value`` is then a list.
    ``IS NULL`` is ``('=', None)`` and ``IS NOT NULL`` is ``('<>', None)``. Quals are a
    hint: PostgreSQL rechecks them on the rows the FDW returns.
    """

    def __init__(self, field_name: str, operator: str | tuple[str, bool], value: Any) -> None:
        self.field_name = field_name
        self.operator = operator
        self.value = value

    @property
    def is_list_operator(self) -> bool:
        """True for ``op ANY(array)`` / ``op ALL(array)`` quals."""
        return isinstance(self.operator, tuple)

    @property
    def list_any_or_all(self) -> str | None:
        """:data:`ANY`, :data:`ALL`, or None when this is not a list operator."""
        if not isinstance(self.operator, tuple):
            return None
        return ANY if self.operator[1] else ALL

    def __repr__(self) -> str:
        if isinstance(self.operator, tuple):
            return f"{self.field_name} {self.operator[0]} {self.list_any_or_all}({self.value})"
        return f"{self.field_name} {self.operator} {self.value}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Qual):
            return NotImplemented
        return (self.field_name, self.operator, self.value) == (
            other.field_name, other.operator, other.value)

    def __hash__(self) -> int:
        try:
            return hash((self.field_name, self.operator, self.value))
        except TypeError:  # e.g. a list value of an ANY qual
            return hash((self.field_name, self.operator))


class SortKey(NamedTuple):
    """One column of an ORDER BY the FDW may implement (see ``can_sort``).

    A named tuple, as in Multicorn: ``attname`` (column name), ``attnum`` (1-based
    position in the table), ``is_reversed`` (DESC), ``nulls_first``, ``collate``
    (collation name or None).
    """

    attname: str
    attnum: int
    is_reversed: bool
    nulls_first: bool
    collate: str | None


# --------------------------------------------------------------------------- DDL objects


class ColumnDefinition:
    """A column of a foreign table: given to the FDW's constructor, returned by importers.

    Attributes: ``column_name``; ``type_oid`` and ``typmod`` (PostgreSQL's);
    ``type_name`` (SQL type with modifier, e.g. ``'character varying(12)'``);
    ``base_type_name`` (without modifier, e.g. ``'character varying'``); ``options``
    (dict of column options, str -> str). sgfdw extras for IMPORT FOREIGN SCHEMA:
    ``nullable`` (False emits NOT NULL) and ``default`` (raw SQL expression for DEFAULT).
    sgfdw extra given to the constructor: ``collation``, the local column's collation
    (None for the database default or a type without collation; else named as
    ``SortKey.collate``: a built-in one by its bare name, e.g. ``'C'``, one created in
    the database schema-qualified and quoted, e.g. ``'public."C"'``). Quals carry no
    collation: an FDW comparing a column's text remotely must check that this one
    compares and orders as the remote column does.
    """

    def __init__(
        self,
        column_name: str,
        type_oid: int = 0,
        typmod: int = 0,
        type_name: str = "",
        base_type_name: str = "",
        options: Mapping[str, Any] | None = None,
        *,
        nullable: bool = True,
        default: str | None = None,
        collation: str | None = None,
    ) -> None:
        self.column_name = column_name
        self.type_oid = type_oid
        self.typmod = typmod
        self.type_name = type_name
        self.base_type_name = base_type_name
        self.options: dict[str, Any] = dict(options) if options else {}
        self.nullable = nullable
        self.default = default
        self.collation = collation

    def __repr__(self) -> str:
        options = f" options {self.options}" if self.options else ""
        return (f"{type(self).__name__}({self.column_name}, {self.type_oid}, "
                f"{self.type_name}{options})")

    def to_statement(self) -> str:
        """This column's definition for CREATE FOREIGN TABLE.

        ``"name" type [OPTIONS (...)] [NOT NULL] [DEFAULT expr]``. The name and option
        names are quoted identifiers, option values standard literals. ``type_name``
        (else ``base_type_name``) and ``default`` are SQL; they are checked lexically so
        they cannot end the column definition or the statement (ValueError otherwise).
        """
        type_sql = self.type_name or self.base_type_name
        if not type_sql:
            raise ValueError(f"column {self.column_name!r} has no type name")
        check_sql_fragment(type_sql, "type name", type_name=True)
        parts = [quote_identifier(self.column_name), type_sql.strip(PG_SPACE)]
        if self.options:
            parts.append(options_clause(self.options))
        if not self.nullable:
            parts.append("NOT NULL")
        if self.default is not None:
            check_sql_fragment(self.default, "default expression", type_name=False)
            parts.append("DEFAULT " + self.default.strip(PG_SPACE))
        return " ".join(parts)


def _as_column(column: Any) -> ColumnDefinition:
    if isinstance(column, ColumnDefinition) or hasattr(column, "to_statement"):
        return column
    if isinstance(column, Sequence) and not isinstance(column, str) and len(column) == 2:
        name, type_name = column
        return ColumnDefinition(name, type_name=type_name)
    raise TypeError(f"not a column definition: {column!r}")


class TableDefinition:
    """A foreign table to create, as returned by ``ForeignDataWrapper.import_schema``.

    ``columns``: ColumnDefinition objects (a mapping of them, or ``(name, type_name)``
    pairs, are accepted too); ``options``: table options (str -> str); ``schema`` is
    informative only (the table is created in the IMPORT's local schema).
    """

    def __init__(
        self,
        table_name: str,
        schema: str | None = None,
        columns: Iterable[Any] | Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.table_name = table_name
        self.schema = schema
        if isinstance(columns, Mapping):
            columns = columns.values()
        self.columns: list[Any] = list(columns) if columns else []
        self.options: dict[str, Any] = dict(options) if options else {}

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.table_name!r}, schema={self.schema!r}, "
                f"columns={self.columns!r}, options={self.options!r})")

    def to_statement(self, schema_name: str | None, server_name: str) -> str:
        """The ``CREATE FOREIGN TABLE "schema"."table" (...) SERVER "server" OPTIONS (...)``.

        One statement, no trailing semicolon. Identifiers are always quoted, option values
        are standard string literals; see :meth:`ColumnDefinition.to_statement`.
        """
        name = quote_identifier(self.table_name)
        if schema_name is not None:
            name = quote_identifier(schema_name) + "." + name
        columns = [_as_column(column).to_statement() for column in self.columns]
        body = "".join(f"\n    {col}{',' if k < len(columns) - 1 else ''}"
                       for k, col in enumerate(columns))
        statement = f"CREATE FOREIGN TABLE {name} ({body}\n) SERVER {quote_identifier(server_name)}"
        if self.options:
            statement += " " + options_clause(self.options)
        return statement


# --------------------------------------------------------------------------- the FDW class


class ForeignDataWrapper:
    """Base class of foreign data wrappers (Multicorn2 3.2 semantics).

    ``__init__(fdw_options, fdw_columns)``: ``fdw_options`` is a dict of the table,
    server and user-mapping options merged (later wins) without ``wrapper``;
    ``fdw_columns`` an ordered dict column name -> :class:`ColumnDefinition`. One
    instance per foreign table (and user) per backend, rebuilt when options or columns
    change.
    """

    #: Startup cost the planner adds to every scan of the table.
    _startup_cost: float = 20

    def __init__(self, fdw_options: dict[str, str],
                 fdw_columns: Mapping[str, ColumnDefinition]) -> None:
        pass

    # ---- planning

    def get_rel_size(self, quals: list[Qual], columns: Collection[str]) -> tuple[float, int]:
        """Estimate ``(rows, average row width in bytes)`` of a scan with these quals."""
        return (100000000, len(columns) * 100)

    def get_path_keys(self) -> Sequence[tuple[tuple[str, ...], float]]:
        """Parameterised paths: ``[((column, ...), expected_rows), ...]``.

        Each entry says: given equality quals on those columns, a scan returns about
        ``expected_rows`` rows (lets the planner choose a nested loop with lookups).
        """
        return []

    def can_sort(self, sortkeys: list[SortKey]) -> list[SortKey]:
        """The prefix of ``sortkeys`` the FDW will return its rows sorted by."""
        return []

    def can_limit(self, limit: int | None, offset: int | None) -> bool:
        """True if ``execute`` will apply this LIMIT/OFFSET itself."""
        return False

    # ---- scanning

    def execute(self, quals: list[Qual], columns: Collection[str],
                sortkeys: list[SortKey] | None = None, limit: int | None = None,
                offset: int | None = None) -> Iterable[Sequence[Any] | Mapping[str, Any]]:
        """Return (better: yield) the rows of a scan.

        ``columns`` is the set of column names the query needs. A row is a sequence
        (all table columns, by position) or a mapping (by column name; missing = NULL).
        ``sortkeys``/``limit``/``offset`` are passed only when the FDW accepted them in
        ``can_sort``/``can_limit``; the rows must then honour them.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement execute()")

    def explain(self, quals: list[Qual], columns: Collection[str],
                sortkeys: list[SortKey] | None = None, verbose: bool = False,
                limit: int | None = None, offset: int | None = None) -> Iterable[str]:
        """Lines to show in EXPLAIN for a scan with these arguments. An FDW that accepts
        aggregations (sgfdw's ``can_aggregate``) and writes its own ``explain`` also gets
        the scan's ``aggregation``, as its ``execute`` does."""
        return []

    def end_scan(self) -> None:
        """Called when a scan ends."""

    # ---- modification

    @property
    def rowid_column(self) -> str:
        """Column identifying a row for UPDATE/DELETE (its value is passed to them)."""
        raise NotImplementedError("This FDW does not support the writable API")

    @property
    def modify_batch_size(self) -> int:
        """Rows per ``bulk_insert`` call; 1 means ``insert`` row by row."""
        return 1

    def insert(self, values: dict[str, Any]) -> dict[str, Any] | None:
        """Insert one row (column name -> value); a returned dict feeds RETURNING."""
        raise NotImplementedError("This FDW does not support the writable API")

    def bulk_insert(self, all_values: list[dict[str, Any]]) -> list[Any]:
        """Insert several rows; by default calls ``insert`` for each one."""
        return [self.insert(values) for values in all_values]

    def update(self, oldvalues: Any, newvalues: dict[str, Any]) -> dict[str, Any] | None:
        """Update the row whose ``rowid_column`` value is ``oldvalues`` to ``newvalues``."""
        raise NotImplementedError("This FDW does not support the writable API")

    def delete(self, oldvalues: Any) -> dict[str, Any] | None:
        """Delete the row whose ``rowid_column`` value is ``oldvalues``; a returned dict
        (the deleted row as the source had it) feeds RETURNING."""
        raise NotImplementedError("This FDW does not support the writable API")

    def end_modify(self) -> None:
        """Called when an INSERT/UPDATE/DELETE on the table ends."""

    # ---- transactions (called for instances used in the transaction)

    def begin(self, serializable: bool) -> None:
        """A transaction using this table begins."""

    def pre_commit(self) -> None:
        """The transaction is about to commit: last chance to fail it."""

    def commit(self) -> None:
        """The transaction committed."""

    def rollback(self) -> None:
        """The transaction rolled back."""

    def sub_begin(self, level: int) -> None:
        """A subtransaction (savepoint) at nesting ``level`` begins."""

    def sub_commit(self, level: int) -> None:
        """The subtransaction at ``level`` is released."""

    def sub_rollback(self, level: int) -> None:
        """The subtransaction at ``level`` rolled back."""

    # ---- IMPORT FOREIGN SCHEMA

    @classmethod
    def import_schema(cls, schema: str, srv_options: dict[str, str], options: dict[str, str],
                      restriction_type: str | None,
                      restricts: list[str]) -> list[TableDefinition]:
        """The tables of remote ``schema`` as :class:`TableDefinition` objects.

        ``restriction_type`` is ``'limit'`` (LIMIT TO), ``'except'`` (EXCEPT) or None;
        ``restricts`` the table names listed there.
        """
        raise NotImplementedError("This FDW does not support IMPORT FOREIGN SCHEMA")


class TransactionAwareForeignDataWrapper(ForeignDataWrapper):
    """An FDW that records its changes and applies them at commit (Multicorn compatible).

    ``insert``/``update``/``delete`` append ``('insert', values)``,
    ``('update', (oldvalues, newvalues))`` and ``('delete', oldvalues)`` to
    ``self.current_transaction_state``; ``rollback`` forgets them. Subclasses apply them in
    ``pre_commit``/``commit``.
    """

    def __init__(self, fdw_options: dict[str, str],
                 fdw_columns: Mapping[str, ColumnDefinition]) -> None:
        super().__init__(fdw_options, fdw_columns)
        self._init_transaction_state()

    def _init_transaction_state(self) -> None:
        self.current_transaction_state: list[tuple[str, Any]] = []

    def insert(self, values: dict[str, Any]) -> None:
        self.current_transaction_state.append(("insert", values))

    def update(self, oldvalues: Any, newvalues: dict[str, Any]) -> None:
        self.current_transaction_state.append(("update", (oldvalues, newvalues)))

    def delete(self, oldvalues: Any) -> None:
        self.current_transaction_state.append(("delete", oldvalues))

    def rollback(self) -> None:
        self._init_transaction_state()
