"""Which column identifies a remote row for UPDATE and DELETE (Multicorn's
``rowid_column``), decided the same way by every wrapper over a remote source.

Why shared: the rule -- the ``rowid_column`` option (alias ``primary_key``, see
sgfdw.remote.options), else the remote table's primary key when it has exactly one
column -- and the error when neither applies must not differ between wrappers. What a
wrapper does without one is its own (PostgresFdw falls back to the remote ctid).
"""
from __future__ import annotations

from typing import Sequence

from sgfdw.errors import FeatureNotSupported

__all__ = ["rowid_from_key", "no_row_identity"]


def rowid_from_key(option: str | None, key: Sequence[str | None] | None) -> str | None:
    """The row identity: ``option`` when set, else the one column of the remote primary
    ``key`` (its local name; None when the foreign table lacks it); None when there is
    no key or a key of several columns."""
    if option is not None:
        return option
    if key is not None and len(key) == 1:
        return key[0]
    return None


def no_row_identity(table: str, detail: str | None = None) -> FeatureNotSupported:
    """The error for a write to ``table`` (its name for messages) without a row
    identity."""
    return FeatureNotSupported(
        f"remote table {table} has no single-column primary key to identify rows",
        detail=detail,
        hint="Set the table option rowid_column (alias primary_key) to a column whose "
             "values are unique and not null.")
