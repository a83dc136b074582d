"""Fixtures of the PostgresFdw tests: a source database on the `remote` cluster and
foreign tables over it in a fresh `db` of the `pg` cluster.

source        session: database `pgfdw_src` on `remote`, filled by SOURCE_SQL (schema
              `src`: every common type, NULLs, unicode; a hostile-named schema, table
              and columns; a 20,000-row table with a key and an index; views, a
              materialized view, a partitioned table)
fdb           per test: `db` with server `rsrv` (wrapper sgfdw.postgres.PostgresFdw) and a
              user mapping holding a password (ignored by the trust authentication of
              the test clusters, and never to be shown), and `src` imported into
              schema `f`
"""
from __future__ import annotations

import itertools

import pytest

from pgfdw_helpers import SOURCE_DB, connect_fdw, create_source, execute


@pytest.fixture(scope="session")
def source(remote):
    create_source(remote)
    conn = remote.connect(SOURCE_DB)
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def fdb(db, remote, source):
    connect_fdw(db, remote)
    return db


_serial = itertools.count(1)

WRITE_SQL = """
CREATE SCHEMA {s};
CREATE TABLE {s}.items (
    id serial PRIMARY KEY,
    name text NOT NULL,
    qty integer DEFAULT 7,
    price numeric(10,2),
    tags text[],
    doc jsonb,
    day date,
    created timestamptz DEFAULT now(),
    gen integer GENERATED ALWAYS AS (qty * 2) STORED
);
CREATE TABLE {s}.nokey (a integer, b text);
CREATE TABLE {s}.ident (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);
CREATE TABLE {s}.uniq (id integer PRIMARY KEY,
                       code text UNIQUE DEFERRABLE INITIALLY DEFERRED);
"""


class WriteDb:
    """The local connection and the remote schema of a write test."""

    def __init__(self, conn, schema: str) -> None:
        self.conn = conn
        self.schema = schema

    def cursor(self, *args, **kwargs):
        return self.conn.cursor(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.conn, name)


@pytest.fixture
def wdb(fdb, source):
    """A fresh remote schema of writable tables, imported into local schema w."""
    schema = f"wr{next(_serial)}"
    execute(source, WRITE_SQL.format(s=schema))
    execute(fdb, "CREATE SCHEMA w")
    execute(fdb, f"IMPORT FOREIGN SCHEMA {schema} FROM SERVER rsrv INTO w")
    try:
        yield WriteDb(fdb, schema)
    finally:
        execute(source, f"DROP SCHEMA {schema} CASCADE")
