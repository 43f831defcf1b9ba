"""The test server refuses what GitHub refuses, and answers a refusal as GitHub does.

jitops' safety tests lean on these refusals: a server that merged what GitHub blocks, or read a
login GitHub would match, would let a test pass that GitHub would fail. Each test names the
GitHub documentation it follows.
"""

from __future__ import annotations

import pytest
from github import GithubException

import requests
from jitops.github import GitHub, GitHubError
from jitops.testing.github import BranchProtection
from jitops.testing.github.hub import HubError
from jitops.testing.github.pulls import MAX_LISTED_COMMITS, MAX_LISTED_FILES
from tests.fixtures.github_server import RepoSetup


def _get(setup: RepoSetup, token: str, path: str) -> requests.Response:
    return requests.get(
        setup.server.base_url + path, headers={"Authorization": f"token {token}"}, timeout=10
    )


def _put(setup: RepoSetup, token: str, path: str, body: object) -> requests.Response:
    return requests.put(
        setup.server.base_url + path,
        json=body,
        headers={"Authorization": f"token {token}"},
        timeout=10,
    )


# -- required reviews ------------------------------------------------------------------------


def test_a_writers_change_request_blocks_the_merge_until_they_approve(
    github_repo: RepoSetup,
) -> None:
    """ "Approving a pull request with required reviews": with required reviews, a review that
    requests changes from someone with write access blocks merging until that person approves
    or their review is dismissed — however many others approved."""
    hub, repo = github_repo.server.hub, github_repo.repo
    hub.protect_branch(repo, "main", BranchProtection(required_approving_review_count=1))
    critic = hub.add_user(f"critic-{repo.owner}")
    hub.add_collaborator(repo, critic.login, "write")
    number = hub.open_pull(repo, head="feature", title="t", user=github_repo.author.login).number
    hub.review(repo, number, user=github_repo.reviewer.login, event="APPROVE")
    hub.review(repo, number, user=critic.login, event="REQUEST_CHANGES", body="no")
    assert hub.blockers(repo, hub.pull(repo, number)) == [
        "Changes were requested by a reviewer with write access."
    ]
    pull = github_repo.server.pygithub(github_repo.admin.token).get_repo(repo.full_name)
    with pytest.raises(GithubException) as refused:
        pull.get_pull(number).merge()
    assert refused.value.status == 405
    hub.review(repo, number, user=critic.login, event="APPROVE")
    assert pull.get_pull(number).merge().merged


def test_a_dismissed_change_request_no_longer_blocks_and_a_readers_never_did(
    github_repo: RepoSetup,
) -> None:
    hub, repo = github_repo.server.hub, github_repo.repo
    hub.protect_branch(repo, "main", BranchProtection(required_approving_review_count=1))
    reader = hub.add_user(f"reader-{repo.owner}")  # reads the public repository, no more
    number = hub.open_pull(repo, head="feature", title="t", user=github_repo.author.login).number
    hub.review(repo, number, user=github_repo.reviewer.login, event="APPROVE")
    hub.review(repo, number, user=reader.login, event="REQUEST_CHANGES", body="no")
    assert hub.blockers(repo, hub.pull(repo, number)) == []
    critic = hub.review(
        repo, number, user=github_repo.admin.login, event="REQUEST_CHANGES", body="wait"
    )
    assert hub.blockers(repo, hub.pull(repo, number))
    hub.dismiss_review(repo, number, critic.id, user=github_repo.admin.login, message="old")
    assert hub.blockers(repo, hub.pull(repo, number)) == []


def test_without_required_reviews_a_change_request_blocks_nothing(github_repo: RepoSetup) -> None:
    hub, repo = github_repo.server.hub, github_repo.repo
    hub.protect_branch(repo, "main", BranchProtection(required_approving_review_count=0))
    number = hub.open_pull(repo, head="feature", title="t", user=github_repo.author.login).number
    hub.review(repo, number, user=github_repo.reviewer.login, event="REQUEST_CHANGES", body="x")
    assert hub.merge(repo, number, user=github_repo.admin.login).merged


# -- logins ----------------------------------------------------------------------------------


