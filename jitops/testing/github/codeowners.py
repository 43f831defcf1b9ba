"""CODEOWNERS as GitHub reads it: where the file lives, who owns a path, and its syntax errors.

Deliberately separate from ``jitops.codeowners``: the test double plays GitHub, so a mistake in
jitops' own reading of CODEOWNERS must not be mirrored here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
_OWNER = re.compile(r"^(@[A-Za-z0-9-]+(/[A-Za-z0-9._-]+)?|[^@\s]+@[^@\s]+\.[^@\s]+)$")


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


def _to_regex(pattern: str) -> re.Pattern[str]:
    anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
    body = pattern.strip("/")
    out = ""
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif body.startswith("**", i):
            out += ".*"
            i += 2
        elif body[i] == "*":
            out += "[^/]*"
            i += 1
        elif body[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(body[i])
            i += 1
    prefix = "^" if anchored else "^(?:.*/)?"
    # A pattern matches the path itself or anything beneath it (a directory).
    return re.compile(f"{prefix}{out}(?:/.*)?$")


def parse(text: str) -> list[Rule]:
    """The rules of a CODEOWNERS file, in file order (the last match wins)."""
    rules = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        pattern, *owners = line.split()
        rules.append(Rule(number, pattern, tuple(owners), _to_regex(pattern)))
    return rules


def owners_of(rules: list[Rule], path: str) -> tuple[str, ...]:
    """The owners of ``path``: those of the last rule that matches it."""
    for rule in reversed(rules):
        if rule.regex.match(path):
            return rule.owners
    return ()


def errors(text: str, path: str, known_owner: Callable[[str], bool]) -> list[CodeownersError]:
    """Syntax and unknown-owner errors; ``known_owner(owner) -> bool`` says who exists."""
    found = []
    for rule in parse(text):
        raw = text.splitlines()[rule.line - 1]
        for owner in rule.owners:
            column = raw.find(owner) + 1
            if not _OWNER.match(owner):
                kind, message = "Invalid owner", f"Invalid owner on line {rule.line}"
            elif not known_owner(owner):
                kind, message = (
                    "Unknown owner",
                    (
                        f"Unknown owner on line {rule.line}: make sure {owner} exists "
                        "and has write access to the repository"
                    ),
                )
            else:
                continue
            found.append(
                CodeownersError(
                    line=rule.line,
                    column=column,
                    kind=kind,
                    source=raw,
                    suggestion=None,
                    message=f"{message}\n\n  {raw}\n  {' ' * (column - 1)}^",
                    path=path,
                )
            )
    return found
