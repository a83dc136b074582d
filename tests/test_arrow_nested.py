"""Nested Arrow columns through the batch lane (docs/bridge-contract.md, "Arrow batches").

Structs, maps and lists into json/jsonb are the JSON text json.dumps() writes for the
row path's to_pylist() values (maps as dicts); lists of lists into an array column are a
multidimensional array, rectangular as on the row path. Every case is scanned as Arrow
batches and as Python rows (tests/fdws/arrowfdw.py, mode 'rows'), and both must give the
same text, or the same SQLSTATE.
"""

from __future__ import annotations

import pytest
from test_arrow import (  # noqa: F401 (no_crash: the autouse fixture)
    arrow_table, assert_same, assert_same_also_sliced, batch, no_crash)

from fdwtest import assert_usable, error_of, execute

STRUCT = ("pa.struct([('z', pa.int64()), ('a', pa.utf8()), ('f', pa.float64()), "
          "('d', pa.decimal128(10, 3)), ('b', pa.bool_()), ('n', pa.null()), "
          "('l', pa.list_(pa.int32())), ('s', pa.struct([('x', pa.float32()), "
          "('y', pa.large_utf8())]))])")
STRUCT_VALUES = (
    "[{'z': 1, 'a': 'plain', 'f': 0.1, 'd': Decimal('1.500'), 'b': True, 'n': None, "
    "'l': [1, None, 3], 's': {'x': 0.1, 'y': 'inner'}}, "
    "{'z': -2**63, 'a': 'quote \" back \\\\ nl \\n tab \\t cr \\r bs \\b ff \\f "
    "ctl \\x01\\x1f del \\x7f é 日本 \\U0001F600 /', 'f': 1e300, 'd': Decimal('-0.001'), "
    "'b': False, 'n': None, 'l': [], 's': None}, "
    "None, "
    "{'z': None, 'a': None, 'f': None, 'd': None, 'b': None, 'n': None, 'l': None, "
    "'s': {'x': None, 'y': None}}, "
    "{'z': 0, 'a': '', 'f': -0.0, 'd': Decimal('0'), 'b': True, 'n': None, "
    "'l': [2**31 - 1], 's': {'x': 3.4e38, 'y': ''}}]")


def json_cases():
    for pg_type in ("json", "jsonb"):
        yield STRUCT, STRUCT_VALUES, pg_type
        yield ("pa.map_(pa.utf8(), pa.int64())",
               "[[('b', 1), ('a', 2)], [], None, [('k', None)], [('d', 1), ('e', 2), ('d', 3)]]",
               pg_type)
        yield ("pa.map_(pa.int32(), pa.list_(pa.utf8()))",
               "[[(3, ['x']), (-1, None), (2, [])], [(7, ['a', 'b']), (7, ['c'])], None]",
               pg_type)
        yield ("pa.map_(pa.uint8(), pa.struct([('v', pa.float16())]))",
               "[[(255, {'v': 1.5}), (0, None)], [(1, {'v': None})]]", pg_type)
        yield ("pa.list_(pa.struct([('k', pa.utf8()), ('v', pa.int8())]))",
               "[[{'k': 'a', 'v': 1}, None, {'k': None, 'v': -1}], [], None]", pg_type)
        yield "pa.list_(pa.float64())", "[[1.0, 2.5, 1e-7, 123456789012345680.0], None]", pg_type
        yield ("pa.large_list(pa.list_(pa.int64()))", "[[[1, 2], [], None, [3]], [[]], None]",
               pg_type)
        yield ("pa.struct([('d', pa.decimal128(38, 10)), ('e', pa.decimal128(5, -2)), "
               "('g', pa.decimal256(60, 3)), ('h', pa.decimal128(20, 6))])",
               "[{'d': Decimal('1E-10'), 'e': Decimal('12300'), "
               "'g': Decimal('-' + '9' * 57 + '.125'), 'h': Decimal('0.000001')}, "
               "{'d': Decimal('0'), 'e': Decimal('0'), 'g': Decimal('0'), "
               "'h': Decimal('-12345678901234.5')}, "
               "{'d': Decimal('123.4560000000'), 'e': Decimal('-100'), 'g': Decimal('1'), "
               "'h': Decimal('0.000010')}]", pg_type)
        yield ("pa.struct([('a', pa.uint64()), ('b', pa.int8()), ('c', pa.string_view())])",
               "[{'a': 2**64 - 1, 'b': -128, 'c': 'a view string longer than twelve'}, "
               "{'a': 0, 'b': None, 'c': 'short'}]", pg_type)


