"""Loading a plugin named by its dotted path (`package.module.attribute`), as the
registries of sgfdw.hooks name the handlers and commands they import on first use."""
from __future__ import annotations

import importlib
from typing import Any

from sgfdw.errors import FdwError

__all__ = ["load_plugin"]


def load_plugin(kind: str, name: str, target: str, base: type, *, instance: bool = False,
                error: type[FdwError] = FdwError) -> Any:
    """What `target` names: a class that extends `base`, or with instance an instance of
    it. kind and name say which plugin it is in errors (e.g. 'external object handler',
    'S3'); error is the class they are raised as (a registry's own error family)."""
    module_name, _, attribute = target.rpartition(".")
    try:
        loaded = getattr(importlib.import_module(module_name), attribute)
    except Exception as exc:  # a plugin whose module or dependencies are missing
        raise error(f'{kind} "{name}" cannot be loaded from {target}: '
                    f"{type(exc).__name__}: {exc}", sqlstate="58000",
                    hint="Check that the plugin's Python dependencies are installed "
                         "in the server's environment.") from None
    base_name = f"{base.__module__}.{base.__qualname__}"
    if instance:
        if not isinstance(loaded, base):
            raise error(f'{kind} "{name}": {target} is not a {base_name}', sqlstate="42809")
    elif not (isinstance(loaded, type) and issubclass(loaded, base)):
        raise error(f'{kind} "{name}": {target} does not extend {base_name}',
                    sqlstate="42809")
    return loaded
