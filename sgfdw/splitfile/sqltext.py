"""SQL text inside a Splitfile: where a statement or a `{ ... }` block ends, how a
${PARAM} is substituted into it, its normal form for hashing and the images it reads.

All of them need to know which characters are code and which are inside a string, a
quoted identifier, a dollar-quoted body or a comment: a `}` or a newline inside a
string ends nothing, and a parameter inside a string must not be able to close it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping

from sgfdw.splitfile.errors import BadParameter, SplitfileSyntaxError

__all__ = ["Span", "spans", "line_of", "rest_of_line", "block_end", "statement_end",
           "join_continuations", "substitute", "normalise", "image_references",
           "replace_image_references", "statements", "PARAMETER"]

PARAMETER = re.compile(r"\$\{([^{}]*)\}")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")
_CONTINUATION = re.compile(r"\\[ \t]*\r?\n")
_IMAGE = re.compile(r'"([A-Za-z0-9_][A-Za-z0-9_.-]*/[A-Za-z0-9_][A-Za-z0-9_.-]*):'
                    r'([A-Za-z0-9_][A-Za-z0-9_.-]*)"(?=\s*\.)')


@dataclass(frozen=True)
class Span:
    """text[begin:end] is code, a 'string', an 'estring' (E'...'), an 'ident'
    ("..."), a 'dollar' body ($tag$...$tag$ with its tags) or a 'comment'."""

    kind: str
    begin: int
    end: int


def line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def rest_of_line(text: str, pos: int) -> str:
    newline = text.find("\n", pos)
    return text[pos:] if newline < 0 else text[pos:newline]


def _quote_end(text: str, pos: int, quote: str, backslashes: bool) -> int:
    """The index after the quote closing the one at pos ("" / '' are escapes)."""
    i = pos + 1
    while i < len(text):
        if backslashes and text[i] == "\\":
            i += 2
        elif text[i] == quote:
            if text.startswith(quote, i + 1):
                i += 2
            else:
                return i + 1
        else:
            i += 1
    return -1


def _comment_end(text: str, pos: int) -> int:
    depth, i = 0, pos
    while i < len(text):
        if text.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif text.startswith("*/", i):
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    return -1


def _after_word_char(text: str, pos: int) -> bool:
    return pos > 0 and (text[pos - 1].isalnum() or text[pos - 1] == "_")


def _quoted(text: str, pos: int) -> tuple[str, int] | None:
    """(kind, end) of the quoted span or comment starting at pos, None for code; end
    is -1 when it never ends."""
    char = text[pos]
    if char == "'":
        estring = (pos > 0 and text[pos - 1] in "eE" and not _after_word_char(text, pos - 1))
        return ("estring" if estring else "string"), _quote_end(text, pos, "'", estring)
    if char == '"':
        return "ident", _quote_end(text, pos, '"', False)
    if text.startswith("--", pos):
        newline = text.find("\n", pos)
        return "comment", len(text) if newline < 0 else newline
    if text.startswith("/*", pos):
        return "comment", _comment_end(text, pos)
    if char == "$" and not _after_word_char(text, pos):
        tag = _DOLLAR_TAG.match(text, pos)
        if tag:
            close = text.find(tag.group(), tag.end())
            return "dollar", -1 if close < 0 else close + len(tag.group())
    return None


def spans(text: str, pos: int = 0) -> Iterator[Span]:
    """The spans of text from pos on; code runs as long as they go. A string or
    comment that never ends is a syntax error at the line it starts."""
    code = pos
    while pos < len(text):
        quoted = _quoted(text, pos)
        if quoted is None:
            pos += 1
            continue
        kind, end = quoted
        if end < 0:
            raise SplitfileSyntaxError(line_of(text, pos), f"unterminated {_NAMES[kind]}",
                                       rest_of_line(text, pos))
        if code < pos:
            yield Span("code", code, pos)
        yield Span(kind, pos, end)
        pos = code = end
    if code < pos:
        yield Span("code", code, pos)


_NAMES = {"string": "string", "estring": "string", "ident": "quoted identifier",
          "dollar": "dollar-quoted string", "comment": "comment"}


def block_end(text: str, pos: int) -> int:
    """The index of the `}` closing a block whose body starts at pos (braces in code
    nest; those in strings and comments do not count)."""
    depth = 0
    for span in spans(text, pos):
        if span.kind != "code":
            continue
        for i in range(span.begin, span.end):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                if depth == 0:
                    return i
                depth -= 1
    raise SplitfileSyntaxError(line_of(text, pos - 1), "unterminated { block",
                               rest_of_line(text, pos - 1))


def statement_end(text: str, pos: int) -> int:
    """The end of a one-line statement starting at pos: the first newline in code that
    is not escaped by a `\\` ending its line."""
    for span in spans(text, pos):
        if span.kind != "code":
            continue
        for i in range(span.begin, span.end):
            if text[i] == "\n" and not text[span.begin:i].rstrip(" \t\r").endswith("\\"):
                return i
    return len(text)


def join_continuations(text: str) -> str:
    """A one-line statement's `\\`-newline continuations as spaces (in code only)."""
    return "".join(_CONTINUATION.sub(" ", text[s.begin:s.end]) if s.kind == "code"
                   else text[s.begin:s.end] for s in spans(text))


