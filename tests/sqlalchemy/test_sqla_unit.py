"""SqlAlchemyFdw pieces that need no PostgreSQL server: pattern translation, NULL
ordering rules of dialects without NULLS FIRST, the type mapping of IMPORT FOREIGN
SCHEMA, error translation, options, and the class used in-process over SQLite (no
bridge: statements run in short transactions of their own; a dialect without
RETURNING re-selects the written row)."""
from __future__ import annotations

import sqlite3
from collections import OrderedDict
from decimal import Decimal

import pytest
import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
from sqlalchemy.dialects import mssql, mysql, oracle, postgresql

from multicorn import ColumnDefinition, Qual, SortKey
from sgfdw.errors import ConnectionFailure, FdwError, OptionError, UndefinedTable
from sgfdw.hooks.mount_handlers import get_mount_handler
from sgfdw.sqlalchemy import MOUNT_HANDLER, SqlAlchemyFdw
from sgfdw.sqlalchemy.dialects import capabilities_of
from sgfdw.sqlalchemy.errors import translate
from sgfdw.sqlalchemy.options import parse_options
from sgfdw.sqlalchemy.pg_types import pg_type_for, pg_type_for_declared
from sgfdw.sqlalchemy.query import Pushdown, sample_select
from sgfdw.sqlalchemy.quals import like_to_glob
from sgfdw.sqlalchemy.remote_table import RemoteColumn, RemoteTable


def test_mount_handler_exported_by_the_wrapper():
    assert (MOUNT_HANDLER.name, MOUNT_HANDLER.wrapper) == \
        ("sqlalchemy", "sgfdw.sqlalchemy.SqlAlchemyFdw")
    assert get_mount_handler("sqlalchemy") is MOUNT_HANDLER


@pytest.mark.parametrize("like,glob", [
    ("a%", "a*"), ("_b", "?b"), ("a\\%b", "a%b"), ("a\\_", "a_"), ("x*y?z[", "x[*]y[?]z[[]"),
    ("\\\\", "\\"), ("]", "]"), ("ünï%", "ünï*"), ("a\\", None),
])
def test_like_to_glob(like, glob):
    assert like_to_glob(like) == glob


def _table(nullable: bool) -> RemoteTable:
    column = sa.Column("n", sa.Integer)
    table = sa.Table("t", sa.MetaData(), column)
    remote = RemoteColumn("n", "n", "integer", "integer", column, True, nullable, False)
    return RemoteTable("t", None, table, {"n": remote}, [])


@pytest.mark.parametrize("reversed_,nulls_first,accepted", [
    (False, True, True),    # ASC: MySQL puts NULLs first by itself
    (False, False, False),  # ASC NULLS LAST cannot be said
    (True, False, True),    # DESC: NULLs last
    (True, True, False),
])
def test_sort_without_nulls_syntax(reversed_, nulls_first, accepted):
    caps = capabilities_of(mysql.dialect())
    key = SortKey("n", 1, reversed_, nulls_first, None)
    assert (Pushdown(_table(True), caps).sort(key) is not None) == accepted
    # A NOT NULL column sorts the same either way.
    assert Pushdown(_table(False), caps).sort(key) is not None
    sql = str(Pushdown(_table(True), capabilities_of(postgresql.dialect())).sort(key)
              .compile(dialect=postgresql.dialect()))
    assert sql.endswith("NULLS FIRST" if nulls_first else "NULLS LAST")


@pytest.mark.parametrize("dialect, order", [
    (postgresql.dialect(), "ORDER BY random()"), (mysql.dialect(), "ORDER BY rand()"),
    (mssql.dialect(), None), (oracle.dialect(), None),
])
def test_analyze_sample_in_each_dialect(dialect, order):
    """ANALYZE's random sample is written only where the dialect has that function
    (MSSQL and Oracle have no random(): their first rows are the sample)."""
    query = sample_select(Pushdown(_table(True), capabilities_of(dialect)), ["n"], 30)
    sql = str(query.statement.compile(dialect=dialect))
    assert (order in sql) if order else "ORDER BY" not in sql, sql


