"""The object store's errors, each with the SQLSTATE a user can act on.

They subclass sgfdw.errors.FdwError, so the bridge reports them as plain messages
(no traceback) with their SQLSTATE, HINT and DETAIL.
"""
from __future__ import annotations

from sgfdw.errors import FdwError

__all__ = ["StoreError", "NotFound", "InvalidName", "AmbiguousReference",
           "UnsupportedType", "CorruptObject", "ObjectWriteError", "UncommittedChanges",
           "ConcurrentChange"]


class StoreError(FdwError):
    """Any error of the object store (an internal one unless a subclass says more)."""

    sqlstate = "XX000"


class NotFound(StoreError):
    """An unknown repository, image, tag or table (undefined_object)."""

    sqlstate = "42704"


class InvalidName(StoreError):
    """A repository or tag name that cannot be used (invalid_parameter_value)."""

    sqlstate = "22023"


class AmbiguousReference(StoreError):
    """A hash prefix that matches more than one image (ambiguous_parameter)."""

    sqlstate = "42P08"


class UnsupportedType(StoreError):
    """A column whose type the store cannot keep exactly (feature_not_supported)."""

    sqlstate = "0A000"


class CorruptObject(StoreError):
    """An object's file is missing or does not match its checksum (data_corrupted)."""

    sqlstate = "XX001"


class ObjectWriteError(StoreError):
    """An object's file cannot be written (io_error; disk_full when out of space)."""

    sqlstate = "58030"


class UncommittedChanges(StoreError):
    """The checked-out schema has changes a command would lose
    (object_not_in_prerequisite_state)."""

    sqlstate = "55000"


class ConcurrentChange(StoreError):
    """Another transaction changed the repository first (serialization_failure)."""

    sqlstate = "40001"
