"""The test server's GraphQL: ``enablePullRequestAutoMerge``, ``pinIssue`` and ``unpinIssue`` by
node id, answered in GraphQL's shape (HTTP 200, ``data`` and ``errors``), refused as GitHub
refuses them, and auto-merge carried out once branch protection is satisfied."""

from __future__ import annotations

from typing import Any

import pytest
from github import GithubException, UnknownObjectException

import requests
from jitops.testing.github import BranchProtection
from tests.fixtures.github_server import RepoSetup
from tests.fixtures.imports import imported

ENABLE = (
    "mutation Enable($input: EnablePullRequestAutoMergeInput!) {"
    " enablePullRequestAutoMerge(input: $input) {"
    " actor { login } pullRequest { number autoMergeRequest { mergeMethod enabledBy { login } } }"
    " } }"
)


def post(setup: RepoSetup, token: str | None, body: Any) -> requests.Response:
    headers = {"Authorization": f"bearer {token}"} if token else {}
    return requests.post(f"{setup.server.url}/api/graphql", json=body, headers=headers, timeout=10)


def protected_pull(setup: RepoSetup, *, allow: bool = True) -> int:
    hub = setup.server.hub
    hub.protect_branch(setup.repo, "main", BranchProtection(required_status_checks=("ci",)))
    hub.set_allow_auto_merge(setup.repo, allow)
    return hub.open_pull(setup.repo, head="feature", title="t", user=setup.author.login).number


def refusal(raised: pytest.ExceptionInfo[GithubException]) -> dict[str, Any]:
    data = raised.value.data
    assert isinstance(data, dict)
    [error] = data["errors"]
    return error  # type: ignore[no-any-return]


def test_auto_merge_through_pygithub_then_github_merges_when_checks_pass(
    github_repo: RepoSetup,
) -> None:
    hub = github_repo.server.hub
    number = protected_pull(github_repo)
    gh = github_repo.server.pygithub(github_repo.author.token)
    pull = gh.get_repo(github_repo.full_name).get_pull(number)
    assert pull.auto_merge is None
    answer = pull.enable_automerge(merge_method="MERGE")
    assert answer == {"actor": {"avatarUrl": answer["actor"]["avatarUrl"],
                                "login": github_repo.author.login,
                                "resourcePath": f"/{github_repo.author.login}",
                                "url": answer["actor"]["url"]},
                      "clientMutationId": None}  # fmt: skip
    shown = gh.get_repo(github_repo.full_name).get_pull(number)
    assert shown.auto_merge == {  # PyGithub gives the REST field as it came
        "enabled_by": shown.auto_merge["enabled_by"],
        "merge_method": "merge",
        "commit_title": f"Merge pull request #{number} from {github_repo.org}/feature",
        "commit_message": "t",
    }
    assert shown.auto_merge["enabled_by"]["login"] == github_repo.author.login
    assert not shown.merged and shown.mergeable_state == "blocked"
    # a status that is not the required one changes nothing; the required one merges it
    hub.set_status(github_repo.repo, shown.head.sha, state="success", context="lint",
                   creator=github_repo.reviewer.login)  # fmt: skip
    assert not hub.pull(github_repo.repo, number).merged
    hub.set_status(github_repo.repo, shown.head.sha, state="success", context="ci",
                   creator=github_repo.reviewer.login)  # fmt: skip
    merged = gh.get_repo(github_repo.full_name).get_pull(number)
    assert merged.merged and merged.merged_by.login == github_repo.author.login
    main = hub.git(github_repo.repo).branch_sha("main")
    assert main == merged.merge_commit_sha
    assert github_repo.server.last_event("pull_request", "closed").payload["number"] == number


