"""Sharing an image through a registry and SeaweedFS, measured in one run: ratios of
the same work with 1, 4 and 8 transfer threads, and what a pruned query after a clone
downloads.

An image of N rows (id int primary key, t text, f float8) in 10 objects
(sgfdw.fragment_rows = N/10) on an engine (one cluster); a registry (a second cluster,
sgfdw preloaded) whose objects go to a SeaweedFS server on loopback.

* push with threads 1 / 4 / 8: each into a fresh registry database, so every object
  is uploaded;
* clone + full checkout with threads 1 / 4 / 8: each into a fresh engine database,
  clone with download_all (the objects in parallel; reported alone too), then
  checkout (materialising the table: the same work whatever the threads);
* a pruned layered query after a plain clone (nothing downloaded yet):
  ``WHERE id BETWEEN 1 AND N/1000`` on the image through server sgfdw_objects --
  bytes downloaded against the image's size.

    .venv/bin/python bench/bench_sync.py [--rows N]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "s3"))

from bench_postgres import python_path_for  # noqa: E402
from harness import Cluster  # noqa: E402
from seaweed import BUCKET, SeaweedS3  # noqa: E402

SETTINGS = {"jit": "off", "max_parallel_workers_per_gather": 0, "shared_buffers": "256MB"}
IMAGE = "bench/shared"
THREADS = (1, 4, 8)


def sgfdw_cluster(name: str, settings: dict) -> Cluster:
    cluster = Cluster(name, settings={**SETTINGS, **settings})
    cluster.init()
    cluster.configure({"sgfdw.python_path": python_path_for(cluster)})
    cluster.start()
    return cluster


def secret_key_file(secret: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="sgfdw-bench-key-", dir="/tmp"))
    path = folder / "secret_key"
    path.write_text(secret)
    path.chmod(0o600)
    if os.geteuid() == 0:
        for entry in (folder, path):
            shutil.chown(entry, "postgres", "postgres")
    return path


def timed(cur, query: str, params=None) -> float:
    start = time.perf_counter()
    cur.execute(query, params)
    cur.fetchall()
    return time.perf_counter() - start


def add_remote(cur, name: str, registry: Cluster, dbname: str) -> None:
    cur.execute("SELECT sgfdw.add_remote(%s, %s, %s, %s, 'postgres', 'unused')",
                (name, str(registry.socket_dir), registry.port, dbname))


def engine_cursor(engine: Cluster, dbname: str):
    engine.create_database(dbname, extensions=["sgfdw"])
    conn = engine.connect(dbname)
    return conn, conn.cursor()


def report(name: str, seconds: dict[int, float]) -> None:
    base = seconds[THREADS[0]]
    print(f"{name:28}" + "  ".join(f"threads {n}: {s:6.2f} s ({base / s:4.2f}x)"
                                   for n, s in seconds.items()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    s3 = SeaweedS3()
    key_file = secret_key_file(s3.secret_key)
    clusters: list[Cluster] = []
    try:
        s3.start()
        registry = sgfdw_cluster("bench-registry", {
            "shared_preload_libraries": "sgfdw", "sgfdw.s3_endpoint": s3.endpoint,
            "sgfdw.s3_bucket": BUCKET, "sgfdw.s3_access_key": s3.access_key,
            "sgfdw.s3_secret_key_file": str(key_file)})
        clusters.append(registry)
        engine = sgfdw_cluster("bench-engine", {})
        clusters.append(engine)

        conn, cur = engine_cursor(engine, "source")
        cur.execute("SET sgfdw.fragment_rows = %s", (args.rows // 10,))
        cur.execute("CREATE TABLE src (id int PRIMARY KEY, t text, f float8)")
        cur.execute("INSERT INTO src SELECT g, md5(g::text), g * 1.5 "
                    "FROM generate_series(1, %s) g", (args.rows,))
        cur.execute("SELECT sgfdw.init(%s)", (IMAGE,))
        cur.execute("SELECT sgfdw.import_table(%s, 'src', 'src')", (IMAGE,))
        cur.execute("SELECT count(*), sum(size) FROM splitgraph_meta.objects")
        objects, image_bytes = cur.fetchone()
        print(f"image: {args.rows:,} rows in {objects} objects, {image_bytes / 2**20:.1f} MB; "
              "SeaweedFS and both clusters on loopback, 2 cores")

        pushes = {}
        for threads in THREADS:
            hub = f"hub{threads}"
            registry.create_database(hub, extensions=["sgfdw"])
            add_remote(cur, hub, registry, hub)
            pushes[threads] = timed(cur, "SELECT sgfdw.push(%s, %s, handler_options => %s)",
                                    (IMAGE, hub, json.dumps({"threads": threads})))
        report("push", pushes)

        clones, checkouts = {}, {}
        for threads in THREADS:
            clone_conn, clone_cur = engine_cursor(engine, f"clone{threads}")
            add_remote(clone_cur, "registry", registry, f"hub{threads}")
            clones[threads] = timed(
                clone_cur, "SELECT sgfdw.clone('registry', %s, download_all => true, "
                "handler_options => %s)", (IMAGE, json.dumps({"threads": threads})))
            checkouts[threads] = clones[threads] + timed(
                clone_cur, "SELECT sgfdw.checkout(%s)", (IMAGE,))
            clone_conn.close()
        report("clone (all objects)", clones)
        report("clone + full checkout", checkouts)

        lazy_conn, lazy_cur = engine_cursor(engine, "lazy")
        add_remote(lazy_cur, "registry", registry, "hub4")
        lazy_cur.execute("SELECT sgfdw.clone('registry', %s)", (IMAGE,))
        lazy_cur.execute("CREATE SCHEMA l")
        lazy_cur.execute(f'IMPORT FOREIGN SCHEMA "{IMAGE}" FROM SERVER sgfdw_objects INTO l')
        seconds = timed(lazy_cur, "SELECT count(*), sum(f) FROM l.src WHERE id BETWEEN 1 AND %s",
                        (max(args.rows // 1000, 1),))
        lazy_cur.execute("SELECT count(*), coalesce(sum(size), 0) FROM sgfdw.object_cache")
        fetched, fetched_bytes = lazy_cur.fetchone()
        print(f"{'pruned layered query':28}{seconds:6.2f} s: downloaded {fetched} of {objects} "
              f"objects, {fetched_bytes / 2**20:.1f} of {image_bytes / 2**20:.1f} MB "
              f"({100 * fetched_bytes / image_bytes:.0f}%)")
        lazy_conn.close()
        conn.close()
    finally:
        for cluster in clusters:
            cluster.cleanup()
        s3.cleanup()
        shutil.rmtree(key_file.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
