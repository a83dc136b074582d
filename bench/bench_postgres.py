"""Remote PostgreSQL: sgfdw's PostgresFdw against postgres_fdw and a direct psycopg2 read.

Starts two throwaway clusters (tests/harness.py): a "remote" one holding a table of N
rows (id int primary key, t text, f float8, k int: id % 10) and a "local" one with both postgres_fdw
(fetch_size 10000) and sgfdw.postgres.PostgresFdw (its default fetch_size, 10000)
importing it. Measured in the same run, both FDWs alternating within each round (so
that the shared machine's changing load hits both alike), median of several rounds after
a warm-up; the spread is the lowest and highest of the rounds' ratios; "CPU" is the ratio
of the local server process's CPU time (Linux /proc), what each FDW itself spends, which
the load of a shared machine disturbs less than the wall clock:

* full scan throughput: ``SELECT count(*), sum(f), max(t) FROM (SELECT * FROM ft
  OFFSET 0) s`` -- the OFFSET 0 keeps postgres_fdw from pushing the aggregate down, so
  both FDWs ship every row; the direct read fetches all rows with a psycopg2
  server-side cursor (itersize 10000) in the client;
* selective latency, one row by key: ``SELECT * FROM ft WHERE id = $k`` (k varies);
* selective latency, 1% by range: ``SELECT count(*), sum(f), max(t) FROM (SELECT *
  FROM ft WHERE id BETWEEN $a AND $a + N/100 - 1 OFFSET 0) s``;
* aggregates both FDWs push down: ``SELECT count(*) FROM ft`` and ``SELECT k, sum(f),
  count(*) FROM ft GROUP BY k``; the ten largest of N groups, ``SELECT t, count(*) FROM
  ft GROUP BY t ORDER BY 2 DESC, 1 LIMIT 10`` (ORDER BY and LIMIT pushed above the
  aggregation); ``SELECT id % 10, sum(f) FROM ft GROUP BY 1``, an expression key;
  ``... GROUP BY t HAVING count(*) > 1`` (N groups, none kept) and
  ``SELECT k, length(string_agg(t, ',' ORDER BY id)) ... WHERE id <= 100000 GROUP BY k``.
* a direct modification: ``UPDATE ft SET f = f + 1 WHERE id <= 10000`` (one remote
  statement in both FDWs; each run adds 1 to those rows).
* an explicit ``COLLATE "C"`` in WHERE (sgfdw ships it, postgres_fdw filters locally)
  and ``ctid = ANY`` of 100 row ids known at execution (both ship it).

Targets (issue): full-scan throughput >= 0.5x postgres_fdw's; selective latency
<= 1.5x postgres_fdw's; pushed aggregates <= 1.2x postgres_fdw's time. JIT and
parallel query are off on both clusters; both foreign tables are ANALYZEd.

    .venv/bin/python bench/bench_postgres.py [--rows N] [--repeat R] [--lookups L] [--strict]
        [--cases full,key,range,update,count,...]   (default: every case)
"""

from __future__ import annotations

import argparse
import collections
import math
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from harness import Cluster, postgres_can_read  # noqa: E402

SETTINGS = {"jit": "off", "max_parallel_workers_per_gather": 0,
            "shared_buffers": "256MB"}

FULL_SCAN = "SELECT count(*), sum(f), max(t) FROM (SELECT * FROM {t} OFFSET 0) s"
BY_KEY = "SELECT * FROM {t} WHERE id = %s"
BY_RANGE = ("SELECT count(*), sum(f), max(t) FROM "
            "(SELECT * FROM {t} WHERE id BETWEEN %s AND %s OFFSET 0) s")
UPDATE = "UPDATE {t} SET f = f + 1 WHERE id <= %s"
COUNT = "SELECT count(*) FROM {t}"
GROUP_BY = "SELECT k, sum(f), count(*) FROM {t} GROUP BY k ORDER BY k"
GROUP_BY_EXPR = "SELECT id % 10, sum(f) FROM {t} GROUP BY 1 ORDER BY 1"
GROUP_TOP = "SELECT t, count(*) FROM {t} GROUP BY t ORDER BY 2 DESC, 1 LIMIT 10"
AGGREGATES = {"count": COUNT, "group": GROUP_BY, "group_expr": GROUP_BY_EXPR,
              "group_top": GROUP_TOP}

# HAVING over N groups keeping none (both filter remotely: no group shipped) and an
# ordered string_agg of 100,000 rows (10 long texts).
GROUP_HAVING = "SELECT t, count(*) FROM {t} GROUP BY t HAVING count(*) > 1"
ORDERED_AGG = ("SELECT k, length(string_agg(t, ',' ORDER BY id)) FROM {t} "
               "WHERE id <= 100000 GROUP BY k ORDER BY k")