def test_auto_merge_waits_for_required_reviews_too(github_repo: RepoSetup) -> None:
    hub = github_repo.server.hub
    number = protected_pull(github_repo)
    hub.protect_branch(
        github_repo.repo,
        "main",
        BranchProtection(required_status_checks=("ci",), required_approving_review_count=1),
    )
    hub.enable_auto_merge(github_repo.repo, number, user=github_repo.author.login)
    head = hub.pull(github_repo.repo, number).head_sha
    hub.set_status(github_repo.repo, head, state="success", context="ci", creator="x")
    assert not hub.pull(github_repo.repo, number).merged
    hub.review(github_repo.repo, number, user=github_repo.reviewer.login, event="APPROVE")
    assert hub.pull(github_repo.repo, number).merged


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("not allowed", "Auto merge is not allowed for this repository"),
        ("unprotected", "Pull request Protected branch rules not configured for this branch"),
        ("clean", "Pull request Pull request is in clean status"),
        ("closed", "Pull request Pull request is closed"),
    ],
)
def test_auto_merge_refusals_read_as_github_words_them(
    github_repo: RepoSetup, setting: str, message: str
) -> None:
    hub = github_repo.server.hub
    number = protected_pull(github_repo, allow=setting != "not allowed")
    head = hub.pull(github_repo.repo, number).head_sha
    if setting == "unprotected":
        hub.state.protection.clear()
    elif setting == "clean":
        hub.set_status(github_repo.repo, head, state="success", context="ci", creator="x")
    elif setting == "closed":
        hub.update_pull(github_repo.repo, number, sender=github_repo.author.login, state="closed")
    gh = github_repo.server.pygithub(github_repo.author.token)
    pull = gh.get_repo(github_repo.full_name).get_pull(number)
    with pytest.raises(GithubException) as raised:
        pull.enable_automerge()
    error = refusal(raised)
    assert (error["message"], error["type"], error["path"]) == (
        message,
        "UNPROCESSABLE",
        ["enablePullRequestAutoMerge"],
    )
    assert raised.value.data["data"] == {"enablePullRequestAutoMerge": None}  # type: ignore[index]
    assert hub.pull(github_repo.repo, number).auto_merge is None


def test_a_token_that_cannot_write_is_forbidden(github_repo: RepoSetup) -> None:
    hub = github_repo.server.hub
    number = protected_pull(github_repo)
    reader = hub.add_user(f"reader-{github_repo.org}")
    pull = (
        github_repo.server.pygithub(reader.token).get_repo(github_repo.full_name).get_pull(number)
    )
    with pytest.raises(GithubException) as raised:
        pull.enable_automerge()
    assert refusal(raised)["type"] == "FORBIDDEN"
    assert hub.pull(github_repo.repo, number).auto_merge is None


def test_closing_or_a_push_without_write_access_turns_auto_merge_off(
    github_repo: RepoSetup,
) -> None:
    hub = github_repo.server.hub
    number = protected_pull(github_repo)
    hub.enable_auto_merge(github_repo.repo, number, user=github_repo.author.login)
    hub.push(github_repo.repo, "feature", {"a.txt": "a\n"}, author=github_repo.reviewer.login)
    assert hub.pull(github_repo.repo, number).auto_merge is not None  # a writer pushed
    outsider = hub.add_user(f"outsider-{github_repo.org}")
    hub.push(github_repo.repo, "feature", {"b.txt": "b\n"}, author=outsider.login)
    assert hub.pull(github_repo.repo, number).auto_merge is None
    hub.enable_auto_merge(github_repo.repo, number, user=github_repo.author.login)
    hub.update_pull(github_repo.repo, number, sender=github_repo.author.login, state="closed")
    assert hub.pull(github_repo.repo, number).auto_merge is None


def test_unknown_node_ids_are_not_found(github_repo: RepoSetup) -> None:
    gh = github_repo.server.pygithub(github_repo.author.token)
    number = protected_pull(github_repo)
    pull = gh.get_repo(github_repo.full_name).get_pull(number)
    issue = gh.get_repo(github_repo.full_name).create_issue("x")
    for wrong in ("nonsense", issue.node_id):  # an issue is not a pull request
        with pytest.raises(UnknownObjectException):
            gh.requester.graphql_named_mutation(
                "enablePullRequestAutoMerge", {"pullRequestId": wrong}, "clientMutationId"
            )
    private = github_repo.server.hub.add_user(f"stranger-{github_repo.org}")
    github_repo.server.hub.state.repos[github_repo.full_name] = github_repo.repo.__class__(
        **{**github_repo.repo.__dict__, "private": True}
    )
    stranger = github_repo.server.pygithub(private.token)
    with pytest.raises(UnknownObjectException):  # a private repository's pull request: unseen
        stranger.requester.graphql_named_mutation(
            "enablePullRequestAutoMerge", {"pullRequestId": pull.node_id}, "clientMutationId"
        )


