"""Which quals and sort keys mean exactly the same on the remote server.

PostgreSQL rechecks every qual, so a qual that is not pushed only costs transfer; but a
pushed qual that is *stricter* remotely loses rows, and with LIMIT pushdown
(``enforces_quals``) a looser one does too. So a qual goes remote only when:

* the remote column's type is the local column's (same built-in type, text and varchar
  counting as one; or the same enum), so the operator resolves to the same function --
  other user-defined types may have operators outside the remote search_path
  (pg_catalog), which would silently resolve to something else;
* or the local column is text/varchar over another remote type: then the local values
  *are* the remote text output, and ``remote_col::text`` compares exactly as the local
  column does -- except for the types whose cast to text is not their output function
  (boolean, inet, cidr, char(n), "char", name), which are not compared remotely;
* for collatable columns: equality and LIKE whatever the collation, as long as it is
  one whose behaviour is known (the remote column uses its database's default or C);
  ordering comparisons and sorts only when that collation orders text as the local
  database's does, ILIKE only when its ctype is the local one (sgfdw.remote.collation:
  C.UTF-8 orders as C, but does not case-fold as C). A sort by ``COLLATE "C"`` is safe
  whenever the remote collation is known (byte order everywhere).

A qual carries no collation (the Multicorn API has none): the bridge makes quals only of
operators applied under the column's own collation (ColumnDefinition.collation), so a
qual is judged under that one. A column of the default collation follows the rules
above; one of pg_catalog's "C" or "POSIX" pushes ordering comparisons only over a remote
byte order, ILIKE only over a remote C ctype; any other (ICU, nondeterministic, a user's
own) pushes no comparison of its text, not even = (it may be nondeterministic). Sort
keys carry their collation (``SortKey.collate``), so those rules apply to them as is.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Mapping

from multicorn import UNBOUND, ColumnDefinition, Qual, SortKey
from sgfdw.remote.collation import Collation, own_collation_rules, same_ctype, same_order
from sgfdw import type_oids as oids
from sgfdw.errors import FdwError

from .remote_table import TEXT_FAMILY, RemoteColumn, RemoteTable
from .values import can_bind

__all__ = ["Match", "ColumnPlan", "Relation", "COMPARISONS",
           "SCALAR_OPERATORS", "CTID"]

# The remote row's ctid, as the bridge names it (columns, quals, rows): PostgresFdw
# provides it, and identifies rows by it when there is no single-column key.
CTID = "ctid"
# Remote relations whose rows have a ctid that RETURNING can give.
_CTID_RELKINDS = frozenset({"r", "p"})

EQUALITY = frozenset({"=", "<>"})
COMPARISONS = frozenset({"<", "<=", ">", ">="})
LIKE = frozenset({"~~", "!~~"})
ILIKE = frozenset({"~~*", "!~~*"})
SCALAR_OPERATORS = EQUALITY | COMPARISONS | LIKE | ILIKE

C_COLLATION_OID, POSIX_COLLATION_OID = 950, 951


class Match(enum.Enum):
    NONE = "none"     # nothing about this column is pushed
    SAME = "same"     # same type on both sides
    TEXT = "text"     # local text over another remote type: compare remote_col::text


@dataclass(frozen=True)
class ColumnPlan:
    """How a local column is read and compared remotely."""

    local: str
    remote: RemoteColumn | None
    match: Match
    cast_to_text: bool      # SELECT remote_col::text (a native remote type read as text)
    collation_safe: bool    # ordering comparisons and sorts mean the same on both sides
    ctype_safe: bool        # ILIKE means the same on both sides
    collate_c_ok: bool      # a sort with COLLATE "C" can be pushed
    # The same for a qual, which compares under the column's own collation:
    qual_order_safe: bool   # its ordering comparisons
    qual_ctype_safe: bool   # its ILIKE
    qual_equality_safe: bool    # its = / <> / LIKE

    @property
    def remote_name(self) -> str | None:
        return self.remote.name if self.remote is not None else None

    @property
    def source(self) -> RemoteColumn:
        """The remote column, of a column that has one (those written or pushed)."""
        if self.remote is None:
            raise FdwError(f'column "{self.local}" has no remote column', sqlstate="42703")
        return self.remote


def _unqualified(type_name: str) -> str:
    """A type name without its schema: 'public.mood[]' -> 'mood[]'."""
    in_quotes = False
    last_dot = -1
    for index, ch in enumerate(type_name):
        if ch == '"':
            in_quotes = not in_quotes
        elif ch == "." and not in_quotes:
            last_dot = index
    return type_name[last_dot + 1:].replace('"', "")


# Remote types whose cast to text is not their output function (bool::text is 'true',
# inet::text adds the netmask, bpchar::text trims): no TEXT-mode comparison over them.
_TEXT_CAST_DIFFERS = frozenset({oids.BOOL, oids.CHAR, oids.NAME, oids.CIDR, oids.INET,
                                oids.BPCHAR})


def _type_match(local: ColumnDefinition, remote: RemoteColumn) -> Match:
    local_oid = int(local.type_oid or 0)
    local_text = local_oid in TEXT_FAMILY
    if remote.base_kind == "e" and not remote.is_array:
        if local.base_type_name and \
                _unqualified(local.base_type_name) == _unqualified(remote.base_name):
            return Match.SAME
    elif remote.builtin:
        if local_oid == remote.base_oid or (local_text and remote.base_oid in TEXT_FAMILY):
            return Match.SAME
    if local_text and remote.base_oid not in _TEXT_CAST_DIFFERS:
        return Match.TEXT
    return Match.NONE


def _effective_collation(remote: RemoteColumn, table: RemoteTable) -> tuple[str, str] | None:
    """The remote column's (collate, ctype), if it is one whose behaviour we know."""
    if remote.collation == 100:
        return table.collation
    if remote.collation in (C_COLLATION_OID, POSIX_COLLATION_OID):
        return ("C", "C")
    return None


