"""Remotes: registries (other PostgreSQL servers running sgfdw) an engine pushes to and
pulls from, each a foreign server of the PostgreSQL wrapper -- so the same server can
also mount the registry's tables -- with the credentials in a user mapping, never in
server options (readable by every user).
"""
from __future__ import annotations

from sgfdw import pg
from sgfdw.engine import PostgresEngine
from sgfdw.postgres.options import ConnectionParams
from sgfdw.store.errors import InvalidName, NotFound, StoreError

__all__ = ["add_remote", "remote_engine"]

_WRAPPER = "sgfdw.postgres.PostgresFdw"


def _options(pairs: dict[str, str | None]) -> str:
    return ", ".join(f"{pg.quote_ident(key)} {pg.quote_literal(value)}"
                     for key, value in pairs.items() if value is not None)


def add_remote(name: str, host: str, port: int | None, dbname: str, username: str,
               password: str | None) -> None:
    """A foreign server `name` for the registry and the current user's mapping to it."""
    if not name or len(name.encode()) > 63:
        raise InvalidName(f"invalid remote name {name!r}", hint="1 to 63 bytes.")
    if pg.execute("SELECT 1 FROM pg_catalog.pg_foreign_server WHERE srvname = $1", [name]):
        raise StoreError(f'remote "{name}" already exists', sqlstate="42710",
                         hint="Drop its server (DROP SERVER ... CASCADE) to replace it.")
    server = pg.quote_ident(name)
    pg.execute(f"CREATE SERVER {server} FOREIGN DATA WRAPPER sgfdw OPTIONS ("
               + _options({"wrapper": _WRAPPER, "host": host,
                           "port": None if port is None else str(port),
                           "dbname": dbname}) + ")")
    credentials = _options({"user": username, "password": password})
    pg.execute(f"CREATE USER MAPPING FOR CURRENT_USER SERVER {server}"
               + (f" OPTIONS ({credentials})" if credentials else ""))


def _server_options(name: str) -> dict[str, str]:
    rows = pg.execute(
        "SELECT o.option_name, o.option_value FROM pg_catalog.pg_foreign_server s "
        "CROSS JOIN LATERAL pg_catalog.pg_options_to_table(s.srvoptions) o "
        "WHERE s.srvname = $1", [name])
    if not rows and not pg.execute("SELECT 1 FROM pg_catalog.pg_foreign_server "
                                   "WHERE srvname = $1", [name]):
        known = [row[0] for row in pg.execute(
            "SELECT s.srvname::text FROM pg_catalog.pg_foreign_server s "
            "CROSS JOIN LATERAL pg_catalog.pg_options_to_table(s.srvoptions) o "
            "WHERE o.option_name = 'wrapper' AND o.option_value = $1 ORDER BY 1", [_WRAPPER])]
        raise NotFound(f'remote "{name}" does not exist',
                       hint=("Known remotes: " + ", ".join(known)) if known
                       else "Add one with sgfdw.add_remote().")
    return dict(rows)


def _user_options(name: str) -> dict[str, str]:
    """The current user's mapping to the server (else PUBLIC's)."""
    rows = pg.execute(
        "SELECT o.option_name, o.option_value, m.umuser = 0 "
        "FROM pg_catalog.pg_user_mappings m "
        "CROSS JOIN LATERAL pg_catalog.pg_options_to_table(m.umoptions) o "
        "WHERE m.srvname = $1 AND (m.usename = current_user OR m.umuser = 0)", [name])
    own = {key: value for key, value, public in rows if not public}
    return own or {key: value for key, value, public in rows if public}


def remote_engine(name: str) -> PostgresEngine:
    """An engine connected (on first use) to the remote's database."""
    options = _server_options(name)
    if options.get("wrapper") != _WRAPPER:
        raise StoreError(f'server "{name}" is not a remote', sqlstate="42809",
                         hint="A remote is a server of sgfdw.postgres.PostgresFdw made by "
                              "sgfdw.add_remote().")
    values = {key: value for key, value in options.items()
              if key in ("host", "port", "dbname")}
    values.update(_user_options(name))
    return PostgresEngine(ConnectionParams(tuple(sorted(values.items())), server=name))
