"""The batch lane at its limits: values near PostgreSQL's 1 GB, sizes no value can have,
and a cancel while a Python stream produces its next batch (docs/bridge-contract.md,
"Arrow batches"). Each ends in a result or a clean ERROR, the session usable."""

from __future__ import annotations

from test_arrow import arrow_table, no_crash  # noqa: F401 (the autouse fixture)
from test_cancel import UPPER_BOUND, cancel_when_running

from fdwtest import assert_usable, error_of, execute

SIZE = 300_000_000


def test_a_300_mb_string_goes_through(db):
    items = f"[pa.record_batch({{'v': pa.array(['ab' * ({SIZE} // 2)], pa.large_utf8())}})]"
    table = arrow_table(db, "v text", items)
    assert execute(db, f"SELECT length(v), left(v, 3), right(v, 3) FROM {table}") == [
        (SIZE, "aba", "bab")]
    binary = arrow_table(db, "v bytea", items.replace("large_utf8", "large_binary")
                         .replace("'ab'", "b'ab'"))
    assert execute(db, f"SELECT length(v) FROM {binary}") == [(SIZE,)]
    assert_usable(db)


def test_a_value_over_1_gb_is_refused_before_it_is_read(db):
    for arrow_type, pg_type in (("pa.large_utf8()", "text"), ("pa.large_binary()", "bytea")):
        items = f"[claimed_size(pa.record_batch({{'v': pa.array(['x'], {arrow_type})}}), 2**31)]"
        table = arrow_table(db, f"v {pg_type}", items)
        error = error_of(db, f"SELECT v FROM {table}")
        assert error.pgcode == "54000", error.pgerror
        assert "limited to 1 GB" in error.pgerror
        assert_usable(db)
    # inside a json value as well
    items = ("[claimed_size(pa.record_batch({'v': pa.array([{'s': 'x'}], "
             "pa.struct([('s', pa.large_utf8())]))}), 2**31, depth=1)]")
    error = error_of(db, f"SELECT v FROM {arrow_table(db, 'v jsonb', items)}")
    assert error.pgcode == "54000", error.pgerror
    assert_usable(db)


def test_cancel_while_a_python_stream_makes_its_next_batch(pg, db):
    """The stream's get_next runs a Python generator that sleeps after its first batch:
    the cancel reaches it as KeyboardInterrupt inside pyarrow's reader, and the scan ends
    in 57014 (not the stream's error), the session usable for the next batch scan."""
    slow = ("[pa.RecordBatchReader.from_batches(pa.schema([('a', pa.int64())]), "
            "(b for b in [pa.record_batch({'a': [1, 2]}), None] "
            f"if b is not None or __import__('time').sleep({UPPER_BOUND * 3})))]")
    table = arrow_table(db, "a int", slow)
    fast = arrow_table(db, "a int", "[pa.record_batch({'a': [1, 2]})]")
    assert execute(db, f"SELECT count(*) FROM {fast}") == [(2,)]
    pid = execute(db, "SELECT pg_backend_pid()")[0][0]
    thread = cancel_when_running(pg, db.info.dbname, pid)
    error = error_of(db, f"SELECT * FROM {table}")
    thread.join(UPPER_BOUND)
    assert error.pgcode == "57014", error.pgerror
    assert "canceling statement due to user request" in error.pgerror
    assert_usable(db)
    for _ in range(3):
        assert execute(db, f"SELECT count(*) FROM {fast}") == [(2,)]
