"""PostgresFdw transactions: the bridge's hooks drive one remote transaction per local
one (one snapshot for all scans), savepoints follow local subtransactions, COMMIT and
ROLLBACK reach the remote side, a failing remote COMMIT fails the local one."""

from __future__ import annotations

import pytest

from pgfdw_helpers import assert_usable, error_of, error_text, execute


def remote_rows(source, wdb, query):
    return execute(source, query.format(s=wdb.schema))


def isolation(db):
    (row,) = execute(db, "SELECT level, pid FROM f.isolation")
    return row


@pytest.fixture(autouse=True)
def hooks_wired(fdb):
    # A remote view reports the remote transaction's isolation level: REPEATABLE READ
    # means the FDW's begin() ran (an autocommit statement would be READ COMMITTED).
    if isolation(fdb)[0] == "read committed":
        pytest.skip("the bridge does not call begin() (transaction hooks not wired yet)")


def test_begin_hook_is_called(fdb):
    assert isolation(fdb)[0] == "repeatable read"


def test_serializable_local_transaction(fdb):
    execute(fdb, "BEGIN ISOLATION LEVEL SERIALIZABLE")
    assert isolation(fdb)[0] == "serializable"
    execute(fdb, "COMMIT")
    assert isolation(fdb)[0] == "repeatable read"


def test_one_snapshot_per_local_transaction(fdb, source):
    execute(source, "CREATE TABLE IF NOT EXISTS src.counter (n int)")
    execute(source, "TRUNCATE src.counter")
    execute(fdb, "IMPORT FOREIGN SCHEMA src LIMIT TO (counter) FROM SERVER rsrv INTO public")
    execute(fdb, "BEGIN")
    assert execute(fdb, "SELECT count(*) FROM counter") == [(0,)]
    _, pid = isolation(fdb)
    execute(source, "INSERT INTO src.counter VALUES (1)")
    # Same remote session and transaction, same snapshot: the new row is not seen.
    assert execute(fdb, "SELECT count(*) FROM counter") == [(0,)]
    assert isolation(fdb)[1] == pid
    execute(fdb, "COMMIT")
    assert execute(fdb, "SELECT count(*) FROM counter") == [(1,)]
    execute(source, "DROP TABLE src.counter")


def test_rollback_reaches_remote(wdb, source):
    execute(wdb, "BEGIN")
    execute(wdb, "INSERT INTO w.items (name) VALUES ('a'), ('b')")
    assert execute(wdb, "SELECT count(*) FROM w.items") == [(2,)]      # sees its own writes
    assert remote_rows(source, wdb, "SELECT count(*) FROM {s}.items") == [(0,)]  # others not
    execute(wdb, "ROLLBACK")
    assert remote_rows(source, wdb, "SELECT count(*) FROM {s}.items") == [(0,)]
    assert execute(wdb, "SELECT count(*) FROM w.items") == [(0,)]


def test_commit_reaches_remote(wdb, source):
    execute(wdb, "BEGIN")
    execute(wdb, "INSERT INTO w.items (name) VALUES ('a')")
    execute(wdb, "UPDATE w.items SET qty = 1")
    execute(wdb, "COMMIT")
    assert remote_rows(source, wdb, "SELECT name, qty FROM {s}.items") == [("a", 1)]


def test_savepoints(wdb, source):
    execute(wdb, "BEGIN")
    execute(wdb, "INSERT INTO w.items (name) VALUES ('a')")
    execute(wdb, "SAVEPOINT one")
    execute(wdb, "INSERT INTO w.items (name) VALUES ('b')")
    execute(wdb, "SAVEPOINT two")
    execute(wdb, "INSERT INTO w.items (name) VALUES ('c')")
    execute(wdb, "RELEASE SAVEPOINT two")
    execute(wdb, "ROLLBACK TO SAVEPOINT one")          # b and c go
    execute(wdb, "INSERT INTO w.items (name) VALUES ('d')")
    execute(wdb, "SAVEPOINT three")
    execute(wdb, "INSERT INTO w.items (name) VALUES ('e')")
    execute(wdb, "RELEASE SAVEPOINT three")             # e stays
    execute(wdb, "SAVEPOINT four")                      # unused: nothing to send
    execute(wdb, "ROLLBACK TO SAVEPOINT four")
    execute(wdb, "COMMIT")
    assert remote_rows(source, wdb, "SELECT name FROM {s}.items ORDER BY name") == [
        ("a",), ("d",), ("e",)]


