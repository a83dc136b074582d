"""GROUP BY and aggregates pushed to the remote server (can_aggregate), with
postgres_fdw over the same remote tables as the oracle: random aggregations over each
pushed shape, with quals that go remote and ones that do not, empty tables, NULLs and
NULL groups, exact numeric results, EXPLAIN showing what is pushed, and the shapes that
must stay local."""
from __future__ import annotations

import random

import pytest
from psycopg2 import sql

from pgfdw_helpers import assert_usable, error_of, execute, explain, remote_sql
from twins import twin_schemas

TABLES_SQL = """
CREATE SCHEMA {s};
CREATE TABLE {s}.m (id integer PRIMARY KEY, g integer, h text, b boolean, d date,
                    i4 integer, i8 bigint, n numeric(12,3), f float8, t text,
                    tc text COLLATE "C", v varchar(10));
INSERT INTO {s}.m
SELECT x,
       CASE WHEN x % 7 = 0 THEN NULL ELSE x % 5 END,
       CASE WHEN x % 11 = 0 THEN NULL
            ELSE chr(97 + x % 3) || CASE WHEN x % 2 = 0 THEN 'B' ELSE 'b' END END,
       CASE WHEN x % 13 = 0 THEN NULL ELSE x % 2 = 0 END,
       date '2024-01-01' + x % 9,
       CASE WHEN x % 17 = 0 THEN NULL ELSE 2000000000 - x * 3 END,
       CASE WHEN x % 19 = 0 THEN NULL ELSE 9000000000000000000 - x * 12345 END,
       CASE WHEN x % 23 = 0 THEN NULL ELSE x * 1.125 - 400 END,
       CASE WHEN x % 29 = 0 THEN NULL ELSE x * 0.5 END,
       CASE WHEN x % 31 = 0 THEN NULL ELSE 'x' || (x * 7919 % 101) END,
       CASE WHEN x % 37 = 0 THEN NULL ELSE chr(65 + x % 26) || chr(97 + x % 5) END,
       'v' || x % 8
FROM generate_series(1, 600) x;
CREATE TABLE {s}.empty (g integer, i4 integer, n numeric, t text);
ANALYZE {s}.m;
"""

GROUP_COLUMNS = ["g", "h", "b", "d", "tc", "v"]
AGGREGATES = ["count(*)", "count(h)", "count(i8)", "sum(i4)", "sum(i8)", "sum(n)",
              "sum(f)", "avg(i4)", "avg(i8)", "avg(n)", "min(i4)", "max(i8)", "min(n)",
              "max(f)", "min(d)", "max(d)", "min(t)", "max(t)", "min(tc)", "max(v)",
              "min(h)", "count(DISTINCT h)", "count(DISTINCT g)", "sum(DISTINCT i4)",
              "avg(DISTINCT n)", "max(DISTINCT t)", "bool_and(b)", "bool_or(b)", "every(b)",
              "bit_and(i4)", "bit_or(g)", "bit_or(DISTINCT i8)", "stddev(n)", "var_pop(i4)",
              "variance(i8)", "stddev_samp(f)", "var_samp(DISTINCT n)", "stddev_pop(i8)"]
PUSHED_QUALS = ["i4 > 1999999500", "g = 2", "h IS NULL", "h IS NOT NULL", "t LIKE 'x1%'",
                "n BETWEEN -100 AND 100", "d <> '2024-01-03'", "g IN (1, 3)", "b"]
# Not shippable (a collation the remote may not share): PostgreSQL filters, so aggregates.
LOCAL_QUALS = ['lower(h COLLATE "und-x-icu") = \'ab\'', 'length(t COLLATE "und-x-icu") = 3',
               'h COLLATE "und-x-icu" > \'aB\'', 't COLLATE "und-x-icu" < \'x5\'']


@pytest.fixture
def twins(fdb, remote, source):
    with twin_schemas(fdb, remote, source, TABLES_SQL, "agg") as twins:
        yield twins


def plan_of(db, query: str) -> str:
    """The plan's lines, but the pushed scan's "Relations: Aggregate on (...)"."""
    return "\n".join(line for line in explain(db, query) if "Relations:" not in line)


