"""Which calls jitops repeats when GitHub answers 5xx: reads and idempotent writes, never a
POST (repeated after a lost answer, it could open a second pull request or comment)."""

from __future__ import annotations

import pytest

from jitops.github import GitHub, GitHubError
from tests.fixtures.github_server import RepoSetup

PATCH_PULL = "PATCH /repos/{owner}/{repo}/pulls/{pull_number}"
POST_STATUS = "POST /repos/{owner}/{repo}/statuses/{sha}"


def _github(setup: RepoSetup) -> GitHub:
    return GitHub(
        setup.author.token, repository=setup.full_name, api_url=setup.server.base_url, retries=3
    )


def test_an_idempotent_write_is_retried_after_a_5xx(github_repo: RepoSetup) -> None:
    setup, server = github_repo, github_repo.server
    number = server.hub.open_pull(
        setup.repo, head="feature", title="t", user=setup.author.login
    ).number
    server.faults.inject("server_error", PATCH_PULL, status=502, times=2)
    before = server.calls[PATCH_PULL]
    _github(setup)._raw("PATCH", f"/pulls/{number}", "updating", input={"title": "renamed"})
    assert server.calls[PATCH_PULL] - before == 3  # two 502s, then the answer
    assert server.hub.pull(setup.repo, number).title == "renamed"


def test_a_post_is_never_repeated(github_repo: RepoSetup) -> None:
    setup, server = github_repo, github_repo.server
    server.faults.inject("server_error", POST_STATUS, status=502, times=1)
    before = server.calls[POST_STATUS]
    body = {"state": "pending", "context": "jitops/approval", "description": "d"}
    with pytest.raises(GitHubError) as failed:
        _github(setup)._raw("POST", f"/statuses/{setup.feature_sha}", "status", input=body)
    assert failed.value.status == 502
    assert server.calls[POST_STATUS] - before == 1


POST_ISSUE = "POST /repos/{owner}/{repo}/issues"
GET_REPO = "GET /repos/{owner}/{repo}"


@pytest.fixture(autouse=True)
def _quick(monkeypatch: pytest.MonkeyPatch) -> None:
    from jitops import retries

    monkeypatch.setattr(retries, "BACKOFF", 0.05)


def test_a_post_refused_by_a_rate_limit_is_repeated_after_its_reset(
    github_repo: RepoSetup,
) -> None:
    """GitHub refuses a rate-limited call before acting on it: repeating it makes nothing
    twice, so even a POST waits for the reset and goes again."""
    setup, server = github_repo, github_repo.server
    server.faults.inject("rate_limit", POST_ISSUE, reset_in=1)
    before = server.calls[POST_ISSUE]
    issue = _github(setup).create_issue("t", "b", [])
    assert server.calls[POST_ISSUE] - before == 2
    assert server.hub.state.issues_of(setup.repo.id)[-1].number == issue.number


def test_a_rate_limit_reset_far_ahead_fails_at_once_saying_when_to_rerun(
    github_repo: RepoSetup,
) -> None:
    setup, server = github_repo, github_repo.server
    server.faults.inject("rate_limit", GET_REPO, status=429, reset_in=3600)
    with pytest.raises(GitHubError) as failed:
        _github(setup).repository_settings()
    assert "rate limit (HTTP 429" in failed.value.message
    assert "(in 60 min) — rerun after that" in failed.value.message
    assert failed.value.status is None  # no 403 or 404 a caller could read as an answer


def test_an_answer_slower_than_the_timeout_is_asked_again(
    github_repo: RepoSetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jitops import retries

    monkeypatch.setattr(retries, "TIMEOUT", 1.0)
    setup, server = github_repo, github_repo.server
    server.faults.inject("slow", GET_REPO, delay=2)
    before = server.calls[GET_REPO]
    assert _github(setup).repository_settings().default_branch == "main"
    assert server.calls[GET_REPO] - before == 2
    server.faults.inject("slow", GET_REPO, delay=2, times=None)
    try:
        with pytest.raises(GitHubError) as failed:
            _github(setup).repository_settings()
    finally:
        server.faults.clear()
    assert "within 1 s (4 tries)" in failed.value.message


def test_the_client_always_has_a_bounded_timeout(github_repo: RepoSetup) -> None:
    from jitops import retries

    github = _github(github_repo)
    assert github.timeout == retries.TIMEOUT == 30.0


def test_a_refusal_that_is_no_rate_limit_is_not_asked_again(github_repo: RepoSetup) -> None:
    setup, server = github_repo, github_repo.server
    stranger = server.hub.add_user(f"stranger-{setup.repo.name}")
    github = GitHub(stranger.token, repository=setup.full_name, api_url=server.base_url)
    before = server.calls[POST_STATUS]
    with pytest.raises(GitHubError) as failed:
        github.set_status(setup.feature_sha, "success", "d")
    assert failed.value.status == 403 and "rate limit" not in failed.value.message
    assert server.calls[POST_STATUS] - before == 1
