"""PostgresFdw used directly from Python (no bridge, so begin() is never called): each
scan runs in a short remote transaction of its own, cursors are closed and the
transaction committed when a scan ends or is abandoned; the hooks work when called."""

from __future__ import annotations

from collections import OrderedDict

import pytest

from pgfdw_helpers import SOURCE_DB, execute
from multicorn import ColumnDefinition, Qual, SortKey
from sgfdw.postgres import PostgresFdw
from sgfdw.postgres.connection import forget_connections

BIG_COLUMNS = [("id", 23, "integer"), ("grp", 23, "integer"), ("name", 25, "text"),
               ("val", 701, "double precision")]


@pytest.fixture
def make_fdw(remote, source):
    def make(**options):
        columns = OrderedDict((name, ColumnDefinition(name, type_oid=oid, type_name=type_name,
                                                      base_type_name=type_name))
                              for name, oid, type_name in BIG_COLUMNS)
        return PostgresFdw({"host": str(remote.socket_dir), "port": str(remote.port),
                            "dbname": SOURCE_DB, "user": "postgres",
                            "schema_name": "src", "table_name": "big", **options}, columns)

    yield make
    forget_connections()


def remote_state(source):
    """States of the FDW's remote sessions."""
    return [r[0] for r in execute(source, "SELECT state FROM pg_stat_activity "
                                          "WHERE application_name = 'sgfdw'")]


def test_scan_without_begin(make_fdw, source):
    fdw = make_fdw(fetch_size="1000")
    rows = list(fdw.execute([Qual("grp", "=", 5)], {"id", "grp", "name", "val"}))
    expected = execute(source, "SELECT id, grp, name, val::text FROM src.big WHERE grp = 5")
    assert sorted((r[0], r[1], r[2], repr(r[3])) for r in rows) == \
        sorted((e[0], e[1], e[2], repr(float(e[3]))) for e in expected)
    assert not fdw._conn.in_xact
    assert remote_state(source) == ["idle"]            # not idle in transaction


def test_abandoned_scan_commits(make_fdw, source):
    fdw = make_fdw(fetch_size="100")
    rows = fdw.execute([], {"id"}, sortkeys=[SortKey("id", 1, False, False, None)])
    first = [next(rows) for _ in range(5)]
    assert [r[0] for r in first] == [1, 2, 3, 4, 5]
    assert fdw._conn.in_xact                          # the cursor's transaction is open
    assert remote_state(source) == ["idle in transaction"]
    del rows                                          # the bridge drops the iterator
    assert not fdw._conn.in_xact
    assert remote_state(source) == ["idle"]


def test_interleaved_scans_share_one_short_transaction(make_fdw, source):
    fdw = make_fdw(fetch_size="10")
    outer = fdw.execute([Qual("id", "<=", 30)], {"id"})
    inner_counts = []
    for (outer_id,) in ((r[0],) for r in outer):
        inner = list(fdw.execute([Qual("grp", "=", outer_id)], {"id"}))
        inner_counts.append(len(inner))
        assert fdw._conn.in_xact                      # the outer cursor is still open
    assert inner_counts == [200] * 30
    assert not fdw._conn.in_xact


def test_hooks(make_fdw, source):
    fdw = make_fdw()
    fdw.begin(False)
    (row,) = list(fdw.execute([Qual("id", "=", 1)], {"id"}))
    assert row[0] == 1
    assert remote_state(source) == ["idle in transaction"]
    fdw.sub_begin(2)
    fdw.insert({"id": -1, "grp": 0, "name": "tmp", "val": None})
    fdw.sub_rollback(2)
    fdw.pre_commit()
    fdw.commit()
    assert remote_state(source) == ["idle"]
    assert execute(source, "SELECT count(*) FROM src.big WHERE id = -1") == [(0,)]


def test_writes_without_begin_autocommit(make_fdw, source):
    fdw = make_fdw()
    try:
        row = fdw.insert({"id": -2, "grp": 0, "name": "auto", "val": 1.25})
        assert row.pop("ctid").startswith("(")    # the remote row's, for RETURNING ctid
        assert row == {"id": -2, "grp": 0, "name": "auto", "val": 1.25}
        assert execute(source, "SELECT name FROM src.big WHERE id = -2") == [("auto",)]
        assert fdw.update(-2, {"id": -2, "grp": 0, "name": "changed", "val": None})["name"] \
            == "changed"
    finally:
        fdw.delete(-2)
    assert execute(source, "SELECT count(*) FROM src.big WHERE id = -2") == [(0,)]


def test_outside_a_backend_text_order_is_not_pushed(make_fdw):
    # No local database to compare collations with: only collation-free quals go.
    fdw = make_fdw()
    assert fdw.enforces_quals([Qual("name", "=", "x"), Qual("id", "<", 3)])
    assert not fdw.enforces_quals([Qual("name", "<", "x")])
    assert fdw.can_sort([SortKey("id", 1, False, False, None),
                         SortKey("name", 3, False, False, "default")]) == \
        [SortKey("id", 1, False, False, None)]


def test_connection_lost_mid_scan_is_an_error(make_fdw, source):
    from sgfdw.errors import ConnectionFailure

    fdw = make_fdw(fetch_size="100")
    rows = fdw.execute([], {"id"})
    assert len([next(rows) for _ in range(150)]) == 150      # in the second batch
    execute(source, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'sgfdw'")
    with pytest.raises(ConnectionFailure) as info:
        list(rows)                  # never a silently short result
    assert info.value.sqlstate == "08006"
    del rows
    assert len(list(fdw.execute([Qual("id", "<=", 10)], {"id"}))) == 10   # reconnects
