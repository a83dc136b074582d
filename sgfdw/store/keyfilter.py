"""Key filters: a Bloom filter per primary key column of an object, so that a key lookup
skips the objects that cannot hold its key.

The min/max index cannot rule out a key inside an object's key range, and a patch of
keys spread over a table spans nearly all of it. A Bloom filter answers "maybe" or
"certainly not". A wrong "not" would lose rows that PostgreSQL cannot recheck, so a
value is hashed in the form that PostgreSQL's equality compares, the same for every
type of a family: integers (int2, int4, int8: 1 = 1 across them), dates and
timestamps (the store's integers) as 64-bit integers; floats as float8 (a float4
widens exactly, as float48eq compares), -0 as 0 and every NaN as one (NaN = NaN in
PostgreSQL); text and bytea by their bytes (equality under a deterministic collation:
the caller decides whether that holds); uuid by its text (one spelling per value);
numeric by the text of its value without the scale (1.0 = 1.00 = 1, NaN = NaN). Other
types stored as text (json, intervals, ...) get no filter; neither does char(n), whose
equality ignores trailing blanks.

A filter is derived metadata, like the min/max index: not part of the object's id, and
computed alike by any engine from the same rows (the hashing is fixed: a new hashing
gets a new SCHEME, which older filters do not match, so they are ignored). An object
without one is never skipped by it. Sizing: 1% false positives, i.e. 9.59 bits and 7
hashes per value (100,000 keys: 119,840 bytes).
"""
from __future__ import annotations

import base64
import decimal
import hashlib
import math
import struct
from typing import Any, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from sgfdw.store.types import Column, TableSchema

__all__ = ["SCHEME", "KeyFilter", "FILTERED_BASES", "filtered_columns", "filters_of", "parse",
           "hash_pairs", "may_satisfy", "numeric_text"]

SCHEME = "bloom-splitmix64-v2"
FILTERED_BASES = frozenset({"int2", "int4", "int8", "float4", "float8", "bool", "date",
                            "timestamp", "timestamptz", "text", "varchar", "name", "bytea",
                            "uuid", "numeric"})
_BITS_PER_VALUE = -math.log(0.01) / math.log(2) ** 2
_HASHES = round(_BITS_PER_VALUE * math.log(2))
_MASK = 2**64 - 1
_SEEDS = (0x9E3779B97F4A7C15, 0xD1B54A32D192ED03)
_MULTIPLIERS = (0xBF58476D1CE4E5B9, 0x94D049BB133111EB)


# Exact: numeric has up to 147,455 digits, none may be rounded away
_EXACT = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)


def numeric_text(value: str | decimal.Decimal | int) -> str:
    """The same text for equal numerics: 1.0, 1.00 and 1 (the scale is not part of
    numeric equality); NaN equals NaN."""
    number = decimal.Decimal(value)
    if number.is_nan():
        return "NaN"
    return "0" if number.is_zero() else str(number.normalize(_EXACT))


def _u64(value: int) -> pa.Scalar:
    return pa.scalar(value, pa.uint64())


def _words(values: pa.Array) -> pa.Array:
    """One uint64 per value, equal for values PostgreSQL's equality finds equal."""
    kind = values.type
    if pa.types.is_floating(kind):
        floats = values.cast(pa.float64())
        floats = pc.if_else(pc.equal(floats, 0.0), 0.0, floats)  # -0 = 0
        floats = pc.if_else(pc.is_nan(floats), math.nan, floats)  # one NaN
        return floats.view(pa.uint64())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) \
            or pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        # Arrow has no hash kernel: one digest per value (text keys are the rarer ones)
        return pa.array([_word(value) for value in values.to_pylist()], pa.uint64())
    if pa.types.is_date32(kind):
        values = values.cast(pa.int32())
    return values.cast(pa.int64()).view(pa.uint64())


def _word(value: int | float | str | bytes) -> int:
    """_words of one value (int64, float64, string or binary), in Python: a lookup hashes
    a few values, where each Arrow call would cost more than the arithmetic."""
    if isinstance(value, float):
        value = math.nan if math.isnan(value) else value + 0.0  # -0 + 0 = 0
        return int.from_bytes(struct.pack("<d", value), "little")
    if isinstance(value, (str, bytes)):
        data = value.encode() if isinstance(value, str) else value
        return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")
    return value & _MASK


def _mixed(words: pa.Array, seed: int) -> pa.Array:
    """splitmix64's finaliser of words ^ seed (uint64 arithmetic wraps around)."""
    z = pc.bit_wise_xor(words, _u64(seed))
    z = pc.multiply(pc.bit_wise_xor(z, pc.shift_right(z, _u64(30))), _u64(_MULTIPLIERS[0]))
    z = pc.multiply(pc.bit_wise_xor(z, pc.shift_right(z, _u64(27))), _u64(_MULTIPLIERS[1]))
    return pc.bit_wise_xor(z, pc.shift_right(z, _u64(31)))


