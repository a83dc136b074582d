"""The Multicorn transaction hooks of a wrapper over a remote source, forwarded to the
object that keeps that source's remote transaction.

Why a mixin: the bridge calls seven hooks (begin, pre_commit, commit, rollback,
sub_begin, sub_commit, sub_rollback) on every FDW instance touched in a local
transaction; a wrapper over a remote source has nothing to add to them but the remote
transaction to drive, shared by all its tables on one connection. Writing the seven
forwarders once keeps the wrappers from drifting apart in what they forward.
"""
from __future__ import annotations

from typing import Protocol

__all__ = ["RemoteTransactionControl", "ForwardsTransactions"]


class RemoteTransactionControl(Protocol):
    """What follows the local transaction on the remote side (one per connection)."""

    def begin(self, serializable: bool) -> object: ...

    def pre_commit(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def sub_begin(self, level: int) -> None: ...

    def sub_commit(self, level: int) -> None: ...

    def sub_rollback(self, level: int) -> None: ...


class ForwardsTransactions:
    """Mixin for a ForeignDataWrapper: the transaction hooks go to
    ``remote_transaction()``, which the wrapper defines."""

    def remote_transaction(self) -> RemoteTransactionControl:
        raise NotImplementedError

    def begin(self, serializable: bool) -> None:
        self.remote_transaction().begin(serializable)

    def pre_commit(self) -> None:
        self.remote_transaction().pre_commit()

    def commit(self) -> None:
        self.remote_transaction().commit()

    def rollback(self) -> None:
        self.remote_transaction().rollback()

    def sub_begin(self, level: int) -> None:
        self.remote_transaction().sub_begin(level)

    def sub_commit(self, level: int) -> None:
        self.remote_transaction().sub_commit(level)

    def sub_rollback(self, level: int) -> None:
        self.remote_transaction().sub_rollback(level)