def test_pin_and_unpin_an_issue_by_node_id(github_repo: RepoSetup) -> None:
    hub = github_repo.server.hub
    gh = github_repo.server.pygithub(github_repo.author.token)
    repo = gh.get_repo(github_repo.full_name)
    issues = [repo.create_issue(f"issue {i}") for i in range(4)]
    for issue in issues[:3]:
        _, data = gh.requester.graphql_named_mutation(
            "pinIssue", {"issueId": issue.node_id}, "issue { number isPinned }"
        )
        assert data == {"issue": {"number": issue.number, "isPinned": True}}
    with pytest.raises(GithubException) as raised:  # GitHub pins three at most
        gh.requester.graphql_named_mutation(
            "pinIssue", {"issueId": issues[3].node_id}, "clientMutationId"
        )
    assert refusal(raised)["type"] == "UNPROCESSABLE"
    gh.requester.graphql_named_mutation(
        "unpinIssue", {"issueId": issues[0].node_id}, "clientMutationId"
    )
    gh.requester.graphql_named_mutation(
        "pinIssue", {"issueId": issues[3].node_id}, "clientMutationId"
    )
    pinned = [i.number for i in hub.state.issues_of(github_repo.repo.id) if i.pinned]
    assert pinned == [i.number for i in issues[1:]]
    reader = hub.add_user(f"reader-{github_repo.org}")
    with pytest.raises(GithubException) as forbidden:
        github_repo.server.pygithub(reader.token).requester.graphql_named_mutation(
            "unpinIssue", {"issueId": issues[1].node_id}, "clientMutationId"
        )
    assert refusal(forbidden)["type"] == "FORBIDDEN"


def test_documents_are_parsed_and_selections_checked(github_repo: RepoSetup) -> None:
    hub = github_repo.server.hub
    number = protected_pull(github_repo)
    pr = hub.pull(github_repo.repo, number)
    from jitops.testing.github.render import node_id

    document = """
    # a comment, aliases, an inline fragment, a literal argument and __typename
    mutation {
      first: enablePullRequestAutoMerge(input: {pullRequestId: "PR_ID", mergeMethod: SQUASH}) {
        __typename
        who: actor { ... on User { login } }
        pullRequest { state autoMergeRequest { mergeMethod commitHeadline } }
      }
    }
    """.replace("PR_ID", node_id("PR", pr.id))
    answer = post(github_repo, github_repo.author.token, {"query": document})
    assert answer.status_code == 200
    assert answer.json() == {
        "data": {
            "first": {
                "__typename": "EnablePullRequestAutoMergePayload",
                "who": {"login": github_repo.author.login},
                "pullRequest": {
                    "state": "OPEN",
                    "autoMergeRequest": {
                        "mergeMethod": "SQUASH",
                        "commitHeadline": f"t (#{number})",
                    },
                },
            }
        }
    }


def test_fragments_directives_variables_and_named_operations(github_repo: RepoSetup) -> None:
    gh = github_repo.server.pygithub(github_repo.author.token)
    issue = gh.get_repo(github_repo.full_name).create_issue("pin me")
    document = """
    query Who { viewer { ...Login } }
    mutation Pin($id: ID!, $verbose: Boolean = false) {
      pinIssue(input: {issueId: $id}) { issue { ...Numbered title @include(if: $verbose) } }
    }
    fragment Login on Actor { login }
    fragment Numbered on Node { ... on Issue { number isPinned } }
    """
    pinned = post(
        github_repo,
        github_repo.author.token,
        {"query": document, "operationName": "Pin", "variables": {"id": issue.node_id}},
    )
    assert pinned.json() == {
        "data": {"pinIssue": {"issue": {"number": issue.number, "isPinned": True}}}
    }
    who = post(github_repo, github_repo.author.token, {"query": document, "operationName": "Who"})
    assert who.json() == {"data": {"viewer": {"login": github_repo.author.login}}}


