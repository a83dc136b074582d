"""Object files: where they live and how they are written and read safely.

sgfdw.object_dir is one setting for the whole cluster, so each database keeps its files
in a subfolder named by its OID: one database's cleanup never sees another's files. A
file is written to a temporary name, fsynced and renamed (then the directory fsynced)
before the metadata that names it can commit, so no committed metadata points at a
partial file; a rolled-back transaction can leave a whole file no metadata names, which
cleanup removes. Reads check the file's sha256: a file changed or lost behind the
store's back is an error naming the object, never wrong data.
"""
from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path
from typing import BinaryIO

from sgfdw import pg
from sgfdw.store.errors import CorruptObject, ObjectWriteError

__all__ = ["object_dir", "object_path", "write_object", "read_object", "read_checked",
           "open_object_checked_once", "list_objects",
           "remove_file", "hold_writers_lock"]


_database_oid: int | None = None  # a backend stays connected to one database


def object_dir() -> Path:
    """This database's folder (a relative sgfdw.object_dir is under the data directory,
    the backend's working directory)."""
    global _database_oid
    if _database_oid is None:
        # a catalog scan: ten times the cost of reading the setting, which may change
        _database_oid = pg.execute("SELECT oid FROM pg_database "
                                   "WHERE datname = current_database()")[0][0]
    setting = pg.execute("SELECT current_setting('sgfdw.object_dir')")[0][0]
    return Path(setting) / str(_database_oid)


def hold_writers_lock(exclusive: bool = False) -> None:
    """Until the end of the transaction: shared by writers of objects, exclusive for
    cleanup (advisory locks are per database, as the object folders are)."""
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    pg.execute(f"SELECT {function}(hashtextextended('sgfdw.store objects', 0))")


def object_path(object_id: str) -> Path:
    return object_dir() / object_id


def _present_path(object_id: str) -> Path:
    """The object's path, its file downloaded first when it is missing and the object
    has an external location (cloned from a registry: sgfdw.store.cache)."""
    path = object_path(object_id)
    if not path.exists():
        # Imported here: the cache writes the files it downloads through this module.
        from sgfdw.store import cache

        cache.ensure_local([object_id])
    return path


def _write_error(path: Path, exc: OSError) -> ObjectWriteError:
    sqlstate = "53100" if exc.errno == errno.ENOSPC else "58030"
    return ObjectWriteError(f'could not write object file "{path}": {exc.strerror}',
                            sqlstate=sqlstate,
                            hint="Check sgfdw.object_dir: it must be writable by the "
                                 "server and have room for the objects.")


def _sha256_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def write_object(object_id: str, data: bytes, sha256: str) -> None:
    """Durably writes an object's file (an intact one already there is kept: same id,
    same content; a damaged one is replaced)."""
    hold_writers_lock()
    path = object_path(object_id)
    if _sha256_of(path) == sha256:
        return
    temporary = path.with_name(f".{object_id}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view):]
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.rename(temporary, path)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as exc:
        try:
            temporary.unlink(missing_ok=True)
        except OSError:
            pass
        raise _write_error(path, exc) from None


def _read(object_id: str) -> tuple[Path, bytes, tuple[int, int, int]]:
    """The file's path, bytes and identity (inode, size, modification time)."""
    path = _present_path(object_id)
    try:
        with open(path, "rb") as file:
            status = os.fstat(file.fileno())
            data = file.read()
    except OSError as exc:
        raise CorruptObject(f"object {object_id} cannot be read: {exc.strerror}",
                            detail=f"file: {path}") from None
    return path, data, (status.st_ino, status.st_size, status.st_mtime_ns)


def _check(object_id: str, path: Path, data: bytes, sha256: str) -> None:
    if hashlib.sha256(data).hexdigest() != sha256:
        raise CorruptObject(f"object {object_id} does not match its checksum",
                            detail=f"file: {path}",
                            hint="The file was changed behind the store's back.")


def read_checked(object_id: str, path: Path, sha256: str) -> bytes:
    """The object's file at path (found by the caller), checked against sha256. Runs no
    SQL, so a transfer thread may call it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorruptObject(f"object {object_id} cannot be read: {exc.strerror}",
                            detail=f"file: {path}") from None
    _check(object_id, path, data, sha256)
    return data


def read_object(object_id: str, sha256: str) -> bytes:
    path, data, _ = _read(object_id)
    _check(object_id, path, data, sha256)
    return data


# object id -> identity of the file when this backend last checked its sha256
_checked: dict[str, tuple[int, int, int]] = {}


def open_object_checked_once(object_id: str, sha256: str) -> BinaryIO:
    """The object's file, open for reading, for readers of the same objects query after
    query that read only parts of them (layered scans: a few row groups of a few
    columns): the whole file is read to check its sha256 only the first time this
    backend opens it and again whenever it is replaced or rewritten (inode, size or
    mtime of the open file changed). The caller closes it."""
    path = _present_path(object_id)
    try:
        file = open(path, "rb")
    except OSError as exc:
        raise CorruptObject(f"object {object_id} cannot be read: {exc.strerror}",
                            detail=f"file: {path}") from None
    try:
        status = os.fstat(file.fileno())
        identity = (status.st_ino, status.st_size, status.st_mtime_ns)
        if _checked.get(object_id) != identity:
            _check(object_id, path, file.read(), sha256)
            file.seek(0)
            _checked[object_id] = identity
    except BaseException:
        file.close()
        raise
    return file


def list_objects() -> list[str]:
    """Names of the files in this database's folder (objects and temporary files)."""
    try:
        return [entry.name for entry in os.scandir(object_dir()) if entry.is_file()]
    except FileNotFoundError:
        return []


def remove_file(name: str) -> None:
    (object_dir() / name).unlink(missing_ok=True)
