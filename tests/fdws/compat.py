"""Helper FDWs for tests/test_multicorn_compat.py: Multicorn2 behaviours an unmodified
Multicorn FDW relies on.

  NoKeyMemoryFdw  memory.MemoryFdw whose rowid_column is None: Multicorn's way of saying
                  "read-only" (e.g. a SQL FDW not told its primary key).
"""

from __future__ import annotations

from memory import MemoryFdw


class NoKeyMemoryFdw(MemoryFdw):
    @property
    def rowid_column(self) -> None:
        return None
