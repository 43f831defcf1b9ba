"""Pull request reviews: list, get, submit (with ``commit_id``) and dismiss."""

from __future__ import annotations

from jitops.testing.github.http import Request, Response, route


def list_reviews(req: Request) -> Response:
    repo = req.repo()
    number = req.int_param("pull_number")
    req.hub.pull(repo, number)
    reviews = req.hub.state.reviews_of(repo.id, number)
    return Response(200, [req.render.review(repo, r) for r in req.paginate(reviews)])


def get_review(req: Request) -> Response:
    repo = req.repo()
    review = req.hub.get_review(repo, req.int_param("pull_number"), req.int_param("review_id"))
    return Response(200, req.render.review(repo, review))


def create_review(req: Request) -> Response:
    repo = req.repo()
    user = req.need_user()
    review = req.hub.review(
        repo,
        req.int_param("pull_number"),
        user=user.login,
        event=req.field("event", required=False) or "COMMENT",
        body=req.field("body", required=False) or "",
        commit_id=req.field("commit_id", required=False),
    )
    return Response(200, req.render.review(repo, review))


def dismiss_review(req: Request) -> Response:
    repo = req.repo()
    user = req.need_user()
    review = req.hub.dismiss_review(
        repo,
        req.int_param("pull_number"),
        req.int_param("review_id"),
        user=user.login,
        message=req.field("message"),
    )
    return Response(200, req.render.review(repo, review))


ROUTES = [
    route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", list_reviews),
    route("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", create_review),
    route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}", get_review),
    route(
        "PUT",
        "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/dismissals",
        dismiss_review,
    ),
]
