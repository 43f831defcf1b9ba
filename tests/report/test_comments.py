"""GitHub Markdown: a request's pull-request texts, and what the sweep and audit verify
write on GitHub."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jitops.findings import Finding, Severity
from jitops.ledger import LedgerEntry
from jitops.report import comments as report
from tests.report.test_text import a_request


def test_a_pull_requests_texts_name_the_request_and_its_window() -> None:
    request = a_request(duration="2h")
    assert report.pull_title(request) == "Access request: @alice reader on db (2h from merge)"
    message = report.commit_message(request)
    assert message.startswith("Request reader on db for @alice (2h from merge)\n\n")
    assert message.endswith("Request-Id: db-1\n")


NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def an_entry(request_id: str = "db-1", minutes_left: int = 30) -> LedgerEntry:
    request = a_request(duration="2h").model_copy(update={"id": request_id})
    end = NOW + timedelta(minutes=minutes_left)
    return LedgerEntry(f"requests/db/reader/{request_id}.yaml", request, None, None, end)


def test_the_revocation_body_lists_whose_access_went_soonest_expired_first() -> None:
    body = report.revocation_body([an_entry("db-2", -10), an_entry("db-1", -60)], NOW)
    rows = [line for line in body.splitlines() if line.startswith("| @")]
    assert rows == [
        "| @alice | `reader` on `db` | 2026-12-03 11:00 | `db-1` |",
        "| @alice | `reader` on `db` | 2026-12-03 11:50 | `db-2` |",
    ]
    assert "Swept at 2026-12-03 12:00 UTC" in body


def test_the_expiry_warning_says_when_and_how_to_keep_access() -> None:
    body = report.expiry_warning([an_entry(minutes_left=45)], NOW)
    assert body.startswith("### jitops: access expires soon\n")
    assert "@alice: `reader` on `db` ends at 2026-12-03 12:45 UTC (in 45 min)" in body
    assert "new request with a new id" in body


@pytest.mark.attack(6, "markup in an id written by hand into the failed-revokes issue")
def test_the_closing_comment_shows_ids_read_back_from_the_issue_as_plain_text() -> None:
    """The ids the closing comment lists are read back from the issue, which anyone who can
    edit issues can change: one that is not on the branch is shown as code, never as a
    mention, link or HTML."""
    revoked = {"db-1": an_entry("db-1")}
    hostile = "x` @acme/security <img src=x> [a](https://evil.example)"
    body = report.closing_comment(revoked, ["db-1", hostile], NOW)
    assert "- revoked: @alice `reader` on `db` (`db-1`)" in body
    [line] = [line for line in body.splitlines() if "no longer on the branch" in line]
    assert line.startswith("- `x' @acme/security <img src=x> [a](https://evil.example)`: ")
    assert line.count("`") % 2 == 0  # the code span is not ended early


def test_the_audit_issue_lists_each_problem_as_cells() -> None:
    finding = Finding("requests/a|b.yaml", Severity.DENIED, "no evidence", "revoke it")
    body = report.audit_issue_body([finding], "0123456789abcdef", NOW)
    assert "| `requests/a\\|b.yaml` | `no evidence` | `revoke it` |" in body
    assert "Checked 0123456789ab at 2026-12-03 12:00 UTC" in body
    assert "0123456789ab" in report.audit_closing_comment("0123456789abcdef", NOW)


def test_what_an_action_changed_reads_in_words_from_postgresql_s_command_tags() -> None:
    from jitops.report.comments import changed_text

    assert changed_text(("UPDATE 1",)) == "1 row updated"
    assert changed_text(("UPDATE 2", "INSERT 0 1", "UPDATE 1")) == "3 rows updated, 1 row inserted"
    assert changed_text(("SELECT 5", "SET")) == ""  # nothing changed: no words
    assert changed_text(()) == ""
