"""The working copy: an image materialised as ordinary tables in the repository's
schema (or, checked out layered, foreign tables reading it in place), and what changes
it (checkout, import).

Everything happens in the caller's transaction, so a failed checkout or import (a
corrupt object, an unsupported type) leaves the schema and the metadata as they were.
"""
from __future__ import annotations

from sgfdw import pg
from sgfdw.store import cache, images, meta, relations, tracking
from sgfdw.store.errors import InvalidName, StoreError, UncommittedChanges
from sgfdw.store.materialize import add_primary_key, materialize
from sgfdw.store.names import Repository
from sgfdw.store.snapshot import store_table
from sgfdw.store.status import uncommitted
from sgfdw.store.types import TableSchema

__all__ = ["checkout", "import_table", "table_name"]

_QUERY_START = ("select", "with", "values", "table", "(")
_RELATION_KINDS = frozenset("rpvmf")  # tables, views, materialized and foreign tables
# The import copies into this name first, so a source may be the table it replaces.
_IMPORTING = "sgfdw importing"


def _schema_name(repo: Repository) -> str:
    return pg.quote_ident(repo.schema)


def table_name(repo: Repository, table: str) -> str:
    """The checked-out table, schema-qualified and quoted."""
    return f"{_schema_name(repo)}.{pg.quote_ident(table)}"


def checkout(repo: Repository, reference: str | None, force: bool = False,
             layered: bool = False) -> str:
    """Replaces the repository's schema with the image's tables; its hash. Uncommitted
    changes are refused (55000) unless force. Layered: the tables are foreign tables
    reading HEAD in place (sgfdw.layered); nothing is copied, and each transaction
    writing to them makes a new image that becomes HEAD."""
    image_hash = images.resolve(repo, reference)
    meta.lock_repository(repo)
    changes = uncommitted(repo)
    if changes and not force:
        raise UncommittedChanges(
            f"repository {repo} has uncommitted changes",
            detail="; ".join(changes),
            hint="Commit them with sgfdw.commit(), or pass force => true to discard them.")
    pg.execute(f"DROP SCHEMA IF EXISTS {_schema_name(repo)} CASCADE")
    pg.execute(f"CREATE SCHEMA {_schema_name(repo)}")
    meta.set_tag(repo, image_hash, "HEAD")  # before a layered import reads it
    if layered:  # the tables follow HEAD: writes to them make images and move it
        pg.execute(f"IMPORT FOREIGN SCHEMA {pg.quote_ident(f'{repo}:HEAD')} "
                   f"FROM SERVER sgfdw_objects INTO {_schema_name(repo)}")
    versions = [] if layered else meta.table_versions(repo, image_hash)
    # Objects not here yet (cloned) come in parallel: the whole image's at once when
    # they fit in the object cache, else each table's (the cache evicting the last's).
    every_object = [object_id for version in versions for object_id in version.object_ids]
    if cache.fits(every_object):
        cache.ensure_local(every_object)
    for version in versions:
        cache.ensure_local(version.object_ids)
        target = table_name(repo, version.table_name)
        materialize(target, version.schema, list(version.object_ids))
        tracking.install(repo, target, version.table_name, version.schema)
    tracking.clear(repo)
    return image_hash


def _is_query(source: str) -> bool:
    return source.lstrip().lower().startswith(_QUERY_START)


def _copy_source(source: str, target: str) -> tuple[str, ...]:
    """Copies the source into the new table target in one statement (one snapshot);
    the source's primary key."""
    if _is_query(source):
        pg.execute(f"CREATE TABLE {target} AS {source}")
        return ()
    oid = relations.relation_oid(source)
    kind = pg.execute("SELECT relkind::text FROM pg_class WHERE oid = $1::oid", [oid])[0][0]
    if kind not in _RELATION_KINDS:
        raise StoreError(f"{source!r} is not a table, view, materialized view or "
                         "foreign table", sqlstate="42809")
    schema = relations.table_schema(oid)  # checks the types before any copying
    pg.execute(f"CREATE TABLE {target} AS SELECT * FROM {relations.qualified_name(oid)}")
    return schema.primary_key


def import_table(repo: Repository, table: str, source: str, comment: str | None) -> str:
    """A new image: HEAD plus `table` holding a snapshot of source (a relation name or
    a query); it becomes HEAD, the table is materialised in the schema. Its hash."""
    if not table or len(table.encode()) > 63:
        raise InvalidName(f"invalid table name {table!r}",
                          hint="A table name has 1 to 63 bytes.")
    if not source or not source.strip():
        raise InvalidName("the source is empty", hint="Give a relation name or a query.")
    images.ensure_exists(repo)
    meta.lock_repository(repo)
    parent = meta.head(repo)
    target = table_name(repo, table)
    pg.execute(f"CREATE SCHEMA IF NOT EXISTS {_schema_name(repo)}")
    copy = table_name(repo, _IMPORTING)
    primary_key = _copy_source(source, copy)
    columns = relations.table_schema(relations.relation_oid(copy), False).columns
    schema = TableSchema(columns, primary_key)
    pg.execute(f"DROP TABLE IF EXISTS {target} CASCADE")
    pg.execute(f"ALTER TABLE {copy} RENAME TO {pg.quote_ident(table)}")
    add_primary_key(target, schema)
    object_ids = store_table(target, schema)
    tracking.install(repo, target, table, schema)
    tracking.clear(repo, table)
    versions = [v for v in (meta.table_versions(repo, parent) if parent else [])
                if v.table_name != table]
    versions.append(meta.TableVersion(table, schema, tuple(object_ids)))
    image_hash = images.add_image(
        repo, parent, comment,
        {"command": "import_table", "table": table, "source": source}, versions)
    meta.set_tag(repo, image_hash, "HEAD")
    return image_hash
