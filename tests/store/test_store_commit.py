"""Commit with change tracking, checkout of every image afterwards, diff, uncommitted
changes and concurrent commits. Random histories are checked against copies of the
tables saved at each step."""
from __future__ import annotations

import collections
import random
import threading

import psycopg2
import pytest

from store_helpers import assert_same_rows, rows_of
from fdwtest import error_of, execute

REPO = "t/hist"
SCHEMA = '"t/hist"'


def tables_of(db) -> list[str]:
    return [row[0] for row in execute(db, "SELECT tablename FROM pg_tables "
                                          "WHERE schemaname = %s ORDER BY 1", ("t/hist",))]


def save(db, step: int) -> dict[str, str]:
    """Copies of the checked-out tables; table -> name of its copy."""
    copies = {}
    for table in tables_of(db):
        copy = f"saved_{step}_{table}"
        execute(db, f'CREATE TABLE {copy} AS SELECT * FROM {SCHEMA}."{table}"')
        copies[table] = copy
    return copies


def random_step(db, rng: random.Random, step: int) -> None:
    """A few random changes of the working copy."""
    tables = tables_of(db)
    for _ in range(rng.randint(1, 4)):
        table = f'{SCHEMA}."{rng.choice(tables)}"'
        keyed = execute(db, "SELECT count(*) FROM pg_constraint WHERE conrelid = %s::regclass "
                            "AND contype = 'p'", (table,))[0][0]
        action = rng.choice(["insert", "update", "delete", "key", "alter"] if keyed
                            else ["insert", "update", "delete"])
        base = rng.randint(0, 200)
        if action == "insert":
            execute(db, f"INSERT INTO {table} (id, v, n) SELECT g, md5(g::text), g / 7.0 "
                        f"FROM generate_series(%s, %s) g ON CONFLICT DO NOTHING"
                        if keyed else
                        f"INSERT INTO {table} (id, v, n) SELECT g, md5(g::text), g / 7.0 "
                        f"FROM generate_series(%s, %s) g", (base, base + rng.randint(0, 30)))
        elif action == "update":
            execute(db, f"UPDATE {table} SET v = v || %s, n = n * 2 WHERE id %% 5 = %s",
                    (f"u{step}", base % 5))
        elif action == "delete":
            execute(db, f"DELETE FROM {table} WHERE id BETWEEN %s AND %s", (base, base + 10))
        elif action == "key":
            execute(db, f"UPDATE {table} SET id = id + 1000 WHERE id BETWEEN %s AND %s",
                    (base, base + 3))
        elif action == "alter":
            execute(db, f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS c{step} text "
                        f"DEFAULT 'd{step}'")
    if rng.random() < 0.2:
        execute(db, f'CREATE TABLE {SCHEMA}."new{step}" (id int PRIMARY KEY, v text, n numeric)')
        execute(db, f'INSERT INTO {SCHEMA}."new{step}" VALUES (1, \'a\', 1.5), (2, NULL, NULL)')
    if rng.random() < 0.1 and len(tables) > 1:
        execute(db, f'DROP TABLE {SCHEMA}."{rng.choice(tables)}"')


@pytest.mark.parametrize("seed, fragment_rows", [(1, None), (2, None), (3, None), (4, 7),
                                                 (5, 16)])
def test_random_history_every_image_checks_out_as_saved(db, seed, fragment_rows):
    rng = random.Random(seed)
    if fragment_rows:  # many fragments per table: key ranges, patches over several
        execute(db, "SET sgfdw.fragment_rows = %s", (fragment_rows,))
    execute(db, "SELECT sgfdw.init(%s)", (REPO,))
    execute(db, f"CREATE TABLE {SCHEMA}.keyed (id int PRIMARY KEY, v text, n numeric)")
    execute(db, f"CREATE TABLE {SCHEMA}.heap (id int, v text, n numeric)")
    execute(db, f"INSERT INTO {SCHEMA}.keyed SELECT g, md5(g::text), g / 3.0 "
                "FROM generate_series(1, 100) g")
    execute(db, f"INSERT INTO {SCHEMA}.heap SELECT g % 10, 'x', 1 FROM generate_series(1, 30) g")
    history = []
    for step in range(12):
        if step:
            random_step(db, rng, step)
        image = execute(db, "SELECT sgfdw.commit(%s, %s)", (REPO, f"step {step}"))[0][0]
        history.append((image, save(db, step)))
    for image, copies in rng.sample(history, len(history)):
        assert execute(db, "SELECT sgfdw.checkout(%s, %s)", (REPO, image)) == [(image,)]
        assert tables_of(db) == sorted(copies)
        for table, copy in copies.items():
            assert_same_rows(db, copy, f'{SCHEMA}."{table}"')
    # Diff between consecutive images, as the saved copies differ.
    for (image_a, copies_a), (image_b, copies_b) in zip(history, history[1:]):
        for table in sorted(set(copies_a) | set(copies_b)):
            got = collections.Counter(
                (op, text) for op, text in execute(
                    db, "SELECT op, \"row\"::text FROM sgfdw.diff(%s, %s, %s, %s)",
                    (REPO, table, image_a, image_b)))
            old = rows_as_json(db, copies_a.get(table))
            new = rows_as_json(db, copies_b.get(table))
            expected = collections.Counter(
                {("-", row): n for row, n in (old - new).items()})
            expected.update({("+", row): n for row, n in (new - old).items()})
            assert got == expected, (table, image_a, image_b)