def test_logins_match_in_any_case_and_answer_in_the_accounts_own(github_repo: RepoSetup) -> None:
    """GitHub logins are case-insensitive: ``GET /users/ALICE`` is alice, and so are
    collaborators, organisation and team members and repository owners, each answered with
    the account's own spelling."""
    setup, hub = github_repo, github_repo.server.hub
    token, shout = setup.author.token, setup.reviewer.login.upper()
    assert _get(setup, token, f"/users/{shout}").json()["login"] == setup.reviewer.login
    permission = _get(setup, token, f"/repos/{setup.full_name}/collaborators/{shout}/permission")
    assert permission.json()["permission"] == "write"
    assert permission.json()["user"]["login"] == setup.reviewer.login
    assert _get(setup, token, f"/orgs/{setup.org.upper()}").json()["login"] == setup.org
    repo = _get(setup, token, f"/repos/{setup.full_name.upper()}")
    assert repo.status_code == 200 and repo.json()["full_name"] == setup.full_name
    hub.add_team(setup.org, "leads", members=[shout])
    membership = _get(setup, token, f"/orgs/{setup.org}/teams/LEADS/memberships/{shout}")
    assert membership.status_code == 200 and membership.json()["state"] == "active"
    gh = setup.server.pygithub(token)
    assert gh.get_user(shout).login == setup.reviewer.login
    with pytest.raises(HubError) as taken:
        hub.add_user(setup.author.login.upper())
    assert taken.value.status == 422


def test_a_code_owner_named_in_another_case_is_still_the_owner(github_repo: RepoSetup) -> None:
    """CODEOWNERS names people by login, which GitHub matches in any case."""
    hub, repo, setup = github_repo.server.hub, github_repo.repo, github_repo
    hub.push(
        repo, "main", {".github/CODEOWNERS": f"* @{setup.reviewer.login.upper()}\n"},
        author=setup.admin.login,
    )  # fmt: skip
    hub.protect_branch(repo, "main", BranchProtection(require_code_owner_reviews=True))
    hub.push(repo, "feature", {"requests/bob.yaml": "role: readonly\n"}, author=setup.author.login)
    number = hub.open_pull(repo, head="feature", title="t", user=setup.author.login).number
    assert hub.blockers(repo, hub.pull(repo, number))
    hub.review(repo, number, user=setup.reviewer.login, event="APPROVE")
    assert hub.blockers(repo, hub.pull(repo, number)) == []


# -- error bodies ----------------------------------------------------------------------------


def test_a_pull_request_from_a_missing_branch_is_refused_with_the_field_at_fault(
    github_repo: RepoSetup,
) -> None:
    """ "Create a pull request" answers 422 "Validation Failed" with ``errors`` naming the
    resource, the field and the code, as GitHub's ``validation-error`` schema has them."""
    repo = github_repo.server.pygithub(github_repo.author.token).get_repo(github_repo.full_name)
    with pytest.raises(GithubException) as refused:
        repo.create_pull(base="main", head="no-such-branch", title="t")
    assert refused.value.status == 422
    assert refused.value.data["message"] == "Validation Failed"
    assert refused.value.data["errors"] == [
        {"resource": "PullRequest", "field": "head", "code": "invalid"}
    ]
    with pytest.raises(GithubException) as no_base:
        repo.create_pull(base="no-such-base", head="feature", title="t")
    assert no_base.value.data["errors"][0]["field"] == "base"
    repo.create_pull(base="main", head="feature", title="t")
    with pytest.raises(GithubException) as twice:
        repo.create_pull(base="main", head="feature", title="again")
    (error,) = twice.value.data["errors"]
    assert error["code"] == "custom" and "already exists" in error["message"]


def test_jitops_says_what_a_validation_failure_was_about(github_repo: RepoSetup) -> None:
    """jitops' error names the refused field, not just GitHub's "Validation Failed"."""
    github = GitHub(
        github_repo.author.token,
        repository=github_repo.full_name,
        api_url=github_repo.server.base_url,
    )
    with pytest.raises(GitHubError) as refused:
        github._call(
            "opening a pull request",
            github.repo.create_pull,
            base="main",
            head="no-such-branch",
            title="t",
        )
    assert refused.value.status == 422
    assert "Validation Failed: PullRequest head invalid" in refused.value.message


def test_branch_protection_is_hidden_from_a_token_without_admin_rights(
    github_repo: RepoSetup,
) -> None:
    """ "Get branch protection" documents 200 and 404 only: without admin rights the answer
    is 404 "Not Found", never 403 — and never "Branch not protected", which would read as
    an unprotected branch."""
    setup = github_repo
    path = f"/repos/{setup.full_name}/branches/main/protection"
    assert _get(setup, setup.admin.token, path).json()["message"] == "Branch not protected"
    setup.server.hub.protect_branch(setup.repo, "main", BranchProtection())
    hidden = _get(setup, setup.author.token, path)
    assert (hidden.status_code, hidden.json()["message"]) == (404, "Not Found")
    assert _get(setup, setup.admin.token, path).status_code == 200


