"""The kit shared by the remote wrappers (sgfdw.remote), without a server: both
wrappers read booleans the same way, refuse unknown options with the same SQLSTATE,
and take the row identity as rowid_column or its alias primary_key."""

from __future__ import annotations

import sqlite3
from collections import OrderedDict

import pytest

from multicorn import ColumnDefinition, SortKey
from sgfdw.errors import FeatureNotSupported, OptionError
from sgfdw.postgres import PostgresFdw
from sgfdw.postgres.options import parse_table_options
from sgfdw.remote.options import parse_bool, rowid_option
from sgfdw.remote.pushdown import sortable_prefix
from sgfdw.remote.rowid import rowid_from_key
from sgfdw.sqlalchemy import SqlAlchemyFdw
from sgfdw.sqlalchemy.options import parse_options

COLUMNS = OrderedDict((name, ColumnDefinition(name, oid, -1, type_name, type_name))
                      for name, oid, type_name in [("id", 23, "integer"),
                                                   ("name", 25, "text")])


@pytest.fixture
def keyless(tmp_path):
    path = tmp_path / "kit.db"
    with sqlite3.connect(path) as conn:
        conn.executescript("CREATE TABLE t (id INTEGER NOT NULL, name TEXT);"
                           "INSERT INTO t VALUES (1, 'a'), (2, 'b');")
    conn.close()
    return path


@pytest.mark.parametrize("text,value", [
    ("true", True), ("ON", True), ("yes", True), ("1", True), ("t", True), (" Y ", True),
    ("false", False), ("Off", False), ("no", False), ("0", False), ("f", False), ("n", False)])
def test_booleans_spelt_the_same_in_both_wrappers(text, value):
    assert parse_bool({"b": text}, "b", not value) is value
    assert parse_table_options({"table_name": "t", "updatable": text}).updatable is value
    assert parse_options({"db_url": "sqlite://", "tablename": "t",
                          "create_database": text}).create_database is value


@pytest.mark.parametrize("text", ["perhaps", "", "2", "tru"])
def test_bad_booleans_refused_by_both_wrappers(text):
    for parse in (lambda: parse_table_options({"table_name": "t", "updatable": text}),
                  lambda: parse_options({"db_url": "sqlite://", "tablename": "t",
                                         "create_database": text})):
        with pytest.raises(OptionError) as info:
            parse()
        assert info.value.sqlstate == "HV00D" and "boolean" in str(info.value)


def test_unknown_option_refused_by_both_wrappers_alike(keyless):
    # The SQLAlchemy FDW used to ignore a misspelt option; now both refuse it, HV00D.
    errors = []
    for cls, options in ((PostgresFdw, {"host": "h", "table_name": "t"}),
                         (SqlAlchemyFdw, {"db_url": f"sqlite:///{keyless}", "tablename": "t"})):
        with pytest.raises(OptionError) as info:
            cls({**options, "fetch_sise": "10"}, COLUMNS)
        errors.append(info.value)
    for error in errors:
        assert error.sqlstate == "HV00D"
        assert str(error).startswith('invalid option "fetch_sise" for a ')
        assert "fetch_size" in error.hint
    for context in ("server", "table", "user_mapping"):
        with pytest.raises(OptionError) as info:
            SqlAlchemyFdw.validate_options(context, {"fetch_sise": "10"})
        assert info.value.sqlstate == "HV00D"


def test_row_identity_names():
    assert rowid_option({"rowid_column": "id"}) == "id"
    assert rowid_option({"primary_key": "id"}) == "id"
    assert rowid_option({"rowid_column": "id", "primary_key": "id"}) == "id"
    assert rowid_option({}) is None
    with pytest.raises(OptionError):
        rowid_option({"rowid_column": "id", "primary_key": "name"})
    with pytest.raises(OptionError):
        rowid_option({"primary_key": ""})
    assert parse_table_options({"table_name": "t", "primary_key": "id"}).rowid_column == "id"
    assert rowid_from_key(None, ("id",)) == "id"
    assert rowid_from_key("name", ("id",)) == "name"
    assert rowid_from_key(None, ("a", "b")) is None and rowid_from_key(None, None) is None


@pytest.mark.parametrize("option", ["rowid_column", "primary_key"])
def test_sqlalchemy_row_identity_option_and_alias(keyless, option):
    url = f"sqlite:///{keyless}"
    bare = SqlAlchemyFdw({"db_url": url, "tablename": "t"}, COLUMNS)
    with pytest.raises(FeatureNotSupported) as info:
        bare.rowid_column
    assert "rowid_column (alias primary_key)" in info.value.hint
    fdw = SqlAlchemyFdw({"db_url": url, "tablename": "t", option: "id"}, COLUMNS)
    assert fdw.rowid_column == "id"
    assert fdw.update(2, {"id": 2, "name": "B"}) == {"id": 2, "name": "B"}
    fdw.delete(1)
    with sqlite3.connect(keyless) as conn:
        assert conn.execute("SELECT * FROM t ORDER BY id").fetchall() == [(2, "B")]
    conn.close()


def test_sortable_prefix_stops_at_the_first_refused_key():
    keys = [SortKey(name, i, False, False, None) for i, name in enumerate("abcd", 1)]
    assert sortable_prefix(keys, lambda key: key.attname != "c") == keys[:2]
    assert sortable_prefix(keys, lambda key: True) == keys
    assert sortable_prefix(keys, lambda key: False) == []


class _DriverError(Exception):
    """A driver's exception without server diagnostics (no ``diag``, no SQLSTATE)."""


def test_one_error_report_and_scrubber_for_both_wrappers():
    import sqlalchemy.exc as sa_exc

    from sgfdw.postgres.connection import remote_error
    from sgfdw.postgres.options import parse_connection_params
    from sgfdw.sqlalchemy.errors import translate

    orig = _DriverError("value rejected for password=hunter2\nfirst 'hunter2' seen here")
    postgres = remote_error(orig, parse_connection_params({"password": "hunter2"}),
                            "INSERT INTO t VALUES ($1)")
    sqlalchemy = translate(sa_exc.DBAPIError("INSERT INTO t VALUES (?)", {}, orig),
                           url="x://h/d", secrets=["hunter2"])
    assert str(postgres) == "value rejected for password=********"
    assert str(sqlalchemy) == "remote error (x://h/d): " + str(postgres)
    assert postgres.detail == "first '********' seen here\nRemote SQL: INSERT INTO t VALUES ($1)"
    assert sqlalchemy.detail == "first '********' seen here\nRemote SQL: INSERT INTO t VALUES (?)"
    assert postgres.sqlstate == sqlalchemy.sqlstate == "HV000"
