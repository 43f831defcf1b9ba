"""``jitops audit --format html``: one self-contained page, read back in a real browser."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from jitops import evidence
from jitops.commands.audit import AuditQuery, audit_listing
from jitops.report.html import audit_html
from tests.commands.test_audit import approval
from tests.fixtures.chromium import Browse
from tests.gitrepo import (
    commit_all,
    git,
    land_action,
    make_access_repo,
    record_applied,
    write_request,
)

HOSTILE = '<img src=x onerror="document.title=1"><script>document.title=2</script>'
GENERATED = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four grants: two auto-approved, one pushed with no review, one approved by bob in a pull
    request; one justification is markup; origin's URL carries a token."""
    root = make_access_repo(tmp_path_factory.mktemp("html") / "access")
    write_request(root, "a-1", duration="2h")
    commit_all(root, "grant a-1", date="2026-11-23T09:00:00Z")
    record_applied(root, only={"a-1"})
    hostile = HOSTILE.replace("'", "''")
    write_request(root, "b-1", requester="carol", justification=f"'{hostile} for INC-9'")
    commit_all(root, "grant b-1", date="2026-11-23T09:30:00Z")
    record_applied(root, only={"b-1"})
    write_request(root, "c-1", duration="1h")
    commit_all(root, "no review", date="2026-11-23T10:00:00Z")
    d = write_request(root, "d-1", requester="dave", duration="3h")
    merged = commit_all(root, "grant d-1 (#7)", date="2026-11-23T12:00:00Z")
    evidence.record(root, merged, approval("d-1", d.relative_to(root).as_posix()))
    # an action that failed: its error is the target's text, which the requester's SQL shapes
    land_action(
        root, "fix-1", requester="erin", date="2026-11-23T13:00:00Z", pull_request=9,
        state="failed", identity="jitops_actions", rows_affected=0, digest="ab" * 32,
        error=HOSTILE,
    )  # fmt: skip
    url = "https://x-access-token:ghs_NotForThePage@github.com/acme/access.git"
    git(root, "remote", "add", "origin", url)
    return root


def page(repo: Path, query: AuditQuery | None = None) -> str:
    report = audit_listing(repo, "HEAD", query or AuditQuery(), False, None)
    return audit_html(report, GENERATED)


class _Elements(HTMLParser):
    """Every element of a page: (tag, attributes), and the page's title."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False


def elements(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    return parser


def test_the_page_is_self_contained_and_loads_nothing(repo: Path) -> None:
    html = page(repo)
    parsed = elements(html)
    tags = {tag for tag, _ in parsed.elements}
    # styles are inline (one <style>); nothing that embeds, loads or submits
    assert not tags & {"img", "link", "iframe", "object", "embed", "form"}
    assert not any("src" in attrs for _, attrs in parsed.elements)
    scripts = [a for t, a in parsed.elements if t == "script"]
    assert scripts == [{"type": "application/json", "id": "grant-data"}, {}]  # data, and ours
    [policy] = [a for t, a in parsed.elements if a.get("http-equiv") == "Content-Security-Policy"]
    content = policy["content"] or ""
    assert "default-src 'none'" in content
    [allowed] = re.findall(r"script-src 'sha256-([A-Za-z0-9+/=]+)'", content)
    ours = html.split("<script>", 1)[1].split("</script>", 1)[0]
    assert allowed == base64.b64encode(hashlib.sha256(ours.encode()).digest()).decode()
    links = [a["href"] for t, a in parsed.elements if t == "a" and a.get("href")]
    pulls = {f"https://github.com/acme/access/pull/{n}" for n in (7, 9)}  # d-1, fix-1
    assert all(h.startswith("#") or h in pulls for h in links)


@pytest.mark.attack(7, "origin's URL carries a token that the audit page would publish")
def test_a_token_in_origin_s_url_never_reaches_the_page(repo: Path) -> None:
    html = page(repo)
    assert "ghs_NotForThePage" not in html and "x-access-token" not in html
    assert "https://github.com/acme/access" in html


def test_source_problems_and_every_grant_are_on_the_page(repo: Path) -> None:
    html = page(repo)
    parsed = elements(html)
    rows = [a["data-grant"] for t, a in parsed.elements if t == "tr" and "data-grant" in a]
    assert rows == ["a-1", "b-1", "c-1", "d-1"]
    assert "<dt>branch</dt><dd>main</dd>" in html and "2026-11-24 08:00 UTC" in html
    problems = html[html.index('id="problems"') : html.index("Access over time")]
    assert "c-1" in problems and "no approval evidence" in problems and "a-1" not in problems
    bars = [a for t, a in parsed.elements if "bar" in (a.get("class") or "").split()]
    assert len(bars) == 4 and sum("problem" in (b["class"] or "") for b in bars) == 1
    narrowed = page(repo, AuditQuery.of(users=["dave"]))
    assert "--user dave" in narrowed and narrowed.count("data-grant=") == 1


def test_every_action_request_is_on_the_page_with_what_became_of_it(repo: Path) -> None:
    html = page(repo)
    actions = html[html.index('<table id="actions">') :]
    [row] = re.findall(r"<tr class=[^>]*>.*?</tr>", actions)
    assert row.startswith('<tr class="problem">')  # it failed
    assert '<td class="mono">fix-1</td><td>@erin</td><td>sandbox-db/fix-order-state</td>' in row
    assert '<td>@bob</td><td><a href="https://github.com/acme/access/pull/9">#9</a></td>' in row
    assert "<td>failed</td><td>2026-11-23 13:00 UTC</td><td>jitops_actions</td>" in row
    assert HOSTILE not in html and escape(HOSTILE, quote=True) in row
    narrowed = page(repo, AuditQuery.of(users=["dave"]))
    assert "No action requests match the filters." in narrowed
    assert "fix-1" in page(repo, AuditQuery.of(only_actions=True))


def test_overlapping_grants_of_one_lane_get_tracks_of_their_own(repo: Path) -> None:
    """alice's a-1 (09:00–11:00) and c-1 (10:00–11:00) overlap: two tracks, no hidden bar."""
    html = page(repo, AuditQuery.of(users=["alice"]))
    tops = re.findall(r'class="bar [a-z]+" href="#g-[0-9a-f]+-(\w-1)"[^>]*top:([0-9.]+)em', html)
    assert dict(tops) == {"a-1": "0.0", "c-1": "1.3"}


