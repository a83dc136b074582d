"""Unit tests of the pure-Python API: multicorn, multicorn.utils, sgfdw.errors.

No server and no fixtures from tests/conftest.py: run with
``python -m pytest tests/unit``. If pglast (PostgreSQL's own parser) is installed, the
generated DDL is also checked with it; otherwise a small SQL lexer written here is used.
"""

from __future__ import annotations

import copy
import logging
import pickle
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import multicorn  # noqa: E402
import multicorn.utils as mutils  # noqa: E402
from multicorn import (  # noqa: E402
    ALL,
    ANY,
    ColumnDefinition,
    ForeignDataWrapper,
    Qual,
    SortKey,
    TableDefinition,
    TransactionAwareForeignDataWrapper,
)
from multicorn.utils import CRITICAL, DEBUG, ERROR, INFO, WARNING, log_to_postgres  # noqa: E402
from sgfdw import errors  # noqa: E402


def test_multicorn_imports_nothing_from_sgfdw():
    # The API is the bottom layer: sgfdw builds on it, never the reverse.
    code = ("import sys; sys.modules['sgfdw'] = None; "
            "import multicorn, multicorn.utils; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "ok\n", "")


def test_modules_come_from_this_checkout():
    assert Path(multicorn.__file__).resolve().parent == ROOT / "multicorn"
    assert Path(errors.__file__).resolve().parent == ROOT / "sgfdw"


# --------------------------------------------------------------------------- Qual etc.


def test_any_all_constants():
    assert ANY == "ANY" and ALL == "ALL"
    assert multicorn.UNBOUND is not None


def test_unbound_prints_as_multicorn_does():
    # A qual whose parameter EXPLAIN does not know yet reads the same on every run.
    assert repr(multicorn.UNBOUND) == str(multicorn.UNBOUND) == "?"
    assert repr(Qual("id", "=", multicorn.UNBOUND)) == "id = ?"


def test_qual_scalar():
    q = Qual("name", "~~", "A%")
    assert (q.field_name, q.operator, q.value) == ("name", "~~", "A%")
    assert not q.is_list_operator
    assert q.list_any_or_all is None
    assert repr(q) == "name ~~ A%"


def test_qual_list_operators():
    q_any = Qual("id", ("=", True), [1, 2, 3])
    q_all = Qual("id", ("<>", False), [1, 2])
    assert q_any.is_list_operator and q_all.is_list_operator
    assert q_any.list_any_or_all == ANY == "ANY"
    assert q_all.list_any_or_all == ALL == "ALL"
    assert repr(q_any) == "id = ANY([1, 2, 3])"
    assert repr(q_all) == "id <> ALL([1, 2])"


def test_qual_null_tests():
    is_null = Qual("x", "=", None)
    is_not_null = Qual("x", "<>", None)
    assert repr(is_null) == "x = None"
    assert repr(is_not_null) == "x <> None"


def test_qual_equality_and_hash():
    assert Qual("a", "=", 1) == Qual("a", "=", 1)
    assert Qual("a", "=", 1) != Qual("a", "=", 2)
    assert Qual("a", "=", 1) != Qual("b", "=", 1)
    assert Qual("a", "=", 1) != Qual("a", "<", 1)
    assert Qual("a", "=", 1) != ("a", "=", 1)
    assert len({Qual("a", "=", 1), Qual("a", "=", 1), Qual("a", ">", 1)}) == 2
    # unhashable values (ANY lists) still hash, consistently with ==
    q1, q2 = Qual("a", ("=", True), [1, 2]), Qual("a", ("=", True), [1, 2])
    assert q1 == q2 and hash(q1) == hash(q2)
    assert len({q1, q2, Qual("a", ("=", True), [3])}) == 2


def test_sortkey():
    k = SortKey(attname="ts", attnum=2, is_reversed=True, nulls_first=False, collate=None)
    assert (k.attname, k.attnum, k.is_reversed, k.nulls_first, k.collate) == (
        "ts", 2, True, False, None)
    assert k == SortKey("ts", 2, True, False, None)
    assert k != SortKey("ts", 2, False, False, None)
    r = repr(k)
    assert "SortKey" in r and "attname='ts'" in r and "is_reversed=True" in r
    attname, attnum, *_ = k  # a named tuple, as in Multicorn
    assert (attname, attnum) == ("ts", 2)


# --------------------------------------------------------------------------- a tiny SQL lexer


def lex(sql):
    """Tokens of ``sql`` as (kind, text): kind ident (quoted, unescaped), str (literal,
    unescaped, standard_conforming_strings on), word (lower-cased), num, op."""
    tokens = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in " \t\n\r\f\v":
            i += 1
        elif ch in "\"'":
            j, buf = i + 1, []
            while True:
                assert j < n, f"unterminated quote in {sql!r}"
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:
                        buf.append(ch)
                        j += 2
                        continue
                    break
                buf.append(sql[j])
                j += 1
            tokens.append(("ident" if ch == '"' else "str", "".join(buf)))
            i = j + 1
        elif ch.isalpha() or ch == "_" or not ch.isascii():
            j = i
            while j < n and (sql[j].isalnum() or sql[j] in "_$" or not sql[j].isascii()):
                j += 1
            tokens.append(("word", sql[i:j].lower()))
            i = j
        elif ch.isdigit():
            j = i
            while j < n and (sql[j].isdigit() or sql[j] == "."):
                j += 1
            tokens.append(("num", sql[i:j]))
            i = j
        else:
            assert sql[i:i + 2] not in ("--", "/*"), f"comment in {sql!r}"
            assert ch != ";", f"semicolon outside quotes in {sql!r}"
            tokens.append(("op", ch))
            i += 1
    return tokens


class Parser:
    """Parses exactly the CREATE FOREIGN TABLE shape to_statement() produces."""

    def __init__(self, sql):
        self.toks = lex(sql)
        self.pos = 0

    def peek(self):
        return self.toks[self.pos] if self.pos < len(self.toks) else (None, None)

    def take(self, kind=None, text=None):
        tok = self.peek()
        assert tok[0] is not None, "unexpected end of statement"
        if kind is not None:
            assert tok[0] == kind, f"expected {kind}, got {tok}"
        if text is not None:
            assert tok[1] == text, f"expected {text!r}, got {tok}"
        self.pos += 1
        return tok[1]

    def at(self, kind, text=None):
        tok = self.peek()
        return tok[0] == kind and (text is None or tok[1] == text)

    def options(self):
        self.take("word", "options")
        self.take("op", "(")
        result = {}
        while True:
            name = self.take("ident")
            result[name] = self.take("str")
            if self.at("op", ","):
                self.take()
                continue
            self.take("op", ")")
            return result

    def expression(self, stop_words):
        """Tokens up to a top-level ',' / ')' or one of stop_words."""
        depth, out = 0, []
        while True:
            kind, text = self.peek()
            assert kind is not None, "unexpected end of statement"
            if depth == 0 and kind == "op" and text in ",)":
                return out
            if depth == 0 and kind == "word" and text in stop_words:
                return out
            if kind == "op" and text in "([":
                depth += 1
            elif kind == "op" and text in ")]":
                depth -= 1
            out.append((kind, text))
            self.pos += 1

    def column(self):
        col = {"name": self.take("ident"), "options": {}, "not_null": False, "default": None}
        col["type"] = self.expression({"options", "not", "default"})
        assert col["type"], "column without a type"
        if self.at("word", "options"):
            col["options"] = self.options()
        if self.at("word", "not"):
            self.take()
            self.take("word", "null")
            col["not_null"] = True
        if self.at("word", "default"):
            self.take()
            col["default"] = self.expression(set())
        return col

    def statement(self):
        for word in ("create", "foreign", "table"):
            self.take("word", word)
        names = [self.take("ident")]
        if self.at("op", "."):
            self.take()
            names.append(self.take("ident"))
        result = {"schema": names[0] if len(names) == 2 else None, "table": names[-1],
                  "columns": [], "options": {}}
        self.take("op", "(")
        if not self.at("op", ")"):
            while True:
                result["columns"].append(self.column())
                if self.at("op", ","):
                    self.take()
                    continue
                break
        self.take("op", ")")
        self.take("word", "server")
        result["server"] = self.take("ident")
        if self.at("word", "options"):
            result["options"] = self.options()
        assert self.peek() == (None, None), f"trailing tokens: {self.toks[self.pos:]}"
        return result


def parse(sql):
    return Parser(sql).statement()


def check_with_pglast(sql, schema, table, server, columns, options):
    """Same checks with PostgreSQL's parser, when pglast is installed."""
    try:
        import pglast
    except ImportError:
        return
    stmts = pglast.parse_sql(sql)
    assert len(stmts) == 1
    stmt = stmts[0].stmt
    assert type(stmt).__name__ == "CreateForeignTableStmt"
    assert stmt.base.relation.schemaname == schema
    assert stmt.base.relation.relname == table
    assert stmt.servername == server
    assert {o.defname: o.arg.sval for o in stmt.options or ()} == {
        k: v for k, v in options.items()}
    elts = stmt.base.tableElts or ()
    assert [e.colname for e in elts] == [c.column_name for c in columns]
    for elt, col in zip(elts, columns):
        assert {o.defname: o.arg.sval for o in elt.fdwoptions or ()} == col.options


HOSTILE_NAMES = [
    'a"b',
    '"',
    '""',
    "x'; DROP TABLE t; --",
    '"; DROP TABLE t; --',
    "back\\slash",
    "\\",
    "\\\"",
    "semi;colon",
    "ünïcødé 表 ✓",
    "with space",
    "MixedCase",
    "select",
    "new\nline",
    "tab\tx",
    "*/ /*",
    "$$",
    "$x$",
    "e'",
    "U&'\\0041'",
]

HOSTILE_VALUES = [
    "it's",
    "\\",
    "\\'",
    "'; DROP TABLE x; --",
    "",
    "ü 表",
    "$$x$$",
    '"',
    "a\nb",
    "E'\\''",
    "C:\\temp\\new",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_identifiers_round_trip(name):
    columns = [ColumnDefinition(name, 25, -1, "text", "text", {name: name}),
               ColumnDefinition("plain", 23, -1, "integer", "integer")]
    tdef = TableDefinition(name, columns=columns, options={name: name, "k": "v"})
    sql = tdef.to_statement(name, name)
    parsed = parse(sql)
    assert parsed["schema"] == name and parsed["table"] == name and parsed["server"] == name
    assert [c["name"] for c in parsed["columns"]] == [name, "plain"]
    assert parsed["columns"][0]["options"] == {name: name}
    assert parsed["options"] == {name: name, "k": "v"}
    check_with_pglast(sql, name, name, name, columns, {name: name, "k": "v"})


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_hostile_option_values_round_trip(value):
    columns = [ColumnDefinition("c", type_name="text", options={"path": value})]
    tdef = TableDefinition("t", columns=columns, options={"query": value})
    sql = tdef.to_statement("s", "srv")
    parsed = parse(sql)
    assert parsed["options"] == {"query": value}
    assert parsed["columns"][0]["options"] == {"path": value}
    # plain standard literal, quotes doubled, backslashes untouched, no E'' form
    assert f""""query" '{value.replace("'", "''")}'""" in sql
    check_with_pglast(sql, "s", "t", "srv", columns, {"query": value})


def test_to_statement_exact_text():
    tdef = TableDefinition(
        "My Table",
        schema="remote",
        columns=[
            ColumnDefinition("id", 20, -1, "bigint", "bigint", nullable=False,
                             default="nextval('my_seq'::regclass)"),
            ColumnDefinition('we"ird', 1043, 16, "character varying(12)", "character varying",
                             {"column_name": "WEIRD", "a": "it's"}),
            ColumnDefinition("price", 1700, -1, "numeric(10,2)", "numeric", default="0"),
        ],
        options={"table": "Tab'le", "schema": "back\\slash"},
    )
    assert tdef.to_statement("local", "srv") == (
        'CREATE FOREIGN TABLE "local"."My Table" (\n'
        '    "id" bigint NOT NULL DEFAULT nextval(\'my_seq\'::regclass),\n'
        '    "we""ird" character varying(12) OPTIONS ("a" \'it\'\'s\', '
        '"column_name" \'WEIRD\'),\n'
        '    "price" numeric(10,2) DEFAULT 0\n'
        ') SERVER "srv" OPTIONS ("schema" \'back\\slash\', "table" \'Tab\'\'le\')'
    )


def test_to_statement_without_columns_options_or_schema():
    sql = TableDefinition("t").to_statement(None, "s")
    assert sql == 'CREATE FOREIGN TABLE "t" (\n) SERVER "s"'
    parsed = parse(sql)
    assert parsed["schema"] is None and parsed["columns"] == [] and parsed["options"] == {}
    check_with_pglast(sql, None, "t", "s", [], {})


def test_table_definition_accepts_mapping_and_pairs():
    cols = {"a": ColumnDefinition("a", type_name="int"),
            "b": ColumnDefinition("b", type_name="text")}
    tdef = TableDefinition("t", columns=cols)
    assert [c.column_name for c in tdef.columns] == ["a", "b"]
    pairs = TableDefinition("t", columns=[("a", "int"), ("b", "text[]")])
    parsed = parse(pairs.to_statement("s", "v"))
    assert [(c["name"], c["type"]) for c in parsed["columns"]] == [
        ("a", [("word", "int")]), ("b", [("word", "text"), ("op", "["), ("op", "]")])]
    with pytest.raises(TypeError):
        TableDefinition("t", columns=["not a column"]).to_statement("s", "v")


def test_table_definition_attributes():
    tdef = TableDefinition("t", schema="rs")
    assert (tdef.table_name, tdef.schema, tdef.columns, tdef.options) == ("t", "rs", [], {})
    assert "TableDefinition" in repr(tdef) and "'t'" in repr(tdef)


def test_option_value_conversion():
    col = ColumnDefinition("c", type_name="text", options={"b": True, "f": False, "n": 5})
    assert col.to_statement() == '"c" text OPTIONS ("b" \'true\', "f" \'false\', "n" \'5\')'
    with pytest.raises(ValueError):
        ColumnDefinition("c", type_name="text", options={"x": None}).to_statement()


@pytest.mark.parametrize("bad", ["", "a\x00b", "\udcff"])
def test_bad_identifiers_rejected(bad):
    with pytest.raises(ValueError):
        TableDefinition(bad).to_statement("s", "srv")
    with pytest.raises(ValueError):
        TableDefinition("t").to_statement(bad, "srv")
    with pytest.raises(ValueError):
        TableDefinition("t", columns=[ColumnDefinition(bad, type_name="int")]).to_statement(
            "s", "v")


def test_nul_in_option_value_rejected():
    with pytest.raises(ValueError):
        TableDefinition("t", options={"k": "a\x00"}).to_statement("s", "srv")


def test_non_str_identifier_rejected():
    with pytest.raises(TypeError):
        TableDefinition(5).to_statement("s", "srv")


def test_column_definition_defaults_and_repr():
    col = ColumnDefinition("c")
    assert (col.column_name, col.type_oid, col.typmod, col.type_name, col.base_type_name,
            col.options, col.nullable, col.default) == ("c", 0, 0, "", "", {}, True, None)
    col = ColumnDefinition("c", 23, -1, "integer", "integer", {"k": "v"})
    assert repr(col) == "ColumnDefinition(c, 23, integer options {'k': 'v'})"
    assert repr(ColumnDefinition("c", 25, -1, "text", "text")) == "ColumnDefinition(c, 25, text)"
    with pytest.raises(TypeError):
        ColumnDefinition("c", 23, -1, "integer", "integer", None, False)  # keyword-only


def test_column_type_fallback_and_missing_type():
    assert ColumnDefinition("c", base_type_name="text").to_statement() == '"c" text'
    with pytest.raises(ValueError):
        ColumnDefinition("c").to_statement()


@pytest.mark.parametrize("type_name", [
    "integer", "character varying(12)", "numeric(10,-2)", "timestamp(3) with time zone",
    "text[]", "integer[3][]", '"My Type"', '"s"."t""q"', "pg_catalog.int4",
    "interval day to second(3)", "double precision", "bit varying(5)", "типа",
])
def test_safe_type_names(type_name):
    sql = TableDefinition("t", columns=[ColumnDefinition("c", type_name=type_name)]).to_statement(
        "s", "v")
    assert parse(sql)["columns"][0]["name"] == "c"
    try:
        import pglast
    except ImportError:
        return
    assert len(pglast.parse_sql(sql)) == 1


@pytest.mark.parametrize("type_name", [
    "integer; DROP TABLE x", "int) SERVER s; --", "int, evil text", "int -- c", "int /* c */",
    "text'", "text DEFAULT 'x'", '"unterminated', 'int("', "int)", "int(", "int]",
    "int(]", "$1", "int\\", "   ", "int = 1", '""',
])
def test_unsafe_type_names_rejected(type_name):
    with pytest.raises(ValueError):
        ColumnDefinition("c", type_name=type_name).to_statement()


@pytest.mark.parametrize("default", [
    "0", "'x'", "'it''s'", "now()", "nextval('s'::regclass)", "'a,b'::text",
    "ARRAY[1, 2]", "'semi;colon'", "(1 + 2) * 3", '"f"(1, 2)',
    "'--not a comment'", "'$$'", "E'abc'", "CURRENT_TIMESTAMP", "-1", "'a' || \"b\"",
])
def test_safe_defaults(default):
    col = ColumnDefinition("c", type_name="text", default=default)
    sql = TableDefinition("t", columns=[col]).to_statement("s", "v")
    assert sql.endswith(f'"c" text DEFAULT {default}\n) SERVER "v"')
    parsed = parse(sql)
    assert parsed["columns"][0]["default"]
    try:
        import pglast
    except ImportError:
        return
    stmt = pglast.parse_sql(sql)[0].stmt
    cons = stmt.base.tableElts[0].constraints
    assert [c.contype.name for c in cons] == ["CONSTR_DEFAULT"]


@pytest.mark.parametrize("default", [
    "1; DROP TABLE x", "1) SERVER s; --", "1, evil int", "1 -- c", "1 /* c */", "'open",
    '"open', "f(", "f)", "$1", "$$x$$", "1$x$ ' $x$ ; DROP --'", "E'\\''", "e'\\\\'",
    "1e'\\'x'; DROP--'", "'a\\b'", "\\", "", "   ",
])
def test_unsafe_defaults_rejected(default):
    with pytest.raises(ValueError):
        ColumnDefinition("c", type_name="text", default=default).to_statement()


def test_not_null_and_default_order():
    col = ColumnDefinition("c", type_name="int", options={"k": "v"}, nullable=False, default="1")
    # PostgreSQL's grammar: name type [OPTIONS (...)] [constraints]
    assert col.to_statement() == '"c" int OPTIONS ("k" \'v\') NOT NULL DEFAULT 1'


def test_column_options_are_copied():
    opts = {"k": "v"}
    col = ColumnDefinition("c", options=opts)
    opts["k"] = "changed"
    assert col.options == {"k": "v"}


def test_quote_helpers():
    assert multicorn.quote_identifier('a"b') == '"a""b"'
    assert multicorn.quote_option("it's \\") == "'it''s \\'"
    assert multicorn.quote_option(True) == "'true'"


# --------------------------------------------------------------------------- ForeignDataWrapper


class ReadOnly(ForeignDataWrapper):
    def execute(self, quals, columns):  # a Multicorn-1 style two-argument execute
        yield {"a": 1}


class Writable(ForeignDataWrapper):
    def __init__(self, options, columns):
        super().__init__(options, columns)
        self.rows = []

    def execute(self, quals, columns, sortkeys=None, limit=None, offset=None):
        return iter(self.rows)

    @property
    def rowid_column(self):
        return "a"

    def insert(self, values):
        self.rows.append(values)
        return dict(values, inserted=True)


def test_fdw_defaults():
    cols = {"a": ColumnDefinition("a", 23, -1, "integer", "integer")}
    fdw = ReadOnly({"opt": "v"}, cols)
    assert fdw._startup_cost == 20 == ForeignDataWrapper._startup_cost
    assert fdw.get_rel_size([], {"a", "b"}) == (100000000, 200)
    assert fdw.get_rel_size([], set()) == (100000000, 0)
    assert fdw.get_path_keys() == []
    assert fdw.can_sort([SortKey("a", 1, False, False, None)]) == []
    assert fdw.can_limit(10, 0) is False
    assert list(fdw.explain([], {"a"})) == []
    assert list(fdw.explain([], {"a"}, sortkeys=[], verbose=True, limit=1, offset=2)) == []
    assert list(fdw.execute([], {"a"})) == [{"a": 1}]
    assert fdw.end_scan() is None and fdw.end_modify() is None
    assert fdw.modify_batch_size == 1
    for hook, args in [("begin", (True,)), ("pre_commit", ()), ("commit", ()),
                       ("rollback", ()), ("sub_begin", (1,)), ("sub_commit", (1,)),
                       ("sub_rollback", (2,))]:
        assert getattr(fdw, hook)(*args) is None


def test_fdw_unsupported_operations_raise():
    fdw = ForeignDataWrapper({}, {})
    with pytest.raises(NotImplementedError):
        fdw.execute([], set())
    with pytest.raises(NotImplementedError, match="writable API"):
        fdw.rowid_column  # noqa: B018
    with pytest.raises(NotImplementedError):
        fdw.insert({"a": 1})
    with pytest.raises(NotImplementedError):
        fdw.update(1, {"a": 2})
    with pytest.raises(NotImplementedError):
        fdw.delete(1)
    with pytest.raises(NotImplementedError):
        fdw.bulk_insert([{"a": 1}])
    with pytest.raises(NotImplementedError):
        ForeignDataWrapper.import_schema("s", {}, {}, None, [])
    with pytest.raises(NotImplementedError):
        ReadOnly.import_schema("s", {}, {}, "limit", ["t"])


def test_write_support_detectable_by_override():
    # The bridge's rule: writable iff insert/update/delete differ from the base class's.
    def writable(cls):
        return any(getattr(cls, m) is not getattr(ForeignDataWrapper, m)
                   for m in ("insert", "update", "delete"))

    assert not writable(ReadOnly)
    assert writable(Writable)
    assert writable(TransactionAwareForeignDataWrapper)
    # LIMIT with quals is opt-in: the base class must not define enforces_quals.
    assert not hasattr(ForeignDataWrapper, "enforces_quals")


def test_bulk_insert_default_loops_insert():
    fdw = Writable({}, {})
    assert fdw.rowid_column == "a"
    result = fdw.bulk_insert([{"a": 1}, {"a": 2}])
    assert fdw.rows == [{"a": 1}, {"a": 2}]
    assert result == [{"a": 1, "inserted": True}, {"a": 2, "inserted": True}]


def test_transaction_aware_fdw():
    fdw = TransactionAwareForeignDataWrapper({}, {})
    fdw.insert({"a": 1})
    fdw.update(1, {"a": 2})
    fdw.delete(2)
    assert fdw.current_transaction_state == [
        ("insert", {"a": 1}), ("update", (1, {"a": 2})), ("delete", 2)]
    fdw.rollback()
    assert fdw.current_transaction_state == []


def test_import_schema_is_classmethod():
    class Importer(ForeignDataWrapper):
        @classmethod
        def import_schema(cls, schema, srv_options, options, restriction_type, restricts):
            return [TableDefinition(t, schema=schema, columns=[("id", "int")])
                    for t in ("a", "b") if restriction_type != "except" or t not in restricts]

    tables = Importer.import_schema("rs", {}, {}, "except", ["a"])
    assert [t.table_name for t in tables] == ["b"]
    assert parse(tables[0].to_statement("ls", "srv"))["table"] == "b"


# --------------------------------------------------------------------------- multicorn.utils


def test_log_levels_are_logging_levels():
    assert (DEBUG, INFO, WARNING, ERROR, CRITICAL) == (
        logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL)


def test_log_outside_backend_uses_logging(monkeypatch, caplog):
    monkeypatch.setattr(mutils, "_sgfdw", None)
    caplog.set_level(logging.DEBUG, logger="multicorn")
    log_to_postgres("hello", INFO, hint="a hint", detail="some detail")
    log_to_postgres("careful", WARNING)
    log_to_postgres("fine print", DEBUG)
    log_to_postgres(42)  # non-str message, default level INFO
    records = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "multicorn"]
    assert records == [
        (INFO, "hello\nDETAIL:  some detail\nHINT:  a hint"),
        (WARNING, "careful"),
        (DEBUG, "fine print"),
        (INFO, "42"),
    ]


def test_log_inside_backend_calls_sgfdw_log(monkeypatch):
    calls = []
    fake = types.SimpleNamespace(log=lambda *args: calls.append(args))
    monkeypatch.setattr(mutils, "_sgfdw", fake)
    log_to_postgres("m1")
    log_to_postgres("m2", WARNING, hint="h", detail="d")
    log_to_postgres("m3", DEBUG, detail=123)
    log_to_postgres("m4", 25)  # between INFO and WARNING -> INFO
    log_to_postgres("m5", 5)  # below DEBUG -> DEBUG
    assert calls == [
        (INFO, "m1", None, None),
        (WARNING, "m2", "h", "d"),
        (DEBUG, "m3", None, "123"),
        (INFO, "m4", None, None),
        (DEBUG, "m5", None, None),
    ]
    with pytest.raises(errors.FdwError):
        log_to_postgres("boom", ERROR)
    assert len(calls) == 5  # ERROR raises instead of logging


@pytest.mark.parametrize("in_backend", [False, True])
def test_log_error_raises_and_finally_runs(monkeypatch, in_backend):
    fake = types.SimpleNamespace(log=lambda *args: None) if in_backend else None
    monkeypatch.setattr(mutils, "_sgfdw", fake)
    cleaned = []

    def work():
        try:
            log_to_postgres("bad thing", ERROR, hint="try again", detail="details")
        finally:
            cleaned.append(True)

    with pytest.raises(errors.FdwError) as info:
        work()
    exc = info.value
    assert cleaned == [True]
    assert str(exc) == exc.message == "bad thing"
    assert (exc.sqlstate, exc.hint, exc.detail, exc.fatal) == (
        "HV000", "try again", "details", False)


def test_log_critical_is_fatal(monkeypatch):
    monkeypatch.setattr(mutils, "_sgfdw", None)
    with pytest.raises(errors.FdwError) as info:
        log_to_postgres("dead", CRITICAL)
    assert info.value.fatal is True
    with pytest.raises(errors.FdwError) as info:
        log_to_postgres("worse", 60)
    assert info.value.fatal is True


@pytest.mark.parametrize("in_backend", [False, True])
def test_check_interrupts_is_a_no_op(monkeypatch, in_backend):
    # Multicorn2 API; the bridge delivers a cancel as KeyboardInterrupt by itself.
    fake = types.SimpleNamespace(log=lambda *args: None) if in_backend else None
    monkeypatch.setattr(mutils, "_sgfdw", fake)
    assert mutils.check_interrupts() is None


# --------------------------------------------------------------------------- sgfdw.errors


@pytest.mark.parametrize("cls,code", [
    (errors.FdwError, "HV000"),
    (errors.WrapperNotFound, "42704"),
    (errors.OptionError, "HV00D"),
    (errors.DataError, "22000"),
    (errors.NumericValueOutOfRange, "22003"),
    (errors.InvalidTextRepresentation, "22P02"),
    (errors.FeatureNotSupported, "0A000"),
    (errors.ConnectionFailure, "08006"),
    (errors.QueryCanceled, "57014"),
    (errors.InsufficientPrivilege, "42501"),
    (errors.UndefinedTable, "42P01"),
])
def test_error_classes(cls, code):
    assert cls.sqlstate == code
    exc = cls("msg", hint="h", detail="d")
    assert isinstance(exc, errors.FdwError) and isinstance(exc, Exception)
    assert (exc.sqlstate, exc.pgcode, exc.message, str(exc), exc.hint, exc.detail, exc.fatal) == (
        code, code, "msg", "msg", "h", "d", False)
    assert errors.sqlstate_of(exc) == code


def test_error_subclass_relations():
    assert issubclass(errors.NumericValueOutOfRange, errors.DataError)
    assert issubclass(errors.InvalidTextRepresentation, errors.DataError)


def test_error_sqlstate_override_and_validation():
    exc = errors.FdwError("m", sqlstate="22023")
    assert exc.sqlstate == "22023" and errors.FdwError.sqlstate == "HV000"
    assert errors.DataError("x").sqlstate == "22000"
    for bad in ("2202", "220233", "abcde", "22 23"):
        with pytest.raises(ValueError):
            errors.FdwError("m", sqlstate=bad)
    with pytest.raises(TypeError):
        errors.FdwError("m", "22023")  # keyword-only


def test_error_defaults():
    exc = errors.FdwError()
    assert (exc.message, exc.hint, exc.detail, exc.fatal) == ("", None, None, False)
    assert errors.FdwError(ValueError("inner")).message == "inner"


def test_error_pickle_and_copy_keep_attributes():
    exc = errors.OptionError("m", hint="h", detail="d", fatal=True, sqlstate="HV00C")
    for clone in (pickle.loads(pickle.dumps(exc)), copy.copy(exc)):
        assert type(clone) is errors.OptionError
        assert (clone.message, clone.sqlstate, clone.hint, clone.detail, clone.fatal) == (
            "m", "HV00C", "h", "d", True)


def test_sqlstate_of_foreign_exceptions():
    class Psycopg2Like(Exception):
        pgcode = "23505"

    class BadCode(Exception):
        sqlstate = "nope"
        pgcode = None

    class Raising(Exception):
        @property
        def sqlstate(self):
            raise RuntimeError("broken")

    assert errors.sqlstate_of(Psycopg2Like()) == "23505"
    assert errors.sqlstate_of(BadCode()) is None
    assert errors.sqlstate_of(Raising()) is None
    assert errors.sqlstate_of(ValueError("x")) is None
    assert errors.is_valid_sqlstate("P0001") and not errors.is_valid_sqlstate(12345)
