"""Import -> checkout round trips: every value of every supported type comes back
exactly (compared as text, which is exact for every type), whatever the source kind
(table, view, materialized view, query), with keys, without keys, in many fragments."""
from __future__ import annotations

import pytest
from psycopg2 import sql

from store_helpers import assert_same_rows, rows_of
from fdwtest import execute

# type -> literals (NULL is added to each); edge values first.
VALUES = {
    "int2": ["-32768", "32767", "0"],
    "int4": ["-2147483648", "2147483647"],
    "int8": ["-9223372036854775808", "9223372036854775807"],
    "float4": ["NaN", "Infinity", "-Infinity", "-0", "1.17549435e-38", "3.4028235e+38", "0.1"],
    "float8": ["NaN", "Infinity", "-Infinity", "-0", "5e-324", "1.7976931348623157e+308",
               "0.1"],
    "numeric": ["123456789012345678901234567890.123456789012345678901234567890", "NaN",
                "Infinity", "-Infinity", "0.00000", "-1.5e-30", "1e100"],
    "numeric(10,2)": ["12.30", "-99999999.99"],
    "bool": ["true", "false"],
    "text": ["", "ünï 表 🎉", "a\nb\tc\\d'e\"", " "],
    "varchar(5)": ["", "abcde"],
    "char(5)": ["ab", ""],
    "name": ["a name"],
    "bytea": ["\\x", "\\x00ff10", "\\x" + "ab" * 100],
    "date": ["infinity", "-infinity", "2000-02-29", "0044-03-15 BC", "10000-01-01",
             "4713-01-01 BC", "1970-01-01", "0001-01-01", "9999-12-31"],
    "timestamp": ["2020-01-01 12:34:56.789012", "infinity", "-infinity",
                  "294276-12-31 23:59:59.999999", "4713-01-01 00:00:00 BC",
                  "1969-12-31 23:59:59.999999", "9999-12-31 23:59:59.999999",
                  "10000-01-01 00:00:00"],
    "timestamptz": ["2020-06-01 12:00:00.000001+05:30", "infinity", "-infinity",
                    "10000-01-01 00:00:00+00", "0001-01-01 00:00:00+00",
                    "1969-12-31 23:59:59.999999+00"],
    "json": ['{"b":1,  "a":[1.50, 2], "b":2}', '"x"', "null", "1e1000"],
    "jsonb": ['{"a": 1.000000000000000000001, "b": [null, "ü"]}', "null", "[]"],
    "uuid": ["00000000-0000-0000-0000-000000000000", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"],
    "time": ["24:00:00", "00:00:00.000001", "12:34:56"],
    "timetz": ["12:34:56.5+05:30", "00:00:00-12"],
    "interval": ["1 year 2 mons 3 days 04:05:06.789", "-1 days", "00:00:00.000001",
                 "178000000 years"],
    "inet": ["192.168.0.1/24", "::1"],
    "cidr": ["10.0.0.0/8"],
    "macaddr": ["08:00:2b:01:02:03"],
    "bit(3)": ["101"],
    "varbit": ["", "1010101"],
    "int4[]": ["{1,NULL,3}", "[0:1]={1,2}", "{{1,2},{3,4}}", "{}"],
    "text[]": ['{"a,b","",NULL,"\\"q\\""}'],
    "numeric[]": ["{1.10,NaN,-Infinity}"],
    "date[]": ["{infinity,2020-01-01,0044-03-15BC}"],
    "timestamptz[]": ['{"2020-01-01 00:00:00.000001+00",-infinity}'],
    "jsonb[]": ['{"{\\"a\\": 1}",null}'],
    "float8[]": ["{NaN,-0,0.1,1e308}"],
    "bytea[]": ['{"\\\\x00ff"}'],
}


def make_source(db, name: str, column_type: str, values: list[str],
                primary_key: bool = True) -> None:
    key = "PRIMARY KEY" if primary_key else ""
    execute(db, sql.SQL("CREATE TABLE {} (id int {}, v {})").format(
        sql.Identifier(name), sql.SQL(key), sql.SQL(column_type)))
    for i, literal in enumerate([*values, None]):
        execute(db, sql.SQL("INSERT INTO {} VALUES (%s, %s::{})").format(
            sql.Identifier(name), sql.SQL(column_type)), (i, literal))


@pytest.mark.parametrize("column_type", sorted(VALUES))
def test_every_value_survives_import_and_checkout(db, column_type):
    make_source(db, "src", column_type, VALUES[column_type])
    execute(db, "SELECT sgfdw.init('t/types')")
    image = execute(db, "SELECT sgfdw.import_table('t/types', 'v', 'src')")[0][0]
    assert_same_rows(db, "src", '"t/types".v')
    # From the stored objects alone: away to the empty image and back.
    execute(db, "SELECT sgfdw.checkout('t/types', '0000000000000000')")
    assert execute(db, "SELECT count(*) FROM pg_tables WHERE schemaname = 't/types'") == [(0,)]
    assert execute(db, "SELECT sgfdw.checkout('t/types', %s)", (image,)) == [(image,)]
    assert_same_rows(db, "src", '"t/types".v')
    assert execute(db, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                       "WHERE attrelid = '\"t/types\".v'::regclass AND attname = 'v'") == [
        (execute(db, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                     "WHERE attrelid = 'src'::regclass AND attname = 'v'")[0][0],)]


def test_output_settings_of_the_session_do_not_matter(db):
    execute(db, "SET DateStyle = 'SQL, DMY'")
    execute(db, "SET IntervalStyle = 'sql_standard'")
    execute(db, "SET extra_float_digits = -3")
    execute(db, "SET TimeZone = 'Asia/Kathmandu'")
    make_source(db, "src", "text", [])
    execute(db, "ALTER TABLE src ADD d date[], ADD i interval[], ADD f float8[], "
                "ADD tz timestamptz[]")
    execute(db, "INSERT INTO src VALUES (10, 'x', '{2001-02-03}', '{1 year 2 days 00:00:01}',"
                " '{0.30000000000000004}', '{2001-02-03 04:05:06.123456+01}')")
    execute(db, "SELECT sgfdw.init('t/settings')")
    execute(db, "SELECT sgfdw.import_table('t/settings', 'v', 'src')")
    execute(db, "RESET ALL")
    execute(db, "SELECT sgfdw.checkout('t/settings', '00000000')")
    execute(db, "SELECT sgfdw.checkout('t/settings')")
    assert_same_rows(db, "src", '"t/settings".v')


def test_primary_key_is_kept_and_a_table_without_one_keeps_duplicates(db):
    execute(db, "CREATE TABLE keyed (a int, b text, c int, PRIMARY KEY (b, a))")
    execute(db, "INSERT INTO keyed SELECT g, 'k' || (g % 7), g * 2 FROM generate_series(1, 50) g")
    execute(db, "CREATE TABLE dups (a int, b text)")
    execute(db, "INSERT INTO dups VALUES (1, 'x'), (1, 'x'), (2, NULL), (2, NULL)")
    execute(db, "SELECT sgfdw.init('t/keys')")
    execute(db, "SELECT sgfdw.import_table('t/keys', 'keyed', 'keyed')")
    execute(db, "SELECT sgfdw.import_table('t/keys', 'dups', 'public.dups')")
    execute(db, "SELECT sgfdw.checkout('t/keys', '00000000')")
    execute(db, "SELECT sgfdw.checkout('t/keys')")
    assert_same_rows(db, "keyed", '"t/keys".keyed')
    assert_same_rows(db, "dups", '"t/keys".dups')
    assert execute(db, "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                       "WHERE conrelid = '\"t/keys\".keyed'::regclass") == [("PRIMARY KEY (b, a)",)]
    assert execute(db, "SELECT count(*) FROM pg_constraint "
                       "WHERE conrelid = '\"t/keys\".dups'::regclass") == [(0,)]


def test_sources_view_materialized_view_and_query(db):
    execute(db, "CREATE TABLE base (id int PRIMARY KEY, v text)")
    execute(db, "INSERT INTO base SELECT g, md5(g::text) FROM generate_series(1, 30) g")
    execute(db, "CREATE VIEW odd AS SELECT * FROM base WHERE id % 2 = 1")
    execute(db, "CREATE MATERIALIZED VIEW even AS SELECT * FROM base WHERE id % 2 = 0")
    execute(db, "SELECT sgfdw.init('t/sources')")
    execute(db, "SELECT sgfdw.import_table('t/sources', 'odd', 'odd')")
    execute(db, "SELECT sgfdw.import_table('t/sources', 'even', 'even')")
    execute(db, "SELECT sgfdw.import_table('t/sources', 'q', "
                "'  WITH x AS (SELECT id, v FROM base WHERE id < 5) "
                "SELECT id * 10 AS k, v FROM x')")
    execute(db, "SELECT sgfdw.checkout('t/sources', '00000000')")
    execute(db, "SELECT sgfdw.checkout('t/sources')")
    assert_same_rows(db, "odd", '"t/sources".odd')
    assert_same_rows(db, "even", '"t/sources".even')
    assert rows_of(db, '"t/sources".q') == rows_of(
        db, "(SELECT id * 10 AS k, v FROM base WHERE id < 5)")


def test_large_tables_are_split_into_fragments_by_key(db):
    execute(db, "CREATE TABLE big (id int PRIMARY KEY, v text)")
    execute(db, "INSERT INTO big SELECT g, repeat('x', g % 13) FROM generate_series(1, 95) g")
    execute(db, "SET sgfdw.fragment_rows = 10")
    execute(db, "SELECT sgfdw.init('t/big')")
    image = execute(db, "SELECT sgfdw.import_table('t/big', 'big', 'big')")[0][0]
    objects = execute(db, "SELECT object_ids FROM splitgraph_meta.tables "
                          "WHERE image_hash = %s", (image,))[0][0]
    assert len(objects) == 10
    ranges = execute(db, "SELECT (index->'columns'->'id'->>'min')::int, "
                         "(index->'columns'->'id'->>'max')::int, rows FROM "
                         "splitgraph_meta.objects o JOIN unnest(%s::text[]) WITH ORDINALITY "
                         "u(id, n) ON u.id = o.object_id ORDER BY n", (objects,))
    assert ranges == [(i * 10 + 1, min(i * 10 + 10, 95), min(10, 95 - i * 10)) for i in range(10)]
    execute(db, "SELECT sgfdw.checkout('t/big', '00000000')")
    execute(db, "SELECT sgfdw.checkout('t/big')")
    assert_same_rows(db, "big", '"t/big".big')


def test_same_rows_in_another_order_are_the_same_object(db):
    for name, order in (("a", "g"), ("b", "-g")):
        execute(db, f"CREATE TABLE {name} (id int, v text)")
        execute(db, f"INSERT INTO {name} SELECT g % 5, g::text FROM generate_series(1, 40) g "
                    f"ORDER BY {order}")
    execute(db, "SELECT sgfdw.init('t/same')")
    execute(db, "SELECT sgfdw.import_table('t/same', 'a', 'a')")
    execute(db, "SELECT sgfdw.import_table('t/same', 'b', 'b')")
    assert execute(db, "SELECT count(DISTINCT object_ids) FROM splitgraph_meta.tables "
                       "WHERE image_hash = (SELECT head FROM sgfdw.repositories)") == [(1,)]
    assert execute(db, "SELECT count(*) FROM splitgraph_meta.objects") == [(1,)]
