"""UPDATE and DELETE run remotely as one statement (can_modify_directly /
modify_directly), with postgres_fdw over a twin remote table as the oracle: results,
row counts and the remote rows (at the same ctids) equal; EXPLAIN VERBOSE shows the
remote statement; what cannot be pushed runs row by row, still correctly; remote errors,
rollback and column privileges."""
from __future__ import annotations

import pytest

from pgfdw_helpers import assert_usable, error_of, execute, explain
from twins import twin_schemas

TABLES_SQL = """
CREATE SCHEMA {s};
CREATE TABLE {s}.m (id integer PRIMARY KEY, g integer, t text, h text, n numeric(10,2),
                    d date, CHECK (g IS NULL OR g < 1000));
INSERT INTO {s}.m
SELECT x, CASE WHEN x % 7 = 0 THEN NULL ELSE x % 5 END, 'x' || x,
       CASE WHEN x % 3 = 0 THEN NULL ELSE 'h' || x % 4 END, x * 1.25, date '2024-01-01' + x
FROM generate_series(1, 200) x;
CREATE TABLE {s}.other (id integer, k integer);
INSERT INTO {s}.other VALUES (1, 10), (2, 20), (3, 30);
"""

# plpgsql: not inlined into the expression it is called in.
LOCAL_FUNCTION = ("CREATE FUNCTION public.plus1(integer) RETURNS integer "
                  "LANGUAGE plpgsql IMMUTABLE AS 'BEGIN RETURN $1 + 1; END'")


@pytest.fixture
def twins(fdb, remote, source):
    execute(fdb, LOCAL_FUNCTION)
    with twin_schemas(fdb, remote, source, TABLES_SQL, "dm") as twins:
        yield twins


def plan(db, query: str) -> str:
    return "\n".join(explain(db, query.replace("{t}", "s.")))


def direct(db, query: str) -> str:
    """The remote statement of a query run as one (fails if it runs row by row)."""
    lines = plan(db, query)
    assert "Foreign Update on s.m" in lines or "Foreign Delete on s.m" in lines, lines
    return lines


def row_by_row(db, query: str) -> None:
    lines = plan(db, query)
    assert "Foreign Update on s.m" not in lines and "Foreign Delete on s.m" not in lines, \
        lines


DIRECT = [
    "UPDATE {t}m SET t = 'new', n = NULL WHERE id <= 10",
    "UPDATE {t}m SET g = 4 WHERE g IS NULL RETURNING id, g, t",
    "UPDATE {t}m SET t = h, d = DEFAULT WHERE id BETWEEN 20 AND 30 RETURNING *",
    "UPDATE {t}m SET n = 1.5 * 3, h = 'it''s' WHERE t LIKE 'x1%' AND g IN (1, 2) "
    "RETURNING n, id, h || '!', tableoid::regclass IS NOT NULL",
    "UPDATE {t}m SET g = plus1(2) WHERE id > 190 RETURNING 1",
    "DELETE FROM {t}m WHERE id > 195 RETURNING id, t, n",
    "DELETE FROM {t}m WHERE g = 1",
    "DELETE FROM {t}m WHERE h IS NULL AND id < 50 RETURNING *",
    "UPDATE {t}m SET g = g + 1, n = n * 2 WHERE id % 3 = 0 RETURNING id, g, n",
    "UPDATE {t}m SET t = upper(t) || '-' || coalesce(h, 'none') "
    "WHERE g = 1 OR h IS NULL RETURNING *",
    "UPDATE {t}m SET t = t || '?', d = d + 1 WHERE lower(h) = 'h1' RETURNING id, t, d",
    "UPDATE {t}m SET g = CASE WHEN g > 2 THEN NULL ELSE g END WHERE n > 100",
    "DELETE FROM {t}m WHERE NOT (g > 2) AND length(t) = 3 RETURNING id",
]

ROW_BY_ROW = [
    "UPDATE {t}m SET g = plus1(g) WHERE id < 40 RETURNING id, g",
    "UPDATE {t}m SET g = g + (random() * 0)::integer WHERE id > 100 RETURNING id, g",
    "DELETE FROM {t}m WHERE plus1(id) = 60 RETURNING id",
    "UPDATE {t}m SET g = o.k FROM {t}other o WHERE m.id = o.id RETURNING m.id, m.g",
    "DELETE FROM {t}m USING {t}other o WHERE m.g = o.id",
]


def test_direct_statements(twins):
    for query in DIRECT:
        direct(twins.db, query)
        twins.both(query)


def test_row_by_row_statements(twins, source):
    """(postgres_fdw runs some of them as one remote statement, a join included, so
    the remote rows are compared by key, not by ctid.)"""
    for query in ROW_BY_ROW:
        row_by_row(twins.db, query)
        results = [twins.run(query.replace("{t}", schema)) for schema in ("s.", "p.")]
        assert [(count, sorted(rows or [])) for count, rows in results] == \
            [(results[1][0], sorted(results[1][1] or []))] * 2, query
        assert [execute(source, f"SELECT * FROM {schema}.m ORDER BY id")
                for schema in (twins.a, twins.b)] == \
            [execute(source, f"SELECT * FROM {twins.b}.m ORDER BY id")] * 2, query