def rows_as_json(db, table: str | None) -> collections.Counter:
    if table is None:
        return collections.Counter()
    return collections.Counter(
        row[0] for row in execute(db, f"SELECT to_jsonb(x)::text FROM {table} x"))


@pytest.fixture
def big(db):
    execute(db, "CREATE TABLE src (id int PRIMARY KEY, v text, f float8)")
    execute(db, "INSERT INTO src SELECT g, md5(g::text), g FROM generate_series(1, 5000) g")
    execute(db, "SELECT sgfdw.init(%s)", (REPO,))
    execute(db, "SELECT sgfdw.import_table(%s, 'src', 'src')", (REPO,))
    return db


def objects_of_head(db, table: str = "src") -> list[str]:
    return execute(db, "SELECT object_ids FROM splitgraph_meta.tables t JOIN "
                       "sgfdw.repositories r ON r.head = t.image_hash WHERE t.table_name = %s",
                   (table,))[0][0]


def test_changed_rows_become_one_small_patch(big):
    before = objects_of_head(big)
    execute(big, f"UPDATE {SCHEMA}.src SET v = 'changed' WHERE id IN (10, 20)")
    execute(big, f"DELETE FROM {SCHEMA}.src WHERE id = 30")
    execute(big, f"INSERT INTO {SCHEMA}.src VALUES (9999, 'new', NULL)")
    execute(big, f"UPDATE {SCHEMA}.src SET id = 10000 WHERE id = 40")
    execute(big, "SELECT sgfdw.commit(%s, 'patch')", (REPO,))
    after = objects_of_head(big)
    assert after[:-1] == before and len(after) == len(before) + 1
    assert execute(big, "SELECT rows, index->'deletes' FROM splitgraph_meta.objects "
                        "WHERE object_id = %s", (after[-1],)) == [(6, 2)]
    expected = rows_of(big, f"{SCHEMA}.src")
    execute(big, "SELECT sgfdw.checkout(%s, '00000000')", (REPO,))
    execute(big, "SELECT sgfdw.checkout(%s)", (REPO,))
    assert rows_of(big, f"{SCHEMA}.src") == expected


def test_commit_without_changes_says_so_and_returns_head(big):
    head = execute(big, "SELECT head FROM sgfdw.repositories")[0][0]
    big.notices.clear()
    assert execute(big, "SELECT sgfdw.commit(%s)", (REPO,)) == [(head,)]
    assert any("no changes" in notice for notice in big.notices)
    execute(big, f"UPDATE {SCHEMA}.src SET v = v WHERE id = 1")  # same values
    assert execute(big, "SELECT sgfdw.commit(%s)", (REPO,)) == [(head,)]
    assert execute(big, "SELECT count(*) FROM sgfdw.log(%s)", (REPO,)) == [(2,)]


def test_snapshot_truncate_and_tables_without_key_store_the_whole_table(big):
    before = objects_of_head(big)
    execute(big, f"UPDATE {SCHEMA}.src SET v = 's' WHERE id = 1")
    execute(big, "SELECT sgfdw.commit(%s, snapshot => true)", (REPO,))
    assert len(objects_of_head(big)) == 1 and objects_of_head(big) != before
    execute(big, f"TRUNCATE {SCHEMA}.src")
    execute(big, f"INSERT INTO {SCHEMA}.src VALUES (1, 'only', 1)")
    execute(big, "SELECT sgfdw.commit(%s)", (REPO,))
    assert execute(big, "SELECT rows FROM splitgraph_meta.objects WHERE object_id = %s",
                   (objects_of_head(big)[0],)) == [(1,)]
    assert len(objects_of_head(big)) == 1


