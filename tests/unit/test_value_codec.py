"""The value codec (sgfdw.value_codec) without a server: json text that keeps every digit
of a Decimal, json text read back with Decimals, and the hstore text of a mapping."""
from __future__ import annotations

import datetime
import decimal
import json
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sgfdw.value_codec import json_dumps, json_loads, mapping_text  # noqa: E402

LONG = decimal.Decimal("12345678901234567890.123456789012345678901")


def test_decimals_keep_every_digit_at_any_depth():
    value = {"n": LONG, "list": [decimal.Decimal("0.10"), {"deep": (LONG, 1)}]}
    text = json_dumps(value)
    assert text == ('{"n": 12345678901234567890.123456789012345678901, '
                    '"list": [0.10, {"deep": [12345678901234567890.123456789012345678901, 1]}]}')
    assert json_loads(text) == {"n": LONG, "list": [decimal.Decimal("0.10"),
                                                    {"deep": [LONG, 1]}]}


def test_a_string_that_looks_like_the_placeholder_stays_a_string():
    text = json_dumps(["\x00sgfdw-decimal-x:0", decimal.Decimal("1.5")])
    assert json.loads(text) == ["\x00sgfdw-decimal-x:0", 1.5]


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_decimals_are_not_json(bad):
    with pytest.raises(ValueError):
        json_dumps({"n": decimal.Decimal(bad)})


def test_other_python_values_as_json():
    value = [datetime.date(2024, 2, 29), datetime.time(1, 2, 3, 4),
             datetime.datetime(2024, 1, 1, 12, 0), uuid.UUID(int=1), b"caf\xc3\xa9",
             frozenset({"only"}), "ünï"]
    assert json.loads(json_dumps(value)) == [
        "2024-02-29", "01:02:03.000004", "2024-01-01T12:00:00",
        "00000000-0000-0000-0000-000000000001", "café", ["only"], "ünï"]
    with pytest.raises(TypeError):
        json_dumps(object())


def test_json_loads_reads_non_integers_as_decimal():
    assert json_loads('[1, 1.5, "x", null]') == [1, decimal.Decimal("1.5"), "x", None]
    assert isinstance(json_loads("1"), int)


def test_mapping_text_is_hstore_text():
    assert mapping_text({"k": "v", 'q"uote': "back\\slash", "n": None}) == \
        '"k"=>"v", "q\\"uote"=>"back\\\\slash", "n"=>NULL'
    assert mapping_text({1: 2}) == '"1"=>"2"'
    assert mapping_text(["not", "a", "mapping"]) is None
