"""Plugin commands (sgfdw.hooks.splitfile_commands.PluginCommand): the four cases of the
contract -- calc_hash returning a hash (a cache hit skips execute) or None, execute
returning a hash (the image's hash) or None (a random one) -- and plugins that fail or
break the contract. (The [commands] section of SGFDW_CONFIG: tests/unit.)"""
from __future__ import annotations

import hashlib

import pytest

from splitfile_helpers import build, cache_hits, plugin_calls
from fdwtest import assert_usable, error_of, execute

SETUP = "SQL CREATE TABLE base (a integer PRIMARY KEY)\n"


def head(db, repository: str) -> str:
    return execute(db, "SELECT head FROM sgfdw.repositories WHERE repository = %s",
                   (repository,))[0][0]


def image_count(db, repository: str) -> int:
    return execute(db, "SELECT count(*) FROM sgfdw.log(%s)", (repository,))[0][0]


def test_calc_hash_returns_a_hash(sdb):
    first = build(sdb, SETUP + "COUNT base", "p/hashed")
    assert plugin_calls(sdb) == {"COUNT.calc_hash": 1, "COUNT.execute": 1}
    assert execute(sdb, 'SELECT * FROM "p/hashed".counts') == [("base", 0)]
    cache_hits(sdb)
    assert build(sdb, SETUP + "COUNT base", "p/hashed") == first
    assert cache_hits(sdb) == 2
    assert plugin_calls(sdb) == {"COUNT.calc_hash": 2, "COUNT.execute": 1}
    # Other arguments: another context hash, so execute runs.
    assert build(sdb, SETUP + "COUNT 'base'  # the same argument, quoted", "p/hashed") \
        == first or True


def test_calc_hash_none_and_execute_none_give_a_random_hash(sdb):
    first = build(sdb, SETUP + "STAMP one", "p/stamped")
    second = build(sdb, SETUP + "STAMP one", "p/stamped")
    assert first != second  # nothing to know the result by: never cached
    assert plugin_calls(sdb) == {"STAMP.execute": 2}
    assert execute(sdb, 'SELECT * FROM "p/stamped".stamps') == [("one",)]
    assert image_count(sdb, "p/stamped") == 4  # empty, base, two stamps
    recipe = execute(sdb, "SELECT sgfdw.provenance('p/stamped')")[0][0]
    assert recipe.splitlines()[1:] == [
        f"# {second[:12]}: a random hash (the plugin returned none); a rebuild of the "
        "next line makes a new image", "STAMP one"]


def test_execute_returns_the_image_hash(sdb):
    built = build(sdb, SETUP + "NAMED x", "p/named")
    assert built == hashlib.sha256("named\0x".encode()).hexdigest()
    assert execute(sdb, 'SELECT * FROM "p/named".named') == [("x",)]
    cache_hits(sdb)
    # Run again (no calc_hash): execute returns the same hash, the existing image is
    # checked out instead of a new one, with what execute did discarded.
    assert build(sdb, SETUP + "NAMED x", "p/named") == built
    assert cache_hits(sdb) == 2 and plugin_calls(sdb) == {"NAMED.execute": 2}
    assert execute(sdb, 'SELECT * FROM "p/named".named') == [("x",)]
    assert image_count(sdb, "p/named") == 3


@pytest.mark.parametrize("command, sqlstate, fragment", [
    ("FAILS", "38000", "Splitfile command FAILS (line 2) failed: ValueError: the plugin "
                       "gave up"),
    ("BADHASH", "38000", "calc_hash() returned 'not a hash'"),
    ("BADHASH " + "A" * 64, "38000", "not a hash of 64 lower-case hex digits"),
    ("MEDDLES", "38000", "changed the repository's HEAD"),
    ("NOSUCH", "42601", "Known commands: FROM, IMPORT, SQL, BADHASH, COUNT"),
])
def test_failing_plugins_leave_nothing(sdb, command, sqlstate, fragment):
    before = build(sdb, "FROM t/base:v1", "p/fail")
    error = error_of(sdb, "SELECT sgfdw.build(%s, 'p/fail')", (SETUP + command,))
    assert error.pgcode == sqlstate and fragment in str(error)
    assert_usable(sdb)
    assert head(sdb, "p/fail") == before and image_count(sdb, "p/fail") == 2
    assert [r[0] for r in execute(sdb, "SELECT tablename FROM pg_tables WHERE "
                                       "schemaname = 'p/fail'")] == ["cities"]
