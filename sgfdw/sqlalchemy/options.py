"""The options of a SqlAlchemyFdw table, read once when the instance is built.

The bridge merges table < server < user mapping options into one dict (Multicorn's
order); this FDW reads them as postgres_fdw does, server < table < user mapping, so
that a table's option overrides its server's (:func:`effective_options`). Names are
those of Multicorn's SqlAlchemyFdw, with a few aliases:

  db_url (or url)        SQLAlchemy URL of the source, e.g. ``postgresql+psycopg2://h/db``
                         or ``sqlite:////path/file.db``; required
  tablename (table_name) the remote table or view (default: the foreign table's own name)
  schema                 its remote schema (default: the connection's default schema)
  rowid_column           the column identifying rows for UPDATE/DELETE (alias
                         primary_key, as Multicorn's SqlAlchemyFdw names it; default:
                         the remote single-column primary key)
  fetch_size             rows per fetch of a streamed scan (default 1000)
  batch_size             rows per INSERT executemany (modify_batch_size, default 100)
  user, password         credentials, normally in the user mapping; merged into the URL
  create_database        'true': a SQLite database file that does not exist is created
                         (default 'false': only an existing file is opened)

Column option ``column_name`` maps a local column to a differently named remote one.
Booleans, unknown options and the row identity's names follow sgfdw.remote.options (as
PostgresFdw): :func:`check_names` refuses an option an object does not take when it is
created or altered (SqlAlchemyFdw.validate_options) and :func:`check_objects` again when
an instance is built.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from sgfdw.errors import OptionError
from sgfdw.options import option_sources, positive_int, relation_name
from sgfdw.remote.options import (CONTEXT_LABELS, ROWID_OPTIONS, first_of, parse_bool,
                                  refuse_credentials, refuse_unknown, rowid_option)

__all__ = ["TableOptions", "parse_options", "effective_options", "check_names",
           "check_objects", "VALID", "URL_OPTIONS", "CREDENTIALS", "url_option",
           "DEFAULT_FETCH_SIZE", "DEFAULT_BATCH_SIZE"]

WRAPPER = "sgfdw.sqlalchemy.SqlAlchemyFdw"

URL_OPTIONS = ("db_url", "url")
CREDENTIALS = ("user", "username", "password")
_SERVER = URL_OPTIONS + ("schema", "schema_name", "fetch_size", "batch_size",
           "create_database")
# The options each kind of object may carry (sgfdw.validation's contexts).
VALID: dict[str, tuple[str, ...]] = {
    "server": _SERVER,
    "user_mapping": _SERVER + CREDENTIALS,
    "table": URL_OPTIONS + ("tablename", "table_name", "schema", "schema_name",
              *ROWID_OPTIONS, "fetch_size", "batch_size"),
    "column": ("column_name",),
}

DEFAULT_FETCH_SIZE = 1000
DEFAULT_BATCH_SIZE = 100


@dataclass(frozen=True)
class TableOptions:
    url: str
    tablename: str | None
    schema: str | None
    rowid_column: str | None
    fetch_size: int
    batch_size: int
    user: str | None
    password: str | None
    create_database: bool


def url_option(options: Mapping[str, str]) -> str:
    """The source URL option (``db_url``, alias ``url``); OptionError when absent."""
    url = first_of(options, "db_url", "url")
    if url is None:
        raise OptionError('option "db_url" is required',
                          hint="Add OPTIONS (db_url 'dialect+driver://...') to the server.")
    return url


def check_names(context: str, options: Mapping[str, str]) -> None:
    """Refuses an option this kind of object does not take, and a bad value of a
    numeric or boolean one, naming the valid ones (postgres_fdw's "invalid option")."""
    if context == "server":
        refuse_credentials(options, CREDENTIALS, wrapper=WRAPPER)
    refuse_unknown(options, VALID.get(context, ()), label=CONTEXT_LABELS[context],
                   wrapper=WRAPPER)
    for name in ("fetch_size", "batch_size"):
        positive_int(options, name, 1)
    parse_bool(options, "create_database", False)
    rowid_option(options)


def check_objects(options: Mapping[str, str]) -> None:
    """The options an instance is built with, each object's against its kind (they may
    have reached the catalogs unchecked, e.g. under another wrapper); a plain dict's,
    whose objects are unknown, against all kinds."""
    sources = option_sources(options)
    if sources is None:
        refuse_unknown(options, {name for context in ("server", "user_mapping", "table")
                                 for name in VALID[context]},
                       label="foreign table, server or user mapping", wrapper=WRAPPER)
        return
    for context, own in sources.items():
        check_names(context, own)


def effective_options(options: Mapping[str, str]) -> Mapping[str, str]:
    """server < table < user mapping, when the bridge says which object set what (else
    the merged dict as given)."""
    sources = option_sources(options)
    if sources is None:
        return options
    merged = {**sources["server"], **sources["table"], **sources["user_mapping"]}
    # postgres_fdw's default for the remote table's name: the foreign table's own.
    own_name = relation_name(options)
    if own_name is not None and first_of(merged, "tablename", "table_name") is None:
        merged["tablename"] = own_name
    return merged


def parse_options(options: Mapping[str, str], *, need_table: bool = True) -> TableOptions:
    tablename = first_of(options, "tablename", "table_name")
    if need_table and tablename is None:
        raise OptionError('option "tablename" is required',
                          hint="Add OPTIONS (tablename 'remote_table') to the foreign table.")
    return TableOptions(
        url=url_option(options),
        tablename=tablename,
        schema=first_of(options, "schema", "schema_name"),
        rowid_column=rowid_option(options),
        fetch_size=positive_int(options, "fetch_size", DEFAULT_FETCH_SIZE),
        batch_size=positive_int(options, "batch_size", DEFAULT_BATCH_SIZE),
        user=first_of(options, "user", "username"),
        password=options.get("password"),
        create_database=parse_bool(options, "create_database", False),
    )
