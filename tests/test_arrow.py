"""Arrow record batches yielded by execute() (docs/bridge-contract.md, "Arrow batches").

The FDW (tests/fdws/arrowfdw.py) evaluates one Python expression for its items; the same
expression is scanned twice: as Arrow batches, and turned into Python rows with
to_pylist() (the row path). Both must give the same values, by text output. Where the
row path cannot take a value (nanoseconds, uuid bytes) the result is compared with
PostgreSQL's own input of the same text.

Bad input (lying structures, consumed or misnamed capsules, failing streams, types a
column cannot take) must end in a clean ERROR with a fitting SQLSTATE and a usable
session; an autouse fixture checks the server log for a crashed backend.
"""

from __future__ import annotations

import itertools

import pytest
from psycopg2 import sql

from fdwtest import assert_usable, error_of, execute

ARROW = "arrowfdw.ArrowFdw"
_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def no_crash(pg, db):
    """No backend may die during the test (as in test_bridge_hardening.py)."""
    start = pg.logfile.stat().st_size
    if not execute(db, "SELECT 1 FROM pg_foreign_server WHERE srvname = 'arrow'"):
        execute(db, "CREATE SERVER arrow FOREIGN DATA WRAPPER sgfdw "
                    f"OPTIONS (wrapper '{ARROW}')")
    yield
    with open(pg.logfile, errors="replace") as log:
        log.seek(start)
        written = log.read()
    assert "terminated by signal" not in written, written[-3000:]


def arrow_table(db, columns: str, items: str, mode: str = "arrow") -> str:
    """A new foreign table of ArrowFdw with the given columns and items expression."""
    name = f"a{next(_numbers)}"
    execute(db, sql.SQL("CREATE FOREIGN TABLE {} (" + columns + ") SERVER arrow "
                        "OPTIONS (items {}, mode {})").format(
        sql.Identifier(name), sql.Literal(items), sql.Literal(mode)))
    return name


def both(db, columns: str, items: str, select: str = "*") -> tuple[list, list]:
    """The rows of the items as batches and as Python rows, each as text, in order."""
    results = []
    for mode in ("arrow", "rows"):
        table = arrow_table(db, columns, items, mode)
        results.append(execute(db, f"SELECT {select} FROM {table}"))
    return results[0], results[1]


def assert_same(db, columns: str, items: str, select: str = "*") -> list:
    got, expected = both(db, columns, items, select)
    assert got == expected
    return got


def assert_same_also_sliced(db, columns: str, items: str) -> list:
    """assert_same of id, v::text for the items and (the batch's offset honoured) for
    them sliced by one row."""
    rows = assert_same(db, columns, items, "id, v::text")
    assert len(rows) >= 2
    sliced = items.replace(")})]", ")}).slice(1)]")
    assert assert_same(db, columns, sliced, "id, v::text") == rows[1:]
    return rows


def batch(arrow_type: str, values: str) -> str:
    """Expression: a list of one record batch (id int32, v of the type), ids 0.."""
    return (f"[pa.record_batch({{'id': pa.array(range(len({values})), pa.int32()), "
            f"'v': pa.array({values}, {arrow_type})}})]")