def test_unknown_dialect_pushes_conservatively():
    caps = capabilities_of(mysql.dialect())
    table = RemoteTable("t", None, sa.Table("t", sa.MetaData(), sa.Column("s", sa.String)),
                        {}, [])
    column = table.table.c.s
    table.columns["s"] = RemoteColumn("s", "s", "string", "string", column, True, True, False)
    push = Pushdown(table, caps)
    # collation unknown: MySQL's default ones ignore case ('a' = 'A'), so = keeps more
    # rows (PostgreSQL rechecks them: not exact) and <> fewer (not pushed)
    assert not push.qual(Qual("s", "=", "x")).exact
    assert not push.qual(Qual("s", ("=", True), ["x", "y"])).exact
    assert push.qual(Qual("s", "<>", "x")) is None
    assert push.qual(Qual("s", ("<>", False), ["x", "y"])) is None
    assert push.qual(Qual("s", "<", "x")) is None
    assert push.qual(Qual("s", "~~", "x%")) is None     # LIKE may ignore case
    assert push.qual(Qual("s", "=", None)).exact        # IS NULL
    assert push.sort(SortKey("s", 1, False, False, "default")) is None


@pytest.mark.parametrize("type_,dialect,expected", [
    (sa.Integer(), "sqlite", "integer"), (sa.BigInteger(), "mysql", "bigint"),
    (sa.SmallInteger(), "sqlite", "smallint"), (sa.Numeric(12, 3), "sqlite", "numeric(12,3)"),
    (sa.Numeric(), "sqlite", "numeric"), (sa.Float(), "sqlite", "double precision"),
    (sa.REAL(), "sqlite", "double precision"), (postgresql.REAL(), "postgresql", "real"),
    (postgresql.DOUBLE_PRECISION(), "postgresql", "double precision"),
    (sa.String(12), "mysql", "varchar(12)"), (sa.VARCHAR(5), "sqlite", "varchar(5)"),
    (sa.String(), "sqlite", "text"), (sa.Text(), "mysql", "text"),
    (sa.CHAR(3), "postgresql", "character(3)"), (sa.CHAR(3), "mysql", "varchar(3)"),
    (sa.Enum("a", "b"), "mysql", "text"), (sa.Boolean(), "sqlite", "boolean"),
    (sa.Date(), "sqlite", "date"), (sa.DateTime(), "sqlite", "timestamp"),
    (sa.DateTime(timezone=True), "postgresql", "timestamp with time zone"),
    (sa.Time(), "sqlite", "time"), (sa.Interval(), "sqlite", "interval"),
    (postgresql.INTERVAL(), "postgresql", "interval"), (sa.LargeBinary(), "sqlite", "bytea"),
    (postgresql.BYTEA(), "postgresql", "bytea"), (sa.JSON(), "sqlite", "jsonb"),
    (postgresql.JSONB(), "postgresql", "jsonb"), (sa.Uuid(), "sqlite", "uuid"),
    (postgresql.UUID(), "postgresql", "uuid"),
    (postgresql.ARRAY(sa.Integer), "postgresql", "integer[]"),
    (postgresql.ARRAY(sa.Text, dimensions=2), "postgresql", "text[][]"),
    (postgresql.INET(), "postgresql", "inet"), (postgresql.MONEY(), "postgresql", "money"),
])
def test_type_mapping(type_, dialect, expected):
    assert pg_type_for(type_, dialect) == (expected, False)


@pytest.mark.parametrize("type_,dialect", [
    (sa.types.NullType(), "sqlite"), (postgresql.TSVECTOR(), "mysql"),
    (mysql.YEAR(), "mysql"), (postgresql.HSTORE(), "postgresql"),
])
def test_type_mapping_fallback(type_, dialect):
    assert pg_type_for(type_, dialect) == ("text", True)


@pytest.mark.parametrize("declared,reflected,expected", [
    ("uuid", sa.NUMERIC(), ("uuid", False)),
    ("TIMESTAMPTZ", sa.NUMERIC(), ("timestamp with time zone", False)),
    ("weird", sa.NUMERIC(), ("text", True)), ("", sa.types.NullType(), ("text", True)),
    ("DECIMAL(5,2)", sa.DECIMAL(5, 2), ("numeric(5,2)", False)),
    ("VARCHAR(9)", sa.VARCHAR(9), ("varchar(9)", False)),
])
def test_sqlite_declared_types(declared, reflected, expected):
    assert pg_type_for_declared(declared, reflected) == expected


