"""PyGithub's own objects round-trip through the test server, for every call jitops makes."""

from __future__ import annotations

import pytest
from github import Auth, Github, GithubException

from jitops.testing.github import BranchProtection
from tests.fixtures.github_server import RepoSetup


def client(setup: RepoSetup, token: str) -> Github:
    return setup.server.pygithub(token)


def test_plain_constructor_reaches_the_server(github_repo: RepoSetup) -> None:
    gh = Github(base_url=github_repo.server.base_url, auth=Auth.Token(github_repo.author.token))
    assert gh.get_repo(github_repo.full_name).get_pull  # lazily built
    assert gh.get_user().login == github_repo.author.login


def test_pull_request_life_cycle(github_repo: RepoSetup) -> None:
    author = client(github_repo, github_repo.author.token)
    reviewer = client(github_repo, github_repo.reviewer.token)
    repo = author.get_repo(github_repo.full_name)
    assert repo.default_branch == "main"
    pull = repo.create_pull(base="main", head="feature", title="access for alice", body="INC-1")
    assert pull.head.sha == github_repo.feature_sha
    assert [f.filename for f in pull.get_files()] == ["requests/alice.yaml"]
    assert [c.sha for c in pull.get_commits()] == [github_repo.feature_sha]
    assert pull.mergeable is True

    theirs = reviewer.get_repo(github_repo.full_name).get_pull(pull.number)
    theirs.create_review(event="APPROVE", body="ok")
    reviews = list(repo.get_pull(pull.number).get_reviews())
    assert [(r.user.login, r.state, r.commit_id) for r in reviews] == [
        (github_repo.reviewer.login, "APPROVED", github_repo.feature_sha)
    ]

    comment = pull.create_issue_comment("checking policy")
    comment.edit("policy: ok")
    assert [c.body for c in pull.get_issue_comments()] == ["policy: ok"]
    pull.add_to_labels("access-request")
    assert [label.name for label in pull.get_labels()] == ["access-request"]

    status = pull.merge(merge_method="squash")
    assert status.merged
    merged = repo.get_pull(pull.number)
    assert merged.merged and merged.merged_by.login == github_repo.author.login
    main = repo.get_git_ref("heads/main").object.sha
    assert main == status.sha == merged.merge_commit_sha
    squash = repo.get_git_commit(main)
    assert len(squash.parents) == 1
    assert squash.message.startswith(f"access for alice (#{pull.number})")
    assert [p.number for p in repo.get_commit(main).get_pulls()] == [pull.number]


def test_merge_commit_has_two_parents(github_repo: RepoSetup) -> None:
    repo = client(github_repo, github_repo.author.token).get_repo(github_repo.full_name)
    pull = repo.create_pull(base="main", head="feature", title="t")
    result = pull.merge(merge_method="merge")
    commit = repo.get_git_commit(result.sha)
    assert [p.sha for p in commit.parents][1] == github_repo.feature_sha
    assert pull.is_merged()


def test_own_approval_is_refused(github_repo: RepoSetup) -> None:
    author = client(github_repo, github_repo.author.token)
    pull = author.get_repo(github_repo.full_name).create_pull(
        base="main", head="feature", title="t"
    )
    with pytest.raises(GithubException) as refused:
        pull.create_review(event="APPROVE")
    assert refused.value.status == 422
    assert "own pull request" in refused.value.data["message"]


def test_dismiss_review(github_repo: RepoSetup) -> None:
    author = client(github_repo, github_repo.author.token)
    reviewer = client(github_repo, github_repo.reviewer.token)
    pull = author.get_repo(github_repo.full_name).create_pull(
        base="main", head="feature", title="t"
    )
    review = (
        reviewer.get_repo(github_repo.full_name)
        .get_pull(pull.number)
        .create_review(event="APPROVE")
    )
    admin = client(github_repo, github_repo.admin.token)
    admin.get_repo(github_repo.full_name).get_pull(pull.number).get_review(review.id).dismiss(
        "stale"
    )
    assert pull.get_review(review.id).state == "DISMISSED"


