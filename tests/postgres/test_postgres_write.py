"""PostgresFdw writes: INSERT (RETURNING generated keys), batched INSERT, UPDATE and
DELETE through the remote primary key, hostile values, rowid_column, updatable 'false'."""

from __future__ import annotations

import pytest
from pgfdw_helpers import assert_usable, error_of, error_text, execute, remote_sql_lines


def remote_rows(source, wdb, query):
    return execute(source, query.format(s=wdb.schema))


def test_insert_returning_generated_values(wdb, source):
    rows = execute(wdb, "INSERT INTO w.items (name, price) VALUES ('first', 9.99) "
                        "RETURNING id, name, qty, price, created IS NOT NULL, gen")
    assert rows == [(1, "first", 7, "9.99", "t", 14)]
    rows = execute(wdb, "INSERT INTO w.items (name, qty) VALUES ('second', 3) RETURNING *")
    assert rows[0][0] == 2 and rows[0][2] == 3 and rows[0][-1] == 6
    assert remote_rows(source, wdb, "SELECT id, name, qty, price, gen FROM {s}.items "
                                    "ORDER BY id") == [(1, "first", 7, "9.99", 14),
                                                       (2, "second", 3, None, 6)]


def test_insert_values_of_every_kind(wdb, source):
    values = ("it's; DROP TABLE x; --", "12.50",
              ["a", None, 'q"uote', "back\\slash", "ünï 表", "", "{}", "NULL"],
              '{"k": [1, 2.50, "x\\"y"], "ü": null}', "2024-02-29")
    execute(wdb, "INSERT INTO w.items (name, price, tags, doc, day) "
                 "VALUES (%s, %s, %s, %s, %s)", values)
    got = remote_rows(source, wdb, "SELECT name, price, tags, doc, day FROM {s}.items")
    expected = execute(source, "SELECT %s::text, %s::numeric(10,2), %s::text[], %s::jsonb, "
                               "%s::date", values)
    assert got == expected
    # And read back through the foreign table.
    assert execute(wdb, "SELECT name, price, tags, doc, day FROM w.items") == expected


def test_batched_insert(wdb, source):
    execute(wdb, "ALTER FOREIGN TABLE w.items OPTIONS (ADD batch_size '40')")
    execute(wdb, "INSERT INTO w.items (name, qty) "
                 "SELECT 'n' || g, g FROM generate_series(1, 250) g")
    assert remote_rows(source, wdb, "SELECT count(*), sum(qty), count(DISTINCT id) "
                                    "FROM {s}.items") == [(250, 31375, 250)]


def test_update_and_delete(wdb, source):
    execute(wdb, "INSERT INTO w.items (name, qty) VALUES ('a', 1), ('b', 2), ('c', 3)")
    rows = execute(wdb, "UPDATE w.items SET qty = qty * 10, name = name || '''!' "
                        "WHERE qty >= 2 RETURNING name, qty, gen")
    assert sorted(rows) == [("b'!", 20, 40), ("c'!", 30, 60)]
    rows = execute(wdb, "DELETE FROM w.items WHERE name = 'a' RETURNING id, name, qty")
    assert rows == [(1, "a", 1)]
    assert remote_rows(source, wdb, "SELECT id, name, qty FROM {s}.items ORDER BY id") == [
        (2, "b'!", 20), (3, "c'!", 30)]
    execute(wdb, "DELETE FROM w.items")
    assert remote_rows(source, wdb, "SELECT count(*) FROM {s}.items") == [(0,)]


def test_update_pushes_quals_and_uses_the_key(wdb, source):
    execute(wdb, "INSERT INTO w.items (name) VALUES ('a'), ('b')")
    lines = remote_sql_lines(wdb, "UPDATE w.items SET qty = 1 WHERE name = 'b'")
    assert lines == [f'UPDATE "{wdb.schema}"."items" SET "qty" = $1 WHERE ("name" = $2)'], lines
    execute(wdb, "UPDATE w.items SET qty = 1 WHERE name = 'b'")
    assert remote_rows(source, wdb, "SELECT name, qty FROM {s}.items ORDER BY id") == [
        ("a", 7), ("b", 1)]


def test_identity_always_column(wdb, source):
    rows = execute(wdb, "INSERT INTO w.ident (v) VALUES ('x'), ('y') RETURNING id, v")
    assert rows == [(1, "x"), (2, "y")]
    execute(wdb, "UPDATE w.ident SET v = 'z' WHERE id = 2")
    assert remote_rows(source, wdb, "SELECT id, v FROM {s}.ident ORDER BY id") == [
        (1, "x"), (2, "z")]


