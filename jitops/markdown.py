"""Markdown for people: what a requester wrote renders as those characters, and nothing more.

Used by every place jitops writes Markdown people read (PR comments, job summaries, issues),
so it depends on nothing of jitops.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# # A request's justification, ticket and file names, and jitops' sentences quoting them, reach
# PR comments, job summaries and issues. There they must not become HTML (GitHub keeps
# <details>, <img>, <a>), links or images, clickable autolinks, @mentions that notify a person
# or a team, or extra table cells. Each character that could start markup is escaped; an
# autolink or a mention is broken by an invisible WORD JOINER (U+2060) after "@", "www" or the
# scheme's ":" — it still reads as written, but GitHub links and notifies no one.

_WORD_JOINER = "\u2060"
_ESCAPES = {
    "&": "&amp;",  # an entity (&#60;) must not turn into the character it names
    "<": "&lt;",  # HTML, comments and <https://…> autolinks
    ">": "&gt;",
    **{c: "\\" + c for c in "\\`*_[]|~$"},  # code, emphasis, links, cells, strikes, math
}
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=\bwww)(?=\.)")


def markdown_text(text: str, *, quoting: Iterable[str] | None = None) -> str:
    """``text`` for a Markdown line (a table cell, a list item): on one line, every character
    shown as written, none of it markup, no link clickable.

    ``quoting`` None: all of ``text`` is someone's input, so no @mention in it notifies.
    Given: ``text`` is jitops' own sentence (whose @mentions of approvers are its own) that may
    quote input — the mentions inside those quoted values (or their ``repr``) are broken.
    """
    flat = " ".join(text.split())  # newlines would end a table row or a list item
    breaking = [quoting is None] * len(flat)
    quoted = {
        form for value in quoting or () for form in (" ".join(value.split()), repr(value)[1:-1])
    }
    for value in filter(None, quoted):
        start = flat.find(value)
        while start != -1:
            breaking[start : start + len(value)] = [True] * len(value)
            start = flat.find(value, start + 1)
    escaped = "".join(
        "@" + _WORD_JOINER if c == "@" and breaking[i] else _ESCAPES.get(c, c)
        for i, c in enumerate(flat)
    )
    return _AUTOLINK.sub(_WORD_JOINER, escaped)


def markdown_code(text: str, *, in_table: bool = False) -> str:
    """``text`` as an inline code span, whatever it holds: inside one GitHub renders no HTML,
    link or mention, so only the span's own edges need care — a fence longer than any run of
    backticks in it, and (``in_table``) each ``|`` escaped, which GFM requires even there."""
    flat = " ".join(text.split())
    if not flat:
        return "—"
    fence = "`" * (max((len(run) for run in re.findall("`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    body = flat.replace("|", "\\|") if in_table else flat
    return f"{fence}{pad}{body}{pad}{fence}"