def _dbapi_error(cls, orig, **kw):
    return cls("SELECT 1", {}, orig, **kw)


@pytest.mark.parametrize("exc,expected_cls,sqlstate", [
    (sa_exc.NoSuchTableError("t"), UndefinedTable, "42P01"),
    (sa_exc.NoSuchModuleError("x"), OptionError, "HV00D"),
    (_dbapi_error(sa_exc.IntegrityError, sqlite3.IntegrityError("UNIQUE constraint failed: t.id")),
     FdwError, "23505"),
    (_dbapi_error(sa_exc.IntegrityError, sqlite3.IntegrityError("NOT NULL constraint failed: t.x")),
     FdwError, "23502"),
    (_dbapi_error(sa_exc.OperationalError, sqlite3.OperationalError("no such table: t")),
     FdwError, "42P01"),
    (_dbapi_error(sa_exc.OperationalError, sqlite3.OperationalError("database is locked")),
     FdwError, "55P03"),
    (_dbapi_error(sa_exc.OperationalError,
                  sqlite3.OperationalError("unable to open database file")),
     ConnectionFailure, "08006"),
    (_dbapi_error(sa_exc.OperationalError, Exception("server closed the connection"),
                  connection_invalidated=True), ConnectionFailure, "08006"),
])
def test_error_translation(exc, expected_cls, sqlstate):
    result = translate(exc, url="x://u:***@h/d")
    assert isinstance(result, expected_cls) and result.sqlstate == sqlstate


def test_error_translation_hides_secrets():
    orig = Exception('connection to server failed: password "hunter2" rejected\nmore hunter2')
    exc = _dbapi_error(sa_exc.OperationalError, orig)
    result = translate(exc, url="x://u:***@h/d", secrets=["hunter2"], connecting=True)
    assert isinstance(result, ConnectionFailure)
    assert "hunter2" not in str(result) and "hunter2" not in (result.detail or "")


def test_options():
    settings = parse_options({"url": "sqlite://", "table_name": "t", "fetch_size": "5",
                              "user": "u", "password": "p", "other": "ignored"})
    assert (settings.url, settings.tablename, settings.fetch_size, settings.batch_size,
            settings.user, settings.password) == ("sqlite://", "t", 5, 100, "u", "p")
    with pytest.raises(OptionError):
        parse_options({"tablename": "t"})
    with pytest.raises(OptionError):
        parse_options({"db_url": "sqlite://"})
    with pytest.raises(OptionError):
        parse_options({"db_url": "sqlite://", "tablename": "t", "fetch_size": "0"})
    with pytest.raises(OptionError):
        SqlAlchemyFdw({"db_url": "not a url", "tablename": "t"}, {})


# --------------------------------------------------------------------------- in-process


COLUMNS = OrderedDict((name, ColumnDefinition(name, oid, -1, type_name, type_name))
                      for name, oid, type_name in [("id", 23, "integer"),
                                                   ("name", 25, "text"),
                                                   ("price", 1700, "numeric")])


@pytest.fixture
def lite(tmp_path):
    path = tmp_path / "unit.db"
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                       "price NUMERIC); INSERT INTO t VALUES (1, 'a', 1.5), (2, 'b', NULL);")
    conn.commit()
    conn.close()
    return path


def test_in_process_scan_and_writes(lite):
    fdw = SqlAlchemyFdw({"db_url": f"sqlite:///{lite}", "tablename": "t"}, COLUMNS)
    assert fdw.rowid_column == "id" and fdw.get_path_keys() == [(("id",), 1)]
    assert list(fdw.execute([Qual("price", "=", None)], {"id", "name"})) == \
        [{"id": 2, "name": "b"}]
    assert list(fdw.execute([], set(COLUMNS), sortkeys=[SortKey("id", 1, True, False, None)],
                            limit=1)) == [(2, "b", None)]
    # No begin(): each write commits on its own.
    assert fdw.insert({"id": None, "name": "c", "price": Decimal("2.25")}) == \
        {"id": 3, "name": "c", "price": Decimal("2.25")}
    assert fdw.update(3, {"id": 3, "name": "C", "price": None}) == \
        {"id": 3, "name": "C", "price": None}
    fdw.delete(1)
    with sqlite3.connect(lite) as conn:
        assert conn.execute("SELECT * FROM t ORDER BY id").fetchall() == [(2, "b", None),
                                                                         (3, "C", None)]


