"""Helpers of the layered FDW's tests: the object store's test helpers (row
comparison, random histories, damaged files) and its table of values of every type,
reused from tests/store (put on the path here, as pytest does for a test folder)."""
from __future__ import annotations

import sys
from pathlib import Path

_STORE_TESTS = str(Path(__file__).resolve().parent.parent / "store")
if _STORE_TESTS not in sys.path:
    sys.path.append(_STORE_TESTS)

from store_helpers import assert_same_rows, rows_of  # noqa: E402
from test_store_commit import random_step  # noqa: E402
from test_store_errors import object_file  # noqa: E402
from test_store_roundtrip import VALUES, make_source  # noqa: E402

__all__ = ["VALUES", "assert_same_rows", "make_source", "object_file", "random_step",
           "rows_of"]
