"""Issues, and the comments and labels of issues and pull requests (GitHub treats every pull
request as an issue: they share one number sequence, and listing issues lists both)."""

from __future__ import annotations

from typing import Any

from jitops.testing.github.http import ApiError, Request, Response, route
from jitops.testing.github.render import JSON, iso, node_id
from jitops.testing.github.state import Issue, IssueComment, PullRequest, Repository

STATE_REASONS = ("completed", "not_planned", "duplicate", "reopened")


def _comment(req: Request, repo: Repository, comment: IssueComment) -> JSON:
    url = f"{req.render.repo_url(repo)}/issues/comments/{comment.id}"
    pull = isinstance(req.hub.issue_or_pull(repo, comment.number), PullRequest)
    kind = "pull" if pull else "issues"
    return {
        "id": comment.id,
        "node_id": node_id("IC", comment.id),
        "url": url,
        "html_url": f"{req.render.web}/{repo.full_name}/{kind}/{comment.number}"
        f"#issuecomment-{comment.id}",
        "body": comment.body,
        "user": req.render.simple_user(comment.user),
        "created_at": iso(comment.created_at),
        "updated_at": iso(comment.updated_at),
        "issue_url": f"{req.render.repo_url(repo)}/issues/{comment.number}",
        "author_association": req.render.author_association(repo, comment.user),
    }


def _label_names(value: Any) -> list[str]:
    """Label names from a body's ``labels``: names, or objects with a ``name``."""
    if not isinstance(value, list):
        raise ApiError(422, "Invalid request.\n\nlabels must be a list.")
    names = []
    for item in value:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name:
            raise ApiError(422, "Invalid request.\n\nlabels must be names of labels.")
        names.append(name)
    return names


def list_issues(req: Request) -> Response:
    """Issues and pull requests, newest first; ``state``, ``labels`` (all of them),
    ``creator``, ``sort`` (created, updated) and ``direction`` filter and order them."""
    repo = req.repo()
    state = req.query.get("state", "open")
    sort = req.query.get("sort", "created")
    direction = req.query.get("direction", "desc")
    if state not in ("open", "closed", "all") or sort not in ("created", "updated"):
        raise ApiError(422, "Validation Failed")
    if direction not in ("asc", "desc"):
        raise ApiError(422, "Validation Failed")
    wanted = {name.strip() for name in req.query.get("labels", "").split(",") if name.strip()}
    creator = req.query.get("creator")
    items: list[Issue | PullRequest] = [
        *req.hub.state.issues_of(repo.id),
        *req.hub.state.pulls_of(repo.id),
    ]
    chosen = [
        item
        for item in items
        if state in ("all", item.state)
        and wanted <= {label.name for label in item.labels}
        and creator in (None, item.user)
    ]
    chosen.sort(
        key=lambda i: (i.updated_at if sort == "updated" else i.created_at, i.number),
        reverse=direction == "desc",
    )
    return Response(200, [req.render.issue(repo, item) for item in req.paginate(chosen)])


def create_issue(req: Request) -> Response:
    repo = req.repo()
    user = req.need_user()
    title = req.field("title", (str, int))
    if isinstance(title, bool) or not str(title).strip():
        raise ApiError(422, "Invalid request.\n\nInvalid value for 'title'.")
    labels = _label_names(req.field("labels", list, required=False) or [])
    if not req.hub.can(repo, user.login, "write"):
        labels = []  # GitHub silently drops labels from people without push access
    issue = req.hub.open_issue(
        repo,
        title=str(title),
        user=user.login,
        body=req.field("body", required=False),
        labels=labels,
    )
    body = req.render.issue(repo, issue)
    req.headers["Location"] = body["url"]
    return Response(201, body)


def get_issue(req: Request) -> Response:
    repo = req.repo()
    item = req.hub.issue_or_pull(repo, req.int_param("issue_number"))
    return Response(200, req.render.issue(repo, item))


def update_issue(req: Request) -> Response:
    """Edit title, body, state (with ``state_reason``) and labels of an issue or pull request."""
    repo = req.repo()
    user = req.need_user()
    number = req.int_param("issue_number")
    item = req.hub.issue_or_pull(repo, number)
    if user.login != item.user and not req.hub.can(repo, user.login, "triage"):
        raise ApiError(403, "Resource not accessible by personal access token")
    state = req.field("state", required=False)
    reason = req.field("state_reason", required=False)
    if state not in (None, "open", "closed") or reason not in (None, *STATE_REASONS):
        raise ApiError(422, "Validation Failed")
    title = req.field("title", required=False)
    body = req.field("body", required=False)
    if isinstance(item, Issue):
        req.hub.update_issue(
            repo, number, sender=user.login, title=title, body=body, state=state,
            state_reason=reason,
        )  # fmt: skip
    else:
        req.hub.update_pull(repo, number, sender=user.login, title=title, body=body, state=state)
    labels = req.field("labels", list, required=False)
    if labels is not None and req.hub.can(repo, user.login, "write"):
        req.hub.set_labels(repo, number, _label_names(labels))
    return Response(200, req.render.issue(repo, req.hub.issue_or_pull(repo, number)))


def list_comments(req: Request) -> Response:
    repo = req.repo()
    comments = req.hub.comments_of(repo, req.int_param("issue_number"))
    return Response(200, [_comment(req, repo, c) for c in req.paginate(comments)])


def create_comment(req: Request) -> Response:
    repo = req.repo()
    user = req.need_user()
    body = req.field("body")
    comment = req.hub.comment(repo, req.int_param("issue_number"), user=user.login, body=body)
    return Response(201, _comment(req, repo, comment))


def get_comment(req: Request) -> Response:
    repo = req.repo()
    return Response(
        200, _comment(req, repo, req.hub.get_comment(repo, req.int_param("comment_id")))
    )


def update_comment(req: Request) -> Response:
    repo = req.repo()
    user = req.need_user()
    comment = req.hub.edit_comment(
        repo, req.int_param("comment_id"), user=user.login, body=req.field("body")
    )
    return Response(200, _comment(req, repo, comment))


def list_labels(req: Request) -> Response:
    repo = req.repo()
    item = req.hub.issue_or_pull(repo, req.int_param("issue_number"))
    labels = list(item.labels)
    return Response(200, [req.render.label(repo, label) for label in req.paginate(labels)])


def add_labels(req: Request) -> Response:
    repo = req.repo("triage")
    body = req.body
    names = body.get("labels") if isinstance(body, dict) else body
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ApiError(422, "Invalid request.\n\nlabels must be a list of strings.")
    labels = req.hub.add_labels(repo, req.int_param("issue_number"), names)
    return Response(200, [req.render.label(repo, label) for label in labels])


ROUTES = [
    route("GET", "/repos/{owner}/{repo}/issues", list_issues),
    route("POST", "/repos/{owner}/{repo}/issues", create_issue),
    route("GET", "/repos/{owner}/{repo}/issues/{issue_number}", get_issue),
    route("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}", update_issue),
    route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments", list_comments),
    route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", create_comment),
    route("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}", get_comment),
    route("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", update_comment),
    route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/labels", list_labels),
    route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels", add_labels),
]
