"""postgres_fdw's options that PostgresFdw users set (issue 16, item 6), with
postgres_fdw on the same remote as the oracle: keep_connections (a connection per local
transaction when 'off'), fdw_tuple_cost (the planner's cost of a remote row),
async_capable, accepted and checked as postgres_fdw does but without effect, extensions
checked as postgres_fdw does (its effect: test_postgres_extensions.py), and table_name's
default (the foreign table's own name)."""

from __future__ import annotations

import json
import time

import pytest
from psycopg2 import sql

from pgfdw_helpers import SOURCE_DB, assert_usable, connect_fdw, error_of, execute


def _postgres_fdw_server(db, remote, name: str, **options: str) -> None:
    execute(db, "CREATE EXTENSION IF NOT EXISTS postgres_fdw")
    values = {"host": str(remote.socket_dir), "port": str(remote.port), "dbname": SOURCE_DB,
              **options}
    execute(db, sql.SQL("CREATE SERVER {} FOREIGN DATA WRAPPER postgres_fdw OPTIONS ({})")
            .format(sql.Identifier(name), sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(k), sql.Literal(v))
                for k, v in values.items())))
    execute(db, sql.SQL("CREATE USER MAPPING FOR CURRENT_USER SERVER {} "
                        "OPTIONS (user 'postgres')").format(sql.Identifier(name)))
    execute(db, sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    execute(db, sql.SQL("IMPORT FOREIGN SCHEMA src LIMIT TO (big) FROM SERVER {} INTO {}")
            .format(sql.Identifier(name), sql.Identifier(name)))


def _sessions(remote, application_name: str, expected: int) -> int:
    """The remote sessions of that application_name, waited for until there are
    `expected` (a closed connection's backend exits shortly after) or 30 s passed."""
    deadline = time.monotonic() + 30
    while True:
        (count,), = remote.sql("SELECT count(*) FROM pg_stat_activity "
                               "WHERE application_name = %s", (application_name,))
        if count == expected or time.monotonic() > deadline:
            return count
        time.sleep(0.1)


@pytest.mark.parametrize("keep", ["on", "off"])
def test_keep_connections_as_postgres_fdw(db, remote, source, keep):
    connect_fdw(db, remote, schema=None,
                server_options={"keep_connections": keep, "application_name": f"sg_{keep}"})
    execute(db, "CREATE SCHEMA f")
    execute(db, "IMPORT FOREIGN SCHEMA src LIMIT TO (big) FROM SERVER rsrv INTO f")
    _postgres_fdw_server(db, remote, "pgsrv", keep_connections=keep,
                         application_name=f"pg_{keep}")
    query = "SELECT count(*), sum(id) FROM {}.big WHERE id < 500"
    assert execute(db, query.format("f")) == execute(db, query.format("pgsrv")) == \
        execute(source, query.format("src"))
    expected = 1 if keep == "on" else 0
    assert _sessions(remote, f"pg_{keep}", expected) == expected      # the oracle
    assert _sessions(remote, f"sg_{keep}", expected) == expected
    # In a transaction block the connection lives until the end of the transaction.
    execute(db, "BEGIN")
    execute(db, query.format("f"))
    assert _sessions(remote, f"sg_{keep}", 1) == 1
    execute(db, "ROLLBACK")
    assert _sessions(remote, f"sg_{keep}", expected) == expected
    assert_usable(db)


def test_accepted_options_of_postgres_fdw(db, remote, source):
    connect_fdw(db, remote, schema=None,
                server_options={"async_capable": "true", "fdw_tuple_cost": "0.2",
                                "extensions": "cube, hstore"})
    execute(db, "CREATE SCHEMA f")
    execute(db, "IMPORT FOREIGN SCHEMA src LIMIT TO (big) FROM SERVER rsrv INTO f")
    execute(db, "ALTER FOREIGN TABLE f.big OPTIONS (ADD async_capable 'false', "
                "ADD fdw_tuple_cost '0.05')")
    _postgres_fdw_server(db, remote, "pgsrv", async_capable="true", fdw_tuple_cost="0.2",
                         extensions="cube, hstore")
    query = "SELECT id FROM {}.big WHERE id % 1000 = 7 ORDER BY id"
    assert execute(db, query.format("f")) == execute(db, query.format("pgsrv")) == \
        execute(source, query.format("src"))
    for statement, state in [
            ("ALTER SERVER rsrv OPTIONS (SET async_capable 'maybe')", "HV00D"),
            ("ALTER SERVER rsrv OPTIONS (SET fdw_tuple_cost '-1')", "HV00D"),
            ("ALTER SERVER rsrv OPTIONS (SET extensions 'cube,,hstore')", "HV00D"),
            ("ALTER SERVER rsrv OPTIONS (ADD keep_connections 'sometimes')", "HV00D"),
            ("ALTER FOREIGN TABLE f.big OPTIONS (ADD keep_connections 'off')", "HV00D"),
            ("ALTER FOREIGN TABLE f.big OPTIONS (ADD extensions 'cube')", "HV00D")]:
        error = error_of(db, statement)
        assert error.pgcode == state, (statement, error.pgerror)
        assert_usable(db)


def _scan_costs(db, query: str) -> tuple[float, float, float]:
    """(startup, total, rows) of the plan's top node."""
    (plans,), = execute(db, "EXPLAIN (FORMAT JSON) " + query)
    top = json.loads(plans)[0]["Plan"]
    return top["Startup Cost"], top["Total Cost"], top["Plan Rows"]


def test_fdw_tuple_cost_is_the_cost_of_a_remote_row(db, remote, source):
    connect_fdw(db, remote, schema="f", server_options={"fdw_startup_cost": "40"})
    query = "SELECT * FROM f.big"
    startup, total, rows = _scan_costs(db, query)
    assert startup == 40 and total > 40       # unset: Multicorn's cost, a row's width
    (cpu_tuple_cost,), = execute(db, "SELECT current_setting('cpu_tuple_cost')")
    cpu_tuple_cost = float(cpu_tuple_cost)
    # The server's value, then the table's overriding it, as postgres_fdw.
    for statement, tuple_cost in (
            ("ALTER SERVER rsrv OPTIONS (ADD fdw_tuple_cost '0.25')", 0.25),
            ("ALTER FOREIGN TABLE f.big OPTIONS (ADD fdw_tuple_cost '3')", 3.0)):
        execute(db, statement)
        startup, total, rows = _scan_costs(db, query)
        assert startup == 40
        assert total == pytest.approx(40 + rows * (tuple_cost + cpu_tuple_cost), rel=1e-6)
    assert execute(db, "SELECT count(*) FROM f.big") == \
        execute(source, "SELECT count(*) FROM src.big")


HOSTILE_NAME = 'we"ird; DROP TABLE big; --ü'


def test_a_table_without_table_name_reads_the_remote_table_of_its_own_name(db, remote, source):
    hostile = sql.Identifier(HOSTILE_NAME)
    execute(source, sql.SQL("DROP TABLE IF EXISTS src.{}").format(hostile))
    execute(source, sql.SQL("CREATE TABLE src.{} (id int PRIMARY KEY, v text)").format(hostile))
    execute(source, sql.SQL("INSERT INTO src.{} VALUES (1, 'a'), (2, NULL)").format(hostile))
    connect_fdw(db, remote, schema=None)
    _postgres_fdw_server(db, remote, "pgsrv")      # the oracle, in schema "pgsrv"
    execute(db, "CREATE SCHEMA mine")
    execute(db, "CREATE FOREIGN TABLE mine.big (id int) SERVER rsrv OPTIONS (schema_name 'src')")
    execute(db, sql.SQL("CREATE FOREIGN TABLE mine.{0} (id int, v text) SERVER rsrv "
                        "OPTIONS (schema_name 'src')").format(hostile))
    execute(db, sql.SQL("CREATE FOREIGN TABLE pgsrv.{0} (id int, v text) SERVER pgsrv "
                        "OPTIONS (schema_name 'src')").format(hostile))
    query = "SELECT count(*), sum(id) FROM {}.big"
    assert execute(db, query.format("mine")) == execute(db, query.format("pgsrv")) == \
        execute(source, query.format("src"))
    query = sql.SQL("SELECT id, v FROM {}.{} ORDER BY id")
    assert execute(db, query.format(sql.Identifier("mine"), hostile)) == \
        execute(db, query.format(sql.Identifier("pgsrv"), hostile)) == \
        execute(source, query.format(sql.Identifier("src"), hostile))
    # Writes go to the same remote table.
    execute(db, sql.SQL("INSERT INTO mine.{} VALUES (3, 'c')").format(hostile))
    assert execute(source, sql.SQL("SELECT v FROM src.{} WHERE id = 3").format(hostile)) \
        == [("c",)]
    # A local name the remote lacks: an error naming the table looked for.
    execute(db, "CREATE FOREIGN TABLE mine.nowhere (id int) SERVER rsrv "
                "OPTIONS (schema_name 'src')")
    error = error_of(db, "SELECT * FROM mine.nowhere")
    assert error.pgcode == "42P01" and '"src"."nowhere"' in error.diag.message_primary
    assert_usable(db)
