"""sgfdw.checkout(repository, image, layered => true): the repository's schema gets
foreign tables reading the image in place, with the rows of the same image checked out
as tables; commit refuses such a schema (55000) and checkout replaces it either way."""
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