@pytest.mark.parametrize("option", ["rowid_column", "primary_key"])
def test_table_without_primary_key(wdb, source, option):
    """Rows are identified by the remote ctid (more in test_postgres_ctid.py), unless the
    rowid_column option (alias primary_key, as in SqlAlchemyFdw) names a column."""
    execute(wdb, "INSERT INTO w.nokey VALUES (1, 'one'), (2, 'two')")
    execute(wdb, "UPDATE w.nokey SET b = 'x' WHERE a = 2")
    assert remote_rows(source, wdb, "SELECT a, b FROM {s}.nokey ORDER BY a") == [
        (1, "one"), (2, "x")]
    execute(wdb, f"ALTER FOREIGN TABLE w.nokey OPTIONS (ADD {option} 'a')")
    lines = remote_sql_lines(wdb, "DELETE FROM w.nokey WHERE a = 1")
    assert lines and all("ctid" not in line for line in lines), lines
    execute(wdb, "DELETE FROM w.nokey WHERE a = 1")
    assert remote_rows(source, wdb, "SELECT a, b FROM {s}.nokey") == [(2, "x")]


def test_not_updatable(wdb, source):
    execute(wdb, "ALTER FOREIGN TABLE w.items OPTIONS (ADD updatable 'false')")
    for statement in ("INSERT INTO w.items (name) VALUES ('x')",
                      "UPDATE w.items SET qty = 1", "DELETE FROM w.items"):
        error = error_of(wdb, statement)
        assert error.pgcode == "55000", error_text(error)
        assert "does not allow" in error.diag.message_primary
    assert execute(wdb, "SELECT table_name, is_insertable_into FROM information_schema.tables "
                        "WHERE table_schema = 'w' ORDER BY 1") == [
        ("ident", "YES"), ("items", "NO"), ("nokey", "YES"), ("uniq", "YES")]
    assert execute(wdb, "SELECT count(*) FROM w.items") == [(0,)]
    execute(wdb, "ALTER FOREIGN TABLE w.items OPTIONS (SET updatable 'true')")
    execute(wdb, "INSERT INTO w.items (name) VALUES ('x')")
    assert remote_rows(source, wdb, "SELECT name FROM {s}.items") == [("x",)]
    # On the server, for all its tables (server options override table options).
    execute(wdb, "ALTER FOREIGN TABLE w.items OPTIONS (DROP updatable)")
    execute(wdb, "ALTER SERVER rsrv OPTIONS (ADD updatable 'false')")
    error = error_of(wdb, "INSERT INTO w.ident (v) VALUES ('x')")
    assert error.pgcode == "55000", error_text(error)


def test_remote_constraint_violation(wdb, source):
    execute(wdb, "INSERT INTO w.items (id, name) VALUES (5, 'a')")
    error = error_of(wdb, "INSERT INTO w.items (id, name) VALUES (5, 'b')")
    assert error.pgcode == "23505", error_text(error)
    error = error_of(wdb, "INSERT INTO w.items (name) VALUES (NULL)")
    assert error.pgcode in ("23502",), error_text(error)
    assert_usable(wdb)
    assert remote_rows(source, wdb, "SELECT id, name FROM {s}.items") == [(5, "a")]


def test_batched_insert_feeds_after_row_triggers(wdb, source):
    execute(wdb, "ALTER FOREIGN TABLE w.items OPTIONS (ADD batch_size '3')")
    execute(wdb, "CREATE TABLE seen (id int, gen int)")
    execute(wdb, "CREATE FUNCTION log_item() RETURNS trigger LANGUAGE plpgsql AS "
                 "$$BEGIN INSERT INTO seen VALUES (NEW.id, NEW.gen); RETURN NULL; END$$")
    execute(wdb, "CREATE TRIGGER log_item AFTER INSERT ON w.items "
                 "FOR EACH ROW EXECUTE FUNCTION log_item()")
    execute(wdb, "INSERT INTO w.items (name, qty) SELECT 'n' || g, g FROM generate_series(1, 7) g")
    # The remote's generated id and gen reach the trigger.
    assert execute(wdb, "SELECT id, gen FROM seen ORDER BY id") == [
        (g, 2 * g) for g in range(1, 8)]
    assert remote_rows(source, wdb, "SELECT count(*) FROM {s}.items") == [(7,)]
