"""ANALYZE of a foreign table: the sample an FDW's analyze_sample() gives, as the
bridge stores it (src/analyze.c).

``analyze_sample(sample_size)`` returns ``(rows, total_rows)``: rows an iterable of rows
shaped as execute()'s (a sequence of every column by position, or a mapping by column
name, a missing key being NULL), total_rows the table's row count if the FDW knows it,
else None (then the rows given are the whole table). An FDW may give more rows than
asked for: a uniform sample of sample_size of them is kept (reservoir sampling), so the
simplest correct method yields every row.
"""
from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, Iterable

from sgfdw.errors import FdwError, FeatureNotSupported

__all__ = ["sample_rows"]


def _values(row: Any, columns: tuple[str, ...]) -> tuple:
    if isinstance(row, Mapping):
        return tuple(row.get(name) for name in columns)
    if hasattr(row, "__arrow_c_array__") or hasattr(row, "__arrow_c_stream__"):
        raise FeatureNotSupported("analyze_sample() gives rows, not Arrow batches")
    if isinstance(row, (str, bytes)) or not isinstance(row, Iterable):
        raise FdwError(f"analyze_sample() gave a row of Python type {type(row).__name__}, "
                       f"expected a sequence or a mapping", sqlstate="HV004")
    values = tuple(row)
    if len(values) != len(columns):
        raise FdwError(f"analyze_sample() gave a row of {len(values)} values, the foreign "
                       f"table has {len(columns)} columns", sqlstate="HV005")
    return values


def _total(value: Any, seen: int) -> float:
    if value is None:
        return float(seen)
    try:
        total = float(value)
    except (TypeError, ValueError):
        total = -1.0
    if not total >= 0 or total == float("inf"):
        raise FdwError(f"analyze_sample() gave a total row count of {value!r}, expected a "
                       f"number >= 0 or None", sqlstate="HV004")
    return total


def sample_rows(instance: Any, sample_size: int,
                columns: tuple[str, ...]) -> tuple[list[tuple], float]:
    """(at most sample_size rows as tuples of ``columns``' values, the table's row
    count estimate)."""
    result = instance.analyze_sample(sample_size)
    if not isinstance(result, tuple) or len(result) != 2:
        raise FdwError("analyze_sample() must return a pair (rows, total_rows)",
                       sqlstate="HV004")
    rows, total = result
    sample: list[tuple] = []
    seen = 0
    chooser = random.Random()
    for row in rows if rows is not None else ():
        seen += 1
        if len(sample) < sample_size:
            sample.append(_values(row, columns))
        else:
            slot = chooser.randrange(seen)
            if slot < sample_size:
                sample[slot] = _values(row, columns)
    return sample, _total(total, seen)
