"""Attacks on the approvals the check counts (invariant 2): the requester approving through a
second account that committed, an approval a later change request outweighs, a dismissed one,
a pending team invitee, one person for a role that needs two teams, an approver's own commit
hidden past GitHub's 250-commit list, the requester's login written in another case, and the
reviews made unreadable mid-check (invariant 5: it fails closed).

What the attacker can do: open pull requests for others, push to them, review, and hold more
than one account. What they cannot: get an approval counted that is not a current, undismissed
review on the head by someone the policy names who wrote nothing in the pull request. The
controls: the right approver still makes the check pass.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jitops.commands.check_pr import RELAY_WORKFLOW
from tests.e2e.conftest import CLI, Run
from tests.e2e.gate_world import GateWorld, comments_of, status_of


@pytest.mark.attack(2, "approve one's own request through a second account")
def test_requester_cannot_approve_through_a_second_account_of_a_committer(
    gate: GateWorld, check
) -> None:  # type: ignore[no-untyped-def]
    number = gate.open_request("co-1")
    # bob pushes a commit to alice's branch, then approves: an author of the PR may not approve
    gate.push(
        number,
        {
            "requests/sandbox-db/readwrite/co-1.yaml": gate.request_text(
                "co-1", window="duration: 1h"
            )
        },
        by="bob",
    )
    gate.review(number, "bob")
    result = check(number)
    assert result.code == 1
    assert "authored or committed to this pull request" in result.out


@pytest.mark.attack(2, "count an approval a later change request outweighs")
def test_a_later_change_request_outweighs_the_approval(gate: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    number = gate.open_request("cr-1")
    gate.review(number, "bob")
    gate.review(number, "bob", "REQUEST_CHANGES")
    assert check(number).code == 1
    assert "requested changes" in status_of(gate, number)[1]
    gate.review(number, "bob", "COMMENT", body="looks fine now")  # a comment decides nothing
    assert check(number).code == 1


@pytest.mark.attack(2, "count a dismissed approval")
def test_a_dismissed_approval_does_not_count(gate: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    number = gate.open_request("dm-1")
    review_id = gate.review(number, "bob")
    gate.server.hub.dismiss_review(
        gate.repo, number, review_id, user=gate.login("p1"), message="no"
    )
    assert check(number).code == 1


@pytest.mark.attack(2, "approve as a pending team invitee")
def test_a_pending_team_invitation_is_not_membership(gate: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    hub = gate.server.hub
    hub.set_membership(gate.org, "db-leads", gate.login("carol"), state="pending")
    number = gate.open_request("inv-1")
    gate.review(number, "carol")
    assert check(number).code == 1


@pytest.mark.attack(2, "approve admin access alone")
def test_admin_needs_two_people(gate: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    number = gate.open_request("adm-1", role="admin", window="duration: 1h", ticket="INC-77")
    gate.review(number, "dave")  # in both db-leads and security
    assert check(number).code == 1
    assert f"needs 1 approval from {gate.team('security')}" in status_of(gate, number)[1]
    gate.review(number, "erin")
    assert check(number).code == 0


@pytest.mark.attack(2, "hide an approver's commit past GitHub's 250-commit list")
def test_a_commit_hidden_past_githubs_250_commits_is_refused(
    gate: GateWorld,
    check,  # type: ignore[no-untyped-def]
) -> None:
    """Attack (no self-approval): GitHub lists at most 250 commits of a pull request, so an
    approver's own commit placed after them would not be seen and their approval would count.
    A pull request that reaches the cap is refused, saying why; below it the approver's own
    commit is seen and refused as self-approval."""
    from jitops.github import MAX_LISTED_COMMITS
    from jitops.testing.github.gitstore import TreeChange

    hub = gate.server.hub
    path = "requests/sandbox-db/readwrite/long-1.yaml"
    text = gate.request_text("long-1", role="readwrite")

    def open_with(commits: int, branch: str) -> int:
        number = gate.open_pull(branch, {path: text})
        store, ref = hub.git(gate.repo), f"refs/heads/{branch}"
        before = tip = store.branch_sha(branch)
        assert tip is not None
        # the first commit opened it; bob's is the last: written as one push, as git would
        for step in range(commits - 1):
            last = step == commits - 2
            content = (text if last else f"{text}# {step}\n").encode()
            tree = store.write_tree([TreeChange(path, content)], store.commit(tip).tree)
            who = hub.identity(gate.login("bob" if last else "alice"))
            tip = store.commit_tree(tree, [tip], f"step {step}\n", who)
        store.update_ref(ref, tip, before)
        hub.refs_changed(gate.repo, gate.login("alice"), [(ref, before, tip)])
        gate.review(number, "bob")
        return number

    capped = open_with(MAX_LISTED_COMMITS, "long")
    assert check(capped).code == 1
    assert "at most 250 commits" in status_of(gate, capped)[1]
    hub.update_pull(gate.repo, capped, sender=gate.login("alice"), state="closed")
    seen = open_with(3, "short")
    assert check(seen).code == 1
    assert "at most 250 commits" not in status_of(gate, seen)[1]
    assert f"@{gate.login('bob')}" in comments_of(gate, seen)[0]


@pytest.mark.attack(2, "approve one's own request written in another case")
def test_a_login_written_in_another_case_is_the_same_person(
    gate: GateWorld,
    check,  # type: ignore[no-untyped-def]
) -> None:
    """GitHub logins are case-insensitive: a request whose requester is written ``ALICE-…``
    by alice is alice's (allowed through her team, approved by a lead), and the same request
    opened by on-call for ``DAVE-…`` cannot be approved by dave himself."""
    path = "requests/sandbox-db/readwrite/{}.yaml"
    shouted = gate.request_text("case-1").replace(gate.login("alice"), gate.login("alice").upper())
    own = gate.open_pull("case-1", {path.format("case-1"): shouted})
    gate.review(own, "bob")
    assert check(own).code == 0
    for_dave = gate.request_text("case-2").replace(gate.login("alice"), gate.login("dave").upper())
    other = gate.open_pull("case-2", {path.format("case-2"): for_dave}, by="olivia")
    gate.review(other, "dave")  # a db lead, but the requester
    assert check(other).code == 1
    assert "cannot approve their own request" in comments_of(gate, other)[0]
    gate.review(other, "bob")
    assert check(other).code == 0


@pytest.mark.attack(5, "make the API unreachable mid-check")
def test_an_unreachable_api_fails_closed(gate: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    number = gate.open_request("down-1")
    gate.review(number, "bob")
    gate.server.faults.inject(
        "server_error", "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", times=20
    )
    try:
        result = check(number)
    finally:
        gate.server.faults.clear()
    assert result.code == 3
    assert "GitHub reviews of pull request" in result.err
    pr = gate.server.hub.pull(gate.repo, number)
    approvals = [
        s for s in gate.server.hub.statuses_for(gate.repo, pr.head_sha) if s.state == "success"
    ]
    assert approvals == []  # never a yes


@pytest.mark.attack(2, "a look-alike review relay run, to recompute or cancel the check")
def test_only_a_run_of_the_relay_made_by_a_review_recomputes_the_check(
    gate: GateWorld, cli: CLI, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Attack (the review relay): the review workflow runs, on the default branch, when any
    workflow named "jitops review relay" completes — a writer can add one on their own branch,
    or run the relay file by a push. check-pr, run as that workflow runs it (the
    ``workflow_run`` payload, the workflow's token), refuses both and posts nothing; the
    relay's own run after bob's review recomputes and posts the success (the control)."""
    number = gate.open_request("relay-1")
    pr = gate.server.hub.pull(gate.repo, number)
    runs = iter(range(1, 100))

    def relay_completed(path: str, event: str) -> Run:
        run = next(runs)
        payload = {
            "action": "completed",
            "workflow_run": {
                "id": run, "name": "jitops review relay", "event": event, "path": path,
                "head_sha": pr.head_sha, "head_branch": pr.head_ref,
                "pull_requests": [{"number": number, "id": number, "url": "u",
                                   "head": {"sha": pr.head_sha, "ref": pr.head_ref},
                                   "base": {"sha": pr.base_sha, "ref": "main"}}],
            },
            "repository": {"full_name": gate.repo.full_name, "owner": {"login": gate.org}},
        }  # fmt: skip
        event_path = tmp_path / f"event-{run}.json"
        event_path.write_text(json.dumps(payload))
        with monkeypatch.context() as env:
            for name, value in gate.env().items():
                env.setenv(name, value)
            env.setenv("GITHUB_ACTIONS", "true")
            env.setenv("GITHUB_EVENT_NAME", "workflow_run")
            env.setenv("GITHUB_EVENT_PATH", str(event_path))
            return cli("check-pr", "--base-checkout", str(gate.base))

    gate.review(number, "bob")
    relay = f"{gate.repo.full_name}/{RELAY_WORKFLOW}@refs/heads/main"
    look_alike = f"{gate.repo.full_name}/.github/workflows/look-alike.yml@refs/heads/x"
    for path, event in (
        (look_alike, "pull_request_review"),  # a writer's workflow of the relay's name
        (relay, "push"),  # the relay's file, run by a push to a writer's branch
        (relay, "workflow_dispatch"),
    ):
        refused = relay_completed(path, event)
        assert refused.code == 2, refused.output
        assert f"not a run of {RELAY_WORKFLOW} made by a review" in refused.output
        assert gate.server.hub.statuses_for(gate.repo, pr.head_sha) == []
        assert comments_of(gate, number) == []
    recomputed = relay_completed(relay, "pull_request_review")
    assert recomputed.code == 0, recomputed.output
    assert status_of(gate, number)[0] == "success"
