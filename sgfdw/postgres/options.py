"""The options of a PostgresFdw table (and of IMPORT FOREIGN SCHEMA), read once.

The bridge merges table < server < user mapping options into one dict. Two kinds share
it:

* libpq connection parameters -- ``host``, ``port``, ``dbname``, ``user``, ``password``
  and any other libpq keyword (``sslmode``, ``connect_timeout``, ``application_name``,
  ...). Credentials belong in the user mapping.
* FDW options:

  ============================  =====================================================
  ``schema_name``               remote schema (default ``public``)
  ``table_name``                remote table, view, ... (required on a table)
  ``fetch_size``                rows per remote FETCH (server or table; default 10000)
  ``use_remote_estimate``       plan with the remote ``EXPLAIN`` (default false)
  ``updatable``                 allow INSERT/UPDATE/DELETE (default true)
  ``batch_size``                rows per multi-row INSERT (default 100)
  ``rowid_column``              column identifying rows for UPDATE/DELETE (default:
                                the remote single-column primary key)
  ``fdw_startup_cost``          planner cost of one remote query (default 100)
  ============================  =====================================================

An unknown name is an error (a typo would otherwise be silently ignored). Column option
``column_name`` maps a local column to a differently named remote one. IMPORT FOREIGN
SCHEMA takes ``import_default`` (default false) and ``import_not_null`` (default true).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from sgfdw.errors import OptionError
from sgfdw.options import positive_int

__all__ = [
    "ConnectionParams",
    "TableOptions",
    "ImportOptions",
    "parse_connection_params",
    "parse_table_options",
    "parse_import_options",
    "DEFAULT_FETCH_SIZE",
    "DEFAULT_BATCH_SIZE",
]

DEFAULT_FETCH_SIZE = 10000
DEFAULT_BATCH_SIZE = 100
DEFAULT_STARTUP_COST = 100.0

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

TABLE_OPTIONS = frozenset({
    "schema_name", "table_name", "fetch_size", "use_remote_estimate", "updatable",
    "batch_size", "rowid_column", "fdw_startup_cost",
})
IMPORT_OPTIONS = frozenset({"import_default", "import_not_null"})

_TRUE = {"true", "on", "yes", "1", "t", "y"}
_FALSE = {"false", "off", "no", "0", "f", "n"}


@dataclass(frozen=True)
class ConnectionParams:
    """libpq keyword -> value. Compared and hashed by value; never printed with values."""

    values: tuple[tuple[str, str], ...]

    def as_dict(self) -> dict[str, str]:
        return dict(self.values)

    @property
    def password(self) -> str | None:
        return dict(self.values).get("password")

    def __repr__(self) -> str:  # no values: they may hold a password
        return f"ConnectionParams({', '.join(k for k, _ in self.values)})"


@dataclass(frozen=True)
class TableOptions:
    connection: ConnectionParams
    schema_name: str
    table_name: str | None
    fetch_size: int = DEFAULT_FETCH_SIZE
    use_remote_estimate: bool = False
    updatable: bool = True
    batch_size: int = DEFAULT_BATCH_SIZE
    rowid_column: str | None = None
    startup_cost: float = DEFAULT_STARTUP_COST


@dataclass(frozen=True)
class ImportOptions:
    import_default: bool = False
    import_not_null: bool = True


def parse_bool(options: Mapping[str, str], name: str, default: bool) -> bool:
    text = options.get(name)
    if text is None:
        return default
    lowered = str(text).strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise OptionError(f'option "{name}" must be a boolean (true/false), not {text!r}')


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


def _non_empty(options: Mapping[str, str], name: str) -> str | None:
    value = options.get(name)
    if value is None:
        return None
    if value == "":
        raise OptionError(f'option "{name}" cannot be empty')
    return value


def _check_names(options: Mapping[str, str], allowed: frozenset[str]) -> None:
    for name in options:
        if name in FORBIDDEN_LIBPQ:
            raise OptionError(f'option "{name}" cannot be set: the FDW sets it itself')
        if name not in allowed and name not in LIBPQ_KEYWORDS:
            raise OptionError(
                f'invalid option "{name}" for sgfdw.postgres.PostgresFdw',
                hint="Valid options: libpq connection parameters (host, port, dbname, "
                     "user, password, sslmode, ...) and " + ", ".join(sorted(allowed)) + ".")


def parse_connection_params(options: Mapping[str, str]) -> ConnectionParams:
    """The libpq parameters among ``options`` (others are ignored here)."""
    items = sorted((name, str(value)) for name, value in options.items()
                   if name in LIBPQ_KEYWORDS)
    return ConnectionParams(tuple(items))


def parse_table_options(options: Mapping[str, str], *, need_table: bool = True) -> TableOptions:
    """The options of a foreign table (merged with its server's and user mapping's)."""
    _check_names(options, TABLE_OPTIONS)
    table_name = _non_empty(options, "table_name")
    if need_table and table_name is None:
        raise OptionError('option "table_name" is required',
                          hint="Add OPTIONS (table_name 'remote_table') to the foreign "
                               "table, or create it with IMPORT FOREIGN SCHEMA.")
    return TableOptions(
        connection=parse_connection_params(options),
        schema_name=_non_empty(options, "schema_name") or "public",
        table_name=table_name,
        fetch_size=positive_int(options, "fetch_size", DEFAULT_FETCH_SIZE),
        use_remote_estimate=parse_bool(options, "use_remote_estimate", False),
        updatable=parse_bool(options, "updatable", True),
        batch_size=positive_int(options, "batch_size", DEFAULT_BATCH_SIZE),
        rowid_column=_non_empty(options, "rowid_column"),
        startup_cost=_non_negative_float(options, "fdw_startup_cost", DEFAULT_STARTUP_COST),
    )


def parse_import_options(options: Mapping[str, str]) -> ImportOptions:
    """The OPTIONS of an IMPORT FOREIGN SCHEMA statement."""
    for name in options:
        if name not in IMPORT_OPTIONS:
            raise OptionError(f'invalid IMPORT FOREIGN SCHEMA option "{name}"',
                              hint="Valid options: " + ", ".join(sorted(IMPORT_OPTIONS)) + ".")
    return ImportOptions(import_default=parse_bool(options, "import_default", False),
                         import_not_null=parse_bool(options, "import_not_null", True))
