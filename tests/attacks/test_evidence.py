"""What apply verified, as every reader sees it (invariants 8 and 3): evidence is history — a
later refusal of the same landing never overwrites what was verified when it merged; ``audit
verify`` keeps one issue open while unverified access is on the branch; and a checkout without
the evidence notes counts nothing as granted and says how to fetch them.

What the attacker can do: dismiss an approval after the merge, leave a refused file on the
branch. What they cannot: make git answer the audit differently, or make a reader count as
active what apply did not verify.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jitops import evidence
from tests.e2e.apply_world import (
    World,
    apply,
    forge_status,
    granted,
)
from tests.e2e.conftest import CLI
from tests.gitrepo import git


@pytest.mark.attack(8, "overwrite verified evidence with a later refusal")
def test_a_later_refusal_never_overwrites_what_an_earlier_run_verified(
    world: World, cli: CLI
) -> None:
    """Evidence is history: re-judging a landing later (a rerun, a catch-up) after its
    approval was dismissed refuses now, grants nothing new, and leaves the record of what was
    verified when it merged."""
    hub = world.server.hub
    path, text = world.request("ev-1")
    number = world.open_pull("ev-1", {path: text})
    review = hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    merge = world.merge(number)
    before = world.pull_base()
    assert apply(world, cli, before).code == 0
    hub.dismiss_review(world.repo, number, review.id, user=world.login("owner"), message="later")
    rerun = apply(world, cli, before)
    assert rerun.code == 1 and "refused:" in rerun.out
    note = evidence.read_all(world.base)[0][merge]
    assert note.verdict == "allowed"
    assert [a.login for a in note.requests[0].approvers] == [world.login("bob")]


def test_audit_verify_keeps_one_issue_open_while_unverified_access_is_on_the_branch(
    world: World, cli: CLI
) -> None:
    hub = world.server.hub
    path, text = world.request("au-1")
    number = world.open_pull("au-1", {path: text})
    forge_status(world, number)
    world.merge(number)
    assert apply(world, cli, world.pull_base()).code == 1  # refused, loudly

    def issues(state: str = "open") -> list[str]:
        return [
            i.body
            for i in hub.state.issues_of(world.repo.id)
            if i.state == state and "jitops:audit" in {label.name for label in i.labels}
        ]

    for _ in range(2):  # a rerun edits the same issue
        verify = cli("audit", "--repo", str(world.base), "verify", "--open-issue")
        assert verify.code == 1, verify.output
        [body] = issues()
        assert "au-1" in body and "still on the branch" in body
        assert "remove the file with a pull request" in body
    assert "opened issue" not in verify.err and "updated issue" in verify.err

    world.merge(world.open_pull("drop-au-1", {path: None}))
    assert apply(world, cli, world.pull_base()).code == 0
    verify = cli("audit", "--repo", str(world.base), "verify", "--open-issue")
    assert verify.code == 0, verify.output  # history now: a warning, not a problem
    assert "never granted anything" in verify.out
    assert issues() == [] and len(issues("closed")) == 1


@pytest.mark.attack(8, "a fresh clone without the evidence notes reads as no evidence")
def test_status_without_the_notes_says_how_to_fetch_them(world: World, cli: CLI) -> None:
    granted(world, cli, "fresh-1")
    assert cli("apply", "--repo", str(world.base), "--before", "HEAD", "--push-notes").code == 0
    fresh = world.base.parent / "fresh"
    git(world.base.parent, "clone", "-q", world.server.file_url(world.repo.full_name), str(fresh))
    result = cli("status", "--repo", str(fresh))
    assert "not verified here" in result.out and "0 active grant(s)" in result.err
    assert "git fetch origin refs/notes/jitops:refs/notes/jitops" in result.output
    git(fresh, "fetch", "-q", "origin", "refs/notes/jitops:refs/notes/jitops")
    result = cli("status", "--repo", str(fresh))
    assert "1 active grant(s)" in result.err
    assert cli("reconcile", "--repo", str(fresh), "--dry-run").code != 2


def test_the_workflows_checkouts_fetch_the_notes_they_read(world: World, cli: CLI) -> None:
    """A workflow's checkout has no notes: without them reconcile refuses to run (it would
    see nothing granted) and the sweep warns no one; --fetch-notes brings them."""

    granted(world, cli, "wf-1")
    assert cli("apply", "--repo", str(world.base), "--before", "HEAD", "--push-notes").code == 0
    checkouts = [world.base.parent / name for name in ("plain", "fetching")]
    for checkout in checkouts:
        url = world.server.file_url(world.repo.full_name)
        git(world.base.parent, "clone", "-q", url, str(checkout))
    plain, fetching = checkouts
    only = ("--dry-run", "--target", "legacy")
    refused = cli("reconcile", "--repo", str(plain), *only)
    assert refused.code == 2 and "holds no evidence notes" in refused.output
    checked = cli("reconcile", "--repo", str(plain), *only, "--fetch-notes")
    assert checked.code == 0, checked.output
    soon = f"{datetime.now(UTC) + timedelta(minutes=90):%Y-%m-%dT%H:%M:%SZ}"
    warn = ("--now", soon, "--warn-before", "1h")
    assert "warned" not in cli("sweep", "--repo", str(fetching), *warn).out
    result = cli("sweep", "--repo", str(fetching), "--fetch-notes", *warn)
    assert result.code == 0 and "warned: @" in result.out and "wf-1" in result.out
