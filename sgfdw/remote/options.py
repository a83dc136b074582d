"""Option rules every wrapper over a remote source applies the same way.

Why shared: a user moving a table from one remote wrapper to another must not find that
``'on'`` is a boolean in one and an error in the other, that a misspelt option is refused
by one and silently ignored by the other, or that the option naming the row identity
has another name. So:

* booleans: ``true``/``on``/``yes``/``1``/``t``/``y`` and ``false``/``off``/``no``/
  ``0``/``f``/``n``, any case (PostgreSQL's own spellings of a boolean);
* an option a kind of object does not take is an error (OptionError, HV00D) naming the
  valid ones -- when the object is written (validate_options) and again when an
  instance is built, for options that reached the catalogs another way;
* the column identifying rows for UPDATE/DELETE is ``rowid_column`` (Multicorn's
  property of that name); ``primary_key`` is accepted as its alias.
"""
from __future__ import annotations

from typing import Collection, Mapping

from sgfdw.errors import OptionError

__all__ = ["parse_bool", "refuse_unknown", "refuse_credentials", "first_of",
           "ROWID_OPTIONS", "rowid_option", "CONTEXT_LABELS"]

#: How messages name each kind of object (sgfdw.validation's contexts).
CONTEXT_LABELS = {"server": "server", "user_mapping": "user mapping",
                  "table": "foreign table", "column": "column"}

_TRUE = frozenset({"true", "on", "yes", "1", "t", "y"})
_FALSE = frozenset({"false", "off", "no", "0", "f", "n"})

#: The names of the row identity option: the name, then its alias.
ROWID_OPTIONS = ("rowid_column", "primary_key")


def parse_bool(options: Mapping[str, str], name: str, default: bool) -> bool:
    """The boolean option ``name``, ``default`` when absent; OptionError otherwise."""
    text = options.get(name)
    if text is None:
        return default
    lowered = str(text).strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise OptionError(f'option "{name}" must be a boolean (true/false), not {text!r}')


def refuse_unknown(options: Collection[str], valid: Collection[str], *, label: str,
                   wrapper: str, valid_text: str | None = None) -> None:
    """OptionError for the first name of ``options`` not in ``valid``: 'invalid option
    "x" for a <label> of <wrapper>', the hint listing the valid ones (``valid_text``
    when given, else ``valid`` sorted)."""
    for name in options:
        if name not in valid:
            listed = valid_text if valid_text is not None else ", ".join(sorted(valid))
            raise OptionError(f'invalid option "{name}" for a {label} of {wrapper}',
                              hint=f"Valid options for a {label}: {listed}.")


def refuse_credentials(options: Collection[str], credentials: Collection[str], *,
                       wrapper: str) -> None:
    """OptionError for a credential among a server's options: every user can read
    them (pg_foreign_server)."""
    for name in options:
        if name in credentials:
            raise OptionError(
                f'invalid option "{name}" for a server of {wrapper}',
                detail="Server options are readable by every user.",
                hint="Put user and password in the user mapping: CREATE USER MAPPING "
                     "FOR ... SERVER ... OPTIONS (user '...', password '...').")


def first_of(options: Mapping[str, str], *names: str) -> str | None:
    """The value of the first of ``names`` (an option and its aliases) that is set;
    an empty value is an error (it would name nothing), and so are two of the names
    set to different values."""
    found: tuple[str, str] | None = None
    for name in names:
        value = options.get(name)
        if value is None:
            continue
        if value == "":
            raise OptionError(f'option "{name}" cannot be empty')
        if found is not None and found[1] != value:
            raise OptionError(f'options "{found[0]}" and "{name}" name the same setting '
                              f"with different values", hint=f'Set only "{names[0]}".')
        found = found or (name, value)
    return found[1] if found is not None else None


def rowid_option(options: Mapping[str, str]) -> str | None:
    """The column the options name as the row identity (``rowid_column``, alias
    ``primary_key``), None when neither is set."""
    return first_of(options, *ROWID_OPTIONS)
