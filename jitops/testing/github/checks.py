"""Commit statuses, the combined status, and check runs."""

from __future__ import annotations

from jitops.testing.github.http import ApiError, Request, Response, route
from jitops.testing.github.render import JSON, iso, node_id
from jitops.testing.github.state import CheckRun, CommitStatus, Repository


def _status(req: Request, repo: Repository, status: CommitStatus) -> JSON:
    return {
        "url": f"{req.render.repo_url(repo)}/statuses/{status.sha}",
        "avatar_url": f"{req.render.web}/avatars/{status.creator}",
        "id": status.id,
        "node_id": node_id("SC", status.id),
        "state": status.state,
        "description": status.description,
        "target_url": status.target_url,
        "context": status.context,
        "created_at": iso(status.created_at),
        "updated_at": iso(status.updated_at),
        "creator": req.render.simple_user(status.creator),
    }


def _resolve(req: Request, repo: Repository, ref: str) -> str:
    store = req.hub.git(repo)
    sha = store.resolve_commit(ref) or store.resolve_commit(f"refs/heads/{ref}")
    if sha is None:
        raise ApiError(404 if not req.method == "POST" else 422, f"No commit found for SHA: {ref}")
    return sha


def create_status(req: Request) -> Response:
    repo = req.repo("write")
    user = req.need_user()
    status = req.hub.set_status(
        repo,
        _resolve(req, repo, req.params["sha"]),
        state=req.field("state"),
        context=req.field("context", required=False) or "default",
        creator=user.login,
        description=req.field("description", required=False),
        target_url=req.field("target_url", required=False),
    )
    return Response(201, _status(req, repo, status))


def list_statuses(req: Request) -> Response:
    repo = req.repo()
    statuses = req.hub.statuses_for(repo, _resolve(req, repo, req.params["ref"]))
    return Response(200, [_status(req, repo, s) for s in req.paginate(statuses)])


def combined_status(req: Request) -> Response:
    repo = req.repo()
    sha = _resolve(req, repo, req.params["ref"])
    latest: dict[str, CommitStatus] = {}
    for status in req.hub.statuses_for(repo, sha):
        latest.setdefault(status.context, status)
    states = {s.state for s in latest.values()}
    if states & {"error", "failure"}:
        state = "failure"
    elif not states or "pending" in states:
        state = "pending"
    else:
        state = "success"
    statuses = [
        {k: v for k, v in _status(req, repo, s).items() if k != "creator"} for s in latest.values()
    ]
    return Response(
        200,
        {
            "state": state,
            "statuses": statuses,
            "sha": sha,
            "total_count": len(statuses),
            "repository": req.render.minimal_repository(repo),
            "commit_url": f"{req.render.repo_url(repo)}/commits/{sha}",
            "url": f"{req.render.repo_url(repo)}/commits/{sha}/status",
        },
    )


def _check_run(req: Request, repo: Repository, run: CheckRun) -> JSON:
    url = f"{req.render.repo_url(repo)}/check-runs/{run.id}"
    pulls = [
        {
            "id": p.id,
            "number": p.number,
            "url": f"{req.render.repo_url(repo)}/pulls/{p.number}",
            "head": {"ref": p.head_ref, "sha": p.head_sha, "repo": _repo_ref(req, repo)},
            "base": {"ref": p.base_ref, "sha": p.base_sha, "repo": _repo_ref(req, repo)},
        }
        for p in req.hub.state.pulls_of(repo.id)
        if p.head_sha == run.head_sha and p.state == "open"
    ]
    return {
        "id": run.id,
        "node_id": node_id("CR", run.id),
        "head_sha": run.head_sha,
        "external_id": run.external_id,
        "url": url,
        "html_url": f"{req.render.web}/{repo.full_name}/runs/{run.id}",
        "details_url": run.details_url,
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": iso(run.started_at),
        "completed_at": iso(run.completed_at),
        "output": {
            "title": run.title,
            "summary": run.summary,
            "text": run.text,
            "annotations_count": 0,
            "annotations_url": f"{url}/annotations",
        },
        "name": run.name,
        "check_suite": {"id": run.id},
        "app": None,
        "pull_requests": pulls,
    }


def _repo_ref(req: Request, repo: Repository) -> JSON:
    return {"id": repo.id, "url": req.render.repo_url(repo), "name": repo.name}


def _check_fields(req: Request) -> dict[str, object]:
    fields: dict[str, object] = {}
    for name in ("name", "status", "conclusion", "details_url", "external_id"):
        value = req.field(name, required=False)
        if value is not None:
            fields[name] = value
    output = req.field("output", dict, required=False) or {}
    for name in ("title", "summary", "text"):
        if isinstance(output.get(name), str):
            fields[name] = output[name]
    return fields


def create_check_run(req: Request) -> Response:
    repo = req.repo("write")
    fields = _check_fields(req)
    name = req.field("name")
    head_sha = req.field("head_sha")
    fields.pop("name", None)
    run = req.hub.create_check_run(repo, name=name, head_sha=head_sha, **fields)
    return Response(201, _check_run(req, repo, run))


def update_check_run(req: Request) -> Response:
    repo = req.repo("write")
    run = req.hub.update_check_run(repo, req.int_param("check_run_id"), **_check_fields(req))
    return Response(200, _check_run(req, repo, run))


def get_check_run(req: Request) -> Response:
    repo = req.repo()
    return Response(
        200, _check_run(req, repo, req.hub.check_run(repo, req.int_param("check_run_id")))
    )


def list_check_runs(req: Request) -> Response:
    repo = req.repo()
    runs = req.hub.check_runs_for(repo, _resolve(req, repo, req.params["ref"]))
    name = req.query.get("check_name")
    runs = [r for r in runs if name is None or r.name == name]
    page = req.paginate(runs)
    return Response(
        200, {"total_count": len(runs), "check_runs": [_check_run(req, repo, r) for r in page]}
    )


ROUTES = [
    route("POST", "/repos/{owner}/{repo}/statuses/{sha}", create_status),
    route("GET", "/repos/{owner}/{repo}/commits/{ref}/statuses", list_statuses),
    route("GET", "/repos/{owner}/{repo}/commits/{ref}/status", combined_status),
    route("POST", "/repos/{owner}/{repo}/check-runs", create_check_run),
    route("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}", get_check_run),
    route("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}", update_check_run),
    route("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs", list_check_runs),
]
