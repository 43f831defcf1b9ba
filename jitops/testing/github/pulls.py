"""Pull requests: create, get, list, update, merge, files and commits."""

from __future__ import annotations

from jitops.testing.github.http import ApiError, Request, Response, route
from jitops.testing.github.repos import diff_entry

# GitHub's lists stop here, silently, while the pull request's own ``changed_files`` and
# ``commits`` counts stay true: "Responses include a maximum of 3000 files"; "Lists a maximum
# of 250 commits for a pull request".
MAX_LISTED_FILES = 3000
MAX_LISTED_COMMITS = 250


def create_pull(req: Request) -> Response:
    repo = req.repo()
    user = req.need_user()
    head = req.field("head").split(":", 1)[-1]
    pr = req.hub.open_pull(
        repo,
        head=head,
        base=req.field("base"),
        title=req.field("title"),
        user=user.login,
        body=req.field("body", required=False),
        draft=req.field("draft", bool, required=False) or False,
    )
    return Response(201, req.render.pull(repo, pr))


def get_pull(req: Request) -> Response:
    repo = req.repo()
    return Response(200, req.render.pull(repo, req.hub.pull(repo, req.int_param("pull_number"))))


def list_pulls(req: Request) -> Response:
    repo = req.repo()
    state = req.query.get("state", "open")
    if state not in ("open", "closed", "all"):
        raise ApiError(422, "Validation Failed")
    head = req.query.get("head")
    base = req.query.get("base")
    pulls = [
        p
        for p in reversed(req.hub.state.pulls_of(repo.id))
        if state in ("all", p.state)
        and (head is None or head.split(":", 1)[-1] == p.head_ref)
        and (base is None or base == p.base_ref)
    ]
    return Response(200, [req.render.pull_simple(repo, p) for p in req.paginate(pulls)])


def update_pull(req: Request) -> Response:
    repo = req.repo()
    user = req.need_user()
    number = req.int_param("pull_number")
    pr = req.hub.pull(repo, number)
    if user.login != pr.user and not req.hub.can(repo, user.login, "triage"):
        raise ApiError(403, "Resource not accessible by personal access token")
    state = req.field("state", required=False)
    if state not in (None, "open", "closed"):
        raise ApiError(422, "Validation Failed")
    pr = req.hub.update_pull(
        repo,
        number,
        sender=user.login,
        title=req.field("title", required=False),
        body=req.field("body", required=False),
        state=state,
        base=req.field("base", required=False),
    )
    return Response(200, req.render.pull(repo, pr))


def check_merged(req: Request) -> Response:
    repo = req.repo()
    pr = req.hub.pull(repo, req.int_param("pull_number"))
    if not pr.merged:
        raise ApiError(404, "Not Found")
    return Response(204)


def merge_pull(req: Request) -> Response:
    repo = req.repo()
    user = req.need_user()
    pr = req.hub.merge(
        repo,
        req.int_param("pull_number"),
        user=user.login,
        method=req.field("merge_method", required=False) or "merge",
        sha=req.field("sha", required=False),
        commit_title=req.field("commit_title", required=False),
        commit_message=req.field("commit_message", required=False),
    )
    assert pr.merge_commit_sha is not None
    return Response(
        200,
        {"sha": pr.merge_commit_sha, "merged": True, "message": "Pull Request successfully merged"},
    )


def list_files(req: Request) -> Response:
    repo = req.repo()
    pr = req.hub.pull(repo, req.int_param("pull_number"))
    store = req.hub.git(repo)
    base = pr.base_sha if pr.merged else (store.branch_sha(pr.base_ref) or pr.base_sha)
    files = store.diff(base, pr.head_sha)[:MAX_LISTED_FILES]
    return Response(200, [diff_entry(req, repo, f) for f in req.paginate(files)])


def list_commits(req: Request) -> Response:
    repo = req.repo()
    pr = req.hub.pull(repo, req.int_param("pull_number"))
    store = req.hub.git(repo)
    base = pr.base_sha if pr.merged else (store.branch_sha(pr.base_ref) or pr.base_sha)
    shas = store.commits_between(base, pr.head_sha)[:MAX_LISTED_COMMITS]
    return Response(200, [req.render.commit(repo, store.commit(s)) for s in req.paginate(shas)])


ROUTES = [
    route("GET", "/repos/{owner}/{repo}/pulls", list_pulls),
    route("POST", "/repos/{owner}/{repo}/pulls", create_pull),
    route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", get_pull),
    route("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}", update_pull),
    route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/merge", check_merged),
    route("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/merge", merge_pull),
    route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files", list_files),
    route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits", list_commits),
]
