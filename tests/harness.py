"""Throwaway PostgreSQL 15 clusters for tests and benchmarks.

Independent of pytest: bench/ scripts put this directory on sys.path and use Cluster
directly, e.g.

    with Cluster("bench", settings={"jit": "off"}) as pg:
        pg.sql("select 1")

Each cluster lives in a private directory under /tmp (data, unix socket, log), listens
on its socket only (no TCP, so it cannot clash with any other cluster on the machine)
and is removed when cleaned up. initdb and postgres refuse to run as root: a root
process runs them as the `postgres` user through runuser, with a clean environment so
that root's variables (PYTHONPATH, PG*, a pyenv PATH) never reach the server.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

PG_BIN = Path(os.environ.get("SGFDW_PG_BIN", "/usr/lib/postgresql/15/bin"))
# Leave cluster directories behind (for post-mortem reading of data and logs).
KEEP = os.environ.get("SGFDW_KEEP_CLUSTERS", "") not in ("", "0")

_IS_ROOT = os.geteuid() == 0
# What the server processes get as their whole environment.
_SERVER_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


class ClusterError(RuntimeError):
    """A pg_ctl/initdb step failed; the message carries its output and the log tail."""


def _as_postgres(cmd: Sequence[str]) -> list[str]:
    """The command line that runs cmd as the server's OS user with a clean environment."""
    env = [f"{k}={v}" for k, v in _SERVER_ENV.items()]
    if _IS_ROOT:
        return ["runuser", "-u", "postgres", "--", "env", "-i", *env, *cmd]
    return ["env", "-i", *env, *cmd]


