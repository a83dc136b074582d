"""Writes to layered tables make one new image per transaction: the same writes made on
a checkout and committed give the same table contents; the transaction reads its own
writes; ROLLBACK and ROLLBACK TO SAVEPOINT leave nothing of what they undo; a commit
on a reference another transaction moved meanwhile fails with 40001; a table pinned to
a hash is not updatable."""
from __future__ import annotations

import pytest

from layered_helpers import rows_of
from fdwtest import assert_usable, error_of, execute
from test_layered_scan import layered_import

REPO = "t/w"
SCHEMA = '"t/w"'
# One transaction of mixed writes on two tables ({s}: the schema written to).
WRITES = [
    "INSERT INTO {s}.a VALUES (1000, 'new', '2021-01-01'), (1001, NULL, 'infinity')",
    "UPDATE {s}.a SET v = v || '!' WHERE id BETWEEN 10 AND 14",
    "UPDATE {s}.a SET id = id + 5000 WHERE id IN (20, 21)",
    "DELETE FROM {s}.a WHERE id % 17 = 0",
    "UPDATE {s}.a SET v = 'inf' WHERE id = 1001",
    "INSERT INTO {s}.b VALUES (-1, 0.5)",
    "UPDATE {s}.b SET x = -x WHERE k < 5",
    "DELETE FROM {s}.b WHERE k = 7",
    "INSERT INTO {s}.c VALUES ('zz', '2001-02-03 04:05:06.789+05', NULL), ('', 'infinity', true)",
    "UPDATE {s}.c SET at = at + interval '1 day', ok = NOT ok WHERE name < 'c'",
    "UPDATE {s}.c SET name = upper(name) WHERE name LIKE 'd%%'",
]


def images(db) -> int:
    return execute(db, "SELECT count(*) FROM splitgraph_meta.images")[0][0]


def latest(db) -> str:
    return execute(db, "SELECT image_hash FROM splitgraph_meta.images "
                       "ORDER BY created DESC LIMIT 1")[0][0]


@pytest.fixture
def repo(db):
    execute(db, "SET sgfdw.fragment_rows = 40")
    execute(db, "SELECT sgfdw.init(%s)", (REPO,))
    execute(db, f"CREATE TABLE {SCHEMA}.a (id int PRIMARY KEY, v text, d date)")
    execute(db, f"CREATE TABLE {SCHEMA}.b (k bigint PRIMARY KEY, x float8)")
    execute(db, f"INSERT INTO {SCHEMA}.a SELECT g, md5(g::text), DATE '2020-01-01' + g "
                "FROM generate_series(1, 200) g")
    execute(db, f"INSERT INTO {SCHEMA}.b SELECT g, g * 1.5 FROM generate_series(1, 50) g")
    execute(db, f"CREATE TABLE {SCHEMA}.c (name text PRIMARY KEY, at timestamptz, ok bool)")
    execute(db, f"INSERT INTO {SCHEMA}.c SELECT md5(g::text), TIMESTAMPTZ '2020-01-01 00:00+00' "
                "+ g * interval '1 hour', g % 2 = 0 FROM generate_series(1, 30) g")
    execute(db, "SELECT sgfdw.commit(%s)", (REPO,))
    execute(db, "SELECT sgfdw.tag(%s, 'HEAD', 'v1')", (REPO,))
    layered_import(db, REPO, "l")
    return db


