"""SqlAlchemyFdw hardening (issue 10): what a non-superuser may reach, credentials kept
out of server options, cancel, SQLite files, option precedence, error reports.

A non-superuser here is a role the test's superuser connection switches to with
SET ROLE; the `pg` cluster trusts every local connection, so a redirected URL would
connect to it as its superuser.
"""
from __future__ import annotations

import contextlib
import socket
import time

import psycopg2
import pytest
from psycopg2 import sql

from fdwtest import assert_usable, error_of, execute, user_servers
from sqladata import (ITEMS, ITEMS_LOCAL, create_server, create_table, make_sqlite,
                      sqlite_script)
from test_cancel import cancel_when_running

# A cancelled 30 s remote statement must end within this (seconds).
CANCEL_BOUND = 6.0

SECRET = "s3cr'et;--"


@pytest.fixture
def plain(role):
    """The non-superuser the tests switch to: conftest's role (the tests grant it USAGE
    on their servers)."""
    return role


@contextlib.contextmanager
def as_role(db, role):
    execute(db, sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
    try:
        yield
    finally:
        execute(db, "RESET ROLE")


def user_mapping(db, role, server, **options):
    execute(db, sql.SQL("CREATE USER MAPPING FOR {} SERVER {} OPTIONS ({})").format(
        sql.Identifier(role), sql.Identifier(server), sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(k), sql.Literal(v))
            for k, v in options.items())))


def grant_server(db, server, role):
    execute(db, sql.SQL("GRANT USAGE ON FOREIGN SERVER {} TO {}").format(
        sql.Identifier(server), sql.Identifier(role)))


def local_superuser_url(pg, db):
    dbname = db.get_dsn_parameters()["dbname"]
    return f"postgresql+psycopg2://postgres@/{dbname}?host={pg.socket_dir}&port={pg.port}"


