"""Change tracking of the checked-out tables (the triggers of sgfdw.record_changes).

Statement triggers with transition tables record the primary keys of the rows each
statement touched in splitgraph_meta.pending_changes -- one INSERT per statement, not
one call per row -- so a commit reads back only the changed rows. A table without a
primary key, or a TRUNCATE, records NULL: the whole table is stored afresh.
"""
from __future__ import annotations

from sgfdw import pg
from sgfdw.store.names import Repository
from sgfdw.store.types import TableSchema

__all__ = ["install", "pending", "changed_keys_query", "clear", "WHOLE_TABLE", "CHANGED_KEYS"]

WHOLE_TABLE = "whole table"
CHANGED_KEYS = "changed keys"

_TRIGGERS = {  # name -> (event, transition tables) for a table with a primary key
    "sgfdw_track_insert": ("INSERT", "REFERENCING NEW TABLE AS new_rows"),
    "sgfdw_track_update": ("UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    "sgfdw_track_delete": ("DELETE", "REFERENCING OLD TABLE AS old_rows"),
    "sgfdw_track_truncate": ("TRUNCATE", ""),
}
_UNKEYED = ("sgfdw_track_any", "INSERT OR UPDATE OR DELETE OR TRUNCATE")


def install(repo: Repository, qualified_table: str, table: str, schema: TableSchema) -> None:
    """(Re)creates the table's triggers for its current primary key."""
    arguments = ", ".join(pg.quote_literal(value) for value in
                          (repo.namespace, repo.repository, table, *schema.primary_key))
    for (name,) in pg.execute("SELECT tgname::text FROM pg_trigger WHERE tgrelid = "
                              "$1::text::regclass AND tgname = ANY($2::text[])",
                              [qualified_table, [*_TRIGGERS, _UNKEYED[0]]]):
        pg.execute(f"DROP TRIGGER {name} ON {qualified_table}")
    triggers = dict(_TRIGGERS) if schema.primary_key else {_UNKEYED[0]: (_UNKEYED[1], "")}
    for name, (event, transition) in triggers.items():
        pg.execute(f"CREATE TRIGGER {name} AFTER {event} ON {qualified_table} {transition} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION sgfdw.record_changes({arguments})")


def pending(repo: Repository) -> dict[str, str]:
    """table name -> WHOLE_TABLE or CHANGED_KEYS, for the tables changed since the last
    checkout or commit."""
    return {table: WHOLE_TABLE if whole else CHANGED_KEYS for table, whole in pg.execute(
        "SELECT table_name, bool_or(key IS NULL) FROM splitgraph_meta.pending_changes "
        "WHERE namespace = $1 AND repository = $2 GROUP BY table_name",
        [repo.namespace, repo.repository])}


def changed_keys_query(schema: TableSchema) -> str:
    """The distinct changed keys of a table, typed and named as its key columns; its
    parameters: namespace, repository, table."""
    columns = ", ".join(
        f"(p.key->>{i})::{schema.column(name).type} AS {pg.quote_ident(name)}"
        for i, name in enumerate(schema.primary_key))
    return (f"SELECT DISTINCT {columns} FROM splitgraph_meta.pending_changes p "
            "WHERE p.namespace = $1 AND p.repository = $2 AND p.table_name = $3")


def clear(repo: Repository, table: str | None = None) -> None:
    """Forgets the recorded changes of the repository (of one of its tables)."""
    pg.execute("DELETE FROM splitgraph_meta.pending_changes WHERE namespace = $1 "
               "AND repository = $2 AND ($3::text IS NULL OR table_name = $3::text)",
               [repo.namespace, repo.repository, table])
