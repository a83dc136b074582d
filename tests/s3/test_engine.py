"""sgfdw.engine: the local engine inside a backend (over sgfdw.pg, in the caller's
transaction) and the engine for another PostgreSQL (psycopg2), with the same methods
and psycopg2-style SQL. The backend side runs through tests/fdws/pyfuncs.py's `run`."""
from __future__ import annotations

import psycopg2
import pytest

from cluster_config import password_required
from fdwtest import assert_usable, execute
from sgfdw.engine import PostgresEngine
from sharing import add_run_function


@pytest.fixture
def run(db):
    add_run_function(db)
    return lambda code: execute(db, "SELECT run(%s)", (code,))[0][0]


def test_local_engine_runs_in_the_callers_transaction(db, run):
    execute(db, "CREATE TABLE t (id int PRIMARY KEY, name text)")
    assert run("from sgfdw.engine import get_engine\n"
               "e = get_engine()\n"
               "e.run_sql_batch('INSERT INTO t VALUES (%s, %s)', [(1, 'a'), (2, \"it's\")])\n"
               "e.commit()\n"
               "result = e.run_sql('SELECT id, name FROM t WHERE id >= %s ORDER BY id', (1,))"
               ) == "[(1, 'a'), (2, \"it's\")]"
    assert execute(db, "SELECT * FROM t ORDER BY id") == [(1, "a"), (2, "it's")]
    # Named parameters, %% and a psycopg2.sql Composable with hostile names.
    assert run("from sgfdw.engine import get_engine\n"
               "from psycopg2 import sql\n"
               "q = sql.SQL('SELECT {} || %(x)s || %(x)s, 5 %% 3').format(sql.Literal(\"o'k\"))\n"
               "result = get_engine().run_sql(q, {'x': '!'})") == "[(\"o'k!!\", 2)]"
    execute(db, 'CREATE TABLE "we""ird" (v int)')
    assert run("from sgfdw.engine import get_engine\n"
               "from psycopg2 import sql\n"
               "get_engine().run_sql(sql.SQL('INSERT INTO {} VALUES (%s)').format("
               "sql.Identifier('we\"ird')), [7])\n"
               "result = 'ok'") == "ok"
    assert execute(db, 'SELECT v FROM "we""ird"') == [(7,)]


def test_local_engine_errors(db, run):
    for code, sqlstate in [
            ("get_engine().run_sql('SELECT %s, %s', [1])", "07001"),
            ("get_engine().run_sql('SELECT %d', [1])", "42601"),
            ("get_engine().run_sql('SELECT * FROM missing')", "42P01"),
            ("get_engine().rollback()", "0A000")]:
        with pytest.raises(psycopg2.Error) as info:
            run("from sgfdw.engine import get_engine\n" + code)
        assert info.value.pgcode == sqlstate, code
        assert_usable(db)
    # A statement failing inside, then the transaction going on, leaves the rest.
    execute(db, "CREATE TABLE u (id int PRIMARY KEY)")
    run("from sgfdw.engine import get_engine\n"
        "from sgfdw.errors import SqlError\n"
        "e = get_engine()\n"
        "e.run_sql('INSERT INTO u VALUES (1)')\n"
        "try:\n    e.run_sql('INSERT INTO u VALUES (1)')\n"
        "except SqlError as exc:\n    assert exc.sqlstate == '23505'\n")
    assert execute(db, "SELECT id FROM u") == [(1,)]


def remote_params(cluster, **extra):
    return {"host": str(cluster.socket_dir), "port": cluster.port, "dbname": "postgres",
            "user": cluster.superuser, **extra}


def test_remote_engine_transactions(remote):
    remote.sql("CREATE TABLE IF NOT EXISTS engine_t (id int PRIMARY KEY)")
    remote.sql("TRUNCATE engine_t")
    with PostgresEngine(remote_params(remote), "registry") as engine:
        engine.run_sql_batch("INSERT INTO engine_t VALUES (%s)", [(1,), (2,)])
        engine.rollback()
        assert remote.sql("SELECT count(*) FROM engine_t") == [(0,)]
        engine.run_sql_batch("INSERT INTO engine_t VALUES (%s)", [(1,), (2,)])
        engine.commit()
        assert engine.run_sql("SELECT id FROM engine_t ORDER BY id") == [(1,), (2,)]
        with pytest.raises(Exception) as info:
            engine.run_sql("INSERT INTO engine_t VALUES (1)")
        assert info.value.sqlstate == "23505"
        engine.rollback()
        assert engine.run_sql("SELECT count(*) FROM engine_t") == [(2,)]
    remote.sql("DROP TABLE engine_t")


def test_remote_engine_wrong_password_is_28P01_without_the_password(remote):
    remote.sql("CREATE ROLE engine_login LOGIN PASSWORD 'right-one'")
    engine = PostgresEngine(remote_params(remote, user="engine_login",
                                          password="s3cret-Wr0ng"))
    # The cluster trusts local logins: ask engine_login for its password meanwhile.
    with password_required(remote, "engine_login"):
        with pytest.raises(Exception) as info:
            engine.run_sql("SELECT 1")
    remote.sql("DROP ROLE engine_login")
    assert info.value.sqlstate == "28P01"
    text = f"{info.value} {info.value.detail} {info.value.hint} {engine!r}"
    assert "s3cret-Wr0ng" not in text
    assert "s3cret-Wr0ng" not in remote.log_tail(200)
