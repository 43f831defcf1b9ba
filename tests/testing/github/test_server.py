"""The server's HTTP behaviour and instruments: auth, pagination, ETags, rate limits, the call
counter and fault injection, as PyGithub sees them."""

from __future__ import annotations

import time

import pytest
from github import GithubException, GithubRetry, RateLimitExceededException

import requests
from tests.fixtures.github_server import RepoSetup

PULL = "GET /repos/{owner}/{repo}/pulls/{pull_number}"


@pytest.fixture
def pull_number(github_repo: RepoSetup) -> int:
    hub = github_repo.server.hub
    return hub.open_pull(
        github_repo.repo, head="feature", title="t", user=github_repo.author.login
    ).number


@pytest.fixture(autouse=True)
def _no_faults_left(github_repo: RepoSetup) -> object:
    yield None
    github_repo.server.faults.clear()


def get(setup: RepoSetup, path: str, token: str | None = None, **headers: str) -> requests.Response:
    if token:
        headers["Authorization"] = f"token {token}"
    return requests.get(setup.server.base_url + path, headers=headers, timeout=10)


def test_bad_token_is_401(github_repo: RepoSetup) -> None:
    answer = get(github_repo, "/user", "ghp_not_a_token")
    assert answer.status_code == 401
    assert answer.json()["message"] == "Bad credentials"
    assert get(github_repo, "/user").status_code == 401


def test_private_repository_is_404_to_outsiders(github_repo: RepoSetup) -> None:
    hub = github_repo.server.hub
    secret = hub.create_repo(f"{github_repo.org}/secret", files={"a": "b"}, private=True)
    outsider = hub.add_user(f"stranger-{github_repo.org}")
    assert get(github_repo, f"/repos/{secret.full_name}", outsider.token).status_code == 404
    hub.add_collaborator(secret, outsider.login, "read")
    assert get(github_repo, f"/repos/{secret.full_name}", outsider.token).status_code == 200


def test_merge_settings_are_shown_only_to_writers(github_repo: RepoSetup) -> None:
    hub = github_repo.server.hub
    reader = hub.add_user(f"reader-{github_repo.org}")
    hub.add_collaborator(github_repo.repo, reader.login, "read")
    hub.set_allow_auto_merge(github_repo.repo)
    path = f"/repos/{github_repo.full_name}"
    assert get(github_repo, path, github_repo.author.token).json()["allow_auto_merge"] is True
    for token in (reader.token, None):
        body = get(github_repo, path, token).json()
        assert body["full_name"] == github_repo.full_name
        assert "allow_auto_merge" not in body and "allow_squash_merge" not in body


def test_pagination_link_header(github_repo: RepoSetup) -> None:
    hub = github_repo.server.hub
    number = hub.open_pull(
        github_repo.repo, head="feature", title="t", user=github_repo.author.login
    ).number
    for i in range(5):
        hub.comment(github_repo.repo, number, user=github_repo.author.login, body=f"c{i}")
    path = f"/repos/{github_repo.full_name}/issues/{number}/comments?per_page=2"
    first = get(github_repo, path, github_repo.author.token)
    assert [c["body"] for c in first.json()] == ["c0", "c1"]
    assert first.links["next"]["url"].endswith("page=2") and "last" in first.links
    gh = github_repo.server.pygithub(github_repo.author.token, per_page=2)
    pull = gh.get_repo(github_repo.full_name).get_pull(number)
    assert [c.body for c in pull.get_issue_comments()] == [f"c{i}" for i in range(5)]


def test_etag_conditional_request(github_repo: RepoSetup, pull_number: int) -> None:
    path = f"/repos/{github_repo.full_name}/pulls/{pull_number}"
    first = get(github_repo, path, github_repo.author.token)
    etag = first.headers["ETag"]
    assert (
        get(github_repo, path, github_repo.author.token, **{"If-None-Match": etag}).status_code
        == 304
    )
    github_repo.server.hub.comment(
        github_repo.repo, pull_number, user=github_repo.author.login, body="x"
    )
    assert (
        get(github_repo, path, github_repo.author.token, **{"If-None-Match": etag}).status_code
        == 200
    )


