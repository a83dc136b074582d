"""The commands of a parsed Splitfile, parameters already substituted, and how each
is written back as Splitfile text (provenance renders a rebuild recipe with them)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ImageRef", "ImportItem", "FromImage", "ImportImage", "ImportMount", "Sql",
           "Plugin", "Command", "block", "quote_identifier", "quote_argument"]

_PLAIN_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_$]*\Z")
_PLAIN_ARGUMENT = re.compile(r"[^\s'\"{}]+\Z")


def quote_identifier(name: str) -> str:
    """A table name as the parser reads it back: bare when lower-case, else quoted."""
    if _PLAIN_IDENTIFIER.match(name):
        return name
    return '"' + name.replace('"', '""') + '"'


def quote_argument(value: str) -> str:
    """A plugin argument as the parser reads it back as one argument."""
    if _PLAIN_ARGUMENT.match(value):
        return value
    return "'" + value.replace("'", "''") + "'"


def block(text: str) -> str:
    """SQL as a { block }; on lines of its own when a -- comment could swallow the }."""
    if "\n" in text or "--" in text:
        return f"{{\n{text}\n}}"
    return f"{{{text}}}"


@dataclass(frozen=True)
class ImageRef:
    """namespace/repository with a tag, hash or prefix (None: latest)."""

    repository: str
    reference: str | None = None

    def __str__(self) -> str:
        return self.repository + (f":{self.reference}" if self.reference else "")


@dataclass(frozen=True)
class ImportItem:
    """A table of the source (query None) or a query's result, stored as alias."""

    alias: str
    table: str | None = None
    query: str | None = None

    def __str__(self) -> str:
        if self.query is not None:
            return f"{block(self.query)} AS {quote_identifier(self.alias)}"
        assert self.table is not None
        if self.table == self.alias:
            return quote_identifier(self.table)
        return f"{quote_identifier(self.table)} AS {quote_identifier(self.alias)}"


@dataclass(frozen=True)
class FromImage:
    """FROM image (a copy of it is what the next commands change) or FROM EMPTY; with
    AS repository, the next commands build into that repository (a stage)."""

    line: int
    image: ImageRef | None
    output: str | None = None

    def __str__(self) -> str:
        return (f"FROM {self.image if self.image else 'EMPTY'}"
                + (f" AS {self.output}" if self.output else ""))


@dataclass(frozen=True)
class ImportImage:
    """Tables or query results of another image added to the image being built (no
    items: all its tables)."""

    line: int
    image: ImageRef
    items: tuple[ImportItem, ...]

    def __str__(self) -> str:
        return f"FROM {self.image} IMPORT " + ", ".join(map(str, self.items))


@dataclass(frozen=True)
class ImportMount:
    """Tables or query results of a data source mounted through a mount handler (no
    items: all the tables the mount makes)."""

    line: int
    handler: str
    options: dict[str, Any] = field(hash=False)
    items: tuple[ImportItem, ...]

    def __str__(self) -> str:
        options = json.dumps(self.options, sort_keys=True).replace("'", "''")
        return (f"FROM MOUNT {self.handler} '{options}' IMPORT "
                + ", ".join(map(str, self.items)))


@dataclass(frozen=True)
class Sql:
    """Statements run against the image being built."""

    line: int
    text: str

    def __str__(self) -> str:
        return f"SQL {block(self.text)}"


@dataclass(frozen=True)
class Plugin:
    """A command of a plugin (sgfdw.hooks.splitfile_commands) and its arguments."""

    line: int
    name: str
    args: tuple[str, ...]

    def __str__(self) -> str:
        return " ".join([self.name, *map(quote_argument, self.args)])


Command = FromImage | ImportImage | ImportMount | Sql | Plugin
