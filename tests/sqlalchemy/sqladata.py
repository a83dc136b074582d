"""Data sets and helpers of the SqlAlchemyFdw tests.

`items` is in both sources (SQLite and PostgreSQL): NULLs in every nullable column,
unicode, quotes, LIKE and GLOB special characters, mixed case, dates and decimals.
`kinds` (PostgreSQL only) has the types SQLite lacks: timestamptz, interval with
months, uuid, jsonb, arrays, wide numerics, bytea, inet, enum.
"""
from __future__ import annotations

import datetime
import os
import shutil
import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence

from psycopg2 import sql

D = Decimal
date = datetime.date

ITEMS_COLUMNS = ["id", "name", "note", "price", "qty", "ratio", "born", "active", "code"]
ITEMS_LOCAL = ("id integer, name varchar(40) NOT NULL, note text, price numeric(10,2), "
               "qty integer, ratio double precision, born date, active boolean, code text")
ITEMS = [
    (1, "apple", "red fruit", D("1.20"), 10, 0.5, date(2020, 1, 1), True, "A1"),
    (2, "Apple", None, D("2.50"), 0, None, date(2021, 6, 15), False, "A2"),
    (3, "banana", "yellow", None, 25, 1.25, None, True, "B1"),
    (4, "Zoë", "ünïcode ñame", D("99.99"), None, -3.5, date(1999, 12, 31), None, "Z1"),
    (5, "東京", "日本語テキスト", D("0.01"), 3, 2.0, date(2024, 2, 29), True, None),
    (6, "O'Brien", "quote's \"double\"", D("-5.00"), 7, 0.0, date(2000, 1, 1), False, "O1"),
    (7, "a_b%c", "pattern chars", D("12.34"), 1, 1e10, date(2010, 10, 10), True, "P%1"),
    (8, "abc", "", D("12.30"), 2, None, date(2015, 5, 5), None, "AB"),
    (9, "ABC", None, None, None, None, None, None, None),
    (10, "Émile", "accent", D("1000.00"), 100, 0.333, date(1970, 1, 1), True, "E1"),
    (11, "zebra", "last", D("7.77"), 5, 5.5, date(2022, 2, 2), False, "Z2"),
    (12, "a*b?c[d]", "glob chars", D("3.14"), 3, 3.14, date(2023, 3, 3), True, "G1"),
    (13, "kiwi", "green", D("0.75"), 12, 0.25, date(2019, 7, 4), False, "K1"),
    (14, "Kiwi", "GREEN", D("0.80"), 12, None, date(2019, 7, 5), True, "K2"),
    (15, "lime", None, D("0.50"), 0, 0.125, date(2018, 8, 8), None, "L1"),
    (16, "mango", "sweet", D("2.00"), 8, 1.0, date(2017, 1, 31), True, "M1"),
    (17, "naïve", "diaeresis", D("4.20"), 4, -0.5, date(2016, 2, 29), False, "N1"),
    (18, "ωmega", "greek", D("8.88"), 88, 8.8, date(2008, 8, 8), True, "W1"),
    (19, "back\\slash", "escape", D("0.00"), 1, 0.1, date(2001, 9, 9), False, "S1"),
    (20, "100%", "percent", D("100.00"), None, 100.0, date(2011, 11, 11), True, "C1"),
]

ITEMS_DDL = ("CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, "
             "note TEXT, price NUMERIC(10,2), qty INTEGER, ratio {double}, born DATE, "
             "active BOOLEAN, code TEXT UNIQUE)")
ITEMS_INSERT_PG = "INSERT INTO items VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"

KINDS_LOCAL = ("id integer, ts timestamp, tstz timestamptz, t time, iv interval, u uuid, "
               "j jsonb, arr integer[], big numeric(30,10), bin bytea, addr inet, "
               "mood text, label character(5)")
KINDS_INSERT_PG = "INSERT INTO kinds VALUES (%s, %s, %s, %s, %s::interval, %s, %s::jsonb, " \
                  "%s, %s, %s, %s, %s, %s)"
