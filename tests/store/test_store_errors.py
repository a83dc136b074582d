"""Bad input ends in a clear error with a fitting SQLSTATE, loses nothing and leaves
the session usable: unknown names, ambiguous prefixes, bad names, missing or
unsupported sources, rollbacks, unwritable object directories, damaged files."""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest

from store_helpers import assert_same_rows, rows_of
from fdwtest import assert_usable, error_of, execute


@pytest.fixture
def repo(db):
    execute(db, "CREATE TABLE src (id int PRIMARY KEY, v text)")
    execute(db, "INSERT INTO src SELECT g, md5(g::text) FROM generate_series(1, 20) g")
    execute(db, "SELECT sgfdw.init('t/err')")
    execute(db, "SELECT sgfdw.import_table('t/err', 'src', 'src')")
    return db


def metadata(db) -> dict[str, list]:
    return {table: sorted(map(repr, execute(db, f"SELECT * FROM splitgraph_meta.{table}")))
            for table in ("images", "tags", "tables", "objects")}


@pytest.mark.parametrize("query", [
    "SELECT sgfdw.checkout('no/such')",
    "SELECT sgfdw.import_table('no/such', 't', 'src')",
    "SELECT * FROM sgfdw.log('no/such')",
    "SELECT sgfdw.rm('no/such')",
    "SELECT sgfdw.tag('no/such', 'latest', 'x')",
])
def test_unknown_repository_is_42704_with_the_known_ones(repo, query):
    error = error_of(repo, query)
    assert error.pgcode == "42704", error
    assert "no/such" in error.pgerror and "t/err" in error.diag.message_hint
    assert_usable(repo)


@pytest.mark.parametrize("reference", ["nosuchtag", "deadbeefdeadbeef", "0" * 63 + "1"])
def test_unknown_image_or_tag_is_42704_with_the_tags(repo, reference):
    execute(repo, "SELECT sgfdw.tag('t/err', 'latest', 'mytag')")
    error = error_of(repo, "SELECT sgfdw.checkout('t/err', %s)", (reference,))
    assert error.pgcode == "42704" and reference in error.diag.message_primary
    assert "mytag" in error.diag.message_hint
    assert_same_rows(repo, "src", '"t/err".src')


def test_ambiguous_prefix(repo):
    before = metadata(repo)
    for suffix in ("a", "b"):
        execute(repo, "INSERT INTO splitgraph_meta.images VALUES ('t', 'err', %s, NULL, "
                      "now(), NULL, NULL)", ("abcdef12" + suffix * 56,))
    error = error_of(repo, "SELECT sgfdw.checkout('t/err', 'abcdef12')")
    assert error.pgcode == "42P08" and "abcdef12aaaa" in error.diag.message_hint
    assert execute(repo, "SELECT sgfdw.checkout('t/err', 'abcdef12b')") == [
        ("abcdef12" + "b" * 56,)]
    execute(repo, "DELETE FROM splitgraph_meta.tags WHERE image_hash LIKE 'abcdef12%'")
    execute(repo, "DELETE FROM splitgraph_meta.images WHERE image_hash LIKE 'abcdef12%'")
    assert metadata(repo)["images"] == before["images"]


@pytest.mark.parametrize("name", ["norepo", "a/b/c", "/b", "a/", "a b/c", "a/b;drop",
                                  "x" * 40 + "/" + "y" * 40, "", "ü/x"])
def test_bad_repository_names(db, name):
    error = error_of(db, "SELECT sgfdw.init(%s)", (name,))
    assert error.pgcode == "22023" and "namespace/repository" in error.diag.message_hint
    assert execute(db, "SELECT count(*) FROM splitgraph_meta.images") == [(0,)]


def test_init_twice_and_reserved_tags(repo):
    assert error_of(repo, "SELECT sgfdw.init('t/err')").pgcode == "42710"
    for tag in ("HEAD", "latest", ""):
        assert error_of(repo, "SELECT sgfdw.tag('t/err', 'latest', %s)", (tag,)).pgcode == "22023"


def test_commit_without_a_checked_out_image_is_55000(repo):
    execute(repo, "DELETE FROM splitgraph_meta.tags WHERE tag = 'HEAD'")
    before = metadata(repo)
    error = error_of(repo, "SELECT sgfdw.commit('t/err', 'nothing to commit from')")
    assert error.pgcode == "55000" and "HEAD" in error.diag.message_primary, error
    assert metadata(repo) == before
    assert_usable(repo)


def test_missing_relation_and_bad_query(repo):
    before = metadata(repo)
    importing = "SELECT sgfdw.import_table('t/err', 'x', {})"
    assert error_of(repo, importing.format("'no_such_table'")).pgcode == "42P01"
    assert error_of(repo, importing.format("'SELECT * FROM nope'")).pgcode == "42P01"
    assert error_of(repo, "SELECT sgfdw.import_table('t/err', 'x', 'SELECT 1; DROP TABLE src')")
    assert error_of(repo, importing.format("'pg_class_oid_index'")).pgcode == "42809"
    assert metadata(repo) == before
    assert_same_rows(repo, "src", '"t/err".src')


