"""What differs between the checked-out schema and HEAD: tables whose rows changed
(recorded by the tracking triggers), tables added, dropped or altered (read from the
catalogs). Commit stores these; checkout refuses to overwrite them unless forced."""
from __future__ import annotations

from dataclasses import dataclass

from sgfdw import pg
from sgfdw.store import meta, relations, tracking
from sgfdw.store.errors import UnsupportedType
from sgfdw.store.names import Repository
from sgfdw.store.types import TableSchema

__all__ = ["TableState", "current_tables", "layered_tables", "uncommitted"]


@dataclass(frozen=True)
class TableState:
    name: str
    oid: int


def current_tables(repo: Repository) -> list[TableState]:
    """The ordinary tables in the repository's schema, by name."""
    return [TableState(name, oid) for name, oid in pg.execute(
        "SELECT c.relname::text, c.oid::int8 FROM pg_class c JOIN pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') "
        "AND NOT c.relispartition ORDER BY 1", [repo.schema])]


def layered_tables(repo: Repository) -> list[str]:
    """The foreign tables of server sgfdw_objects in the repository's schema: a layered
    checkout (sgfdw.checkout(..., layered => true)), reading HEAD in place: a write
    to them makes its own image, there is never anything uncommitted."""
    return [name for name, in pg.execute(
        "SELECT c.relname::text FROM pg_foreign_table f JOIN pg_class c ON c.oid = f.ftrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_foreign_server s "
        "ON s.oid = f.ftserver WHERE n.nspname = $1 AND s.srvname = 'sgfdw_objects' "
        "ORDER BY 1", [repo.schema])]


def schema_or_none(oid: int) -> TableSchema | None:
    """The table's schema, None if the store cannot keep it."""
    try:
        return relations.table_schema(oid)
    except UnsupportedType:
        return None


def uncommitted(repo: Repository) -> list[str]:
    """Descriptions of the changes since HEAD, e.g. 'changed rows in t' (empty: none)."""
    head = meta.head(repo)
    versions = {v.table_name: v for v in (meta.table_versions(repo, head) if head else [])}
    tables = {t.name: t for t in current_tables(repo)}
    changes = [f"added table {name}" for name in sorted(tables.keys() - versions.keys())]
    present = tables.keys() | set(layered_tables(repo))
    changes += [f"dropped table {name}" for name in sorted(versions.keys() - present)]
    changes += [f"altered table {name}" for name in sorted(tables.keys() & versions.keys())
                if schema_or_none(tables[name].oid) != versions[name].schema]
    changes += [f"changed rows in {name}" for name in sorted(tracking.pending(repo))
                if name in tables and name in versions]
    return changes
