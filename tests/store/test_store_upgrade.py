"""ALTER EXTENSION sgfdw UPDATE from 0.1 to 0.2 in a database with a mounted foreign
table: the store's objects are those of a fresh 0.2 install, and the mounted table can
be versioned."""
from __future__ import annotations

from conftest import assert_same_rows
from fdwtest import create_people, execute

STORE_OBJECTS = ("SELECT pg_describe_object(classid, objid, 0) FROM pg_depend "
                 "WHERE refobjid = (SELECT oid FROM pg_extension WHERE extname = 'sgfdw') "
                 "AND deptype = 'e' AND (pg_describe_object(classid, objid, 0) ~ "
                 "'splitgraph_meta|sgfdw\\.(init|import_table|checkout|commit|diff|tag|log|rm"
                 "|cleanup|record_changes|repositories)\\M') ORDER BY 1")


def test_upgrade_from_0_1_with_a_mounted_table(pg, db):
    fresh = execute(db, STORE_OBJECTS)
    assert len(fresh) > 15
    with pg.extension_database("upgrade_store") as old:
        execute(old, "DROP EXTENSION sgfdw")
        execute(old, "CREATE EXTENSION sgfdw VERSION '0.1'")
        create_people(old)
        execute(old, "ALTER EXTENSION sgfdw UPDATE TO '0.2'")
        assert execute(old, STORE_OBJECTS) == fresh
        execute(old, "SELECT sgfdw.init('t/mounted')")
        execute(old, "SELECT sgfdw.import_table('t/mounted', 'people', 'people')")
        execute(old, "SELECT sgfdw.checkout('t/mounted', '00000000')")
        execute(old, "SELECT sgfdw.checkout('t/mounted')")
        assert_same_rows(old, "people_local", '"t/mounted".people')
