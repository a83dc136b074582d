"""Faults while sharing images: S3 down during a push and during downloads, an object
changed in the bucket, presigned URLs that expired, a wrong registry password. Each
ends in a clear error, leaves the session usable, registers nothing that was not
uploaded, and running the command again completes it."""
from __future__ import annotations

import psycopg2

from cluster_config import password_required
import fdwtest
from fdwtest import assert_usable, execute
from seaweed import BUCKET
from sharing import (REPO, add_registry, add_run_function, another_engine, checked_out,
                     cloned_engine, make_repository, push, shared_repository)


def error_of(conn, statement: str, params=None) -> psycopg2.Error:
    """The statement's error, the session checked usable after it."""
    error = fdwtest.error_of(conn, statement, params)
    assert_usable(conn)
    return error


def file_exists(conn, object_id: str) -> bool:
    return execute(conn, "SELECT pg_stat_file(current_setting('sgfdw.object_dir') || '/' "
                         "|| (SELECT oid FROM pg_database WHERE datname = current_database())"
                         " || '/' || %s, true) IS NOT NULL", (object_id,))[0][0]


def registry_images(hub) -> int:
    return execute(hub, "SELECT count(*) FROM splitgraph_meta.images")[0][0]


def test_s3_down_during_push_and_download(pg, registry, hub, db, s3):
    make_repository(db, 3000)
    add_registry(db, registry, hub)
    s3.stop()
    try:
        error = error_of(db, "SELECT sgfdw.push(%s, 'registry')", (REPO,))
    finally:
        s3.start()
    assert error.pgcode == "08006", error.pgerror
    assert registry_images(hub) == 0
    assert execute(hub, "SELECT count(*) FROM splitgraph_meta.objects") == [(0,)]
    assert execute(db, "SELECT count(*) FROM splitgraph_meta.external_objects") == [(0,)]
    assert push(db) == 3
    assert registry_images(hub) == 2

    with another_engine(pg) as other:
        add_registry(other, registry, hub)
        execute(other, "SELECT sgfdw.clone('registry', %s)", (REPO,))
        s3.stop()
        try:
            error = error_of(other, "SELECT sgfdw.checkout(%s)", (REPO,))
        finally:
            s3.start()
        assert error.pgcode == "08006"
        assert "could not download object o" in error.pgerror
        execute(other, "SELECT sgfdw.checkout(%s)", (REPO,))
        assert checked_out(other) == checked_out(db)


def test_a_push_failing_after_some_uploads_registers_nothing(registry, hub, db):
    make_repository(db, 5000)
    add_registry(db, registry, hub)
    add_run_function(db)
    # The last object's URL leads nowhere: the others are uploaded first (one thread).
    execute(db, "SELECT run(%s)", (
        "from sgfdw.hooks import s3\n"
        "s3.real_upload_urls = fetch = s3.get_object_upload_urls\n"
        "def broken(*args):\n"
        "    urls = fetch(*args)\n"
        "    urls[-1] = [urls[-1][0].replace('//127.0.0.1:', '//127.0.0.1:1#')]\n"
        "    return urls\n"
        "s3.get_object_upload_urls = broken\n",))
    error = error_of(db, "SELECT sgfdw.push(%s, 'registry', handler_options => "
                         "'{\"threads\": 1}')", (REPO,))
    assert error.pgcode == "08006" and "could not upload object o" in error.pgerror
    for table in ("images", "objects", "external_objects"):
        assert execute(hub, f"SELECT count(*) FROM splitgraph_meta.{table}") == [(0,)]
    assert execute(db, "SELECT count(*) FROM splitgraph_meta.external_objects") == [(0,)]
    execute(db, "SELECT run(%s)", ("from sgfdw.hooks import s3\n"
                                   "s3.get_object_upload_urls = s3.real_upload_urls\n",))
    assert push(db) == 5
    assert registry_images(hub) == 2


