"""The object store against plain PostgreSQL, measured in one run on one cluster.

A table of N rows (id int primary key, t text, f float8, ts timestamptz) is made once;
then, median of several runs:

Runs are interleaved (CTAS, import, checkout, again), medians compared.

* import: ``sgfdw.import_table`` of it vs ``CREATE TABLE ... AS SELECT`` of the same
  rows (with its primary key added, as the import keeps it) -- target within 3x;
* checkout: ``sgfdw.checkout`` of that image (after checking out the empty image) vs
  the same CREATE TABLE AS -- target within 3x;
* commit of 1,000 updated rows: time (target < 0.5 s) and
  the patch object's size against the table's objects (target < 1%);
* storage: the image's objects vs the heap table with its primary key index.

JIT and parallel query are off.

    .venv/bin/python bench/bench_store.py [--rows N] [--repeat R]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests"))

from bench_postgres import python_path_for  # noqa: E402
from harness import Cluster  # noqa: E402

SETTINGS = {"jit": "off", "max_parallel_workers_per_gather": 0, "shared_buffers": "256MB"}
CTAS = "CREATE TABLE copy AS SELECT * FROM src; ALTER TABLE copy ADD PRIMARY KEY (id)"


def timed(cur, query: str, params=None) -> float:
    start = time.perf_counter()
    cur.execute(query, params)
    return time.perf_counter() - start


def median_of(repeat: int, run) -> float:
    return statistics.median(run() for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with Cluster("bench-store", settings=SETTINGS) as pg:
        pg.configure({"sgfdw.python_path": python_path_for(pg)})
        pg.restart()
        pg.create_database("bench", extensions=["sgfdw"])
        conn = pg.connect("bench")
        cur = conn.cursor()
        cur.execute("CREATE TABLE src (id int PRIMARY KEY, t text, f float8, ts timestamptz)")
        cur.execute("INSERT INTO src SELECT g, md5(g::text), g * 1.5, "
                    "'2020-01-01'::timestamptz + g * interval '1 second' "
                    "FROM generate_series(1, %s) g", (args.rows,))
        cur.execute("VACUUM ANALYZE src")
        cur.execute("SELECT sgfdw.init('bench/store')")

        def ctas() -> float:
            cur.execute("DROP TABLE IF EXISTS copy")
            return timed(cur, CTAS)

        def import_table() -> float:
            return timed(cur, "SELECT sgfdw.import_table('bench/store', 'src', 'src')")

        def checkout() -> float:
            cur.execute("SELECT sgfdw.checkout('bench/store', '00000000')")
            return timed(cur, "SELECT sgfdw.checkout('bench/store', 'latest')")

        ctas()  # warm-up: the source in the cache, Python started
        import_table()
        # Interleaved, so that a busy machine slows baseline and store alike.
        runs = [(ctas(), import_table(), checkout()) for _ in range(args.repeat)]
        baseline, imported, checked_out = (statistics.median(column) for column in zip(*runs))

        cur.execute("SELECT sum(size), count(*) FROM splitgraph_meta.objects o JOIN "
                    "splitgraph_meta.tables t ON o.object_id = ANY(t.object_ids) "
                    "WHERE t.image_hash = (SELECT head FROM sgfdw.repositories)")
        image_size, objects = cur.fetchone()
        cur.execute("SELECT pg_total_relation_size('src')")
        heap_size = cur.fetchone()[0]

        print(f"rows: {args.rows:,}; JIT off; median of {args.repeat}")
        print(f"CREATE TABLE AS + primary key:  {baseline:8.3f} s")
        print(f"import_table:                   {imported:8.3f} s  = "
              f"{imported / baseline:5.2f}x CTAS (target <= 3x)")
        print(f"checkout:                       {checked_out:8.3f} s  = "
              f"{checked_out / baseline:5.2f}x CTAS (target <= 3x)")
        print(f"storage: {objects} objects, {image_size / 2**20:.1f} MiB vs heap + index "
              f"{heap_size / 2**20:.1f} MiB = {image_size / heap_size:.2f}x")

        def commit() -> float:
            cur.execute("UPDATE \"bench/store\".src SET f = f + 1 WHERE id IN "
                        "(SELECT (random() * %s)::int + 1 FROM generate_series(1, 1000))",
                        (args.rows - 1,))
            return timed(cur, "SELECT sgfdw.commit('bench/store')")

        committed = median_of(args.repeat, commit)
        cur.execute("SELECT o.size FROM splitgraph_meta.objects o JOIN "
                    "splitgraph_meta.tables t ON o.object_id = "
                    "t.object_ids[array_length(t.object_ids, 1)] "
                    "WHERE t.image_hash = (SELECT head FROM sgfdw.repositories)")
        patch = cur.fetchone()[0]
        print(f"commit of 1,000 updated rows:   {committed:8.3f} s (target < 0.5 s); "
              f"patch {patch / 1024:.1f} KiB = {100 * patch / image_size:.3f}% of "
              f"the table's objects (target < 1%)")
        conn.close()


if __name__ == "__main__":
    main()