def is_pushed(db, query: str) -> bool:
    """The remote server computes the aggregation: no aggregation left to PostgreSQL,
    aggregates in the Remote SQL."""
    plan = plan_of(db, query)
    return "Aggregate" not in plan and "Remote SQL: SELECT pg_catalog." in plan or \
        " GROUP BY " in plan


def is_local(db, query: str) -> bool:
    """PostgreSQL aggregates: an Aggregate node, or the min/max rewrite (a sorted scan
    with LIMIT 1 in an InitPlan); nothing aggregated remotely."""
    plan = plan_of(db, query)
    return ("Aggregate" in plan or "InitPlan" in plan) and "pg_catalog." not in plan


def random_query(rng: random.Random, quals: list[str]) -> str:
    groups = rng.sample(GROUP_COLUMNS, rng.randint(0, 2))
    aggregates = rng.sample(AGGREGATES, rng.randint(1, 4))
    where = rng.sample(quals, rng.randint(0, 2))
    query = f"SELECT {', '.join(groups + aggregates)} FROM {{t}}m"
    if where:
        query += " WHERE " + " AND ".join(where)
    if groups:
        query += " GROUP BY " + ", ".join(groups)
    return query


def test_random_pushed_aggregations_match_postgres_fdw(twins):
    rng = random.Random(17)
    for _ in range(60):
        query = random_query(rng, PUSHED_QUALS)
        twins.same_read(query, ordered=False)
        # A lone min or max may be the planner's rewrite into ORDER BY ... LIMIT 1.
        assert is_pushed(twins.db, query.replace("{t}", "s.")) or \
            is_local(twins.db, query.replace("{t}", "s.")) and "InitPlan" in \
            plan_of(twins.db, query.replace("{t}", "s.")), query


def test_random_aggregations_with_local_quals_stay_local_and_match(twins):
    rng = random.Random(18)
    for _ in range(25):
        query = random_query(rng, LOCAL_QUALS)
        if " WHERE " not in query:
            query = query.replace("{t}m", "{t}m WHERE " + rng.choice(LOCAL_QUALS))
        query = query.replace("WHERE ", "WHERE " + rng.choice(PUSHED_QUALS) + " AND ")
        twins.same_read(query, ordered=False)
        assert is_local(twins.db, query.replace("{t}", "s.")), query


def test_remote_sql_binds_qual_values_and_groups_by_position(twins):
    query = ("SELECT h, g, count(*), sum(i4), min(tc) FROM s.m "
             "WHERE i4 > 1999999500 AND t LIKE 'x1%' GROUP BY g, h")
    sql = remote_sql(twins.db, query)
    assert sql == ('SELECT "g", "h", pg_catalog.count(*), pg_catalog.sum("i4"), '
                   'pg_catalog.min("tc") FROM "{a}"."m" WHERE ("i4" > $1) AND '
                   '("t" ~~ $2) GROUP BY 1, 2').format(a=twins.a)
    plan = plan_of(twins.db, query)
    assert "Output: h, g, (count(*)), (sum(i4)), (min(tc))" in plan
    assert "Relations: Aggregate on (s.m)" in "\n".join(explain(twins.db, query))
    assert "Aggregate" not in plan
    twins.same_read(query.replace("s.m", "{t}m"), ordered=False)


def test_min_max_under_c_collation_is_pushed_with_collate(twins):
    query = 'SELECT min(t COLLATE "C"), max(t COLLATE "C"), count(*) FROM s.m'
    assert remote_sql(twins.db, query).startswith(
        'SELECT pg_catalog.min("t" COLLATE "C"), pg_catalog.max("t" COLLATE "C"), ')
    twins.same_read(query.replace("s.m", "{t}m"))
    # A column of collation "C": its own collation, no COLLATE needed.
    assert remote_sql(twins.db, "SELECT max(tc), count(*) FROM s.m").startswith(
        'SELECT pg_catalog.max("tc"), ')
    twins.same_read("SELECT max(tc), min(tc) FROM {t}m")


