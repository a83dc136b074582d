"""SqlAlchemyFdw: a foreign table over any database SQLAlchemy reaches by URL.

    CREATE SERVER src FOREIGN DATA WRAPPER sgfdw
        OPTIONS (wrapper 'sgfdw.sqlalchemy.SqlAlchemyFdw', db_url 'postgresql+psycopg2://h/db');
    CREATE USER MAPPING FOR CURRENT_USER SERVER src OPTIONS (user 'u', password 'p');
    CREATE FOREIGN TABLE t (id int, name text) SERVER src OPTIONS (tablename 't');
    IMPORT FOREIGN SCHEMA "default" FROM SERVER src INTO local_schema;

This class only wires the Multicorn calls to the modules that do the work: options,
engines (one per URL and credentials), remote_table (reflection), query/quals (the
SELECT), filters, aggregates and joins (what else the source computes), scan
(streaming), writes, transactions, estimate and importer.
"""
from __future__ import annotations

import time
from typing import Any, Collection, Iterable, Mapping, Sequence

import sqlalchemy as sa

from multicorn import ColumnDefinition, ForeignDataWrapper, Qual, SortKey
from sgfdw.aggregation import Aggregation
from sgfdw.errors import FdwError
from sgfdw.expression import Expression
from sgfdw.join import Join
from sgfdw.remote.pushdown import sortable_prefix
from sgfdw.remote.rowid import no_row_identity, rowid_from_key
from sgfdw.remote.transactions import ForwardsTransactions
from sgfdw.sqlalchemy import access, estimate, importer, transactions
from sgfdw.sqlalchemy.aggregates import (AggregateQuery, aggregation_pushable,
                                         aggregation_sortable, build_aggregate_select)
from sgfdw.sqlalchemy.engines import Source, source_for_options
from sgfdw.sqlalchemy.filters import filter_condition, filter_conditions
from sgfdw.sqlalchemy.joins import JoinedSource, JoinQuery, join_query
from sgfdw.sqlalchemy.options import (check_names, check_objects, effective_options,
                                      parse_options)
from sgfdw.sqlalchemy.query import Pushdown, build_select, compiled_sql, sample_select
from sgfdw.sqlalchemy.remote_table import RemoteTable, reflect
from sgfdw.sqlalchemy.scan import RowStream, describe_fetch, row_converter
from sgfdw.sqlalchemy.writes import Writer

__all__ = ["SqlAlchemyFdw"]

#: Seconds a table size estimate is reused before the source is asked again.
ESTIMATE_TTL = 60.0


