"""ANALYZE of a foreign table: the sample an FDW's analyze_sample() gives, as the
bridge stores it (src/analyze.c).

``analyze_sample(sample_size)`` returns ``(rows, total_rows)``: rows an iterable of rows
shaped as execute()'s (the bridge reads them by the same rules, src/row.c), total_rows
the table's row count if the FDW knows it, else None (then the rows given are the whole
table). An FDW may give more rows than asked for: a uniform sample of sample_size of
them is kept (reservoir sampling), so the simplest correct method yields every row.
"""
from __future__ import annotations

import random
from typing import Any

from sgfdw.errors import FdwError, FeatureNotSupported

__all__ = ["sample_rows"]


def _row(row: Any) -> Any:
    if hasattr(row, "__arrow_c_array__") or hasattr(row, "__arrow_c_stream__"):
        raise FeatureNotSupported("analyze_sample() gives rows, not Arrow batches")
    return row


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


def sample_rows(instance: Any, sample_size: int) -> tuple[list[Any], float]:
    """(at most sample_size of the rows, the table's row count estimate)."""
    result = instance.analyze_sample(sample_size)
    if not isinstance(result, tuple) or len(result) != 2:
        raise FdwError("analyze_sample() must return a pair (rows, total_rows)",
                       sqlstate="HV004")
    rows, total = result
    sample: list[Any] = []
    seen = 0
    chooser = random.Random()
    for row in rows if rows is not None else ():
        seen += 1
        if len(sample) < sample_size:
            sample.append(_row(row))
        else:
            slot = chooser.randrange(seen)
            if slot < sample_size:
                sample[slot] = _row(row)
    return sample, _total(total, seen)