def cases():
    ints = "[0, 1, -1, 127, -128, None]"
    uints = "[0, 1, 255, None]"
    for arrow_type, values in [("pa.int8()", ints), ("pa.int16()", "[32767, -32768, None, 5]"),
                               ("pa.int32()", "[2**31 - 1, -2**31, None, 7]"),
                               ("pa.int64()", "[2**62, -2**63, None, 9]"),
                               ("pa.uint8()", uints), ("pa.uint16()", "[65535, None, 3]"),
                               ("pa.uint32()", "[2**32 - 1, None, 0]"),
                               ("pa.uint64()", "[2**63 - 1, None, 1]")]:
        for pg_type in ("int8", "numeric", "float8", "numeric(30, 2)"):
            yield arrow_type, values, pg_type
    yield "pa.int8()", ints, "int2"
    yield "pa.int16()", "[32767, -32768, None, 5]", "int2"
    yield "pa.int32()", "[2**31 - 1, -2**31, None, 7]", "int4"
    yield "pa.int8()", ints, "float4"
    floats = "[0.0, 1.5, -2.25, 1e300, 1e-300, 0.1, float('inf'), float('-inf'), None]"
    for pg_type in ("float8", "numeric"):
        yield "pa.float64()", floats, pg_type
    yield "pa.float64()", "[0.0, 1.5, 0.1, 3.4e38, None]", "float4"
    for pg_type in ("float4", "float8", "numeric"):
        yield "pa.float32()", "[0.0, 1.5, 0.1, -3.25, float('inf'), None]", pg_type
    yield ("pa.float64()", "[float('nan'), None]", "float8")
    decimals = "[Decimal('1.50'), Decimal('-0.01'), Decimal('12345678.99'), Decimal('0'), None]"
    for pg_type in ("numeric", "numeric(12, 3)", "numeric(10, 1)"):
        yield "pa.decimal128(10, 2)", decimals, pg_type
    yield ("pa.decimal128(38, 0)", "[Decimal(10**38 - 1), Decimal(-10**38 + 1), None]",
           "numeric")
    yield ("pa.decimal128(38, 38)", "[Decimal('0.' + '9' * 38), Decimal('-1e-38'), None]",
           "numeric")
    yield ("pa.decimal256(76, 20)", "[Decimal('-' + '9' * 56 + '.' + '1' * 20), None]",
           "numeric")
    yield "pa.decimal128(5, -3)", "[Decimal('12345E3'), None]", "numeric"
    yield "pa.bool_()", "[True, False, None, True]", "bool"
    texts = "['', 'a', 'héllo wörld', '日本語 \\U0001F600', None, 'x' * 1000]"
    for arrow_type in ("pa.utf8()", "pa.large_utf8()", "pa.string_view()"):
        for pg_type in ("text", "varchar", "varchar(2000)", "bpchar(1000)", "name"):
            yield arrow_type, texts, pg_type
    yield "pa.utf8()", "['42', '-7', None]", "int4"
    yield "pa.utf8()", "['2024-02-29', None]", "date"
    yield "pa.utf8()", "['{\"a\": [1, 2]}', 'null', None]", "jsonb"
    yield "pa.utf8()", "['{\"a\": [1, 2]}', None]", "json"
    binaries = "[b'', b'\\x00\\xff', bytes(range(256)), None]"
    for arrow_type in ("pa.binary()", "pa.large_binary()", "pa.binary_view()"):
        yield arrow_type, binaries, "bytea"
    yield "pa.binary(3)", "[b'abc', b'\\x00\\x00\\x00', None]", "bytea"
    dates = "[datetime.date(2024, 2, 29), datetime.date(1, 1, 1), datetime.date(9999, 12, 31), " \
            "datetime.date(1969, 12, 31), None]"
    for arrow_type in ("pa.date32()", "pa.date64()"):
        for pg_type in ("date", "timestamp"):
            yield arrow_type, dates, pg_type
    times = "[datetime.time(0, 0), datetime.time(23, 59, 59), datetime.time(12, 30, 1), None]"
    yield "pa.time32('s')", times, "time"
    yield "pa.time32('ms')", "[datetime.time(1, 2, 3, 456000), None]", "time"
    yield ("pa.time64('us')",
           "[datetime.time(1, 2, 3, 456789), datetime.time(23, 59, 59, 999999), None]", "time")
    stamps = ("[datetime.datetime(2024, 2, 29, 12, 30, 1, 123456), datetime.datetime(1, 1, 1), "
              "datetime.datetime(9999, 12, 31, 23, 59, 59, 999999), "
              "datetime.datetime(1969, 12, 31, 23, 59, 59, 999999), None]")
    for unit in ("us", "ms", "s"):
        # ms/s values are truncated by pyarrow on the way in: both paths see the same
        for pg_type in ("timestamp", "timestamptz"):
            yield f"pa.timestamp('{unit}')", stamps, pg_type
        for zone in ("UTC", "America/New_York", "-03:00"):
            aware = stamps.replace("999999)", "999999, tzinfo=datetime.timezone.utc)") \
                .replace("123456)", "123456, tzinfo=datetime.timezone.utc)") \
                .replace("(1, 1, 1)", "(1, 1, 2, tzinfo=datetime.timezone.utc)")
            yield f"pa.timestamp('{unit}', tz='{zone}')", aware, "timestamptz"
    durations = ("[datetime.timedelta(0), datetime.timedelta(days=2, seconds=5, microseconds=7), "
                 "datetime.timedelta(days=-1, seconds=3), datetime.timedelta(microseconds=-1), "
                 "datetime.timedelta(days=40000), None]")
    for unit in ("us", "ms", "s"):
        yield f"pa.duration('{unit}')", durations, "interval"
    lists = "[[1, 2, None], [], None, [-5]]"
    for arrow_type in ("pa.list_(pa.int64())", "pa.large_list(pa.int64())"):
        for pg_type in ("int8[]", "int4[]", "numeric[]", "float8[]"):
            yield arrow_type, lists, pg_type
    yield "pa.list_(pa.int32(), 2)", "[[1, 2], [None, 4], None]", "int4[]"
    yield "pa.list_(pa.utf8())", "[['a', None, 'héllo'], [], None]", "text[]"
    yield "pa.list_(pa.utf8())", "[['abc', None], []]", "varchar(3)[]"
    yield "pa.list_(pa.timestamp('us'))", "[[datetime.datetime(2024, 1, 1, 1, 2, 3)], None]", \
        "timestamp[]"
    yield "pa.null()", "[None, None]", "int4"
    yield "pa.null()", "[None, None]", "text"


