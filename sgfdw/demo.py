"""A tiny FDW to try sgfdw with (used by `make run`): generated numbers, no source.

    CREATE SERVER demo FOREIGN DATA WRAPPER sgfdw OPTIONS (wrapper 'sgfdw.demo.DemoFdw');
    CREATE FOREIGN TABLE demo_numbers (id int, name text, value float8)
        SERVER demo OPTIONS (rows '10');

Yields `rows` rows (default 10): id 1..rows, name 'row <id>', value id / 2.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any

from multicorn import ColumnDefinition, ForeignDataWrapper, Qual, SortKey
from sgfdw.errors import OptionError


class DemoFdw(ForeignDataWrapper):
    def __init__(self, options: dict[str, str], columns: Mapping[str, ColumnDefinition]) -> None:
        super().__init__(options, columns)
        try:
            self.rows = int(options.get("rows", "10"))
        except ValueError:
            self.rows = -1
        if self.rows < 0:
            raise OptionError(f"invalid value for option rows: {options.get('rows')!r}",
                              hint="rows must be a non-negative integer")

    def get_rel_size(self, quals: list[Qual], columns: Collection[str]) -> tuple[int, int]:
        # The exact row count: lets the planner choose sensible plans for joins.
        return (self.rows, 8 + 16 * len(columns))

    def execute(self, quals: list[Qual], columns: Collection[str],
                sortkeys: list[SortKey] | None = None, limit: int | None = None,
                offset: int | None = None) -> Iterator[dict[str, Any]]:
        # Quals are only a hint (PostgreSQL rechecks them); a demo can ignore them.
        for i in range(1, self.rows + 1):
            yield {"id": i, "name": f"row {i}", "value": i / 2}
