"""Parsing of option values shared by sgfdw's FDWs (options arrive as strings)."""
from __future__ import annotations

from typing import Any, Mapping

from sgfdw.errors import OptionError


def positive_int(options: Mapping[str, str], name: str, default: int) -> int:
    """The option as an integer > 0, default when absent; OptionError otherwise."""
    text = options.get(name)
    if text is None:
        return default
    try:
        value = int(str(text).strip())
    except ValueError:
        value = 0
    if value <= 0:
        raise OptionError(f'option "{name}" must be a positive integer, not {text!r}')
    return value


class MergedOptions(dict):
    """Multicorn's merged options dict (table < server < user mapping, no ``wrapper``)
    that also remembers each object's own options.

    Third-party classes see a dict as before; sgfdw's wrappers read
    :func:`option_sources` to refuse an option on the wrong object (a password in the
    server's options, readable by any user) and to let a table's option override its
    server's, as postgres_fdw does.
    """

    def __init__(self, merged: Mapping[str, str],
                 sources: Mapping[str, Any] | None = None) -> None:
        super().__init__(merged)
        sources = dict(sources or {})
        #: The foreign server's name (None when not known), for messages.
        self.server_name: str | None = sources.pop("server_name", None)
        #: The foreign table's own (local) name, None without a table.
        self.relation_name: str | None = sources.pop("relation_name", None)
        self.sources: dict[str, dict[str, str]] | None = {
            kind: {name: value for name, value in options.items() if name != "wrapper"}
            for kind, options in sources.items()} or None


def option_sources(options: Mapping[str, str]) -> dict[str, dict[str, str]] | None:
    """Each object's own options behind a merged dict -- {"table": ..., "server": ...,
    "user_mapping": ...}, "table" empty for IMPORT FOREIGN SCHEMA's server options -- or
    None when they are not known (a plain dict: the class used outside the bridge)."""
    return getattr(options, "sources", None)


def server_name(options: Mapping[str, str]) -> str | None:
    """The name of the foreign server behind a merged dict, or None if not known."""
    return getattr(options, "server_name", None)


def relation_name(options: Mapping[str, str]) -> str | None:
    """The local name of the foreign table behind a merged dict, or None if not known."""
    return getattr(options, "relation_name", None)
