"""Image hashes of a build: the new image hash is sha256(previous image hash ‖ command
context hash), so an unchanged step on an unchanged image always names the same image
(the build cache). Context hashes are sha256 of a canonical JSON of what the step
depends on: the normalised SQL text with the hashes of the images it reads; the source
image hash and the imported tables / normalised queries; the stored content (object ids
and schemas) of what a mount imported."""
from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any, Iterable

from sgfdw.splitfile import sqltext
from sgfdw.splitfile.commands import ImportItem

if TYPE_CHECKING:  # the store needs pyarrow; hashing does not
    from sgfdw.store.meta import TableVersion

__all__ = ["combine", "is_hash", "sql_context", "import_context", "content_context"]

_HASH = re.compile(r"[0-9a-f]{64}\Z")


def is_hash(value: Any) -> bool:
    return isinstance(value, str) and _HASH.match(value) is not None


def _digest(*parts: Any) -> str:
    text = json.dumps(parts, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def combine(previous: str, context: str) -> str:
    return hashlib.sha256((previous + context).encode()).hexdigest()


def sql_context(normal_text: str) -> str:
    """normal_text: sqltext.normalise() of the statement, image references resolved."""
    return _digest("SQL", normal_text)


def import_context(source_hash: str, items: Iterable[ImportItem]) -> str:
    return _digest("IMPORT", source_hash, [
        [item.alias, item.table, None if item.query is None else sqltext.normalise(item.query)]
        for item in items])


def content_context(versions: Iterable["TableVersion"]) -> str:
    """The hash of tables by content: same rows and schemas, same hash."""
    return _digest("CONTENT", sorted(
        [v.table_name, v.schema.to_json(), list(v.object_ids)] for v in versions))