def test_rate_limit_headers_count_down(github_repo: RepoSetup) -> None:
    one = get(github_repo, "/user", github_repo.reviewer.token).headers
    two = get(github_repo, "/user", github_repo.reviewer.token).headers
    assert int(two["X-RateLimit-Remaining"]) == int(one["X-RateLimit-Remaining"]) - 1
    assert int(two["X-RateLimit-Reset"]) > time.time()


def test_call_counter_counts_per_endpoint(github_repo: RepoSetup, pull_number: int) -> None:
    server = github_repo.server
    before = server.calls[PULL]
    gh = server.pygithub(github_repo.author.token)
    repo = gh.get_repo(github_repo.full_name)
    repo.get_pull(pull_number)
    repo.get_pull(pull_number)
    assert server.calls[PULL] - before == 2


def test_server_errors_then_success_with_retry(github_repo: RepoSetup, pull_number: int) -> None:
    server = github_repo.server
    server.faults.inject("server_error", PULL, times=2, status=502)
    retry = GithubRetry(total=3, backoff_factor=0)
    gh = server.pygithub(github_repo.author.token, retry=retry)
    before = server.calls[PULL]
    assert gh.get_repo(github_repo.full_name).get_pull(pull_number).number == pull_number
    assert server.calls[PULL] - before == 3


def test_server_error_without_retry(github_repo: RepoSetup, pull_number: int) -> None:
    github_repo.server.faults.inject("server_error", PULL, times=1)
    repo = github_repo.server.pygithub(github_repo.author.token).get_repo(github_repo.full_name)
    with pytest.raises(GithubException) as failed:
        repo.get_pull(pull_number)
    assert failed.value.status == 500


@pytest.mark.parametrize("status", [403, 429])
def test_primary_rate_limit(github_repo: RepoSetup, pull_number: int, status: int) -> None:
    github_repo.server.faults.inject("rate_limit", PULL, status=status, reset_in=60)
    repo = github_repo.server.pygithub(github_repo.author.token).get_repo(github_repo.full_name)
    # PyGithub raises RateLimitExceededException for 403 only; a 429 is a GithubException.
    expected = RateLimitExceededException if status == 403 else GithubException
    with pytest.raises(expected) as limited:
        repo.get_pull(pull_number)
    assert limited.value.status == status and limited.value.headers is not None
    assert limited.value.headers["x-ratelimit-remaining"] == "0"
    assert int(limited.value.headers["x-ratelimit-reset"]) >= time.time() + 50


def test_secondary_rate_limit(github_repo: RepoSetup, pull_number: int) -> None:
    github_repo.server.faults.inject("secondary_rate_limit", PULL, retry_after=7)
    repo = github_repo.server.pygithub(github_repo.author.token).get_repo(github_repo.full_name)
    with pytest.raises(RateLimitExceededException) as limited:
        repo.get_pull(pull_number)
    assert limited.value.headers is not None and limited.value.headers["retry-after"] == "7"


def test_exhausting_the_real_limit(github_repo: RepoSetup) -> None:
    server = github_repo.server
    user = server.hub.add_user(f"busy-{github_repo.org}")
    limit = server.rate_limits.limit
    server.rate_limits.limit = 2
    try:
        assert get(github_repo, "/user", user.token).status_code == 200
        assert get(github_repo, "/user", user.token).status_code == 200
        third = get(github_repo, "/user", user.token)
    finally:
        server.rate_limits.limit = limit
    assert third.status_code == 403
    assert third.headers["X-RateLimit-Remaining"] == "0"


def test_slow_response(github_repo: RepoSetup, pull_number: int) -> None:
    github_repo.server.faults.inject("slow", PULL, delay=0.3)
    started = time.monotonic()
    get(
        github_repo, f"/repos/{github_repo.full_name}/pulls/{pull_number}", github_repo.author.token
    )
    assert time.monotonic() - started >= 0.3


def test_dropped_connection(github_repo: RepoSetup, pull_number: int) -> None:
    github_repo.server.faults.inject("drop", PULL)
    with pytest.raises(requests.ConnectionError):
        get(
            github_repo,
            f"/repos/{github_repo.full_name}/pulls/{pull_number}",
            github_repo.author.token,
        )
    # Only the one call was dropped.
    answer = get(
        github_repo, f"/repos/{github_repo.full_name}/pulls/{pull_number}", github_repo.author.token
    )
    assert answer.status_code == 200


