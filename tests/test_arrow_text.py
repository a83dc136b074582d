"""Text of Arrow string columns (utf8, large_utf8, dictionaries) into text and varchar.

A batch's strings are checked for UTF-8 once as a whole where they can be; these tests
hold that to the per-value rules: a character split between two values, bytes that are
not UTF-8 and NUL are 22021 naming the column, while bytes under a NULL or in a
dictionary entry no row uses are never read as text. The arrays are built from raw
buffers (pa.Array.from_buffers), as a producer that does not validate hands them over.
"""

from __future__ import annotations

import pytest

from test_arrow import (  # noqa: F401 (no_crash: the autouse fixture)
    arrow_table, assert_same_also_sliced, batch, no_crash)

from fdwtest import assert_usable, error_of, execute


def strings(data: bytes, ends: list[int], validity: str = "None",
            arrow_type: str = "pa.utf8()") -> str:
    """Expression: a string array of the raw bytes cut at ends (offsets 0, *ends)."""
    width = "pa.int64()" if "large" in arrow_type else "pa.int32()"
    return (f"pa.Array.from_buffers({arrow_type}, {len(ends)}, [{validity}, "
            f"pa.array({[0, *ends]}, {width}).buffers()[1], pa.py_buffer({data!r})])")


def one_column(array: str) -> str:
    return f"[pa.record_batch({{'v': {array}}})]"


@pytest.mark.parametrize("array", [
    strings(b"a\xc3\xa9b", [2, 4]),                          # é split between two values
    strings(b"ok\xff", [2, 3]),                              # not UTF-8
    strings(b"okab\x00c", [2, 6]),                           # NUL
    strings(b"a\xc3\xa9b", [2, 4], arrow_type="pa.large_utf8()"),
    "pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int8()), "
    + strings(b"a\xc3\xa9b", [2, 4]) + ")",
])
@pytest.mark.parametrize("pg_type", ["text", "varchar", "varchar(10)"])
def test_strings_that_are_not_utf8_alone_are_22021_naming_the_column(db, array, pg_type):
    table = arrow_table(db, f"v {pg_type}", one_column(array))
    error = error_of(db, f"SELECT v FROM {table}")
    assert error.pgcode == "22021", error.pgerror
    assert 'column "v"' in (error.diag.context or ""), error.pgerror
    assert_usable(db)


def test_bytes_under_a_null_or_in_an_unused_entry_are_not_read(db):
    under_null = strings(b"a\xffb", [1, 2, 3], validity="pa.array([True, False, True])"
                         ".buffers()[1]")
    table = arrow_table(db, "v text", one_column(under_null))
    assert execute(db, f"SELECT v FROM {table}") == [("a",), (None,), ("b",)]
    unused = ("pa.DictionaryArray.from_arrays(pa.array([0, 2, 0], pa.int16()), "
              + strings(b"x\xffy", [1, 2, 3]) + ")")
    table = arrow_table(db, "v varchar(1)", one_column(unused))
    assert execute(db, f"SELECT v FROM {table}") == [("x",), ("y",), ("x",)]


@pytest.mark.parametrize("pg_type, values", [
    ("varchar(5)", "['héllo', 'hé', '', None, 'abcde']"),     # 6 bytes, 5 characters
    ("varchar(3)", "['abc  ', 'ab ', 'a']"),                  # trailing spaces cut
    ("varchar", "['héllo', '', None]"),
    ("text", "['héllo', '', None, 'x' * 1000]"),
])
@pytest.mark.parametrize("arrow_type", ["pa.utf8()", "pa.large_utf8()",
                                        "pa.string_view()"])
def test_text_and_varchar_as_the_row_path(db, pg_type, values, arrow_type):
    assert_same_also_sliced(db, f"id int, v {pg_type}", batch(arrow_type, values))


def test_varchar_longer_than_its_length_is_22001(db):
    table = arrow_table(db, "v varchar(3)", one_column("pa.array(['abé', 'abcé'])"))
    error = error_of(db, f"SELECT v FROM {table}")
    assert error.pgcode == "22001", error.pgerror
    assert 'column "v"' in (error.diag.context or ""), error.pgerror
    assert_usable(db)
