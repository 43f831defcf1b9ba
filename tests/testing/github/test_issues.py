"""Plain issues as GitHub keeps them: one number sequence with pull requests, which listing
issues also returns; closing records who and why; labels only from people with push access."""

from __future__ import annotations

import pytest
from github import GithubException

from tests.fixtures.github_server import RepoSetup


def test_issues_and_pull_requests_share_numbers_and_listing(github_repo: RepoSetup) -> None:
    hub = github_repo.server.hub
    pull = hub.open_pull(github_repo.repo, head="feature", title="t", user=github_repo.author.login)
    gh = github_repo.server.pygithub(github_repo.author.token)
    repo = gh.get_repo(github_repo.full_name)
    issue = repo.create_issue("revoke failed", body="bob-1", labels=["ops"])
    assert issue.number == pull.number + 1
    assert issue.html_url.endswith(f"/issues/{issue.number}")
    listed = {i.number: i.pull_request is not None for i in repo.get_issues()}
    assert listed == {pull.number: True, issue.number: False}  # callers must skip pulls
    assert [i.number for i in repo.get_issues(labels=["ops"])] == [issue.number]
    assert [i.number for i in repo.get_issues(labels=["ops", "other"])] == []
    as_issue = repo.get_issue(pull.number)
    assert as_issue.pull_request is not None and as_issue.title == "t"


def test_close_and_reopen_record_who_and_why(github_repo: RepoSetup) -> None:
    gh = github_repo.server.pygithub(github_repo.author.token)
    repo = gh.get_repo(github_repo.full_name)
    issue = repo.create_issue("revoke failed")
    issue.create_comment("all revoked")
    issue.edit(state="closed", state_reason="completed")
    closed = repo.get_issue(issue.number)
    assert (closed.state, closed.state_reason) == ("closed", "completed")
    assert closed.closed_by.login == github_repo.author.login and closed.closed_at is not None
    assert [c.body for c in closed.get_comments()] == ["all revoked"]
    assert [i.number for i in repo.get_issues(state="open")] == []
    assert [i.number for i in repo.get_issues(state="closed")] == [issue.number]
    issue.edit(state="open")
    reopened = repo.get_issue(issue.number)
    assert (reopened.state, reopened.state_reason, reopened.closed_by) == ("open", "reopened", None)


def test_labels_need_push_access_and_editing_needs_triage(github_repo: RepoSetup) -> None:
    hub = github_repo.server.hub
    reader = hub.add_user(f"reader-{github_repo.org}")
    gh = github_repo.server.pygithub(reader.token)
    repo = gh.get_repo(github_repo.full_name)
    mine = repo.create_issue("from a reader", labels=["jitops:revoke-failed"])
    assert [label.name for label in mine.labels] == []  # silently dropped, as on GitHub
    mine.edit(body="edited by its author")  # an author may edit their own issue
    theirs = hub.open_issue(github_repo.repo, title="by the author", user=github_repo.author.login)
    with pytest.raises(GithubException) as refused:
        repo.get_issue(theirs.number).edit(state="closed")
    assert refused.value.status == 403
    assert hub.issue(github_repo.repo, theirs.number).state == "open"


def test_labels_replace_through_update_and_add_through_labels(github_repo: RepoSetup) -> None:
    gh = github_repo.server.pygithub(github_repo.author.token)
    repo = gh.get_repo(github_repo.full_name)
    issue = repo.create_issue("t", labels=["a"])
    issue.add_to_labels("b")
    assert [label.name for label in repo.get_issue(issue.number).labels] == ["a", "b"]
    issue.edit(labels=["c"])
    assert [label.name for label in repo.get_issue(issue.number).labels] == ["c"]
