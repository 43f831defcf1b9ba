"""Attacks with a forged ``jitops/approval`` status (invariant 3): any writer can post
``success`` for the check with one API call and, with branch protection off, merge without
any approval at all.

What the attacker can do: merge whatever they like on a status they wrote. What they cannot:
get it granted — apply re-verifies the merged pull request's reviews through the API, refuses
loudly (its run fails, the pull request and the job summary say why) and ``audit`` lists the
file as unverified.
"""

from __future__ import annotations

import pytest

from jitops.commands.audit import audit
from tests.e2e.apply_world import World, apply, forge_status
from tests.e2e.conftest import CLI


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


@pytest.mark.attack(3, "forge the jitops/approval status")
def test_a_forged_status_does_not_grant(world: World, cli: CLI) -> None:
    path, text = world.request("forged-1")
    number = world.open_pull("forged-1", {path: text})
    forge_status(world, number)
    world.merge(number)
    before = world.pull_base()
    assert apply(world, cli, before).code == 1
    assert world.legacy.held() == set()
