"""FDWs for the value-conversion tests (tests/test_types.py).

ValuesFdw   yields the rows given by the table option `rows`: a Python expression,
            evaluated in NAMESPACE at each scan, for a list of rows (tuples by position
            or dicts by column name). So a test states the exact Python objects the FDW
            yields, e.g. OPTIONS (rows '[(1, Decimal("1.50")), (2, None)]').
EchoFdw     a table with one column `v`: for each qual on `v` it yields the qual's value
            back as a row (one row per element for `v = ANY(list)`, a NULL for IS NULL;
            none with the option echo 'off'), and records every qual it is given, at
            plan time (get_rel_size) and at scan time (execute), in this backend's SEEN.
SeenFdw     the quals the last EchoFdw planning/scan of this backend was given:
            (phase, field, operator, value type, repr(value)). Reading it does not change it.

The types and reprs are reported as text so that the test, running the same Python
version, compares them with repr() of the value it expects.
"""

from __future__ import annotations

import datetime
import decimal
import ipaddress
import math
import uuid
from typing import Any

from multicorn import ForeignDataWrapper


class Thing:
    """An arbitrary object: a text column takes str() of it."""

    def __str__(self) -> str:
        return "thing \U0001F600"


class BadStr:
    """An object whose str() fails: converting it must end in a clean error."""

    def __str__(self) -> str:
        raise ValueError("no text for you")


NAMESPACE: dict[str, Any] = {
    "date": datetime.date,
    "time": datetime.time,
    "datetime": datetime.datetime,
    "timedelta": datetime.timedelta,
    "timezone": datetime.timezone,
    "Decimal": decimal.Decimal,
    "UUID": uuid.UUID,
    "ipaddress": ipaddress,
    "math": math,
    "inf": math.inf,
    "nan": math.nan,
    "Thing": Thing,
    "BadStr": BadStr,
    "utc": datetime.timezone.utc,
}

try:  # the server's Python reads the system time zone database
    from zoneinfo import ZoneInfo

    NAMESPACE["ZoneInfo"] = ZoneInfo
except ImportError:  # pragma: no cover
    pass


def type_name(value: Any) -> str:
    cls = type(value)
    return f"{cls.__module__}.{cls.__qualname__}"


class ValuesFdw(ForeignDataWrapper):
    """Rows from the `rows` option (a Python expression, see the module docstring)."""

    def __init__(self, options: dict[str, str], columns: Any) -> None:
        super().__init__(options, columns)
        self.rows_expression = options["rows"]

    def execute(self, quals: list, columns: set, **kwargs: Any):
        yield from eval(self.rows_expression, dict(NAMESPACE))  # noqa: S307 (test code)


SEEN: list[tuple[str, str, str, str, str]] = []


def _record(phase: str, quals: list) -> None:
    for qual in quals:
        SEEN.append((phase, qual.field_name, repr(qual.operator), type_name(qual.value),
                     repr(qual.value)))


class EchoFdw(ForeignDataWrapper):
    """Yields each qual value on column `v` back as a row; records the quals."""

    def __init__(self, options: dict[str, str], columns: Any) -> None:
        super().__init__(options, columns)
        self.echo = options.get("echo", "on") != "off"

    def get_rel_size(self, quals: list, columns: Any) -> tuple[int, int]:
        SEEN.clear()
        _record("plan", quals)
        return (10, 100)

    def execute(self, quals: list, columns: set, **kwargs: Any):
        SEEN[:] = [entry for entry in SEEN if entry[0] == "plan"]
        _record("scan", quals)
        rows: list[tuple] = []
        for qual in quals if self.echo else ():
            if qual.field_name != "v":
                continue
            if qual.is_list_operator:
                if qual.list_any_or_all == "ANY" and qual.operator[0] == "=":
                    rows.extend((item,) for item in qual.value)
            elif qual.operator == "=":
                rows.append((qual.value,))
        return rows


class SeenFdw(ForeignDataWrapper):
    """The quals recorded by EchoFdw in this backend (phase, field, operator, type, repr)."""

    def execute(self, quals: list, columns: set, **kwargs: Any):
        return list(SEEN)
