"""Loading a plugin named by its dotted path (`package.module.attribute`), as the
registries of sgfdw.hooks name the handlers and commands they import on first use."""
from __future__ import annotations

import importlib
from typing import Any

from sgfdw.errors import FdwError

__all__ = ["load_plugin"]


def load_plugin(kind: str, name: str, target: str, base: type) -> Any:
    """The class `target` names, which must extend `base`. kind and name say which
    plugin it is in errors (e.g. 'external object handler', 'S3')."""
    module_name, _, attribute = target.rpartition(".")
    try:
        loaded = getattr(importlib.import_module(module_name), attribute)
    except Exception as exc:  # a plugin whose module or dependencies are missing
        raise FdwError(f'{kind} "{name}" cannot be loaded from {target}: '
                       f"{type(exc).__name__}: {exc}", sqlstate="58000",
                       hint="Check that the plugin's Python dependencies are installed "
                            "in the server's environment.") from None
    if not (isinstance(loaded, type) and issubclass(loaded, base)):
        raise FdwError(f'{kind} "{name}": {target} does not extend '
                       f"{base.__module__}.{base.__qualname__}", sqlstate="42809")
    return loaded
