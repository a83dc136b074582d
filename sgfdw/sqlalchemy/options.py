"""The options of a SqlAlchemyFdw table, read once when the instance is built.

The bridge merges table < server < user mapping options into one dict (Multicorn's
order); this FDW reads them as postgres_fdw does, server < table < user mapping, so
that a table's option overrides its server's (:func:`effective_options`). Names are
those of Multicorn's SqlAlchemyFdw, with a few aliases:

  db_url (or url)        SQLAlchemy URL of the source, e.g. ``postgresql+psycopg2://h/db``
                         or ``sqlite:////path/file.db``; required
  tablename (table_name) the remote table or view; required for a table
  schema                 its remote schema (default: the connection's default schema)
  primary_key            the column identifying rows for UPDATE/DELETE (default: the
                         remote single-column primary key)
  fetch_size             rows per fetch of a streamed scan (default 1000)
  batch_size             rows per INSERT executemany (modify_batch_size, default 100)
  user, password         credentials, normally in the user mapping; merged into the URL
  create_database        'true': a SQLite database file that does not exist is created
                         (default 'false': only an existing file is opened)

Column option ``column_name`` maps a local column to a differently named remote one.
:func:`check_names` checks which object may carry which option when it is created or
altered (SqlAlchemyFdw.validate_options).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from sgfdw.errors import OptionError
from sgfdw.options import option_sources, positive_int

__all__ = ["TableOptions", "parse_options", "effective_options", "check_names", "VALID",
           "URL_OPTIONS", "CREDENTIALS", "url_option", "flag", "DEFAULT_FETCH_SIZE",
           "DEFAULT_BATCH_SIZE"]

URL_OPTIONS = ("db_url", "url")
CREDENTIALS = ("user", "username", "password")
_SERVER = URL_OPTIONS + ("schema", "schema_name", "fetch_size", "batch_size",
           "create_database")
# The options each kind of object may carry (sgfdw.validation's contexts).
VALID: dict[str, tuple[str, ...]] = {
    "server": _SERVER,
    "user_mapping": _SERVER + CREDENTIALS,
    "table": URL_OPTIONS + ("tablename", "table_name", "schema", "schema_name",
              "primary_key", "fetch_size", "batch_size"),
    "column": ("column_name",),
}

DEFAULT_FETCH_SIZE = 1000
DEFAULT_BATCH_SIZE = 100


@dataclass(frozen=True)
class TableOptions:
    url: str
    tablename: str | None
    schema: str | None
    primary_key: str | None
    fetch_size: int
    batch_size: int
    user: str | None
    password: str | None
    create_database: bool


def _first(options: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = options.get(name)
        if value is not None and value != "":
            return value
    return None


def flag(options: Mapping[str, str], name: str, default: bool) -> bool:
    """A boolean option ('true'/'false', 'on'/'off', 'yes'/'no', '1'/'0')."""
    text = options.get(name)
    if text is None:
        return default
    value = str(text).strip().lower()
    if value in ("true", "on", "yes", "1"):
        return True
    if value in ("false", "off", "no", "0"):
        return False
    raise OptionError(f'option "{name}" must be a boolean, not {text!r}')


def url_option(options: Mapping[str, str]) -> str:
    """The source URL option (``db_url``, alias ``url``); OptionError when absent."""
    url = _first(options, "db_url", "url")
    if url is None:
        raise OptionError('option "db_url" is required',
                          hint="Add OPTIONS (db_url 'dialect+driver://...') to the server.")
    return url


def check_names(context: str, options: Mapping[str, str]) -> None:
    """Refuses an option this kind of object does not take, and a bad value of a
    numeric or boolean one, naming the valid ones (postgres_fdw's "invalid option")."""
    valid = VALID.get(context, ())
    for name in options:
        if name not in valid:
            raise OptionError(f'invalid option "{name}"',
                              hint=f"Valid options in this context: {', '.join(valid)}.")
    for name in ("fetch_size", "batch_size"):
        positive_int(options, name, 1)
    flag(options, "create_database", False)


def effective_options(options: Mapping[str, str]) -> Mapping[str, str]:
    """server < table < user mapping, when the bridge says which object set what (else
    the merged dict as given)."""
    sources = option_sources(options)
    if sources is None:
        return options
    return {**sources["server"], **sources["table"], **sources["user_mapping"]}


def parse_options(options: Mapping[str, str], *, need_table: bool = True) -> TableOptions:
    tablename = _first(options, "tablename", "table_name")
    if need_table and tablename is None:
        raise OptionError('option "tablename" is required',
                          hint="Add OPTIONS (tablename 'remote_table') to the foreign table.")
    return TableOptions(
        url=url_option(options),
        tablename=tablename,
        schema=_first(options, "schema", "schema_name"),
        primary_key=_first(options, "primary_key"),
        fetch_size=positive_int(options, "fetch_size", DEFAULT_FETCH_SIZE),
        batch_size=positive_int(options, "batch_size", DEFAULT_BATCH_SIZE),
        user=_first(options, "user", "username"),
        password=options.get("password"),
        create_database=flag(options, "create_database", False),
    )
