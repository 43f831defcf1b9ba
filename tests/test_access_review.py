"""``jitops audit review``: per approver or team, what they approved in a period and what is
still active, as a checklist (Markdown) or rows (CSV) the owners confirm."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jitops import evidence
from jitops.access_review import AUTO_APPROVED, ReviewBy, review
from jitops.commands.audit import AuditQuery, audit
from jitops.report.comments import review_markdown
from jitops.report.csv import REVIEW_COLUMNS, review_csv
from tests.commands.test_audit import approval
from tests.gitrepo import commit_all, make_access_repo, record_applied, write_request


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def approved_by(
    request_id: str, path: str, login: str, teams: list[str]
) -> evidence.ApprovalEvidence:
    note = approval(request_id, path)
    who = evidence.Approver(login=login, review_id=11, teams=teams)
    found = note.requests[0].model_copy(update={"approvers": [who]})
    return note.model_copy(update={"requests": [found]})


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """October and November: bob (db-leads) approved o-1 in October and n-1 in November, erin
    (security) approved n-2 in November, still active on 30 November; a-1 was auto-approved;
    x-1 landed with no evidence."""
    root = make_access_repo(tmp_path_factory.mktemp("review") / "access")
    landings = [
        ("o-1", "bob", ["acme/db-leads"], "2026-10-10T09:00:00Z", "4h"),
        ("n-1", "bob", ["acme/db-leads"], "2026-11-10T09:00:00Z", "4h"),
        ("n-2", "erin", ["acme/security"], "2026-11-29T09:00:00Z", "48h"),
    ]
    for request_id, login, teams, date, duration in landings:
        path = write_request(root, request_id, role="readwrite", duration=duration)
        merged = commit_all(root, f"grant {request_id}", date=date)
        rel = path.relative_to(root).as_posix()
        evidence.record(root, merged, approved_by(request_id, rel, login, teams))
    write_request(root, "a-1", requester="dave", duration="2h")
    commit_all(root, "grant a-1", date="2026-11-12T09:00:00Z")
    record_applied(root, only={"a-1"})
    write_request(root, "x-1", duration="2h")
    commit_all(root, "no review", date="2026-11-13T09:00:00Z")
    return root


NOVEMBER = AuditQuery.of(since=at("2026-11-01T00:00:00Z"), until=at("2026-12-01T00:00:00Z"))
NOW = at("2026-11-30T12:00:00Z")


def groups(root: Path, by: ReviewBy) -> dict[str, tuple[list[str], list[str]]]:
    found = review(audit(root), NOVEMBER, by, NOW)
    return {
        g.owner: ([r.request.id for r in g.approved], [r.request.id for r in g.active])
        for g in found.groups
    }


def test_per_approver_the_period_s_approvals_and_what_is_still_active(history: Path) -> None:
    assert groups(history, ReviewBy.APPROVER) == {
        "@bob": (["n-1"], []),  # o-1 is October's
        "@erin": (["n-2"], ["n-2"]),
        AUTO_APPROVED: (["a-1"], []),
    }


def test_per_team_the_teams_the_approvers_were_counted_for(history: Path) -> None:
    assert groups(history, ReviewBy.TEAM) == {
        "@acme/db-leads": (["n-1"], []),
        "@acme/security": (["n-2"], ["n-2"]),
        AUTO_APPROVED: (["a-1"], []),
    }


def test_a_grant_without_valid_evidence_is_verify_s_not_the_review_s(history: Path) -> None:
    found = review(audit(history), AuditQuery(), ReviewBy.APPROVER, NOW)
    listed = {r.request.id for g in found.groups for r in (*g.approved, *g.active)}
    assert "x-1" not in listed and {"o-1", "n-1", "n-2", "a-1"} <= listed


def test_markdown_is_a_checklist_that_mentions_owners_and_no_one_else(history: Path) -> None:
    text = review_markdown(review(audit(history), NOVEMBER, ReviewBy.APPROVER, NOW))
    assert "### @bob" in text and "### @erin" in text
    assert "### auto-approved (no approver)" in text
    assert text.count("- [ ] ") == 4  # n-1, n-2 approved, n-2 still active, a-1
    assert "Still active (1):" in text
    assert "@alice" not in text.replace("@\u2060alice", "")  # the requester is not pinged
    assert "from 2026-11-01 00:00 UTC until 2026-12-01 00:00 UTC" in text


def test_csv_has_a_row_per_owner_and_grant_and_a_column_to_confirm(history: Path) -> None:
    text = review_csv(review(audit(history), NOVEMBER, ReviewBy.TEAM, NOW))
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(rows[0]) == list(REVIEW_COLUMNS)
    assert [(r["owner"], r["section"], r["id"]) for r in rows] == [
        ("acme/db-leads", "approved", "n-1"),
        ("acme/security", "approved", "n-2"),
        ("acme/security", "active", "n-2"),
        ("auto-approved", "approved", "a-1"),
    ]
    assert all(r["confirmed"] == "" for r in rows)
