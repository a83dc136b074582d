"""Joins of remote tables computed by the remote server (can_join / execute_join), with
postgres_fdw over twin remote tables as the oracle: inner, left, right and full joins,
quals on each side, three tables, NULL join keys, EXPLAIN showing the pushed join, and
the joins that must stay local (a clause the remote cannot evaluate exactly, tables of
two servers)."""
from __future__ import annotations

import random

import pytest
from psycopg2 import sql

from fdwtest import assert_same, assert_usable, create_people, error_of
from pgfdw_helpers import execute, explain
from twins import twin_schemas

TABLES_SQL = """
CREATE SCHEMA {s};
CREATE TABLE {s}.a (id integer PRIMARY KEY, k integer, t text, n numeric(8,2));
CREATE TABLE {s}.b (id integer PRIMARY KEY, a_id integer, v integer, w text);
CREATE TABLE {s}.c (id integer PRIMARY KEY, b_id integer, x text);
INSERT INTO {s}.a SELECT i, CASE WHEN i % 9 = 0 THEN NULL ELSE i % 4 END,
                         CASE WHEN i % 11 = 0 THEN NULL ELSE 'w' || i % 7 END, i * 1.25
                  FROM generate_series(1, 120) i;
INSERT INTO {s}.b SELECT i, CASE WHEN i % 8 = 0 THEN NULL ELSE i % 150 END, i % 13,
                         CASE WHEN i % 5 = 0 THEN NULL ELSE 'w' || i % 6 END
                  FROM generate_series(1, 200) i;
INSERT INTO {s}.c SELECT i, CASE WHEN i % 6 = 0 THEN NULL ELSE i % 220 END, 'x' || i % 3
                  FROM generate_series(1, 150) i;
ANALYZE {s}.a, {s}.b, {s}.c;
"""

PUSHED = [
    "SELECT a.id, a.t, b.id, b.v FROM {t}a a JOIN {t}b b ON a.id = b.a_id",
    "SELECT a.id, b.id, b.w FROM {t}a a LEFT JOIN {t}b b ON a.id = b.a_id",
    "SELECT a.id, a.n, b.id FROM {t}a a RIGHT JOIN {t}b b ON a.id = b.a_id",
    "SELECT a.id, a.k, b.id, b.v FROM {t}a a FULL JOIN {t}b b ON a.id = b.a_id",
    "SELECT a.id, b.v FROM {t}a a JOIN {t}b b ON a.id = b.a_id WHERE a.k = 2 AND b.v > 5",
    "SELECT a.id, b.id FROM {t}a a LEFT JOIN {t}b b ON a.id = b.a_id AND b.v < 7 "
    "WHERE a.k IN (1, 3)",
    "SELECT a.id, b.id FROM {t}a a FULL JOIN {t}b b ON a.id = b.a_id AND a.k = b.v "
    "WHERE a.t IS NOT NULL",
    "SELECT a.t, b.w FROM {t}a a JOIN {t}b b ON a.t = b.w AND a.k = 1",
    "SELECT count(*) FROM {t}a a JOIN {t}b b ON a.k = b.v",
    "SELECT a.id, b.id, c.id, c.x FROM {t}a a JOIN {t}b b ON a.id = b.a_id "
    "JOIN {t}c c ON c.b_id = b.id",
    "SELECT a.id, b.id, c.x FROM {t}a a LEFT JOIN {t}b b ON a.id = b.a_id "
    "LEFT JOIN {t}c c ON c.b_id = b.id WHERE a.id < 60",
    "SELECT a.id, b.id, c.id FROM {t}b b FULL JOIN {t}c c ON c.b_id = b.id "
    "JOIN {t}a a ON a.id = b.a_id AND a.k = 1",
    "SELECT a.id, b.id FROM {t}a a JOIN {t}b b ON a.id = b.a_id + 1 OR a.k = b.v "
    "WHERE a.id < 30",
    # A join inside a subquery: its range table indexes shift when the plans are put
    # together, and an output nobody reads becomes a NULL constant of the join's target.
    "SELECT count(*), max(w) FROM (SELECT a.id, b.w FROM {t}a a JOIN {t}b b "
    "ON b.id = a.id + 1 WHERE a.id BETWEEN 10 AND 90 OFFSET 0) s",
]


@pytest.fixture
def twins(fdb, remote, source):
    with twin_schemas(fdb, remote, source, TABLES_SQL, "join") as twins:
        yield twins


def plan(db, query: str) -> str:
    return "\n".join(explain(db, query))


