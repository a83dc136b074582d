"""The options of a layered table, and the remote schema of IMPORT FOREIGN SCHEMA.

A table names a repository, a table of one of its images, and the image (a tag, a
hash or unique prefix, HEAD; default latest). Unknown options are refused when the
table or server is written (a typo would otherwise silently read latest). The server
sgfdw_objects carries no options of its own: one server serves every repository.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from sgfdw.errors import OptionError
from sgfdw.store.names import Repository, parse_repository

__all__ = ["TableOptions", "parse_table_options", "check_options", "parse_import_source"]

_TABLE_OPTIONS = frozenset({"repository", "image", "table"})
LATEST = "latest"


@dataclass(frozen=True)
class TableOptions:
    repository: Repository
    image: str   # the reference as written: resolved once per transaction
    table: str


def check_options(context: str, options: Mapping[str, str]) -> None:
    """Refuses an option on the wrong kind of object, or an unknown one."""
    allowed = _TABLE_OPTIONS if context == "table" else frozenset()
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise OptionError(
            f"invalid option{'s' if len(unknown) > 1 else ''} for a layered {context}: "
            + ", ".join(repr(name) for name in unknown),
            hint="A layered table takes repository, image and table"
                 + ("" if context == "table" else "; the server and user mappings take "
                    "none") + ".")


def parse_table_options(options: Mapping[str, str]) -> TableOptions:
    check_options("table", options)
    for required in ("repository", "table"):
        if not options.get(required):
            raise OptionError(f'a layered table needs the option "{required}"')
    return TableOptions(parse_repository(options["repository"]),
                        options.get("image") or LATEST, options["table"])


def parse_import_source(remote_schema: str) -> tuple[Repository, str | None]:
    """`namespace/repository[:image]` -> the repository and the image as written (None:
    no image given, the tables follow latest)."""
    name, colon, image = remote_schema.partition(":")
    if colon and not image:
        raise OptionError(f"no image after ':' in {remote_schema!r}",
                          hint='Write "namespace/repository:image" or '
                               '"namespace/repository" for latest.')
    return parse_repository(name), image or None
