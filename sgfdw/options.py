"""Parsing of option values shared by sgfdw's FDWs (options arrive as strings)."""
from __future__ import annotations

from typing import Mapping

from sgfdw.errors import OptionError


def positive_int(options: Mapping[str, str], name: str, default: int) -> int:
    """The option as an integer > 0, default when absent; OptionError otherwise."""
    text = options.get(name)
    if text is None:
        return default
    try:
        value = int(str(text).strip())
    except ValueError:
        value = 0
    if value <= 0:
        raise OptionError(f'option "{name}" must be a positive integer, not {text!r}')
    return value
