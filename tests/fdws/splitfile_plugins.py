"""Splitfile plugin commands of tests/splitfile (sgfdw.hooks.splitfile_commands), and
the sgfdw_python functions that register them and report their calls.

CALLS counts each method call per command for as long as the backend lives, so a test
sees whether a build ran a plugin's execute() or took the cache.
"""
from __future__ import annotations

import collections
import hashlib

from sgfdw import engine
from sgfdw.hooks.splitfile_commands import (PluginCommand, load_commands_config,
                                            register_command)

CALLS: collections.Counter = collections.Counter()


def _hash(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class CountRows(PluginCommand):
    """COUNT table: a table `counts` (table name, rows) in the image. calc_hash is the
    arguments' hash: the same command on the same image is a cache hit."""

    def calc_hash(self, repository, args):
        CALLS["COUNT.calc_hash"] += 1
        return _hash("count", *args)

    def execute(self, repository, args):
        CALLS["COUNT.execute"] += 1
        run = engine.get_engine().run_sql
        run("CREATE TABLE IF NOT EXISTS counts (name text PRIMARY KEY, n bigint)")
        [(rows,)] = run("SELECT count(*) FROM " + ".".join(
            f'"{part}"' for part in (repository.to_schema(), args[0])))
        run("INSERT INTO counts VALUES (%s, %s) ON CONFLICT (name) DO UPDATE SET n = "
            "EXCLUDED.n", (args[0], rows))
        return None


class Stamp(PluginCommand):
    """STAMP value: a row in table `stamps`. No calc_hash (the base class's None): it
    always runs; execute returns nothing, so every image it makes is new."""

    def execute(self, repository, args):
        CALLS["STAMP.execute"] += 1
        engine.get_engine().run_sql("CREATE TABLE IF NOT EXISTS stamps (v text)")
        engine.get_engine().run_sql("INSERT INTO stamps VALUES (%s)", (args[0],))


class Named(PluginCommand):
    """NAMED value: like STAMP, but execute returns a hash of its argument, which
    becomes the new image's hash."""

    def execute(self, repository, args):
        CALLS["NAMED.execute"] += 1
        engine.get_engine().run_sql("CREATE TABLE IF NOT EXISTS named (v text)")
        engine.get_engine().run_sql("INSERT INTO named VALUES (%s)", (args[0],))
        return _hash("named", args[0])


class Fails(PluginCommand):
    def calc_hash(self, repository, args):
        return None

    def execute(self, repository, args):
        engine.get_engine().run_sql("CREATE TABLE half_built (a int)")
        raise ValueError("the plugin gave up")


class BadHash(PluginCommand):
    def calc_hash(self, repository, args):
        return args[0] if args else "not a hash"

    def execute(self, repository, args):
        return None


class Meddles(PluginCommand):
    """Commits by itself: refused, plugins must not change versioning."""

    def execute(self, repository, args):
        engine.get_engine().run_sql("CREATE TABLE meddled (a int)")
        engine.get_engine().run_sql("SELECT sgfdw.commit(%s)", (repository.to_schema(),))


PLUGINS = {"COUNT": CountRows, "STAMP": Stamp, "NAMED": Named, "FAILS": Fails,
           "BADHASH": BadHash, "MEDDLES": Meddles}


def register() -> str:
    for name, plugin in PLUGINS.items():
        register_command(name, plugin)
    return ",".join(sorted(PLUGINS))


def load_config(path: str) -> str:
    return ",".join(load_commands_config(path))


def calls() -> dict:
    return dict(CALLS)
