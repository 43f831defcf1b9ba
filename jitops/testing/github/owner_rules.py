"""CODEOWNERS as GitHub reads it: where the file lives, who owns a path, and its syntax errors.

Deliberately separate from ``jitops.owners``: the test double plays GitHub, so a mistake in
jitops' own reading of CODEOWNERS must not be mirrored here.

GitHub's patterns look like gitignore's but are not the same. What this module follows:

- ``#`` starts a comment wherever it stands, even after ``\\`` (GitHub documents that escaping
  ``#`` does not work), so an inline comment after owners or after a tab is never an owner.
- ``\\x`` makes ``x`` literal: ``\\*``, ``\\?``, and ``\\ `` for a space inside a pattern.
- A leading ``/``, or a ``/`` in the middle, anchors a pattern to the repository root; otherwise
  it matches at any depth.
- A trailing ``/`` means "everything inside that directory", never a file of that name.
- A bare ``*`` segment matches exactly one segment; ``*`` inside a segment any run of characters
  but ``/``, ``?`` one such character. ``**`` as a whole segment spans directories.
- A last segment that is neither a bare ``*`` nor ``**`` also matches everything beneath it.
- ``[`` and ``]`` are plain characters: character ranges are not supported.
- Paths are compared case-sensitively.
- A line whose pattern is invalid (``!`` negation, ``***``, a dangling ``\\``, a bare ``/``) is
  skipped for ownership and reported as an ``Invalid pattern`` error.
- The last matching rule wins; a rule with no owners leaves its paths without an owner.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
_OWNER = re.compile(r"^(@[A-Za-z0-9-]+(/[A-Za-z0-9._-]+)?|[^@\s]+@[^@\s]+\.[^@\s]+)$")

# Pieces of a compiled pattern. Directories are always followed by their "/" inside the group,
# so a run of them can be empty ("zero or more directories").
_ANY_DIRECTORIES = "(?:[^/]+/)*"
_ONE_SEGMENT = "[^/]+"
# Owners are separated by any run of spaces or tabs.
_WORD = re.compile(r"\S+")
# The unescaped characters that are not literal; "[", "]" and "!" are not among them.
_SPECIAL: dict[str, Literal["star", "question", "slash"]] = {
    "*": "star",
    "?": "question",
    "/": "slash",
}


@dataclass(frozen=True)
class Rule:
    line: int
    pattern: str
    owners: tuple[str, ...]
    regex: re.Pattern[str]


@dataclass(frozen=True)
class CodeownersError:
    """One entry of ``GET /repos/{owner}/{repo}/codeowners/errors``."""

    line: int
    column: int
    kind: str
    source: str
    suggestion: str | None
    message: str
    path: str


class _InvalidPattern(Exception):
    """Why a pattern cannot be used; GitHub then skips the whole line."""

    def __init__(self, column: int, suggestion: str | None = None) -> None:
        super().__init__(suggestion)
        self.column = column  # 0-based, within the pattern
        self.suggestion = suggestion


@dataclass(frozen=True)
class _Token:
    """One character of a pattern: a literal, a wildcard (``*`` or ``?``), or a separator."""

    kind: Literal["literal", "star", "question", "slash"]
    text: str


@dataclass(frozen=True)
class _Line:
    """A CODEOWNERS line split into its pattern and owners, with their 0-based columns."""

    number: int
    raw: str
    pattern: str
    pattern_column: int
    owners: tuple[tuple[str, int], ...]


def _split(number: int, raw: str) -> _Line | None:
    """The pattern and owners of one line, or None for a blank or comment-only line."""
    # GitHub ends the line at the first "#", whatever precedes it (escaping it does not work).
    content = raw.split("#", 1)[0]
    i, end = 0, len(content)
    while i < end and content[i].isspace():
        i += 1
    if i == end:
        return None
    start = i
    # The pattern runs to the first unescaped whitespace: "\ " keeps a space inside it.
    while i < end and not content[i].isspace():
        i += 2 if content[i] == "\\" else 1
    i = min(i, end)
    owners = tuple((m.group(), m.start()) for m in _WORD.finditer(content, i))
    return _Line(number, raw, content[start:i], start, owners)


def _tokens(pattern: str) -> list[_Token]:
    """The pattern's characters with escapes resolved; raises ``_InvalidPattern``."""
    tokens = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if i + 1 == len(pattern):  # nothing left to escape: GitHub rejects the pattern
                raise _InvalidPattern(i)
            tokens.append(_Token("literal", pattern[i + 1]))
            i += 2
            continue
        if pattern.startswith("***", i):
            fixed = re.sub(r"\*{3,}", "**", pattern)
            raise _InvalidPattern(i, f"Did you mean `{fixed}`?")
        tokens.append(_Token(_SPECIAL.get(char, "literal"), char))
        i += 1
    return tokens


