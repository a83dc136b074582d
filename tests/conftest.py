"""pytest fixtures: real PostgreSQL 15 clusters started for the test session.

pg      the cluster where sgfdw is used (sgfdw.python_path = tests/fdws, jit off),
        with an empty database `sgfdw_test`
remote  a second, plain cluster: the "remote" side for the PostgreSQL FDW
db      per test: a psycopg2 autocommit connection to a fresh database in `pg` with
        `CREATE EXTENSION sgfdw` done; the database is dropped after the test
role    per test: a plain role of `pg` (see its docstring)
mounting  per test: db with the test mount handler 'imp' registered
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from pathlib import Path

import pytest
from psycopg2 import sql

from fdwtest import execute
from harness import Cluster, postgres_can_read

REPO = Path(__file__).resolve().parent.parent
FDWS = REPO / "tests" / "fdws"


def _fdws_dir_for(cluster: Cluster) -> Path:
    """tests/fdws as the server can read it.

    The server runs as the postgres user, which cannot read a checkout under a private
    home directory (e.g. /root); then it gets a copy in the cluster's own directory.
    """
    if postgres_can_read(FDWS):
        return FDWS
    copy = cluster.base_dir / "fdws"
    shutil.copytree(FDWS, copy)
    if cluster.base_dir.owner() != copy.owner():
        for p in [copy, *copy.rglob("*")]:
            shutil.chown(p, cluster.base_dir.owner(), cluster.base_dir.group())
    return copy


# `make installcheck` sets this: the suite then checks what is installed (the venv's
# packages), not the working tree.
TEST_INSTALLED = os.environ.get("SGFDW_TEST_INSTALLED", "") not in ("", "0")


def _python_path_for(cluster: Cluster) -> str:
    """tests/fdws, then the checkout itself when the server can read it, so the tests
    exercise the working tree's sgfdw and multicorn packages rather than the copies
    `make install` put in the venv (which are what a server without the checkout uses)."""
    path = [str(_fdws_dir_for(cluster))]
    if not TEST_INSTALLED and postgres_can_read(REPO / "sgfdw"):
        path.append(str(REPO))
    return ":".join(path)


def start_sgfdw_cluster(cluster: Cluster) -> Cluster:
    """init and start a cluster where sgfdw is used (the working tree's packages on its
    sgfdw.python_path); the caller cleans it up."""
    cluster.init()
    cluster.configure({"sgfdw.python_path": _python_path_for(cluster)})
    cluster.start()
    return cluster


@pytest.fixture(scope="session")
def pg():
    cluster = Cluster("pg", settings={"jit": "off"})
    try:
        start_sgfdw_cluster(cluster)
        cluster.create_database("sgfdw_test")
        yield cluster
    finally:
        cluster.cleanup()


@pytest.fixture(scope="session")
def sgfdw_cluster():
    """Makes more clusters like pg (e.g. a registry): sgfdw_cluster(name, settings) ->
    a started Cluster, removed at the end of the session."""
    made: list[Cluster] = []

    def make(name: str, settings: dict | None = None) -> Cluster:
        cluster = Cluster(name, settings={"jit": "off", **(settings or {})})
        made.append(cluster)
        return start_sgfdw_cluster(cluster)

    try:
        yield make
    finally:
        for cluster in made:
            cluster.cleanup()


@pytest.fixture(scope="session")
def remote():
    with Cluster("remote") as cluster:
        yield cluster


_db_counter = itertools.count(1)


@pytest.fixture
def db(pg, request):
    # Named after the test (and unique) so that the server log says whose it was.
    slug = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")[:40]
    name = f"t{next(_db_counter)}_{slug}"
    with pg.extension_database(name) as conn:
        yield conn


@pytest.fixture
def role(db):
    """A plain role (no superuser, no login) with USAGE on the sgfdw wrapper and CREATE
    on schema public, dropped with what it owns after the test."""
    name = f"sgfdw_user_{execute(db, 'SELECT pg_backend_pid()')[0][0]}"
    execute(db, sql.SQL("CREATE ROLE {}").format(sql.Identifier(name)))
    execute(db, sql.SQL("GRANT USAGE ON FOREIGN DATA WRAPPER sgfdw TO {}").format(
        sql.Identifier(name)))
    execute(db, sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        execute(db, "RESET ROLE")
        execute(db, sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
        execute(db, sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


@pytest.fixture
def mounting(db):
    """db with mount handler 'imp' registered: the importing test FDW
    (tests/fdws/importer.py) as the source of sgfdw.mount."""
    execute(db, "CREATE FUNCTION register_handler(name text, wrapper text) RETURNS void "
                "LANGUAGE sgfdw_python AS 'mounttest.register_handler'")
    execute(db, "SELECT register_handler('imp', 'importer.ImporterFdw')")
    return db


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, show the tail of the server log of the clusters the test used."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for fixture in ("pg", "remote"):
            cluster = item.funcargs.get(fixture) if hasattr(item, "funcargs") else None
            if isinstance(cluster, Cluster):
                report.sections.append((f"{fixture} server log (tail)", cluster.log_tail(40)))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under pytest-xdist (make test runs two workers) a worker takes whole files, so that
    module-scoped fixtures are made once, and all of tests/s3, so that the session runs
    one SeaweedFS server (its TCP ports are picked free per process, not per machine)."""
    from xdist.scheduler import LoadFileScheduling

    class FilesAndS3(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "tests/s3" if path.startswith("tests/s3/") else path

    return FilesAndS3(config, log)
