"""sgfdw.build: a multi-step Splitfile from a live mounted PostgreSQL (the remote
cluster) and another image, built twice (the second time every step is a cache hit
and no plugin executes), then with one source changed (only the steps from it on run
again); the built tables compared with the same SQL run by hand; provenance rebuilds
the same hashes."""
from __future__ import annotations

import json
import threading
import time

from splitfile_helpers import (PASSWORD, SOURCE_DB, build, cache_hits, mount_options,
                      plugin_calls)
from fdwtest import assert_usable, error_of, execute

QUERIES = {  # built table -> the same SQL, run by hand on the remote source
    "summary": "SELECT kind, count(*) AS n, sum(amount) AS total FROM events GROUP BY kind",
    "events": "SELECT * FROM events",
}


def recipe(remote) -> str:
    options = json.dumps(mount_options(remote))
    return f"""
# events from the live source, cities from an image
FROM MOUNT postgres_fdw '{options}' IMPORT events
FROM t/base:${{TAG}} IMPORT cities AS places, \\
    {{SELECT name FROM cities WHERE population > ${{MIN}}}} AS big_cities
SQL {{
    CREATE TABLE summary AS
        SELECT kind, count(*) AS n, sum(amount) AS total FROM events GROUP BY kind;
    ALTER TABLE summary ADD PRIMARY KEY (kind);
}}
COUNT summary
SQL CREATE TABLE joined AS SELECT p.name, e.id FROM places p \\
    JOIN events e ON e.id % 10 = p.id
"""


PARAMS = {"TAG": "v1", "MIN": 1000, "PASSWORD": PASSWORD}


def rows(db, query: str) -> list:
    return sorted(map(repr, execute(db, query)))


def check_tables(db, remote) -> None:
    for table, query in QUERIES.items():
        assert rows(db, f'SELECT * FROM "t/out".{table}') == sorted(
            map(repr, remote.sql(query, dbname=SOURCE_DB)))
    assert rows(db, 'SELECT * FROM "t/out".big_cities') == rows(
        db, "SELECT name FROM cities WHERE population > 1000")
    assert rows(db, 'SELECT * FROM "t/out".places') == rows(db, "SELECT * FROM cities")
    events = remote.sql("SELECT id FROM events", dbname=SOURCE_DB)
    by_hand = sorted(repr((name, event_id)) for (event_id,) in events
                     for (city_id, name) in execute(db, "SELECT id, name FROM cities")
                     if event_id % 10 == city_id)
    assert rows(db, 'SELECT * FROM "t/out".joined') == by_hand
    assert execute(db, 'SELECT n FROM "t/out".counts WHERE name = %s', ("summary",)) == [(4,)]


def images(db, repository: str = "t/out") -> list[str]:
    return [row[0] for row in execute(db, "SELECT image_hash FROM sgfdw.log(%s)",
                                      (repository,))]


def test_build_twice_then_with_a_changed_source(sdb, source_db):
    remote = source_db
    first = build(sdb, recipe(remote), "t/out", PARAMS)
    assert cache_hits(sdb) == 0
    assert plugin_calls(sdb) == {"COUNT.calc_hash": 1, "COUNT.execute": 1}
    check_tables(sdb, remote)
    made = images(sdb)
    assert len(made) == 6  # the empty image and one per step

    # Unchanged: every step is a cache hit, nothing runs, the same image.
    assert build(sdb, recipe(remote), "t/out", PARAMS) == first
    assert cache_hits(sdb) == 5
    assert plugin_calls(sdb) == {"COUNT.calc_hash": 2, "COUNT.execute": 1}
    assert images(sdb) == made
    check_tables(sdb, remote)

    # The image t/base:v1 changes: the mount step is still a hit, the steps from the
    # import on run again.
    execute(sdb, "UPDATE cities SET population = 999999 WHERE id = 1")
    execute(sdb, "SELECT sgfdw.import_table('t/base', 'cities', 'cities')")
    execute(sdb, "SELECT sgfdw.tag('t/base', 'HEAD', 'v1')")
    second = build(sdb, recipe(remote), "t/out", PARAMS)
    assert second != first and cache_hits(sdb) == 1
    assert plugin_calls(sdb) == {"COUNT.calc_hash": 3, "COUNT.execute": 2}
    check_tables(sdb, remote)
    assert len(images(sdb)) == len(made) + 4

    # The live source changes: the mount step makes a new image, and so does every
    # step after it; the same change undone gives the first build's images back.
    remote.sql("UPDATE events SET amount = amount + 1 WHERE id = 7", dbname=SOURCE_DB)
    try:
        third = build(sdb, recipe(remote), "t/out", PARAMS)
        assert third not in (first, second) and cache_hits(sdb) == 0
        check_tables(sdb, remote)
    finally:
        remote.sql("UPDATE events SET amount = amount - 1 WHERE id = 7", dbname=SOURCE_DB)
    assert build(sdb, recipe(remote), "t/out", PARAMS) == second
    assert cache_hits(sdb) == 5

    # The provenance rebuilds the same images elsewhere (the password as a parameter).
    recipe_again = execute(sdb, "SELECT sgfdw.provenance('t/out')")[0][0]
    assert PASSWORD not in recipe_again and "${PASSWORD}" in recipe_again
    assert "${TAG}" not in recipe_again and ":v1" not in recipe_again  # hashes, not tags
    assert build(sdb, recipe_again, "t/again", {"PASSWORD": PASSWORD}) == second
    assert set(images(sdb, "t/again")) <= set(images(sdb))
    assert len(images(sdb, "t/again")) == 6
    provenance = execute(sdb, "SELECT provenance FROM sgfdw.log('t/out') LIMIT 1")[0][0]
    assert provenance["command"] == "SQL" and provenance["line"] == 12
    assert PASSWORD not in json.dumps(execute(sdb, "SELECT * FROM sgfdw.log('t/out')",),
                                      default=str)


