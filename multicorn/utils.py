"""Logging to PostgreSQL from an FDW (Multicorn2-compatible ``multicorn.utils``).

``log_to_postgres(message, level=INFO, hint=None, detail=None)``:

* DEBUG   -> PostgreSQL DEBUG1
* INFO    -> NOTICE
* WARNING -> WARNING
* ERROR   -> raises :class:`FdwError` (SQLSTATE HV000) carrying hint/detail;
  the bridge reports it as an ERROR once the Python stack has unwound, so ``finally``
  blocks and context managers run.
* CRITICAL -> raises ``FdwError(..., fatal=True)``; the bridge reports it as FATAL.

Levels are the ``logging`` module's; other integers fall into the bucket below them
(e.g. 25 -> INFO, 45 -> ERROR, 0 -> DEBUG).

Inside a backend the messages go through the bridge's builtin module ``_sgfdw``
(``_sgfdw.log(level, message, hint, detail)``, called with level DEBUG, INFO or WARNING
from here). Outside a backend (unit tests, scripts) they go to the ``logging`` logger
``"multicorn"``; ERROR and CRITICAL still raise.
"""

from __future__ import annotations

import logging
import re
from logging import CRITICAL, DEBUG, ERROR, INFO, WARNING
from typing import Any

try:  # provided by the C bridge inside a backend only
    import _sgfdw
except ImportError:  # pragma: no cover - depends on the environment
    _sgfdw = None

__all__ = [
    "DEBUG",
    "INFO",
    "WARNING",
    "ERROR",
    "CRITICAL",
    "log_to_postgres",
    "check_interrupts",
    "FdwError",
    "is_valid_sqlstate",
]

logger = logging.getLogger("multicorn")


_SQLSTATE_RE = re.compile(r"[0-9A-Z]{5}\Z")


def is_valid_sqlstate(code: object) -> bool:
    """True if ``code`` is a str of five digits / upper-case ASCII letters."""
    return isinstance(code, str) and _SQLSTATE_RE.match(code) is not None


class FdwError(Exception):
    """An error an FDW reports to PostgreSQL, with SQLSTATE, hint and detail.

    Attributes (read by the bridge): ``message`` (str, also ``str(exc)``),
    ``sqlstate`` (str; the class default unless given), ``hint`` (str | None),
    ``detail`` (str | None), ``fatal`` (bool: report as FATAL). ``pgcode`` is an alias
    of ``sqlstate`` for code written against psycopg2.
    """

    sqlstate: str = "HV000"  # fdw_error

    def __init__(
        self,
        message: object = "",
        *,
        sqlstate: str | None = None,
        hint: str | None = None,
        detail: str | None = None,
        fatal: bool = False,
    ) -> None:
        message = str(message)
        super().__init__(message)
        if sqlstate is not None:
            if not is_valid_sqlstate(sqlstate):
                raise ValueError(f"invalid SQLSTATE {sqlstate!r}: expected 5 characters 0-9/A-Z")
            self.sqlstate = sqlstate
        else:
            self.sqlstate = type(self).sqlstate
        self.message: str = message
        self.hint: str | None = None if hint is None else str(hint)
        self.detail: str | None = None if detail is None else str(detail)
        self.fatal: bool = bool(fatal)

    @property
    def pgcode(self) -> str:
        """psycopg2's name for :attr:`sqlstate`."""
        return self.sqlstate

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the keyword-only attributes through pickling / copying.
        return (
            _rebuild,
            (type(self), self.message, self.sqlstate, self.hint, self.detail, self.fatal),
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, sqlstate={self.sqlstate!r})"


def _rebuild(cls: type[FdwError], message: str, sqlstate: str, hint: str | None,
             detail: str | None, fatal: bool) -> FdwError:
    return cls(message, sqlstate=sqlstate, hint=hint, detail=detail, fatal=fatal)


def _emit(level: int, message: str, hint: str | None, detail: str | None) -> None:
    if _sgfdw is not None:
        _sgfdw.log(level, message, hint, detail)
        return
    text = message
    if detail is not None:
        text += "\nDETAIL:  " + detail
    if hint is not None:
        text += "\nHINT:  " + hint
    logger.log(level, "%s", text)


def log_to_postgres(message: object, level: int = INFO, hint: object = None,
                    detail: object = None) -> None:
    """Send ``message`` to PostgreSQL at ``level``; raise for ERROR and above.

    ``message``, ``hint`` and ``detail`` are converted with ``str()`` (hint/detail
    only when not None).

    Raises:
        FdwError: for ``level >= ERROR`` (``fatal=True`` for CRITICAL).
    """
    text = str(message)
    hint_text = None if hint is None else str(hint)
    detail_text = None if detail is None else str(detail)
    if level >= CRITICAL:
        raise FdwError(text, hint=hint_text, detail=detail_text, fatal=True)
    if level >= ERROR:
        raise FdwError(text, hint=hint_text, detail=detail_text)
    if level >= WARNING:
        bucket = WARNING
    elif level >= INFO:
        bucket = INFO
    else:
        bucket = DEBUG
    _emit(bucket, text, hint_text, detail_text)


def check_interrupts() -> None:
    """Multicorn2's hook for letting a cancel interrupt a long Python loop: nothing to do
    here, the bridge already delivers a cancel or statement timeout as KeyboardInterrupt
    while Python runs."""