@pytest.fixture
def password_role(remote, remote_src):
    """A role of the remote cluster that must log in with a password (scram), with
    SELECT on remote_src's tables: (role, password)."""
    role, password = "sgfdw_pw_role", "pw'Secret 1"
    remote.sql(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
        sql.Identifier(role), sql.Literal(password)))
    remote_src.rows(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(
        sql.Identifier(role)))
    hba = remote.data_dir / "pg_hba.conf"
    original = hba.read_text()
    with open(hba, "w") as f:  # rewritten in place: keeps its owner
        f.write(f"local all {role} scram-sha-256\n{original}")
    remote.sql("SELECT pg_reload_conf()")
    try:
        yield role, password
    finally:
        with open(hba, "w") as f:
            f.write(original)
        remote.sql("SELECT pg_reload_conf()")
        remote_src.rows(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        remote.sql(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


# ---------------------------------------------------------------- S1: non-superusers

@pytest.fixture(params=["written", "used"])
def checked_when(request, db):
    """'written': options are checked at CREATE / ALTER (the extension's event trigger);
    'used': the trigger is disabled -- as for objects written before extension 0.2 or
    before ALTER SERVER changed the wrapper -- and the check when connecting stops it."""
    if request.param == "used":
        execute(db, "ALTER EVENT TRIGGER sgfdw_check_options DISABLE")
    return request.param


def refused(db, when, write, use, sqlstate="42501"):
    """The error of write() when options are checked as written, else of the query use
    after write() succeeded."""
    if when == "written":
        with pytest.raises(psycopg2.Error) as error:
            write()
        result = error.value
    else:
        write()
        result = error_of(db, use)
    assert result.pgcode == sqlstate, result
    assert_usable(db)
    return result


def test_user_mapping_cannot_redirect_a_non_superuser(db, pg, remote_src, plain,
                                                      checked_when):
    create_server(db, "src", remote_src.url)
    grant_server(db, "src", plain)
    with as_role(db, plain):
        create_table(db, "auth", "src", "rolname text, rolsuper boolean",
                     tablename="pg_authid", schema="pg_catalog")
        error = refused(db, checked_when,
                        lambda: user_mapping(db, plain, "src",
                                             db_url=local_superuser_url(pg, db),
                                             user="postgres", password="anything"),
                        "SELECT rolname FROM auth WHERE rolsuper")
        assert 'option "db_url"' in error.diag.message_primary
        if checked_when == "used":
            error = error_of(db, "IMPORT FOREIGN SCHEMA pg_catalog LIMIT TO (pg_authid) "
                                 "FROM SERVER src INTO public")
            assert error.pgcode == "42501", error


def test_foreign_table_cannot_redirect_a_non_superuser(db, pg, remote_src, plain,
                                                       password_role, checked_when):
    role, password = password_role
    create_server(db, "src", remote_src.url)
    grant_server(db, "src", plain)
    with as_role(db, plain):
        user_mapping(db, plain, "src", user=role, password=password)
        error = refused(db, checked_when,
                        lambda: create_table(db, "auth", "src", "rolname text",
                                             tablename="pg_authid", schema="pg_catalog",
                                             db_url=local_superuser_url(pg, db)),
                        "SELECT rolname FROM auth")
        assert "foreign table" in error.diag.message_primary


def test_non_superuser_cannot_create_sqlite_files(db, sqlite_dir, remote_src, plain,
                                                  checked_when):
    target = sqlite_dir / "planted.db"
    create_server(db, "src", remote_src.url)
    create_server(db, "lite", f"sqlite:///{sqlite_dir}/other.db", create_database="true")
    for server in ("src", "lite"):
        grant_server(db, server, plain)
    with as_role(db, plain):
        create_table(db, "planted", "src", "id int", tablename="planted")
        refused(db, checked_when,
                lambda: user_mapping(db, plain, "src", db_url=f"sqlite:///{target}",
                                     password="x"),
                "SELECT * FROM planted")
        user_mapping(db, plain, "lite", password="x")
        create_table(db, "other", "lite", "id int", tablename="other")
        error = error_of(db, "SELECT * FROM other")
        assert error.pgcode == "42501" and "file-based" in error.diag.message_primary
    assert list(sqlite_dir.iterdir()) == []


def test_non_superuser_needs_a_password_the_remote_asks_for(db, remote_src, plain):
    # The remote cluster trusts local connections: a password there would be ignored.
    create_server(db, "src", remote_src.url)
    grant_server(db, "src", plain)
    create_table(db, "items", "src", ITEMS_LOCAL, tablename="items")
    execute(db, sql.SQL("GRANT SELECT ON items TO {}").format(sql.Identifier(plain)))
    user_mapping(db, plain, "src", user="postgres", password=SECRET)
    with as_role(db, plain):
        error = error_of(db, "SELECT count(*) FROM items")
        assert error.pgcode == "42501", error
        assert error.diag.message_primary == "password is required"
        assert SECRET not in str(error)
    execute(db, sql.SQL("ALTER USER MAPPING FOR {} SERVER src OPTIONS (DROP password)").format(
        sql.Identifier(plain)))
    with as_role(db, plain):
        error = error_of(db, "SELECT count(*) FROM items")
        assert error.pgcode == "42501" and "password" in error.diag.message_primary
        assert_usable(db)
    assert execute(db, "SELECT count(*) FROM items") == [(len(ITEMS),)]  # superuser


def test_non_superuser_with_a_password_the_remote_asks_for(db, remote_src, plain,
                                                          password_role):
    role, password = password_role
    create_server(db, "src", remote_src.url)
    grant_server(db, "src", plain)
    user_mapping(db, plain, "src", user=role, password=password)
    with as_role(db, plain):
        create_table(db, "items", "src", ITEMS_LOCAL, tablename="items")
        assert execute(db, "SELECT id, name FROM items ORDER BY id") == remote_src.rows(
            "SELECT id, name FROM items ORDER BY id")
        execute(db, "IMPORT FOREIGN SCHEMA public LIMIT TO (kinds) FROM SERVER src "
                    "INTO public")
        assert execute(db, "SELECT count(*) FROM kinds") == remote_src.rows(
            "SELECT count(*) FROM kinds")


def test_non_superuser_user_mapping_holds_credentials_only(db, remote_src, plain,
                                                           password_role, checked_when):
    role, password = password_role
    create_server(db, "src", remote_src.url)
    grant_server(db, "src", plain)
    with as_role(db, plain):
        create_table(db, "items", "src", "id int", tablename="items")
        error = refused(db, checked_when,
                        lambda: user_mapping(db, plain, "src", user=role, password=password,
                                             schema="pg_catalog"),
                        "SELECT * FROM items")
        assert 'option "schema"' in error.diag.message_primary


# ---------------------------------------------------------------- item 5: credentials

@pytest.mark.parametrize("where", ["db_url", "password"])
def test_no_password_in_server_options(db, remote_src, where, checked_when):
    url = remote_src.url.replace("postgres@", f"postgres:{SECRET.replace(';', '%3B')}@")

    def write():
        if where == "db_url":
            create_server(db, "src", url.replace("'", "%27"))
        else:
            create_server(db, "src", remote_src.url, password=SECRET)
        create_table(db, "items", "src", "id int", tablename="items")

    error = refused(db, checked_when, write, "SELECT * FROM items", sqlstate="HV00D")
    assert "user mapping" in error.diag.message_hint
    assert "s3cr" not in str(error) and "s3cr" not in (error.diag.message_detail or "")


def test_a_password_in_a_mounted_url_goes_to_the_user_mapping(db, remote_src):
    url = remote_src.url.replace("postgres@", "postgres:hunter2@")
    rows = execute(db, "SELECT * FROM sgfdw.mount('m', 'sqlalchemy', %s, true, %s)",
                   (f'{{"db_url": "{url}", "schema": "public"}}', '["items"]'))
    assert rows == [("items",)]
    (mounted,) = user_servers(db)
    server = execute(db, "SELECT array_to_string(srvoptions, ' ') FROM pg_foreign_server "
                         "WHERE srvname = %s", (mounted,))
    assert "hunter2" not in server[0][0] and "postgres@" in server[0][0]
    assert execute(db, "SELECT umoptions FROM pg_user_mappings") == [(["password=hunter2"],)]
    assert execute(db, "SELECT count(*) FROM m.items") == [(len(ITEMS),)]


# ---------------------------------------------------------------- item 3: option names

@pytest.mark.parametrize("statement, name", [
    ("CREATE SERVER s2 FOREIGN DATA WRAPPER sgfdw OPTIONS (wrapper "
     "'sgfdw.sqlalchemy.SqlAlchemyFdw', db_url 'sqlite://', fetch_size 'ten')", "fetch_size"),
    ("CREATE SERVER s2 FOREIGN DATA WRAPPER sgfdw OPTIONS (wrapper "
     "'sgfdw.sqlalchemy.SqlAlchemyFdw', db_url 'sqlite://', hots 'x')", '"hots"'),
    ("CREATE FOREIGN TABLE t (id int) SERVER lite OPTIONS (tabelname 't')", '"tabelname"'),
    ("CREATE FOREIGN TABLE t (id int OPTIONS (colum_name 'x')) SERVER lite "
     "OPTIONS (tablename 't')", '"colum_name"'),
    ("ALTER SERVER lite OPTIONS (ADD create_database 'maybe')", "create_database"),
])
def test_options_are_checked_when_written(db, sqlite_items, statement, name):
    create_server(db, "lite", f"sqlite:///{sqlite_items}")
    error = error_of(db, statement)
    assert error.pgcode == "HV00D", error
    assert name in error.diag.message_primary
    assert_usable(db)


# ---------------------------------------------------------------- cancel

def _timed_error(db, query):
    start = time.monotonic()
    error = error_of(db, query)
    return error, time.monotonic() - start


def _cancelled(pg, db, how, query):
    """The error of `query` stopped by a 1 s statement_timeout or by pg_cancel_backend
    from another session: 57014, well before the statement would have ended."""
    if how == "statement_timeout":
        execute(db, "SET statement_timeout = '1s'")
    else:
        cancel_when_running(pg, db.get_dsn_parameters()["dbname"], db.get_backend_pid())
    error, elapsed = _timed_error(db, query)
    execute(db, "RESET statement_timeout")
    assert error.pgcode == "57014", error
    assert elapsed < CANCEL_BOUND
    return error


def _remote_sleepers(remote_src):
    return remote_src.rows("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                           "AND query LIKE '%slow%' AND pid <> pg_backend_pid()")[0][0]


def _slow_remote_table(db, remote_src):
    remote_src.rows("CREATE VIEW slow AS SELECT 1 AS id FROM pg_sleep(30)")
    create_server(db, "src", remote_src.url)
    create_table(db, "slow", "src", "id int", tablename="slow")
    create_table(db, "items", "src", ITEMS_LOCAL, tablename="items")
    assert execute(db, "SELECT count(*) FROM items") == [(len(ITEMS),)]  # warm


def _check_stopped_everywhere(db, remote_src):
    deadline = time.monotonic() + 3
    while _remote_sleepers(remote_src) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _remote_sleepers(remote_src) == 0
    assert_usable(db)
    assert execute(db, "SELECT count(*) FROM items") == [(len(ITEMS),)]


@pytest.mark.parametrize("how", ["statement_timeout", "pg_cancel_backend"])
def test_cancel_reaches_a_remote_postgresql_statement(pg, db, remote_src, how):
    _slow_remote_table(db, remote_src)
    error = _cancelled(pg, db, how, "SELECT * FROM slow")
    if how == "statement_timeout":  # PostgreSQL's own report, not the remote's
        assert "statement timeout" in error.diag.message_primary
    _check_stopped_everywhere(db, remote_src)


def test_cancel_reaches_a_hanging_connection_attempt(db):
    # A peer that accepts the connection and never answers.
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        create_server(db, "src", f"postgresql+psycopg2://u@127.0.0.1:{port}/db")
        create_table(db, "t", "src", "id int", tablename="t")
        execute(db, "SET statement_timeout = '1s'")
        error, elapsed = _timed_error(db, "SELECT * FROM t")
        execute(db, "RESET statement_timeout")
    assert error.pgcode == "57014", error
    assert elapsed < CANCEL_BOUND
    assert_usable(db)


@pytest.mark.parametrize("how", ["statement_timeout", "pg_cancel_backend"])
def test_cancel_reaches_a_sqlite_statement(pg, db, sqlite_dir, how):
    path = make_sqlite(sqlite_dir, "slow.db", sqlite_script() + """;
        CREATE VIEW slow AS WITH RECURSIVE c(x) AS
            (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000000) SELECT max(x) AS x
        FROM c;""")
    create_server(db, "lite", f"sqlite:///{path}")
    create_table(db, "slow", "lite", "x bigint", tablename="slow")
    create_table(db, "items", "lite", ITEMS_LOCAL, tablename="items")
    assert execute(db, "SELECT count(*) FROM items") == [(len(ITEMS),)]
    _cancelled(pg, db, how, "SELECT * FROM slow")
    assert_usable(db)
    assert execute(db, "SELECT count(*) FROM items") == [(len(ITEMS),)]


def test_the_wait_callback_leaves_the_postgresql_fdw_alone(db, remote_src):
    # psycopg2's wait callback is process-wide: sgfdw.postgres's asynchronous
    # connections in the same backend must work as before, a cancel included.
    _slow_remote_table(db, remote_src)
    execute(db, sql.SQL("CREATE SERVER pgf FOREIGN DATA WRAPPER sgfdw OPTIONS (wrapper "
                        "'sgfdw.postgres.PostgresFdw', host {}, port {}, dbname {})").format(
        sql.Literal(str(remote_src.cluster.socket_dir)), sql.Literal(str(remote_src.cluster.port)),
        sql.Literal(remote_src.dbname)))
    execute(db, "CREATE USER MAPPING FOR CURRENT_USER SERVER pgf OPTIONS (user 'postgres')")
    execute(db, "CREATE FOREIGN TABLE pitems (id int, name text) SERVER pgf "
                "OPTIONS (table_name 'items')")
    execute(db, "CREATE FOREIGN TABLE pslow (id int) SERVER pgf OPTIONS (table_name 'slow')")
    assert execute(db, "SELECT id, name FROM pitems ORDER BY id") == remote_src.rows(
        "SELECT id, name FROM items ORDER BY id")
    execute(db, "SET statement_timeout = '1s'")
    error, elapsed = _timed_error(db, "SELECT * FROM pslow")
    execute(db, "RESET statement_timeout")
    assert error.pgcode == "57014" and elapsed < CANCEL_BOUND
    assert execute(db, "SELECT count(*) FROM pitems") == [(len(ITEMS),)]


# ---------------------------------------------------------------- item 8: SQLite files

def test_a_missing_sqlite_file_is_not_created(db, sqlite_items):
    typo = sqlite_items.parent / "itmes.db"
    create_server(db, "lite", f"sqlite:///{typo}")
    create_table(db, "items", "lite", ITEMS_LOCAL, tablename="items")
    error = error_of(db, "SELECT * FROM items")
    assert error.pgcode == "58P01", error
    assert str(typo) in error.diag.message_primary
    assert "create_database" in error.diag.message_hint
    execute(db, "CREATE SCHEMA imported")
    error = error_of(db, "IMPORT FOREIGN SCHEMA \"default\" FROM SERVER lite INTO imported")
    assert error.pgcode == "58P01"
    error = error_of(db, "SELECT sgfdw.mount('lite_mount', 'sqlalchemy', %s)",
                     (f'{{"db_url": "sqlite:///{typo}"}}',))
    assert error.pgcode == "58P01"
    assert not typo.exists()
    assert_usable(db)


def test_create_database_creates_a_missing_sqlite_file(db, sqlite_dir):
    path = sqlite_dir / "new.db"
    create_server(db, "lite", f"sqlite:///{path}", create_database="true")
    execute(db, "CREATE SCHEMA imported")
    execute(db, "IMPORT FOREIGN SCHEMA \"default\" FROM SERVER lite INTO imported")
    assert path.exists()
    assert execute(db, "SELECT count(*) FROM pg_foreign_table") == [(0,)]


def test_an_existing_sqlite_file_is_opened_read_write(db, sqlite_items):
    create_server(db, "lite", f"sqlite:///{sqlite_items}")
    create_table(db, "items", "lite", ITEMS_LOCAL, tablename="items")
    execute(db, "INSERT INTO items (id, name) VALUES (100, 'new')")
    assert execute(db, "SELECT name FROM items WHERE id = 100") == [("new",)]


# ---------------------------------------------------------------- item 4: precedence

def test_a_table_option_overrides_the_servers(db, sqlite_items):
    create_server(db, "lite", f"sqlite:///{sqlite_items}", schema="nosuch")
    create_table(db, "items", "lite", ITEMS_LOCAL, tablename="items", schema="main")
    create_table(db, "server_schema", "lite", ITEMS_LOCAL, tablename="items")
    assert execute(db, "SELECT count(*) FROM items") == [(len(ITEMS),)]
    error = error_of(db, "SELECT count(*) FROM server_schema")  # the server's schema
    assert error.pgcode == "3F000" and "nosuch" in error.diag.message_primary


# ---------------------------------------------------------------- item 10: error reports

def _no_traceback(error):
    for part in (str(error), error.diag.message_detail or "", error.diag.context or ""):
        assert "Traceback" not in part and 'File "' not in part, part


@pytest.mark.parametrize("url, package", [("mysql+pymysql://u@h/db", "PyMySQL"),
                                          ("mysql://u@h/db", "mysqlclient"),
                                          ("postgresql+pg8000://u@h/db", "pg8000")])
def test_a_missing_driver_names_its_package(db, url, package):
    create_server(db, "src", url)
    create_table(db, "t", "src", "id int", tablename="t")
    error = error_of(db, "SELECT * FROM t")
    assert error.pgcode == "HV00D", error
    assert package in error.diag.message_hint
    _no_traceback(error)
    assert_usable(db)


def test_user_errors_carry_no_traceback(db, sqlite_items, remote_src, password_role):
    role, _ = password_role
    create_server(db, "lite", f"sqlite:///{sqlite_items}")
    create_table(db, "ghost", "lite", "id int", tablename="no_such_table")
    create_server(db, "bad", "not a url")
    create_table(db, "bad_url", "bad", "id int", tablename="t")
    create_server(db, "src", remote_src.url)
    user_mapping(db, "postgres", "src", user=role, password=SECRET)
    create_table(db, "wrong_password", "src", "id int", tablename="items")
    for table, state in (("ghost", "42P01"), ("bad_url", "HV00D"),
                         ("wrong_password", "08006")):
        error = error_of(db, f"SELECT * FROM {table}")
        assert error.pgcode == state, error
        _no_traceback(error)
        assert SECRET not in str(error) and SECRET not in (error.diag.message_detail or "")
    assert "password authentication failed" in str(error) and "***" in str(error)
    error = error_of(db, "SELECT sgfdw.mount('m', 'nosuch', '{}')")
    assert error.pgcode == "HV00D"
    _no_traceback(error)
