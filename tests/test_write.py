"""INSERT / UPDATE / DELETE through the bridge, with the in-memory FDWs of
tests/fdws/memory.py: RETURNING, generated keys, rowid changes, full rows for update(),
exact values of every supported type, batch inserts, row triggers, read-only and
insert-only classes, and Python exceptions in writes."""

from __future__ import annotations

import datetime
import decimal
import uuid

import pytest

from memtest import (assert_usable, error_of, execute, memory_table, rows_of,
                     setup_memory, typed)

D = decimal.Decimal
UTC = datetime.timezone.utc


@pytest.fixture
def hooks(db):
    return setup_memory(db)


def seed(db, table: str = "t", rows=((1, "a"), (2, "b"), (3, "c"))) -> None:
    with db.cursor() as cur:
        cur.executemany(f"INSERT INTO {table} VALUES (%s, %s)", rows)


# ---------------------------------------------------------------- INSERT

def test_insert_without_returning(db, hooks):
    memory_table(db, "t")
    with db.cursor() as cur:
        cur.execute("INSERT INTO t VALUES (1, 'one'), (2, 'two')")
        assert cur.rowcount == 2
    assert hooks.calls("t") == [
        "begin(False)", "insert", "insert", "end_modify", "pre_commit", "commit"]
    assert hooks.args("t", "insert") == [{"id": 1, "v": "one"}, {"id": 2, "v": "two"}]
    assert rows_of(db, "t") == [(1, "one"), (2, "two")]


def test_insert_returning(db, hooks):
    memory_table(db, "t")
    assert execute(db, "INSERT INTO t VALUES (1, 'one'), (2, NULL) RETURNING *") == [
        (1, "one"), (2, None)]
    assert execute(db, "INSERT INTO t (id, v) VALUES (3, 'x') RETURNING v, id * 10") == [
        ("x", 30)]


def test_insert_returning_generated_keys(db, hooks):
    memory_table(db, "t")
    assert execute(db, "INSERT INTO t (v) VALUES ('a'), ('b') RETURNING id, v") == [
        (1, "a"), (2, "b")]
    # insert() got the row with id NULL and filled it in
    assert hooks.args("t", "insert") == [{"id": None, "v": "a"}, {"id": None, "v": "b"}]
    execute(db, "INSERT INTO t VALUES (3, 'c')")
    assert execute(db, "INSERT INTO t (v) VALUES ('d') RETURNING *") == [(4, "d")]
    assert rows_of(db, "t") == [(1, "a"), (2, "b"), (3, "c"), (4, "d")]


def test_insert_returning_without_returned_row_gives_the_inserted_values(db, hooks):
    # insert() returning None: RETURNING shows the row as given.
    memory_table(db, "t", return_rows="false")
    assert execute(db, "INSERT INTO t VALUES (7, 'seven') RETURNING *") == [(7, "seven")]


def test_insert_default_and_missing_columns_are_null_or_default(db, hooks):
    memory_table(db, "t", columns="id int, v text DEFAULT 'dflt', w int")
    execute(db, "INSERT INTO t (id) VALUES (1)")
    assert hooks.args("t", "insert") == [{"id": 1, "v": "dflt", "w": None}]
    assert rows_of(db, "t") == [(1, "dflt", None)]


def test_insert_select_from_local_table(db, hooks):
    memory_table(db, "t")
    execute(db, "CREATE TABLE src AS SELECT g AS id, 'v' || g AS v FROM generate_series(1, 5) g")
    execute(db, "INSERT INTO t SELECT * FROM src")
    assert rows_of(db, "t") == execute(db, "SELECT * FROM src ORDER BY id")


def test_copy_into_a_foreign_table(db, hooks):
    import io

    memory_table(db, "t", batch_size=2)
    with db.cursor() as cur:
        cur.copy_expert("COPY t FROM STDIN", io.StringIO("1\tone\n2\t\\N\n3\tthree\n"))
    assert [c for c in hooks.calls("t") if "insert" in c]  # row by row or in batches
    assert rows_of(db, "t") == [(1, "one"), (2, None), (3, "three")]


