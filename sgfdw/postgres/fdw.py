"""PostgresFdw: a remote PostgreSQL table as a foreign table (psycopg2).

Ties the modules of this package to the Multicorn API: options (options.py), who may
connect how (security.py), the backend's shared connection and remote transaction
(connection.py), the remote
relation's catalog facts (remote_table.py), what is safe to push down (pushdown.py), the
remote SQL (deparse.py), the scan (scan.py), planner estimates (estimate.py), IMPORT
FOREIGN SCHEMA (importer.py), TRUNCATE (truncate.py) and ANALYZE's sample (analyze.py).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Collection, Iterable, Mapping, Sequence

from multicorn import ColumnDefinition, ForeignDataWrapper, Qual, SortKey, TableDefinition

from sgfdw.aggregation import Aggregation
from sgfdw.errors import FdwError, FeatureNotSupported, OptionError
from sgfdw.join import Join
from sgfdw.expression import Expression
from sgfdw.modification import Modification
from sgfdw.remote.collation import local_collation
from sgfdw.remote.identity import is_superuser
from sgfdw.remote.pushdown import sortable_prefix
from sgfdw.remote.rowid import no_row_identity, rowid_from_key
from sgfdw.remote.transactions import ForwardsTransactions

from . import estimate
from .aggregates import (aggregation_pushable, aggregation_sortable, build_aggregate_select,
                         having_pushable)
from .analyze import analyze_query
from .connection import RemoteConnection, get_connection
from .deparse import (SelectQuery, Sql, build_delete, build_insert, build_select,
                      build_update)
from .expressions import expression_pushable, expression_sql, scan_column
from .direct import build_modification, modification_pushable, row_write_sql
from .importer import import_tables
from .join import build_join_select, join_pushable
from .options import (TableOptions, check_options, parse_import_options,
                      parse_table_options)
from .pushdown import CTID, Relation
from .remote_table import RemoteTable, load_remote_table
from .scan import run_select
from .security import check_user_mapping, open_checked, refuse_reserved_options
from .truncate import TruncateTarget, truncate_tables

__all__ = ["PostgresFdw"]


class PostgresFdw(ForwardsTransactions, ForeignDataWrapper):
    """A table (view, materialized view, ...) of a remote PostgreSQL database.

    Pushes down projections, quals, ORDER BY and LIMIT/OFFSET where they mean the same
    remotely; offers the remote unique keys and indexed columns as parameterised
    paths; provides the remote rows' ctid; writes through the remote primary key
    (``rowid_column``), else the ctid; follows the local transaction with one remote
    transaction per connection.
    """

    provides_ctid = True
    # INSERT ... ON CONFLICT DO NOTHING is sent as such (the remote keys decide).
    on_conflict_actions = ("nothing",)
    # Grouping keys, aggregate arguments and FILTER as trees (sgfdw.aggregation).
    aggregates_expressions = True
    # array_agg, string_agg and aggregates' ORDER BY (sgfdw.aggregation).
    aggregates_ordered = True
    # update() sends only the columns the statement sets, as postgres_fdw: remote column
    # privileges and UPDATE OF triggers see that write, other columns keep their values.
    update_set_columns_only = True

    def __init__(self, fdw_options: dict[str, str],
                 fdw_columns: Mapping[str, ColumnDefinition]) -> None:
        super().__init__(fdw_options, fdw_columns)
        self.options: TableOptions = parse_table_options(fdw_options)
        self.columns: OrderedDict[str, ColumnDefinition] = OrderedDict(fdw_columns)
        for column in self.columns.values():
            check_options("column", column.options or {})
        self._startup_cost = self.options.startup_cost
        self._tuple_cost = self.options.tuple_cost
        # Checked before anything can connect (begin() may): the instance is the
        # current user's, rebuilt when an option changes.
        self._superuser = is_superuser()
        check_user_mapping(self.options.user_mapping, self._superuser)
        self._conn: RemoteConnection = get_connection(self.options.connection)
        self._remote: RemoteTable | None = None
        self._relation: Relation | None = None
        if self.options.rowid_column is not None and \
                self.options.rowid_column not in self.columns:
            raise OptionError(f'rowid_column "{self.options.rowid_column}" is not a column '
                              f'of the foreign table')

    # -- the connection and the remote relation ----------------------------------------

    def _connection(self) -> RemoteConnection:
        return open_checked(self._conn, self._superuser)

    def _relation_now(self) -> Relation:
        """The remote relation's facts, loaded on first use and when stale."""
        if self._relation is None or self._remote is None or self._remote.is_stale():
            conn = self._connection()
            self._remote = load_remote_table(conn, self.options.schema_name,
                                             self.options.table_name or "")
            self._relation = Relation(self.columns, self._remote, local_collation())
        return self._relation

    # -- planning ------------------------------------------------------------------------

    def get_rel_size(self, quals: list[Qual], columns: Collection[str]) -> tuple[float, int]:
        relation = self._relation_now()
        if self.options.use_remote_estimate:
            return estimate.remote_estimate(self._connection(), relation, quals, columns)
        return estimate.local_estimate(relation, quals, columns)

    def get_path_keys(self) -> list[tuple[tuple[str, ...], float]]:
        return estimate.path_keys(self._relation_now())

    def can_sort(self, sortkeys: list[SortKey]) -> list[SortKey]:
        relation = self._relation_now()
        return sortable_prefix(sortkeys, lambda key: relation.sort_pushable(key) is not None)

    def can_limit(self, limit: int | None, offset: int | None) -> bool:
        return True

    def enforces_quals(self, quals: list[Qual]) -> bool:
        """True when every qual is evaluated remotely with its local meaning (so every
        row returned satisfies all of them, and LIMIT/OFFSET can be pushed too)."""
        relation = self._relation_now()
        return all(relation.qual_pushable(qual) for qual in quals)

    def can_filter(self, expression: Expression) -> bool:
        """A WHERE clause that is not a simple qual, evaluated remotely where it means
        what it means locally (expressions.py)."""
        return expression_pushable(expression, [self._relation_now()],
                                   self.options.extensions, local_collation())

    def can_aggregate(self, aggregation: Aggregation) -> bool:
        """GROUP BY and aggregates computed remotely where the result is the local one
        (aggregates.py)."""
        return aggregation_pushable(self._relation_now(), aggregation,
                                    self.options.extensions, local_collation())

    def can_filter_aggregation(self, aggregation: Aggregation, clause: Expression) -> bool:
        """A HAVING clause sent with the aggregation where it filters the groups as
        locally (aggregates.py)."""
        return having_pushable(self._relation_now(), aggregation, clause,
                               self.options.extensions, local_collation())

    def can_sort_aggregation(self, aggregation: Aggregation,
                             sortkeys: Sequence[SortKey]) -> bool:
        """ORDER BY the groups remotely where it sorts as locally (aggregates.py)."""
        return aggregation_sortable(self._relation_now(), aggregation, sortkeys)

    def can_limit_aggregation(self, aggregation: Aggregation, limit: int | None,
                              offset: int | None) -> bool:
        return True

    # -- joins computed remotely (join.py) ---------------------------------------------

    def _joined_relations(self, join: Join) -> list[Relation] | None:
        """The joined tables' remote relations; None unless all are PostgresFdw tables
        on this table's connection (one server and user mapping)."""
        tables = [table.instance for table in join.relations]
        if not all(isinstance(t, PostgresFdw) and t._conn is self._conn for t in tables):
            return None
        return [t._relation_now() for t in tables]

    def can_join(self, join: Join) -> bool:
        relations = self._joined_relations(join)
        return relations is not None and \
            join_pushable(join, relations, self.options.extensions,
                          local_collation())

    def _join_select(self, join: Join) -> SelectQuery:
        relations = self._joined_relations(join)
        if relations is None:
            raise FdwError("internal error: a join of tables of other connections was pushed")
        return build_join_select(join, relations)

    def execute_join(self, join: Join) -> Iterable[Sequence[Any]]:
        return run_select(self._connection(), self._join_select(join),
                          self.options.fetch_size, len(join.output), small=False)

    def explain_join(self, join: Join, verbose: bool = False) -> list[str]:
        if not verbose:
            return []
        return ["Remote SQL: " + self._join_select(join).sql.shown()]

    # -- scanning --------------------------------------------------------------------------

    def _select(self, quals: Sequence[Qual], columns: Collection[str],
                sortkeys: Sequence[SortKey] | None, limit: int | None,
                offset: int | None, aggregation: Aggregation | None,
                filters: Sequence[Expression]) -> SelectQuery:
        relation = self._relation_now()
        conditions = [expression_sql(f, scan_column(relation)) for f in filters]
        if aggregation is not None:
            return build_aggregate_select(relation, quals, aggregation, conditions)
        query = build_select(relation, quals, columns, sortkeys, limit, offset, conditions)
        if query.not_pushed and (limit is not None or offset is not None):
            # enforces_quals() said otherwise at plan time; never return wrong rows.
            raise FdwError("internal error: LIMIT/OFFSET pushed with quals the remote "
                           "server cannot evaluate: " + repr(query.not_pushed))
        return query

    def execute(self, quals: list[Qual], columns: Collection[str],
                sortkeys: list[SortKey] | None = None, limit: int | None = None,
                offset: int | None = None,
                aggregation: Aggregation | None = None,
                filters: Sequence[Expression] = ()) -> Iterable[Sequence[Any]]:
        query = self._select(quals, columns, sortkeys, limit, offset, aggregation, filters)
        fetch_size = self.options.fetch_size
        small = query.at_most_one_row or (
            limit is not None and limit + (offset or 0) <= fetch_size)
        return run_select(self._connection(), query, fetch_size, len(self.columns), small)

    def explain(self, quals: list[Qual], columns: Collection[str],
                sortkeys: list[SortKey] | None = None, verbose: bool = False,
                limit: int | None = None, offset: int | None = None,
                aggregation: Aggregation | None = None,
                filters: Sequence[Expression] = ()) -> list[str]:
        if not verbose:
            return []
        query = self._select(quals, columns, sortkeys, limit, offset, aggregation, filters)
        return ["Remote SQL: " + query.sql.shown()]

    # -- writes ------------------------------------------------------------------------------

    @property
    def rowid_column(self) -> str:
        """The rowid_column option, else the remote single-column primary key
        (sgfdw.remote.rowid), else (as postgres_fdw) the ctid of a plain remote table."""
        relation = self._relation_now()
        key = relation.table.primary_key
        rowid = rowid_from_key(self.options.rowid_column,
                               key and [relation.local_name_of.get(k) for k in key])
        if rowid is not None:
            return rowid
        table = f'"{relation.table.schema}"."{relation.table.name}"'
        if key is not None and len(key) == 1:
            raise FeatureNotSupported(f'the primary key column "{key[0]}" of remote table '
                                      f'{table} is not a column of the foreign table')
        if relation.table.relkind == "r":
            return CTID
        # A ctid is unique only within one table: not across a partitioned table's
        # partitions, and a view has none.
        raise no_row_identity(table, detail="It is not a plain table, whose rows its ctid "
                                            "would identify.")

    @property
    def modify_batch_size(self) -> int:
        return self.options.batch_size

    def updatable_operations(self) -> tuple[str, ...]:
        """The bridge's updatability hook: all writes, none with ``updatable 'false'``
        (PostgreSQL then refuses them before any row is read, 55000, as postgres_fdw)."""
        return ("insert", "update", "delete") if self.options.updatable else ()

    def _write(self, sql: Sql) -> list[tuple]:
        text, params = sql.for_psycopg()
        return self._connection().query(text, params, sql.shown())

    def insert(self, values: dict[str, Any],
               on_conflict: str | None = None) -> dict[str, Any] | None:
        """INSERT one row; the remote row (generated keys, defaults) for RETURNING, None
        if none was inserted (ON CONFLICT DO NOTHING, a remote trigger)."""
        sql, names = build_insert(self._relation_now(), [values], returning=True,
                                  on_conflict=on_conflict)
        rows = self._write(sql)
        return dict(zip(names, rows[0])) if rows else None

    def bulk_insert(self, all_values: list[dict[str, Any]],
                    on_conflict: str | None = None) -> list[Any]:
        """One multi-row INSERT; the remote rows, in order (they feed AFTER ROW
        triggers with generated values, as insert()'s do). With ``on_conflict`` only
        the rows inserted, as the bridge then counts them."""
        if not all_values:
            return []
        sql, names = build_insert(self._relation_now(), all_values, returning=True,
                                  on_conflict=on_conflict)
        rows = self._write(sql)
        if len(rows) != len(all_values) and on_conflict is None:
            return [None] * len(all_values)
        return [dict(zip(names, row)) for row in rows]

    def update(self, oldvalues: Any, newvalues: dict[str, Any]) -> dict[str, Any] | None:
        """UPDATE the row whose rowid_column value is ``oldvalues``; the remote row."""
        sql, names = build_update(self._relation_now(), self.rowid_column, oldvalues,
                                  newvalues)
        rows = self._write(sql)
        return dict(zip(names, rows[0])) if rows else None

    def delete(self, oldvalues: Any) -> dict[str, Any] | None:
        """DELETE the row whose rowid_column value is ``oldvalues``.

        DELETE ... RETURNING gets the deleted row from PostgreSQL (the scanned row); only
        its remote ctid is returned, for a RETURNING ctid."""
        sql = build_delete(self._relation_now(), self.rowid_column, oldvalues)
        rows = self._write(sql)
        return {CTID: rows[0][0]} if rows and rows[0] else None

    def explain_modify(self, operation: str, verbose: bool = False,
                       columns: Sequence[str] | None = None) -> list[str]:
        """The statement each row's insert(), update() or delete() runs (an update()
        given only ``columns``, when the bridge says so)."""
        if not verbose:
            return []
        rowid = "" if operation == "insert" else self.rowid_column
        sql = row_write_sql(self._relation_now(), operation, rowid, columns)
        return ["Remote SQL: " + sql.shown()]

    # -- UPDATE / DELETE as one remote statement (direct.py) ------------------------------

    def can_modify_directly(self, modification: Modification) -> bool:
        return modification_pushable(self._relation_now(), modification,
                                     self.options.extensions)

    def modify_directly(self, modification: Modification) -> int | list[dict[str, Any]]:
        """The remote UPDATE/DELETE: its row count, or the rows RETURNING asks for."""
        sql, names = build_modification(self._relation_now(), modification)
        text, params = sql.for_psycopg()
        if modification.returning is None:
            return self._connection().command(text, params, sql.shown())
        return [dict(zip(names, row))
                for row in self._connection().query(text, params, sql.shown())]

    def explain_modify_directly(self, modification: Modification,
                                verbose: bool = False) -> list[str]:
        if not verbose:
            return []
        return ["Remote SQL: " + build_modification(self._relation_now(), modification)[0].shown()]

    # -- TRUNCATE and ANALYZE ----------------------------------------------------------------

    def truncate(self, tables: Sequence[tuple[str, PostgresFdw]], restart_identity: bool,
                 cascade: bool) -> None:
        """The tables' remote TRUNCATE, in the remote transaction (truncate.py)."""
        truncate_tables([TruncateTarget(name, table.options.truncatable, table._connection,
                                        table.options.schema_name, table.options.table_name or "")
                         for name, table in tables], restart_identity, cascade)

    def analyze_sample(self, sample_size: int) -> tuple[Iterable[Sequence[Any]], float | None]:
        """The remote rows, sampled remotely where possible (analyze.py)."""
        self._relation = None       # the remote row count as of now
        query, total = analyze_query(self._relation_now(), sample_size)
        return run_select(self._connection(), query, self.options.fetch_size,
                          len(self.columns), small=False), total

    # -- transactions (one remote transaction per connection, however many tables) -------

    def remote_transaction(self) -> RemoteConnection:
        return self._conn

    # -- IMPORT FOREIGN SCHEMA -----------------------------------------------------------

    @classmethod
    def import_schema(cls, schema: str, srv_options: dict[str, str], options: dict[str, str],
                      restriction_type: str | None,
                      restricts: list[str]) -> list[TableDefinition]:
        server = parse_table_options(srv_options, need_table=False)
        superuser = is_superuser()
        check_user_mapping(server.user_mapping, superuser)
        conn = open_checked(get_connection(server.connection), superuser)
        return import_tables(conn, schema, parse_import_options(options), restriction_type,
                             restricts)

    @classmethod
    def validate_options(cls, context: str, options: dict[str, str]) -> None:
        """The options of one object, checked when it is created or altered: an option
        on the wrong kind of object (a password on the server) and, for a user mapping
        a non-superuser writes, an option reserved to superusers. The rest (a password
        the remote actually uses) can only be checked when connecting."""
        check_options(context, options)
        if context == "user_mapping" and not is_superuser():
            refuse_reserved_options(options)

