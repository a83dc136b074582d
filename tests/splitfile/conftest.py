"""Fixtures of the Splitfile tests: a source database on the `remote` cluster, a base
repository in `db`, the test plugins (tests/fdws/splitfile_plugins.py) registered in
the test's backend, and helpers to build and read notices."""
from __future__ import annotations

import json

import pytest

from fdwtest import execute

SOURCE_DB = "splitfile_src"
PASSWORD = "not-shown-anywhere"
EVENTS = ("CREATE TABLE events (id integer PRIMARY KEY, kind text, amount numeric(10,2)); "
          "INSERT INTO events SELECT i, 'kind' || (i % 4), i * 1.25 "
          "FROM generate_series(1, 200) i")


@pytest.fixture(scope="session")
def source_db(remote):
    remote.create_database(SOURCE_DB)
    remote.sql(EVENTS, dbname=SOURCE_DB)
    return remote


@pytest.fixture
def sdb(db):
    """db with the plugin functions and the base repository t/base (tag v1): table
    cities (id primary key, name, population)."""
    execute(db, "CREATE FUNCTION register_plugins() RETURNS text LANGUAGE sgfdw_python "
                "AS 'splitfile_plugins.register'")
    execute(db, "CREATE FUNCTION plugin_calls() RETURNS jsonb LANGUAGE sgfdw_python "
                "AS 'splitfile_plugins.calls'")
    execute(db, "SELECT register_plugins()")
    execute(db, "CREATE TABLE cities (id integer PRIMARY KEY, name text, population integer)")
    execute(db, "INSERT INTO cities VALUES (1, 'Ann', 500), (2, 'Bo', 5000), "
                "(3, 'Cy', 20000), (4, 'Di', 50)")
    execute(db, "SELECT sgfdw.init('t/base')")
    execute(db, "SELECT sgfdw.import_table('t/base', 'cities', 'cities')")
    execute(db, "SELECT sgfdw.tag('t/base', 'HEAD', 'v1')")
    return db


def build(db, splitfile: str, output: str, params: dict | None = None) -> str:
    return execute(db, "SELECT sgfdw.build(%s, %s, %s)",
                   (splitfile, output, json.dumps(params or {})))[0][0]


def cache_hits(db) -> int:
    """The cache-hit NOTICEs since the last call (and forgets all notices)."""
    hits = sum("cache hit" in notice for notice in db.notices)
    db.notices.clear()
    return hits


def plugin_calls(db) -> dict:
    return execute(db, "SELECT plugin_calls()")[0][0]


def mount_options(remote) -> dict:
    return {"host": str(remote.socket_dir), "port": remote.port, "dbname": SOURCE_DB,
            "username": "postgres", "password": "${PASSWORD}", "remote_schema": "public"}
