"""ALTER EXTENSION sgfdw UPDATE from 0.1 to the current version in a database with a
mounted foreign table: the store's objects are those of a fresh install, and the
mounted table can be versioned."""
from __future__ import annotations

from store_helpers import assert_same_rows
from fdwtest import create_people, execute

STORE_OBJECTS = ("SELECT pg_describe_object(classid, objid, 0) FROM pg_depend "
                 "WHERE refobjid = (SELECT oid FROM pg_extension WHERE extname = 'sgfdw') "
                 "AND deptype = 'e' AND (pg_describe_object(classid, objid, 0) ~ "
                 "'splitgraph_meta|sgfdw\\.(init|import_table|checkout|commit|diff|tag|log|rm"
                 "|cleanup|record_changes|repositories|build|provenance|splitfile_guard)\\M"
                 "|sgfdw_splitfile_guard') ORDER BY 1")


STORE_FUNCTIONS = ("SELECT pg_get_functiondef(p.oid), p.proacl::text FROM pg_proc p "
                   "WHERE p.pronamespace = 'sgfdw'::regnamespace AND p.proname IN ('init', "
                   "'import_table', 'checkout', 'commit', 'diff', 'tag', 'log', 'rm', "
                   "'cleanup', 'record_changes', 'build', 'provenance', 'splitfile_guard') "
                   "ORDER BY 1")
STORE_TABLES = ("SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), "
                "a.attnotnull FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                "WHERE c.relnamespace = 'splitgraph_meta'::regnamespace AND a.attnum > 0 "
                "ORDER BY 1, a.attnum")
STORE_CONSTRAINTS = ("SELECT conrelid::regclass::text, pg_get_constraintdef(oid) "
                     "FROM pg_constraint WHERE connamespace = 'splitgraph_meta'::regnamespace "
                     "ORDER BY 1, 2")
STORE_VIEW = "SELECT pg_get_viewdef('sgfdw.repositories'::regclass)"


def store_definitions(db) -> list:
    return [execute(db, query) for query in (STORE_OBJECTS, STORE_FUNCTIONS, STORE_TABLES,
                                             STORE_CONSTRAINTS, STORE_VIEW)]


def test_upgrade_from_0_1_with_a_mounted_table(pg, db):
    fresh = store_definitions(db)
    assert len(fresh[0]) > 15 and len(fresh[1]) == 13
    with pg.extension_database("upgrade_store") as old:
        execute(old, "DROP EXTENSION sgfdw")
        execute(old, "CREATE EXTENSION sgfdw VERSION '0.1'")
        create_people(old)
        execute(old, "ALTER EXTENSION sgfdw UPDATE")
        assert store_definitions(old) == fresh
        execute(old, "SELECT sgfdw.init('t/mounted')")
        execute(old, "SELECT sgfdw.import_table('t/mounted', 'people', 'people')")
        execute(old, "SELECT sgfdw.checkout('t/mounted', '00000000')")
        execute(old, "SELECT sgfdw.checkout('t/mounted')")
        assert_same_rows(old, "people_local", '"t/mounted".people')
