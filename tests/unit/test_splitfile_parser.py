"""The Splitfile parser (sgfdw.splitfile.parser, .sqltext, .commands), without a server:
commands, continuations, comments, ${PARAM} substitution as values (injection
attempts stay values), errors with their line, SQLSTATE and offending text, and
rendering back to text that parses to the same commands."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sgfdw.splitfile import sqltext  # noqa: E402
from sgfdw.splitfile.commands import (FromImage, ImageRef, ImportImage, ImportItem,  # noqa: E402
                                      ImportMount, Plugin, Sql)
from sgfdw.splitfile.errors import (BadParameter, MissingParameter,  # noqa: E402
                                    SplitfileSyntaxError)
from sgfdw.splitfile.parser import parse  # noqa: E402

RECIPE = r"""
# a comment line
FROM EMPTY
  # an indented comment
FROM ns/base:${TAG}
IMPORT other/repo:v1 a, "B c" AS bee, {SELECT * FROM x WHERE y = '}' AND z = ${Z}} AS q
FROM other/repo IMPORT Tbl
SQL CREATE TABLE t AS \
   SELECT 1 AS a -- trailing { comment
sql {
  INSERT INTO t VALUES ('${Z}'); -- ${NOT_GIVEN} is not substituted in a comment
  SELECT $$ ${Z} $$, "${Z}"; }
FROM MOUNT postgres_fdw '{"host": "h", "password": "${PW}", "port": ${PORT}}' \
    IMPORT people AS p, {SELECT 1} AS one
RUN a,b 'c d' ${Z}
"""
PARAMS = {"TAG": "v2", "Z": "o'k", "PW": 'x"y', "PORT": 5432}


def test_every_command():
    commands = parse(RECIPE, PARAMS, ["run"])
    assert commands == [
        FromImage(3, None),
        FromImage(5, ImageRef("ns/base", "v2")),
        ImportImage(6, ImageRef("other/repo", "v1"), (
            ImportItem("a", "a"), ImportItem("bee", "B c"),
            ImportItem("q", None, "SELECT * FROM x WHERE y = '}' AND z = 'o''k'"))),
        ImportImage(7, ImageRef("other/repo"), (ImportItem("tbl", "tbl"),)),
        Sql(8, "CREATE TABLE t AS     SELECT 1 AS a -- trailing { comment"),
        Sql(10, "INSERT INTO t VALUES ('o''k'); -- ${NOT_GIVEN} is not substituted in a "
                "comment\n  SELECT $$ o'k $$, \"o'k\";"),
        ImportMount(13, "postgres_fdw", {"host": "h", "password": 'x"y', "port": "5432"},
                    (ImportItem("p", "people"), ImportItem("one", None, "SELECT 1"))),
        Plugin(15, "RUN", ("a,b", "c d", "o'k")),
    ]


def test_rendered_commands_parse_to_the_same():
    commands = parse(RECIPE, PARAMS, ["run"])
    again = parse("\n".join(map(str, commands)), {}, ["run"])
    assert [(type(c), {k: v for k, v in vars(c).items() if k != "line"}) for c in again] == \
        [(type(c), {k: v for k, v in vars(c).items() if k != "line"}) for c in commands]


@pytest.mark.parametrize("value", [
    "x'; DROP TABLE t; --", "x\\'; DROP TABLE t; --", '"; DROP TABLE t; --', "\nSQL DROP TABLE t",
])
def test_parameters_stay_values_in_sql(value):
    [sql] = parse("SQL SELECT ${V}, '${V}', E'${V}', \"${V}\"", {"V": value})
    # The statement has exactly one code part per separator: nothing escaped its quotes.
    kinds = [s.kind for s in sqltext.spans(sql.text)]
    assert kinds == ["code", "string", "code", "string", "code", "estring", "code", "ident"]


def test_a_parameter_cannot_close_a_dollar_quote():
    with pytest.raises(BadParameter):
        parse("SQL SELECT $x$ ${V} $x$", {"V": "$x$; DROP TABLE t; $x$"})


@pytest.mark.parametrize("text, params", [
    ("FROM ${R}", {"R": "a/b IMPORT t"}),
    ("FROM ${R}", {"R": "EMPTY"}),
    ("IMPORT a/b ${T}", {"T": "t, u"}),
    ("IMPORT a/b ${T}", {"T": "t AS u"}),
    ("IMPORT a/b:${R} t", {"R": "v1 x"}),
])
def test_parameters_cannot_add_syntax(text, params):
    with pytest.raises(SplitfileSyntaxError) as error:
        parse(text, params)
    assert error.value.sqlstate == "42601"


def test_a_quoted_name_takes_any_value():
    [command] = parse('IMPORT a/b "${T}"', {"T": 'we"ird, t'})
    assert command.items == (ImportItem('we"ird, t', 'we"ird, t'),)


def test_json_parameters_stay_strings():
    [command] = parse("""FROM MOUNT h '{"a": "${V}", "b": ${V}}' IMPORT t""",
                      {"V": '", "c": "injected'})
    assert command.options == {"a": '", "c": "injected', "b": '", "c": "injected'}


def test_missing_parameter_is_named():
    with pytest.raises(MissingParameter) as error:
        parse("FROM EMPTY\nSQL SELECT ${WHERE_CLAUSE}", {"OTHER": "1"})
    assert error.value.sqlstate == "42P02"
    assert "WHERE_CLAUSE" in str(error.value) and "line 2" in str(error.value)
    assert "OTHER" in error.value.hint


@pytest.mark.parametrize("value", [None, True, [1], {"a": 1}])
def test_parameter_values_are_strings_or_numbers(value):
    with pytest.raises(BadParameter):
        parse("FROM EMPTY", {"V": value})


@pytest.mark.parametrize("text, line, fragment", [
    ("FROM EMPTY\n\nFROM", 3, "FROM needs"),
    ("FROM EMPTY\nFROM a/b IMPORT t,", 2, "expected a table"),
    ("FROM EMPTY\nFROM a/b IMPORT {SELECT 1}", 2, "needs AS name"),
    ("FROM EMPTY\nFROM a/b IMPORT t u", 2, "expected ','"),
    ("FROM EMPTY\nFROM a/b IMPORT t, t", 2, "imported twice"),
    ("FROM not-a-repository", 1, "invalid repository"),
    ("FROM a/b:!x", 1, "invalid image reference"),
    ("\n\nSQL { SELECT 1", 3, "unterminated { block"),
    ("SQL SELECT 'abc", 1, "unterminated string"),
    ("SQL { SELECT 1 } extra", 1, "unexpected text after }"),
    ("SQL", 1, "SQL without a statement"),
    ("FROM EMPTY AS x", 1, "invalid repository"),
    ("FROM a/b AS c/d:v1", 1, "names a repository, not an image"),
    ("FROM a/b AS", 1, "expected FROM image AS namespace/repository"),
    ("FROM EMPTY IMPORT t", 1, "expected IMPORT, AS or the end of the line"),
    ("FROM a/b c/d", 1, "expected IMPORT, AS or the end of the line"),
    ("FROM MOUNT h 'not json' IMPORT t", 1, "not a JSON object"),
    ("FROM MOUNT h IMPORT t", 1, "expected FROM MOUNT"),
    ("SQL SELECT ${}", 1, "invalid parameter reference"),
    ("  , FROM", 1, "expected a command"),
    ("IMPORT a/b t AS", 1, "expected a name after AS"),
    ("IMPORT a/b 1t", 1, "invalid table name"),
])
def test_syntax_errors_name_line_and_text(text, line, fragment):
    with pytest.raises(SplitfileSyntaxError) as error:
        parse(text, {})
    assert error.value.sqlstate == "42601"
    assert error.value.line == line
    assert f"line {line}: " in str(error.value) and fragment in str(error.value)


def test_json_options_are_not_shown_in_errors():
    with pytest.raises(SplitfileSyntaxError) as error:
        parse("""FROM MOUNT h '{"password": "s3cret"' IMPORT t""", {})
    assert "s3cret" not in str(error.value) and "s3cret" not in (error.value.hint or "")


def test_unknown_command_lists_known_ones():
    with pytest.raises(SplitfileSyntaxError) as error:
        parse("FROM EMPTY\nRUNN x", {}, ["run", "Fetch"])
    assert "unknown command RUNN" in str(error.value) and error.value.line == 2
    assert error.value.hint == "Known commands: FROM, IMPORT, SQL, FETCH, RUN."


def test_normal_form_and_image_references():
    text = 'SELECT  *\n FROM "a/b:v1".t -- note\n JOIN "c/d:0123abcd" .u ON \'"x/y:z".w\''
    assert sqltext.image_references(text) == [("a/b", "v1"), ("c/d", "0123abcd")]
    assert sqltext.normalise(text, {("a/b", "v1"): "f" * 64}) == \
        f'SELECT * FROM "a/b:{"f" * 64}".t JOIN "c/d:0123abcd" .u ON \'"x/y:z".w\''
    assert sqltext.normalise("SELECT 'a  b'   /* c */ , 1") == "SELECT 'a  b' , 1"


def test_stages_and_import_everything():
    assert parse("FROM a/b:v1 AS c/d\nFROM EMPTY AS e/f\nFROM c/d IMPORT\nIMPORT a/b", {}) == [
        FromImage(1, ImageRef("a/b", "v1"), "c/d"), FromImage(2, None, "e/f"),
        ImportImage(3, ImageRef("c/d"), ()), ImportImage(4, ImageRef("a/b"), ())]
    assert str(FromImage(1, None, "e/f")) == "FROM EMPTY AS e/f"
