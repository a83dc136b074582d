"""The object cache: downloads bounded by sgfdw.object_cache_size, least recently used
objects evicted -- never one a running transaction reads, never one that exists only
locally -- and what one reader needs at once that does not fit is 53400."""
from __future__ import annotations

import contextlib

import psycopg2
import pytest

from fdwtest import assert_usable, execute
from sharing import REPO, add_registry, add_run_function, another_engine, rows


def sizes(conn, table: str) -> tuple[list[str], int]:
    ids = execute(conn, "SELECT object_ids FROM splitgraph_meta.tables "
                        "WHERE table_name = %s ORDER BY image_hash LIMIT 1", (table,))[0][0]
    size = execute(conn, "SELECT sum(size) FROM splitgraph_meta.objects "
                         "WHERE object_id = ANY (%s)", (ids,))[0][0]
    return ids, int(size)


def cached(conn) -> set[str]:
    return {row[0] for row in execute(conn, "SELECT object_id FROM sgfdw.object_cache")}


def ensure_local(conn, ids: list[str]) -> None:
    execute(conn, "SELECT run(%s)", ("from sgfdw.store import cache\n"
                                     f"cache.ensure_local({ids!r})",))


def test_lru_eviction_within_the_limit(pg, registry, hub, db):
    for table in ("a", "b"):
        execute(db, f"CREATE TABLE {table} (id int PRIMARY KEY, x text, y text, z text)")
        execute(db, f"INSERT INTO {table} SELECT g, md5(g || '{table}x'), "
                    f"md5(g || '{table}y'), md5(g || '{table}z') "
                    "FROM generate_series(1, 12000) g")
    execute(db, "SELECT sgfdw.init(%s)", (REPO,))
    for table in ("a", "b"):
        execute(db, "SELECT sgfdw.import_table(%s, %s, %s)", (REPO, table, table))
    add_registry(db, registry, hub)
    execute(db, "SELECT sgfdw.push(%s, 'registry')", (REPO,))
    a_ids, a_size = sizes(db, "a")
    b_ids, b_size = sizes(db, "b")
    megabyte = 1024 * 1024
    assert a_size < megabyte and b_size < megabyte < a_size + b_size

    with another_engine(pg) as other:
        add_run_function(other)
        execute(other, "CREATE TABLE mine AS SELECT g AS id FROM generate_series(1, 10) g")
        execute(other, "SELECT sgfdw.init('local/only')")
        execute(other, "SELECT sgfdw.import_table('local/only', 'mine', 'mine')")
        add_registry(other, registry, hub)
        execute(other, "SELECT sgfdw.clone('registry', %s)", (REPO,))
        execute(other, "SET sgfdw.object_cache_size = '1MB'")

        # The checkout reads a, then b: a is evicted to make room for b.
        execute(other, "SELECT sgfdw.checkout(%s)", (REPO,))
        for table in ("a", "b"):
            assert rows(other, f'SELECT * FROM "demo/shared".{table}') == \
                rows(db, f"SELECT * FROM {table}")
        assert cached(other) == set(b_ids)
        assert execute(other, "SELECT sum(size) <= 1048576, bool_and(ready), "
                              "max(refcount) FROM sgfdw.object_cache") == [(True, True, 0)]
        # The local repository's objects are not in the cache, and stay.
        execute(other, "SELECT sgfdw.checkout('local/only')")

        # Everything at once does not fit: an error, not a thrash.
        with pytest.raises(psycopg2.Error) as info:
            execute(other, "SELECT sgfdw.pull(%s, true)", (REPO,))
        assert info.value.pgcode == "53400"
        assert "sgfdw.object_cache_size" in info.value.diag.message_hint
        assert_usable(other)
        assert cached(other) == set(b_ids)

        # b in use by another transaction: it is not evicted for a.
        with contextlib.closing(pg.connect(other.info.dbname)) as reader:
            execute(reader, "BEGIN")
            ensure_local(reader, b_ids)
            assert execute(other, "SELECT max(refcount) FROM sgfdw.object_cache") == [(1,)]
            with pytest.raises(psycopg2.Error) as info:
                ensure_local(other, a_ids)
            assert info.value.pgcode == "53400"
            assert "in use" in info.value.pgerror
            execute(reader, "COMMIT")
        ensure_local(other, a_ids)
        assert cached(other) == set(a_ids)