def test_remote_error_inside_savepoint(wdb, source):
    execute(wdb, "BEGIN")
    execute(wdb, "INSERT INTO w.items (id, name) VALUES (1, 'a')")
    execute(wdb, "SAVEPOINT s")
    error = error_of(wdb, "INSERT INTO w.items (id, name) VALUES (1, 'dup')")
    assert error.pgcode == "23505", error_text(error)
    execute(wdb, "ROLLBACK TO SAVEPOINT s")
    execute(wdb, "INSERT INTO w.items (id, name) VALUES (2, 'b')")
    assert execute(wdb, "SELECT id FROM w.items ORDER BY id") == [(1,), (2,)]
    execute(wdb, "COMMIT")
    assert remote_rows(source, wdb, "SELECT id, name FROM {s}.items ORDER BY id") == [
        (1, "a"), (2, "b")]


def test_plpgsql_exception_block(wdb, source):
    # A subtransaction the bridge sees through the xact callbacks, not SQL savepoints.
    execute(wdb, """
        DO $$
        BEGIN
            INSERT INTO w.items (id, name) VALUES (1, 'kept');
            BEGIN
                INSERT INTO w.items (id, name) VALUES (2, 'undone');
                INSERT INTO w.items (id, name) VALUES (1, 'dup');
            EXCEPTION WHEN unique_violation THEN
                INSERT INTO w.items (id, name) VALUES (3, 'after');
            END;
        END $$""")
    assert remote_rows(source, wdb, "SELECT id, name FROM {s}.items ORDER BY id") == [
        (1, "kept"), (3, "after")]


def test_remote_commit_failure_fails_local_commit(wdb, source):
    execute(wdb, "CREATE TABLE local_log (note text)")
    execute(wdb, "BEGIN")
    execute(wdb, "INSERT INTO local_log VALUES ('local')")
    execute(wdb, "INSERT INTO w.uniq VALUES (1, 'x'), (2, 'x')")   # deferred: fails at COMMIT
    error = error_of(wdb, "COMMIT")
    assert error.pgcode == "23505", error_text(error)
    assert_usable(wdb)
    assert execute(wdb, "SELECT count(*) FROM local_log") == [(0,)]   # rolled back too
    assert remote_rows(source, wdb, "SELECT count(*) FROM {s}.uniq") == [(0,)]
    execute(wdb, "INSERT INTO w.uniq VALUES (1, 'x')")
    assert remote_rows(source, wdb, "SELECT count(*) FROM {s}.uniq") == [(1,)]


def test_error_after_remote_write_rolls_back_both(wdb, source):
    execute(wdb, "BEGIN")
    execute(wdb, "INSERT INTO w.items (name) VALUES ('a')")
    error_of(wdb, "SELECT 1 / 0")
    execute(wdb, "ROLLBACK")
    assert remote_rows(source, wdb, "SELECT count(*) FROM {s}.items") == [(0,)]


def test_scans_of_two_tables_share_the_remote_transaction(wdb, source):
    execute(wdb, f"CREATE FOREIGN TABLE w.ident_too (id int, v text) SERVER rsrv "
                 f"OPTIONS (schema_name '{wdb.schema}', table_name 'ident')")
    execute(wdb, "BEGIN")
    execute(wdb, "INSERT INTO w.ident (v) VALUES ('x')")
    # Another foreign table of the same server sees the uncommitted row: same remote
    # session and transaction.
    assert execute(wdb, "SELECT v FROM w.ident_too") == [("x",)]
    assert remote_rows(source, wdb, "SELECT count(*) FROM {s}.ident") == [(0,)]
    execute(wdb, "COMMIT")
    assert remote_rows(source, wdb, "SELECT count(*) FROM {s}.ident") == [(1,)]