def test_without_returning_the_row_is_selected_again(lite, monkeypatch):
    fdw = SqlAlchemyFdw({"db_url": f"sqlite:///{lite}", "tablename": "t"}, COLUMNS)
    dialect = fdw.source.engine.dialect
    monkeypatch.setattr(dialect, "insert_returning", False)
    monkeypatch.setattr(dialect, "update_returning", False)
    assert fdw.insert({"id": None, "name": "lastrowid", "price": None}) == \
        {"id": 3, "name": "lastrowid", "price": None}
    assert fdw.update(3, {"id": 4, "name": "moved", "price": Decimal("1")}) == \
        {"id": 4, "name": "moved", "price": Decimal("1")}


def test_in_process_transaction_hooks(lite):
    fdw = SqlAlchemyFdw({"db_url": f"sqlite:///{lite}", "tablename": "t"}, COLUMNS)
    other = SqlAlchemyFdw({"db_url": f"sqlite:///{lite}", "tablename": "t"}, COLUMNS)
    fdw.begin(False)
    other.begin(False)  # same engine: the same connection
    fdw.insert({"id": 10, "name": "x", "price": None})
    other.sub_begin(2)
    other.insert({"id": 11, "name": "y", "price": None})
    other.sub_rollback(2)
    other.sub_begin(2)
    other.insert({"id": 12, "name": "z", "price": None})
    other.sub_commit(2)
    assert [r[0] for r in fdw.execute([], set(COLUMNS))] == [1, 2, 10, 12]
    fdw.pre_commit()
    other.pre_commit()  # nothing left to do
    fdw.commit()
    other.commit()
    with sqlite3.connect(lite) as conn:
        assert [r[0] for r in conn.execute("SELECT id FROM t ORDER BY id")] == [1, 2, 10, 12]
    fdw.begin(False)
    fdw.delete(10)
    fdw.rollback()
    with sqlite3.connect(lite) as conn:
        assert [r[0] for r in conn.execute("SELECT id FROM t ORDER BY id")] == [1, 2, 10, 12]


def test_aggregates_described_beyond_what_is_read_are_refused(lite):
    """An aggregate whose description has a field the FDW does not read (one the bridge
    may add, a FILTER say) set is not computed by the source; nor one outside
    pg_catalog."""
    from dataclasses import dataclass

    from sgfdw.aggregation import Aggregate, Aggregation

    @dataclass(frozen=True)
    class Filtered(Aggregate):
        filter: str | None = None

    fdw = SqlAlchemyFdw({"db_url": f"sqlite:///{lite}", "tablename": "t"}, COLUMNS)
    plain = Aggregation(("name",), (Filtered("pg_catalog.sum", "id", 20),))
    assert fdw.can_aggregate(plain)
    assert sorted(fdw.execute([], {"id", "name"}, aggregation=plain)) == [("a", 1), ("b", 2)]
    assert not fdw.can_aggregate(Aggregation(("name",), (Filtered("pg_catalog.sum", "id", 20,
                                                                  filter="id > 1"),)))
    assert not fdw.can_aggregate(Aggregation((), (Aggregate("public.sum", "id", 20),)))


@pytest.mark.parametrize("version,full", [((3, 38, 5), False), ((3, 39, 0), True)])
def test_sqlite_full_joins_from_3_39(version, full):
    """SQLite has FULL JOIN from 3.39 (RIGHT JOIN is sent as a LEFT JOIN either way)."""
    import types

    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    dialect.dbapi = types.SimpleNamespace(sqlite_version_info=version)
    caps = capabilities_of(dialect)
    assert (caps.joins, caps.full_joins) == (True, full)
    assert capabilities_of(postgresql.dialect()).full_joins
    assert not capabilities_of(mysql.dialect()).joins
