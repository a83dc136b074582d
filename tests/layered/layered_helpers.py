"""Helpers of the layered FDW's tests. The object store's test helpers (row
comparison, errors, random histories, damaged files) and its table of values of every
type are reused from tests/store, loaded by path under their own names: every test
folder's conftest is a module named `conftest`, and which one `from conftest import`
finds depends on what pytest loaded first."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

_STORE_TESTS = Path(__file__).resolve().parent.parent / "store"


def _load(name: str, file: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, _STORE_TESTS / file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_helpers = _load("store_test_helpers", "conftest.py")
rows_of = _helpers.rows_of
assert_same_rows = _helpers.assert_same_rows

# The store's test modules import their helpers `from conftest`: for the time they are
# loaded, that is the store's conftest.
_conftest = sys.modules.get("conftest")
sys.modules["conftest"] = _helpers
try:
    _roundtrip = _load("store_roundtrip_values", "test_store_roundtrip.py")
    random_step = _load("store_commit_history", "test_store_commit.py").random_step
    object_file = _load("store_errors", "test_store_errors.py").object_file
finally:
    if _conftest is None:
        del sys.modules["conftest"]
    else:
        sys.modules["conftest"] = _conftest
VALUES = _roundtrip.VALUES
make_source = _roundtrip.make_source
