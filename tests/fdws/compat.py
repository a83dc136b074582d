"""Helper FDWs for tests/test_multicorn_compat.py: Multicorn2 behaviours an unmodified
Multicorn FDW relies on.

  NoKeyMemoryFdw  memory.MemoryFdw whose rowid_column is None: Multicorn's way of saying
                  "read-only" (e.g. a SQL FDW not told its primary key).
  MappingMemoryFdw  memory.MemoryFdw that stores and returns, for column `h` of each row
                  it writes, the Python dict of the option `mapping` (a literal): an FDW
                  keeping hstore values as dicts.
"""

from __future__ import annotations

import ast
from typing import Any

from memory import MemoryFdw


class NoKeyMemoryFdw(MemoryFdw):
    @property
    def rowid_column(self) -> None:
        return None


class MappingMemoryFdw(MemoryFdw):
    def __init__(self, options: dict[str, str], columns: Any) -> None:
        super().__init__(options, columns)
        self.mapping = ast.literal_eval(options["mapping"])

    def insert(self, values: dict[str, Any]) -> dict[str, Any] | None:
        return super().insert(dict(values, h=self.mapping))

    def update(self, oldvalues: Any, newvalues: dict[str, Any]) -> dict[str, Any] | None:
        return super().update(oldvalues, dict(newvalues, h=self.mapping))