def _mixed_word(word: int, seed: int) -> int:
    """_mixed of one word, in Python."""
    z = word ^ seed
    z = ((z ^ (z >> 30)) * _MULTIPLIERS[0]) & _MASK
    z = ((z ^ (z >> 27)) * _MULTIPLIERS[1]) & _MASK
    return z ^ (z >> 31)


def _hash_arrays(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Two independent hashes per value. The filter is partitioned: hash i sets a bit
    in the i-th part of the bits, at h1 + i * h2 (double hashing, h2 odd) mapped onto
    the part by its high 32 bits (x * part >> 32, no division). A part is a seventh of
    the filter, so building one writes into a span that stays in the CPU's cache."""
    words = _words(values)
    return _mixed(words, _SEEDS[0]), pc.bit_wise_or(_mixed(words, _SEEDS[1]), _u64(1))


def hash_pairs(values: Sequence[int | float | str | bytes]) -> list[tuple[int, int]]:
    """The (h1, h2) of each value, to look up in filters of its column's type: values
    of its family (int for integers, dates and timestamps, float, str or bytes)."""
    words = [_word(value) for value in values]
    return [(_mixed_word(word, _SEEDS[0]), _mixed_word(word, _SEEDS[1]) | 1) for word in words]


class KeyFilter:
    """The bits of one column's filter; may_hold(pair) is False only when no value of the
    column hashes to those bits."""

    def __init__(self, hashes: int, bits: bytes) -> None:
        self.hashes = hashes
        self.bits = bits
        self.part = len(bits) * 8 // hashes

    def may_hold(self, pair: tuple[int, int]) -> bool:
        part = self.part
        first, second = pair
        for i in range(self.hashes):
            position = i * part + ((((first + i * second) & _MASK) >> 32) * part >> 32)
            if not self.bits[position >> 3] >> (position & 7) & 1:
                return False
        return True


def _build(column: pa.ChunkedArray, base: str) -> dict[str, Any] | None:
    values = column.drop_null().combine_chunks()
    if base == "numeric":
        values = pa.array([numeric_text(text) for text in values.to_pylist()], pa.string())
    part = max(64, math.ceil(len(values) * _BITS_PER_VALUE / _HASHES / 64) * 64)
    if part >= 2**31:
        return None  # beyond 32-bit positions (1.5 billion keys): no filter
    if not len(values):
        return {"hashes": _HASHES, "bits": base64.b64encode(bytes(part // 8 * _HASHES)).decode()}
    first, second = _hash_arrays(values)
    parts = []
    for i in range(_HASHES):
        hashed = pc.add(first, pc.multiply(second, _u64(i)))
        scaled = pc.multiply(pc.shift_right(hashed, _u64(32)), _u64(part))
        positions = pc.shift_right(scaled, _u64(32)).cast(pa.int32())
        # The part's bits are the positions an inverse permutation fills (the others
        # are null): 2.5x faster than scattering into a boolean array.
        filled = pc.inverse_permutation(positions, max_index=part - 1, output_type=pa.int32())
        parts.append(pc.is_valid(filled).buffers()[1].to_pybytes()[:part // 8])
    return {"hashes": _HASHES, "bits": base64.b64encode(b"".join(parts)).decode()}


def filtered_columns(schema: TableSchema) -> list[Column]:
    return [schema.column(name) for name in schema.primary_key
            if schema.column(name).base in FILTERED_BASES]


def filters_of(table: pa.Table, schema: TableSchema) -> dict[str, Any] | None:
    """The stored form of an object's filters (every row's key, deletes included: a
    lookup must read the patch that deletes its key), or None for a table without a
    key column of a filtered type."""
    columns = filtered_columns(schema)
    if not columns:
        return None
    built = {c.name: _build(table.column(c.name), c.base) for c in columns}
    return {"scheme": SCHEME, "columns": {name: bits for name, bits in built.items() if bits}}


def parse(stored: dict[str, Any] | None) -> dict[str, KeyFilter]:
    """Column name -> filter, from the stored form; none for an object without filters
    or with filters of another scheme."""
    if not stored or stored.get("scheme") != SCHEME:
        return {}
    return {name: KeyFilter(entry["hashes"], base64.b64decode(entry["bits"]))
            for name, entry in stored["columns"].items()}


def may_satisfy(filters: dict[str, KeyFilter], lookups: Sequence[tuple[str, list]]) -> bool:
    """False when some lookup (column, hash pairs of the values a row must have one of)
    has a filter holding none of its values."""
    for name, pairs in lookups:
        found = filters.get(name)
        if found is not None and not any(found.may_hold(pair) for pair in pairs):
            return False
    return True