def _conf_value(value: Any) -> str:
    """A postgresql.conf value: numbers bare, everything else single-quoted."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


_ports_given: set[int] = set()


def free_port() -> int:
    """A port nobody listens on over TCP now (the kernel's pick), distinct per process.

    The cluster itself only uses the port to name its socket file in its private
    directory, but distinct ports free on TCP keep clients' messages unambiguous.
    """
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _ports_given:
            _ports_given.add(port)
            return port


def postgres_can_read(path: Path) -> bool:
    """Whether the server's OS user can read (and traverse to) path."""
    if not _IS_ROOT:
        return os.access(path, os.R_OK | os.X_OK)
    cmd = _as_postgres(["test", "-r", str(path), "-a", "-x", str(path)])
    return subprocess.run(cmd, stdin=subprocess.DEVNULL).returncode == 0


class Cluster:
    """One PostgreSQL cluster in a private temporary directory.

    settings: extra postgresql.conf settings (name -> value).
    Life cycle: init() (initdb + configuration), start(), stop(), restart(),
    cleanup() (immediate stop and removal); `with Cluster(...) as c` does
    init/start/cleanup, and cleanup also runs at interpreter exit.
    """

    superuser = "postgres"

    def __init__(self, name: str = "sgfdw", settings: Mapping[str, Any] | None = None,
                 port: int | None = None):
        self.name = name
        self.settings = dict(settings or {})
        self.port = port or free_port()
        self.base_dir: Path | None = None
        self.data_dir: Path | None = None
        self.socket_dir: Path | None = None
        self.logfile: Path | None = None
        self._running = False
        self._extension_template_made = False

    # -- life cycle -----------------------------------------------------------------

    def init(self) -> "Cluster":
        """initdb into a fresh private directory and write the configuration."""
        self.base_dir = Path(tempfile.mkdtemp(prefix=f"sgfdw-{self.name}-", dir="/tmp"))
        if _IS_ROOT:
            shutil.chown(self.base_dir, "postgres", "postgres")
        self.data_dir = self.base_dir / "data"
        self.socket_dir = self.base_dir  # short path: socket names are limited to ~100 bytes
        self.logfile = self.base_dir / "postgres.log"
        atexit.register(self.cleanup)
        self._pg("initdb", "-D", str(self.data_dir), "-U", self.superuser,
                 "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        base = {
            "listen_addresses": "",
            "port": self.port,
            "unix_socket_directories": str(self.socket_dir),
            # Durability is of no use for a throwaway cluster; speed is.
            "fsync": False,
            "synchronous_commit": False,
            "full_page_writes": False,
            "log_line_prefix": "%m [%p] %q%d ",
            "log_checkpoints": False,
        }
        self.configure({**base, **self.settings})
        return self

    def configure(self, settings: Mapping[str, Any]) -> None:
        """Append settings to postgresql.conf (later lines win); needs a restart or
        pg_reload_conf() to take effect on a running cluster."""
        lines = "".join(f"{k} = {_conf_value(v)}\n" for k, v in settings.items())
        # Appending keeps the file's owner (the postgres user when we are root).
        with open(self.data_dir / "postgresql.conf", "a") as f:
            f.write(lines)

    def start(self, timeout: int = 60) -> None:
        self._pg("pg_ctl", "-D", str(self.data_dir), "-l", str(self.logfile),
                 "-w", "-t", str(timeout), "start")
        self._running = True

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; mode is pg_ctl's: smart, fast or immediate."""
        if self._running:
            self._pg("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")
            self._running = False

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        """Stop at once (nothing to keep) and remove the directory. Idempotent."""
        if self.base_dir is None:
            return
        # Also when start() failed half-way: a postmaster may be up without us knowing.
        if self._running or (self.data_dir / "postmaster.pid").exists():
            self._running = True
            try:
                self.stop("immediate")
            except ClusterError:
                pass
        if not KEEP:
            shutil.rmtree(self.base_dir, ignore_errors=True)
        self.base_dir = None

    def is_running(self) -> bool:
        cmd = _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "status"])
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              cwd=self.base_dir).returncode == 0

    def __enter__(self) -> "Cluster":
        self.init()
        try:
            self.start()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    # -- clients --------------------------------------------------------------------

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host={self.socket_dir} port={self.port} user={self.superuser} dbname={dbname}"

    def connect(self, dbname: str = "postgres", autocommit: bool = True, **kw: Any):
        """A psycopg2 connection as the superuser over the unix socket."""
        import psycopg2  # here, so the cluster life cycle needs no client library

        conn = psycopg2.connect(host=str(self.socket_dir), port=self.port,
                                user=self.superuser, dbname=dbname, **kw)
        conn.autocommit = autocommit
        return conn

    def sql(self, query: str, params: Any = None, dbname: str = "postgres") -> list[tuple]:
        """Run one statement on a short-lived connection; its rows, or [] if none."""
        conn = self.connect(dbname)
        try:
            with conn.cursor() as cur:
                cur.execute(query, params)
                return cur.fetchall() if cur.description is not None else []
        finally:
            conn.close()

    # Tests make a database per test: copying one that holds the extension saves the
    # CREATE EXTENSION sgfdw that was a third of that cost.
    _EXTENSION_TEMPLATE = "sgfdw_template"

    @contextlib.contextmanager
    def extension_database(self, name: str) -> Iterator[Any]:
        """A new database with `CREATE EXTENSION sgfdw` done: an autocommit connection
        to it, closed and the database dropped afterwards. It is a copy of a template
        database made at the first call (nobody connects to the template); the
        connection has loaded the module, as CREATE EXTENSION would (its settings exist)."""
        if not self._extension_template_made:
            self.create_database(self._EXTENSION_TEMPLATE, extensions=["sgfdw"])
            self._extension_template_made = True
        self.create_database(name, template=self._EXTENSION_TEMPLATE)
        conn = None
        try:
            conn = self.connect(name)
            with conn.cursor() as cur:
                cur.execute("LOAD 'sgfdw'")
            yield conn
        finally:
            if conn is not None:
                conn.close()
            self.drop_database(name)

    def create_database(self, name: str, template: str = "template0",
                        extensions: Sequence[str] = ()) -> None:
        from psycopg2 import sql

        self.sql(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template)))
        for ext in extensions:
            self.sql(sql.SQL("CREATE EXTENSION {}").format(sql.Identifier(ext)), dbname=name)

    def drop_database(self, name: str) -> None:
        """Drop it even if sessions are still connected (FORCE terminates them)."""
        from psycopg2 import sql

        self.sql(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def log_tail(self, n: int = 50) -> str:
        """The last n lines of the server log, for error messages and debugging."""
        try:
            lines = self.logfile.read_text(errors="replace").splitlines()
        except (OSError, AttributeError):
            return ""
        return "\n".join(lines[-n:])

    # -- internals ------------------------------------------------------------------

    def _pg(self, program: str, *args: str) -> None:
        cmd = _as_postgres([str(PG_BIN / program), *args])
        # cwd: the postgres user may not be able to enter the caller's directory.
        # stdin: CI has none, and pg_ctl must not wait on it.
        proc = subprocess.run(cmd, cwd=self.base_dir, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        if proc.returncode != 0:
            raise ClusterError(
                f"{program} failed for cluster {self.name!r} (exit {proc.returncode}):\n"
                f"{proc.stdout.decode(errors='replace')}\n"
                f"--- {self.logfile} (tail) ---\n{self.log_tail(30)}")

    def __repr__(self) -> str:
        return f"<Cluster {self.name} port={self.port} dir={self.base_dir}>"

