"""Filters (can_filter, src/filters.c + src/expression.c) with tests/fdws/filtering.py:
the tree the FDW is offered, values as Parameters while planning and Constants of each
execution, accepted filters not rechecked, an exception in can_filter, and a Multicorn
FDW without the method as before."""
from __future__ import annotations

import pytest

from fdwtest import assert_usable, create_server, error_of, execute, explain_lines

ALL = [(i, i % 3, f"t{i}") for i in range(1, 10)]


@pytest.fixture
def fdb(db):
    create_server(db, "plain", "filtering.PlainFdw")
    create_server(db, "filtering", "filtering.FilteringFdw")
    execute(db, "CREATE FOREIGN TABLE plain (id int, g int, t text) SERVER plain")
    for mode in ("accept", "refuse", "raise"):
        execute(db, f"CREATE FOREIGN TABLE f_{mode} (id int, g int, t text) "
                    f"SERVER filtering OPTIONS (can_filter '{mode}')")
    db.notices.clear()
    return db


def notices(db, call: str) -> list[str]:
    prefix = f"filtering {call} "
    return [n.split(prefix, 1)[1].strip() for n in db.notices if prefix in n]


def test_an_accepted_filter_reaches_execute_and_is_not_rechecked(fdb):
    query = "SELECT * FROM f_accept WHERE g = 1 OR id + 1 = 9 ORDER BY id"
    assert execute(fdb, query) == [r for r in ALL if r[1] == 1 or r[0] == 8]
    (offered,) = notices(fdb, "can_filter")
    assert offered.startswith("BoolOp(type_oid=16, type_name='boolean', collation=None, "
                              "op='or', args=(Call(")
    assert "Column(type_oid=23, type_name='integer', collation=None, name='g', " \
        "relation=0)" in offered
    assert "Constant(type_oid=23, type_name='integer', collation=None, value=9)" in offered
    (executed,) = notices(fdb, "execute")
    assert "op='or'" in executed
    assert not any("Filter:" in line for line in explain_lines(fdb, query, verbose=True))


def test_run_time_values_are_parameters_when_planning_constants_when_running(fdb):
    offered = []
    with fdb.cursor() as cur:
        cur.execute("SET plan_cache_mode = force_generic_plan")
        cur.execute("PREPARE q(int) AS SELECT id FROM f_accept WHERE g = $1 OR id = $1 + 5")
        for value in (1, 2):
            fdb.notices.clear()
            cur.execute("EXECUTE q(%s)", (value,))
            assert sorted(cur.fetchall()) == [(r[0],) for r in ALL
                                              if r[1] == value or r[0] == value + 5]
            (executed,) = notices(fdb, "execute")
            assert f"value={value})" in executed and f"value={value + 5})" in executed
            offered += notices(fdb, "can_filter")
        cur.execute("RESET plan_cache_mode")
    assert offered and all("Parameter(type_oid=23" in tree for tree in offered)


def test_a_refused_filter_and_an_fdw_without_can_filter_leave_it_to_postgresql(fdb):
    query = "SELECT * FROM {} WHERE g = 1 OR id = 8 ORDER BY id"
    expected = [r for r in ALL if r[1] == 1 or r[0] == 8]
    for table in ("f_refuse", "plain"):
        fdb.notices.clear()
        assert execute(fdb, query.format(table)) == expected
        assert notices(fdb, "execute") == ["[]"]
        assert any("Filter:" in line for line in explain_lines(fdb, query.format(table)))
    assert notices(fdb, "can_filter") == []     # plain has no can_filter


def test_an_exception_in_can_filter_is_an_error(fdb):
    error = error_of(fdb, "SELECT * FROM f_raise WHERE g = 1 OR id = 8")
    assert "can_filter failed" in str(error)
    assert "can_filter()" in str(error)
    assert_usable(fdb)
