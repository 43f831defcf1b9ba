"""Attacks on apply's catch-up (invariants 5 and 3): the apply run of a push cancelled (as
Actions' concurrency does when a third push arrives), so a grant or an early revocation would
be lost, and successful workflow runs a writer can make — on another branch, for a pull
request, from a fork, of another file, of a replacement apply workflow — to move the starting
point past unapplied commits.

What the attacker can do: push, open pull requests, replace a workflow for a while. What they
cannot: apply starts at the newest commit a successful run of the apply workflow itself on the
default branch completed (the Actions API's record), so the next run, or the sweep workflow's
scheduled apply, applies what was skipped.
"""

from __future__ import annotations

import json

import pytest

from jitops.github import GitHub
from jitops.testing.github.actions import record_run
from tests.e2e.apply_world import (
    APPLY,
    World,
    apply,
    forge_status,
    grant,
    workflow_apply,
)
from tests.e2e.conftest import CLI, Run
from tests.gitrepo import git


def applied(world: World, cli: CLI, before: str, *extra: str) -> Run:
    """An apply run as the workflow makes it (with --catch-up), recorded in the Actions API
    with the conclusion its exit code gives."""
    result = apply(world, cli, before, "--catch-up", *extra)
    head = git(world.base, "rev-parse", "HEAD").strip()
    record_run(
        world.server.hub,
        world.repo,
        APPLY,
        head,
        conclusion="success" if result.code == 0 else "failure",
    )
    return result


def cancelled(world: World) -> str:
    """A push whose apply run Actions cancelled: the branch moves, apply never runs."""
    before = world.pull_base()
    head = git(world.base, "rev-parse", "HEAD").strip()
    record_run(world.server.hub, world.repo, APPLY, head, conclusion="cancelled")
    return before


@pytest.mark.attack(5, "cancel the apply run that would revoke")
def test_an_early_revocation_in_a_cancelled_run_is_caught_up(world: World, cli: CLI) -> None:
    path, _ = world.request("cu-1")
    grant(world, "cu-1")
    assert applied(world, cli, world.pull_base()).code == 0
    checkpoint = git(world.base, "rev-parse", "HEAD").strip()
    world.merge(world.open_pull("drop-cu-1", {path: None}))  # removed before it expired
    cancelled(world)
    ask = world.open_pull("cu-2", {world.request("cu-2")[0]: world.request("cu-2")[1]})
    world.server.hub.review(world.repo, ask, user=world.login("bob"), event="APPROVE")
    world.merge(ask)
    before = world.pull_base()

    gap = apply(world, cli, before, "--dry-run")  # only its own push: the removal is lost
    assert "cu-1" not in gap.out
    result = applied(world, cli, before)
    assert result.code == 0, result.output
    assert f"catching up from {checkpoint[:12]}" in result.err
    assert "revoked:" in result.out and "cu-1" in result.out
    assert "granted:" in result.out and "cu-2" in result.out
    state = json.loads(world.legacy.state.read_text())
    assert [g["request_id"] for g in state.values()] == ["cu-2"]


@pytest.mark.attack(5, "cancel the apply run of a grant")
def test_a_grant_in_a_cancelled_run_is_caught_up_by_the_scheduled_run(
    world: World, cli: CLI
) -> None:
    grant(world, "cs-1")
    assert applied(world, cli, world.pull_base()).code == 0
    world.legacy.state.unlink()
    grant(world, "cs-2")
    cancelled(world)
    assert world.legacy.held() == set()
    # the sweep workflow's step: the scheduled apply, catching up as well
    result = cli(
        "apply", "--repo", str(world.base), "--scheduled", "--catch-up", "--before", "HEAD"
    )
    assert result.code == 0, result.output
    assert "cs-2" in result.out and "granted:" in result.out
    assert world.legacy.held() == {f"{world.login('alice')}/operator"}


