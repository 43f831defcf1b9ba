"""Attacks on how a grant lands (invariant 3): a pull request merged into another branch and
then fast-forwarded onto the default branch, and unapproved edits brought in by a squash or a
rebase merge, or a squash passed off as a rebase to read its used ids from further back.

What the attacker can do: merge into any unprotected branch, move the default branch, pick
the merge method. What they cannot: a grant lands only from a pull request into the default
branch, merged as GitHub merges it, right after the commit it was judged against; squash and
rebase merges of approved requests still grant (the controls).
"""

from __future__ import annotations

import pytest

from jitops import evidence
from tests.e2e.apply_world import (
    FAR,
    World,
    apply,
    forge_status,
    status_row,
)
from tests.e2e.conftest import CLI
from tests.gitrepo import git


@pytest.mark.attack(3, "merge into an unprotected branch, then fast-forward main onto it")
def test_a_merge_into_another_branch_grants_nothing(world: World, cli: CLI) -> None:
    hub = world.server.hub
    store = hub.git(world.repo)
    main = store.branch_sha("main")
    assert main is not None
    hub.push(world.repo, "staging", {"README.md": "staging\n"}, author=world.login("alice"))
    path, text = world.request("side-1")
    hub.push(world.repo, "side-1", {path: text}, author=world.login("alice"), base="staging")
    number = hub.open_pull(
        world.repo, head="side-1", base="staging", title="side", user=world.login("alice")
    ).number
    hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")  # approved, even
    merged = world.merge(number)
    store.update_ref("refs/heads/main", merged, main)  # main fast-forwarded onto it
    result = apply(world, cli, world.pull_base())
    assert result.code == 1, result.output
    assert "merged into 'staging', not the default branch 'main'" in result.out
    assert world.legacy.held() == set()
    assert status_row(world, cli, "side-1")["state"] == "refused"


@pytest.mark.attack(3, "squash an unapproved edit into the merge")
def test_a_squash_merge_grants_and_an_edit_squashed_in_does_not(world: World, cli: CLI) -> None:
    hub = world.server.hub
    path, text = world.request("sq-1")
    number = world.open_pull("sq-1", {path: text})
    hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    hub.merge(world.repo, number, user=world.login("p1"), method="squash")
    result = apply(world, cli, world.pull_base())
    assert result.code == 0, result.output
    assert world.legacy.held() == {f"{world.login('alice')}/operator"}
    _, longer = world.request("sq-1", window=f"expires_at: {FAR}")
    number = world.open_pull("sq-1-longer", {path: longer})
    forge_status(world, number)
    hub.merge(world.repo, number, user=world.login("p1"), method="squash")
    result = apply(world, cli, world.pull_base())
    assert result.code == 1 and world.legacy.held() == set()


@pytest.mark.attack(3, "rebase an unapproved edit in")
def test_a_rebase_merge_grants_each_replayed_request_and_an_edit_rebased_in_does_not(
    world: World, cli: CLI
) -> None:
    hub = world.server.hub
    first, text_1 = world.request("rb-1")
    second, text_2 = world.request("rb-2", requester="alice")
    hub.push(world.repo, "rb", {first: text_1}, author=world.login("alice"))
    hub.push(world.repo, "rb", {second: text_2}, author=world.login("alice"))  # two commits
    number = hub.open_pull(world.repo, head="rb", title="rb", user=world.login("alice")).number
    hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    merged = hub.merge(world.repo, number, user=world.login("p1"), method="rebase")
    assert len(merged.rebased) == 2  # two new commits on main, each with one parent
    result = apply(world, cli, world.pull_base())
    assert result.code == 0, result.output
    assert result.out.count("granted:") == 2 and "rb-1" in result.out and "rb-2" in result.out
    notes = evidence.read_all(world.base)[0]
    assert {n.pull_request for c, n in notes.items() if c in merged.rebased} == {number}

    _, longer = world.request("rb-1", window=f"expires_at: {FAR}")
    number = world.open_pull("rb-1-longer", {first: longer})
    forge_status(world, number)
    hub.merge(world.repo, number, user=world.login("p1"), method="rebase")
    result = apply(world, cli, world.pull_base())
    assert result.code == 1 and "already used" in result.out, result.output
    assert "revoked:" in result.out and "rb-1" in result.out


@pytest.mark.attack(3, "pass a squash merge off as a rebase to replay an id")
def test_a_squash_merge_cannot_pass_for_a_rebase_to_replay_an_id(world: World, cli: CLI) -> None:
    """A squash merge of a pull request with as many commits as the first-parent commits
    before it that added and removed the same request: taken for a rebase, its policies and
    used ids would be read from before the first of them, and the replay would pass. GitHub
    says which pull request introduced each commit, so it is judged as the squash it is."""
    hub = world.server.hub
    path, text = world.request("sq-rp")
    number = world.open_pull("sq-rp", {path: text})
    hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    hub.merge(world.repo, number, user=world.login("p1"), method="squash")
    assert apply(world, cli, world.pull_base()).code == 0
    number = world.open_pull("drop-sq-rp", {path: None})
    hub.merge(world.repo, number, user=world.login("p1"), method="squash")
    assert apply(world, cli, world.pull_base()).code == 0
    for step in range(3):  # three commits, the last one the request again
        hub.push(
            world.repo,
            "again",
            {f"requests/legacy/operator/tmp-{step}.yaml": None} if step < 2 else {path: text},
            author=world.login("alice"),
        )
    number = hub.open_pull(
        world.repo, head="again", title="again", user=world.login("alice")
    ).number
    hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    hub.merge(world.repo, number, user=world.login("p1"), method="squash")
    result = apply(world, cli, world.pull_base())
    assert result.code == 1 and "already used" in result.out, result.output
    assert world.legacy.held() == set()


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