def _value_in(kind: str, value: str, text: str) -> str:
    """value as it must be written inside a span of this kind, so it stays a value."""
    if kind == "code":
        return "'" + value.replace("'", "''") + "'"
    if kind == "string":
        return value.replace("'", "''")
    if kind == "estring":
        return value.replace("\\", "\\\\").replace("'", "''")
    if kind == "ident":
        return value.replace('"', '""')
    tag = _DOLLAR_TAG.match(text).group()  # type: ignore[union-attr]
    if tag in value:
        raise BadParameter(f"a parameter value contains the delimiter {tag} of the "
                           "dollar-quoted string it is substituted into")
    return value


def substitute(text: str, value_of: Callable[[str], str]) -> str:
    """text with each ${NAME} replaced by value_of(NAME) as a value: a quoted literal in
    code, escaped inside strings and quoted identifiers. Comments are left as written
    (a value with a newline could end a -- comment)."""
    out = []
    for span in spans(text):
        piece = text[span.begin:span.end]
        if span.kind != "comment":
            piece = _substitute_span(span.kind, piece, value_of)
        out.append(piece)
    return "".join(out)


def _substitute_span(kind: str, piece: str, value_of: Callable[[str], str]) -> str:
    return PARAMETER.sub(lambda m: _value_in(kind, value_of(m.group(1)), piece), piece)


def normalise(text: str, images: Mapping[tuple[str, str], str] | None = None) -> str:
    """The statement as it is hashed: comments dropped, whitespace in code collapsed,
    image references "ns/repo:tag" written with the hash they resolve to."""
    out: list[str] = []
    code = ""  # the code since the last quoted span; a comment counts as a space
    for span in spans(text):
        if span.kind in ("code", "comment"):
            code += " " if span.kind == "comment" else text[span.begin:span.end]
            continue
        out += [re.sub(r"\s+", " ", code), text[span.begin:span.end]]
        code = ""
    normal = ("".join(out) + re.sub(r"\s+", " ", code)).strip()
    return replace_image_references(normal, images or {})


def image_references(text: str) -> list[tuple[str, str]]:
    """(repository, reference) of every "namespace/repository:reference" schema in the
    statement's code, in order of first appearance."""
    found: dict[tuple[str, str], None] = {}
    for span in spans(text):
        if span.kind == "ident":
            match = _IMAGE.match(text, span.begin)
            if match and match.end() == span.end:
                found[(match.group(1), match.group(2))] = None
    return list(found)


def replace_image_references(text: str, images: Mapping[tuple[str, str], str]) -> str:
    """The statement with each "ns/repo:reference" found in images written as
    "ns/repo:<what images maps it to>"."""
    out = []
    for span in spans(text):
        piece = text[span.begin:span.end]
        match = _IMAGE.match(text, span.begin) if span.kind == "ident" else None
        key = (match.group(1), match.group(2)) if match else None
        if match and match.end() == span.end and key in images:
            piece = f'"{key[0]}:{images[key]}"'  # type: ignore[index]
        out.append(piece)
    return "".join(out)


def statements(text: str) -> list[str]:
    """The statements of an SQL block, split at the semicolons in code (each is run on
    its own: a prepared statement holds one). Empty ones and comments alone dropped."""
    found, start = [], 0
    for span in spans(text):
        if span.kind != "code":
            continue
        for i in range(span.begin, span.end):
            if text[i] == ";":
                found.append(text[start:i])
                start = i + 1
    found.append(text[start:])
    return [s.strip() for s in found if normalise(s)]
