"""Fixtures of the Splitfile tests: a source database on the `remote` cluster, a base
repository in `db`, the test plugins (tests/fdws/splitfile_plugins.py) registered in
the test's backend."""
from __future__ import annotations

import pytest

from fdwtest import execute
from splitfile_helpers import EVENTS, SOURCE_DB


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
