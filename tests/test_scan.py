"""Scans through the bridge: rows, needed columns, EXPLAIN lines, cursors, options and
the life of the FDW instance. Results are compared with a local copy of the data."""

from __future__ import annotations

import pytest

from fdwtest import (PEOPLE_COLUMNS, Recorder, assert_same, create_people,
                     create_server, execute, explain_lines)

ALL_COLUMNS = sorted(name for name, _ in PEOPLE_COLUMNS)


@pytest.fixture
def people(db):
    create_people(db)
    return Recorder(db)


@pytest.mark.parametrize("shape", ["tuple", "list", "dict", "mapping"])
def test_row_shapes(db, shape):
    create_people(db, row_shape=shape)
    assert_same(db, "SELECT * FROM {t}")
    assert_same(db, "SELECT name, score FROM {t} WHERE id > 3 ORDER BY id")
    assert_same(db, "SELECT count(*), count(age), sum(score), min(name) FROM {t}")


def test_plain_scan_calls(people):
    assert_same(people.db, "SELECT * FROM {t}")
    people.clear()
    execute(people.db, "SELECT * FROM people")
    assert people.methods() == ["get_rel_size", "get_path_keys", "execute", "end_scan"]
    call = people.one_execute()
    # No sort/limit/offset: execute() gets no keyword arguments at all.
    assert call["kwargs"] == []
    assert call["quals"] == []
    assert call["columns"] == ALL_COLUMNS


@pytest.mark.parametrize("query, columns", [
    ("SELECT name FROM people", ["name"]),
    ("SELECT name FROM people WHERE age > 1", ["age", "name"]),
    ("SELECT count(*) FROM people", []),
    ("SELECT 1 FROM people", []),
    ("SELECT p FROM people p", ALL_COLUMNS),
    ("SELECT row_to_json(p) FROM people p WHERE id = 2", ALL_COLUMNS),
    ("SELECT id FROM people ORDER BY score", ["id", "score"]),
    ("SELECT max(age) FROM people GROUP BY active", ["active", "age"]),
])
def test_only_needed_columns(people, query, columns):
    people.clear()
    execute(people.db, query)
    assert people.one_execute()["columns"] == columns
    assert people.calls("get_rel_size")[0]["columns"] == columns


def test_system_column(people):
    assert execute(people.db, "SELECT tableoid::regclass::text, id FROM people WHERE id = 3") == [
        ("people", 3)]
    assert people.executes()[-1]["columns"] == ["id"]


def test_columns_not_needed_are_null_and_needed_ones_right(people):
    assert_same(people.db, "SELECT name, age FROM {t} WHERE score > 50")
    assert_same(people.db, "SELECT count(*) FROM {t}")
    assert_same(people.db, "SELECT p FROM {t} p WHERE p.id <= 3 ORDER BY p.id")
    assert_same(people.db, "SELECT row_to_json(p)::text FROM {t} p")


def test_explain_shows_fdw_lines(people):
    lines = explain_lines(people.db, "SELECT name FROM people WHERE age > 30")
    assert any(line.strip() == "sgfdw: recording dataset=people" for line in lines), lines
    assert not any("Wrapper:" in line for line in lines)
    (call,) = people.calls("explain")
    assert call["quals"] == [("age", ">", 30)]
    assert call["verbose"] is False
    # EXPLAIN without ANALYZE does not scan.
    assert people.executes() == []


def test_explain_verbose_shows_wrapper(people):
    lines = explain_lines(people.db, "SELECT name FROM people WHERE age > 30", verbose=True)
    stripped = [line.strip() for line in lines]
    assert "sgfdw: Wrapper: recording.RecordingFdw" in stripped
    assert "sgfdw: recording dataset=people" in stripped
    assert "sgfdw: columns: age, name" in stripped
    assert people.calls("explain")[-1]["verbose"] is True


def test_explain_analyze_scans(people):
    people.clear()
    rows = execute(people.db, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) "
                              "SELECT * FROM people WHERE id < 5")
    text = "\n".join(row[0] for row in rows)
    assert "rows=4" in text and "sgfdw: recording dataset=people" in text
    assert len(people.executes()) == 1


