"""A memory FDW that runs UPDATE/DELETE itself (can_modify_directly /
modify_directly), for tests/test_modify_directly.py.

    CREATE FOREIGN TABLE t (id int, v text) SERVER mem_direct OPTIONS (store 't');

It accepts statements whose quals are equalities and whose SET values are Constants;
the option ``answer 'bad'`` makes modify_directly() return something of the wrong kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from memory import MemoryFdw

from multicorn import ColumnDefinition
from sgfdw.expression import Constant, Parameter
from sgfdw.modification import Modification


class DirectMemoryFdw(MemoryFdw):
    def __init__(self, options: dict[str, str], columns: Mapping[str, ColumnDefinition]):
        super().__init__(options, columns)
        self.answer = options.get("answer", "")

    def can_modify_directly(self, modification: Modification) -> bool:
        return not modification.filters and \
            all(qual.operator == "=" for qual in modification.quals) and \
            all(isinstance(value, (Constant, Parameter))
                for value in modification.assignments.values())

    def modify_directly(self, modification: Modification) -> Any:
        self.log("modify_directly", (modification.kind, modification.returning))
        matching = [key for key, row in self.rows.items()
                    if all((row.get(qual.field_name) == qual.value) == (qual.operator == "=")
                           for qual in modification.quals)]  # '<>' None: IS NOT NULL
        returned = []
        for key in matching:
            row = self.rows[key]
            if modification.kind == "delete":
                del self.rows[key]
            else:
                row.update({name: value.value  # type: ignore[attr-defined]
                            for name, value in modification.assignments.items()})
            returned.append({name: row[name] for name in modification.returning or ()})
        if self.answer == "bad":
            return "many" if modification.returning is None else 5
        return len(matching) if modification.returning is None else returned

    def explain_modify_directly(self, modification: Modification,
                                verbose: bool = False) -> list[str]:
        return [f"{modification.kind} {sorted(modification.assignments)} "
                f"returning {modification.returning}"]