def test_sql_reads_other_images_by_reference(sdb):
    sql = ('SQL CREATE TABLE t AS SELECT c.name FROM "t/base:v1".cities c '
           'WHERE c.population > 1000')
    first = build(sdb, sql, "t/read")
    assert rows(sdb, 'SELECT * FROM "t/read".t') == rows(
        sdb, "SELECT name FROM cities WHERE population > 1000")
    assert not execute(sdb, "SELECT FROM pg_namespace WHERE nspname = 't/base:v1'")
    recipe_again = execute(sdb, "SELECT sgfdw.provenance('t/read')")[0][0]
    v1 = execute(sdb, "SELECT image_hash FROM sgfdw.log('t/base') WHERE 'v1' = ANY(tags)")
    assert f'"t/base:{v1[0][0]}".cities' in recipe_again
    assert build(sdb, recipe_again, "t/read2") == first  # a hash and its tag hash alike
    # The image read changes: the SQL step is a new image.
    execute(sdb, "DELETE FROM cities WHERE id = 3")
    execute(sdb, "SELECT sgfdw.import_table('t/base', 'cities', 'cities')")
    execute(sdb, "SELECT sgfdw.tag('t/base', 'HEAD', 'v1')")
    assert build(sdb, sql, "t/read") != first


def test_from_an_image_then_change_it(sdb):
    built = build(sdb, "FROM t/base:v1\nSQL DELETE FROM cities WHERE population < 100",
                  "t/derived")
    assert rows(sdb, 'SELECT * FROM "t/derived".cities') == rows(
        sdb, "SELECT * FROM cities WHERE population >= 100")
    assert rows(sdb, 'SELECT * FROM "t/base".cities') == rows(sdb, "SELECT * FROM cities")
    # FROM copies the base image (same hash); the next step makes a patch.
    base = execute(sdb, "SELECT image_hash FROM sgfdw.log('t/base') WHERE 'v1' = ANY(tags)")
    assert base[0][0] in images(sdb, "t/derived") and built != base[0][0]
    # Checked out layered (foreign tables reading the image): the build checks out
    # ordinary tables to change.
    execute(sdb, "SELECT sgfdw.checkout('t/derived', %s, layered => true)", (built,))
    again = build(sdb, "FROM t/base:v1\nSQL DELETE FROM cities WHERE population < 100\n"
                       "SQL DELETE FROM cities WHERE id = 2", "t/derived")
    assert rows(sdb, 'SELECT * FROM "t/derived".cities') == rows(
        sdb, "SELECT * FROM cities WHERE population >= 100 AND id <> 2")
    assert execute(sdb, "SELECT parent_id FROM sgfdw.log('t/derived') WHERE image_hash = %s",
                   (again,)) == [(built,)]
    assert build(sdb, "FROM EMPTY", "t/derived") == "0" * 64
    assert execute(sdb, "SELECT count(*) FROM pg_tables WHERE schemaname = 't/derived'") \
        == [(0,)]


def test_mount_queries_hash_by_content(sdb, source_db):
    options = json.dumps(mount_options(source_db))
    text = (f"FROM MOUNT postgres_fdw '{options}' IMPORT "
            "{SELECT kind, max(id) AS top FROM events GROUP BY kind} AS tops, events AS e")
    first = build(sdb, text, "t/mq", PARAMS)
    assert rows(sdb, 'SELECT * FROM "t/mq".tops') == sorted(map(repr, source_db.sql(
        "SELECT kind, max(id) FROM events GROUP BY kind", dbname=SOURCE_DB)))
    cache_hits(sdb)
    # Written differently, the same content: the same image (a cache hit).
    same = text.replace("max(id) AS top", "max(id)  AS  top")
    assert build(sdb, same, "t/mq", PARAMS) == first and cache_hits(sdb) == 1
    assert not execute(sdb, "SELECT FROM sgfdw.mounts")
    assert not execute(sdb, "SELECT FROM pg_foreign_server WHERE srvname LIKE 'sgfdw %'")


