"""Trivial generator FDWs for bench/bench_scan.py: the cost measured is the bridge's.

GenFdw      yields tuples (i int, t text, f float8), as the issue's example does.
GenDictFdw  the same rows as dicts (by column name), for comparison.
GenDistinctFdw, GenArrowFdw, GenArrowPylistFdw: rows (i, 'text <i>', i * 0.5), a distinct
            text per row, as tuples from a generator, as Arrow record batches of 65536
            rows, and as those batches' to_pylist() rows (the Arrow lane vs the row path).
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


def distinct_batches(n, batch_rows=65536):
    """The rows (i, 'text <i>', i * 0.5) as Arrow record batches."""
    import pyarrow as pa

    batches = []
    for start in range(0, n, batch_rows):
        ids = pa.array(range(start, min(n, start + batch_rows)), pa.int32())
        batches.append(pa.record_batch({
            "i": ids,
            "t": pa.array([f"text {i}" for i in range(start, min(n, start + batch_rows))]),
            "f": pa.compute.multiply(ids.cast(pa.float64()), 0.5),
        }))
    return batches


class GenDistinctFdw(GenFdw):
    """Tuples with a distinct text per row, built by the generator (the row path)."""

    def execute(self, quals, columns):
        for i in range(self.n):
            yield (i, f"text {i}", i * 0.5)


class GenArrowFdw(GenFdw):
    """The same rows as Arrow batches, made once per instance: data that is already
    columnar (Parquet read by pyarrow), handed to the bridge as it is."""

    batches = None

    def execute(self, quals, columns):
        if self.batches is None:
            import pyarrow.compute  # noqa: F401 (distinct_batches uses pa.compute)

            self.batches = distinct_batches(self.n)
        yield from self.batches


class GenArrowPylistFdw(GenArrowFdw):
    """The same batches turned into Python rows with to_pylist() at each scan."""

    def execute(self, quals, columns):
        for batch in super().execute(quals, columns):
            yield from batch.to_pylist()
