"""Unit tests of sgfdw.postgres without a server: options, parameters, pushdown rules,
remote SQL text, estimates."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections import OrderedDict

import pytest

import pgfdw_helpers  # noqa: F401  (puts the checkout on sys.path)
from multicorn import UNBOUND, ColumnDefinition, Qual, SortKey
from sgfdw.errors import OptionError
from sgfdw.postgres import deparse, estimate, values
from sgfdw.postgres.options import (parse_connection_params, parse_import_options,
                                    parse_table_options)
from sgfdw.postgres.pushdown import Match, Relation
from sgfdw.remote.collation import Collation
from sgfdw.postgres.remote_table import RemoteColumn, RemoteTable

# --------------------------------------------------------------------------- options


def test_table_options():
    options = parse_table_options({"host": "h", "port": "5", "user": "u", "password": "p",
                                   "table_name": "t", "fetch_size": "50",
                                   "use_remote_estimate": "on", "updatable": "no",
                                   "sslmode": "require"})
    assert options.table_name == "t" and options.schema_name == "public"
    assert options.fetch_size == 50 and options.use_remote_estimate
    assert not options.updatable and options.batch_size == 100
    assert options.connection.as_dict() == {"host": "h", "port": "5", "user": "u",
                                            "password": "p", "sslmode": "require"}
    assert "p" not in repr(options.connection).replace("port", "").replace("password", "")


@pytest.mark.parametrize("options,message", [
    ({}, '"table_name" is required'),
    ({"table_name": ""}, "cannot be empty"),
    ({"table_name": "t", "fetch_size": "-1"}, "positive integer"),
    ({"table_name": "t", "batch_size": "x"}, "positive integer"),
    ({"table_name": "t", "updatable": "perhaps"}, "boolean"),
    ({"table_name": "t", "fdw_startup_cost": "-3"}, "non-negative"),
    ({"table_name": "t", "tablename": "t"}, 'invalid option "tablename"'),
    ({"table_name": "t", "replication": "true"}, "cannot be set"),
])
def test_bad_table_options(options, message):
    with pytest.raises(OptionError) as info:
        parse_table_options(options)
    assert message in str(info.value)
    assert info.value.sqlstate == "HV00D"


def test_import_options():
    assert parse_import_options({}).import_not_null
    assert not parse_import_options({}).import_default
    assert parse_import_options({"import_default": "true"}).import_default
    with pytest.raises(OptionError):
        parse_import_options({"import_foreign_keys": "true"})


def test_connection_params_are_hashable_and_sorted():
    a = parse_connection_params({"port": "1", "host": "h", "table_name": "x"})
    b = parse_connection_params({"host": "h", "port": "1"})
    assert a == b and hash(a) == hash(b)


# --------------------------------------------------------------------------- values


def test_array_literal_escapes_everything():
    literal = values.array_literal(['a"b', "c\\d", None, "", "NULL", "{x}", ["n", None]])
    assert literal == '{"a\\"b","c\\\\d",NULL,"","NULL","{x}",{"n",NULL}}'
    assert values.array_literal([1.5, float("inf"), True, b"\x00\xff",
                                 datetime.date(2024, 1, 2), decimal.Decimal("NaN")]) == \
        '{"1.5","Infinity","t","\\\\x00ff","2024-01-02","NaN"}'


def test_qual_params():
    assert isinstance(values.qual_param(1.5), values.Typed)
    assert values.qual_param(5) == 5 and values.qual_param("x") == "x"
    typed = values.qual_param(decimal.Decimal("Infinity"))
    assert isinstance(typed, values.Typed) and typed.value == "Infinity"
    assert values.qual_param(uuid.UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    # Lists of strings: an untyped literal (takes the column's type); numbers: ARRAY[].
    assert values.qual_param(["a", "b'"]) == '{"a","b\'"}'
    assert values.qual_param([1, 10000000000]) == [1, 10000000000]
    assert values.qual_param([None]) == "{NULL}"
    assert values.qual_param([]) == "{}"
    assert values.qual_param({"k": decimal.Decimal("1.10")}, 3802) == '{"k": 1.10}'
    assert values.qual_param([{"a": 1}, None], 3802, list_operator=True) == \
        '{"{\\"a\\": 1}","null"}'
    assert values.can_bind(UNBOUND) and not values.can_bind(object())


def test_write_params():
    assert values.write_param(["x", None], 1009) == '{"x",NULL}'
    assert values.write_param({"a": [1]}, 114) == '{"a": [1]}'
    assert values.write_param("just text", 3802) == '"just text"'
    assert values.write_param(None, 3802) is None


# --------------------------------------------------------------------------- SQL

TEXT, INT, BPCHAR, FLOAT8, JSONB = 25, 23, 1042, 701, 3802


def remote_column(name, oid, *, kind="b", collation=0, base_name=None, is_array=False,
                  type_name=None, **extra):
    return RemoteColumn(name=name, attnum=1, type_oid=oid, type_name=type_name or "t",
                        base_oid=oid, base_name=base_name or "t", base_kind=kind,
                        is_array=is_array, not_null=False, has_default=False, identity="",
                        generated="", collation=collation, **extra)


def make_relation(local, remote, *, unique=(), local_locale=("C.UTF-8", "C.UTF-8"),
                  remote_locale=("C.UTF-8", "C.UTF-8"), schema='s"ch', name="t%ble"):
    columns = OrderedDict((n, ColumnDefinition(n, type_oid=oid, base_type_name=base,
                                               options=opts))
                          for n, oid, base, opts in local)
    table = RemoteTable(schema=schema, name=name, relkind="r", reltuples=1000.0, relpages=10,
                        columns={c.name: c for c in remote}, primary_key=None,
                        unique_keys=list(unique), indexed=[], collation=remote_locale)
    return Relation(columns, table, local_locale and Collation(*local_locale))


@pytest.fixture
def relation():
    return make_relation(
        [("id", INT, "integer", {}), ("na%me", TEXT, "text", {}),
         ("mood", TEXT, "text", {}), ("flag", TEXT, "text", {}),
         ("code", BPCHAR, "character", {}), ("renamed", FLOAT8, "double precision",
                                             {"column_name": "remote f"}),
         ("doc", JSONB, "jsonb", {})],
        [remote_column("id", INT), remote_column("na%me", TEXT, collation=100),
         remote_column("mood", 70000, kind="e", base_name="public.mood"),
         remote_column("flag", 16), remote_column("code", BPCHAR, collation=100),
         remote_column("remote f", FLOAT8), remote_column("doc", JSONB)],
        unique=[("id",)])


def test_type_matching(relation):
    plans = relation.plans
    assert plans["id"].match is Match.SAME
    assert plans["na%me"].match is Match.SAME and plans["na%me"].collation_safe
    assert plans["mood"].match is Match.TEXT            # enum read as text
    assert plans["flag"].match is Match.NONE            # bool::text is not its output
    assert plans["code"].match is Match.SAME
    assert plans["renamed"].remote_name == "remote f"


def test_select_sql(relation):
    quals = [Qual("id", "=", 5), Qual("na%me", "~~", "50%'; --"), Qual("mood", "=", "ok"),
             Qual("flag", "=", "t"), Qual("renamed", (">", True), [1.5, 2.0]),
             Qual("doc", "=", {"a": 1}), Qual("code", "=", None)]
    query = deparse.build_select(relation, quals, {"id", "na%me", "renamed"},
                                 [SortKey("renamed", 6, True, False, None)], 10, 2)
    assert [q.field_name for q in query.not_pushed] == ["flag"]
    assert query.at_most_one_row
    shown = query.sql.shown()
    assert shown == ('SELECT "id", "na%me", NULL, NULL, NULL, "remote f", NULL '
                     'FROM "s""ch"."t%ble" WHERE ("id" = $1) AND ("na%me" ~~ $2) AND '
                     '("mood"::text = $3) AND ("remote f" > ANY ($4)) AND ("doc" = $5) AND '
                     '("code" IS NULL) ORDER BY "remote f" DESC NULLS LAST LIMIT 10 OFFSET 2')
    text, params = query.sql.for_psycopg()
    assert '"na%%me"' in text and '"t%%ble"' in text and text.count("%s") == 5
    assert params[0] == 5 and params[1] == "50%'; --" and params[4] == '{"a": 1}'


def test_empty_projection(relation):
    query = deparse.build_select(relation, [], set())
    assert query.empty_projection
    assert query.sql.shown() == 'SELECT NULL FROM "s""ch"."t%ble"'


def test_collation_rules():
    local = [("t", TEXT, "text", {})]
    same = make_relation(local, [remote_column("t", TEXT, collation=100)])
    other = make_relation(local, [remote_column("t", TEXT, collation=100)],
                          remote_locale=("de_DE.UTF-8", "de_DE.UTF-8"))
    explicit = make_relation(local, [remote_column("t", TEXT, collation=12345)])
    c_column = make_relation(local, [remote_column("t", TEXT, collation=950)])
    unknown_local = make_relation(local, [remote_column("t", TEXT, collation=100)],
                                  local_locale=None)
    # A remote C database: C.UTF-8 orders as C (sgfdw.remote.collation), but its ctype
    # case-folds more than C's.
    c_database = make_relation(local, [remote_column("t", TEXT, collation=100)],
                               remote_locale=("C", "C.UTF-8"))
    for rel, range_ok, ilike_ok, equal_ok in [
            (same, True, True, True), (other, False, False, True),
            (explicit, False, False, False), (c_column, True, False, True),
            (unknown_local, False, False, True), (c_database, True, True, True)]:
        assert rel.qual_pushable(Qual("t", "<", "m")) is range_ok
        assert rel.qual_pushable(Qual("t", "~~*", "m")) is ilike_ok
        assert rel.qual_pushable(Qual("t", "=", "m")) is equal_ok
        assert rel.qual_pushable(Qual("t", "~~", "m%")) is equal_ok
        assert (rel.sort_pushable(SortKey("t", 1, False, False, "default")) is not None) \
            is range_ok
    assert c_column.sort_pushable(SortKey("t", 1, False, False, "C")) == ' COLLATE "C"'
    assert other.sort_pushable(SortKey("t", 1, False, False, "C")) == ' COLLATE "C"'
    assert explicit.sort_pushable(SortKey("t", 1, False, False, "C")) is None


def test_writes_sql():
    rel = make_relation([("id", INT, "integer", {}), ("v", TEXT, "text", {}),
                         ("g", INT, "integer", {})],
                        [RemoteColumn("id", 1, INT, "integer", INT, "integer", "b", False,
                                      True, True, "", "", 0),
                         remote_column("v", TEXT, collation=100),
                         RemoteColumn("g", 3, INT, "integer", INT, "integer", "b", False,
                                      False, False, "", "s", 0)])
    sql, names = deparse.build_insert(rel, [{"id": None, "v": "a"}, {"id": 7, "v": None}],
                                      returning=True)
    assert sql.shown() == ('INSERT INTO "s""ch"."t%ble" ("id", "v") VALUES (DEFAULT, $1), '
                           '($2, $3) RETURNING "id", "v", "g", ctid')
    assert names == ["id", "v", "g", "ctid"]
    sql, _ = deparse.build_update(rel, "id", 3, {"id": 3, "v": "b", "g": 6})
    assert sql.shown() == ('UPDATE "s""ch"."t%ble" SET "id" = $1, "v" = $2 WHERE "id" = $3 '
                           'RETURNING "id", "v", "g", ctid')
    assert deparse.build_delete(rel, "id", 3).shown() == \
        'DELETE FROM "s""ch"."t%ble" WHERE "id" = $1 RETURNING ctid'
    # A table without a usable key: rows by their ctid.
    sql, _ = deparse.build_update(rel, "ctid", "(0,1)", {"id": 3, "v": "b", "g": 6})
    assert sql.shown() == ('UPDATE "s""ch"."t%ble" SET "id" = $1, "v" = $2 WHERE ctid = $3 '
                           'RETURNING "id", "v", "g", ctid')
    assert sql.params[-1] == "(0,1)"
    sql, _ = deparse.build_update(rel, "ctid", "(0,1)", {"g": 6})
    assert sql.shown().startswith('UPDATE "s""ch"."t%ble" SET "id" = "id" WHERE ctid = $1')
    assert deparse.build_delete(rel, "ctid", "(0,1)").shown() == \
        'DELETE FROM "s""ch"."t%ble" WHERE ctid = $1 RETURNING ctid'


def test_estimates(relation):
    rows, width = estimate.local_estimate(relation, [Qual("id", "=", 1)], {"id"})
    assert rows == 1 and width == 4
    rows, _ = estimate.local_estimate(relation, [Qual("na%me", "<", "x")], {"id"})
    assert 300 < rows < 400
    # Bounded on both sides: a range, 0.5% as PostgreSQL's default (was 1/3 * 1/3); two
    # bounds of one side: the tighter one.
    rows, _ = estimate.local_estimate(relation, [Qual("id", ">=", 10), Qual("id", "<", 20)],
                                      {"id"})
    assert rows == estimate.DEFAULT_RANGE_INEQ_SEL * 1000
    rows, _ = estimate.local_estimate(relation, [Qual("id", ">", 1), Qual("id", ">=", 5)],
                                      {"id"})
    assert 300 < rows < 400
    assert estimate.path_keys(relation) == [(("id",), 1.0)]


def test_expression_collation_rules():
    """Explicit C (expressions.py) is safe whatever the remote collations; the default
    collation, also an array's, needs the remote's to order as the local one."""
    from sgfdw.expression import Call, Cast, Column, Constant
    from sgfdw.postgres.expressions import expression_pushable, expression_sql, scan_column

    TEXT_ARRAY = 1009
    local = [("t", TEXT, "text", {}), ("a", TEXT_ARRAY, "text[]", {})]
    remote = [remote_column("t", TEXT, collation=100),
              remote_column("a", TEXT_ARRAY, collation=100, is_array=True)]
    same = make_relation(local, remote)
    other = make_relation(local, remote, remote_locale=("de_DE.UTF-8", "de_DE.UTF-8"))

    def less(left, right, collation=None):
        return Call(16, "boolean", None, "pg_catalog", "<", (left, right), operator=True,
                    input_collation=collation)

    t, a = Column(TEXT, "text", None, "t"), Column(TEXT_ARRAY, "text[]", None, "a")
    m = Constant(TEXT, "text", None, "m")
    t_in_c = Cast(TEXT, "text", "C", t, implicit=True)
    m_in_c = Constant(TEXT, "text", "C", "m")
    cases = [(less(t, m), True, False), (less(t_in_c, m, "C"), True, True),
             (less(t, m_in_c, "C"), True, True),
             (less(t_in_c, m, "POSIX"), True, True),
             (less(a, Constant(TEXT_ARRAY, "text[]", None, ["m"])), True, False),
             (less(t_in_c, Cast(TEXT, "text", None, m), None), False, False),
             (less(Cast(TEXT, "text", "de_DE", t, implicit=True), m, "de_DE"), False, False),
             (less(Cast(TEXT, "text", 'public."C"', t, implicit=True), m, 'public."C"'),
              False, False)]
    for tree, on_same, on_other in cases:
        assert expression_pushable(tree, [same], (), Collation("C.UTF-8", "C.UTF-8")) \
            is on_same, tree
        assert expression_pushable(tree, [other], (), Collation("C.UTF-8", "C.UTF-8")) \
            is on_other, tree
    assert expression_sql(less(t, m_in_c, "C"), scan_column(same)).shown() == \
        '("t" OPERATOR("pg_catalog".<) ($1::text COLLATE "C"))'