class Relation:
    """The local foreign table laid over its remote relation."""

    def __init__(self, columns: Mapping[str, ColumnDefinition], table: RemoteTable,
                 local_locale: Collation | None) -> None:
        self.table = table
        self.local_columns = columns
        self.plans: dict[str, ColumnPlan] = {}
        for name, definition in columns.items():
            remote_name = (definition.options or {}).get("column_name", name)
            self.plans[name] = self._plan(name, definition, table.columns.get(remote_name),
                                          local_locale)
        self.local_name_of = {p.remote.name: n for n, p in self.plans.items()
                              if p.remote is not None}

    def _plan(self, name: str, definition: ColumnDefinition, remote: RemoteColumn | None,
              local_locale: Collation | None) -> ColumnPlan:
        if remote is None:
            return ColumnPlan(name, None, Match.NONE, False, False, False, False, False,
                              False, False)
        match = _type_match(definition, remote)
        text_expr = match is Match.TEXT or remote.collatable
        collation_safe = ctype_safe = not text_expr
        collate_c_ok = False
        effective: tuple[str, str] | None = None
        if text_expr:
            # remote_col::text gets the database default collation.
            effective = (self.table.collation if match is Match.TEXT
                         else _effective_collation(remote, self.table))
            if effective is None:
                match = Match.NONE      # an unknown (maybe nondeterministic) collation
            else:
                collate_c_ok = True
                collation_safe = local_locale is not None and \
                    same_order(effective[0], local_locale.collate)
                ctype_safe = local_locale is not None and \
                    same_ctype(effective[1], local_locale.ctype)
        cast_to_text = (int(definition.type_oid or 0) in TEXT_FAMILY and
                        # psycopg2 would make numbers of these; their casts to text
                        # are I/O conversions, i.e. their output
                        remote.base_oid in oids.INT_AND_FLOAT_TYPES)
        qual_order_safe, qual_ctype_safe, qual_equality_safe = collation_safe, ctype_safe, True
        if text_expr and definition.collation is not None:
            rules = own_collation_rules(definition.collation,
                                        Collation(*effective) if effective else None)
            qual_order_safe, qual_ctype_safe, qual_equality_safe = \
                rules.order, rules.case, rules.equality
        return ColumnPlan(name, remote, match, cast_to_text, collation_safe, ctype_safe,
                          collate_c_ok, qual_order_safe, qual_ctype_safe, qual_equality_safe)

    @property
    def returns_ctid(self) -> bool:
        """Whether INSERT/UPDATE/DELETE on the remote relation can return its ctid."""
        return self.table.relkind in _CTID_RELKINDS

    # -- quals -----------------------------------------------------------------------

    def qual_pushable(self, qual: Qual) -> bool:
        """Whether this qual can be evaluated remotely with exactly the local meaning."""
        if qual.field_name == CTID:
            # Its value is the local ctid's text (= ANY: a list of them, NULL allowed),
            # which the remote reads as a tid.
            if qual.is_list_operator:
                return qual.operator == ("=", True) and (qual.value is UNBOUND or (
                    isinstance(qual.value, (list, tuple)) and
                    all(v is None or isinstance(v, str) for v in qual.value)))
            return qual.operator == "=" and \
                (isinstance(qual.value, str) or qual.value is UNBOUND)
        plan = self.plans.get(qual.field_name)
        if plan is None or plan.remote is None or plan.match is Match.NONE:
            return False
        if isinstance(qual.operator, tuple):    # a list operator
            operator = qual.operator[0]
            if (plan.match is Match.SAME and plan.remote.is_array) or \
                    (qual.value is not None and not isinstance(qual.value, (list, tuple))):
                return False    # ANY over an array column would compare elements
        else:
            operator = qual.operator
            if qual.value is None:
                return operator in EQUALITY     # IS NULL / IS NOT NULL
        if operator not in SCALAR_OPERATORS:
            return False
        if operator in COMPARISONS and not plan.qual_order_safe:
            return False
        if operator in ILIKE and not plan.qual_ctype_safe:
            return False
        if operator in EQUALITY | LIKE and not plan.qual_equality_safe:
            return False
        return can_bind(qual.value, int(self.local_columns[qual.field_name].type_oid or 0))

    def sort_pushable(self, key: SortKey) -> str | None:
        """'' if the sort key can be pushed as is, ' COLLATE "C"' if with that clause,
        None if not at all."""
        plan = self.plans.get(key.attname)
        if plan is None or plan.remote is None or plan.match is not Match.SAME:
            return None
        if not plan.remote.collatable:
            return ""
        if key.collate in ("C", "POSIX") and plan.collate_c_ok:
            return ' COLLATE "C"'
        if key.collate in (None, "default") and plan.collation_safe:
            return ""
        return None
