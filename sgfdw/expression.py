"""Expressions the bridge shows an FDW as trees (an sgfdw extension to the Multicorn API).

A WHERE clause that is not a simple ``column op value`` (``lower(t) = 'x'``,
``a = 1 OR b = 2``, ``js ->> 'k' = 'v'``), a join clause, a grouping key, an aggregate's
argument or an UPDATE's SET expression reaches Python as a tree of these plain, frozen
nodes, built by src/expression.c from PostgreSQL's planner nodes. The FDW decides whether
it can evaluate a tree exactly as PostgreSQL would; :func:`shippable` tells the default
rule (postgres_fdw's): only immutable built-ins, or functions and operators of the
extensions the FDW names.

Every part of a clause that does not read the scanned relation(s) and is not volatile is
a *value*: PostgreSQL computes it locally and the FDW sees a :class:`Constant` (at
execution: always; at plan time a value known only when the query runs, such as a
parameter or an outer row's column in a nested loop, is a :class:`Parameter`).

Names of functions, operators and types are schema-qualified and unquoted
(``schema``, ``name``); ``collation`` is None for "no collation" or the database default
(as ``SortKey.collate``), else the collation's name (schema-qualified and quoted as
needed for one created in the database, so ``'C'`` is always the built-in C);
``type_name`` is the type's SQL spelling with its modifier as ``format_type`` writes it,
schema-qualified when not built in (``'numeric(10,2)'``, ``'public.mood'``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Collection, Iterator

__all__ = ["Expression", "Column", "Constant", "Parameter", "Call", "Cast", "BoolOp",
           "NullTest", "BooleanTest", "AnyAll", "Comparison", "Distinct", "NullIf", "Case",
           "ArrayLiteral", "Coalesce", "MinMax", "Output", "walk", "shippable"]

# pg_proc.provolatile
IMMUTABLE = "i"
STABLE = "s"
VOLATILE = "v"


@dataclass(frozen=True)
class Expression:
    """Every node has the OID of its result type and its SQL spelling, and the
    collation its result carries."""

    type_oid: int
    type_name: str
    collation: str | None

    def children(self) -> tuple["Expression", ...]:
        return ()


@dataclass(frozen=True)
class Column(Expression):
    """A column of the scanned relation; ``relation`` is the index of its relation in
    the relations the description lists (0 for a one-table scan or write)."""

    name: str
    relation: int = 0


@dataclass(frozen=True)
class Output(Expression):
    """An output of the aggregation a HAVING clause filters (sgfdw.aggregation): a
    grouping key or an aggregate, ``position`` its place in ``output_names`` (from 1)."""

    position: int


@dataclass(frozen=True)
class Constant(Expression):
    """A value computed locally, converted as a qual's value is (None: NULL)."""

    value: Any


@dataclass(frozen=True)
class Parameter(Expression):
    """A value not known before the query runs (plan time only)."""


@dataclass(frozen=True)
class Call(Expression):
    """A function call or an operator (``operator`` True; one or two arguments, a
    prefix operator has one). ``input_collation`` is the collation the call compares
    or folds case with (None: the default or none); ``volatility`` is
    :data:`IMMUTABLE`, :data:`STABLE` or :data:`VOLATILE`; ``builtin`` says the
    function (and, for an operator, the operator) is part of PostgreSQL itself;
    ``extension`` names the extension that owns it, if any. ``variadic``: the last
    argument is an array passed as ``VARIADIC``."""

    schema: str
    name: str
    args: tuple[Expression, ...]
    operator: bool = False
    input_collation: str | None = None
    volatility: str = IMMUTABLE
    builtin: bool = True
    extension: str | None = None
    variadic: bool = False

    def children(self) -> tuple[Expression, ...]:
        return self.args


@dataclass(frozen=True)
class Cast(Expression):
    """A conversion of ``arg`` to this node's type (``type_name`` includes the
    modifier). ``implicit``: PostgreSQL inserted it (the SQL had no cast); ``builtin``
    and ``volatility`` as :class:`Call` for the function doing it (binary-compatible
    and I/O conversions: builtin and immutable unless the types' I/O is not)."""

    arg: Expression
    implicit: bool = False
    volatility: str = IMMUTABLE
    builtin: bool = True
    extension: str | None = None

    def children(self) -> tuple[Expression, ...]:
        return (self.arg,)


