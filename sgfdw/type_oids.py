"""PostgreSQL's built-in type OIDs, by name.

Built-in OIDs (below 16384) are fixed for a major version and the same in every
cluster, so local and remote type OIDs can be compared with these directly
(src/include/catalog/pg_type.dat is where PostgreSQL defines them).
"""
from __future__ import annotations

BOOL = 16
BYTEA = 17
CHAR = 18
NAME = 19
INT8 = 20
INT2 = 21
INT4 = 23
TEXT = 25
OID = 26
JSON = 114
JSON_ARRAY = 199
CIDR = 650
INET = 869
FLOAT4 = 700
FLOAT8 = 701
BPCHAR = 1042
VARCHAR = 1043
DATE = 1082
TIME = 1083
TIMESTAMP = 1114
TIMESTAMPTZ = 1184
INTERVAL = 1186
TIMETZ = 1266
NUMERIC = 1700
UUID = 2950
JSONB = 3802
JSONB_ARRAY = 3807
NAME_ARRAY = 1003
TEXT_ARRAY = 1009
BPCHAR_ARRAY = 1014
VARCHAR_ARRAY = 1015

#: Fixed-size integers and floats (oid included): the types a driver such as psycopg2
#: hands over as Python numbers, exactly and cheaply.
INT_AND_FLOAT_TYPES = frozenset({INT8, INT2, INT4, OID, FLOAT4, FLOAT8})
JSON_TYPES = frozenset({JSON, JSONB})
JSON_ARRAY_TYPES = frozenset({JSON_ARRAY, JSONB_ARRAY})