def test_dismissing_a_review_needs_the_rights_github_asks_for(github_repo: RepoSetup) -> None:
    """ "Dismiss a review for a pull request" documents 200, 404 and 422: someone without
    write access is answered 404; on a protected branch only an administrator may dismiss
    (no list of people who may is modelled) and a writer is refused with 422."""
    setup, hub, repo = github_repo, github_repo.server.hub, github_repo.repo
    outsider = hub.add_user(f"outsider-{repo.owner}")
    number = hub.open_pull(repo, head="feature", title="t", user=setup.author.login).number
    review = hub.review(repo, number, user=setup.reviewer.login, event="APPROVE")
    path = f"/repos/{setup.full_name}/pulls/{number}/reviews/{review.id}/dismissals"
    assert _put(setup, outsider.token, path, {"message": "x"}).status_code == 404
    hub.protect_branch(repo, "main", BranchProtection())
    refused = _put(setup, setup.author.token, path, {"message": "x"})
    assert refused.status_code == 422
    assert hub.get_review(repo, number, review.id).state == "APPROVED"
    assert _put(setup, setup.admin.token, path, {"message": "x"}).json()["state"] == "DISMISSED"


def test_a_writer_may_dismiss_on_an_unprotected_branch(github_repo: RepoSetup) -> None:
    setup, hub, repo = github_repo, github_repo.server.hub, github_repo.repo
    number = hub.open_pull(repo, head="feature", title="t", user=setup.author.login).number
    review = hub.review(repo, number, user=setup.reviewer.login, event="APPROVE")
    path = f"/repos/{setup.full_name}/pulls/{number}/reviews/{review.id}/dismissals"
    assert _put(setup, setup.author.token, path, {"message": "x"}).status_code == 200


# -- list caps -------------------------------------------------------------------------------


def test_the_files_list_stops_at_3000_while_the_count_stays_true(github_repo: RepoSetup) -> None:
    """ "List pull requests files": "Responses include a maximum of 3000 files"."""
    setup, hub = github_repo, github_repo.server.hub
    many = {f"requests/bulk/r-{i:04}.yaml": f"n: {i}\n" for i in range(MAX_LISTED_FILES + 1)}
    hub.push(setup.repo, "bulk", many, author=setup.author.login)
    number = hub.open_pull(setup.repo, head="bulk", title="t", user=setup.author.login).number
    pull = setup.server.pygithub(setup.author.token).get_repo(setup.full_name).get_pull(number)
    assert pull.changed_files == MAX_LISTED_FILES + 1
    assert len(list(pull.get_files())) == MAX_LISTED_FILES


def test_the_commits_list_stops_at_250_while_the_count_stays_true(github_repo: RepoSetup) -> None:
    """ "List commits on a pull request": "Lists a maximum of 250 commits"; the first ones."""
    setup, hub = github_repo, github_repo.server.hub
    shas = [
        hub.push(setup.repo, "long", {"requests/long.yaml": f"n: {i}\n"}, author=setup.author.login)
        for i in range(MAX_LISTED_COMMITS + 1)
    ]
    number = hub.open_pull(setup.repo, head="long", title="t", user=setup.author.login).number
    pull = setup.server.pygithub(setup.author.token).get_repo(setup.full_name).get_pull(number)
    assert pull.commits == MAX_LISTED_COMMITS + 1
    listed = [c.sha for c in pull.get_commits()]
    assert listed == shas[:MAX_LISTED_COMMITS]


def test_jitops_reads_a_links_mode_through_the_api_where_contents_would_follow_it(
    github_repo: RepoSetup, tmp_path: object
) -> None:
    """Without the head in a local clone, jitops takes file modes from the head's tree
    (the contents API would answer a link with its target's content)."""
    from functools import partial
    from pathlib import Path

    from jitops import git
    from jitops.gate import ChangedFile, FileStatus
    from jitops.pr_facts import with_modes
    from jitops.testing.github.gitstore import TreeChange

    setup, hub = github_repo, github_repo.server.hub
    store = hub.git(setup.repo)
    parent = store.branch_sha("feature")
    assert parent is not None
    link = TreeChange("requests/l.yaml", b"requests/alice.yaml", "120000")
    tree = store.write_tree([link], store.commit(parent).tree)
    head = store.commit_tree(tree, [parent], "link\n", hub.identity(setup.author.login))
    github = GitHub(setup.author.token, repository=setup.full_name, api_url=setup.server.base_url)
    files = [
        ChangedFile("requests/l.yaml", FileStatus.ADDED),
        ChangedFile("requests/alice.yaml", FileStatus.ADDED),
        ChangedFile("README.md", FileStatus.MODIFIED),
    ]
    not_a_clone = Path(str(tmp_path))
    found = {
        f.path: f.mode for f in with_modes(github, partial(git.modes_at, not_a_clone), head, files)
    }
    assert found == {
        "requests/l.yaml": "120000",
        "requests/alice.yaml": "100644",
        "README.md": None,
    }
