"""Restriction clauses as the FDW receives them (multicorn.Qual), and correct results.

Every query also runs on a local copy of the data (people_local) and must give the same
rows. The foreign table applies the quals it receives (option filter), so a qual with a
wrong value or operator would lose rows, not just be rechecked away.
"""

from __future__ import annotations

import pytest

from fdwtest import Recorder, assert_same, create_people, execute


@pytest.fixture
def people(db):
    create_people(db, filter="true")
    return Recorder(db)


def sorted_quals(quals):
    return sorted(quals, key=repr)


QUAL_CASES = [
    ("age = 30", [("age", "=", 30)]),
    ("age <> 30", [("age", "<>", 30)]),
    ("age < 30", [("age", "<", 30)]),
    ("age <= 30", [("age", "<=", 30)]),
    ("age > 30", [("age", ">", 30)]),
    ("age >= 30", [("age", ">=", 30)]),
    ("id = 1::bigint", [("id", "=", 1)]),
    ("score >= 77.7", [("score", ">=", 77.7)]),
    ("name = 'Zoë'", [("name", "=", "Zoë")]),
    ("name = 'O''Brien'", [("name", "=", "O'Brien")]),
    ("name LIKE 'A%'", [("name", "~~", "A%")]),
    ("name LIKE 'Bob\\_2\\%'", [("name", "~~", "Bob\\_2\\%")]),
    ("name ILIKE 'a%'", [("name", "~~*", "a%")]),
    ("name NOT LIKE '%o%'", [("name", "!~~", "%o%")]),
    ("name NOT ILIKE 'b%'", [("name", "!~~*", "b%")]),
    ("id IN (1, 3, 5)", [("id", ("=", True), [1, 3, 5])]),
    ("id IN (3)", [("id", "=", 3)]),
    ("name IN ('bob', 'Zoë', '日本語')", [("name", ("=", True), ["bob", "Zoë", "日本語"])]),
    ("id = ANY(ARRAY[2, 4])", [("id", ("=", True), [2, 4])]),
    ("age > ANY(ARRAY[40, 50])", [("age", (">", True), [40, 50])]),
    ("id <> ALL(ARRAY[1, 2])", [("id", ("<>", False), [1, 2])]),
    ("id NOT IN (1, 2)", [("id", ("<>", False), [1, 2])]),
    ("age < ALL(ARRAY[30, 40])", [("age", ("<", False), [30, 40])]),
    ("id = ANY(ARRAY[]::int[])", [("id", ("=", True), [])]),
    ("id = ANY(ARRAY[1, NULL, 3])", [("id", ("=", True), [1, None, 3])]),
    ("name IN ('bob', NULL)", [("name", ("=", True), ["bob", None])]),
    ("age IS NULL", [("age", "=", None)]),
    ("age IS NOT NULL", [("age", "<>", None)]),
    ("active", [("active", "=", True)]),
    ("NOT active", [("active", "=", False)]),
    ("active = true", [("active", "=", True)]),
    ("active = false", [("active", "=", False)]),
    ("5 < age", [("age", ">", 5)]),
    ("30 = age", [("age", "=", 30)]),
    ("40 >= age", [("age", "<=", 40)]),
    ("'bob' = name", [("name", "=", "bob")]),
    ("name LIKE 'Bob#_2%' ESCAPE '#'", [("name", "~~", "Bob\\_2%")]),
    ("name ~ '^[ab]'", [("name", "~", "^[ab]")]),
    ("id BETWEEN 2 AND 5", [("id", ">=", 2), ("id", "<=", 5)]),
    ("(id, age) = (1, 30)", [("id", "=", 1), ("age", "=", 30)]),
    ("age = 30 AND name <> 'x'", [("age", "=", 30), ("name", "<>", "x")]),
    ("age >= 25 AND age < 41 AND active", [("age", ">=", 25), ("age", "<", 41),
                                           ("active", "=", True)]),
]


@pytest.mark.parametrize("where, expected", QUAL_CASES, ids=[c[0] for c in QUAL_CASES])
def test_qual_as_received(people, where, expected):
    people.clear()
    assert_same(people.db, f"SELECT * FROM {{t}} WHERE {where}")
    call = people.one_execute()
    assert sorted_quals(call["quals"]) == sorted_quals(expected)
    # Constants are known while planning too.
    (size,) = people.calls("get_rel_size")
    assert sorted_quals(size["quals"]) == sorted_quals(expected)


NOT_QUALS = [
    # A qual carries no collation: one the column does not have stays with PostgreSQL.
    "name < 'b' COLLATE \"C\"",
    "age + 1 > 31",            # expression on the column
    "upper(name) = 'BOB'",
    "age = id",                # two columns of the same table
    "age = 30 OR id = 1",      # OR of quals
    "age > random() * 0",      # volatile value
    "name = name || ''",
    "age::numeric = 30.0",     # the column under a cast
    "age IS DISTINCT FROM 30",
    "name IS NOT DISTINCT FROM 'bob'",
]


@pytest.mark.parametrize("where", NOT_QUALS)
def test_clause_that_is_not_a_qual(people, where):
    people.clear()
    assert_same(people.db, f"SELECT * FROM {{t}} WHERE {where}")
    assert people.one_execute()["quals"] == []


