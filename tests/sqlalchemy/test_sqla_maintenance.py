"""SqlAlchemyFdw and maintenance: INSERT ... ON CONFLICT (refused, 0A000, never silently
dropped), TRUNCATE (PostgreSQL's refusal) and ANALYZE (statistics from a sample the
source picks); the session stays usable and the SQLite source unchanged."""
from __future__ import annotations

import pytest

from fdwtest import assert_usable, error_of, execute
from sqladata import ITEMS_LOCAL, create_server, create_table, sqlite_rows


@pytest.fixture
def ft(db, sqlite_items):
    create_server(db, "lite", f"sqlite:///{sqlite_items}")
    create_table(db, "items", "lite", ITEMS_LOCAL, tablename="items")
    return sqlite_items


def test_on_conflict_refused(db, ft):
    before = sqlite_rows(ft, "SELECT * FROM items ORDER BY id")
    for query in ("INSERT INTO items (id, name) VALUES (1, 'dup') ON CONFLICT DO NOTHING",
                  "INSERT INTO items (id, name) VALUES (999, 'new') ON CONFLICT DO NOTHING"):
        exc = error_of(db, query)
        assert exc.pgcode == "0A000"
        assert 'ON CONFLICT DO NOTHING is not supported on foreign table "items"' in exc.pgerror
        assert_usable(db)
    assert sqlite_rows(ft, "SELECT * FROM items ORDER BY id") == before


def test_truncate_refused(db, ft):
    exc = error_of(db, "TRUNCATE items")
    assert exc.pgcode == "0A000"
    assert exc.diag.message_primary == 'cannot truncate foreign table "items"'
    assert_usable(db)
    assert sqlite_rows(ft, "SELECT count(*) FROM items") == [(20,)]


def test_analyze_gathers_statistics(db, ft):
    before = sqlite_rows(ft, "SELECT * FROM items ORDER BY id")
    execute(db, "ANALYZE items")
    assert execute(db, "SELECT reltuples FROM pg_class WHERE relname = 'items'") == [(20.0,)]
    assert execute(db, "SELECT count(*) FROM pg_stats WHERE tablename = 'items'") == [(9,)]
    assert sqlite_rows(ft, "SELECT * FROM items ORDER BY id") == before
