"""The options of a PostgresFdw table (and of IMPORT FOREIGN SCHEMA), read once.

Each option belongs on one kind of object, as with postgres_fdw:

* the server: libpq connection parameters -- ``host``, ``port``, ``dbname`` and any
  other libpq keyword (``sslmode``, ``connect_timeout``, ``application_name``, ...) but
  ``user`` and ``password``: server options are readable by every user
  (pg_foreign_server), so credentials belong in the user mapping;
* the user mapping: libpq parameters, normally ``user`` and ``password`` (what a
  non-superuser's may hold is narrower, see security.py);
* the foreign table and the server: FDW settings, a table's overriding its server's

  ============================  =====================================================
  ``schema_name``               remote schema (table; default ``public``)
  ``table_name``                remote table, view, ... (table; default: the
                                foreign table's own name, as postgres_fdw)
  ``rowid_column``              column identifying rows for UPDATE/DELETE (table;
                                alias ``primary_key``; default: the remote
                                single-column primary key, else the remote ctid)
  ``fetch_size``                rows per remote FETCH (default 10000)
  ``use_remote_estimate``       plan with the remote ``EXPLAIN`` (default false)
  ``updatable``                 allow INSERT/UPDATE/DELETE (default true)
  ``truncatable``               allow TRUNCATE (default true)
  ``batch_size``                rows per multi-row INSERT (default 100)
  ``fdw_startup_cost``          planner cost of one remote query (default 100)
  ``fdw_tuple_cost``            planner cost of one remote row, added to
                                cpu_tuple_cost as postgres_fdw does (default: none,
                                a row costs its width, the bridge's Multicorn rule)
  ``async_capable``             postgres_fdw's asynchronous scans (default false):
                                accepted and checked, no effect (scans are synchronous)
  ``two_phase``                 (server) commit the remote transaction in two phases,
                                see connection.py (default false)
  ``keep_connections``          (server) keep the remote connection between local
                                transactions (default true; false: closed after each)
  ``extensions``                (server) extensions whose immutable functions and
                                operators may run remotely in pushed expressions
                                (comma-separated names; sgfdw/postgres/expressions.py)
  ============================  =====================================================

* a column: ``column_name``, the remote column's name when it differs.

The bridge hands the class Multicorn's merged dict (table < server < user mapping), in
which a server option would override a table's and an option's object is lost; it also
gives each object's own options (sgfdw.options.option_sources), read here. A plain dict
(the class used outside the bridge) is read as before: all options of all objects.
An unknown name, or a name on the wrong object, is an error (a typo would otherwise be
silently ignored). IMPORT FOREIGN SCHEMA takes ``import_default`` (default false) and
``import_not_null`` (default true).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from sgfdw.errors import OptionError
from sgfdw.options import option_sources, positive_int, relation_name, server_name
from sgfdw.remote.options import (CONTEXT_LABELS, ROWID_OPTIONS, first_of, parse_bool,
                                  refuse_credentials, refuse_unknown, rowid_option)

__all__ = [
    "ConnectionParams",
    "TableOptions",
    "ImportOptions",
    "CONTEXTS",
    "check_options",
    "parse_connection_params",
    "parse_table_options",
    "parse_import_options",
    "DEFAULT_FETCH_SIZE",
    "DEFAULT_BATCH_SIZE",
]

WRAPPER = "sgfdw.postgres.PostgresFdw"
DEFAULT_FETCH_SIZE = 10000
DEFAULT_BATCH_SIZE = 100
DEFAULT_STARTUP_COST = 100.0
# Seconds to wait for a remote server to accept a connection when connect_timeout is not
# set: libpq would wait forever for a server that accepts TCP and never answers.
DEFAULT_CONNECT_TIMEOUT = 10

# libpq connection keywords (PostgreSQL 15 libpq, plus newer ones libpq may know).
# client_encoding, fallback_application_name and replication are the FDW's to set.
LIBPQ_KEYWORDS = frozenset({
    "host", "hostaddr", "port", "dbname", "user", "password", "passfile",
    "channel_binding", "connect_timeout", "options", "application_name", "keepalives",
    "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
    "sslmode", "requiressl", "sslcompression", "sslcert", "sslkey", "sslpassword",
    "sslcertmode", "sslrootcert", "sslcrl", "sslcrldir", "sslsni", "requirepeer",
    "ssl_min_protocol_version", "ssl_max_protocol_version", "gssencmode", "krbsrvname",
    "gsslib", "gssdelegation", "service", "target_session_attrs", "load_balance_hosts",
    "require_auth",
})
FORBIDDEN_LIBPQ = frozenset({"client_encoding", "fallback_application_name", "replication"})

# Credentials: a user mapping's only (server options are readable by every user).
CREDENTIALS = frozenset({"user", "password"})
# FDW settings a server gives all its tables; a table's own value overrides them.
SHARED_SETTINGS = frozenset({
    "fetch_size", "use_remote_estimate", "updatable", "batch_size", "fdw_startup_cost",
    "truncatable", "fdw_tuple_cost", "async_capable",
})
TABLE_OPTIONS = SHARED_SETTINGS | {"schema_name", "table_name", *ROWID_OPTIONS}
# Settings of the server's connection, for all its tables.
SERVER_SETTINGS = SHARED_SETTINGS | {"two_phase", "keep_connections", "extensions"}
COLUMN_OPTIONS = frozenset({"column_name"})
IMPORT_OPTIONS = frozenset({"import_default", "import_not_null"})

# What each kind of object may hold (None: any libpq keyword too), and how errors name it.
_CONTEXTS: dict[str, tuple[str, frozenset[str], frozenset[str]]] = {
    # context: (label, FDW options, libpq keywords)
    "server": (CONTEXT_LABELS["server"], SERVER_SETTINGS, LIBPQ_KEYWORDS - CREDENTIALS),
    "user_mapping": (CONTEXT_LABELS["user_mapping"], frozenset(), LIBPQ_KEYWORDS),
    "table": (CONTEXT_LABELS["table"], TABLE_OPTIONS, frozenset()),
    "column": (CONTEXT_LABELS["column"], COLUMN_OPTIONS, frozenset()),
}
CONTEXTS = tuple(_CONTEXTS)
# libpq parameters whose value is a whole number (port: one per host, comma-separated).
_LIBPQ_INTEGERS = frozenset({
    "port", "connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
    "keepalives_count", "tcp_user_timeout",
})


@dataclass(frozen=True)
class ConnectionParams:
    """libpq keyword -> value, and the foreign server they are for (as postgres_fdw,
    one connection per server and user: servers do not share remote transactions).
    Compared and hashed by value; never printed with values."""

    values: tuple[tuple[str, str], ...]
    server: str | None = None
    # Commit with PREPARE TRANSACTION / COMMIT PREPARED (the server's two_phase).
    two_phase: bool = False
    # Keep the connection open after the local transaction (the server's
    # keep_connections, as postgres_fdw's).
    keep_connections: bool = True

    def as_dict(self) -> dict[str, str]:
        return dict(self.values)

    @property
    def password(self) -> str | None:
        return dict(self.values).get("password")

    @property
    def connect_timeout(self) -> float | None:
        """Seconds a connection attempt may take; None: no limit (``0``, as libpq).
        libpq's own minimum of 2 s applies."""
        text = dict(self.values).get("connect_timeout")
        seconds = DEFAULT_CONNECT_TIMEOUT if text is None else int(text)
        return None if seconds <= 0 else max(seconds, 2)

    def describe(self) -> str:
        """'server "name" (host:port)', as far as known, for messages."""
        values = dict(self.values)
        where = ":".join(values[k] for k in ("host", "port") if values.get(k))
        named = f'server "{self.server}"' if self.server else "server"
        return f"{named} ({where})" if where else named

    def __repr__(self) -> str:  # no values: they may hold a password
        return f"ConnectionParams({', '.join(k for k, _ in self.values)})"