def test_empty_table_and_empty_groups(twins):
    for query in ["SELECT count(*), count(i4), sum(i4), sum(n), avg(n), min(t), max(g) "
                  "FROM {t}empty",
                  "SELECT g, count(*), sum(i4) FROM {t}empty GROUP BY g",
                  "SELECT count(*), sum(i4) FROM {t}m WHERE g = 99",
                  "SELECT g, count(*) FROM {t}m WHERE g = 99 GROUP BY g"]:
        assert is_pushed(twins.db, query.replace("{t}", "s.")), query
        twins.same_read(query, ordered=False)
    assert twins.same_read("SELECT count(*), sum(i4), avg(n) FROM {t}empty") == \
        [(0, None, None)]


def test_null_groups_and_exact_numbers(twins):
    got = twins.same_read("SELECT g, count(*), count(g), sum(i4), sum(i8), avg(i4), "
                          "avg(n), sum(n) FROM {t}m GROUP BY g ORDER BY g NULLS FIRST")
    assert got[0][0] is None and got[0][1] > 0 and got[0][2] == 0
    # int8 sums past the int8 range: numeric, every digit.
    (total,) = twins.same_read("SELECT sum(i8) FROM {t}m")
    assert len(total[0]) >= 20 and "." not in total[0]
    assert is_pushed(twins.db, "SELECT g, sum(i8), avg(n) FROM s.m GROUP BY g")


def test_expressions_over_pushed_aggregates(twins):
    for query in ["SELECT g, sum(i4) + 1, count(*) * 2, max(t) || '!' FROM {t}m GROUP BY g",
                  "SELECT g + 1, count(*) FROM {t}m GROUP BY g",
                  "SELECT count(*) FROM {t}m UNION ALL SELECT sum(i4) FROM {t}m",
                  "SELECT * FROM (SELECT g, count(*) c FROM {t}m GROUP BY g) x, "
                  "(SELECT 1 UNION ALL SELECT 2) y",
                  "SELECT g, count(*) FROM {t}m GROUP BY g ORDER BY 2 DESC, 1 LIMIT 3",
                  "SELECT h, count(*) FROM {t}m GROUP BY h, h",
                  # HAVING filters the remote groups here, also by aggregates that
                  # only it uses; an outer qual on a subquery's aggregate is a HAVING.
                  "SELECT g, count(*) FROM {t}m GROUP BY g HAVING count(*) > 100",
                  "SELECT g FROM {t}m GROUP BY g HAVING sum(i4) > 0 AND max(t) > 'x5' "
                  "AND g IS NOT NULL",
                  "SELECT * FROM (SELECT g, count(*) c FROM {t}m GROUP BY g) x "
                  "WHERE c > 100",
                  "SELECT count(*) FROM {t}m HAVING count(*) > 1000",
                  "SELECT b, count(DISTINCT g), count(DISTINCT tc), sum(DISTINCT i4) "
                  "FROM {t}m GROUP BY b",
                  # Distinct under C or the default collation: byte equality both.
                  "SELECT count(DISTINCT t COLLATE \"C\") FROM {t}m"]:
        assert is_pushed(twins.db, query.replace("{t}", "s.")), query
        twins.same_read(query, ordered="ORDER BY" in query)


ORDER_GROUPS = ["g", "b", "d", "tc", "h"]
ORDER_AGGREGATES = ["count(*)", "count(h)", "sum(i4)", "sum(n)", "avg(i8)", "min(i4)",
                    "max(n)", "min(d)", "max(tc)", "sum(f)", "count(DISTINCT g)",
                    "bool_or(b)", "stddev(n)"]


def random_ordered_query(rng: random.Random) -> str:
    """GROUP BY with ORDER BY every output, in a random order and direction (a total
    order: the rows compare in order), and at times LIMIT and OFFSET."""
    groups = rng.sample(ORDER_GROUPS, rng.randint(1, 2))
    outputs = groups + rng.sample(ORDER_AGGREGATES, rng.randint(1, 3))
    positions = rng.sample(range(1, len(outputs) + 1), len(outputs))
    order = ", ".join(f"{p}{rng.choice(['', ' DESC'])}"
                      f"{rng.choice(['', ' NULLS FIRST', ' NULLS LAST'])}" for p in positions)
    query = (f"SELECT {', '.join(outputs)} FROM {{t}}m"
             f"{rng.choice(['', ' WHERE g <> 3', ' WHERE h IS NOT NULL'])} "
             f"GROUP BY {', '.join(groups)} ORDER BY {order}")
    if rng.random() < 0.6:
        query += f" LIMIT {rng.randint(0, 6)}"
    if rng.random() < 0.3:
        query += f" OFFSET {rng.randint(1, 4)}"
    return query


