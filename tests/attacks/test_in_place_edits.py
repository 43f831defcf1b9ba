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
from pathlib import Path

import pytest

from jitops import evidence
from jitops.github import GitHub
from jitops.ledger import Standing, read_ledger
from jitops.testing.github import GitHubServer
from jitops.testing.github.actions import record_run
from tests.e2e.apply_world import (
    APPLY,
    World,
    apply,
    forge_status,
    grant,
    make_world,
    workflow_apply,
)
from tests.e2e.conftest import CLI, LegacySystem, Run
from tests.fixtures.postgres import PostgresServer, new_password
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


@pytest.mark.attack(4, "extend a granted request by editing it in place, merged on a forged status")
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


@pytest.mark.attack(3, "swap the requester of a granted request")
def test_a_requester_swap_revokes_the_original_person(world: World, cli: CLI) -> None:
    path = granted(world, cli, "swap-1")
    _, swapped = world.request("swap-1", requester="bob")
    edit(world, "swap-1-bob", {path: swapped}, approve=False)
    result = apply(world, cli, world.pull_base())
    assert result.code == 1
    assert f"revoked: @{world.login('alice')}" in result.out  # the person who held it
    assert world.legacy.held() == set()  # and bob got nothing


@pytest.mark.attack(3, "push an edit of a granted request straight to main")
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


@pytest.mark.attack(3, "change a granted file's mode")
def test_a_mode_change_is_an_edit(world: World, cli: CLI) -> None:
    path = granted(world, cli, "mode-1")
    git(world.base, "update-index", "--chmod=+x", path)
    git(world.base, "commit", "-q", "-m", "make it executable")
    git(world.base, "push", "-q", "origin", "main")  # pushed straight to the branch
    before = git(world.base, "rev-parse", "HEAD~1").strip()
    result = apply(world, cli, before)
    assert "revoked:" in result.out and result.code == 1
    assert world.legacy.held() == set()


@pytest.mark.attack(3, "rename a granted request")
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


@pytest.mark.attack(3, "revert the removal of an expired request")
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
    assert status_of(world, cli, "side-1")["state"] == "refused"


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
    from datetime import UTC, datetime, timedelta

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


@pytest.mark.attack(7, "have the sweep or reconcile run an unapproved target command")
def test_the_sweep_and_reconcile_never_run_a_target_changed_without_approval(
    world: World, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime, timedelta

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


@pytest.mark.attack(4, "extend a PostgreSQL grant's VALID UNTIL by an in-place edit")
def test_on_postgresql_an_extending_edit_ends_the_grant_and_moves_no_valid_until(
    legacy: LegacySystem,
    github_server: GitHubServer,
    github_names: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cli: CLI,
    postgres_server: PostgresServer,
) -> None:
    """The in-place edit attack against a real PostgreSQL target: the approved grant is
    revoked in the run that sees the edit, and the login's VALID UNTIL never moves to the
    edited window."""
    n = github_names.replace("-", "_")
    provisioner_password = new_password()
    for statement in (
        f"CREATE ROLE lc_prov_{n} LOGIN CREATEROLE PASSWORD '{provisioner_password}'",
        f"GRANT pg_signal_backend TO lc_prov_{n}",
        f"CREATE ROLE lc_ro_{n} NOLOGIN",
        f"GRANT lc_ro_{n} TO lc_prov_{n} WITH ADMIN OPTION",
    ):
        postgres_server.admin(statement)
    monkeypatch.setenv("LC_PG_PASSWORD", provisioner_password)
    (legacy.repo / "policies" / "pg.yaml").write_text(
        "apiVersion: jitops/v1\nkind: Target\nname: pg\nprovisioner: postgres\nroles: [readonly]\n"
        f"settings:\n  host: {postgres_server.host}\n  port: {postgres_server.port}\n"
        f"  user: lc_prov_{n}\n  login_template: 'lc{n}_{{login}}'\n"
        f"  roles: {{readonly: lc_ro_{n}}}\nsecrets:\n  password: LC_PG_PASSWORD\n"
    )
    world = make_world(legacy, github_server, github_names, tmp_path, monkeypatch)
    alice, bob = world.login("alice"), world.login("bob")
    policy = (
        "apiVersion: jitops/v1\nkind: Policy\nname: pg\ntargets: [pg]\n"
        f"requesters: [{alice}]\nroles:\n  readonly:\n    max_duration: 8h\n"
        f"    approvals: [{{count: 1, from: [{bob}]}}]\n"
    )
    number = world.open_pull("pg-policy", {"policies/pg-policy.yaml": policy})
    for person in ("p1", "owner"):
        world.server.hub.review(world.repo, number, user=world.login(person), event="APPROVE")
    world.merge(number)
    assert apply(world, cli, world.pull_base()).code == 0
    path = "requests/pg/readonly/pg-1.yaml"

    def request(window: str) -> str:
        return (
            "apiVersion: jitops/v1\nkind: AccessRequest\nid: pg-1\n"
            f"requester: {alice}\ntarget: pg\nrole: readonly\n"
            f"justification: Investigate INC-77 on the orders table\n{window}\n"
        )

    number = world.open_pull("pg-1", {path: request("duration: 2h")})
    world.server.hub.review(world.repo, number, user=bob, event="APPROVE")
    world.merge(number)
    granted_run = apply(world, cli, world.pull_base())
    assert granted_run.code == 0, granted_run.output
    login = f"lc{n}_{alice}".lower()

    def state() -> tuple[list[str], datetime | None]:
        members = postgres_server.admin(
            "SELECT g.rolname FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid "
            "JOIN pg_roles m ON m.oid = a.member WHERE m.rolname = %s",
            (login,),
        )
        until = postgres_server.admin(
            "SELECT rolvaliduntil FROM pg_roles WHERE rolname = %s", (login,)
        )
        return [row[0] for row in members], until[0][0] if until else None

    roles, valid_until = state()
    assert roles == [f"lc_ro_{n}"] and valid_until is not None
    assert valid_until <= datetime.now(UTC) + timedelta(hours=2, minutes=1)

    edit(world, "pg-1-longer", {path: request(f"expires_at: {FAR}")}, approve=True)
    result = apply(world, cli, world.pull_base())
    assert result.code == 1 and "already used" in result.out, result.output
    roles, after = state()
    assert roles == []  # revoked in the same run
    assert after is None or after <= valid_until  # never extended to the edited window


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