@dataclass(frozen=True)
class TableOptions:
    connection: ConnectionParams
    # The options the user mapping gave (all of them for a plain dict, whose origin is
    # unknown): what security.check_user_mapping judges. Never printed (a password).
    user_mapping: Mapping[str, str] = field(repr=False)
    schema_name: str
    table_name: str | None
    fetch_size: int = DEFAULT_FETCH_SIZE
    use_remote_estimate: bool = False
    updatable: bool = True
    truncatable: bool = True
    batch_size: int = DEFAULT_BATCH_SIZE
    rowid_column: str | None = None
    startup_cost: float = DEFAULT_STARTUP_COST
    tuple_cost: float | None = None
    extensions: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportOptions:
    import_default: bool = False
    import_not_null: bool = True


def _non_negative_float(options: Mapping[str, str], name: str, default: float) -> float:
    text = options.get(name)
    if text is None:
        return default
    try:
        value = float(str(text).strip())
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise OptionError(f'option "{name}" must be a non-negative number, not {text!r}')
    return value


def check_options(context: str, options: Mapping[str, str]) -> None:
    """Refuse an option that does not belong on this kind of object (one of CONTEXTS)."""
    label, settings, libpq = _CONTEXTS[context]
    for name in options:
        if name in FORBIDDEN_LIBPQ:
            raise OptionError(f'option "{name}" cannot be set: the FDW sets it itself')
        if name in settings or name in libpq:
            continue
        if context == "server":
            refuse_credentials([name], CREDENTIALS, wrapper=WRAPPER)
        valid = sorted(settings)
        if libpq:
            valid.insert(0, "libpq connection parameters (" +
                         ", ".join(k for k in ("host", "port", "dbname", "user", "password",
                                               "sslmode") if k in libpq) + ", ...)")
        refuse_unknown([name], (), label=label, wrapper=WRAPPER, valid_text=", ".join(valid))
    _settings(options)
    parse_bool(options, "two_phase", False)
    parse_bool(options, "keep_connections", True)
    _check_accepted(options)
    _check_libpq_values(options)


