"""Faults of GitHub's API while check-pr reads a pull request's facts or posts its verdict.

Whatever GitHub answers (5xx bursts, dropped connections, rate limits), the check never posts
``success`` on facts it could not read, and never leaves an earlier ``success`` standing on
them: it sets the ``jitops/approval`` status to ``error``, exits 3 naming what failed, where,
and what it did. A rerun once the fault clears posts the right verdict and one comment,
edited in place.
"""

from __future__ import annotations

import pytest

from jitops.testing.github import Faults
from tests.e2e.conftest import Check, Run
from tests.e2e.gate_world import GateWorld

PULL = "GET /repos/{owner}/{repo}/pulls/{pull_number}"
REVIEWS = "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews"
FILES = "GET /repos/{owner}/{repo}/pulls/{pull_number}/files"
MEMBERSHIP = "GET /orgs/{org}/teams/{team_slug}/memberships/{username}"
CODEOWNERS_ERRORS = "GET /repos/{owner}/{repo}/codeowners/errors"
POST_STATUS = "POST /repos/{owner}/{repo}/statuses/{sha}"
POST_COMMENT = "POST /repos/{owner}/{repo}/issues/{issue_number}/comments"


def status_of(gate: GateWorld, number: int) -> tuple[str, str] | None:
    """The newest ``jitops/approval`` status of the pull request's head, if any."""
    hub = gate.server.hub
    pr = hub.pull(gate.repo, number)
    found = [s for s in hub.statuses_for(gate.repo, pr.head_sha) if s.context == "jitops/approval"]
    return (found[0].state, found[0].description or "") if found else None


def comments(gate: GateWorld, number: int) -> list[str]:
    return [c.body for c in gate.server.hub.comments_of(gate.repo, number)]


def approved(gate: GateWorld, request_id: str) -> int:
    """A pull request of one readwrite request that bob, a db lead, approved."""
    number = gate.open_request(request_id)
    gate.review(number, "bob")
    return number


def ready(gate: GateWorld, number: int) -> bool:
    """The check's verdict is posted: ``success``, and one comment."""
    posted = status_of(gate, number) == ("success", "1 of 1 request(s) ready")
    return posted and len(comments(gate, number)) == 1


def failed_cleanly(run: Run, gate: GateWorld) -> None:
    """Exit 3 with one line that names the host; no traceback, no internal error."""
    assert run.code == 3, run.output
    assert "Traceback" not in run.output and "internal error" not in run.output
    assert gate.server.base_url.split("//")[1].split("/")[0] in run.err
    assert "rerun the check" in run.err


@pytest.mark.attack(2, "a 5xx burst hides a later 'changes requested' from a rerun of the check")
def test_an_earlier_success_does_not_stand_when_the_rerun_cannot_read_the_reviews(
    gate: GateWorld, check: Check, faults: Faults
) -> None:
    number = approved(gate, "burst-1")
    assert check(number).code == 0
    assert ready(gate, number)
    gate.review(number, "bob", "REQUEST_CHANGES")  # bob changes his mind
    faults.inject("server_error", REVIEWS, status=502, times=None)
    failed = check(number)
    failed_cleanly(failed, gate)
    assert f"reviews of pull request #{number}" in failed.err and "HTTP 502" in failed.err
    assert "set to error" in failed.err
    state = status_of(gate, number)
    assert state is not None and state[0] == "error"  # the old success no longer lets it merge
    faults.clear()
    again = check(number)
    assert again.code == 1, again.output
    state = status_of(gate, number)
    assert state is not None and state[0] != "success"
    [comment] = comments(gate, number)  # the first run's comment, edited in place
    assert "changes" in comment.lower()


@pytest.mark.attack(2, "a dropped connection while the check looks up the approver's team")
def test_a_dropped_team_lookup_posts_no_verdict_and_the_rerun_posts_one_comment(
    gate: GateWorld, check: Check, faults: Faults
) -> None:
    number = approved(gate, "drop-1")
    faults.inject("drop", MEMBERSHIP, times=None)
    failed = check(number)
    failed_cleanly(failed, gate)
    assert "no answer from" in failed.err and "membership" in failed.err
    assert status_of(gate, number) == (
        "error",
        "GitHub did not answer what the check reads: rerun it",
    )
    assert comments(gate, number) == []
    faults.clear()
    assert check(number).code == 0
    assert check(number).code == 0  # and again: still one comment
    assert ready(gate, number)


@pytest.mark.attack(5, "a secondary rate limit while the check lists the pull request's files")
def test_a_secondary_rate_limit_is_waited_out_in_one_run(
    gate: GateWorld, check: Check, faults: Faults
) -> None:
    number = approved(gate, "limit-1")
    faults.inject("secondary_rate_limit", FILES, retry_after=1)
    calls = gate.server.calls[FILES]
    result = check(number)
    assert result.code == 0, result.output
    assert gate.server.calls[FILES] - calls == 2  # refused once, then answered
    assert ready(gate, number)


@pytest.mark.attack(2, "GitHub failing on the CODEOWNERS check taken for a CODEOWNERS error")
def test_a_failing_codeowners_check_is_a_system_failure_not_a_verdict(
    gate: GateWorld, check: Check, faults: Faults
) -> None:
    number = approved(gate, "owners-1")
    faults.inject("server_error", CODEOWNERS_ERRORS, status=503, times=None)
    failed = check(number)
    failed_cleanly(failed, gate)
    assert "CODEOWNERS errors failed (HTTP 503" in failed.err
    state = status_of(gate, number)
    assert state is not None and state[0] == "error"
    assert comments(gate, number) == []  # no "policy problem" comment on a passing fault
    faults.clear()
    assert check(number).code == 0
    assert ready(gate, number)


@pytest.mark.attack(5, "GitHub drops every read of the pull request itself")
def test_an_unreadable_pull_request_posts_nothing(
    gate: GateWorld, check: Check, faults: Faults
) -> None:
    number = gate.open_request("gone-1", role="readonly", ticket=None)
    faults.inject("drop", PULL, times=None)
    failed = check(number)
    failed_cleanly(failed, gate)
    assert f"could not judge pull request #{number}" in failed.err
    assert "nothing was posted" in failed.err
    assert status_of(gate, number) is None and comments(gate, number) == []
    faults.clear()
    assert check(number).code == 0
    assert ready(gate, number)


@pytest.mark.attack(5, "a 5xx on posting the status, then a lost answer to posting the comment")
def test_posting_failures_say_what_is_posted_and_the_rerun_completes_it(
    gate: GateWorld, check: Check, faults: Faults
) -> None:
    number = approved(gate, "post-1")
    faults.inject("server_error", POST_STATUS, status=502)
    failed = check(number)
    failed_cleanly(failed, gate)
    assert "was judged (success), but posting its jitops/approval status failed" in failed.err
    assert status_of(gate, number) is None and comments(gate, number) == []
    faults.inject("drop", POST_COMMENT)
    failed = check(number)
    failed_cleanly(failed, gate)
    assert "status posted, but its comment was not" in failed.err
    assert status_of(gate, number) == ("success", "1 of 1 request(s) ready")
    assert comments(gate, number) == []
    assert check(number).code == 0
    assert len(comments(gate, number)) == 1
