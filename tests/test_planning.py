"""Planning with the FDW: parameterised paths, sort pushdown and LIMIT/OFFSET pushdown.

Each pushdown is checked in EXPLAIN, in what the FDW received, and in the results
(compared with the same query on a local copy of the data).
"""

from __future__ import annotations

import json

import pytest

from fdwtest import (Recorder, assert_same, create_local_people, create_people,
                     create_server, execute, explain_lines, node_types, plan_nodes, plan_of)


def foreign_scans(plan):
    return [node for node in plan_nodes(plan) if node["Node Type"] == "Foreign Scan"]


@pytest.fixture
def keys(db):
    execute(db, "CREATE TABLE keys (k int, a int)")
    execute(db, "INSERT INTO keys VALUES (3, NULL), (7, 52), (12, 47), (99, 1)")
    execute(db, "ANALYZE keys")
    return db


# ---------------------------------------------------------------- nested loops

def test_nested_loop_rescan_without_path_keys(keys):
    """The foreign scan on the inner side of a nested loop runs once per outer row."""
    db = keys
    create_people(db)
    rec = Recorder(db)
    for setting in ("enable_hashjoin", "enable_mergejoin", "enable_material"):
        execute(db, f"SET {setting} = off")
    # A LEFT JOIN keeps keys on the outer side of the nested loop.
    query = "SELECT k, p.name FROM keys LEFT JOIN {t} p ON p.id = keys.k ORDER BY k"
    plan = plan_of(db, query.format(t="people"))
    join = next(n for n in plan_nodes(plan) if n["Node Type"] == "Nested Loop")
    assert [child["Node Type"] for child in join["Plans"]] == ["Seq Scan", "Foreign Scan"]
    rec.clear()
    assert assert_same(db, query) == [(3, "Zoë"), (7, "alice"), (12, "carol"), (99, None)]
    calls = rec.executes()
    assert len(calls) == 4
    assert [call["n"] for call in calls] == [calls[0]["n"] + i for i in range(4)]


@pytest.mark.parametrize("join", ["JOIN", "LEFT JOIN"])
def test_parameterised_path(keys, join):
    """get_path_keys() lets the planner look rows up per outer row: no Materialize, the
    qual value comes from the outer row."""
    db = keys
    create_people(db, rows="100000", path_keys='[[["id"], 1]]')
    rec = Recorder(db)
    query = f"SELECT k, p.name, p.age FROM keys {join} {{t}} p ON p.id = keys.k"
    plan = plan_of(db, query.format(t="people"))
    assert plan["Node Type"] == "Nested Loop", json.dumps(plan, indent=1)
    outer, inner = plan["Plans"]
    assert outer["Node Type"] == "Seq Scan" and outer["Relation Name"] == "keys"
    assert inner["Node Type"] == "Foreign Scan"
    assert "Materialize" not in node_types(db, query.format(t="people"))
    rec.clear()
    assert_same(db, query)
    assert sorted(c["quals"] for c in rec.executes()) == [
        [("id", "=", k)] for k in (3, 7, 12, 99)]
    # Planning saw no value for the join qual.
    assert all(c["quals"] == [] for c in rec.calls("get_rel_size"))


def test_parameterised_path_two_columns(keys):
    db = keys
    create_people(db, rows="100000", path_keys='[[["id", "age"], 1]]', filter="true")
    rec = Recorder(db)
    query = "SELECT k, p.name FROM keys JOIN {t} p ON p.id = keys.k AND p.age = keys.a"
    plan = plan_of(db, query.format(t="people"))
    assert plan["Node Type"] == "Nested Loop"
    assert plan["Plans"][1]["Node Type"] == "Foreign Scan"
    rec.clear()
    assert assert_same(db, query) == [(7, "alice"), (12, "carol")]
    got = sorted(repr(sorted(c["quals"], key=repr)) for c in rec.executes())
    assert got == sorted(repr(sorted([("id", "=", k), ("age", "=", a)], key=repr))
                         for k, a in [(3, None), (7, 52), (12, 47), (99, 1)])


def test_path_keys_without_matching_join_are_unused(keys):
    db = keys
    create_people(db, rows="100000", path_keys='[[["name"], 1]]')
    rec = Recorder(db)
    rec.clear()
    assert_same(db, "SELECT k, p.name FROM keys JOIN {t} p ON p.id = keys.k")
    assert all(c["quals"] == [] for c in rec.executes())


# ---------------------------------------------------------------- sort pushdown

