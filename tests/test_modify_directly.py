"""UPDATE/DELETE run by the FDW itself (can_modify_directly, modify_directly): the
count or the rows RETURNING reads come from it, the transaction is joined first, a
wrong answer is a clear error. (PostgresFdw's, against postgres_fdw:
tests/postgres/test_postgres_modify_directly.py.)"""

from __future__ import annotations

import pytest
from memtest import assert_usable, error_of, execute, memory_table, rows_of, setup_memory


@pytest.fixture
def direct(db):
    hooks = setup_memory(db)
    execute(db, "CREATE SERVER mem_direct FOREIGN DATA WRAPPER sgfdw "
                "OPTIONS (wrapper 'directmemory.DirectMemoryFdw')")
    memory_table(db, "t", server="mem_direct")
    execute(db, "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'b')")
    hooks.clear()
    return hooks


def plan(db, query: str) -> str:
    return "\n".join(r[0] for r in execute(db, "EXPLAIN (VERBOSE, COSTS OFF) " + query))


def test_update_and_delete_run_by_the_fdw(db, direct):
    lines = plan(db, "UPDATE t SET v = 'x' WHERE v = 'b' RETURNING id, v || '!'")
    assert "Foreign Update on public.t" in lines
    assert "update ['v'] returning ('id', 'v')" in lines, lines
    with db.cursor() as cur:
        cur.execute("UPDATE t SET v = 'x' WHERE v = 'b'")
        assert cur.rowcount == 2
    assert rows_of(db, "t") == [(1, "a"), (2, "x"), (3, "x")]
    assert sorted(execute(db, "UPDATE t SET v = %s WHERE v = 'x' RETURNING id, v || '!'",
                          ("y",))) == [(2, "y!"), (3, "y!")]
    assert execute(db, "DELETE FROM t WHERE id = 2 RETURNING *") == [(2, "y")]
    assert rows_of(db, "t") == [(1, "a"), (3, "y")]
    calls = direct.calls("t")
    assert calls.count("modify_directly") == 3 and "update" not in calls
    # begin() came first: a rollback undoes the modification.
    db.autocommit = False
    execute(db, "DELETE FROM t WHERE id = 1")
    db.rollback()
    db.autocommit = True
    assert rows_of(db, "t") == [(1, "a"), (3, "y")]
    # What it does not accept runs row by row.
    assert "Foreign Update" not in plan(db, "UPDATE t SET v = v || '?' WHERE id = 1")
    execute(db, "UPDATE t SET v = v || '?' WHERE id = 1")
    assert rows_of(db, "t") == [(1, "a?"), (3, "y")]


def test_wrong_answers(db, direct):
    execute(db, "ALTER SERVER mem_direct OPTIONS (ADD answer 'bad')")
    for query in ("UPDATE t SET v = 'x' WHERE id = 1",
                  "UPDATE t SET v = 'x' WHERE id = 1 RETURNING v"):
        error = error_of(db, query)
        assert error.pgcode == "HV004", error
        assert "modify_directly()" in str(error), error
        assert_usable(db)


def test_a_comparison_with_a_null_parameter_modifies_no_row(db, direct):
    """A Qual of value None means IS NULL to the FDW, and nothing rechecks the rows a
    direct modification touches: `v = $1` with $1 NULL must reach it as no row."""
    execute(db, "INSERT INTO t VALUES (4, NULL)")
    execute(db, "SET plan_cache_mode = force_generic_plan")
    execute(db, "PREPARE gone(text) AS DELETE FROM t WHERE v = $1 RETURNING id")
    assert "Foreign Delete" in plan(db, "EXECUTE gone(NULL)")
    assert execute(db, "EXECUTE gone(NULL)") == []
    assert execute(db, "EXECUTE gone('a')") == [(1,)]
    assert rows_of(db, "t") == [(2, "b"), (3, "b"), (4, None)]
    # jsonb's null is a value (None in Python too), not SQL NULL: it stays a comparison
    # (the memory FDW itself keeps both as None, so it deletes both rows).
    memory_table(db, "j", "id int, v jsonb", server="mem_direct")
    execute(db, "INSERT INTO j VALUES (1, 'null'), (2, NULL), (3, '1')")
    execute(db, "PREPARE gone_json(jsonb) AS DELETE FROM j WHERE v = $1 RETURNING id")
    assert execute(db, "EXECUTE gone_json(NULL)") == []
    assert (1,) in execute(db, "EXECUTE gone_json('null')")
