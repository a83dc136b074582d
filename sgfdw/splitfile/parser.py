"""Parsing a Splitfile into commands.

One command per line; a `\\` ending a line continues it; `{ ... }` blocks (SQL, import
queries) and quoted strings may span lines; a line starting with `#` is a comment.
Keywords are read from the raw text before any ${PARAM} is substituted, and a
parameter is substituted inside the one token it stands in (a name, a string, SQL as
a quoted value), which must then still be that kind of token: a value can never add
a command, a keyword or a table to the Splitfile.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Collection, Mapping

from sgfdw.splitfile import sqltext
from sgfdw.splitfile.commands import (Command, FromImage, ImageRef, ImportImage, ImportItem,
                                      ImportMount, Plugin, Sql)
from sgfdw.splitfile.errors import BadParameter, MissingParameter, SplitfileSyntaxError
from sgfdw.store.errors import InvalidName
from sgfdw.store.names import parse_repository

__all__ = ["parse", "BUILTIN_COMMANDS"]

BUILTIN_COMMANDS = ("FROM", "IMPORT", "SQL")

_SPACE = re.compile(r"(?:\s|\\[ \t]*\r?\n)*")
_BLANK = re.compile(r"(?:[ \t\r]|\\[ \t]*\r?\n)*")
_COMMAND = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?![^\s{])")
_WORD = re.compile(r'(?:"(?:[^"]|"")*"|\$\{[^{}\s]*\}|[^\s,{}\'"])+')
_ARGUMENT = re.compile(r'(?:"(?:[^"]|"")*"|\$\{[^{}\s]*\}|[^\s{}\'"])+')
_STRING = re.compile(r"'((?:[^']|'')*)'")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z")
_PARAMETER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_REFERENCE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\Z")
_HANDLER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_MAX_NAME_BYTES = 63


@dataclass(frozen=True)
class _Token:
    kind: str  # word, string, block, comma
    text: str
    line: int


def _parameter_values(params: Mapping[str, Any] | None) -> dict[str, str]:
    values = {}
    for name, value in (params or {}).items():
        if isinstance(value, str):
            values[name] = value
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            values[name] = str(value)
        else:
            raise BadParameter(f"parameter {name!r} must be a string or a number",
                               hint="Pass params as a JSON object of strings.")
    return values


class _Parser:
    def __init__(self, text: str, params: Mapping[str, Any] | None,
                 plugins: Collection[str]) -> None:
        self.text = text
        self.pos = 0
        self.params = _parameter_values(params)
        self.plugins = {name.upper() for name in plugins}

    # ------------------------------------------------------------ parameters

    def _value(self, name: str, line: int) -> str:
        if not _PARAMETER_NAME.match(name):
            raise SplitfileSyntaxError(line, "invalid parameter reference", "${" + name + "}",
                                       hint="Write ${NAME}: letters, digits and '_'.")
        if name not in self.params:
            given = ", ".join(sorted(self.params)) or "none"
            raise MissingParameter(f"Splitfile line {line}: parameter {name} is not given",
                                   hint=f"Pass it in params; given: {given}.")
        return self.params[name]

    def _substituted(self, token: _Token) -> str:
        return sqltext.PARAMETER.sub(lambda m: self._value(m.group(1), token.line),
                                     token.text)

    def _sql(self, text: str, line: int) -> str:
        return sqltext.substitute(text, lambda name: self._value(name, line)).strip()

    def _json(self, token: _Token) -> str:
        """The JSON text with parameters as JSON string values (escaped inside a
        string, a whole string elsewhere)."""
        out, pos = [], 0

        def value(match: re.Match, inside: bool) -> str:
            encoded = json.dumps(self._value(match.group(1), token.line))
            return encoded[1:-1] if inside else encoded

        for string in _JSON_STRING.finditer(token.text):
            out.append(sqltext.PARAMETER.sub(lambda m: value(m, False),
                                             token.text[pos:string.start()]))
            out.append(sqltext.PARAMETER.sub(lambda m: value(m, True), string.group()))
            pos = string.end()
        out.append(sqltext.PARAMETER.sub(lambda m: value(m, False), token.text[pos:]))
        return "".join(out)

    # ------------------------------------------------------------ tokens

    def _error(self, line: int, problem: str, text: str | None = None,
               hint: str | None = None) -> SplitfileSyntaxError:
        return SplitfileSyntaxError(line, problem, text, hint)

    def _tail(self, commas: bool) -> list[_Token]:
        """The tokens up to the end of the command's (continued) line."""
        tokens: list[_Token] = []
        while True:
            self.pos = _BLANK.match(self.text, self.pos).end()  # type: ignore[union-attr]
            if self.pos >= len(self.text) or self.text[self.pos] == "\n":
                return tokens
            line = sqltext.line_of(self.text, self.pos)
            char = self.text[self.pos]
            if char == "{":
                end = sqltext.block_end(self.text, self.pos + 1)
                tokens.append(_Token("block", self.text[self.pos + 1:end], line))
                self.pos = end + 1
                continue
            if char == "'":
                string = _STRING.match(self.text, self.pos)
                if string is None:
                    raise self._error(line, "unterminated string",
                                      sqltext.rest_of_line(self.text, self.pos))
                tokens.append(_Token("string", string.group(1).replace("''", "'"), line))
                self.pos = string.end()
                continue
            if char == "," and commas:
                tokens.append(_Token("comma", ",", line))
                self.pos += 1
                continue
            word = (_WORD if commas else _ARGUMENT).match(self.text, self.pos)
            if word is None:
                raise self._error(line, f"unexpected {char!r}",
                                  sqltext.rest_of_line(self.text, self.pos))
            tokens.append(_Token("word", word.group(), line))
            self.pos = word.end()

    @staticmethod
    def _is_keyword(tokens: list[_Token], index: int, keyword: str) -> bool:
        return (index < len(tokens) and tokens[index].kind == "word"
                and tokens[index].text.upper() == keyword)

    # ------------------------------------------------------------ pieces

    def _name(self, token: _Token, what: str) -> str:
        """A table name: bare (folded to lower case, as PostgreSQL does) or quoted."""
        if token.kind != "word":
            raise self._error(token.line, f"expected {what}", token.text)
        raw = token.text
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            name = self._substituted(_Token("word", raw[1:-1].replace('""', '"'), token.line))
        else:
            name = self._substituted(token)
            if not _IDENTIFIER.match(name):
                raise self._error(token.line, f"invalid {what}", name,
                                  hint='Quote a name with other characters: "My Table".')
            name = name.lower()
        if not name or len(name.encode()) > _MAX_NAME_BYTES:
            raise self._error(token.line, f"invalid {what}", name,
                              hint="A name has 1 to 63 bytes.")
        return name

    def _image(self, token: _Token) -> ImageRef:
        if token.kind != "word":
            raise self._error(token.line, "expected an image namespace/repository[:tag]",
                              token.text)
        text = self._substituted(token)
        repository, _, reference = text.partition(":")
        try:
            parse_repository(repository)
        except InvalidName as exc:
            raise self._error(token.line, "invalid repository", text, hint=exc.hint) from None
        if ":" in text and not _REFERENCE.match(reference):
            raise self._error(token.line, "invalid image reference", text,
                              hint="After ':' comes a tag, a hash or a prefix of 8+ hex "
                                   "digits.")
        return ImageRef(repository, reference or None)

    def _items(self, tokens: list[_Token], line: int) -> tuple[ImportItem, ...]:
        """The items to import; none: all tables of the source."""
        items: list[ImportItem] = []
        i = 0
        while tokens:
            if i >= len(tokens):
                raise self._error(line, "expected a table or a {query} to import",
                                  sqltext.rest_of_line(self.text, self.pos))
            token = tokens[i]
            table = query = None
            if token.kind == "block":
                query = self._sql(token.text, token.line)
                if not query:
                    raise self._error(token.line, "empty {query}")
            else:
                table = self._name(token, "table name")
            i += 1
            alias = table
            if self._is_keyword(tokens, i, "AS"):
                if i + 1 >= len(tokens):
                    raise self._error(token.line, "expected a name after AS")
                alias = self._name(tokens[i + 1], "table name after AS")
                i += 2
            if alias is None:
                raise self._error(token.line, "an imported {query} needs AS name",
                                  "{" + token.text.strip() + "}")
            if any(item.alias == alias for item in items):
                raise self._error(token.line, f"table {alias} is imported twice")
            items.append(ImportItem(alias, table, query))
            if i == len(tokens):
                return tuple(items)
            if tokens[i].kind != "comma":
                raise self._error(tokens[i].line, "expected ',' or the end of the line",
                                  tokens[i].text)
            i += 1
        return ()

    # ------------------------------------------------------------ commands

    def _from(self, line: int) -> Command:
        tokens = self._tail(True)
        if not tokens:
            raise self._error(line, "FROM needs an image, EMPTY or MOUNT",
                              hint="FROM namespace/repository[:tag], FROM EMPTY, "
                                   "FROM image IMPORT ..., FROM MOUNT handler '{...}' "
                                   "IMPORT ...")
        if self._is_keyword(tokens, 0, "MOUNT"):
            return self._mount(tokens, line)
        image = None if self._is_keyword(tokens, 0, "EMPTY") else self._image(tokens[0])
        if len(tokens) == 1:
            return FromImage(line, image)
        if self._is_keyword(tokens, 1, "AS"):
            if len(tokens) != 3:
                raise self._error(line, "expected FROM image AS namespace/repository",
                                  tokens[-1].text)
            return FromImage(line, image, self._output(tokens[2]))
        if image is None or not self._is_keyword(tokens, 1, "IMPORT"):
            raise self._error(line, "expected IMPORT, AS or the end of the line",
                              tokens[1].text)
        return ImportImage(line, image, self._items(tokens[2:], line))

    def _output(self, token: _Token) -> str:
        """The repository of FROM ... AS (no image reference)."""
        image = self._image(token)
        if image.reference is not None:
            raise self._error(token.line, "FROM ... AS names a repository, not an image",
                              token.text)
        return image.repository

    def _mount(self, tokens: list[_Token], line: int) -> ImportMount:
        if len(tokens) < 4 or tokens[1].kind != "word" or tokens[2].kind != "string" \
                or not self._is_keyword(tokens, 3, "IMPORT"):
            raise self._error(line, "expected FROM MOUNT handler '{json options}' IMPORT ...")
        handler = self._substituted(tokens[1])
        if not _HANDLER.match(handler):
            raise self._error(line, "invalid mount handler name", handler)
        try:
            options = json.loads(self._json(tokens[2]))
        except ValueError:
            options = None
        if not isinstance(options, dict):
            # The options are not shown: they may hold a password.
            raise self._error(line, "the mount handler options are not a JSON object",
                              hint="""Write them as '{"key": "value", ...}'.""")
        return ImportMount(line, handler, options, self._items(tokens[4:], line))

    def _import(self, line: int) -> ImportImage:
        tokens = self._tail(True)
        if not tokens:
            raise self._error(line, "IMPORT needs an image and tables",
                              hint="IMPORT namespace/repository[:tag] table [AS name], ...")
        return ImportImage(line, self._image(tokens[0]), self._items(tokens[1:], line))

    def _sql_command(self, line: int) -> Sql:
        self.pos = _BLANK.match(self.text, self.pos).end()  # type: ignore[union-attr]
        if self.text.startswith("{", self.pos):
            end = sqltext.block_end(self.text, self.pos + 1)
            body = self.text[self.pos + 1:end]
            self.pos = end + 1
            rest = self._tail(True)
            if rest:
                raise self._error(rest[0].line, "unexpected text after }", rest[0].text)
        else:
            end = sqltext.statement_end(self.text, self.pos)
            body = sqltext.join_continuations(self.text[self.pos:end])
            self.pos = end
        statement = self._sql(body, line)
        if not statement:
            raise self._error(line, "SQL without a statement")
        return Sql(line, statement)

    def _plugin(self, name: str, line: int) -> Plugin:
        args = []
        for token in self._tail(False):
            if token.kind == "block":
                args.append(self._sql(token.text, token.line))
            else:
                args.append(self._substituted(token))
        return Plugin(line, name, tuple(args))

    def parse(self) -> list[Command]:
        commands: list[Command] = []
        while True:
            self.pos = _SPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]
            if self.pos >= len(self.text):
                return commands
            line = sqltext.line_of(self.text, self.pos)
            if self.text[self.pos] == "#":
                self.pos += len(sqltext.rest_of_line(self.text, self.pos))
                continue
            word = _COMMAND.match(self.text, self.pos)
            if word is None:
                raise self._error(line, "expected a command",
                                  sqltext.rest_of_line(self.text, self.pos))
            name = word.group().upper()
            self.pos = word.end()
            if name == "FROM":
                commands.append(self._from(line))
            elif name == "IMPORT":
                commands.append(self._import(line))
            elif name == "SQL":
                commands.append(self._sql_command(line))
            elif name in self.plugins:
                commands.append(self._plugin(name, line))
            else:
                known = ", ".join([*BUILTIN_COMMANDS, *sorted(self.plugins)])
                raise self._error(line, f"unknown command {word.group()}",
                                  hint=f"Known commands: {known}.")


def parse(text: str, params: Mapping[str, Any] | None = None,
          plugins: Collection[str] = ()) -> list[Command]:
    """The commands of a Splitfile, ${PARAM}s substituted from params; plugins: the
    names of the plugin commands (any case)."""
    return _Parser(text or "", params, plugins).parse()