def test_unsupported_type_names_the_column(repo):
    execute(repo, "CREATE TABLE geo (id int, \"wHere\" point)")
    error = error_of(repo, "SELECT sgfdw.import_table('t/err', 'geo', 'geo')")
    assert error.pgcode == "0A000"
    assert '"wHere"' in error.diag.message_primary and "point" in error.diag.message_primary
    error = error_of(repo, "SELECT sgfdw.import_table('t/err', 'geo', "
                           "'SELECT id, ''(1,2)''::point AS p FROM src')")
    assert error.pgcode == "0A000" and '"p"' in error.diag.message_primary
    # A cast in a query is the way around it.
    execute(repo, "SELECT sgfdw.import_table('t/err', 'geo', "
                  "'SELECT id, \"wHere\"::text FROM geo')")


def test_rolled_back_import_leaves_no_metadata_and_no_table(repo):
    before = metadata(repo)
    repo.autocommit = False
    try:
        execute(repo, "SELECT sgfdw.import_table('t/err', 'more', 'src')")
        execute(repo, "SELECT sgfdw.checkout('t/err', '00000000')")
        repo.rollback()
    finally:
        repo.autocommit = True
    assert metadata(repo) == before
    assert execute(repo, "SELECT tablename FROM pg_tables WHERE schemaname = 't/err'") == [("src",)]


def test_unwritable_object_dir_fails_the_import(repo):
    before = metadata(repo)
    execute(repo, "UPDATE src SET v = 'changed'")
    execute(repo, "SET sgfdw.object_dir = '/proc/sgfdw-cannot-write-here'")
    error = error_of(repo, "SELECT sgfdw.import_table('t/err', 'src2', 'src')")
    assert error.pgcode == "58030" and "/proc/sgfdw-cannot-write-here" in error.pgerror
    execute(repo, "RESET sgfdw.object_dir")
    assert metadata(repo) == before


def object_file(db, pg, object_id: str) -> Path:
    oid = execute(db, "SELECT oid FROM pg_database WHERE datname = current_database()")[0][0]
    return pg.data_dir / "sgfdw_objects" / str(oid) / object_id


@pytest.mark.parametrize("damage", ["delete", "corrupt"])
def test_damaged_object_fails_checkout_naming_it_and_changes_nothing(repo, pg, damage):
    execute(repo, "CREATE TABLE other (k text PRIMARY KEY)")
    execute(repo, "INSERT INTO other VALUES ('a'), ('b')")
    execute(repo, "SELECT sgfdw.import_table('t/err', 'other', 'other')")
    object_id = execute(repo, "SELECT object_ids[1] FROM splitgraph_meta.tables "
                              "WHERE table_name = 'src' LIMIT 1")[0][0]
    path = object_file(repo, pg, object_id)
    assert path.is_file()
    if damage == "delete":
        path.unlink()
    else:
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    execute(repo, "DELETE FROM \"t/err\".other WHERE k = 'a'")  # the working copy as it is
    working_copy = rows_of(repo, '"t/err".other')
    error = error_of(repo, "SELECT sgfdw.checkout('t/err', 'latest', force => true)")
    assert error.pgcode == "XX001" and object_id in error.diag.message_primary
    assert rows_of(repo, '"t/err".other') == working_copy
    assert_same_rows(repo, "src", '"t/err".src')
    assert_usable(repo)
    # Storing the same rows again writes the object's file afresh.
    execute(repo, "SELECT sgfdw.import_table('t/err', 'src', 'src')")
    assert execute(repo, "SELECT count(*) FROM splitgraph_meta.objects") == [(2,)]
    execute(repo, "SELECT sgfdw.checkout('t/err', 'latest', force => true)")
    assert_same_rows(repo, "src", '"t/err".src')


@pytest.fixture
def tiny_dir():
    """A 64 kB file system the server may write to (skipped where mounting is not
    allowed); in /tmp, whose subfolders the server's user can reach."""
    path = Path(tempfile.mkdtemp(prefix="sgfdw-tiny-", dir="/tmp"))
    path.chmod(0o755)
    try:
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0777", "tmpfs",
                           str(path)], capture_output=True).returncode != 0:
            pytest.skip("cannot mount a small tmpfs here")
        try:
            yield path
        finally:
            subprocess.run(["umount", str(path)], check=True)
    finally:
        path.rmdir()


def test_full_disk_fails_the_import_without_metadata_or_partial_file(repo, tiny_dir):
    before = metadata(repo)
    execute(repo, "CREATE TABLE noise AS SELECT g AS id, md5(g::text) || md5((-g)::text) AS v "
                  "FROM generate_series(1, 20000) g")
    execute(repo, "SET sgfdw.object_dir = %s", (str(tiny_dir),))
    error = error_of(repo, "SELECT sgfdw.import_table('t/err', 'noise', 'noise')")
    assert error.pgcode == "53100", error
    execute(repo, "RESET sgfdw.object_dir")
    assert metadata(repo) == before
    assert [p.name for p in tiny_dir.rglob("*") if p.is_file()] == []