SORTS = [
    # (ORDER BY, expected SortKeys (attname, attnum, is_reversed, nulls_first))
    ("id", [("id", 1, False, False)]),
    ("id DESC", [("id", 1, True, True)]),
    ("age", [("age", 3, False, False)]),
    ("age DESC", [("age", 3, True, True)]),
    ("age NULLS FIRST", [("age", 3, False, True)]),
    ("age DESC NULLS LAST", [("age", 3, True, False)]),
    ("score DESC NULLS LAST, id", [("score", 5, True, False), ("id", 1, False, False)]),
    ("active, age DESC, id", [("active", 4, False, False), ("age", 3, True, True),
                              ("id", 1, False, False)]),
    ("name", [("name", 2, False, False)]),
]


@pytest.mark.parametrize("order, sortkeys", SORTS, ids=[s[0] for s in SORTS])
def test_sort_pushed(db, order, sortkeys):
    create_people(db, can_sort="true")
    rec = Recorder(db)
    query = f"SELECT * FROM {{t}} ORDER BY {order}"
    types = node_types(db, query.format(t="people"))
    assert "Sort" not in types and "Incremental Sort" not in types, types
    rec.clear()
    # `name` and the id tie-breakers make every order total; ties in `active, age` are
    # broken by id.
    assert_same(db, query if "id" in order or order == "name" else query + ", id")
    call = rec.one_execute()
    got = [key[:4] for key in call["sortkeys"]]
    if "id" in order or order == "name":
        assert got == sortkeys
    else:
        assert got[: len(sortkeys)] == sortkeys
    assert all(key[4] is None for key in call["sortkeys"] if key[0] != "name")
    assert "sortkeys" in call["kwargs"] and "limit" not in call["kwargs"]


@pytest.mark.parametrize("order", ["id", "age DESC NULLS LAST, id"])
def test_sort_refused(db, order):
    create_people(db, can_sort="false")
    rec = Recorder(db)
    query = f"SELECT * FROM {{t}} ORDER BY {order}"
    assert "Sort" in node_types(db, query.format(t="people"))
    rec.clear()
    assert_same(db, query)
    call = rec.one_execute()
    assert call["sortkeys"] == [] and "sortkeys" not in call["kwargs"]
    # It was asked, though.
    assert rec.calls("can_sort")


def test_sort_prefix_accepted(db):
    """The FDW sorts by age only; an Incremental Sort finishes the order above the scan."""
    create_people(db, can_sort="1")
    rec = Recorder(db)
    query = "SELECT * FROM {t} ORDER BY age DESC, id"
    plan = plan_of(db, query.format(t="people"))
    assert plan["Node Type"] == "Incremental Sort", json.dumps(plan, indent=1)
    assert plan["Presorted Key"] == ["age"]
    assert plan["Plans"][0]["Node Type"] == "Foreign Scan"
    rec.clear()
    assert_same(db, query)
    (can_sort,) = rec.calls("can_sort")
    assert [k[:4] for k in can_sort["sortkeys"]] == [("age", 3, True, True),
                                                     ("id", 1, False, False)]
    assert [k[:4] for k in rec.one_execute()["sortkeys"]] == [("age", 3, True, True)]


def test_sort_by_expression_not_offered(db):
    create_people(db, can_sort="true")
    rec = Recorder(db)
    query = "SELECT * FROM {t} ORDER BY lower(name), id"
    assert "Sort" in node_types(db, query.format(t="people"))
    rec.clear()
    assert_same(db, query)
    assert rec.one_execute()["sortkeys"] == []


def test_sort_pushed_with_quals_and_group_by(db):
    create_people(db, can_sort="true", filter="true")
    assert_same(db, "SELECT * FROM {t} WHERE age > 20 ORDER BY age, id")
    assert_same(db, "SELECT age, count(*) FROM {t} GROUP BY age ORDER BY age")
    assert_same(db, "SELECT * FROM {t} WHERE name ILIKE '%a%' ORDER BY name DESC")


# ---------------------------------------------------------------- LIMIT / OFFSET pushdown

def limit_of(db, query):
    """Whether a Limit node is in the plan."""
    return "Limit" in node_types(db, query)


