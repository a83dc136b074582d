"""Trivial generator FDWs for bench/bench_scan.py: the cost measured is the bridge's.

GenFdw      yields tuples (i int, t text, f float8), as the issue's example does.
GenDictFdw  the same rows as dicts (by column name), for comparison.
Option `rows` (default 1000000) sets the number of rows.
"""

from multicorn import ForeignDataWrapper


class GenFdw(ForeignDataWrapper):
    def __init__(self, options, columns):
        super().__init__(options, columns)
        self.n = int(options.get("rows", 1000000))

    def execute(self, quals, columns):
        for i in range(self.n):
            yield (i, "text", i * 0.5)


class GenDictFdw(GenFdw):
    def execute(self, quals, columns):
        for i in range(self.n):
            yield {"i": i, "t": "text", "f": i * 0.5}