# ---------------------------------------------------------------- UPDATE

def test_update_without_returning(db, hooks):
    memory_table(db, "t")
    seed(db)
    hooks.clear()
    with db.cursor() as cur:
        cur.execute("UPDATE t SET v = v || '!' WHERE id >= 2")
        assert cur.rowcount == 2
    assert hooks.calls("t") == [
        "begin(False)", "execute", "update", "update", "end_modify", "pre_commit", "commit"]
    assert hooks.args("t", "update") == [(2, {"id": 2, "v": "b!"}), (3, {"id": 3, "v": "c!"})]
    assert rows_of(db, "t") == [(1, "a"), (2, "b!"), (3, "c!")]


@pytest.mark.parametrize("return_rows", ["true", "false"])
def test_update_returning_gives_the_new_values(db, hooks, return_rows):
    memory_table(db, "t", return_rows=return_rows)
    seed(db)
    assert execute(db, "UPDATE t SET v = upper(v) WHERE id <> 2 RETURNING id, v") == [
        (1, "A"), (3, "C")]
    assert execute(db, "UPDATE t SET v = NULL WHERE id = 2 RETURNING *, v IS NULL") == [
        (2, None, True)]
    assert rows_of(db, "t") == [(1, "A"), (2, None), (3, "C")]


def test_update_gets_the_full_new_row(db, hooks):
    memory_table(db, "t", columns="id int, a text, b int, c date, d numeric")
    execute(db, "INSERT INTO t VALUES (1, 'x', 10, '2020-01-02', 1.50), (2, 'y', 20, NULL, 2)")
    hooks.clear()
    execute(db, "UPDATE t SET b = b + 1 WHERE id = 1")
    [(rowid, values)] = hooks.args("t", "update")
    assert rowid == 1
    assert typed(values) == typed({"id": 1, "a": "x", "b": 11,
                                   "c": datetime.date(2020, 1, 2), "d": D("1.50")})
    assert rows_of(db, "t") == [(1, "x", 11, datetime.date(2020, 1, 2), D("1.50")),
                                (2, "y", 20, None, D("2"))]


def test_update_set_columns_only_gets_the_set_columns(db, hooks):
    """The opt-in gets what the statement sets and the generated columns computed from
    it; with a local BEFORE ROW UPDATE trigger (it may change any column) every column."""
    memory_table(db, "t", columns="id int, a text, b int, "
                                  "c int GENERATED ALWAYS AS (b * 2) STORED, d text",
                 set_columns_only="true")
    execute(db, "INSERT INTO t (id, a, b, d) VALUES (1, 'x', 10, 'd'), (2, 'y', 20, 'e')")
    hooks.clear()
    execute(db, "UPDATE t SET b = b + 1, a = upper(a) WHERE id = 1")
    execute(db, "UPDATE t SET d = 'n' WHERE id = 2")
    assert hooks.args("t", "update") == [(1, {"a": "X", "b": 11, "c": 22}), (2, {"d": "n"})]
    execute(db, "CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS "
                "$$BEGIN NEW.a := 'trig'; RETURN NEW; END$$")
    execute(db, "CREATE TRIGGER stamp BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION stamp()")
    hooks.clear()
    execute(db, "UPDATE t SET d = 'm' WHERE id = 2")
    assert hooks.args("t", "update") == [(2, {"id": 2, "a": "trig", "b": 20, "c": 40,
                                              "d": "m"})]
    assert rows_of(db, "t") == [(1, "X", 11, 22, "d"), (2, "trig", 20, 40, "m")]


def test_update_changing_the_rowid(db, hooks):
    memory_table(db, "t")
    seed(db)
    hooks.clear()
    assert execute(db, "UPDATE t SET id = id + 100 WHERE id <= 2 RETURNING *") == [
        (101, "a"), (102, "b")]
    # update() gets the old rowid and the new row
    assert hooks.args("t", "update") == [(1, {"id": 101, "v": "a"}), (2, {"id": 102, "v": "b"})]
    assert rows_of(db, "t") == [(3, "c"), (101, "a"), (102, "b")]
    # the rows are found under their new ids
    assert execute(db, "UPDATE t SET v = 'z' WHERE id = 101 RETURNING *") == [(101, "z")]
    assert execute(db, "DELETE FROM t WHERE id = 102 RETURNING *") == [(102, "b")]
    assert rows_of(db, "t") == [(3, "c"), (101, "z")]