@pytest.mark.parametrize("tail, limit, offset", [
    ("LIMIT 3", 3, None),
    ("LIMIT 3 OFFSET 2", 3, 2),
    ("OFFSET 10", None, 10),
    ("LIMIT 0", 0, None),
    ("LIMIT 100", 100, None),
    ("FETCH FIRST 2 ROWS ONLY", 2, None),
])
def test_limit_pushed_without_where(db, tail, limit, offset):
    create_people(db, can_limit="true", can_sort="true")
    rec = Recorder(db)
    # ORDER BY id, pushed too, makes the rows comparable.
    query = f"SELECT * FROM {{t}} ORDER BY id {tail}"
    types = node_types(db, query.format(t="people"))
    assert "Limit" not in types and "Sort" not in types, types
    rec.clear()
    assert_same(db, query)
    call = rec.one_execute()
    assert (call["limit"], call["offset"]) == (limit, offset)
    assert ("limit" in call["kwargs"]) == (limit is not None)
    assert ("offset" in call["kwargs"]) == (offset is not None)
    (can_limit,) = rec.calls("can_limit")
    assert (can_limit["limit"], can_limit["offset"]) == (limit, offset)


def test_limit_pushed_without_order(db):
    create_people(db, can_limit="true")
    rec = Recorder(db)
    query = "SELECT upper(name) FROM people LIMIT 2"
    assert not limit_of(db, query)
    assert rec.run(query) == [("ALICE",), ("BOB",)]
    call = rec.one_execute()
    assert (call["limit"], call["offset"], call["columns"]) == (2, None, ["name"])
    lines = [line.strip() for line in explain_lines(db, query)]
    assert "sgfdw: limit=2 offset=None" in lines


def test_limit_refused(db):
    create_people(db, can_limit="false", can_sort="true")
    rec = Recorder(db)
    query = "SELECT * FROM {t} ORDER BY id LIMIT 3 OFFSET 1"
    assert limit_of(db, query.format(t="people"))
    rec.clear()
    assert_same(db, query)
    call = rec.one_execute()
    assert call["limit"] is None and call["offset"] is None
    assert rec.calls("can_limit")


def test_limit_with_where_not_pushed_without_enforces_quals(db):
    create_people(db, can_limit="true", can_sort="true", filter="true")
    rec = Recorder(db)
    query = "SELECT * FROM {t} WHERE age > 20 ORDER BY id LIMIT 3"
    assert limit_of(db, query.format(t="people"))
    rec.clear()
    assert_same(db, query)
    call = rec.one_execute()
    assert call["limit"] is None and "limit" not in call["kwargs"]
    assert call["quals"] == [("age", ">", 20)]
    assert rec.calls("can_limit") == []


@pytest.mark.parametrize("where, quals", [
    ("age > 20", [("age", ">", 20)]),
    ("name ILIKE '%b%' AND active IS NOT NULL", [("name", "~~*", "%b%"),
                                                  ("active", "<>", None)]),
    ("id IN (2, 4, 6, 8, 10)", [("id", ("=", True), [2, 4, 6, 8, 10])]),
])
def test_limit_with_where_pushed_with_enforces_quals(db, where, quals):
    create_people(db, can_limit="true", can_sort="true", enforce="true")
    rec = Recorder(db)
    query = f"SELECT * FROM {{t}} WHERE {where} ORDER BY id LIMIT 2 OFFSET 1"
    types = node_types(db, query.format(t="people"))
    assert "Limit" not in types and "Sort" not in types, types
    rec.clear()
    assert_same(db, query)
    call = rec.one_execute()
    assert (call["limit"], call["offset"]) == (2, 1)
    assert sorted(call["quals"], key=repr) == sorted(quals, key=repr)
    (enforces,) = rec.calls("enforces_quals")
    assert sorted(enforces["quals"], key=repr) == sorted(quals, key=repr)


@pytest.mark.parametrize("where", [
    "age + 1 > 31",                   # not a Qual at all
    "age > 20 AND upper(name) <> 'X'",  # one clause is not a Qual
    "age > 20 OR id = 1",
])
def test_limit_not_pushed_when_a_clause_is_not_a_qual(db, where):
    create_people(db, can_limit="true", can_sort="true", enforce="true")
    rec = Recorder(db)
    query = f"SELECT * FROM {{t}} WHERE {where} ORDER BY id LIMIT 2"
    assert limit_of(db, query.format(t="people"))
    rec.clear()
    assert_same(db, query)
    assert rec.one_execute()["limit"] is None


def test_limit_not_pushed_when_fdw_does_not_enforce_those_quals(db):
    """enforces_quals() answers False for an operator it cannot evaluate."""
    create_people(db, can_limit="true", can_sort="true", enforce="true")
    rec = Recorder(db)
    query = "SELECT * FROM {t} WHERE name ~ '^[a-z]' ORDER BY id LIMIT 2"
    assert limit_of(db, query.format(t="people"))
    rec.clear()
    assert_same(db, query)
    assert rec.one_execute()["limit"] is None