def test_random_ordered_and_limited_groups_match_postgres_fdw(twins):
    """ORDER BY and LIMIT/OFFSET above the pushed aggregation run remotely: no Sort or
    Limit left here, the same rows in the same order as postgres_fdw's."""
    rng = random.Random(19)
    for _ in range(40):
        query = random_ordered_query(rng)
        twins.same_read(query, ordered=True)
        plan = plan_of(twins.db, query.replace("{t}", "s."))
        sql = remote_sql(twins.db, query.replace("{t}", "s."))
        assert " ORDER BY " in sql and "Sort" not in plan, (query, plan)
        assert (" LIMIT " in sql) == (" LIMIT " in query) and "Limit" not in plan, (query, plan)
        assert is_pushed(twins.db, query.replace("{t}", "s.")), query


REMOTE_SQL = [
    ("SELECT g, count(*), min(tc) FROM s.m WHERE i4 > 1999999000 GROUP BY g "
     "ORDER BY 2 DESC, min(tc), g NULLS FIRST LIMIT 3 OFFSET 1",
     'SELECT "g", pg_catalog.count(*), pg_catalog.min("tc") FROM "{a}"."m" '
     'WHERE ("i4" > $1) GROUP BY 1 ORDER BY pg_catalog.count(*) DESC NULLS FIRST, '
     'pg_catalog.min("tc") ASC NULLS LAST, "g" ASC NULLS FIRST LIMIT 3 OFFSET 1'),
    # Expressions: values bound; sorted by position where the output has values.
    ("SELECT id % 10, g, sum(f * 2), count(*) FILTER (WHERE f > 0) FROM s.m "
     "GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 4",
     'SELECT "g", ("id" OPERATOR("pg_catalog".%) $1::integer), '
     'pg_catalog.sum(("f" OPERATOR("pg_catalog".*) $2::double precision)), '
     'pg_catalog.count(*) FILTER (WHERE ("f" OPERATOR("pg_catalog".>) $3::double precision)) '
     'FROM "{a}"."m" GROUP BY 1, 2 ORDER BY 3 DESC NULLS FIRST LIMIT 4'),
]


def test_remote_sql_of_ordered_and_limited_groups(twins):
    for query, expected in REMOTE_SQL:
        assert remote_sql(twins.db, query) == expected.format(a=twins.a)
        twins.same_read(query.replace("s.m", "{t}m"))
    # A grouping column sorted under "C": with its COLLATE.
    query = 'SELECT h, count(*) FROM s.m GROUP BY h ORDER BY h COLLATE "C" LIMIT 4'
    assert remote_sql(twins.db, query).endswith(
        ' GROUP BY 1 ORDER BY "h" COLLATE "C" ASC NULLS LAST LIMIT 4')
    twins.same_read(query.replace("s.m", "{t}m"))


LEFT_LOCAL = [
    # Sorted by an expression over an aggregate: sorted here, then limited here.
    ("SELECT g, sum(i4) FROM {t}m GROUP BY g ORDER BY sum(i4) + 1, g LIMIT 2",
     ["Limit", "Sort"]),
    # HAVING filters groups here (text: compared under a collation): sorted remotely,
    # limited only here.
    ("SELECT g, count(*) FROM {t}m GROUP BY g HAVING max(t) > 'x5' ORDER BY g LIMIT 2",
     ["Limit"]),
    # HAVING filtered remotely: sorted and limited remotely.
    ("SELECT g, count(*) FROM {t}m GROUP BY g HAVING count(*) > 100 ORDER BY g LIMIT 2",
     []),
    # A LIMIT with ties needs the order here.
    ("SELECT g, count(*) FROM {t}m GROUP BY g ORDER BY 2 FETCH FIRST 1 ROWS WITH TIES",
     ["Limit"]),
    # DISTINCT above the groups: PostgreSQL's.
    ("SELECT DISTINCT count(*) FROM {t}m GROUP BY g ORDER BY 1 LIMIT 2",
     ["Limit", "Sort"]),
    # Two groups, no LIMIT: sorted here (sorted remotely, the remote server might sort
    # its rows to group them instead of hashing them; postgres_fdw reckons so too).
    ("SELECT b, count(*) FROM {t}m GROUP BY b ORDER BY b", ["Sort"]),
]


