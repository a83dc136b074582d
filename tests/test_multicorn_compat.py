"""Behaviours unmodified Multicorn2 3.2 FDWs rely on (issue 9), each checked against
what Multicorn2 does; helper FDWs in tests/fdws/compat.py, recording.py and memory.py."""

from __future__ import annotations

import json

import pytest

from fdwtest import (Recorder, assert_same, assert_usable, create_foreign_table,
                     create_people, create_server, error_of, execute)
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


# ---------------------------------------------------------------- instance lifetime

def _inits(rec, query="SELECT count(*) FROM people"):
    rec.run(query)
    return len(rec.calls("__init__"))


UNRELATED_DDL = [
    "CREATE FOREIGN TABLE other (id int) SERVER rec OPTIONS (dataset 'people')",
    "CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';"
    " CREATE TRIGGER t AFTER INSERT ON people FOR EACH ROW EXECUTE FUNCTION noop()",
    "COMMENT ON FOREIGN TABLE people IS 'the people'",
    "COMMENT ON COLUMN people.name IS 'a name'",
    "CREATE SERVER other_srv FOREIGN DATA WRAPPER sgfdw"
    " OPTIONS (wrapper 'recording.RecordingFdw')",
    "GRANT SELECT ON people TO PUBLIC",
]


@pytest.mark.parametrize("ddl", UNRELATED_DDL)
def test_unrelated_ddl_keeps_the_instance(db, ddl):
    # Multicorn2 keeps an instance until the table's, server's or user mapping's options
    # or the table's columns change (its cache compares them); per-instance state lives.
    create_people(db, local=False)
    rec = Recorder(db)
    assert _inits(rec) == 1
    execute(db, ddl)
    assert _inits(rec) == 0
    assert _inits(rec) == 0


RELATED_DDL = [
    "ALTER FOREIGN TABLE people OPTIONS (ADD rows '7')",
    "ALTER SERVER rec OPTIONS (ADD rows '7')",
    "CREATE USER MAPPING FOR CURRENT_USER SERVER rec OPTIONS (rows '7')",
    "ALTER FOREIGN TABLE people ADD COLUMN extra text",
    "ALTER FOREIGN TABLE people ALTER COLUMN age TYPE bigint",
    "ALTER FOREIGN TABLE people RENAME COLUMN score TO points",
    "ALTER FOREIGN TABLE people ALTER COLUMN name OPTIONS (ADD note 'x')",
]


@pytest.mark.parametrize("ddl", RELATED_DDL)
def test_changed_options_or_columns_rebuild_the_instance(db, ddl):
    create_people(db, local=False)
    rec = Recorder(db)
    assert _inits(rec) == 1
    execute(db, ddl)
    assert _inits(rec) == 1
    assert _inits(rec) == 0


def test_user_mapping_change_rebuilds_the_instance(db):
    create_people(db, local=False)
    execute(db, "CREATE USER MAPPING FOR CURRENT_USER SERVER rec OPTIONS (rows '7')")
    rec = Recorder(db)
    assert _inits(rec) == 1
    execute(db, "ALTER USER MAPPING FOR CURRENT_USER SERVER rec OPTIONS (SET rows '8')")
    assert _inits(rec) == 1
    execute(db, "COMMENT ON SERVER rec IS 'x'")
    assert _inits(rec) == 0


# ---------------------------------------------------------------- mappings as hstore

HSTORE = {"k": "v", "n": None, 'quote"d': "back\\slash", "a=>b, c": " spaced ", "": "",
          "ünï": "表", 1: 2.5}


def _pairs(db, query):
    """The (key, value) pairs of the hstore h the query returns (WITH ... AS q(h) given:
    a data-modifying WITH must be at the top level)."""
    if not query.startswith("WITH"):
        query = f"WITH q AS ({query})"
    return sorted(execute(db, f"{query} SELECT (each(h)).* FROM q"), key=repr)


def _expected_pairs(mapping):
    return sorted(((str(k), None if v is None else str(v)) for k, v in mapping.items()),
                  key=repr)


def test_mapping_scanned_into_hstore(db):
    # Multicorn writes a mapping for a non-JSON column as hstore text: "k"=>"v",
    # NULL values as NULL, keys and values quoted and escaped.
    execute(db, "CREATE EXTENSION hstore")
    create_server(db, "rec")
    row = {"id": 1, "h": {str(k): v if v is None else str(v) for k, v in HSTORE.items()}}
    create_foreign_table(db, "hs", columns=[("id", "int"), ("h", "hstore")],
                         raw_rows=json.dumps([row, {"id": 2, "h": {}}, {"id": 3}]),
                         row_shape="dict")
    assert _pairs(db, "SELECT h FROM hs WHERE id = 1") == _expected_pairs(HSTORE)
    assert execute(db, "SELECT id, h = ''::hstore, h IS NULL FROM hs ORDER BY id") == [
        (1, False, False), (2, True, False), (3, None, True)]
    assert execute(db, "SELECT h -> 'n', h ? 'n', h -> 'k' FROM hs WHERE id = 1") == [
        (None, True, "v")]


