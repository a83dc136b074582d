"""Python values as the text of json/jsonb and hstore columns, and json text back.

One codec for the bridge (columns of those types), the wrappers (values sent to a remote
json column, SQLAlchemy's JSON serializer) and anything else that must write a Decimal
with every digit: the json module alone would round it through float.
"""
from __future__ import annotations

import datetime
import decimal
import json
import uuid
from collections.abc import Mapping
from typing import Any

__all__ = ["json_dumps", "json_loads", "mapping_text"]


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _decimals_as_placeholders(value: Any, marker: str, digits: list[str]) -> Any:
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        digits.append(str(value))
        return f"{marker}{len(digits) - 1}"
    if isinstance(value, dict):
        return {key: _decimals_as_placeholders(item, marker, digits)
                for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_decimals_as_placeholders(item, marker, digits) for item in value]
    return value


def json_loads(text: str) -> Any:
    """Python value of json/jsonb text; non-integer numbers as Decimal, every digit kept."""
    return json.loads(text, parse_float=decimal.Decimal)


def _hstore_quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def mapping_text(value: Any) -> str | None:
    """hstore text of a mapping (``"k"=>"v", "n"=>NULL``), as Multicorn writes a mapping
    for a column of a type read from text; None if the value is not a mapping."""
    if not isinstance(value, Mapping):
        return None
    return ", ".join(
        _hstore_quoted(str(key)) + "=>" +
        ("NULL" if item is None else _hstore_quoted(str(item)))
        for key, item in value.items())


def json_dumps(value: Any) -> str:
    """JSON text of a Python value for a json/jsonb column.

    Decimals are written with all their digits: the json module only writes numbers
    from int and float, so they go through placeholder strings replaced afterwards.
    """
    digits: list[str] = []
    marker = f"\x00sgfdw-decimal-{uuid.uuid4().hex}:"
    prepared = _decimals_as_placeholders(value, marker, digits)
    text = json.dumps(prepared, default=_json_default, ensure_ascii=False)
    if not digits:
        return text
    quoted_marker = json.dumps(marker)[1:-1]
    for index in range(len(digits) - 1, -1, -1):
        text = text.replace(f'"{quoted_marker}{index}"', digits[index])
    return text
