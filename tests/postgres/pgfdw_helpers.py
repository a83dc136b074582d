"""Shared data and helpers of the PostgresFdw tests (tests/postgres/)."""

from __future__ import annotations

import collections
import json
import re
import sys
from pathlib import Path
from typing import Any

import psycopg2
from psycopg2 import sql

import fdwtest
from fdwtest import assert_usable, error_of, options_sql  # noqa: F401 (re-exported)

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:      # the checkout's sgfdw, for tests that import it
    sys.path.insert(0, str(ROOT))

SOURCE_DB = "pgfdw_src"
SERVER = "rsrv"
WRAPPER = "sgfdw.postgres.PostgresFdw"
# Never to appear in EXPLAIN output, error messages or the server log.
PASSWORD = "S3cr3t-pässwörd'\\;x"

HOSTILE_SCHEMA = 'we"ird;sch\\ema ü'
HOSTILE_TABLE = 'ta"b;le\\ 表 %s'
HOSTILE_COLUMNS = ['id', '"c"ol;--', "sp ace\\", "ünï", "50%"]

SOURCE_SQL = r"""
CREATE SCHEMA src;
CREATE TYPE src.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN src.posint AS integer CHECK (VALUE > 0);

CREATE TABLE src.all_types (
    id integer PRIMARY KEY,
    i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision,
    num numeric(12,4), numx numeric, b boolean,
    t text, vc varchar(20), bp char(5), tc text COLLATE "C",
    d date, tm time, ttz timetz, ts timestamp, tstz timestamptz, iv interval,
    by bytea, u uuid, j json, jb jsonb,
    ia integer[], ta text[], ina inet, m src.mood, pi src.posint NOT NULL
);
INSERT INTO src.all_types VALUES
 (1, 1, 10, 100, 1.5, 2.25, 1.2345, 12345678901234567890.123456789, true,
  'alpha', 'Alpha', 'ab', 'Zeta', '2024-01-02', '03:04:05.123456', '03:04:05+02',
  '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.654321+00', '1 year 2 mons 3 days 04:05:06',
  '\x00ff10', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"k": [1, 2.50]}', '{"k": 1.10}',
  '{1,2,3}', '{"x","y z"}', '10.0.0.1', 'happy', 1),
 (2, -2, -20, -200, 'NaN', 'Infinity', -0.5, 'NaN', false,
  'beta ünïcødé 表', 'it''s; DROP', 'x', 'alpha', 'infinity', '23:59:59', '00:00:00+00',
  '-infinity', 'infinity', '-1 days +00:00:01',
  '\x', '00000000-0000-0000-0000-000000000000', '"just a string"', '[]',
  '{}', '{NULL,"q\"uote","back\\slash"}', '::1', 'sad', 2),
 (3, 32767, 2147483647, 9223372036854775807, '-Infinity', 1e-300, 99999999.9999, 'Infinity', NULL,
  'back\slash \\ and ''quote''', 'a%b_c', 'zz', 'beta', '0044-03-15 BC', '00:00:00', NULL,
  '1999-12-31 23:59:59', '1970-01-01 00:00:00+00', '0 seconds',
  '\x5c27', NULL, 'null', 'null',
  '{{1,2},{3,4}}', '{}', '192.168.0.0/16', 'ok', 3),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 4),
 (5, 5, 50, 500, 5.5, 5.5, 5.5, 5.5, true,
  'ALPHA beta', 'Beta', 'ab   ', 'zeta', '2024-02-29', '12:00:00', '12:00:00-05',
  '2024-02-29 12:00:00', '2024-02-29 12:00:00+05', '1 mon',
  '\xdeadbeef', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '{"a": {"b": null}}',
  '{"a": [true, false]}',
  '{NULL}', '{""}', '2001:db8::/32', 'happy', 5),
 (6, 0, 0, 0, 0, -0.0, 0, 0, false,
  '', '', '', '', '2000-01-01', '00:00:01', '00:00:01+00',
  '2000-01-01 00:00:00', '2000-01-01 00:00:00+00', '00:00:00.000001',
  '\x00', '12345678-1234-1234-1234-123456789abc', '{}', '{}',
  '{0}', '{"%","_","\\"}', '0.0.0.0', 'ok', 6);

CREATE TABLE src.big (
    id integer PRIMARY KEY,
    grp integer NOT NULL,
    name text NOT NULL,
    val double precision
);
CREATE INDEX big_grp ON src.big (grp);
INSERT INTO src.big SELECT g, g % 100, 'name ' || g, g / 7.0 FROM generate_series(1, 20000) g;

CREATE VIEW src.big_view AS SELECT id, name FROM src.big WHERE id <= 100;
CREATE MATERIALIZED VIEW src.big_mat AS SELECT grp, count(*) AS n FROM src.big GROUP BY grp;
CREATE TABLE src.parted (id integer, region text NOT NULL) PARTITION BY LIST (region);
CREATE TABLE src.parted_eu PARTITION OF src.parted FOR VALUES IN ('eu');
CREATE TABLE src.parted_us PARTITION OF src.parted FOR VALUES IN ('us');
INSERT INTO src.parted VALUES (1, 'eu'), (2, 'us'), (3, 'eu');
CREATE VIEW src.isolation AS
    SELECT current_setting('transaction_isolation') AS level, txid_current_if_assigned() AS xid,
           pg_backend_pid() AS pid;
CREATE VIEW src.failing AS SELECT id, 1 / (id - 3) AS r FROM src.big WHERE id <= 5;
ANALYZE;
"""