def test_always_false_clause_needs_no_scan(people):
    people.clear()
    assert assert_same(people.db, "SELECT * FROM {t} WHERE age = NULL") == []
    assert people.executes() == []


def test_only_usable_clauses_become_quals(people):
    people.clear()
    assert_same(people.db, "SELECT * FROM {t} WHERE age + 1 > 20 AND id < 9")
    assert people.one_execute()["quals"] == [("id", "<", 9)]


def test_prepared_statement_parameter(people):
    db = people.db
    execute(db, "PREPARE by_age(int) AS SELECT id, name FROM people WHERE age = $1")
    execute(db, "PREPARE by_age_local(int) AS SELECT id, name FROM people_local WHERE age = $1")
    # More than 5 executions: the plan cache may switch to a generic plan meanwhile.
    for age in [30, 25, 41, 19, 52, 30, 25, 60, 33]:
        got = people.run("EXECUTE by_age(%s)", (age,))
        assert sorted(got) == sorted(execute(db, "EXECUTE by_age_local(%s)", (age,)))
        assert people.one_execute()["quals"] == [("age", "=", age)]


@pytest.mark.parametrize("mode", ["force_generic_plan", "force_custom_plan"])
def test_prepared_parameters_generic_and_custom(people, mode):
    db = people.db
    execute(db, f"SET plan_cache_mode = {mode}")
    execute(db, "PREPARE q(text, int[]) AS SELECT id FROM people WHERE name = $1 OR id = ANY($2)")
    execute(db, "PREPARE p(text, int[]) AS SELECT id FROM people WHERE name <> $1 AND id = ANY($2)")
    for name, ids in [("Zoë", [1, 2]), ("日本語", [5, 12, 99]), ("", [])]:
        got = people.run("EXECUTE p(%s, %s)", (name, ids))
        expected = execute(db, "SELECT id FROM people_local WHERE name <> %s AND id = ANY(%s)",
                           (name, ids))
        assert sorted(got) == sorted(expected)
        assert sorted_quals(people.one_execute()["quals"]) == sorted_quals(
            [("name", "<>", name), ("id", ("=", True), ids)])
        if mode == "force_generic_plan":
            # Parameter values are not known while planning a generic plan.
            for size in people.calls("get_rel_size"):
                assert size["quals"] == []


def test_stable_function_evaluated_at_execution(people):
    db = people.db
    execute(db, "SET sgfdw_test.age = '30'")
    query = "SELECT id FROM {t} WHERE age = current_setting('sgfdw_test.age')::int"
    execute(db, "PREPARE s AS " + query.format(t="people"))
    for age in ["30", "25", "52"]:
        execute(db, "SET sgfdw_test.age = %s", (age,))
        people.clear()
        assert_same(db, query)
        assert people.one_execute()["quals"] == [("age", "=", int(age))]
        # Not a constant: get_rel_size does not get it.
        assert people.calls("get_rel_size")[0]["quals"] == []
        # A cached plan evaluates it again at each execution.
        got = people.run("EXECUTE s")
        assert sorted(got) == sorted(execute(db, query.format(t="people_local")))
        assert people.one_execute()["quals"] == [("age", "=", int(age))]


def test_correlated_subquery_value_per_outer_row(people):
    """A value from the outer query (a PARAM_EXEC) reaches every execute() anew."""
    db = people.db
    execute(db, "CREATE TABLE keys (k int)")
    execute(db, "INSERT INTO keys VALUES (3), (7), (12), (99), (7)")
    people.clear()
    got = assert_same(db, "SELECT k, (SELECT name FROM {t} p WHERE p.id = keys.k) "
                          "FROM keys ORDER BY k")
    assert [row[1] for row in got] == ["Zoë", "alice", "alice", "carol", None]
    quals = [call["quals"] for call in people.executes()]
    assert sorted(quals, key=repr) == sorted(
        [[("id", "=", k)] for k in (3, 7, 12, 99, 7)], key=repr)


def test_varchar_column_under_relabel(db):
    create_people(db, local=False, filter="true")
    execute(db, "CREATE FOREIGN TABLE people_v (id int, name varchar(20)) SERVER rec "
                "OPTIONS (dataset 'people', filter 'true')")
    rec = Recorder(db)
    assert sorted(rec.run("SELECT id FROM people_v WHERE name = 'bob' OR id = 0")) == [(2,)]
    assert sorted(rec.run("SELECT id FROM people_v WHERE name = 'bob'")) == [(2,)]
    assert rec.one_execute()["quals"] == [("name", "=", "bob")]
    assert sorted(rec.run("SELECT id FROM people_v WHERE name LIKE 'b%'")) == [(2,)]
    assert rec.one_execute()["quals"] == [("name", "~~", "b%")]


def test_quals_name_the_right_column_after_drop_column(people):
    db = people.db
    execute(db, "ALTER FOREIGN TABLE people DROP COLUMN age, ADD COLUMN \"Na\"\"me\" text")
    execute(db, "ALTER TABLE people_local DROP COLUMN age, ADD COLUMN \"Na\"\"me\" text")
    people.clear()
    assert_same(db, "SELECT * FROM {t} WHERE score > 50 AND active AND \"Na\"\"me\" IS NULL")
    assert sorted_quals(people.one_execute()["quals"]) == sorted_quals(
        [("score", ">", 50), ("active", "=", True), ('Na"me', "=", None)])
