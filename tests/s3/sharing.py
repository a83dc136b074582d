"""Helpers of the sharing tests: engines (databases of the `pg` cluster), a registry
added as a remote, a repository to share, and its rows for comparison."""
from __future__ import annotations

import collections
import contextlib
import itertools

import psycopg2.extras

from fdwtest import execute

REPO = "demo/shared"
_engine_counter = itertools.count(1)


@contextlib.contextmanager
def another_engine(pg):
    with pg.extension_database(f"engine{next(_engine_counter)}") as conn:
        yield conn


def add_registry(engine, registry, hub, name: str = "registry", user: str = "postgres",
                 password: str = "unused") -> None:
    execute(engine, "SELECT sgfdw.add_remote(%s, %s, %s, %s, %s, %s)",
            (name, str(registry.socket_dir), registry.port, hub.info.dbname, user, password))


def rows(conn, query: str) -> collections.Counter:
    return collections.Counter(execute(conn, f"SELECT t::text FROM ({query}) t"))


def object_files(conn) -> int:
    """Files in this database's object folder."""
    return execute(conn, "SELECT count(*) FROM pg_ls_dir(current_setting('sgfdw.object_dir') "
                         "|| '/' || (SELECT oid FROM pg_database "
                         "WHERE datname = current_database()), true, false)")[0][0]


def make_repository(engine, rows_count: int = 5000) -> None:
    execute(engine, "CREATE TABLE source (id int PRIMARY KEY, name text, amount numeric, "
                    "at timestamptz, tags text[], doc jsonb)")
    execute(engine, "INSERT INTO source SELECT g, 'name ' || g, g / 7.0, "
                    "'2024-01-01'::timestamptz + g * interval '1 minute', "
                    "ARRAY['a', g::text], jsonb_build_object('g', g) "
                    "FROM generate_series(1, %s) g", (rows_count,))
    execute(engine, "SET sgfdw.fragment_rows = 1000")
    execute(engine, "SELECT sgfdw.init(%s)", (REPO,))
    execute(engine, "SELECT sgfdw.import_table(%s, 't', 'source')", (REPO,))


def shared_repository(engine, registry, hub, rows_count: int) -> None:
    """A repository of `rows_count` rows made on `engine` and pushed to the registry."""
    make_repository(engine, rows_count)
    add_registry(engine, registry, hub)
    push(engine)


@contextlib.contextmanager
def cloned_engine(pg, registry, hub):
    """Another engine that has cloned the repository from the registry (metadata only)."""
    with another_engine(pg) as other:
        add_registry(other, registry, hub)
        execute(other, "SELECT sgfdw.clone('registry', %s)", (REPO,))
        yield other


def add_run_function(engine) -> None:
    """run(code): Python run in the engine's backend (tests/fdws/pyfuncs.py)."""
    execute(engine, "CREATE FUNCTION run(code text) RETURNS text LANGUAGE sgfdw_python "
                    "AS 'pyfuncs.run'")


def push(engine, **options) -> int:
    return execute(engine, "SELECT sgfdw.push(%s, 'registry', handler_options => %s)",
                   (REPO, psycopg2.extras.Json(options)))[0][0]


def checked_out(engine) -> collections.Counter:
    return rows(engine, 'SELECT * FROM "demo/shared".t')
