"""``jitops apply`` end to end: a merge is re-verified through the API before anything is
granted, its evidence lands in git, and what cannot be verified is refused loudly."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jitops import evidence, ids
from jitops.commands.audit import audit
from jitops.sweep_record import record_success
from tests.e2e.apply_world import World, apply, grant, remote_index
from tests.e2e.conftest import CLI
from tests.gitrepo import git, make_access_repo


def test_an_approved_merge_is_verified_granted_and_recorded(world: World, cli: CLI) -> None:
    path, text = world.request("op-1")
    number = world.open_pull("op-1", {path: text})
    world.server.hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    merge = world.merge(number)
    before = world.pull_base()

    plan = apply(world, cli, before, "--dry-run")
    assert plan.code == 0 and "would grant" in plan.out
    assert world.legacy.held() == set()

    result = apply(world, cli, before)
    assert result.code == 0, result.output
    assert f"granted: @{world.login('alice')} legacy/operator op-1 (#{number})" in result.out
    assert world.legacy.held() == {f"{world.login('alice')}/operator"}
    note = evidence.read_all(world.base)[0][merge]
    assert note.pull_request == number and note.verdict == "allowed"
    assert [a.login for a in note.requests[0].approvers] == [world.login("bob")]
    assert note.requests[0].approvers[0].review_id is not None
    assert audit(world.base).unverified == ()
    comments = world.server.hub.comments_of(world.repo, number)
    assert any("**granted**" in c.body and "until" in c.body for c in comments)

    again = apply(world, cli, before)  # rerun: idempotent
    assert again.code == 0 and world.legacy.held() == {f"{world.login('alice')}/operator"}


def test_a_partly_failed_apply_is_completed_by_a_rerun(
    world: World, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    numbers = []
    for request_id in ("part-a", "part-b"):
        path, text = world.request(request_id)
        numbers.append(world.open_pull(request_id, {path: text}))
        world.server.hub.review(world.repo, numbers[-1], user=world.login("bob"), event="APPROVE")
        world.merge(numbers[-1])
    before = world.pull_base()  # one push range holding both merges
    monkeypatch.setenv("FAKE_REFUSE", "part-b")  # the target is down for part-b only

    failed = apply(world, cli, before)
    assert failed.code == 3  # a system error: the next run retries it
    assert "granted: @" in failed.out and "part-a" in failed.out
    assert "failed: @" in failed.out and "cannot grant" in failed.out
    granted = json.loads(world.legacy.state.read_text())
    assert [g["request_id"] for g in granted.values()] == ["part-a"]

    monkeypatch.setenv("FAKE_REFUSE", "")
    rerun = apply(world, cli, before)  # the same range, as a re-run of the job would
    assert rerun.code == 0, rerun.output
    granted = json.loads(world.legacy.state.read_text())
    assert [g["request_id"] for g in granted.values()] == ["part-b"]  # the same key, now b's
    assert "part-b" in rerun.out and "failed" not in rerun.out
    comments = world.server.hub.comments_of(world.repo, numbers[1])
    [comment] = [c for c in comments if "jitops apply" in c.body]  # edited, not re-posted
    assert "**granted**" in comment.body


def test_removal_from_the_branch_revokes(world: World, cli: CLI) -> None:
    path, text = world.request("gone-1")
    number = world.open_pull("gone-1", {path: text})
    world.server.hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    world.merge(number)
    before = world.pull_base()
    assert apply(world, cli, before).code == 0
    removal = world.open_pull("drop-gone-1", {path: None})
    world.merge(removal)
    before = world.pull_base()
    result = apply(world, cli, before)
    assert result.code == 0, result.output
    assert "revoked:" in result.out and "removed from the branch before its window" in result.out
    assert world.legacy.held() == set()


def test_removing_an_expired_request_confirms_its_revocation(world: World, cli: CLI) -> None:
    path, text = world.request("old-1", window="expires_at: 2026-11-20T12:00:00Z")
    number = world.open_pull("old-1", {path: text})
    world.server.hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    world.merge(number)
    world.pull_base()
    world.legacy.hold((world.login("alice"), "old-1"))  # the sweep failed to revoke it
    removal = world.open_pull("drop-old-1", {path: None})
    world.merge(removal)
    before = world.pull_base()
    result = apply(world, cli, before, "--now", "2026-11-21T09:00:00Z")
    assert result.code == 0, result.output
    assert "expired at 2026-11-20 12:00 UTC; confirmed revoked" in result.out
    assert world.legacy.held() == set()


def test_a_scheduled_request_is_granted_once_its_window_opens(world: World, cli: CLI) -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC).replace(microsecond=0)
    starts, ends = now + timedelta(hours=1), now + timedelta(hours=2)
    window = f"starts_at: {starts:%Y-%m-%dT%H:%M:%SZ}\nexpires_at: {ends:%Y-%m-%dT%H:%M:%SZ}"
    path, text = world.request("later-1", window=window)
    number = world.open_pull("later-1", {path: text})
    world.server.hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    world.merge(number)
    before = world.pull_base()
    landed = apply(world, cli, before)
    assert landed.code == 0 and "scheduled:" in landed.out
    assert world.legacy.held() == set()  # not before its window
    opened = f"{starts + timedelta(minutes=5):%Y-%m-%dT%H:%M:%SZ}"
    result = cli(
        "apply", "--repo", str(world.base), "--before", "HEAD", "--scheduled", "--now", opened
    )
    assert result.code == 0, result.output
    assert world.legacy.held() == {f"{world.login('alice')}/operator"}


def test_the_sweep_warns_on_the_pull_request_before_access_expires(world: World, cli: CLI) -> None:
    from datetime import UTC, datetime, timedelta

    path, text = world.request("ending-1")
    number = world.open_pull("ending-1", {path: text})
    world.server.hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    world.merge(number)
    assert apply(world, cli, world.pull_base()).code == 0
    soon = f"{datetime.now(UTC) + timedelta(minutes=90):%Y-%m-%dT%H:%M:%SZ}"  # 2h window
    for _ in range(2):  # a rerun edits the same comment
        result = cli("sweep", "--repo", str(world.base), "--now", soon, "--warn-before", "1h")
        assert result.code == 0, result.output
        assert f"warned: @{world.login('alice')} ending-1 expires soon (#{number})" in result.out
    warnings = [
        c.body for c in world.server.hub.comments_of(world.repo, number) if "expires soon" in c.body
    ]
    assert len(warnings) == 1 and "open a new request" in warnings[0]
    early = cli("sweep", "--repo", str(world.base), "--warn-before", "1h")
    assert "warned" not in early.out  # two hours left: no warning yet


def test_apply_keeps_the_request_id_index(world: World, cli: CLI, tmp_path: Path) -> None:
    first = grant(world, "ix-1")
    before = world.pull_base()
    assert apply(world, cli, before, "--dry-run", "--push-notes").code == 0
    assert remote_index(world) is None  # a dry run writes nothing
    result = apply(world, cli, before, "--push-notes")
    assert result.code == 0, result.output
    assert "request-id index rebuilt from the whole history" in result.err
    assert remote_index(world) == ids.IdIndex(first, ("ix-1",))

    # The next push, applied from a fresh checkout as in the workflow: the remote's index is
    # read and extended over the new commits only.
    second = grant(world, "ix-2")
    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", world.server.file_url(world.repo.full_name), str(fresh))
    result = cli("apply", "--repo", str(fresh), "--before", first, "--push-notes")
    assert result.code == 0, result.output
    assert f"request-id index extended over {first[:12]}..{second[:12]}" in result.err
    assert remote_index(world) == ids.IdIndex(second, ("ix-1", "ix-2"))

    # Without --push-notes the local index moves, the published one does not.
    third = grant(world, "ix-3")
    git(fresh, "pull", "-q", "--ff-only")
    result = cli("apply", "--repo", str(fresh), "--before", second)
    assert result.code == 0, result.output
    assert remote_index(world) == ids.IdIndex(second, ("ix-1", "ix-2"))
    assert ids.load(fresh).index == ids.IdIndex(third, ("ix-1", "ix-2", "ix-3"))


def test_apply_says_when_the_sweep_is_stale_and_still_exits_0(tmp_path: Path, cli: CLI) -> None:
    repo = make_access_repo(tmp_path / "access")
    result = cli("apply", "--repo", str(repo), "--dry-run", "--before", "HEAD", "--after", "HEAD")
    assert result.code == 0, result.output
    assert "jitops: warning: last successful sweep unknown" in result.err
    record_success(repo, datetime.now(UTC) - timedelta(minutes=1))
    fresh = cli("apply", "--repo", str(repo), "--dry-run", "--before", "HEAD", "--after", "HEAD")
    assert fresh.code == 0 and "last successful sweep" not in fresh.err
