"""Options checked when they are written, not at the first query.

PostgreSQL gives an FDW's validator function only an option list and a catalog: it
cannot tell which server a user mapping or a foreign table belongs to, so it cannot know
which wrapper class to ask. The extension's event trigger (ddl_command_end of CREATE /
ALTER SERVER, USER MAPPING, FOREIGN TABLE and IMPORT FOREIGN SCHEMA) knows the object
and calls `check_object(catalog, objid)` for each one of an sgfdw server; that asks the
wrapper class's optional classmethod

    validate_options(context, options)

with context one of CONTEXTS and the object's own options (without `wrapper`); it
raises (sgfdw.errors.OptionError: HV00D, with a hint listing the valid options) to
refuse them. A class without it (any Multicorn FDW) is not asked, and its options show
at first use as before. The command runs in the same transaction: an error undoes it.

Options are read from catalogs the user who changed them can read (pg_user_mappings
shows a mapping's options to its user and to the server's owner), so no privilege is
borrowed here.
"""
from __future__ import annotations

from sgfdw import pg
from sgfdw.bridge import load_wrapper

__all__ = ["CONTEXTS", "check_object", "options_dict"]

CONTEXTS = ("server", "user_mapping", "table", "column")


def options_dict(options: list[str] | None) -> dict[str, str]:
    """A catalog options array ('name=value', ...) as a dict."""
    return dict(item.split("=", 1) for item in options or ())


def _server(server_oid: int) -> dict[str, str]:
    rows = pg.execute("SELECT srvoptions FROM pg_catalog.pg_foreign_server WHERE oid = $1",
                      [server_oid])
    return options_dict(rows[0][0]) if rows else {}


def _validate(wrapper: str | None, context: str, options: dict[str, str]) -> None:
    if not wrapper:
        return
    validate = getattr(load_wrapper(wrapper), "validate_options", None)
    if validate is not None:
        validate(context, {name: value for name, value in options.items()
                           if name != "wrapper"})


def _check_server(server_oid: int) -> None:
    options = _server(server_oid)
    _validate(options.get("wrapper"), "server", options)


def _check_user_mapping(mapping_oid: int) -> None:
    rows = pg.execute("SELECT srvid, umoptions FROM pg_catalog.pg_user_mappings "
                      "WHERE umid = $1", [mapping_oid])
    if rows:
        server_oid, options = rows[0]
        _validate(_server(server_oid).get("wrapper"), "user_mapping", options_dict(options))


def _check_foreign_table(relid: int) -> None:
    rows = pg.execute("SELECT ftserver, ftoptions FROM pg_catalog.pg_foreign_table "
                      "WHERE ftrelid = $1", [relid])
    if not rows:
        return
    server_oid, table_options = rows[0][0], options_dict(rows[0][1])
    wrapper = table_options.get("wrapper") or _server(server_oid).get("wrapper")
    _validate(wrapper, "table", table_options)
    for (column_options,) in pg.execute(
            "SELECT attfdwoptions FROM pg_catalog.pg_attribute WHERE attrelid = $1 "
            "AND attnum > 0 AND NOT attisdropped AND attfdwoptions IS NOT NULL "
            "ORDER BY attnum", [relid]):
        _validate(wrapper, "column", options_dict(column_options))


_CHECKS = {
    "pg_foreign_server": _check_server,
    "pg_user_mapping": _check_user_mapping,
    "pg_class": _check_foreign_table,
}


def check_object(catalog: str, objid: int) -> None:
    """The event trigger's entry point: one created or altered object of an sgfdw server,
    named by its catalog ('pg_foreign_server', 'pg_user_mapping', 'pg_class') and OID."""
    check = _CHECKS.get(catalog)
    if check is not None:
        check(int(objid))