def test_mapping_returned_by_insert_and_update_into_hstore(db):
    execute(db, "CREATE EXTENSION hstore")
    setup_memory(db)
    execute(db, "CREATE SERVER maps FOREIGN DATA WRAPPER sgfdw"
                " OPTIONS (wrapper 'compat.MappingMemoryFdw')")
    memory_table(db, "hm", columns="id int, h hstore", server="maps", mapping=repr(HSTORE))
    assert _pairs(db, "WITH q AS (INSERT INTO hm VALUES (1, 'x=>y') RETURNING h)") \
        == _expected_pairs(HSTORE)
    assert _pairs(db, "SELECT h FROM hm") == _expected_pairs(HSTORE)
    assert _pairs(db, "WITH q AS (UPDATE hm SET h = 'p=>q' RETURNING h)") \
        == _expected_pairs(HSTORE)


def test_mapping_for_a_type_not_read_from_text_is_refused(db):
    # sgfdw's typed conversions stay: a dict for an int column is a clean error.
    create_server(db, "rec")
    create_foreign_table(db, "bad", columns=[("i", "int")], raw_rows='[[{"a": "b"}]]')
    error = error_of(db, "SELECT * FROM bad")
    assert error.pgcode == "42804", error.pgerror
    assert_usable(db)


# ---------------------------------------------------------------- PL/Python

def _plpython(db):
    execute(db, "CREATE EXTENSION plpython3u")
    execute(db, """CREATE FUNCTION py_double(x int) RETURNS int LANGUAGE plpython3u
                   AS 'return None if x is None else 2 * x'""")
    execute(db, """CREATE FUNCTION py_path() RETURNS text[] LANGUAGE plpython3u
                   AS 'import sys; return sys.path'""")
    execute(db, """CREATE FUNCTION py_people() RETURNS bigint LANGUAGE plpython3u
                   AS 'return plpy.execute("SELECT count(*) AS n FROM people")[0]["n"]'""")


def _venv_site_packages(db):
    python = execute(db, "SHOW sgfdw.python")[0][0]
    return python.rsplit("/bin/", 1)[0] + "/lib/python3.11/site-packages"


def _check_sgfdw_environment(db):
    # sgfdw.python_path first, then (after the standard library) the venv's
    # site-packages before any system site directory.
    path = execute(db, "SELECT py_path()")[0][0]
    python_path = execute(db, "SHOW sgfdw.python_path")[0][0].split(":")
    assert path[:len(python_path)] == python_path, path
    venv = _venv_site_packages(db)
    assert venv in path, path
    system = [i for i, p in enumerate(path) if p.endswith("-packages") and p != venv]
    assert all(path.index(venv) < i for i in system), path


@pytest.fixture
def fresh(pg, db):
    """A second connection to the test's database: a backend whose interpreter has not
    started (CREATE EXTENSION sgfdw may start it in `db`'s)."""
    conn = pg.connect(db.info.dbname)
    try:
        yield conn
    finally:
        conn.close()


def test_plpython_first_then_sgfdw(db, fresh):
    # Multicorn2 shares the backend's one interpreter with PL/Python, in either order.
    _plpython(db)
    create_people(db)
    assert execute(fresh, "SELECT py_double(21)") == [(42,)]
    # PL/Python started the interpreter: the system's sys.path, no venv yet
    assert _venv_site_packages(db) not in execute(fresh, "SELECT py_path()")[0][0]
    assert_same(fresh, "SELECT * FROM {t} WHERE age > 30")
    assert execute(fresh, "SELECT py_people()") == execute(fresh, "SELECT count(*) FROM people")
    _check_sgfdw_environment(fresh)


def test_sgfdw_first_then_plpython(db, fresh):
    _plpython(db)
    create_people(db)
    assert_same(fresh, "SELECT * FROM {t} WHERE age > 30")
    assert execute(fresh, "SELECT py_double(21)") == [(42,)]
    assert execute(fresh, "SELECT py_people()") == execute(fresh, "SELECT count(*) FROM people")
    _check_sgfdw_environment(fresh)


def test_plpython_and_sgfdw_interleaved_in_one_query(db, fresh):
    _plpython(db)
    create_people(db)
    assert_same(fresh, "SELECT id, py_double(age) FROM {t} WHERE py_double(id) > 4")
    assert execute(fresh, "SELECT py_people(), count(*) FROM people") == [
        (len(execute(fresh, "SELECT * FROM people_local")),) * 2]
