"""The SQL functions of schema sgfdw (LANGUAGE sgfdw_python) over the store: each
parses its arguments and calls the module that does the work."""
from __future__ import annotations

from typing import Any, Iterator, Mapping

from sgfdw.store import checkout as working_copy
from sgfdw.store import cleanup as removal
from sgfdw.store import commit as committing
from sgfdw.store import diff as differences
from sgfdw.store import images, remotes, sync
from sgfdw.store.names import parse_repository

__all__ = ["init", "import_table", "checkout", "commit", "diff", "tag", "log", "rm",
           "cleanup", "add_remote", "push", "clone", "pull"]


def init(repository: str) -> str:
    return images.init(parse_repository(repository))


def import_table(repository: str, table_name: str, source: str,
                 message: str | None = None) -> str:
    return working_copy.import_table(parse_repository(repository), table_name, source,
                                     message)


def checkout(repository: str, image: str | None = "latest", force: bool = False,
             layered: bool = False) -> str:
    return working_copy.checkout(parse_repository(repository), image, bool(force),
                                 bool(layered))


def commit(repository: str, message: str | None = None, snapshot: bool = False) -> str:
    return committing.commit(parse_repository(repository), message, bool(snapshot))


def diff(repository: str, table_name: str, image_a: str,
         image_b: str | None = None) -> Iterator[tuple]:
    return differences.diff(parse_repository(repository), table_name, image_a, image_b)


def tag(repository: str, image: str, tag: str) -> None:
    images.tag(parse_repository(repository), image, tag)


def log(repository: str) -> Iterator[tuple]:
    return images.log(parse_repository(repository))


def rm(repository: str) -> None:
    images.rm(parse_repository(repository))


def cleanup() -> int:
    return removal.cleanup()


def add_remote(name: str, host: str, port: int | None, dbname: str, username: str,
               password: str | None) -> None:
    remotes.add_remote(name, host, port, dbname, username, password)


def push(repository: str, remote: str, remote_repository: str | None = None,
         handler: str = "S3", handler_options: Mapping[str, Any] | None = None) -> int:
    return sync.push(parse_repository(repository), remote,
                     parse_repository(remote_repository or repository), handler,
                     handler_options)


def clone(remote: str, remote_repository: str, local_repository: str | None = None,
          download_all: bool = False,
          handler_options: Mapping[str, Any] | None = None) -> int:
    return sync.clone(remote, parse_repository(remote_repository),
                      parse_repository(local_repository or remote_repository),
                      bool(download_all), handler_options)


def pull(repository: str, download_all: bool = False,
         handler_options: Mapping[str, Any] | None = None) -> int:
    return sync.pull(parse_repository(repository), bool(download_all), handler_options)