@pytest.mark.parametrize("arrow_type, values, pg_type", list(cases()),
                         ids=lambda value: str(value)[:30])
def test_each_type_as_the_row_path_gives_it(db, arrow_type, values, pg_type):
    execute(db, "SET TIME ZONE 'Europe/Berlin'")
    assert_same_also_sliced(db, f"id int4, v {pg_type}", batch(arrow_type, values))


def test_dictionary_encoded_strings(db):
    items = ("[pa.record_batch({'v': pa.array(['b', 'a', None, 'b', 'c'] * 3).dictionary_encode()"
             "}).slice(2)]")
    rows = assert_same(db, "v text", items)
    assert rows == [(v,) for v in [None, "b", "c"] + ["b", "a", None, "b", "c"] * 2]
    # nulls in the dictionary itself, and unsigned indexes
    items = ("[pa.record_batch({'v': pa.DictionaryArray.from_arrays("
             "pa.array([0, 1, 2, 1], pa.uint8()), pa.array(['x', None, 'z']))})]")
    assert execute(db, f"SELECT * FROM {arrow_table(db, 'v varchar(3)', items)}") == [
        ("x",), (None,), ("z",), (None,)]


def test_nanoseconds_round_as_postgresql_input(db):
    """Sub-microsecond digits: as PostgreSQL's input of the same nine-digit fraction."""
    nanos = [0, 1, 499, 500, 501, 1500, 2500, 999_999_999, -1, -500, -1500,
             1_700_000_000_123_456_500]
    items = (f"[pa.record_batch({{'t': pa.array({nanos}, pa.timestamp('ns')), "
             f"'z': pa.array({nanos}, pa.timestamp('ns', 'UTC')), "
             f"'h': pa.array([n % (86400 * 10**9) for n in {nanos}], pa.time64('ns'))}})]")
    table = arrow_table(db, "t timestamp, z timestamptz, h time", items)
    execute(db, "SET TIME ZONE 'UTC'")
    got = execute(db, f"SELECT t, z, h FROM {table}")
    for (t, z, h), n in zip(got, nanos):
        seconds, fraction = divmod(n, 10**9)
        literal = execute(db, "SELECT (to_char(timestamp '1970-01-01' + %s::interval, "
                              "'YYYY-MM-DD HH24:MI:SS') || '.' || %s)::timestamp",
                          (f"{seconds} seconds", f"{fraction:09d}"))[0][0]
        assert t == literal, n
        assert z.replace(tzinfo=None) == literal, n
        seconds, fraction = divmod(n % (86400 * 10**9), 10**9)
        assert h == execute(db, "SELECT (to_char(time '00:00' + %s::interval, 'HH24:MI:SS')"
                                " || '.' || %s)::time",
                            (f"{seconds} seconds", f"{fraction:09d}"))[0][0], n


