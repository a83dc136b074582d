"""Which aggregates a remote source computes as PostgreSQL does, whatever the source.

Why shared: an aggregate of pg_catalog over a column of the same type on both sides is
the same built-in function (result type and precision: sum of int4 -> int8, of int8 ->
numeric, ...) for the argument types PostgreSQL defines it on; every remote wrapper
allows the same types.
"""
from __future__ import annotations

from sgfdw import type_oids as oids

__all__ = ["SUMMABLE", "SAME_TYPE_ARGUMENTS"]

#: Types whose sum and avg the source computes as locally when its column is of the same.
SUMMABLE = frozenset({oids.INT2, oids.INT4, oids.INT8, oids.NUMERIC, oids.FLOAT4,
                      oids.FLOAT8})

#: Aggregates (by name) pushed for an argument of one of these types, of the same type
#: in the source.
SAME_TYPE_ARGUMENTS = {
    **dict.fromkeys(("sum", "avg", "stddev", "stddev_pop", "stddev_samp", "variance",
                     "var_pop", "var_samp"), SUMMABLE),
    **dict.fromkeys(("bool_and", "bool_or", "every"), frozenset({oids.BOOL})),
    **dict.fromkeys(("bit_and", "bit_or"), frozenset({oids.INT2, oids.INT4, oids.INT8})),
}
