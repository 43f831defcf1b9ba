"""GitHub Actions workflow runs: recorded by a test as the runs Actions would have made, and
listed as ``GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs`` lists them.

Nothing runs here. What matters is who can make a run: only Actions, from a workflow file, for
an event — so a run of the default branch's apply workflow that succeeded is a record no writer
can forge with a status or a note. A writer can still trigger runs, which the filters GitHub
offers (branch, event, status) and the ``head_repository`` tell apart.
"""

from __future__ import annotations

from jitops.testing.github.gitstore import GitStoreError
from jitops.testing.github.http import ApiError, Request, Response, route
from jitops.testing.github.hub import Hub
from jitops.testing.github.render import JSON, iso, node_id
from jitops.testing.github.state import Repository, WorkflowRun


def record_run(
    hub: Hub,
    repo: Repository,
    path: str,
    head_sha: str,
    *,
    event: str = "push",
    head_branch: str | None = None,
    conclusion: str | None = "success",
    actor: str | None = None,
    fork: Repository | None = None,
) -> WorkflowRun:
    """Record a run of workflow file ``path`` on ``head_sha`` (``conclusion`` None: still
    running). The branch defaults to the repository's default branch."""
    st = hub.state
    with st.lock:
        number = 1 + sum(
            1 for r in st.workflow_runs.values() if r.repo_id == repo.id and r.path == path
        )
        run = WorkflowRun(
            id=st.new_id(),
            repo_id=repo.id,
            path=path,
            head_sha=head_sha,
            head_branch=head_branch if head_branch is not None else repo.default_branch,
            event=event,
            actor=actor or repo.owner,
            run_number=number,
            status="completed" if conclusion is not None else "in_progress",
            conclusion=conclusion,
            head_repo_id=fork.id if fork is not None else None,
            created_at=st.now(),
        )
        st.workflow_runs[run.id] = run
        return run


def _workflow_id(path: str) -> int:
    """A stable id per workflow file (GitHub's ids are opaque integers)."""
    return 1 + sum(ord(c) * (i + 1) for i, c in enumerate(path)) % 100_000_000


def _render(req: Request, repo: Repository, run: WorkflowRun) -> JSON:
    store = req.hub.git(repo)
    url = f"{req.render.repo_url(repo)}/actions/runs/{run.id}"
    head_repo = repo
    if run.head_repo_id is not None:
        head_repo = next(r for r in req.hub.state.repos.values() if r.id == run.head_repo_id)
    try:
        info = store.commit(run.head_sha)
        head_commit: JSON | None = {
            "id": info.sha,
            "tree_id": info.tree,
            "message": info.message,
            "timestamp": iso(info.committer.date),
            "author": {"name": info.author.name, "email": info.author.email},
            "committer": {"name": info.committer.name, "email": info.committer.email},
        }
    except GitStoreError:  # a run of a commit that is not in this repository (a fork's)
        head_commit = None
    name = run.path.rsplit("/", 1)[-1]
    return {
        "id": run.id,
        "name": name,
        "node_id": node_id("WFR", run.id),
        "head_branch": run.head_branch,
        "head_sha": run.head_sha,
        "path": run.path,
        "display_title": name,
        "run_number": run.run_number,
        "run_attempt": 1,
        "event": run.event,
        "status": run.status,
        "conclusion": run.conclusion,
        "workflow_id": _workflow_id(run.path),
        "url": url,
        "html_url": f"{req.render.web}/{repo.full_name}/actions/runs/{run.id}",
        "pull_requests": [],
        "created_at": iso(run.created_at),
        "updated_at": iso(run.created_at),
        "run_started_at": iso(run.created_at),
        "actor": req.render.simple_user(run.actor),
        "triggering_actor": req.render.simple_user(run.actor),
        "jobs_url": f"{url}/jobs",
        "logs_url": f"{url}/logs",
        "check_suite_url": f"{req.render.repo_url(repo)}/check-suites/{run.id}",
        "artifacts_url": f"{url}/artifacts",
        "cancel_url": f"{url}/cancel",
        "rerun_url": f"{url}/rerun",
        "workflow_url": f"{req.render.repo_url(repo)}/actions/workflows/{_workflow_id(run.path)}",
        "head_commit": head_commit,
        "repository": req.render.minimal_repository(repo),
        "head_repository": req.render.minimal_repository(head_repo),
    }


def list_workflow_runs(req: Request) -> Response:
    """Runs of one workflow (by file name, path or id), newest first; ``branch``, ``event``,
    ``status`` (a status or a conclusion) and ``head_sha`` filter them."""
    repo = req.repo()
    wanted = req.params["workflow_id"]
    with req.hub.state.lock:
        runs = [r for r in req.hub.state.workflow_runs.values() if r.repo_id == repo.id]
    workflow = [
        r for r in runs if wanted in (r.path, r.path.rsplit("/", 1)[-1], str(_workflow_id(r.path)))
    ]
    if not workflow:
        raise ApiError(404, "Not Found")
    query = req.query
    status = query.get("status")
    selected = [
        r
        for r in workflow
        if query.get("branch") in (None, r.head_branch)
        and query.get("event") in (None, r.event)
        and query.get("head_sha") in (None, r.head_sha)
        and (status is None or status in (r.status, r.conclusion))
    ]
    selected.sort(key=lambda r: r.id, reverse=True)
    page = req.paginate(selected)
    return Response(
        200,
        {"total_count": len(selected), "workflow_runs": [_render(req, repo, r) for r in page]},
    )


ROUTES = [
    route("GET", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs", list_workflow_runs),
]
