"""Fixtures of the SqlAlchemyFdw tests: sources to read and write.

sqlite_dir   a directory the server's OS user (postgres) can read and write, where a
             test creates its SQLite database files (the backend opens them, and SQLite
             writes its journal next to them)
sqlite_items a SQLite file with the `items` table (sqladata.ITEMS), path returned
module_db    like `db` but shared by a module's read-only tests (creating a database
             per test costs ~0.5 s); tests using it leave no state behind
module_sqlite_dir, module_remote_src: module-scoped sqlite_dir and remote_src
remote_src   a fresh database on the `remote` cluster with `items` and `kinds`
             (sqladata), returned as a sqladata.RemoteSource (dbname, url, connect())
"""
from __future__ import annotations

import itertools
import shutil
import tempfile
from pathlib import Path

import pytest

import sqladata
from sqladata import give_to_postgres, make_sqlite

_counter = itertools.count(1)


def _new_sqlite_dir():
    path = Path(tempfile.mkdtemp(prefix="sgfdw-sqla-", dir="/tmp"))
    path.chmod(0o755)
    give_to_postgres(path)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def sqlite_dir():
    yield from _new_sqlite_dir()


@pytest.fixture(scope="module")
def module_sqlite_dir():
    yield from _new_sqlite_dir()


@pytest.fixture(scope="module")
def module_db(pg, request):
    name = f"m{next(_counter)}_{request.module.__name__.lower()}"[:60]
    with pg.extension_database(name) as conn:
        yield conn


@pytest.fixture
def sqlite_items(sqlite_dir):
    return make_sqlite(sqlite_dir, "items.db", sqladata.sqlite_script())


def _new_remote_src(remote):
    name = f"src{next(_counter)}"
    remote.create_database(name)
    source = sqladata.RemoteSource(remote, name)
    conn = source.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(sqladata.postgres_script())
            cur.executemany(sqladata.ITEMS_INSERT_PG, sqladata.ITEMS)
            cur.executemany(sqladata.KINDS_INSERT_PG, sqladata.KINDS)
            cur.execute("ANALYZE")
    finally:
        conn.close()
    try:
        yield source
    finally:
        remote.drop_database(name)


@pytest.fixture
def remote_src(remote):
    yield from _new_remote_src(remote)


@pytest.fixture(scope="module")
def module_remote_src(remote):
    yield from _new_remote_src(remote)
