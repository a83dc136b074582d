"""Mounts never drop what they did not create, keep passwords out of the server log,
report what they made and refuse what they do not understand (issue 10: data safety 1,
items 6, 9 and 3), with the importing test FDW (tests/fdws/importer.py) as the source.
Also: extension 0.1 mounts after ALTER EXTENSION sgfdw UPDATE."""

from __future__ import annotations

import json

import psycopg2
import pytest

from fdwtest import assert_usable, error_of, execute, user_servers
from test_mount import foreign_tables, mount

SECRET = "l0g-s3cret-7f9c"


def mount_rows(db, mountpoint, tables=None, overwrite=True, options=None):
    """sgfdw.mount's result rows."""
    options = options or {"remote_schema": "far"}
    return [row[0] for row in execute(
        db, "SELECT * FROM sgfdw.mount(%s, 'imp', %s, %s, %s)",
        (mountpoint, json.dumps(options), overwrite,
         None if tables is None else json.dumps(tables)))]


# ---------------------------------------------------------------- data safety 1

def test_unmount_of_a_schema_that_is_not_a_mount_drops_nothing(mounting):
    execute(mounting, "CREATE TABLE public.precious (id int)")
    execute(mounting, "INSERT INTO public.precious VALUES (1)")
    for name in ("public", "nosuch"):
        error = error_of(mounting, "SELECT sgfdw.unmount(%s)", (name,))
        assert error.pgcode == "42704", error
        assert "not a mount" in error.diag.message_primary
    assert execute(mounting, "SELECT * FROM public.precious") == [(1,)]


@pytest.mark.parametrize("overwrite", [True, False])
def test_mount_over_a_schema_that_is_not_a_mount_is_refused(mounting, overwrite):
    execute(mounting, "CREATE SCHEMA mine")
    execute(mounting, "CREATE TABLE mine.precious (id int)")
    with pytest.raises(psycopg2.Error) as error:
        mount(mounting, "mine", tables=["plain"], overwrite=overwrite)
    assert error.value.pgcode == "42P06"
    assert "not a mount" in error.value.diag.message_primary
    assert execute(mounting, "SELECT count(*) FROM mine.precious") == [(0,)]
    assert user_servers(mounting) == []


def test_mounts_are_recorded_and_overwrite_replaces_only_the_mount(mounting):
    mount(mounting, "m", tables=["plain", "MixedCase"])
    assert execute(mounting, "SELECT mountpoint, server, handler, tables FROM sgfdw.mounts"
                   ) == [("m", "m_server", "imp", ["MixedCase", "plain"])]
    mount(mounting, "m", tables=["it's"])
    assert foreign_tables(mounting, "m") == ["it's"]
    assert execute(mounting, "SELECT tables FROM sgfdw.mounts") == [(["it's"],)]


def test_unmount_stops_at_objects_the_mount_did_not_create(mounting):
    mount(mounting, "m", tables=["plain"])
    execute(mounting, "CREATE TABLE m.added_later (id int)")
    execute(mounting, 'CREATE VIEW public.over_mount AS SELECT id FROM m.plain')
    error = error_of(mounting, "SELECT sgfdw.unmount('m')")
    assert error.pgcode == "2BP01", error  # dependent objects: nothing dropped
    assert foreign_tables(mounting, "m") == ["plain"]
    assert execute(mounting, "SELECT count(*) FROM public.over_mount") == [(1,)]
    execute(mounting, "DROP VIEW public.over_mount")
    execute(mounting, "DROP TABLE m.added_later")
    execute(mounting, "SELECT sgfdw.unmount('m')")
    assert execute(mounting, "SELECT count(*) FROM pg_namespace WHERE nspname = 'm'") == [(0,)]


def test_unmount_prints_no_notices(mounting):
    mount(mounting, "m", tables=["plain"])
    del mounting.notices[:]
    execute(mounting, "SELECT sgfdw.unmount('m')")
    mount(mounting, "m", tables=["plain"])
    mount(mounting, "m", tables=["plain"])  # overwrite
    assert not [n for n in mounting.notices if "skipping" in n or "drop" in n.lower()]


# ---------------------------------------------------------------- item 6

