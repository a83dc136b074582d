"""Deterministic data sets served by the test FDWs (recording.RecordingFdw).

Plain Python without imports, so the tests (client side, no multicorn needed) load the
very same rows to fill the local tables their results are compared with.

DATASETS[name] = (columns, rows): columns is a list of (name, SQL type); rows are tuples
in that column order.
"""

PEOPLE_COLUMNS = [
    ("id", "int"),
    ("name", "text"),
    ("age", "int"),
    ("active", "bool"),
    ("score", "float8"),
]

# NULLs in every column but id, unicode, quotes, LIKE metacharacters, an empty string,
# case variants (for ILIKE) and duplicate ages (for sorts with ties).
PEOPLE_ROWS = [
    (1, "Alice", 30, True, 91.5),
    (2, "bob", 25, False, 78.25),
    (3, "Zoë", None, True, 88.0),
    (4, "日本語", 41, None, None),
    (5, None, 19, False, 65.5),
    (6, "O'Brien", 30, True, -1.5),
    (7, "alice", 52, True, 100.0),
    (8, "Émile", 25, False, 0.0),
    (9, "Bob_2%", 33, None, 12.75),
    (10, "", 60, True, 45.0),
    (11, "Ünïcødé ✓", None, None, None),
    (12, "carol", 47, False, 77.7),
]

DATASETS = {
    "people": (PEOPLE_COLUMNS, PEOPLE_ROWS),
}