def test_limit_not_pushed_when_order_not_fully_pushed(db):
    create_people(db, can_limit="true", can_sort="1")
    rec = Recorder(db)
    query = "SELECT * FROM {t} ORDER BY age DESC, id LIMIT 3"
    assert limit_of(db, query.format(t="people"))
    rec.clear()
    assert_same(db, query)
    assert rec.one_execute()["limit"] is None


def test_limit_not_pushed_when_sort_refused(db):
    create_people(db, can_limit="true", can_sort="false")
    rec = Recorder(db)
    query = "SELECT * FROM {t} ORDER BY id LIMIT 3"
    assert limit_of(db, query.format(t="people"))
    rec.clear()
    assert_same(db, query)
    assert rec.one_execute()["limit"] is None


@pytest.mark.parametrize("query", [
    "SELECT name FROM {t} ORDER BY id LIMIT 3",
    "SELECT name || '!' AS x, age * 2 FROM {t} ORDER BY age DESC NULLS LAST, id LIMIT 4 OFFSET 1",
])
def test_limit_pushed_with_sort_columns_not_selected(db, query):
    create_people(db, can_limit="true", can_sort="true")
    rec = Recorder(db)
    types = node_types(db, query.format(t="people"))
    assert "Limit" not in types and "Sort" not in types, types
    rec.clear()
    assert_same(db, query)
    call = rec.one_execute()
    assert call["limit"] is not None and call["sortkeys"]


@pytest.mark.parametrize("query", [
    "SELECT count(*) FROM {t} LIMIT 1",
    "SELECT DISTINCT age FROM {t} ORDER BY age LIMIT 3",
    "SELECT age, count(*) FROM {t} GROUP BY age ORDER BY age LIMIT 2",
    "SELECT id, row_number() OVER (ORDER BY id DESC) FROM {t} ORDER BY id LIMIT 3",
    "SELECT id, generate_series(1, 2) FROM {t} ORDER BY id LIMIT 3",
    "SELECT * FROM (SELECT * FROM {t} ORDER BY id LIMIT 4) s WHERE age > 20 ORDER BY id",
    "SELECT * FROM {t} ORDER BY id LIMIT 2 OFFSET (SELECT 1)",
    "(SELECT id FROM {t} ORDER BY id LIMIT 2) UNION ALL "
    "(SELECT id FROM {t} ORDER BY id DESC LIMIT 1)",
    "SELECT * FROM {t} ORDER BY id FETCH FIRST 2 ROWS WITH TIES",
    "SELECT * FROM {t} WHERE id = (SELECT max(k) FROM keys WHERE k < 50) LIMIT 2",
    "SELECT * FROM {t} WHERE current_setting('search_path') <> '' ORDER BY id LIMIT 3",
    "SELECT * FROM keys JOIN (SELECT * FROM {t} ORDER BY id LIMIT 4) s ON s.id = keys.k",
    "WITH c AS MATERIALIZED (SELECT * FROM {t} ORDER BY id DESC LIMIT 3) SELECT * FROM c",
    "SELECT a.id FROM {t} a WHERE a.id IN (SELECT b.id FROM {t} b ORDER BY b.id LIMIT 5)",
])
def test_limit_results_in_other_query_shapes(keys, query):
    db = keys
    create_people(db, can_limit="true", can_sort="true", enforce="true")
    assert_same(db, query, ordered="ORDER BY id" in query or "UNION" in query)


def test_limit_in_lateral_subquery(keys):
    db = keys
    create_people(db, can_limit="true", can_sort="true", enforce="true")
    rec = Recorder(db)
    query = ("SELECT k, s.id FROM keys, LATERAL (SELECT id FROM {t} p WHERE p.id >= keys.k "
             "ORDER BY id LIMIT 2) s ORDER BY k, s.id")
    rec.clear()
    assert assert_same(db, query) == [(3, 3), (3, 4), (7, 7), (7, 8), (12, 12)]
    # Not a constant qual: the limit stays above the scan.
    assert all(c["limit"] is None for c in rec.executes())


def test_prepared_limit_pushed(db):
    create_people(db, can_limit="true", can_sort="true", enforce="true")
    rec = Recorder(db)
    execute(db, "PREPARE l(int) AS SELECT id FROM people WHERE age > $1 ORDER BY id LIMIT 2")
    for age in [20, 30, 40, 50, 20, 30, 40]:
        got = rec.run("EXECUTE l(%s)", (age,))
        expected = execute(db, "SELECT id FROM people_local WHERE age > %s ORDER BY id LIMIT 2",
                           (age,))
        assert got == expected
        call = rec.one_execute()
        assert call["quals"] == [("age", ">", age)]