@dataclass(frozen=True)
class BoolOp(Expression):
    """``and`` / ``or`` of two or more args, ``not`` of one."""

    op: str
    args: tuple[Expression, ...]

    def children(self) -> tuple[Expression, ...]:
        return self.args


@dataclass(frozen=True)
class NullTest(Expression):
    """``arg IS NULL`` (``negated``: IS NOT NULL); for a row value as PostgreSQL
    defines it (every field)."""

    arg: Expression
    negated: bool = False

    def children(self) -> tuple[Expression, ...]:
        return (self.arg,)


@dataclass(frozen=True)
class BooleanTest(Expression):
    """``arg IS [NOT] TRUE / FALSE / UNKNOWN``: ``test`` is that SQL, e.g.
    ``'IS NOT FALSE'``."""

    arg: Expression
    test: str

    def children(self) -> tuple[Expression, ...]:
        return (self.arg,)


@dataclass(frozen=True)
class AnyAll(Expression):
    """``left op ANY (right)`` (``all``: ALL), right an array; ``operator`` is the
    comparison as a :class:`Call` node's fields (schema, name, input_collation,
    volatility, builtin, extension) without arguments."""

    operator: Call
    left: Expression
    right: Expression
    all: bool = False

    def children(self) -> tuple[Expression, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Comparison(Expression):
    """Two operands compared by ``operator``, the equality as :class:`AnyAll`'s."""

    operator: Call
    left: Expression
    right: Expression

    def children(self) -> tuple[Expression, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Distinct(Comparison):
    """``left IS DISTINCT FROM right`` (``IS NOT DISTINCT FROM`` is its ``not``)."""


@dataclass(frozen=True)
class NullIf(Comparison):
    """``NULLIF(left, right)``."""


@dataclass(frozen=True)
class Case(Expression):
    """``CASE [arg] WHEN when THEN then ... ELSE default END`` (default None: NULL).
    With ``arg`` each ``when`` is the value compared with it by ``=``."""

    arg: Expression | None
    whens: tuple[tuple[Expression, Expression], ...]
    default: Expression | None

    def children(self) -> tuple[Expression, ...]:
        out: list[Expression] = [] if self.arg is None else [self.arg]
        for when, then in self.whens:
            out += (when, then)
        if self.default is not None:
            out.append(self.default)
        return tuple(out)


@dataclass(frozen=True)
class ArrayLiteral(Expression):
    """``ARRAY[elements]`` of expressions."""

    elements: tuple[Expression, ...]

    def children(self) -> tuple[Expression, ...]:
        return self.elements


@dataclass(frozen=True)
class Coalesce(Expression):
    args: tuple[Expression, ...]

    def children(self) -> tuple[Expression, ...]:
        return self.args


@dataclass(frozen=True)
class MinMax(Expression):
    """``GREATEST(args)`` (``greatest`` True) or ``LEAST(args)``, compared under
    ``input_collation``."""

    greatest: bool
    args: tuple[Expression, ...]
    input_collation: str | None = None

    def children(self) -> tuple[Expression, ...]:
        return self.args


def walk(expression: Expression) -> Iterator[Expression]:
    """The node and all nodes below it, parents first."""
    stack = [expression]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (AnyAll, Comparison)):
            yield node.operator
        stack.extend(reversed(node.children()))


def shippable(expression: Expression, extensions: Collection[str] = ()) -> bool:
    """postgres_fdw's default rule: every function, operator and cast in the tree is
    immutable and built in or owned by one of ``extensions``. Types and collations are
    the FDW's to check (it knows the other side's)."""
    for node in walk(expression):
        if isinstance(node, (Call, Cast)):
            if node.volatility != IMMUTABLE:
                return False
            if not node.builtin and node.extension not in extensions:
                return False
    return True
