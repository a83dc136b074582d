"""Updatability as one hook: an FDW's ``updatable_operations()`` decides which of
INSERT, UPDATE, DELETE its table allows (PostgreSQL refuses the others before any row is
read, and information_schema says so); without the hook, the write methods a class
overrides decide (tests/test_write.py)."""

from __future__ import annotations

import pytest
from memtest import (
    assert_usable,
    error_of,
    execute,
    memory_table,
    rows_of,
    setup_memory,
)


@pytest.fixture
def hooks(db):
    hooks = setup_memory(db)
    execute(db, "CREATE SERVER mem_hook FOREIGN DATA WRAPPER sgfdw "
                "OPTIONS (wrapper 'updatable.HookedMemoryFdw')")
    return hooks


def test_hook_allows_only_what_it_names(db, hooks):
    memory_table(db, "t", server="mem_hook", allow="insert, delete")
    execute(db, "INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    hooks.clear()
    error = error_of(db, "UPDATE t SET v = 'x'")
    assert error.pgcode == "55000" and "does not allow updates" in error.diag.message_primary
    assert_usable(db)
    assert hooks.calls("t") == []          # refused before the FDW saw the statement
    execute(db, "DELETE FROM t WHERE id = 1")
    assert rows_of(db, "t") == [(2, "b")]
    assert execute(db, "SELECT is_insertable_into FROM information_schema.tables "
                       "WHERE table_name = 't'") == [("YES",)]
    assert execute(db, "SELECT DISTINCT is_updatable FROM information_schema.columns "
                       "WHERE table_name = 't'") == [("NO",)]


def test_hook_follows_the_table_options(db, hooks):
    memory_table(db, "t", server="mem_hook", allow="")
    for statement, verb in [("INSERT INTO t VALUES (1, 'a')", "inserts"),
                            ("UPDATE t SET v = 'x'", "updates"),
                            ("DELETE FROM t", "deletes")]:
        error = error_of(db, statement)
        assert error.pgcode == "55000", error.pgerror
        assert f"does not allow {verb}" in error.diag.message_primary
        assert_usable(db)
    # The instance is rebuilt when an option changes, and asked again.
    execute(db, "ALTER FOREIGN TABLE t OPTIONS (SET allow 'insert,update,delete')")
    execute(db, "INSERT INTO t VALUES (1, 'a')")
    execute(db, "UPDATE t SET v = 'b'")
    assert rows_of(db, "t") == [(1, "b")]
    assert execute(db, "SELECT is_insertable_into FROM information_schema.tables "
                       "WHERE table_name = 't'") == [("YES",)]
