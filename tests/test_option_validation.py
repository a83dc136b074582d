"""Options checked when written: CREATE/ALTER of servers, user mappings, foreign tables
(and their columns) and IMPORT FOREIGN SCHEMA ask the wrapper class's validate_options
(tests/fdws/validating.py); a bad option is refused with HV00D and a hint, the command
is undone, and classes without validate_options keep accepting anything."""

from __future__ import annotations

import pytest
from psycopg2 import sql

from fdwtest import Recorder, assert_usable, error_of, execute


@pytest.fixture
def server(db):
    execute(db, "CREATE SERVER v FOREIGN DATA WRAPPER sgfdw "
                "OPTIONS (wrapper 'validating.ValidatingFdw', host 'h')")
    return Recorder(db)


def assert_refused(db, statement: str, option: str) -> None:
    error = error_of(db, statement)
    assert error.pgcode == "HV00D", (error.pgcode, str(error))
    assert f'invalid option "{option}"' in error.diag.message_primary
    assert error.diag.message_hint.startswith("Valid options in this context are: ")
    assert error.diag.message_detail is None  # a user's mistake, not a traceback
    assert_usable(db)


def validated(rec: Recorder) -> list[tuple[str, dict]]:
    return [(call["context"], call["options"]) for call in rec.calls("validate_options")]


def options_of_server(db, name: str) -> list[str]:
    return execute(db, "SELECT srvoptions FROM pg_foreign_server WHERE srvname = %s",
                   (name,))[0][0]


def test_server_options_checked_without_wrapper(server):
    server.run("CREATE SERVER v2 FOREIGN DATA WRAPPER sgfdw "
               "OPTIONS (wrapper 'validating.ValidatingFdw', port '5432')")
    assert validated(server) == [("server", {"port": "5432"})]


def test_bad_server_option_refused_at_create(db):
    assert_refused(db, "CREATE SERVER v FOREIGN DATA WRAPPER sgfdw "
                       "OPTIONS (wrapper 'validating.ValidatingFdw', hots 'h')", "hots")
    assert execute(db, "SELECT count(*) FROM pg_foreign_server WHERE srvname = 'v'") == [(0,)]


def test_bad_server_option_refused_at_alter(server):
    db = server.db
    assert_refused(db, "ALTER SERVER v OPTIONS (ADD hots 'x')", "hots")
    assert options_of_server(db, "v") == ["wrapper=validating.ValidatingFdw", "host=h"]
    execute(db, "ALTER SERVER v OPTIONS (SET host 'h2', ADD port '1')")
    assert options_of_server(db, "v") == ["wrapper=validating.ValidatingFdw", "host=h2",
                                          "port=1"]


def test_user_mapping_options_checked(server):
    db = server.db
    assert_refused(db, "CREATE USER MAPPING FOR CURRENT_USER SERVER v "
                       "OPTIONS (user 'u', host 'elsewhere')", "host")
    assert execute(db, "SELECT count(*) FROM pg_user_mappings WHERE srvname = 'v'") == [(0,)]
    server.run("CREATE USER MAPPING FOR CURRENT_USER SERVER v OPTIONS (user 'u')")
    assert validated(server) == [("user_mapping", {"user": "u"})]
    assert_refused(db, "ALTER USER MAPPING FOR CURRENT_USER SERVER v "
                       "OPTIONS (ADD passfile '/tmp/x')", "passfile")


