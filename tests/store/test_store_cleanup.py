"""sgfdw.cleanup: unreferenced objects and stray files go, referenced ones and other
databases' files stay; sgfdw.rm leaves objects to it."""
from __future__ import annotations

from pathlib import Path

from store_helpers import assert_same_rows
from fdwtest import execute


def folder(db, pg) -> Path:
    oid = execute(db, "SELECT oid FROM pg_database WHERE datname = current_database()")[0][0]
    return pg.data_dir / "sgfdw_objects" / str(oid)


def object_ids(db) -> set[str]:
    return {row[0] for row in execute(db, "SELECT object_id FROM splitgraph_meta.objects")}


def test_cleanup_after_rm_and_rollback(db, pg):
    execute(db, "CREATE TABLE shared (id int PRIMARY KEY, v text)")
    execute(db, "INSERT INTO shared SELECT g, g::text FROM generate_series(1, 10) g")
    execute(db, "CREATE TABLE own (id int PRIMARY KEY)")
    execute(db, "INSERT INTO own VALUES (1), (2)")
    for repo in ("t/one", "t/two"):
        execute(db, "SELECT sgfdw.init(%s)", (repo,))
        execute(db, "SELECT sgfdw.import_table(%s, 'shared', 'shared')", (repo,))
    execute(db, "SELECT sgfdw.import_table('t/one', 'own', 'own')")
    shared_id, own_id = (execute(db, "SELECT object_ids[1] FROM splitgraph_meta.tables "
                                     "WHERE repository = 'one' AND table_name = %s "
                                     "ORDER BY image_hash LIMIT 1", (t,))[0][0]
                         for t in ("shared", "own"))
    assert object_ids(db) == {shared_id, own_id}
    assert execute(db, "SELECT sgfdw.cleanup()") == [(0,)]

    # A rolled-back import leaves a file no metadata names; so does a crashed write.
    execute(db, "INSERT INTO own VALUES (3)")
    db.autocommit = False
    execute(db, "SELECT sgfdw.import_table('t/two', 'own', 'own')")
    db.rollback()
    db.autocommit = True
    files_dir = folder(db, pg)
    (files_dir / ".o123.456.tmp").write_bytes(b"partial")
    names = {p.name for p in files_dir.iterdir()}
    assert len(names) == 4
    # Another database's folder is never looked at.
    other = files_dir.parent / "999999999"
    other.mkdir(exist_ok=True)
    (other / ("o" + "1" * 62)).write_bytes(b"x")

    execute(db, "SELECT sgfdw.rm('t/one')")
    assert object_ids(db) == {shared_id, own_id}  # rm leaves them to cleanup
    assert execute(db, "SELECT sgfdw.cleanup()") == [(3,)]  # own, the rolled-back one, .tmp
    assert object_ids(db) == {shared_id}
    assert {p.name for p in files_dir.iterdir()} == {shared_id}
    assert (other / ("o" + "1" * 62)).exists()
    execute(db, "SELECT sgfdw.checkout('t/two', '00000000')")
    execute(db, "SELECT sgfdw.checkout('t/two')")
    assert_same_rows(db, "shared", '"t/two".shared')
    assert execute(db, "SELECT sgfdw.cleanup()") == [(0,)]