@pytest.mark.attack(5, "cancel an apply run, as Actions' concurrency does")
def test_as_the_workflow_runs_a_cancelled_run_is_caught_up(
    world: World, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = world.request("wa-1")
    grant(world, "wa-1")
    first, _ = workflow_apply(world, cli, monkeypatch, 1)
    assert first.code == 0 and "granted:" in first.out, first.output
    world.merge(world.open_pull("drop-wa-1", {path: None}))  # this push's run is cancelled
    grant(world, "wa-2")
    result, checkout = workflow_apply(world, cli, monkeypatch, 2)
    assert result.code == 0, result.output
    assert "catching up from" in result.err
    assert "revoked:" in result.out and "wa-1" in result.out
    assert "granted:" in result.out and "wa-2" in result.out
    state = json.loads(world.legacy.state.read_text())
    assert [g["request_id"] for g in state.values()] == ["wa-2"]
    # what it verified is published: a fresh clone's status, with the notes, agrees
    assert "1 active grant(s)" in cli("status", "--repo", str(checkout)).err


def test_a_refusal_fails_its_run_once_not_every_later_one(world: World, cli: CLI) -> None:
    grant(world, "ok-0")
    assert applied(world, cli, world.pull_base()).code == 0
    unreviewed = world.open_pull("bad-1", {world.request("bad-1")[0]: world.request("bad-1")[1]})
    forge_status(world, unreviewed)
    world.merge(unreviewed)
    refused = applied(world, cli, world.pull_base())
    assert refused.code == 1 and "refused:" in refused.out  # loudly, in its own run
    grant(world, "ok-1")
    later = applied(world, cli, world.pull_base())
    assert later.code == 0, later.output
    assert "still refused:" in later.out and "bad-1" in later.out
    assert "granted:" in later.out and "ok-1" in later.out


@pytest.mark.attack(3, "make successful workflow runs to move the catch-up past unapplied commits")
def test_runs_a_writer_can_make_do_not_move_the_catch_up(world: World, cli: CLI) -> None:
    hub = world.server.hub
    path, _ = world.request("mv-1")
    grant(world, "mv-1")
    assert applied(world, cli, world.pull_base()).code == 0
    checkpoint = git(world.base, "rev-parse", "HEAD").strip()
    world.merge(world.open_pull("drop-mv-1", {path: None}))
    before = cancelled(world)
    head = git(world.base, "rev-parse", "HEAD").strip()
    # successful runs on the new head, none of them the default branch's own apply
    record_run(hub, world.repo, APPLY, head, head_branch="feature")
    record_run(hub, world.repo, APPLY, head, event="pull_request")
    fork = hub.create_repo(f"{world.login('alice')}/access", source=world.legacy.repo)
    record_run(hub, world.repo, APPLY, head, fork=fork)
    record_run(hub, world.repo, ".github/workflows/other.yml", head)
    github = GitHub(world.bot.token, repository=world.repo.full_name, api_url=world.server.base_url)
    assert github.completed_runs("jitops-apply.yml", "main") == (checkpoint,)
    result = applied(world, cli, head)  # as a rerun with nothing new would start
    assert f"catching up from {checkpoint[:12]}" in result.err
    assert "revoked:" in result.out and "mv-1" in result.out
    assert world.legacy.held() == set()
    assert before


@pytest.mark.attack(3, "replace the apply workflow with one that always succeeds")
def test_runs_of_a_replaced_apply_workflow_do_not_move_the_catch_up(world: World, cli: CLI) -> None:
    """A writer replaces the apply workflow with one that always succeeds, lets it "succeed"
    and puts the real one back: the next real run catches up from the last real run."""
    hub = world.server.hub
    path, _ = world.request("wf-2")
    grant(world, "wf-2")
    assert applied(world, cli, world.pull_base()).code == 0
    checkpoint = git(world.base, "rev-parse", "HEAD").strip()
    world.merge(world.open_pull("drop-wf-2", {path: None}))
    cancelled(world)
    real = (world.base / APPLY).read_text()
    noop = hub.push(
        world.repo, "main", {APPLY: "on: push\njobs: {}\n"}, author=world.login("alice")
    )
    record_run(hub, world.repo, APPLY, noop)  # the replacement's run "succeeded"
    hub.push(world.repo, "main", {APPLY: real}, author=world.login("alice"))
    result = applied(world, cli, world.pull_base())
    assert f"catching up from {checkpoint[:12]}" in result.err, result.output
    assert "revoked:" in result.out and "wf-2" in result.out
    assert world.legacy.held() == set()


def test_the_policy_walk_starts_where_the_last_successful_run_got_to(
    world: World, cli: CLI
) -> None:
    """Its API calls follow what is new: policy changes an earlier successful run verified
    are not looked up again."""
    for rounds in range(2):  # two approved policy changes
        number = world.open_pull(f"tweak-{rounds}", {"policies/README.md": f"v{rounds}\n"})
        for person in ("p1", "owner"):
            world.server.hub.review(world.repo, number, user=world.login(person), event="APPROVE")
        world.merge(number)
    grant(world, "pw-1")
    assert applied(world, cli, world.pull_base()).code == 0
    grant(world, "pw-2")
    lookups = "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls"
    before = world.server.calls[lookups]
    result = applied(world, cli, world.pull_base())
    assert result.code == 0, result.output
    assert world.server.calls[lookups] - before == 1  # pw-2's merge, and nothing older
