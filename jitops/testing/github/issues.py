"""Issue comments and labels on pull requests (GitHub treats every pull request as an issue)."""

from __future__ import annotations

from jitops.testing.github.http import ApiError, Request, Response, route
from jitops.testing.github.render import JSON, iso, node_id
from jitops.testing.github.state import IssueComment, Repository


def _comment(req: Request, repo: Repository, comment: IssueComment) -> JSON:
    url = f"{req.render.repo_url(repo)}/issues/comments/{comment.id}"
    pull = f"{req.render.web}/{repo.full_name}/pull/{comment.number}"
    return {
        "id": comment.id,
        "node_id": node_id("IC", comment.id),
        "url": url,
        "html_url": f"{pull}#issuecomment-{comment.id}",
        "body": comment.body,
        "user": req.render.simple_user(comment.user),
        "created_at": iso(comment.created_at),
        "updated_at": iso(comment.updated_at),
        "issue_url": f"{req.render.repo_url(repo)}/issues/{comment.number}",
        "author_association": req.render.author_association(repo, comment.user),
    }


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
    pr = req.hub.pull(repo, req.int_param("issue_number"))
    return Response(200, [req.render.label(repo, label) for label in req.paginate(list(pr.labels))])


def add_labels(req: Request) -> Response:
    repo = req.repo("triage")
    body = req.body
    names = body.get("labels") if isinstance(body, dict) else body
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ApiError(422, "Invalid request.\n\nlabels must be a list of strings.")
    pr = req.hub.add_labels(repo, req.int_param("issue_number"), names)
    return Response(200, [req.render.label(repo, label) for label in pr.labels])


ROUTES = [
    route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments", list_comments),
    route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", create_comment),
    route("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}", get_comment),
    route("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", update_comment),
    route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/labels", list_labels),
    route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels", add_labels),
]