def test_uuid_from_fixed_size_binary(db):
    items = ("[pa.record_batch({'u': pa.array([bytes(range(16)), None], pa.binary(16))})]")
    table = arrow_table(db, "u uuid", items)
    assert execute(db, f"SELECT u::text FROM {table}") == [
        ("00010203-0405-0607-0809-0a0b0c0d0e0f",), (None,)]


def test_domains_are_checked(db):
    execute(db, "CREATE DOMAIN small AS int4 CHECK (VALUE < 10) NOT NULL")
    ok = arrow_table(db, "v small", "[pa.record_batch({'v': pa.array([1, 2], pa.int64())})]")
    assert execute(db, f"SELECT v FROM {ok}") == [(1,), (2,)]
    big = arrow_table(db, "v small", "[pa.record_batch({'v': pa.array([1, 20], pa.int64())})]")
    assert error_of(db, f"SELECT v FROM {big}").pgcode == "23514"
    null = arrow_table(db, "v small", "[pa.record_batch({'v': pa.array([None], pa.int64())})]")
    assert error_of(db, f"SELECT v FROM {null}").pgcode == "23502"
    assert_usable(db)


# ---------------------------------------------------------------- batches, streams, rows

def test_columns_by_name_missing_null_extra_ignored(db):
    items = ("[pa.record_batch({'extra': [1, 2], 'b': ['x', 'y'], 'a': [10, 20]})]")
    table = arrow_table(db, "a int, c text, b text", items)
    assert execute(db, f"SELECT * FROM {table}") == [(10, None, "x"), (20, None, "y")]
    assert execute(db, f"SELECT b FROM {table}") == [("x",), ("y",)]
    assert execute(db, f"SELECT count(*) FROM {table}") == [(2,)]


def test_only_requested_columns_are_converted(db):
    # v cannot go into int: a scan that does not need it never converts it
    items = "[pa.record_batch({'id': [1, 2], 'v': ['x', 'y']})]"
    table = arrow_table(db, "id int, v int", items)
    assert execute(db, f"SELECT id FROM {table}") == [(1,), (2,)]
    assert error_of(db, f"SELECT v FROM {table}").pgcode == "22P02"


def test_chunked_tables_streams_and_rows_mixed(db):
    items = ("[(1, 'row'), "
             "pa.record_batch({'id': [2, 3], 'v': ['b2', 'b3']}), "
             "{'id': 4, 'v': 'dict'}, "
             "pa.record_batch({'id': pa.array([], pa.int64()), 'v': pa.array([], pa.utf8())}), "
             "pa.concat_tables([pa.table({'id': [5], 'v': ['t5']}), "
             "pa.table({'id': [6, 7], 'v': ['t6', None]}).slice(0)]), "
             "pa.table({'id': [8, 9, 10], 'v': ['x', 'y', 'z']}).to_reader(), "
             "pa.table({'id': [11, 12, 13], 'v': ['a', 'b', 'c']}).slice(1, 1), "
             "(14, 'last')]")
    rows = assert_same(db, "id int, v text", items)
    assert [r[0] for r in rows] == list(range(1, 11)) + [12, 14]
    table = arrow_table(db, "id int, v text", items)
    assert execute(db, f"SELECT id FROM {table} LIMIT 3") == [(1,), (2,), (3,)]