def test_update_with_a_join_to_a_local_table(db, hooks):
    memory_table(db, "t")
    seed(db)
    execute(db, "CREATE TABLE patch (id int, v text)")
    execute(db, "INSERT INTO patch VALUES (1, 'one'), (3, 'three'), (9, 'nine')")
    assert execute(db, "UPDATE t SET v = p.v FROM patch p WHERE p.id = t.id "
                       "RETURNING t.id, t.v") == [(1, "one"), (3, "three")]
    assert rows_of(db, "t") == [(1, "one"), (2, "b"), (3, "three")]


def test_rowid_option_names_another_column(db, hooks):
    memory_table(db, "t", columns="n int, code text, v text", rowid="code")
    execute(db, "INSERT INTO t VALUES (1, 'a', 'x'), (2, 'b', 'y')")
    hooks.clear()
    execute(db, "UPDATE t SET v = 'z', n = 5 WHERE code = 'b'")
    execute(db, "DELETE FROM t WHERE code = 'a'")
    assert hooks.args("t", "update") == [("b", {"n": 5, "code": "b", "v": "z"})]
    assert hooks.args("t", "delete") == [("a",)]
    assert rows_of(db, "t", order="code") == [(5, "b", "z")]


# ---------------------------------------------------------------- DELETE

def test_delete_without_returning(db, hooks):
    memory_table(db, "t")
    seed(db)
    hooks.clear()
    with db.cursor() as cur:
        cur.execute("DELETE FROM t WHERE v IN ('a', 'c')")
        assert cur.rowcount == 2
    assert hooks.calls("t") == [
        "begin(False)", "execute", "delete", "delete", "end_modify", "pre_commit", "commit"]
    assert hooks.args("t", "delete") == [(1,), (3,)]
    assert rows_of(db, "t") == [(2, "b")]


def test_delete_returning_gives_the_deleted_rows(db, hooks):
    memory_table(db, "t", columns="id int, v text, n numeric, d date")
    execute(db, "INSERT INTO t VALUES (1, 'a', 1.25, '2021-05-06'), (2, 'b', NULL, NULL), "
                "(3, 'c', 3, '1999-12-31')")
    assert execute(db, "DELETE FROM t WHERE id <> 2 RETURNING *") == [
        (1, "a", D("1.25"), datetime.date(2021, 5, 6)),
        (3, "c", D("3"), datetime.date(1999, 12, 31))]
    assert execute(db, "DELETE FROM t RETURNING v, n IS NULL, id") == [("b", True, 2)]
    assert rows_of(db, "t") == []


def test_delete_returning_only_some_columns(db, hooks):
    memory_table(db, "t")
    seed(db)
    assert execute(db, "DELETE FROM t WHERE id = 2 RETURNING v") == [("b",)]
    assert execute(db, "DELETE FROM t WHERE id = 3 RETURNING t") == [("(3,c)",)]


# ---------------------------------------------------------------- values of every type

TYPED_COLUMNS = ("id int, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, n numeric, "
                 "b bool, t text, by bytea, d date, ts timestamp, tstz timestamptz, "
                 "iv interval, ivm interval, u uuid, j jsonb, ia int[], ta text[], "
                 "ia2 int[]")