@pytest.mark.parametrize("arrow_type, values, pg_type", list(json_cases()),
                         ids=lambda value: str(value)[:40])
def test_nested_into_json_as_the_row_path_writes_it(db, arrow_type, values, pg_type):
    assert_same_also_sliced(db, f"id int4, v {pg_type}", batch(arrow_type, values))


def test_json_text_is_exactly_json_dumps(db):
    """The json column keeps the text as written: key order, spacing, repeated keys."""
    items = batch("pa.map_(pa.utf8(), pa.struct([('q', pa.utf8())]))",
                  "[[('b', {'q': 'x\"y'}), ('a', None), ('b', {'q': None})]]")
    table = arrow_table(db, "v json", items)
    assert execute(db, f"SELECT v::text FROM {table}") == [
        ('{"b": {"q": null}, "a": null}',)]


def test_dictionary_strings_and_sliced_children_in_structs(db):
    items = ("[pa.record_batch({'v': pa.StructArray.from_arrays("
             "[pa.array(['p', 'q', None, 'p']).dictionary_encode(), "
             "pa.array([10, 20, 30, 40, 50]).slice(1)], ['s', 'i'])}).slice(1)]")
    rows = assert_same(db, "v jsonb", items, "v::text")
    assert rows == [('{"i": 30, "s": "q"}',), ('{"i": 40, "s": null}',),
                    ('{"i": 50, "s": "p"}',)]


def errors(db, columns: str, items: str) -> tuple[str, str]:
    """The SQLSTATE of the scan as batches and as Python rows."""
    codes = []
    for mode in ("arrow", "rows"):
        table = arrow_table(db, columns, items, mode)
        codes.append(error_of(db, f"SELECT * FROM {table}").pgcode)
        assert_usable(db)
    return codes[0], codes[1]


@pytest.mark.parametrize("arrow_type, values, pg_type, sqlstate", [
    # json has no NaN or Infinity: the json type's input refuses what json.dumps wrote
    ("pa.struct([('f', pa.float64())])", "[{'f': float('nan')}]", "jsonb", "22P02"),
    ("pa.list_(pa.float32())", "[[float('-inf')]]", "json", "22P02"),
    # jsonb refuses \u0000, json keeps it
    ("pa.struct([('s', pa.utf8())])", "[{'s': 'a\\x00b'}]", "jsonb", "22P05"),
])
def test_values_json_refuses_as_the_row_path(db, arrow_type, values, pg_type, sqlstate):
    assert errors(db, f"id int, v {pg_type}", batch(arrow_type, values)) == (sqlstate, sqlstate)


def test_nul_in_a_json_string(db):
    rows = assert_same(db, "id int, v json",
                       batch("pa.struct([('s', pa.utf8())])", "[{'s': 'a\\x00b'}]"), "v::text")
    assert rows == [('{"s": "a\\u0000b"}',)]