def test_nulls_everywhere(db):
    columns = ("i int, f float8, n numeric, b bool, t text, y bytea, d date, "
               "ts timestamp, tz timestamptz, tm time, iv interval")
    items = ("[pa.record_batch({'i': pa.array([None] * 3, pa.int64()), "
             "'f': pa.array([None, 1.0, None]), 'n': pa.array([None] * 3, pa.decimal128(5, 2)), "
             "'b': pa.array([None, True, None]), 't': pa.array([None, 'x', None]), "
             "'y': pa.array([None] * 3, pa.binary()), 'd': pa.array([None] * 3, pa.date32()), "
             "'ts': pa.array([None] * 3, pa.timestamp('us')), "
             "'tz': pa.array([None] * 3, pa.timestamp('us', 'UTC')), "
             "'tm': pa.array([None] * 3, pa.time64('us')), "
             "'iv': pa.array([None] * 3, pa.duration('us'))})]")
    rows = assert_same(db, columns, items)
    assert rows[0] == (None,) * 11
    # a null struct row (a struct array with a validity bitmap) is a row of NULLs
    items = ("[pa.StructArray.from_arrays([pa.array([1, 2, 3])], ['i'], "
             "mask=pa.array([False, True, False]))]")
    table = arrow_table(db, "i int", items)
    assert execute(db, f"SELECT i FROM {table}") == [(1,), (None,), (3,)]


def test_rescan_and_limit_release_the_batch(db):
    items = "[pa.table({'id': list(range(1000))})]"
    table = arrow_table(db, "id int", items)
    execute(db, "SET enable_hashjoin = off; SET enable_mergejoin = off; "
                "SET enable_material = off")
    got = execute(db, f"SELECT count(*) FROM generate_series(1, 5) g JOIN {table} t "
                      f"ON t.id = g")
    assert got == [(5,)]
    assert execute(db, f"SELECT id FROM {table} LIMIT 2") == [(0,), (1,)]


# ---------------------------------------------------------------- type mismatches

@pytest.mark.parametrize("arrow_type, values, pg_type", [
    ("pa.int64()", "[1]", "text"),
    ("pa.bool_()", "[True]", "int4"),
    ("pa.float64()", "[1.5]", "int8"),
    ("pa.large_binary()", "[b'x']", "int4"),
    ("pa.binary()", "[b'x']", "text"),
    ("pa.timestamp('us', tz='UTC')", "[0]", "timestamp"),
    ("pa.decimal128(5, 2)", "[1]", "float8"),
    ("pa.date32()", "[1]", "timestamptz"),
    ("pa.list_(pa.int64())", "[[1]]", "int8"),
    ("pa.list_(pa.list_(pa.int64()))", "[[[1]]]", "int8"),
    ("pa.struct([('a', pa.int64())])", "[{'a': 1}]", "text"),
    ("pa.duration('s')", "[1]", "time"),
])
def test_type_mismatch_names_column_and_types(db, arrow_type, values, pg_type):
    table = arrow_table(db, f"id int, v {pg_type}", batch(arrow_type, values))
    error = error_of(db, f"SELECT v FROM {table}")
    assert error.pgcode == "42804", error.pgerror
    assert '"v"' in error.diag.message_primary
    assert pg_type.split("(")[0].split("[")[0] in error.diag.message_primary.replace(
        "bigint", "int8").replace("integer", "int4").replace(
        "timestamp with time zone", "timestamptz").replace(
        "double precision", "float8").replace("time without", "time")
    assert_usable(db)


@pytest.mark.parametrize("arrow_type, values, pg_type", [
    ("pa.int64()", "[2**15]", "int2"),
    ("pa.int64()", "[-2**31 - 1]", "int4"),
    ("pa.uint64()", "[2**63]", "int8"),
    ("pa.float64()", "[1e300]", "float4"),
    ("pa.decimal128(10, 2)", "[Decimal('12345678.99')]", "numeric(5, 2)"),
    ("pa.date32()", "[2**31 - 1]", "date"),
    ("pa.timestamp('s')", "[2**62]", "timestamp"),
    ("pa.utf8()", "['abc']", "varchar(2)"),
    ("pa.utf8()", "['a\\x00b']", "text"),
])
def test_values_out_of_range_as_the_row_path(db, arrow_type, values, pg_type):
    table = arrow_table(db, f"id int, v {pg_type}", batch(arrow_type, values))
    error = error_of(db, f"SELECT v FROM {table}")
    assert error.pgcode in ("22003", "22008", "22001", "22021"), error.pgerror
    assert 'column "v"' in (error.diag.context or ""), error.pgerror
    assert_usable(db)