TYPED_ROWS = [
    ("(1, -32768, 2147483647, 9223372036854775807, 1.5, 0.1, "
     "'12345678901234567890.123456789012345678901234567890', true, "
     "'h\u00e9llo \U0001F30D \u2713 ''q'' \\ end', '\\x00ff10'::bytea, '2024-02-29', "
     "'2024-02-29 23:59:59.999999', '2024-03-10 01:30:00.123456-05', '1 day 02:03:04.5', "
     "'1 mon 2 days', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "
     "'{\"a\": [1, 2.5, \"x\"], \"b\": null, \"c\": true, \"d\": \"\u00e9\"}', "
     "'{1,2,NULL,3}', '{\"a\",\"\u00e9 b\",NULL,\"\"}', '{{1,2},{3,4}}')",
     {"id": 1, "i2": -32768, "i4": 2147483647, "i8": 9223372036854775807, "f4": 1.5,
      "f8": 0.1, "n": D("12345678901234567890.123456789012345678901234567890"), "b": True,
      "t": "h\u00e9llo \U0001F30D \u2713 'q' \\ end", "by": b"\x00\xff\x10",
      "d": datetime.date(2024, 2, 29),
      "ts": datetime.datetime(2024, 2, 29, 23, 59, 59, 999999),
      "tstz": datetime.datetime(2024, 3, 10, 6, 30, 0, 123456, tzinfo=UTC),
      "iv": datetime.timedelta(days=1, hours=2, minutes=3, seconds=4.5),
      "ivm": "1 mon 2 days", "u": uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
      "j": {"a": [1, D("2.5"), "x"], "b": None, "c": True, "d": "\u00e9"},
      "ia": [1, 2, None, 3], "ta": ["a", "\u00e9 b", None, ""], "ia2": [[1, 2], [3, 4]]}),
    ("(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
     "NULL, NULL, NULL, NULL, NULL, NULL)",
     {"id": 2, **{name: None for name in ("i2", "i4", "i8", "f4", "f8", "n", "b", "t", "by",
                                           "d", "ts", "tstz", "iv", "ivm", "u", "j", "ia",
                                           "ta", "ia2")}}),
    ("(3, 0, -1, -9223372036854775808, 'NaN', '-Infinity', '-1.500', false, '', "
     "''::bytea, '0001-01-01', '1970-01-01 00:00:00', '2000-01-01 00:00:00+00', "
     "'-00:00:00.000001', '-1 year', '00000000-0000-0000-0000-000000000000', '[]', '{}', "
     "'{}', '{}')",
     {"id": 3, "i2": 0, "i4": -1, "i8": -9223372036854775808, "f4": float("nan"),
      "f8": float("-inf"), "n": D("-1.500"), "b": False, "t": "", "by": b"",
      "d": datetime.date(1, 1, 1), "ts": datetime.datetime(1970, 1, 1),
      "tstz": datetime.datetime(2000, 1, 1, tzinfo=UTC),
      "iv": datetime.timedelta(microseconds=-1), "ivm": "-1 years",
      "u": uuid.UUID(int=0), "j": [], "ia": [], "ta": [], "ia2": []}),
]


def _same_rows(db, foreign: str, local: str) -> None:
    """Equal by SQL (=) and as the client reads them."""
    assert execute(db, f"SELECT count(*) FROM ((SELECT * FROM {foreign} EXCEPT ALL "
                       f"SELECT * FROM {local}) UNION ALL (SELECT * FROM {local} EXCEPT ALL "
                       f"SELECT * FROM {foreign})) diff") == [(0,)]
    assert typed(rows_of(db, foreign)) == typed(rows_of(db, local))


def test_insert_values_of_every_type(db, hooks):
    execute(db, "SET TimeZone = 'America/New_York'")
    memory_table(db, "typed", columns=TYPED_COLUMNS)
    execute(db, f"CREATE TABLE typed_local ({TYPED_COLUMNS})")
    for literal, _ in TYPED_ROWS:
        execute(db, f"INSERT INTO typed VALUES {literal}")
        execute(db, f"INSERT INTO typed_local VALUES {literal}")
    got = hooks.args("typed", "insert")
    assert len(got) == len(TYPED_ROWS)
    for values, (_, expected) in zip(got, TYPED_ROWS):
        assert typed(values) == typed(expected)
    _same_rows(db, "typed", "typed_local")


def test_insert_returning_values_of_every_type(db, hooks):
    execute(db, "SET TimeZone = 'Asia/Kolkata'")
    memory_table(db, "typed", columns=TYPED_COLUMNS)
    execute(db, f"CREATE TABLE typed_local ({TYPED_COLUMNS})")
    for literal, _ in TYPED_ROWS:
        got = execute(db, f"INSERT INTO typed VALUES {literal} RETURNING *")
        expected = execute(db, f"INSERT INTO typed_local VALUES {literal} RETURNING *")
        assert typed(got) == typed(expected)


