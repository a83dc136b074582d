"""Callables behind the sgfdw_python functions of tests/test_python_functions.py and
tests/test_pg_module.py (referenced as 'pyfuncs.name' in CREATE FUNCTION ... AS).

Module-level state (CALLS, REMEMBERED) lives as long as the backend, so a test calling
several functions on one connection can see what an earlier call did.
"""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from typing import Any

from sgfdw import errors, pg
from sgfdw.errors import SqlError

NOT_CALLABLE = 42

CALLS: list[tuple[str, tuple]] = []
REMEMBERED: list[Any] = []

# What an expression given to run()/roundtrip()/evaluate() can use: enough to eval the
# repr() of the values the tests use.
NAMESPACE: dict[str, Any] = {
    "pg": pg,
    "SqlError": SqlError,
    "errors": errors,
    "datetime": datetime,
    "decimal": decimal,
    "uuid": uuid,
    "Decimal": decimal.Decimal,
    "UUID": uuid.UUID,
    "json": json,
    "nan": float("nan"),
    "inf": float("inf"),
}


# ---------------------------------------------------------------- plain functions

def greet(name, greeting, punctuation):
    CALLS.append(("greet", (name, greeting, punctuation)))
    return f"{greeting}, {name}{punctuation}"


def show_args(*args):
    """repr of the Python arguments, with their types."""
    return repr([(type(a).__name__, a) for a in args])


def must_not_be_called(*args):
    raise AssertionError(f"called with {args!r}")


def returns_none(*args):
    return None


def remember(value):
    REMEMBERED.append(value)
    return "ignored: a void function's result is dropped"


def remembered():
    return repr(REMEMBERED)


def calls():
    return repr(CALLS)


def identity(value):
    return value


def type_and_repr(value):
    return f"{type(value).__name__}:{value!r}"


def evaluate(expression):
    """The Python value of an expression (evaluated in NAMESPACE): a result to convert."""
    return eval(expression, dict(NAMESPACE))


# ---------------------------------------------------------------- composite and sets

def pair_from_tuple(a, b):
    return (a, b, decimal.Decimal("1.50"))


def pair_from_dict(a, b):
    return {"a": a, "b": b}  # no "c": NULL


def pair_from_list(a, b):
    return [a, b, None]


def wrong_length(*args):
    return (1, 2)


def count_to(n):
    for i in range(1, n + 1):
        yield i


def with_nulls(n):
    return [None if i % 2 else i for i in range(n)]


def not_iterable(*args):
    return 5


def a_generator(*args):
    yield 1
    yield 2


def table_of_tuples(n):
    for i in range(1, n + 1):
        yield (i, f"name {i}", decimal.Decimal(i) / 4)


def table_of_dicts(n):
    for i in range(1, n + 1):
        row = {"id": i, "name": f"name {i}"}
        if i % 2 == 0:
            row["score"] = decimal.Decimal("0.1") * i
        yield row


def fails_midway(n):
    yield (1, "one", None)
    raise ValueError("broke after one row")


# ---------------------------------------------------------------- errors

def raise_value_error(message):
    raise ValueError(message)


class DivisionByZeroElsewhere(Exception):
    sqlstate = "22012"


def raise_with_sqlstate(message):
    raise DivisionByZeroElsewhere(message)


def raise_fdw_error(message):
    raise errors.DataError(message, hint="try another value", detail="the value was bad")


# ---------------------------------------------------------------- sgfdw.pg

def run(code):
    """exec() code with sgfdw.pg in scope; the text of its `result` variable (NULL if
    it sets none). For tests that state a short scenario in Python."""
    namespace = dict(NAMESPACE)
    exec(code, namespace)
    result = namespace.get("result")
    return None if result is None else str(result)


def roundtrip(expression, sql):
    """Evaluates expression, passes the value as $1 to sql (one row, one column), and
    reports type and repr of what came back, for comparison with the value's own."""
    value = eval(expression, dict(NAMESPACE))
    rows = pg.execute(sql, [value])
    assert len(rows) == 1 and len(rows[0]) == 1, rows
    got = rows[0][0]
    return f"{type(got).__name__}:{got!r}"


def add_item(id, name):
    """Inserts through sgfdw.pg, then reads the table back in the same call."""
    pg.execute("INSERT INTO items (id, name) VALUES ($1, $2)", [id, name])
    return pg.execute("SELECT count(*) FROM items")[0][0]


def item_names():
    return [name for (name,) in pg.execute("SELECT name FROM items ORDER BY id")]


def count_items():
    return pg.execute("SELECT count(*) FROM items")[0][0]


def insert_catching_duplicate(id):
    """A unique violation caught in Python; statements before and after it stay."""
    pg.execute("INSERT INTO items (id, name) VALUES ($1, 'first')", [id])
    try:
        pg.execute("INSERT INTO items (id, name) VALUES ($1, 'duplicate')", [id])
    except SqlError as exc:
        state = exc.sqlstate
    else:
        state = "no error"
    pg.execute("INSERT INTO items (id, name) VALUES ($1, 'after')", [id + 1])
    names = [n for (n,) in pg.execute("SELECT name FROM items WHERE id >= $1 ORDER BY id",
                                      [id])]
    return f"{state} {names}"


def insert_uncaught(id):
    pg.execute("INSERT INTO items (id, name) VALUES ($1, 'again')", [id])
    return "not reached"