def _check_accepted(options: Mapping[str, str]) -> None:
    """The values of postgres_fdw's options that are accepted without effect yet (see
    the table above): checked as postgres_fdw checks them, so that a configuration
    copied from it is not refused, nor a typo in it kept."""
    parse_bool(options, "async_capable", False)


def _check_libpq_values(options: Mapping[str, str]) -> None:
    for name in _LIBPQ_INTEGERS & set(options):
        text = str(options[name])
        if not all(part.strip().isdigit() for part in text.split(",")):
            raise OptionError(f'option "{name}" must be a whole number, not {text!r}')


def _settings(settings: Mapping[str, str]) -> dict[str, Any]:
    """The FDW settings among ``settings``, read (defaults for the absent ones)."""
    return dict(
        schema_name=first_of(settings, "schema_name") or "public",
        table_name=first_of(settings, "table_name"),
        fetch_size=positive_int(settings, "fetch_size", DEFAULT_FETCH_SIZE),
        use_remote_estimate=parse_bool(settings, "use_remote_estimate", False),
        updatable=parse_bool(settings, "updatable", True),
        truncatable=parse_bool(settings, "truncatable", True),
        batch_size=positive_int(settings, "batch_size", DEFAULT_BATCH_SIZE),
        rowid_column=rowid_option(settings),
        startup_cost=_non_negative_float(settings, "fdw_startup_cost", DEFAULT_STARTUP_COST),
        tuple_cost=(_non_negative_float(settings, "fdw_tuple_cost", 0.0)
                    if "fdw_tuple_cost" in settings else None),
        extensions=_names(settings, "extensions"),
    )


def _names(options: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of names (postgres_fdw's ``extensions``); empty allowed."""
    text = options.get(name)
    if text is None or not text.strip():
        return ()
    names = tuple(part.strip() for part in text.split(","))
    if not all(names):
        raise OptionError(f'option "{name}" must be a comma-separated list of names, '
                          f'not {text!r}')
    return names


def _by_object(options: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str],
                                                    dict[str, str]]:
    """(FDW settings, libpq parameters, the user mapping's options) of ``options``, each
    option checked against the object it came from; a table's setting overrides its
    server's, a user mapping's libpq parameter its server's."""
    sources = option_sources(options)
    if sources is None:       # a plain dict: the options of every object at once
        check_options("table", {name: value for name, value in options.items()
                                if name not in LIBPQ_KEYWORDS and
                                name not in SERVER_SETTINGS - TABLE_OPTIONS})
        _check_libpq_values(options)
        return dict(options), dict(options), dict(options)
    server, mapping, table = (sources.get(kind, {}) for kind in
                              ("server", "user_mapping", "table"))
    check_options("server", server)
    check_options("user_mapping", mapping)
    check_options("table", table)
    return {**server, **table}, {**server, **mapping}, dict(mapping)


def parse_connection_params(options: Mapping[str, str], server: str | None = None, *,
                            two_phase: bool = False,
                            keep_connections: bool = True) -> ConnectionParams:
    """The libpq parameters among ``options`` (others are ignored here) for the
    foreign server named ``server``."""
    items = sorted((name, str(value)) for name, value in options.items()
                   if name in LIBPQ_KEYWORDS)
    return ConnectionParams(tuple(items), server, two_phase, keep_connections)


def parse_table_options(options: Mapping[str, str], *, need_table: bool = True) -> TableOptions:
    """The options of a foreign table (with its server's and user mapping's), or with
    ``need_table=False`` of a server for IMPORT FOREIGN SCHEMA."""
    settings, libpq, mapping = _by_object(options)
    connection = parse_connection_params(
        libpq, server_name(options), two_phase=parse_bool(settings, "two_phase", False),
        keep_connections=parse_bool(settings, "keep_connections", True))
    table = TableOptions(connection=connection, user_mapping=mapping,
                         **_settings(settings))
    if table.table_name is None and relation_name(options) is not None:
        # postgres_fdw's default: the remote table has the foreign table's own name.
        table = replace(table, table_name=relation_name(options))
    if need_table and table.table_name is None:
        raise OptionError('option "table_name" is required',
                          hint="Add OPTIONS (table_name 'remote_table') to the foreign "
                               "table, or create it with IMPORT FOREIGN SCHEMA.")
    return table


def parse_import_options(options: Mapping[str, str]) -> ImportOptions:
    """The OPTIONS of an IMPORT FOREIGN SCHEMA statement."""
    for name in options:
        if name not in IMPORT_OPTIONS:
            raise OptionError(f'invalid IMPORT FOREIGN SCHEMA option "{name}"',
                              hint="Valid options: " + ", ".join(sorted(IMPORT_OPTIONS)) + ".")
    return ImportOptions(import_default=parse_bool(options, "import_default", False),
                         import_not_null=parse_bool(options, "import_not_null", True))
