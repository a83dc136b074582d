"""push, clone and pull between engines (databases of the `pg` cluster) through a
registry (a second cluster running sgfdw) whose objects are in SeaweedFS: every table
checked out after a clone is compared with its source on the first engine."""
from __future__ import annotations

import concurrent.futures
import contextlib
import time

import psycopg2
import pytest

from fdwtest import assert_usable, execute
from seaweed import BUCKET
from sharing import (REPO, add_registry, another_engine, checked_out, cloned_engine,
                     make_repository, object_files, push, rows, shared_repository)


def test_push_clone_checkout_pull(pg, registry, hub, db, s3):
    make_repository(db)
    add_registry(db, registry, hub)
    assert push(db, threads=3) == 5
    assert execute(hub, "SELECT count(*) FROM splitgraph_meta.images WHERE "
                        "namespace = 'demo' AND repository = 'shared'") == [(2,)]
    stored = execute(hub, "SELECT object_id, protocol FROM splitgraph_meta.external_objects "
                          "ORDER BY 1")
    assert len(stored) == 5 and {protocol for _, protocol in stored} == {"S3"}
    in_bucket = {entry.object_name for entry in s3.client().list_objects(BUCKET)}
    assert {object_id for object_id, _ in stored} <= in_bucket
    # Both engines record where the objects are; a second push has nothing to upload.
    assert execute(db, "SELECT count(*) FROM splitgraph_meta.external_objects") == [(5,)]
    assert push(db) == 0
    assert execute(db, "SELECT remote_name, remote_namespace, remote_repository "
                       "FROM splitgraph_meta.upstream") == [("registry", "demo", "shared")]
    # The remote is a server of the PostgreSQL wrapper: it mounts the registry's tables.
    execute(db, "CREATE SCHEMA hub_meta")
    execute(db, "IMPORT FOREIGN SCHEMA splitgraph_meta LIMIT TO (images) "
                "FROM SERVER registry INTO hub_meta")
    query = "SELECT image_hash, parent_id, comment FROM {}.images"
    assert rows(db, query.format("hub_meta")) == rows(hub, query.format("splitgraph_meta"))

    with another_engine(pg) as other:
        add_registry(other, registry, hub)
        assert execute(other, "SELECT sgfdw.clone('registry', %s)", (REPO,)) == [(2,)]
        assert object_files(other) == 0  # metadata only
        # The objects' key filters travel with their metadata, both ways.
        ids = [row[0] for row in execute(other, "SELECT object_id FROM splitgraph_meta.objects")]
        filters = ("SELECT object_id, filters FROM splitgraph_meta.objects "
                   "WHERE object_id = ANY(%s) ORDER BY 1")
        assert len(ids) == 5 and all(row[1] for row in execute(other, filters, (ids,)))
        assert execute(other, filters, (ids,)) == execute(db, filters, (ids,)) \
            == execute(hub, filters, (ids,))
        execute(other, "SELECT sgfdw.checkout(%s)", (REPO,))
        assert object_files(other) == 5
        assert checked_out(other) == rows(db, "SELECT * FROM source")

        # A change on the first engine travels by push and pull.
        execute(db, "UPDATE \"demo/shared\".t SET name = 'changed' WHERE id % 1000 = 0")
        execute(db, "SELECT sgfdw.commit(%s, 'a change')", (REPO,))
        assert push(db) == 1
        assert execute(other, "SELECT sgfdw.pull(%s)", (REPO,)) == [(1,)]
        assert execute(other, "SELECT sgfdw.pull(%s)", (REPO,)) == [(0,)]
        execute(other, "SELECT sgfdw.checkout(%s)", (REPO,))
        assert checked_out(other) == checked_out(db)
        assert execute(other, "SELECT image_hash, parent_id, comment FROM sgfdw.log(%s)",
                       (REPO,)) == execute(db, "SELECT image_hash, parent_id, comment "
                                               "FROM sgfdw.log(%s)", (REPO,))

        # download_all fetches every object at clone time.
        with another_engine(pg) as third:
            add_registry(third, registry, hub)
            execute(third, "SELECT sgfdw.clone('registry', %s, 'copy/of-it', true, "
                           "'{\"threads\": 2}')", (REPO,))
            assert object_files(third) == 6
            execute(third, "SELECT sgfdw.checkout('copy/of-it')")
            assert rows(third, 'SELECT * FROM "copy/of-it".t') == checked_out(db)


