"""Value conversion between Datums and Python objects (docs/bridge-contract.md, "Values").

Two directions, for every type of the contract:

* Python -> Datum: the FDW (values.ValuesFdw) yields given Python objects; the result is
  compared with the same values written as SQL literals in a local table, by equality
  and by text output (or bit pattern, for floats), so nothing is lost or changed.
* Datum -> Python: the FDW (values.EchoFdw) receives quals `v = <literal>`; the value it
  gets, at plan time and at scan time, must be exactly the Python object the contract
  names (type and repr), and echoing it back as the row's value must give a row that
  PostgreSQL's own recheck of `v = <literal>` keeps (a lossless round trip).

Plus: wrong Python types for a column (a clean error with a fitting SQLSTATE and the
column in CONTEXT), str for any typed column (read by the type's input function, as
Multicorn does), str() of arbitrary objects for text columns, session time zones, and a
LATIN1 database.
"""

from __future__ import annotations

import datetime
import ipaddress
import itertools
import math
import struct
from datetime import date, time, timedelta, timezone
from decimal import Decimal
from typing import Any, Sequence
from uuid import UUID

import psycopg2
import pytest

UTC = timezone.utc
datetime_ = datetime.datetime

# Client-side namespace for the Python expressions the tests give the FDW: the same names
# as values.NAMESPACE, so `eval(expr, NS)` here is the object the FDW yields there.
NS: dict[str, Any] = {
    "date": date, "time": time, "datetime": datetime_, "timedelta": timedelta,
    "timezone": timezone, "Decimal": Decimal, "UUID": UUID, "ipaddress": ipaddress,
    "math": math, "inf": math.inf, "nan": math.nan, "utc": UTC,
}

ALL_BYTES = bytes(range(256))
MEGABYTE = 1024 * 1024

_table_numbers = itertools.count(1)


# --------------------------------------------------------------------------- helpers


def q(text: str) -> str:
    """A standard SQL string literal (standard_conforming_strings is on)."""
    return "'" + text.replace("'", "''") + "'"


def run(db, query: str, params: Any = None) -> list[tuple]:
    with db.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall() if cur.description is not None else []


def server(db) -> None:
    run(db, "CREATE SERVER IF NOT EXISTS vals FOREIGN DATA WRAPPER sgfdw")


def values_table(db, columns: str, rows: str, name: str | None = None) -> str:
    """A foreign table whose FDW yields the rows of the Python expression `rows`."""
    server(db)
    name = name or f"ft{next(_table_numbers)}"
    run(db, f"CREATE FOREIGN TABLE {name} ({columns}) SERVER vals "
            "OPTIONS (wrapper 'values.ValuesFdw', rows %s)", (rows,))
    return name


def short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"


def f32(value: float) -> float:
    """The float that a float4 holding `value` converts to."""
    return struct.unpack("f", struct.pack("f", value))[0]


# What "the same value" means, per type: SQL over the foreign row f and the local row l.
SAME = "f.v IS NOT DISTINCT FROM l.v AND f.v::text IS NOT DISTINCT FROM l.v::text"
SAME_FLOAT4 = "float4send(f.v) IS NOT DISTINCT FROM float4send(l.v)"
SAME_FLOAT8 = "float8send(f.v) IS NOT DISTINCT FROM float8send(l.v)"
SAME_JSON = "f.v::jsonb IS NOT DISTINCT FROM l.v::jsonb"
SAME_TEXT_ONLY = "f.v::text IS NOT DISTINCT FROM l.v::text"


def check_yield(db, sqltype: str, cases: Sequence[tuple[str, str | None]],
                same: str = SAME) -> None:
    """Python -> Datum: each (python_expression, sql_expression) pair must give the same
    value; sql_expression None means NULL."""
    rows = "[" + ", ".join(f"({i}, {py})" for i, (py, _) in enumerate(cases)) + "]"
    ft = values_table(db, f"id int, v {sqltype}", rows)
    lt = f"l{ft}"
    run(db, f"CREATE TABLE {lt} (id int, v {sqltype})")
    for i, (_, literal) in enumerate(cases):
        run(db, f"INSERT INTO {lt} VALUES ({i}, ({literal or 'NULL'})::{sqltype})")
    result = run(db, f"""
        SELECT l.id, f.id IS NOT NULL, f.v::text, l.v::text, coalesce({same}, false)
        FROM {lt} l LEFT JOIN {ft} f USING (id) ORDER BY l.id""")
    bad = [f"{cases[i][0]} -> {short(got)}, expected {cases[i][1]} = {short(want)}"
           for i, found, got, want, ok in result if not (found and ok)]
    assert not bad, f"{sqltype}: Python -> Datum mismatches:\n" + "\n".join(bad)
    assert run(db, f"SELECT count(*) FROM {ft}") == [(len(cases),)]


def echo_table(db, sqltype: str, echo: bool = True) -> str:
    """A values.EchoFdw table (v sqltype); echo=False: it only records the quals."""
    server(db)
    name = f"echo{next(_table_numbers)}"
    run(db, f"CREATE FOREIGN TABLE {name} (v {sqltype}) SERVER vals "
            f"OPTIONS (wrapper 'values.EchoFdw', echo '{'on' if echo else 'off'}')")
    if not run(db, "SELECT 1 FROM pg_class WHERE relname = 'seen'"):
        run(db, "CREATE FOREIGN TABLE seen (phase text, field text, operator text, "
                "type text, repr text) SERVER vals OPTIONS (wrapper 'values.SeenFdw')")
    return name


def type_name(value: Any) -> str:
    cls = type(value)
    return f"{cls.__module__}.{cls.__qualname__}"


def seen(db) -> list[tuple]:
    return run(db, "SELECT phase, field, operator, type, repr FROM seen")


def check_qual(db, sqltype: str, cases: Sequence[tuple[str, Any]], echo: bool = True,
               table: str | None = None, phases: Sequence[str] = ("plan", "scan")) -> None:
    """Datum -> Python: for each (sql_literal, expected_python_value), the FDW must get
    `expected` for the qual `v = literal::sqltype` at plan and at scan time, and (echo)
    yielding that value back must satisfy PostgreSQL's recheck of the same qual.
    (A value that is not a constant after planning, e.g. a domain cast, is known only at
    scan time: phases=("scan",).)"""
    table = table if table and echo else echo_table(db, sqltype, echo)
    bad = []
    for literal, expected in cases:
        where = f"v = ({literal})::{sqltype}"
        count = run(db, f"SELECT count(*) FROM {table} WHERE {where}")[0][0]
        want = [(phase, "v", repr("="), type_name(expected), repr(expected))
                for phase in phases]
        got = seen(db)
        if got != want:
            bad.append(f"{where}: FDW got {short(got, 400)}, expected type "
                       f"{type_name(expected)} {short(expected)}")
        if echo and count != 1:
            bad.append(f"{where}: echoing the qual value back gave {count} rows, expected 1")
    assert not bad, f"{sqltype}: Datum -> Python mismatches:\n" + "\n".join(bad)


