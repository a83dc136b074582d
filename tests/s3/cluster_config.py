"""Changing a running test cluster's configuration and waiting until it applies."""
from __future__ import annotations

import contextlib
import time


@contextlib.contextmanager
def password_required(cluster, role: str):
    """Until the block ends, the cluster asks `role` for its password (the test
    clusters trust every local login)."""
    hba = cluster.data_dir / "pg_hba.conf"
    original = hba.read_text()
    reload_config(cluster, lambda: hba.write_text(
        f"local all {role} scram-sha-256\n" + original))
    try:
        yield
    finally:
        reload_config(cluster, lambda: hba.write_text(original))


def reload_config(cluster, change) -> None:
    """Applies change() to the configuration files and waits until new sessions see it
    (the postmaster reloads when signalled; a new backend's pg_conf_load_time() tells
    it did)."""
    before = cluster.sql("SELECT pg_conf_load_time()")[0][0]
    change()
    cluster.sql("SELECT pg_reload_conf()")
    while cluster.sql("SELECT pg_conf_load_time()")[0][0] == before:
        time.sleep(0.05)
