"""Running SQL of a build: against the image being built (its schema first on the
search_path), reading other images through layered foreign tables, and refused when
it writes outside the image's schema.

The refusal has two parts. DDL is checked as it happens by the event trigger
sgfdw.splitfile_guard(), active while the setting sgfdw_build.image_schema names the
schema (the objects a command creates, alters or drops must be in it). Rows written
to tables elsewhere are found afterwards in pg_stat_xact_all_tables (this transaction's
inserted, updated and deleted rows per table) and a TRUNCATE by its exclusive lock,
and the step fails: the build's transaction rolls back with them. Not seen: sequences
advanced, files or large objects written by functions -- this catches mistakes, it is
no sandbox (building is superuser-only).
"""
from __future__ import annotations

import contextlib
from typing import Iterator, Mapping

from sgfdw import pg
from sgfdw.splitfile import sqltext
from sgfdw.splitfile.errors import SplitfileError, WriteOutsideImage
from sgfdw.store import meta
from sgfdw.store.names import parse_repository

__all__ = ["setting", "search_path", "attached_image", "reading_images", "writing_only",
           "run_in_image", "GUARD_SETTING"]

GUARD_SETTING = "sgfdw_build.image_schema"
# Tables written by what an SQL step may do: catalogs (DDL, checked by the event
# trigger instead) and the change tracking of the image's own tables.
_WRITES = ("SELECT s.relid::int8, format('%I.%I', s.schemaname, s.relname), "
           "s.n_tup_ins + s.n_tup_upd + s.n_tup_del FROM pg_catalog.pg_stat_xact_all_tables s "
           "WHERE s.schemaname NOT IN ('pg_catalog', 'pg_toast', 'information_schema', $1) "
           "AND (s.schemaname, s.relname) <> ('splitgraph_meta', 'pending_changes')")


@contextlib.contextmanager
def setting(name: str, value: str) -> Iterator[None]:
    """The setting has this value while the block runs."""
    previous = pg.execute("SELECT pg_catalog.current_setting($1)", [name])[0][0]
    pg.execute("SELECT pg_catalog.set_config($1, $2, true)", [name, value])
    try:
        yield
    finally:
        pg.execute("SELECT pg_catalog.set_config($1, $2, true)", [name, previous])


def search_path(*schemas: str) -> contextlib.AbstractContextManager[None]:
    """The search_path is these schemas while the block runs."""
    return setting("search_path", ", ".join(pg.quote_ident(schema) for schema in schemas))


def _schema_exists(schema: str) -> bool:
    return bool(pg.execute("SELECT FROM pg_catalog.pg_namespace WHERE nspname = $1",
                           [schema]))


@contextlib.contextmanager
def attached_image(schema: str, repository: str, image_hash: str) -> Iterator[str]:
    """A schema of this name holding the image's tables as layered foreign tables
    (read in place, nothing checked out) while the block runs."""
    if _schema_exists(schema):
        raise SplitfileError(f'schema "{schema}" already exists', sqlstate="42P06",
                             hint=f"A build reads image {repository}:{image_hash[:12]} "
                                  "through a schema of that name: rename yours.")
    quoted = pg.quote_ident(schema)
    pg.execute(f"CREATE SCHEMA {quoted}")
    tables = []
    try:
        for version in meta.table_versions(parse_repository(repository), image_hash):
            table = f"{quoted}.{pg.quote_ident(version.table_name)}"
            columns = ", ".join(f"{pg.quote_ident(c.name)} {c.type}"
                                for c in version.schema.columns)
            pg.execute(f"CREATE FOREIGN TABLE {table} ({columns}) SERVER sgfdw_objects "
                       f"OPTIONS (repository {pg.quote_literal(repository)}, table "
                       f"{pg.quote_literal(version.table_name)}, image "
                       f"{pg.quote_literal(image_hash)})")
            tables.append(table)
        yield schema
    finally:  # each by name: a CASCADE would say so in a NOTICE
        if tables:
            pg.execute(f"DROP FOREIGN TABLE {', '.join(tables)}")
        pg.execute(f"DROP SCHEMA {quoted}")


@contextlib.contextmanager
def reading_images(images: Mapping[tuple[str, str], str]) -> Iterator[None]:
    """The schemas "namespace/repository:reference" an SQL step names, each holding
    the image the reference resolved to ((repository, reference) -> hash)."""
    with contextlib.ExitStack() as stack:
        for (repository, reference), image_hash in images.items():
            stack.enter_context(attached_image(f"{repository}:{reference}", repository,
                                               image_hash))
        yield


# Tables locked exclusively: TRUNCATE counts no rows and is no event trigger command.
_LOCKED = ("SELECT c.oid::int8, format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_locks l "
           "JOIN pg_catalog.pg_class c ON c.oid = l.relation "
           "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
           "WHERE l.pid = pg_catalog.pg_backend_pid() AND l.locktype = 'relation' "
           "AND l.mode = 'AccessExclusiveLock' "
           "AND n.nspname NOT IN ('pg_catalog', 'pg_toast', $1)")


def _writes(schema: str) -> dict[int, tuple[str, int]]:
    """Tables outside schema: rows written to each in this transaction (-1 for those
    locked exclusively, as TRUNCATE does)."""
    written = {oid: (name, count) for oid, name, count in pg.execute(_WRITES, [schema])}
    written.update({oid: (name, -1) for oid, name in pg.execute(_LOCKED, [schema])})
    return written


@contextlib.contextmanager
def writing_only(schema: str) -> Iterator[None]:
    """Refuses (42501) what the block changes outside schema: DDL as it happens, rows
    written to other tables when it ends."""
    before = _writes(schema)
    pg.execute("SELECT pg_catalog.set_config($1, $2, true)", [GUARD_SETTING, schema])
    try:
        yield
        guarded = pg.execute("SELECT pg_catalog.current_setting($1, true)",
                             [GUARD_SETTING])[0][0]
    finally:
        pg.execute("SELECT pg_catalog.set_config($1, '', true)", [GUARD_SETTING])
    if guarded != schema:
        raise WriteOutsideImage(f"an SQL step changed the setting {GUARD_SETTING}")
    written = sorted(name for oid, (name, count) in _writes(schema).items()
                     if oid not in before or count != before[oid][1])
    if written:
        raise WriteOutsideImage(
            f'an SQL step may only change tables of its image (schema "{schema}"); it '
            f"wrote to {', '.join(written)}",
            hint="Read other tables, and write results into tables of the image.")


def run_in_image(schema: str, text: str) -> None:
    """Runs the statements with schema first on the search_path, writing only there."""
    with search_path(schema), writing_only(schema):
        for statement in sqltext.statements(text):
            pg.execute(statement)
