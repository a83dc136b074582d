"""A remote source's error as the FdwError PostgreSQL shows: the remote SQLSTATE, the
driver's message, detail and hint, and the statement sent -- without secrets.

Why shared: a user must get the same report of a remote error whichever wrapper
reached the source. PostgreSQL drivers (psycopg2, psycopg) carry the server's
diagnostics (``diag``: primary message, detail, hint; ``pgcode``/``sqlstate``); other
drivers only a text, whose first line is the message and the rest its detail.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sgfdw.errors import FdwError

from .secrets import scrub

__all__ = ["Diagnostics", "diagnostics", "remote_error"]


@dataclass(frozen=True)
class Diagnostics:
    message: str
    detail: str | None
    hint: str | None
    sqlstate: str | None


def diagnostics(exc: BaseException) -> Diagnostics:
    """What a driver's exception says about the remote error."""
    diag = getattr(exc, "diag", None)
    sqlstate = getattr(exc, "pgcode", None) or getattr(exc, "sqlstate", None)
    primary = getattr(diag, "message_primary", None)
    if primary:
        return Diagnostics(primary, getattr(diag, "message_detail", None),
                           getattr(diag, "message_hint", None), sqlstate)
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return Diagnostics(type(exc).__name__, None, None, sqlstate)
    return Diagnostics(lines[0], "\n".join(lines[1:]) or None, None, sqlstate)


def remote_error(found: Diagnostics, *, secrets: Iterable[str | None] = (),
                 sql: str | None = None, prefix: str = "",
                 sqlstate: str | None = None) -> FdwError:
    """The FdwError reporting ``found`` (see :func:`diagnostics`): its SQLSTATE, else
    ``sqlstate``, else HV000; ``prefix`` before the message (which source); the remote
    ``sql`` after its detail."""
    secrets = tuple(secrets)
    details = [scrub(found.detail, secrets)] if found.detail else []
    if sql:
        details.append("Remote SQL: " + scrub(sql, secrets, fragments=False))
    return FdwError(prefix + scrub(found.message, secrets),
                    sqlstate=found.sqlstate or sqlstate or "HV000",
                    detail="\n".join(details) if details else None,
                    hint=scrub(found.hint, secrets) if found.hint else None)
