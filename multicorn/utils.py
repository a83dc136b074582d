"""Logging to PostgreSQL from an FDW (Multicorn2-compatible ``multicorn.utils``).

``log_to_postgres(message, level=INFO, hint=None, detail=None)``:

* DEBUG   -> PostgreSQL DEBUG1
* INFO    -> NOTICE
* WARNING -> WARNING
* ERROR   -> raises :class:`sgfdw.errors.FdwError` (SQLSTATE HV000) carrying hint/detail;
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
from logging import CRITICAL, DEBUG, ERROR, INFO, WARNING

from sgfdw.errors import FdwError

try:  # provided by the C bridge inside a backend only
    import _sgfdw  # type: ignore[import-not-found]
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
]

logger = logging.getLogger("multicorn")


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
        sgfdw.errors.FdwError: for ``level >= ERROR`` (``fatal=True`` for CRITICAL).
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
    """Let a pending query cancel / statement timeout interrupt a long Python loop.

    The bridge already delivers a cancel as KeyboardInterrupt while Python runs; this
    is a compatibility hook (Multicorn2 has it) that asks the bridge to check now when
    it offers ``_sgfdw.check_interrupts``, and does nothing otherwise.
    """
    check = getattr(_sgfdw, "check_interrupts", None)
    if check is not None:
        check()
