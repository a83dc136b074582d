"""Commit: a new image from the changes of the checked-out schema.

A table whose rows changed, with the same schema and a primary key, gets one patch
(the changed keys' current rows as upserts, the keys gone as deletes) on top of its
objects, read through the primary key index: the cost follows the rows changed, not
the table size. A new table, an altered one, one without a primary key, a TRUNCATE or
snapshot => true store the whole table. A commit that changes nothing makes no image.

Two sessions committing to one repository: the second waits for the first and then
fails with 40001 (its changes were made against a HEAD that is no longer HEAD), so no
update is lost and the history does not fork.
"""
from __future__ import annotations

from typing import Iterator

import pyarrow as pa

from multicorn.utils import INFO, log_to_postgres
from sgfdw import pg
from sgfdw.store import images, meta, tracking
from sgfdw.store.checkout import table_name
from sgfdw.store.errors import ConcurrentChange, StoreError, UnsupportedType
from sgfdw.store.names import Repository
from sgfdw.store.relations import table_schema
from sgfdw.store.snapshot import query_batches, select_list, store_batches, store_table
from sgfdw.store.status import current_tables, layered_tables
from sgfdw.store.types import TableSchema

__all__ = ["commit"]


def _patch(repo: Repository, table: str, schema: TableSchema) -> Iterator[pa.RecordBatch]:
    """The rows of a patch: current rows of the changed keys, and the keys now absent."""
    target = table_name(repo, table)
    keys = tracking.changed_keys_query(schema)
    params = [repo.namespace, repo.repository, table]
    match = " AND ".join(f"t.{pg.quote_ident(k)} = k.{pg.quote_ident(k)}"
                         for k in schema.primary_key)
    upserts = f"SELECT {select_list(schema, 't')} FROM ({keys}) k JOIN {target} t ON {match}"
    others = ", ".join(f"NULL::{c.type} AS {pg.quote_ident(c.name)}" for c in schema.columns
                       if c.name not in schema.primary_key)
    deleted = (f"SELECT k.*{', ' + others if others else ''} FROM ({keys}) k "
               f"WHERE NOT EXISTS (SELECT FROM {target} t WHERE {match})")
    reordered = ", ".join(pg.quote_ident(c.name) for c in schema.columns)
    deletes = f"SELECT {select_list(schema, 'd')} FROM (SELECT {reordered} FROM ({deleted}) x) d"
    yield from query_batches(upserts, params, schema, True)
    yield from query_batches(deletes, params, schema, False)


def _new_version(repo: Repository, name: str, oid: int, previous: meta.TableVersion | None,
                 changed: str | None, snapshot: bool) -> meta.TableVersion:
    schema = table_schema(oid)
    if previous is not None and previous.schema == schema and not snapshot:
        if changed is None:
            return previous
        if changed == tracking.CHANGED_KEYS and schema.primary_key:
            patch = store_batches(_patch(repo, name, schema), schema)
            return meta.TableVersion(name, schema, previous.object_ids + tuple(patch))
    object_ids = store_table(table_name(repo, name), schema)
    if previous is None or previous.schema != schema:
        tracking.install(repo, table_name(repo, name), name, schema)
    return meta.TableVersion(name, schema, tuple(object_ids))


def commit(repo: Repository, comment: str | None, snapshot: bool,
           image_hash: str | None = None, provenance: dict | None = None) -> str:
    """The new image's hash (HEAD's when nothing changed). A Splitfile build gives the
    image's hash and provenance, and gets its image even when nothing changed."""
    images.ensure_exists(repo)
    if layered_tables(repo):
        raise StoreError(f"repository {repo} is checked out layered: there is nothing to "
                         "commit, each transaction writing to its tables makes an image",
                         sqlstate="55000",
                         hint="Check it out with sgfdw.checkout(repository, image) to make "
                              "changes to commit.")
    seen = meta.head(repo)
    meta.lock_repository(repo)
    head = meta.head(repo)
    if head != seen:
        raise ConcurrentChange(
            f"repository {repo} was committed to or checked out by another transaction",
            hint="Check the new HEAD out and make the changes again.")
    if head is None:    # e.g. pulled and never checked out: no tables to commit from
        raise StoreError(f"repository {repo} has no checked-out image (HEAD)",
                         sqlstate="55000",
                         hint="Check an image out with sgfdw.checkout(repository, image) "
                              "first.")
    previous = {v.table_name: v for v in (meta.table_versions(repo, head) if head else [])}
    changed = tracking.pending(repo)
    versions = []
    for table in current_tables(repo):
        try:
            versions.append(_new_version(repo, table.name, table.oid,
                                         previous.get(table.name), changed.get(table.name),
                                         snapshot))
        except UnsupportedType as exc:
            raise UnsupportedType(f"table {table.name}: {exc.message}", hint=exc.hint) from None
    tracking.clear(repo)
    if image_hash is None and sorted(versions, key=lambda v: v.table_name) == sorted(
            previous.values(), key=lambda v: v.table_name):
        log_to_postgres(f"no changes in repository {repo}: no new image", INFO)  # a NOTICE
        return head
    image_hash = images.add_image(repo, head, comment, provenance or {
        "command": "commit", "snapshot": snapshot}, versions, image_hash)
    meta.set_tag(repo, image_hash, "HEAD")
    return image_hash
