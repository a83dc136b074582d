"""Scan throughput of the bridge: a trivial Python generator FDW against a local table.

Starts a throwaway cluster (tests/harness.py), with sgfdw.python_path = bench/fdws, where
gen.GenFdw yields N rows (i int, t text, f float8) from a plain Python generator
(gen.GenDictFdw: the same rows as dicts). A local heap table holds the same N rows. Each
query runs once to warm up, then --repeat times; the median time is reported, as rows/s
and as the ratio foreign time / local time.

The Arrow lane (issue 13) is measured on rows with a distinct text per row
(i, 'text <i>', i * 0.5) against a local table of those rows: gen.GenArrowFdw yields
record batches of 65536 rows (made once, as data already columnar would be), against the
row path over the same rows: gen.GenDistinctFdw (a generator building tuples) and
gen.GenArrowPylistFdw (the same batches turned into Python rows with to_pylist()).
Targets: count(*) within 1.5x and the 3-column aggregate within 2x of the local table.
Out of the server: sgfdw.pg.arrow reading local_distinct into Arrow batches (imported by
pyarrow) against COPY local_distinct TO a file; target within 2x.

The comparison target (from the issue): Multicorn2 is about 28x slower than a local table
for count(*) and about 13x for an aggregate over three columns. sgfdw aims at >= 4x
Multicorn2's throughput, i.e. a ratio <= 7.0 for count(*) and <= 3.25 for the aggregate;
the tuple FDW is checked against that (PASS/MISS). JIT is off (see DESIGN.md) and parallel
query is off, so that both sides scan in one process, as a foreign scan must.

    .venv/bin/python bench/bench_scan.py [--rows N] [--repeat R] [--strict]

--strict: exit 1 when a target is missed (by default the script only reports).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from harness import Cluster, postgres_can_read  # noqa: E402

FDWS = REPO / "bench" / "fdws"

QUERIES = [
    ("count(*)", "SELECT count(*) FROM {table}"),
    ("sum(i)", "SELECT sum(i) FROM {table}"),
    ("3-column aggregate", "SELECT count(*), sum(i), max(t), avg(f) FROM {table}"),
]

# Multicorn2's ratios (foreign / local time) quoted in the issue, and the target: 4x faster.
MULTICORN_RATIO = {"count(*)": 28.0, "3-column aggregate": 13.0}
SPEEDUP_WANTED = 4.0

# Arrow lane targets (issue 13): ratio foreign/local for gen.GenArrowFdw.
ARROW_TARGET = {"count(*)": 1.5, "3-column aggregate": 2.0}
ARROW_OUT_TARGET = 2.0

# Each local table with the foreign tables that hold the same rows.
GROUPS = [
    ("local", ["foreign_tuples", "foreign_dicts"]),
    ("local_distinct", ["arrow_batches", "distinct_tuples", "arrow_pylist"]),
]
FOREIGN = {
    "foreign_tuples": "gen.GenFdw", "foreign_dicts": "gen.GenDictFdw",
    "arrow_batches": "gen.GenArrowFdw", "distinct_tuples": "gen.GenDistinctFdw",
    "arrow_pylist": "gen.GenArrowPylistFdw",
}

SETTINGS = {"jit": "off", "max_parallel_workers_per_gather": 0}


def fdws_dir_for(cluster: Cluster) -> Path:
    """bench/fdws as the server can read it (a copy if the checkout is private)."""
    if postgres_can_read(FDWS):
        return FDWS
    copy = cluster.base_dir / "fdws"
    shutil.copytree(FDWS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for p in [copy, *copy.rglob("*")]:
        shutil.chown(p, cluster.base_dir.owner(), cluster.base_dir.group())
    return copy


def timed(cur, query: str) -> tuple[float, list]:
    start = time.perf_counter()
    cur.execute(query)
    rows = cur.fetchall() if cur.description else None
    return time.perf_counter() - start, rows


def measure(cur, query: str, repeat: int) -> tuple[float, list]:
    """Median seconds over `repeat` runs after one warm-up run; and the result."""
    _, result = timed(cur, query)
    times = []
    for _ in range(repeat):
        seconds, rows = timed(cur, query)
        assert rows == result, f"{query}: results differ between runs"
        times.append(seconds)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()
    n = args.rows

    cluster = Cluster("bench", settings=SETTINGS)
    try:
        cluster.init()
        cluster.configure({"sgfdw.python_path": str(fdws_dir_for(cluster))})
        cluster.start()
        cluster.create_database("bench", extensions=["sgfdw"])
        conn = cluster.connect("bench")
        with conn.cursor() as cur:
            cur.execute("CREATE SERVER gen FOREIGN DATA WRAPPER sgfdw")
            for table, wrapper in FOREIGN.items():
                cur.execute(f"CREATE FOREIGN TABLE {table} (i int, t text, f float8) SERVER gen "
                            f"OPTIONS (wrapper '{wrapper}', rows '{n}')")
            cur.execute("CREATE TABLE local (i int, t text, f float8)")
            cur.execute(f"INSERT INTO local SELECT i, 'text', i * 0.5 "
                        f"FROM generate_series(0, {n - 1}) AS i")
            cur.execute("CREATE TABLE local_distinct (i int, t text, f float8)")
            cur.execute(f"INSERT INTO local_distinct SELECT i, 'text ' || i, i * 0.5 "
                        f"FROM generate_series(0, {n - 1}) AS i")
            cur.execute("VACUUM (FREEZE, ANALYZE) local")
            cur.execute("VACUUM (FREEZE, ANALYZE) local_distinct")
            cur.execute("SHOW jit")
            jit = cur.fetchone()[0]
            cur.execute("SHOW max_parallel_workers_per_gather")
            parallel = cur.fetchone()[0]
            cur.execute("SELECT version()")
            version = cur.fetchone()[0].split(",")[0]

            cur.execute("CREATE FUNCTION read_arrow(q text) RETURNS bigint "
                        "LANGUAGE sgfdw_python AS 'arrowout.read_arrow'")
            copy_file = cluster.base_dir / "copy.out"
            results = {}
            results["out", "pg.arrow"] = measure(
                cur, "SELECT read_arrow('SELECT * FROM local_distinct')", args.repeat)
            results["out", "COPY TO"] = measure(
                cur, f"COPY local_distinct TO '{copy_file}'", args.repeat)
            for name, query in QUERIES:
                for local, foreign in GROUPS:
                    for table in (local, *foreign):
                        results[name, table] = measure(cur, query.format(table=table),
                                                       args.repeat)
        conn.close()
    finally:
        cluster.cleanup()

    print(f"sgfdw scan benchmark: {n:,} rows (i int, t text, f float8), {version}")
    print(f"jit = {jit}, max_parallel_workers_per_gather = {parallel}; "
          f"median of {args.repeat} runs after 1 warm-up run")
    print()
    header = (f"{'query':<20} {'table':<16} {'median ms':>10} {'rows/s':>14} "
              f"{'foreign/local':>14}")
    print(header)
    print("-" * len(header))
    mismatches = []
    for name, _ in QUERIES:
        for local, foreign in GROUPS:
            local_seconds, local_result = results[name, local]
            for table in (local, *foreign):
                seconds, result = results[name, table]
                ratio = "" if table == local else f"{seconds / local_seconds:13.2f}x"
                print(f"{name:<20} {table:<16} {seconds * 1000:10.1f} {n / seconds:14,.0f} "
                      f"{ratio:>14}")
                if result != local_result:
                    mismatches.append(f"{name} on {table}: {result} != {local} {local_result}")
        print()

    print(f"Target (issue): Multicorn2 is ~{MULTICORN_RATIO['count(*)']:.0f}x slower than local "
          f"for count(*) and ~{MULTICORN_RATIO['3-column aggregate']:.0f}x for the 3-column "
          f"aggregate;")
    print(f"sgfdw wants >= {SPEEDUP_WANTED:.0f}x Multicorn2's throughput (tuple FDW, "
          f"ratio foreign/local):")
    missed = False
    for name, multicorn in MULTICORN_RATIO.items():
        limit = multicorn / SPEEDUP_WANTED
        ratio = results[name, "foreign_tuples"][0] / results[name, "local"][0]
        verdict = "PASS" if ratio <= limit else "MISS"
        missed |= verdict == "MISS"
        print(f"  {name:<20} ratio {ratio:6.2f} <= {limit:5.2f}  {verdict}  "
              f"(~{multicorn / ratio:.1f}x Multicorn2's throughput)")
    print(f"{'read out':<20} {'COPY TO file':<16} {results['out', 'COPY TO'][0] * 1000:10.1f}")
    print(f"{'read out':<20} {'pg.arrow':<16} {results['out', 'pg.arrow'][0] * 1000:10.1f} "
          f"{n / results['out', 'pg.arrow'][0]:14,.0f} "
          f"{results['out', 'pg.arrow'][0] / results['out', 'COPY TO'][0]:13.2f}x")
    print()
    print("Arrow lane (issue 13): record batches, ratio foreign/local_distinct:")
    for name, limit in ARROW_TARGET.items():
        ratio = results[name, "arrow_batches"][0] / results[name, "local_distinct"][0]
        verdict = "PASS" if ratio <= limit else "MISS"
        missed |= verdict == "MISS"
        print(f"  {name:<20} ratio {ratio:6.2f} <= {limit:5.2f}  {verdict}")
    ratio = results["out", "pg.arrow"][0] / results["out", "COPY TO"][0]
    verdict = "PASS" if ratio <= ARROW_OUT_TARGET else "MISS"
    missed |= verdict == "MISS"
    print(f"  {'pg.arrow vs COPY TO':<20} ratio {ratio:6.2f} <= {ARROW_OUT_TARGET:5.2f}  {verdict}")
    if mismatches:
        print("\nRESULT MISMATCH between foreign and local tables:")
        print("\n".join(f"  {m}" for m in mismatches))
        return 1
    print("\nResults of every query are equal on the local and the foreign tables.")
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
