"""IMPORT FOREIGN SCHEMA from sgfdw_objects (tags, hashes, latest, LIMIT TO / EXCEPT,
exact column types), bad input (unknown names 42704, bad options, hostile names,
damaged objects) and the image being resolved once per transaction."""
from __future__ import annotations

import psycopg2
import pytest
from psycopg2 import sql

from layered_helpers import object_file, rows_of
from fdwtest import assert_usable, error_of, execute
from test_layered_scan import layered_import

HOSTILE = 'we"ird; DROP TABLE src; --'


def make_history(db) -> list[str]:
    """t/i: tables a, b and a hostile name; three images (v1 tagged), oldest first."""
    execute(db, "CREATE TABLE src (id int PRIMARY KEY, v text, n numeric(10,2), "
                "tags varchar(5)[], at timestamptz, bits bit(3), c char(4))")
    execute(db, "INSERT INTO src SELECT g, 'v' || g, g / 4.0, ARRAY['x' || g], "
                "TIMESTAMPTZ '2020-01-01 00:00+00' + g * interval '1 hour', B'101', 'c' "
                "FROM generate_series(1, 40) g")
    execute(db, "SELECT sgfdw.init('t/i')")
    execute(db, "SELECT sgfdw.import_table('t/i', 'a', 'src')")
    execute(db, "SELECT sgfdw.import_table('t/i', 'b', 'SELECT id, v FROM src WHERE id < 5')")
    execute(db, "SELECT sgfdw.import_table('t/i', %s, 'SELECT id AS \"odd \"\"col\", v "
                "FROM src')", (HOSTILE,))
    first = execute(db, "SELECT sgfdw.commit('t/i')")[0][0]
    execute(db, "SELECT sgfdw.tag('t/i', %s, 'v1')", (first,))
    execute(db, "UPDATE \"t/i\".a SET v = 'second' WHERE id % 3 = 0")
    execute(db, "DELETE FROM \"t/i\".b WHERE id = 1")
    second = execute(db, "SELECT sgfdw.commit('t/i')")[0][0]
    execute(db, "DELETE FROM \"t/i\".a WHERE id > 30")
    third = execute(db, "SELECT sgfdw.commit('t/i')")[0][0]
    return [first, second, third]


def foreign_tables(db, schema: str) -> dict[str, list[str]]:
    """Each foreign table's options, sorted."""
    return {name: sorted(options) for name, options in execute(
        db, "SELECT c.relname, t.ftoptions FROM pg_foreign_table t JOIN pg_class c "
            "ON c.oid = t.ftrelid WHERE c.relnamespace = %s::regnamespace ORDER BY 1",
        (sql.Identifier(schema).as_string(db),))}


def column_types(db, table: str) -> list[tuple[str, str]]:
    return execute(db, "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                       "WHERE attrelid = %s::regclass AND attnum > 0 ORDER BY attnum",
                   (table,))


def test_import_by_tag_hash_prefix_and_latest(db):
    first, second, third = make_history(db)
    layered_import(db, "t/i:v1", "tagged")
    layered_import(db, f"t/i:{second[:10]}", "by_hash")
    layered_import(db, "t/i", "latest")
    assert foreign_tables(db, "tagged") == {
        name: ["image=v1", "repository=t/i", f"table={name}"] for name in ("a", "b", HOSTILE)}
    assert foreign_tables(db, "by_hash")["a"] == [f"image={second[:10]}", "repository=t/i",
                                                  "table=a"]
    assert foreign_tables(db, "latest")["a"] == ["repository=t/i", "table=a"]
    for schema, image in (("tagged", first), ("by_hash", second), ("latest", third)):
        execute(db, "SELECT sgfdw.checkout('t/i', %s)", (image,))
        for table in ("a", "b", HOSTILE):
            local = sql.SQL("{}.{}").format(sql.Identifier("t/i"), sql.Identifier(table))
            layered = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            assert rows_of(db, layered.as_string(db)) == rows_of(db, local.as_string(db))
            assert column_types(db, layered.as_string(db)) == column_types(
                db, local.as_string(db))
    # Moving the tag moves the tagged tables; a new commit moves latest.
    execute(db, "SELECT sgfdw.tag('t/i', %s, 'v1')", (third,))
    assert rows_of(db, "tagged.a") == rows_of(db, '"t/i".a')
    execute(db, "INSERT INTO \"t/i\".a (id, v) VALUES (1000, 'new')")
    execute(db, "SELECT sgfdw.commit('t/i')")
    assert execute(db, "SELECT v FROM latest.a WHERE id = 1000") == [("new",)]
    assert execute(db, "SELECT v FROM tagged.a WHERE id = 1000") == []


def test_import_limit_to_and_except(db):
    make_history(db)
    execute(db, "CREATE SCHEMA only_a")
    execute(db, sql.SQL("IMPORT FOREIGN SCHEMA \"t/i\" LIMIT TO (a, {}, nope) "
                        "FROM SERVER sgfdw_objects INTO only_a").format(sql.Identifier(HOSTILE)))
    assert sorted(foreign_tables(db, "only_a")) == sorted(["a", HOSTILE])
    execute(db, "CREATE SCHEMA not_a")
    execute(db, "IMPORT FOREIGN SCHEMA \"t/i:v1\" EXCEPT (a) FROM SERVER sgfdw_objects "
                "INTO not_a")
    assert sorted(foreign_tables(db, "not_a")) == sorted(["b", HOSTILE])