# ---------------------------------------------------------------- bad input

def good() -> str:
    return "pa.record_batch({'a': pa.array([1, 2, 3]), 'b': pa.array(['x', 'y', 'z'])})"


@pytest.mark.parametrize("items, sqlstate, message", [
    (f"[ragged({good()})]", "HV021", "different lengths"),
    (f"[without_data_buffer({good()})]", "HV004", "missing data buffer"),
    (f"[wrong_buffer_count({good()})]", "HV004", "number of buffers"),
    (f"[wrong_names({good()})]", "HV004", "not named"),
    (f"[consumed({good()})]", "HV004", "already released or consumed"),
    ("[ArrayExporter((1, 2))]", "HV004", "not a capsule"),
    ("[ArrayExporter(None)]", "HV004", "pair of capsules"),
    ("[StreamExporter('x')]", "HV004", "not a capsule"),
    (f"[stream_without_release(pa.table({good()}))]", "HV004", "already released"),
    ("[pa.array([1, 2, 3])]", "HV004", "record batch"),
    (f"[failing_stream([{good()}], {good()}.schema)]", "HV000", "the source went away"),
])
def test_bad_input_is_a_clean_error(db, items, sqlstate, message):
    table = arrow_table(db, "a int, b text", items)
    for _ in range(2):
        error = error_of(db, f"SELECT * FROM {table}")
        assert error.pgcode == sqlstate, error.pgerror
        assert message in error.pgerror
        assert_usable(db)


def test_failing_stream_gives_its_rows_first(db):
    items = f"[failing_stream([{good()}, {good()}], {good()}.schema)]"
    table = arrow_table(db, "a int, b text", items)
    execute(db, "BEGIN")
    with db.cursor() as cur:
        cur.execute(f"DECLARE c CURSOR FOR SELECT * FROM {table}")
        cur.execute("FETCH 6 FROM c")
        assert len(cur.fetchall()) == 6
    execute(db, "ROLLBACK")


def test_zero_row_batches_and_empty_streams(db):
    items = ("[pa.record_batch({'a': pa.array([], pa.int64())}), "
             "pa.table({'a': pa.array([], pa.int64())}), "
             "pa.table({'a': pa.array([], pa.int64())}).to_reader(), "
             "pa.record_batch({'a': [7]})]")
    table = arrow_table(db, "a int", items)
    assert execute(db, f"SELECT * FROM {table}") == [(7,)]


def test_failed_scans_leave_nothing_behind(db):
    """Backend memory stays flat over 1,000 scans that fail midway (issue 13)."""
    items = ("[pa.record_batch({'a': pa.array(range(5000)), 'b': pa.array(['x' * 100] * 5000)}),"
             " pa.table({'a': pa.array(['bad'] * 10)}).to_reader()]")
    table = arrow_table(db, "a int, b text", items)
    pid = execute(db, "SELECT pg_backend_pid()")[0][0]

    def rss() -> int:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    for _ in range(20):
        error_of(db, f"SELECT * FROM {table}")
    before = rss()
    for _ in range(1000):
        assert error_of(db, f"SELECT * FROM {table}").pgcode == "22P02"
    assert rss() - before < 20_000, (before, rss())


# ---------------------------------------------------------------- sgfdw.pg.arrow (output)

SOURCE_COLUMNS = ("id int, b bool, s int2, i int4, l int8, r float4, d float8, "
                  "n numeric(12, 3), big numeric(50, 10), free numeric, t text, v varchar(5), "
                  "c char(3), y bytea, dt date, tm time, ts timestamp, tz timestamptz, "
                  "iv interval, j jsonb, u uuid, a int[], ta text[], na numeric(5, 2)[], "
                  "js json")
