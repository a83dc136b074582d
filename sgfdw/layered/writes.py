"""Writes to layered tables: INSERT / UPDATE / DELETE of a local transaction become one
new image on COMMIT.

Nothing is written to objects in place. The changes of a transaction -- to any layered
table of a repository -- are kept in this backend by primary key (the row's new values,
or None for a deleted row), with a copy per savepoint level so that ROLLBACK TO
restores them. Scans in the transaction see them as a last patch over the image
(scan.py). In pre_commit, atomically with the local transaction, each table's changes
become one patch object appended to its table version, and all tables together one
new image whose parent is the image the transaction read; a tag written through moves
to it (HEAD too: a layered checkout's tables read HEAD; latest is the newest image by
itself). If the reference names another image
by then (another transaction committed to it meanwhile), COMMIT fails with 40001 and
everything rolls back: nothing is lost, the history does not fork. ROLLBACK leaves no
image, no object metadata (a file written is left to sgfdw.cleanup).

Writable: a table with a one-column primary key whose columns are all stored natively
(their Python values convert to the stored Arrow form without the server: integers,
floats, bool, strings, bytea, dates, timestamps), declared with exactly the stored
columns, read through `latest`, `HEAD` or a tag. A table pinned to a hash is read-only.
"""
from __future__ import annotations

import copy
import datetime
from dataclasses import dataclass, field
from typing import Any, Mapping

import pyarrow as pa

from sgfdw import pg
from sgfdw.errors import FdwError
from sgfdw.layered.version import TableImage
from sgfdw.store import images, meta
from sgfdw.store.errors import ConcurrentChange
from sgfdw.store.fragments import arrow_schema
from sgfdw.store.names import Repository
from sgfdw.store.snapshot import store_batches
from sgfdw.store.types import Column, TableSchema, storage_of

__all__ = ["writable", "changes_of", "record", "savepoint", "release", "rollback_to",
           "discard", "make_images"]


class UnsupportedWrite(FdwError):
    sqlstate = "0A000"


@dataclass
class _Changes:
    """The changes of this transaction to one repository."""

    reference: str
    base: str  # the image the transaction read and wrote on
    tables: dict[str, dict[Any, dict[str, Any] | None]] = field(default_factory=dict)
    schemas: dict[str, TableSchema] = field(default_factory=dict)


_changes: dict[Repository, _Changes] = {}
_saved: dict[int, dict[Repository, _Changes]] = {}  # savepoint level -> changes before


def writable(image: TableImage, declared: Mapping[str, str]) -> bool:
    """Whether the layered table may be written (declared: column name -> type)."""
    schema = image.version.schema
    if len(schema.primary_key) != 1 or declared != {c.name: c.type for c in schema.columns}:
        return False
    if any(storage_of(c).as_text for c in schema.columns):
        return False
    if image.reference != "latest":
        tags = {tag for names in meta.tags_of(image.repository).values() for tag in names}
        if image.reference not in tags:
            return False
    return True


def changes_of(image: TableImage) -> dict[Any, dict[str, Any] | None] | None:
    """This transaction's changes to the table, by key (None: deleted), if any."""
    changes = _changes.get(image.repository)
    if changes is None or changes.base != image.image_hash:
        return None
    return changes.tables.get(image.version.table_name)


def record(image: TableImage, key: Any, row: dict[str, Any] | None) -> None:
    """The row of `key` is now `row` (None: deleted) in this transaction."""
    changes = _changes.get(image.repository)
    if changes is None:
        _check_isolation()
        changes = _changes[image.repository] = _Changes(image.reference, image.image_hash)
    elif (changes.reference, changes.base) != (image.reference, image.image_hash):
        raise UnsupportedWrite(
            f"repository {image.repository} is already written through image "
            f"{changes.reference!r} in this transaction",
            hint="Write one repository through one image reference per transaction.")
    table = image.version.table_name
    changes.schemas[table] = image.version.schema
    changes.tables.setdefault(table, {})[key] = row


def _check_isolation() -> None:
    """The 40001 check at COMMIT must see images committed after this transaction began:
    with one snapshot per transaction it would not, and the history would fork."""
    level = pg.execute("SELECT current_setting('transaction_isolation')")[0][0]
    if level != "read committed":
        raise UnsupportedWrite(
            f"layered tables cannot be written in a {level.upper()} transaction",
            hint="Write them in a READ COMMITTED transaction: its COMMIT sees an image "
                 "another transaction made meanwhile and fails with 40001.")


def savepoint(level: int) -> None:
    if level not in _saved:
        _saved[level] = copy.deepcopy(_changes)


def release(level: int) -> None:
    for saved in [n for n in _saved if n >= level]:
        del _saved[saved]


def rollback_to(level: int) -> None:
    """The changes as they were when savepoint `level` began (still begun: ROLLBACK TO
    keeps it)."""
    if level in _saved:
        _changes.clear()
        _changes.update(copy.deepcopy(_saved[level]))
    release(level + 1)


def discard() -> None:
    _changes.clear()
    _saved.clear()


def _as_read(column: Column, value: Any) -> Any:
    """A value as the store reads the column from the server (timestamptz: a naive
    datetime in UTC, see types._Temporal); the bridge gives an aware one."""
    if column.base == "timestamptz" and isinstance(value, datetime.datetime) \
            and value.utcoffset() is not None:
        return value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value


def _patch(rows: dict[Any, dict[str, Any] | None], schema: TableSchema) -> pa.RecordBatch:
    key = schema.primary_key[0]
    arrays = [storage_of(column).to_arrow(
        [_as_read(column, key_value if column.name == key else (row or {}).get(column.name))
         for key_value, row in rows.items()]) for column in schema.columns]
    flags = pa.array([row is not None for row in rows.values()], pa.bool_())
    return pa.RecordBatch.from_arrays([*arrays, flags], schema=arrow_schema(schema))


def patch_table(rows: dict[Any, dict[str, Any] | None], schema: TableSchema) -> pa.Table:
    """The changes as a patch in the stored form (scan.py reads it as a last object)."""
    return pa.Table.from_batches([_patch(rows, schema)])


def make_images() -> None:
    """pre_commit: one new image per repository written (40001 if its reference moved)."""
    try:
        for repository, changes in _changes.items():
            tables = {name: rows for name, rows in changes.tables.items() if rows}
            if not tables:
                continue
            meta.lock_repository(repository)
            current = images.resolve(repository, changes.reference)
            if current != changes.base:
                raise ConcurrentChange(
                    f"image {changes.reference!r} of {repository} moved to "
                    f"{current[:12]} since this transaction read {changes.base[:12]}",
                    hint="Run the transaction again: it will write on the new image.")
            versions = {v.table_name: v for v in meta.table_versions(repository, changes.base)}
            for name, rows in tables.items():
                version = versions[name]
                patch = store_batches([_patch(rows, version.schema)], version.schema)
                versions[name] = meta.TableVersion(name, version.schema,
                                                   version.object_ids + tuple(patch))
            image_hash = images.add_image(
                repository, changes.base, None,
                {"command": "layered write", "tables": sorted(tables)},
                list(versions.values()))
            if changes.reference != "latest":
                meta.set_tag(repository, image_hash, changes.reference)
    finally:
        discard()
