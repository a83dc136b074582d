"""The Splitfile's errors, each with the SQLSTATE a user can act on; they subclass
sgfdw.errors.FdwError so the bridge reports them as plain messages."""
from __future__ import annotations

from sgfdw.errors import FdwError

__all__ = ["SplitfileError", "SplitfileSyntaxError", "MissingParameter", "BadParameter",
           "PluginError", "WriteOutsideImage"]

_SHOWN_CHARS = 60


class SplitfileError(FdwError):
    """Any error of a Splitfile build."""

    sqlstate = "XX000"


class SplitfileSyntaxError(SplitfileError):
    """A Splitfile that cannot be parsed (syntax_error), with the line and the text."""

    sqlstate = "42601"

    def __init__(self, line: int, problem: str, text: str | None = None,
                 hint: str | None = None) -> None:
        shown = ""
        if text is not None:
            text = text.strip()
            shown = f": {text[:_SHOWN_CHARS]}{'...' if len(text) > _SHOWN_CHARS else ''}"
        super().__init__(f"Splitfile line {line}: {problem}{shown}", hint=hint)
        self.line = line


class MissingParameter(SplitfileError):
    """A ${NAME} the params do not give (undefined_parameter)."""

    sqlstate = "42P02"


class BadParameter(SplitfileError):
    """A parameter value that cannot stand where it is used (invalid_parameter_value)."""

    sqlstate = "22023"


class PluginError(SplitfileError):
    """A plugin command that failed or broke its contract (external_routine_exception)."""

    sqlstate = "38000"


class WriteOutsideImage(SplitfileError):
    """An SQL step that changed something outside the image's schema
    (insufficient_privilege: the step may only write its image)."""

    sqlstate = "42501"