class SqlAlchemyFdw(ForwardsTransactions, ForeignDataWrapper):
    # update() is given only the columns the statement sets (sgfdw's opt-in) and sets
    # only those: the source's UPDATE OF triggers see what was written, other columns
    # keep their values.
    update_set_columns_only = True

    def __init__(self, fdw_options: dict[str, str],
                 fdw_columns: Mapping[str, ColumnDefinition]) -> None:
        super().__init__(fdw_options, fdw_columns)
        check_objects(fdw_options)
        self.settings = parse_options(effective_options(fdw_options))
        self.columns = fdw_columns
        self.column_names = list(fdw_columns)
        self.source: Source = source_for_options(fdw_options, self.settings)
        self._table: RemoteTable | None = None
        self._pushdown: Pushdown | None = None
        self._writer: Writer | None = None
        self._rows: tuple[float, float] | None = None  # (estimate, when)

    # ---- the remote table, reflected at first use

    @property
    def table(self) -> RemoteTable:
        if self._table is None:
            with transactions.connection_for_statement(self.source) as conn:
                with self.source.errors():
                    tablename = self.settings.tablename
                    assert tablename is not None    # parse_options required it of a table
                    self._table = reflect(conn, tablename, self.settings.schema, self.columns)
        return self._table

    @property
    def pushdown(self) -> Pushdown:
        if self._pushdown is None:
            self._pushdown = Pushdown(self.table, self.source.capabilities)
        return self._pushdown

    # ---- planning

    def get_rel_size(self, quals: list[Qual], columns: Collection[str]) -> tuple[int, int]:
        table = self.table
        now = time.monotonic()
        if self._rows is None or now - self._rows[1] > ESTIMATE_TTL:
            with transactions.connection_for_statement(self.source) as conn:
                self._rows = (estimate.table_rows(conn, table), now)
        return (estimate.scan_rows(self._rows[0], quals, table),
                estimate.row_width(columns, table))

    def get_path_keys(self) -> list[tuple[tuple[str, ...], int]]:
        table = self.table
        keys = [table.primary_key, *table.unique_keys]
        seen: list[tuple[str, ...]] = []
        for key in keys:
            if key and key not in seen:
                seen.append(key)
        return [(key, 1) for key in seen]

    def can_sort(self, sortkeys: list[SortKey]) -> list[SortKey]:
        return sortable_prefix(sortkeys, lambda key: self.pushdown.sort(key) is not None)

    def can_limit(self, limit: int | None, offset: int | None) -> bool:
        return True

    def enforces_quals(self, quals: list[Qual]) -> bool:
        """True when every qual is pushed exactly (lets LIMIT/OFFSET go with them)."""
        return self.pushdown.enforces(quals)

    def can_filter(self, expression: Expression) -> bool:
        """AND/OR/NOT of exact quals, IS [NOT] NULL, boolean columns (filters.py)."""
        return filter_condition(self.pushdown, expression) is not None

    def can_aggregate(self, aggregation: Aggregation) -> bool:
        """GROUP BY and aggregates the source computes exactly as PostgreSQL
        (aggregates.py)."""
        return aggregation_pushable(self.pushdown, self.columns, aggregation)

    def can_sort_aggregation(self, aggregation: Aggregation,
                             sortkeys: Sequence[SortKey]) -> bool:
        """ORDER BY the groups in the source where it sorts them as PostgreSQL."""
        return aggregation_sortable(self.pushdown, self.columns, aggregation, sortkeys)

    def can_limit_aggregation(self, aggregation: Aggregation, limit: int | None,
                              offset: int | None) -> bool:
        return True

    def _aggregate_select(self, quals: list[Qual], aggregation: Aggregation,
                          filters: Sequence[Expression]) -> AggregateQuery:
        return build_aggregate_select(self.pushdown, self.columns, quals, aggregation,
                                      self.table.display,
                                      filter_conditions(self.pushdown, filters))

    # ---- joins computed by the source (joins.py)

    def _join_query(self, join: Join) -> JoinQuery | None:
        instances = [table.instance for table in join.relations]
        if not all(isinstance(instance, SqlAlchemyFdw) and instance.source is self.source
                   for instance in instances):
            return None    # another engine or other credentials
        return join_query(join, [JoinedSource(instance.pushdown, instance.columns)
                                 for instance in instances])

    def can_join(self, join: Join) -> bool:
        """Joins of this source's tables it computes exactly as PostgreSQL (joins.py)."""
        return self._join_query(join) is not None

    def _accepted_join(self, join: Join) -> JoinQuery:
        query = self._join_query(join)
        if query is None:
            raise FdwError("internal error: a join the source cannot compute exactly was "
                           "pushed: " + join.describe())
        return query

    def execute_join(self, join: Join) -> Iterable[Sequence[Any]]:
        query = self._accepted_join(join)
        return RowStream(self.source, query.statement, query.convert,
                         self.settings.fetch_size, True)

    def explain_join(self, join: Join, verbose: bool = False) -> list[str]:
        statement = self._accepted_join(join).statement
        lines = ["Remote SQL: " + compiled_sql(statement, self.source.engine.dialect)]
        if verbose:
            lines.append(f"Source: {self.source.display_url}")
        return lines

    # ---- scanning

    def _streamed(self, limit: int | None, offset: int | None) -> bool:
        return limit is None or limit + (offset or 0) > self.settings.fetch_size

    def execute(self, quals: list[Qual], columns: Collection[str],
                sortkeys: list[SortKey] | None = None, limit: int | None = None,
                offset: int | None = None, aggregation: Aggregation | None = None,
                filters: Sequence[Expression] = ()) -> RowStream:
        if aggregation is not None:
            grouped = self._aggregate_select(quals, aggregation, filters)
            return RowStream(self.source, grouped.statement, grouped.convert,
                             self.settings.fetch_size, True)
        query = build_select(self.pushdown, quals, columns, sortkeys, limit, offset,
                             filter_conditions(self.pushdown, filters))
        return RowStream(self.source, query.statement,
                         row_converter(query.names, self.column_names),
                         self.settings.fetch_size, self._streamed(limit, offset))

    def explain(self, quals: list[Qual], columns: Collection[str],
                sortkeys: list[SortKey] | None = None, verbose: bool = False,
                limit: int | None = None, offset: int | None = None,
                aggregation: Aggregation | None = None,
                filters: Sequence[Expression] = ()) -> list[str]:
        if aggregation is not None:
            statement = self._aggregate_select(quals, aggregation, filters).statement
            lines = ["Remote SQL: " + compiled_sql(statement, self.source.engine.dialect)]
            if verbose:
                lines.append(f"Source: {self.source.display_url}")
            return lines
        query = build_select(self.pushdown, quals, columns, sortkeys, limit, offset,
                             filter_conditions(self.pushdown, filters))
        lines = ["Remote SQL: " + compiled_sql(query.statement, self.source.engine.dialect)]
        if verbose:
            lines.append(f"Source: {self.source.display_url}")
            lines.append(describe_fetch(self.source, self._streamed(limit, offset),
                                        self.settings.fetch_size))
            if query.local:
                lines.append("Quals not pushed: " + ", ".join(map(repr, query.local)))
        return lines

    def analyze_sample(self, sample_size: int) -> tuple[RowStream, float]:
        """ANALYZE: rows the source samples at random, and its row count (join and
        filter selectivities then come from local statistics)."""
        table = self.table
        with transactions.connection_for_statement(self.source) as conn:
            with self.source.errors():
                total = conn.execute(sa.select(sa.func.count()).select_from(table.table)) \
                    .scalar_one()
        self._rows = (float(total), time.monotonic())
        query = sample_select(self.pushdown, self.column_names, sample_size)
        return RowStream(self.source, query.statement,
                         row_converter(query.names, self.column_names),
                         self.settings.fetch_size, True), float(total)

    # ---- writing

    @property
    def rowid_column(self) -> str:
        """The rowid_column option, else the remote single-column primary key
        (sgfdw.remote.rowid)."""
        rowid = rowid_from_key(self.settings.rowid_column, self.table.primary_key)
        if rowid is None:
            raise no_row_identity(self.table.display)
        return rowid

    @property
    def modify_batch_size(self) -> int:
        return self.settings.batch_size

    @property
    def writer(self) -> Writer:
        if self._writer is None:
            try:
                rowid: str | None = self.rowid_column
            except Exception:
                rowid = None
            self._writer = Writer(self.source, self.table, rowid)
        self._rows = None  # the table is changing: estimate it again next time
        return self._writer

    def insert(self, values: dict[str, Any]) -> dict[str, Any] | None:
        return self.writer.insert(values)

    def bulk_insert(self, all_values: list[dict[str, Any]]) -> list[Any]:
        return self.writer.bulk_insert(all_values)

    def update(self, oldvalues: Any, newvalues: dict[str, Any]) -> dict[str, Any] | None:
        return self.writer.update(oldvalues, newvalues)

    def delete(self, oldvalues: Any) -> None:
        return self.writer.delete(oldvalues)

    # ---- transactions

    def remote_transaction(self) -> transactions.SourceTransactions:
        return transactions.SourceTransactions(self.source)

    # ---- options checked when written

    @classmethod
    def validate_options(cls, context: str, options: dict[str, str]) -> None:
        """One object's options, when it is created or altered (sgfdw.validation): names
        and values, no credentials on the server, no connection target a non-superuser
        chooses. What depends on the merged options and the remote (the password being
        used, the file existing) is checked when connecting."""
        access.check_object(context, options)
        check_names(context, options)

    # ---- IMPORT FOREIGN SCHEMA

    @classmethod
    def import_schema(cls, schema: str, srv_options: dict[str, str], options: dict[str, str],
                      restriction_type: str | None,
                      restricts: list[str]) -> list[Any]:
        return importer.import_schema(schema, srv_options, options, restriction_type,
                                      restricts)