def test_checkout_refuses_uncommitted_changes_unless_forced(big):
    image = execute(big, "SELECT head FROM sgfdw.repositories")[0][0]
    for change, undo in [
            (f"UPDATE {SCHEMA}.src SET v = 'x' WHERE id = 1", None),
            (f"CREATE TABLE {SCHEMA}.extra (a int)", f"DROP TABLE {SCHEMA}.extra"),
            (f"ALTER TABLE {SCHEMA}.src ADD COLUMN z int", None),
            (f"DROP TABLE {SCHEMA}.src", None)]:
        execute(big, change)
        error = error_of(big, "SELECT sgfdw.checkout(%s, '00000000')", (REPO,))
        assert error.pgcode == "55000" and "force" in error.diag.message_hint
        assert error.diag.message_detail
        if undo:
            execute(big, undo)
        assert execute(big, "SELECT sgfdw.checkout(%s, %s, force => true)", (REPO, image)) == [
            (image,)]
        assert_same_rows(big, "src", f"{SCHEMA}.src")


def test_diff_against_the_working_copy(big):
    execute(big, f"UPDATE {SCHEMA}.src SET v = 'new' WHERE id = 7")
    execute(big, f"DELETE FROM {SCHEMA}.src WHERE id = 8")
    rows = execute(big, "SELECT op, \"row\" FROM sgfdw.diff(%s, 'src', 'HEAD') ORDER BY op, "
                        "\"row\"->>'id'", (REPO,))
    assert [(op, row["id"], row["v"]) for op, row in rows] == [
        ("+", 7, "new"), ("-", 7, execute(big, "SELECT md5('7')")[0][0]),
        ("-", 8, execute(big, "SELECT md5('8')")[0][0])]
    assert error_of(big, "SELECT * FROM sgfdw.diff(%s, 'nope', 'HEAD')", (REPO,)).pgcode == "42704"


def test_diff_of_a_table_with_a_column_named_like_the_row(db):
    execute(db, "CREATE TABLE named (id int PRIMARY KEY, x text, j int, r text)")
    execute(db, "INSERT INTO named VALUES (1, 'one', 1, 'a'), (2, 'two', 2, 'b')")
    execute(db, "SELECT sgfdw.init('t/named')")
    execute(db, "SELECT sgfdw.import_table('t/named', 'named', 'named')")
    execute(db, "UPDATE \"t/named\".named SET x = 'TWO' WHERE id = 2")
    assert execute(db, "SELECT op, \"row\"::text FROM sgfdw.diff('t/named', 'named', 'HEAD') "
                       "ORDER BY op") == [
        ("+", '{"j": 2, "r": "b", "x": "TWO", "id": 2}'),
        ("-", '{"j": 2, "r": "b", "x": "two", "id": 2}')]


def test_concurrent_commits_one_wins_the_other_gets_40001(big, pg):
    dbname = big.get_dsn_parameters()["dbname"]
    first = pg.connect(dbname, autocommit=False)
    second = pg.connect(dbname, autocommit=False)
    try:
        execute(first, f"UPDATE {SCHEMA}.src SET v = 'first' WHERE id = 1")
        execute(first, "SELECT sgfdw.commit(%s, 'first')", (REPO,))
        outcome = {}

        def commit_second():
            try:
                execute(second, f"UPDATE {SCHEMA}.src SET v = 'second' WHERE id = 2")
                outcome["image"] = execute(second, "SELECT sgfdw.commit(%s, 'second')", (REPO,))
            except psycopg2.Error as exc:
                outcome["error"] = exc
                second.rollback()

        thread = threading.Thread(target=commit_second)
        thread.start()
        thread.join(2)
        assert thread.is_alive()  # waiting for the first commit
        first.commit()
        thread.join(30)
        assert outcome["error"].pgcode == "40001", outcome
    finally:
        first.close()
        second.close()
    log = execute(big, "SELECT comment FROM sgfdw.log(%s)", (REPO,))
    assert [row[0] for row in log] == ["first", None, "empty image"]
    assert execute(big, f"SELECT v FROM {SCHEMA}.src WHERE id IN (1, 2) ORDER BY id") == [
        ("first",), (execute(big, "SELECT md5('2')")[0][0],)]
