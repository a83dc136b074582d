"""Fixtures for sharing images between engines: a real S3-compatible server that checks
signatures (SeaweedFS, see seaweed.py) and a registry -- a second cluster running sgfdw,
loaded at start (shared_preload_libraries) so that every backend hides its settings --
whose objects go to that server. The engine is the `pg` cluster (`db` fixture).

s3         the SeaweedFS server (session)
registry   the registry cluster (session)
hub        per test: an autocommit connection to a fresh registry database with sgfdw;
           hub.info.dbname names it
"""
from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from seaweed import BUCKET, SeaweedS3


@pytest.fixture(scope="session")
def s3():
    server = SeaweedS3()
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


def _secret_key_file(secret: str) -> Path:
    """The secret key in a file only the server's user reads."""
    folder = Path(tempfile.mkdtemp(prefix="sgfdw-s3-key-", dir="/tmp"))
    path = folder / "secret_key"
    path.write_text(secret + "\n")
    path.chmod(0o600)
    if os.geteuid() == 0:
        for entry in (folder, path):
            shutil.chown(entry, "postgres", "postgres")
    return path


@pytest.fixture(scope="session")
def registry(s3, sgfdw_cluster):
    key_file = _secret_key_file(s3.secret_key)
    try:
        yield sgfdw_cluster("registry", {
            "shared_preload_libraries": "sgfdw",
            "sgfdw.s3_endpoint": s3.endpoint,
            "sgfdw.s3_bucket": BUCKET,
            "sgfdw.s3_access_key": s3.access_key,
            "sgfdw.s3_secret_key_file": str(key_file),
        })
    finally:
        shutil.rmtree(key_file.parent, ignore_errors=True)


_hub_counter = itertools.count(1)


@pytest.fixture
def hub(registry):
    with registry.extension_database(f"hub{next(_hub_counter)}") as conn:
        yield conn