def test_failed_mount_keeps_the_password_out_of_the_server_log(db, pg):
    assert execute(db, "SHOW log_min_error_statement") == [("error",)]  # the default
    before = pg.logfile.stat().st_size
    error = error_of(db, "SELECT sgfdw.mount_postgres('m', '/nonexistent', 5432, 'u', %s, "
                         "'db', 'public')", (SECRET,))
    assert error.pgcode is not None
    with open(pg.logfile, errors="replace") as log:
        log.seek(before)
        written = log.read()
    assert "ERROR:" in written  # the failure itself is logged, the call is not
    assert SECRET not in written
    assert_usable(db)


# ---------------------------------------------------------------- item 9

def test_mount_returns_the_tables_it_created(mounting):
    assert mount_rows(mounting, "m", tables=["plain", "MixedCase"]) == ["MixedCase", "plain"]
    assert mount_rows(mounting, "m", tables={"plain": {"id": "integer"}}) == ["plain"]
    assert mount_rows(mounting, "m", tables=[]) == []


def test_a_missing_remote_table_is_an_error(mounting):
    error = error_of(mounting, "SELECT sgfdw.mount('m', 'imp', %s, true, %s)",
                     (json.dumps({"remote_schema": "far"}), json.dumps(["plain", "nosuch"])))
    assert error.pgcode == "42P01", error
    assert '"nosuch"' in error.diag.message_primary and "plain" not in (
        error.diag.message_primary)
    assert "Traceback" not in (error.diag.message_detail or "")
    assert user_servers(mounting) == []


def test_splitgraph_table_info_form(mounting):
    tables = {"plain": {"schema": {"id": "integer", "na\"me;": "text"},
                        "options": {"extra": "x"}},
              "it's": {"schema": {}, "options": {"table": "it's", "added": "y"}}}
    assert mount_rows(mounting, "m", tables=tables) == ["it's", "plain"]
    options = dict(execute(mounting, "SELECT c.relname::text, t.ftoptions FROM "
                                     "pg_foreign_table t JOIN pg_class c ON c.oid = t.ftrelid"))
    assert "extra=x" in options["plain"] and "table_name=plain" in options["plain"]
    assert "added=y" in options["it's"]
    assert execute(mounting, 'SELECT id FROM m."it\'s"') == [(1,)]
    # columns named like TableInfo's keys are still columns
    assert mount_rows(mounting, "m", tables={"plain": {"schema": "text", "id": "int"}}) == [
        "plain"]


@pytest.mark.parametrize("schema", [
    [[1, "id", "integer", True, None], [2, "label", "text", False, "a comment"]],  # TableColumn
    [{"name": "id", "type": "integer"}, {"name": "label", "type": "text"}],
    [["id", "integer"], ["label", "text"]],
])
def test_splitgraph_table_info_tuple_form_and_column_lists(mounting, schema):
    assert mount_rows(mounting, "m", tables={"plain": [schema, {"extra": "x"}]}) == ["plain"]
    assert execute(mounting, "SELECT attname::text, format_type(atttypid, atttypmod) "
                             "FROM pg_attribute WHERE attrelid = 'm.plain'::regclass "
                             "AND attnum > 0 ORDER BY attnum") == [("id", "integer"),
                                                                   ("label", "text")]
    assert mount_rows(mounting, "m", tables={"plain": {"schema": schema}}) == ["plain"]


@pytest.mark.parametrize("tables", [{"plain": {"schema": 5}}, {"plain": {"id": 5}},
                                    {"plain": {"options": "x", "schema": {"id": "int"}}},
                                    "plain", [1, 2]])
def test_bad_tables_argument_is_an_option_error(mounting, tables):
    error = error_of(mounting, "SELECT sgfdw.mount('m', 'imp', '{}', true, %s)",
                     (json.dumps(tables),))
    assert error.pgcode == "HV00D", error
    assert "Traceback" not in (error.diag.message_detail or "")


# ---------------------------------------------------------------- item 3

