"""Python values (as the bridge passes them) -> psycopg2 query parameters.

Values always travel as bound parameters: psycopg2 quotes and escapes them; nothing here
builds SQL text out of a value. What this module decides is the *form* of a parameter so
that the remote server reads it as the local server meant it:

* scalars keep psycopg2's adaptation (ints as numbers, str as untyped literals that take
  the column's type, dates/timestamps typed), except floats, which are sent typed as
  ``float8`` (psycopg2 would send them as numeric literals), non-finite Decimals
  (psycopg2 turns Infinity into NaN), UUIDs (not adapted by default) and JSON values;
* lists (``col = ANY(...)`` and array columns): numbers, dates, ... as a typed ``ARRAY[]``
  (so a bigint value next to an int column stays a bigint, as it was locally); lists
  holding strings as an untyped array literal ``'{...}'`` that takes the column's array
  type (an ``ARRAY['a']`` would be text[], which does not compare with, e.g., uuid or
  enum columns).
"""
from __future__ import annotations

import datetime
import decimal
import math
import uuid
from typing import Any

from psycopg2.extensions import adapt

from multicorn import UNBOUND
from sgfdw.type_oids import JSON_ARRAY_TYPES, JSON_TYPES
from sgfdw.value_codec import json_dumps

__all__ = ["can_bind", "qual_param", "write_param", "array_literal", "DEFAULT"]

_SCALARS = (bool, int, float, decimal.Decimal, str, bytes, bytearray, memoryview,
            datetime.date, datetime.time, datetime.datetime, datetime.timedelta, uuid.UUID)
# Leaf types psycopg2 adapts into typed ARRAY[] elements.
_TYPED_LEAVES = (bool, int, float, decimal.Decimal, bytes, bytearray, memoryview,
                 datetime.date, datetime.time, datetime.datetime, datetime.timedelta)


class DefaultMarker:
    """A value that stands for the DEFAULT keyword in an INSERT (not a parameter)."""

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT = DefaultMarker()


class Typed:
    """A parameter sent as ``<psycopg2 literal>::<type>``."""

    def __init__(self, value: Any, type_name: str) -> None:
        self.value = value
        self.type_name = type_name

    def __conform__(self, protocol: Any) -> "Typed":
        return self

    def prepare(self, conn: Any) -> None:
        self._conn = conn

    def getquoted(self) -> bytes:
        inner = adapt(self.value)
        conn = getattr(self, "_conn", None)
        if conn is not None and hasattr(inner, "prepare"):
            inner.prepare(conn)
        return inner.getquoted() + b"::" + self.type_name.encode("ascii")


def _float_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def _scalar(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return Typed(_float_text(value), "float8")
    if isinstance(value, decimal.Decimal) and not value.is_finite():
        return Typed("NaN" if value.is_nan() else str(value), "numeric")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    return value


def can_bind(value: Any, local_type_oid: int = 0) -> bool:
    """Whether a qual value can be sent as a parameter (else the qual is not pushed)."""
    if value is UNBOUND:
        return True     # EXPLAIN of a parameter whose value is not known yet
    if local_type_oid in JSON_TYPES:
        return True     # any JSON value, sent as its JSON text
    if value is None or isinstance(value, _SCALARS):
        return True
    if isinstance(value, (list, tuple)):
        return all(can_bind(item) for item in value)
    return False


def _leaves(value: Any):
    for item in value:
        if isinstance(item, (list, tuple)):
            yield from _leaves(item)
        else:
            yield item


def _element_text(value: Any, json_elements: bool) -> str | None:
    """An array element's text as the element type's input function reads it."""
    if json_elements:
        return json_dumps(value)
    if value is None:
        return None
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return f"{value.days} days {value.seconds} seconds {value.microseconds} microseconds"
    if isinstance(value, dict):
        return json_dumps(value)
    return str(value)


def array_literal(values: Any, json_elements: bool = False) -> str:
    """PostgreSQL's text form of an array: ``{"a","b",NULL,{...}}``; every element
    double-quoted with ``"`` and ``\\`` escaped, so any text is safe inside."""
    parts = []
    for item in values:
        if isinstance(item, (list, tuple)) and not json_elements:
            parts.append(array_literal(item))
            continue
        text = _element_text(item, json_elements)
        if text is None:
            parts.append("NULL")
        else:
            parts.append('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(parts) + "}"


def _list_param(values: Any) -> Any:
    leaves = list(_leaves(values))
    if leaves and all(isinstance(v, _TYPED_LEAVES) or v is None for v in leaves) and \
            any(v is not None for v in leaves):
        return _typed_list(values)
    return array_literal(values)


def _typed_list(values: Any) -> list:
    return [_typed_list(v) if isinstance(v, (list, tuple)) else _scalar(v) for v in values]


def qual_param(value: Any, local_type_oid: int = 0, list_operator: bool = False) -> Any:
    """The parameter for a qual's value (call can_bind first). ``list_operator``: the
    value is the list of an ``op ANY/ALL (...)`` qual."""
    if value is UNBOUND:
        return value    # only ever shown as $n (EXPLAIN), never sent
    if local_type_oid in JSON_TYPES and value is not None:
        if list_operator and isinstance(value, (list, tuple)):
            return array_literal(value, json_elements=True)
        return json_dumps(value)
    if isinstance(value, (list, tuple)):
        return _list_param(value)
    return _scalar(value)


def write_param(value: Any, local_type_oid: int) -> Any:
    """The parameter for a value written into a column of this local type."""
    if value is None or value is UNBOUND:
        return value    # UNBOUND: only ever shown as $n (EXPLAIN), never sent
    if local_type_oid in JSON_TYPES:
        return json_dumps(value)
    if isinstance(value, (list, tuple)):
        return array_literal(value, json_elements=local_type_oid in JSON_ARRAY_TYPES)
    if isinstance(value, dict):
        return json_dumps(value)
    return _scalar(value)

