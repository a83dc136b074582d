"""Who may connect where: postgres_fdw's rules for non-superusers, for any SQLAlchemy URL.

A server's options are written by its owner, who can run Python in the backend anyway
(the wrapper option names a class), while any user with USAGE on the server can write a
user mapping or a foreign table. So, for a non-superuser:

* the connection target (``db_url``) comes from the server only: a user mapping holds
  credentials only (``user``, ``password``) and a foreign table cannot name a URL;
* file-based sources (SQLite, DuckDB) are refused: they open and create files as the
  server's OS user;
* a password must come from the user mapping and the remote must actually ask for it
  -- trust or peer authentication on the server's host would otherwise let anyone in as
  any remote role. Each new connection is checked (:func:`password_was_used`); only
  drivers that can tell (PostgreSQL's psycopg2 and psycopg) are open to non-superusers.

Superusers are not restricted. For everyone, credentials never sit in server options
(readable by every user in pg_foreign_server): no ``password`` option and no password
inside ``db_url`` there.

Checked when an object is created or altered, as far as its own options tell
(:func:`check_object`), and again when the FDW instance is built for a user (its first
query) and by IMPORT FOREIGN SCHEMA, and for the password at each new connection.
"""
from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy.engine import URL, make_url

from sgfdw.errors import InsufficientPrivilege, OptionError
from sgfdw.options import option_sources
from sgfdw.remote.identity import is_superuser
from sgfdw.sqlalchemy.options import CREDENTIALS, URL_OPTIONS

__all__ = ["check_object", "check_server_options", "password_required", "password_was_used",
           "refuse_unused_password", "split_password"]

# Dialects whose URL names a database file rather than a server.
FILE_BASED = ("sqlite", "duckdb")
# (dialect, driver) whose connections tell whether the server asked for the password.
PASSWORD_REPORTING = (("postgresql", "psycopg2"), ("postgresql", "psycopg"))

_MAPPING_HINT = "A user mapping of a non-superuser holds credentials only: user, password."


def split_password(url_text: str) -> tuple[str, str | None]:
    """The URL without its password, and the password (None when it has none), so that
    a mount puts the password in the user mapping."""
    try:
        url = make_url(url_text)
    except Exception:  # not a URL: reported where the URL is used
        return url_text, None
    if not url.password:
        return url_text, None
    # URL.set() ignores None: the URL is made again without the password.
    bare = URL.create(url.drivername, url.username, None, url.host, url.port, url.database,
                      url.query)
    return bare.render_as_string(hide_password=False), str(url.password)


def check_server_options(server: Mapping[str, str]) -> None:
    """Credentials in a server's own options are readable by every user: refuse them."""
    if server.get("password"):
        raise OptionError('option "password" is not allowed on the server',
                          hint="Server options are readable by every user: put the "
                               "password in a user mapping.")
    for name in URL_OPTIONS:
        if split_password(server.get(name) or "")[1] is not None:
            raise OptionError(f'the server option "{name}" must not contain a password',
                              hint="Server options are readable by every user: put the "
                                   "password in a user mapping (OPTIONS (user '...', "
                                   "password '...')).")


def _refuse_target_options(sources: Mapping[str, Mapping[str, str]]) -> None:
    """A non-superuser's user mapping holds credentials only; its tables name no URL."""
    for name in sources.get("user_mapping", {}):
        if name not in CREDENTIALS:
            raise InsufficientPrivilege(f'only a superuser may set option "{name}" in a '
                                        "user mapping", hint=_MAPPING_HINT)
    for name in URL_OPTIONS:
        if name in sources.get("table", {}):
            raise InsufficientPrivilege(f'only a superuser may set option "{name}" on a '
                                        "foreign table",
                                        hint="The source is the server's db_url.")


def check_object(context: str, options: Mapping[str, str]) -> None:
    """The rules above for one object's own options, when it is written (context as
    sgfdw.validation's: server, user_mapping, table, column)."""
    if context == "server":
        check_server_options(options)
    elif context in ("user_mapping", "table") and not is_superuser():
        _refuse_target_options({context: options})


def _dialect_and_driver(url_text: str) -> tuple[str, str]:
    try:
        url = make_url(url_text)
        return url.get_backend_name(), url.get_driver_name()
    except Exception:  # a bad URL or an unknown dialect: reported by create_engine
        return "", ""


def password_required(options: Mapping[str, str], url_text: str) -> bool:
    """Applies the rules above to the options an instance was built with and the URL it
    uses; True when each new connection must show that the password was used."""
    sources = option_sources(options)
    if sources is not None:
        check_server_options(sources["server"])
    if is_superuser():
        return False
    if sources is None:
        raise InsufficientPrivilege("cannot tell which object set the options of this "
                                    "non-superuser's connection",
                                    hint="Non-superusers can only use tables the bridge "
                                         "describes.")
    _refuse_target_options(sources)
    dialect, driver = _dialect_and_driver(url_text)
    if dialect in FILE_BASED:
        raise InsufficientPrivilege(f"only a superuser may use a file-based source "
                                    f"({dialect})",
                                    hint="It reads and writes files as the database "
                                         "server's operating system user.")
    if (dialect, driver) not in PASSWORD_REPORTING:
        raise InsufficientPrivilege(
            f"only a superuser may use a {dialect or 'unknown'}+{driver or 'unknown'} source",
            detail="This driver cannot tell whether the remote server asked for the "
                   "password, which non-superusers must authenticate with.",
            hint="Use a PostgreSQL source through psycopg2, or ask a superuser.")
    if not sources["user_mapping"].get("password"):
        raise InsufficientPrivilege("password is required",
                                    detail="Non-superusers must give a password in their "
                                           "user mapping.",
                                    hint="CREATE USER MAPPING ... OPTIONS (user '...', "
                                         "password '...').")
    return True


def password_was_used(dbapi_connection: Any) -> bool:
    """Whether the remote server asked for the password when this connection was made
    (libpq's PQconnectionUsedPassword); False when the driver cannot tell."""
    info = getattr(dbapi_connection, "info", None)                  # psycopg2
    used = getattr(info, "used_password", None)
    if used is None:
        used = getattr(getattr(dbapi_connection, "pgconn", None), "used_password", None)
    return bool(used)


def refuse_unused_password(dbapi_connection: Any) -> None:
    """For a connection made for a non-superuser: closes it and raises unless the remote
    server asked for the password."""
    if password_was_used(dbapi_connection):
        return
    dbapi_connection.close()
    raise InsufficientPrivilege(
        "password is required",
        detail="The remote server did not ask for the user mapping's password (trust or "
               "peer authentication); non-superusers must authenticate with it.",
        hint="Make the remote server ask this role for a password, or ask a superuser.")