def test_update_values_of_every_type(db, hooks):
    memory_table(db, "typed", columns=TYPED_COLUMNS)
    execute(db, f"CREATE TABLE typed_local ({TYPED_COLUMNS})")
    literal, expected = TYPED_ROWS[0]
    execute(db, f"INSERT INTO typed VALUES {literal}")
    execute(db, f"INSERT INTO typed_local VALUES {literal}")
    hooks.clear()
    change = ("SET n = n * 10, tstz = tstz + interval '1 hour', j = j || '{\"e\": 1.25}', "
              "ia = ia || 4, by = by || '\\x01'::bytea, b = NOT b")
    got = execute(db, f"UPDATE typed {change} WHERE id = 1 RETURNING *")
    assert typed(got) == typed(execute(db, f"UPDATE typed_local {change} WHERE id = 1 "
                                           "RETURNING *"))
    [(rowid, values)] = hooks.args("typed", "update")
    assert rowid == 1
    assert typed(values) == typed({
        **expected,
        "n": D("123456789012345678901.234567890123456789012345678900"),
        "tstz": datetime.datetime(2024, 3, 10, 7, 30, 0, 123456, tzinfo=UTC),
        "j": {"a": [1, D("2.5"), "x"], "b": None, "c": True, "d": "\u00e9", "e": D("1.25")},
        "ia": [1, 2, None, 3, 4], "by": b"\x00\xff\x10\x01", "b": False})
    _same_rows(db, "typed", "typed_local")


def test_delete_returning_values_of_every_type(db, hooks):
    memory_table(db, "typed", columns=TYPED_COLUMNS)
    execute(db, f"CREATE TABLE typed_local ({TYPED_COLUMNS})")
    for literal, _ in TYPED_ROWS:
        execute(db, f"INSERT INTO typed VALUES {literal}")
        execute(db, f"INSERT INTO typed_local VALUES {literal}")
    got = execute(db, "DELETE FROM typed RETURNING *")
    expected = execute(db, "DELETE FROM typed_local RETURNING *")
    assert typed(sorted(got, key=lambda r: r[0])) == typed(sorted(expected, key=lambda r: r[0]))
    assert rows_of(db, "typed") == []


# ---------------------------------------------------------------- batch insert

def test_batch_insert_calls_bulk_insert_per_batch_size(db, hooks):
    memory_table(db, "t", batch_size=3)
    with db.cursor() as cur:
        cur.execute("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 10) g")
        assert cur.rowcount == 10
    assert hooks.calls("t") == [
        "begin(False)", "bulk_insert(3)", "bulk_insert(3)", "bulk_insert(3)", "bulk_insert(1)",
        "end_modify", "pre_commit", "commit"]
    batches = hooks.args("t", "bulk_insert(3)") + hooks.args("t", "bulk_insert(1)")
    assert [row for batch in batches for row in batch] == [
        {"id": g, "v": f"v{g}"} for g in range(1, 11)]
    assert rows_of(db, "t") == [(g, f"v{g}") for g in range(1, 11)]


def test_batch_insert_of_an_exact_multiple(db, hooks):
    memory_table(db, "t", batch_size=4)
    execute(db, "INSERT INTO t SELECT g, NULL FROM generate_series(1, 8) g")
    assert hooks.calls("t") == [
        "begin(False)", "bulk_insert(4)", "bulk_insert(4)", "end_modify", "pre_commit",
        "commit"]


def test_batch_insert_with_generated_keys(db, hooks):
    memory_table(db, "t", batch_size=3)
    execute(db, "INSERT INTO t (v) SELECT 'v' || g FROM generate_series(1, 5) g")
    assert rows_of(db, "t") == [(g, f"v{g}") for g in range(1, 6)]


