"""push, clone and pull: sharing a repository's images with a registry.

A push uploads the objects the registry lacks through an external object handler
(S3: presigned URLs), and only then registers the metadata on the registry, in one
remote transaction under the repository's lock: an interrupted push leaves the
registry without the new images, and running it again completes it. A registry
holding images of the repository that the engine lacks refuses the push (40001): the
engine pulls them first. Two engines pushing at once are serialised by that lock, and
the second finds the first's images.

clone and pull copy the metadata -- images, table versions, tags, objects (with their
index and key filters) and their external locations -- in one snapshot of the
registry, and record the registry as the repository's upstream; the objects come when
a reader needs them (cache.py), or all at once with download_all. Values travel as
text (jsonb, timestamptz) and are cast back, so nothing is lost between the two servers.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from sgfdw import pg
from sgfdw.engine import Engine, PostgresEngine
from sgfdw.hooks.external_objects import get_external_object_handler
from sgfdw.store import cache, images, meta
from sgfdw.store.errors import ConcurrentChange, NotFound
from sgfdw.store.names import Repository
from sgfdw.store.remotes import remote_engine

__all__ = ["push", "clone", "pull"]

# Timestamps as JSON text: ISO 8601 whatever the server's DateStyle.
_IMAGES = ("SELECT image_hash, parent_id, to_json(created) #>> '{{}}', comment, "
           "provenance_data::text "
           "FROM splitgraph_meta.images WHERE namespace = {0} AND repository = {1}")
_TABLES = ("SELECT image_hash, table_name, table_schema::text, object_ids "
           "FROM splitgraph_meta.tables WHERE namespace = {0} AND repository = {1}")
_TAGS = ("SELECT image_hash, tag FROM splitgraph_meta.tags "
         "WHERE namespace = {0} AND repository = {1} AND tag <> 'HEAD'")
_OBJECTS = ("SELECT object_id, format, rows, size, sha256, index::text, "
            "to_json(created) #>> '{{}}', filters::text FROM splitgraph_meta.objects "
            "WHERE object_id = ANY ({0}::text[])")
_EXTERNAL = ("SELECT object_id, protocol, url FROM splitgraph_meta.external_objects "
             "WHERE object_id = ANY ({0}::text[])")

_INSERT_IMAGE = ("INSERT INTO splitgraph_meta.images (namespace, repository, image_hash, "
                 "parent_id, created, comment, provenance_data) VALUES ({0}, {1}, {2}, {3}, "
                 "{4}::timestamptz, {5}, {6}::jsonb)")
_INSERT_TABLE = ("INSERT INTO splitgraph_meta.tables (namespace, repository, image_hash, "
                 "table_name, table_schema, object_ids) VALUES ({0}, {1}, {2}, {3}, "
                 "{4}::jsonb, {5}::text[])")
_SET_TAG = ("INSERT INTO splitgraph_meta.tags (namespace, repository, image_hash, tag) "
            "VALUES ({0}, {1}, {2}, {3}) ON CONFLICT (namespace, repository, tag) "
            "DO UPDATE SET image_hash = EXCLUDED.image_hash")
_INSERT_OBJECT = ("INSERT INTO splitgraph_meta.objects (object_id, format, rows, size, "
                  "sha256, index, created, filters) VALUES ({0}, {1}, {2}::int8, {3}::int8, "
                  "{4}, {5}::jsonb, {6}::timestamptz, {7}::jsonb) " + meta.FILL_FILTERS)
_INSERT_EXTERNAL = ("INSERT INTO splitgraph_meta.external_objects (object_id, protocol, url) "
                    "VALUES ({0}, {1}, {2}) ON CONFLICT DO NOTHING")
# The lock of meta.lock_repository, which commands moving a repository's HEAD take.
_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended({0}, 1176))"


def _local(statement: str) -> str:
    """A statement for sgfdw.pg: placeholders $1, $2, ..."""
    return statement.format(*(f"${n}" for n in range(1, 9)))


def _remote(statement: str) -> str:
    """A statement for a psycopg2 engine: placeholders %s."""
    return statement.format(*(["%s"] * 8))


class _Side:
    """One server's metadata of one repository, read and written with the same SQL."""

    def __init__(self, repo: Repository, engine: Engine | None) -> None:
        self.repo = repo
        self.engine = engine

    def run(self, statement: str, params: Sequence[Any] = ()) -> list[tuple]:
        if self.engine is None:
            return pg.execute(_local(statement), list(params))
        return self.engine.run_sql(_remote(statement), tuple(params))

    def run_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if self.engine is None:
            for row in rows:
                pg.execute(_local(statement), list(row))
        elif rows:
            self.engine.run_sql_batch(_remote(statement), [tuple(row) for row in rows])

    def key(self) -> list[str]:
        return [self.repo.namespace, self.repo.repository]

    def lock(self) -> None:
        self.run(_LOCK, [str(self.repo)])

    def images(self) -> list[tuple]:
        return self.run(_IMAGES, self.key())

    def tables(self) -> list[tuple]:
        return self.run(_TABLES, self.key())

    def tags(self) -> list[tuple]:
        return self.run(_TAGS, self.key())

    def objects(self, object_ids: list[str]) -> list[tuple]:
        return self.run(_OBJECTS, [object_ids])

    def external(self, object_ids: list[str]) -> list[tuple]:
        return self.run(_EXTERNAL, [object_ids])

    def add(self, new_images: list[tuple], tables: list[tuple], tags: list[tuple],
            objects: list[tuple], external: list[tuple]) -> None:
        """Registers images (with their tables) it lacks, parents first, and the rest."""
        self.run_many(_INSERT_OBJECT, objects)
        self.run_many(_INSERT_EXTERNAL, external)
        added = _parents_first(new_images, {row[0] for row in self.images()})
        hashes = {row[0] for row in added}
        self.run_many(_INSERT_IMAGE, [self.key() + list(row) for row in added])
        self.run_many(_INSERT_TABLE, [self.key() + list(row) for row in tables
                                      if row[0] in hashes])
        self.run_many(_SET_TAG, [self.key() + list(row) for row in tags])


