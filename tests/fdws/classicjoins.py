"""PostgresFdw as an FDW written before semi and anti joins were offered: its can_join
accepts inner, left, right and full joins only (tests/postgres/test_postgres_join.py)."""
from __future__ import annotations

from sgfdw.join import Join, JoinStep
from sgfdw.postgres import PostgresFdw

CLASSIC_KINDS = ("inner", "left", "right", "full")


def _kinds(side: int | JoinStep) -> list[str]:
    if isinstance(side, int):
        return []
    return [side.kind] + _kinds(side.left) + _kinds(side.right)


class ClassicJoinsFdw(PostgresFdw):
    def can_join(self, join: Join) -> bool:
        return all(kind in CLASSIC_KINDS for kind in _kinds(join.tree)) and \
            super().can_join(join)