def test_insert_returning_is_not_batched(db, hooks):
    memory_table(db, "t", batch_size=3)
    assert execute(db, "INSERT INTO t (v) SELECT 'v' || g FROM generate_series(1, 4) g "
                       "RETURNING id, v") == [(g, f"v{g}") for g in range(1, 5)]
    assert hooks.calls("t") == ["begin(False)"] + ["insert"] * 4 + [
        "end_modify", "pre_commit", "commit"]


def test_single_row_insert_with_batch_size(db, hooks):
    memory_table(db, "t", batch_size=100)
    execute(db, "INSERT INTO t VALUES (1, 'x')")
    assert rows_of(db, "t") == [(1, "x")]
    assert [c for c in hooks.calls("t") if "insert" in c] in (["insert"], ["bulk_insert(1)"])


# ---------------------------------------------------------------- row triggers

AUDIT_SQL = """
CREATE TABLE audit (n serial, op text, old_id int, old_v text, new_id int, new_v text);
CREATE FUNCTION audit_fn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO audit (op, new_id, new_v) VALUES (TG_OP, NEW.id, NEW.v);
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO audit (op, old_id, old_v, new_id, new_v)
      VALUES (TG_OP, OLD.id, OLD.v, NEW.id, NEW.v);
  ELSE
    INSERT INTO audit (op, old_id, old_v) VALUES (TG_OP, OLD.id, OLD.v);
  END IF;
  RETURN NULL;
END $$;
"""


def audit(db) -> list[tuple]:
    return execute(db, "SELECT op, old_id, old_v, new_id, new_v FROM audit ORDER BY n")


def with_audit(db, table: str = "t", events: str = "INSERT OR UPDATE OR DELETE") -> None:
    execute(db, AUDIT_SQL)
    execute(db, f"CREATE TRIGGER audit AFTER {events} ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_fn()")


@pytest.mark.parametrize("batch_size", [1, 3])
def test_after_insert_trigger_sees_every_row(db, hooks, batch_size):
    memory_table(db, "t", batch_size=batch_size)
    with_audit(db)
    execute(db, "INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 7) g")
    assert audit(db) == [("INSERT", None, None, g, f"v{g}") for g in range(1, 8)]
    assert rows_of(db, "t") == [(g, f"v{g}") for g in range(1, 8)]


@pytest.mark.parametrize("batch_size", [1, 3])
def test_after_insert_trigger_sees_the_stored_row(db, hooks, batch_size):
    # The FDW fills in the keys: AFTER triggers see the row as stored (what insert()
    # or bulk_insert() returned), as RETURNING does.
    memory_table(db, "t", batch_size=batch_size)
    with_audit(db)
    execute(db, "INSERT INTO t (v) SELECT 'v' || g FROM generate_series(1, 5) g")
    assert rows_of(db, "t") == [(g, f"v{g}") for g in range(1, 6)]
    assert audit(db) == [("INSERT", None, None, g, f"v{g}") for g in range(1, 6)]


def test_after_update_and_delete_triggers_see_old_and_new(db, hooks):
    memory_table(db, "t")
    seed(db)
    with_audit(db, events="UPDATE OR DELETE")
    execute(db, "UPDATE t SET v = 'A' WHERE id = 1")
    execute(db, "UPDATE t SET id = 20 WHERE id = 2")
    execute(db, "DELETE FROM t WHERE id = 3")
    assert audit(db) == [("UPDATE", 1, "a", 1, "A"), ("UPDATE", 2, "b", 20, "b"),
                         ("DELETE", 3, "c", None, None)]
    assert rows_of(db, "t") == [(1, "A"), (20, "b")]


def test_after_delete_trigger_with_returning(db, hooks):
    memory_table(db, "t")
    seed(db)
    with_audit(db, events="DELETE")
    assert execute(db, "DELETE FROM t WHERE id >= 2 RETURNING *") == [(2, "b"), (3, "c")]
    assert audit(db) == [("DELETE", 2, "b", None, None), ("DELETE", 3, "c", None, None)]


