"""What the server enforces as GitHub does, and what it leaves alone (branch protection
options, stale approvals, code owners, conflicts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jitops.testing.github import BranchProtection, HubError
from tests.fixtures.github_server import RepoSetup


def open_pull(setup: RepoSetup) -> int:
    hub = setup.server.hub
    return hub.open_pull(setup.repo, head="feature", title="t", user=setup.author.login).number


def test_push_moves_head_and_old_review_keeps_its_commit(github_repo: RepoSetup) -> None:
    hub = github_repo.server.hub
    number = open_pull(github_repo)
    review = hub.review(github_repo.repo, number, user=github_repo.reviewer.login, event="APPROVE")
    new = hub.push(
        github_repo.repo,
        "feature",
        {"requests/alice.yaml": "role: admin\n"},
        author=github_repo.author.login,
    )
    assert hub.pull(github_repo.repo, number).head_sha == new != github_repo.feature_sha
    kept = hub.get_review(github_repo.repo, number, review.id)
    assert (kept.state, kept.commit_id) == ("APPROVED", github_repo.feature_sha)


def test_dismiss_stale_approvals_on_push_is_an_option(github_repo: RepoSetup) -> None:
    hub = github_repo.server.hub
    hub.protect_branch(github_repo.repo, "main", BranchProtection(dismiss_stale_reviews=True))
    number = open_pull(github_repo)
    review = hub.review(github_repo.repo, number, user=github_repo.reviewer.login, event="APPROVE")
    hub.push(github_repo.repo, "feature", {"x.txt": "x\n"}, author=github_repo.author.login)
    assert hub.get_review(github_repo.repo, number, review.id).state == "DISMISSED"
    dismissed = github_repo.server.last_event("pull_request_review", "dismissed")
    assert dismissed.payload["review"]["id"] == review.id


def test_required_approvals_and_code_owner_review(github_repo: RepoSetup) -> None:
    hub = github_repo.server.hub
    hub.protect_branch(
        github_repo.repo,
        "main",
        BranchProtection(required_approving_review_count=1, require_code_owner_reviews=True),
    )
    number = open_pull(github_repo)
    with pytest.raises(HubError) as refused:
        hub.merge(github_repo.repo, number, user=github_repo.author.login)
    assert refused.value.status == 405
    # An approval from a non-owner with write access satisfies the count, not code owners.
    hub.review(github_repo.repo, number, user=github_repo.admin.login, event="APPROVE")
    pr = hub.pull(github_repo.repo, number)
    assert [b for b in hub.blockers(github_repo.repo, pr) if "code owner" in b]
    hub.review(github_repo.repo, number, user=github_repo.reviewer.login, event="APPROVE")
    assert hub.blockers(github_repo.repo, pr) == []
    assert hub.merge(github_repo.repo, number, user=github_repo.author.login).merged


def test_github_counts_an_approval_on_an_old_commit(github_repo: RepoSetup) -> None:
    """Without "dismiss stale approvals", GitHub still counts an approval given before a push:
    jitops must check ``commit_id`` itself."""
    hub = github_repo.server.hub
    hub.protect_branch(
        github_repo.repo, "main", BranchProtection(required_approving_review_count=1)
    )
    number = open_pull(github_repo)
    hub.review(github_repo.repo, number, user=github_repo.reviewer.login, event="APPROVE")
    hub.push(github_repo.repo, "feature", {"late.txt": "sneaky\n"}, author=github_repo.author.login)
    assert hub.blockers(github_repo.repo, hub.pull(github_repo.repo, number)) == []


def test_later_changes_requested_outweighs_approval(github_repo: RepoSetup) -> None:
    hub = github_repo.server.hub
    number = open_pull(github_repo)
    hub.review(github_repo.repo, number, user=github_repo.reviewer.login, event="APPROVE")
    hub.review(
        github_repo.repo,
        number,
        user=github_repo.reviewer.login,
        event="REQUEST_CHANGES",
        body="no",
    )
    assert hub.approvers(github_repo.repo, hub.pull(github_repo.repo, number)) == set()


def test_conflicting_pull_is_not_mergeable(github_repo: RepoSetup) -> None:
    hub = github_repo.server.hub
    repo = github_repo.repo
    hub.push(repo, "a", {"README.md": "one\n"}, author=github_repo.author.login)
    hub.push(repo, "main", {"README.md": "two\n"}, author=github_repo.admin.login)
    number = hub.open_pull(repo, head="a", title="t", user=github_repo.author.login).number
    assert not hub.mergeable(repo, hub.pull(repo, number))
    with pytest.raises(HubError) as refused:
        hub.merge(repo, number, user=github_repo.author.login)
    assert refused.value.status == 405


def test_read_only_user_cannot_merge(github_repo: RepoSetup) -> None:
    hub = github_repo.server.hub
    outsider = hub.add_user(f"outsider-{github_repo.org}")
    number = open_pull(github_repo)
    with pytest.raises(HubError) as refused:
        hub.merge(github_repo.repo, number, user=outsider.login)
    assert refused.value.status == 403


def test_repository_from_a_local_git_directory(github_repo: RepoSetup, tmp_path: object) -> None:
    import subprocess
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    work = tmp_path / "work"
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    (work / "policies").mkdir()
    (work / "policies" / "p.yaml").write_text("a: 1\n")
    subprocess.run(["git", "-C", str(work), "add", "."], check=True)
    subprocess.run(["git", "-C", str(work), "commit", "-qm", "init"], check=True)
    local = subprocess.run(
        ["git", "-C", str(work), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    hub = github_repo.server.hub
    repo = hub.create_repo(f"{github_repo.org}/imported", source=work)
    assert hub.git(repo).branch_sha("main") == local


def test_a_rulesets_required_check_blocks_merging_until_it_succeeds(
    github_repo: RepoSetup,
) -> None:
    hub = github_repo.server.hub
    hub.add_ruleset(github_repo.repo, "approval", required_status_checks=("jitops/approval",))
    assert hub.protection(github_repo.repo, "main") is None  # no classic protection at all
    number = open_pull(github_repo)
    head = hub.pull(github_repo.repo, number).head_sha
    for state in ("pending", "failure"):
        hub.set_status(
            github_repo.repo, head, state=state, context="jitops/approval", creator="jitops"
        )
        with pytest.raises(HubError) as refused:
            hub.merge(github_repo.repo, number, user=github_repo.admin.login)
        assert refused.value.status == 405
        assert 'Required status check "jitops/approval" is expected.' in refused.value.message
    # the same context from another name does not count
    hub.set_status(github_repo.repo, head, state="success", context="jitops", creator="jitops")
    assert hub.blockers(github_repo.repo, hub.pull(github_repo.repo, number))
    hub.set_status(
        github_repo.repo, head, state="success", context="jitops/approval", creator="jitops"
    )
    assert hub.merge(github_repo.repo, number, user=github_repo.admin.login).merged


def test_rulesets_and_protection_add_up_and_apply_only_to_their_branches(
    github_repo: RepoSetup,
) -> None:
    hub = github_repo.server.hub
    repo = github_repo.repo
    hub.add_ruleset(repo, "releases", branches=("release",), required_status_checks=("deploy",))
    hub.add_ruleset(repo, "everything", branches=("~ALL",), required_status_checks=("lint",))
    hub.protect_branch(repo, "main", BranchProtection(required_status_checks=("ci", "lint")))
    assert hub.required_status_checks(repo, "main") == ("ci", "lint")
    assert hub.required_status_checks(repo, "release") == ("deploy", "lint")
    number = open_pull(github_repo)
    head = hub.pull(repo, number).head_sha
    hub.set_status(repo, head, state="success", context="ci", creator="x")
    assert hub.blockers(repo, hub.pull(repo, number)) == [
        'Required status check "lint" is expected.'
    ]
    hub.set_status(repo, head, state="success", context="lint", creator="x")
    assert hub.merge(repo, number, user=github_repo.author.login).merged  # "deploy": not main's


def test_a_ruleset_on_another_branch_does_not_block_main(github_repo: RepoSetup) -> None:
    hub = github_repo.server.hub
    hub.add_ruleset(
        github_repo.repo, "releases", branches=("release",), required_status_checks=("x",)
    )
    assert hub.rulesets(github_repo.repo, "main") == []
    number = open_pull(github_repo)
    assert hub.merge(github_repo.repo, number, user=github_repo.author.login).merged


def test_a_commit_lists_the_pull_request_that_introduced_it_as_github_does(
    github_repo: RepoSetup,
) -> None:
    """On the default branch: the merged pull request that brought the commit (not later ones
    branched from it); elsewhere: the open pull requests holding it."""
    hub, repo, author = github_repo.server.hub, github_repo.repo, github_repo.author.login
    first = open_pull(github_repo)
    feature_commit = github_repo.feature_sha
    assert [p.number for p in hub.pulls_for_commit(repo, feature_commit)] == [first]  # open
    merged = hub.merge(repo, first, user=github_repo.admin.login).merge_commit_sha
    assert merged is not None
    hub.push(repo, "later", {"later.txt": "l\n"}, author=author)  # branched after the merge
    second = hub.open_pull(repo, head="later", title="later", user=author).number
    assert [p.number for p in hub.pulls_for_commit(repo, merged)] == [first]
    assert [p.number for p in hub.pulls_for_commit(repo, feature_commit)] == [first]
    later_head = hub.pull(repo, second).head_sha
    assert [p.number for p in hub.pulls_for_commit(repo, later_head)] == [second]


def test_a_diff_read_in_one_pass_has_each_files_own_patch(tmp_path: Path) -> None:
    """The files list's ``patch`` for each file, read from one diff of all files, is what a
    diff of that file alone gives: text, binary (none), no final newline, deletion, addition,
    a name with a space."""
    from jitops.testing.github import GitHubServer

    with GitHubServer(tmp_path / "github") as server:
        hub = server.hub
        hub.add_user("a")
        files = {"README": "x\ny\n", "b.bin": b"\x00\x01", "c": "none", "d e.txt": "1\n"}
        repo = hub.create_repo("a/r", files=files)
        store = hub.git(repo)
        base = store.branch_sha("main")
        assert base is not None
        changes = {"README": "x\nz\n", "b.bin": b"\x00\x02", "c": "still", "d e.txt": None}
        head = hub.push(repo, "c", {**changes, "new.txt": "n\n"}, author="a")
        diff = store.diff(base, head)
        assert [c.filename for c in diff] == ["README", "b.bin", "c", "d e.txt", "new.txt"]
        start = store.merge_base(base, head)
        assert start is not None
        for change in diff:
            assert change.patch == store._patch(start, head, change.filename, change.filename)
        assert diff[1].patch is None and diff[0].patch == "@@ -1,2 +1,2 @@\n x\n-y\n+z\n"
