"""Bad input to sgfdw.build / sgfdw.provenance: a clear ERROR with a fitting SQLSTATE,
a usable session, and nothing half-built (the output's HEAD, images and tables as they
were); SQL steps that write outside the image's schema refused; ${} injection attempts
staying values."""
from __future__ import annotations

import json

import pytest

from splitfile_helpers import build
from fdwtest import assert_usable, error_of, execute

BAD = [  # splitfile, params, SQLSTATE, a fragment of the message (or hint)
    ("FROM EMPTY\nSQL CREATE TABLE x (a int)\nFROOM t/base", {}, "42601",
     "Splitfile line 3: unknown command FROOM"),
    ("SQL { SELECT 1", {}, "42601", "line 1: unterminated { block"),
    ("IMPORT t/base:v1 cities AS", {}, "42601", "expected a name after AS"),
    ("SQL SELECT ${NOPE}", {"OTHER": "x"}, "42P02", "parameter NOPE is not given"),
    ("FROM ${R}", {"R": "t/base:v1 IMPORT cities"}, "42601", "invalid image reference"),
    ("FROM t/nosuch", {}, "42704", "repository t/nosuch does not exist"),
    ("FROM t/base:nosuchtag", {}, "42704", "image 'nosuchtag' not found"),
    ("IMPORT t/base:v1 nosuch", {}, "42704", "table nosuch not found in image t/base"),
    ("SQL CREATE TABLE public.outside (a int)", {}, "42501",
     "may only change objects in its image's schema"),
    ("SQL CREATE SCHEMA elsewhere", {}, "42501", "may only change objects"),
    ("SQL INSERT INTO public.victim VALUES (2)", {}, "42501", "it wrote to public.victim"),
    ("SQL { CREATE TABLE t AS SELECT 1 AS a; DELETE FROM public.victim }", {}, "42501",
     "public.victim"),
    ("SQL DROP TABLE public.victim", {}, "42501", "may only change objects"),
    ("SQL TRUNCATE public.victim", {}, "42501", "it wrote to public.victim"),
    ("SQL SELECT sgfdw.tag('t/base', 'HEAD', 'sneaky')", {}, "42501",
     "splitgraph_meta.tags"),
    ("SQL SELECT set_config('sgfdw_build.image_schema', '', true)", {}, "42501",
     "changed the setting"),
    ("SQL SELECT 1/0", {}, "22012", "division by zero"),
    ("IMPORT t/base:v1 {SELECT * FROM cities WHERE sgfdw.tag('t/base', 'HEAD', 'x') "
     "IS NULL} AS c", {}, "42501", "splitgraph_meta.tags"),
    ("IMPORT t/base:v1 {WITH d AS (DELETE FROM public.victim RETURNING a) SELECT * FROM d} "
     "AS c", {}, "0A000", "data-modifying statement"),
    ("FROM MOUNT nosuch '{}' IMPORT t", {}, "HV00D", "unknown mount handler"),
    ("SQL SELECT 1", {"P": [1]}, "22023", "must be a string or a number"),
]


@pytest.fixture
def victim(sdb):
    execute(sdb, "CREATE TABLE public.victim (a int)")
    execute(sdb, "INSERT INTO public.victim VALUES (1)")
    built = build(sdb, "FROM t/base:v1", "e/out")
    return sdb, built


def test_bad_input(victim):
    """One database for all cases (each fails in its own statement)."""
    db, before = victim
    for splitfile, params, sqlstate, fragment in BAD:
        error = error_of(db, "SELECT sgfdw.build(%s, 'e/out', %s)",
                         (splitfile, json.dumps(params)))
        assert error.pgcode == sqlstate, (splitfile, error.pgcode, str(error))
        assert fragment in str(error) + (error.diag.message_hint or ""), splitfile
        assert_usable(db)
        assert execute(db, "SELECT head, images FROM sgfdw.repositories WHERE repository "
                           "= 'e/out'") == [(before, 2)], splitfile
        assert execute(db, "SELECT tablename FROM pg_tables WHERE schemaname = 'e/out'") \
            == [("cities",)], splitfile
        assert execute(db, "SELECT * FROM public.victim") == [(1,)]
        assert not execute(db, "SELECT FROM pg_namespace WHERE nspname LIKE 'sgfdw %'")


def test_bad_input_into_a_new_repository_leaves_no_repository(sdb):
    error = error_of(sdb, "SELECT sgfdw.build('SQL SELECT 1/0', 'e/new')")
    assert error.pgcode == "22012"
    assert not execute(sdb, "SELECT FROM sgfdw.repositories WHERE repository = 'e/new'")
    assert not execute(sdb, "SELECT FROM pg_namespace WHERE nspname = 'e/new'")


def test_uncommitted_changes_are_not_built_over(victim):
    db, _ = victim
    execute(db, 'INSERT INTO "e/out".cities VALUES (9, \'Zed\', 1)')
    error = error_of(db, "SELECT sgfdw.build('FROM EMPTY', 'e/out')")
    assert error.pgcode == "55000" and "changed rows in cities" in error.diag.message_detail


def test_parameters_are_values_not_commands(victim):
    db, _ = victim
    for value in ["1; DROP TABLE public.victim", "'; DROP TABLE public.victim; --",
                  "x\nSQL DROP TABLE public.victim"]:
        build(db, "SQL CREATE TABLE p AS SELECT ${V}::text AS v, '${V}' AS w", "e/out",
              {"V": value})
        assert execute(db, 'SELECT v, w FROM "e/out".p') == [(value, value)]
        assert execute(db, "SELECT * FROM public.victim") == [(1,)]


def test_provenance_errors(sdb):
    execute(sdb, "SELECT sgfdw.commit('t/base')")
    error = error_of(sdb, "SELECT sgfdw.provenance('t/base')")
    assert error.pgcode == "55000" and "was not built by a Splitfile" in str(error)
    assert error_of(sdb, "SELECT sgfdw.provenance('t/none')").pgcode == "42704"
    assert error_of(sdb, "SELECT sgfdw.build('FROM EMPTY', 'not a name')").pgcode == "22023"
    assert_usable(sdb)


def test_build_is_superuser_only(sdb, role):
    execute(sdb, f'SET ROLE "{role}"')
    for call in ("sgfdw.build('FROM EMPTY', 'e/x')", "sgfdw.provenance('t/base')"):
        assert error_of(sdb, f"SELECT {call}").pgcode == "42501"
        assert_usable(sdb)
    # The guard's event trigger lets everyone's DDL through outside a build.
    execute(sdb, "CREATE TABLE public.mine (a int)")
    execute(sdb, "DROP TABLE public.mine")
