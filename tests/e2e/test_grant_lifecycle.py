"""The grant lifecycle under attack: only content that apply verified grants, and every reader
agrees with what apply verified.

A writer with push access can post a `success` status (one API call) and merge whatever they
like into an unprotected branch. Each attack here is played end to end on the GitHub test
server against an exec target, beside its control: the approved path still grants.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta

from jitops import evidence
from jitops.ledger import Standing, read_ledger
from tests.e2e.apply_world import World, apply, forge_status, grant
from tests.e2e.conftest import CLI
from tests.gitrepo import git

FAR = (datetime.now(UTC) + timedelta(days=300)).strftime("%Y-%m-%dT%H:%M:%SZ")


def granted(world: World, cli: CLI, request_id: str) -> str:
    """Grant ``request_id`` the approved way and apply it; the path of its file."""
    path, _ = world.request(request_id)
    grant(world, request_id)
    result = apply(world, cli, world.pull_base())
    assert result.code == 0, result.output
    assert world.legacy.held() == {f"{world.login('alice')}/operator"}
    return path


def edit(world: World, branch: str, files: dict[str, str | None], approve: bool) -> int:
    number = world.open_pull(branch, files)
    forge_status(world, number)
    if approve:  # a colluding approver
        world.server.hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    world.merge(number)
    return number


def status_of(world: World, cli: CLI, request_id: str) -> dict[str, object]:
    result = cli("status", "--repo", str(world.base), "--format", "json")
    [row] = [g for g in json.loads(result.out)["grants"] if g["id"] == request_id]
    return row


def test_an_in_place_edit_that_extends_a_grant_revokes_it_and_grants_nothing(
    world: World, cli: CLI
) -> None:
    path = granted(world, cli, "ext-1")
    _, longer = world.request("ext-1", window=f"expires_at: {FAR}")
    for attempt, approve in (("ext-1-longer", False), ("ext-1-again", True)):
        edit(world, attempt, {path: longer + f"# {attempt}\n"}, approve)
        result = apply(world, cli, world.pull_base())
        assert result.code == 1, result.output
        assert "refused:" in result.out and "already used" in result.out
        assert world.legacy.held() == set()  # the old grant is revoked in the same run
        row = status_of(world, cli, "ext-1")
        assert row["state"] == Standing.EDITED.value and row["standing"] == "edited after grant"
        text = cli("status", "--repo", str(world.base))
        assert "no access" in text.out and "0 active grant(s)" in text.err
        assert "left" not in text.out.split("ext-1")[0].splitlines()[-1]
    verify = cli("audit", "--repo", str(world.base), "verify")
    assert verify.code == 1 and "ext-1" in verify.out


def test_an_edit_that_shortens_a_grant_ends_it_now(world: World, cli: CLI) -> None:
    path = granted(world, cli, "short-1")
    _, shorter = world.request("short-1", window="duration: 1h")
    number = world.open_pull("short-1-shorter", {path: shorter})
    world.server.hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    world.merge(number)
    result = apply(world, cli, world.pull_base())
    assert "revoked:" in result.out and "changed on the branch by" in result.out
    assert "the new content is a new request" in result.out
    assert world.legacy.held() == set()
    [entry] = read_ledger(world.base).entries
    assert entry.standing is Standing.EDITED


def test_a_requester_swap_revokes_the_original_person(world: World, cli: CLI) -> None:
    path = granted(world, cli, "swap-1")
    _, swapped = world.request("swap-1", requester="bob")
    edit(world, "swap-1-bob", {path: swapped}, approve=False)
    result = apply(world, cli, world.pull_base())
    assert result.code == 1
    assert f"revoked: @{world.login('alice')}" in result.out  # the person who held it
    assert world.legacy.held() == set()  # and bob got nothing


def test_an_edit_pushed_straight_to_the_branch_revokes_and_grants_nothing(
    world: World, cli: CLI
) -> None:
    path = granted(world, cli, "push-1")
    _, longer = world.request("push-1", window=f"expires_at: {FAR}")
    world.server.hub.push(world.repo, "main", {path: longer}, author=world.login("alice"))
    result = apply(world, cli, world.pull_base())
    assert result.code == 1 and "without a merged pull request" in result.out
    assert world.legacy.held() == set()
    assert status_of(world, cli, "push-1")["state"] == "edited after grant"


def test_a_mode_change_is_an_edit(world: World, cli: CLI) -> None:
    path = granted(world, cli, "mode-1")
    git(world.base, "update-index", "--chmod=+x", path)
    git(world.base, "commit", "-q", "-m", "make it executable")
    before = git(world.base, "rev-parse", "HEAD~1").strip()
    result = apply(world, cli, before)
    assert "revoked:" in result.out and result.code == 1
    assert world.legacy.held() == set()


def test_a_rename_ends_the_old_grant_and_is_judged_as_a_new_request(world: World, cli: CLI) -> None:
    old = granted(world, cli, "ren-1")
    new, text = world.request("ren-2")
    number = world.open_pull("ren-1-to-2", {old: None, new: text})
    world.server.hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    world.merge(number)
    result = apply(world, cli, world.pull_base())
    assert result.code == 0, result.output
    assert "revoked:" in result.out and "ren-1" in result.out
    assert "granted:" in result.out and "ren-2" in result.out
    state = json.loads(world.legacy.state.read_text())
    assert [g["request_id"] for g in state.values()] == ["ren-2"]

    # the same rename without an approval: the old grant ends, the new one is refused
    newer, text = world.request("ren-3")
    edit(world, "ren-2-to-3", {new: None, newer: text}, approve=False)
    result = apply(world, cli, world.pull_base())
    assert result.code == 1 and "refused:" in result.out
    assert world.legacy.held() == set()


def test_reverting_a_revocation_grants_nothing(world: World, cli: CLI) -> None:
    path = granted(world, cli, "back-1")
    _, text = world.request("back-1")
    world.merge(world.open_pull("drop-back-1", {path: None}))
    assert apply(world, cli, world.pull_base()).code == 0
    assert world.legacy.held() == set()
    number = world.open_pull("revert-drop-back-1", {path: text})
    world.server.hub.review(world.repo, number, user=world.login("bob"), event="APPROVE")
    world.merge(number)
    result = apply(world, cli, world.pull_base())
    assert result.code == 1 and "already used" in result.out
    assert world.legacy.held() == set()
    assert status_of(world, cli, "back-1")["state"] == "refused"


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
    assert status_of(world, cli, "side-1")["state"] == "refused"


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
    assert status_of(world, cli, "loose-1")["state"] == "refused"

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


def test_a_target_changed_without_approval_never_runs_with_its_secret(
    world: World, cli: CLI
) -> None:
    path = granted(world, cli, "tgt-1")
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
    world.merge(world.open_pull("drop-tgt-1", {path: None}))  # a removal: apply revokes
    result = apply(world, cli, world.pull_base())
    assert result.code == 1 and "the branch's policies are not verified" in result.err
    assert "revoked:" in result.out  # by the target of the verified state
    assert not marker.exists()
    assert world.legacy.held() == set()
