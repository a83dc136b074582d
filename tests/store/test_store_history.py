"""Images, tags and references: init, log, tag, latest/HEAD, hash prefixes, rm, and
the sgfdw.repositories view."""
from __future__ import annotations

from fdwtest import execute

ZERO = "0" * 64


def setup_history(db) -> list[str]:
    """t/hist: the empty image, then three imports; hashes oldest first."""
    execute(db, "CREATE TABLE src (id int PRIMARY KEY, v text)")
    hashes = [execute(db, "SELECT sgfdw.init('t/hist')")[0][0]]
    for i in range(3):
        execute(db, "INSERT INTO src VALUES (%s, %s)", (i, f"v{i}"))
        hashes.append(execute(db, "SELECT sgfdw.import_table('t/hist', 'src', 'src', %s)",
                              (f"step {i}",))[0][0])
    return hashes


def test_log_is_newest_first_with_parents_comments_and_tags(db):
    hashes = setup_history(db)
    assert hashes[0] == ZERO
    execute(db, "SELECT sgfdw.tag('t/hist', %s, 'v1')", (hashes[1],))
    execute(db, "SELECT sgfdw.tag('t/hist', %s, 'also-first')", (hashes[1][:10],))
    log = execute(db, "SELECT image_hash, parent_id, comment, tags FROM sgfdw.log('t/hist')")
    assert [row[0] for row in log] == hashes[::-1]
    assert [row[1] for row in log] == [*hashes[::-1][1:], None]
    assert [row[2] for row in log] == ["step 2", "step 1", "step 0", "empty image"]
    assert log[0][3] == ["HEAD"] and log[2][3] == ["also-first", "v1"]
    created = [row[0] for row in execute(db, "SELECT created FROM sgfdw.log('t/hist')")]
    assert created == sorted(created, reverse=True)


def test_references_tag_latest_head_full_hash_and_prefix(db):
    hashes = setup_history(db)
    execute(db, "SELECT sgfdw.tag('t/hist', %s, 'first')", (hashes[1],))
    assert execute(db, "SELECT sgfdw.checkout('t/hist', 'first')") == [(hashes[1],)]
    assert execute(db, "SELECT count(*) FROM \"t/hist\".src") == [(1,)]
    assert execute(db, "SELECT sgfdw.checkout('t/hist', 'HEAD')") == [(hashes[1],)]
    assert execute(db, "SELECT sgfdw.checkout('t/hist', %s)", (hashes[2],)) == [(hashes[2],)]
    assert execute(db, "SELECT sgfdw.checkout('t/hist', %s)", (hashes[1][:8].upper(),)) == [
        (hashes[1],)]
    assert execute(db, "SELECT sgfdw.checkout('t/hist')") == [(hashes[3],)]
    assert execute(db, "SELECT count(*) FROM \"t/hist\".src") == [(3,)]
    # Setting a tag again moves it.
    execute(db, "SELECT sgfdw.tag('t/hist', 'latest', 'first')")
    assert execute(db, "SELECT sgfdw.checkout('t/hist', 'first')") == [(hashes[3],)]


def test_repositories_view(db):
    hashes = setup_history(db)
    execute(db, "SELECT sgfdw.init('other/repo')")
    execute(db, "SELECT sgfdw.tag('t/hist', %s, 'b')", (hashes[1],))
    execute(db, "SELECT sgfdw.tag('t/hist', %s, 'a')", (hashes[2],))
    assert execute(db, "SELECT * FROM sgfdw.repositories ORDER BY repository") == [
        ("other/repo", ZERO, 1, []), ("t/hist", hashes[3], 4, ["a", "b"])]


def test_rm_removes_repository_schema_and_metadata_only_of_that_repository(db):
    setup_history(db)
    execute(db, "SELECT sgfdw.init('t/kept')")
    execute(db, "SELECT sgfdw.import_table('t/kept', 'src', 'src')")
    execute(db, "SELECT sgfdw.rm('t/hist')")
    assert execute(db, "SELECT repository FROM sgfdw.repositories") == [("t/kept",)]
    assert execute(db, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 't/%' "
                       "ORDER BY 1") == [("t/kept",)]
    for table in ("images", "tags", "tables"):
        assert execute(db, f"SELECT count(*) FROM splitgraph_meta.{table} "
                           "WHERE repository = 'hist'") == [(0,)]
    assert execute(db, "SELECT count(*) FROM \"t/kept\".src") == [(3,)]


def test_functions_are_not_granted_to_public(db):
    names = execute(db, "SELECT p.proname FROM pg_proc p WHERE p.pronamespace = "
                        "'sgfdw'::regnamespace AND p.proname IN ('init', 'import_table', "
                        "'checkout', 'tag', 'log', 'rm') AND has_function_privilege("
                        "'public', p.oid, 'EXECUTE')")
    assert names == []


def test_import_may_replace_a_table_from_itself(db):
    hashes = setup_history(db)
    execute(db, "UPDATE \"t/hist\".src SET v = 'again'")
    image = execute(db, "SELECT sgfdw.import_table('t/hist', 'src', '\"t/hist\".src')")[0][0]
    assert execute(db, "SELECT parent_id FROM sgfdw.log('t/hist') LIMIT 1") == [(hashes[-1],)]
    assert execute(db, "SELECT DISTINCT v FROM \"t/hist\".src") == [("again",)]
    execute(db, "SELECT sgfdw.checkout('t/hist', %s)", (hashes[-1],))
    execute(db, "SELECT sgfdw.checkout('t/hist', %s)", (image,))
    assert execute(db, "SELECT DISTINCT v FROM \"t/hist\".src") == [("again",)]
    assert execute(db, "SELECT conname FROM pg_constraint WHERE conrelid = "
                       "'\"t/hist\".src'::regclass") == [("src_pkey",)]