SOURCE_ROWS = [
    "(1, true, 1, 2, 3, 1.5, 0.1, 123456789.123, "
    "1234567890123456789012345678901234567890.1234567891, "
    "'NaN', 'héllo', 'abc', 'x', '\\x00ff', '2024-02-29', '23:59:59.999999', "
    "'2024-02-29 12:30:01.123456', '2024-02-29 12:30:01.123456+05', "
    "'1 year 2 months 3 days 04:05:06.789', '{\"a\": 1}', "
    "'00010203-0405-0607-0809-0a0b0c0d0e0f', '{1,2}', '{\"a\",NULL,\"é\"}', '{1.50,NULL}', "
    "'{\"b\": [1, 2.50], \"a\": \"x\\\\ny\"}')",
    "(2, false, -32768, -2147483648, -9223372036854775808, '-Infinity', 'NaN', -0.001, "
    "-1e-10, 1e30, '', '', '', '', '0001-01-01', '00:00', '0001-01-01', '0001-01-01 00:00+00', "
    "'-1 days -00:00:00.000001', 'null', NULL, '{}', '{}', '{}', '[]')",
    "(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
]


def source_table(db, rows: int = 0) -> None:
    execute(db, f"CREATE TABLE src ({SOURCE_COLUMNS})")
    execute(db, "INSERT INTO src VALUES " + ", ".join(SOURCE_ROWS))
    if rows:
        execute(db, f"INSERT INTO src (id, t, n) SELECT i, 'row ' || i, i / 7.0 "
                    f"FROM generate_series(4, {rows}) i")


def run_python(db, code: str) -> str:
    if not execute(db, "SELECT 1 FROM pg_proc WHERE proname = 'run'"):
        execute(db, "CREATE FUNCTION run(code text) RETURNS text LANGUAGE sgfdw_python "
                    "AS 'pyfuncs.run'")
    return execute(db, "SELECT run(%s)", (code,))[0][0]


def test_pg_arrow_types(db):
    source_table(db)
    schema = run_python(db, "import pyarrow as pa\n"
                            "batches = [pa.record_batch(b)"
                            " for b in pg.arrow('SELECT * FROM src')]\n"
                            "result = [(f.name, str(f.type),"
                            " (f.metadata or {}).get(b'sgfdw.pg_type'))"
                            " for f in batches[0].schema]")
    assert eval(schema) == [
        ("id", "int32", None), ("b", "bool", None), ("s", "int16", None), ("i", "int32", None),
        ("l", "int64", None), ("r", "float", None), ("d", "double", None),
        ("n", "decimal128(12, 3)", None), ("big", "string", b"numeric(50,10)"),
        ("free", "string", b"numeric"), ("t", "string", None), ("v", "string", None),
        ("c", "string", None), ("y", "binary", None), ("dt", "date32[day]", None),
        ("tm", "time64[us]", None), ("ts", "timestamp[us]", None),
        ("tz", "timestamp[us, tz=UTC]", None), ("iv", "month_day_nano_interval", None),
        ("j", "extension<arrow.json>", b"jsonb"), ("u", "extension<arrow.uuid>", None),
        ("a", "list<item: int32>", None), ("ta", "list<item: string>", None),
        ("na", "list<item: decimal128(5, 2)>", None), ("js", "extension<arrow.json>", b"json")]


def test_pg_arrow_values_match_the_row_path(db):
    """pg.arrow's batches, read back by pyarrow, against pg.execute's rows."""
    source_table(db, rows=1000)
    same = run_python(db, """
import pyarrow as pa, decimal, datetime
from sgfdw.value_codec import json_loads
query = ('SELECT id, b, s, i, l, r, d, n, t, v, c, y, dt, tm, ts, tz, j, u, a, ta, na, js'
         ' FROM src ORDER BY id')
table = pa.Table.from_batches([pa.record_batch(b) for b in pg.arrow(query, batch_rows=97)])
arrow_rows = [tuple(r.values()) for r in table.to_pylist()]
spi_rows = pg.execute(query)
json_columns = {16, 21}
def same(column, a, b):
    if isinstance(a, float) and a != a:
        return b != b
    if column in json_columns and a is not None:
        return json_loads(a) == b
    return a == b
bad = [repr((x, y)) for x, y in zip(arrow_rows, spi_rows)
       if not all(map(same, range(len(x)), x, y))]
result = (len(arrow_rows), len(spi_rows), bad[:3], table.column('n').num_chunks)
""")
    assert eval(same) == (1000, 1000, [], 11)