def _parents_first(new_images: list[tuple], present: set[str]) -> list[tuple]:
    ordered: list[tuple] = []
    waiting = [row for row in new_images if row[0] not in present]
    while waiting:
        ready = [row for row in waiting if row[1] is None or row[1] in present]
        if not ready:  # a parent neither side has: the FK check will name it
            ready = waiting
        for row in ready:
            present.add(row[0])
            ordered.append(row)
        waiting = [row for row in waiting if row[0] not in present]
    return ordered


def _object_ids(tables: list[tuple]) -> list[str]:
    return list(dict.fromkeys(object_id for row in tables for object_id in row[3]))


def _check_registry(engine: Engine, remote: str) -> None:
    if not engine.run_sql("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'sgfdw'"):
        raise NotFound(f'remote "{remote}" does not run sgfdw',
                       hint="CREATE EXTENSION sgfdw in the registry's database.")


def _check_not_behind(local_hashes: set[str], remote: _Side, remote_name: str) -> None:
    unknown = sorted({row[0] for row in remote.images()} - local_hashes)
    if unknown:
        raise ConcurrentChange(
            f'remote repository {remote.repo} on "{remote_name}" has {len(unknown)} '
            "image(s) that this engine lacks",
            detail="Images: " + ", ".join(unknown[:5]),
            hint="Pull them first (sgfdw.pull), then push again.")


def _set_upstream(repo: Repository, remote: str, remote_repo: Repository,
                  replace: bool) -> None:
    pg.execute("INSERT INTO splitgraph_meta.upstream (namespace, repository, remote_name, "
               "remote_namespace, remote_repository) VALUES ($1, $2, $3, $4, $5) "
               "ON CONFLICT (namespace, repository) DO "
               + ("UPDATE SET remote_name = EXCLUDED.remote_name, remote_namespace = "
                  "EXCLUDED.remote_namespace, remote_repository = EXCLUDED.remote_repository"
                  if replace else "NOTHING"),
               [repo.namespace, repo.repository, remote, remote_repo.namespace,
                remote_repo.repository])


def push(repo: Repository, remote: str, remote_repo: Repository, handler: str,
         handler_options: Mapping[str, Any] | None) -> int:
    """Pushes the repository's images; the number of objects uploaded."""
    images.ensure_exists(repo)
    local = _Side(repo, None)
    local_images, tables, tags = local.images(), local.tables(), local.tags()
    local_hashes = {row[0] for row in local_images}
    object_ids = _object_ids(tables)
    engine = remote_engine(remote)
    try:
        _check_registry(engine, remote)
        registry = _Side(remote_repo, engine)
        _check_not_behind(local_hashes, registry, remote)
        present = {row[0] for row in registry.objects(object_ids)}
        missing = [object_id for object_id in object_ids if object_id not in present]
        engine.rollback()
        uploaded = get_external_object_handler(handler, handler_options).upload_objects(
            missing, engine)
        external = [(object_id, handler, url) for object_id, url in uploaded]
        registry.lock()
        _check_not_behind(local_hashes, registry, remote)
        registry.add(local_images, tables, tags,
                     local.objects([object_id for object_id, _ in uploaded]), external)
        engine.commit()
    finally:
        engine.close()
    local.run_many(_INSERT_EXTERNAL, external)
    _set_upstream(repo, remote, remote_repo, replace=False)
    return len(uploaded)


def clone(remote: str, remote_repo: Repository, repo: Repository,
          download_all: bool, handler_options: Mapping[str, Any] | None = None) -> int:
    """Copies the remote repository's metadata into repo; the number of new images."""
    engine: PostgresEngine = remote_engine(remote)
    try:
        engine.run_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        _check_registry(engine, remote)
        registry = _Side(remote_repo, engine)
        remote_images = registry.images()
        if not remote_images:
            raise NotFound(f'repository {remote_repo} does not exist on remote "{remote}"')
        tables, tags = registry.tables(), registry.tags()
        object_ids = _object_ids(tables)
        objects, external = registry.objects(object_ids), registry.external(object_ids)
        engine.rollback()
    finally:
        engine.close()
    meta.lock_repository(repo)
    local = _Side(repo, None)
    before = {row[0] for row in local.images()}
    local.add(remote_images, tables, tags, objects, external)
    _set_upstream(repo, remote, remote_repo, replace=True)
    if download_all:
        cache.ensure_local(object_ids, handler_options)
    return len({row[0] for row in remote_images} - before)


def pull(repo: Repository, download_all: bool,
         handler_options: Mapping[str, Any] | None = None) -> int:
    """clone from the repository's upstream; the number of new images."""
    rows = pg.execute("SELECT remote_name, remote_namespace, remote_repository "
                      "FROM splitgraph_meta.upstream WHERE namespace = $1 AND "
                      "repository = $2", [repo.namespace, repo.repository])
    if not rows:
        raise NotFound(f"repository {repo} has no upstream",
                       hint="Clone it, or push it to a remote first.")
    remote, namespace, repository = rows[0]
    return clone(remote, Repository(namespace, repository), repo, download_all,
                 handler_options)