def test_parameters_of_a_generic_plan(twins):
    execute(twins.db, "SET plan_cache_mode = force_generic_plan")
    for schema in ("s", "p"):
        execute(twins.db, f"PREPARE up_{schema}(integer, text) AS "
                          f"UPDATE {schema}.m SET t = $2 WHERE id = $1 RETURNING id, t")
    assert "$2" in direct(twins.db, "EXPLAIN EXECUTE up_s(1, 'a')".replace("EXPLAIN ", ""))
    for value in range(1, 8):
        assert execute(twins.db, "EXECUTE up_s(%s, %s)", (value * 3, f"p{value}")) == \
            execute(twins.db, "EXECUTE up_p(%s, %s)", (value * 3, f"p{value}"))
    assert twins.remote_rows(twins.a, "m") == twins.remote_rows(twins.b, "m")
    execute(twins.db, "RESET plan_cache_mode")


def test_explain_shows_the_remote_statement(twins):
    lines = direct(twins.db, "UPDATE {t}m SET t = 'a', g = g WHERE id <= 10 RETURNING t")
    table = f'"{twins.a}"."m"'
    assert f'Remote SQL: UPDATE {table} SET "g" = "g", "t" = $1 WHERE ("id" <= $2) ' \
           'RETURNING "t"' in lines, lines
    lines = direct(twins.db, "DELETE FROM {t}m WHERE id = 3")
    assert f'Remote SQL: DELETE FROM {table} WHERE ("id" = $1)' in lines, lines
    # Row by row: each row's statement, setting only the statement's columns.
    lines = plan(twins.db, "UPDATE {t}m SET g = plus1(g)")
    assert f'Remote SQL: UPDATE {table} SET "g" = $1 WHERE "id" = $2' in lines, lines
    assert 'WHERE "id" = $' in lines, lines
    lines = plan(twins.db, "INSERT INTO {t}m (id) VALUES (1000)")
    assert f"Remote SQL: INSERT INTO {table} (" in lines, lines


def test_row_triggers_keep_row_by_row(twins):
    execute(twins.db, "CREATE FUNCTION public.note() RETURNS trigger LANGUAGE plpgsql AS "
                      "$$BEGIN NEW.t := NEW.t || '+'; RETURN NEW; END$$")
    for schema in ("s", "p"):
        execute(twins.db, f"CREATE TRIGGER note BEFORE UPDATE ON {schema}.m "
                          "FOR EACH ROW EXECUTE FUNCTION public.note()")
    query = "UPDATE {t}m SET t = 'z' WHERE id < 5 RETURNING id, t"
    row_by_row(twins.db, query)
    assert sorted(twins.both(query)) == [(i, "z+") for i in range(1, 5)]


def test_remote_errors_and_rollback(twins, source):
    for query, sqlstate in (("UPDATE s.m SET id = 1 WHERE id = 2", "23505"),
                            ("UPDATE s.m SET g = 5000 WHERE id < 3", "23514")):
        direct(twins.db, query)
        assert error_of(twins.db, query).pgcode == sqlstate
        assert_usable(twins.db)
    before = twins.remote_rows(twins.a, "m")
    twins.db.autocommit = False
    execute(twins.db, "UPDATE s.m SET t = 'gone' WHERE id < 100")
    execute(twins.db, "DELETE FROM s.m WHERE id > 150")
    assert execute(twins.db, "SELECT count(*) FROM s.m WHERE t = 'gone'") == [(99,)]
    twins.db.rollback()
    twins.db.autocommit = True
    assert twins.remote_rows(twins.a, "m") == before


def test_column_privileges(twins, source):
    """Only the columns set are sent: a remote grant of UPDATE (t) is enough."""
    execute(source, "DROP ROLE IF EXISTS dm_writer")
    execute(source, "CREATE ROLE dm_writer LOGIN")
    execute(source, f"GRANT USAGE ON SCHEMA {twins.a} TO dm_writer")
    execute(source, f"GRANT SELECT, UPDATE (t) ON {twins.a}.m TO dm_writer")
    execute(twins.db, "ALTER USER MAPPING FOR CURRENT_USER SERVER rsrv "
                      "OPTIONS (SET user 'dm_writer')")
    try:
        assert execute(twins.db, "UPDATE s.m SET t = 'mine' WHERE id = 4 RETURNING t") == \
            [("mine",)]
        assert error_of(twins.db, "UPDATE s.m SET h = 'no' WHERE id = 4").pgcode == "42501"
        assert_usable(twins.db)
    finally:
        execute(twins.db, "ALTER USER MAPPING FOR CURRENT_USER SERVER rsrv "
                          "OPTIONS (SET user 'postgres')")
        execute(source, f"REVOKE ALL ON {twins.a}.m FROM dm_writer")
        execute(source, f"REVOKE ALL ON SCHEMA {twins.a} FROM dm_writer")
    assert execute(source, f"SELECT t FROM {twins.a}.m WHERE id = 4") == [("mine",)]
