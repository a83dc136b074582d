"""The registry's side of S3: its settings (a superuser's, hidden from other roles, the
secret key only in a file) and the presigned URLs it hands out, used against a real
SeaweedFS server that checks signatures."""
from __future__ import annotations

import hashlib

import psycopg2
import pytest
import requests
from psycopg2 import sql

from cluster_config import reload_config
from fdwtest import assert_usable, execute
from seaweed import BUCKET
from sharing import add_run_function

S3_SETTINGS = {"sgfdw.s3_endpoint", "sgfdw.s3_bucket", "sgfdw.s3_region",
               "sgfdw.s3_access_key", "sgfdw.s3_secret_key_file", "sgfdw.s3_url_expiry"}


def object_id(data: bytes) -> str:
    return "o" + hashlib.sha256(data).hexdigest()[:62]


def urls(conn, function: str, ids: list[str]) -> list[list[str]]:
    return execute(conn, sql.SQL("SELECT sgfdw.{}(NULL, %s::text[])").format(
        sql.Identifier(function)), (ids,))[0][0]


def test_settings_are_hidden_from_other_roles(hub):
    names = {row[0] for row in execute(hub, "SELECT name FROM pg_settings "
                                            "WHERE name LIKE 'sgfdw.s3%%'")}
    assert names == S3_SETTINGS
    execute(hub, "CREATE ROLE registry_reader")
    try:
        execute(hub, "SET ROLE registry_reader")
        assert execute(hub, "SELECT count(*) FROM pg_settings "
                            "WHERE name LIKE 'sgfdw.s3%%'") == [(0,)]
        for statement in ("SHOW sgfdw.s3_access_key",
                          "SELECT current_setting('sgfdw.s3_endpoint')",
                          "SET sgfdw.s3_bucket = 'elsewhere'"):
            with pytest.raises(psycopg2.Error) as info:
                execute(hub, statement)
            assert info.value.pgcode == "42501", statement
        # The functions are not granted to PUBLIC.
        with pytest.raises(psycopg2.Error) as info:
            urls(hub, "get_object_download_urls", [object_id(b"x")])
        assert info.value.pgcode == "42501"
        assert_usable(hub)
    finally:
        execute(hub, "RESET ROLE")
        execute(hub, "DROP ROLE registry_reader")


def test_presigned_urls_upload_and_download(hub, s3):
    data = b"parquet bytes " * 1000
    oid = object_id(data)
    [[put]] = urls(hub, "get_object_upload_urls", [oid])
    assert requests.put(put, data=data).status_code == 200
    assert s3.client().get_object(BUCKET, oid).read() == data
    [[get]] = urls(hub, "get_object_download_urls", [oid])
    assert requests.get(get).content == data
    # Signed for that object and method only: another key or method is refused.
    assert requests.put(put.replace(oid, object_id(b"y")), data=b"y").status_code == 403
    assert requests.put(get, data=b"z").status_code == 403
    assert s3.client().get_object(BUCKET, oid).read() == data
    # The URLs carry no secret key.
    assert s3.secret_key not in put + get


def test_bad_object_ids_are_refused(hub):
    for ids in (["../etc/passwd"], ["o" + "0" * 61 + "X"], [None]):
        with pytest.raises(psycopg2.Error) as info:
            urls(hub, "get_object_upload_urls", ids)
        assert info.value.pgcode == "22023"
        assert_usable(hub)
    assert urls(hub, "get_object_upload_urls", []) == []


def test_a_server_without_s3_settings_is_not_a_registry(db):
    with pytest.raises(psycopg2.Error) as info:
        urls(db, "get_object_download_urls", [object_id(b"x")])
    assert info.value.pgcode == "55000"
    assert "sgfdw.s3_endpoint" in info.value.pgerror
    assert_usable(db)


def test_the_secret_key_never_reaches_the_log(registry, hub, s3):
    """A reload logs each changed setting with its value: the secret is a file's content,
    never a setting's."""
    configuration = registry.data_dir / "postgresql.conf"
    original = configuration.read_text()
    reload_config(registry, lambda: configuration.write_text(
        original + "sgfdw.s3_url_expiry = 600\nsgfdw.s3_region = 'us-east-1'\n"
                   "log_min_messages = debug1\n"))
    try:
        [[get]] = urls(hub, "get_object_download_urls", [object_id(b"x")])
        assert "X-Amz-Expires=600" in get
        values = execute(hub, "SELECT string_agg(setting, ' ') FROM pg_settings")[0][0]
        assert s3.secret_key not in values
    finally:
        reload_config(registry, lambda: configuration.write_text(original))
    log = registry.logfile.read_text(errors="replace")
    assert 'parameter "sgfdw.s3_url_expiry" changed to "600"' in log
    assert s3.secret_key not in log


def test_listing_and_deleting_objects_in_the_bucket(hub, s3):
    data = b"to be deleted"
    oid = object_id(data)
    [[put]] = urls(hub, "get_object_upload_urls", [oid])
    assert requests.put(put, data=data).status_code == 200
    add_run_function(hub)
    listing = ("from sgfdw.hooks import s3_server\n"
               f"result = {oid!r} in s3_server.list_objects(s3_server.client())\n")
    assert execute(hub, "SELECT run(%s)", (listing,)) == [("True",)]
    execute(hub, "SELECT run(%s)", ("from sgfdw.hooks import s3_server\n"
                                    f"s3_server.delete_objects(s3_server.client(), [{oid!r}])",))
    assert execute(hub, "SELECT run(%s)", (listing,)) == [("False",)]
    assert oid not in {entry.object_name for entry in s3.client().list_objects(BUCKET)}


def test_the_store_settings_stay_out_of_readable_catalogs(hub):
    """Per-database, per-role and per-function settings live in catalogs every role can
    read (pg_db_role_setting, pg_proc): the store's location and key are refused there."""
    database = sql.Identifier(hub.info.dbname)
    for statement in (
            sql.SQL("ALTER DATABASE {} SET sgfdw.s3_access_key = 'k'").format(database),
            sql.SQL("ALTER ROLE postgres SET sgfdw.s3_endpoint = 'http://elsewhere:1'"),
            sql.SQL("ALTER ROLE postgres IN DATABASE {} SET sgfdw.s3_bucket = 'b'").format(
                database),
            sql.SQL("CREATE FUNCTION f() RETURNS int LANGUAGE sql "
                    "SET sgfdw.s3_secret_key_file = '/tmp/k' AS 'SELECT 1'")):
        with pytest.raises(psycopg2.Error) as info:
            execute(hub, statement)
        assert info.value.pgcode == "42501", statement
        assert "ALTER SYSTEM" in info.value.diag.message_hint
        assert_usable(hub)
    assert execute(hub, "SELECT count(*) FROM pg_db_role_setting") == [(0,)]
    # A superuser's session may still point elsewhere, and the expiry is no secret.
    execute(hub, "SET sgfdw.s3_bucket = 'elsewhere'")
    execute(hub, "RESET sgfdw.s3_bucket")
    execute(hub, sql.SQL("ALTER DATABASE {} SET sgfdw.s3_url_expiry = 60").format(database))
    execute(hub, sql.SQL("ALTER DATABASE {} RESET sgfdw.s3_url_expiry").format(database))