def _segment_regex(segment: list[_Token]) -> str:
    if [t.kind for t in segment] == ["star"]:
        return _ONE_SEGMENT  # a bare "*" is a whole segment, never an empty one
    out = ""
    for token in segment:
        if token.kind == "star":
            out += "[^/]*"
        elif token.kind == "question":
            out += "[^/]"
        else:
            out += re.escape(token.text)
    return out


def _is_globstar(segment: list[_Token]) -> bool:
    return [t.kind for t in segment] == ["star", "star"]


def _to_regex(pattern: str) -> re.Pattern[str]:
    """The regular expression a path must match in full; raises ``_InvalidPattern``."""
    if pattern.startswith("!"):  # negation is gitignore syntax that CODEOWNERS does not have
        raise _InvalidPattern(0)
    segments: list[list[_Token]] = [[]]
    for token in _tokens(pattern):
        if token.kind == "slash":
            segments.append([])
        else:
            segments[-1].append(token)
    anchored = not segments[0]
    if anchored:
        segments.pop(0)
    inside = bool(segments) and not segments[-1]  # a trailing "/": the directory's contents
    if inside:
        segments.pop()
    if not segments:
        suggestion = f"The pattern `{pattern}` will never match anything, did you mean `*` instead?"
        raise _InvalidPattern(0, suggestion)
    # A slash anywhere but at the end anchors the pattern as a leading one does.
    anchored = anchored or len(segments) > 1
    # A trailing "**" also means "everything inside" (but not the directory itself).
    while segments and _is_globstar(segments[-1]):
        segments.pop()
        inside = True
    out = "" if anchored else _ANY_DIRECTORIES
    for position, segment in enumerate(segments):
        if _is_globstar(segment):
            out += _ANY_DIRECTORIES  # leading or middle "**": zero or more directories
            continue
        out += _segment_regex(segment)
        if position < len(segments) - 1:
            out += "/"
    if inside:
        out += ".+" if not segments else "/.+"
    elif [t.kind for t in segments[-1]] != ["star"]:
        # A name that is not a bare "*" may be a directory: it owns everything beneath it.
        out += "(?:/.*)?"
    return re.compile(rf"\A{out}\Z")


def _read(text: str) -> list[tuple[_Line, re.Pattern[str] | _InvalidPattern]]:
    """Every pattern line of ``text`` with its compiled pattern, or why it is invalid."""
    found: list[tuple[_Line, re.Pattern[str] | _InvalidPattern]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _split(number, raw)
        if line is None:
            continue
        try:
            found.append((line, _to_regex(line.pattern)))
        except _InvalidPattern as invalid:
            found.append((line, invalid))
    return found


def parse(text: str) -> list[Rule]:
    """The rules of a CODEOWNERS file, in file order (the last match wins).

    Lines with an invalid pattern are left out, as GitHub skips them.
    """
    return [
        Rule(line.number, line.pattern, tuple(o for o, _ in line.owners), regex)
        for line, regex in _read(text)
        if isinstance(regex, re.Pattern)
    ]


def owners_of(rules: list[Rule], path: str) -> tuple[str, ...]:
    """The owners of ``path``: those of the last rule that matches it."""
    for rule in reversed(rules):
        if rule.regex.match(path):
            return rule.owners
    return ()


def _error(
    line: _Line, column: int, kind: str, message: str, suggestion: str | None, path: str
) -> CodeownersError:
    """An error entry whose message points at ``column`` (1-based) under the line."""
    return CodeownersError(
        line=line.number,
        column=column,
        kind=kind,
        source=line.raw,
        suggestion=suggestion,
        message=f"{message}\n\n  {line.raw}\n  {' ' * (column - 1)}^",
        path=path,
    )


def errors(text: str, path: str, known_owner: Callable[[str], bool]) -> list[CodeownersError]:
    """Syntax and unknown-owner errors; ``known_owner(owner) -> bool`` says who exists."""
    found = []
    for line, regex in _read(text):
        if isinstance(regex, _InvalidPattern):
            # The line is skipped as a whole, so its owners are not checked.
            message = f"Invalid pattern on line {line.number}"
            if regex.suggestion is not None:
                message += f": {regex.suggestion}"
            column = line.pattern_column + regex.column + 1
            found.append(_error(line, column, "Invalid pattern", message, regex.suggestion, path))
            continue
        for owner, offset in line.owners:
            if not _OWNER.match(owner):
                kind, message = "Invalid owner", f"Invalid owner on line {line.number}"
            elif not known_owner(owner):
                kind, message = (
                    "Unknown owner",
                    (
                        f"Unknown owner on line {line.number}: make sure {owner} exists "
                        "and has write access to the repository"
                    ),
                )
            else:
                continue
            found.append(_error(line, offset + 1, kind, message, None, path))
    return found
