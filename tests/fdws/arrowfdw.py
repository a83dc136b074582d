"""FDWs yielding Arrow batches, for tests/test_arrow.py.

ArrowFdw    yields the items of the table option `items`: a Python expression, evaluated
            at each scan in NAMESPACE (pyarrow as `pa`, sgfdw.pg as `pg`, the helpers below), for an
            iterable of record batches, tables, readers and plain rows in any mix. With
            the option mode 'rows' every Arrow item is turned into Python rows first
            (to_pylist()), so the same expression gives the row path's result to compare
            with.

The helpers make the bad input a careless or hostile producer can hand over: capsules
with wrong names or already consumed, structures with lying lengths or missing buffers,
streams without a release callback or failing midway. They use ctypes on the structures
of the Arrow C data interface, as a producer written in C would.
"""

from __future__ import annotations

import ctypes
import datetime
import decimal
from typing import Any, Iterable, Iterator

from multicorn import ForeignDataWrapper


class ArrowSchema(ctypes.Structure):
    pass


ArrowSchema._fields_ = [
    ("format", ctypes.c_char_p), ("name", ctypes.c_char_p), ("metadata", ctypes.c_char_p),
    ("flags", ctypes.c_int64), ("n_children", ctypes.c_int64),
    ("children", ctypes.POINTER(ctypes.POINTER(ArrowSchema))),
    ("dictionary", ctypes.POINTER(ArrowSchema)), ("release", ctypes.c_void_p),
    ("private_data", ctypes.c_void_p)]


class ArrowArray(ctypes.Structure):
    pass


ArrowArray._fields_ = [
    ("length", ctypes.c_int64), ("null_count", ctypes.c_int64), ("offset", ctypes.c_int64),
    ("n_buffers", ctypes.c_int64), ("n_children", ctypes.c_int64),
    ("buffers", ctypes.POINTER(ctypes.c_void_p)),
    ("children", ctypes.POINTER(ctypes.POINTER(ArrowArray))),
    ("dictionary", ctypes.POINTER(ArrowArray)), ("release", ctypes.c_void_p),
    ("private_data", ctypes.c_void_p)]


class ArrowArrayStream(ctypes.Structure):
    _fields_ = [("get_schema", ctypes.c_void_p), ("get_next", ctypes.c_void_p),
                ("get_last_error", ctypes.c_void_p), ("release", ctypes.c_void_p),
                ("private_data", ctypes.c_void_p)]


_capsule_new = ctypes.pythonapi.PyCapsule_New
_capsule_new.restype = ctypes.py_object
_capsule_new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
# A capsule keeps a pointer to its name, and these structures have no owner but us.
_KEEP: list[Any] = []


def capsule(struct: ctypes.Structure, name: bytes) -> Any:
    """A capsule (without destructor) holding a pointer to struct, kept alive here."""
    _KEEP.extend((struct, name))
    return _capsule_new(ctypes.addressof(struct), name, None)


class ArrayExporter:
    """__arrow_c_array__ -> the given value (on the class: the bridge looks there)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __arrow_c_array__(self, requested_schema: Any = None) -> Any:
        return self.value


class StreamExporter:
    """__arrow_c_stream__ -> the given value."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self.value


def exported(batch: Any) -> tuple[ArrowSchema, ArrowArray]:
    """The batch exported into structures we can change."""
    schema, array = ArrowSchema(), ArrowArray()
    batch._export_to_c(ctypes.addressof(array), ctypes.addressof(schema))
    return schema, array


def tampered(batch: Any, change: Any) -> ArrayExporter:
    """The batch exported, change(schema, array) applied, wrapped in fresh capsules."""
    schema, array = exported(batch)
    change(schema, array)
    return ArrayExporter((capsule(schema, b"arrow_schema"), capsule(array, b"arrow_array")))