def import_through(twins, server: str, wrapper: str, schema: str, limit: str = "") -> None:
    """The sgfdw tables' remote schema imported into `schema` through a new `server` of
    `wrapper` (another server and user mapping than theirs)."""
    params = twins.source.get_dsn_parameters()
    execute(twins.db, sql.SQL("CREATE SERVER {} FOREIGN DATA WRAPPER sgfdw OPTIONS ("
                              "wrapper %s, host %s, port %s, dbname %s)").format(
                sql.Identifier(server)),
            [wrapper, params["host"], params["port"], params["dbname"]])
    execute(twins.db, sql.SQL("CREATE USER MAPPING FOR CURRENT_USER SERVER {} OPTIONS "
                              "(user 'postgres')").format(sql.Identifier(server)))
    execute(twins.db, sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    execute(twins.db, sql.SQL("IMPORT FOREIGN SCHEMA {} " + limit + " FROM SERVER {} INTO {}")
            .format(sql.Identifier(twins.a), sql.Identifier(server), sql.Identifier(schema)))


def test_pushed_joins_match_postgres_fdw(twins):
    for query in PUSHED:
        twins.both(query)
        shown = plan(twins.db, query.replace("{t}", "s."))
        assert "Relations: " in shown and " JOIN " in shown.split("Remote SQL:")[1], query
        assert "Join" not in shown.replace("Foreign Scan", ""), query


def test_explain_verbose_shows_the_pushed_join(twins):
    shown = explain(twins.db, "SELECT a.id, b.v FROM s.a a LEFT JOIN s.b b "
                              "ON a.id = b.a_id AND b.v > 3 WHERE a.k = 1")
    assert "  Relations: (s.a r1) LEFT JOIN (s.b r2)" in shown
    (remote,) = [line.split("Remote SQL: ")[1] for line in shown if "Remote SQL" in line]
    assert remote == ('SELECT r1."id", r2."v" FROM (SELECT * FROM "{0}"."a" WHERE '
                      '("k" = $1)) r1 LEFT JOIN (SELECT * FROM "{0}"."b" WHERE ("v" > $2)) r2 '
                      'ON ((r1."id" OPERATOR("pg_catalog".=) r2."a_id"))').format(twins.a), remote
    three = plan(twins.db, "SELECT a.id, c.x FROM s.a a JOIN s.b b ON a.id = b.a_id "
                           "JOIN s.c c ON c.b_id = b.id")
    assert "Relations: ((s.a r1) INNER JOIN (s.b r2)) INNER JOIN (s.c r3)" in three or \
        "INNER JOIN (s.c r3)) INNER JOIN" in three or "JOIN (s.a r" in three, three


def test_joins_that_stay_local(twins):
    local = [
        # A volatile function and a collation the remote may not share stay local (an
        # outer join's clause cannot be applied after it).
        "SELECT a.id, b.id FROM {t}a a LEFT JOIN {t}b b ON a.id = b.a_id AND random() >= 0",
        'SELECT a.id, b.id FROM {t}a a FULL JOIN {t}b b ON a.t = b.w COLLATE "und-x-icu" '
        'AND a.id < 40',
        "SELECT a.id, b.id FROM {t}a a JOIN {t}b b ON a.id = b.a_id FOR UPDATE OF a",
        "SELECT a, b.id FROM {t}a a JOIN {t}b b ON a.id = b.a_id",
    ]
    for query in local:
        twins.both(query)
        assert "Relations: " not in plan(twins.db, query.replace("{t}", "s.")), query
    # Tables of two servers (and user mappings) are never joined remotely.
    import_through(twins, "rsrv2", "sgfdw.postgres.PostgresFdw", "s2", "LIMIT TO (b)")
    query = "SELECT a.id, b.id FROM s.a a JOIN s2.b b ON a.id = b.a_id"
    assert "Relations: " not in plan(twins.db, query)
    assert sorted(execute(twins.db, query)) == \
        sorted(execute(twins.db, "SELECT a.id, b.id FROM p.a a JOIN p.b b ON a.id = b.a_id"))
    execute(twins.db, "DROP SCHEMA s2 CASCADE")
    execute(twins.db, "DROP SERVER rsrv2 CASCADE")


# Inner joins with clauses the remote cannot evaluate exactly (volatile, a user function,
# another collation): the join is pushed with the others, those filter its rows locally.
LOCAL_CLAUSES = [
    "SELECT a.id, b.id FROM {t}a a JOIN {t}b b ON a.id = b.a_id AND random() >= 0",
    "SELECT a.id, b.v FROM {t}a a JOIN {t}b b ON a.id = b.a_id AND public.plus1(a.k) = b.v",
    'SELECT a.id, b.w FROM {t}a a JOIN {t}b b ON a.id = b.a_id '
    'WHERE a.t < b.w COLLATE "und-x-icu" AND b.v > 2',
    "SELECT a.id, b.id, c.x FROM {t}a a JOIN {t}b b ON a.id = b.a_id "
    "JOIN {t}c c ON c.b_id = b.id AND public.plus1(c.id) > a.k",
]


def test_inner_joins_with_local_clauses_match_postgres_fdw(twins):
    execute(twins.db, "CREATE FUNCTION public.plus1(i integer) RETURNS integer "
                      "LANGUAGE plpgsql IMMUTABLE AS 'BEGIN RETURN i + 1; END'")
    for query in LOCAL_CLAUSES:
        twins.both(query)
        shown = plan(twins.db, query.replace("{t}", "s."))
        assert "Relations: " in shown and "Join" not in shown.replace("Foreign Scan", ""), \
            shown
        local, remote = shown.split("Remote SQL: ")
        assert "  Filter: " in local, shown
        assert not any(word in remote for word in ("random", "plus1", "COLLATE", '".<)')), \
            shown
    # Only a local clause: the remote joins without one (ON TRUE) where that is cheaper
    # (here by forbidding local joins: the estimates of the tables' ranges are rough).
    query = "SELECT a.id, b.id FROM {t}a a JOIN {t}b b ON public.plus1(a.id) = b.id " \
            "WHERE a.id < 4 AND b.id < 5"
    execute(twins.db, "SET enable_hashjoin = off; SET enable_mergejoin = off; "
                      "SET enable_nestloop = off")
    twins.both(query)
    assert "ON (TRUE)" in plan(twins.db, query.replace("{t}", "s."))


def test_remote_error_in_a_pushed_join(twins):
    query = "SELECT a.id, b.id FROM s.a a JOIN s.b b ON a.id = b.a_id AND a.k / (b.v - b.v) > 0"
    assert "Relations: " in plan(twins.db, query)
    assert error_of(twins.db, query).pgcode == "22012"
    assert_usable(twins.db)
    twins.both(PUSHED[0])


# Semi and anti joins (EXISTS, IN (SELECT ...), NOT EXISTS), NULL join keys included (a.k,
# b.v, b.a_id and c.b_id hold NULLs), alone, beside inner and outer joins and nested in
# them; each is pushed whole (no local join left).
SEMI_ANTI = [
    "SELECT a.id, a.t FROM {t}a a WHERE EXISTS (SELECT 1 FROM {t}b b WHERE b.a_id = a.id)",
    "SELECT a.id, a.t FROM {t}a a WHERE NOT EXISTS (SELECT 1 FROM {t}b b "
    "WHERE b.a_id = a.id)",
    "SELECT a.id FROM {t}a a WHERE a.k IN (SELECT b.v FROM {t}b b WHERE b.w = 'w2')",
    "SELECT a.id, a.k FROM {t}a a WHERE EXISTS (SELECT 1 FROM {t}b b WHERE b.v = a.k)",
    "SELECT a.id, a.k FROM {t}a a WHERE NOT EXISTS (SELECT 1 FROM {t}b b WHERE b.v = a.k)",
    "SELECT a.id FROM {t}a a WHERE a.k = 1 AND EXISTS (SELECT 1 FROM {t}b b "
    "WHERE b.a_id = a.id AND b.w IS NOT NULL)",
    "SELECT a.id FROM {t}a a WHERE NOT EXISTS (SELECT 1 FROM {t}b b "
    "WHERE (b.a_id = a.id OR b.v = a.k) AND b.id < 100)",
    "SELECT count(*) FROM {t}a a WHERE EXISTS (SELECT 1 FROM {t}b b "
    "WHERE b.id = a.id + 1 AND b.v < 5)",
    "SELECT a.id FROM {t}a a WHERE EXISTS (SELECT 1 FROM {t}b b JOIN {t}c c "
    "ON c.b_id = b.id WHERE b.a_id = a.id AND c.x <> 'x1')",
    # Beside an inner join, on an outer join's preserved side and on its nullable side.
    "SELECT a.id, b.id FROM {t}a a JOIN {t}b b ON a.id = b.a_id "
    "WHERE NOT EXISTS (SELECT 1 FROM {t}c c WHERE c.b_id = b.id)",
    "SELECT a.id, b.id FROM {t}a a LEFT JOIN {t}b b ON a.id = b.a_id "
    "WHERE EXISTS (SELECT 1 FROM {t}c c WHERE c.b_id = a.id)",
    "SELECT a.id, b.id FROM {t}a a LEFT JOIN {t}b b ON a.id = b.a_id "
    "AND EXISTS (SELECT 1 FROM {t}c c WHERE c.b_id = b.id)",
    "SELECT a.id, b.id FROM {t}a a LEFT JOIN {t}b b ON a.id = b.a_id "
    "AND NOT EXISTS (SELECT 1 FROM {t}c c WHERE c.b_id = b.id) WHERE a.id < 50",
]


def test_semi_and_anti_joins_match_postgres_fdw(twins):
    # (One test: each twin setup costs seconds.)
    for query in SEMI_ANTI:
        twins.both(query)
        shown = plan(twins.db, query.replace("{t}", "s."))
        assert "Relations: " in shown and "EXISTS (SELECT NULL FROM " in shown, shown
        assert "Join" not in shown.replace("Foreign Scan", ""), shown
    check_random_semi_and_anti_joins(twins)
    # A generic plan's parameters, bound at each execution; one NULL makes its
    # comparison hold for no row (not IS NULL): the anti join keeps every row, the inner
    # join none.
    execute(twins.db, "SET plan_cache_mode = force_generic_plan")
    for schema in ("s", "p"):
        execute(twins.db, f"PREPARE {schema}_anti(int) AS SELECT a.id FROM {schema}.a a "
                          f"WHERE NOT EXISTS (SELECT 1 FROM {schema}.b b "
                          f"WHERE b.a_id = a.id AND b.v > $1)")
        execute(twins.db, f"PREPARE {schema}_inner(int) AS SELECT a.id, b.id FROM "
                          f"{schema}.a a JOIN {schema}.b b ON a.id = b.a_id WHERE a.k = $1")
    for name in ("anti", "inner"):
        for value in (3, 1, None):
            assert sorted(execute(twins.db, f"EXECUTE s_{name}(%s)", [value])) == \
                sorted(execute(twins.db, f"EXECUTE p_{name}(%s)", [value])), (name, value)
        assert "Relations: " in plan(twins.db, f"EXECUTE s_{name}(3)")
    assert len(execute(twins.db, "EXECUTE s_anti(NULL)")) == 120
    assert execute(twins.db, "EXECUTE s_inner(NULL)") == []
    execute(twins.db, "RESET plan_cache_mode")
    check_explain_of_semi_and_anti_joins(twins)
    check_semi_and_anti_joins_that_stay_local(twins)


def check_explain_of_semi_and_anti_joins(twins):
    def remote(query: str) -> str:
        (line,) = [line for line in explain(twins.db, query) if "Remote SQL" in line]
        return line.split("Remote SQL: ")[1].replace(twins.a, "S")

    shown = explain(twins.db, "SELECT a.id FROM s.a a WHERE a.k = 1 AND EXISTS "
                              "(SELECT 1 FROM s.b b WHERE b.a_id = a.id AND b.v > 3)")
    assert "  Relations: (s.a r1) SEMI JOIN (s.b r2)" in shown, shown
    assert remote("SELECT a.id FROM s.a a WHERE a.k = 1 AND EXISTS "
                  "(SELECT 1 FROM s.b b WHERE b.a_id = a.id AND b.v > 3)") == (
        'SELECT r1."id" FROM (SELECT * FROM "S"."a" WHERE ("k" = $1)) r1 WHERE EXISTS '
        '(SELECT NULL FROM (SELECT * FROM "S"."b" WHERE ("v" > $2)) r2 '
        'WHERE (r1."id" OPERATOR("pg_catalog".=) r2."a_id"))')
    # On an outer join's nullable side, the NOT EXISTS restricts that side in the ON
    # clause (the planner may write the join as b RIGHT JOIN a).
    nested = remote("SELECT a.id, b.id FROM s.a a LEFT JOIN s.b b ON a.id = b.a_id AND "
                    "NOT EXISTS (SELECT 1 FROM s.c c WHERE c.b_id = b.id)")
    assert nested.count(" WHERE ") == 1 and nested.endswith(
        ') AND NOT EXISTS (SELECT NULL FROM "S"."c" r2 WHERE (r2."b_id" '
        'OPERATOR("pg_catalog".=) r1."id")))') or nested.endswith(
        ') AND NOT EXISTS (SELECT NULL FROM "S"."c" r3 WHERE (r3."b_id" '
        'OPERATOR("pg_catalog".=) r2."id")))'), nested


def check_semi_and_anti_joins_that_stay_local(twins):
    local = [
        # NOT IN is no anti join (a NULL makes it unknown), a volatile EXISTS stays a
        # subplan, another collation stays local, and a semi join on a full join's side
        # has no place in the remote statement.
        "SELECT a.id FROM {t}a a WHERE a.k NOT IN (SELECT b.v FROM {t}b b)",
        "SELECT a.id FROM {t}a a WHERE EXISTS (SELECT 1 FROM {t}b b WHERE b.a_id = a.id "
        "AND random() >= 0)",
        'SELECT a.id FROM {t}a a WHERE EXISTS (SELECT 1 FROM {t}b b WHERE b.w = a.t '
        'COLLATE "und-x-icu")',
    ]
    for query in local:
        twins.both(query)
        assert "Relations: " not in plan(twins.db, query.replace("{t}", "s.")), query
    query = ("SELECT a.id, b.id FROM {t}a a FULL JOIN (SELECT * FROM {t}b b WHERE EXISTS "
             "(SELECT 1 FROM {t}c c WHERE c.b_id = b.id)) b ON a.id = b.a_id")
    twins.both(query)
    assert "FULL JOIN" not in plan(twins.db, query.replace("{t}", "s.")).split("Relations")[-1]


def random_semi_anti_query(rng: random.Random) -> str:
    """A semi or anti join of a random shape: alone or beside an inner or outer join
    (EXISTS in WHERE or in the ON clause), correlated on keys holding NULLs or not, with
    or without quals and clauses the remote cannot evaluate."""
    test = rng.choice(["EXISTS", "NOT EXISTS"])
    inner, correlation = rng.choice([("b x", "x.a_id = a.id"), ("b x", "x.v = a.k"),
                                     ("b x", "x.w = a.t"), ("c x", "x.b_id = a.id"),
                                     ("b x", "x.a_id = a.id + 1 OR x.v = a.k")])
    condition = rng.choice(["", " AND x.id % 3 = 1", " AND x.id < 90",
                            " AND x.id > 2 * a.k"])
    subquery = f"{test} (SELECT 1 FROM {{t}}{inner} WHERE ({correlation}){condition})"
    quals = rng.choice(["", " AND a.id < 70", " AND a.k IS NOT NULL", " AND a.t <> 'w3'"])
    shape = rng.choice(["alone", "inner", "left", "left on", "right"])
    if shape == "alone":
        return f"SELECT a.id, a.k FROM {{t}}a a WHERE {subquery}{quals}"
    if shape == "left on":
        for a_column, y_column in (("a.id", "y.id"), ("a.k", "y.v"), ("a.t", "y.w")):
            subquery = subquery.replace(a_column, y_column)
        return (f"SELECT a.id, y.id FROM {{t}}a a LEFT JOIN {{t}}b y ON y.a_id = a.id "
                f"AND {subquery} WHERE TRUE{quals}")
    join = {"inner": "JOIN", "left": "LEFT JOIN", "right": "RIGHT JOIN"}[shape]
    return (f"SELECT a.id, y.id, y.v FROM {{t}}a a {join} {{t}}b y ON y.a_id = a.id "
            f"WHERE {subquery}{quals}")


def check_random_semi_and_anti_joins(twins):
    rng = random.Random(1717)
    pushed = 0
    for _ in range(40):
        query = random_semi_anti_query(rng)
        twins.both(query)
        pushed += "Relations: " in plan(twins.db, query.replace("{t}", "s."))
    assert pushed >= 30, pushed


def test_fdws_that_do_not_join_semi_or_anti_joins_behave_as_before(twins):
    # A can_join that refuses them: PostgreSQL joins locally, other joins still pushed.
    import_through(twins, "classic", "classicjoins.ClassicJoinsFdw", "classic")
    for query in SEMI_ANTI[:2]:
        shown = plan(twins.db, query.replace("{t}", "classic."))
        assert "Relations: " not in shown and " Join" in shown, shown
        assert sorted(execute(twins.db, query.replace("{t}", "classic."))) == \
            sorted(execute(twins.db, query.replace("{t}", "p.")))
    assert "Relations: " in plan(twins.db, PUSHED[0].replace("{t}", "classic."))
    execute(twins.db, "DROP SERVER classic CASCADE")
    # An FDW without can_join (Multicorn's API): joins stay local, rows as PostgreSQL's.
    create_people(twins.db)
    for query in ("SELECT p.id FROM {t} p WHERE EXISTS (SELECT 1 FROM {t} q "
                  "WHERE q.id = p.id + 1)",
                  "SELECT p.id FROM {t} p WHERE NOT EXISTS (SELECT 1 FROM {t} q "
                  "WHERE q.id = p.id + 2 AND q.id < 4)"):
        assert_same(twins.db, query)
