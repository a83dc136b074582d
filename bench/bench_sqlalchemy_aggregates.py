"""SqlAlchemyFdw over SQLite: aggregates and joins computed by SQLite against the same
aggregates and joins computed by PostgreSQL over every row shipped (``FROM (SELECT ...
OFFSET 0) s`` keeps them local), in one run, median of several runs after a warm-up.

A SQLite file of N rows (id INTEGER PRIMARY KEY, k INTEGER: id % 10, n INTEGER, t TEXT)
is read through a foreign table (id int, k int, n bigint, t text) by one throwaway
cluster (tests/harness.py; JIT and parallel query off). Queries: ``count(*)``,
``k, sum(n), count(*) GROUP BY k`` (bigint: SQLite gets the exact split sums),
``count(DISTINCT t)``, and ``min(t), max(n)``. Joins with a second table ``small``
(id INTEGER PRIMARY KEY, big_id INTEGER, w TEXT) of N/10 rows, one per tenth row of
``big``: all of it joined (N/10 rows out), and with a selective qual on ``big`` (1% of
its rows). Both foreign tables are ANALYZEd. Every answer is checked equal.

    .venv/bin/python bench/bench_sqlalchemy_aggregates.py [--rows N] [--repeat R]
"""
from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from pathlib import Path

from bench_postgres import SETTINGS, median_time, python_path_for, timed

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "sqlalchemy"))

from harness import Cluster  # noqa: E402
from sqladata import give_to_postgres  # noqa: E402

QUERIES = {
    "count": ("SELECT count(*) FROM {t}", "SELECT count(*) FROM {s}"),
    "group": ("SELECT k, sum(n), count(*) FROM {t} GROUP BY k ORDER BY k",
              "SELECT k, sum(n), count(*) FROM {s} GROUP BY k ORDER BY k"),
    "distinct": ("SELECT count(DISTINCT t) FROM {t}", "SELECT count(DISTINCT t) FROM {s}"),
    "minmax": ("SELECT min(t), max(n) FROM {t}", "SELECT min(t), max(n) FROM {s}"),
}
SHIPPED = "(SELECT * FROM {t} OFFSET 0) s"
JOINS = {
    "join": "SELECT b.t, s.w FROM {big} b JOIN {small} s ON b.id = s.big_id",
    "join 1%": "SELECT b.id, s.w FROM {big} b JOIN {small} s ON b.id = s.big_id "
               "WHERE b.n < {cut}",
}


def make_file(directory: Path, rows: int) -> Path:
    path = directory / "big.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, k INTEGER, n INTEGER, t TEXT)")
    conn.executemany("INSERT INTO big VALUES (?, ?, ?, ?)",
                     ((i, i % 10, i * 1_000_000_007, f"t{i * 7919 % 100_003}")
                      for i in range(1, rows + 1)))
    conn.execute("CREATE TABLE small (id INTEGER PRIMARY KEY, big_id INTEGER, w TEXT)")
    conn.executemany("INSERT INTO small VALUES (?, ?, ?)",
                     ((i, i * 10, f"w{i % 97}") for i in range(1, rows // 10 + 1)))
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    give_to_postgres(path)
    return path


def compare(cur, name: str, pushed: str, local: str, repeat: int) -> None:
    """Prints the times of pushed and local (median of repeat), their ratio, whether they
    answer the same and the pushed query's Remote SQL."""
    cur.execute("EXPLAIN (VERBOSE, COSTS OFF) " + pushed)
    plan = [row[0].strip() for row in cur.fetchall() if "Remote SQL" in row[0]]
    same = sorted(timed(cur, pushed)[1]) == sorted(timed(cur, local)[1])
    fast = median_time(lambda: timed(cur, pushed)[0], repeat)
    slow = median_time(lambda: timed(cur, local)[0], repeat)
    print(f"  {name:9} {fast:8.3f} / {slow:8.3f}  ({slow / fast:5.1f}x)  "
          f"same answer: {same}  {plan[0][:100] if plan else ''}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="sgfdw-bench-sqla-", dir="/tmp"))
    directory.chmod(0o755)
    give_to_postgres(directory)
    cluster = Cluster("bench-sqla", settings=SETTINGS)
    try:
        path = make_file(directory, args.rows)
        cluster.init()
        cluster.configure({"sgfdw.python_path": python_path_for(cluster)})
        cluster.start()
        cluster.create_database("bench", extensions=["sgfdw"])
        conn = cluster.connect("bench")
        cur = conn.cursor()
        cur.execute("CREATE SERVER lite FOREIGN DATA WRAPPER sgfdw OPTIONS "
                    "(wrapper 'sgfdw.sqlalchemy.SqlAlchemyFdw', db_url %s)",
                    (f"sqlite:///{path}",))
        cur.execute("CREATE FOREIGN TABLE big (id int, k int, n bigint, t text) "
                    "SERVER lite OPTIONS (tablename 'big')")
        cur.execute("CREATE FOREIGN TABLE small (id int, big_id int, w text) "
                    "SERVER lite OPTIONS (tablename 'small')")
        # statistics for the joins' row estimates (without them a join of two tables is
        # guessed at rows(a) * rows(b) / 200 rows and 10,000 lookups look cheaper)
        cur.execute("ANALYZE big")
        cur.execute("ANALYZE small")
        print(f"SqlAlchemyFdw over SQLite, {args.rows:,} rows; median of {args.repeat} "
              "runs (s): computed by SQLite / by PostgreSQL over shipped rows")
        for name, (pushed, local) in QUERIES.items():
            compare(cur, name, pushed.format(t="big"), local.format(s=SHIPPED.format(t="big")),
                    args.repeat)
        cut = args.rows // 100 * 1_000_000_007
        for name, query in JOINS.items():
            compare(cur, name, query.format(big="big", small="small", cut=cut),
                    query.format(big="(SELECT * FROM big OFFSET 0)",
                                 small="(SELECT * FROM small OFFSET 0)", cut=cut),
                    args.repeat)
        conn.close()
    finally:
        cluster.cleanup()
        for child in directory.iterdir():
            child.unlink()
        directory.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