def text_results(conn) -> None:
    """Values of every type but the integers come back as their text output: exact to
    compare (no float rounding, BC dates, infinities, lossy intervals)."""
    for oid in list(psycopg2.extensions.string_types):
        if oid not in (20, 21, 23):
            conn.string_types[oid] = psycopg2.extensions.UNICODE


def execute(conn, query: Any, params: Any = None) -> list[tuple] | None:
    """fdwtest.execute, on a connection that gives values as text (text_results)."""
    if 1700 not in conn.string_types:
        text_results(conn)
    return fdwtest.execute(conn, query, params)


def create_source(remote) -> None:
    remote.create_database(SOURCE_DB)
    remote.sql(SOURCE_SQL, dbname=SOURCE_DB)
    columns = ", ".join(
        f"{sql_ident(name)} {'integer PRIMARY KEY' if name == 'id' else 'text'}"
        for name in HOSTILE_COLUMNS)
    remote.sql(f"CREATE SCHEMA {sql_ident(HOSTILE_SCHEMA)}", dbname=SOURCE_DB)
    table = f"{sql_ident(HOSTILE_SCHEMA)}.{sql_ident(HOSTILE_TABLE)}"
    remote.sql(f"CREATE TABLE {table} ({columns})", dbname=SOURCE_DB)
    conn = remote.connect(SOURCE_DB)
    try:
        rows = [(1, "x'; DROP TABLE src.big; --", "a\\b", "ü", "50%"),
                (2, 'q"q', "it's", "表", "_"),
                (3, None, "", "naïve", "%")]
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO {table.replace('%', '%%')} "
                            "VALUES (%s, %s, %s, %s, %s)", rows)
            cur.execute(f"ANALYZE {table}")
    finally:
        conn.close()