def test_scan_stops_early(people):
    """A LIMIT the FDW does not take still stops pulling rows (and ends the scan)."""
    people.clear()
    assert execute(people.db, "SELECT id FROM people LIMIT 2") == [(1,), (2,)]
    assert people.methods()[-2:] == ["execute", "end_scan"]


def test_mapping_rows_missing_keys_are_null(db):
    create_people(db, local=False, raw_rows='[{"id": 1}, {"name": "x", "extra": 5}, {}]')
    assert execute(db, "SELECT * FROM people") == [
        (1, None, None, None, None), (None, "x", None, None, None),
        (None, None, None, None, None)]


def test_other_column_order_and_subset(db):
    """Rows follow the table's columns (by name for the FDW, by position for the bridge)."""
    create_people(db, local=False)
    execute(db, "CREATE FOREIGN TABLE people2 (score float8, id int, nick text) "
                "SERVER rec OPTIONS (dataset 'people')")
    got = execute(db, "SELECT * FROM people2 WHERE id IN (1, 4) ORDER BY id")
    assert got == [(91.5, 1, None), (None, 4, None)]


# ---------------------------------------------------------------- options and instances

def test_options_merge_table_server_user_mapping(db):
    rec = Recorder(db)
    create_server(db, "merge", s="server", u="server")
    execute(db, "CREATE USER MAPPING FOR CURRENT_USER SERVER merge OPTIONS (u 'mapping', m 'm')")
    execute(db, "CREATE FOREIGN TABLE t (id int) SERVER merge "
                "OPTIONS (dataset 'people', t 'table', s 'table', u 'table')")
    rec.run("SELECT * FROM t")
    (init,) = rec.calls("__init__")
    # table < server < user mapping; `wrapper` is the bridge's, not the FDW's
    assert init["options"] == {"dataset": "people", "t": "table", "s": "server",
                               "u": "mapping", "m": "m"}
    assert init["columns"] == [["id", "integer"]]


def test_wrapper_on_table_instead_of_server(db):
    execute(db, "CREATE SERVER bare FOREIGN DATA WRAPPER sgfdw")
    execute(db, "CREATE FOREIGN TABLE t (id int) SERVER bare "
                "OPTIONS (wrapper 'recording.RecordingFdw', dataset 'people')")
    rec = Recorder(db)
    assert len(rec.run("SELECT * FROM t")) == 12
    assert rec.calls("__init__")[0]["options"] == {"dataset": "people"}


def _instances(rec):
    return {call["instance"] for call in rec.calls() if call.method != "__init__"}


def test_instance_kept_between_queries(people):
    db = people.db
    people.clear()
    for _ in range(3):
        execute(db, "SELECT * FROM people WHERE id = 1")
        execute(db, "SELECT count(*) FROM people")
    assert len(people.calls("__init__")) <= 1
    assert len(_instances(people)) == 1
    # execute() counts calls per instance: the same instance served all six scans.
    assert [c["n"] for c in people.executes()][-1] == people.executes()[0]["n"] + 5


@pytest.mark.parametrize("ddl, expect_option", [
    ("ALTER FOREIGN TABLE people OPTIONS (ADD flavour 'table')", ("flavour", "table")),
    ("ALTER SERVER rec OPTIONS (ADD flavour 'server')", ("flavour", "server")),
    ("CREATE USER MAPPING FOR CURRENT_USER SERVER rec OPTIONS (flavour 'um')",
     ("flavour", "um")),
])
def test_instance_rebuilt_after_option_change(people, ddl, expect_option):
    db = people.db
    execute(db, "SELECT * FROM people")
    first = people.executes()[-1]["instance"]
    execute(db, ddl)
    people.clear()
    execute(db, "SELECT * FROM people")
    (init,) = people.calls("__init__")
    assert init["options"][expect_option[0]] == expect_option[1]
    assert people.one_execute()["instance"] == init["instance"] != first


