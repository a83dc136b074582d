"""Helpers of the Splitfile tests: the source database's name and contents, building,
reading cache-hit notices and the plugins' call counts. A module of its own name:
every test folder's conftest is a module named `conftest`, and which one
`from conftest import` finds depends on what pytest loaded first."""
from __future__ import annotations

import json

from fdwtest import execute

SOURCE_DB = "splitfile_src"
PASSWORD = "not-shown-anywhere"
EVENTS = ("CREATE TABLE events (id integer PRIMARY KEY, kind text, amount numeric(10,2)); "
          "INSERT INTO events SELECT i, 'kind' || (i % 4), i * 1.25 "
          "FROM generate_series(1, 200) i")


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
