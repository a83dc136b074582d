"""Cleanup: objects no image refers to any more (metadata and file), and files in this
database's folder that no metadata names (left by rolled-back or failed commands).

Writers hold a shared advisory lock from their first object write to the end of their
transaction (files.hold_writers_lock); cleanup takes it exclusively, so it waits for
them and never removes a file whose metadata is about to commit. Rolling a cleanup back
restores metadata of unreferenced objects only, whose files a later write recreates.
"""
from __future__ import annotations

from sgfdw import pg
from sgfdw.store import files

__all__ = ["cleanup"]


def cleanup() -> int:
    """How many objects and stray files were removed."""
    files.hold_writers_lock(exclusive=True)
    removed = {row[0] for row in pg.execute(
        "DELETE FROM splitgraph_meta.objects o WHERE NOT EXISTS (SELECT FROM "
        "splitgraph_meta.tables t WHERE o.object_id = ANY(t.object_ids)) RETURNING object_id")}
    known = {row[0] for row in pg.execute("SELECT object_id FROM splitgraph_meta.objects")}
    stray = [name for name in files.list_objects() if name not in known]
    for name in stray:
        files.remove_file(name)
    return len(removed | set(stray))
