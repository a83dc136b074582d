"""A test FDW for filters (can_filter, src/filters.c): nine rows (id, g = id % 3,
t = 't<id>'); each call the bridge makes about filters is sent as a NOTICE
``filtering <call> <repr>``.

    PlainFdw       no can_filter: a Multicorn FDW as before
    FilteringFdw   option ``can_filter``: 'accept' (evaluates what it accepts: columns,
                   constants, OR/AND/NOT, the operators = and +), 'refuse', 'raise'
"""
from __future__ import annotations

import operator
from typing import Any

from multicorn import ForeignDataWrapper
from multicorn.utils import INFO, log_to_postgres
from sgfdw.expression import BoolOp, Call, Column, Constant, Expression, Parameter

ROWS = [{"id": i, "g": i % 3, "t": f"t{i}"} for i in range(1, 10)]
_OPERATORS = {"=": operator.eq, "+": operator.add}


def _value(node: Expression, row: dict[str, Any]) -> Any:
    if isinstance(node, Column):
        return row[node.name]
    if isinstance(node, Constant):
        return node.value
    if isinstance(node, BoolOp):
        values = [_value(arg, row) for arg in node.args]
        if node.op == "not":
            return None if values[0] is None else not values[0]
        known = [v for v in values if v is not None]
        if node.op == "or":
            return True if any(known) else None if len(known) < len(values) else False
        return False if not all(known) else None if len(known) < len(values) else True
    assert isinstance(node, Call) and node.operator
    left, right = (_value(arg, row) for arg in node.args)
    return None if left is None or right is None else _OPERATORS[node.name](left, right)


def _evaluable(node: Expression) -> bool:
    if isinstance(node, (Column, Constant, Parameter)):
        return True
    if isinstance(node, BoolOp):
        return all(_evaluable(arg) for arg in node.args)
    return isinstance(node, Call) and node.operator and node.name in _OPERATORS and \
        len(node.args) == 2 and all(_evaluable(arg) for arg in node.args)


class PlainFdw(ForeignDataWrapper):
    def execute(self, quals, columns, **kwargs):
        filters = kwargs.get("filters", [])
        log_to_postgres(f"filtering execute {filters!r}", INFO)
        for row in ROWS:
            if all(_value(f, row) for f in filters):
                yield row


class FilteringFdw(PlainFdw):
    def __init__(self, fdw_options, fdw_columns):
        super().__init__(fdw_options, fdw_columns)
        self.mode = fdw_options.get("can_filter")

    def can_filter(self, expression: Expression) -> bool:
        log_to_postgres(f"filtering can_filter {expression!r}", INFO)
        if self.mode == "raise":
            raise ValueError("can_filter failed")
        return self.mode == "accept" and _evaluable(expression)
