"""Hostile table and column names, and primary keys of every kind of storage (text,
numeric, timestamptz, several columns): import, commit of a patch, checkout, diff."""
from __future__ import annotations

import pytest
from psycopg2 import sql

from store_helpers import assert_same_rows
from fdwtest import error_of, execute

TABLE = 'we"ird; DROP TABLE x; --ünï'


@pytest.mark.parametrize("key_type, key_values", [
    ("text", "'k' || g"),
    ("numeric", "g / 3.0"),
    ("timestamptz", "'2020-01-01 00:00:00+00'::timestamptz + g * interval '1.5 second'"),
    ("uuid", "md5(g::text)::uuid"),
])
def test_commit_and_checkout_with_hostile_names_and_key_types(db, key_type, key_values):
    execute(db, f'CREATE TABLE src ("key" {key_type}, "second key" int, "sg_flag" text, '
                f'"ünï ""q""" float8, PRIMARY KEY ("key", "second key"))')
    execute(db, f"INSERT INTO src SELECT {key_values}, g % 3, md5(g::text), g "
                "FROM generate_series(1, 200) g")
    execute(db, "SELECT sgfdw.init('t/names')")
    first = execute(db, "SELECT sgfdw.import_table('t/names', %s, 'src')", (TABLE,))[0][0]
    target = sql.SQL("{}.{}").format(sql.Identifier("t/names"), sql.Identifier(TABLE))
    execute(db, sql.SQL('UPDATE {} SET "sg_flag" = \'changed\' WHERE "second key" = 1')
            .format(target))
    execute(db, sql.SQL('DELETE FROM {} WHERE "second key" = 2').format(target))
    execute(db, sql.SQL('UPDATE {} SET "second key" = 7 WHERE "ünï ""q""" < 20').format(target))
    execute(db, "CREATE TABLE expected AS SELECT * FROM {}".format(target.as_string(db)))
    second = execute(db, "SELECT sgfdw.commit('t/names', 'patch')")[0][0]
    assert execute(db, "SELECT cardinality(object_ids) FROM splitgraph_meta.tables "
                       "WHERE image_hash = %s", (second,)) == [(2,)]
    changes = execute(db, "SELECT op, count(*) FROM sgfdw.diff('t/names', %s, %s, %s) "
                          "GROUP BY op ORDER BY op", (TABLE, first, second))
    gone, added = (execute(db, f"SELECT count(*) FROM (SELECT x::text FROM {a} x EXCEPT ALL "
                               f"SELECT y::text FROM {b} y) d")[0][0]
                   for a, b in (("src", "expected"), ("expected", "src")))
    assert changes == [("+", added), ("-", gone)] and added and gone
    execute(db, "SELECT sgfdw.checkout('t/names', %s)", (first,))
    assert_same_rows(db, "src", target.as_string(db))
    execute(db, "SELECT sgfdw.checkout('t/names', %s)", (second,))
    assert_same_rows(db, "expected", target.as_string(db))


def test_reserved_flag_column_and_bad_table_names(db):
    execute(db, "CREATE TABLE src (sg_ud_flag int)")
    execute(db, "SELECT sgfdw.init('t/names')")
    assert error_of(db, "SELECT sgfdw.import_table('t/names', 'a', 'src')").pgcode == "0A000"
    assert error_of(db, "SELECT sgfdw.import_table('t/names', '', 'src')").pgcode == "22023"
    assert error_of(db, "SELECT sgfdw.import_table('t/names', %s, 'src')",
                    ("x" * 64,)).pgcode == "22023"
