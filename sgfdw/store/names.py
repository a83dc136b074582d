"""Repository names: `namespace/repository`, checked out into a schema of that name.

One place decides what a valid name is, so that the schema name, the metadata keys
and the error a user sees always agree.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sgfdw.store.errors import InvalidName

__all__ = ["Repository", "parse_repository", "check_tag"]

_PART = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
_REPOSITORY = re.compile(rf"({_PART})/({_PART})\Z")
_MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1: the schema name must not be truncated


@dataclass(frozen=True)
class Repository:
    namespace: str
    repository: str

    @property
    def schema(self) -> str:
        """The schema the repository is checked out into."""
        return f"{self.namespace}/{self.repository}"

    def __str__(self) -> str:
        return self.schema


def parse_repository(name: str | None) -> Repository:
    match = _REPOSITORY.match(name or "")
    if match is None or len((name or "").encode()) > _MAX_IDENTIFIER_BYTES:
        raise InvalidName(
            f"invalid repository name {name!r}",
            hint="A repository is named namespace/repository: letters, digits, '_', "
                 "'.' and '-', at most 63 bytes in all.")
    return Repository(match.group(1), match.group(2))


def check_tag(tag: str | None) -> str:
    """A tag a user may set: HEAD and latest have fixed meanings."""
    if not tag or tag in ("HEAD", "latest") or len(tag) > 256:
        raise InvalidName(f"invalid tag {tag!r}",
                          hint="HEAD (the checked-out image) and latest (the newest) "
                               "cannot be set; a tag is 1 to 256 characters.")
    return tag