AGGREGATES.update(group_having=GROUP_HAVING, ordered_agg=ORDERED_AGG)

# WHERE clauses that are expressions (filters: can_filter), rows shipped (OFFSET 0 keeps
# the aggregate local): an OR matching 10% of the rows, a function of a text column.
FILTER_OR = ("SELECT count(*), sum(f) FROM (SELECT * FROM {t} WHERE k = 3 OR id % 1000 = 7 "
             "OFFSET 0) s")
FILTER_LOWER = ("SELECT count(*), sum(f) FROM (SELECT * FROM {t} WHERE upper(t) LIKE 'AB%' "
                "OFFSET 0) s")
AGGREGATES.update(filter_or=FILTER_OR, filter_lower=FILTER_LOWER)

# A join of two foreign tables with a selective qual on one side (1% of its rows), rows
# shipped (OFFSET 0 keeps the aggregate local): postgres_fdw and sgfdw join remotely.
JOIN = ("SELECT count(*), max(t) FROM (SELECT a.id, b.t FROM {t} a JOIN {t} b "
        "ON b.id = a.id + 1 WHERE a.id BETWEEN 1000 AND 10999 OFFSET 0) s")
AGGREGATES.update(join=JOIN)

# Semi and anti joins (EXISTS / NOT EXISTS of another foreign table, 3% of the rows
# match): sgfdw sends one remote statement, postgres_fdw (PostgreSQL 15) joins locally.
SEMI_JOIN = ("SELECT count(*) FROM {t} a WHERE EXISTS (SELECT 1 FROM {t} b "
             "WHERE b.id = a.id + 1 AND b.f < 10000)")
ANTI_JOIN = ("SELECT count(*) FROM {t} a WHERE a.k = 3 AND NOT EXISTS (SELECT 1 FROM {t} b "
             "WHERE b.id = a.id + 1 AND b.f >= 10000)")
AGGREGATES.update(semi_join=SEMI_JOIN, anti_join=ANTI_JOIN)

# An explicit COLLATE "C" (1/16 of the rows; sgfdw ships it, postgres_fdw filters every
# row locally) and ctid = ANY of 100 row ids known at execution (both push it).
COLLATE_C = ("SELECT count(*), sum(f) FROM (SELECT * FROM {t} WHERE t COLLATE \"C\" < '1' "
             "OFFSET 0) s")
CTID_ANY = ("SELECT count(*), sum(f) FROM (SELECT * FROM {t} WHERE ctid = ANY (ARRAY("
            "SELECT ('(' || g || ',1)')::tid FROM generate_series(1, 100) g)) OFFSET 0) s")
AGGREGATES.update(collate_c=COLLATE_C, ctid_any=CTID_ANY)


