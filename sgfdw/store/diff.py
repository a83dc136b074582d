"""Diff: the rows a table loses ('-') and gains ('+') from one image to another, or to
the working copy. Each side is a relation (an image's version materialised into a
temporary table); rows are compared by their text, which is exact for every type and
works for types without an equality operator (json)."""
from __future__ import annotations

from typing import Iterator

from sgfdw import pg
from sgfdw.store import cache, images, meta
from sgfdw.store.checkout import table_name
from sgfdw.store.errors import NotFound
from sgfdw.store.materialize import materialize
from sgfdw.store.names import Repository
from sgfdw.store.relations import table_oid

__all__ = ["diff"]


def _image_side(repo: Repository, table: str, reference: str, alias: str) -> str | None:
    """The table of an image as a temporary table (None if the image lacks it)."""
    image_hash = images.resolve(repo, reference)
    version = next((v for v in meta.table_versions(repo, image_hash) if v.table_name == table),
                   None)
    if version is None:
        return None
    name = f"pg_temp.{alias}"
    cache.ensure_local(version.object_ids)
    materialize(name, version.schema, list(version.object_ids))
    return name


def diff(repo: Repository, table: str, image_a: str,
         image_b: str | None) -> Iterator[tuple[str, object]]:
    side_a = _image_side(repo, table, image_a, "sgfdw_diff_a")
    if image_b is not None:
        side_b = _image_side(repo, table, image_b, "sgfdw_diff_b")
    else:
        side_b = table_name(repo, table) if table_oid(repo.schema, table) else None
    if side_a is None and side_b is None:
        raise NotFound(f"table {table!r} is in neither side of the diff of {repo}")
    empty = "(SELECT NULL::text AS r, NULL::jsonb AS j WHERE false)"

    def rows(side: str | None) -> str:
        # x.*: the whole row even when the table has a column named x
        return f"(SELECT (x.*)::text AS r, to_jsonb(x.*) AS j FROM {side} x)" if side else empty

    a, b = rows(side_a), rows(side_b)
    result = pg.execute(
        f"SELECT '-', j FROM (SELECT * FROM {a} a EXCEPT ALL SELECT * FROM {b} b) d "
        f"UNION ALL SELECT '+', j FROM (SELECT * FROM {b} b EXCEPT ALL SELECT * FROM {a} a) d")
    for name in (side_a, side_b if image_b is not None else None):
        if name:
            pg.execute(f"DROP TABLE {name}")
    return iter(result)
