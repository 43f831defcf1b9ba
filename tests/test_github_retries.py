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
