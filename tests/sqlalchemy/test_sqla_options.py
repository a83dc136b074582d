"""SqlAlchemyFdw options through the bridge, as PostgresFdw's (sgfdw.remote.options):
an option a table does not take is refused even when it reached the catalogs
unchecked, and the row identity is rowid_column or its alias primary_key."""

from __future__ import annotations

import sqlite3

import pytest

from fdwtest import assert_usable, error_of, execute
from sqladata import ITEMS_LOCAL, create_server, create_table, sqlite_rows


def test_unknown_table_option_refused_at_first_use(db, sqlite_items):
    # Written under a wrapper that checks nothing, then the server changes wrapper: the
    # option was never checked. It used to be ignored silently.
    create_server(db, "lite", f"sqlite:///{sqlite_items}", wrapper="memory.MemoryFdw")
    create_table(db, "items", "lite", ITEMS_LOCAL, tablename="items", fetch_sise="10")
    execute(db, "ALTER SERVER lite OPTIONS (SET wrapper 'sgfdw.sqlalchemy.SqlAlchemyFdw')")
    error = error_of(db, "SELECT * FROM items")
    assert error.pgcode == "HV00D", error.pgerror
    assert error.diag.message_primary == \
        'invalid option "fetch_sise" for a foreign table of sgfdw.sqlalchemy.SqlAlchemyFdw'
    assert "fetch_size" in error.diag.message_hint
    assert_usable(db)
    execute(db, "ALTER FOREIGN TABLE items OPTIONS (DROP fetch_sise)")
    assert execute(db, "SELECT id, name FROM items ORDER BY id") == \
        sqlite_rows(sqlite_items, "SELECT id, name FROM items ORDER BY id")


@pytest.mark.parametrize("option", ["rowid_column", "primary_key"])
def test_row_identity_option_or_its_alias(db, sqlite_items, option):
    # A remote table without a primary key: the option names the row identity, under
    # either name.
    with sqlite3.connect(sqlite_items) as conn:
        conn.execute("CREATE TABLE nokey AS SELECT * FROM items")
    conn.close()
    create_server(db, "lite", f"sqlite:///{sqlite_items}")
    create_table(db, "plain", "lite", ITEMS_LOCAL, tablename="nokey")
    error = error_of(db, "DELETE FROM plain WHERE id = 1")
    assert error.pgcode == "0A000", error.pgerror
    assert "rowid_column (alias primary_key)" in error.diag.message_hint
    assert_usable(db)
    create_table(db, "keyed", "lite", ITEMS_LOCAL, tablename="nokey", **{option: "id"})
    execute(db, "UPDATE keyed SET name = 'x' WHERE id = 1")
    execute(db, "DELETE FROM keyed WHERE id = 2")
    assert execute(db, "SELECT id, name FROM keyed ORDER BY id") == \
        sqlite_rows(sqlite_items, "SELECT id, name FROM nokey ORDER BY id")
    assert sqlite_rows(sqlite_items, "SELECT id, name FROM nokey WHERE id <= 2") == \
        [(1, "x")]
