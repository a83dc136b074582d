"""sgfdw.checkout(repository, image, layered => true): the repository's schema gets
foreign tables reading the image in place, with the rows of the same image checked out
as tables; a transaction writing to them makes a new image that becomes HEAD; commit
refuses such a schema (55000) and checkout replaces it either way."""
from __future__ import annotations

from psycopg2 import sql

from layered_helpers import rows_of
from fdwtest import assert_usable, error_of, execute

REPO = "t/co"
SCHEMA = '"t/co"'


def relkinds(db) -> dict[str, str]:
    return dict(execute(db, "SELECT c.relname::text, c.relkind::text FROM pg_class c JOIN "
                            "pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s "
                            "AND c.relkind IN ('r', 'f')", (REPO,)))


def test_layered_checkout_reads_the_image_in_place(db):
    execute(db, "SET sgfdw.fragment_rows = 50")
    execute(db, "SELECT sgfdw.init(%s)", (REPO,))
    execute(db, f"CREATE TABLE {SCHEMA}.keyed (id int PRIMARY KEY, v text, n numeric(8,2))")
    execute(db, f"CREATE TABLE {SCHEMA}.loose (a int, b date)")
    execute(db, f"INSERT INTO {SCHEMA}.keyed SELECT g, md5(g::text), g / 3.0 "
                "FROM generate_series(1, 300) g")
    execute(db, f"INSERT INTO {SCHEMA}.loose VALUES (1, '2020-01-01'), (1, '2020-01-01'), "
                "(2, 'infinity')")
    first = execute(db, "SELECT sgfdw.commit(%s)", (REPO,))[0][0]
    execute(db, f"UPDATE {SCHEMA}.keyed SET v = 'new' WHERE id % 7 = 0")
    execute(db, f"DELETE FROM {SCHEMA}.keyed WHERE id BETWEEN 100 AND 120")
    second = execute(db, "SELECT sgfdw.commit(%s)", (REPO,))[0][0]
    expected = {}
    for image in (first, second):
        execute(db, "SELECT sgfdw.checkout(%s, %s)", (REPO, image))
        expected[image] = {t: rows_of(db, f'{SCHEMA}."{t}"') for t in ("keyed", "loose")}

    for image in (first, second, first):
        assert execute(db, "SELECT sgfdw.checkout(%s, %s, layered => true)",
                       (REPO, image)) == [(image,)]
        assert relkinds(db) == {"keyed": "f", "loose": "f"}
        assert {t: rows_of(db, f'{SCHEMA}."{t}"') for t in ("keyed", "loose")} \
            == expected[image]
        plan = "\n".join(row[0] for row in execute(
            db, f"EXPLAIN SELECT * FROM {SCHEMA}.keyed WHERE id = 200"))
        assert f"({image[:12]})" in plan and "pruned by index" in plan
        assert execute(db, "SELECT tag FROM splitgraph_meta.tags WHERE image_hash = %s "
                           "AND tag = 'HEAD'", (image,)) == [("HEAD",)]

    error = error_of(db, "SELECT sgfdw.commit(%s)", (REPO,))
    assert error.pgcode == "55000" and "checked out layered" in error.pgerror
    assert_usable(db)
    assert execute(db, "SELECT count(*) FROM splitgraph_meta.images") == [(3,)]

    # A layered schema has no changes to lose; an ordinary table added to it has.
    execute(db, sql.SQL("CREATE TABLE {}.extra (x int)").format(sql.Identifier(REPO)))
    error = error_of(db, "SELECT sgfdw.checkout(%s, %s)", (REPO, second))
    assert error.pgcode == "55000" and "added table extra" in error.pgerror
    execute(db, sql.SQL("DROP TABLE {}.extra").format(sql.Identifier(REPO)))
    execute(db, "SELECT sgfdw.checkout(%s, %s)", (REPO, second))
    assert relkinds(db) == {"keyed": "r", "loose": "r"}
    assert rows_of(db, f"{SCHEMA}.keyed") == expected[second]["keyed"]
    execute(db, f"UPDATE {SCHEMA}.keyed SET v = 'again' WHERE id = 1")
    error = error_of(db, "SELECT sgfdw.checkout(%s, %s, layered => true)", (REPO, first))
    assert error.pgcode == "55000"  # uncommitted changes refused as by any checkout
    assert_usable(db)


def test_layered_checkout_of_an_unknown_image_changes_nothing(db):
    execute(db, "SELECT sgfdw.init(%s)", (REPO,))
    execute(db, f"CREATE TABLE {SCHEMA}.t (id int PRIMARY KEY)")
    execute(db, "SELECT sgfdw.commit(%s)", (REPO,))
    error = error_of(db, "SELECT sgfdw.checkout(%s, 'nosuchtag', layered => true)", (REPO,))
    assert error.pgcode == "42704"
    assert_usable(db)
    assert relkinds(db) == {"t": "r"}


def test_writes_to_a_layered_checkout_make_an_image_that_becomes_head(db):
    execute(db, "SELECT sgfdw.init(%s)", (REPO,))
    execute(db, f"CREATE TABLE {SCHEMA}.t (id int PRIMARY KEY, v text)")
    execute(db, f"INSERT INTO {SCHEMA}.t SELECT g, g::text FROM generate_series(1, 20) g")
    base = execute(db, "SELECT sgfdw.commit(%s)", (REPO,))[0][0]
    execute(db, "SELECT sgfdw.checkout(%s, %s)", (REPO, "0" * 64))  # HEAD: no tables
    execute(db, "SELECT sgfdw.checkout(%s, %s, layered => true)", (REPO, base))
    assert relkinds(db) == {"t": "f"}
    db.autocommit = False  # one transaction: one image
    execute(db, f"UPDATE {SCHEMA}.t SET v = 'x' WHERE id <= 3")
    execute(db, f"DELETE FROM {SCHEMA}.t WHERE id = 20")
    db.commit()
    db.autocommit = True
    head = execute(db, "SELECT image_hash, parent_id FROM splitgraph_meta.tags JOIN "
                       "splitgraph_meta.images USING (namespace, repository, image_hash) "
                       "WHERE tag = 'HEAD'")
    assert head[0][1] == base and head[0][0] != base
    layered = rows_of(db, f"{SCHEMA}.t")
    execute(db, "SELECT sgfdw.checkout(%s, 'HEAD')", (REPO,))
    assert relkinds(db) == {"t": "r"} and rows_of(db, f"{SCHEMA}.t") == layered
    assert execute(db, f"SELECT count(*), count(*) FILTER (WHERE v = 'x') FROM {SCHEMA}.t") \
        == [(19, 3)]
