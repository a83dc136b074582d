"""Building an image of a repository from a Splitfile, one image per step.

The build starts from the output repository's empty image (or the image a FROM
names). Each step's new image hash is derived from the current image and the step
(sgfdw.splitfile.hashes); when the output repository already has that image, the step
is a cache hit (a NOTICE) and nothing runs. Otherwise the step runs and its result
becomes that image, with its provenance: the command as Splitfile text with every
image reference written as its hash (and a mount's secrets as ${PARAMETERS}), so the
concatenated provenance of an image's steps rebuilds it with the same hashes.

The schema is only checked out when a step needs the tables (SQL, a plugin) and at the
end: imports only write metadata, and a run of cache hits checks out one image.
Everything runs in the caller's transaction: a failed step fails the build and leaves
neither images nor a half-built schema.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any, Callable, Mapping

from multicorn.utils import INFO, log_to_postgres
from sgfdw import pg
from sgfdw.errors import sqlstate_of
from sgfdw.hooks import mount_handlers
from sgfdw.hooks.splitfile_commands import BuildRepository, get_command, get_command_names
from sgfdw.splitfile import hashes, sqltext
from sgfdw.splitfile.commands import (Command, FromImage, ImageRef, ImportImage, ImportItem,
                                      ImportMount, Plugin, Sql)
from sgfdw.splitfile.errors import PluginError
from sgfdw.splitfile.parser import parse
from sgfdw.splitfile.running import (attached_image, reading_images, run_in_image,
                                     search_path, setting, writing_only)
from sgfdw.store import checkout as working_copy
from sgfdw.store import commit as committing
from sgfdw.store import images, meta, relations
from sgfdw.store.errors import NotFound, UncommittedChanges
from sgfdw.store.names import Repository, parse_repository
from sgfdw.store.snapshot import store_table
from sgfdw.store.status import layered_tables, uncommitted

__all__ = ["build", "SECRET_KEY"]

# Mount options holding credentials: kept out of provenance as ${PARAMETERS}.
SECRET_KEY = re.compile(r"password|secret|token|passwd|credential", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(://[^/:@\s]*:)([^@/\s]*)(@)")
_QUERY_RESULT = "sgfdw splitfile query"
_KEYWORDS = {FromImage: "FROM", ImportImage: "IMPORT", ImportMount: "FROM MOUNT", Sql: "SQL"}


def _redacted(options: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Mount options with each secret (nested ones too) replaced by a parameter named
    after its key."""
    redacted: dict[str, Any] = {}
    for key, value in options.items():
        parameter = prefix + re.sub(r"\W", "_", key).upper()
        if SECRET_KEY.search(key) and value is not None:
            redacted[key] = "${" + parameter + "}"
        elif isinstance(value, Mapping):
            redacted[key] = _redacted(value, parameter + "_")
        elif isinstance(value, str):
            placeholder = "${" + parameter + "_PASSWORD}"
            redacted[key] = _URL_PASSWORD.sub(
                lambda m: m.group(1) + placeholder + m.group(3), value)
        else:
            redacted[key] = value
    return redacted


def _snapshot(relation: str, name: str, keep_key: bool) -> meta.TableVersion:
    """The relation's rows stored as a table version called name."""
    schema = relations.table_schema(relations.relation_oid(relation), keep_key)
    return meta.TableVersion(name, schema, tuple(store_table(relation, schema)))


def _query_result(query: str, name: str, schema: str) -> meta.TableVersion:
    """A query's rows (unqualified names resolved in schema) as a table version. The
    query may write nothing but its result (a temporary table)."""
    relation = f"pg_temp.{pg.quote_ident(_QUERY_RESULT)}"
    with search_path(schema, "pg_temp"):
        pg.execute(f"CREATE TEMP TABLE {pg.quote_ident(_QUERY_RESULT)} AS {query}\n"
                   "WITH NO DATA")
        temporary = pg.execute("SELECT nspname::text FROM pg_catalog.pg_namespace "
                               "WHERE oid = pg_catalog.pg_my_temp_schema()")[0][0]
        try:
            with writing_only(temporary):
                pg.execute(f"INSERT INTO {relation} {query}")
            return _snapshot(relation, name, False)
        finally:
            pg.execute(f"DROP TABLE {relation}")


def _scratch_schema(purpose: str) -> str:
    """A schema name no other backend's build uses at the same time."""
    return f"sgfdw {purpose} {pg.execute('SELECT pg_catalog.pg_backend_pid()')[0][0]}"


