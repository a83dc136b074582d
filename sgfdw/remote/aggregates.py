"""Which aggregates a remote source computes as PostgreSQL does, whatever the source.

Why shared: ``sum`` and ``avg`` are pushed only over a column of the same number type on
both sides, where they are the same built-in functions (result type and precision:
int4 -> int8, int8 -> numeric, ...); every remote wrapper allows the same types.
"""
from __future__ import annotations

from sgfdw import type_oids as oids

__all__ = ["SUMMABLE"]

#: Types whose sum and avg the source computes as locally when its column is of the same.
SUMMABLE = frozenset({oids.INT2, oids.INT4, oids.INT8, oids.NUMERIC, oids.FLOAT4,
                      oids.FLOAT8})