def test_an_object_changed_in_the_bucket_is_xx001(pg, registry, hub, db, s3):
    import io

    make_repository(db, 1500)
    add_registry(db, registry, hub)
    push(db)
    tampered = execute(db, "SELECT object_ids[1] FROM splitgraph_meta.tables "
                           "WHERE table_name = 't'")[0][0]
    original = s3.client().get_object(BUCKET, tampered).read()
    changed = bytearray(original)
    changed[len(changed) // 2] ^= 0xFF
    s3.client().put_object(BUCKET, tampered, io.BytesIO(bytes(changed)), len(changed))
    try:
        with another_engine(pg) as other:
            add_registry(other, registry, hub)
            execute(other, "SELECT sgfdw.clone('registry', %s)", (REPO,))
            error = error_of(other, "SELECT sgfdw.checkout(%s)", (REPO,))
            assert error.pgcode == "XX001"
            assert tampered in error.pgerror
            assert not file_exists(other, tampered)
    finally:
        s3.client().put_object(BUCKET, tampered, io.BytesIO(original), len(original))


def late_urls(seconds: float) -> str:
    """Python for run(): the S3 handler starts its transfers `seconds` after it got its
    URLs."""
    return ("import time\n"
            "from sgfdw.hooks import s3\n"
            "fetch = s3.get_object_download_urls\n"
            "def late(*args):\n"
            "    urls = fetch(*args)\n"
            f"    time.sleep({seconds})\n"
            "    return urls\n"
            "s3.get_object_download_urls = late\n")


def test_wrong_urls_name_the_object(pg, registry, hub, db):
    shared_repository(db, registry, hub, 500)
    with cloned_engine(pg, registry, hub) as other:
        add_run_function(other)
        execute(other, "SELECT run(%s)", (
            "from sgfdw.hooks import s3\n"
            "fetch = s3.get_object_download_urls\n"
            "def forged(*args):\n"
            "    return [[url.replace('X-Amz-Signature=', 'X-Amz-Signature=0') for url in parts]"
            " for parts in fetch(*args)]\n"
            "s3.get_object_download_urls = forged\n",))
        error = error_of(other, "SELECT sgfdw.checkout(%s)", (REPO,))
        assert error.pgcode == "58000"
        assert "could not download object o" in error.pgerror
        assert "SignatureDoesNotMatch" in error.pgerror
        assert execute(other, "SELECT count(*) FROM sgfdw.object_cache") == [(0,)]


def test_expired_urls_name_the_object(pg, registry, hub, db):
    shared_repository(db, registry, hub, 500)
    execute(hub, f"ALTER DATABASE {hub.info.dbname} SET sgfdw.s3_url_expiry = 1")
    with cloned_engine(pg, registry, hub) as other:
        add_run_function(other)
        # The handler asks for its URLs, then starts only after they expired.
        execute(other, "SELECT run(%s)", (late_urls(2.5),))
        error = error_of(other, "SELECT sgfdw.checkout(%s)", (REPO,))
        assert error.pgcode == "58000"
        assert "presigned URL expired" in error.pgerror
        assert "could not download object o" in error.pgerror


def test_a_wrong_registry_password_is_28P01_and_never_shown(pg, registry, hub, db):
    make_repository(db, 100)
    execute(hub, "CREATE ROLE pusher LOGIN PASSWORD 'the-right-one'")
    add_registry(db, registry, hub, name="registry", user="pusher",
                 password="Wr0ng-p4ssw0rd")
    with password_required(registry, "pusher"):
        error = error_of(db, "SELECT sgfdw.push(%s, 'registry')", (REPO,))
        assert error.pgcode == "28P01"
        text = f"{error.pgerror} {error.diag.message_detail} {error.diag.message_hint}"
        assert "Wr0ng-p4ssw0rd" not in text
        error = error_of(db, "SELECT sgfdw.clone('registry', %s, 'other/name')", (REPO,))
        assert error.pgcode == "28P01"
    execute(hub, "DROP ROLE pusher")
    for cluster in (pg, registry):
        assert "Wr0ng-p4ssw0rd" not in cluster.logfile.read_text(errors="replace")


def test_a_cancel_during_downloads_ends_the_statement(pg, registry, hub, db):
    shared_repository(db, registry, hub, 500)
    with cloned_engine(pg, registry, hub) as other:
        add_run_function(other)
        # Transfers that hang (for a while: the thread ends by itself).
        execute(other, "SELECT run(%s)", ("import time\n"
                                          "from sgfdw.hooks import s3\n"
                                          "s3._download = lambda *args: time.sleep(5)\n",))
        execute(other, "SET statement_timeout = '300ms'")
        error = error_of(other, "SELECT sgfdw.checkout(%s)", (REPO,))
        assert error.pgcode == "57014"
        execute(other, "RESET statement_timeout")
        assert execute(other, "SELECT count(*) FROM sgfdw.object_cache") == [(0,)]