def test_limit_from_parameter(db):
    """LIMIT $1 is a constant in a custom plan only; results are right either way."""
    create_people(db, can_limit="true", can_sort="true")
    rec = Recorder(db)
    execute(db, "PREPARE l(bigint, bigint) AS SELECT id FROM people ORDER BY id LIMIT $1 OFFSET $2")
    for mode in ["force_custom_plan", "force_generic_plan"]:
        execute(db, f"SET plan_cache_mode = {mode}")
        for limit, offset in [(2, 0), (5, 3), (0, 1), (None, 10)]:
            got = rec.run("EXECUTE l(%s, %s)", (limit, offset))
            assert got == execute(db, "SELECT id FROM people_local ORDER BY id "
                                      "LIMIT %s OFFSET %s", (limit, offset))
            calls = rec.executes()  # none when a Limit node stops before the scan
            assert len(calls) <= 1
            if mode == "force_generic_plan":
                assert all(c["limit"] is None and c["offset"] is None for c in calls)
            elif limit is not None:
                assert [(c["limit"], c["offset"]) for c in calls] == [(limit, offset)]


def test_create_table_as_with_pushed_limit(db):
    create_people(db, can_limit="true", can_sort="true")
    execute(db, "CREATE TABLE copy AS SELECT * FROM people ORDER BY id DESC LIMIT 3")
    execute(db, "CREATE TABLE copy_local AS SELECT * FROM people_local ORDER BY id DESC LIMIT 3")
    assert_same(db, "SELECT * FROM {t}", foreign="copy", local="copy_local")


# ---------------------------------------------------------------- partitions

@pytest.fixture
def partitioned(db):
    """`parts`: people split by id range over two foreign partitions and a local one."""
    create_server(db)
    create_local_people(db)
    execute(db, "CREATE TABLE parts (id int, name text, age int, active bool, score float8) "
                "PARTITION BY RANGE (id)")
    execute(db, "CREATE FOREIGN TABLE part_low PARTITION OF parts FOR VALUES FROM (1) TO (5) "
                "SERVER rec OPTIONS (dataset 'people', ids '1:5', can_sort 'true', "
                "can_limit 'true', enforce 'true')")
    execute(db, "CREATE FOREIGN TABLE part_mid PARTITION OF parts FOR VALUES FROM (5) TO (9) "
                "SERVER rec OPTIONS (dataset 'people', ids '5:9', filter 'true')")
    execute(db, "CREATE TABLE part_high PARTITION OF parts FOR VALUES FROM (9) TO (MAXVALUE)")
    execute(db, "INSERT INTO part_high SELECT * FROM people_local WHERE id >= 9")
    return Recorder(db)


@pytest.mark.parametrize("query", [
    "SELECT * FROM {t}",
    "SELECT * FROM {t} ORDER BY id LIMIT 6",
    "SELECT * FROM {t} ORDER BY age DESC NULLS LAST, id",
    "SELECT * FROM {t} WHERE id BETWEEN 3 AND 10",
    "SELECT active, count(*), sum(score) FROM {t} GROUP BY active",
    "SELECT * FROM {t} WHERE name ILIKE '%a%' ORDER BY id LIMIT 2 OFFSET 1",
])
def test_foreign_partitions(partitioned, query):
    assert_same(partitioned.db, query, foreign="parts")


def test_partition_pruning(partitioned):
    partitioned.clear()
    assert_same(partitioned.db, "SELECT * FROM {t} WHERE id = 6", foreign="parts")
    call = partitioned.one_execute()
    assert call["quals"] == [("id", "=", 6)]
    assert partitioned.calls("__init__")[0]["options"]["ids"] == "5:9"


# ---------------------------------------------------------------- estimates

def test_rel_size_and_startup_cost_reach_the_plan(db):
    create_people(db, local=False, rows="1234", startup_cost="500")
    rows = execute(db, "EXPLAIN (FORMAT JSON) SELECT name, age FROM people")
    plan = rows[0][0][0]["Plan"]
    assert plan["Node Type"] == "Foreign Scan"
    assert plan["Plan Rows"] == 1234
    assert plan["Plan Width"] == 8 + 16 * 2
    assert plan["Startup Cost"] == 500
    assert plan["Total Cost"] > 500


def test_default_startup_cost(db):
    create_people(db, local=False)
    rows = execute(db, "EXPLAIN (FORMAT JSON) SELECT * FROM people")
    assert rows[0][0][0]["Plan"]["Startup Cost"] == 20
