"""Pushdown decisions every wrapper over a remote source makes the same way.

Why shared: PostgreSQL can use a sort only as a prefix of the sort keys it asked for,
so a wrapper accepts keys in order up to the first it cannot sort exactly; each
wrapper only knows which single key it can push.
"""
from __future__ import annotations

from itertools import takewhile
from typing import Callable, Sequence

from multicorn import SortKey

__all__ = ["sortable_prefix"]


def sortable_prefix(sortkeys: Sequence[SortKey],
                    sortable: Callable[[SortKey], bool]) -> list[SortKey]:
    """The longest prefix of ``sortkeys`` whose every key is ``sortable`` (can_sort's
    answer)."""
    return list(takewhile(sortable, sortkeys))