def test_order_and_limit_left_local_when_they_must_be(twins):
    for query, local in LEFT_LOCAL:
        plan = plan_of(twins.db, query.replace("{t}", "s."))
        assert is_pushed(twins.db, query.replace("{t}", "s.")), query
        assert [n for n in ("Limit", "Sort", "Unique") if n in plan] == local, plan
        twins.same_read(query)


def test_rescanned_aggregation(twins):
    """The groups' scan as the inner side of a nested loop runs again for each row."""
    query = ("SELECT x, y.* FROM generate_series(0, 5) x, "
             "(SELECT g, count(*), sum(n) FROM {t}m GROUP BY g) y WHERE x = y.g")
    with twins.db.cursor() as cur:
        cur.execute("SET enable_hashjoin = off; SET enable_mergejoin = off; "
                    "SET enable_material = off")
    try:
        assert "Nested Loop" in plan_of(twins.db, query.replace("{t}", "s."))
        assert is_pushed(twins.db, query.replace("{t}", "s."))
        twins.same_read(query + " ORDER BY x")
    finally:
        with twins.db.cursor() as cur:
            cur.execute("RESET enable_hashjoin; RESET enable_mergejoin; RESET enable_material")


NOT_PUSHED = [
    # Ordered by a volatile function.
    "SELECT count(*), array_length(array_agg(id ORDER BY random()), 1) FROM {t}m",
    "SELECT bit_xor(i4) FROM {t}m",
    # Not shippable: volatile, a user's function, an explicit collation.
    "SELECT sum(f * random() * 0) FROM {t}m",
    "SELECT id % 3 = 0 AND random() < 2, count(*) FROM {t}m GROUP BY 1",
    "SELECT count(*) FILTER (WHERE random() < 2), sum(i4) FROM {t}m",
    "SELECT plus_one(g), count(*) FROM {t}m GROUP BY 1",
    "SELECT sum(plus_one(i4)) FROM {t}m",
    "SELECT max(lower(h) COLLATE \"und-x-icu\") FROM {t}m",
    "SELECT count(*) FILTER (WHERE h COLLATE \"und-x-icu\" > 'aB') FROM {t}m",
    "SELECT g, count(*) FROM {t}m GROUP BY ROLLUP (g)",
    "SELECT count(*) FROM {t}m WHERE id < random() * 0 + 1000",
]


def test_shapes_not_offered_stay_local_and_are_right(twins):
    with twins.db.cursor() as cur:
        # PL/pgSQL: not inlined into its expression, as SQL would be.
        cur.execute("CREATE FUNCTION plus_one(integer) RETURNS integer IMMUTABLE "
                    "LANGUAGE plpgsql AS 'BEGIN RETURN $1 + 1; END'")
    for query in NOT_PUSHED:
        assert is_local(twins.db, query.replace("{t}", "s.")), query
        twins.same_read(query, ordered=False)


# Grouping keys, aggregate arguments and FILTER clauses that are expressions.
GROUP_EXPRESSIONS = ["id % 10", "g % 2", "lower(h)", "d + 1", "i4 / 1000000",
                     "CASE WHEN b THEN 'y' ELSE 'n' END", "coalesce(g, -1)",
                     # Deterministic collations: the same groups.
                     'h COLLATE "C"']
EXPRESSION_AGGREGATES = [
    "sum(f * 2)", "sum(i4 + 1)", "avg(n * 2)", "count(DISTINCT g + 1)", "max(i8 - 1)",
    "min(d + 1)", "bool_and(b OR g = 1)", "sum(CASE WHEN g = 1 THEN n END)",
    "count(*) FILTER (WHERE f > 0)", "sum(i4) FILTER (WHERE g = 1)",
    "max(t) FILTER (WHERE b)", "avg(n * 2) FILTER (WHERE h IS NULL)",
    "count(DISTINCT lower(h)) FILTER (WHERE g IN (1, 2))", "stddev(n + 1)"]