def test_pg_arrow_round_trip_through_the_input_lane(db):
    """pg.arrow's batches yielded by an FDW give the source table's rows back exactly."""
    source_table(db, rows=300)
    columns = SOURCE_COLUMNS
    items = "pg.arrow('SELECT * FROM src ORDER BY id', batch_rows=64)"
    table = arrow_table(db, columns, items)
    got = execute(db, f"SELECT x::text FROM {table} x")
    expected = execute(db, "SELECT x::text FROM src x ORDER BY id")
    assert [g for g, e in zip(got, expected) if g != e] == []
    assert got == expected
    # through pyarrow as well
    items = "[pa.record_batch(b) for b in pg.arrow('SELECT * FROM src ORDER BY id')]"
    assert execute(db, f"SELECT x::text FROM {arrow_table(db, columns, items)} x") == got


def test_pg_arrow_edge_cases(db):
    execute(db, "CREATE TABLE e (d date, t timestamp, n numeric(5, 2))")
    assert run_python(db, "result = list(pg.arrow('SELECT * FROM e'))") == "[]"
    assert run_python(db, "result = [b.num_rows for b in pg.arrow("
                          "'SELECT g FROM generate_series(1, 10) g', batch_rows=4)]") == "[4, 4, 2]"
    execute(db, "INSERT INTO e VALUES ('infinity', NULL, NULL)")
    code = "result = list(pg.arrow('SELECT * FROM e'))"
    error = error_of(db, "SELECT run(%s)", (code,))
    assert error.pgcode == "22008", error.pgerror
    assert_usable(db)
    execute(db, "UPDATE e SET d = NULL, n = 'NaN'")
    assert error_of(db, "SELECT run(%s)", (code,)).pgcode == "22003"
    # a batch is exported once; the second export is a Python error
    twice = ("b = next(pg.arrow('SELECT 1 AS x'))\nb.__arrow_c_array__()\n"
             "try:\n    b.__arrow_c_array__()\nexcept ValueError as e:\n    result = str(e)")
    assert "already exported" in run_python(db, twice)
    assert error_of(db, "SELECT run('list(pg.arrow(''SELECT 1'', batch_rows=0))')").pgcode


def test_pg_arrow_arrays_are_lists_of_one_dimension(db):
    execute(db, "CREATE TABLE arr (a int[], u uuid[], j jsonb[])")
    execute(db, "INSERT INTO arr VALUES ('{1,NULL}', "
                "'{00010203-0405-0607-0809-0a0b0c0d0e0f,NULL}', ARRAY['{\"k\": 1}'::jsonb]), "
                "(NULL, '{}', NULL)")
    code = ("import pyarrow as pa\n"
            "b = pa.record_batch(next(pg.arrow('SELECT * FROM arr')))\n"
            "result = (str(b.schema.field('u').type), b.to_pylist() == [dict(zip("
            "('a', 'u', 'j'), r)) for r in pg.execute('SELECT a, u, j::text[] FROM arr')])")
    assert eval(run_python(db, code)) == ("list<item: extension<arrow.uuid>>", True)
    # lower bounds are dropped, as in the row path's lists (int2vector starts at 0)
    code = ("import pyarrow as pa\n"
            "query = 'SELECT indkey, $1::int[] AS a FROM pg_index LIMIT 1'\n"
            "b = pa.record_batch(next(pg.arrow(query, ['[0:1]={1,2}'])))\n"
            "result = (str(b.schema.field('indkey').type), b.to_pylist() == "
            "[dict(zip(('indkey', 'a'), r)) for r in pg.execute(query, ['[0:1]={1,2}'])])")
    assert eval(run_python(db, code)) == ("list<item: int16>", True)
    # more dimensions have no Arrow list of the elements: an error, not a guess
    execute(db, "INSERT INTO arr (a) VALUES ('{{1,2},{3,4}}')")
    error = error_of(db, "SELECT run(%s)", ("result = list(pg.arrow('SELECT a FROM arr'))",))
    assert error.pgcode == "0A000" and '"a"' in error.pgerror, error.pgerror
    assert_usable(db)