def test_before_insert_trigger_changes_the_row(db, hooks):
    memory_table(db, "t")
    execute(db, """CREATE FUNCTION shout() RETURNS trigger LANGUAGE plpgsql AS $$
                   BEGIN NEW.v := upper(NEW.v); RETURN NEW; END $$""")
    execute(db, "CREATE TRIGGER shout BEFORE INSERT OR UPDATE ON t "
                "FOR EACH ROW EXECUTE FUNCTION shout()")
    execute(db, "INSERT INTO t VALUES (1, 'abc')")
    execute(db, "UPDATE t SET v = 'def'")
    assert hooks.args("t", "insert") == [{"id": 1, "v": "ABC"}]
    assert hooks.args("t", "update") == [(1, {"id": 1, "v": "DEF"})]
    assert rows_of(db, "t") == [(1, "DEF")]


# ---------------------------------------------------------------- read-only / insert-only

def test_read_only_class_is_reported_not_updatable(db, hooks):
    memory_table(db, "ro", server="mem_ro")
    memory_table(db, "ins", server="mem_ins")
    memory_table(db, "rw")
    tables = dict(execute(db, "SELECT table_name, is_insertable_into "
                              "FROM information_schema.tables "
                              "WHERE table_name IN ('ro', 'ins', 'rw')"))
    assert tables == {"ro": "NO", "ins": "YES", "rw": "YES"}
    columns = execute(db, "SELECT table_name, column_name, is_updatable "
                          "FROM information_schema.columns "
                          "WHERE table_name IN ('ro', 'ins', 'rw') ORDER BY 1, 2")
    assert columns == [("ins", "id", "NO"), ("ins", "v", "NO"), ("ro", "id", "NO"),
                       ("ro", "v", "NO"), ("rw", "id", "YES"), ("rw", "v", "YES")]


def test_read_only_class_refuses_writes_before_any_row(db, hooks):
    memory_table(db, "ro", server="mem_ro", store="shared")
    memory_table(db, "rw", store="shared")
    seed(db, "rw")
    assert rows_of(db, "ro") == [(1, "a"), (2, "b"), (3, "c")]
    hooks.clear()
    for statement, verb in [("INSERT INTO ro VALUES (9, 'x')", "insert"),
                            ("INSERT INTO ro SELECT g, 'x' FROM generate_series(1, 3) g", "insert"),
                            ("UPDATE ro SET v = 'x'", "update"),
                            ("DELETE FROM ro", "delete"),
                            ("DELETE FROM ro WHERE id = 1 RETURNING *", "delete")]:
        error = error_of(db, statement)
        # 0A000 from the bridge (no rowid_column), 55000 from core (not insertable)
        assert error.pgcode in ("0A000", "55000"), (statement, error.pgcode, error.pgerror)
        message = error.diag.message_primary + " " + (error.diag.message_detail or "")
        assert '"ro"' in message, (statement, message)
        assert verb in message.lower() or verb.upper() in message, (statement, message)
        assert_usable(db)
    # the check came before the FDW was asked anything about the writes
    assert hooks.calls("shared") == []
    assert rows_of(db, "rw") == [(1, "a"), (2, "b"), (3, "c")]


def test_insert_only_class(db, hooks):
    memory_table(db, "ins", server="mem_ins")
    execute(db, "INSERT INTO ins VALUES (1, 'a'), (2, 'b')")
    assert execute(db, "INSERT INTO ins VALUES (3, 'c') RETURNING *") == [(3, "c")]
    assert rows_of(db, "ins") == [(1, "a"), (2, "b"), (3, "c")]
    hooks.clear()
    for statement in ["UPDATE ins SET v = 'x'", "DELETE FROM ins WHERE id = 1",
                      "DELETE FROM ins RETURNING *"]:
        error = error_of(db, statement)
        assert error.pgcode == "0A000", (statement, error.pgcode, error.pgerror)
        message = error.diag.message_primary + " " + (error.diag.message_detail or "")
        assert "rowid" in message, (statement, message)
        assert '"ins"' in message, (statement, message)
        assert_usable(db)
    assert hooks.calls("ins") == []
    assert rows_of(db, "ins") == [(1, "a"), (2, "b"), (3, "c")]