UTC = datetime.timezone.utc
KINDS = [
    (1, datetime.datetime(2020, 1, 2, 3, 4, 5, 123456),
     datetime.datetime(2020, 1, 2, 3, 4, 5, 654321, tzinfo=UTC), datetime.time(13, 14, 15),
     "1 mon 2 days 03:04:05", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
     '{"a": [1, 2.5, "x"], "ünï": null}', [1, 2, 3],
     D("12345678901234567890.0123456789"), b"\x00\xff\x10", "10.0.0.1", "happy", "ab"),
    (2, datetime.datetime(1999, 12, 31, 23, 59, 59),
     datetime.datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), datetime.time(0, 0),
     "-3 days", "00000000-0000-0000-0000-000000000000", "[]", [],
     D("-0.0000000001"), b"", "::1", "sad", "abcde"),
    (3, None, None, None, None, None, None, None, None, None, None, None, None),
]


def _sqlite_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float, Decimal)):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, date):
        return f"'{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def sqlite_script(table: str = "items", rows: Sequence[tuple] = ITEMS) -> str:
    lines = [ITEMS_DDL.format(double="REAL").replace("items", table, 1) + ";"]
    for row in rows:
        lines.append(f"INSERT INTO {table} VALUES ("
                     + ", ".join(_sqlite_literal(v) for v in row) + ");")
    return "\n".join(lines)


def postgres_script() -> str:
    return ";\n".join([
        ITEMS_DDL.format(double="double precision"),
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
        "CREATE TABLE kinds (id integer PRIMARY KEY, ts timestamp, tstz timestamptz, t time, "
        "iv interval, u uuid, j jsonb, arr integer[], big numeric(30,10), bin bytea, "
        "addr inet, mood mood, label char(5))",
        "CREATE TABLE serials (id serial PRIMARY KEY, name text NOT NULL, "
        "made date DEFAULT '2000-01-01')",
    ])


# --------------------------------------------------------------------------- sources


@dataclass
class RemoteSource:
    cluster: Any
    dbname: str

    @property
    def url(self) -> str:
        return (f"postgresql+psycopg2://postgres@/{self.dbname}"
                f"?host={self.cluster.socket_dir}&port={self.cluster.port}")

    def connect(self, autocommit: bool = True):
        return self.cluster.connect(self.dbname, autocommit=autocommit)

    def rows(self, query: str, params: Any = None) -> list[tuple]:
        return self.cluster.sql(query, params, dbname=self.dbname)


def sqlite_rows(path, query: str, params: Sequence[Any] = ()) -> list[tuple]:
    """Rows of query run on the SQLite file directly, with LIKE case-sensitive as
    PostgreSQL's, values normalised to what PostgreSQL returns for `items`."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA case_sensitive_like = true")
        cur = conn.execute(query, tuple(params))
        names = [d[0] for d in cur.description]
        return [tuple(normalise(n, v) for n, v in zip(names, row)) for row in cur.fetchall()]
    finally:
        conn.close()


def normalise(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in ("price",):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if name in ("born",):
        return date.fromisoformat(value)
    if name in ("active",):
        return bool(value)
    if name in ("ratio",) and isinstance(value, int):
        return float(value)
    return value


# --------------------------------------------------------------------------- SQL helpers


def create_server(db, name: str, url: str, **options: str) -> None:
    opts = {"wrapper": "sgfdw.sqlalchemy.SqlAlchemyFdw", "db_url": url, **options}
    with db.cursor() as cur:
        cur.execute(sql.SQL("CREATE SERVER {} FOREIGN DATA WRAPPER sgfdw OPTIONS ({})").format(
            sql.Identifier(name), sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(k), sql.Literal(v))
                for k, v in opts.items())))


def create_table(db, name: str, server: str, columns: str, **options: str) -> None:
    with db.cursor() as cur:
        cur.execute(sql.SQL("CREATE FOREIGN TABLE {} ({}) SERVER {} OPTIONS ({})").format(
            sql.Identifier(name), sql.SQL(columns), sql.Identifier(server),
            sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(k), sql.Literal(v))
                               for k, v in options.items())))


def remote_sql(explain: list[str]) -> str:
    """The Remote SQL line of an EXPLAIN output."""
    for line in explain:
        if "Remote SQL:" in line:
            return line.split("Remote SQL:", 1)[1].strip()
    raise AssertionError("no Remote SQL in EXPLAIN:\n" + "\n".join(explain))


def give_to_postgres(path: Path) -> None:
    """Makes path the server's (its OS user runs as postgres when we are root)."""
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def make_sqlite(directory: Path, name: str, script: str) -> Path:
    """A SQLite file made by script, the server's to read and write."""
    path = directory / name
    conn = sqlite3.connect(path)
    try:
        conn.executescript(script)
        conn.commit()
    finally:
        conn.close()
    give_to_postgres(path)
    return path
