"""Helpers of the object store's tests (also used by the layered FDW's): compare a
checked-out table with its source row by row, expect an error. A module of its own
name: every test folder's conftest is a module named `conftest`, and which one
`from conftest import` finds depends on what pytest loaded first."""
from __future__ import annotations

import collections

import psycopg2
from psycopg2 import sql

from fdwtest import execute


def rows_of(db, table: str) -> collections.Counter:
    """Every row of a table (schema-qualified name as SQL), each value as its text
    (exact for every type), as a multiset."""
    return collections.Counter(execute(db, f"SELECT t::text FROM {table} t"))


def assert_same_rows(db, table_a: str, table_b: str) -> None:
    a, b = rows_of(db, table_a), rows_of(db, table_b)
    assert a == b, f"{table_a} and {table_b} differ: {sorted((a - b).items())[:5]} / " \
                   f"{sorted((b - a).items())[:5]}"


def repo_table(repository: str, table: str) -> str:
    return sql.SQL("{}.{}").format(sql.Identifier(repository), sql.Identifier(table))


def sqlstate_of(db, query: str, params=None) -> psycopg2.Error:
    try:
        execute(db, query, params)
    except psycopg2.Error as exc:
        return exc
    raise AssertionError(f"no error from {query!r}")