@pytest.mark.parametrize("handler, options, bad", [
    ("postgres_fdw", {"host": "h", "sslmode": "require"}, '"sslmode"'),
    ("postgres_fdw", {"host": "h", "remote_shcema": "x"}, '"remote_shcema"'),
    ("sqlalchemy", {"db_url": "sqlite://", "tabels": "x"}, '"tabels"'),
    # server options are the wrapper's to check (validate_options, when created)
    ("postgres_fdw", {"host": "h", "extra_server_args": {"sslmod": "require"}}, '"sslmod"'),
])
def test_unknown_handler_options_are_refused(db, handler, options, bad):
    error = error_of(db, "SELECT sgfdw.mount('m', %s, %s)", (handler, json.dumps(options)))
    assert error.pgcode == "HV00D", error
    assert bad in error.diag.message_primary
    assert "Valid options" in error.diag.message_hint
    assert user_servers(db) == []


# ----------------------------------------------------- extension 0.1 -> the current version

def test_update_from_0_1_keeps_old_mounts_out_of_reach(pg, request):
    name = "upd_" + request.node.name[-20:].lower()
    pg.create_database(name)
    conn = pg.connect(name)
    try:
        execute(conn, "CREATE EXTENSION sgfdw VERSION '0.1'")
        error = error_of(conn, "SELECT sgfdw.unmount('public')")
        assert error.pgcode == "55000" and "ALTER EXTENSION" in error.diag.message_hint
        # What a mount made under 0.1 left: no record of it.
        execute(conn, "CREATE SERVER old_server FOREIGN DATA WRAPPER sgfdw "
                      "OPTIONS (wrapper 'importer.ImporterFdw')")
        execute(conn, "CREATE SCHEMA old")
        execute(conn, "IMPORT FOREIGN SCHEMA far LIMIT TO (plain) FROM SERVER old_server "
                      "INTO old")
        execute(conn, "ALTER EXTENSION sgfdw UPDATE")
        execute(conn, "CREATE FUNCTION register_handler(name text, wrapper text) RETURNS void "
                      "LANGUAGE sgfdw_python AS 'mounttest.register_handler'")
        execute(conn, "SELECT register_handler('imp', 'importer.ImporterFdw')")
        assert execute(conn, "SELECT extversion = default_version FROM pg_extension, "
                             "pg_available_extensions WHERE extname = 'sgfdw' AND "
                             "name = 'sgfdw'") == [(True,)]
        error = error_of(conn, "SELECT sgfdw.unmount('old')")
        assert error.pgcode == "42704"
        assert error_of(conn, "SELECT * FROM sgfdw.mount('old', 'imp', "
                              "'{\"remote_schema\": \"far\"}')").pgcode == "42P06"
        assert execute(conn, "SELECT id FROM old.plain") == [(1,)]
        assert [r[0] for r in execute(conn, "SELECT * FROM sgfdw.mount('new', 'imp', "
                                            "'{\"remote_schema\": \"far\"}', true, "
                                            "'[\"plain\"]')")] == ["plain"]
        execute(conn, "SELECT sgfdw.unmount('new')")
    finally:
        conn.close()
        pg.drop_database(name)


def _mount_objects(conn):
    functions = execute(conn, "SELECT p.proname::text, pg_get_functiondef(p.oid), "
                              "p.proacl::text FROM pg_proc p WHERE p.pronamespace = "
                              "'sgfdw'::regnamespace AND p.proname IN "
                              "('mount', 'mount_postgres', 'unmount') ORDER BY 1")
    columns = execute(conn, "SELECT attname::text, format_type(atttypid, atttypmod), "
                            "attnotnull FROM pg_attribute WHERE attrelid = "
                            "'sgfdw.mounts'::regclass AND attnum > 0 ORDER BY attnum")
    return functions, columns


def test_update_from_0_1_gives_the_mount_objects_of_a_fresh_install(pg, db):
    name = "upd_mount_objects"
    pg.create_database(name)
    conn = pg.connect(name)
    try:
        execute(conn, "CREATE EXTENSION sgfdw VERSION '0.1'")
        execute(conn, "ALTER EXTENSION sgfdw UPDATE")
        assert _mount_objects(conn) == _mount_objects(db)
    finally:
        conn.close()
        pg.drop_database(name)
