"""The test harness itself: clusters come up, are distinct, and sgfdw installs."""

from harness import Cluster


def test_clusters_are_up_and_distinct(pg, remote):
    assert isinstance(pg, Cluster) and isinstance(remote, Cluster)
    assert pg.port != remote.port
    assert pg.socket_dir != remote.socket_dir
    # Each answers on its own socket with its own configuration.
    assert pg.sql("SHOW port") == [(str(pg.port),)]
    assert remote.sql("SHOW port") == [(str(remote.port),)]
    assert pg.sql("SHOW jit") == [("off",)]
    assert remote.sql("SHOW jit") == [("on",)]
    assert pg.sql("SELECT 1 FROM pg_database WHERE datname = 'sgfdw_test'") == [(1,)]


def test_sql_helper(pg):
    assert pg.sql("SELECT %s::int + 1", (41,)) == [(42,)]
    assert pg.sql("SET work_mem = '8MB'") == []
    # The whole log: tests before this one may have logged many errors.
    assert "database system is ready" in pg.log_tail(10**9)


def test_db_has_sgfdw(db):
    assert db.autocommit
    with db.cursor() as cur:
        cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'sgfdw'")
        assert cur.fetchone() is not None
        cur.execute("SELECT fdwname FROM pg_foreign_data_wrapper")
        assert cur.fetchall() == [("sgfdw",)]
