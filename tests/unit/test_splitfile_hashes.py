"""Image hashes of a Splitfile build (sgfdw.splitfile.hashes), without a server: the
chaining rule, and context hashes that ignore what does not change a step's effect
(whitespace, comments, a tag written as its hash) and follow what does."""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sgfdw.splitfile import hashes, sqltext  # noqa: E402
from sgfdw.splitfile.commands import ImportItem  # noqa: E402

PREVIOUS = "ab" * 32


def test_new_image_hash_chains_previous_and_context():
    context = hashes.sql_context("SELECT 1")
    assert hashes.combine(PREVIOUS, context) == hashlib.sha256(
        (PREVIOUS + context).encode()).hexdigest()
    assert hashes.is_hash(context) and not hashes.is_hash(context.upper())
    assert hashes.combine("0" * 64, context) != hashes.combine(PREVIOUS, context)


def test_sql_context_ignores_layout_and_follows_images():
    resolved = {("a/b", "v1"): "f" * 64}
    tagged = 'SELECT *  FROM "a/b:v1".t -- why\nWHERE x = \'a  b\''
    by_hash = f'SELECT * FROM "a/b:{"f" * 64}".t WHERE x = \'a  b\''
    assert hashes.sql_context(sqltext.normalise(tagged, resolved)) == \
        hashes.sql_context(sqltext.normalise(by_hash, {}))
    moved = {("a/b", "v1"): "e" * 64}
    assert hashes.sql_context(sqltext.normalise(tagged, moved)) != \
        hashes.sql_context(sqltext.normalise(tagged, resolved))
    assert hashes.sql_context(sqltext.normalise("SELECT 'a b'")) != \
        hashes.sql_context(sqltext.normalise("SELECT 'a  b'"))


def test_import_context():
    items = (ImportItem("t", "t"), ImportItem("q", None, "SELECT  1 -- c"))
    same = (ImportItem("t", "t"), ImportItem("q", None, "SELECT 1"))
    assert hashes.import_context(PREVIOUS, items) == hashes.import_context(PREVIOUS, same)
    assert hashes.import_context(PREVIOUS, items) != hashes.import_context("0" * 64, items)
    assert hashes.import_context(PREVIOUS, items) != hashes.import_context(
        PREVIOUS, (ImportItem("u", "t"), items[1]))
