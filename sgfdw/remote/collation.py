"""The local database's collation, and which collations order text the same way.

Why shared: a wrapper may push a text comparison or ORDER BY to a source only when the
source orders text exactly as the local database does, and every remote wrapper must
read the local collation the same way and agree on what counts as byte order.

C.UTF-8 counts as byte order. PostgreSQL 15 treats only "C" and "POSIX" as its own C
collation (memcmp); any other libc locale, C.UTF-8 included, compares with strcoll().
glibc >= 2.35 (Debian 12 has 2.36) implements C.UTF-8's collation as strict code point
order, which for UTF-8 is byte order -- tests/test_collation.py checks that on the test
cluster against COLLATE "C" for every kind of character. Its LC_CTYPE is not C's,
though (upper/lower and ILIKE know non-ASCII letters), so case-insensitive matching
counts C.UTF-8 as C only when both sides use it.

An ICU default collation (datlocprovider 'i') is named ``icu:<locale>``: it equals no
libc name, so nothing is assumed about it.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Collation", "local_collation", "same_order", "same_ctype", "BYTEWISE_ORDER",
           "BYTEWISE_COLLATIONS", "ColumnRules", "own_collation_rules"]

_C_NAMES = frozenset({"C", "POSIX"})
#: Locale names whose collation is byte order (= code point order for UTF-8).
BYTEWISE_ORDER = _C_NAMES | {"C.UTF-8", "C.utf8"}
#: Names of local collations (SortKey.collate) with byte order: those, and ucs_basic.
BYTEWISE_COLLATIONS = BYTEWISE_ORDER | {"ucs_basic"}


@dataclass(frozen=True)
class Collation:
    """A database's default collation: LC_COLLATE (order) and LC_CTYPE (case)."""

    collate: str
    ctype: str

    @property
    def orders_bytewise(self) -> bool:
        return self.collate in BYTEWISE_ORDER


@dataclass(frozen=True)
class ColumnRules:
    """What of a text comparison a source does as PostgreSQL does under a column's own
    collation."""

    order: bool      # < <= > >= and sorts
    case: bool       # ILIKE
    equality: bool   # = <> LIKE


def own_collation_rules(collation: str, source: Collation | None) -> ColumnRules:
    """The rules for a local column declared with ``collation`` (ColumnDefinition's, not
    the database default) over text a source compares under ``source`` (None: unknown).
    pg_catalog's "C"/"POSIX" (a user's own "C" is schema-qualified) are deterministic,
    order bytewise and case-fold as C; any other (ICU, nondeterministic, a user's own)
    is not assumed to mean anything the source does, not even = (it may be
    nondeterministic: 'a' = 'A')."""
    if collation not in _C_NAMES or source is None:
        return ColumnRules(False, False, False)
    return ColumnRules(source.orders_bytewise, same_ctype(source.ctype, "C"), True)


def same_order(a: str, b: str) -> bool:
    """Whether two LC_COLLATE names order text identically."""
    return a == b or (a in BYTEWISE_ORDER and b in BYTEWISE_ORDER)


def same_ctype(a: str, b: str) -> bool:
    """Whether two LC_CTYPE names classify and case-fold characters identically."""
    return a == b or (a in _C_NAMES and b in _C_NAMES)


_local: Collation | None = None
_local_known = False


def local_collation() -> Collation | None:
    """This database's default collation, read once per backend (a backend serves one
    database); None outside a backend."""
    global _local, _local_known
    if not _local_known:
        from sgfdw import pg

        if pg.in_backend():
            rows = pg.execute(
                "SELECT CASE datlocprovider WHEN 'c' THEN datcollate::text "
                "ELSE 'icu:' || daticulocale END, "
                "CASE datlocprovider WHEN 'c' THEN datctype::text "
                "ELSE 'icu:' || daticulocale END "
                "FROM pg_catalog.pg_database WHERE datname = current_database()")
            _local = Collation(rows[0][0], rows[0][1]) if rows else None
        _local_known = True
    return _local