def sql_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def connect_fdw(db, remote, *, server: str = SERVER, schema: str = "f",
                server_options: dict[str, Any] | None = None,
                mapping_options: dict[str, Any] | None = None,
                import_options: dict[str, Any] | None = None,
                remote_schema: str = "src") -> None:
    """Server + user mapping for the `remote` cluster's source database, and the remote
    schema imported into local schema `schema`."""
    options = {"wrapper": WRAPPER, "host": str(remote.socket_dir), "port": remote.port,
               "dbname": SOURCE_DB, **(server_options or {})}
    execute(db, sql.SQL("CREATE SERVER {} FOREIGN DATA WRAPPER sgfdw OPTIONS ({})").format(
        sql.Identifier(server), options_sql(options)))
    mapping = {"user": "postgres", "password": PASSWORD, **(mapping_options or {})}
    execute(db, sql.SQL("CREATE USER MAPPING FOR CURRENT_USER SERVER {} OPTIONS ({})").format(
        sql.Identifier(server), options_sql(mapping)))
    if schema is not None:
        execute(db, sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        clause = sql.SQL("")
        if import_options:
            clause = sql.SQL(" OPTIONS ({})").format(options_sql(import_options))
        execute(db, sql.SQL("IMPORT FOREIGN SCHEMA {} FROM SERVER {} INTO {}{}").format(
            sql.Identifier(remote_schema), sql.Identifier(server), sql.Identifier(schema),
            clause))


def explain(db, query: Any, params: Any = None) -> list[str]:
    rows = execute(db, sql.SQL("EXPLAIN (VERBOSE, COSTS OFF) ") + (
        sql.SQL(query) if isinstance(query, str) else query), params)
    return [row[0] for row in rows]


def remote_sql_lines(db, query: Any, params: Any = None) -> list[str]:
    """The 'sgfdw: Remote SQL: ...' texts of the plan."""
    return [re.sub(r"^\s*(->\s*)?sgfdw: Remote SQL: ", "", line)
            for line in explain(db, query, params) if "Remote SQL:" in line]


def remote_sql(db, query: Any, params: Any = None) -> str:
    (line,) = remote_sql_lines(db, query, params)
    return line


def remote_where(db, query: str) -> str | None:
    """What follows WHERE in the plan's one Remote SQL, None without a WHERE."""
    sql = remote_sql(db, query)
    return sql.split(" WHERE ", 1)[1] if " WHERE " in sql else None


def normalise(rows: list[tuple]) -> list[tuple]:
    return [tuple(_normalise_value(v) for v in row) for row in rows]


def _normalise_value(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        return "NaN-float"      # NaN != NaN; compare as a marker
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, (dict, list)) and not isinstance(value, str):
        return json.dumps(value, sort_keys=True)
    return value


def assert_same(fdb, source, query: str, params: Any = None, *, local: str,
                remote: str, ordered: bool | None = None) -> list[tuple]:
    """`query` with {t} as the foreign table `local` and as the remote table `remote`
    (each an SQL name) gives the same rows."""
    if params is not None:     # psycopg2 reads % in the names as placeholders
        local, remote = local.replace("%", "%%"), remote.replace("%", "%%")
    try:
        expected = normalise(execute(source, query.replace("{t}", remote), params))
    except psycopg2.Error as exc:
        # The query fails remotely (a bad LIKE pattern, say): it must fail the same way.
        error = error_of(fdb, query.replace("{t}", local), params)
        assert error.pgcode == exc.pgcode, (error, exc)
        fdb.rollback() if not fdb.autocommit else None
        return []
    got = normalise(execute(fdb, query.replace("{t}", local), params))
    if ordered is None:
        ordered = "order by" in query.lower()
    if ordered:
        assert got == expected
    else:
        assert collections.Counter(map(repr, got)) == collections.Counter(map(repr, expected))
    return got


def option_error(conn, ddl: Any, use: Any) -> psycopg2.Error:
    """The error a bad option causes: at the statement that sets it (the extension's
    option check) or, where that cannot tell, at first use."""
    try:
        execute(conn, ddl)
    except psycopg2.Error as exc:
        return exc
    return fdwtest.error_of(conn, use)


def error_text(exc: psycopg2.Error) -> str:
    diag = exc.diag
    return "\n".join(str(part) for part in (
        exc.pgerror, diag.message_primary, diag.message_detail, diag.message_hint,
        diag.context) if part)

