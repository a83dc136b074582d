"""The object cache: objects with an external location (splitgraph_meta.external_objects,
set by push and clone) whose files are downloaded when a reader needs them.

Readers (checkout, layered scans) call ensure_local with the objects they are about to
read, so that the missing ones come in parallel; files.py calls it for a single object
whose file is missing. The registry to ask is the upstream of a repository whose
tables use the object.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Mapping

from sgfdw import pg
from sgfdw.hooks.external_objects import get_external_object_handler
from sgfdw.store import files
from sgfdw.store.errors import CorruptObject
from sgfdw.store.remotes import remote_engine

__all__ = ["ensure_local", "missing_files"]


def missing_files(object_ids: Iterable[str]) -> list[str]:
    """The objects (each once, in order) whose file is not in the object directory."""
    folder = files.object_dir()
    return [object_id for object_id in dict.fromkeys(object_ids)
            if not (folder / object_id).exists()]


def ensure_local(object_ids: Iterable[str],
                 handler_options: Mapping[str, Any] | None = None) -> list[str]:
    """Downloads the objects whose files are missing and that have an external
    location; the ids downloaded. Objects without one are left to the reader (whose
    error names the missing file)."""
    missing = missing_files(object_ids)
    if not missing:
        return []
    sources: dict[tuple[str, str | None], list[tuple[str, str]]] = defaultdict(list)
    for object_id, protocol, url, remote in pg.execute(
            "SELECT e.object_id, e.protocol, e.url, "
            "  (SELECT u.remote_name FROM splitgraph_meta.tables t "
            "   JOIN splitgraph_meta.upstream u USING (namespace, repository) "
            "   WHERE e.object_id = ANY (t.object_ids) ORDER BY 1 LIMIT 1) "
            "FROM splitgraph_meta.external_objects e WHERE e.object_id = ANY ($1::text[]) "
            "ORDER BY e.object_id", [missing]):
        sources[(protocol, remote)].append((object_id, url))
    downloaded: list[str] = []
    for (protocol, remote), objects in sources.items():
        if remote is None:
            raise CorruptObject(f"object {objects[0][0]} is not here and no repository "
                                "using it has an upstream to download it from",
                                hint="Pull or clone the repository again.")
        handler = get_external_object_handler(protocol, handler_options)
        engine = remote_engine(remote)
        try:
            downloaded += handler.download_objects(objects, engine)
        finally:
            engine.close()
    return downloaded
