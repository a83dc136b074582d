"""SQL text for the DDL the API writes (TableDefinition.to_statement): quoting, and a
lexical check that a type name or default expression taken from an importer cannot end
its column definition or the statement.

Private to the API package: multicorn re-exports quote_identifier and quote_option,
the two Multicorn2 has.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["PG_SPACE", "quote_identifier", "quote_literal", "quote_option",
           "options_clause", "check_sql_fragment"]

PG_SPACE = " \t\n\r\f\v"


def check_text(value: str, what: str) -> None:
    if "\x00" in value:
        raise ValueError(f"{what} cannot contain a NUL character: {value!r}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{what} is not valid Unicode text: {value!r}") from exc


def quote_identifier(name: str) -> str:
    """``name`` as an SQL delimited identifier: ``"..."`` with ``"`` doubled.

    Always quotes (so case, spaces, keywords, quotes, ``;``, backslashes and non-ASCII
    characters are all kept verbatim). Raises ValueError for an empty name or one
    containing NUL, TypeError for a non-str.
    """
    if not isinstance(name, str):
        raise TypeError(f"an identifier must be a str, not {type(name).__name__}")
    if name == "":
        raise ValueError("an identifier cannot be empty")
    check_text(name, "an identifier")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """``value`` as a standard SQL string literal: ``'...'`` with ``'`` doubled.

    Backslashes are left as they are, which is right with
    ``standard_conforming_strings = on`` (the default since PostgreSQL 9.1); no ``E''``.
    """
    if not isinstance(value, str):
        raise TypeError(f"a literal must be a str, not {type(value).__name__}")
    check_text(value, "a string literal")
    return "'" + value.replace("'", "''") + "'"


def _option_value_text(value: object) -> str:
    if value is None:
        raise ValueError("an option value cannot be None")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def quote_option(value: object) -> str:
    """An option value as an SQL string literal (bools as 'true'/'false', others via
    str()), as Multicorn2's quote_option."""
    return quote_literal(_option_value_text(value))


def options_clause(options: Mapping[str, object]) -> str:
    """``OPTIONS ("name" 'value', ...)``, names sorted (as Multicorn does)."""
    items = sorted((str(key), value) for key, value in options.items())
    return "OPTIONS (" + ", ".join(
        f"{quote_identifier(key)} {quote_option(value)}" for key, value in items
    ) + ")"


def check_sql_fragment(text: str, what: str, *, type_name: bool) -> None:
    """Reject an SQL fragment that could end or escape its place in a column definition.

    Lexes ``text`` as PostgreSQL would (quoted identifiers, string literals) and requires:
    every quote closed; no ``;``, no comments, no ``$`` (dollar quoting) and no backslash
    outside quoted identifiers -- also none inside string literals, so the fragment lexes
    the same whether a literal is an ``E''`` string or not and whatever
    standard_conforming_strings is; balanced ``()``/``[]``; no top-level ``,``. A type
    name (``type_name=True``) may only hold words, numbers, quoted identifiers and
    ``. , ( ) [ ] -``.
    """
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a str, not {type(text).__name__}")
    check_text(text, what)
    if text.strip(PG_SPACE) == "":
        raise ValueError(f"{what} cannot be empty")

    def bad(reason: str) -> ValueError:
        return ValueError(f"unsafe {what} {text!r}: {reason}")

    closers: list[str] = []  # brackets still open, as their closing characters
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in PG_SPACE or not ch.isascii() or ch.isalnum() or ch == "_":
            i += 1  # whitespace, or part of a word / number (all non-ASCII is word)
        elif ch == '"' or ch == "'":
            if ch == "'" and type_name:
                raise bad("string literals are not allowed in a type name")
            end = i + 1
            while True:
                end = text.find(ch, end)
                if end < 0:
                    raise bad("unterminated quoted identifier or string literal")
                if text.startswith(ch + ch, end):
                    end += 2
                    continue
                break
            if ch == '"' and end == i + 1:
                raise bad("empty quoted identifier")
            if ch == "'" and "\\" in text[i:end]:
                raise bad("a backslash in a string literal is not allowed here")
            i = end + 1
        else:
            if text.startswith("--", i) or text.startswith("/*", i):
                raise bad("comments are not allowed")
            if ch == ";":
                raise bad("';' is not allowed")
            if ch == "$":
                raise bad("'$' (dollar quoting, parameters) is not allowed")
            if ch == "\\":
                raise bad("a backslash is not allowed outside a quoted identifier")
            if ch in "([":
                closers.append(")" if ch == "(" else "]")
            elif ch in ")]":
                if not closers or closers.pop() != ch:
                    raise bad("unbalanced parentheses")
            elif ch == "," and not closers:
                raise bad("a top-level ',' is not allowed")
            elif type_name and ch not in ".,-":
                raise bad(f"{ch!r} is not allowed in a type name")
            i += 1
    if closers:
        raise bad("unbalanced parentheses")
