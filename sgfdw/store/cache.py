"""The object cache: objects with an external location (splitgraph_meta.external_objects,
set by push and clone) whose files are downloaded when a reader needs them.

Readers (checkout: the whole image at once when it fits; layered scans: the objects
that survive pruning; diff) call ensure_local with the objects they are about to
read: the missing ones come in parallel, and all of them are marked in use until the
reader's transaction ends (a shared advisory lock per cached object, which eviction must
get exclusively: splitgraph_meta.object_cache_status.refcount is not kept, the view
sgfdw.object_cache counts those locks). files.py calls it for a single object whose
file is missing. The registry to ask is the upstream of a repository whose tables use
the object.

sgfdw.object_cache_size (MB, 0: no limit) bounds the downloaded objects (those in
object_cache_status): before a download, the least recently used ones that are not in
use are evicted (file and status row; their metadata and external location stay, so
they can come back). Objects that exist only here are never in the cache. What one
reader needs at once that does not fit is an error (53400), never a thrash.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Mapping

from sgfdw import pg
from sgfdw.errors import SqlError
from sgfdw.hooks.external_objects import get_external_object_handler
from sgfdw.store import files
from sgfdw.store.errors import CorruptObject, StoreError
from sgfdw.store.remotes import remote_engine

__all__ = ["ensure_local", "fits", "missing_files", "CacheTooSmall"]


class CacheTooSmall(StoreError):
    """What a reader needs does not fit in sgfdw.object_cache_size
    (configuration_limit_exceeded)."""

    sqlstate = "53400"


def missing_files(object_ids: Iterable[str]) -> list[str]:
    """The objects (each once, in order) whose file is not in the object directory."""
    folder = files.object_dir()
    return [object_id for object_id in dict.fromkeys(object_ids)
            if not (folder / object_id).exists()]


# Advisory lock keys: an object in use (second argument of hashtextextended), and the
# cache's own lock.
_IN_USE = 1177
_CACHE_LOCK = "hashtextextended('sgfdw.store object cache', 0)"


def _mark_in_use(object_ids: list[str]) -> None:
    """Shared in-use locks on those of the objects that are in the cache (the others
    are never evicted: they need none, and the lock table is finite), and their last
    use."""
    if not pg.execute(
            f"SELECT pg_advisory_xact_lock_shared(hashtextextended(object_id, {_IN_USE})) "
            "FROM splitgraph_meta.object_cache_status WHERE object_id = ANY ($1::text[])",
            [object_ids]):
        return  # none is in the cache (a local repository's objects): no use to record
    # Rows another reader is updating are skipped: readers never wait on each other. A
    # read-only transaction reads without recording its use.
    try:
        pg.execute("UPDATE splitgraph_meta.object_cache_status SET last_used = now() "
                   "WHERE object_id IN (SELECT object_id FROM "
                   "splitgraph_meta.object_cache_status WHERE object_id = ANY ($1::text[]) "
                   "FOR UPDATE SKIP LOCKED)", [object_ids])
    except SqlError as exc:
        if exc.sqlstate != "25006":
            raise


def _limit() -> int:
    """sgfdw.object_cache_size in bytes; 0: no limit."""
    return int(pg.execute(
        "SELECT pg_size_bytes(current_setting('sgfdw.object_cache_size'))")[0][0])


def fits(object_ids: Iterable[str]) -> bool:
    """Whether the objects missing here fit in the cache at once (a reader reading
    them one group at a time may fetch them all first)."""
    limit = _limit()
    missing = missing_files(object_ids)
    if not limit or not missing:
        return True
    incoming = pg.execute("SELECT coalesce(sum(size), 0) FROM splitgraph_meta.objects "
                          "WHERE object_id = ANY ($1::text[])", [missing])[0][0]
    return incoming <= limit


def _make_room(wanted: list[str], incoming: int) -> None:
    """Evicts least recently used objects not in use until `incoming` bytes fit."""
    limit = _limit()
    if not limit:
        return
    megabyte = 1024 * 1024
    if incoming > limit:
        raise CacheTooSmall(f"the objects to download ({incoming / megabyte:.1f} MB) do not "
                            f"fit in the object cache ({limit / megabyte:.0f} MB)",
                            hint="Raise sgfdw.object_cache_size, or read fewer objects at "
                                 "once (a narrower query).")
    used = pg.execute("SELECT coalesce(sum(o.size), 0) FROM splitgraph_meta.object_cache_status "
                      "s JOIN splitgraph_meta.objects o USING (object_id)")[0][0]
    if used + incoming <= limit:
        return
    folder = files.object_dir()
    for object_id, size in pg.execute(
            "SELECT s.object_id, o.size FROM splitgraph_meta.object_cache_status s "
            "JOIN splitgraph_meta.objects o USING (object_id) "
            "JOIN splitgraph_meta.external_objects e USING (object_id) "
            "WHERE s.object_id <> ALL ($1::text[]) ORDER BY s.last_used NULLS FIRST, 1",
            [wanted]):
        # Held until this transaction ends: no reader starts on it meanwhile.
        if not pg.execute(f"SELECT pg_try_advisory_xact_lock(hashtextextended($1, {_IN_USE}))",
                          [object_id])[0][0]:
            continue  # in use by a running query
        (folder / object_id).unlink(missing_ok=True)
        pg.execute("DELETE FROM splitgraph_meta.object_cache_status WHERE object_id = $1",
                   [object_id])
        used -= size
        if used + incoming <= limit:
            return
    raise CacheTooSmall(f"the object cache ({limit / megabyte:.0f} MB) has no room for "
                        f"{incoming / megabyte:.1f} MB: the objects in it are in use",
                        hint="Raise sgfdw.object_cache_size, or run the query when "
                             "others have finished.")


def ensure_local(object_ids: Iterable[str],
                 handler_options: Mapping[str, Any] | None = None) -> list[str]:
    """Marks the objects in use until the transaction ends and downloads those whose
    files are missing and that have an external location; the ids downloaded.
    Objects without one are left to the reader (whose error names the missing file)."""
    wanted = list(dict.fromkeys(object_ids))
    if not wanted:
        return []
    _mark_in_use(wanted)
    if not missing_files(wanted):
        return []
    # Until the transaction ends: one reader at a time makes room and downloads.
    pg.execute(f"SELECT pg_advisory_xact_lock({_CACHE_LOCK})")
    downloaded = _download(wanted, handler_options)
    _mark_in_use(downloaded)
    return downloaded


def _download(wanted: list[str], handler_options: Mapping[str, Any] | None) -> list[str]:
    missing = missing_files(wanted)  # again: another backend may have fetched them
    if not missing:
        return []
    sources: dict[tuple[str, str | None], list[tuple[str, str]]] = defaultdict(list)
    incoming = 0
    for object_id, protocol, url, remote, size in pg.execute(
            "SELECT e.object_id, e.protocol, e.url, "
            "  (SELECT u.remote_name FROM splitgraph_meta.tables t "
            "   JOIN splitgraph_meta.upstream u USING (namespace, repository) "
            "   WHERE e.object_id = ANY (t.object_ids) ORDER BY 1 LIMIT 1), o.size "
            "FROM splitgraph_meta.external_objects e JOIN splitgraph_meta.objects o "
            "USING (object_id) WHERE e.object_id = ANY ($1::text[]) "
            "ORDER BY e.object_id", [missing]):
        sources[(protocol, remote)].append((object_id, url))
        incoming += size
    _make_room(wanted, incoming)
    downloaded: list[str] = []
    for (protocol, remote), objects in sources.items():
        if remote is None:
            raise CorruptObject(f"object {objects[0][0]} is not here and no repository "
                                "using it has an upstream to download it from",
                                hint="Pull or clone the repository again.")
        handler = get_external_object_handler(protocol, handler_options)
        engine = remote_engine(remote)
        try:
            fetched = handler.download_objects(objects, engine)
        finally:
            engine.close()
        pg.execute("INSERT INTO splitgraph_meta.object_cache_status (object_id, ready, "
                   "last_used) SELECT id, true, now() FROM unnest($1::text[]) id "
                   "ON CONFLICT (object_id) DO UPDATE SET ready = true, last_used = now()",
                   [fetched])
        downloaded += fetched
    return downloaded