def test_user_mapping_of_non_superuser_checked(server, role):
    db = server.db
    execute(db, sql.SQL("GRANT USAGE ON FOREIGN SERVER v TO {}").format(sql.Identifier(role)))
    execute(db, sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
    assert_refused(db, "CREATE USER MAPPING FOR CURRENT_USER SERVER v "
                       "OPTIONS (db_url 'sqlite:////tmp/x')", "db_url")
    # The mapping's own user can read its options, so the check sees them.
    server.run("CREATE USER MAPPING FOR CURRENT_USER SERVER v OPTIONS (password 'p')")
    assert validated(server) == [("user_mapping", {"password": "p"})]
    execute(db, "RESET ROLE")


def test_table_and_column_options_checked(server):
    db = server.db
    assert_refused(db, "CREATE FOREIGN TABLE t (id int) SERVER v OPTIONS (tabel_name 'x')",
                   "tabel_name")
    assert_refused(db, "CREATE FOREIGN TABLE t (id int OPTIONS (colum_name 'x')) SERVER v",
                   "colum_name")
    assert execute(db, "SELECT count(*) FROM pg_class WHERE relname = 't'") == [(0,)]
    server.run("CREATE FOREIGN TABLE t (id int OPTIONS (column_name 'i'), other text) "
               "SERVER v OPTIONS (table_name 'x')")
    assert validated(server) == [("table", {"table_name": "x"}),
                                 ("column", {"column_name": "i"})]
    assert_refused(db, "ALTER FOREIGN TABLE t ALTER COLUMN other OPTIONS (ADD colum_name 'o')",
                   "colum_name")
    assert_refused(db, "ALTER FOREIGN TABLE t OPTIONS (ADD hots 'x')", "hots")
    assert execute(db, "SELECT * FROM t") == [(1, None)]


def test_table_wrapper_overrides_server_wrapper(db):
    # The server's class has no validate_options; the table names one that has.
    execute(db, "CREATE SERVER plain FOREIGN DATA WRAPPER sgfdw "
                "OPTIONS (wrapper 'recording.RecordingFdw', anything 'goes')")
    assert_refused(db, "CREATE FOREIGN TABLE t (id int) SERVER plain "
                       "OPTIONS (wrapper 'validating.ValidatingFdw', hots 'x')", "hots")
    execute(db, "CREATE FOREIGN TABLE t (id int) SERVER plain "
                "OPTIONS (wrapper 'validating.ValidatingFdw', table_name 'x')")


def test_imported_tables_checked(server):
    db = server.db
    execute(db, "CREATE SCHEMA s")
    assert_refused(db, "IMPORT FOREIGN SCHEMA r FROM SERVER v INTO s OPTIONS (hots 'x')",
                   "hots")
    assert execute(db, "SELECT count(*) FROM pg_class WHERE relname = 'imported'") == [(0,)]
    execute(db, "IMPORT FOREIGN SCHEMA r FROM SERVER v INTO s OPTIONS (table_name 'r')")
    assert execute(db, "SELECT * FROM s.imported") == [(1,)]


def test_classes_without_validate_options_accept_anything(db):
    execute(db, "CREATE SERVER rec FOREIGN DATA WRAPPER sgfdw "
                "OPTIONS (wrapper 'recording.RecordingFdw', hots 'x')")
    execute(db, "CREATE USER MAPPING FOR CURRENT_USER SERVER rec OPTIONS (anything 'x')")
    execute(db, "CREATE FOREIGN TABLE t (id int OPTIONS (colum_name 'x')) SERVER rec "
                "OPTIONS (dataset 'people')")
    execute(db, "ALTER FOREIGN TABLE t OPTIONS (ADD whatever 'x')")


def test_other_wrappers_never_reach_python(db):
    # An FDW without sgfdw's handler: its DDL must not depend on sgfdw's Python at all
    # (a broken sgfdw.python setting must not break it).
    execute(db, "CREATE FOREIGN DATA WRAPPER other_fdw")
    execute(db, "SET sgfdw.python = '/nonexistent/python'")
    execute(db, "CREATE SERVER o FOREIGN DATA WRAPPER other_fdw OPTIONS (hots 'x')")
    execute(db, "CREATE USER MAPPING FOR CURRENT_USER SERVER o OPTIONS (anything 'x')")
    execute(db, "CREATE FOREIGN TABLE o_t (id int) SERVER o OPTIONS (whatever 'x')")
    execute(db, "DROP FOREIGN DATA WRAPPER other_fdw CASCADE")


def test_upgrade_from_0_1_adds_checks(pg):
    with pg.extension_database("upgrade_checks") as db:
        execute(db, "DROP EXTENSION sgfdw")
        execute(db, "CREATE EXTENSION sgfdw VERSION '0.1'")
        execute(db, "CREATE SERVER v FOREIGN DATA WRAPPER sgfdw "
                    "OPTIONS (wrapper 'validating.ValidatingFdw', hots 'x')")
        execute(db, "ALTER EXTENSION sgfdw UPDATE")
        assert_refused(db, "ALTER SERVER v OPTIONS (ADD colour 'x')", "hots")
