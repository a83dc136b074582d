"""External object handlers: where objects go when an image is pushed to a registry, and
how an engine gets them back (the API of splitgraph.hooks.external_objects).

A handler class takes its parameters (a dict) and implements upload_objects (object
ids -> (id, URL) of those uploaded) and download_objects ((id, URL) pairs -> ids now in
this engine's object directory). Both get the registry's engine (sgfdw.engine) for
whatever the registry must do for them, e.g. hand out presigned URLs.

Handlers are known by name: S3 (sgfdw.hooks.s3.S3ExternalObjectHandler), those given to
register_upload_download_handler, and those of the INI file that SGFDW_CONFIG names,
section [external_handlers], lines `name = package.module.Class`, read when the
registry is first used. Names are case-insensitive.
"""
from __future__ import annotations

import configparser
import os
import re
from abc import ABC, abstractmethod
from typing import Any, Mapping

from sgfdw.engine import Engine
from sgfdw.errors import FdwError, OptionError
from sgfdw.hooks.plugins import load_plugin

__all__ = ["ExternalObjectHandler", "register_upload_download_handler",
           "get_external_object_handler", "get_upload_download_handlers",
           "check_object_ids", "OBJECT_ID"]

# What an object id looks like (sgfdw/store/fragments.py makes them).
OBJECT_ID = re.compile(r"o[0-9a-f]{62}\Z")


def check_object_ids(object_ids: Any) -> list[str]:
    ids = list(object_ids or [])
    for object_id in ids:
        if not isinstance(object_id, str) or not OBJECT_ID.match(object_id):
            raise FdwError(f"invalid object id {object_id!r}", sqlstate="22023")
    return ids


class ExternalObjectHandler(ABC):
    """Moves objects between this engine's object directory and an external store."""

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        self.params = dict(params or {})

    @abstractmethod
    def upload_objects(self, objects: list[str], remote_engine: Engine) -> list[tuple[str, str]]:
        """Uploads the objects' files; (object id, URL) of each one uploaded."""

    @abstractmethod
    def download_objects(self, objects: list[tuple[str, str]],
                         remote_engine: Engine) -> list[str]:
        """Downloads (object id, URL) pairs into the object directory, each checked
        against the sha256 of its metadata; the ids downloaded."""


_SEED = {"s3": "sgfdw.hooks.s3.S3ExternalObjectHandler"}
_CONFIG_SECTION = "external_handlers"

# name -> a handler class, or the dotted name of one not imported yet; None until first
# use, when the seed and the configuration file fill it.
_HANDLERS: dict[str, type[ExternalObjectHandler] | str] | None = None


def _registry() -> dict[str, type[ExternalObjectHandler] | str]:
    global _HANDLERS
    if _HANDLERS is None:
        handlers: dict[str, type[ExternalObjectHandler] | str] = dict(_SEED)
        path = os.environ.get("SGFDW_CONFIG")
        if path:
            parser = configparser.ConfigParser()
            if not parser.read(path):
                raise OptionError(f"cannot read the configuration file {path!r} "
                                  "(SGFDW_CONFIG)")
            if parser.has_section(_CONFIG_SECTION):
                handlers.update({name.lower(): target.strip()
                                 for name, target in parser.items(_CONFIG_SECTION)})
        _HANDLERS = handlers
    return _HANDLERS


def register_upload_download_handler(name: str,
                                     handler_class: type[ExternalObjectHandler]) -> None:
    if not name:
        raise OptionError("an external object handler needs a name")
    _registry()[name.lower()] = handler_class


def get_upload_download_handlers() -> list[str]:
    return sorted(_registry())


def get_external_object_handler(name: str,
                                handler_params: Mapping[str, Any] | None = None
                                ) -> ExternalObjectHandler:
    registry = _registry()
    entry = registry.get((name or "").lower())
    if entry is None:
        raise FdwError(f"unknown external object handler {name!r}", sqlstate="42704",
                       hint="Known handlers: " + ", ".join(get_upload_download_handlers()))
    if isinstance(entry, str):
        entry = registry[name.lower()] = load_plugin("external object handler", name, entry,
                                                      ExternalObjectHandler)
    return entry(handler_params or {})
