"""Credentials kept out of every message a remote wrapper shows (errors, EXPLAIN, logs).

Why shared: a driver's message may echo the password it was given -- as itself, or in
a ``password=...`` fragment of a connection string -- and every wrapper over a remote
source must blank out both, the same way, before the text reaches PostgreSQL.
"""
from __future__ import annotations

import re
from typing import Iterable

__all__ = ["MASK", "scrub"]

#: What stands in for a secret.
MASK = "********"

_PASSWORD_FRAGMENT = re.compile(r"password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def scrub(text: str, secrets: Iterable[str | None] = (), *, fragments: bool = True) -> str:
    """``text`` without any non-empty secret nor (``fragments``) any ``password=...``
    fragment. SQL the wrapper wrote itself keeps its fragments: it binds values as
    parameters, and ``password = $1`` there names a column."""
    if fragments:
        text = _PASSWORD_FRAGMENT.sub(f"password={MASK}", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text