def test_bad_rowid_option_is_a_clear_error(db, hooks):
    memory_table(db, "t", rowid="nope")
    seed(db)
    hooks.clear()
    error = error_of(db, "UPDATE t SET v = 'x'")
    assert error.pgcode == "HV005", error.pgerror  # fdw_column_name_not_found
    assert "nope" in error.diag.message_primary
    assert_usable(db)
    assert hooks.calls("t") == []


# ---------------------------------------------------------------- Python exceptions

def test_python_exception_in_insert(db, hooks):
    memory_table(db, "t", fail_value="boom")
    error = error_of(db, "INSERT INTO t VALUES (1, 'ok'), (2, 'boom'), (3, 'never')")
    assert error.pgcode == "HV000", error.pgerror
    assert "refuses v = 'boom'" in error.diag.message_primary
    assert hooks.calls("t") == ["begin(False)", "insert", "insert", "rollback"]
    assert_usable(db)
    # the statement's first row was rolled back with it
    assert rows_of(db, "t") == []


def test_python_exception_with_sqlstate_in_insert(db, hooks):
    memory_table(db, "t", fail_value="boom", fail_sqlstate="22023")
    error = error_of(db, "INSERT INTO t VALUES (1, 'boom')")
    assert error.pgcode == "22023", error.pgerror
    assert_usable(db)
    # a duplicate key is the FDW's 23505
    execute(db, "INSERT INTO t VALUES (1, 'x')")
    error = error_of(db, "INSERT INTO t VALUES (1, 'y')")
    assert error.pgcode == "23505", error.pgerror
    assert_usable(db)
    assert rows_of(db, "t") == [(1, "x")]


def test_python_exception_in_insert_inside_a_transaction(db, hooks):
    memory_table(db, "t", fail_value="boom")
    seed(db)
    hooks.clear()
    execute(db, "BEGIN")
    execute(db, "INSERT INTO t VALUES (10, 'fine')")
    execute(db, "UPDATE t SET v = 'changed' WHERE id = 1")
    assert rows_of(db, "t") == [(1, "changed"), (2, "b"), (3, "c"), (10, "fine")]
    error = error_of(db, "INSERT INTO t VALUES (11, 'boom')")
    assert error.pgcode == "HV000"
    error = error_of(db, "SELECT 1")
    assert error.pgcode == "25P02"  # in_failed_sql_transaction
    execute(db, "ROLLBACK")
    assert_usable(db)
    assert rows_of(db, "t") == [(1, "a"), (2, "b"), (3, "c")]
    assert hooks.calls("t", scans=False) == [
        "begin(False)", "insert", "end_modify", "update", "end_modify", "insert", "rollback",
        "begin(False)", "pre_commit", "commit"]


def test_python_exception_in_batch_insert(db, hooks):
    memory_table(db, "t", fail_value="v5", batch_size=2)
    error = error_of(db, "INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 6) g")
    assert error.pgcode == "HV000"
    assert hooks.calls("t") == [
        "begin(False)", "bulk_insert(2)", "bulk_insert(2)", "bulk_insert(2)", "rollback"]
    assert_usable(db)
    assert rows_of(db, "t") == []


def test_python_exception_in_update(db, hooks):
    memory_table(db, "t", fail_value="boom")
    seed(db)
    error = error_of(db, "UPDATE t SET v = CASE WHEN id = 3 THEN 'boom' ELSE 'x' END")
    assert error.pgcode == "HV000"
    assert_usable(db)
    assert rows_of(db, "t") == [(1, "a"), (2, "b"), (3, "c")]


def test_delete_returning_a_dict_without_returning_clause(db):
    execute(db, "CREATE SERVER del FOREIGN DATA WRAPPER sgfdw "
                "OPTIONS (wrapper 'deleting.DeletingFdw')")
    execute(db, "CREATE FOREIGN TABLE del_t (id int, v text) SERVER del")
    with db.cursor() as cur:
        cur.execute("DELETE FROM del_t")
        assert cur.rowcount == 2
    assert execute(db, "DELETE FROM del_t WHERE id = 2 RETURNING id, v") == [(2, "gone")]
    assert_usable(db)
