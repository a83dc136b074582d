"""Row-by-row UPDATE sends only the columns the statement sets (the bridge's
update_set_columns_only), as postgres_fdw does: with postgres_fdw over a twin remote
table as the oracle, for a remote column grant, a remote ``UPDATE OF`` trigger, a local
BEFORE ROW trigger (every column is then sent) and a local generated column (sent with
the column it is computed from); EXPLAIN VERBOSE shows the remote statement.
(Direct modification, which sets only its columns too: test_postgres_modify_directly.)"""
from __future__ import annotations

import pytest

from pgfdw_helpers import assert_usable, error_of, execute, explain
from twins import twin_schemas

TABLES_SQL = """
CREATE SCHEMA {s};
CREATE TABLE {s}.m (id integer PRIMARY KEY, f integer, t text, h text);
INSERT INTO {s}.m SELECT x, x % 4, 't' || x, 'h' || x FROM generate_series(1, 30) x;
CREATE TABLE {s}.gen (id integer PRIMARY KEY, a integer, b integer);
INSERT INTO {s}.gen SELECT x, x, 0 FROM generate_series(1, 5) x;
CREATE FUNCTION {s}.mark() RETURNS trigger LANGUAGE plpgsql AS
    $$BEGIN NEW.h := 'fired'; RETURN NEW; END$$;
"""

# Volatile plpgsql: never pushed, so each statement runs row by row in both FDWs.
LOCAL_FUNCTIONS = """
CREATE FUNCTION public.bang(text) RETURNS text LANGUAGE plpgsql VOLATILE
    AS 'BEGIN RETURN $1 || ''!''; END';
CREATE FUNCTION public.inc(integer) RETURNS integer LANGUAGE plpgsql VOLATILE
    AS 'BEGIN RETURN $1 + 1; END';
"""

ROW_BY_ROW = [
    "UPDATE {t}m SET t = bang(t) WHERE id < 5",
    "UPDATE {t}m SET t = bang(h), f = inc(f) WHERE f = 2 RETURNING *",
    "UPDATE {t}m SET h = NULL, t = bang(t) WHERE id > 25 RETURNING id, t, h",
]


@pytest.fixture
def twins(fdb, remote, source):
    execute(fdb, LOCAL_FUNCTIONS)
    with twin_schemas(fdb, remote, source, TABLES_SQL, "uc") as twins:
        yield twins


def plan(db, query: str) -> str:
    lines = "\n".join(explain(db, query.replace("{t}", "s.")))
    assert "Foreign Update on s." not in lines, lines
    return lines


def test_only_the_set_columns_are_sent(twins):
    for query in ROW_BY_ROW:
        plan(twins.db, query)
        twins.both(query)
    table = f'"{twins.a}"."m"'
    lines = plan(twins.db, "UPDATE {t}m SET t = bang(t), f = inc(f) WHERE id < 5")
    assert f'Remote SQL: UPDATE {table} SET "f" = $1, "t" = $2 WHERE "id" = $3' in lines, \
        lines


def test_a_remote_column_grant_suffices(twins, source):
    execute(source, "DROP ROLE IF EXISTS uc_writer")
    execute(source, "CREATE ROLE uc_writer LOGIN")
    execute(source, f"GRANT USAGE ON SCHEMA {twins.a} TO uc_writer")
    execute(source, f"GRANT SELECT, UPDATE (t) ON {twins.a}.m TO uc_writer")
    execute(twins.db, "ALTER USER MAPPING FOR CURRENT_USER SERVER rsrv "
                      "OPTIONS (SET user 'uc_writer')")
    try:
        query = "UPDATE s.m SET t = bang(t) WHERE id = 4 RETURNING id, t, h"
        plan(twins.db, query)
        assert execute(twins.db, query) == [(4, "t4!", "h4")]
        error = error_of(twins.db, "UPDATE s.m SET h = bang(h) WHERE id = 4")
        assert error.pgcode == "42501", error
        assert_usable(twins.db)
    finally:
        execute(twins.db, "ALTER USER MAPPING FOR CURRENT_USER SERVER rsrv "
                          "OPTIONS (SET user 'postgres')")
        execute(source, f"REVOKE ALL ON {twins.a}.m FROM uc_writer")
        execute(source, f"REVOKE ALL ON SCHEMA {twins.a} FROM uc_writer")
    assert execute(source, f"SELECT t, h FROM {twins.a}.m WHERE id = 4") == [("t4!", "h4")]


