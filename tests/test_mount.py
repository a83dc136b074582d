"""sgfdw.mount / sgfdw.unmount from SQL, with a handler over the importing test FDW
(tests/fdws/importer.py): what is created, where credentials go, rollback, errors.
The PostgreSQL handler itself is tested against a real remote in tests/postgres/."""

from __future__ import annotations

import json

import psycopg2
import pytest

from fdwtest import execute, user_servers

SECRET = "s3cr'et;--"


def mount(db, mountpoint, tables=None, overwrite=True, options=None):
    options = options or {"remote_schema": "far", "user": "alice", "password": SECRET}
    execute(db, "SELECT sgfdw.mount(%s, 'imp', %s, %s, %s)",
            (mountpoint, json.dumps(options), overwrite,
             None if tables is None else json.dumps(tables)))


def foreign_tables(db, schema):
    return sorted(row[0] for row in execute(
        db, "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'f'", (schema,)))


def test_mount_imports_everything_with_credentials_in_the_user_mapping(mounting):
    mount(mounting, "m")
    assert foreign_tables(mounting, "m") == sorted(
        ["plain", 'we"ird;name', "it's", "ünï 表", "drop table x; --", "MixedCase"])
    server_options = execute(mounting, "SELECT srvoptions FROM pg_foreign_server "
                                       "WHERE srvname = 'm_server'")[0][0]
    assert "wrapper=importer.ImporterFdw" in server_options
    assert not any(SECRET in option or "alice" in option for option in server_options)
    mapping = execute(mounting, "SELECT umoptions FROM pg_user_mappings "
                                "WHERE srvname = 'm_server'")[0][0]
    assert sorted(mapping) == sorted(["user=alice", f"password={SECRET}"])
    assert execute(mounting, 'SELECT id, "na""me;" FROM m."it\'s"') == [(1, "it's")]


def test_mount_limit_to_a_list_of_tables(mounting):
    mount(mounting, "m", tables=["plain", "MixedCase"])
    assert foreign_tables(mounting, "m") == ["MixedCase", "plain"]


def test_mount_with_explicit_table_definitions(mounting):
    mount(mounting, "m", tables={"plain": [["id", "integer"], ['na"me;', "varchar(20)"],
                                            ["ünï", "numeric(10,2)[]"]],
                                  "it's": {"b": "text", "a": "date"}})
    columns = execute(mounting, "SELECT attname, format_type(atttypid, atttypmod) "
                                "FROM pg_attribute WHERE attrelid = 'm.plain'::regclass "
                                "AND attnum > 0 ORDER BY attnum")
    assert columns == [("id", "integer"), ('na"me;', "character varying(20)"),
                       ("ünï", "numeric(10,2)[]")]
    # A {column: type} dict comes through jsonb, which orders keys its own way.
    assert sorted(execute(mounting, "SELECT attname::text, format_type(atttypid, atttypmod) "
                                    "FROM pg_attribute WHERE attrelid = 'm.\"it''s\"'::regclass "
                                    "AND attnum > 0")) == [("a", "date"), ("b", "text")]


@pytest.mark.parametrize("bad_type", ["int -- comment", "int); DROP TABLE x; --",
                                      "nosuchtype"])
def test_explicit_table_types_are_checked(mounting, bad_type):
    with pytest.raises(psycopg2.Error):
        mount(mounting, "m", tables={"plain": {"id": bad_type}})
    assert foreign_tables(mounting, "m") == []
    assert user_servers(mounting) == []


def test_mount_rolls_back_with_the_transaction(mounting):
    mounting.autocommit = False
    try:
        mount(mounting, "m")
        assert foreign_tables(mounting, "m")
        mounting.rollback()
    finally:
        mounting.autocommit = True
    assert foreign_tables(mounting, "m") == []
    assert user_servers(mounting) == []
    assert execute(mounting, "SELECT count(*) FROM pg_namespace WHERE nspname = 'm'") == [(0,)]


def test_overwrite_replaces_and_no_overwrite_refuses(mounting):
    mount(mounting, "m", tables=["plain"])
    mount(mounting, "m", tables=["it's"])
    assert foreign_tables(mounting, "m") == ["it's"]
    with pytest.raises(psycopg2.Error) as error:
        mount(mounting, "m", tables=["plain"], overwrite=False)
    assert error.value.pgcode == "42P06"
    assert foreign_tables(mounting, "m") == ["it's"]


def test_unmount_drops_everything(mounting):
    mount(mounting, "m")
    execute(mounting, "SELECT sgfdw.unmount('m')")
    assert foreign_tables(mounting, "m") == []
    assert user_servers(mounting) == []
    assert execute(mounting, "SELECT count(*) FROM sgfdw.mounts") == [(0,)]
    with pytest.raises(psycopg2.Error) as error:  # no longer a mount
        execute(mounting, "SELECT sgfdw.unmount('m')")
    assert error.value.pgcode == "42704"


def test_hostile_mountpoint_name(mounting):
    name = 'we"ird; DROP SCHEMA public; --'
    mount(mounting, name, tables=["plain"])
    assert foreign_tables(mounting, name) == ["plain"]
    execute(mounting, "SELECT sgfdw.unmount(%s)", (name,))
    assert foreign_tables(mounting, name) == []


def test_unknown_handler_lists_the_known_ones(mounting):
    with pytest.raises(psycopg2.Error) as error:
        execute(mounting, "SELECT sgfdw.mount('m', 'nosuch', '{}')")
    assert error.value.pgcode == "HV00D"
    assert "postgres_fdw" in str(error.value) and "imp" in str(error.value)
    assert execute(mounting, "SELECT 1") == [(1,)]


def test_mount_functions_are_not_granted_to_public(mounting):
    execute(mounting, "CREATE ROLE mount_nobody")
    try:
        execute(mounting, "SET ROLE mount_nobody")
        with pytest.raises(psycopg2.Error) as error:
            execute(mounting, "SELECT sgfdw.unmount('m')")
        assert error.value.pgcode == "42501"
    finally:
        execute(mounting, "RESET ROLE")
        execute(mounting, "DROP ROLE mount_nobody")
