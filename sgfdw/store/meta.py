"""Metadata in schema splitgraph_meta, read and written through sgfdw.pg.

Every statement runs in the caller's transaction: a command that fails or is rolled
back leaves no metadata behind. All values are bound parameters.
"""
from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from typing import Any

from sgfdw import pg
from sgfdw.store import keyfilter
from sgfdw.store.fragments import Fragment
from sgfdw.store.names import Repository
from sgfdw.store.types import TableSchema

__all__ = ["Image", "TableVersion", "ObjectInfo", "images", "add_image", "tags_of",
           "set_tag", "head", "table_versions", "add_table_version",
           "add_object", "objects", "delete_repository", "lock_repository"]

ZERO_HASH = "0" * 64


@dataclass(frozen=True)
class Image:
    image_hash: str
    parent_id: str | None
    created: datetime.datetime
    comment: str | None
    provenance: dict[str, Any] | None = None  # the command that made it


@dataclass(frozen=True)
class TableVersion:
    table_name: str
    schema: TableSchema
    object_ids: tuple[str, ...]


@dataclass(frozen=True)
class ObjectInfo:
    object_id: str
    rows: int
    size: int
    sha256: str
    index: dict[str, Any]
    # column -> key filter; none for objects written before key filters existed
    filters: dict[str, keyfilter.KeyFilter] = field(default_factory=dict)


def images(repo: Repository) -> list[Image]:
    """The repository's images, newest first."""
    return [Image(*row) for row in pg.execute(
        "SELECT image_hash, parent_id, created, comment, provenance_data "
        "FROM splitgraph_meta.images "
        "WHERE namespace = $1 AND repository = $2 ORDER BY created DESC, image_hash",
        [repo.namespace, repo.repository])]


def lock_repository(repo: Repository) -> None:
    """Serialises commands that move a repository's HEAD (taken until transaction end)."""
    pg.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 1176))", [str(repo)])


def add_image(repo: Repository, image_hash: str, parent_id: str | None,
              comment: str | None, provenance: dict[str, Any]) -> None:
    pg.execute(
        "INSERT INTO splitgraph_meta.images (namespace, repository, image_hash, parent_id, "
        "created, comment, provenance_data) VALUES ($1, $2, $3, $4, clock_timestamp(), $5, "
        "$6::text::jsonb)",
        [repo.namespace, repo.repository, image_hash, parent_id, comment,
         json.dumps(provenance)])


def tags_of(repo: Repository) -> dict[str, list[str]]:
    """image hash -> its tags (HEAD included)."""
    tags: dict[str, list[str]] = {}
    for image_hash, tag in pg.execute(
            "SELECT image_hash, tag FROM splitgraph_meta.tags WHERE namespace = $1 "
            "AND repository = $2 ORDER BY tag", [repo.namespace, repo.repository]):
        tags.setdefault(image_hash, []).append(tag)
    return tags


def set_tag(repo: Repository, image_hash: str, tag: str) -> None:
    pg.execute(
        "INSERT INTO splitgraph_meta.tags (namespace, repository, image_hash, tag) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (namespace, repository, tag) "
        "DO UPDATE SET image_hash = EXCLUDED.image_hash",
        [repo.namespace, repo.repository, image_hash, tag])


def head(repo: Repository) -> str | None:
    rows = pg.execute("SELECT image_hash FROM splitgraph_meta.tags WHERE namespace = $1 "
                      "AND repository = $2 AND tag = 'HEAD'",
                      [repo.namespace, repo.repository])
    return rows[0][0] if rows else None


def table_versions(repo: Repository, image_hash: str) -> list[TableVersion]:
    return [TableVersion(name, TableSchema.from_json(schema), tuple(object_ids))
            for name, schema, object_ids in pg.execute(
                "SELECT table_name, table_schema, object_ids FROM splitgraph_meta.tables "
                "WHERE namespace = $1 AND repository = $2 AND image_hash = $3 "
                "ORDER BY table_name", [repo.namespace, repo.repository, image_hash])]


def add_table_version(repo: Repository, image_hash: str, version: TableVersion) -> None:
    pg.execute(
        "INSERT INTO splitgraph_meta.tables (namespace, repository, image_hash, table_name, "
        "table_schema, object_ids) VALUES ($1, $2, $3, $4, $5::text::jsonb, $6::text[])",
        [repo.namespace, repo.repository, image_hash, version.table_name,
         json.dumps(version.schema.to_json()), list(version.object_ids)])


# An object stored before key filters existed gets them when it is written again.
FILL_FILTERS = ("ON CONFLICT (object_id) DO UPDATE SET filters = EXCLUDED.filters "
                "WHERE splitgraph_meta.objects.filters IS NULL")


def add_object(fragment: Fragment) -> None:
    pg.execute(
        "INSERT INTO splitgraph_meta.objects (object_id, rows, size, sha256, index, filters) "
        "VALUES ($1, $2::int8, $3::int8, $4, $5::text::jsonb, $6::text::jsonb) " + FILL_FILTERS,
        [fragment.object_id, fragment.rows, len(fragment.data), fragment.sha256,
         json.dumps(fragment.index),
         None if fragment.filters is None else json.dumps(fragment.filters)])


def objects(object_ids: list[str]) -> dict[str, ObjectInfo]:
    return {object_id: ObjectInfo(object_id, rows, size, sha256, index,
                                  keyfilter.parse(filters))
            for object_id, rows, size, sha256, index, filters in pg.execute(
                "SELECT object_id, rows, size, sha256, index, filters "
                "FROM splitgraph_meta.objects WHERE object_id = ANY($1::text[])",
                [object_ids])}


def delete_repository(repo: Repository) -> None:
    """The repository's images (with their tags and table versions) and upstream."""
    for table in ("tags", "tables", "upstream", "images"):
        pg.execute(f"DELETE FROM splitgraph_meta.{table} WHERE namespace = $1 "
                   "AND repository = $2", [repo.namespace, repo.repository])
