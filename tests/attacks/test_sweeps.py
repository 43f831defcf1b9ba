"""Attacks on the sweep's bookkeeping (invariant 5, nothing is lost): two sweeps started at once,
failing or not, and a writer's look-alike of the failed-revokes issue.

Anyone who can push can start a workflow (two sweeps race) and anyone who can label an issue
can put jitops' label on their own. The sweep still opens one revocation pull request, keeps
one issue listing what it failed to revoke, and never edits or closes an issue it did not
write.
"""

from __future__ import annotations

import pytest

from jitops.commands.sweep import FAILED_LABEL
from tests.e2e.conftest import CLI, LEGACY_TOKEN, LegacySystem
from tests.e2e.sweep_world import Served, sweep


@pytest.mark.attack(5, "run two sweeps at once")
def test_two_sweeps_at_once_leave_one_pull_request(served: tuple[LegacySystem, Served]) -> None:

    _, world = served
    for code, _, err in world.sweeps_at_once(2):
        assert code == 0, err
    assert len(world.sweep_pulls()) == 1


@pytest.mark.attack(5, "run two failing sweeps at once")
def test_two_failing_sweeps_at_once_leave_one_open_issue(
    served: tuple[LegacySystem, Served], monkeypatch: pytest.MonkeyPatch
) -> None:

    _, world = served
    monkeypatch.setenv("FAKE_TOKEN", "expired-" + LEGACY_TOKEN)
    for code, out, err in world.sweeps_at_once(2):
        assert code == 3, err
        assert "issue #" in out
    [kept] = world.failed_issues()
    assert kept.pinned
    for other in world.failed_issues("closed"):  # a loser of the race, if there was one
        assert other.state_reason == "duplicate" and not other.pinned


@pytest.mark.attack(5, "plant a look-alike failed-revokes issue")
def test_an_issue_that_is_not_jitops_own_is_left_alone(
    served: tuple[LegacySystem, Served], cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anyone who can label an issue could put jitops' label on it: without jitops' marker,
    its text is never overwritten nor the issue closed."""
    _, world = served
    hub = world.server.hub
    mine = hub.open_issue(
        world.repo,
        title="notes on revokes",
        user=world.repo.owner,
        body="my notes",
        labels=[FAILED_LABEL],
    )
    monkeypatch.setenv("FAKE_TOKEN", "expired-" + LEGACY_TOKEN)
    assert sweep(world, cli).code == 3
    monkeypatch.setenv("FAKE_TOKEN", LEGACY_TOKEN)
    assert sweep(world, cli, now="2026-11-23T12:15:00Z").code == 0
    untouched = hub.issue(world.repo, mine.number)
    assert (untouched.state, untouched.body, untouched.title) == ("open", "my notes", mine.title)
    [jitops_own] = world.failed_issues("closed")
    assert jitops_own.number != mine.number
