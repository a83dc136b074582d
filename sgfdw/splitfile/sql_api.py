"""The SQL functions sgfdw.build and sgfdw.provenance (LANGUAGE sgfdw_python)."""
from __future__ import annotations

from typing import Any, Mapping

from sgfdw.splitfile import build as building
from sgfdw.splitfile import provenance as recipes
from sgfdw.splitfile.errors import BadParameter
from sgfdw.store.names import parse_repository

__all__ = ["build", "provenance"]


def build(splitfile: str, output_repository: str, params: Mapping[str, Any] | None) -> str:
    if params is not None and not isinstance(params, Mapping):
        raise BadParameter("params must be a JSON object",
                           hint="""E.g. '{"TAG": "v1"}'.""")
    return building.build(splitfile or "", output_repository, params or {})


def provenance(repository: str, image: str | None) -> str:
    return recipes.provenance(parse_repository(repository), image)
