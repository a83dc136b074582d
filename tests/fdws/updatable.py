"""A memory FDW whose updatability comes from the bridge's hook, for
tests/test_updatable.py.

    CREATE FOREIGN TABLE t (id int, v text) SERVER mem_hook OPTIONS (allow 'insert,delete');

HookedMemoryFdw implements every write method (MemoryFdw's) but allows only the
operations its ``allow`` option lists (comma-separated; empty: none), through
``updatable_operations()``.
"""

from __future__ import annotations

from collections.abc import Mapping

from memory import MemoryFdw

from multicorn import ColumnDefinition


class HookedMemoryFdw(MemoryFdw):
    def __init__(self, options: dict[str, str], columns: Mapping[str, ColumnDefinition]):
        super().__init__(options, columns)
        self.allowed = frozenset(name.strip() for name in options.get("allow", "").split(",")
                                 if name.strip())

    def updatable_operations(self) -> frozenset[str]:
        return self.allowed