def ragged(batch: Any) -> ArrayExporter:
    """The batch claiming a column shorter than the batch."""
    def change(schema: ArrowSchema, array: ArrowArray) -> None:
        array.children[1].contents.length = 1
    return tampered(batch, change)


def without_data_buffer(batch: Any) -> ArrayExporter:
    def change(schema: ArrowSchema, array: ArrowArray) -> None:
        array.children[0].contents.buffers[1] = None
    return tampered(batch, change)


def wrong_buffer_count(batch: Any) -> ArrayExporter:
    def change(schema: ArrowSchema, array: ArrowArray) -> None:
        array.children[0].contents.n_buffers = 7
    return tampered(batch, change)


def claimed_size(batch: Any, size: int, depth: int = 0) -> ArrayExporter:
    """The batch's first column (large_utf8 or large_binary, one value; depth > 0: the
    first field of a struct that deep) claiming a value of size bytes, its data buffer as
    small as it was."""
    offsets = (ctypes.c_int64 * 2)(0, size)
    _KEEP.append(offsets)

    def change(schema: ArrowSchema, array: ArrowArray) -> None:
        column = array.children[0].contents
        for _ in range(depth):
            column = column.children[0].contents
        column.buffers[1] = ctypes.addressof(offsets)
    return tampered(batch, change)


def wrong_names(batch: Any) -> ArrayExporter:
    schema, array = batch.__arrow_c_array__()
    return ArrayExporter((array, schema))


def consumed(batch: Any) -> ArrayExporter:
    """Capsules whose structures another consumer already moved out."""
    import pyarrow as pa

    schema, array = batch.__arrow_c_array__()
    pa.RecordBatch._import_from_c_capsule(schema, array)
    return ArrayExporter((schema, array))


def stream_without_release(table: Any) -> StreamExporter:
    stream = ArrowArrayStream()
    table.to_reader()._export_to_c(ctypes.addressof(stream))
    stream.release = None
    return StreamExporter(capsule(stream, b"arrow_array_stream"))


def failing_stream(batches: Iterable[Any], schema: Any) -> Any:
    """A reader whose batches come from a generator that raises after them."""
    import pyarrow as pa

    def generate() -> Iterator[Any]:
        yield from batches
        raise RuntimeError("the source went away")

    return pa.RecordBatchReader.from_batches(schema, generate())


def as_rows(item: Any) -> Iterator[Any]:
    """The row path's view of an item: Python rows by column name."""
    import pyarrow as pa

    if hasattr(type(item), "__arrow_c_array__") or hasattr(type(item), "__arrow_c_stream__"):
        # maps as the dicts an FDW would yield (a repeated key: its last value)
        yield from pa.table(item).to_pylist(maps_as_pydicts="lossy")
    else:
        yield item


NAMESPACE: dict[str, Any] = {
    "datetime": datetime, "Decimal": decimal.Decimal,
    "ragged": ragged, "without_data_buffer": without_data_buffer,
    "wrong_buffer_count": wrong_buffer_count, "wrong_names": wrong_names,
    "claimed_size": claimed_size,
    "consumed": consumed, "stream_without_release": stream_without_release,
    "failing_stream": failing_stream, "ArrayExporter": ArrayExporter,
    "StreamExporter": StreamExporter,
}


class ArrowFdw(ForeignDataWrapper):
    """Yields the items of the `items` option, as given or (mode 'rows') as Python rows."""

    def __init__(self, options: dict[str, str], columns: Any) -> None:
        super().__init__(options, columns)
        self.items = options["items"]
        self.as_rows = options.get("mode", "arrow") == "rows"

    def execute(self, quals: list, columns: set, **kwargs: Any) -> Iterator[Any]:
        import pyarrow as pa

        from sgfdw import pg

        items = eval(self.items, {**NAMESPACE, "pa": pa, "pg": pg})  # noqa: S307 (test code)
        for item in items:
            if self.as_rows:
                yield from as_rows(item)
            else:
                yield item
