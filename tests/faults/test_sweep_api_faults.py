"""Faults of GitHub's API while the sweep records what it revoked: the revocation pull
request (a branch built with the Git Data API, the pull request, its label and status) and
the issue of failed revokes.

Revoking comes first and needs none of it, so whatever GitHub answers the expired access is
gone; a record GitHub failed to make fails the run (exit 3) saying what was revoked and what
is missing, and the rerun once the fault clears makes it: one pull request, one issue, and
nothing revoked twice on the target (its log holds each change it made).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jitops.sweep_record import last_success
from jitops.testing.github import Faults
from tests.e2e.conftest import CLI, LEGACY_TOKEN, LegacySystem, Run
from tests.e2e.sweep_world import Served, sweep

POST_PULL = "POST /repos/{owner}/{repo}/pulls"
LIST_PULLS = "GET /repos/{owner}/{repo}/pulls"
POST_TREE = "POST /repos/{owner}/{repo}/git/trees"
POST_ISSUE = "POST /repos/{owner}/{repo}/issues"

REVOKED = ["revoke bob/operator bob-1", "revoke carol/operator carol-1"]


def _done(legacy: LegacySystem) -> list[str]:
    """Every change the target system made, sorted."""
    log = Path(str(legacy.state) + ".log")
    return sorted(log.read_text().splitlines()) if log.exists() else []


def _unrecorded(run: Run, what: str) -> None:
    """Exit 3 after revoking both expired grants, saying so and what is not recorded."""
    assert run.code == 3, run.output
    assert "Traceback" not in run.output and "internal error" not in run.output
    assert "2 expired grant(s) were revoked, but " + what in run.err, run.err
    assert "rerun the sweep once GitHub answers" in run.err


def _converges(legacy: LegacySystem, world: Served, cli: CLI) -> None:
    """The rerun records the sweep: one pull request with both files, nothing revoked again."""
    again = sweep(world, cli)
    assert again.code == 0, again.output
    [number] = world.sweep_pulls()
    assert world.files_of(number) == [
        "requests/legacy/operator/bob-1.yaml",
        "requests/legacy/operator/carol-1.yaml",
    ]
    assert legacy.held() == {"alice/operator"}
    assert _done(legacy) == REVOKED


@pytest.mark.attack(5, "GitHub answers 502 to opening the revocation pull request")
def test_a_5xx_on_opening_the_pull_request_fails_after_revoking_and_the_rerun_opens_one(
    served: tuple[LegacySystem, Served],
    cli: CLI,
    faults: Faults,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    legacy, world = served
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    faults.inject("server_error", POST_PULL, status=502)
    failed = sweep(world, cli)
    _unrecorded(failed, "the revocation pull request was not opened or updated")
    assert "HTTP 502" in failed.err
    assert legacy.held() == {"alice/operator"} and _done(legacy) == REVOKED
    assert world.sweep_pulls() == []
    assert "Not recorded on GitHub" in summary.read_text()  # the job summary says so too
    faults.clear()
    _converges(legacy, world, cli)


@pytest.mark.attack(5, "GitHub drops the connection while the sweep builds its branch")
def test_a_dropped_answer_while_building_the_branch_fails_and_the_rerun_records_it(
    served: tuple[LegacySystem, Served], cli: CLI, faults: Faults
) -> None:
    legacy, world = served
    faults.inject("drop", POST_TREE)
    failed = sweep(world, cli, "--record")
    _unrecorded(failed, "the revocation pull request was not opened or updated")
    assert "no answer from" in failed.err
    assert last_success(world.base) is None  # a sweep that failed is not noted as a success
    _converges(legacy, world, cli)


@pytest.mark.attack(5, "GitHub answers 502 to opening the issue of failed revokes")
def test_a_5xx_on_the_failed_revokes_issue_fails_loudly_and_the_reruns_keep_one_issue(
    served: tuple[LegacySystem, Served], cli: CLI, faults: Faults, monkeypatch: pytest.MonkeyPatch
) -> None:
    legacy, world = served
    monkeypatch.setenv("FAKE_TOKEN", "a-wrong-token")  # the target refuses every revoke
    faults.inject("server_error", POST_ISSUE, status=502)
    failed = sweep(world, cli)
    assert failed.code == 3, failed.output
    assert "the issue of failed revokes was not kept" in failed.err and "HTTP 502" in failed.err
    assert "2 failed" in failed.err and world.failed_issues() == []
    faults.clear()
    for _ in range(2):  # still failing: the issue is opened once, then kept
        assert sweep(world, cli).code == 3
        [issue] = world.failed_issues()
        assert "bob-1" in issue.body and "carol-1" in issue.body
    monkeypatch.setenv("FAKE_TOKEN", LEGACY_TOKEN)
    _converges(legacy, world, cli)
    assert world.failed_issues() == [] and len(world.failed_issues("closed")) == 1


@pytest.mark.attack(5, "a primary rate limit, reset a second ahead, on opening the pull request")
def test_a_primary_rate_limit_on_the_sweep_s_post_is_waited_out_in_one_run(
    served: tuple[LegacySystem, Served], cli: CLI, faults: Faults
) -> None:
    legacy, world = served
    faults.inject("rate_limit", POST_PULL, reset_in=1)
    calls = world.server.calls[POST_PULL]
    result = sweep(world, cli)
    assert result.code == 0, result.output
    assert world.server.calls[POST_PULL] - calls == 2  # refused, waited for, then made
    [_] = world.sweep_pulls()
    assert _done(legacy) == REVOKED


@pytest.mark.attack(5, "a primary rate limit that resets in an hour, mid-sweep")
def test_a_rate_limit_far_from_its_reset_fails_at_once_saying_when_to_rerun(
    served: tuple[LegacySystem, Served], cli: CLI, faults: Faults
) -> None:
    legacy, world = served
    faults.inject("rate_limit", LIST_PULLS, reset_in=3600)
    failed = sweep(world, cli)
    _unrecorded(failed, "the revocation pull request was not opened or updated")
    assert "rate limit (HTTP 403" in failed.err and "(in 60 min) — rerun after that" in failed.err
    _converges(legacy, world, cli)


@pytest.mark.attack(4, "GitHub down while the sweep asks whether the policies are verified")
def test_expiry_wins_while_github_cannot_say_whether_the_policies_are_verified(
    served: tuple[LegacySystem, Served], cli: CLI, faults: Faults
) -> None:
    """The policy check needs GitHub; revoking must not. The sweep revokes through the targets
    as installed (trusted without asking), fails the run saying so, and the rerun once GitHub
    answers records it without revoking anything twice."""
    legacy, world = served
    faults.inject("server_error", "GET /repos/{owner}/{repo}", status=502, times=None)
    failed = sweep(world, cli)
    assert failed.code == 3, failed.output
    assert "Traceback" not in failed.output
    assert "GitHub could not say whether the branch's policies are verified" in failed.err
    assert "revoked through the targets as installed at" in failed.err
    assert legacy.held() == {"alice/operator"} and _done(legacy) == REVOKED
    faults.clear()
    _converges(legacy, world, cli)
