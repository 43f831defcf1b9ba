"""A minimal GraphQL endpoint (``POST /api/graphql``): the mutations jitops sends, no more.

graphql-core (the reference implementation's Python port) parses, validates and executes the
documents against ``SCHEMA``, a small slice of GitHub's own schema, with GitHub's type and field
names: so variables, aliases, fragments, directives and ``__typename`` work as on GitHub, and a
misspelt field is refused before anything runs rather than silently answered. The mutations
``enablePullRequestAutoMerge``, ``pinIssue`` and ``unpinIssue`` take the node ids the REST
answers carry (``node_id``) and call the ``Hub``; ``Query`` has only ``viewer`` (a schema
needs one query field).

Answers have GraphQL's shape with HTTP 200, as GitHub's: ``{"data": ...}``; a refused mutation
is ``null`` in ``data`` with an entry in ``errors`` that carries GitHub's ``type``
(``NOT_FOUND``, ``FORBIDDEN`` or ``UNPROCESSABLE``) and GitHub's wording where it is known; a
document that does not parse or validate is ``{"errors": [...]}`` alone (graphql-core's wording).

Only the test server imports this module (lazily), so jitops itself never needs graphql-core.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo, build_schema, graphql_sync

from jitops.testing.github.hub import HubError
from jitops.testing.github.render import JSON, Renderer, iso, node_id, parse_node_id
from jitops.testing.github.state import Issue, PullRequest, Repository, User

# GitHub's own definitions (its public GraphQL schema), cut down to what this server answers.
SCHEMA = build_schema("""
scalar DateTime
scalar GitObjectID
scalar URI

interface Node { id: ID! }

interface Actor {
  avatarUrl(size: Int): URI!
  login: String!
  resourcePath: URI!
  url: URI!
}

type User implements Actor & Node {
  avatarUrl(size: Int): URI!
  id: ID!
  login: String!
  resourcePath: URI!
  url: URI!
}

enum PullRequestMergeMethod { MERGE REBASE SQUASH }
enum PullRequestState { CLOSED MERGED OPEN }
enum IssueState { CLOSED OPEN }

type AutoMergeRequest {
  commitBody: String
  commitHeadline: String
  enabledAt: DateTime
  enabledBy: Actor
  mergeMethod: PullRequestMergeMethod!
}

type PullRequest implements Node {
  autoMergeRequest: AutoMergeRequest
  id: ID!
  merged: Boolean!
  number: Int!
  state: PullRequestState!
  title: String!
  url: URI!
}

type Issue implements Node {
  id: ID!
  isPinned: Boolean
  number: Int!
  state: IssueState!
  title: String!
  url: URI!
}

input EnablePullRequestAutoMergeInput {
  authorEmail: String
  clientMutationId: String
  commitBody: String
  commitHeadline: String
  expectedHeadOid: GitObjectID
  mergeMethod: PullRequestMergeMethod = MERGE
  pullRequestId: ID!
}

type EnablePullRequestAutoMergePayload {
  actor: Actor
  clientMutationId: String
  pullRequest: PullRequest
}

input PinIssueInput { clientMutationId: String issueId: ID! }
type PinIssuePayload { clientMutationId: String issue: Issue }
input UnpinIssueInput { clientMutationId: String issueId: ID! }
type UnpinIssuePayload { clientMutationId: String issue: Issue }

type Query { viewer: User! }

