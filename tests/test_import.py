"""IMPORT FOREIGN SCHEMA through the bridge (tests/fdws/importer.py).

The importer describes tables with hostile names (quotes, semicolons, unicode, SQL); the
bridge passes LIMIT TO / EXCEPT on, merges server and user-mapping options, and the
created tables are usable.
"""

from __future__ import annotations

import pytest
from psycopg2 import sql

from fdwtest import Recorder, assert_usable, error_of, execute

TABLES = ["plain", 'we"ird;name', "it's", "ünï 表", "drop table x; --", "MixedCase"]
COLUMNS = ["id", 'na"me;', "ünï"]


@pytest.fixture
def importer(db):
    execute(db, "CREATE SERVER imp FOREIGN DATA WRAPPER sgfdw "
                "OPTIONS (wrapper 'importer.ImporterFdw', host 'h1', shared 'server')")
    execute(db, "CREATE USER MAPPING FOR CURRENT_USER SERVER imp "
                "OPTIONS (user 'u1', shared 'mapping')")
    execute(db, 'CREATE SCHEMA "local ;schema"')
    return Recorder(db)


def tables_in(db, schema='local ;schema'):
    return sorted(row[0] for row in execute(
        db, "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'f'", (schema,)))


def import_call(rec):
    (call,) = rec.calls("import_schema")
    return call


def idents(names):
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def test_import_all(importer):
    db = importer.db
    importer.run('IMPORT FOREIGN SCHEMA "remote ;schema" FROM SERVER imp INTO "local ;schema" '
                 "OPTIONS (flavour 'x')")
    assert tables_in(db) == sorted(TABLES)
    call = import_call(importer)
    assert call["schema"] == "remote ;schema"
    # Server options merged with the user mapping's (mapping wins), without wrapper.
    assert call["srv_options"] == {"host": "h1", "user": "u1", "shared": "mapping"}
    assert call["options"] == {"flavour": "x"}
    assert call["restriction_type"] is None and call["restricts"] == []


def test_imported_tables_are_usable(importer):
    db = importer.db
    execute(db, 'IMPORT FOREIGN SCHEMA remote FROM SERVER imp INTO "local ;schema"')
    for table in TABLES:
        query = sql.SQL("SELECT {} FROM {}.{}").format(
            idents(COLUMNS), sql.Identifier("local ;schema"), sql.Identifier(table))
        assert execute(db, query) == [(1, table, "1")]
    # Column names and types as described; the table options as given.
    columns = execute(db, "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                          "WHERE attrelid = '\"local ;schema\".\"we\"\"ird;name\"'::regclass "
                          "AND attnum > 0 ORDER BY attnum")
    assert columns == [("id", "integer"), ('na"me;', "text"), ("ünï", "text")]
    options = execute(db, "SELECT ftoptions FROM pg_foreign_table "
                          "WHERE ftrelid = '\"local ;schema\".\"it''s\"'::regclass")
    assert sorted(options[0][0]) == ["remote_schema=remote", "table=it's"]
    # Nothing was executed from the hostile names: no table x was dropped or created.
    assert execute(db, "SELECT count(*) FROM pg_class WHERE relname = 'x'") == [(0,)]


def test_import_limit_to(importer):
    db = importer.db
    wanted = ['we"ird;name', "ünï 表", "not there"]
    importer.run(sql.SQL('IMPORT FOREIGN SCHEMA remote LIMIT TO ({}) FROM SERVER imp '
                         'INTO "local ;schema"').format(idents(wanted)))
    assert tables_in(db) == sorted(['we"ird;name', "ünï 表"])
    call = import_call(importer)
    assert call["restriction_type"] == "limit"
    assert sorted(call["restricts"]) == sorted(wanted)


def test_import_except(importer):
    db = importer.db
    unwanted = ["plain", "drop table x; --", "MixedCase"]
    importer.run(sql.SQL('IMPORT FOREIGN SCHEMA remote EXCEPT ({}) FROM SERVER imp '
                         'INTO "local ;schema"').format(idents(unwanted)))
    assert tables_in(db) == sorted(['we"ird;name', "it's", "ünï 表"])
    call = import_call(importer)
    assert call["restriction_type"] == "except"
    assert sorted(call["restricts"]) == sorted(unwanted)


def test_import_case_sensitive_names(importer):
    db = importer.db
    execute(db, 'IMPORT FOREIGN SCHEMA remote LIMIT TO (mixedcase, "MixedCase") '
                'FROM SERVER imp INTO "local ;schema"')
    assert tables_in(db) == ["MixedCase"]


def test_import_existing_table_conflicts(importer):
    db = importer.db
    execute(db, 'IMPORT FOREIGN SCHEMA remote LIMIT TO (plain) FROM SERVER imp '
                'INTO "local ;schema"')
    error = error_of(db, 'IMPORT FOREIGN SCHEMA remote LIMIT TO (plain) FROM SERVER imp '
                         'INTO "local ;schema"')
    assert error.pgcode == "42P07"  # duplicate_table
    assert_usable(db)


def test_import_without_user_mapping(db):
    execute(db, "CREATE SERVER imp FOREIGN DATA WRAPPER sgfdw "
                "OPTIONS (wrapper 'importer.ImporterFdw', host 'h1')")
    rec = Recorder(db)
    rec.run("IMPORT FOREIGN SCHEMA remote LIMIT TO (plain) FROM SERVER imp INTO public")
    assert import_call(rec)["srv_options"] == {"host": "h1"}
    assert execute(db, "SELECT id FROM plain") == [(1,)]


def test_import_not_supported_by_fdw(db):
    execute(db, "CREATE SERVER rec FOREIGN DATA WRAPPER sgfdw "
                "OPTIONS (wrapper 'recording.RecordingFdw')")
    error = error_of(db, "IMPORT FOREIGN SCHEMA remote FROM SERVER rec INTO public")
    assert error.pgcode == "0A000", (error.pgcode, str(error))
    assert "IMPORT FOREIGN SCHEMA" in error.diag.message_primary
    assert_usable(db)