# HAVING clauses sent remotely (each over numbers, booleans or dates).
HAVINGS = ["count(*) > 40", "sum(i4) > 0", "max(i8) - min(i8) > 100000", "bool_or(b)",
           "avg(n * 2) < 300 OR count(*) < 50", "sum(f * 2) FILTER (WHERE g = 1) > 10",
           "min(d + 1) <> '2024-01-03'", "NOT bool_and(g IS NOT NULL)",
           "count(DISTINCT lower(h)) >= 2", "coalesce(max(i4), 0) % 2 = 0"]


def random_expression_query(rng: random.Random, having: bool = False) -> str:
    groups = rng.sample(GROUP_COLUMNS[:2], rng.randint(0, 1)) + \
        rng.sample(GROUP_EXPRESSIONS, rng.randint(0, 2))
    aggregates = rng.sample(EXPRESSION_AGGREGATES, rng.randint(1, 3))
    query = f"SELECT {', '.join(groups + aggregates)} FROM {{t}}m"
    if rng.random() < 0.3:
        query += " WHERE " + rng.choice(PUSHED_QUALS)
    if groups:
        query += " GROUP BY " + ", ".join(str(i) for i in range(1, len(groups) + 1))
    if having:
        query += " HAVING " + " AND ".join(rng.sample(HAVINGS, rng.randint(1, 2)))
    return query


def test_random_expression_aggregations_match_postgres_fdw(twins):
    rng = random.Random(20)
    for index in range(50):
        query = random_expression_query(rng, having=index % 5 == 4)
        twins.same_read(query, ordered=False)
        assert is_pushed(twins.db, query.replace("{t}", "s.")), query
        if " HAVING " in query:
            sql = remote_sql(twins.db, query.replace("{t}", "s."))
            assert " HAVING " in sql, query
            assert "Filter:" not in plan_of(twins.db, query.replace("{t}", "s.")), query
    # Sorted remotely by outputs that are trees (with values: by position).
    for query in ["SELECT g % 2, sum(f * 2) FROM {t}m GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
                  "SELECT id % 10, count(*) FROM {t}m GROUP BY 1 ORDER BY 1 LIMIT 3",
                  "SELECT max(i8 - 1), g FROM {t}m GROUP BY g ORDER BY 1 LIMIT 3",
                  "SELECT lower(h), count(*) FROM {t}m GROUP BY 1 ORDER BY 1"]:
        twins.same_read(query)
        assert is_pushed(twins.db, query.replace("{t}", "s.")), query
        assert " ORDER BY " in remote_sql(twins.db, query.replace("{t}", "s.")), query


# Ordered aggregates: each ORDER BY a total order of the rows it reads (ties by id), so
# both sides agree on every result.
ORDERED_AGGREGATES = [
    "string_agg(t, ',' ORDER BY t, id)", "string_agg(h, '-' ORDER BY id DESC)",
    "array_agg(i4 ORDER BY id)", "array_agg(DISTINCT g ORDER BY g DESC NULLS LAST)",
    "string_agg(DISTINCT t, ';' ORDER BY t)", "array_agg(d ORDER BY d, id)",
    "array_agg(n ORDER BY f NULLS FIRST, id)", "array_agg(tc ORDER BY tc DESC, id)",
    "array_agg(lower(h) ORDER BY id % 7, id)", "string_agg(v, ',' ORDER BY v DESC, id)",
    "array_agg(b ORDER BY id) FILTER (WHERE g = 1)", "array_agg(f * 2 ORDER BY i8, id)",
    "string_agg(DISTINCT h, ',' ORDER BY h) FILTER (WHERE b)", "array_agg(DISTINCT v)"]


