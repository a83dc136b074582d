"""What the C bridge calls in Python: loading FDW classes, building instances, scans,
EXPLAIN and IMPORT FOREIGN SCHEMA.

Kept in Python because none of it touches a Datum: the bridge passes already converted
values in and gets Python objects back.
"""
from __future__ import annotations

import importlib
from collections import OrderedDict
from typing import Any, Iterable, Iterator

from multicorn import UNBOUND, ColumnDefinition, ForeignDataWrapper, Qual, SortKey
from sgfdw.aggregation import Aggregate, AggregateOrder, Aggregation
from sgfdw.errors import WrapperNotFound
from sgfdw.join import Join, JoinedTable, JoinStep
from sgfdw.expression import Column, Constant, Parameter
from sgfdw.modification import Modification
from sgfdw.options import MergedOptions
# The C side looks the value codec up here, with the rest of what it calls.
from sgfdw.sampling import sample_rows
from sgfdw.value_codec import json_dumps, json_loads, mapping_text

__all__ = ["Qual", "SortKey", "UNBOUND", "Aggregate", "AggregateOrder", "Aggregation",
           "Column", "Constant",
           "Parameter", "Modification", "load_wrapper",
           "new_instance", "execute", "explain",
           "import_statements", "json_dumps", "json_loads", "writable_operations",
           "overridden_operations", "WRITE_OPERATIONS",
           "load_callable", "mapping_text", "sample_rows", "Join", "JoinedTable",
           "JoinStep", "execute_join", "explain_join"]


def _import_named(path: str, what: str) -> Any:
    """The object a dotted path 'package.module.name' names; WrapperNotFound if none."""
    module_name, _, name = path.strip().rpartition(".")
    if not module_name or not name:
        raise WrapperNotFound(
            f"invalid {what} {path!r}: expected 'module.name'",
            hint="Name it with its module, e.g. 'sgfdw.demo.DemoFdw'.")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # a module failing at import is as unusable as a missing one
        raise WrapperNotFound(f"cannot import module {module_name!r} of {what} {path!r}: "
                              f"{type(exc).__name__}: {exc}",
                              hint="Check the module name and sgfdw.python_path.") from exc
    target = getattr(module, name, None)
    if target is None:
        raise WrapperNotFound(f"module {module_name!r} has no {name!r}")
    return target


def load_wrapper(path: str) -> type[Any]:
    """The class named by a `wrapper` option ('package.module.Class')."""
    cls = _import_named(path, "wrapper")
    if not isinstance(cls, type):
        raise WrapperNotFound(f"wrapper {path!r} is not a class")
    return cls


def load_callable(path: str) -> Any:
    """The callable named by an sgfdw_python function's body ('package.module.name')."""
    target = _import_named(path, "function body")
    if not callable(target):
        raise WrapperNotFound(f"{path!r} is not a callable")
    return target


def new_instance(wrapper: str, options: dict[str, str],
                 columns: list[tuple[str, int, int, str, str, dict[str, str], str | None]],
                 sources: dict[str, dict[str, str]] | None = None) -> Any:
    """Class(options, columns) with Multicorn's ordered ColumnDefinition mapping; the
    options dict also carries each object's own options (sgfdw.options.option_sources)."""
    definitions = OrderedDict(
        (name, ColumnDefinition(name, type_oid=type_oid, typmod=typmod, type_name=type_name,
                                base_type_name=base_type_name, options=column_options,
                                collation=collation))
        for name, type_oid, typmod, type_name, base_type_name, column_options, collation
        in columns)
    return load_wrapper(wrapper)(MergedOptions(options, sources), definitions)


WRITE_OPERATIONS = ("insert", "update", "delete")


