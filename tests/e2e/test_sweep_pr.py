"""The revocation pull request: one PR with exactly the revoked files, built with the Git Data
API in a constant number of calls, never duplicated, and nothing to do once it merged."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jitops.commands.sweep import (
    FAILED_LABEL,
    SWEEP_BRANCH,
    GitHubTarget,
    SweepReport,
    record_on_github,
)
from jitops.ledger import read_ledger
from jitops.report.comments import sweep_texts
from jitops.revoking import Revocation, RevokeOutcome
from jitops.testing.github import GitHubServer
from tests.e2e.conftest import CLI, LEGACY_TOKEN, LegacySystem
from tests.e2e.sweep_world import NOW, Served, serve, sweep
from tests.gitrepo import commit_all, git, write_request


def test_sweep_revokes_then_opens_one_pull_request_with_exactly_the_expired_files(
    served: tuple[LegacySystem, Served], cli: CLI
) -> None:
    legacy, world = served
    result = sweep(world, cli)
    assert result.code == 0, result.output
    assert legacy.held() == {"alice/operator"}  # revoked before any PR exists
    [number] = world.sweep_pulls()
    assert world.files_of(number) == [
        "requests/legacy/operator/bob-1.yaml",
        "requests/legacy/operator/carol-1.yaml",
    ]
    hub = world.server.hub
    pr = hub.pull(world.repo, number)
    assert "| @bob | `operator` on `legacy` | 2026-11-23 11:00 | `bob-1` |" in (pr.body or "")
    assert [label.name for label in pr.labels] == ["jitops:revocation"]
    [status] = [
        s for s in hub.statuses_for(world.repo, pr.head_sha) if s.context == "jitops/approval"
    ]
    assert status.state == "success"

    again = sweep(world, cli)  # a rerun updates the same pull request
    assert again.code == 0 and "updated revocation pull request" in again.out
    assert world.sweep_pulls() == [number]


def test_after_the_pull_request_merged_apply_and_sweep_do_nothing(
    served: tuple[LegacySystem, Served], cli: CLI
) -> None:
    legacy, world = served
    assert sweep(world, cli).code == 0
    [number] = world.sweep_pulls()
    owner = world.repo.owner
    world.server.hub.merge(world.repo, number, user=owner)
    before = git(world.base, "rev-parse", "HEAD").strip()
    git(world.base, "pull", "-q", "--ff-only")
    held = legacy.held()
    applied = cli("apply", "--repo", str(world.base), "--before", before, "--now", NOW)
    assert applied.code == 0, applied.output
    assert "granted" not in applied.out and legacy.held() == held  # nothing changes
    world.server.calls.reset()
    result = sweep(world, cli)
    assert result.code == 0
    assert "0 expired" in result.err
    assert world.sweep_pulls() == []
    # nothing to record: one read, to learn that no issue of failed revokes is left open
    assert world.server.calls.snapshot() == {"GET /repos/{owner}/{repo}/issues": 1}


def test_a_thousand_expired_files_cost_at_most_ten_calls(
    github_server: GitHubServer, github_names: str, tmp_path: Path
) -> None:
    """Recording a sweep of 1,000 expiries on GitHub — the revocation pull request opened,
    labelled, with auto-merge asked for and its status, and the failed-revokes issue looked
    up — takes at most ten API calls; the next sweep, updating that pull request, no more
    (its branch is moved, not created; its label is not asked for again)."""
    from tests.gitrepo import make_access_repo

    source = make_access_repo(tmp_path / "source")
    for index in range(1000):
        write_request(source, f"bulk-{index:04}", duration="1h")
    commit_all(source, "a thousand grants", date="2026-11-23T08:00:00Z")
    world = serve(github_server, github_names, source, tmp_path)
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    ledger = read_ledger(world.base)
    report = SweepReport(
        ledger.commit,
        tuple(Revocation(entry, RevokeOutcome.REVOKED) for entry in ledger.entries),
        (),
    )
    target = GitHubTarget(world.repo.full_name, world.bot.token, github_server.base_url, "main")
    github_server.calls.reset()
    record = record_on_github(report, target, now, sweep_texts())
    opened = record.pull
    assert opened is not None and opened.created and record.failures == ()
    assert github_server.calls["POST /graphql"] == 1  # auto-merge asked for (and refused)
    assert github_server.calls["GET /repos/{owner}/{repo}/issues"] == 1  # no failed revokes
    assert github_server.calls.total() <= 10, github_server.calls.snapshot()
    assert len(world.files_of(opened.number)) == 1000
    github_server.calls.reset()
    again = record_on_github(report, target, now + timedelta(hours=1), sweep_texts())
    assert again.pull is not None and again.pull.number == opened.number
    assert not again.pull.created and again.failures == ()
    calls = github_server.calls.snapshot()
    assert "POST /repos/{owner}/{repo}/git/refs" not in calls  # moved, not created
    assert "POST /repos/{owner}/{repo}/issues/{issue_number}/labels" not in calls
    assert github_server.calls.total() <= 10, calls
    assert len(world.files_of(opened.number)) == 1000


def test_a_recorded_sweep_tells_doctor_and_apply_the_schedule_runs(
    served: tuple[LegacySystem, Served], cli: CLI
) -> None:
    from datetime import timedelta

    from jitops.provisioners.interface import CheckStatus
    from jitops.sweep_record import DEFAULT_SWEEP_INTERVAL, last_success, sweep_check

    _, world = served
    assert last_success(world.base) is None
    result = sweep(world, cli, "--record")
    assert result.code == 0, result.output
    recorded = last_success(world.base)
    assert recorded == datetime(2026, 11, 23, 12, tzinfo=UTC)
    # published: a fresh clone of the served repository sees it after fetching the notes
    clone = world.base.parent / "auditor"
    git(world.base.parent, "clone", "-q", world.server.file_url(world.repo.full_name), str(clone))
    git(clone, "fetch", "-q", "origin", "refs/notes/jitops-sweep:refs/notes/jitops-sweep")
    assert last_success(clone) == recorded
    fresh = sweep_check(recorded, DEFAULT_SWEEP_INTERVAL, recorded + timedelta(minutes=20))
    stale = sweep_check(recorded, DEFAULT_SWEEP_INTERVAL, recorded + timedelta(hours=2))
    assert fresh.status is CheckStatus.OK and stale.status is CheckStatus.WARNING


def test_auto_merge_is_requested_and_github_merges_the_pull_request_then_apply_is_a_no_op(
    served: tuple[LegacySystem, Served], cli: CLI
) -> None:
    from jitops.testing.github import BranchProtection

    legacy, world = served
    hub = world.server.hub
    hub.protect_branch(
        world.repo, "main", BranchProtection(required_status_checks=("jitops/approval",))
    )
    hub.set_allow_auto_merge(world.repo)
    before = git(world.base, "rev-parse", "HEAD").strip()
    result = sweep(world, cli)
    assert result.code == 0, result.output
    assert "auto-merge requested on #" in result.out and "warning" not in result.err
    # no open pull request is left: the sweeper's own jitops/approval satisfied protection,
    # and GitHub merged it as the sweeper, who asked for auto-merge
    assert world.sweep_pulls() == []
    [pr] = [p for p in hub.state.pulls_of(world.repo.id) if p.head_ref == SWEEP_BRANCH]
    assert pr.merged and pr.merged_by == world.bot.login
    git(world.base, "pull", "-q", "--ff-only")
    assert not (world.base / "requests/legacy/operator/bob-1.yaml").exists()
    held = legacy.held()
    applied = cli("apply", "--repo", str(world.base), "--before", before, "--now", NOW)
    assert applied.code == 0, applied.output
    assert "granted" not in applied.out and legacy.held() == held == {"alice/operator"}
    again = sweep(world, cli)
    assert again.code == 0 and "0 expired" in again.err and world.sweep_pulls() == []


def test_auto_merge_already_on_is_not_asked_again(
    served: tuple[LegacySystem, Served], cli: CLI
) -> None:
    from jitops.testing.github import BranchProtection

    _, world = served
    hub = world.server.hub
    protection = BranchProtection(
        required_status_checks=("jitops/approval",), required_approving_review_count=1
    )  # a review is needed too: the pull request waits
    hub.protect_branch(world.repo, "main", protection)
    hub.set_allow_auto_merge(world.repo)
    first = sweep(world, cli)
    assert first.code == 0 and "auto-merge requested on #" in first.out, first.output
    [number] = world.sweep_pulls()
    world.server.calls.reset()
    second = sweep(world, cli)
    assert second.code == 0 and f"auto-merge already requested on #{number}" in second.out
    assert world.server.calls["POST /graphql"] == 0
    auto_merge = hub.pull(world.repo, number).auto_merge
    assert auto_merge is not None and auto_merge.enabled_by == world.bot.login


@pytest.mark.parametrize(
    ("allow", "protect", "said", "fix"),
    [
        (False, True, "Auto merge is not allowed for this repository", '"Allow auto-merge"'),
        (True, False, "Protected branch rules not configured", "protect the default branch"),
    ],
)
def test_refused_auto_merge_is_a_warning_with_the_fix_and_the_sweep_succeeds(
    served: tuple[LegacySystem, Served],
    cli: CLI,
    monkeypatch: pytest.MonkeyPatch,
    allow: bool,
    protect: bool,
    said: str,
    fix: str,
) -> None:
    from jitops.testing.github import BranchProtection

    legacy, world = served
    hub = world.server.hub
    if protect:
        hub.protect_branch(
            world.repo, "main", BranchProtection(required_status_checks=("jitops/approval",))
        )
    hub.set_allow_auto_merge(world.repo, allow)
    summary = world.base.parent / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = sweep(world, cli)
    assert result.code == 0, result.output
    assert legacy.held() == {"alice/operator"}  # the access is gone either way
    [number] = world.sweep_pulls()
    [warning] = [line for line in result.err.splitlines() if "warning" in line]
    assert f"auto-merge is off on revocation pull request #{number}" in warning
    assert said in warning and fix in warning and "merge it by hand" in warning
    written = summary.read_text()
    assert said in written and fix in written and f"#{number}" in written
    pr = hub.pull(world.repo, number)
    assert pr.auto_merge is None and not pr.merged
    assert world.bot.token not in result.output + written


def test_a_failing_revoke_keeps_one_pinned_issue_until_a_later_sweep_revokes_it(
    served: tuple[LegacySystem, Served], cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    legacy, world = served
    hub = world.server.hub
    monkeypatch.setenv("FAKE_TOKEN", "expired-" + LEGACY_TOKEN)  # the target refuses it
    summary = world.base.parent / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    first = sweep(world, cli)
    assert first.code == 3, first.output
    [issue] = world.failed_issues()
    assert f"opened issue #{issue.number} of failed revokes" in first.out
    assert issue.pinned and issue.user == world.bot.login
    assert issue.title == "jitops: 2 revoke(s) failing — expired access is still there"
    body = issue.body or ""
    assert (
        "| `legacy` | `operator` | @bob | `bob-1` (`requests/legacy/operator/bob-1.yaml`) | "
        "2026-11-23 11:00 | 2026-11-23 12:00 | `target 'legacy' (exec): "
    ) in body
    assert "@carol | `carol-1`" in body and "@alice" not in body  # alice's access is current
    assert LEGACY_TOKEN not in body and "expired-" not in body  # the error is redacted
    assert f"issue #{issue.number}" in summary.read_text()
    assert world.sweep_pulls() == []  # nothing was revoked, so nothing to record in a PR

    second = sweep(world, cli, now="2026-11-23T12:15:00Z")
    assert second.code == 3
    assert f"updated issue #{issue.number}" in second.out
    assert world.failed_issues() == [hub.issue(world.repo, issue.number)]  # not a second one
    body = hub.issue(world.repo, issue.number).body or ""
    assert "| 2026-11-23 11:00 | 2026-11-23 12:00 |" in body  # failing since the first sweep
    assert "Last sweep: 2026-11-23 12:15 UTC" in body

    monkeypatch.setenv("FAKE_TOKEN", LEGACY_TOKEN)
    fixed = sweep(world, cli, now="2026-11-23T12:30:00Z")
    assert fixed.code == 0, fixed.output
    assert legacy.held() == {"alice/operator"}
    closed = hub.issue(world.repo, issue.number)
    assert (closed.state, closed.state_reason, closed.pinned) == ("closed", "completed", False)
    [comment] = [c.body for c in hub.comments_of(world.repo, issue.number)]
    assert "- revoked: @bob `operator` on `legacy` (`bob-1`)" in comment
    assert "- revoked: @carol" in comment
    assert f"closed issue #{issue.number}" in fixed.out
    [number] = world.sweep_pulls()  # and the revocation pull request records it
    assert world.files_of(number) == [
        "requests/legacy/operator/bob-1.yaml",
        "requests/legacy/operator/carol-1.yaml",
    ]
    again = sweep(world, cli, now="2026-11-23T12:45:00Z")
    assert again.code == 0 and "issue" not in again.out
    assert world.failed_issues() == [] and len(world.failed_issues("closed")) == 1


def test_pinning_refused_is_a_warning_and_the_issue_is_still_kept(
    served: tuple[LegacySystem, Served], cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, world = served
    hub = world.server.hub
    for index in range(3):  # GitHub pins three issues at most
        other = hub.open_issue(world.repo, title=f"pinned {index}", user=world.repo.owner)
        hub.set_pinned(world.repo, other.number, True)
    monkeypatch.setenv("FAKE_TOKEN", "expired-" + LEGACY_TOKEN)
    summary = world.base.parent / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = sweep(world, cli)
    assert result.code == 3  # for the failed revokes, not for the pin
    [issue] = world.failed_issues()
    assert not issue.pinned
    [warning] = [line for line in result.err.splitlines() if "warning" in line]
    assert f"issue #{issue.number} listing failed revokes is not pinned" in warning
    assert "unpin another issue" in warning and "pin it by hand" in warning
    assert "is not pinned" in summary.read_text()


def test_a_sweep_that_loses_the_race_to_open_the_issue_closes_its_own(
    served: tuple[LegacySystem, Served], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race made certain: while this sweep's request to open the issue is held up, another
    sweep's issue appears; this sweep then finds the older one, updates it and closes its own."""
    import os
    import time

    from jitops.commands.sweep import FAILED_MARKER

    _, world = served
    server, hub = world.server, world.server.hub
    monkeypatch.setenv("FAKE_TOKEN", "expired-" + LEGACY_TOKEN)
    create = "POST /repos/{owner}/{repo}/issues"
    server.calls.reset()
    server.faults.inject("slow", create, delay=1.0)
    command = [sys.executable, "-m", "jitops", "sweep", "--repo", str(world.base)]
    command += ["--now", NOW, "--open-pr"]
    run = subprocess.Popen(
        command, env={**os.environ, **world.env()}, stdout=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while server.calls[create] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    other = hub.open_issue(
        world.repo,
        title="opened by another sweep",
        user=world.bot.login,
        body=f"{FAILED_MARKER}\nanother sweep's table\n",
        labels=[FAILED_LABEL],
    )
    out, _ = run.communicate(timeout=120)
    assert run.returncode == 3
    assert world.failed_issues() == [hub.issue(world.repo, other.number)]
    assert "| @bob | `bob-1`" in (hub.issue(world.repo, other.number).body or "")
    [own] = world.failed_issues("closed")
    assert own.number > other.number and own.state_reason == "duplicate" and not own.pinned
    assert [c.body for c in hub.comments_of(world.repo, own.number)] == [
        f"Duplicate of #{other.number}.\n"
    ]
    assert f"updated issue #{other.number}" in out


def test_issues_refused_is_a_warning_and_the_exit_status_stays_the_revokes_own(
    served: tuple[LegacySystem, Served], cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, world = served
    server = world.server
    # GitHub answers 410 Gone when a repository has Issues turned off
    server.faults.inject("server_error", "GET /repos/{owner}/{repo}/issues", status=410, times=None)
    try:
        monkeypatch.setenv("FAKE_TOKEN", "expired-" + LEGACY_TOKEN)
        failing = sweep(world, cli)
        assert failing.code == 3  # the revokes failed; the issue adds no failure of its own
        assert "the issue of failed revokes could not be kept (GitHub" in failing.err
        assert "issues: write" in failing.err
        monkeypatch.setenv("FAKE_TOKEN", LEGACY_TOKEN)
        fixed = sweep(world, cli, now="2026-11-23T12:15:00Z")
        assert fixed.code == 0, fixed.output
        assert "warning: the issue of failed revokes could not be kept" in fixed.err
        assert len(world.sweep_pulls()) == 1
    finally:
        server.faults.clear()


def test_a_token_that_cannot_label_is_told_so(
    served: tuple[LegacySystem, Served], cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitHub drops the labels of a token without push access silently: jitops says so, since
    a later sweep could not find that issue again."""
    _, world = served
    world.server.hub.add_collaborator(world.repo, world.bot.login, "read")
    monkeypatch.setenv("FAKE_TOKEN", "expired-" + LEGACY_TOKEN)
    result = sweep(world, cli)
    assert result.code == 3
    [issue] = [
        i for i in world.server.hub.state.issues_of(world.repo.id) if i.user == world.bot.login
    ]
    assert issue.labels == ()
    assert f"issue #{issue.number} listing failed revokes could not be labelled" in result.err
    assert f"issue #{issue.number} listing failed revokes is not pinned" in result.err