@pytest.mark.parametrize("arrow_type, values, pg_type, named", [
    ("pa.struct([('d', pa.date32())])", "[{'d': None}]", "jsonb", "date32"),
    ("pa.struct([('b', pa.binary())])", "[{'b': None}]", "json", "binary"),
    ("pa.map_(pa.float64(), pa.int64())", "[[(1.5, 1)]]", "jsonb", "map with float64 keys"),
    ("pa.map_(pa.utf8(), pa.int64())", "[[('a', 1)]]", "text", "map"),
    ("pa.struct([('a', pa.int64())])", "[{'a': 1}]", "int4[]", "struct"),
    ("pa.struct([('a', pa.list_(pa.timestamp('us')))])", "[{'a': []}]", "json",
     "timestamp[us]"),
])
def test_nested_types_json_cannot_take(db, arrow_type, values, pg_type, named):
    table = arrow_table(db, f"id int, v {pg_type}", batch(arrow_type, values))
    error = error_of(db, f"SELECT v FROM {table}")
    assert error.pgcode == "42804", error.pgerror
    assert f"Arrow {named}" in error.pgerror and '"v"' in error.pgerror
    assert_usable(db)


def test_struct_with_repeated_field_names(db):
    items = ("[pa.record_batch({'v': pa.StructArray.from_arrays("
             "[pa.array([1]), pa.array([2])], ['a', 'a'])})]")
    error = error_of(db, f"SELECT v FROM {arrow_table(db, 'v jsonb', items)}")
    assert error.pgcode == "42804" and "duplicate field names" in error.pgerror
    assert_usable(db)


# ---------------------------------------------------------------- multidimensional arrays

def array_cases():
    two = "[[[1, 2], [3, None]], [[5], [6]], [], [[]], [[], []], None, [None, None], [[7, 8]]]"
    for arrow_type in ("pa.list_(pa.list_(pa.int64()))",
                       "pa.large_list(pa.large_list(pa.int32()))"):
        for pg_type in ("int8[]", "int4[]", "numeric[]", "float8[]"):
            yield arrow_type, two, pg_type
    yield ("pa.list_(pa.list_(pa.int16(), 2), 2)", "[[[1, 2], [3, 4]], [None, None], None]",
           "int2[]")
    yield ("pa.list_(pa.list_(pa.list_(pa.utf8())))",
           "[[[['a', 'b']], [['c', None]]], [[[], []]], [[['é']]]]", "text[]")
    yield ("pa.list_(pa.list_(pa.decimal128(5, 2)))",
           "[[[Decimal('1.50'), None]], [[Decimal('-0.01')], [Decimal('2')]]]", "numeric(6, 3)[]")
    # json[]: only the outer list is the array, inner lists are JSON (as on the row path)
    yield "pa.list_(pa.list_(pa.int64()))", "[[[1, 2], [3]], [None]]", "jsonb[]"


@pytest.mark.parametrize("arrow_type, values, pg_type", list(array_cases()),
                         ids=lambda value: str(value)[:40])
def test_lists_of_lists_as_multidimensional_arrays(db, arrow_type, values, pg_type):
    assert_same_also_sliced(db, f"id int4, v {pg_type}", batch(arrow_type, values))


def test_two_dimensions_read_back(db):
    items = batch("pa.list_(pa.list_(pa.int64()))", "[[[1, 2], [3, 4]], [[]]]")
    table = arrow_table(db, "id int, v int8[]", items)
    assert execute(db, f"SELECT v, array_dims(v), v[2][1] FROM {table}") == [
        ([[1, 2], [3, 4]], "[1:2][1:2]", 3), ([], None, None)]


@pytest.mark.parametrize("values", [
    "[[[1], [1, 2]]]", "[[[1, 2], None]]", "[[None, [1]]]", "[[[], [1]]]", "[[[1], []]]",
])
def test_ragged_lists_are_refused_as_on_the_row_path(db, values):
    items = batch("pa.list_(pa.list_(pa.int64()))", values)
    assert errors(db, "id int, v int8[]", items) == ("2202E", "2202E")
    table = arrow_table(db, "id int, v int8[]", items)
    assert "matching dimensions" in error_of(db, f"SELECT v FROM {table}").pgerror


def test_too_many_dimensions(db):
    deep = "pa.int64()"
    value = "1"
    for _ in range(7):
        deep = f"pa.list_({deep})"
        value = f"[{value}]"
    items = batch(deep, f"[{value}]")
    assert errors(db, "id int, v int8[]", items) == ("54000", "54000")
