"""sgfdw.type_oids names the built-in type OIDs the server itself has."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fdwtest import execute  # noqa: E402
from sgfdw import type_oids  # noqa: E402


def _type_name(constant: str) -> str:
    """INT4 -> int4, JSONB_ARRAY -> _jsonb (an array type is its element's name with _)."""
    if constant.endswith("_ARRAY"):
        return "_" + constant[:-len("_ARRAY")].lower()
    return constant.lower()


def test_every_constant_is_the_oid_of_the_type_it_names(db):
    constants = {name: value for name, value in vars(type_oids).items()
                 if name.isupper() and isinstance(value, int)}
    assert len(constants) > 20
    server = dict(execute(db, "SELECT typname::text, oid::int FROM pg_type "
                              "WHERE typnamespace = 'pg_catalog'::regnamespace"))
    assert {name: server.get(_type_name(name)) for name in constants} == constants

