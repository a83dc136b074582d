"""The 'sqlalchemy' mount handler from SQL: sgfdw.mount imports a SQLite database's
tables and the results match the source."""

from __future__ import annotations

import json

from fdwtest import user_servers
from sqladata import sqlite_rows


def execute(db, query, params=None):
    with db.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall() if cur.description is not None else None


def test_mount_sqlite_through_the_sqlalchemy_handler(db, sqlite_items):
    url = f"sqlite:///{sqlite_items}"
    execute(db, "SELECT sgfdw.mount('lite', 'sqlalchemy', %s)", (json.dumps({"db_url": url}),))
    tables = execute(db, "SELECT foreign_table_name FROM information_schema.foreign_tables "
                         "WHERE foreign_table_schema = 'lite'")
    assert ("items",) in tables
    local = execute(db, "SELECT count(*) FROM lite.items")
    assert local == sqlite_rows(sqlite_items, "SELECT count(*) FROM items")
    server_options = execute(db, "SELECT srvoptions FROM pg_foreign_server "
                                 "WHERE srvname = 'lite_server'")[0][0]
    assert "wrapper=sgfdw.sqlalchemy.SqlAlchemyFdw" in server_options
    execute(db, "SELECT sgfdw.unmount('lite')")
    assert user_servers(db) == []


def test_mount_sqlite_with_an_explicit_table(db, sqlite_items):
    url = f"sqlite:///{sqlite_items}"
    execute(db, "SELECT sgfdw.mount('lite', 'sqlalchemy', %s, true, %s)",
            (json.dumps({"db_url": url}), json.dumps({"items": [["id", "integer"]]})))
    assert execute(db, "SELECT count(*) FROM lite.items") == sqlite_rows(
        sqlite_items, "SELECT count(*) FROM items")