def random_ordered_aggregate_query(rng: random.Random) -> str:
    groups = rng.sample(GROUP_COLUMNS[:2] + GROUP_EXPRESSIONS[:3], rng.randint(0, 2))
    aggregates = rng.sample(ORDERED_AGGREGATES, rng.randint(1, 2)) + \
        rng.sample(AGGREGATES[:8], rng.randint(0, 1))
    query = f"SELECT {', '.join(groups + aggregates)} FROM {{t}}m"
    if rng.random() < 0.3:
        query += " WHERE " + rng.choice(PUSHED_QUALS)
    if groups:
        query += " GROUP BY " + ", ".join(str(i) for i in range(1, len(groups) + 1))
    if rng.random() < 0.2:
        query += " HAVING " + rng.choice(HAVINGS)
    return query


def test_random_ordered_aggregates_match_postgres_fdw(twins):
    """array_agg, string_agg and aggregates' ORDER BY go remote; arrays come back as
    arrays of their type."""
    rng = random.Random(21)
    for _ in range(30):
        query = random_ordered_aggregate_query(rng)
        twins.same_read(query, ordered=False)
        assert is_pushed(twins.db, query.replace("{t}", "s.")), query
    sql = remote_sql(twins.db, "SELECT g, string_agg(tc, ',' ORDER BY tc DESC, id), "
                               "array_agg(d ORDER BY lower(h) NULLS FIRST) FROM s.m GROUP BY g")
    assert sql == ('SELECT "g", pg_catalog.string_agg("tc", $1::text ORDER BY "tc" DESC '
                   'NULLS FIRST, "id" ASC NULLS LAST), pg_catalog.array_agg("d" ORDER BY '
                   '"pg_catalog"."lower"("h") ASC NULLS FIRST) FROM "{a}"."m" GROUP BY 1'
                   ).format(a=twins.a)
    (row,) = twins.same_read("SELECT array_agg(d ORDER BY id), array_agg(n ORDER BY id), "
                             "array_agg(b ORDER BY id) FROM {t}m WHERE id < 4")
    assert row == ("{2024-01-02,2024-01-03,2024-01-04}", "{-398.875,-397.750,-396.625}",
                   "{f,t,f}")


def test_unordered_string_and_array_aggregates_are_pushed(twins):
    """Without ORDER BY any order is right (postgres_fdw pushes them as well): the same
    elements."""
    query = "SELECT g, array_agg(id), string_agg(t, ',') FROM {t}m GROUP BY g"
    assert is_pushed(twins.db, query.replace("{t}", "s."))
    got, expected = (execute(twins.db, query.replace("{t}", schema))
                     for schema in ("s.", "pa."))
    assert sorted(((g, sorted(ids), sorted(ts.split(","))) for g, ids, ts in got),
                  key=repr) == \
        sorted(((g, sorted(ids), sorted(ts.split(","))) for g, ids, ts in expected), key=repr)


def test_having_remote_sql_and_what_stays_local(twins):
    """Shippable HAVING clauses go remote (the aggregation's outputs written as in the
    SELECT list, values bound); the others filter the remote groups here."""
    query = ("SELECT g, sum(i4) FROM s.m GROUP BY g HAVING count(*) > 100 "
             "AND sum(i4) + 1 > 0")
    assert remote_sql(twins.db, query) == (
        'SELECT "g", pg_catalog.sum("i4"), pg_catalog.count(*) FROM "{a}"."m" GROUP BY 1 '
        'HAVING (pg_catalog.count(*) OPERATOR("pg_catalog".>) $1::integer) AND '
        '((pg_catalog.sum("i4") OPERATOR("pg_catalog".+) $2::integer) '
        'OPERATOR("pg_catalog".>) $3::integer)').format(a=twins.a)
    twins.same_read(query.replace("s.m", "{t}m"), ordered=False)
    for query, local in [
            # Text compared under a collation; a volatile function; a grouping expression
            # with a value (written again it would be another).
            ("SELECT g, count(*) FROM {t}m GROUP BY g HAVING max(t) > 'x5' "
             "AND count(*) > 10", "max(m.t)"),
            ("SELECT g, count(*) FROM {t}m GROUP BY g HAVING count(*) > random() * 0",
             "random()"),
            ("SELECT id % 10, count(*) FROM {t}m GROUP BY 1 HAVING id % 10 + count(*) > 60",
             "count(*)"),
            ("SELECT count(*) FROM {t}m HAVING min(h) IS NOT NULL", "min(m.h)")]:
        plan = plan_of(twins.db, query.replace("{t}", "s."))
        assert is_pushed(twins.db, query.replace("{t}", "s.")), query
        assert "Filter: " in plan and local in plan.split("Filter: ")[1], plan
        twins.same_read(query, ordered=False)


