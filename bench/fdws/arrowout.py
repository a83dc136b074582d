"""SQL functions for bench/bench_scan.py: a table read out through sgfdw.pg.arrow."""

from sgfdw import pg


def read_arrow(sql):
    """Rows of sql read as Arrow batches and imported by pyarrow (no copy); the count."""
    import pyarrow as pa

    return sum(pa.record_batch(batch).num_rows for batch in pg.arrow(sql))