def test_statuses_and_check_runs(github_repo: RepoSetup) -> None:
    repo = client(github_repo, github_repo.author.token).get_repo(github_repo.full_name)
    commit = repo.get_commit(github_repo.feature_sha)
    commit.create_status(state="pending", context="jitops/validate", description="checking")
    commit.create_status(state="success", context="jitops/validate", description="ok")
    combined = commit.get_combined_status()
    assert (combined.state, combined.total_count) == ("success", 1)
    # PyGithub's Commit.get_statuses() calls the legacy GET /statuses/{sha}, which GitHub's
    # description no longer lists; the combined status is the documented way.
    assert [s.description for s in combined.statuses] == ["ok"]
    run = repo.create_check_run(
        name="jitops", head_sha=github_repo.feature_sha, status="in_progress"
    )
    run.edit(conclusion="failure", output={"title": "needs approval", "summary": "from @leads"})
    runs = list(commit.get_check_runs())
    assert [(r.name, r.status, r.conclusion, r.output.title) for r in runs] == [
        ("jitops", "completed", "failure", "needs approval")
    ]


def test_team_membership_and_permission(github_repo: RepoSetup) -> None:
    hub = github_repo.server.hub
    hub.add_team(
        github_repo.org,
        "db-leads",
        members=[github_repo.reviewer.login],
        pending=[github_repo.author.login],
    )
    gh = client(github_repo, github_repo.author.token)
    team = gh.get_organization(github_repo.org).get_team_by_slug("db-leads")
    active = team.get_team_membership(github_repo.reviewer.login)
    pending = team.get_team_membership(github_repo.author.login)
    assert (active.state, active.role) == ("active", "member")
    assert pending.state == "pending"
    assert [m.login for m in team.get_members()] == [github_repo.reviewer.login]
    repo = gh.get_repo(github_repo.full_name)
    assert repo.get_collaborator_permission(github_repo.reviewer.login) == "write"
    assert repo.get_collaborator_permission(github_repo.admin.login) == "admin"
    assert gh.get_user().login == github_repo.author.login


def test_contents_and_git_data(github_repo: RepoSetup) -> None:
    repo = client(github_repo, github_repo.author.token).get_repo(github_repo.full_name)
    readme = repo.get_contents("README.md")
    assert not isinstance(readme, list)
    assert readme.decoded_content == b"# access\n"
    listing = repo.get_contents("policies", ref="main")
    assert isinstance(listing, list) and [c.path for c in listing] == ["policies/db.yaml"]
    created = repo.create_file("requests/bob.yaml", "add bob", "role: admin\n", branch="bob")
    assert repo.get_git_ref("heads/bob").object.sha == created["commit"].sha

    from github import InputGitTreeElement

    blob = repo.create_git_blob("hello\n", "utf-8")
    base = repo.get_git_commit(repo.get_git_ref("heads/main").object.sha)
    tree = repo.create_git_tree(
        [InputGitTreeElement("hello.txt", "100644", "blob", sha=blob.sha)], base.tree
    )
    commit = repo.create_git_commit("add hello", tree, [base])
    ref = repo.create_git_ref("refs/heads/hello", commit.sha)
    assert ref.object.sha == commit.sha
    paths = [e.path for e in repo.get_git_tree(commit.sha, recursive=True).tree]
    assert "hello.txt" in paths and "policies/db.yaml" in paths
    assert repo.get_git_blob(blob.sha).content.strip() == "aGVsbG8K"


def test_codeowners_errors(github_repo: RepoSetup) -> None:
    hub = github_repo.server.hub
    text = f"* @{github_repo.reviewer.login}\n/policies/ @{github_repo.org}/ghosts\n"
    hub.push(github_repo.repo, "main", {".github/CODEOWNERS": text}, author=github_repo.admin.login)
    # PyGithub has no method for this endpoint: jitops calls it through the requester.
    gh = client(github_repo, github_repo.author.token)
    _, data = gh.requester.requestJsonAndCheck(
        "GET", f"/repos/{github_repo.full_name}/codeowners/errors"
    )
    assert [(e["line"], e["kind"]) for e in data["errors"]] == [(2, "Unknown owner")]


def test_required_status_check_blocks_merge(github_repo: RepoSetup) -> None:
    hub = github_repo.server.hub
    hub.protect_branch(github_repo.repo, "main", BranchProtection(required_status_checks=("ci",)))
    repo = client(github_repo, github_repo.author.token).get_repo(github_repo.full_name)
    pull = repo.create_pull(base="main", head="feature", title="t")
    with pytest.raises(GithubException) as refused:
        pull.merge()
    assert refused.value.status == 405
    repo.get_commit(pull.head.sha).create_status(state="success", context="ci")
    assert pull.merge().merged
