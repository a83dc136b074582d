"""The bridge's aggregation API (can_aggregate, execute(aggregation=...), src/upper.c)
with tests/fdws/aggregating.py: what the FDW is offered, results against the same rows
in a local table, what is not offered, and bad rows from the FDW."""
from __future__ import annotations

import json

import pytest

from fdwtest import assert_same, assert_usable, create_server, error_of, execute, explain_lines


@pytest.fixture
def agg(db):
    create_server(db, "agg", "aggregating.AggregatingFdw")
    for name, shape in (("a", "tuple"), ("a_dict", "dict"), ("a_bad", "bad_value"),
                        ("a_short", "short")):
        execute(db, f"CREATE FOREIGN TABLE {name} (g int, n int, t text) SERVER agg "
                    f"OPTIONS (shape '{shape}')")
    # The scan without aggregation gives the FDW's rows as they are.
    execute(db, "CREATE TABLE a_local AS SELECT * FROM a")
    db.notices.clear()
    return db


def offered(db) -> list[dict]:
    prefix = "aggregating "
    return [json.loads(n.split(prefix, 1)[1]) for n in db.notices if prefix in n]


def pushed(db, query: str) -> bool:
    """No Aggregate node: the FDW's scan yields the groups ("Relations: Aggregate on")."""
    return not any("Aggregate" in line and "Relations:" not in line
                   for line in explain_lines(db, query))


def test_the_fdw_gets_the_aggregation_as_plain_data(agg):
    query = ("SELECT t, g, count(*), sum(n), max(t), count(n) FROM {t} WHERE g = 1 "
             "GROUP BY g, t")
    assert pushed(agg, query.format(t="a"))
    agg.notices.clear()
    assert_same(agg, query, foreign="a", local="a_local")
    assert offered(agg) == [{
        "group_by": ["g", "t"],
        "aggregates": [["pg_catalog.count", None, 20, None],
                       ["pg_catalog.sum", "n", 20, None],
                       ["pg_catalog.max", "t", 25, None],
                       ["pg_catalog.count", "n", 20, None]],
        "output_names": ["g", "t", "pg_catalog.count(*)", "pg_catalog.sum(n)",
                         "pg_catalog.max(t)", "pg_catalog.count(n)"],
        "columns": ["g", "n", "t"]}]


@pytest.mark.parametrize("table", ["a", "a_dict"])
@pytest.mark.parametrize("query", [
    "SELECT g, count(*), sum(n), min(t) FROM {t} GROUP BY g",
    "SELECT count(*), count(g), sum(n), max(n) FROM {t}",
    "SELECT count(*), sum(n) FROM {t} WHERE g = 99",
    "SELECT g, sum(n) * 2 FROM {t} GROUP BY g HAVING count(*) > 1 ORDER BY g",
    "SELECT t FROM {t} GROUP BY t",
])
def test_pushed_results_are_the_local_ones(agg, table, query):
    assert pushed(agg, query.format(t=table)), query
    assert_same(agg, query, foreign=table, local="a_local")


@pytest.mark.parametrize("query", [
    "SELECT g, avg(n) FROM {t} GROUP BY g",        # the FDW declines avg
    "SELECT count(*) FROM {t} WHERE n > 6",        # a qual the FDW does not enforce
    "SELECT g, count(DISTINCT t) FROM {t} GROUP BY g",  # not offered
    # Expressions: not offered to an FDW without aggregates_expressions.
    "SELECT g % 2, count(*) FROM {t} GROUP BY 1",
    "SELECT sum(n - 1) FROM {t}",
    "SELECT g, count(*) FILTER (WHERE n > 6) FROM {t} GROUP BY g",
    # Ordered and order-dependent aggregates: not without aggregates_ordered.
    "SELECT g, string_agg(t, ',' ORDER BY t) FROM {t} GROUP BY g",
    "SELECT array_length(array_agg(n), 1), count(*) FROM {t}",
    "SELECT g, max(n ORDER BY t) FROM {t} GROUP BY g",
])
def test_declined_or_not_offered_is_aggregated_locally(agg, query):
    assert not pushed(agg, query.format(t="a")), query
    agg.notices.clear()
    assert_same(agg, query, foreign="a", local="a_local")
    assert offered(agg) == []


def test_an_fdw_without_the_opt_in_gets_no_order_nor_limit(agg):
    """can_aggregate alone: ORDER BY and LIMIT above the groups stay PostgreSQL's (an
    FDW written before they existed could not honour them)."""
    query = "SELECT g, sum(n) FROM {t} GROUP BY g ORDER BY 2 DESC NULLS LAST, 1 LIMIT 2"
    plan = explain_lines(agg, query.format(t="a"))
    assert pushed(agg, query.format(t="a"))
    assert [n for n in ("Limit", "Sort") if any(n in line for line in plan)] == \
        ["Limit", "Sort"]
    assert_same(agg, query, foreign="a", local="a_local")


def test_having_is_offered_only_to_an_fdw_with_can_filter_aggregation(agg):
    """Without the method HAVING filters the groups here, the FDW told nothing new; with
    it the clauses it accepts are its own (an aggregate only HAVING uses is an output),
    the others stay PostgreSQL's."""
    create_server(agg, "agg_having", "aggregating.HavingFdw")
    execute(agg, "CREATE FOREIGN TABLE a_having (g int, n int, t text) SERVER agg_having")
    query = ("SELECT g, sum(n) FROM {t} GROUP BY g HAVING count(*) > 1 "
             "AND sum(n) + 1 > 11 ORDER BY g")
    filters = [line.strip() for line in explain_lines(agg, query.format(t="a"))
               if "Filter:" in line]
    assert filters == ["Filter: (((count(*)) > 1) AND (((sum(n)) + 1) > 11))"]
    agg.notices.clear()
    assert_same(agg, query, foreign="a", local="a_local")
    assert [o.get("having") for o in offered(agg)] == [None]
    assert pushed(agg, query.format(t="a_having"))
    filters = [line.strip() for line in explain_lines(agg, query.format(t="a_having"))
               if "Filter:" in line]
    assert filters == ["Filter: (((sum(n)) + 1) > 11)"]
    agg.notices.clear()
    assert_same(agg, query, foreign="a_having", local="a_local")
    assert [o["having"] for o in offered(agg)] == [[[3, 1]]]


def test_a_bad_value_is_an_error_naming_the_value(agg):
    exc = error_of(agg, "SELECT g, count(*) FROM a_bad GROUP BY g")
    assert exc.pgcode == "22P02"
    assert 'g of the aggregation of foreign table "a_bad"' in exc.diag.context
    exc = error_of(agg, "SELECT count(*) FROM a_bad")
    assert 'pg_catalog.count(*) of the aggregation of foreign table "a_bad"' in \
        exc.diag.context
    assert_usable(agg)


def test_a_short_row_is_an_error(agg):
    exc = error_of(agg, "SELECT g, count(*) FROM a_short GROUP BY g")
    assert exc.pgcode == "HV021"
    assert_usable(agg)
