"""Fidelity: every endpoint the test server implements answers as GitHub's OpenAPI description
says it answers (status code documented for the operation, body valid against its schema)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

import requests
from jitops.testing.github import BranchProtection, GitHubServer
from jitops.testing.github.server import RecordedResponse, all_routes
from tests.fixtures.github_server import RepoSetup
from tests.testing.github.openapi import response_schema, schema_errors, spec, undocumented_keys


class Client:
    def __init__(self, server: GitHubServer, token: str) -> None:
        self.base = server.base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {token}"

    def __call__(self, method: str, path: str, expect: int, body: Any = None) -> Any:
        response = self.session.request(method, self.base + path, json=body, timeout=10)
        assert response.status_code == expect, (method, path, response.status_code, response.text)
        return response.json() if response.content else None


@pytest.fixture
def recorded(github_server: GitHubServer) -> Iterator[list[RecordedResponse]]:
    github_server.responses.clear()
    github_server.record_responses = True
    yield github_server.responses
    github_server.record_responses = False


def walk(setup: RepoSetup) -> None:
    """Call every implemented route, successes and documented failures."""
    hub = setup.server.hub
    r = f"/repos/{setup.full_name}"
    author = Client(setup.server, setup.author.token)
    reviewer = Client(setup.server, setup.reviewer.token)
    admin = Client(setup.server, setup.admin.token)
    hub.add_team(setup.org, "leads", members=[setup.reviewer.login])
    # users, orgs, teams
    author("GET", "/user", 200)
    author("GET", f"/users/{setup.reviewer.login}", 200)
    author("GET", "/users/nobody-at-all", 404)
    author("GET", "/rate_limit", 200)
    author("GET", f"/orgs/{setup.org}", 200)
    author("GET", f"/orgs/{setup.org}/teams/leads", 200)
    author("GET", f"/orgs/{setup.org}/teams/nope", 404)
    author("GET", f"/orgs/{setup.org}/teams/leads/members", 200)
    author("GET", f"/orgs/{setup.org}/teams/leads/memberships/{setup.reviewer.login}", 200)
    author("GET", f"/orgs/{setup.org}/teams/leads/memberships/{setup.author.login}", 404)
    admin("PUT", f"/orgs/{setup.org}/teams/leads/memberships/{setup.author.login}", 200, {})
    author("PUT", f"/orgs/{setup.org}/teams/leads/memberships/{setup.admin.login}", 403, {})
    admin("DELETE", f"/orgs/{setup.org}/teams/leads/memberships/{setup.author.login}", 204)
    # repository
    author("GET", r, 200)
    author("GET", "/repos/nobody/nothing", 404)
    author("GET", f"{r}/collaborators/{setup.reviewer.login}/permission", 200)
    author("GET", f"{r}/collaborators/nobody-at-all/permission", 404)
    author("GET", f"{r}/codeowners/errors", 200)
    author("GET", f"{r}/contents/README.md", 200)
    author("GET", f"{r}/contents/policies", 200)
    author("GET", f"{r}/contents/missing.txt", 404)
    content = base64.b64encode(b"new\n").decode()
    created = author("PUT", f"{r}/contents/notes.txt", 201, {"message": "m", "content": content})
    author(
        "PUT",
        f"{r}/contents/notes.txt",
        200,
        {"message": "m2", "content": content, "sha": created["content"]["sha"]},
    )
    author(
        "PUT", f"{r}/contents/notes.txt", 409, {"message": "m", "content": content, "sha": "0" * 40}
    )
    author("GET", f"{r}/commits/main", 200)
    author("GET", f"{r}/commits/{setup.feature_sha}/pulls", 200)
    # git data
    author("GET", f"{r}/git/ref/heads/main", 200)
    author("GET", f"{r}/git/ref/heads/nope", 404)
    author("GET", f"{r}/git/matching-refs/heads/", 200)
    blob = author("POST", f"{r}/git/blobs", 201, {"content": "blob\n"})
    author("GET", f"{r}/git/blobs/{blob['sha']}", 200)
    main = author("GET", f"{r}/git/ref/heads/main", 200)["object"]["sha"]
    commit = author("GET", f"{r}/git/commits/{main}", 200)
    author("GET", f"{r}/git/trees/{commit['tree']['sha']}?recursive=1", 200)
    tree = author(
        "POST",
        f"{r}/git/trees",
        201,
        {
            "base_tree": commit["tree"]["sha"],
            "tree": [{"path": "x/y.txt", "mode": "100644", "type": "blob", "sha": blob["sha"]}],
        },
    )
    author("POST", f"{r}/git/trees", 422, {"tree": [{"path": "z", "sha": "0" * 40}]})
    new = author(
        "POST",
        f"{r}/git/commits",
        201,
        {"message": "by api", "tree": tree["sha"], "parents": [main]},
    )
    author("POST", f"{r}/git/commits", 422, {"message": "bad", "tree": "0" * 40})
    author("POST", f"{r}/git/refs", 201, {"ref": "refs/heads/api", "sha": new["sha"]})
    author("POST", f"{r}/git/refs", 422, {"ref": "refs/heads/api", "sha": new["sha"]})
    author("PATCH", f"{r}/git/refs/heads/api", 200, {"sha": new["sha"], "force": False})
    author("PATCH", f"{r}/git/refs/heads/api", 422, {"sha": main, "force": False})
    author("DELETE", f"{r}/git/refs/heads/api", 204)
    author("DELETE", f"{r}/git/refs/heads/api", 422)
    # pulls
    pr = author("POST", f"{r}/pulls", 201, {"title": "t", "head": "feature", "base": "main"})
    n = pr["number"]
    author("POST", f"{r}/pulls", 422, {"title": "t", "head": "feature", "base": "main"})
    author("POST", f"{r}/pulls", 422, {"title": "t", "head": "no-such", "base": "main"})
    author("GET", f"{r}/pulls", 200)
    author("GET", f"{r}/pulls?state=all&head={setup.org}:feature", 200)
    author("GET", f"{r}/pulls/{n}", 200)
    author("GET", f"{r}/pulls/999", 404)
    author("PATCH", f"{r}/pulls/{n}", 200, {"body": "why: INC-1"})
    author("GET", f"{r}/pulls/{n}/files", 200)
    author("GET", f"{r}/pulls/{n}/commits", 200)
    author("GET", f"{r}/pulls/{n}/merge", 404)
    # reviews
    author("POST", f"{r}/pulls/{n}/reviews", 422, {"event": "APPROVE"})
    review = reviewer(
        "POST", f"{r}/pulls/{n}/reviews", 200, {"event": "APPROVE", "commit_id": pr["head"]["sha"]}
    )
    reviewer("POST", f"{r}/pulls/{n}/reviews", 200, {"event": "COMMENT", "body": "nit"})
    author("GET", f"{r}/pulls/{n}/reviews", 200)
    author("GET", f"{r}/pulls/{n}/reviews/{review['id']}", 200)
    author("GET", f"{r}/pulls/{n}/reviews/1", 404)
    # issues
    comment = author("POST", f"{r}/issues/{n}/comments", 201, {"body": "hello"})
    author("GET", f"{r}/issues/{n}/comments", 200)
    author("GET", f"{r}/issues/comments/{comment['id']}", 200)
    author("PATCH", f"{r}/issues/comments/{comment['id']}", 200, {"body": "edited"})
    author("GET", f"{r}/issues/comments/1", 404)
    author("POST", f"{r}/issues/{n}/labels", 200, {"labels": ["access-request"]})
    author("GET", f"{r}/issues/{n}/labels", 200)
    author("GET", f"{r}/issues/999/comments", 404)
    issue = author("POST", f"{r}/issues", 201, {"title": "revoke failed", "labels": ["ops"]})
    author("POST", f"{r}/issues", 422, {"body": "no title"})
    i = issue["number"]
    author("GET", f"{r}/issues", 200)
    author("GET", f"{r}/issues?state=all&labels=ops&sort=updated&direction=asc", 200)
    author("GET", f"{r}/issues?state=nope", 422)
    author("GET", f"{r}/issues/{i}", 200)
    author("GET", f"{r}/issues/{n}", 200)  # a pull request, as an issue
    author("GET", f"{r}/issues/999", 404)
    author("POST", f"{r}/issues/{i}/comments", 201, {"body": "still failing"})
    author("PATCH", f"{r}/issues/{i}", 200, {"body": "b", "labels": ["ops", "pinned"]})
    author("PATCH", f"{r}/issues/{i}", 200, {"state": "closed", "state_reason": "completed"})
    author("PATCH", f"{r}/issues/{i}", 422, {"state": "gone"})
    author("PATCH", f"{r}/issues/999", 404, {"state": "closed"})
    # statuses and checks
    head = pr["head"]["sha"]
    author("POST", f"{r}/statuses/{head}", 201, {"state": "success", "context": "jitops"})
    author("GET", f"{r}/commits/{head}/statuses", 200)
    author("GET", f"{r}/commits/{head}/status", 200)
    author("GET", f"{r}/commits/{'0' * 40}/status", 404)
    run = author("POST", f"{r}/check-runs", 201, {"name": "policy", "head_sha": head})
    author(
        "PATCH",
        f"{r}/check-runs/{run['id']}",
        200,
        {"conclusion": "success", "output": {"title": "ok", "summary": "fine"}},
    )
    author("GET", f"{r}/check-runs/{run['id']}", 200)
    author("GET", f"{r}/commits/{head}/check-runs", 200)
    # workflow runs (recorded as Actions would make them)
    from jitops.testing.github.actions import record_run

    apply_workflow = ".github/workflows/jitops-apply.yml"
    record_run(hub, setup.repo, apply_workflow, main)
    record_run(hub, setup.repo, apply_workflow, head, conclusion=None)
    author("GET", f"{r}/actions/workflows/jitops-apply.yml/runs?branch=main&status=success", 200)
    # merging, protection, dismissal
    admin("GET", f"{r}/branches/main/protection", 404)
    hub.protect_branch(setup.repo, "main", BranchProtection(required_status_checks=("ci",)))
    admin("GET", f"{r}/branches/main/protection", 200)
    author("GET", f"{r}/branches/main/protection", 404)  # hidden without admin rights
    author("GET", f"{r}/rules/branches/main", 200)  # no ruleset: an empty list
    hub.add_ruleset(setup.repo, "releases", branches=("release",), required_status_checks=("ci",))
    author("GET", f"{r}/rules/branches/release", 200)  # the branch need not exist
    reviews = BranchProtection(required_approving_review_count=2, require_last_push_approval=True)
    hub.add_ruleset(setup.repo, "reviews", branches=("release",), reviews=reviews)
    author("GET", f"{r}/rules/branches/release", 200)  # with a pull_request rule
    hub.set_allow_auto_merge(setup.repo)
    hub.push(setup.repo, "auto", {"auto.txt": "a\n"}, author=setup.author.login)
    auto = author("POST", f"{r}/pulls", 201, {"title": "auto", "head": "auto", "base": "main"})
    hub.enable_auto_merge(setup.repo, auto["number"], user=setup.author.login)
    author("GET", f"{r}/pulls/{auto['number']}", 200)  # auto_merge filled in
    author("GET", r, 200)  # allow_auto_merge: true
    author("GET", f"{r}/branches/main", 200)
    author("GET", f"{r}/branches/feature", 200)
    author("GET", f"{r}/branches/nope", 404)
    author("PUT", f"{r}/pulls/{n}/merge", 405, {"merge_method": "squash"})
    hub.protect_branch(setup.repo, "main", BranchProtection())
    author("PUT", f"{r}/pulls/{n}/merge", 409, {"sha": main})
    dismissal = f"{r}/pulls/{n}/reviews/{review['id']}/dismissals"
    author("PUT", dismissal, 422, {"message": "stale"})  # protected: administrators only
    admin("PUT", dismissal, 200, {"message": "stale"})
    author("PUT", f"{r}/pulls/{n}/merge", 200, {"merge_method": "squash"})
    author("GET", f"{r}/pulls/{n}/merge", 204)
    author("GET", f"{r}/pulls/{n}", 200)
    author("PATCH", f"{r}/pulls/{n}", 200, {"state": "open"})
    # -- commits (commits.py): history and comparisons --------------------------------------
    author("GET", f"{r}/commits", 200)
    since, until = "2000-01-01T00:00:00Z", "2999-12-31T23:59:59Z"
    author(
        "GET",
        f"{r}/commits?sha=feature&path=requests&author={setup.author.login}"
        f"&since={since}&until={until}&per_page=1&page=1",
        200,
    )
    author("GET", f"{r}/commits?sha=nope", 404)
    author("GET", f"{r}/commits?since=yesterday", 400)
    hub.create_repo(f"{setup.org}/empty")
    author("GET", f"/repos/{setup.org}/empty/commits", 409)
    author("GET", f"{r}/compare/main...feature", 200)  # diverged: feature was squash-merged
    author("GET", f"{r}/compare/{main}...{setup.org}:main", 200)
    author("GET", f"{r}/compare/main...feature?per_page=1&page=2", 200)  # no files on page 2
    author("GET", f"{r}/compare/main...nope", 404)
    # -- teams by id (the legacy routes PyGithub's Team calls) -------------------------------
    t = f"/teams/{author('GET', f'/orgs/{setup.org}/teams/leads', 200)['id']}"
    author("GET", t, 200)
    author("GET", "/teams/1", 404)
    author("GET", f"{t}/members", 200)
    author("GET", f"{t}/members/{setup.reviewer.login}", 204)
    author("GET", f"{t}/members/{setup.author.login}", 404)
    author("GET", f"{t}/memberships/{setup.reviewer.login}", 200)
    admin("PUT", f"{t}/memberships/{setup.author.login}", 200, {"role": "maintainer"})
    author("PUT", f"{t}/memberships/{setup.admin.login}", 403, {})
    admin("DELETE", f"{t}/memberships/{setup.author.login}", 204)
    # -- environments and repository secrets (environments.py); GitHub documents 200 only ----
    from jitops.testing.github.environments import add_environment, add_repo_secret

    add_environment(hub, setup.repo, "jitops-read-org", branches=("main",))
    add_environment(hub, setup.repo, "anywhere")
    add_environment(hub, setup.repo, "protected", protected_branches=True)
    for name in ("jitops-read-org", "anywhere", "protected"):
        author("GET", f"{r}/environments/{name}", 200)
    author("GET", f"{r}/environments/jitops-read-org/deployment-branch-policies", 200)
    add_repo_secret(hub, setup.repo, "JITOPS_READ_ORG_TOKEN")
    author("GET", f"{r}/actions/secrets/JITOPS_READ_ORG_TOKEN", 200)


def test_every_route_answers_as_the_openapi_description_says(
    github_repo: RepoSetup, recorded: list[RecordedResponse]
) -> None:
    walk(github_repo)
    problems = []
    for answer in recorded:
        assert answer.template is not None, answer
        try:
            schema = response_schema(answer.template, answer.method, answer.status)
        except KeyError:
            problems.append(
                f"{answer.method} {answer.template}: undocumented status {answer.status}"
            )
            continue
        if schema is None:
            if answer.body:
                problems.append(
                    f"{answer.method} {answer.template} {answer.status}: unexpected body"
                )
            continue
        problems.extend(
            f"{answer.method} {answer.template} {answer.status}: {error}"
            for error in schema_errors(schema, json.loads(answer.body))
        )
    assert problems == [], "\n".join(problems)
    walked = {(a.method, a.template) for a in recorded if 200 <= a.status < 300}
    implemented = {(route.method, route.template) for route in all_routes()}
    assert implemented - walked == set(), "routes the walk never called successfully"


def test_every_route_is_an_operation_of_the_description() -> None:
    for route in all_routes():
        assert route.method.lower() in spec()["paths"][route.template], route.endpoint


def test_a_broken_body_is_caught() -> None:
    """The validator is real: a pull request missing fields fails."""
    schema = response_schema("/repos/{owner}/{repo}/pulls/{pull_number}", "GET", 200)
    assert schema is not None
    assert schema_errors(schema, {"number": "one"}) != []


def test_answers_carry_no_undocumented_fields(
    github_repo: RepoSetup, recorded: list[RecordedResponse]
) -> None:
    """Every field the server sends is one GitHub's description names: nothing made up."""
    walk(github_repo)
    invented = set()
    for answer in recorded:
        assert answer.template is not None
        schema = response_schema(answer.template, answer.method, answer.status)
        if schema is not None and answer.body:
            body = json.loads(answer.body)
            invented |= {
                f"{answer.method} {answer.template} {answer.status}: {key}"
                for key in undocumented_keys(schema, body)
            }
    assert sorted(invented) == [], "\n".join(sorted(invented))