def contents(db, image: str) -> dict[str, list]:
    schema = f"i{image[:8]}"
    if not execute(db, "SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)):
        layered_import(db, f"{REPO}:{image}", schema)
    return {t: rows_of(db, f"{schema}.{t}") for t in ("a", "b", "c")}


def test_a_transaction_of_writes_is_one_image_equal_to_a_commit(repo):
    db = repo
    base = latest(db)
    before = images(db)
    db.autocommit = False
    returned = execute(db, "INSERT INTO l.a VALUES (2000, 'r', NULL) RETURNING id, v")
    assert returned == [(2000, "r")]
    for write in WRITES:
        execute(db, write.format(s="l"))
    own = {t: rows_of(db, f"l.{t}") for t in ("a", "b", "c")}
    # ORDER BY key / LIMIT with the transaction's own changes (read first, merged last)
    assert execute(db, "SELECT id FROM l.a ORDER BY id DESC LIMIT 3") == [
        (5021,), (5020,), (2000,)]
    assert execute(db, "SELECT id FROM l.a WHERE id > 10 ORDER BY id LIMIT 2 OFFSET 5") == [
        (16,), (18,)]
    db.commit()
    db.autocommit = True
    assert images(db) == before + 1
    layered = latest(db)
    assert execute(db, "SELECT parent_id FROM splitgraph_meta.images WHERE image_hash = %s",
                   (layered,)) == [(base,)]
    # the same writes on the checkout, committed
    execute(db, f"INSERT INTO {SCHEMA}.a VALUES (2000, 'r', NULL)")
    for write in WRITES:
        execute(db, write.format(s=SCHEMA))
    committed = execute(db, "SELECT sgfdw.commit(%s)", (REPO,))[0][0]
    assert contents(db, layered) == contents(db, committed) == own


def test_rollback_and_savepoints_undo_writes(repo):
    db = repo
    before = images(db)
    db.autocommit = False
    execute(db, "INSERT INTO l.a VALUES (3000, 'gone', NULL)")
    assert execute(db, "SELECT v FROM l.a WHERE id = 3000") == [("gone",)]
    db.rollback()
    assert execute(db, "SELECT count(*) FROM l.a WHERE id = 3000") == [(0,)]
    db.rollback()
    assert images(db) == before
    execute(db, "INSERT INTO l.a VALUES (3001, 'kept', NULL)")
    execute(db, "SAVEPOINT s1")
    execute(db, "DELETE FROM l.a WHERE id < 100")
    execute(db, "INSERT INTO l.b VALUES (3002, 1)")
    assert execute(db, "SELECT count(*) FROM l.a WHERE id < 100") == [(0,)]
    execute(db, "ROLLBACK TO SAVEPOINT s1")
    assert execute(db, "SELECT count(*) FROM l.a WHERE id < 100") == [(99,)]
    execute(db, "UPDATE l.a SET v = 'after' WHERE id = 3")
    execute(db, "SAVEPOINT s2")
    execute(db, "UPDATE l.a SET v = 'undone' WHERE id = 3")
    execute(db, "ROLLBACK TO SAVEPOINT s2")
    execute(db, "RELEASE SAVEPOINT s2")
    db.commit()
    db.autocommit = True
    assert images(db) == before + 1
    assert execute(db, "SELECT id, v FROM l.a WHERE id IN (3, 3001) ORDER BY id") == [
        (3, "after"), (3001, "kept")]
    assert execute(db, "SELECT (SELECT count(*) FROM l.a), (SELECT count(*) FROM l.b)") \
        == [(201, 50)]


def test_errors_leave_a_usable_session(repo):
    db = repo
    for level in ("REPEATABLE READ", "SERIALIZABLE"):
        db.autocommit = False
        execute(db, f"SET TRANSACTION ISOLATION LEVEL {level}")
        error = error_of(db, "DELETE FROM l.b WHERE k = 1")
        assert error.pgcode == "0A000" and level in error.pgerror
        db.rollback()
        db.autocommit = True
    execute(db, "CREATE TABLE n (id int PRIMARY KEY, amount numeric)")
    execute(db, "SELECT sgfdw.import_table(%s, 'n', 'n')", (REPO,))
    layered_import(db, REPO, "ln")  # numeric is stored as text: not writable
    assert execute(db, "SELECT is_insertable_into FROM information_schema.tables "
                       "WHERE table_schema = 'ln' ORDER BY table_name") == [
        ("YES",), ("YES",), ("YES",), ("NO",)]
    error = error_of(db, "INSERT INTO ln.n VALUES (1, 1)")
    assert error.pgcode == "55000"
    assert_usable(db)
    error = error_of(db, "INSERT INTO l.a VALUES (5, 'dup', NULL)")
    assert error.pgcode == "23505"
    assert_usable(db)
    error = error_of(db, "UPDATE l.a SET id = 6 WHERE id = 5")
    assert error.pgcode == "23505"
    assert_usable(db)
    assert images(db) == 3  # the empty image, the first commit, the import


def test_concurrent_commit_on_the_same_reference_fails_with_40001(repo, pg):
    db = repo
    other = pg.connect(db.info.dbname)
    try:
        db.autocommit = False
        execute(db, "UPDATE l.a SET v = 'mine' WHERE id = 1")
        with other.cursor() as cur:
            cur.execute("UPDATE l.a SET v = 'theirs' WHERE id = 2")  # autocommit
        theirs = latest(other)
        error = error_of(db, "COMMIT")
        assert error.pgcode == "40001"
        db.rollback()
        db.autocommit = True
        assert_usable(db)
        assert latest(db) == theirs
        assert execute(db, "SELECT id, v FROM l.a WHERE id IN (1, 2) ORDER BY id") == [
            (1, execute(db, "SELECT md5('1')")[0][0]), (2, "theirs")]
    finally:
        other.close()


def test_tags_move_and_hash_pinned_tables_are_read_only(repo):
    db = repo
    layered_import(db, f"{REPO}:v1", "v")
    execute(db, "UPDATE v.b SET x = 0 WHERE k = 1")  # through the tag: moves it
    tagged = execute(db, "SELECT image_hash FROM splitgraph_meta.tags WHERE tag = 'v1'")[0][0]
    assert execute(db, "SELECT x FROM v.b WHERE k = 1") == [(0.0,)]
    assert tagged == latest(db)
    pinned = f"{REPO}:{tagged}"
    layered_import(db, pinned, "p")
    assert execute(db, "SELECT is_insertable_into FROM information_schema.tables "
                       "WHERE table_schema = 'p' AND table_name = 'b'") == [("NO",)]
    error = error_of(db, "UPDATE p.b SET x = 1")
    assert error.pgcode == "55000"
    assert_usable(db)