@pytest.mark.attack(6, "a justification written as markup that would run in the audit page")
def test_in_a_real_browser_every_grant_shows_and_nothing_runs(
    repo: Path, chromium: Browse, tmp_path: Path
) -> None:
    """The page as chromium builds it: every grant is a row, the markup someone wrote is text
    (no element made of it, the title untouched), and a screenshot renders."""
    html = page(repo)
    file = tmp_path / "audit.html"
    file.write_text(html, encoding="utf-8")
    dom = elements(chromium(file, "--dump-dom"))
    rows = [a["data-grant"] for t, a in dom.elements if t == "tr" and "data-grant" in a]
    assert rows == ["a-1", "b-1", "c-1", "d-1"]
    assert dom.title == elements(html).title and dom.title.startswith("jitops audit")
    assert not any(tag == "img" for tag, _ in dom.elements)
    assert HOSTILE.replace("<", "&lt;").replace(">", "&gt;")[:20] in chromium(file, "--dump-dom")
    shot = tmp_path / "audit.png"
    chromium(file, f"--screenshot={shot}", "--window-size=1400,900")
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000


@pytest.mark.attack(6, "a justification that closes the page's data and starts a script")
def test_past_a_page_the_script_lists_the_rest_and_runs_nothing_else(
    repo: Path, chromium: Browse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With more grants than a page, the page lists a page and carries the rest as data its
    own script lists (``#all``: every one); a value that tries to end the data element and
    start a script stays text, and no script but the page's own could run."""
    from jitops.report import html as module

    monkeypatch.setattr(module, "PAGE", 2)
    escape_attempt = '</script><script>document.title="owned"</script><img src=x>'
    report = audit_listing(repo, "HEAD", AuditQuery(), False, None)
    first = report.records[0]
    hostile = replace(
        first, request=first.request.model_copy(update={"justification": escape_attempt})
    )
    html = audit_html(replace(report, records=(hostile, *report.records[1:])), GENERATED)
    assert (
        escape_attempt not in html and "</script><script>" not in html.split("grant-data")[1][:2000]
    )
    served = elements(html)
    assert [a["data-grant"] for t, a in served.elements if "data-grant" in a] == ["a-1", "b-1"]
    file = tmp_path / "audit.html"
    file.write_text(html, encoding="utf-8")
    first_page = elements(chromium(file, "--dump-dom"))
    listed = [a["data-grant"] for t, a in first_page.elements if "data-grant" in a]
    assert listed == ["a-1", "b-1"] and first_page.title.startswith("jitops audit")
    assert "grants 1–2 of 4" in chromium(file, "--dump-dom")
    everything = elements(chromium(file, "--dump-dom", fragment="all"))
    rows = [a["data-grant"] for t, a in everything.elements if "data-grant" in a]
    assert rows == ["a-1", "b-1", "c-1", "d-1"]
    assert not any(tag == "img" for tag, _ in everything.elements)
    assert everything.title.startswith("jitops audit")


def test_a_timeline_of_too_many_lanes_shows_those_that_ended_last(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``TIMELINE_LANES`` people and targets the timeline keeps those whose access ended
    last and says so; the table keeps every grant."""
    from jitops.report import html as module

    monkeypatch.setattr(module, "TIMELINE_LANES", 2)
    text = page(repo)
    assert "shows the 2 of 3 people and targets whose access ended last" in text
    lanes = re.findall(r'<div class="who">@(\w+) · ', text)
    assert lanes == ["carol", "dave"]  # alice's last grant ended at 11:00, before theirs
    assert text.count("data-grant=") == 4