def python_path_for(cluster: Cluster) -> str:
    """The checkout (sgfdw, multicorn) as the server can read it."""
    if postgres_can_read(REPO / "sgfdw"):
        return str(REPO)
    copy = cluster.base_dir / "pypath"
    for package in ("sgfdw", "multicorn"):
        shutil.copytree(REPO / package, copy / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for p in [copy, *copy.rglob("*")]:
        shutil.chown(p, cluster.base_dir.owner(), cluster.base_dir.group())
    return str(copy)


def timed(cur, query: str, params=None) -> tuple[float, list]:
    start = time.perf_counter()
    cur.execute(query, params)
    rows = cur.fetchall()
    return time.perf_counter() - start, rows


def backend_cpu(pid: int) -> float:
    """CPU seconds (user and system) a local process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def median_time(run, repeat: int) -> float:
    run()   # warm-up: connections, caches, plans
    return statistics.median(run() for _ in range(repeat))


def direct_full_scan(remote: Cluster) -> float:
    conn = remote.connect(autocommit=False)
    try:
        start = time.perf_counter()
        with conn.cursor(name="scan") as cur:
            cur.itersize = 10000
            cur.execute("SELECT id, t, f FROM public.big")
            count = sum(1 for _ in cur)
        elapsed = time.perf_counter() - start
        conn.rollback()
    finally:
        conn.close()
    assert count > 0
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--cases", help="comma-separated names of the cases to measure")
    args = parser.parse_args()
    every_case = ["full", "key", "range", *AGGREGATES, "update"]
    wanted = set(args.cases.split(",")) if args.cases else set(every_case)
    if not wanted <= set(every_case):
        parser.error(f"unknown cases {sorted(wanted - set(every_case))}; "
                     f"known: {','.join(every_case)}")
    n = args.rows
    span = max(n // 100, 1)
    rng = random.Random(42)

    remote = Cluster("bench-remote", settings=SETTINGS)
    local = Cluster("bench-local", settings=SETTINGS)
    clusters = [remote, local]
    try:
        remote.init()
        remote.start()
        remote.sql("CREATE TABLE public.big (id int PRIMARY KEY, t text, f float8, k int)")
        remote.sql(f"INSERT INTO public.big SELECT g, md5(g::text), g / 3.0, g % 10 "
                   f"FROM generate_series(1, {n}) g")
        remote.sql("VACUUM (FREEZE, ANALYZE) public.big")

        local.init()
        local.configure({"sgfdw.python_path": python_path_for(local)})
        local.start()
        local.create_database("bench", extensions=["sgfdw", "postgres_fdw"])
        conn = local.connect("bench")
        cur = conn.cursor()
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
        where = f"host '{remote.socket_dir}', port '{remote.port}', dbname 'postgres'"
        cur.execute(f"CREATE SERVER pgfdw FOREIGN DATA WRAPPER postgres_fdw "
                    f"OPTIONS ({where}, fetch_size '10000')")
        cur.execute("CREATE USER MAPPING FOR CURRENT_USER SERVER pgfdw "
                    "OPTIONS (user 'postgres')")
        cur.execute(f"CREATE SERVER sg FOREIGN DATA WRAPPER sgfdw "
                    f"OPTIONS (wrapper 'sgfdw.postgres.PostgresFdw', {where})")
        cur.execute("CREATE USER MAPPING FOR CURRENT_USER SERVER sg OPTIONS (user 'postgres')")
        for schema, server in (("p", "pgfdw"), ("s", "sg")):
            cur.execute(f"CREATE SCHEMA {schema}")
            cur.execute(f"IMPORT FOREIGN SCHEMA public LIMIT TO (big) FROM SERVER {server} "
                        f"INTO {schema}")
        # Both foreign tables get local statistics, as postgres_fdw's documentation asks
        # (without them a join's row estimate is PostgreSQL's default guess).
        cur.execute("ANALYZE p.big, s.big")
        cur.execute("SHOW jit")
        jit = cur.fetchone()[0]
        cur.execute("SELECT version()")
        version = cur.fetchone()[0].split(",")[0]
        plans = {}
        for schema in ("p", "s"):
            for name, query in [("full", FULL_SCAN), *AGGREGATES.items()]:
                if name not in wanted:
                    continue
                cur.execute("EXPLAIN (VERBOSE, COSTS OFF) " + query.format(t=f"{schema}.big"))
                plans[name, schema] = [r[0].strip() for r in cur.fetchall()
                                       if "Remote SQL" in r[0]]

        # Same answers from both FDWs and the remote itself.
        rcur = remote.connect().cursor()
        answers = {}
        for name, query, params in [("full", FULL_SCAN, None), ("key", BY_KEY, (4242,)),
                                    ("range", BY_RANGE, (1000, 1000 + span - 1)),
                                    *((name, query, None)
                                      for name, query in AGGREGATES.items())]:
            if name not in wanted:
                continue
            rcur.execute(query.format(t="public.big"), params)
            expected = rcur.fetchall()
            for schema in ("p", "s"):
                cur.execute(query.format(t=f"{schema}.big"), params)
                answers[name, schema] = cur.fetchall() == expected

        # A case not measured (--cases) is NaN, and not reported.
        results: dict[tuple[str, str], float] = collections.defaultdict(lambda: math.nan)
        spreads: dict[str, tuple[float, float]] = {}
        cpu_ratios: dict[str, float] = {}

        def measure(name: str, run, repeat: int) -> None:
            """run(schema) -> seconds, for both FDWs in turn in each round."""
            if name not in wanted:
                return
            times: dict[str, list[float]] = {"p": [], "s": []}
            cpu = {"p": 0.0, "s": 0.0}
            run("p"), run("s")      # warm-up: connections, caches, plans
            for i in range(repeat):
                for schema in ("p", "s") if i % 2 == 0 else ("s", "p"):
                    before = backend_cpu(backend)
                    times[schema].append(run(schema))
                    cpu[schema] += backend_cpu(backend) - before
            # Clock ticks count CPU time: a ratio only of enough of them.
            cpu_ratios[name] = cpu["s"] / cpu["p"] if min(cpu.values()) >= 0.2 else math.nan
            for schema, seconds in times.items():
                results[name, schema] = statistics.median(seconds)
            ratios = [s / p for p, s in zip(times["p"], times["s"])]
            spreads[name] = (min(ratios), max(ratios))

        measure("full", lambda schema: timed(cur, FULL_SCAN.format(t=f"{schema}.big"))[0],
                args.repeat)
        keys = [rng.randint(1, n) for _ in range(args.lookups)]
        measure("key", lambda schema: statistics.median(
            timed(cur, BY_KEY.format(t=f"{schema}.big"), (k,))[0] for k in keys), 3)
        starts = [rng.randint(1, n - span) for _ in range(max(args.lookups // 10, 5))]
        measure("range", lambda schema: statistics.median(
            timed(cur, BY_RANGE.format(t=f"{schema}.big"), (a, a + span - 1))[0]
            for a in starts), 3)
        for name, query in AGGREGATES.items():
            measure(name, lambda schema, query=query:
                    timed(cur, query.format(t=f"{schema}.big"))[0], args.repeat)

        updated = min(n, 10000)

        def update(schema: str) -> float:
            start = time.perf_counter()
            cur.execute(UPDATE.format(t=f"{schema}.big"), (updated,))
            answers["update", schema] = cur.rowcount == updated
            return time.perf_counter() - start

        measure("update", update, args.repeat)

        if "full" in wanted:
            results["full", "direct"] = median_time(lambda: direct_full_scan(remote),
                                                    args.repeat)
        if "key" in wanted:
            results["key", "direct"] = median_time(
                lambda: statistics.median(timed(rcur, BY_KEY.format(t="public.big"), (k,))[0]
                                          for k in keys), 3)
        if "range" in wanted:
            results["range", "direct"] = median_time(
                lambda: statistics.median(
                    timed(rcur, "SELECT * FROM public.big WHERE id BETWEEN %s AND %s",
                          (a, a + span - 1))[0] for a in starts), 3)
        conn.close()
    finally:
        for cluster in clusters:
            cluster.cleanup()

    print(f"Remote PostgreSQL benchmark: {n:,} rows (id int primary key, t text, f float8), "
          f"{version}")
    print(f"jit = {jit}, parallel query off; full scan: median of {args.repeat} runs; "
          f"lookups: median latency of {args.lookups} keys / "
          f"{max(args.lookups // 10, 5)} ranges of {span:,} rows (median of 3 rounds)")
    for name in ("full", *AGGREGATES):
        if name not in wanted:
            continue
        print(f"postgres_fdw remote SQL ({name}): {plans[name, 'p']}")
        print(f"sgfdw        remote SQL ({name}): {plans[name, 's']}")
    print()
    labels = {"direct": "psycopg2 direct", "p": "postgres_fdw", "s": "sgfdw PostgresFdw"}
    print(f"{'measure':<22} {'reader':<18} {'median':>12} {'rows/s':>14} "
          f"{'vs postgres_fdw':>16} {'spread':>12} {'CPU':>6}")
    print("-" * 106)

    def report(name: str, measure: str, readers: tuple[str, ...], rows: int | None) -> None:
        if name not in wanted:
            return
        for reader in readers:
            seconds = results[name, reader]
            spread, cpu = (f"{spreads[name][0]:.2f}-{spreads[name][1]:.2f}x",
                           f"{cpu_ratios[name]:.2f}x") if reader == "s" else ("", "")
            cpu = "" if cpu == "nanx" else cpu
            print(f"{measure:<22} {labels[reader]:<18} {seconds * 1000:10.3f}ms "
                  f"{'' if rows is None else f'{rows / seconds:,.0f}':>14} "
                  f"{seconds / results[name, 'p']:15.2f}x {spread:>12} {cpu:>6}")
        print()

    report("full", "full scan", ("direct", "p", "s"), n)
    report("key", "one row by key", ("direct", "p", "s"), 1)
    report("range", "1% by range", ("direct", "p", "s"), span)
    for name in AGGREGATES:
        report(name, name, ("p", "s"), None)
    report("update", "update 10,000 rows", ("p", "s"), None)

    full = results["full", "p"] / results["full", "s"]
    key_ratio = results["key", "s"] / results["key", "p"]
    range_ratio = results["range", "s"] / results["range", "p"]
    verdicts = [
        ("full-scan throughput vs postgres_fdw", full, ">=", 0.5, full >= 0.5),
        ("one-row latency vs postgres_fdw", key_ratio, "<=", 1.5, key_ratio <= 1.5),
        ("1%-range latency vs postgres_fdw", range_ratio, "<=", 1.5, range_ratio <= 1.5),
        *((f"{name} vs postgres_fdw", results[name, "s"] / results[name, "p"], "<=", 1.2,
           results[name, "s"] / results[name, "p"] <= 1.2)
          for name in ("count", "group", "group_top", "join", "semi_join", "update")),
    ]
    print("Targets:")
    for name, value, op, limit, ok in verdicts:
        if math.isnan(value):
            continue
        print(f"  {name:<38} {value:5.2f}x {op} {limit}  {'PASS' if ok else 'MISS'}")
    wrong = [k for k, ok in answers.items() if not ok]
    if wrong:
        print(f"\nRESULT MISMATCH against the remote table: {wrong}")
        return 1
    print("\nResults of every query are equal to the remote table's (both FDWs).")
    return 1 if args.strict and not all(v[-1] for v in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