def test_diverged_engines_push_one_at_a_time(pg, registry, hub, db, s3):
    shared_repository(db, registry, hub, 2000)
    with cloned_engine(pg, registry, hub) as other:
        execute(other, "SELECT sgfdw.checkout(%s)", (REPO,))
        for engine, name in ((db, "first"), (other, "second")):
            execute(engine, "UPDATE \"demo/shared\".t SET name = %s WHERE id = 1", (name,))
            execute(engine, "SELECT sgfdw.commit(%s)", (REPO,))
        assert push(other) == 1
        with pytest.raises(psycopg2.Error) as info:
            push(db)
        assert info.value.pgcode == "40001"
        assert "pull" in info.value.diag.message_hint.lower()
        assert_usable(db)
        assert execute(db, "SELECT sgfdw.pull(%s)", (REPO,)) == [(1,)]
        assert push(db) == 1
        assert execute(hub, "SELECT count(*) FROM splitgraph_meta.images") == [(4,)]


def test_bad_remotes(pg, registry, hub, db, remote):
    make_repository(db, 100)
    # A database without sgfdw.
    execute(db, "SELECT sgfdw.add_remote('plain', %s, %s, 'postgres', 'postgres', 'x')",
            (str(remote.socket_dir), remote.port))
    for statement in ("SELECT sgfdw.push(%s, 'plain')", "SELECT sgfdw.clone('plain', %s)",
                      "SELECT sgfdw.push(%s, 'nowhere')"):
        with pytest.raises(psycopg2.Error) as info:
            execute(db, statement, (REPO,))
        assert info.value.pgcode == "42704", statement
        assert_usable(db)
    add_registry(db, registry, hub)
    with pytest.raises(psycopg2.Error) as info:
        execute(db, "SELECT sgfdw.clone('registry', 'no/such')")
    assert info.value.pgcode == "42704"
    with pytest.raises(psycopg2.Error) as info:
        execute(db, "SELECT sgfdw.pull('no/such')")
    assert info.value.pgcode == "42704"
    with pytest.raises(psycopg2.Error) as info:
        execute(db, "SELECT sgfdw.add_remote('registry', 'h', 1, 'd', 'u', 'p')")
    assert info.value.pgcode == "42710"
    assert_usable(db)
    # Superuser-only: they run code and reach other servers with stored credentials.
    execute(db, "CREATE ROLE sync_user")
    execute(db, "GRANT USAGE ON SCHEMA sgfdw TO sync_user")
    execute(db, "SET ROLE sync_user")
    try:
        for statement in (f"SELECT sgfdw.push('{REPO}', 'registry')",
                          f"SELECT sgfdw.clone('registry', '{REPO}')",
                          f"SELECT sgfdw.pull('{REPO}')",
                          "SELECT sgfdw.add_remote('r', 'h', 1, 'd', 'u', 'p')",
                          "SELECT * FROM sgfdw.object_cache"):
            with pytest.raises(psycopg2.Error) as info:
                execute(db, statement)
            assert info.value.pgcode == "42501", statement
    finally:
        execute(db, "RESET ROLE")
        execute(db, "DROP OWNED BY sync_user")
        execute(db, "DROP ROLE sync_user")


def test_concurrent_pushes_one_wins_the_other_gets_40001(pg, registry, hub, db):
    shared_repository(db, registry, hub, 1000)
    with cloned_engine(pg, registry, hub) as other:
        execute(other, "SELECT sgfdw.checkout(%s)", (REPO,))
        for engine, name in ((db, "first"), (other, "second")):
            execute(engine, "UPDATE \"demo/shared\".t SET name = %s WHERE id = 2", (name,))
            execute(engine, "SELECT sgfdw.commit(%s)", (REPO,))
        # Both pushes upload, then wait for the repository's lock on the registry.
        with contextlib.closing(registry.connect(hub.info.dbname)) as holder:
            execute(holder, "BEGIN")
            execute(holder, "SELECT pg_advisory_xact_lock(hashtextextended(%s, 1176))",
                    (REPO,))
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                futures = {pool.submit(outcome, engine): engine for engine in (db, other)}
                while execute(hub, "SELECT count(*) FROM pg_locks WHERE "
                                   "locktype = 'advisory' AND NOT granted")[0][0] < 2:
                    time.sleep(0.05)
                execute(holder, "COMMIT")
                outcomes = {future.result(): engine for future, engine in futures.items()}
        assert sorted(outcomes) == ["40001", "pushed"]
        assert execute(hub, "SELECT count(*) FROM splitgraph_meta.images") == [(3,)]
        loser = outcomes["40001"]
        execute(loser, "SELECT sgfdw.pull(%s)", (REPO,))
        assert push(loser) == 1
        assert execute(hub, "SELECT count(*) FROM splitgraph_meta.images") == [(4,)]


def outcome(engine) -> str:
    try:
        push(engine)
    except psycopg2.Error as exc:
        return exc.pgcode
    return "pushed"