def check_any(db, sqltype: str, array_sql: str, expected: list, table: str | None = None):
    """`v = ANY(array)`: the FDW gets the list `expected`; echoing each element back keeps
    every non-NULL element (NULL = x is not true)."""
    table = table or echo_table(db, sqltype)
    count = run(db, f"SELECT count(*) FROM {table} WHERE v = ANY({array_sql})")[0][0]
    want = [(phase, "v", repr(("=", True)), "builtins.list", repr(expected))
            for phase in ("plan", "scan")]
    assert seen(db) == want
    assert count == len([e for e in expected if e is not None])


def error_of(db, query: str) -> psycopg2.Error:
    with pytest.raises(psycopg2.Error) as info:
        run(db, query)
    # The session stays usable after the error.
    assert run(db, "SELECT 1") == [(1,)]
    return info.value


def check_yield_error(db, sqltype: str, python: str, sqlstates: str | Sequence[str],
                      message: str | None = None) -> psycopg2.Error:
    """Yielding `python` for a column of `sqltype` fails with one of `sqlstates`
    (a full code, or a two-character class) and names the column in CONTEXT."""
    ft = values_table(db, f"id int, v {sqltype}", f"[(1, {python})]")
    error = error_of(db, f"SELECT v FROM {ft}")
    codes = [sqlstates] if isinstance(sqlstates, str) else list(sqlstates)
    assert any(error.pgcode == c or (len(c) == 2 and error.pgcode[:2] == c) for c in codes), \
        f"{python} for {sqltype}: SQLSTATE {error.pgcode} ({error.pgerror.strip()}), " \
        f"expected one of {codes}"
    assert f'column "v" of foreign table "{ft}"' in (error.diag.context or ""), \
        f"{python} for {sqltype}: no column in CONTEXT: {error.pgerror}"
    if message is not None:
        assert message in error.diag.message_primary, error.pgerror
    return error


# --------------------------------------------------------------------------- integers


@pytest.mark.parametrize("sqltype,low,high", [
    ("int2", -2**15, 2**15 - 1),
    ("int4", -2**31, 2**31 - 1),
    ("int8", -2**63, 2**63 - 1),
])
def test_integers(db, sqltype, low, high):
    check_yield(db, sqltype, [
        (str(low), str(low)), (str(high), str(high)), ("0", "0"), ("-1", "-1"),
        ("None", None),
        ("True", "1"),                     # bool is an int
        (repr(str(high)), str(high)),      # str: the type's input function
        ("Decimal('42')", "42"),           # other objects: their text
    ])
    check_qual(db, sqltype, [(str(low), low), (str(high), high), ("0", 0), ("-7", -7)])
    check_any(db, sqltype, f"ARRAY[{low}, 0, NULL, {high}]::{sqltype}[]", [low, 0, None, high])
    for value in (low - 1, high + 1, 2**70):
        check_yield_error(db, sqltype, str(value), "22003")


def test_integer_cross_type_qual(db):
    """`int2col = 300::int8` is a cross-type comparison: the FDW gets the int8 value."""
    table = echo_table(db, "int2")
    assert run(db, f"SELECT count(*) FROM {table} WHERE v = 300::int8") == [(1,)]
    assert [row[3:] for row in seen(db)] == [("builtins.int", "300")] * 2


# --------------------------------------------------------------------------- floats


FLOAT8_CASES = [
    ("0.0", "'0'"), ("-0.0", "'-0'"), ("1.5", "'1.5'"), ("0.1", "'0.1'"),
    ("nan", "'NaN'"), ("inf", "'Infinity'"), ("-inf", "'-Infinity'"),
    ("1e308", "'1e308'"), ("1.7976931348623157e308", "'1.7976931348623157e308'"),
    ("-1.7976931348623157e308", "'-1.7976931348623157e308'"),
    ("2.2250738585072014e-308", "'2.2250738585072014e-308'"),  # smallest normal
    ("5e-324", "'5e-324'"),                                      # smallest denormal
    ("-4.9406564584124654e-320", "'-4.9406564584124654e-320'"),  # a negative denormal
    ("1/3", "'0.3333333333333333'"),
    ("None", None),
    ("7", "'7'"),                          # int
    ("2**53 + 1", "'9007199254740992'"),   # int rounded as float() does
    ("Decimal('0.25')", "'0.25'"),         # any object with __float__
    ("'1.25'", "'1.25'"), ("'NaN'", "'NaN'"), ("'-Infinity'", "'-Infinity'"),  # str
]

FLOAT4_CASES = [
    ("0.0", "'0'"), ("-0.0", "'-0'"), ("1.5", "'1.5'"), ("1.1", "'1.1'"),
    ("nan", "'NaN'"), ("inf", "'Infinity'"), ("-inf", "'-Infinity'"),
    ("3.4028234663852886e38", "'3.4028235e38'"),              # FLT_MAX
    ("-3.4028234663852886e38", "'-3.4028235e38'"),
    ("1.1754943508222875e-38", "'1.1754944e-38'"),            # FLT_MIN, smallest normal
    ("None", None), ("3", "'3'"), ("'2.5'", "'2.5'"),
]

# Values PostgreSQL's float8 -> float4 cast (and float4in) accept, at the edges of float4:
# denormals, and doubles just above FLT_MAX that round to it.
FLOAT4_EDGE_CASES = [
    ("1.401298464324817e-45", "'1e-45'"),                     # smallest float4 denormal
    ("-1e-40", "'-1e-40'"),                                   # a float4 denormal
    ("1e-45", "'1e-45'"),                                     # rounds to the smallest
    ("3.4028235e38", "'3.4028235e38'"),                       # rounds to FLT_MAX
    ("3.4028235677973362e38", "'3.4028235e38'"),              # the largest such double
]


def test_float8(db):
    check_yield(db, "float8", FLOAT8_CASES, same=SAME_FLOAT8)
    check_qual(db, "float8", [
        ("'0'", 0.0), ("'-0'", -0.0), ("'1.5'", 1.5), ("'0.1'", 0.1),
        ("'NaN'", math.nan), ("'Infinity'", math.inf), ("'-Infinity'", -math.inf),
        ("'1e308'", 1e308), ("'1.7976931348623157e308'", 1.7976931348623157e308),
        ("'5e-324'", 5e-324), ("'2.2250738585072014e-308'", 2.2250738585072014e-308),
    ])
    check_any(db, "float8", "ARRAY[1.5, 'NaN', '-Infinity', NULL]::float8[]",
              [1.5, math.nan, -math.inf, None])
    check_yield_error(db, "float8", "10**400", "22003")
    check_yield_error(db, "float8", "'abc'", "22P02")


