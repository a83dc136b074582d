"""The S3 external object handler: objects travel between an engine's object directory
and the registry's S3 bucket over presigned URLs that the registry hands out
(sgfdw.hooks.s3_server), so the engine never holds S3 credentials.

Transfers run on `threads` threads (parameter, default 4) with requests; everything
that touches the database -- paths, checksums, writing files -- stays on the backend's
own thread, the only one that may. A downloaded object is checked against the sha256
of its metadata before it is written: a mismatch is XX001 naming the object, and
nothing is written. Parameter `s3_host`: the URL this engine reaches the store by, when
not the registry's sgfdw.s3_endpoint.
"""
from __future__ import annotations

import concurrent.futures
import hashlib
import re
import time
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests

from sgfdw.engine import Engine
from sgfdw.errors import ConnectionFailure, FdwError, OptionError
from sgfdw.hooks.external_objects import ExternalObjectHandler, check_object_ids
from sgfdw.store import cache, files, meta
from sgfdw.store.errors import CorruptObject

__all__ = ["S3ExternalObjectHandler", "get_object_upload_urls", "get_object_download_urls"]

# Seconds to connect, and between bytes of a transfer.
_TIMEOUT = (10, 300)
# Seconds to wait before each further try of a transfer.
_RETRY_PAUSES = (0.5, 1.0)

T = TypeVar("T")
R = TypeVar("R")


def get_object_upload_urls(remote_engine: Engine, objects: list[str],
                           s3_host: str | None = None) -> list[list[str]]:
    """Per object, the presigned PUT URLs of its parts, from the registry."""
    return remote_engine.run_sql("SELECT sgfdw.get_object_upload_urls(%s, %s::text[])",
                                 (s3_host, check_object_ids(objects)))[0][0]


def get_object_download_urls(remote_engine: Engine, remote_object_ids: list[str],
                             s3_host: str | None = None) -> list[list[str]]:
    """Per object, the presigned GET URLs of its parts, from the registry."""
    return remote_engine.run_sql("SELECT sgfdw.get_object_download_urls(%s, %s::text[])",
                                 (s3_host, check_object_ids(remote_object_ids)))[0][0]


def _location(url: str) -> str:
    """A presigned URL without its signature: where the object is."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _s3_error(response: requests.Response) -> tuple[str, str]:
    """The S3 error code and message of a refused request."""
    def element(name: str) -> str:
        found = re.search(rf"<{name}>(.*?)</{name}>", response.text or "", re.DOTALL)
        return found.group(1) if found else ""
    return element("Code") or str(response.status_code), element("Message") or response.reason


def _check_response(response: requests.Response, object_id: str, action: str) -> None:
    if response.status_code < 300:
        return
    code, message = _s3_error(response)
    if "expired" in message.lower():
        raise FdwError(f"could not {action} object {object_id}: its presigned URL expired",
                       sqlstate="58000", detail=f"S3: {code}: {message}",
                       hint="Run the command again: it asks the registry for new URLs.")
    raise FdwError(f"could not {action} object {object_id}: S3 refused it ({code})",
                   sqlstate="58000", detail=f"S3: {code}: {message}")


def _transfer(action: str, object_id: str, send: Callable[[], requests.Response]
              ) -> requests.Response:
    """send(), tried again after a pause when S3 is unreachable or answers with a
    transient error (5xx), as S3 clients do."""
    pauses = iter(_RETRY_PAUSES)
    while True:
        pause = next(pauses, None)
        try:
            response = send()
        except requests.RequestException as exc:
            if pause is None:
                raise ConnectionFailure(
                    f"could not {action} object {object_id}: the S3 service cannot be "
                    "reached", detail=f"{type(exc).__name__}: "
                    f"{_location(str(getattr(exc.request, 'url', '') or ''))}") from None
        else:
            if response.status_code < 500 or pause is None:
                _check_response(response, object_id, action)
                return response
        time.sleep(pause)


def _upload(object_id: str, path: Path, sha256: str, url: str) -> None:
    # Checked here: a damaged local file must not reach the registry.
    data = files.read_checked(object_id, path, sha256)
    _transfer("upload", object_id, lambda: requests.put(url, data=data, timeout=_TIMEOUT))


def _download(object_id: str, url: str) -> tuple[bytes, str]:
    data = _transfer("download", object_id,
                     lambda: requests.get(url, timeout=_TIMEOUT)).content
    return data, hashlib.sha256(data).hexdigest()


def _in_threads(threads: int, work: Callable[..., R], jobs: Iterable[tuple[Any, ...]]
                ) -> Iterable[tuple[tuple[Any, ...], R]]:
    """(job, result) of each job as it finishes. The backend's thread waits in short
    steps so that a cancel (KeyboardInterrupt) reaches it; then the jobs not started
    are dropped, and the first error ends the wait the same way."""
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=threads)
    try:
        pending = {executor.submit(work, *job): job for job in jobs}
        while pending:
            done, _ = concurrent.futures.wait(pending, timeout=0.2,
                                              return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                yield job, future.result()
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


class S3ExternalObjectHandler(ExternalObjectHandler):
    def __init__(self, params: dict[str, Any] | None = None) -> None:
        super().__init__(params)
        threads = self.params.get("threads", 4)
        if not isinstance(threads, int) or isinstance(threads, bool) or not 1 <= threads <= 64:
            raise OptionError(f"S3 handler option threads must be an integer from 1 to 64, "
                              f"not {threads!r}")
        self.threads = threads
        self.s3_host = self.params.get("s3_host")

    def upload_objects(self, objects: list[str], remote_engine: Engine) -> list[tuple[str, str]]:
        objects = check_object_ids(objects)
        if not objects:
            return []
        infos = meta.objects(objects)
        missing = [object_id for object_id in objects if object_id not in infos]
        if missing:
            raise CorruptObject(f"object {missing[0]} has no metadata")
        # Files of a clone not read yet come first (they are uploaded from here).
        cache.ensure_local(objects)
        folder = files.object_dir()
        urls = get_object_upload_urls(remote_engine, objects, self.s3_host)
        jobs = [(object_id, folder / object_id, infos[object_id].sha256, parts[0])
                for object_id, parts in zip(objects, urls)]
        return [(job[0], _location(job[3]))
                for job, _ in _in_threads(self.threads, _upload, jobs)]

    def download_objects(self, objects: list[tuple[str, str]],
                         remote_engine: Engine) -> list[str]:
        ids = check_object_ids([object_id for object_id, _ in objects])
        if not ids:
            return []
        infos = meta.objects(ids)
        missing = [object_id for object_id in ids if object_id not in infos]
        if missing:
            raise CorruptObject(f"object {missing[0]} has no metadata")
        urls = get_object_download_urls(remote_engine, ids, self.s3_host)
        downloaded = []
        for (object_id, _), (data, sha256) in _in_threads(
                self.threads, _download, [(object_id, parts[0])
                                          for object_id, parts in zip(ids, urls)]):
            if sha256 != infos[object_id].sha256:
                raise CorruptObject(f"object {object_id} downloaded from the registry does "
                                    "not match its checksum",
                                    detail=f"sha256 {sha256}, expected "
                                           f"{infos[object_id].sha256}",
                                    hint="The object was changed in the registry's store; "
                                         "it was not kept.")
            files.write_object(object_id, data, sha256)
            downloaded.append(object_id)
        return downloaded