def test_a_remote_update_of_trigger_fires_only_for_its_column(twins, source):
    for schema in (twins.a, twins.b):
        execute(source, f"CREATE TRIGGER mark BEFORE UPDATE OF f ON {schema}.m "
                        f"FOR EACH ROW EXECUTE FUNCTION {schema}.mark()")
    assert twins.both("UPDATE {t}m SET t = bang(t) WHERE id < 4 RETURNING h") == \
        [("h1",), ("h2",), ("h3",)]
    assert twins.both("UPDATE {t}m SET f = inc(f) WHERE id < 3 RETURNING h") == \
        [("fired",), ("fired",)]


def test_a_local_before_row_trigger_gets_every_column_sent(twins):
    """The trigger may change a column the statement does not set."""
    execute(twins.db, "CREATE FUNCTION public.stamp() RETURNS trigger LANGUAGE plpgsql AS "
                      "$$BEGIN NEW.h := 'local'; RETURN NEW; END$$")
    for schema in ("s", "p"):
        execute(twins.db, f"CREATE TRIGGER stamp BEFORE UPDATE ON {schema}.m "
                          "FOR EACH ROW EXECUTE FUNCTION public.stamp()")
    query = "UPDATE {t}m SET t = bang(t) WHERE id < 3 RETURNING id, t, h"
    assert '"id" = $1, "f" = $2, "t" = $3, "h" = $4' in plan(twins.db, query)
    assert sorted(twins.both(query)) == [(1, "t1!", "local"), (2, "t2!", "local")]


def test_a_local_generated_column_is_sent_with_its_input(twins, source):
    """The value computed locally is written, as every column was before and as INSERT
    writes it (postgres_fdw sends DEFAULT instead, for a remote generated column)."""
    execute(twins.db, "CREATE FOREIGN TABLE s.g (id integer, a integer, "
                      "b integer GENERATED ALWAYS AS (a * 10) STORED) "
                      f"SERVER rsrv OPTIONS (schema_name '{twins.a}', table_name 'gen')")
    query = "UPDATE s.g SET a = inc(a) WHERE id < 3 RETURNING *"
    assert '"a" = $1, "b" = $2 WHERE' in plan(twins.db, query)
    assert execute(twins.db, query) == [(1, 2, 20), (2, 3, 30)]
    assert execute(source, f"SELECT * FROM {twins.a}.gen ORDER BY id") == \
        [(1, 2, 20), (2, 3, 30), (3, 3, 0), (4, 4, 0), (5, 5, 0)]


def test_a_foreign_partition_gets_only_the_set_columns(twins):
    """UPDATE through a local partitioned table: the partition's own set columns."""
    execute(twins.db, "CREATE TABLE public.parted (id integer, f integer, t text, h text) "
                      "PARTITION BY RANGE (id)")
    execute(twins.db, "CREATE TABLE public.parted_local PARTITION OF public.parted "
                      "FOR VALUES FROM (100) TO (200)")
    execute(twins.db, "ALTER TABLE public.parted ATTACH PARTITION s.m "
                      "FOR VALUES FROM (1) TO (100)")
    execute(twins.db, "INSERT INTO public.parted VALUES (150, 1, 'local', 'l')")
    query = "UPDATE public.parted SET t = bang(t) WHERE id IN (3, 150) RETURNING id, t, h"
    shown = "\n".join(explain(twins.db, query))
    assert f'UPDATE "{twins.a}"."m" SET "t" = $1 WHERE "id" = $2' in shown, shown
    assert sorted(execute(twins.db, query)) == [(3, "t3!", "h3"), (150, "local!", "l")]