@pytest.mark.parametrize("source, sqlstate", [
    ("t/nope", "42704"), ("t/i:nope", "42704"), ("t/i:0123456789abcdef", "42704"),
    ("not a repository", "22023"), ("t/i:", "HV00D"), ("../x", "22023")])
def test_import_of_unknown_or_bad_sources(db, source, sqlstate):
    make_history(db)
    execute(db, "CREATE SCHEMA s")
    error = error_of(db, sql.SQL("IMPORT FOREIGN SCHEMA {} FROM SERVER sgfdw_objects "
                                 "INTO s").format(sql.Identifier(source)).as_string(db))
    assert error.pgcode == sqlstate, error
    assert_usable(db)


def test_bad_table_options_and_unknown_tables(db):
    make_history(db)
    error = error_of(db, "CREATE FOREIGN TABLE f (id int) SERVER sgfdw_objects "
                         "OPTIONS (repository 't/i', table 'a', imgae 'v1')")
    assert error.pgcode == "HV00D" and "imgae" in error.diag.message_primary
    error = error_of(db, "CREATE FOREIGN TABLE f (id int) SERVER sgfdw_objects "
                         "OPTIONS (repository 't/i')")
    assert error.pgcode == "HV00D"
    error = error_of(db, "IMPORT FOREIGN SCHEMA \"t/i\" FROM SERVER sgfdw_objects INTO public "
                         "OPTIONS (image 'v1')")
    assert error.pgcode == "HV00D"
    assert error_of(db, "ALTER SERVER sgfdw_objects OPTIONS (ADD image 'v1')").pgcode == "HV00D"
    error = error_of(db, "CREATE FOREIGN TABLE f (id int) SERVER sgfdw_objects "
                         "OPTIONS (repository 't/i''; DROP TABLE src; --', table 'a')")
    assert error.pgcode == "22023"
    execute(db, "CREATE FOREIGN TABLE missing (id int) SERVER sgfdw_objects "
                "OPTIONS (repository 't/i', table 'nope')")
    error = error_of(db, "SELECT * FROM missing")
    assert error.pgcode == "42704" and "nope" in error.diag.message_primary
    assert "a, b" in error.diag.message_hint
    execute(db, "CREATE FOREIGN TABLE wrong_column (id int, zz text) SERVER sgfdw_objects "
                "OPTIONS (repository 't/i', table 'a')")
    assert error_of(db, "SELECT id FROM wrong_column").pgcode == "42703"
    execute(db, "CREATE FOREIGN TABLE gone (id int) SERVER sgfdw_objects "
                "OPTIONS (repository 't/gone', table 'a')")
    assert error_of(db, "SELECT * FROM gone").pgcode == "42704"
    # A subset of the columns, in another order, is fine.
    execute(db, "CREATE FOREIGN TABLE subset (v text, id int) SERVER sgfdw_objects "
                "OPTIONS (repository 't/i', table 'a', image 'v1')")
    execute(db, "SELECT sgfdw.checkout('t/i', 'v1')")
    assert rows_of(db, "(SELECT id, v FROM subset)") == rows_of(db, '(SELECT id, v FROM "t/i".a)')
    assert_usable(db)


def test_a_damaged_object_is_xx001_naming_it(db, pg):
    make_history(db)
    layered_import(db, "t/i:v1", "l")
    object_id = execute(db, "SELECT object_ids[1] FROM splitgraph_meta.tables "
                            "WHERE table_name = 'b' ORDER BY array_length(object_ids, 1) "
                            "LIMIT 1")[0][0]
    path = object_file(db, pg, object_id)
    execute(db, "SELECT * FROM l.b")  # checked once: a changed file is checked again
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    error = error_of(db, "SELECT * FROM l.b")
    assert error.pgcode == "XX001" and object_id in error.diag.message_primary
    assert_usable(db)


def test_the_image_is_resolved_once_per_transaction(db, pg):
    first, second, third = make_history(db)
    layered_import(db, "t/i:v1", "tagged")
    layered_import(db, "t/i", "latest")
    other = psycopg2.connect(db.dsn)
    other.autocommit = True
    try:
        db.autocommit = False
        count_v1 = execute(db, "SELECT count(*) FROM tagged.a")
        count_latest = execute(db, "SELECT count(*) FROM latest.a")
        execute(other, "SELECT sgfdw.tag('t/i', %s, 'v1')", (third,))
        execute(other, "DELETE FROM \"t/i\".a WHERE id < 10")
        execute(other, "SELECT sgfdw.commit('t/i')")
        # Same transaction (READ COMMITTED: the metadata's new rows are visible), same
        # images; a new statement's plan included.
        assert execute(db, "SELECT count(*) FROM tagged.a") == count_v1 == [(40,)]
        assert execute(db, "SELECT count(*) FROM latest.a WHERE id < 100") == count_latest
        db.commit()
        assert execute(db, "SELECT count(*) FROM tagged.a") == [(30,)]
        assert execute(db, "SELECT count(*) FROM latest.a") == [(21,)]
        db.commit()
    finally:
        db.rollback()
        db.autocommit = True
        other.close()