class _Build:
    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.current = meta.ZERO_HASH
        self.checked_out: str | None = None  # the image the schema holds; None: neither
        self.started = False  # repo locked, created if new, checked for changes
        self.step = 0

    # ------------------------------------------------------------ state

    def start(self) -> None:
        self.started = True
        meta.lock_repository(self.repo)
        if not meta.images(self.repo):
            self.checked_out = images.init(self.repo)
            return
        changes = uncommitted(self.repo)
        if changes:
            raise UncommittedChanges(
                f"repository {self.repo} has uncommitted changes",
                detail="; ".join(changes),
                hint="Commit them, or check out an image with force => true, before "
                     "building into it.")
        # A layered checkout (foreign tables reading HEAD) is no working copy to change.
        self.checked_out = None if layered_tables(self.repo) else meta.head(self.repo)

    def _cached(self, command: Command, image_hash: str) -> bool:
        """Moves to the image if the repository has it (a cache hit)."""
        if not any(i.image_hash == image_hash for i in meta.images(self.repo)):
            return False
        log_to_postgres(f"Splitfile step {self.step} (line {command.line}): cache hit, "
                        f"image {image_hash[:12]} already exists", INFO)
        self.current = image_hash
        return True

    def _check_out_current(self) -> None:
        if self.checked_out != self.current:
            with setting("client_min_messages", "warning"):  # its DROP ... CASCADE
                working_copy.checkout(self.repo, self.current, force=True)
            self.checked_out = self.current

    def _provenance(self, command: Command, rendered: Command,
                    sources: list[dict[str, Any]]) -> dict[str, Any]:
        return {"command": _KEYWORDS.get(type(command)) or getattr(command, "name"),
                "line": command.line, "splitfile": str(rendered), "sources": sources}

    def _add(self, image_hash: str, versions: list[meta.TableVersion],
             provenance: dict[str, Any], parent: str | None = None) -> None:
        images.add_image(self.repo, parent or self.current, None, provenance, versions,
                         image_hash)
        self.current = image_hash

    def _commit(self, image_hash: str, provenance: dict[str, Any]) -> None:
        committing.commit(self.repo, None, False, image_hash, provenance)
        self.current = self.checked_out = image_hash

    def _resolve(self, image: ImageRef) -> tuple[Repository, str]:
        source = parse_repository(image.repository)
        return source, images.resolve(source, image.reference)

    @staticmethod
    def _source(repo: Repository, reference: str | None, image_hash: str) -> dict[str, Any]:
        return {"repository": str(repo), "reference": reference, "image_hash": image_hash}

    def _current_versions(self) -> dict[str, meta.TableVersion]:
        return {v.table_name: v for v in meta.table_versions(self.repo, self.current)}

    # ------------------------------------------------------------ commands

    def _switch(self, repo: Repository) -> None:
        """Leaves the stage built so far checked out at its last image; the next steps
        build into repo, from its empty image. Its images stay: a cache."""
        if self.started:
            self._check_out_current()
        self.repo, self.current = repo, meta.ZERO_HASH
        self.start()

    def from_image(self, command: FromImage) -> None:
        if command.output is not None:
            self._switch(parse_repository(command.output))
        if command.image is None:
            self.current = meta.ZERO_HASH
            return
        source, image_hash = self._resolve(command.image)
        if source == self.repo:
            self.current = image_hash
            return
        if self._cached(command, image_hash):
            return
        rendered = FromImage(command.line, ImageRef(str(source), image_hash))
        self._add(image_hash, meta.table_versions(source, image_hash),
                  self._provenance(command, rendered, [
                      self._source(source, command.image.reference, image_hash)]),
                  parent=meta.ZERO_HASH)

    def import_image(self, command: ImportImage) -> None:
        source, source_hash = self._resolve(command.image)
        stored = {v.table_name: v for v in meta.table_versions(source, source_hash)}
        items = command.items or tuple(ImportItem(name, name) for name in sorted(stored))
        target = hashes.combine(self.current, hashes.import_context(source_hash, items))
        if self._cached(command, target):
            return
        versions = self._current_versions()
        for item in items:
            if item.table is None:
                continue
            if item.table not in stored:
                raise NotFound(f"table {item.table} not found in image "
                               f"{source}:{source_hash[:12]}",
                               hint="Its tables: " + (", ".join(sorted(stored)) or "none"))
            versions[item.alias] = dataclasses.replace(stored[item.table],
                                                       table_name=item.alias)
        queries = [item for item in items if item.query is not None]
        if queries:
            with attached_image(_scratch_schema("import"), str(source), source_hash) as schema:
                for item in queries:
                    versions[item.alias] = _query_result(item.query or "", item.alias, schema)
        rendered = ImportImage(command.line, ImageRef(str(source), source_hash), items)
        self._add(target, list(versions.values()), self._provenance(
            command, rendered, [self._source(source, command.image.reference, source_hash)]))

    def import_mount(self, command: ImportMount) -> None:
        mount_handlers.get_mount_handler(command.handler)  # unknown: an error before work
        mountpoint = _scratch_schema("mount")
        tables = [item.table for item in command.items if item.table is not None]
        everything = not command.items or any(item.query is not None
                                              for item in command.items)
        mounted = mount_handlers.mount(mountpoint, command.handler, command.options,
                                       overwrite=False, tables=None if everything else tables)
        items = command.items or tuple(ImportItem(name, name) for name in mounted)
        try:
            imported = []
            for item in items:
                if item.table is not None:
                    relation = f"{pg.quote_ident(mountpoint)}.{pg.quote_ident(item.table)}"
                    imported.append(_snapshot(relation, item.alias, True))
                else:
                    imported.append(_query_result(item.query or "", item.alias, mountpoint))
        finally:
            mount_handlers.unmount(mountpoint)
        target = hashes.combine(self.current, hashes.content_context(imported))
        if self._cached(command, target):
            return
        versions = self._current_versions()
        versions.update({v.table_name: v for v in imported})
        rendered = ImportMount(command.line, command.handler, _redacted(command.options),
                               items)
        self._add(target, list(versions.values()), self._provenance(
            command, rendered, [{"mount_handler": command.handler,
                                 "tables": [v.table_name for v in imported]}]))

    def sql(self, command: Sql) -> None:
        read = {}
        for repository, reference in sqltext.image_references(command.text):
            read[(repository, reference)] = images.resolve(parse_repository(repository),
                                                           reference)
        target = hashes.combine(self.current, hashes.sql_context(
            sqltext.normalise(command.text, read)))
        if self._cached(command, target):
            return
        self._check_out_current()
        with reading_images(read):
            run_in_image(self.repo.schema, command.text)
        rendered = Sql(command.line, sqltext.replace_image_references(command.text, read))
        self._commit(target, self._provenance(command, rendered, [
            self._source(parse_repository(r), ref, h) for (r, ref), h in read.items()]))

    @staticmethod
    def _guarded(command: Plugin, method: Callable[..., Any], *args: Any) -> Any:
        """What a plugin's code returns; its errors named after the plugin."""
        try:
            return method(*args)
        except Exception as exc:
            raise PluginError(f"Splitfile command {command.name} (line {command.line}) "
                              f"failed: {type(exc).__name__}: {exc}",
                              sqlstate=sqlstate_of(exc) or PluginError.sqlstate,
                              hint=getattr(exc, "hint", None)) from None

    def _call(self, command: Plugin, method: Callable[..., Any], *args: Any) -> str | None:
        """A plugin method's hash, checked."""
        result = self._guarded(command, method, *args)
        where = f"Splitfile command {command.name} (line {command.line})"
        if result is not None and not hashes.is_hash(result):
            raise PluginError(f"{where}: {method.__name__}() returned {result!r:.80}, not "
                              "a hash of 64 lower-case hex digits or None")
        return result

    def plugin(self, command: Plugin) -> None:
        plugin_class = get_command(command.name)
        self._check_out_current()
        repository = BuildRepository(self.repo.namespace, self.repo.repository, self.current)
        args = list(command.args)
        instance = self._guarded(command, plugin_class)
        with search_path(self.repo.schema):
            context = self._call(command, instance.calc_hash, repository, args)
        target = hashes.combine(self.current, context) if context else None
        if target and self._cached(command, target):
            return
        with search_path(self.repo.schema):
            returned = self._call(command, instance.execute, repository, args)
        if meta.head(self.repo) != self.current:
            raise PluginError(f"Splitfile command {command.name} (line {command.line}) "
                              "changed the repository's HEAD; plugins must not check out "
                              "or commit")
        target = returned or target or images.new_image_hash()
        if self._cached(command, target):
            self.checked_out = None  # the schema holds what execute() did: replaced
            return
        provenance = self._provenance(command, command, [])
        provenance["random_hash"] = not (returned or context)
        self._commit(target, provenance)

    def run(self, command: Command) -> None:
        self.step += 1
        if isinstance(command, FromImage):
            self.from_image(command)
        elif isinstance(command, ImportImage):
            self.import_image(command)
        elif isinstance(command, ImportMount):
            self.import_mount(command)
        elif isinstance(command, Sql):
            self.sql(command)
        else:
            self.plugin(command)

    def finish(self) -> str:
        self._check_out_current()
        return self.current


def build(splitfile: str, output: str, params: Mapping[str, Any] | None = None) -> str:
    """Builds the Splitfile into the output repository (or, after FROM ... AS, into
    that stage's repository); the final image's hash, which is checked out."""
    repo = parse_repository(output)
    commands = parse(splitfile, params, get_command_names())
    builder = _Build(repo)
    if not (commands and isinstance(commands[0], FromImage) and commands[0].output):
        builder.start()  # else the output is only where the first stage starts from
    for command in commands:
        builder.run(command)
    return builder.finish()
