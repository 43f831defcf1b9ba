"""``jitops apply`` end to end: a merge is re-verified through the API before anything is
granted, its evidence lands in git, and what cannot be verified is refused loudly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jitops import evidence, ids
from jitops import git as jgit
from jitops.commands.audit import audit
from tests.e2e.apply_world import World, apply, forge_status, grant
from tests.e2e.conftest import CLI
from tests.gitrepo import git


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


@pytest.mark.attack(3, "merge without approval (protection off)")
def test_a_merge_without_approval_is_refused_and_not_granted(
    world: World, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, text = world.request("sneaky-1")
    number = world.open_pull("sneaky-1", {path: text})
    world.merge(number)  # nothing stopped the merge: no branch protection
    before = world.pull_base()
    summary = world.base.parent / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = apply(world, cli, before)
    assert result.code == 1
    assert "refused:" in result.out and "needs 1 approval" in result.out
    assert "- **refused**: @" in summary.read_text()
    assert world.legacy.held() == set()
    [comment] = [c for c in world.server.hub.comments_of(world.repo, number) if "apply" in c.body]
    assert "**refused**" in comment.body and "needs 1 approval" in comment.body
    [record] = audit(world.base).unverified
    assert record.request.id == "sneaky-1" and record.problem and "refused" in record.problem


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


@pytest.mark.attack(3, "push a request straight to main")
def test_a_direct_push_without_a_pull_request_is_refused(world: World, cli: CLI) -> None:
    path, text = world.request("direct-1")
    before = git(world.base, "rev-parse", "HEAD").strip()
    world.server.hub.push(world.repo, "main", {path: text}, author=world.login("alice"))
    world.pull_base()
    result = apply(world, cli, before)
    assert result.code == 1
    assert "without a merged pull request" in result.out
    assert world.legacy.held() == set()


@pytest.mark.attack(3, "forge the jitops/approval status")
def test_a_forged_status_does_not_grant(world: World, cli: CLI) -> None:
    path, text = world.request("forged-1")
    number = world.open_pull("forged-1", {path: text})
    forge_status(world, number)
    world.merge(number)
    before = world.pull_base()
    assert apply(world, cli, before).code == 1
    assert world.legacy.held() == set()


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


def remote_index(world: World) -> ids.IdIndex | None:
    """The request-id index as the remote holds it: what check-pr fetches."""
    return ids.load(world.server.hub.repo(world.repo.full_name).path).index


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


@pytest.mark.attack(3, "forge the request-id index to replay an id at apply")
def test_a_forged_index_gets_no_replay_granted(world: World, cli: CLI) -> None:
    """Someone with push access rewrites refs/jitops/ids to hide a used id. The gate's fast
    check can be fooled; apply, which judges ids against the whole history, is not, and audit
    verify names the forgery."""
    path, _ = world.request("rp-1")
    grant(world, "rp-1")
    assert apply(world, cli, world.pull_base(), "--push-notes").code == 0
    world.merge(world.open_pull("drop-rp-1", {path: None}))
    assert apply(world, cli, world.pull_base(), "--push-notes").code == 0
    assert world.legacy.held() == set()

    head = git(world.base, "rev-parse", "HEAD").strip()
    forged = ids.encode(ids.IdIndex(head, ()))
    jgit.write_file_commit(world.base, ids.INDEX_REF, ids.INDEX_FILE, forged, "nothing to see\n")
    jgit.push_ref(world.base, ids.INDEX_REF)
    verify = cli("audit", "--repo", str(world.base), "verify")
    assert verify.code == 1
    assert "refs/jitops/ids: denied: hides 1 request id(s)" in verify.out
    assert ": rp-1 — rebuild it with `jitops index --rebuild --push`" in verify.out

    grant(world, "rp-1", "replay-rp-1")  # the old file again, freshly approved and merged
    result = apply(world, cli, world.pull_base(), "--push-notes")
    assert result.code == 1
    assert "refused:" in result.out and "id 'rp-1' was already used" in result.out
    assert world.legacy.held() == set()
    assert cli("index", "--repo", str(world.base), "--rebuild", "--push").code == 0
    assert cli("index", "--repo", str(world.base), "--check").code == 0
    assert remote_index(world) == ids.load(world.base).index