def test_float4(db):
    check_yield(db, "float4", FLOAT4_CASES, same=SAME_FLOAT4)
    check_qual(db, "float4", [
        ("'0'", 0.0), ("'-0'", -0.0), ("'1.1'", f32(1.1)), ("'NaN'", math.nan),
        ("'Infinity'", math.inf), ("'-Infinity'", -math.inf),
        ("'3.4028235e38'", f32(3.4028234663852886e38)), ("'1.1754944e-38'", f32(1.1754944e-38)),
    ])


@pytest.mark.parametrize("python,literal", FLOAT4_EDGE_CASES)
def test_float4_edges(db, python, literal):
    # What PostgreSQL itself does with the same double.
    [[ok]] = run(db, f"SELECT ({python})::float8::float4 = ({literal})::float4")
    assert ok
    check_yield(db, "float4", [(python, literal)], same=SAME_FLOAT4)
    # The same values as qual values, echoed back.
    check_qual(db, "float4", [(literal, f32(eval(python)))])


def test_float4_out_of_range(db):
    # As PostgreSQL's own float8 -> float4 cast: overflow to infinity and underflow to
    # zero are errors, denormals are values (see FLOAT4_CASES).
    assert error_of(db, "SELECT '1e39'::float8::float4").pgcode == "22003"
    assert error_of(db, "SELECT '1e-50'::float8::float4").pgcode == "22003"
    check_yield_error(db, "float4", "1e39", "22003")
    check_yield_error(db, "float4", "-1e39", "22003")
    check_yield_error(db, "float4", "1e-50", "22003")
    check_yield_error(db, "float4", "3.4028235677973366e38", "22003")   # rounds to infinity


# --------------------------------------------------------------------------- numeric


BIG = "12345678901234567890123456789012345678901234567890.12345678901234567890"


def test_numeric(db):
    check_yield(db, "numeric", [
        (f"Decimal('{BIG}')", q(BIG)),
        (f"Decimal('-{BIG}')", q("-" + BIG)),
        ("Decimal('1.50')", "'1.50'"),                     # display scale kept
        ("Decimal('0.000000000000000000000000000000000000000001')",
         "'0.000000000000000000000000000000000000000001'"),
        ("Decimal('-0.0001')", "'-0.0001'"),
        ("Decimal('1E+30')", "'1000000000000000000000000000000'"),
        ("Decimal('1.5E-10')", "'0.00000000015'"),
        ("Decimal('-0')", "'0'"),
        ("Decimal('NaN')", "'NaN'"),
        ("Decimal('Infinity')", "'Infinity'"),
        ("Decimal('-Infinity')", "'-Infinity'"),
        ("10**45", "'1" + "0" * 45 + "'"),                  # int
        ("0.1", "'0.1'"),                                   # float: its repr
        ("nan", "'NaN'"), ("inf", "'Infinity'"), ("-inf", "'-Infinity'"),
        ("'3.14159'", "'3.14159'"),                         # str
        ("None", None),
    ])
    check_qual(db, "numeric", [
        (q(BIG), Decimal(BIG)), (q("-" + BIG), Decimal("-" + BIG)),
        ("'1.50'", Decimal("1.50")), ("'0'", Decimal("0")), ("'-0.0001'", Decimal("-0.0001")),
        ("'1e-40'", Decimal("0." + "0" * 39 + "1")), ("'1e30'", Decimal("1" + "0" * 30)),
        ("'NaN'", Decimal("NaN")), ("'Infinity'", Decimal("Infinity")),
        ("'-Infinity'", Decimal("-Infinity")),
    ])
    check_any(db, "numeric", f"ARRAY['1.50', 'NaN', NULL, {q(BIG)}]::numeric[]",
              [Decimal("1.50"), Decimal("NaN"), None, Decimal(BIG)])


def test_numeric_typmod(db):
    """numeric(10,2): PostgreSQL's input function rounds to the scale and checks the
    precision, as it does for the same literal."""
    check_yield(db, "numeric(10,2)", [
        ("Decimal('3.14159')", "'3.14'"), ("Decimal('2.675')", "'2.68'"),
        ("Decimal('-2.675')", "'-2.68'"), ("Decimal('99999999.994')", "'99999999.99'"),
        ("Decimal('1')", "'1.00'"), ("12", "'12.00'"), ("Decimal('NaN')", "'NaN'"),
        ("None", None),
    ])
    # PostgreSQL 15: a negative scale rounds to tens, hundreds, ...
    check_yield(db, "numeric(5,-3)", [
        ("Decimal('123456')", "'123456'"), ("Decimal('1.5E+7')", "'15000000'"),
        ("Decimal('-99999499.9')", "'-99999499.9'"), ("None", None),
    ])
    check_yield_error(db, "numeric(5,-3)", "Decimal('99999500')", "22003")
    check_yield_error(db, "numeric(10,2)", "Decimal('123456789.12')", "22003")
    check_yield_error(db, "numeric(10,2)", "Decimal('99999999.995')", "22003")
    check_yield_error(db, "numeric(10,2)", "Decimal('Infinity')", "22003")
    check_yield_error(db, "numeric", "'abc'", "22P02")
    check_yield_error(db, "numeric", "Decimal('sNaN')", "22P02")


# --------------------------------------------------------------------------- bool


def test_bool(db):
    check_yield(db, "bool", [
        ("True", "true"), ("False", "false"), ("None", None),
        ("'t'", "true"), ("'false'", "false"), ("'yes'", "true"),  # str: boolin
        ("1", "true"), ("0", "false"),
    ])
    table = echo_table(db, "bool")
    # PostgreSQL writes `v = true` as `v` and `v = false` as `NOT v`; both are quals.
    check_qual(db, "bool", [("true", True), ("false", False)], table=table)
    assert run(db, f"SELECT count(*) FROM {table} WHERE v") == [(1,)]
    assert [row[3:] for row in seen(db)] == [("builtins.bool", "True")] * 2
    assert run(db, f"SELECT count(*) FROM {table} WHERE NOT v") == [(1,)]
    assert [row[3:] for row in seen(db)] == [("builtins.bool", "False")] * 2
    check_yield_error(db, "bool", "'maybe'", "22P02")


# --------------------------------------------------------------------------- text types


