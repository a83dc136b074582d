"""Layered queries (sgfdw.layered) against the same image checked out as a heap table,
measured in one run on one cluster.

An image of N rows (id int primary key, t text, f float8) in 10 objects
(sgfdw.fragment_rows = N/10), plus a commit updating 1% of the rows (one patch object);
IMPORT FOREIGN SCHEMA gives the layered table, the checkout (HEAD) the heap table, with
its primary key index, VACUUM ANALYZEd. Median of several runs after a warm-up:

* ``SELECT count(*)`` and ``SELECT count(*), sum(f), max(t)``: every object read and
  merged -- target within 2x of the heap with the Arrow batch lane; the row path too
  (a foreign table declaring t as varchar: a type other than the stored one takes it);
* primary-key lookup ``WHERE id = $k``: target < 10 ms, 1 object read (the patch of
  random keys overlaps every key's range: its key filter skips it unless it holds k);
* a 1% key range: target within 3x of the heap with an index.

JIT and parallel query are off.

    .venv/bin/python bench/bench_layered.py [--rows N] [--repeat R] [--lookups L]
"""
from __future__ import annotations

import argparse
import random
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
HEAP, LAYERED, ROWS = '"bench/layered".src', "l.src", "r.src"
QUERIES = {
    "count(*)": "SELECT count(*) FROM {t}",
    "count, sum(f), max(t)": "SELECT count(*), sum(f), max(t) FROM {t}",
}


def timed(cur, query: str, params=None) -> float:
    start = time.perf_counter()
    cur.execute(query, params)
    cur.fetchall()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--lookups", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(1)

    with Cluster("bench-layered", settings=SETTINGS) as pg:
        pg.configure({"sgfdw.python_path": python_path_for(pg)})
        pg.restart()
        pg.create_database("bench", extensions=["sgfdw"])
        conn = pg.connect("bench")
        cur = conn.cursor()
        cur.execute("SET sgfdw.fragment_rows = %s", (args.rows // 10,))
        cur.execute("CREATE TABLE src (id int PRIMARY KEY, t text, f float8)")
        cur.execute("INSERT INTO src SELECT g, md5(g::text), g * 1.5 "
                    "FROM generate_series(1, %s) g", (args.rows,))
        cur.execute("SELECT sgfdw.init('bench/layered')")
        cur.execute("SELECT sgfdw.import_table('bench/layered', 'src', 'src')")
        cur.execute(f"UPDATE {HEAP} SET f = -f WHERE id IN (SELECT (random() * %s)::int + 1 "
                    "FROM generate_series(1, %s))", (args.rows - 1, args.rows // 100))
        cur.execute("SELECT sgfdw.commit('bench/layered')")
        cur.execute(f"VACUUM ANALYZE {HEAP}")
        cur.execute("CREATE SCHEMA l")
        cur.execute("IMPORT FOREIGN SCHEMA \"bench/layered\" FROM SERVER sgfdw_objects INTO l")
        cur.execute("CREATE SCHEMA r")
        cur.execute(f"CREATE FOREIGN TABLE {ROWS} (id int, t varchar, f float8) SERVER "
                    "sgfdw_objects OPTIONS (repository 'bench/layered', table 'src')")

        print(f"rows: {args.rows:,} in 10 objects + a 1% patch; JIT off; "
              f"median of {args.repeat}")
        for name, query in QUERIES.items():
            tables = (HEAP, LAYERED, ROWS)
            for table in tables:
                timed(cur, query.format(t=table))  # warm-up
            runs = [[timed(cur, query.format(t=table)) for table in tables]
                    for _ in range(args.repeat)]
            heap, layered, rows = (statistics.median(column) for column in zip(*runs))
            print(f"{name:24} heap {heap * 1000:9.1f} ms  layered {layered * 1000:9.1f} ms"
                  f"  = {layered / heap:6.2f}x (row path {rows * 1000:.1f} ms = "
                  f"{rows / heap:.2f}x)")

        keys = [rng.randint(1, args.rows) for _ in range(args.lookups)]
        lookup = "SELECT * FROM {t} WHERE id = %s"
        runs = [(timed(cur, lookup.format(t=HEAP), (k,)),
                 timed(cur, lookup.format(t=LAYERED), (k,))) for k in keys]
        heap, layered = (statistics.median(column) for column in zip(*runs))
        cur.execute("EXPLAIN " + lookup.format(t=LAYERED), (keys[0],))
        objects = next(row[0].strip() for row in cur.fetchall() if "Objects:" in row[0])
        print(f"{'key lookup':24} heap {heap * 1000:9.2f} ms  layered {layered * 1000:9.2f} ms"
              f"  = {layered / heap:6.2f}x (target < 10 ms); {objects}")

        span = args.rows // 100
        ranged = "SELECT count(*), sum(f), max(t) FROM {t} WHERE id BETWEEN %s AND %s"
        starts = [rng.randint(1, args.rows - span) for _ in range(args.repeat)]
        runs = [(timed(cur, ranged.format(t=HEAP), (a, a + span - 1)),
                 timed(cur, ranged.format(t=LAYERED), (a, a + span - 1))) for a in starts]
        heap, layered = (statistics.median(column) for column in zip(*runs))
        print(f"{'1% key range':24} heap {heap * 1000:9.2f} ms  layered {layered * 1000:9.2f} ms"
              f"  = {layered / heap:6.2f}x (target <= 3x)")

        # The same lookups in a backend that sees no key filters (as for objects stored
        # before them): the patch, whose key range overlaps every key, is read too.
        cur.execute("UPDATE splitgraph_meta.objects SET filters = NULL")
        plain = pg.connect("bench")
        plain_cur = plain.cursor()
        timed(plain_cur, QUERIES["count(*)"].format(t=LAYERED))  # files checked once
        runs = [(timed(cur, lookup.format(t=LAYERED), (k,)),
                 timed(plain_cur, lookup.format(t=LAYERED), (k,))) for k in keys]
        filtered, unfiltered = (statistics.median(column) for column in zip(*runs))
        print(f"{'lookup, no key filters':24} with {filtered * 1000:9.2f} ms  without "
              f"{unfiltered * 1000:9.2f} ms  = {unfiltered / filtered:6.2f}x")
        plain.close()
        conn.close()


if __name__ == "__main__":
    main()