def test_instance_rebuilt_after_set_and_drop_options(people):
    db = people.db
    execute(db, "CREATE USER MAPPING FOR CURRENT_USER SERVER rec OPTIONS (flavour 'one')")
    execute(db, "SELECT 1 FROM people")
    for ddl, expected in [
        ("ALTER USER MAPPING FOR CURRENT_USER SERVER rec OPTIONS (SET flavour 'two')", "two"),
        ("ALTER USER MAPPING FOR CURRENT_USER SERVER rec OPTIONS (DROP flavour)", None),
    ]:
        execute(db, ddl)
        people.clear()
        execute(db, "SELECT 1 FROM people")
        (init,) = people.calls("__init__")
        assert init["options"].get("flavour") == expected


def test_instance_rebuilt_after_add_column(people):
    db = people.db
    execute(db, "SELECT * FROM people")
    execute(db, "ALTER FOREIGN TABLE people ADD COLUMN extra text")
    people.clear()
    rows = execute(db, "SELECT id, extra, name FROM people ORDER BY id LIMIT 2")
    assert rows == [(1, None, "Alice"), (2, None, "bob")]
    (init,) = people.calls("__init__")
    assert [name for name, _ in init["columns"]] == ["id", "name", "age", "active", "score",
                                                     "extra"]
    assert people.one_execute()["columns"] == ["extra", "id", "name"]
    # And after dropping a column the positions still match.
    execute(db, "ALTER FOREIGN TABLE people DROP COLUMN age")
    assert execute(db, "SELECT * FROM people WHERE id = 2") == [
        (2, "bob", False, 78.25, None)]


def test_instance_not_shared_between_tables(people):
    db = people.db
    execute(db, "CREATE FOREIGN TABLE people_b (id int) SERVER rec OPTIONS (dataset 'people')")
    people.clear()
    execute(db, "SELECT * FROM people, people_b WHERE people.id = people_b.id")
    assert len(_instances(people)) == 2


def test_instance_per_user_with_its_user_mapping(db):
    rec = Recorder(db)
    create_people(db, local=False)
    role = f"sgfdw_scan_{execute(db, 'SELECT pg_backend_pid()')[0][0]}"
    execute(db, f"CREATE ROLE {role}")
    try:
        execute(db, f"GRANT SELECT ON people TO {role}")
        execute(db, "CREATE USER MAPPING FOR CURRENT_USER SERVER rec OPTIONS (who 'super')")
        execute(db, "CREATE USER MAPPING FOR PUBLIC SERVER rec OPTIONS (who 'public')")
        seen = []
        for step in ["RESET ROLE", f"SET ROLE {role}", "RESET ROLE", f"SET ROLE {role}"]:
            execute(db, step)
            rec.clear()
            assert execute(db, "SELECT count(*) FROM people") == [(12,)]
            inits = rec.calls("__init__")
            seen.append((inits[0]["options"]["who"] if inits else None,
                         rec.one_execute()["instance"]))
        # One instance per user, each with its own mapping's options, both kept.
        assert [who for who, _ in seen[:2]] == ["super", "public"]
        assert seen[2] == (None, seen[0][1]) and seen[3] == (None, seen[1][1])
    finally:
        execute(db, "RESET ROLE")
        execute(db, f"DROP OWNED BY {role}")
        execute(db, f"DROP ROLE {role}")


def test_self_join_two_scans_of_one_instance(people):
    assert_same(people.db, "SELECT a.id, b.name FROM {t} a JOIN {t} b ON a.age = b.age "
                           "WHERE a.id <> b.id")
    assert_same(people.db, "SELECT a.id, (SELECT count(*) FROM {t} b WHERE b.age < a.age) "
                           "FROM {t} a ORDER BY a.id")