def test_parameters_in_pushed_aggregations(twins):
    """A generic plan's parameters and a LATERAL subquery's outer values inside pushed
    grouping keys, aggregates, FILTER, ORDER BY and HAVING: bound remotely with each
    execution's values."""
    queries = {
        "g": "SELECT g % $1, sum(g * $1), count(*) FILTER (WHERE i4 > $2) FROM {s}.m "
             "GROUP BY 1 HAVING sum(i4) > $2 ORDER BY 1",
        "o": "SELECT g, string_agg(t, $3 ORDER BY t, id) FILTER (WHERE id % $1 = 0) "
             "FROM {s}.m GROUP BY g HAVING count(*) > $1 + $2 ORDER BY g"}
    with twins.db.cursor() as cur:
        cur.execute("SET plan_cache_mode = force_generic_plan")
        try:
            for name, query in queries.items():
                for schema in ("s", "pa"):
                    cur.execute(f"PREPARE {name}{schema}(int, int, text) AS "
                                + query.format(s=schema))
                cur.execute(f"EXPLAIN (VERBOSE) EXECUTE {name}s(3, 0, ',')")
                plan = "\n".join(row[0] for row in cur.fetchall())
                assert "Aggregate" not in plan.replace("Aggregate on", ""), plan
                assert " HAVING " in plan, plan
                for values in ((2, 1999999000, ","), (3, 0, "; "), (5, -1, "")):
                    cur.execute(f"EXECUTE {name}s(%s, %s, %s)", values)
                    got = cur.fetchall()
                    cur.execute(f"EXECUTE {name}pa(%s, %s, %s)", values)
                    assert got == cur.fetchall(), (query, values)
        finally:
            cur.execute("DEALLOCATE ALL")
            cur.execute("RESET plan_cache_mode")
    query = ("SELECT x, y.* FROM generate_series(0, 4) x, LATERAL (SELECT count(*) "
             "FILTER (WHERE g = x), sum(i4 % (x + 1)), array_agg(id ORDER BY id % (x + 2), id) "
             "FILTER (WHERE id < 10) FROM {t}m HAVING max(g) >= x) y ORDER BY x")
    assert is_pushed(twins.db, query.replace("{t}", "s."))
    assert len(twins.same_read(query)) == 5


def test_generic_plan_parameter_stays_local(twins):
    db = twins.db
    with db.cursor() as cur:
        cur.execute("SET plan_cache_mode = force_generic_plan")
        cur.execute("PREPARE q(int) AS SELECT count(*), sum(i4) FROM s.m WHERE g = $1")
        cur.execute("PREPARE p(int) AS SELECT count(*), sum(i4) FROM pa.m WHERE g = $1")
        for g in (1, 2, 99):
            cur.execute("EXECUTE q(%s)", (g,))
            got = cur.fetchall()
            cur.execute("EXECUTE p(%s)", (g,))
            assert got == cur.fetchall()
        cur.execute("DEALLOCATE ALL")
        cur.execute("RESET plan_cache_mode")


def test_privileges_are_checked_for_the_groups_scan(twins, role):
    """The scan of groups reads no relation of its own: PostgreSQL still checks the
    table's (and columns') privileges first, 42501, and the session goes on."""
    db = twins.db
    with db.cursor() as cur:
        cur.execute(sql.SQL("GRANT USAGE ON SCHEMA s TO {0}; GRANT SELECT (g) ON s.m TO {0}")
                    .format(sql.Identifier(role)))
        cur.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
    try:
        for query in ["SELECT g, sum(i4) FROM s.m GROUP BY g", "SELECT max(t) FROM s.m"]:
            assert error_of(db, query).pgcode == "42501", query
        assert_usable(db)
    finally:
        with db.cursor() as cur:
            cur.execute("RESET ROLE")