def test_mount_errors_do_not_show_the_password(sdb, source_db, pg):
    options = dict(mount_options(source_db), dbname="no_such_db")
    error = error_of(sdb, "SELECT sgfdw.build(%s, 't/bad', %s)", (
        f"FROM MOUNT postgres_fdw '{json.dumps(options)}' IMPORT events",
        json.dumps(PARAMS)))
    assert error.pgcode.startswith("08") or error.pgcode == "3D000", (error.pgcode, str(error))
    shown = " ".join(filter(None, [str(error), error.diag.message_detail,
                                   error.diag.message_hint, error.diag.context]))
    assert PASSWORD not in shown and PASSWORD not in pg.log_tail(200)
    assert_usable(sdb)
    assert not execute(sdb, "SELECT FROM sgfdw.repositories WHERE repository = 't/bad'")


def test_two_sessions_build_one_repository(sdb, pg):
    """The second build waits for the first (a lock on the output repository), then
    finds every step's image made: all cache hits, the same image."""
    splitfile = ("FROM t/base:v1 IMPORT cities\n"
                 "SQL CREATE TABLE s AS SELECT count(*) AS n FROM cities")
    dbname = sdb.get_dsn_parameters()["dbname"]
    first = pg.connect(dbname, autocommit=False)
    second = pg.connect(dbname)
    try:
        built = build(first, splitfile, "t/both")
        outcome = {}

        def build_second():
            try:
                outcome["image"] = build(second, splitfile, "t/both")
            except Exception as exc:  # reported by the assertion below
                outcome["error"] = exc

        thread = threading.Thread(target=build_second)
        thread.start()
        while not execute(sdb, "SELECT FROM pg_stat_activity WHERE datname = %s AND "
                               "wait_event_type = 'Lock'", (dbname,)):
            assert thread.is_alive(), outcome
            time.sleep(0.05)
        first.commit()
        thread.join()
        assert outcome == {"image": built}
        assert cache_hits(second) == 2
    finally:
        first.close()
        second.close()
    assert images(sdb, "t/both")[0] == built and len(images(sdb, "t/both")) == 3


def test_mount_through_sqlalchemy_password_in_the_url(sdb, source_db):
    url = (f"postgresql+psycopg2://postgres:${{PASSWORD}}@/{SOURCE_DB}"
           f"?host={source_db.socket_dir}&port={source_db.port}")
    options = json.dumps({"db_url": url, "schema": "public"})
    built = build(sdb, f"FROM MOUNT sqlalchemy '{options}' IMPORT events", "t/sa", PARAMS)
    assert rows(sdb, 'SELECT id, kind, amount::text FROM "t/sa".events') == sorted(map(
        repr, source_db.sql("SELECT id, kind, amount::text FROM events", dbname=SOURCE_DB)))
    recipe_again = execute(sdb, "SELECT sgfdw.provenance('t/sa')")[0][0]
    assert PASSWORD not in recipe_again and "postgres:${DB_URL_PASSWORD}@" in recipe_again
    assert build(sdb, recipe_again, "t/sa2", {"DB_URL_PASSWORD": PASSWORD}) == built


def test_stages_and_imports_of_all_tables(sdb):
    """Splitgraph's multi-stage build: FROM ... AS repository builds into that
    repository; IMPORT without tables imports them all."""
    splitfile = """
FROM t/base:v1 AS t/stage1
SQL CREATE TABLE visible AS SELECT name, population FROM cities WHERE population > 100
FROM EMPTY AS t/stage2
FROM t/stage1 IMPORT {SELECT * FROM visible WHERE population < 10000} AS visible
FROM t/base:v1 IMPORT
"""
    built = build(sdb, splitfile, "t/unused")
    assert rows(sdb, 'SELECT * FROM "t/stage2".visible') == rows(
        sdb, "SELECT name, population FROM cities WHERE population > 100 "
             "AND population < 10000")
    assert rows(sdb, 'SELECT * FROM "t/stage2".cities') == rows(sdb, "SELECT * FROM cities")
    assert rows(sdb, 'SELECT * FROM "t/stage1".visible') == rows(
        sdb, "SELECT name, population FROM cities WHERE population > 100")
    assert not execute(sdb, "SELECT FROM sgfdw.repositories WHERE repository = 't/unused'")
    cache_hits(sdb)
    assert build(sdb, splitfile, "t/unused") == built and cache_hits(sdb) == 4
    recipe_again = execute(sdb, "SELECT sgfdw.provenance('t/stage2')")[0][0]
    assert recipe_again.splitlines()[1].endswith("IMPORT cities")  # the tables named
    assert build(sdb, recipe_again, "t/stage3") == built