def test_unknown_fault_kind_is_refused(github_repo: RepoSetup) -> None:
    with pytest.raises(ValueError):
        github_repo.server.faults.inject("meteor", PULL)


def test_rate_limit_endpoint_is_free_and_reports_use(github_repo: RepoSetup) -> None:
    gh = github_repo.server.pygithub(github_repo.admin.token)
    first = gh.get_rate_limit().resources.core
    gh.get_user(github_repo.author.login).login  # noqa: B018 - one counted call
    second = gh.get_rate_limit().resources.core
    assert second.remaining == first.remaining - 1
    assert second.limit == github_repo.server.rate_limits.limit


def test_branch_protection_is_readable(github_repo: RepoSetup) -> None:
    from jitops.testing.github import BranchProtection

    server = github_repo.server
    server.hub.protect_branch(
        github_repo.repo, "main", BranchProtection(("jitops",), 1, True, True)
    )
    gh = server.pygithub(github_repo.admin.token)
    _, body = gh.requester.requestJsonAndCheck(
        "GET", f"/repos/{github_repo.full_name}/branches/main/protection"
    )
    assert body["required_status_checks"]["contexts"] == ["jitops"]
    reviews = body["required_pull_request_reviews"]
    assert reviews["require_code_owner_reviews"] and reviews["dismiss_stale_reviews"]
    repo = gh.get_repo(github_repo.full_name)
    assert repo.get_branch("main").protected
    assert not repo.get_branch("feature").protected
    assert repo.get_branch("feature").commit.sha == github_repo.feature_sha


def test_branch_rules_are_readable_with_read_access(github_repo: RepoSetup) -> None:
    hub = github_repo.server.hub
    reader = hub.add_user(f"reader-{github_repo.org}")
    hub.add_collaborator(github_repo.repo, reader.login, "read")
    main = hub.add_ruleset(
        github_repo.repo, "approval", required_status_checks=("jitops/approval",)
    )
    hub.add_ruleset(
        github_repo.repo, "releases", branches=("release",), required_status_checks=("x",)
    )
    rules = f"/repos/{github_repo.full_name}/rules/branches"
    answer = get(github_repo, f"{rules}/main", reader.token)
    assert answer.status_code == 200
    assert answer.json() == [
        {
            "type": "required_status_checks",
            "parameters": {
                "required_status_checks": [{"context": "jitops/approval"}],
                "strict_required_status_checks_policy": False,
            },
            "ruleset_source_type": "Repository",
            "ruleset_source": github_repo.full_name,
            "ruleset_id": main.id,
        }
    ]
    assert get(github_repo, f"{rules}/feature", reader.token).json() == []
    # classic protection's endpoint knows nothing of rulesets, as on GitHub
    protection = f"/repos/{github_repo.full_name}/branches/main/protection"
    assert get(github_repo, protection, github_repo.admin.token).status_code == 404


def test_racing_ref_creation_gives_one_winner(github_repo: RepoSetup) -> None:
    """Many clients creating the same branch at once: one 201, the rest 422, none dropped."""
    from concurrent.futures import ThreadPoolExecutor

    server = github_repo.server
    url = f"{server.base_url}/repos/{github_repo.full_name}/git/refs"
    body = {"ref": "refs/heads/race", "sha": github_repo.feature_sha}
    headers = {"Authorization": f"token {github_repo.author.token}"}

    def create(_: int) -> int:
        return requests.post(url, json=body, headers=headers, timeout=10).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(create, range(8)))
    assert codes == [201] + [422] * 7
    assert server.failures == []


@pytest.mark.parametrize(
    ("error", "printed"),
    [(ConnectionResetError(), False), (BrokenPipeError(), False), (ValueError(), True)],
)
def test_a_client_hanging_up_is_not_reported_but_other_errors_are(
    github_repo: RepoSetup, capsys: pytest.CaptureFixture[str], error: Exception, printed: bool
) -> None:
    """A client gone mid-answer (a finished test, Ctrl-C in `jitops demo`) prints no traceback;
    any other error in a handler thread still does."""
    httpd = github_repo.server._httpd
    try:
        raise error
    except Exception:
        httpd.handle_error(None, ("127.0.0.1", 1))
    err = capsys.readouterr().err
    assert ("Traceback" in err) is printed