def overridden_operations(cls: type) -> frozenset[str]:
    """The write methods (of WRITE_OPERATIONS) a class implements, i.e. overrides the
    base class's: the updatability of an FDW without an ``updatable_operations`` hook."""
    def implements(name: str) -> bool:
        method = getattr(cls, name, None)
        return method is not None and method is not getattr(ForeignDataWrapper, name, None)

    return frozenset(filter(implements, WRITE_OPERATIONS))


def writable_operations(instance: Any) -> tuple[bool, bool, bool]:
    """Whether the table allows INSERT, UPDATE, DELETE (asked by IsForeignRelUpdatable):
    the instance's ``updatable_operations()`` -- a collection of the names in
    WRITE_OPERATIONS -- when it has that hook, else the methods its class overrides."""
    hook = getattr(instance, "updatable_operations", None)
    allowed = overridden_operations(type(instance)) if hook is None else hook()
    insert, update, delete = (name in allowed for name in WRITE_OPERATIONS)
    return insert, update, delete


def _scan_kwargs(sortkeys: list, limit: int, offset: int,
                 aggregation: Aggregation | None, filters: list) -> dict[str, Any]:
    # Passed only when meaningful, so a two-argument execute() keeps working.
    kwargs: dict[str, Any] = {}
    if aggregation is not None:
        kwargs["aggregation"] = aggregation
    if filters:
        kwargs["filters"] = filters
    if sortkeys:
        kwargs["sortkeys"] = sortkeys
    if limit >= 0:
        kwargs["limit"] = limit
    if offset >= 0:
        kwargs["offset"] = offset
    return kwargs


def execute(instance: Any, quals: list[Qual], columns: set[str], sortkeys: list,
            limit: int, offset: int, aggregation: Aggregation | None,
            filters: list) -> Iterator:
    """``filters``: the expressions (sgfdw.expression) the FDW accepted (can_filter)."""
    result = instance.execute(quals, columns,
                              **_scan_kwargs(sortkeys, limit, offset, aggregation, filters))
    return iter(result if result is not None else ())


def execute_join(instance: Any, join: Join) -> Iterator:
    """The rows of a join the instance accepted (can_join)."""
    result = instance.execute_join(join)
    return iter(result if result is not None else ())


def explain_join(instance: Any, join: Join, verbose: bool) -> list[str]:
    """EXPLAIN's lines for a join: the FDW's explain_join(), if it has one."""
    explain_method = getattr(instance, "explain_join", None)
    lines = [] if explain_method is None else explain_method(join, verbose=verbose)
    return [str(line) for line in lines or ()]


def explain(call: tuple, verbose: bool) -> list[str]:
    instance, quals, columns, sortkeys, limit, offset, aggregation, filters = call
    lines: list[str] = []
    if verbose:
        cls = type(instance)
        lines.append(f"Wrapper: {cls.__module__}.{cls.__qualname__}")
    explain_method = getattr(instance, "explain", None)
    if explain_method is not None:
        kwargs = {"sortkeys": sortkeys or None, "verbose": verbose,
                  "limit": limit if limit >= 0 else None,
                  "offset": offset if offset >= 0 else None}
        # The base explain() is Multicorn's, without aggregations or filters: only an
        # FDW's own explain() (one that accepted them) is given them.
        if getattr(type(instance), "explain", None) is not ForeignDataWrapper.explain:
            kwargs.update(_scan_kwargs([], -1, -1, aggregation, filters))
        lines.extend(str(line) for line in (explain_method(quals, columns, **kwargs) or ()))
    return lines


def import_statements(wrapper: str, remote_schema: str, srv_options: dict[str, str],
                      options: dict[str, str], restriction_type: str | None,
                      restricts: list[str], local_schema: str, server_name: str,
                      sources: dict[str, dict[str, str]] | None = None) -> list[str]:
    cls = load_wrapper(wrapper)
    tables: Iterable = cls.import_schema(remote_schema, MergedOptions(srv_options, sources),
                                         options, restriction_type, restricts) or ()
    return [table.to_statement(local_schema, server_name) for table in tables]
