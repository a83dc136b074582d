"""ANALYZE of a PostgresFdw table: a sample of the remote rows and the remote row count.

Where the remote side can sample, it does, as postgres_fdw's ``analyze_sampling
'auto'`` (PostgreSQL 16): a plain or partitioned table or a materialized view whose
remote row count (``reltuples``) is known and larger than the sample is read with
``TABLESAMPLE BERNOULLI`` at the percentage that gives about the sample size, so only
about that many rows travel. Anything else -- a view, a foreign table, a relation never
analyzed remotely, or one no larger than the sample -- is read whole (PostgreSQL 15's
postgres_fdw). Either way the bridge keeps a uniform sample of at most the size asked
for. The row count is the remote ``reltuples``, else the number of rows read.
"""
from __future__ import annotations

from .deparse import SelectQuery, build_select
from .pushdown import Relation

__all__ = ["analyze_query"]

# Relations TABLESAMPLE can read.
_SAMPLEABLE = frozenset({"r", "p", "m"})


def analyze_query(relation: Relation, sample_size: int) -> tuple[SelectQuery, float | None]:
    """The remote SELECT of every column of the foreign table, sampled where it pays,
    and the remote row count if known."""
    query = build_select(relation, [], list(relation.local_columns))
    table = relation.table
    total = table.reltuples if table.reltuples >= 0 else None
    if total is not None and table.relkind in _SAMPLEABLE and total > sample_size:
        query.sql.text(" TABLESAMPLE BERNOULLI (").param(100.0 * sample_size / total).text(")")
    return query, total
