"""postgres_fdw as the oracle of PostgresFdw: twin remote schemas made by the same SQL
(same rows inserted in the same order, so the same ctids), one read and written through
sgfdw, the other through postgres_fdw.

Local schemas: `s` (sgfdw) over remote `<base>_a`, `p` (postgres_fdw) over its twin
`<base>_b`, and `pa` (postgres_fdw) over `<base>_a` (reads of the same rows).
"""

from __future__ import annotations

import contextlib
import itertools
from typing import Iterator

from psycopg2 import sql

from pgfdw_helpers import SOURCE_DB, execute

_serial = itertools.count(1)


class Twins:
    """Local schemas over twin remote schemas (see the module's docstring)."""

    def __init__(self, db, source, base: str) -> None:
        self.db = db
        self.source = source
        self.a = base + "_a"
        self.b = base + "_b"

    def both(self, query: str, params=None, ordered: bool = False) -> list[tuple]:
        """`query` ({t}name: a table) through sgfdw and through postgres_fdw on the twin:
        the same rows and row count; then both remote tables must hold the same rows at
        the same ctids."""
        table = query_table(query)
        count, got = self.run(query.replace("{t}", "s."), params)
        expected_count, expected = self.run(query.replace("{t}", "p."), params)
        if not ordered and got is not None:
            got, expected = sorted(got, key=repr), sorted(expected, key=repr)
        assert (count, got) == (expected_count, expected), query
        assert self.remote_rows(self.a, table) == self.remote_rows(self.b, table), query
        return got

    def run(self, query: str, params=None) -> tuple[int, list[tuple] | None]:
        """(the statement's row count, its rows) as execute() reads them."""
        execute(self.db, "SELECT 1")   # execute()'s reading of values as text
        with self.db.cursor() as cur:
            cur.execute(query, params)
            return cur.rowcount, cur.fetchall() if cur.description is not None else None

    def remote_rows(self, schema: str, table: str) -> list[tuple]:
        return execute(self.source, sql.SQL("SELECT ctid, * FROM {}.{} ORDER BY ctid").format(
            sql.Identifier(schema), sql.Identifier(table)))

    def same_read(self, query: str, ordered: bool = True) -> list[tuple]:
        """A read through sgfdw and through postgres_fdw over the same remote table."""
        got = execute(self.db, query.replace("{t}", "s."))
        expected = execute(self.db, query.replace("{t}", "pa."))
        if not ordered:
            got, expected = sorted(got, key=repr), sorted(expected, key=repr)
        assert got == expected, query
        return got


def query_table(query: str) -> str:
    """The table a test query names after its first {t}: written as {t}name or
    {t}"quoted name" (without white space)."""
    name = query.split("{t}", 1)[1].split()[0].rstrip(",;)")
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


@contextlib.contextmanager
def twin_schemas(fdb, remote, source, tables_sql: str, prefix: str) -> Iterator[Twins]:
    """Twin remote schemas made by `tables_sql` ({s}: the schema), imported through both
    FDWs; all dropped afterwards."""
    base = f"{prefix}{next(_serial)}"
    for schema in (base + "_a", base + "_b"):
        execute(source, tables_sql.format(s=schema))
    server = {"host": str(remote.socket_dir), "port": str(remote.port), "dbname": SOURCE_DB}
    execute(fdb, "CREATE EXTENSION IF NOT EXISTS postgres_fdw")
    execute(fdb, sql.SQL("CREATE SERVER pgsrv FOREIGN DATA WRAPPER postgres_fdw "
                         "OPTIONS (host %s, port %s, dbname %s)"),
            (server["host"], server["port"], server["dbname"]))
    execute(fdb, "CREATE USER MAPPING FOR CURRENT_USER SERVER pgsrv OPTIONS (user 'postgres')")
    for local, server_name, remote_schema in (("s", "rsrv", base + "_a"),
                                              ("p", "pgsrv", base + "_b"),
                                              ("pa", "pgsrv", base + "_a")):
        execute(fdb, sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(local)))
        execute(fdb, sql.SQL("IMPORT FOREIGN SCHEMA {} FROM SERVER {} INTO {}").format(
            sql.Identifier(remote_schema), sql.Identifier(server_name),
            sql.Identifier(local)))
    try:
        yield Twins(fdb, source, base)
    finally:
        if not fdb.autocommit:
            fdb.rollback()
            fdb.autocommit = True
        execute(fdb, "DROP SCHEMA s, p, pa CASCADE")
        execute(fdb, "DROP SERVER pgsrv CASCADE")
        for schema in (base + "_a", base + "_b"):
            execute(source, f"DROP SCHEMA {schema} CASCADE")
