"""IMPORT FOREIGN SCHEMA "namespace/repository[:image]" FROM SERVER sgfdw_objects: one
foreign table per table of the image, with the stored column types (format_type()
text, typmods and array dimensions included) and the options that point back at it.

The image option is the reference as written ("ns/repo" gives none, so the tables
follow latest; a tag follows the tag; a hash stays on that image). The image is
resolved now anyway, so an unknown repository or image fails the IMPORT (42704).
"""
from __future__ import annotations

from multicorn import ColumnDefinition, TableDefinition

from sgfdw.errors import OptionError
from sgfdw.layered.options import LATEST, parse_import_source
from sgfdw.layered.version import tables_of

__all__ = ["import_tables"]


def import_tables(remote_schema: str, options: dict[str, str],
                  restriction_type: str | None, restricts: list[str]) -> list[TableDefinition]:
    if options:
        raise OptionError("IMPORT FOREIGN SCHEMA from sgfdw_objects takes no options: "
                          + ", ".join(sorted(options)),
                          hint='Name the image in the schema: "namespace/repository:image".')
    repository, image = parse_import_source(remote_schema)
    listed = set(restricts or ())
    definitions = []
    for version in tables_of(repository, image or LATEST):
        name = version.table_name
        if (restriction_type == "limit" and name not in listed) or \
                (restriction_type == "except" and name in listed):
            continue
        table_options = {"repository": str(repository), "table": name}
        if image is not None:
            table_options["image"] = image
        columns = [ColumnDefinition(c.name, type_name=c.type) for c in version.schema.columns]
        definitions.append(TableDefinition(name, columns=columns, options=table_options))
    return definitions
