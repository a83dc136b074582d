"""The UPDATE or DELETE the bridge offers an FDW to run as one statement of its own
(``can_modify_directly``, then ``modify_directly``): plain data, built by src/direct.c.

It is offered only for a statement on one foreign table, without a join, row triggers
or WITH CHECK OPTION, whose every WHERE clause the FDW was shown (as a Qual or a
filter) and every SET expression is a tree of sgfdw.expression. An FDW that accepts
promises to modify exactly the rows satisfying all of them -- PostgreSQL checks
nothing afterwards -- each column set to its expression as evaluated on the old row.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from multicorn import Qual

from sgfdw.expression import Expression

__all__ = ["Modification"]


@dataclass(frozen=True)
class Modification:
    """``kind`` 'update' or 'delete'; ``assignments`` maps each column an UPDATE sets to
    its new value's expression (at execution, values are Constants); ``quals`` and
    ``filters`` (expression trees) select the rows; ``returning`` names the columns
    whose new values (old, for a DELETE) each modified row must be returned with
    (RETURNING; possibly none), None when only the number of rows is wanted."""

    kind: str
    assignments: Mapping[str, Expression]
    quals: tuple[Qual, ...]
    filters: tuple[Expression, ...] = ()
    returning: tuple[str, ...] | None = None
