"""Transaction and subtransaction callbacks (begin, pre_commit, commit, rollback,
sub_begin, sub_commit, sub_rollback) with the in-memory FDW of tests/fdws/memory.py,
whose snapshots make rolled-back writes really disappear.

The order for each instance a transaction used is documented at the top of src/xact.c.
Hook lists are read before the data is: a scan is itself a use of the table (begin,
execute, pre_commit, commit)."""

from __future__ import annotations

import pytest

from memtest import assert_usable, error_of, execute, memory_table, rows_of, setup_memory

# What an autocommit SELECT of a table adds to its hook list.
SCAN = ["begin(False)", "execute", "pre_commit", "commit"]


@pytest.fixture
def hooks(db):
    hooks = setup_memory(db)
    memory_table(db, "t", fail_value="boom")
    execute(db, "INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    hooks.clear()
    return hooks


def test_autocommit_insert(db, hooks):
    execute(db, "INSERT INTO t VALUES (3, 'c')")
    assert hooks.take("t") == ["begin(False)", "insert", "end_modify", "pre_commit", "commit"]
    assert rows_of(db, "t") == [(1, "a"), (2, "b"), (3, "c")]
    assert hooks.take("t") == SCAN


def test_autocommit_update_and_delete(db, hooks):
    execute(db, "UPDATE t SET v = 'x' WHERE id = 1")
    assert hooks.take("t") == [
        "begin(False)", "execute", "update", "end_modify", "pre_commit", "commit"]
    execute(db, "DELETE FROM t WHERE id = 2")
    assert hooks.take("t") == [
        "begin(False)", "execute", "delete", "end_modify", "pre_commit", "commit"]
    assert rows_of(db, "t") == [(1, "x")]


def test_transaction_with_several_statements_begins_once(db, hooks):
    execute(db, "BEGIN")
    execute(db, "INSERT INTO t VALUES (3, 'c')")
    execute(db, "UPDATE t SET v = 'B' WHERE id = 2")
    assert rows_of(db, "t") == [(1, "a"), (2, "B"), (3, "c")]
    execute(db, "DELETE FROM t WHERE id = 1")
    # before COMMIT: no pre_commit yet
    assert hooks.calls("t") == [
        "begin(False)", "insert", "end_modify", "execute", "update", "end_modify", "execute",
        "execute", "delete", "end_modify"]
    execute(db, "COMMIT")
    assert hooks.take("t") == [
        "begin(False)", "insert", "end_modify", "execute", "update", "end_modify", "execute",
        "execute", "delete", "end_modify", "pre_commit", "commit"]
    assert rows_of(db, "t") == [(2, "B"), (3, "c")]


def test_rollback_restores_the_data(db, hooks):
    execute(db, "BEGIN")
    execute(db, "INSERT INTO t VALUES (3, 'c')")
    execute(db, "UPDATE t SET v = 'A' WHERE id = 1")
    execute(db, "DELETE FROM t WHERE id = 2")
    assert rows_of(db, "t") == [(1, "A"), (3, "c")]
    execute(db, "ROLLBACK")
    assert hooks.take("t", scans=False) == [
        "begin(False)", "insert", "end_modify", "update", "end_modify", "delete", "end_modify",
        "rollback"]
    assert rows_of(db, "t") == [(1, "a"), (2, "b")]


def test_savepoint_release(db, hooks):
    execute(db, "BEGIN")
    execute(db, "INSERT INTO t VALUES (3, 'c')")
    execute(db, "SAVEPOINT s")
    execute(db, "INSERT INTO t VALUES (4, 'd')")
    execute(db, "RELEASE SAVEPOINT s")
    execute(db, "INSERT INTO t VALUES (5, 'e')")
    execute(db, "COMMIT")
    assert hooks.take("t") == [
        "begin(False)", "insert", "end_modify",
        "sub_begin(2)", "insert", "end_modify", "sub_commit(2)",
        "insert", "end_modify", "pre_commit", "commit"]
    assert rows_of(db, "t") == [(1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "e")]


def test_rollback_to_savepoint_restores_its_data_and_keeps_the_outer_writes(db, hooks):
    execute(db, "BEGIN")
    execute(db, "INSERT INTO t VALUES (3, 'c')")
    execute(db, "UPDATE t SET v = 'A' WHERE id = 1")
    execute(db, "SAVEPOINT s")
    execute(db, "INSERT INTO t VALUES (4, 'd')")
    execute(db, "UPDATE t SET v = 'AA' WHERE id = 1")
    execute(db, "DELETE FROM t WHERE id = 2")
    assert rows_of(db, "t") == [(1, "AA"), (3, "c"), (4, "d")]
    execute(db, "ROLLBACK TO SAVEPOINT s")
    assert rows_of(db, "t") == [(1, "A"), (2, "b"), (3, "c")]
    # the savepoint is still there and can be used again
    execute(db, "INSERT INTO t VALUES (5, 'e')")
    execute(db, "ROLLBACK TO SAVEPOINT s")
    execute(db, "INSERT INTO t VALUES (6, 'f')")
    execute(db, "COMMIT")
    assert hooks.take("t", scans=False) == [
        "begin(False)", "insert", "end_modify", "update", "end_modify",
        "sub_begin(2)", "insert", "end_modify", "update", "end_modify", "delete",
        "end_modify", "sub_rollback(2)",
        "sub_begin(2)", "insert", "end_modify", "sub_rollback(2)",
        "sub_begin(2)", "insert", "end_modify", "sub_commit(2)",
        "pre_commit", "commit"]
    assert rows_of(db, "t") == [(1, "A"), (2, "b"), (3, "c"), (6, "f")]


def test_python_error_inside_a_savepoint_then_rollback_to(db, hooks):
    execute(db, "BEGIN")
    execute(db, "INSERT INTO t VALUES (3, 'c')")
    execute(db, "SAVEPOINT s")
    execute(db, "INSERT INTO t VALUES (4, 'd')")
    error = error_of(db, "INSERT INTO t VALUES (5, 'e'), (6, 'boom')")
    assert error.pgcode == "HV000"
    execute(db, "ROLLBACK TO SAVEPOINT s")
    assert rows_of(db, "t") == [(1, "a"), (2, "b"), (3, "c")]
    execute(db, "INSERT INTO t VALUES (7, 'g')")
    execute(db, "COMMIT")
    assert hooks.take("t", scans=False) == [
        "begin(False)", "insert", "end_modify",
        "sub_begin(2)", "insert", "end_modify", "insert", "insert", "sub_rollback(2)",
        "sub_begin(2)", "insert", "end_modify", "sub_commit(2)",
        "pre_commit", "commit"]
    assert rows_of(db, "t") == [(1, "a"), (2, "b"), (3, "c"), (7, "g")]
    assert_usable(db)


def test_sql_error_inside_a_savepoint_then_rollback_to(db, hooks):
    execute(db, "BEGIN")
    execute(db, "SAVEPOINT s")
    execute(db, "UPDATE t SET v = 'changed'")
    assert error_of(db, "SELECT 1 / 0").pgcode == "22012"
    execute(db, "ROLLBACK TO SAVEPOINT s")
    execute(db, "COMMIT")
    assert hooks.take("t", scans=False) == [
        "begin(False)", "sub_begin(2)", "update", "update", "end_modify", "sub_rollback(2)",
        "pre_commit", "commit"]
    assert rows_of(db, "t") == [(1, "a"), (2, "b")]


PLPGSQL = """
CREATE FUNCTION write_and_fail(inner_first boolean) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  IF NOT inner_first THEN
    INSERT INTO t VALUES (10, 'outer');
  END IF;
  BEGIN
    INSERT INTO t VALUES (11, 'inner');
    UPDATE t SET v = 'inner' WHERE id = 1;
    RAISE EXCEPTION 'after the write';
  EXCEPTION WHEN raise_exception THEN
    INSERT INTO t VALUES (12, 'handler');
    RETURN 'caught';
  END;
END $$;
"""


def test_plpgsql_exception_block_rolls_back_its_writes(db, hooks):
    execute(db, PLPGSQL)
    assert execute(db, "SELECT write_and_fail(false)") == [("caught",)]
    assert hooks.take("t", scans=False) == [
        "begin(False)", "insert", "end_modify",
        "sub_begin(2)", "insert", "end_modify", "update", "end_modify", "sub_rollback(2)",
        "insert", "end_modify", "pre_commit", "commit"]
    assert rows_of(db, "t") == [(1, "a"), (2, "b"), (10, "outer"), (12, "handler")]


def test_plpgsql_exception_block_first_use_inside_the_block(db, hooks):
    execute(db, PLPGSQL)
    assert execute(db, "SELECT write_and_fail(true)") == [("caught",)]
    assert hooks.take("t", scans=False) == [
        "begin(False)", "sub_begin(2)", "insert", "end_modify", "update", "end_modify",
        "sub_rollback(2)", "insert", "end_modify", "pre_commit", "commit"]
    assert rows_of(db, "t") == [(1, "a"), (2, "b"), (12, "handler")]


def test_plpgsql_exception_block_catching_a_python_error(db, hooks):
    execute(db, """
        CREATE FUNCTION catch_fdw_error() RETURNS text LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO t VALUES (10, 'outer');
          BEGIN
            INSERT INTO t VALUES (11, 'x'), (12, 'boom');
          EXCEPTION WHEN fdw_error THEN
            RETURN SQLERRM;
          END;
        END $$""")
    [(message,)] = execute(db, "SELECT catch_fdw_error()")
    assert "refuses v = 'boom'" in message
    assert rows_of(db, "t") == [(1, "a"), (2, "b"), (10, "outer")]


def test_two_levels_of_savepoints(db, hooks):
    execute(db, "BEGIN")
    execute(db, "INSERT INTO t VALUES (3, 'c')")
    execute(db, "SAVEPOINT s1")
    execute(db, "INSERT INTO t VALUES (4, 'd')")
    execute(db, "SAVEPOINT s2")
    execute(db, "INSERT INTO t VALUES (5, 'e')")
    execute(db, "RELEASE SAVEPOINT s2")
    assert rows_of(db, "t") == [(1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "e")]
    execute(db, "ROLLBACK TO SAVEPOINT s1")
    execute(db, "COMMIT")
    assert hooks.take("t", scans=False) == [
        "begin(False)", "insert", "end_modify",
        "sub_begin(2)", "insert", "end_modify",
        "sub_begin(3)", "insert", "end_modify", "sub_commit(3)",
        "sub_rollback(2)", "pre_commit", "commit"]
    assert rows_of(db, "t") == [(1, "a"), (2, "b"), (3, "c")]


def test_two_levels_inner_rollback_outer_release(db, hooks):
    execute(db, "BEGIN")
    execute(db, "SAVEPOINT s1")
    execute(db, "INSERT INTO t VALUES (3, 'c')")
    execute(db, "SAVEPOINT s2")
    execute(db, "DELETE FROM t")
    execute(db, "ROLLBACK TO SAVEPOINT s2")
    execute(db, "RELEASE SAVEPOINT s1")
    execute(db, "COMMIT")
    assert hooks.take("t", scans=False) == [
        "begin(False)", "sub_begin(2)", "insert", "end_modify",
        "sub_begin(3)", "delete", "delete", "delete", "end_modify", "sub_rollback(3)",
        "sub_commit(2)", "pre_commit", "commit"]
    assert rows_of(db, "t") == [(1, "a"), (2, "b"), (3, "c")]


def test_rollback_of_the_transaction_under_open_savepoints(db, hooks):
    execute(db, "BEGIN")
    execute(db, "INSERT INTO t VALUES (3, 'c')")
    execute(db, "SAVEPOINT s1")
    execute(db, "INSERT INTO t VALUES (4, 'd')")
    execute(db, "SAVEPOINT s2")
    execute(db, "INSERT INTO t VALUES (5, 'e')")
    execute(db, "ROLLBACK")
    # the open levels roll back innermost first, then the transaction
    assert hooks.take("t", scans=False) == [
        "begin(False)", "insert", "end_modify", "sub_begin(2)", "insert", "end_modify",
        "sub_begin(3)", "insert", "end_modify", "sub_rollback(3)", "sub_rollback(2)",
        "rollback"]
    assert rows_of(db, "t") == [(1, "a"), (2, "b")]


def test_first_use_inside_a_savepoint(db, hooks):
    execute(db, "BEGIN")
    execute(db, "SAVEPOINT s1")
    execute(db, "SAVEPOINT s2")
    execute(db, "INSERT INTO t VALUES (3, 'c')")
    assert hooks.calls("t") == [
        "begin(False)", "sub_begin(2)", "sub_begin(3)", "insert", "end_modify"]
    execute(db, "RELEASE SAVEPOINT s2")
    execute(db, "ROLLBACK TO SAVEPOINT s1")
    execute(db, "COMMIT")
    assert hooks.take("t") == [
        "begin(False)", "sub_begin(2)", "sub_begin(3)", "insert", "end_modify",
        "sub_commit(3)", "sub_rollback(2)", "pre_commit", "commit"]
    assert rows_of(db, "t") == [(1, "a"), (2, "b")]


def test_first_use_inside_a_savepoint_by_a_scan(db, hooks):
    execute(db, "BEGIN")
    execute(db, "SAVEPOINT s")
    assert rows_of(db, "t") == [(1, "a"), (2, "b")]
    execute(db, "RELEASE SAVEPOINT s")
    execute(db, "COMMIT")
    assert hooks.take("t") == [
        "begin(False)", "sub_begin(2)", "execute", "sub_commit(2)", "pre_commit", "commit"]


def test_untouched_instances_get_no_calls(db, hooks):
    memory_table(db, "other")
    execute(db, "INSERT INTO other VALUES (1, 'x')")
    hooks.clear()
    execute(db, "BEGIN")
    execute(db, "INSERT INTO t VALUES (3, 'c')")
    execute(db, "SAVEPOINT s")
    execute(db, "SELECT 1")
    execute(db, "RELEASE SAVEPOINT s")
    execute(db, "SAVEPOINT s")
    execute(db, "ROLLBACK TO SAVEPOINT s")
    execute(db, "COMMIT")
    execute(db, "BEGIN")
    execute(db, "UPDATE t SET v = 'z' WHERE id = 3")
    execute(db, "ROLLBACK")
    assert hooks.calls("other") == []
    # savepoints t was not used in give it no sub_* calls either
    assert hooks.take("t", scans=False) == [
        "begin(False)", "insert", "end_modify", "pre_commit", "commit",
        "begin(False)", "update", "end_modify", "rollback"]
    # a transaction using no foreign table at all
    execute(db, "BEGIN")
    execute(db, "CREATE TABLE local (x int)")
    execute(db, "INSERT INTO local VALUES (1)")
    execute(db, "COMMIT")
    assert hooks.entries() == []
    assert rows_of(db, "t") == [(1, "a"), (2, "b"), (3, "c")]


def test_two_tables_in_one_transaction(db, hooks):
    memory_table(db, "other")
    hooks.clear()
    execute(db, "BEGIN")
    execute(db, "INSERT INTO t VALUES (3, 'c')")
    execute(db, "SAVEPOINT s")
    execute(db, "INSERT INTO other VALUES (1, 'x')")
    execute(db, "ROLLBACK TO SAVEPOINT s")
    execute(db, "INSERT INTO other VALUES (2, 'y')")
    execute(db, "COMMIT")
    assert hooks.calls("t") == [
        "begin(False)", "insert", "end_modify", "pre_commit", "commit"]
    assert hooks.take("other") == [
        "begin(False)", "sub_begin(2)", "insert", "end_modify", "sub_rollback(2)",
        "sub_begin(2)", "insert", "end_modify", "sub_commit(2)", "pre_commit", "commit"]
    assert rows_of(db, "other") == [(2, "y")]
    assert rows_of(db, "t") == [(1, "a"), (2, "b"), (3, "c")]


@pytest.mark.parametrize("isolation, serializable", [
    ("SERIALIZABLE", True), ("REPEATABLE READ", False), ("READ COMMITTED", False)])
def test_isolation_level_reaches_begin(db, hooks, isolation, serializable):
    execute(db, f"BEGIN ISOLATION LEVEL {isolation}")
    execute(db, "INSERT INTO t VALUES (3, 'c')")
    execute(db, "COMMIT")
    assert hooks.take("t") == [
        f"begin({serializable})", "insert", "end_modify", "pre_commit", "commit"]


def test_serializable_by_default_transaction_isolation(db, hooks):
    execute(db, "SET default_transaction_isolation = 'serializable'")
    execute(db, "INSERT INTO t VALUES (3, 'c')")
    assert hooks.take("t") == [
        "begin(True)", "insert", "end_modify", "pre_commit", "commit"]


def test_failing_pre_commit(db, hooks):
    # Two tables over the same store: `strict` fails its pre_commit, `t` shows the data.
    memory_table(db, "strict", store="t", fail_pre_commit="true")
    execute(db, "BEGIN")
    execute(db, "INSERT INTO strict VALUES (3, 'c')")
    execute(db, "UPDATE strict SET v = 'A' WHERE id = 1")
    error = error_of(db, "COMMIT")
    assert error.pgcode == "HV000", error.pgerror
    assert "refuses to commit" in error.diag.message_primary
    assert error.diag.message_hint == "The table has the option fail_pre_commit."
    assert_usable(db)
    assert hooks.take("t", scans=False) == [
        "begin(False)", "insert", "end_modify", "update", "end_modify", "pre_commit",
        "rollback"]
    assert rows_of(db, "t") == [(1, "a"), (2, "b")]


def test_failing_pre_commit_in_autocommit(db, hooks):
    memory_table(db, "strict", store="t", fail_pre_commit="true")
    error = error_of(db, "INSERT INTO strict VALUES (3, 'c')")
    assert error.pgcode == "HV000", error.pgerror
    assert_usable(db)
    assert hooks.take("t") == ["begin(False)", "insert", "end_modify", "pre_commit",
                               "rollback"]
    assert rows_of(db, "t") == [(1, "a"), (2, "b")]


def test_failing_pre_commit_rolls_back_the_other_tables_too(db, hooks):
    memory_table(db, "strict", store="s", fail_pre_commit="true")
    execute(db, "BEGIN")
    execute(db, "INSERT INTO t VALUES (3, 'c')")
    execute(db, "INSERT INTO strict VALUES (1, 'x')")
    assert error_of(db, "COMMIT").pgcode == "HV000"
    assert_usable(db)
    t_calls = hooks.calls("t")
    assert t_calls[:3] == ["begin(False)", "insert", "end_modify"]
    assert t_calls[-1] == "rollback" and "commit" not in t_calls
    assert hooks.take("s") == [
        "begin(False)", "insert", "end_modify", "pre_commit", "rollback"]
    assert rows_of(db, "t") == [(1, "a"), (2, "b")]


def test_prepare_transaction_is_refused(db, hooks):
    execute(db, "BEGIN")
    execute(db, "INSERT INTO t VALUES (3, 'c')")
    error = error_of(db, "PREPARE TRANSACTION 'sgfdw_test'")
    assert error.pgcode == "0A000", error.pgerror
    assert "PREPARE" in error.diag.message_primary
    assert "sgfdw" in error.diag.message_primary
    assert_usable(db)
    assert hooks.take("t") == ["begin(False)", "insert", "end_modify", "rollback"]
    assert rows_of(db, "t") == [(1, "a"), (2, "b")]
    assert execute(db, "SELECT count(*) FROM pg_prepared_xacts") == [(0,)]


def test_session_keeps_working_after_many_transactions(db, hooks):
    # Snapshots and the bridge's list of touched instances are reset every time.
    for i in range(3, 8):
        execute(db, "BEGIN")
        execute(db, "SAVEPOINT s")
        execute(db, f"INSERT INTO t VALUES ({i}, 'v{i}')")
        if i % 2:
            execute(db, "RELEASE SAVEPOINT s")
            execute(db, "COMMIT")
        else:
            execute(db, "ROLLBACK TO SAVEPOINT s")
            execute(db, "ROLLBACK")
    assert rows_of(db, "t") == [(1, "a"), (2, "b"), (3, "v3"), (5, "v5"), (7, "v7")]