# Each document would pin the issue ISSUE if it ran; none may run.
@pytest.mark.parametrize(
    "document",
    [
        # a field the schema does not have, beside one it has
        'mutation { pinIssue(input: {issueId: "ISSUE"}) { clientMutationId }'
        " mergeEverything(input: {}) { clientMutationId } }",
        'mutation { pinIssue(input: {issueId: "ISSUE"}) { issue { title body } } }',
        'mutation { pinIssue(input: {issueId: "ISSUE"}) { issue } }',  # an object needs fields
        'mutation { pinIssue(input: {issueId: "ISSUE", pinned: true}) { clientMutationId } }',
        "mutation { pinIssue { clientMutationId } }",  # no input
        "mutation { pinIssue(input: $input) { clientMutationId } }",  # undeclared variable
        # a required variable not given
        "mutation M($input: PinIssueInput!) { pinIssue(input: $input) { clientMutationId } }",
        # a value that is not of the enum
        'mutation { enablePullRequestAutoMerge(input: {pullRequestId: "x", mergeMethod: FAST})'
        ' { clientMutationId } pinIssue(input: {issueId: "ISSUE"}) { clientMutationId } }',
        # two operations and no operationName to choose one
        'mutation A { pinIssue(input: {issueId: "ISSUE"}) { clientMutationId } }'
        ' mutation B { pinIssue(input: {issueId: "ISSUE"}) { clientMutationId } }',
        # a fragment nothing uses
        'mutation { pinIssue(input: {issueId: "ISSUE"}) { clientMutationId } }'
        " fragment F on Issue { id }",
        '{ repository(owner: "o", name: "r") { id } }',  # Query has only viewer
        'subscription { pinIssue(input: {issueId: "ISSUE"}) { clientMutationId } }',
        'mutation { pinIssue(input: {issueId: "ISSUE"} { clientMutationId } }',  # no ")"
        'mutation { pinIssue(input: {issueId: "ISSUE"}) { clientMutationId }',  # no last "}"
    ],
)
def test_bad_documents_answer_graphql_errors_and_run_nothing(
    github_repo: RepoSetup, document: str
) -> None:
    hub = github_repo.server.hub
    gh = github_repo.server.pygithub(github_repo.author.token)
    issue = gh.get_repo(github_repo.full_name).create_issue("not pinned")
    answer = post(
        github_repo,
        github_repo.author.token,
        {"query": document.replace("ISSUE", issue.node_id)},
    )
    assert answer.status_code == 200
    body = answer.json()
    assert "data" not in body, body
    assert body["errors"] and all(error["message"] for error in body["errors"]), body
    assert not hub.issue(github_repo.repo, issue.number).pinned


def test_the_endpoint_needs_a_token_and_json_and_counts_calls(github_repo: RepoSetup) -> None:
    server = github_repo.server
    assert post(github_repo, None, {"query": "{ x }"}).status_code == 401
    bad = requests.post(
        f"{server.url}/api/graphql",
        data=b"{",
        headers={"Authorization": f"bearer {github_repo.author.token}"},
        timeout=10,
    )
    assert bad.status_code == 400
    no_query = post(github_repo, github_repo.author.token, {"variables": {}})
    assert no_query.json()["errors"][0]["message"].startswith("A query attribute must be")
    server.calls.reset()
    post(github_repo, github_repo.author.token, {"query": "{ x }"})
    assert server.calls.snapshot() == {"POST /graphql": 1}
    server.faults.inject("server_error", "POST /graphql")
    assert post(github_repo, github_repo.author.token, {"query": "{ x }"}).status_code == 500


def test_a_bug_in_a_resolver_is_a_500_not_a_graphql_error(
    github_repo: RepoSetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = github_repo.server
    issue = (
        server.pygithub(github_repo.author.token).get_repo(github_repo.full_name).create_issue("x")
    )

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(server.hub, "set_pinned", broken)
    document = 'mutation { pinIssue(input: {issueId: "ID"}) { clientMutationId } }'
    answer = post(
        github_repo, github_repo.author.token, {"query": document.replace("ID", issue.node_id)}
    )
    assert answer.status_code == 500
    assert isinstance(server.failures[-1], KeyError)
    server.failures.pop()  # seen: the fixture fails any test that leaves one behind


def test_only_the_graphql_endpoint_needs_graphql_core() -> None:
    code = "import jitops.cli, jitops.testing.github"
    assert imported(code, ("graphql", "jitops.testing.github.graphql")) == []


def test_auto_merge_under_a_ruleset_waits_for_its_required_check(github_repo: RepoSetup) -> None:
    hub = github_repo.server.hub
    hub.add_ruleset(github_repo.repo, "checks", required_status_checks=("ci",))
    hub.set_allow_auto_merge(github_repo.repo)
    number = hub.open_pull(
        github_repo.repo, head="feature", title="t", user=github_repo.author.login
    ).number
    # a ruleset is a protection rule: GitHub lets auto-merge wait on it
    hub.enable_auto_merge(github_repo.repo, number, user=github_repo.author.login)
    head = hub.pull(github_repo.repo, number).head_sha
    hub.set_status(github_repo.repo, head, state="pending", context="ci", creator="x")
    assert not hub.pull(github_repo.repo, number).merged
    hub.set_status(github_repo.repo, head, state="success", context="ci", creator="x")
    assert hub.pull(github_repo.repo, number).merged
