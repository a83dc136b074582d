"""One local-collation rule for both remote wrappers (sgfdw.remote.collation): C.UTF-8
orders text as bytes, so PostgresFdw pushes text comparisons and sorts between a local
C.UTF-8 database and a remote C one (as SqlAlchemyFdw pushes them to SQLite's byte
order); its LC_CTYPE is not C's, so ILIKE goes remote only where the ctypes match.
Every result is compared with the remote's and with a local copy of the rows."""

from __future__ import annotations

import pytest
from psycopg2 import sql

from pgfdw_helpers import execute, remote_sql

# Characters whose byte order differs from a linguistic order: case, accents (composed
# and combining), other scripts, a private-use and a supplementary-plane character.
WORDS = ["a", "A", "b", "B", "Z", "z", "é", "É", "e\u0301", "ß", "ss", "Ω", "ω", "я",
         "Я", "表", "\ue000", "😀", "\U0010fffd", "a b", "a-b", "ab", "aB", "0", "_", "~",
         "Ä", "ä", "ﬃ", "ǅ"]


@pytest.fixture(scope="module")
def c_remote(remote):
    """Remote databases with LC_COLLATE C: one with C.UTF-8's ctype, one with C's."""
    names = {"c_utf8ctype": "C.UTF-8", "c_cctype": "C"}
    for name, ctype in names.items():
        remote.sql(sql.SQL("CREATE DATABASE {} TEMPLATE template0 LC_COLLATE 'C' "
                           "LC_CTYPE {}").format(sql.Identifier(name), sql.Literal(ctype)))
        conn = remote.connect(name)
        try:
            execute(conn, "CREATE TABLE words (id int PRIMARY KEY, w text)")
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO words VALUES (%s, %s)", list(enumerate(WORDS)))
        finally:
            conn.close()
    yield names
    for name in names:
        remote.drop_database(name)


def _foreign_words(db, remote, dbname: str) -> None:
    execute(db, sql.SQL("CREATE SERVER {} FOREIGN DATA WRAPPER sgfdw OPTIONS (wrapper "
                        "'sgfdw.postgres.PostgresFdw', host {}, port {}, dbname {})").format(
        sql.Identifier(dbname), sql.Literal(str(remote.socket_dir)),
        sql.Literal(str(remote.port)), sql.Literal(dbname)))
    execute(db, sql.SQL("CREATE USER MAPPING FOR CURRENT_USER SERVER {} "
                        "OPTIONS (user 'postgres')").format(sql.Identifier(dbname)))
    execute(db, sql.SQL("CREATE FOREIGN TABLE {} (id int, w text) SERVER {} "
                        "OPTIONS (table_name 'words')").format(
        sql.Identifier(dbname), sql.Identifier(dbname)))


def test_c_utf8_orders_text_as_bytes(db):
    # The claim sgfdw.remote.collation rests on, checked on this server's libc.
    assert execute(db, "SELECT datcollate, datlocprovider FROM pg_database "
                       "WHERE datname = current_database()") == [("C.UTF-8", "c")]
    execute(db, "CREATE TABLE local_words (id int, w text)")
    with db.cursor() as cur:
        cur.executemany("INSERT INTO local_words VALUES (%s, %s)", list(enumerate(WORDS)))
    by_locale = [w for (w,) in execute(db, "SELECT w FROM local_words ORDER BY w")]
    by_c = [w for (w,) in execute(db, 'SELECT w FROM local_words ORDER BY w COLLATE "C"')]
    assert by_locale == by_c == sorted(WORDS, key=lambda w: w.encode())


@pytest.mark.parametrize("dbname, ilike_pushed", [("c_utf8ctype", True),
                                                  ("c_cctype", False)])
def test_comparisons_pushed_between_c_utf8_and_c(db, remote, c_remote, dbname, ilike_pushed):
    _foreign_words(db, remote, dbname)
    execute(db, "CREATE TABLE local_words AS SELECT * FROM " + dbname)
    conn = remote.connect(dbname)
    try:
        for where in ("w > 'b'", "w <= 'é'", "w >= 'a' AND w < 'ω'"):
            query = f"SELECT id, w FROM {{t}} WHERE {where} ORDER BY w, id"
            assert "WHERE" in remote_sql(db, query.format(t=dbname))
            assert "ORDER BY" in remote_sql(db, query.format(t=dbname))
            got = execute(db, query.format(t=dbname))
            assert got == execute(conn, query.format(t="words"))
            assert got == execute(db, query.format(t="local_words"))
        query = "SELECT id, w FROM {t} WHERE w ILIKE 'é%' ORDER BY id"
        assert ("~~*" in remote_sql(db, query.format(t=dbname))) is ilike_pushed
        got = execute(db, query.format(t=dbname))
        assert got == execute(db, query.format(t="local_words"))
        assert [w for _, w in got] == ["é", "É"]      # C.UTF-8's ctype folds É
    finally:
        conn.close()