def test_engines_log_in_to_the_registry_as_a_plain_role(pg, registry, hub, db):
    """What the registry's administrator grants: EXECUTE on the URL functions and rights
    on splitgraph_meta; the S3 settings stay hidden from that role."""
    execute(hub, "CREATE ROLE hub_user LOGIN")
    execute(hub, "GRANT USAGE ON SCHEMA sgfdw, splitgraph_meta TO hub_user")
    execute(hub, "GRANT EXECUTE ON FUNCTION sgfdw.get_object_upload_urls(text, text[]), "
                 "sgfdw.get_object_download_urls(text, text[]) TO hub_user")
    execute(hub, "GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA splitgraph_meta "
                 "TO hub_user")
    try:
        make_repository(db, 2000)
        add_registry(db, registry, hub, user="hub_user")
        assert push(db) == 2
        with another_engine(pg) as other:
            add_registry(other, registry, hub, user="hub_user")
            execute(other, "SELECT sgfdw.clone('registry', %s)", (REPO,))
            execute(other, "SELECT sgfdw.checkout(%s)", (REPO,))
            assert checked_out(other) == rows(db, "SELECT * FROM source")
    finally:
        execute(hub, "DROP OWNED BY hub_user")
        execute(hub, "DROP ROLE hub_user")


def test_a_pruned_layered_query_after_a_clone_downloads_only_its_fragments(pg, registry,
                                                                            hub, db):
    """The objects a layered query keeps after pruning come (the others do not), in use
    until its transaction ends; a diff fetches its table's, a checkout then the rest of
    the image: every table's."""
    make_repository(db, 5000)
    execute(db, "CREATE TABLE other AS SELECT g AS id, md5(g::text) AS digest "
                "FROM generate_series(1, 3000) g")
    execute(db, "SELECT sgfdw.import_table(%s, 'u', 'other')", (REPO,))
    add_registry(db, registry, hub)
    assert push(db) == 8
    with another_engine(pg) as other:
        add_registry(other, registry, hub)
        execute(other, "SELECT sgfdw.clone('registry', %s)", (REPO,))
        execute(other, "CREATE SCHEMA l")
        execute(other, f'IMPORT FOREIGN SCHEMA "{REPO}" FROM SERVER sgfdw_objects INTO l')
        query = "SELECT * FROM {} WHERE id BETWEEN 900 AND 2100"
        execute(other, "BEGIN")
        assert rows(other, query.format("l.t")) == rows(db, query.format("source"))
        assert execute(other, "SELECT count(*), min(refcount) FROM sgfdw.object_cache") \
            == [(3, 1)]
        execute(other, "COMMIT")
        assert object_files(other) == 3
        # A diff fetches its table's objects.
        (second,), (first,) = execute(db, "SELECT image_hash FROM sgfdw.log(%s) LIMIT 2",
                                      (REPO,))
        diff = "SELECT op, \"row\"::text FROM sgfdw.diff(%s, 'u', %s, %s)"
        assert sorted(execute(other, diff, (REPO, first, second))) == \
            sorted(execute(db, diff, (REPO, first, second)))
        assert object_files(other) == 6
        execute(other, "SELECT sgfdw.checkout(%s)", (REPO,))
        assert object_files(other) == 8
        assert checked_out(other) == rows(db, "SELECT * FROM source")
        assert rows(other, 'SELECT * FROM "demo/shared".u') == rows(db, "SELECT * FROM other")
        assert execute(other, "SELECT max(refcount) FROM sgfdw.object_cache") == [(0,)]


def test_a_cloned_image_keeps_its_splitfile_provenance(pg, registry, hub, db):
    recipe = ("SQL CREATE TABLE t AS SELECT g AS id, 'row ' || g AS name "
              "FROM generate_series(1, 300) g\n"
              "SQL CREATE TABLE u AS SELECT id, upper(name) AS name FROM t WHERE id % 3 = 0")
    built = execute(db, "SELECT sgfdw.build(%s, 'demo/built')", (recipe,))[0][0]
    add_registry(db, registry, hub)
    execute(db, "SELECT sgfdw.push('demo/built', 'registry')")
    recipe_here = execute(db, "SELECT sgfdw.provenance('demo/built')")[0][0]
    with another_engine(pg) as other:
        add_registry(other, registry, hub)
        execute(other, "SELECT sgfdw.clone('registry', 'demo/built')")
        assert execute(other, "SELECT sgfdw.provenance('demo/built')")[0][0] == recipe_here
        assert execute(other, "SELECT sgfdw.provenance('demo/built', %s)",
                       (built,))[0][0] == recipe_here
        assert execute(other, "SELECT provenance FROM sgfdw.log('demo/built')") == \
            execute(db, "SELECT provenance FROM sgfdw.log('demo/built')")
        # The recipe rebuilds the very image the clone holds.
        assert execute(other, "SELECT sgfdw.build(%s, 'demo/rebuilt')",
                       (recipe_here,))[0][0] == built