type Mutation {
  enablePullRequestAutoMerge(
    input: EnablePullRequestAutoMergeInput!
  ): EnablePullRequestAutoMergePayload
  pinIssue(input: PinIssueInput!): PinIssuePayload
  unpinIssue(input: UnpinIssueInput!): UnpinIssuePayload
}
""")


class Refused(Exception):
    """GitHub refusing a mutation: its field is ``null`` and ``errors`` gets ``type``."""

    def __init__(self, message: str, type: str) -> None:
        super().__init__(message)
        self.type = type


@dataclass(frozen=True)
class Context:
    render: Renderer
    viewer: User


def execute(render: Renderer, viewer: User, payload: Any) -> JSON:
    """The answer to one GraphQL request body from ``viewer``."""
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return {
            "errors": [{"message": "A query attribute must be specified and must be a string."}]
        }
    variables = payload.get("variables") or {}
    if not isinstance(variables, dict):
        return {"errors": [{"message": "Variables must be a JSON object."}]}
    operation = payload.get("operationName")
    result = graphql_sync(
        SCHEMA,
        payload["query"],
        root_value=ROOT,
        context_value=Context(render, viewer),
        variable_values=variables,
        operation_name=operation if isinstance(operation, str) else None,
    )
    answer: JSON = {} if result.data is None else {"data": result.data}
    if result.errors:
        answer["errors"] = [_entry(error) for error in result.errors]
    return answer


def _entry(error: GraphQLError) -> JSON:
    """One entry of ``errors``; an exception from a resolver that is not a refusal is a bug in
    this server, raised so the server answers 500 and the test that met it fails."""
    cause = error.original_error
    if isinstance(cause, Refused):
        return {"type": cause.type, **error.formatted}
    if cause is not None and not isinstance(cause, GraphQLError):  # a bug: answer 500
        raise cause
    return dict(error.formatted)


# -- the objects -------------------------------------------------------------------------------


def _user(render: Renderer, login: str) -> JSON:
    user = render.hub.user(login)
    return {
        "__typename": "User",  # tells graphql-core which ``Actor`` this is
        "id": node_id("U", user.id),
        "login": login,
        "avatarUrl": f"{render.web}/avatars/{login}",
        "resourcePath": f"/{login}",
        "url": f"{render.web}/{login}",
    }


def _pull(render: Renderer, repo: Repository, pr: PullRequest) -> JSON:
    request = pr.auto_merge
    return {
        "id": node_id("PR", pr.id),
        "number": pr.number,
        "title": pr.title,
        "url": f"{render.web}/{repo.full_name}/pull/{pr.number}",
        "state": "MERGED" if pr.merged else pr.state.upper(),
        "merged": pr.merged,
        "autoMergeRequest": None
        if request is None
        else {
            "enabledAt": iso(request.enabled_at),
            "enabledBy": _user(render, request.enabled_by),
            "mergeMethod": request.merge_method.upper(),
            "commitHeadline": request.commit_title,
            "commitBody": request.commit_message,
        },
    }


def _issue(render: Renderer, repo: Repository, issue: Issue) -> JSON:
    return {
        "id": node_id("I", issue.id),
        "number": issue.number,
        "title": issue.title,
        "url": f"{render.web}/{repo.full_name}/issues/{issue.number}",
        "state": issue.state.upper(),
        "isPinned": issue.pinned,
    }


# -- the resolvers: graphql-core calls a root value's callables with (info, **arguments) -------


def _node(context: Context, ident: str, kind: str) -> tuple[Repository, Any]:
    """The repository and record behind node id ``ident`` of ``kind``, if the viewer sees it."""
    hub = context.render.hub
    parsed = parse_node_id(ident)
    found = None
    if parsed is not None and parsed[0] == kind and parsed[1].isdigit():
        wanted = int(parsed[1])
        with hub.state.lock:
            table = hub.state.pulls if kind == "PR" else hub.state.issues
            found = next((r for r in table.values() if r.id == wanted), None)
    if found is not None:
        repo = hub.state.repo_by_id(found.repo_id)
        if hub.can(repo, context.viewer.login, "read"):
            return repo, found
    raise Refused(f"Could not resolve to a node with the global id of '{ident}'", "NOT_FOUND")


def _refused(exc: HubError) -> Refused:
    kind = {403: "FORBIDDEN", 404: "NOT_FOUND"}.get(exc.status, "UNPROCESSABLE")
    return Refused(exc.message, kind)


def enable_pull_request_auto_merge(info: GraphQLResolveInfo[Any], input: dict[str, Any]) -> JSON:
    context: Context = info.context
    repo, pr = _node(context, input["pullRequestId"], "PR")
    expected = input.get("expectedHeadOid")
    if expected is not None and expected != pr.head_sha:
        raise Refused("Head branch was modified. Review and try the merge again.", "UNPROCESSABLE")
    try:
        pr = context.render.hub.enable_auto_merge(
            repo,
            pr.number,
            user=context.viewer.login,
            method=str(input.get("mergeMethod") or "MERGE").lower(),
            commit_title=input.get("commitHeadline"),
            commit_message=input.get("commitBody"),
        )
    except HubError as exc:
        raise _refused(exc) from None
    return {
        "actor": _user(context.render, context.viewer.login),
        "clientMutationId": input.get("clientMutationId"),
        "pullRequest": _pull(context.render, repo, pr),
    }


def _pin(info: GraphQLResolveInfo[Any], input: dict[str, Any], pinned: bool) -> JSON:
    context: Context = info.context
    repo, issue = _node(context, input["issueId"], "I")
    if not context.render.hub.can(repo, context.viewer.login, "write"):
        raise Refused("Resource not accessible by personal access token", "FORBIDDEN")
    try:
        issue = context.render.hub.set_pinned(repo, issue.number, pinned)
    except HubError as exc:
        raise _refused(exc) from None
    return {
        "clientMutationId": input.get("clientMutationId"),
        "issue": _issue(context.render, repo, issue),
    }


def pin_issue(info: GraphQLResolveInfo[Any], input: dict[str, Any]) -> JSON:
    return _pin(info, input, True)


def unpin_issue(info: GraphQLResolveInfo[Any], input: dict[str, Any]) -> JSON:
    return _pin(info, input, False)


def viewer(info: GraphQLResolveInfo[Any]) -> JSON:
    context: Context = info.context
    return _user(context.render, context.viewer.login)


# The root value of every operation: graphql-core's default resolver looks a root field up here.
ROOT = {
    "enablePullRequestAutoMerge": enable_pull_request_auto_merge,
    "pinIssue": pin_issue,
    "unpinIssue": unpin_issue,
    "viewer": viewer,
}
