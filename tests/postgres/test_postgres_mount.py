"""sgfdw.mount_postgres / sgfdw.mount('postgres_fdw', ...) / sgfdw.unmount against the
remote cluster: tables imported or named or described, results equal to the remote's,
credentials only in the user mapping, everything rolled back with the transaction."""

from __future__ import annotations

import json

import psycopg2
import pytest

from fdwtest import user_servers
from pgfdw_helpers import PASSWORD, SOURCE_DB, execute


def mount_postgres(db, remote, mountpoint, tables=None, extra=None):
    execute(db, "SELECT sgfdw.mount_postgres(%s, %s, %s, 'postgres', %s, %s, 'src', %s, %s)",
            (mountpoint, str(remote.socket_dir), remote.port, PASSWORD, SOURCE_DB,
             None if tables is None else json.dumps(tables),
             None if extra is None else json.dumps(extra)))


def foreign_tables(db, schema):
    return sorted(row[0] for row in execute(
        db, "SELECT foreign_table_name FROM information_schema.foreign_tables "
            "WHERE foreign_table_schema = %s", (schema,)))


def test_mount_postgres_imports_the_remote_schema(db, remote, source):
    mount_postgres(db, remote, "mnt")
    assert "all_types" in foreign_tables(db, "mnt") and "big" in foreign_tables(db, "mnt")
    remote_rows = remote.sql("SELECT count(*), sum(id) FROM src.big", dbname=SOURCE_DB)
    assert execute(db, "SELECT count(*), sum(id) FROM mnt.big") == remote_rows
    server_options = execute(db, "SELECT array_to_string(srvoptions, ',') "
                                 "FROM pg_foreign_server WHERE srvname = 'mnt_server'")[0][0]
    assert PASSWORD not in server_options
    assert not any(option.startswith(("user=", "password="))
                   for option in server_options.split(","))
    mapping = execute(db, "SELECT option_name, option_value FROM pg_user_mappings, "
                          "pg_options_to_table(umoptions) WHERE srvname = 'mnt_server'")
    assert sorted(mapping) == [("password", PASSWORD), ("user", "postgres")]


def test_mount_postgres_limit_to_and_explicit_tables(db, remote, source):
    mount_postgres(db, remote, "mnt", tables=["big"])
    assert foreign_tables(db, "mnt") == ["big"]
    mount_postgres(db, remote, "mnt", tables={"big": [["id", "integer"]]})
    assert foreign_tables(db, "mnt") == ["big"]
    assert execute(db, "SELECT count(*) FROM mnt.big WHERE id < 100") == remote.sql(
        "SELECT count(*) FROM src.big WHERE id < 100", dbname=SOURCE_DB)


def test_mount_through_the_generic_function_and_unmount(db, remote, source):
    options = {"server": str(remote.socket_dir), "port": remote.port, "username": "postgres",
               "password": PASSWORD, "dbname": SOURCE_DB, "remote_schema": "src"}
    execute(db, "SELECT sgfdw.mount('gen', 'postgres_fdw', %s, true, %s)",
            (json.dumps(options), json.dumps(["big"])))
    assert foreign_tables(db, "gen") == ["big"]
    execute(db, "SELECT sgfdw.unmount('gen')")
    assert foreign_tables(db, "gen") == []
    assert execute(db, "SELECT count(*) FROM pg_foreign_server WHERE srvname = 'gen_server'"
                   ) == [(0,)]


def test_mount_rolls_back_with_the_transaction(db, remote, source):
    db.autocommit = False
    try:
        mount_postgres(db, remote, "mnt", tables=["big"])
        assert foreign_tables(db, "mnt") == ["big"]
        db.rollback()
    finally:
        db.autocommit = True
    assert foreign_tables(db, "mnt") == []
    assert user_servers(db) == []


def test_unmount_rolls_back_with_the_transaction(db, remote, source):
    mount_postgres(db, remote, "mnt", tables=["big"])
    db.autocommit = False
    try:
        execute(db, "SELECT sgfdw.unmount('mnt')")
        db.rollback()
    finally:
        db.autocommit = True
    assert foreign_tables(db, "mnt") == ["big"]


def test_mount_error_does_not_show_the_password(db, remote, source):
    with pytest.raises(psycopg2.Error) as error:
        execute(db, "SELECT sgfdw.mount_postgres('mnt', %s, %s, 'postgres', %s, %s, "
                    "'no_such_schema', '[\"x\"]')",
                (str(remote.socket_dir), remote.port, PASSWORD, "no_such_db"))
    assert PASSWORD not in str(error.value)
    assert execute(db, "SELECT 1") == [(1,)]