UNICODE = [
    "", " ", "plain ascii", "emoji \U0001F600\U0001F469\u200D\U0001F4BB",
    "combining e\u0301 a\u0308", "CJK \u6F22\u5B57 \uD55C\uAE00 \u3072\u3089\u304C\u306A",
    "quotes ' \" and \\ backslash", "tab\tnewline\ncr\r", "\u00A0nbsp and \uFEFFbom",
    "rtl \u05E9\u05DC\u05D5\u05DD", "max \U0010FFFF",
]


def test_text(db):
    cases = [(repr(s), q(s)) for s in UNICODE]
    cases += [
        (f"'x' * {MEGABYTE}", f"repeat('x', {MEGABYTE})"),
        (f"'\u00e9\U0001F600' * {MEGABYTE // 4}", f"repeat('\u00e9\U0001F600', {MEGABYTE // 4})"),
        ("None", None),
    ]
    check_yield(db, "text", cases)
    check_yield(db, "varchar", cases[:4])
    check_qual(db, "text", [(q(s), s) for s in UNICODE])
    check_qual(db, "text", [(f"repeat('\u00e9\U0001F600', {MEGABYTE // 4})",
                             "\u00e9\U0001F600" * (MEGABYTE // 4))])
    check_any(db, "text", "ARRAY['a', '\U0001F600', '', NULL]", ["a", "\U0001F600", "", None])


def test_text_takes_str_of_objects(db):
    """Multicorn compatibility: a text column takes str() of any object."""
    check_yield(db, "text", [
        ("42", "'42'"), ("1.5", "'1.5'"), ("True", "'True'"), ("Decimal('1.50')", "'1.50'"),
        ("date(2020, 1, 2)", "'2020-01-02'"), ("Thing()", q("thing \U0001F600")),
        ("UUID('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')",
         "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"),
        ("b'caf\\xc3\\xa9'", "'caf\u00e9'"),   # bytes: UTF-8 text
    ])
    check_yield(db, "varchar(10)", [("Thing()", q("thing \U0001F600")), ("42", "'42'")])


def test_text_bad_strings(db):
    # PostgreSQL strings cannot hold NUL; losing the rest silently would be data loss.
    check_yield_error(db, "text", "'a\\x00b'", "22021")
    check_yield_error(db, "text", "'lone \\ud800 surrogate'", "22021")
    check_yield_error(db, "text", "b'\\xff\\xfe'", "22021")   # bytes that are not UTF-8
    error = check_yield_error(db, "text", "BadStr()", ("22", "HV"))
    assert "no text for you" in error.pgerror


def test_varchar_and_bpchar(db):
    check_yield(db, "varchar(3)", [
        ("'abc'", "'abc'"), ("''", "''"), ("'\U0001F600\u00e9\u6F22'", q("\U0001F600\u00e9\u6F22")),
        ("'ab   '", "'ab   '"),   # trailing spaces beyond n are cut, as in SQL
        ("None", None),
    ])
    error = check_yield_error(db, "varchar(3)", "'abcd'", "22001")
    assert "character varying(3)" in error.diag.message_primary
    check_yield_error(db, "varchar(3)", "'\U0001F600' * 4", "22001")
    check_yield(db, "char(5)", [
        ("'ab'", "'ab'"), ("'abcde'", "'abcde'"), ("'\U0001F600'", q("\U0001F600")),
        ("''", "''"), ("None", None),
    ])
    check_yield_error(db, "char(5)", "'abcdef'", "22001")
    check_qual(db, "varchar(3)", [("'abc'", "abc"), (q("\U0001F600"), "\U0001F600")])
    # A bpchar value comes with its padding; echoed back it compares equal.
    check_qual(db, "char(5)", [("'ab'", "ab   ")])
    check_qual(db, "char(5)", [("'abcde'", "abcde"), ("''", "     ")])


def test_name(db):
    long_name = "\u00e9" * 40   # 80 bytes: truncated to 63 bytes (31 characters) by name input
    check_yield(db, "name", [
        ("'abc'", "'abc'"), ("'\U0001F600 \u6F22'", q("\U0001F600 \u6F22")), ("''", "''"),
        (repr(long_name), q(long_name)), ("None", None),
    ])
    check_qual(db, "name", [("'abc'", "abc"), (q("\U0001F600 \u6F22"), "\U0001F600 \u6F22")])


# --------------------------------------------------------------------------- bytea


def test_bytea(db):
    check_yield(db, "bytea", [
        ("bytes(range(256))", "'\\x" + ALL_BYTES.hex() + "'"),
        ("b''", "''"), ("b'\\x00'", "'\\x00'"),
        ("bytearray(b'\\x00\\xff')", "'\\x00ff'"), ("memoryview(b'ab')", "'\\x6162'"),
        (f"bytes(range(256)) * {MEGABYTE // 256}",
         f"decode(repeat({q(ALL_BYTES.hex())}, {MEGABYTE // 256}), 'hex')"),
        ("'\\\\x41ff'", "'\\x41ff'"),   # str: byteain
        ("None", None),
    ])
    check_qual(db, "bytea", [
        ("'\\x" + ALL_BYTES.hex() + "'", ALL_BYTES), ("''", b""), ("'\\x00'", b"\x00"),
    ])
    check_any(db, "bytea", "ARRAY['\\x00'::bytea, '', NULL]", [b"\x00", b"", None])


# --------------------------------------------------------------------------- date/time


def test_date(db):
    check_yield(db, "date", [
        ("date(1, 1, 1)", "'0001-01-01'"), ("date(9999, 12, 31)", "'9999-12-31'"),
        ("date(2000, 2, 29)", "'2000-02-29'"), ("date(1970, 1, 1)", "'1970-01-01'"),
        ("'infinity'", "'infinity'"), ("'-infinity'", "'-infinity'"),
        ("'0044-03-15 BC'", "'0044-03-15 BC'"), ("'10000-01-01'", "'10000-01-01'"),
        ("'2020-01-01'", "'2020-01-01'"),
        ("None", None),
    ])
    check_qual(db, "date", [
        ("'0001-01-01'", date(1, 1, 1)), ("'9999-12-31'", date(9999, 12, 31)),
        ("'2000-02-29'", date(2000, 2, 29)),
        ("'infinity'", "infinity"), ("'-infinity'", "-infinity"),
        ("'0001-12-31 BC'", "0001-12-31 BC"), ("'4713-01-01 BC'", "4713-01-01 BC"),
        ("'10000-01-01'", "10000-01-01"),
    ])
    check_any(db, "date", "ARRAY['2020-01-01', 'infinity', NULL]::date[]",
              [date(2020, 1, 1), "infinity", None])
    check_yield_error(db, "date", "'not a date'", "22")


def test_time(db):
    check_yield(db, "time", [
        ("time(0, 0)", "'00:00'"), ("time(23, 59, 59, 999999)", "'23:59:59.999999'"),
        ("time(12, 34, 56, 789012)", "'12:34:56.789012'"),
        ("time(0, 0, 0, 1)", "'00:00:00.000001'"),
        ("'24:00:00'", "'24:00:00'"), ("'12:00'", "'12:00'"), ("None", None),
    ])
    check_qual(db, "time", [
        ("'00:00'", time(0, 0)), ("'23:59:59.999999'", time(23, 59, 59, 999999)),
        ("'12:34:56.789012'", time(12, 34, 56, 789012)),
        ("'24:00:00'", "24:00:00"),
    ])


def test_timestamp(db):
    check_yield(db, "timestamp", [
        ("datetime(1, 1, 1)", "'0001-01-01 00:00'"),
        ("datetime(9999, 12, 31, 23, 59, 59, 999999)", "'9999-12-31 23:59:59.999999'"),
        ("datetime(2020, 2, 29, 12, 34, 56, 789012)", "'2020-02-29 12:34:56.789012'"),
        ("datetime(2000, 1, 1, 0, 0, 0, 1)", "'2000-01-01 00:00:00.000001'"),
        ("'infinity'", "'infinity'"), ("'-infinity'", "'-infinity'"),
        ("'0044-03-15 12:00 BC'", "'0044-03-15 12:00 BC'"),
        ("'2020-01-01 10:00'", "'2020-01-01 10:00'"),
        ("None", None),
    ])
    check_qual(db, "timestamp", [
        ("'0001-01-01 00:00'", datetime_(1, 1, 1)),
        ("'9999-12-31 23:59:59.999999'", datetime_(9999, 12, 31, 23, 59, 59, 999999)),
        ("'2020-02-29 12:34:56.789012'", datetime_(2020, 2, 29, 12, 34, 56, 789012)),
        ("'infinity'", "infinity"), ("'-infinity'", "-infinity"),
        ("'0044-03-15 12:00 BC'", "0044-03-15 12:00:00 BC"),
        ("'10000-01-01 00:00'", "10000-01-01 00:00:00"),   # beyond datetime: its text
        ("'294276-12-31 23:59:59.999999'", "294276-12-31 23:59:59.999999"),
    ])


TIMEZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe",
             "Pacific/Chatham", "America/St_Johns"]


@pytest.mark.parametrize("tz", TIMEZONES)
def test_timestamptz(db, tz):
    run(db, "SET TimeZone = %s", (tz,))
    check_yield(db, "timestamptz", [
        ("datetime(2020, 6, 1, 12, 0, 0, 123456, tzinfo=utc)", "'2020-06-01 12:00:00.123456+00'"),
        ("datetime(2020, 6, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))",
         "'2020-06-01 12:00:00.123456+05:30'"),
        ("datetime(2020, 1, 1, 0, 0, 0, 1, tzinfo=timezone(-timedelta(hours=9, minutes=30)))",
         "'2020-01-01 00:00:00.000001-09:30'"),
        ("datetime(2020, 7, 1, 8, 0, tzinfo=ZoneInfo('America/New_York'))",
         "'2020-07-01 08:00-04'"),
        ("datetime(1, 1, 1, tzinfo=utc)", "'0001-01-01 00:00+00'"),
        ("datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=utc)",
         "'9999-12-31 23:59:59.999999+00'"),
        # Naive: read in the session time zone, like the same literal without a zone.
        ("datetime(2020, 6, 1, 12, 0, 0, 123456)", "'2020-06-01 12:00:00.123456'"),
        ("datetime(2020, 12, 1, 23, 59, 59, 999999)", "'2020-12-01 23:59:59.999999'"),
        ("'2020-06-01 12:00:00.5+02'", "'2020-06-01 12:00:00.5+02'"),   # str
        ("'2020-06-01 12:00'", "'2020-06-01 12:00'"),
        ("'infinity'", "'infinity'"), ("'-infinity'", "'-infinity'"),
        ("None", None),
    ])
    # Datum -> Python: an aware datetime in UTC, whatever the session time zone.
    check_qual(db, "timestamptz", [
        ("'2020-06-01 12:00:00.123456+02'", datetime_(2020, 6, 1, 10, 0, 0, 123456, tzinfo=UTC)),
        ("'2020-01-01 00:00:00.000001-09:30'", datetime_(2020, 1, 1, 9, 30, 0, 1, tzinfo=UTC)),
        ("'0001-01-01 00:00+00'", datetime_(1, 1, 1, tzinfo=UTC)),
        ("'9999-12-31 23:59:59.999999+00'",
         datetime_(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("'infinity'", "infinity"), ("'-infinity'", "-infinity"),
    ])
    if tz == "UTC":   # beyond datetime: the text, which depends on the time zone
        check_qual(db, "timestamptz", [
            ("'10000-01-01 00:00+00'", "10000-01-01 00:00:00+00"),
            ("'0001-01-01 00:00:00-02'", datetime_(1, 1, 1, 2, tzinfo=UTC)),
            ("'0001-01-01 01:00:00+02'", "0001-12-31 23:00:00+00 BC"),
        ])
    # A literal without a zone is in the session time zone; the FDW gets it in UTC.
    table = echo_table(db, "timestamptz")
    assert run(db, f"SELECT count(*) FROM {table} "
                   "WHERE v = '2020-06-01 12:00:00.123456'::timestamptz") == [(1,)]
    [[utc_text]] = run(db, "SELECT to_char('2020-06-01 12:00:00.123456'::timestamptz "
                           "AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')")
    expected = datetime_.strptime(utc_text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
    assert [row[3:] for row in seen(db)] == [("datetime.datetime", repr(expected))] * 2


def test_interval(db):
    check_yield(db, "interval", [
        ("timedelta(days=1, seconds=3661, microseconds=123456)", "'1 day 01:01:01.123456'"),
        ("timedelta(0)", "'00:00:00'"),
        ("timedelta(microseconds=1)", "'00:00:00.000001'"),
        ("timedelta(microseconds=-1)", "'-00:00:00.000001'"),
        ("timedelta(hours=-25)", "'-1 days -01:00:00'"),
        ("timedelta(days=-3, hours=4)", "'-2 days -20:00:00'"),
        ("'1 mon 2 days'", "'1 mon 2 days'"), ("'-1 year +3 mons'", "'-1 year +3 mons'"),  # str
        ("None", None),
    ])
    check_qual(db, "interval", [
        ("'1 day 02:03:04.123456'", timedelta(days=1, seconds=7384, microseconds=123456)),
        ("'00:00'", timedelta(0)),
        ("'-00:00:00.000001'", timedelta(microseconds=-1)),
        ("'-1 day +02:00'", timedelta(hours=-22)),
        ("'25:00:00'", timedelta(hours=25)),
        ("'-3 days -04:00:00'", timedelta(days=-3, hours=-4)),
        ("'1 mon'", "1 mon"), ("'1 year 2 mons 3 days 04:05:06'", "1 year 2 mons 3 days 04:05:06"),
        ("'-1 mon'", "-1 mons"),
        ("'1000000000 days'", "1000000000 days"),   # beyond timedelta: its text
    ])


def test_interval_extremes(db):
    """timedelta's range (+-999999999 days) fits in an interval (int32 days + int64
    microseconds) but not in an int64 count of microseconds."""
    check_yield(db, "interval", [
        ("timedelta.max", "'999999999 days 23:59:59.999999'"),
        ("timedelta.min", "'-999999999 days'"),
        ("timedelta(days=200000000)", "'200000000 days'"),
        ("timedelta(days=-200000000, microseconds=1)", "'-199999999 days -23:59:59.999999'"),
    ], same="f.v = l.v")
    check_qual(db, "interval", [
        ("'999999999 days 23:59:59.999999'", timedelta.max), ("'-999999999 days'", timedelta.min),
    ])


def test_uuid(db):
    u = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
    check_yield(db, "uuid", [
        (f"UUID('{u}')", q(u)), ("UUID(int=0)", "'00000000-0000-0000-0000-000000000000'"),
        ("UUID(int=2**128 - 1)", "'ffffffff-ffff-ffff-ffff-ffffffffffff'"),
        (repr(u.upper()), q(u)),  # str
        ("None", None),
    ])
    check_qual(db, "uuid", [(q(u), UUID(u)),
                            ("'00000000-0000-0000-0000-000000000000'", UUID(int=0))])
    check_any(db, "uuid", f"ARRAY[{q(u)}::uuid, NULL]", [UUID(u), None])
    check_yield_error(db, "uuid", "'zzz'", "22P02")


# --------------------------------------------------------------------------- json


JSON_VALUE = {"a": [1, -2.5, None, True, False, "x \U0001F600 \u00e9"],
              "b": {"c": {}, "d": [], "e": [[1, 2], [3]]}, "\u6F22": "\"quoted\" \\ \n"}


def test_json_and_jsonb_from_python(db):
    import json

    text = json.dumps(JSON_VALUE, ensure_ascii=False)
    for sqltype in ("json", "jsonb"):
        check_yield(db, sqltype, [
            (repr(JSON_VALUE), q(text)),
            ("[1, 'two', [3.5, None]]", "'[1, \"two\", [3.5, null]]'"),
            ("42", "'42'"), ("-1.5", "'-1.5'"), ("1e100", "'1e100'"),
            ("10**30", "'1000000000000000000000000000000'"),
            ("True", "'true'"), ("'\"a str is JSON text\"'", "'\"a str is JSON text\"'"),
            ("'{\"k\": [1, 2]}'", "'{\"k\": [1, 2]}'"),
            ("'[]'", "'[]'"), ("{}", "'{}'"), ("'null'", "'null'"),
            ("{'n': Decimal('0.10')}", "'{\"n\": 0.10}'"),
            ("None", None),
        ], same=SAME_JSON)
    # json keeps a str exactly as given (spacing, key order, duplicate keys).
    as_given = "'{\"b\" : 1,  \"a\":2, \"a\": 3}'"
    check_yield(db, "json", [(as_given, as_given)],
                same=SAME_TEXT_ONLY)
    check_yield_error(db, "jsonb", "'not json'", "22P02")
    check_yield_error(db, "jsonb", "nan", "22")   # NaN is not JSON


@pytest.mark.parametrize("sqltype", ["json", "jsonb"])
def test_decimal_in_json_is_exact(db, sqltype):
    """A Decimal inside a JSON value keeps all its digits (numeric <-> Decimal is lossless;
    JSON numbers have any precision)."""
    check_yield(db, sqltype, [
        ("{'n': Decimal('12345678901234567890.123456789')}",
         "'{\"n\": 12345678901234567890.123456789}'"),
        ("[Decimal('0.1000000000000000055511151231257827')]",
         "'[0.1000000000000000055511151231257827]'"),
        ("Decimal('1E+400')", "'1e400'"),
    ], same=SAME_JSON)


def test_jsonb_to_python(db):
    import json

    text = json.dumps(JSON_VALUE, ensure_ascii=False)
    # Non-integer JSON numbers arrive as Decimal, every digit kept.
    check_qual(db, "jsonb", [
        (q(text), json.loads(text, parse_float=Decimal)),
        ("'[1, \"two\", [3.5, null]]'", [1, "two", [Decimal("3.5"), None]]),
        ("'42'", 42), ("'-1.5'", Decimal("-1.5")), ("'1e100'", 10**100),
        ("'true'", True), ("'{}'", {}), ("'[]'", []), ("'0.1'", Decimal("0.1")),
        ("'12345678901234567890.123456789'", Decimal("12345678901234567890.123456789")),
    ])
    # A JSON string is a str and JSON null is None. Neither can be echoed back as such: a
    # str yielded for a json column is JSON text (Multicorn), None is SQL NULL.
    check_qual(db, "jsonb", [("'null'", None), ("'\"s\"'", "s"), ("'\"\\u00e9\"'", "\u00e9")],
               echo=False)
    check_any(db, "jsonb", "ARRAY['{\"a\": 1}', '[1]', NULL]::jsonb[]", [{"a": 1}, [1], None])


# --------------------------------------------------------------------------- arrays


def test_int_arrays(db):
    check_yield(db, "int[]", [
        ("[1, 2, 3]", "'{1,2,3}'"), ("(1, 2, 3)", "'{1,2,3}'"),
        ("[[1, 2], [3, 4]]", "'{{1,2},{3,4}}'"),
        ("[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]", "'{{{1,2},{3,4}},{{5,6},{7,8}}}'"),
        ("[]", "'{}'"), ("[None]", "'{NULL}'"), ("[1, None, 3]", "'{1,NULL,3}'"),
        ("[[1, None], [None, 4]]", "'{{1,NULL},{NULL,4}}'"),
        ("[[]]", "'{}'"),
        ("[-2**31, 2**31 - 1]", "'{-2147483648,2147483647}'"),
        ("'{5,6}'", "'{5,6}'"),   # str: array_in
        ("[[[[[[1]]]]]]", "'{{{{{{1}}}}}}'"),   # six dimensions, the most PostgreSQL has
        ("None", None),
    ])
    check_yield(db, "int8[]", [("[2**63 - 1, None]", "'{9223372036854775807,NULL}'")])
    table = echo_table(db, "int[]")
    check_qual(db, "int[]", [
        ("'{1,2,3}'", [1, 2, 3]), ("'{{1,2},{3,4}}'", [[1, 2], [3, 4]]),
        ("'{{{1,2},{3,4}},{{5,6},{7,8}}}'", [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]),
        ("'{}'", []), ("'{1,NULL}'", [1, None]), ("'{{NULL,NULL}}'", [[None, None]]),
    ], table=table)
    # Lower bounds other than 1 have no Python form: the elements come, in order.
    check_qual(db, "int[]", [("'[0:1]={7,8}'", [7, 8])], echo=False)


@pytest.mark.parametrize("ragged", ["[[1, 2], [3]]", "[[1, 2], 3]", "[1, [2, 3]]",
                                    "[[[1], [2]], [[3]]]", "[[1], [[2]]]", "[(1, 2), [3]]"])
def test_ragged_lists(db, ragged):
    check_yield_error(db, "int[]", ragged, "2202E")


def test_array_errors(db):
    check_yield_error(db, "int[]", "[[[[[[[1]]]]]]]", "54000")   # seven dimensions
    check_yield_error(db, "int[]", "[1, 'x']", "22P02")
    check_yield_error(db, "int[]", "[2**40]", "22003")
    check_yield_error(db, "varchar(3)[]", "['abcd']", "22001")
    check_yield_error(db, "int[]", "'not an array'", "22P02")


TRICKY = ['a"b', "c,d", "{e}", "f\\g", "\U0001F600 \u6F22", "", "NULL", " sp ", "'", "x y"]


def test_text_arrays(db):
    literal = "ARRAY[" + ", ".join(q(s) for s in TRICKY) + ", NULL]"
    check_yield(db, "text[]", [
        (repr(TRICKY + [None]), literal),
        (repr([TRICKY[:2], TRICKY[2:4]]), f"ARRAY[ARRAY[{q(TRICKY[0])}, {q(TRICKY[1])}], "
                                           f"ARRAY[{q(TRICKY[2])}, {q(TRICKY[3])}]]"),
        ("[]", "'{}'"),
    ])
    check_qual(db, "text[]", [
        (literal, TRICKY + [None]), ("'{}'", []), ("'{{a,b},{c,d}}'", [["a", "b"], ["c", "d"]]),
    ])


def test_other_arrays(db):
    check_yield(db, "numeric[]", [
        (f"[Decimal('1.50'), Decimal('NaN'), None, Decimal('{BIG}'), Decimal('-Infinity')]",
         f"ARRAY['1.50', 'NaN', NULL, {q(BIG)}, '-Infinity']"),
    ])
    check_qual(db, "numeric[]", [
        (f"ARRAY['1.50', 'NaN', NULL, {q(BIG)}]",
         [Decimal("1.50"), Decimal("NaN"), None, Decimal(BIG)]),
    ])
    check_yield(db, "date[]", [
        ("[date(2020, 1, 1), 'infinity', None, date(1, 1, 1)]",
         "ARRAY['2020-01-01', 'infinity', NULL, '0001-01-01']"),
    ])
    check_qual(db, "date[]", [("'{2020-01-01,infinity,NULL}'",
                               [date(2020, 1, 1), "infinity", None])])
    check_yield(db, "jsonb[]", [
        ("[{'a': [1, 2]}, [1, 2], None, 'null', '\"s\"', 3]",
         "ARRAY['{\"a\": [1, 2]}', '[1, 2]', NULL, 'null', '\"s\"', '3']"),
        ("[[1, 2], [3]]", "ARRAY['[1, 2]', '[3]']"),   # lists are JSON values here
    ])
    check_qual(db, "jsonb[]", [("ARRAY['{\"a\": [1, 2]}', '[1, 2]']", [{"a": [1, 2]}, [1, 2]])])
    check_yield(db, "timestamptz[]", [
        ("[datetime(2020, 1, 1, 12, 0, 0, 5, tzinfo=utc), None]",
         "ARRAY['2020-01-01 12:00:00.000005+00', NULL]"),
    ])
    check_yield(db, "bytea[]", [("[b'\\x00\\xff', b'']", "ARRAY['\\x00ff'::bytea, '']")])
    check_yield(db, "uuid[]", [("[UUID(int=1)]",
                                "ARRAY['00000000-0000-0000-0000-000000000001'::uuid]")])
    check_yield(db, "interval[]", [("[timedelta(seconds=1), '1 mon']",
                                    "ARRAY['1 second', '1 mon']")])
    check_yield(db, "float8[]", [("[nan, -0.0, 5e-324]", "ARRAY['NaN', '-0', '5e-324']::float8[]")],
                same="f.v::text = l.v::text")


# --------------------------------------------------------------------------- domains, enums, inet


def test_domain(db):
    run(db, "CREATE DOMAIN posint AS int CHECK (VALUE > 0)")
    run(db, "CREATE DOMAIN short_text AS text CHECK (length(VALUE) < 5)")
    run(db, "CREATE DOMAIN required AS int NOT NULL")
    check_yield(db, "posint", [("1", "1"), ("2**31 - 1", "2147483647"), ("'7'", "7"),
                               ("None", None)])
    check_yield(db, "short_text", [("'\U0001F600\U0001F600\U0001F600\U0001F600'",
                                    q("\U0001F600" * 4)), ("None", None)])
    check_yield(db, "required", [("5", "5")])
    error = check_yield_error(db, "posint", "0", "23514")
    assert "posint" in error.diag.message_primary
    check_yield_error(db, "posint", "-1", "23514")
    check_yield_error(db, "posint", "'-3'", "23514")   # str: the domain's input checks it too
    check_yield_error(db, "short_text", "'abcde'", "23514")
    check_yield_error(db, "required", "None", "23502")
    check_yield_error(db, "posint[]", "[1, 0]", "23514")
    # `v = 5::posint` is a CoerceToDomain, evaluated when the scan starts.
    check_qual(db, "posint", [("5", 5)], phases=("scan",))
    check_qual(db, "int", [("5", 5)], table=echo_table(db, "posint"))


def test_enum_and_inet(db):
    run(db, "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy \U0001F600')")
    check_yield(db, "mood", [("'sad'", "'sad'"), ("'happy \U0001F600'", q("happy \U0001F600")),
                             ("None", None)])
    check_yield_error(db, "mood", "'angry'", "22P02")
    check_qual(db, "mood", [("'ok'", "ok"), (q("happy \U0001F600"), "happy \U0001F600")])
    check_any(db, "mood", "ARRAY['sad', 'ok']::mood[]", ["sad", "ok"])
    check_yield(db, "inet", [
        ("ipaddress.ip_address('192.168.0.1')", "'192.168.0.1'"),
        ("ipaddress.ip_address('::1')", "'::1'"),
        ("ipaddress.ip_interface('10.1.2.3/8')", "'10.1.2.3/8'"),
        ("'2001:db8::1/64'", "'2001:db8::1/64'"), ("None", None),
    ])
    check_yield_error(db, "inet", "'999.1.1.1'", "22P02")
    check_qual(db, "inet", [("'192.168.0.1/24'", "192.168.0.1/24"), ("'::1'", "::1")])


# --------------------------------------------------------------------------- wrong types


@pytest.mark.parametrize("sqltype,python,sqlstates", [
    # A container for a scalar column: the value's type does not match the column's.
    ("int", "{'a': 1}", ("42804", "22")),
    ("int", "[1]", ("42804", "22")),
    ("date", "[2020, 1, 1]", ("42804", "22")),
    ("numeric", "(1, 2)", ("42804", "22")),
    # Other objects go through their text, which the type's input rejects.
    ("int", "1.5", "22P02"),
    ("int", "'1.5'", "22P02"),
    ("int", "object()", "22P02"),
    ("bigint", "Decimal('1.5')", "22P02"),
    ("bool", "'maybe'", "22P02"),
    ("bool", "1.5", "22P02"),
    ("float8", "'abc'", "22P02"),
    ("float8", "object()", "22P02"),
    ("date", "12", "22"),
    ("date", "time(1, 2)", "22"),
    ("time", "date(2020, 1, 1)", "22"),
    ("timestamp", "'yesterday-ish'", "22"),
    ("timestamptz", "time(1, 2)", "22"),
    ("interval", "'eleventy'", "22"),
    ("uuid", "12", "22P02"),
    ("uuid", "b'x'", "22P02"),
    ("jsonb", "object()", ("22", "42804")),   # not JSON serializable: a bad value
    ("jsonb", "{1j: 2}", ("22", "42804")),
    ("int[]", "12", "22P02"),
    ("int[]", "{'a': 1}", ("42804", "22")),
])
def test_wrong_python_type(db, sqltype, python, sqlstates):
    check_yield_error(db, sqltype, python, sqlstates)


def test_bad_value_in_a_dict_row_names_its_column(db):
    ft = values_table(db, "a int, b date, c text", "[{'a': 1, 'b': 'soon', 'c': 'x'}]")
    error = error_of(db, f"SELECT * FROM {ft}")
    assert error.pgcode[:2] == "22"
    assert f'column "b" of foreign table "{ft}"' in error.diag.context


# --------------------------------------------------------------------------- str for typed columns


def test_str_for_any_type(db):
    """Multicorn compatibility: a str is read by the column type's input function."""
    run(db, "CREATE TYPE mood AS ENUM ('sad', 'ok')")
    cases = [
        ("int2", "'-5'", "-5"), ("int4", "'42'", "42"), ("int8", "' 9223372036854775807 '", None),
        ("float4", "'1.5'", None), ("float8", "'-Infinity'", None), ("numeric", "'1.50'", None),
        ("bool", "'t'", "true"), ("bool", "'off'", "false"), ("date", "'2020-01-01'", None),
        ("time", "'12:34:56.5'", None), ("timestamp", "'2020-01-01 12:00'", None),
        ("timestamptz", "'2020-01-01 12:00+05'", None), ("interval", "'1 day 2 hours'", None),
        ("uuid", "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", None), ("bytea", "'\\\\x00ff'", None),
        ("jsonb", "'[1, 2]'", None), ("int[]", "'{{1,2},{3,4}}'", None),
        ("text[]", "'{a,\"b c\"}'", None), ("mood", "'ok'", None), ("inet", "'10.0.0.1'", None),
        ("varchar(5)", "'abc'", None), ("char(3)", "'a'", None), ("name", "'n'", None),
    ]
    bad = []
    for sqltype, python, literal in cases:
        ft = values_table(db, f"v {sqltype}", f"[({python},)]")
        literal = literal or q(eval(python))
        [[ok]] = run(db, f"SELECT v::text = ({literal})::{sqltype}::text FROM {ft}")
        if not ok:
            bad.append(f"{python} for {sqltype}")
    assert not bad


# --------------------------------------------------------------------------- a LATIN1 database


@pytest.fixture
def latin1(pg):
    name = f"latin1_{next(_table_numbers)}"
    pg.sql(f"CREATE DATABASE {name} ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' "
           "TEMPLATE template0")
    conn = pg.connect(name)
    try:
        conn.set_client_encoding("UTF8")
        run(conn, "CREATE EXTENSION sgfdw")
        yield conn
    finally:
        conn.close()
        pg.drop_database(name)


def test_latin1_database(latin1):
    """Text crosses between Python (Unicode) and the database encoding. The FDW's
    expressions are written with ascii() so that the options themselves are plain ASCII."""
    db = latin1
    assert run(db, "SHOW server_encoding") == [("LATIN1",)]
    representable = "caf\u00e9 \u00fc\u00df \u00a3 \u00ff"
    check_yield(db, "text", [(ascii(representable), q(representable)), ("'plain'", "'plain'")])
    check_yield(db, "varchar(20)", [(ascii(representable), q(representable))])
    check_yield(db, "text[]", [(ascii([representable, None]), f"ARRAY[{q(representable)}, NULL]")])
    check_yield(db, "jsonb", [(ascii({"k\u00e9": representable}),
                               q('{"k\u00e9": "' + representable + '"}'))], same=SAME_JSON)
    check_qual(db, "text", [(q(representable), representable)])
    check_qual(db, "name", [(q("\u00e9t\u00e9"), "\u00e9t\u00e9")])
    check_qual(db, "text[]", [(f"ARRAY[{q(representable)}]", [representable])])
    check_qual(db, "jsonb", [(q('{"k\u00e9": "\u00ff"}'), {"k\u00e9": "\u00ff"})])
    # Characters LATIN1 cannot hold: untranslatable_character, the column in CONTEXT.
    for sqltype, python in [("text", "'\\u20ac uro'"), ("varchar(20)", "'\\u20ac uro'"),
                            ("name", "'\\u20ac'"), ("text[]", "['\\u20ac']"),
                            ("jsonb", "'\"\\u20ac\"'"), ("jsonb", "{'k': '\\u20ac'}"),
                            ("text", "'\\U0001F600'")]:
        assert python.isascii()
        check_yield_error(db, sqltype, python, "22P05")
