"""IMPORT FOREIGN SCHEMA with PostgresFdw: relation kinds, exact types, NOT NULL,
defaults, LIMIT TO / EXCEPT, partitions, local enum/domain types, hostile names."""

from __future__ import annotations

from pgfdw_helpers import (HOSTILE_SCHEMA, SERVER, connect_fdw, error_of, error_text,
                           execute, sql_ident)


def local_tables(db, schema="f"):
    return sorted(r[0] for r in execute(
        db, "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'f'", (schema,)))


def column_types(db, table):
    """(name, type, not null) of each column of a table."""
    rows = execute(db, "SELECT attname, format_type(atttypid, atttypmod), attnotnull "
                       "FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                       "ORDER BY attnum", (table,))
    return [(name, type_name, not_null == "t") for name, type_name, not_null in rows]


remote_types = column_types


def test_relation_kinds(fdb):
    # Tables, views, a materialized view, a partitioned table; not its partitions.
    assert local_tables(fdb) == ["all_types", "big", "big_mat", "big_view", "failing",
                                 "isolation", "parted"]
    assert execute(fdb, "SELECT count(*) FROM f.big_view") == [(100,)]
    assert execute(fdb, "SELECT sum(n)::int FROM f.big_mat") == [(20000,)]
    assert execute(fdb, "SELECT id, region FROM f.parted ORDER BY id") == [
        (1, "eu"), (2, "us"), (3, "eu")]
    options = execute(fdb, "SELECT ftoptions FROM pg_foreign_table "
                           "WHERE ftrelid = 'f.big'::regclass")
    assert options == [("{schema_name=src,table_name=big}",)]


def test_exact_types(fdb, source):
    local = column_types(fdb, "f.all_types")
    remote = remote_types(source, "src.all_types")
    expected = []
    for name, type_name, not_null in remote:
        if name == "m":
            type_name = "text"           # enum src.mood does not exist locally
        elif name == "pi":
            type_name = "integer"        # domain src.posint: its base type
        expected.append((name, type_name, not_null))
    assert local == expected
    assert ("num", "numeric(12,4)", False) in local
    assert ("vc", "character varying(20)", False) in local
    assert ("pi", "integer", True) in local
    assert ("id", "integer", True) in local


def test_local_enum_and_domain_are_used(db, remote, source):
    execute(db, "CREATE SCHEMA src")
    execute(db, "CREATE TYPE src.mood AS ENUM ('sad', 'ok', 'happy')")
    execute(db, "CREATE DOMAIN src.posint AS integer CHECK (VALUE > 0)")
    connect_fdw(db, remote)
    types = dict((n, t) for n, t, _ in column_types(db, "f.all_types"))
    assert types["m"] == "src.mood" and types["pi"] == "src.posint"
    # Same enum on both sides: comparisons and sorts by label order go remote.
    rows = execute(db, "EXPLAIN (VERBOSE, COSTS OFF) "
                       "SELECT id FROM f.all_types WHERE m > 'sad' ORDER BY m, id")
    text = "\n".join(r[0] for r in rows)
    assert '("m" > $1)' in text and 'ORDER BY "m" ASC' in text, text
    got = execute(db, "SELECT id, m FROM f.all_types WHERE m > 'sad' ORDER BY m, id")
    assert got == execute(source, "SELECT id, m FROM src.all_types WHERE m > 'sad' "
                                  "ORDER BY m, id")


def test_not_null_and_defaults_options(db, remote, source):
    execute(source, "CREATE SCHEMA IF NOT EXISTS defs")
    execute(source, "CREATE TABLE IF NOT EXISTS defs.d (id int PRIMARY KEY, "
                    "qty int NOT NULL DEFAULT 7, label text DEFAULT 'it''s', "
                    "g int GENERATED ALWAYS AS (qty + 1) STORED)")
    connect_fdw(db, remote, schema="plain", remote_schema="defs")
    assert column_types(db, "plain.d") == [("id", "integer", True), ("qty", "integer", True),
                                           ("label", "text", False), ("g", "integer", False)]
    assert execute(db, "SELECT count(*) FROM pg_attrdef WHERE adrelid = 'plain.d'::regclass"
                   ) == [(0,)]
    execute(db, "CREATE SCHEMA withdefs")
    execute(db, "IMPORT FOREIGN SCHEMA defs FROM SERVER rsrv INTO withdefs "
                "OPTIONS (import_default 'true', import_not_null 'false')")
    assert column_types(db, "withdefs.d") == [("id", "integer", False),
                                              ("qty", "integer", False),
                                              ("label", "text", False),
                                              ("g", "integer", False)]
    defaults = execute(db, "SELECT a.attname, pg_get_expr(d.adbin, d.adrelid) "
                           "FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid "
                           "AND a.attnum = d.adnum WHERE d.adrelid = 'withdefs.d'::regclass "
                           "ORDER BY 1")
    assert defaults == [("label", "'it''s'::text"), ("qty", "7")]
    execute(db, "INSERT INTO withdefs.d (id) VALUES (1)")
    assert execute(source, "SELECT id, qty, label, g FROM defs.d") == [(1, 7, "it's", 8)]
    execute(source, "DROP SCHEMA defs CASCADE")


def test_limit_to_and_except(db, remote):
    connect_fdw(db, remote, schema=None)
    execute(db, "CREATE SCHEMA a")
    execute(db, "IMPORT FOREIGN SCHEMA src LIMIT TO (big, parted_eu, nope) "
                "FROM SERVER rsrv INTO a")
    assert local_tables(db, "a") == ["big", "parted_eu"]        # a partition, if named
    assert execute(db, "SELECT id FROM a.parted_eu ORDER BY id") == [(1,), (3,)]
    execute(db, "CREATE SCHEMA b")
    execute(db, "IMPORT FOREIGN SCHEMA src EXCEPT (big, failing) FROM SERVER rsrv INTO b")
    assert local_tables(db, "b") == ["all_types", "big_mat", "big_view", "isolation",
                                     "parted"]


def test_hostile_schema(db, remote, source):
    connect_fdw(db, remote, schema=None)
    execute(db, f"CREATE SCHEMA {sql_ident(HOSTILE_SCHEMA)}")
    execute(db, f"IMPORT FOREIGN SCHEMA {sql_ident(HOSTILE_SCHEMA)} FROM SERVER {SERVER} "
                f"INTO {sql_ident(HOSTILE_SCHEMA)}")
    (table,) = local_tables(db, HOSTILE_SCHEMA)
    name = f"{sql_ident(HOSTILE_SCHEMA)}.{sql_ident(table)}"
    assert execute(db, f"SELECT count(*) FROM {name.replace('%', '%%')} WHERE id > %s", (0,)
                   ) == [(3,)]


def test_import_errors(db, remote):
    connect_fdw(db, remote, schema=None)
    error = error_of(db, "IMPORT FOREIGN SCHEMA no_such FROM SERVER rsrv INTO public")
    assert error.pgcode == "HV00N", error_text(error)
    error = error_of(db, "IMPORT FOREIGN SCHEMA src FROM SERVER rsrv INTO public "
                         "OPTIONS (import_everything 'yes')")
    assert error.pgcode == "HV00D", error_text(error)
    error = error_of(db, "IMPORT FOREIGN SCHEMA src FROM SERVER rsrv INTO public "
                         "OPTIONS (import_default 'perhaps')")
    assert error.pgcode == "HV00D", error_text(error)