def test_cursor_partial_fetch_and_close(people):
    db = people.db
    db.autocommit = False
    try:
        with db.cursor() as cur:
            cur.execute("DECLARE c CURSOR FOR SELECT id FROM people ORDER BY id")
            people.clear()
            cur.execute("FETCH 3 FROM c")
            assert cur.fetchall() == [(1,), (2,), (3,)]
            cur.execute("FETCH 2 FROM c")
            assert cur.fetchall() == [(4,), (5,)]
            assert len(people.executes()) == 1
            cur.execute("CLOSE c")
            assert people.methods()[-1] == "end_scan"
            cur.execute("DECLARE s SCROLL CURSOR FOR SELECT id FROM people ORDER BY id")
            cur.execute("FETCH LAST FROM s")
            assert cur.fetchall() == [(12,)]
            cur.execute("FETCH ABSOLUTE 2 FROM s")
            assert cur.fetchall() == [(2,)]
        db.commit()
    finally:
        db.rollback()
        db.autocommit = True
    assert_same(db, "SELECT * FROM {t}")


def test_error_caught_in_plpgsql_subtransaction(db):
    create_people(db)
    execute(db, "CREATE FOREIGN TABLE failing (id int) SERVER rec "
                "OPTIONS (dataset 'people', fail_in 'iterate')")
    execute(db, """
        CREATE TABLE log (msg text);
        DO $$
        DECLARE r record;
        BEGIN
            FOR i IN 1..3 LOOP
                BEGIN
                    FOR r IN SELECT * FROM failing LOOP
                        INSERT INTO log VALUES ('row ' || r.id);
                    END LOOP;
                EXCEPTION WHEN SQLSTATE 'HV000' THEN
                    INSERT INTO log VALUES ('caught: ' || SQLERRM);
                END;
            END LOOP;
            INSERT INTO log SELECT 'count ' || count(*) FROM people;
        END $$""")
    messages = [row[0] for row in execute(db, "SELECT msg FROM log")]
    # The rows inserted before each error were rolled back with the subtransaction.
    assert len(messages) == 4 and messages[3] == "count 12", messages
    assert all(m.startswith("caught: ") and "boom in iterate" in m for m in messages[:3])
    assert_same(db, "SELECT * FROM {t} ORDER BY id")


def test_foreign_table_in_update_from_and_for_update(people):
    """Row marks on a foreign table (non-target of an UPDATE, FOR UPDATE) need the whole
    row from the scan."""
    db = people.db
    execute(db, "CREATE TABLE target AS SELECT id, 0.0::float8 AS score FROM people_local")
    execute(db, "CREATE TABLE target_local AS SELECT * FROM target")
    for t, source in (("target", "people"), ("target_local", "people_local")):
        execute(db, f"UPDATE {t} SET score = p.score FROM {source} p "
                    f"WHERE {t}.id = p.id AND p.age > 30")
    assert_same(db, "SELECT * FROM {t} ORDER BY id", foreign="target", local="target_local")
    db.autocommit = False
    try:
        got, expected = (execute(db, f"SELECT id, name FROM {t} WHERE age < 40 "
                                     f"ORDER BY id LIMIT 3 FOR UPDATE")
                         for t in ("people", "people_local"))
        assert got == expected
    finally:
        db.rollback()
        db.autocommit = True


def test_option_change_rolled_back(people):
    db = people.db
    db.autocommit = False
    try:
        execute(db, "ALTER FOREIGN TABLE people OPTIONS (ADD flavour 'in transaction')")
        people.clear()
        execute(db, "SELECT 1 FROM people")
        assert people.calls("__init__")[0]["options"]["flavour"] == "in transaction"
        db.rollback()
        people.clear()
        execute(db, "SELECT 1 FROM people")
        (init,) = people.calls("__init__")
        assert "flavour" not in init["options"]
    finally:
        db.rollback()
        db.autocommit = True


@pytest.mark.parametrize("shape", ["tuple", "dict"])
def test_prepared_statement_after_drop_column(db, shape):
    create_people(db, row_shape=shape)
    query = "SELECT id, score, name FROM {t} WHERE score > 10"
    execute(db, "PREPARE q AS " + query.format(t="people"))
    assert sorted(execute(db, "EXECUTE q")) == sorted(execute(db, query.format(t="people_local")))
    execute(db, "ALTER FOREIGN TABLE people DROP COLUMN age")
    execute(db, "ALTER TABLE people_local DROP COLUMN age")
    assert sorted(execute(db, "EXECUTE q")) == sorted(execute(db, query.format(t="people_local")))
    assert_same(db, "SELECT * FROM {t}")
