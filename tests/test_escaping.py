"""Requester text in Markdown renders as the characters written, and as nothing else: hostile
inputs, and what must not survive of each (raw HTML, links, images, clickable autolinks,
mentions that notify, extra table cells)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jitops.markdown import markdown_code, markdown_text
from jitops.report.comments import table_cell

WJ = "\u2060"

# (input, substrings that must not be in the output)
HOSTILE = [
    ("<img src=x onerror=alert(1)>", ["<img", "<"]),
    ("<details><summary>approved</summary></details>", ["<details>", "<summary>"]),
    ("<a href='http://evil'>x</a>", ["<a ", "http://"]),
    ("<!-- jitops:approval -->", ["<!--"]),
    ("[click](http://evil.example)", ["[click](", "http://"]),
    ("![](https://evil.example/p.png)", ["![](", "https://"]),
    ("[ref]: http://evil.example", ["[ref]:", "http://"]),
    ("<https://evil.example>", ["<https", "https://"]),
    ("https://evil.example/a", ["https://"]),
    ("HTTP://EVIL.EXAMPLE", ["HTTP://"]),
    ("www.evil.example", ["www.evil"]),
    ("WWW.EVIL.EXAMPLE", ["WWW.EVIL"]),
    ("mail me@evil.example", ["me@evil"]),
    ("@mallory please approve", ["@mallory"]),
    ("cc @acme/security", ["@acme/security"]),
    ("a | b | c", ["a | b", " | "]),
    ("line one\nline two\r\n| x |", ["\n", "\r"]),
    ("one\u2028two\u2029three", ["\u2028", "\u2029"]),
    ("**bold** __bold__ *it* _it_", ["**bold**", "__bold__", " *it*", " _it_"]),
    ("~~struck~~", ["~~struck~~"]),
    ("`code` and ``more``", ["`code`", "``more``"]),
    ("$\\href{http://evil}{x}$", ["$\\href", "http://"]),
    ("&lt;img&gt; &#64;mallory &amp;", ["&lt;img&gt;", "&#64;"]),
    ("back\\slash \\<b>", ["\\<b>", "<b>"]),
]


@pytest.mark.parametrize(("hostile", "forbidden"), HOSTILE)
def test_hostile_text_keeps_no_markup(hostile: str, forbidden: list[str]) -> None:
    out = markdown_text(hostile)
    for piece in forbidden:
        assert piece not in out, (hostile, out)
    # every character that opens markup is escaped, and "<", ">" exist only as entities
    assert not re.search(r"(?<!\\)[`*_\[\]|~$]", out.replace("\\\\", "")), out
    assert "<" not in out and ">" not in out


@pytest.mark.parametrize(("hostile", "forbidden"), HOSTILE)
def test_hostile_text_still_reads_as_written(hostile: str, forbidden: list[str]) -> None:
    """Undo the escapes and drop the invisible joiners: the words are the requester's own
    (whitespace runs, newlines included, become one space)."""
    shown = unescape(markdown_text(hostile))
    assert shown == " ".join(hostile.split())


def unescape(markdown: str) -> str:
    """What GitHub shows for the output of ``markdown_text``."""
    text = re.sub(r"\\(.)", r"\1", markdown.replace(WJ, ""))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@pytest.mark.parametrize(("hostile", "forbidden"), HOSTILE)
def test_a_table_cell_holds_one_cell(hostile: str, forbidden: list[str]) -> None:
    row = f"| why | {markdown_text(hostile)} |"
    assert len(re.findall(r"(?<!\\)\|", row)) == 3
    assert "\n" not in row


def test_jitops_own_mentions_stay_and_quoted_ones_are_broken() -> None:
    """jitops' sentence names the approvers (a mention it means); a ticket quoted in it
    mentions no one, whether quoted as written or by ``repr``."""
    ticket = "x\\ @acme/security"
    detail = f"needs 1 approval from @acme/db-leads; ticket {ticket!r} does not match"
    out = markdown_text(detail, quoting=[ticket])
    assert "@acme/db-leads" in out
    assert "@acme/security" not in out and "@" + WJ + "acme/security" in out
    assert markdown_text(f"ticket {ticket}", quoting=[ticket]).count("@" + WJ) == 1


def test_jitops_own_sentence_is_escaped_too() -> None:
    out = markdown_text("file <b>x</b>.yaml changed, see http://x", quoting=())
    assert "<b>" not in out and "http://" not in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "`plain`"),
        ("a`b", "``a`b``"),
        ("``x``", "``` ``x`` ```"),
        ("`x", "`` `x ``"),
        ("", "—"),
        ("a\nb", "`a b`"),
    ],
)
def test_code_spans_never_end_early(text: str, expected: str) -> None:
    assert markdown_code(text) == expected


def test_a_code_span_in_a_table_escapes_pipes() -> None:
    assert markdown_code("a|b", in_table=True) == "`a\\|b`"
    assert markdown_code("a|b") == "`a|b`"


def test_an_issue_cell_is_one_code_span() -> None:
    """Issues render their cells as code, where GitHub shows no markup: only the span's
    edges and the table's pipes need care."""
    cell = table_cell("run `<img src=x>` | @mallory\nnow")
    assert cell == "`run '<img src=x>' \\| @mallory now`"


def test_the_apply_comment_renders_a_detail_quoting_the_request_inert(tmp_path: Path) -> None:
    """apply's comment on the merged pull request shows each outcome's detail, which may
    quote the requester's own words (an exec script echoing the justification): inert."""
    from jitops.commands.apply import Action, Outcome
    from jitops.ledger import read_ledger
    from jitops.report.comments import apply_comment
    from tests.gitrepo import commit_all, make_access_repo, write_request

    root = make_access_repo(tmp_path / "access")
    hostile = "Fix INC-9 <img src=x onerror=alert(1)> cc @acme/security [go](http://evil)"
    write_request(root, "esc-1", justification=hostile)
    commit_all(root, "grant")
    [entry] = read_ledger(root).entries
    body = apply_comment([Outcome(entry, Action.FAILED, f"the script said: {hostile}", 7)])
    assert "<img" not in body and "@acme/security" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body and "\\[go\\](http:\u2060//evil)" in body
