"""Rendering: one finding per line, workflow commands that GitHub cannot misread, windows and
verdicts as a reviewer reads them, aligned tables, a request's pull request texts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jitops import report
from jitops.findings import Finding, Severity
from jitops.models import AccessRequest
from jitops.policy import Check, Decision, Status, Verdict


def _request(**window: object) -> AccessRequest:
    return AccessRequest.model_validate(
        {
            "apiVersion": "jitops/v1",
            "kind": "AccessRequest",
            "id": "db-1",
            "requester": "alice",
            "target": "db",
            "role": "reader",
            "justification": "Look at the stuck export of INC-9",
            **window,
        }
    )


def test_a_finding_line_says_where_how_bad_what_and_the_fix() -> None:
    finding = Finding("requests/a.yaml", Severity.ERROR, "unknown field `x`", "remove it", 3, 5)
    assert report.finding_line(finding) == (
        "requests/a.yaml:3:5: error: unknown field `x` — remove it"
    )


def test_an_annotation_escapes_what_would_end_or_split_the_workflow_command() -> None:
    finding = Finding(
        "requests/a,b:c.yaml", Severity.WARNING, "100% wrong\r\nnext::line", None, 2, None
    )
    line = report.github_annotation(finding)
    assert line == (
        "::warning file=requests/a%2Cb%3Ac.yaml,line=2,col=1,title=jitops warning"
        "::100%25 wrong%0D%0Anext::line"
    )
    assert "\n" not in line and "\r" not in line
    error = report.github_annotation(Finding("p.yaml", Severity.DENIED, "no"))
    assert error == "::error file=p.yaml,title=jitops denied::no"


def test_a_window_reads_as_a_duration_from_merge_or_as_its_times() -> None:
    assert report.window_text(_request(duration="4h")) == "4h from merge"
    end = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
    assert report.window_text(_request(expires_at=end)) == "merge → 2026-12-03 01:00 UTC"
    start = end - timedelta(hours=2)
    assert (
        report.window_text(_request(starts_at=start, expires_at=end))
        == "2026-12-02 23:00 UTC → 2026-12-03 01:00 UTC"
    )


def test_a_verdict_before_review_says_what_it_still_needs_or_why_not() -> None:
    waiting = Decision(
        "db-1",
        Verdict.PENDING,
        (
            Check("requester", Status.PASS, "alice may ask"),
            Check("approval", Status.WAITING, "needs 1 approval from @acme/db-leads"),
        ),
        "sandbox-db",
    )
    assert report.request_verdict(waiting) == (
        "allowed by policy sandbox-db; needs 1 approval from @acme/db-leads before it can merge"
    )
    denied = Decision(
        "db-1", Verdict.DENIED, (Check("window", Status.FAIL, "8h is over the 4h maximum"),)
    )
    assert report.request_verdict(denied) == "refused: 8h is over the 4h maximum"


def test_a_text_table_aligns_every_column_to_its_widest_cell() -> None:
    lines = report.table(("id", "who", "until"), [("db-1", "@alice", "—"), ("x", "@b", "later")])
    assert lines == ["id    who     until", "db-1  @alice  —", "x     @b      later"]


def test_a_pull_requests_texts_name_the_request_and_its_window() -> None:
    request = _request(duration="2h")
    assert report.pull_title(request) == "Access request: @alice reader on db (2h from merge)"
    message = report.commit_message(request)
    assert message.startswith("Request reader on db for @alice (2h from merge)\n\n")
    assert message.endswith("Request-Id: db-1\n")
