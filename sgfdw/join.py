"""The join of foreign tables the bridge offers an FDW (``can_join``, then
``execute_join``): plain data, built by src/join.c.

Offered: an inner, left, right, full, semi or anti join of foreign tables of one server
and user mapping served by one FDW class (or of such a join with another such table),
without row locks, whole-row references or system columns. A semi join (``EXISTS``,
``IN (SELECT ...)``) keeps each row of its left side that some row of its right side
matches, once; an anti join (``NOT EXISTS``) each row that none matches: their right
side's columns are never in ``output`` (nor read by the steps above them). The FDW that
accepts a join promises its exact rows: every qual of every relation, every join clause
and every filter is enforced (none is checked again by PostgreSQL). It yields one row
per joined row: the values of ``output`` in order (a sequence), or a mapping keyed by
``output_names``; a column of the side an outer join found no match for is None.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from multicorn import Qual
from sgfdw.expression import Expression

__all__ = ["JoinedTable", "JoinStep", "Join", "JOIN_KINDS"]

JOIN_KINDS = ("inner", "left", "right", "full", "semi", "anti")


@dataclass(frozen=True)
class JoinedTable:
    """One foreign table of the join: ``name`` as EXPLAIN shows it (schema-qualified),
    ``instance`` the FDW instance serving it, ``quals`` its restriction clauses (all
    to enforce), ``columns`` the names of its columns the join reads (output and
    clauses)."""

    name: str
    instance: Any = field(compare=False, repr=False)
    quals: tuple[Qual, ...]
    columns: frozenset[str]


@dataclass(frozen=True)
class JoinStep:
    """``left kind JOIN right ON clauses`` (an implicit AND; empty: ON TRUE), then
    ``filters`` (an implicit AND applied to the joined rows, as a WHERE above this step:
    only outer joins have them). ``left`` and ``right`` are the index of a relation in
    :attr:`Join.relations` or a nested step (a semi or anti join's ``right`` is the side
    its ``EXISTS`` reads). A :class:`sgfdw.expression.Column`'s ``relation`` is such an
    index too."""

    kind: str
    left: Union[int, "JoinStep"]
    right: Union[int, "JoinStep"]
    clauses: tuple[Expression, ...] = ()
    filters: tuple[Expression, ...] = ()

    def visible_relations(self) -> frozenset[int]:
        """The relations whose columns this step's rows carry (a semi or anti join's
        right side's are not)."""
        sides = (self.left,) if self.kind in ("semi", "anti") else (self.left, self.right)
        out: frozenset[int] = frozenset()
        for side in sides:
            out |= {side} if isinstance(side, int) else side.visible_relations()
        return out

    def relation_indexes(self) -> tuple[int, ...]:
        """The relations under this step, left to right."""
        out: list[int] = []
        for side in (self.left, self.right):
            out += (side,) if isinstance(side, int) else side.relation_indexes()
        return tuple(out)


@dataclass(frozen=True)
class Join:
    """The join of ``relations`` as ``tree`` says, yielding the columns ``output``:
    (relation index, column name) pairs, in row order."""

    relations: tuple[JoinedTable, ...]
    tree: JoinStep
    output: tuple[tuple[int, str], ...]
    output_names: tuple[str, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "output_names",
                           tuple(f"r{index + 1}.{name}" for index, name in self.output))

    @property
    def kind(self) -> str:
        """The outermost step's join type."""
        return self.tree.kind

    def describe(self) -> str:
        """The join as EXPLAIN's ``Relations`` line shows it:
        ``(s.a r1) INNER JOIN (s.b r2)``."""
        def side(node: int | JoinStep) -> str:
            if isinstance(node, int):
                return f"{self.relations[node].name} r{node + 1}"
            return step(node)

        def step(node: JoinStep) -> str:
            return f"({side(node.left)}) {node.kind.upper()} JOIN ({side(node.right)})"

        return step(self.tree)
