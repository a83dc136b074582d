"""LayeredFdw: a table of an object-store image as a foreign table, read in place.

Ties the modules of this package to the Multicorn API: options (options.py), the image
a transaction reads (version.py), which objects a query needs (prune.py), reading and
merging them (scan.py, reader.py), quals applied in Arrow (rowfilter.py), ORDER BY
and LIMIT (order.py), Arrow batches or rows for the bridge (output.py) and IMPORT
FOREIGN SCHEMA (importing.py). The store itself (sgfdw.store)
knows nothing about FDWs.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Collection, Iterable, Mapping

from multicorn import ColumnDefinition, ForeignDataWrapper, Qual, SortKey, TableDefinition

from sgfdw.errors import FdwError

from .options import TableOptions, check_options, parse_table_options

# CREATE EXTENSION imports this class (it checks the wrapper of server sgfdw_objects):
# the modules that load pyarrow and the store are imported at first use instead, so
# they cost only the sessions that query layered tables.
if TYPE_CHECKING:
    from .prune import Plan
    from .version import TableImage

__all__ = ["LayeredFdw"]


class UndefinedColumn(FdwError):
    sqlstate = "42703"


class WriteRefused(FdwError):
    """A write that breaks a constraint of the table (its SQLSTATE given)."""


class LayeredFdw(ForeignDataWrapper):
    """A table of one image (option image: tag, hash, prefix or latest, resolved once
    per transaction). Reads only the objects whose index can match the quals, only the
    needed columns, and applies patches by primary key. Writes through latest or a tag
    make one new image per transaction (writes.py)."""

    def __init__(self, fdw_options: dict[str, str],
                 fdw_columns: Mapping[str, ColumnDefinition]) -> None:
        super().__init__(fdw_options, fdw_columns)
        self.options: TableOptions = parse_table_options(fdw_options)
        self.columns: OrderedDict[str, ColumnDefinition] = OrderedDict(fdw_columns)
        self._planned: tuple[Any, Plan] | None = None

    def _image(self) -> TableImage:
        from .version import table_image
        image = table_image(self.options.repository, self.options.image, self.options.table)
        stored = {c.name for c in image.version.schema.columns}
        missing = [name for name in self.columns if name not in stored]
        if missing:
            raise UndefinedColumn(
                f"column {missing[0]!r} is not in table {self.options.table!r} of image "
                f"{image.image_hash[:12]} of {image.repository}",
                hint="Its columns: " + ", ".join(c.name for c in image.version.schema.columns))
        return image

    def _plan(self, quals: list[Qual]) -> tuple[TableImage, Plan]:
        """The image and the objects the quals keep; planned once for the planner's
        size estimate and the scan that follows with the same quals."""
        from .prune import plan_objects
        image = self._image()
        key = (image.image_hash, [(q.field_name, q.operator, repr(q.value)) for q in quals])
        if self._planned is None or self._planned[0] != key:
            self._planned = (key, plan_objects(image.objects, self._as_stored(quals, image),
                                               image.version.schema))
        return image, self._planned[1]

    def _as_stored(self, quals: list[Qual], image: TableImage) -> list[Qual]:
        """The quals that compare as the stored values do, the only ones pruning and the
        in-object filters may use: on columns declared with the stored type and without
        a collation of their own (char(n) over stored text ignores trailing blanks, a
        nondeterministic collation calls other bytes equal, a float4 rounds). A qual
        compares under its column's collation; PostgreSQL rechecks every qual."""
        from .output import declared_as_stored
        return [qual for qual in quals
                if declared_as_stored(self.columns, image.version.schema, qual.field_name)
                and self.columns[qual.field_name].collation in (None, "C", "POSIX")]

    # -- planning ------------------------------------------------------------------------

    def get_rel_size(self, quals: list[Qual], columns: Collection[str]) -> tuple[float, int]:
        from .prune import estimated_rows
        image, plan = self._plan(quals)
        count = estimated_rows(plan, quals, image.version.schema)
        size = sum(info.size for info in plan.kept)
        width = size // max(1, sum(info.rows for info in plan.kept))
        share = len(columns) / max(1, len(image.version.schema.columns))
        return max(count, 1.0), max(8, int(width * share))

    def get_path_keys(self) -> list[tuple[tuple[str, ...], float]]:
        """The primary key: one row per lookup, so a nested loop with a small local
        table reads, per outer row, only the objects whose key range holds it."""
        key = tuple(self._image().version.schema.primary_key)
        return [(key, 1.0)] if key and all(name in self.columns for name in key) else []

    def can_sort(self, sortkeys: list[SortKey]) -> list[SortKey]:
        from .order import sortable_prefix
        return sortable_prefix(self._image().version.schema, sortkeys)

    def can_limit(self, limit: int | None, offset: int | None) -> bool:
        return True

    def enforces_quals(self, quals: list[Qual]) -> bool:
        """True when the scan drops every row that fails a qual (rowfilter), so that
        LIMIT/OFFSET can be pushed with them."""
        from .rowfilter import enforces
        image = self._image()
        as_stored = self._as_stored(quals, image)
        return len(as_stored) == len(quals) and enforces(quals, image.version.schema)

    # -- scanning --------------------------------------------------------------------------

    def execute(self, quals: list[Qual], columns: Collection[str],
                sortkeys: list[SortKey] | None = None, limit: int | None = None,
                offset: int | None = None) -> Iterable[Any]:
        from .order import sort_and_slice
        from .output import batches, lane_carries, rows
        from .scan import current_rows
        image, plan = self._plan(quals)
        schema = image.version.schema
        wanted = [name for name in self.columns if name in columns]
        chunks = sort_and_slice(
            current_rows(image, plan, wanted, self._as_stored(quals, image),
                         descending=bool(sortkeys and sortkeys[0].is_reversed),
                         overlay=self._own_changes(image), read_ahead=limit is None),
            sortkeys, limit, offset)
        if lane_carries(self.columns, schema, wanted):
            return batches(chunks, schema, wanted)
        return rows(chunks, schema, list(self.columns), wanted)

    def explain(self, quals: list[Qual], columns: Collection[str],
                sortkeys: list[SortKey] | None = None, verbose: bool = False,
                limit: int | None = None, offset: int | None = None) -> list[str]:
        from .rowfilter import applied
        image, plan = self._plan(quals)
        pushed = []
        filtered = applied(self._as_stored(quals, image), image.version.schema)
        if verbose and filtered:
            pushed.append("Filtered in the objects: " + " AND ".join(filtered))
        if sortkeys:
            pushed.append("Sorted by: " + ", ".join(
                key.attname + (" DESC" if key.is_reversed else "") for key in sortkeys))
        if limit is not None or offset:
            pushed.append(f"Limit: {limit}, offset: {offset or 0}")
        return [f"Image: {image.repository}:{image.reference} ({image.image_hash[:12]})",
                f"Table: {self.options.table}", plan.describe(), *pushed]

    # -- writes: one new image per transaction (writes.py) ---------------------------------

    @staticmethod
    def _own_changes(image: TableImage) -> Any:
        from .writes import changes_of, patch_table
        rows = changes_of(image)
        return patch_table(rows, image.version.schema) if rows else None

    @property  # None for a table without a one-column key: read-only (bridge contract)
    def rowid_column(self) -> str | None:  # type: ignore[override]
        key = self._image().version.schema.primary_key
        return key[0] if len(key) == 1 else None

    def updatable_operations(self) -> Collection[str]:
        from .writes import writable
        declared = {name: column.type_name for name, column in self.columns.items()}
        return ("insert", "update", "delete") if writable(self._image(), declared) else ()

    @staticmethod
    def _exists(image: TableImage, key: Any) -> bool:
        """Whether the key has a row: in this transaction's changes, else in the image
        (a pruned key lookup)."""
        from .prune import plan_objects
        from .scan import current_rows
        from .writes import changes_of
        own = changes_of(image) or {}
        if key in own:
            return own[key] is not None
        name = image.version.schema.primary_key[0]
        quals = [Qual(name, "=", key)]
        # a writable table declares the stored types (writes.writable)
        plan = plan_objects(image.objects, quals, image.version.schema)
        return any(chunk.num_rows for chunk in current_rows(image, plan, [name], quals))

    def _check_new_key(self, image: TableImage, key: Any) -> None:
        name = image.version.schema.primary_key[0]
        if key is None:
            raise WriteRefused(f'null value in column "{name}" of layered table '
                               f'"{self.options.table}" violates not-null constraint',
                               sqlstate="23502")
        if self._exists(image, key):
            raise WriteRefused(f'duplicate key value violates the primary key of layered '
                               f'table "{self.options.table}"', sqlstate="23505",
                               detail=f"Key ({name})=({key}) already exists.")

    def insert(self, values: dict[str, Any]) -> dict[str, Any]:
        from .writes import record
        image = self._image()
        row = {name: values.get(name) for name in self.columns}
        key = row[image.version.schema.primary_key[0]]
        self._check_new_key(image, key)
        record(image, key, row)
        return row

    def update(self, rowid: Any, new_values: dict[str, Any]) -> dict[str, Any]:
        from .writes import record
        image = self._image()
        row = {name: new_values.get(name) for name in self.columns}
        key = row[image.version.schema.primary_key[0]]
        if key != rowid:
            self._check_new_key(image, key)
            record(image, rowid, None)
        record(image, key, row)
        return row

    def delete(self, rowid: Any) -> None:
        from .writes import record
        record(self._image(), rowid, None)

    def pre_commit(self) -> None:
        from .writes import make_images
        make_images()

    def rollback(self) -> None:
        from .writes import discard
        discard()

    def commit(self) -> None:
        from .writes import discard
        discard()

    def sub_begin(self, level: int) -> None:
        from .writes import savepoint
        savepoint(level)

    def sub_commit(self, level: int) -> None:
        from .writes import release
        release(level)

    def sub_rollback(self, level: int) -> None:
        from .writes import rollback_to
        rollback_to(level)

    # -- IMPORT FOREIGN SCHEMA and option checks ------------------------------------------

    @classmethod
    def import_schema(cls, schema: str, srv_options: dict[str, str], options: dict[str, str],
                      restriction_type: str | None,
                      restricts: list[str]) -> list[TableDefinition]:
        from .importing import import_tables
        return import_tables(schema, options, restriction_type, restricts)

    @classmethod
    def validate_options(cls, context: str, options: dict[str, str]) -> None:
        check_options(context, options)
        if context == "table":
            parse_table_options(options)
