"""A table of two rows whose delete() returns a dict (what the remote had), for
DELETE with and without RETURNING (tests/test_write.py)."""

from multicorn import ForeignDataWrapper


class DeletingFdw(ForeignDataWrapper):
    rowid_column = "id"

    def execute(self, quals, columns, **kwargs):
        yield {"id": 1, "v": "a"}
        yield {"id": 2, "v": "b"}

    def delete(self, rowid):
        return {"id": rowid, "v": "gone"}
