"""Which table version a layered scan reads: the image is resolved once per local
transaction, so one statement -- and one transaction -- never sees two images, even
when a tag moves or a commit makes a newer latest meanwhile.

The resolutions of a transaction are kept in this backend keyed by its start
(transaction_timestamp() with the backend's pid), so they are shared by every layered
table and planner call of the transaction without relying on transaction callbacks
(planning happens before a scan touches the instance). Images and objects are
immutable: their metadata is cached for the backend's life.
"""
from __future__ import annotations

from dataclasses import dataclass

from sgfdw import pg
from sgfdw.store import images, meta
from sgfdw.store.errors import CorruptObject, NotFound
from sgfdw.store.names import Repository

__all__ = ["TableImage", "table_image", "tables_of", "object_infos"]


@dataclass(frozen=True)
class TableImage:
    """A table of a resolved image, with its objects' metadata in object order."""

    repository: Repository
    reference: str
    image_hash: str
    version: meta.TableVersion
    objects: tuple[meta.ObjectInfo, ...]


_transaction: object = None
_resolved: dict[tuple[Repository, str], str] = {}
_versions: dict[tuple[Repository, str], dict[str, meta.TableVersion]] = {}
_objects: dict[str, meta.ObjectInfo] = {}


def _image_hash(repository: Repository, reference: str) -> str:
    global _transaction
    transaction = pg.execute("SELECT transaction_timestamp(), pg_backend_pid()")[0]
    if transaction != _transaction:
        _transaction = transaction
        _resolved.clear()
    key = (repository, reference)
    if key not in _resolved:
        _resolved[key] = images.resolve(repository, reference)
    return _resolved[key]


def object_infos(object_ids: tuple[str, ...]) -> tuple[meta.ObjectInfo, ...]:
    missing = [object_id for object_id in object_ids if object_id not in _objects]
    if missing:
        _objects.update(meta.objects(missing))
    for object_id in object_ids:
        if object_id not in _objects:
            raise CorruptObject(f"object {object_id} has no metadata")
    return tuple(_objects[object_id] for object_id in object_ids)


def table_image(repository: Repository, reference: str, table: str) -> TableImage:
    """The table as of the image the reference names in this transaction (42704 for an
    unknown repository, image or table)."""
    image_hash = _image_hash(repository, reference)
    key = (repository, image_hash)
    if key not in _versions:
        _versions[key] = {v.table_name: v for v in meta.table_versions(repository,
                                                                        image_hash)}
    tables = _versions[key]
    if table not in tables:
        raise NotFound(f"table {table!r} not found in image {image_hash[:12]} of {repository}",
                       hint=("Tables of that image: " + ", ".join(sorted(tables)))
                       if tables else "That image has no tables.")
    version = tables[table]
    return TableImage(repository, reference, image_hash, version,
                      object_infos(version.object_ids))


def tables_of(repository: Repository, reference: str) -> list[meta.TableVersion]:
    """Every table of the image (IMPORT FOREIGN SCHEMA)."""
    return meta.table_versions(repository, _image_hash(repository, reference))
