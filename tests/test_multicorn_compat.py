"""Behaviours unmodified Multicorn2 3.2 FDWs rely on (issue 9), each checked against
what Multicorn2 does; helper FDWs in tests/fdws/compat.py, recording.py and memory.py."""

from __future__ import annotations

import pytest

from fdwtest import Recorder, assert_same, assert_usable, create_people, error_of, execute
from memtest import memory_table, rows_of, setup_memory


# ---------------------------------------------------------------- rowid_column None

@pytest.mark.parametrize("statement", [
    "INSERT INTO nokey VALUES (9, 'x')",
    "INSERT INTO nokey SELECT g, 'x' FROM generate_series(1, 3) g",
    "COPY nokey FROM PROGRAM 'echo 9,x' (FORMAT csv)",
    "UPDATE nokey SET v = 'x'",
    "DELETE FROM nokey",
])
def test_rowid_column_none_refuses_every_write(db, statement):
    # Multicorn2: getRowIdColumn() errors "This FDW does not support the writable API"
    # when rowid_column is None, before any row reaches insert().
    hooks = setup_memory(db)
    execute(db, "CREATE SERVER nokey_srv FOREIGN DATA WRAPPER sgfdw"
                " OPTIONS (wrapper 'compat.NoKeyMemoryFdw')")
    memory_table(db, "nokey", server="nokey_srv")
    hooks.clear()
    error = error_of(db, statement)
    assert error.pgcode == "0A000", error.pgerror
    assert "does not support the writable API" in error.diag.message_primary
    assert '"nokey"' in error.diag.message_primary
    assert [c for c in hooks.calls("nokey") if c not in ("begin(False)", "rollback")] == []
    assert rows_of(db, "nokey") == []
    assert_usable(db)


def test_insert_only_class_without_rowid_column_still_inserts(db):
    # Not a Multicorn behaviour (its base rowid_column raises there too), but sgfdw's
    # insert-only classes keep working: only None means read-only.
    setup_memory(db)
    memory_table(db, "ins", server="mem_ins")
    execute(db, "INSERT INTO ins VALUES (1, 'a')")
    assert rows_of(db, "ins") == [(1, "a")]


# ---------------------------------------------------------------- SortKey.collate

@pytest.mark.parametrize("order, collate", [
    ("name", None),
    ('name COLLATE "default"', None),
    ('name COLLATE "C"', "C"),
    ('name COLLATE "POSIX" DESC', "POSIX"),
])
def test_sortkey_collate_only_for_a_named_collation(db, order, collate):
    # Multicorn2 passes collate=None for the default collation (an FDW building
    # `ORDER BY ... COLLATE <collate>` from it must not send COLLATE "default").
    create_people(db, can_sort="true")
    rec = Recorder(db)
    assert_same(db, f"SELECT name FROM {{t}} WHERE name IS NOT NULL ORDER BY {order}")
    (key,) = rec.one_execute()["sortkeys"]
    assert key[0] == "name" and key[4] == collate


# ---------------------------------------------------------------- boolean tests

@pytest.mark.parametrize("test, qual", [
    ("active IS TRUE", ("active", "IS", True)),
    ("active IS NOT TRUE", ("active", "IS NOT", True)),
    ("active IS FALSE", ("active", "IS", False)),
    ("active IS NOT FALSE", ("active", "IS NOT", False)),
    ("active IS UNKNOWN", ("active", "IS", None)),
    ("active IS NOT UNKNOWN", ("active", "IS NOT", None)),
])
def test_boolean_tests_are_quals(db, test, qual):
    # Multicorn2 (extractClauseFromBooleanTest) passes these as 'IS' / 'IS NOT' quals.
    create_people(db)
    rec = Recorder(db)
    assert_same(db, f"SELECT * FROM {{t}} WHERE {test}")
    assert rec.one_execute()["quals"] == [qual]
    rec.clear()
    execute(db, f"EXPLAIN SELECT * FROM people WHERE {test}")
    assert rec.calls("get_rel_size")[0]["quals"] == [qual]
